//! Sessions: creation with Consul's validation, invalidation that releases or deletes held
//! locks and starts their lock-delay windows (`agent/consul/state/session.go`).

use crate::command::{ApplyError, Response};
use crate::kv::LockUpdate;
use crate::store::{Store, check_key, nonzero};
use crate::watch::Watch;
use proconsul_types::catalog::CheckStatus;
use proconsul_types::session::{Behavior, Session};

impl Store {
    pub(crate) fn session_create(&mut self, index: u64, session: &Session) -> Response {
        match self.session_validate(session) {
            Ok(()) => {
                let mut row = session.clone();
                row.create_index = index;
                row.modify_index = index;
                self.sessions.insert(row.id.clone(), row, index);
                Response::Done
            }
            Err(err) => Response::Error(err),
        }
    }

    fn session_validate(&self, session: &Session) -> Result<(), ApplyError> {
        if self.sessions.get(&session.id).is_some() {
            return Err(ApplyError::SessionExists);
        }
        if self.nodes.get(&session.node).is_none() {
            return Err(ApplyError::MissingNode);
        }
        for check_id in session.all_check_ids() {
            match self.checks.get(&check_key(&session.node, check_id)) {
                None => return Err(ApplyError::MissingCheck(check_id.to_string())),
                Some(check) if check.status == CheckStatus::Critical => {
                    return Err(ApplyError::CheckCritical(check_id.to_string()));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Destroys a session: its locks are released (or their keys deleted, per `Behavior`) and
    /// each key gets a lock-delay window. Unknown sessions are a no-op.
    pub(crate) fn session_invalidate(&mut self, index: u64, now_ms: u64, id: &str) {
        let Some(session) = self.sessions.remove(id, index) else {
            return;
        };
        let delay_ms = session.lock_delay / 1_000_000;
        for key in self.kv.keys_by_secondary(id) {
            if delay_ms > 0 {
                self.lock_delays
                    .insert(key.clone(), now_ms.saturating_add(delay_ms));
            }
            match session.behavior {
                Behavior::Release => {
                    let Some(entry) = self.kv.get(&key) else {
                        continue;
                    };
                    let (value, flags) = (entry.value.clone(), entry.flags);
                    self.kv_write(index, &key, &value, flags, LockUpdate::Clear);
                }
                Behavior::Delete => self.kv_delete_key(index, &key),
            }
        }
        // Lock delays that have run out are dropped here, where time moves forward
        // deterministically, so the map stays as small as the set of recent invalidations.
        self.lock_delays.retain(|_, until| *until > now_ms);
    }

    /// Sessions on `node` that depend on `check_id`.
    pub(crate) fn sessions_using_check(&self, node: &str, check_id: &str) -> Vec<String> {
        self.sessions
            .keys_by_secondary(node)
            .into_iter()
            .filter(|id| {
                self.sessions
                    .get(id)
                    .is_some_and(|s| s.all_check_ids().any(|c| c == check_id))
            })
            .collect()
    }

    /// `GET /v1/session/info/:id`: the table index and the session if it exists.
    pub fn session_get(&self, id: &str) -> (u64, Option<&Session>) {
        (nonzero(self.sessions.max_index()), self.sessions.get(id))
    }

    pub fn session_list(&self) -> (u64, Vec<&Session>) {
        (
            nonzero(self.sessions.max_index()),
            self.sessions.iter().map(|(_, s)| s).collect(),
        )
    }

    pub fn session_list_node(&self, node: &str) -> (u64, Vec<&Session>) {
        let ids = self.sessions.keys_by_secondary(node);
        (
            nonzero(self.sessions.max_index()),
            ids.iter().filter_map(|id| self.sessions.get(id)).collect(),
        )
    }

    pub fn watch_sessions(&self) -> Watch {
        self.sessions.watch_table()
    }
}
