//! The ordered set of segment files and the disk operations on it. Owned by the sync thread,
//! so nothing here needs a lock.
//!
//! Invariant after every operation: every segment holds at least one record and at least one
//! record of the last segment is live (>= floor). So the log is empty exactly when there is
//! no segment, and an append either starts a new segment or continues the last one.

use std::path::PathBuf;
use std::sync::Arc;

use crate::atomic_file::sync_dir;
use crate::error::WalError;
use crate::meta::write_floor;
use crate::record::{encode, encoded_len};
use crate::segment::Segment;
use crate::stats::Counters;

pub(crate) struct Segments {
    pub dir: PathBuf,
    pub segments: Vec<Segment>,
    pub next_seq: u64,
    pub floor: u64,
    pub segment_bytes: u64,
    /// A segment was created since the last sync; its directory entry must be made durable
    /// before any record in it is acknowledged.
    pub dir_dirty: bool,
    /// Unsynced record bytes exist in the tail.
    pub data_dirty: bool,
    pub stats: Arc<Counters>,
}

impl Segments {
    /// Writes records to the OS (not durable until [`Segments::sync`]).
    pub fn append(&mut self, records: &[(u64, Vec<u8>)]) -> Result<(), WalError> {
        let mut buf = Vec::new();
        let mut sizes = Vec::new();
        for (index, payload) in records {
            let needs_new = match self.segments.last() {
                None => true,
                Some(tail) => {
                    // Records encoded but not yet flushed count too.
                    let expected = tail.next_index() + sizes.len() as u64;
                    if expected != *index {
                        return Err(WalError::NonContiguous {
                            expected,
                            got: *index,
                        });
                    }
                    let pending: u64 = sizes.iter().sum();
                    tail.size + pending >= self.segment_bytes && tail.len() + sizes.len() as u64 > 0
                }
            };
            if needs_new {
                self.flush(&mut buf, &mut sizes)?;
                self.roll(*index)?;
            }
            encode(*index, payload, &mut buf);
            sizes.push(encoded_len(payload.len()));
        }
        self.flush(&mut buf, &mut sizes)
    }

    fn flush(&mut self, buf: &mut Vec<u8>, sizes: &mut Vec<u64>) -> Result<(), WalError> {
        if sizes.is_empty() {
            return Ok(());
        }
        let tail = self.segments.last_mut().ok_or(WalError::Closed)?;
        tail.write_encoded(buf, sizes)?;
        Counters::add(&self.stats.records, sizes.len() as u64);
        Counters::add(&self.stats.bytes_written, buf.len() as u64);
        self.data_dirty = true;
        buf.clear();
        sizes.clear();
        Ok(())
    }

    /// Seals the tail and starts a new segment whose first record will be `first_index`.
    fn roll(&mut self, first_index: u64) -> Result<(), WalError> {
        if let Some(tail) = self.segments.last_mut() {
            // Seal durably before the next segment gets data: otherwise a power loss could keep
            // the new segment's records while losing the end of this one, which recovery would
            // (rightly) read as corruption in a sealed segment.
            tail.sync()?;
            Counters::add(&self.stats.fsyncs, 1);
            tail.file = None;
        }
        let seg = Segment::create(&self.dir, self.next_seq, first_index)?;
        self.next_seq += 1;
        self.segments.push(seg);
        self.dir_dirty = true;
        self.data_dirty = true;
        Ok(())
    }

    /// Makes everything written so far durable.
    pub fn sync(&mut self) -> Result<(), WalError> {
        if self.data_dirty {
            if let Some(tail) = self.segments.last() {
                tail.sync()?;
                Counters::add(&self.stats.fsyncs, 1);
            }
            self.data_dirty = false;
        }
        if self.dir_dirty {
            sync_dir(&self.dir)?;
            Counters::add(&self.stats.dir_syncs, 1);
            self.dir_dirty = false;
        }
        Ok(())
    }

    /// Removes every record with index >= `from`, durably.
    pub fn truncate_from(&mut self, from: u64) -> Result<(), WalError> {
        self.sync()?;
        let mut deleted = false;
        // Newest first, so a crash in the middle leaves a prefix of the old log.
        while let Some(tail) = self.segments.last() {
            if tail.first_index < from {
                break;
            }
            std::fs::remove_file(&tail.path).map_err(|e| WalError::io(&tail.path, e))?;
            self.segments.pop();
            deleted = true;
        }
        if let Some(tail) = self.segments.last_mut() {
            if tail.next_index() > from {
                // first_index < from here, so the difference fits the record count.
                let keep = (from - tail.first_index) as usize;
                tail.truncate_records(keep)?;
                Counters::add(&self.stats.fsyncs, 1);
            }
            tail.open_for_append()?;
        }
        deleted |= self.drop_dead_prefix()?;
        if deleted {
            self.sync_dir()?;
        }
        Ok(())
    }

    /// Persists `floor` (records below it are gone) and deletes segments entirely below it.
    pub fn purge_to(&mut self, floor: u64) -> Result<(), WalError> {
        if floor <= self.floor {
            return Ok(());
        }
        // Pending writes first: the floor file must never be newer than the data it refers to.
        self.sync()?;
        // Floor first, then deletions: a crash in between leaves dead segments that recovery
        // recognises (and deletes) by the floor.
        write_floor(&self.dir, floor)?;
        Counters::add(&self.stats.dir_syncs, 1);
        self.floor = floor;
        if self.drop_dead_prefix()? {
            self.sync_dir()?;
        }
        Ok(())
    }

    /// Deletes leading segments whose records are all below the floor, oldest first.
    fn drop_dead_prefix(&mut self) -> Result<bool, WalError> {
        let dead = self
            .segments
            .iter()
            .take_while(|s| s.next_index() <= self.floor)
            .count();
        for seg in self.segments.drain(..dead) {
            std::fs::remove_file(&seg.path).map_err(|e| WalError::io(&seg.path, e))?;
        }
        Ok(dead > 0)
    }

    fn sync_dir(&mut self) -> Result<(), WalError> {
        sync_dir(&self.dir)?;
        Counters::add(&self.stats.dir_syncs, 1);
        self.dir_dirty = false;
        Ok(())
    }
}
