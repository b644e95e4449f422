//! HTTP checks: 2xx passing, 429 warning, anything else (or no response) critical.
//! Output is Consul's `HTTP <METHOD> <url>: <code> <reason> Output: <body>`, with the body
//! kept to its last `output_max_size` bytes as Consul's ring buffer does.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::CheckResult;
use crate::error::CheckError;
use crate::output::TailBuffer;
use crate::tls;

/// Consul's `User-Agent` for HTTP checks.
pub const USER_AGENT: &str = "Consul Health Check";
/// Consul's default `Accept` header.
pub const ACCEPT: &str = "text/plain, text/*, */*";

/// Everything needed to run one HTTP check, built once per check.
#[derive(Debug, Clone)]
pub struct HttpProbe {
    client: reqwest::Client,
    method: reqwest::Method,
    url: String,
    headers: HeaderMap,
    body: String,
    output_max_size: usize,
}

/// The subset of [`crate::CheckKind::Http`] the probe needs.
#[derive(Debug, Clone, Default)]
pub struct HttpOptions<'a> {
    pub url: &'a str,
    pub method: &'a str,
    pub headers: Option<&'a BTreeMap<String, Vec<String>>>,
    pub body: &'a str,
    pub tls_skip_verify: bool,
    pub tls_server_name: Option<&'a str>,
    pub disable_redirects: bool,
}

impl HttpProbe {
    pub fn new(
        o: &HttpOptions<'_>,
        timeout: Duration,
        output_max_size: usize,
    ) -> Result<Self, CheckError> {
        let method = if o.method.is_empty() { "GET" } else { o.method };
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| CheckError::Invalid(format!("bad HTTP method {method:?}: {e}")))?;
        let tls = tls::client_config(o.tls_skip_verify, o.tls_server_name, &[b"http/1.1"])?;
        let redirect = if o.disable_redirects {
            reqwest::redirect::Policy::none()
        } else {
            // Go's http.Client default.
            reqwest::redirect::Policy::limited(10)
        };
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(redirect)
            .timeout(timeout)
            // Consul disables keep-alives so a stale pooled connection never fails a check.
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| CheckError::HttpClient(e.to_string()))?;
        Ok(HttpProbe {
            client,
            method,
            url: o.url.to_string(),
            headers: build_headers(o.headers)?,
            body: o.body.to_string(),
            output_max_size,
        })
    }

    pub async fn probe(&self) -> CheckResult {
        let mut req = self
            .client
            .request(self.method.clone(), &self.url)
            .headers(self.headers.clone());
        if !self.body.is_empty() {
            req = req.body(self.body.clone());
        }
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return CheckResult::critical(self.error_text(&e)),
        };
        let status = resp.status();
        let mut body = TailBuffer::new(self.output_max_size);
        // Read errors keep what arrived, as Consul only logs them.
        while let Ok(Some(chunk)) = resp.chunk().await {
            body.write(&chunk);
        }
        let status_text = match status.canonical_reason() {
            Some(reason) => format!("{} {reason}", status.as_u16()),
            None => status.as_u16().to_string(),
        };
        let output = format!(
            "HTTP {} {}: {} Output: {}",
            self.method,
            self.url,
            status_text,
            body.text()
        );
        match status.as_u16() {
            200..=299 => CheckResult::passing(output),
            429 => CheckResult::warning(output),
            _ => CheckResult::critical(output),
        }
    }

    /// Go's `*url.Error` shape: `Get "<url>": <cause>`.
    fn error_text(&self, e: &reqwest::Error) -> String {
        let m = self.method.as_str();
        let op = format!("{}{}", &m[..1], m[1..].to_ascii_lowercase());
        let cause = if e.is_timeout() {
            "context deadline exceeded (Client.Timeout exceeded while awaiting headers)".to_string()
        } else {
            root_causes(e)
        };
        format!("{op} {:?}: {cause}", self.url)
    }
}

/// The error's source chain below reqwest's own "error sending request" wrapper.
fn root_causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}

/// Consul's header handling: definition headers as given, plus `User-Agent` and `Accept`
/// defaults when the definition does not set them. A `Host` header overrides the host.
fn build_headers(h: Option<&BTreeMap<String, Vec<String>>>) -> Result<HeaderMap, CheckError> {
    let mut map = HeaderMap::new();
    for (name, values) in h.into_iter().flatten() {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| CheckError::Invalid(format!("bad header name {name:?}: {e}")))?;
        for v in values {
            let v = HeaderValue::from_str(v)
                .map_err(|e| CheckError::Invalid(format!("bad header value {v:?}: {e}")))?;
            map.append(name.clone(), v);
        }
    }
    if !map.contains_key(reqwest::header::USER_AGENT) {
        map.insert(
            reqwest::header::USER_AGENT,
            HeaderValue::from_static(USER_AGENT),
        );
    }
    if !map.contains_key(reqwest::header::ACCEPT) {
        map.insert(reqwest::header::ACCEPT, HeaderValue::from_static(ACCEPT));
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_headers_are_added_unless_given() {
        let m = build_headers(None).expect("headers");
        assert_eq!(m["user-agent"], USER_AGENT);
        assert_eq!(m["accept"], ACCEPT);
        let mut given = BTreeMap::new();
        given.insert("User-Agent".to_string(), vec!["me".to_string()]);
        given.insert("X-A".to_string(), vec!["1".to_string(), "2".to_string()]);
        let m = build_headers(Some(&given)).expect("headers");
        assert_eq!(m["user-agent"], "me");
        assert_eq!(m.get_all("x-a").iter().count(), 2);
    }

    #[test]
    fn bad_header_is_invalid() {
        let mut given = BTreeMap::new();
        given.insert("bad name".to_string(), vec!["x".to_string()]);
        assert!(matches!(
            build_headers(Some(&given)),
            Err(CheckError::Invalid(_))
        ));
    }
}
