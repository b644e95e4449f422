//! Durable segmented write-ahead log for the Raft log.
//!
//! The log stores opaque records `(index, payload)` with contiguous increasing indexes and knows
//! nothing about Raft. Layout of a log directory:
//!
//! - `<seq:020>.seg` segment files (format in [`segment`](crate::segment) and
//!   [`record`](crate::record) docs; CRC-32/ISO-HDLC via `crc32fast`, not CRC32C);
//! - `purged-floor`, the persisted purge point, replaced atomically.
//!
//! Threading: [`Wal`] is `Send + Sync`. [`Wal::append`] only validates and enqueues, so it is
//! cheap to call from async code. A dedicated thread writes, fsyncs (group commit) and runs the
//! `on_durable` callbacks, which must therefore be quick and must not call back into the `Wal`
//! in a way that waits for the sync thread (`truncate_from`, `purge_to`). `truncate_from` and
//! `purge_to` block until durable; call them from `spawn_blocking` in async code.
//!
//! The directory must be used by one process at a time; the agent enforces that with a lock on
//! its data dir (`proconsul-agent`'s `data_dir` module), not this crate.

mod atomic_file;
mod error;
mod meta;
mod record;
mod recovery;
mod segment;
mod segments;
mod stats;
mod sync;

use std::path::Path;
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

pub use atomic_file::write_atomic;
pub use error::WalError;
pub use record::DEFAULT_MAX_RECORD_BYTES;
pub use recovery::{Recovery, TailCut};
pub use stats::WalStats;
pub use sync::DurableCallback;

use segments::Segments;
use stats::Counters;
use sync::{Front, Op, Shared};

/// Default size at which a segment is sealed and a new one started.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Tuning knobs. Both limits are checked on write and on read.
#[derive(Debug, Clone)]
pub struct WalOptions {
    /// A segment is sealed once it reaches this size (a record never spans two segments, so a
    /// segment may exceed it by up to one record).
    pub segment_bytes: u64,
    /// Largest accepted payload; also bounds what recovery will allocate for one record.
    /// At most `u32::MAX`.
    pub max_record_bytes: u64,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
        }
    }
}

impl WalOptions {
    fn validate(&self) -> Result<(), WalError> {
        if self.segment_bytes < 4096 {
            return Err(WalError::InvalidOptions(
                "segment_bytes must be >= 4096".into(),
            ));
        }
        if self.max_record_bytes == 0 || self.max_record_bytes > u64::from(u32::MAX) {
            return Err(WalError::InvalidOptions(
                "max_record_bytes must be in 1..=u32::MAX".into(),
            ));
        }
        Ok(())
    }
}

