//! `PUT /v1/txn`: KV operations applied all-or-nothing; read-only transactions are answered
//! from the local store behind the request's consistency barrier.

use crate::body::read_limited;
use crate::context::SharedContext;
use crate::error::HttpError;
use crate::query::{Params, ReadOptions};
use crate::response::{json_with, pretty, read_headers, to_json};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use proconsul_state::{Command, Response as Applied};
use proconsul_types::txn::{KvVerb, TxnError, TxnKvOp, TxnOp, TxnResponse};
use serde::Deserialize;

/// Consul's limit on operations per transaction.
pub const MAX_TXN_OPS: usize = 128;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct OpRequest {
    #[serde(rename = "KV")]
    kv: Option<KvOpRequest>,
    node: Option<serde_json::Value>,
    service: Option<serde_json::Value>,
    check: Option<serde_json::Value>,
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

/// Converts the request into operations; problems the state machine would report per op
/// (unknown verb, bad base64) come back as `TxnError`s, as Consul's 409 does.
fn convert(ops: Vec<OpRequest>) -> Result<Result<Vec<TxnOp>, Vec<TxnError>>, HttpError> {
    let mut out = Vec::with_capacity(ops.len());
    let mut errors = Vec::new();
    for (op_index, op) in ops.into_iter().enumerate() {
        let Some(kv) = op.kv else {
            let kind = if op.node.is_some() {
                "Node"
            } else if op.service.is_some() {
                "Service"
            } else if op.check.is_some() {
                "Check"
            } else {
                return Err(HttpError::BadRequest(format!(
                    "Request decode failed: operation {op_index} has no KV, Node, Service or Check"
                )));
            };
            return Err(HttpError::BadRequest(format!(
                "{kind} operations in transactions are not supported yet"
            )));
        };
        let Some(verb) = KvVerb::parse(&kv.verb) else {
            errors.push(TxnError {
                op_index,
                what: format!("unknown KV verb {:?}", kv.verb),
            });
            continue;
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
        out.push(TxnOp::Kv(TxnKvOp {
            verb,
            key: kv.key,
            value,
            flags: kv.flags,
            index: kv.index,
            session: kv.session,
        }));
    }
    Ok(if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    })
}

fn reply(
    ctx: &SharedContext,
    params: &Params,
    headers: HeaderMap,
    response: &TxnResponse,
) -> Response {
    let status = if response.errors.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    json_with(status, headers, to_json(response, pretty(ctx, params)))
}

pub async fn txn(
    State(ctx): State<SharedContext>,
    Query(raw): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    let opts = ReadOptions::parse(&ctx, &params)?;
    let bytes = read_limited(
        &headers,
        body,
        ctx.config.txn_max_req_len,
        "txn_max_req_len",
    )
    .await?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| HttpError::BadRequest(format!("Failed to parse body: {e}")))?;
    let requests: Vec<OpRequest> = proconsul_types::decode::from_value(value)
        .map_err(|e| HttpError::BadRequest(format!("Failed to parse body: {e}")))?;
    if requests.len() > MAX_TXN_OPS {
        return Err(HttpError::TooLarge(format!(
            "Transaction contains too many operations ({} > {MAX_TXN_OPS})",
            requests.len()
        )));
    }
    let ops = match convert(requests)? {
        Ok(ops) => ops,
        Err(errors) => {
            let response = TxnResponse {
                results: None,
                errors: Some(errors),
            };
            return Ok(reply(&ctx, &params, HeaderMap::new(), &response));
        }
    };
    let read_only = ops.iter().all(|TxnOp::Kv(op)| op.verb.is_read());
    if read_only {
        let (response, meta) = ctx
            .server
            .read(opts.consistency, |store| store.txn_read(&ops))
            .await?;
        let index = ctx
            .server
            .consensus()
            .store()
            .read()
            .map(|s| s.last_index())
            .unwrap_or(1);
        let headers = read_headers(index, meta, opts.consistency);
        return Ok(reply(&ctx, &params, headers, &response));
    }
    match ctx.server.apply(Command::Txn { ops }).await? {
        (_, Applied::Txn(response)) => Ok(reply(&ctx, &params, HeaderMap::new(), &response)),
        (_, other) => Err(HttpError::Internal(format!(
            "unexpected apply result {other:?}"
        ))),
    }
}
