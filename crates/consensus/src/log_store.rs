//! The Raft log: entries kept in memory for reads, and — with a data dir — written to the
//! durable WAL before openraft is told they are flushed.

use crate::durable::DurableLog;
use crate::types::{Entry, LogId, StorageError, TypeConfig, Vote};
use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{LogState, RaftLogReader};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::ops::RangeBounds;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Default)]
struct LogInner {
    vote: Option<Vote>,
    committed: Option<LogId>,
    last_purged: Option<LogId>,
    entries: BTreeMap<u64, Entry>,
}

#[derive(Clone, Default)]
pub struct LogStore {
    inner: Arc<Mutex<LogInner>>,
    durable: Option<Arc<DurableLog>>,
}

impl LogStore {
    /// An in-memory log (`-dev`).
    pub fn in_memory() -> Self {
        LogStore::default()
    }

    /// A log backed by `durable`, starting from what it recovered.
    pub fn durable(durable: Arc<DurableLog>) -> Result<Self, StorageError> {
        let recovered = durable.recovered()?;
        let inner = LogInner {
            vote: recovered.vote,
            committed: None,
            last_purged: recovered.last_purged,
            entries: recovered
                .entries
                .into_iter()
                .map(|e| (e.log_id.index, e))
                .collect(),
        };
        Ok(LogStore {
            inner: Arc::new(Mutex::new(inner)),
            durable: Some(durable),
        })
    }

    fn lock(&self) -> MutexGuard<'_, LogInner> {
        // Every critical section is a plain map operation; a poisoned lock holds valid data.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Runs a step that fsyncs (vote, truncate, purge) without stalling the other tasks
/// of this worker thread: on a multi-thread runtime the worker hands them off first.
fn blocking<T>(step: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(step)
        }
        _ => step(),
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        Ok(self
            .lock()
            .entries
            .range(range)
            .map(|(_, e)| e.clone())
            .collect())
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let inner = self.lock();
        let last = inner
            .entries
            .values()
            .next_back()
            .map(|e| e.log_id)
            .or(inner.last_purged);
        Ok(LogState {
            last_purged_log_id: inner.last_purged,
            last_log_id: last,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        if let Some(durable) = &self.durable {
            blocking(|| durable.save_vote(vote))?;
        }
        self.lock().vote = Some(*vote);
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        Ok(self.lock().vote)
    }

    /// Kept in memory only. openraft calls this on every commit advance; persisting it cost
    /// three synchronous fsyncs per write on the critical path (measured: ~58 writes/s at any
    /// concurrency), and it is only a hint: after a restart the leader's first entry commits
    /// everything before it, so the state machine catches up without it.
    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        self.lock().committed = committed;
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        Ok(self.lock().committed)
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + Send,
        I::IntoIter: Send,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        {
            let mut inner = self.lock();
            for entry in &entries {
                inner.entries.insert(entry.log_id.index, entry.clone());
            }
        }
        match &self.durable {
            // The WAL calls back once an fdatasync covers these entries; appends arriving
            // meanwhile share the next fdatasync (group commit).
            Some(durable) => {
                durable
                    .append(
                        &entries,
                        Box::new(move |result| callback.log_io_completed(result)),
                    )
                    .await?
            }
            None => callback.log_io_completed(Ok(())),
        }
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        if let Some(durable) = &self.durable {
            blocking(|| durable.truncate_from(log_id.index))?;
        }
        self.lock().entries.split_off(&log_id.index);
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        if let Some(durable) = &self.durable {
            blocking(|| durable.purge_to(log_id))?;
        }
        let mut inner = self.lock();
        inner.last_purged = Some(log_id);
        let keep = inner.entries.split_off(&(log_id.index + 1));
        inner.entries = keep;
        Ok(())
    }
}
