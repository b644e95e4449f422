//! `PUT /v1/txn`: KV, Node, Service and Check operations applied all-or-nothing; read-only
//! transactions (only `get`-like verbs) are answered from the local store behind the
//! request's consistency barrier.

use crate::body::read_limited;
use crate::context::SharedContext;
use crate::error::HttpError;
use crate::query::{Params, ReadOptions};
use crate::response::{json_with, pretty, read_headers, to_json};
use crate::txn_ops::{OpRequest, convert};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use proconsul_state::{Command, Response as Applied};
use proconsul_types::txn::{TxnOp, TxnResponse};

/// Consul's limit on operations per transaction.
pub const MAX_TXN_OPS: usize = 128;

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
    let ops = match convert(requests, &ctx.config.datacenter)? {
        Ok(ops) => ops,
        Err(errors) => {
            let response = TxnResponse {
                results: None,
                errors: Some(errors),
            };
            return Ok(reply(&ctx, &params, HeaderMap::new(), &response));
        }
    };
    let read_only = ops.iter().all(TxnOp::is_read);
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
