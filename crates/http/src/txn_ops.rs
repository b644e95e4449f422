//! The `/v1/txn` request body: decoding each operation (`KV`, `Node`, `Service`, `Check`)
//! and the checks Consul runs before a transaction reaches Raft (`convertOps` in
//! `agent/txn_endpoint.go`, `preCheck` in `agent/consul/txn_endpoint.go`). Problems found
//! here are reported per operation in `Errors` (409), as Consul's pre-checks are.

use crate::error::HttpError;
use base64::Engine as _;
use proconsul_types::catalog::{HealthCheck, Node, NodeService, check_uuid, normalize_service};
use proconsul_types::txn::{
    CatalogVerb, KvVerb, TxnCheckOp, TxnError, TxnKvOp, TxnNodeOp, TxnOp, TxnServiceOp,
};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct OpRequest {
    #[serde(rename = "KV")]
    kv: Option<KvOpRequest>,
    node: Option<NodeOpRequest>,
    service: Option<ServiceOpRequest>,
    check: Option<CheckOpRequest>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct KvOpRequest {
    verb: String,
    key: String,
    value: Option<String>,
    flags: u64,
    index: u64,
    session: Option<String>,
}

/// `{"Verb": .., "Node": {ID, Node, Address, Datacenter, TaggedAddresses, Meta,
/// ModifyIndex}}`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct NodeOpRequest {
    verb: String,
    node: Node,
}

/// `{"Verb": .., "Node": "<node name>", "Service": {ID, Service, Tags, .., ModifyIndex}}`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct ServiceOpRequest {
    verb: String,
    node: String,
    service: NodeService,
}

/// `{"Verb": .., "Check": {Node, CheckID, Name, Status, .., ModifyIndex}}`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct CheckOpRequest {
    verb: String,
    check: HealthCheck,
}

/// Converts the request into operations. Per-operation problems (unknown verb, invalid
/// node, service or check) come back as `TxnError`s; a malformed body is a 400.
pub fn convert(
    ops: Vec<OpRequest>,
    datacenter: &str,
) -> Result<Result<Vec<TxnOp>, Vec<TxnError>>, HttpError> {
    let mut out = Vec::with_capacity(ops.len());
    let mut errors = Vec::new();
    for (op_index, op) in ops.into_iter().enumerate() {
        let converted = match op {
            OpRequest { kv: Some(kv), .. } => convert_kv(op_index, kv)?,
            OpRequest {
                node: Some(node), ..
            } => convert_node(node, datacenter),
            OpRequest {
                service: Some(service),
                ..
            } => convert_service(service),
            OpRequest {
                check: Some(check), ..
            } => convert_check(check),
            _ => {
                return Err(HttpError::BadRequest(format!(
                    "Request decode failed: operation {op_index} has no KV, Node, Service or Check"
                )));
            }
        };
        match converted {
            Ok(op) => out.push(op),
            Err(what) => errors.push(TxnError { op_index, what }),
        }
    }
    Ok(if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    })
}

fn convert_kv(op_index: usize, kv: KvOpRequest) -> Result<Result<TxnOp, String>, HttpError> {
    let Some(verb) = KvVerb::parse(&kv.verb) else {
        return Ok(Err(format!("unknown KV verb {:?}", kv.verb)));
    };
    let value = match kv.value.as_deref() {
        None | Some("") => Vec::new(),
        Some(text) => base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| {
                HttpError::BadRequest(format!(
                    "Failed to parse body: illegal base64 data in operation {op_index}: {e}"
                ))
            })?,
    };
    Ok(Ok(TxnOp::Kv(TxnKvOp {
        verb,
        key: kv.key,
        value,
        flags: kv.flags,
        index: kv.index,
        session: kv.session,
    })))
}

/// Writes need a node name and a well-formed ID (Consul's `nodePreApply`); the datacenter
/// defaults to the agent's.
fn convert_node(op: NodeOpRequest, datacenter: &str) -> Result<TxnOp, String> {
    let verb = CatalogVerb::parse(&op.verb)
        .ok_or_else(|| format!("unknown node operation: {}", op.verb))?;
    let mut node = op.node;
    if !verb.is_read() {
        if node.node.is_empty() {
            return Err("Must provide node".into());
        }
        if !node.id.is_empty() {
            check_uuid(&node.id).map_err(|e| format!("Bad node ID: {e}"))?;
        }
    }
    if node.datacenter.is_empty() {
        node.datacenter = datacenter.to_string();
    }
    node.create_index = 0;
    Ok(TxnOp::Node(Box::new(TxnNodeOp { verb, node })))
}

/// Sets need a valid service (Consul's `servicePreApply`: the ID defaults to the name, a
/// name is required, no wildcard address, weights fixed up); deletes and gets only need
/// the ID (or the name it defaults to).
fn convert_service(op: ServiceOpRequest) -> Result<TxnOp, String> {
    let verb = CatalogVerb::parse(&op.verb)
        .ok_or_else(|| format!("unknown service operation: {}", op.verb))?;
    let mut service = op.service;
    match verb {
        CatalogVerb::Set | CatalogVerb::Cas => {
            normalize_service(&mut service).map_err(|e| e.to_string())?;
            if service.id.is_empty() {
                return Err("Must provide service name with ID".into());
            }
        }
        _ => {
            if service.id.is_empty() {
                service.id = service.service.clone();
            }
        }
    }
    service.create_index = 0;
    Ok(TxnOp::Service(Box::new(TxnServiceOp {
        verb,
        node: op.node,
        service,
    })))
}

/// Consul's `checkPreApply`: the check ID defaults to its name and an empty `Type` is
/// derived from the definition.
fn convert_check(op: CheckOpRequest) -> Result<TxnOp, String> {
    let verb = CatalogVerb::parse(&op.verb)
        .ok_or_else(|| format!("unknown check operation: {}", op.verb))?;
    let mut check = op.check;
    if !verb.is_read() {
        if check.check_id.is_empty() {
            check.check_id = check.name.clone();
        }
        if check.check_type.is_empty() {
            check.check_type = check.definition.check_type().to_string();
        }
    }
    if matches!(verb, CatalogVerb::Set | CatalogVerb::Cas) && check.check_id.is_empty() {
        return Err("Missing check ID".into());
    }
    check.create_index = 0;
    Ok(TxnOp::Check(Box::new(TxnCheckOp { verb, check })))
}
