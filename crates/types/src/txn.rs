//! `/v1/txn` operations and results.

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

/// One operation of a transaction (only KV is supported so far; catalog ops come with the
/// catalog).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnOp {
    Kv(TxnKvOp),
}

/// One result entry: `{"KV": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnResult {
    #[serde(rename = "KV")]
    Kv(KvEntry),
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
