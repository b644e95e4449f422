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
        self.write_store()
            .restore(state)
            .map_err(|e| e.to_string())?;
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
        let (last_applied, membership) = {
            let applied = self.applied();
            (applied.last_applied, applied.membership.clone())
        };
        let state = self
            .store
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .snapshot();
        let snapshot_id = match last_applied {
            Some(id) => format!("{}-{}", id.leader_id.term, id.index),
            None => "0-0".to_string(),
        };
        let meta = SnapshotMeta {
            last_log_id: last_applied,
            last_membership: membership,
            snapshot_id,
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
