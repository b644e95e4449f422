//! The HTTP transport: request building, headers, query parameters, response metadata.

use std::time::Duration;

use base64::Engine as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;

use crate::config::{Config, Scheme};
use crate::{Error, Result};

/// Characters left alone in query values: RFC 3986 unreserved.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Read options shared by every blocking-capable endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryOptions {
    /// `?dc=`; falls back to the client's configured datacenter.
    pub datacenter: Option<String>,
    /// `?stale`: any server may answer.
    pub stale: bool,
    /// `?consistent`: the leader re-confirms leadership first.
    pub consistent: bool,
    /// `?index=` for a blocking query.
    pub index: Option<u64>,
    /// `?wait=` bound for a blocking query.
    pub wait: Option<Duration>,
    /// Per-request token overriding the client's.
    pub token: Option<String>,
    /// `?near=`: sort by estimated round-trip time from this node (`_agent` = the agent).
    pub near: Option<String>,
    /// `?node-meta=key:value`, one parameter per pair.
    pub node_meta: Vec<(String, String)>,
    /// `?filter=`: a go-bexpr expression.
    pub filter: Option<String>,
}

/// Metadata headers of a read response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryMeta {
    /// `X-Consul-Index`.
    pub last_index: u64,
    /// `X-Consul-KnownLeader`.
    pub known_leader: bool,
    /// `X-Consul-LastContact`, milliseconds.
    pub last_contact_ms: u64,
}

/// A response whose status the caller interprets.
pub(crate) struct RawResponse {
    pub status: u16,
    pub meta: QueryMeta,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// Go's `requireOK`: anything but 2xx becomes [`Error::Api`] with the trimmed body.
    pub fn require_ok(self) -> Result<RawResponse> {
        if (200..300).contains(&self.status) {
            Ok(self)
        } else {
            Err(self.into_error())
        }
    }

    pub fn into_error(self) -> Error {
        Error::Api {
            status: self.status,
            body: String::from_utf8_lossy(&self.body).trim().to_string(),
        }
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Decode(e.to_string()))
    }
}

/// One request: method, already-encoded path, query parameters, optional body.
pub(crate) struct Request {
    pub method: Method,
    pub path: String,
    pub params: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
    pub token: Option<String>,
}

impl Request {
    pub fn new(method: Method, path: impl Into<String>) -> Request {
        Request {
            method,
            path: path.into(),
            params: Vec::new(),
            body: None,
            token: None,
        }
    }

    pub fn param(mut self, name: &'static str, value: impl Into<String>) -> Request {
        self.params.push((name, value.into()));
        self
    }

    pub fn flag(self, name: &'static str, on: bool) -> Request {
        if on { self.param(name, "") } else { self }
    }

    /// Adds the read options (`dc` is added by the client if absent here).
    pub fn query(mut self, q: &QueryOptions) -> Request {
        if let Some(dc) = &q.datacenter {
            self = self.param("dc", dc.clone());
        }
        self = self.flag("stale", q.stale).flag("consistent", q.consistent);
        if let Some(index) = q.index {
            self = self.param("index", index.to_string());
        }
        if let Some(wait) = q.wait {
            self = self.param("wait", format!("{}ms", wait.as_millis()));
        }
        if let Some(near) = q.near.as_ref().filter(|n| !n.is_empty()) {
            self = self.param("near", near.clone());
        }
        for (key, value) in &q.node_meta {
            self = self.param("node-meta", format!("{key}:{value}"));
        }
        if let Some(filter) = q.filter.as_ref().filter(|f| !f.is_empty()) {
            self = self.param("filter", filter.clone());
        }
        self.token = q.token.clone();
        self
    }
}

/// Async client for the agent's HTTP API. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    authorization: Option<String>,
    datacenter: Option<String>,
}

