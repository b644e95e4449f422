//! `/v1/txn` operations and results.

use crate::catalog::{HealthCheck, Node, NodeService};
use crate::kv::KvEntry;
use serde::{Deserialize, Serialize};

/// The KV verbs a transaction may use, with Consul's spellings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvVerb {
    #[serde(rename = "set")]
    Set,
    #[serde(rename = "cas")]
    Cas,
    #[serde(rename = "lock")]
    Lock,
    #[serde(rename = "unlock")]
    Unlock,
    #[serde(rename = "get")]
    Get,
    #[serde(rename = "get-or-empty")]
    GetOrEmpty,
    #[serde(rename = "get-tree")]
    GetTree,
    #[serde(rename = "check-index")]
    CheckIndex,
    #[serde(rename = "check-session")]
    CheckSession,
    #[serde(rename = "check-not-exists")]
    CheckNotExists,
    #[serde(rename = "delete")]
    Delete,
    #[serde(rename = "delete-tree")]
    DeleteTree,
    #[serde(rename = "delete-cas")]
    DeleteCas,
}

impl KvVerb {
    pub fn parse(text: &str) -> Option<KvVerb> {
        serde_json::from_value(serde_json::Value::String(text.to_string())).ok()
    }

    /// Verbs that change nothing; a transaction of only these is a read.
    pub fn is_read(self) -> bool {
        matches!(
            self,
            KvVerb::Get
                | KvVerb::GetOrEmpty
                | KvVerb::GetTree
                | KvVerb::CheckIndex
                | KvVerb::CheckSession
                | KvVerb::CheckNotExists
        )
    }
}

/// One KV operation inside a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnKvOp {
    pub verb: KvVerb,
    pub key: String,
    pub value: Vec<u8>,
    pub flags: u64,
    pub index: u64,
    pub session: Option<String>,
}

/// The verbs of Node, Service and Check operations (Consul's `api.NodeOp`, `api.ServiceOp`,
/// `api.CheckOp` share their spellings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatalogVerb {
    #[serde(rename = "set")]
    Set,
    #[serde(rename = "cas")]
    Cas,
    #[serde(rename = "get")]
    Get,
    #[serde(rename = "delete")]
    Delete,
    #[serde(rename = "delete-cas")]
    DeleteCas,
}

impl CatalogVerb {
    pub fn parse(text: &str) -> Option<CatalogVerb> {
        serde_json::from_value(serde_json::Value::String(text.to_string())).ok()
    }

    pub fn is_read(self) -> bool {
        self == CatalogVerb::Get
    }
}

/// A Node operation: `ModifyIndex` of `node` is the CAS index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnNodeOp {
    pub verb: CatalogVerb,
    pub node: Node,
}

/// A Service operation on the instance `service.id` of node `node`; `service.modify_index`
/// is the CAS index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnServiceOp {
    pub verb: CatalogVerb,
    pub node: String,
    pub service: NodeService,
}

/// A Check operation on `check.check_id` of node `check.node`; `check.modify_index` is the
/// CAS index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnCheckOp {
    pub verb: CatalogVerb,
    pub check: HealthCheck,
}

/// One operation of a transaction (catalog payloads are boxed: a check with its definition
/// is much larger than a KV operation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnOp {
    Kv(TxnKvOp),
    Node(Box<TxnNodeOp>),
    Service(Box<TxnServiceOp>),
    Check(Box<TxnCheckOp>),
}

impl TxnOp {
    /// True for operations that change nothing; a transaction of only these is a read.
    pub fn is_read(&self) -> bool {
        match self {
            TxnOp::Kv(op) => op.verb.is_read(),
            TxnOp::Node(op) => op.verb.is_read(),
            TxnOp::Service(op) => op.verb.is_read(),
            TxnOp::Check(op) => op.verb.is_read(),
        }
    }
}

/// One result entry: `{"KV": {...}}`, `{"Node": {...}}`, `{"Service": {...}}` (agent form,
/// as Consul's `structs.NodeService`) or `{"Check": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnResult {
    #[serde(rename = "KV")]
    Kv(KvEntry),
    Node(Box<Node>),
    Service(Box<NodeService>),
    Check(Box<HealthCheck>),
}

/// One failure: `{"OpIndex": 0, "What": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TxnError {
    pub op_index: usize,
    pub what: String,
}

/// The whole `/v1/txn` answer; exactly one of the two lists is `null` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TxnResponse {
    pub results: Option<Vec<TxnResult>>,
    pub errors: Option<Vec<TxnError>>,
}
