//! The state store: every table, and `apply`, the deterministic transition function.

use crate::command::{Command, Request, Response};
use crate::table::{Row, Table};
use proconsul_types::catalog::{HealthCheck, Node, NodeService};
use proconsul_types::kv::KvEntry;
use proconsul_types::session::Session;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

impl Row for KvEntry {
    fn secondary_key(&self) -> Option<&str> {
        self.session.as_deref()
    }
}

impl Row for Session {
    fn secondary_key(&self) -> Option<&str> {
        Some(&self.node)
    }
}

impl Row for Node {}

impl Row for HealthCheck {
    fn secondary_key(&self) -> Option<&str> {
        Some(&self.node)
    }
}

/// A service instance row: the agent-form service and the node it runs on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRow {
    pub node: String,
    pub service: NodeService,
}

/// Service instances are found by service name through the secondary index.
impl Row for ServiceRow {
    fn secondary_key(&self) -> Option<&str> {
        Some(&self.service.service)
    }
}

/// Primary key of a service row: node name and service ID (unique per node).
pub fn service_key(node: &str, service_id: &str) -> String {
    format!("{node}\u{0}{service_id}")
}

/// Prefix of every service and check row of `node` (both tables key by node first).
pub fn node_prefix(node: &str) -> String {
    format!("{node}\u{0}")
}

/// Primary key of a check row: node name and check ID (a check ID is unique per node).
pub fn check_key(node: &str, check_id: &str) -> String {
    format!("{node}\u{0}{check_id}")
}

/// What `tables_begin` saves besides the table journals.
pub(crate) struct Savepoint {
    service_extinction: u64,
    lock_delays: BTreeMap<String, u64>,
}

#[derive(Default)]
pub struct Store {
    pub(crate) kv: Table<KvEntry>,
    /// Deleted KV keys -> the index of the delete, so blocking reads of deleted keys advance.
    pub(crate) tombstones: Table<u64>,
    pub(crate) sessions: Table<Session>,
    pub(crate) nodes: Table<Node>,
    pub(crate) checks: Table<HealthCheck>,
    pub(crate) services: Table<ServiceRow>,
    /// Service name -> index of the last change to any of its instances, their checks or
    /// their nodes (Consul's `service.<name>` index): what `/v1/health/service/:s` reports,
    /// and the key its blocked readers watch, so a change to `web` never wakes `db` readers.
    pub(crate) service_index: Table<u64>,
    /// Index at which the last instance of some service disappeared (Consul's
    /// `service_last_extinction`): the index reported for a service that has no instance.
    pub(crate) service_extinction: u64,
    /// Key -> unix ms until which no session may acquire it (set when a lock holder's
    /// session is invalidated).
    pub(crate) lock_delays: BTreeMap<String, u64>,
    pub(crate) last_index: u64,
}

impl Store {
    pub fn new() -> Self {
        Store::default()
    }

    /// The raft index of the last applied command.
    pub fn last_index(&self) -> u64 {
        self.last_index
    }

    /// Applies one committed request at raft `index`. Total: never panics, and a command that
    /// cannot take effect changes nothing and answers `Response::Error` (or `false`).
    pub fn apply(&mut self, index: u64, request: &Request) -> Response {
        let response = self.apply_command(index, request.now_ms, &request.command);
        self.advance(index);
        response
    }

    fn apply_command(&mut self, index: u64, now_ms: u64, command: &Command) -> Response {
        match command {
            Command::Batch(commands) => Response::Batch(
                commands
                    .iter()
                    .map(|c| self.apply_command(index, now_ms, c))
                    .collect(),
            ),
            Command::KvSet {
                key,
                value,
                flags,
                mode,
            } => self.kv_set(index, now_ms, key, value, *flags, mode),
            Command::KvDelete { key, mode } => Response::Bool(self.kv_delete(index, key, mode)),
            Command::Txn { ops } => Response::Txn(self.txn_apply(index, now_ms, ops)),
            Command::SessionCreate { session } => self.session_create(index, session),
            Command::SessionDestroy { id } => {
                self.session_invalidate(index, now_ms, id);
                Response::Bool(true)
            }
            Command::NodeRegister { node, checks } => {
                self.node_register(index, now_ms, node, checks)
            }
            Command::CatalogRegister(request) => self.catalog_register(index, now_ms, request),
            Command::CatalogDeregister {
                node,
                service_id,
                check_id,
            } => self.catalog_deregister(index, now_ms, node, service_id, check_id),
            Command::TombstoneReap { up_to_index } => {
                self.tombstone_reap(index, *up_to_index);
                Response::Done
            }
        }
    }

    /// Records an applied raft entry that carries no command (blank leader entries and
    /// membership changes still move the index).
    pub fn advance(&mut self, index: u64) {
        self.last_index = self.last_index.max(index);
        self.flush_watches();
    }

    /// Starts journaling every table, and remembers the scalars outside the tables, so that
    /// `tables_rollback` can undo a failed transaction exactly (rows, table indexes, the
    /// per-service indexes, lock delays) and no watch fires for it.
    pub(crate) fn tables_begin(&mut self) -> Savepoint {
        self.kv.begin();
        self.tombstones.begin();
        self.sessions.begin();
        self.nodes.begin();
        self.checks.begin();
        self.services.begin();
        self.service_index.begin();
        Savepoint {
            service_extinction: self.service_extinction,
            lock_delays: self.lock_delays.clone(),
        }
    }

    pub(crate) fn tables_commit(&mut self) {
        self.kv.commit();
        self.tombstones.commit();
        self.sessions.commit();
        self.nodes.commit();
        self.checks.commit();
        self.services.commit();
        self.service_index.commit();
    }

    pub(crate) fn tables_rollback(&mut self, savepoint: Savepoint) {
        self.kv.rollback();
        self.tombstones.rollback();
        self.sessions.rollback();
        self.nodes.rollback();
        self.checks.rollback();
        self.services.rollback();
        self.service_index.rollback();
        self.service_extinction = savepoint.service_extinction;
        self.lock_delays = savepoint.lock_delays;
    }

    fn flush_watches(&mut self) {
        self.kv.flush_watches();
        self.tombstones.flush_watches();
        self.sessions.flush_watches();
        self.nodes.flush_watches();
        self.checks.flush_watches();
        self.services.flush_watches();
        self.service_index.flush_watches();
    }

    pub(crate) fn fire_all_watches(&mut self) {
        self.kv.fire_all_watches();
        self.tombstones.fire_all_watches();
        self.sessions.fire_all_watches();
        self.nodes.fire_all_watches();
        self.checks.fire_all_watches();
        self.services.fire_all_watches();
        self.service_index.fire_all_watches();
    }

    /// Live watch points across tables (for metrics and leak tests).
    pub fn watch_points(&self) -> usize {
        self.kv.watch_points()
            + self.sessions.watch_points()
            + self.nodes.watch_points()
            + self.checks.watch_points()
            + self.services.watch_points()
            + self.service_index.watch_points()
    }

    pub fn nodes(&self) -> &Table<Node> {
        &self.nodes
    }

    pub fn checks(&self) -> &Table<HealthCheck> {
        &self.checks
    }

    pub fn services(&self) -> &Table<ServiceRow> {
        &self.services
    }

    pub fn sessions(&self) -> &Table<Session> {
        &self.sessions
    }
}

/// Consul never reports index 0 (clients would spin): it substitutes 1.
pub fn nonzero(index: u64) -> u64 {
    index.max(1)
}
