//! Rough throughput numbers: `cargo run --release -p proconsul-wal --example wal_bench [DIR]`.
//! Each appender waits for its own acknowledgement before the next append (like a Raft leader
//! with one in-flight batch per client), so the 64-appender run shows what group commit buys.

use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use proconsul_wal::{Wal, WalOptions};

fn run(appenders: usize, duration: Duration) -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::args().nth(1).map(std::path::PathBuf::from);
    let dir = match &base {
        Some(b) => tempfile::tempdir_in(b)?,
        None => tempfile::tempdir()?,
    };
    let (wal, _) = Wal::open(dir.path(), WalOptions::default())?;
    let wal = Arc::new(wal);
    let next = Arc::new(Mutex::new(1u64));
    let start = Instant::now();
    let threads: Vec<_> = (0..appenders)
        .map(|_| {
            let (wal, next) = (Arc::clone(&wal), Arc::clone(&next));
            std::thread::spawn(move || -> Result<(), String> {
                while start.elapsed() < duration {
                    let (tx, rx) = mpsc::channel();
                    {
                        let mut n = next.lock().map_err(|e| e.to_string())?;
                        let cb = Box::new(move |r| drop(tx.send(r)));
                        wal.append(vec![(*n, vec![0xAB; 256])], cb)
                            .map_err(|e| e.to_string())?;
                        *n += 1;
                    }
                    rx.recv()
                        .map_err(|e| e.to_string())?
                        .map_err(|e| e.to_string())?;
                }
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| "appender panicked")??;
    }
    let secs = start.elapsed().as_secs_f64();
    let s = wal.stats();
    println!(
        "{appenders:>3} appenders: {:>9.0} appends/s {:>8.0} fsyncs/s ({:.1} appends per fsync)",
        s.appends as f64 / secs,
        s.fsyncs as f64 / secs,
        s.appends as f64 / s.fsyncs.max(1) as f64
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for appenders in [1, 64] {
        run(appenders, Duration::from_secs(3))?;
    }
    Ok(())
}