/// A durable segmented write-ahead log. See the crate docs for the threading model.
pub struct Wal {
    shared: Arc<Shared>,
    max_record_bytes: u64,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Wal {
    /// Opens or creates the log in `dir`, recovering it as described in [`Recovery`]: a torn
    /// tail of the last segment is cut (durably) and reported; any other damage, or a gap in
    /// indexes, is an error.
    pub fn open(dir: &Path, opts: WalOptions) -> Result<(Wal, Recovery), WalError> {
        opts.validate()?;
        let recovered = recovery::recover(dir, opts.max_record_bytes)?;
        let recovery = recovered.recovery;
        let stats = Arc::new(Counters::default());
        let segments = Segments {
            dir: dir.to_path_buf(),
            segments: recovered.segments,
            next_seq: recovered.next_seq,
            floor: recovery.floor,
            segment_bytes: opts.segment_bytes,
            dir_dirty: false,
            data_dirty: false,
            stats: Arc::clone(&stats),
        };
        let shared = Arc::new(Shared {
            front: Mutex::new(Front {
                first: recovery.records.first().map(|r| r.0),
                last: recovery.records.last().map(|r| r.0),
                floor: recovery.floor,
                queue: Vec::new(),
                poisoned: None,
                closed: false,
            }),
            wake: Condvar::new(),
            stats,
        });
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("wal-sync".into())
            .spawn(move || sync::run(thread_shared, segments))
            .map_err(|e| WalError::io(dir, e))?;
        let wal = Wal {
            shared,
            max_record_bytes: opts.max_record_bytes,
            thread: Mutex::new(Some(thread)),
        };
        Ok((wal, recovery))
    }

    /// Appends records. The first index must be `last_index + 1` (or, on an empty log, at least
    /// the purge floor) and indexes must be consecutive. Returns once the records are queued
    /// for the sync thread; `on_durable` runs on that thread after an fdatasync that covers
    /// them, or with the error that prevented it. Callbacks run in append order.
    pub fn append(
        &self,
        records: Vec<(u64, Vec<u8>)>,
        on_durable: DurableCallback,
    ) -> Result<(), WalError> {
        let mut front = self.shared.lock();
        check_usable(&front)?;
        let mut expected = front.last.map(|last| last + 1);
        for (index, payload) in &records {
            let len = payload.len() as u64;
            if len > self.max_record_bytes {
                let max = self.max_record_bytes;
                return Err(WalError::TooLarge { len, max });
            }
            let want = expected.unwrap_or(front.floor.max(*index));
            if *index != want {
                return Err(WalError::NonContiguous {
                    expected: want,
                    got: *index,
                });
            }
            expected = Some(want + 1);
        }
        if let (Some((first, _)), Some((last, _))) = (records.first(), records.last()) {
            front.first.get_or_insert(*first);
            front.last = Some(*last);
        }
        Counters::add(&self.shared.stats.appends, 1);
        front.queue.push(Op::Append {
            records,
            on_durable,
        });
        drop(front);
        self.shared.wake.notify_one();
        Ok(())
    }

    /// Removes every record with index >= `from`. Durable when it returns. Blocks until the
    /// sync thread has written everything queued before it.
    pub fn truncate_from(&self, from: u64) -> Result<(), WalError> {
        let (tx, rx) = sync_channel(1);
        {
            let mut front = self.shared.lock();
            check_usable(&front)?;
            if let (Some(first), Some(last)) = (front.first, front.last)
                && from <= last
            {
                if from <= first {
                    front.first = None;
                    front.last = None;
                } else {
                    front.last = Some(from - 1);
                }
            }
            front.queue.push(Op::Truncate { from, done: tx });
        }
        self.shared.wake.notify_one();
        rx.recv().map_err(|_| WalError::Closed)?
    }

    /// Drops every record with index <= `upto`. Whole segments below are deleted; the new first
    /// index is persisted so recovery does not resurrect purged records. Purging beyond the
    /// last index empties the log, and the next append must then be at least `upto + 1`.
    /// Durable when it returns.
    pub fn purge_to(&self, upto: u64) -> Result<(), WalError> {
        let floor = upto.saturating_add(1);
        let (tx, rx) = sync_channel(1);
        {
            let mut front = self.shared.lock();
            check_usable(&front)?;
            if floor <= front.floor {
                return Ok(());
            }
            front.floor = floor;
            match (front.first, front.last) {
                (Some(_), Some(last)) if upto >= last => {
                    front.first = None;
                    front.last = None;
                }
                (Some(first), Some(_)) if upto >= first => front.first = Some(floor),
                _ => {}
            }
            front.queue.push(Op::Purge { floor, done: tx });
        }
        self.shared.wake.notify_one();
        rx.recv().map_err(|_| WalError::Closed)?
    }

    /// Index of the first live record, `None` when the log is empty.
    pub fn first_index(&self) -> Option<u64> {
        self.shared.lock().first
    }

    /// Index of the last record (including ones not yet durable), `None` when empty.
    pub fn last_index(&self) -> Option<u64> {
        self.shared.lock().last
    }

    /// Counters since open.
    pub fn stats(&self) -> WalStats {
        self.shared.stats.snapshot()
    }
}

fn check_usable(front: &Front) -> Result<(), WalError> {
    if let Some(msg) = &front.poisoned {
        return Err(WalError::Poisoned(msg.clone()));
    }
    if front.closed {
        return Err(WalError::Closed);
    }
    Ok(())
}

impl Drop for Wal {
    /// Lets the sync thread finish everything queued (so every callback runs), then joins it.
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        let handle = self
            .thread
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        // If the last handle is dropped inside an `on_durable` callback we ARE the sync thread;
        // it exits by itself once the queue drains, and joining ourselves would deadlock.
        if let Some(handle) = handle
            && handle.thread().id() != std::thread::current().id()
            && handle.join().is_err()
        {
            tracing::error!("WAL sync thread panicked");
        }
    }
}
