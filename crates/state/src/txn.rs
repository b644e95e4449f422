//! `/v1/txn`: every operation applies, or none does (`agent/consul/state/txn.go`).
//!
//! Operations (KV here, Node/Service/Check in `txn_catalog.rs`) run in order against the
//! live tables with journaling on; if any fails, the journals roll every table back (rows,
//! table indexes, per-service indexes, lock delays) and no watch fires. Errors of all
//! failing operations are reported, as Consul does.

use crate::kv::LockOutcome;
use crate::store::Store;
use proconsul_types::kv::KvEntry;
use proconsul_types::txn::{KvVerb, TxnError, TxnKvOp, TxnOp, TxnResponse, TxnResult};

impl Store {
    pub(crate) fn txn_apply(&mut self, index: u64, now_ms: u64, ops: &[TxnOp]) -> TxnResponse {
        let savepoint = self.tables_begin();
        let mut results = Vec::new();
        let mut errors = Vec::new();
        for (op_index, op) in ops.iter().enumerate() {
            let outcome = match op {
                TxnOp::Kv(kv) => self.txn_kv_write(index, now_ms, kv),
                TxnOp::Node(op) => self.txn_node_write(index, now_ms, op),
                TxnOp::Service(op) => self.txn_service_write(index, now_ms, op),
                TxnOp::Check(op) => self.txn_check_write(index, now_ms, op),
            };
            match outcome {
                Ok(mut entries) => results.append(&mut entries),
                Err(what) => errors.push(TxnError { op_index, what }),
            }
        }
        if errors.is_empty() {
            self.tables_commit();
            TxnResponse {
                results: Some(results),
                errors: None,
            }
        } else {
            self.tables_rollback(savepoint);
            TxnResponse {
                results: None,
                errors: Some(errors),
            }
        }
    }

    /// A transaction of read verbs only, answered from local state without raft.
    pub fn txn_read(&self, ops: &[TxnOp]) -> TxnResponse {
        let mut results = Vec::new();
        let mut errors = Vec::new();
        for (op_index, op) in ops.iter().enumerate() {
            let outcome = match op {
                TxnOp::Kv(kv) => self.txn_kv_read(kv),
                other => self.txn_catalog_read(other),
            };
            match outcome {
                Ok(mut entries) => results.append(&mut entries),
                Err(what) => errors.push(TxnError { op_index, what }),
            }
        }
        if errors.is_empty() {
            TxnResponse {
                results: Some(results),
                errors: None,
            }
        } else {
            TxnResponse {
                results: None,
                errors: Some(errors),
            }
        }
    }

    fn txn_kv_write(
        &mut self,
        index: u64,
        now_ms: u64,
        op: &TxnKvOp,
    ) -> Result<Vec<TxnResult>, String> {
        let key = op.key.as_str();
        let session = op.session.as_deref().unwrap_or("");
        match op.verb {
            KvVerb::Set => {
                self.kv_write(index, key, &op.value, op.flags, crate::kv::LockUpdate::Keep);
            }
            KvVerb::Cas => {
                if !self.kv_cas(index, key, &op.value, op.flags, op.index) {
                    return Err(format!("failed to set key {key:?}, index is stale"));
                }
            }
            KvVerb::Lock => match self.kv_lock(index, now_ms, key, &op.value, op.flags, session) {
                Ok(LockOutcome::Done) => {}
                Ok(LockOutcome::Refused) => {
                    return Err(format!("failed to lock key {key:?}, lock is already held"));
                }
                Err(err) => return Err(err.to_string()),
            },
            KvVerb::Unlock => match self.kv_unlock(index, key, &op.value, op.flags, session) {
                Ok(LockOutcome::Done) => {}
                Ok(LockOutcome::Refused) => {
                    return Err(format!(
                        "failed to unlock key {key:?}, lock isn't held, or is held by another session"
                    ));
                }
                Err(err) => return Err(err.to_string()),
            },
            KvVerb::Delete => {
                self.kv_delete_key(index, key);
                return Ok(Vec::new());
            }
            KvVerb::DeleteTree => {
                self.kv_delete_tree(index, key);
                return Ok(Vec::new());
            }
            KvVerb::DeleteCas => {
                let ok = self.kv_delete(index, key, &crate::command::DeleteMode::Cas(op.index));
                if !ok {
                    return Err(format!("failed to delete key {key:?}, index is stale"));
                }
                return Ok(Vec::new());
            }
            _ => return self.txn_kv_read(op),
        }
        Ok(self
            .kv
            .get(key)
            .map(|e| vec![TxnResult::Kv(without_value(e))])
            .unwrap_or_default())
    }

    fn txn_kv_read(&self, op: &TxnKvOp) -> Result<Vec<TxnResult>, String> {
        let key = op.key.as_str();
        let entry = self.kv.get(key);
        match op.verb {
            KvVerb::Get => match entry {
                Some(e) => Ok(vec![TxnResult::Kv(e.clone())]),
                None => Err(format!("key {key:?} doesn't exist")),
            },
            KvVerb::GetOrEmpty => {
                let e = entry.cloned().unwrap_or_else(|| KvEntry {
                    key: key.to_string(),
                    ..KvEntry::default()
                });
                Ok(vec![TxnResult::Kv(e)])
            }
            KvVerb::GetTree => Ok(self
                .kv
                .prefix(key)
                .map(|(_, e)| TxnResult::Kv(e.clone()))
                .collect()),
            KvVerb::CheckIndex => match entry {
                None => Err(format!("failed to check index, key {key:?} doesn't exist")),
                Some(e) if e.modify_index != op.index => Err(format!(
                    "failed index check for key {key:?}, current modify index {} != {}",
                    e.modify_index, op.index
                )),
                Some(e) => Ok(vec![TxnResult::Kv(without_value(e))]),
            },
            KvVerb::CheckSession => {
                let want = op.session.as_deref().unwrap_or("");
                match entry {
                    None => Err(format!(
                        "failed to check session, key {key:?} doesn't exist"
                    )),
                    Some(e) if e.session.as_deref().unwrap_or("") != want => Err(format!(
                        "failed session check for key {key:?}, current session {:?} != {want:?}",
                        e.session.as_deref().unwrap_or("")
                    )),
                    Some(e) => Ok(vec![TxnResult::Kv(without_value(e))]),
                }
            }
            KvVerb::CheckNotExists => match entry {
                Some(_) => Err(format!("key {key:?} exists")),
                None => Ok(Vec::new()),
            },
            _ => Err(format!(
                "unknown KV verb {:?} in a read-only transaction",
                op.verb
            )),
        }
    }
}

/// Non-get results carry the entry's metadata without its value, as Consul's do.
fn without_value(entry: &KvEntry) -> KvEntry {
    KvEntry {
        value: Vec::new(),
        ..entry.clone()
    }
}
