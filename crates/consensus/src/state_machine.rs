//! openraft's state machine over our `Store`: applies committed entries, builds and installs
//! snapshots (kept on disk with a data dir so a restart replays only the log tail).

use crate::snapshot_file;
use crate::types::{
    Entry, LogId, SnapshotMeta, StorageError, StoredMembership, TypeConfig, storage_io,
};
use openraft::storage::RaftStateMachine;
use openraft::{EntryPayload, ErrorSubject, ErrorVerb, RaftSnapshotBuilder, Snapshot};
use proconsul_state::{Response, Store};
use std::io::Cursor;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

const SNAPSHOT_FILE: &str = "snapshot.bin";

#[derive(Default)]
struct Applied {
    last_applied: Option<LogId>,
    membership: StoredMembership,
    /// The latest snapshot blob (the same bytes as on disk).
    current: Option<(SnapshotMeta, Vec<u8>)>,
}

#[derive(Clone)]
pub struct StateMachine {
    store: Arc<RwLock<Store>>,
    applied: Arc<Mutex<Applied>>,
    snapshot_dir: Option<PathBuf>,
}

fn snapshot_error(err: impl std::error::Error + 'static, verb: ErrorVerb) -> StorageError {
    storage_io(ErrorSubject::Snapshot(None), verb, err)
}

impl StateMachine {
    /// A state machine over `store`; with `snapshot_dir`, the last snapshot there is loaded.
    pub fn open(store: Arc<RwLock<Store>>, snapshot_dir: Option<PathBuf>) -> Result<Self, String> {
        let sm = StateMachine {
            store,
            applied: Arc::default(),
            snapshot_dir,
        };
        if let Some(dir) = &sm.snapshot_dir {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            if let Some(blob) =
                snapshot_file::read(&dir.join(SNAPSHOT_FILE)).map_err(|e| e.to_string())?
            {
                sm.load(blob)
                    .map_err(|e| format!("{}: {e}", dir.join(SNAPSHOT_FILE).display()))?;
            }
        }
        Ok(sm)
    }

    fn applied(&self) -> MutexGuard<'_, Applied> {
        self.applied.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn write_store(&self) -> std::sync::RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Restores the store from a blob and records it as the current snapshot.
    fn load(&self, blob: Vec<u8>) -> Result<(), String> {
        let (meta, state) = snapshot_file::decode(&blob).map_err(|e| e.to_string())?;
        let mut store = self.write_store();
        store.restore(state).map_err(|e| e.to_string())?;
        // Paired with the single lock in `build_snapshot`: the image must be exactly the state
        // after `last_log_id`, or replaying the log tail would apply entries twice (or skip some).
        let covered = meta.last_log_id.map_or(0, |id| id.index);
        if store.last_index() != covered {
            return Err(format!(
                "snapshot state is at index {} but its metadata says {covered}",
                store.last_index()
            ));
        }
        let mut applied = self.applied();
        applied.last_applied = meta.last_log_id;
        applied.membership = meta.last_membership.clone();
        applied.current = Some((meta, blob));
        Ok(())
    }

    fn persist(&self, blob: &[u8]) -> Result<(), StorageError> {
        let Some(dir) = &self.snapshot_dir else {
            return Ok(());
        };
        proconsul_wal::write_atomic(&dir.join(SNAPSHOT_FILE), blob)
            .map_err(|e| snapshot_error(e, ErrorVerb::Write))
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        // openraft runs this in a spawned task while `apply` keeps going, so the state and the
        // log id it covers must be read under one lock: a state newer than its `last_log_id`
        // would have those entries applied a second time after a restart. `apply` takes the
        // store lock first, so taking it first here cannot deadlock.
        let (meta, state) = {
            let store = self.store.read().unwrap_or_else(|p| p.into_inner());
            let applied = self.applied();
            let meta = SnapshotMeta {
                last_log_id: applied.last_applied,
                last_membership: applied.membership.clone(),
                snapshot_id: snapshot_id(applied.last_applied),
            };
            (meta, store.snapshot())
        };
        let blob = snapshot_file::encode(&meta, &state);
        self.persist(&blob)?;
        self.applied().current = Some((meta.clone(), blob.clone()));
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(blob)),
        })
    }
}

fn snapshot_id(last_applied: Option<LogId>) -> String {
    match last_applied {
        Some(id) => format!("{}-{}", id.leader_id.term, id.index),
        None => "0-0".to_string(),
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = StateMachine;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let applied = self.applied();
        Ok((applied.last_applied, applied.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Response>, StorageError>
    where
        I: IntoIterator<Item = Entry> + Send,
        I::IntoIter: Send,
    {
        let mut responses = Vec::new();
        let mut store = self.store.write().unwrap_or_else(|p| p.into_inner());
        let mut applied = self.applied.lock().unwrap_or_else(|p| p.into_inner());
        for entry in entries {
            let index = entry.log_id.index;
            applied.last_applied = Some(entry.log_id);
            let response = match entry.payload {
                EntryPayload::Normal(request) => store.apply(index, &request),
                EntryPayload::Membership(membership) => {
                    applied.membership = StoredMembership::new(Some(entry.log_id), membership);
                    store.advance(index);
                    Response::Done
                }
                EntryPayload::Blank => {
                    store.advance(index);
                    Response::Done
                }
            };
            responses.push(response);
        }
        Ok(responses)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        _meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let blob = snapshot.into_inner();
        self.persist(&blob)?;
        self.load(blob)
            .map_err(|e| snapshot_error(std::io::Error::other(e), ErrorVerb::Read))
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let applied = self.applied();
        Ok(applied.current.as_ref().map(|(meta, blob)| Snapshot {
            meta: meta.clone(),
            snapshot: Box::new(Cursor::new(blob.clone())),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openraft::{CommittedLeaderId, EntryPayload};
    use proconsul_state::{Command, Request, SetMode};

    fn entry(index: u64) -> Entry {
        Entry {
            log_id: LogId::new(CommittedLeaderId::new(1, 1), index),
            payload: EntryPayload::Normal(Request {
                now_ms: 0,
                command: Command::KvSet {
                    key: format!("k{}", index % 7),
                    value: index.to_be_bytes().to_vec(),
                    flags: 0,
                    mode: SetMode::Plain,
                },
            }),
        }
    }

    /// openraft builds snapshots in a task of their own while entries keep being applied; every
    /// snapshot must hold exactly the state its metadata names, or a restart applies entries
    /// twice.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn snapshots_built_during_apply_match_their_metadata() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(RwLock::new(Store::new()));
        let sm = StateMachine::open(store, Some(dir.path().to_path_buf())).expect("open");
        let mut applier = sm.clone();
        let applying = tokio::spawn(async move {
            for batch in 0..4000u64 {
                let entries: Vec<Entry> = (1..=10).map(|i| entry(batch * 10 + i)).collect();
                applier.apply(entries).await.expect("apply");
                tokio::task::yield_now().await;
            }
        });
        let mut builder = sm.clone();
        let mut checked = 0;
        while !applying.is_finished() {
            let snapshot = builder.build_snapshot().await.expect("build");
            let blob = snapshot.snapshot.into_inner();
            let fresh = StateMachine::open(Arc::default(), None).expect("open");
            fresh
                .load(blob)
                .expect("snapshot state matches its metadata");
            checked += 1;
        }
        applying.await.expect("applier");
        assert!(checked > 0);
        // And the file on disk is the last one built, loadable at start.
        let reopened = StateMachine::open(Arc::default(), Some(dir.path().to_path_buf()));
        reopened.expect("reopen from the snapshot file");
    }
}
