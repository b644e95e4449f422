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

/// `default_query_time` and `max_query_time`.
#[derive(Debug, Clone, Copy)]
pub struct WaitLimits {
    pub default: Duration,
    pub max: Duration,
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
        let limits = WaitLimits {
            default: ctx.config.default_query_time,
            max: ctx.config.max_query_time,
        };
        let opts = ReadOptions::from_params(params, limits)?;
        check_datacenter(ctx, params)?;
        Ok(opts)
    }

    /// The pure part of `parse`, in Consul's order: consistency, then `wait`, then `index`
    /// (so `?wait=bad&index=bad` reports the wait). Empty `wait=`/`index=` count as absent,
    /// as Go's `query.Get(..) != ""` checks do.
    pub fn from_params(params: &Params, limits: WaitLimits) -> Result<ReadOptions, HttpError> {
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
        let wait = match params.get("wait").filter(|t| !t.is_empty()) {
            // Go's ParseDuration accepts negative waits; Consul then uses the default wait.
            Some(text) => proconsul_types::duration::parse(text.strip_prefix('-').unwrap_or(text))
                .map(|wait| {
                    if text.starts_with('-') {
                        Duration::ZERO
                    } else {
                        wait
                    }
                })
                .map_err(|_| HttpError::BadRequest("Invalid wait time".into()))?,
            None => limits.default,
        };
        let min_index = match params.get("index").filter(|t| !t.is_empty()) {
            Some(text) => text
                .parse::<u64>()
                .map_err(|_| HttpError::BadRequest("Invalid index".into()))?,
            None => 0,
        };
        let wait = if wait.is_zero() {
            limits.default
        } else {
            wait.min(limits.max)
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

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: WaitLimits = WaitLimits {
        default: Duration::from_secs(300),
        max: Duration::from_secs(600),
    };

    fn params(query: &[(&str, &str)]) -> Params {
        Params::new(
            query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn error(query: &[(&str, &str)]) -> String {
        match ReadOptions::from_params(&params(query), LIMITS) {
            Err(err) => err.to_string(),
            Ok(opts) => panic!("expected an error, got {opts:?}"),
        }
    }

    #[test]
    fn defaults_and_clamping() {
        let opts = ReadOptions::from_params(&params(&[]), LIMITS).expect("parses");
        assert_eq!((opts.min_index, opts.wait), (0, LIMITS.default));
        assert_eq!(opts.consistency, Consistency::Default);
        let opts = ReadOptions::from_params(&params(&[("index", "7"), ("wait", "1h")]), LIMITS)
            .expect("parses");
        assert_eq!((opts.min_index, opts.wait), (7, LIMITS.max));
        let opts = ReadOptions::from_params(&params(&[("wait", "0s")]), LIMITS).expect("parses");
        assert_eq!(opts.wait, LIMITS.default, "a zero wait means the default");
        let opts = ReadOptions::from_params(&params(&[("wait", "-5s")]), LIMITS)
            .expect("Go accepts negative durations");
        assert_eq!(
            opts.wait, LIMITS.default,
            "a negative wait means the default"
        );
        let opts = ReadOptions::from_params(&params(&[("index", ""), ("wait", "")]), LIMITS)
            .expect("empty values are absent");
        assert_eq!((opts.min_index, opts.wait), (0, LIMITS.default));
    }

    #[test]
    fn consistency_flags() {
        let stale = ReadOptions::from_params(&params(&[("stale", "")]), LIMITS).expect("ok");
        assert_eq!(stale.consistency, Consistency::Stale);
        let consistent =
            ReadOptions::from_params(&params(&[("consistent", "1")]), LIMITS).expect("ok");
        assert_eq!(consistent.consistency, Consistency::Consistent);
        assert_eq!(
            error(&[("stale", ""), ("consistent", "")]),
            "Cannot specify ?stale with ?consistent, conflicting semantics."
        );
    }

    #[test]
    fn bad_values_use_consuls_texts_in_consuls_order() {
        assert_eq!(error(&[("index", "abc")]), "Invalid index");
        assert_eq!(error(&[("index", "-1")]), "Invalid index");
        assert_eq!(error(&[("wait", "10")]), "Invalid wait time");
        assert_eq!(error(&[("index", "x"), ("wait", "y")]), "Invalid wait time");
        assert_eq!(
            error(&[("wait", "y"), ("stale", ""), ("consistent", "")]),
            "Cannot specify ?stale with ?consistent, conflicting semantics."
        );
    }

    #[test]
    fn token_sources_in_precedence_order() {
        let mut headers = HeaderMap::new();
        assert_eq!(request_token(&params(&[]), &headers), None);
        headers.insert(
            "authorization",
            "bEaReR  tok-3 extra".parse().expect("header"),
        );
        assert_eq!(
            request_token(&params(&[]), &headers).as_deref(),
            Some("tok-3")
        );
        headers.insert("x-consul-token", "tok-2".parse().expect("header"));
        assert_eq!(
            request_token(&params(&[]), &headers).as_deref(),
            Some("tok-2")
        );
        let query = params(&[("token", "tok-1")]);
        assert_eq!(request_token(&query, &headers).as_deref(), Some("tok-1"));
        let mut basic = HeaderMap::new();
        basic.insert("authorization", "Basic abc".parse().expect("header"));
        assert_eq!(request_token(&params(&[("token", "")]), &basic), None);
    }

    #[test]
    fn encode_sorted_matches_go() {
        let query = params(&[("release", "a b"), ("acquire", "x/y"), ("cas", "")]);
        assert_eq!(query.encode_sorted(), "acquire=x%2Fy&cas=&release=a+b");
    }
}
