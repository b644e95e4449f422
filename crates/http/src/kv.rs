//! `/v1/kv/*`: reads (single, `recurse`, `keys`, `raw`), writes (`flags`, `cas`, `acquire`,
//! `release`) and deletes (`recurse`, `cas`), as Consul's `kvs_endpoint.go` answers them.

use crate::blocking::blocking_read;
use crate::body::{percent_decode, read_limited};
use crate::context::SharedContext;
use crate::error::{HttpError, parse_uint};
use crate::query::{Params, ReadOptions};
use crate::response::{json, json_with, pretty, read_headers, to_json};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use proconsul_state::{Command, DeleteMode, Response as Applied, SetMode};

/// The key is the rest of the path after `/v1/kv/`, percent-decoded.
fn key_from(uri: &Uri) -> Result<String, HttpError> {
    let path = uri.path();
    let rest = path
        .strip_prefix("/v1/kv/")
        .or_else(|| path.strip_prefix("/v1/kv"))
        .unwrap_or("");
    percent_decode(rest)
}

fn missing_key() -> HttpError {
    HttpError::BadRequest("Missing key name".into())
}

pub async fn get(
    State(ctx): State<SharedContext>,
    uri: Uri,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    let key = key_from(&uri)?;
    let opts = ReadOptions::parse(&ctx, &params)?;
    if params.has("keys") {
        let separator = params
            .get("separator")
            .or_else(|| params.get("seperator"))
            .unwrap_or("")
            .to_string();
        let (index, keys, meta) = blocking_read(
            &ctx,
            &opts,
            |s| s.kv_keys(&key, &separator),
            |s| s.watch_kv_prefix(&key),
        )
        .await?;
        let headers = read_headers(index, meta, opts.consistency);
        if keys.is_empty() && !key.is_empty() {
            return Ok((StatusCode::NOT_FOUND, headers).into_response());
        }
        return Ok(json_with(
            StatusCode::OK,
            headers,
            to_json(&keys, pretty(&ctx, &params)),
        ));
    }
    if params.has("recurse") {
        let (index, entries, meta) = blocking_read(
            &ctx,
            &opts,
            |s| {
                let (index, entries) = s.kv_list(&key);
                (index, entries.into_iter().cloned().collect::<Vec<_>>())
            },
            |s| s.watch_kv_prefix(&key),
        )
        .await?;
        let headers = read_headers(index, meta, opts.consistency);
        if entries.is_empty() {
            return Ok((StatusCode::NOT_FOUND, headers).into_response());
        }
        return Ok(json_with(
            StatusCode::OK,
            headers,
            to_json(&entries, pretty(&ctx, &params)),
        ));
    }
    if key.is_empty() {
        return Err(missing_key());
    }
    let (index, entry, meta) = blocking_read(
        &ctx,
        &opts,
        |s| {
            let (index, entry) = s.kv_get(&key);
            (index, entry.cloned())
        },
        |s| s.watch_kv_key(&key),
    )
    .await?;
    let mut headers = read_headers(index, meta, opts.consistency);
    let Some(entry) = entry else {
        return Ok((StatusCode::NOT_FOUND, headers).into_response());
    };
    if params.has("raw") {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        headers.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            "content-security-policy",
            HeaderValue::from_static("sandbox"),
        );
        return Ok((StatusCode::OK, headers, entry.value).into_response());
    }
    Ok(json_with(
        StatusCode::OK,
        headers,
        to_json(&[entry], pretty(&ctx, &params)),
    ))
}

/// Consul answers more than one of `cas`/`acquire`/`release` (or `recurse`/`cas` on a delete)
/// with the whole query echoed, sorted, and a newline (it writes the text with `Fprintf`).
fn conflicting_flags(params: &Params, flags: &[&str]) -> Result<(), HttpError> {
    if flags.iter().filter(|f| params.has(f)).count() > 1 {
        return Err(HttpError::BadRequest(format!(
            "Conflicting flags: {}\n",
            params.encode_sorted()
        )));
    }
    Ok(())
}

fn bool_reply(
    ctx: &SharedContext,
    params: &Params,
    applied: Applied,
) -> Result<Response, HttpError> {
    match applied {
        Applied::Bool(ok) => Ok(json(ctx, params, &ok)),
        Applied::Error(err) => Err(HttpError::Internal(err.to_string())),
        other => Err(HttpError::Internal(format!(
            "unexpected apply result {other:?}"
        ))),
    }
}

pub async fn put(
    State(ctx): State<SharedContext>,
    uri: Uri,
    Query(raw): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    // Consul parses the common query options (consistency, wait, index) for every method.
    ReadOptions::parse(&ctx, &params)?;
    let key = key_from(&uri)?;
    if key.is_empty() {
        return Err(missing_key());
    }
    conflicting_flags(&params, &["cas", "acquire", "release"])?;
    let flags = params
        .get("flags")
        .map(parse_uint)
        .transpose()?
        .unwrap_or(0);
    let mode = if let Some(cas) = params.get("cas") {
        SetMode::Cas(parse_uint(cas)?)
    } else if let Some(session) = params.get("acquire") {
        SetMode::Acquire(session.to_string())
    } else if let Some(session) = params.get("release") {
        SetMode::Release(session.to_string())
    } else {
        SetMode::Plain
    };
    let value = read_limited(
        &headers,
        body,
        ctx.config.kv_max_value_size,
        "kv_max_value_size",
    )
    .await?;
    let (_, applied) = ctx
        .server
        .apply(Command::KvSet {
            key,
            value,
            flags,
            mode,
        })
        .await?;
    bool_reply(&ctx, &params, applied)
}

pub async fn delete(
    State(ctx): State<SharedContext>,
    uri: Uri,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    ReadOptions::parse(&ctx, &params)?;
    let key = key_from(&uri)?;
    let recurse = params.has("recurse");
    conflicting_flags(&params, &["recurse", "cas"])?;
    let mode = if recurse {
        DeleteMode::Tree
    } else if let Some(cas) = params.get("cas") {
        DeleteMode::Cas(parse_uint(cas)?)
    } else {
        DeleteMode::Key
    };
    if !recurse && key.is_empty() {
        return Err(missing_key());
    }
    let (_, applied) = ctx.server.apply(Command::KvDelete { key, mode }).await?;
    bool_reply(&ctx, &params, applied)
}