impl Client {
    /// Builds a client; fails on unsupported schemes or an unreadable token file.
    pub fn new(config: &Config) -> Result<Client> {
        let (scheme, host) = config.endpoint()?;
        if scheme == Scheme::Https {
            return Err(Error::Config(
                "HTTPS agent addresses are not supported yet by this client".to_string(),
            ));
        }
        // reqwest is built with `rustls-no-provider` (the workspace uses ring, not aws-lc), and
        // it panics at client construction unless a process-wide provider is installed. An
        // error here means one already is, which is what we want.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let token = config.resolve_token()?;
        let authorization = config.http_auth.as_ref().map(|auth| {
            let creds = format!(
                "{}:{}",
                auth.username,
                auth.password.as_deref().unwrap_or("")
            );
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(creds)
            )
        });
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| Error::Config(format!("building HTTP client: {e}")))?;
        Ok(Client {
            http,
            base: format!("http://{host}"),
            token,
            authorization,
            datacenter: config.datacenter.clone().filter(|d| !d.is_empty()),
        })
    }

    /// `http://host:port`, for messages.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, req: &Request) -> String {
        let mut url = format!("{}{}", self.base, req.path);
        let mut params: Vec<(&str, &str)> =
            req.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(dc) = &self.datacenter
            && !params.iter().any(|(k, _)| *k == "dc")
        {
            params.insert(0, ("dc", dc));
        }
        for (i, (name, value)) in params.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(name);
            if !value.is_empty() {
                url.push('=');
                url.extend(utf8_percent_encode(value, QUERY_VALUE));
            }
        }
        url
    }

    /// Sends the request and collects status, index headers and body.
    pub(crate) async fn send(&self, req: Request) -> Result<RawResponse> {
        let url = self.url(&req);
        let method = req.method.as_str().to_string();
        let mut builder = self.http.request(req.method.clone(), &url);
        if let Some(token) = req.token.as_ref().or(self.token.as_ref()) {
            builder = builder.header("X-Consul-Token", token);
        }
        if let Some(auth) = &self.authorization {
            builder = builder.header("Authorization", auth);
        }
        if let Some(body) = req.body {
            builder = builder.body(body);
        }
        let resp = builder
            .send()
            .await
            .map_err(|e| Error::transport(&method, &url, &e))?;
        let status = resp.status().as_u16();
        let meta = query_meta(resp.headers());
        let body = resp
            .bytes()
            .await
            .map_err(|e| Error::transport(&method, &url, &e))?;
        Ok(RawResponse {
            status,
            meta,
            body: body.to_vec(),
        })
    }

    /// `GET /v1/agent/self`.
    pub async fn agent_self(&self) -> Result<serde_json::Value> {
        self.send(Request::new(Method::GET, "/v1/agent/self"))
            .await?
            .require_ok()?
            .json()
    }

    /// `GET /v1/status/leader`: the leader's `ip:port`, or `""` without a leader.
    pub async fn status_leader(&self) -> Result<String> {
        self.send(Request::new(Method::GET, "/v1/status/leader"))
            .await?
            .require_ok()?
            .json()
    }
}

fn query_meta(headers: &reqwest::header::HeaderMap) -> QueryMeta {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    QueryMeta {
        last_index: get("X-Consul-Index")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        known_leader: get("X-Consul-KnownLeader") == Some("true"),
        last_contact_ms: get("X-Consul-LastContact")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(dc: Option<&str>) -> Client {
        let config = Config {
            datacenter: dc.map(str::to_string),
            ..Config::default()
        };
        match Client::new(&config) {
            Ok(c) => c,
            Err(e) => panic!("client: {e}"),
        }
    }

    #[test]
    fn builds_query_strings() {
        let q = QueryOptions {
            stale: true,
            index: Some(7),
            wait: Some(Duration::from_secs(2)),
            ..QueryOptions::default()
        };
        let req = Request::new(Method::GET, "/v1/kv/a")
            .flag("recurse", true)
            .query(&q);
        assert_eq!(
            client(None).url(&req),
            "http://127.0.0.1:8500/v1/kv/a?recurse&stale&index=7&wait=2000ms"
        );
    }

    #[test]
    fn catalog_query_parameters() {
        let q = QueryOptions {
            near: Some("_agent".into()),
            node_meta: vec![("env".into(), "prod".into()), ("rack".into(), "a 1".into())],
            filter: Some("Meta.env == prod".into()),
            ..QueryOptions::default()
        };
        let req = Request::new(Method::GET, "/v1/catalog/nodes").query(&q);
        assert_eq!(
            client(None).url(&req),
            "http://127.0.0.1:8500/v1/catalog/nodes?near=_agent&node-meta=env%3Aprod\
             &node-meta=rack%3Aa%201&filter=Meta.env%20%3D%3D%20prod"
        );
    }

    #[test]
    fn client_datacenter_unless_overridden() {
        let req = Request::new(Method::GET, "/v1/kv/a");
        assert_eq!(
            client(Some("dc2")).url(&req),
            "http://127.0.0.1:8500/v1/kv/a?dc=dc2"
        );
        let req = Request::new(Method::GET, "/v1/kv/a").param("dc", "d c&");
        assert_eq!(
            client(Some("dc2")).url(&req),
            "http://127.0.0.1:8500/v1/kv/a?dc=d%20c%26"
        );
    }

    #[test]
    fn https_is_refused_for_now() {
        let config = Config {
            address: "https://x:1".into(),
            ..Config::default()
        };
        assert!(matches!(Client::new(&config), Err(Error::Config(_))));
    }

    #[test]
    fn reads_meta_headers() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(
            "X-Consul-Index",
            reqwest::header::HeaderValue::from_static("42"),
        );
        h.insert(
            "X-Consul-KnownLeader",
            reqwest::header::HeaderValue::from_static("true"),
        );
        h.insert(
            "X-Consul-LastContact",
            reqwest::header::HeaderValue::from_static("5"),
        );
        let m = query_meta(&h);
        assert_eq!(
            m,
            QueryMeta {
                last_index: 42,
                known_leader: true,
                last_contact_ms: 5
            }
        );
    }
}
