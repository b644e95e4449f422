//! What the leader proposes and what applying it answers.
//!
//! A `Request` carries the proposer's wall clock (`now_ms`) so that applying it is a pure
//! function of (state, request, log index): lock-delay windows are computed from it rather
//! than from each replica's clock.

use proconsul_types::catalog::{HealthCheck, Node, RegisterRequest};
use proconsul_types::session::Session;
use proconsul_types::txn::{TxnOp, TxnResponse};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub now_ms: u64,
    pub command: Command,
}

/// How a KV PUT treats the existing entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetMode {
    /// Unconditional write; an existing lock is kept.
    Plain,
    /// Write only if the entry's ModifyIndex equals this (0: only if absent).
    Cas(u64),
    /// Take the lock for this session (and write).
    Acquire(String),
    /// Drop this session's lock (and write).
    Release(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeleteMode {
    Key,
    Tree,
    /// Delete only if the entry's ModifyIndex equals this.
    Cas(u64),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Several single-key KV writes on distinct keys (or catalog writes on distinct nodes),
    /// applied in order at one raft index, so
    /// that concurrent writes share one log entry and one fsync. The proposer guarantees
    /// every command in it is `batch_key()`-able and that no key repeats, which keeps each
    /// key's ModifyIndex unique per write (CAS stays exact).
    Batch(Vec<Command>),
    KvSet {
        key: String,
        value: Vec<u8>,
        flags: u64,
        mode: SetMode,
    },
    KvDelete {
        key: String,
        mode: DeleteMode,
    },
    Txn {
        ops: Vec<TxnOp>,
    },
    SessionCreate {
        session: Session,
    },
    SessionDestroy {
        id: String,
    },
    /// Registers (or updates) a node and its node-level checks.
    NodeRegister {
        node: Node,
        checks: Vec<HealthCheck>,
    },
    /// `PUT /v1/catalog/register`: a node, optionally a service and checks, all or nothing.
    CatalogRegister(Box<RegisterRequest>),
    /// `PUT /v1/catalog/deregister`: a service (and its checks), a check, or (neither given)
    /// the whole node with everything on it.
    CatalogDeregister {
        node: String,
        service_id: Option<String>,
        check_id: Option<String>,
    },
    /// Forgets KV tombstones at or below this index (the leader's tombstone GC).
    TombstoneReap {
        up_to_index: u64,
    },
}

impl Command {
    /// A short name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Command::Batch(_) => "batch",
            Command::KvSet { .. } => "kv_set",
            Command::KvDelete { .. } => "kv_delete",
            Command::Txn { .. } => "txn",
            Command::SessionCreate { .. } => "session_create",
            Command::SessionDestroy { .. } => "session_destroy",
            Command::NodeRegister { .. } => "node_register",
            Command::CatalogRegister(_) => "catalog_register",
            Command::CatalogDeregister { .. } => "catalog_deregister",
            Command::TombstoneReap { .. } => "tombstone_reap",
        }
    }
}

impl Command {
    /// The one thing a command writes if it may share a batch with other such writes:
    /// single-key KV writes and deletes (`k/<key>`), and catalog registrations and
    /// deregistrations (`n/<node>`: everything they write hangs off that node). Sessions,
    /// transactions and tree deletes are proposed alone, because they reach keys they do
    /// not name. (A registration that turns a check critical can still invalidate a session
    /// and release its locks: applied in batch order, so replicas agree.)
    pub fn batch_key(&self) -> Option<String> {
        match self {
            Command::KvSet { key, .. } => Some(format!("k/{key}")),
            Command::KvDelete {
                key,
                mode: DeleteMode::Key | DeleteMode::Cas(_),
            } => Some(format!("k/{key}")),
            Command::CatalogRegister(request) => Some(format!("n/{}", request.node)),
            Command::CatalogDeregister { node, .. } => Some(format!("n/{node}")),
            _ => None,
        }
    }
}

/// Errors a committed command can answer with. Applying never panics; a command that cannot
/// take effect leaves the state untouched and returns one of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApplyError {
    #[error("invalid session {0:?}")]
    InvalidSession(String),
    #[error("missing session")]
    MissingSession,
    #[error("Missing node registration")]
    MissingNode,
    #[error("Missing check '{0}' registration")]
    MissingCheck(String),
    #[error("Check '{0}' is in critical state")]
    CheckCritical(String),
    #[error("session ID already exists")]
    SessionExists,
    #[error("Must provide node")]
    MissingNodeName,
    #[error("failed inserting service: {0}")]
    ServiceInsert(String),
    #[error("failed inserting check: {0}")]
    CheckInsert(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// Nothing to say (registrations, reaps, raft-internal entries).
    Done,
    /// KV writes and deletes answer `true`/`false`.
    Bool(bool),
    Txn(TxnResponse),
    Error(ApplyError),
    /// One answer per command of a `Command::Batch`, in order.
    Batch(Vec<Response>),
}
