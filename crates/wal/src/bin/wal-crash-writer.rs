//! Test helper for the crash test (`tests/crash.rs`): appends records to the WAL in `argv[1]`
//! forever and prints `ack <index>` only after the record's `on_durable` fired, and
//! `purged <index>` after a purge returned. The test SIGKILLs it at a random moment and checks
//! every acknowledged record survived.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use proconsul_wal::{Wal, WalOptions};

/// Must match `payload` in `tests/crash.rs`.
fn payload(index: u64) -> Vec<u8> {
    let n = (index % 13) * 17;
    let mut v: Vec<u8> = (0..n).map(|k| (index as u8) ^ (k as u8)).collect();
    v.extend_from_slice(&index.to_le_bytes());
    v
}

fn say(line: String) {
    // One write per line (< PIPE_BUF), so a kill never leaves a misleading partial line.
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: wal-crash-writer DIR")?,
    );
    let opts = WalOptions {
        segment_bytes: 8192,
        ..WalOptions::default()
    };
    let (wal, rec) = Wal::open(&dir, opts)?;
    let mut next = wal.last_index().map_or(rec.floor.max(1), |l| l + 1);
    let acked = Arc::new(AtomicU64::new(next - 1));
    let mut purged_at = next;
    let mut batch = 1u64;
    loop {
        let recs: Vec<_> = (next..next + batch).map(|i| (i, payload(i))).collect();
        let last = next + batch - 1;
        let acked_cb = Arc::clone(&acked);
        wal.append(
            recs,
            Box::new(move |r| match r {
                Ok(()) => {
                    acked_cb.fetch_max(last, Ordering::SeqCst);
                    say(format!("ack {last}\n"));
                }
                Err(e) => {
                    say(format!("error {e}\n"));
                    std::process::exit(1);
                }
            }),
        )?;
        next = last + 1;
        batch = batch % 7 + 1;
        // Purge now and then, never closer than 200 records to the last acknowledged one.
        let a = acked.load(Ordering::SeqCst);
        if a > purged_at + 250 {
            wal.purge_to(a - 200)?;
            say(format!("purged {}\n", a - 200));
            purged_at = a;
        }
        // Keep at most a few hundred records in flight, like a Raft leader would, so the kill
        // lands among appends, syncs and purges rather than behind an ever-growing queue.
        while next - acked.load(Ordering::SeqCst) > 300 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}
