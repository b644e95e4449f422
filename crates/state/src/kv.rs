//! KV writes and reads with Consul's semantics (`agent/consul/state/kvs.go`).

use crate::command::{ApplyError, DeleteMode, Response, SetMode};
use crate::store::{Store, nonzero};
use crate::watch::Watch;
use proconsul_types::kv::KvEntry;

/// How a write treats the lock fields of the entry.
pub(crate) enum LockUpdate<'a> {
    /// Keep whatever lock the entry has.
    Keep,
    /// Set the lock holder and lock index.
    Hold { session: &'a str, lock_index: u64 },
    /// Clear the holder; the lock index stays.
    Clear,
}

/// Why a lock or unlock did not happen (a `false`, not an error).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LockOutcome {
    Done,
    Refused,
}

impl Store {
    pub(crate) fn kv_set(
        &mut self,
        index: u64,
        now_ms: u64,
        key: &str,
        value: &[u8],
        flags: u64,
        mode: &SetMode,
    ) -> Response {
        match mode {
            SetMode::Plain => {
                self.kv_write(index, key, value, flags, LockUpdate::Keep);
                Response::Bool(true)
            }
            SetMode::Cas(expected) => {
                Response::Bool(self.kv_cas(index, key, value, flags, *expected))
            }
            SetMode::Acquire(session) => {
                match self.kv_lock(index, now_ms, key, value, flags, session) {
                    Ok(outcome) => Response::Bool(outcome == LockOutcome::Done),
                    Err(err) => Response::Error(err),
                }
            }
            SetMode::Release(session) => match self.kv_unlock(index, key, value, flags, session) {
                Ok(outcome) => Response::Bool(outcome == LockOutcome::Done),
                Err(err) => Response::Error(err),
            },
        }
    }

    pub(crate) fn kv_write(
        &mut self,
        index: u64,
        key: &str,
        value: &[u8],
        flags: u64,
        lock: LockUpdate<'_>,
    ) {
        let existing = self.kv.get(key);
        let (create_index, mut lock_index, mut session) = match existing {
            Some(e) => (e.create_index, e.lock_index, e.session.clone()),
            None => (index, 0, None),
        };
        match lock {
            LockUpdate::Keep => {}
            LockUpdate::Hold {
                session: holder,
                lock_index: li,
            } => {
                session = Some(holder.to_string());
                lock_index = li;
            }
            LockUpdate::Clear => session = None,
        }
        let entry = KvEntry {
            lock_index,
            key: key.to_string(),
            flags,
            value: value.to_vec(),
            session,
            create_index,
            modify_index: index,
        };
        self.kv.insert(key.to_string(), entry, index);
    }

    pub(crate) fn kv_cas(
        &mut self,
        index: u64,
        key: &str,
        value: &[u8],
        flags: u64,
        expected: u64,
    ) -> bool {
        let current = self.kv.get(key).map(|e| e.modify_index);
        let ok = match (expected, current) {
            (0, None) => true,
            (0, Some(_)) => false,
            (_, None) => false,
            (want, Some(have)) => want == have,
        };
        if ok {
            self.kv_write(index, key, value, flags, LockUpdate::Keep);
        }
        ok
    }

    pub(crate) fn kv_lock(
        &mut self,
        index: u64,
        now_ms: u64,
        key: &str,
        value: &[u8],
        flags: u64,
        session: &str,
    ) -> Result<LockOutcome, ApplyError> {
        if session.is_empty() {
            return Err(ApplyError::MissingSession);
        }
        if self.sessions.get(session).is_none() {
            return Err(ApplyError::InvalidSession(session.to_string()));
        }
        if self
            .lock_delays
            .get(key)
            .is_some_and(|until| *until > now_ms)
        {
            return Ok(LockOutcome::Refused);
        }
        let lock_index = match self.kv.get(key) {
            Some(e) if e.session.as_deref() == Some(session) => e.lock_index,
            Some(e) if e.session.is_some() => return Ok(LockOutcome::Refused),
            Some(e) => e.lock_index + 1,
            None => 1,
        };
        self.kv_write(
            index,
            key,
            value,
            flags,
            LockUpdate::Hold {
                session,
                lock_index,
            },
        );
        Ok(LockOutcome::Done)
    }

    pub(crate) fn kv_unlock(
        &mut self,
        index: u64,
        key: &str,
        value: &[u8],
        flags: u64,
        session: &str,
    ) -> Result<LockOutcome, ApplyError> {
        // Consul refuses an unlock without a session as an error, not a `false`.
        if session.is_empty() {
            return Err(ApplyError::MissingSession);
        }
        match self.kv.get(key) {
            Some(e) if e.session.as_deref() == Some(session) => {
                self.kv_write(index, key, value, flags, LockUpdate::Clear);
                Ok(LockOutcome::Done)
            }
            _ => Ok(LockOutcome::Refused),
        }
    }

