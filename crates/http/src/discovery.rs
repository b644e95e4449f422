//! What the catalog and health reads share: `?node-meta=`, `?tag=`, `?filter=` parsing, the
//! filter applied per element (so fields keep Consul's order), and the blocking JSON reply.

use crate::answer_cache::{MAX_SHARED_ANSWER, Slot};
use crate::blocking::blocking_read;
use crate::context::SharedContext;
use crate::error::HttpError;
use crate::query::{Params, ReadOptions};
use crate::response::{json_with, pretty, read_headers, to_json};
use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::response::Response;
use proconsul_filter::Filter;
use proconsul_state::{ServiceQuery, Store, Watch};
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

/// The instance query of `/v1/{catalog,health}/{service,connect}/:s`: `?tag=`,
/// `?node-meta=`, and whether only connect-capable instances count.
pub fn service_query(params: &Params, connect: bool) -> ServiceQuery {
    ServiceQuery {
        tags: tags(params),
        node_meta: node_meta(params),
        connect,
    }
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

/// What one pass of a shared read found.
enum Step<T> {
    /// Nothing newer than the client's index yet.
    Wait(Watch),
    /// Another request already encoded this answer.
    Done(u64, Bytes),
    /// This request encodes it (into `Some(slot)` to share it).
    Build(u64, T, Option<Slot>),
}

/// The question a shared read answers: the endpoint and every parameter except the ones
/// that only say when to answer (`index`, `wait`). Once ACLs filter answers, the token's
/// identity must join the question (answers then differ per token).
fn question_key(question: &str, params: &Params, pretty: bool) -> String {
    let asked = Params::new(
        params
            .raw
            .iter()
            .filter(|(k, _)| k != "index" && k != "wait")
            .cloned()
            .collect(),
    );
    format!("{question}?{}#{pretty}", asked.encode_sorted())
}

/// Encodes `value` and, when it fits, shares it through `slot`; returns the bytes to send.
fn encode_into<T, U: Serialize>(
    slot: Option<Slot>,
    value: T,
    shape: &impl Fn(T) -> Result<U, HttpError>,
    pretty: bool,
) -> Option<Result<Bytes, HttpError>> {
    let encode = |value: T| shape(value).map(|u| Bytes::from(to_json(&u, pretty)));
    let Some(slot) = slot else {
        return Some(encode(value));
    };
    let mut own = None;
    let shared = slot.get_or_init(|| match encode(value) {
        Ok(body) if body.len() <= MAX_SHARED_ANSWER => Some(body),
        other => {
            own = Some(other);
            None
        }
    });
    match (shared, own) {
        (Some(body), _) => Some(Ok(body.clone())),
        (None, Some(mine)) => Some(mine),
        // Another request's encoding failed or was too large to share: encode our own.
        (None, None) => None,
    }
}

/// Like [`reply`], but requests asking the same question at the same index share one
/// encoded answer (see `answer_cache`): the fan-out of a change to hundreds of blocking
/// queries costs one encoding. `index_of` must give the index `run` returns.
pub async fn reply_shared<T, U: Serialize>(
    ctx: &SharedContext,
    params: &Params,
    question: &str,
    index_of: impl Fn(&Store) -> u64,
    run: impl Fn(&Store) -> (u64, T),
    watch: impl Fn(&Store) -> Watch,
    shape: impl Fn(T) -> Result<U, HttpError>,
) -> Result<Response, HttpError> {
    let opts = ReadOptions::parse(ctx, params)?;
    let pretty = pretty(ctx, params);
    let key = question_key(question, params, pretty);
    let deadline = tokio::time::Instant::now() + opts.wait_with_jitter();
    let mut share = true;
    loop {
        let (step, meta) = ctx
            .server
            .read(opts.consistency, |store| {
                let index = index_of(store);
                let fresh = opts.min_index == 0 || index > opts.min_index;
                if !fresh && tokio::time::Instant::now() < deadline {
                    return Step::Wait(watch(store));
                }
                if !share {
                    return Step::Build(index, run(store).1, None);
                }
                let slot = ctx.answers.slot(&key, index);
                match slot.get() {
                    Some(Some(body)) => Step::Done(index, body.clone()),
                    _ => Step::Build(index, run(store).1, Some(slot)),
                }
            })
            .await?;
        let (index, body) = match step {
            Step::Wait(pending) => {
                tokio::select! {
                    _ = pending.fired() => {}
                    _ = tokio::time::sleep_until(deadline) => {}
                }
                continue;
            }
            Step::Done(index, body) => (index, body),
            Step::Build(index, value, slot) => match encode_into(slot, value, &shape, pretty) {
                Some(body) => (index, body?),
                None => {
                    share = false;
                    continue;
                }
            },
        };
        let mut response = (
            StatusCode::OK,
            read_headers(index, meta, opts.consistency),
            body,
        )
            .into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return Ok(response);
    }
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

    #[test]
    fn the_question_ignores_when_to_answer() {
        let a = Params::new(vec![
            ("passing".into(), "".into()),
            ("index".into(), "7".into()),
            ("wait".into(), "5s".into()),
        ]);
        let b = Params::new(vec![("passing".into(), "".into())]);
        assert_eq!(
            question_key("h/web", &a, false),
            question_key("h/web", &b, false)
        );
        assert_ne!(
            question_key("h/web", &a, false),
            question_key("h/web", &a, true)
        );
        assert_ne!(
            question_key("h/web", &a, false),
            question_key("h/db", &a, false)
        );
    }
}
