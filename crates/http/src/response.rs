//! Successful responses: JSON (compact, or indented with 4 spaces and a trailing newline for
//! `?pretty` and in `-dev`), and the headers every read carries.

use crate::context::Context;
use crate::query::Params;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use proconsul_consensus::{Consistency, ReadMeta};
use serde::Serialize;

pub fn pretty(ctx: &Context, params: &Params) -> bool {
    ctx.config.pretty || params.has("pretty")
}

pub fn to_json<T: Serialize + ?Sized>(value: &T, pretty: bool) -> Vec<u8> {
    if pretty {
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
        if value.serialize(&mut serializer).is_err() {
            return b"null".to_vec();
        }
        out.push(b'\n');
        out
    } else {
        serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec())
    }
}

pub fn json<T: Serialize + ?Sized>(ctx: &Context, params: &Params, value: &T) -> Response {
    json_with(
        StatusCode::OK,
        HeaderMap::new(),
        to_json(value, pretty(ctx, params)),
    )
}

pub fn json_with(status: StatusCode, mut headers: HeaderMap, body: Vec<u8>) -> Response {
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    (status, headers, body).into_response()
}

/// 200 with an empty body (registrations, leave, ...).
pub fn empty() -> Response {
    StatusCode::OK.into_response()
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

/// `X-Consul-Index` (never 0), `X-Consul-KnownLeader`, `X-Consul-LastContact` and
/// `X-Consul-Effective-Consistency`.
pub fn read_headers(index: u64, meta: ReadMeta, consistency: Consistency) -> HeaderMap {
    let mut headers = HeaderMap::new();
    insert(&mut headers, "x-consul-index", index.max(1).to_string());
    insert(
        &mut headers,
        "x-consul-knownleader",
        meta.known_leader.to_string(),
    );
    insert(
        &mut headers,
        "x-consul-lastcontact",
        meta.last_contact_ms.to_string(),
    );
    let effective = match consistency {
        Consistency::Default => "leader",
        Consistency::Consistent => "consistent",
        Consistency::Stale => "stale",
    };
    insert(
        &mut headers,
        "x-consul-effective-consistency",
        effective.to_string(),
    );
    headers
}
