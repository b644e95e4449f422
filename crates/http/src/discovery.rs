//! What the catalog and health reads share: `?node-meta=`, `?tag=`, `?filter=` parsing, the
//! filter applied per element (so fields keep Consul's order), and the blocking JSON reply.

use crate::blocking::blocking_read;
use crate::context::SharedContext;
use crate::error::HttpError;
use crate::query::{Params, ReadOptions};
use crate::response::{json_with, pretty, read_headers, to_json};
use axum::http::StatusCode;
use axum::response::Response;
use proconsul_filter::Filter;
use proconsul_state::{Store, Watch};
use serde::Serialize;

/// `?node-meta=key:value` pairs, repeatable; a value without `:` means an empty value.
pub fn node_meta(params: &Params) -> Vec<(String, String)> {
    params
        .raw
        .iter()
        .filter(|(k, _)| k == "node-meta")
        .map(|(_, v)| match v.split_once(':') {
            Some((key, value)) => (key.to_string(), value.to_string()),
            None => (v.clone(), String::new()),
        })
        .collect()
}

/// Every `?tag=` value (all must match).
pub fn tags(params: &Params) -> Vec<String> {
    params
        .raw
        .iter()
        .filter(|(k, _)| k == "tag")
        .map(|(_, v)| v.clone())
        .collect()
}

/// `?peer=NAME`: proconsul has no cluster peering, so every named peer is unknown and, as
/// in Consul, a query for an unknown peer's services answers an empty list.
pub fn unknown_peer(params: &Params) -> bool {
    params.get("peer").is_some_and(|p| !p.is_empty())
}

/// Parses `?filter=` up front, so a bad expression is a 400 before any blocking.
pub fn filter(params: &Params) -> Result<Option<Filter>, HttpError> {
    Filter::parse_optional(params.get("filter").unwrap_or(""))
        .map_err(|e| HttpError::BadRequest(e.to_string()))
}

/// True when `item` passes the filter. Evaluated on the element's JSON rendering; errors
/// (a selector that does not fit the data) are the client's, as in Consul.
pub fn matches<T: Serialize>(filter: &Filter, item: &T) -> Result<bool, HttpError> {
    let value = serde_json::to_value(item).map_err(|e| HttpError::Internal(e.to_string()))?;
    filter
        .matches(&value)
        .map_err(|e| HttpError::BadRequest(e.to_string()))
}

/// Keeps the elements that pass `filter` (all of them without one).
pub fn keep_matching<T: Serialize>(
    filter: Option<&Filter>,
    items: Vec<T>,
) -> Result<Vec<T>, HttpError> {
    let Some(filter) = filter else {
        return Ok(items);
    };
    let mut kept = Vec::with_capacity(items.len());
    for item in items {
        if matches(filter, &item)? {
            kept.push(item);
        }
    }
    Ok(kept)
}

/// A blocking read answered as JSON with the read headers; `shape` runs on the final answer
/// only (filtering, reshaping), not on every wake-up.
pub async fn reply<T, U: Serialize>(
    ctx: &SharedContext,
    params: &Params,
    run: impl FnMut(&Store) -> (u64, T),
    watch: impl Fn(&Store) -> Watch,
    shape: impl FnOnce(T) -> Result<U, HttpError>,
) -> Result<Response, HttpError> {
    let opts = ReadOptions::parse(ctx, params)?;
    let (index, value, meta) = blocking_read(ctx, &opts, run, watch).await?;
    let body = shape(value)?;
    let headers = read_headers(index, meta, opts.consistency);
    Ok(json_with(
        StatusCode::OK,
        headers,
        to_json(&body, pretty(ctx, params)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_meta_pairs() {
        let params = Params::new(vec![
            ("node-meta".into(), "rack:r1".into()),
            ("node-meta".into(), "env:a:b".into()),
            ("node-meta".into(), "bare".into()),
            ("tag".into(), "x".into()),
        ]);
        assert_eq!(
            node_meta(&params),
            [
                ("rack".to_string(), "r1".to_string()),
                ("env".to_string(), "a:b".to_string()),
                ("bare".to_string(), String::new())
            ]
        );
        assert_eq!(tags(&params), ["x"]);
    }
}