    pub(crate) fn kv_delete(&mut self, index: u64, key: &str, mode: &DeleteMode) -> bool {
        match mode {
            DeleteMode::Key => {
                self.kv_delete_key(index, key);
                true
            }
            DeleteMode::Tree => {
                self.kv_delete_tree(index, key);
                true
            }
            DeleteMode::Cas(expected) => match self.kv.get(key) {
                None => true,
                Some(e) if e.modify_index == *expected => {
                    self.kv_delete_key(index, key);
                    true
                }
                Some(_) => false,
            },
        }
    }

    pub(crate) fn kv_delete_key(&mut self, index: u64, key: &str) {
        if self.kv.remove(key, index).is_some() {
            self.tombstones.insert(key.to_string(), index, index);
        }
    }

    pub(crate) fn kv_delete_tree(&mut self, index: u64, prefix: &str) {
        let keys: Vec<String> = self.kv.prefix(prefix).map(|(k, _)| k.clone()).collect();
        for key in keys {
            self.kv_delete_key(index, &key);
        }
    }

    pub(crate) fn tombstone_reap(&mut self, index: u64, up_to_index: u64) {
        let expired: Vec<String> = self
            .tombstones
            .iter()
            .filter(|(_, deleted_at)| **deleted_at <= up_to_index)
            .map(|(k, _)| k.clone())
            .collect();
        for key in expired {
            self.tombstones.remove(&key, index);
        }
    }

    /// Index of the KV table as a whole (entries and tombstones).
    fn kv_table_index(&self) -> u64 {
        self.kv.max_index().max(self.tombstones.max_index())
    }

    /// `GET /v1/kv/key`: the entry's ModifyIndex if present, else the table index.
    pub fn kv_get(&self, key: &str) -> (u64, Option<&KvEntry>) {
        match self.kv.get(key) {
            Some(entry) => (nonzero(entry.modify_index), Some(entry)),
            None => (nonzero(self.kv_table_index()), None),
        }
    }

    /// Highest modify index under `prefix`, deletes included; the table index if none.
    fn kv_prefix_index(&self, prefix: &str, entries_max: u64) -> u64 {
        let tomb_max = self
            .tombstones
            .prefix(prefix)
            .map(|(_, i)| *i)
            .max()
            .unwrap_or(0);
        let index = entries_max.max(tomb_max);
        nonzero(if index == 0 || prefix.is_empty() {
            self.kv_table_index().max(index)
        } else {
            index
        })
    }

    /// `GET /v1/kv/prefix?recurse`.
    pub fn kv_list<'a>(&'a self, prefix: &'a str) -> (u64, Vec<&'a KvEntry>) {
        let entries: Vec<&KvEntry> = self.kv.prefix(prefix).map(|(_, e)| e).collect();
        let max = entries.iter().map(|e| e.modify_index).max().unwrap_or(0);
        (self.kv_prefix_index(prefix, max), entries)
    }

    /// `GET /v1/kv/prefix?keys[&separator=s]`: keys, folded at the first separator after the
    /// prefix (`web/sub/` stands for everything below it).
    pub fn kv_keys(&self, prefix: &str, separator: &str) -> (u64, Vec<String>) {
        let mut keys: Vec<String> = Vec::new();
        let mut max = 0;
        for (key, entry) in self.kv.prefix(prefix) {
            max = max.max(entry.modify_index);
            let folded = match (separator.is_empty(), key[prefix.len()..].find(separator)) {
                (false, Some(pos)) => &key[..prefix.len() + pos + separator.len()],
                _ => key.as_str(),
            };
            if keys.last().map(String::as_str) != Some(folded) {
                keys.push(folded.to_string());
            }
        }
        (self.kv_prefix_index(prefix, max), keys)
    }

    pub fn watch_kv_key(&self, key: &str) -> Watch {
        self.kv.watch_key(key)
    }

    /// A prefix watch covers writes and deletes (tombstones are written with the delete).
    pub fn watch_kv_prefix(&self, prefix: &str) -> Watch {
        self.kv.watch_prefix(prefix)
    }

    pub fn kv_len(&self) -> usize {
        self.kv.len()
    }

    pub fn tombstone_len(&self) -> usize {
        self.tombstones.len()
    }

    /// Unix ms until which `key` cannot be acquired, if a lock delay is in force.
    pub fn lock_delay_until(&self, key: &str) -> Option<u64> {
        self.lock_delays.get(key).copied()
    }
}
