//! Query parameters common to every endpoint: blocking (`index`, `wait`), consistency
//! (`stale`, `consistent`, `leader`), `dc`, `pretty`, `filter`, and the request token
//! (`?token=`, `X-Consul-Token`, `Authorization: Bearer`).

use crate::context::Context;
use crate::error::HttpError;
use axum::http::HeaderMap;
use proconsul_consensus::Consistency;
use std::time::Duration;

/// Parsed query parameters; `raw` keeps every pair in order (repeatable params like `tag`).
#[derive(Debug, Default, Clone)]
pub struct Params {
    pub raw: Vec<(String, String)>,
}

impl Params {
    pub fn new(raw: Vec<(String, String)>) -> Self {
        Params { raw }
    }

    /// Presence is what counts for flags like `?recurse` and `?stale`.
    pub fn has(&self, name: &str) -> bool {
        self.raw.iter().any(|(k, _)| k == name)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.raw
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Query string re-encoded with keys sorted, as Go's `url.Values.Encode` does.
    pub fn encode_sorted(&self) -> String {
        let mut pairs = self.raw.clone();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn encode_component(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// What every read needs to know about how to answer.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub consistency: Consistency,
    pub min_index: u64,
    pub wait: Duration,
}

impl ReadOptions {
    pub fn parse(ctx: &Context, params: &Params) -> Result<ReadOptions, HttpError> {
        check_datacenter(ctx, params)?;
        let stale = params.has("stale");
        let consistent = params.has("consistent");
        if stale && consistent {
            return Err(HttpError::BadRequest(
                "Cannot specify ?stale with ?consistent, conflicting semantics.".into(),
            ));
        }
        let consistency = if stale {
            Consistency::Stale
        } else if consistent {
            Consistency::Consistent
        } else {
            Consistency::Default
        };
        let min_index = match params.get("index") {
            Some(text) => text
                .parse::<u64>()
                .map_err(|_| HttpError::BadRequest("Invalid index".into()))?,
            None => 0,
        };
        let wait = match params.get("wait") {
            Some(text) => proconsul_types::duration::parse(text)
                .map_err(|_| HttpError::BadRequest("Invalid wait time".into()))?,
            None => ctx.config.default_query_time,
        };
        let wait = if wait.is_zero() {
            ctx.config.default_query_time
        } else {
            wait.min(ctx.config.max_query_time)
        };
        Ok(ReadOptions {
            consistency,
            min_index,
            wait,
        })
    }

    /// The wait plus Consul's random jitter of up to wait/16.
    pub fn wait_with_jitter(&self) -> Duration {
        let max_jitter_ms = (self.wait.as_millis() / 16) as u64;
        let jitter = if max_jitter_ms == 0 {
            0
        } else {
            rand::random_range(0..=max_jitter_ms)
        };
        self.wait + Duration::from_millis(jitter)
    }
}

/// `?dc=` naming another datacenter is an error until WAN federation exists.
pub fn check_datacenter(ctx: &Context, params: &Params) -> Result<(), HttpError> {
    match params.get("dc") {
        Some(dc) if !dc.is_empty() && dc != ctx.config.datacenter => {
            Err(HttpError::Internal("No path to datacenter".into()))
        }
        _ => Ok(()),
    }
}

/// The request's ACL token: `?token=`, then `X-Consul-Token`, then `Authorization: Bearer`.
pub fn request_token(params: &Params, headers: &HeaderMap) -> Option<String> {
    if let Some(token) = params.get("token").filter(|t| !t.is_empty()) {
        return Some(token.to_string());
    }
    if let Some(token) = headers
        .get("x-consul-token")
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.is_empty())
    {
        return Some(token.to_string());
    }
    let auth = headers.get("authorization")?.to_str().ok()?;
    let mut parts = auth.split_whitespace();
    let scheme = parts.next()?;
    let token = parts.next()?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.to_string())
}
