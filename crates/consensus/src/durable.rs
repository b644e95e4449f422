//! The durable half of the Raft log (`-data-dir`): entries in the segmented WAL, and the vote,
//! purged log ids in small atomically replaced files beside it.
//!
//! Entries are encoded as a format byte followed by JSON, so a later encoding can be
//! introduced without a migration.

use crate::types::{Entry, LogId, StorageError, Vote};
use openraft::{ErrorSubject, ErrorVerb};
use proconsul_wal::{Wal, WalError, WalOptions, write_atomic};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

const ENTRY_FORMAT_JSON: u8 = 1;
const VOTE_FILE: &str = "vote.json";
const PURGED_FILE: &str = "purged.json";

/// Bound on encoded entry bytes handed to the WAL but not yet durable. openraft does not wait
/// for one append to be flushed before issuing the next, so without a bound a disk slower than
/// the clients would let the WAL queue (and memory) grow without limit; with it, `append`
/// waits, which stalls Raft's core and so pushes back on proposers.
pub const MAX_IN_FLIGHT_BYTES: usize = 64 * 1024 * 1024;

/// What was on disk when the log was opened.
pub struct RecoveredLog {
    pub vote: Option<Vote>,
    pub last_purged: Option<LogId>,
    pub entries: Vec<Entry>,
}

pub struct DurableLog {
    dir: PathBuf,
    wal: Wal,
    recovered: Mutex<Option<RecoveredLog>>,
    /// One permit per in-flight byte (see [`MAX_IN_FLIGHT_BYTES`]).
    in_flight: Arc<Semaphore>,
}

fn io_err(subject: ErrorSubject<u64>, verb: ErrorVerb, err: WalError) -> StorageError {
    crate::types::storage_io(subject, verb, err)
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

fn encode_entry(entry: &Entry) -> Vec<u8> {
    let mut bytes = vec![ENTRY_FORMAT_JSON];
    // Entries hold plain data (strings, numbers, maps); encoding to a Vec cannot fail.
    serde_json::to_writer(&mut bytes, entry).unwrap_or_default();
    bytes
}

fn decode_entry(index: u64, bytes: &[u8]) -> Result<Entry, String> {
    match bytes.split_first() {
        Some((&ENTRY_FORMAT_JSON, json)) => {
            serde_json::from_slice(json).map_err(|e| format!("raft log entry {index}: {e}"))
        }
        Some((format, _)) => Err(format!(
            "raft log entry {index}: unknown entry format {format}"
        )),
        None => Err(format!("raft log entry {index}: empty record")),
    }
}

impl DurableLog {
    /// Opens (or creates) the log under `dir`, recovering the WAL.
    pub fn open(dir: &Path, segment_bytes: u64) -> Result<DurableLog, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let options = WalOptions {
            segment_bytes,
            ..WalOptions::default()
        };
        let (wal, recovery) = Wal::open(&dir.join("wal"), options).map_err(|e| e.to_string())?;
        if let Some(cut) = &recovery.cut {
            tracing::warn!(segment = %cut.segment.display(), offset = cut.offset, bytes = cut.bytes, reason = %cut.reason,
                "raft log: cut a torn tail left by a crash");
        }
        let last_purged: Option<LogId> = read_json(&dir.join(PURGED_FILE))?;
        let purged_to = last_purged.map(|id| id.index);
        // A crash between writing `purged.json` and the WAL's own floor leaves purged entries
        // in the WAL; they are dead, and handing them to openraft would put them below its
        // purge point.
        let entries = recovery
            .records
            .iter()
            .filter(|(index, _)| purged_to.is_none_or(|p| *index > p))
            .map(|(index, bytes)| decode_entry(*index, bytes))
            .collect::<Result<Vec<_>, _>>()?;
        let recovered = RecoveredLog {
            vote: read_json(&dir.join(VOTE_FILE))?,
            last_purged,
            entries,
        };
        Ok(DurableLog {
            dir: dir.to_path_buf(),
            wal,
            recovered: Mutex::new(Some(recovered)),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT_BYTES)),
        })
    }

    /// Hands over what was recovered at open (once).
    pub fn recovered(&self) -> Result<RecoveredLog, StorageError> {
        let mut slot = self.recovered.lock().unwrap_or_else(|p| p.into_inner());
        Ok(slot.take().unwrap_or(RecoveredLog {
            vote: None,
            last_purged: None,
            entries: Vec::new(),
        }))
    }

    fn write_meta<T: Serialize>(
        &self,
        name: &str,
        value: &T,
        subject: ErrorSubject<u64>,
    ) -> Result<(), StorageError> {
        let bytes = serde_json::to_vec(value).unwrap_or_default();
        write_atomic(&self.dir.join(name), &bytes).map_err(|e| io_err(subject, ErrorVerb::Write, e))
    }

    pub fn save_vote(&self, vote: &Vote) -> Result<(), StorageError> {
        self.write_meta(VOTE_FILE, vote, ErrorSubject::Vote)
    }

    /// Queues `entries` for the WAL, first waiting while more than [`MAX_IN_FLIGHT_BYTES`] are
    /// queued and not yet durable. `on_durable` runs once an fdatasync covers them.
    pub async fn append(
        &self,
        entries: &[Entry],
        on_durable: Box<dyn FnOnce(Result<(), std::io::Error>) + Send>,
    ) -> Result<(), StorageError> {
        let records: Vec<(u64, Vec<u8>)> = entries
            .iter()
            .map(|e| (e.log_id.index, encode_entry(e)))
            .collect();
        let bytes: usize = records.iter().map(|(_, r)| r.len()).sum();
        // One oversized batch may take the whole budget rather than wait forever.
        let wanted = u32::try_from(bytes.clamp(1, MAX_IN_FLIGHT_BYTES)).unwrap_or(u32::MAX);
        let permit = Arc::clone(&self.in_flight)
            .acquire_many_owned(wanted)
            .await
            .map_err(|e| crate::types::storage_io(ErrorSubject::Logs, ErrorVerb::Write, e))?;
        let callback = Box::new(move |result: Result<(), WalError>| {
            drop(permit);
            on_durable(result.map_err(|e| std::io::Error::other(e.to_string())));
        });
        self.wal
            .append(records, callback)
            .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Write, e))
    }

    pub fn truncate_from(&self, index: u64) -> Result<(), StorageError> {
        self.wal
            .truncate_from(index)
            .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Delete, e))
    }

    /// Purges the WAL up to `log_id`, recording the purged id first so a crash between the two
    /// steps leaves a consistent (if longer) log.
    pub fn purge_to(&self, log_id: LogId) -> Result<(), StorageError> {
        self.write_meta(PURGED_FILE, &Some(log_id), ErrorSubject::Logs)?;
        self.wal
            .purge_to(log_id.index)
            .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Delete, e))
    }
}
