//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use proconsul_wal::{Wal, WalError, WalOptions};

/// Appends and waits for durability.
pub fn append_sync(wal: &Wal, records: Vec<(u64, Vec<u8>)>) -> Result<(), WalError> {
    let (tx, rx) = mpsc::channel();
    wal.append(
        records,
        Box::new(move |r| {
            let _ = tx.send(r);
        }),
    )?;
    rx.recv().unwrap()
}

/// Deterministic payload for an index, of varying length (0 bytes for some indexes).
pub fn payload(index: u64) -> Vec<u8> {
    let len = (index * 37 % 200) as usize;
    (0..len).map(|i| (index as usize + i) as u8).collect()
}

pub fn records(range: std::ops::RangeInclusive<u64>) -> Vec<(u64, Vec<u8>)> {
    range.map(|i| (i, payload(i))).collect()
}

pub fn small_segments() -> WalOptions {
    WalOptions {
        segment_bytes: 4096,
        ..WalOptions::default()
    }
}

/// Segment files in order.
pub fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    v.sort();
    v
}
