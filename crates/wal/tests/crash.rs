//! Crash test with a real process and a real SIGKILL: every acknowledged record must survive,
//! and nothing after the last record may be garbage.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use proconsul_wal::{Wal, WalOptions};

/// Must match `payload` in `src/bin/wal-crash-writer.rs`.
fn payload(index: u64) -> Vec<u8> {
    let n = (index % 13) * 17;
    let mut v: Vec<u8> = (0..n).map(|k| (index as u8) ^ (k as u8)).collect();
    v.extend_from_slice(&index.to_le_bytes());
    v
}

struct Round {
    max_ack: u64,
    max_purge: u64,
}

/// Runs the writer until it acknowledged past `target`, SIGKILLs it, returns what it printed.
fn run_writer_and_kill(dir: &std::path::Path, target: u64) -> Round {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wal-crash-writer"))
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut line = String::new();
        // Only complete lines count; the process may die mid-line.
        while r.read_line(&mut line).unwrap_or(0) > 0 && line.ends_with('\n') {
            if tx.send(line.trim_end().to_string()).is_err() {
                break;
            }
            line.clear();
        }
    });
    let mut round = Round {
        max_ack: 0,
        max_purge: 0,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let handle = |line: String, round: &mut Round| match line.split_once(' ') {
        Some(("ack", n)) => round.max_ack = round.max_ack.max(n.parse().unwrap()),
        Some(("purged", n)) => round.max_purge = round.max_purge.max(n.parse().unwrap()),
        _ => panic!("writer said: {line}"),
    };
    while round.max_ack < target {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "writer too slow: acked {}", round.max_ack);
        match rx.recv_timeout(left) {
            Ok(line) => handle(line, &mut round),
            Err(e) => panic!("writer stopped: {e}"),
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    reader.join().unwrap();
    // Lines printed before the kill were acknowledged too.
    for line in rx.try_iter() {
        handle(line, &mut round);
    }
    round
}

#[test]
fn acknowledged_records_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let opts = || WalOptions {
        segment_bytes: 8192,
        ..WalOptions::default()
    };
    let mut max_ack = 0;
    let mut max_purge = 0;
    for round in 0..5u64 {
        // Stagger the kill point so it lands in different phases of the writer.
        // Each round acks at least 600 new records, so the writer (purging every 250) purges
        // in every round whatever its resume point.
        let target = max_ack + 600 + round * 97;
        let r = run_writer_and_kill(dir.path(), target);
        max_ack = max_ack.max(r.max_ack);
        max_purge = max_purge.max(r.max_purge);
        let (wal, rec) = Wal::open(dir.path(), opts()).unwrap();
        let (first, last) = (wal.first_index().unwrap(), wal.last_index().unwrap());
        assert!(
            last >= max_ack,
            "round {round}: acked {max_ack}, recovered up to {last}"
        );
        assert!(
            first > max_purge,
            "round {round}: purged {max_purge} but first is {first}"
        );
        assert!(
            first + 200 <= max_ack + 1,
            "round {round}: purged too far: first {first}"
        );
        for (index, data) in &rec.records {
            assert_eq!(
                *data,
                payload(*index),
                "round {round}: garbage at index {index}"
            );
        }
        assert_eq!(rec.records.len() as u64, last - first + 1);
        if let Some(cut) = &rec.cut {
            eprintln!(
                "round {round}: cut {} bytes at {}: {}",
                cut.bytes, cut.offset, cut.reason
            );
        }
        // Whatever recovery cut, the files it left must now be clean and hold the same log.
        drop(wal);
        let (_, again) = Wal::open(dir.path(), opts()).unwrap();
        assert!(
            again.cut.is_none(),
            "round {round}: second recovery cut again"
        );
        assert_eq!(again.records, rec.records);
    }
    assert!(
        max_purge > 0,
        "the writer never purged; the test lost coverage"
    );
}
