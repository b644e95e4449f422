//! Counters for tests, benchmarks and metrics.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of the log's counters since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalStats {
    /// Calls to `append` that were accepted.
    pub appends: u64,
    /// Records written.
    pub records: u64,
    /// Record bytes written (encoded size, headers included).
    pub bytes_written: u64,
    /// fdatasync calls on segment files (group commits, segment seals and truncations).
    pub fsyncs: u64,
    /// fsync calls on the directory (segment creation and deletion).
    pub dir_syncs: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub appends: AtomicU64,
    pub records: AtomicU64,
    pub bytes_written: AtomicU64,
    pub fsyncs: AtomicU64,
    pub dir_syncs: AtomicU64,
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: u64) {
        // Relaxed: these are statistics, they order nothing.
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> WalStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        WalStats {
            appends: get(&self.appends),
            records: get(&self.records),
            bytes_written: get(&self.bytes_written),
            fsyncs: get(&self.fsyncs),
            dir_syncs: get(&self.dir_syncs),
        }
    }
}
