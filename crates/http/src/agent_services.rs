//! `/v1/agent/service*`, `/v1/agent/services`, `/v1/agent/health/service/*`,
//! `/v1/agent/maintenance` and `/v1/agent/reload`: the agent's local services.

use crate::body::{percent_decode, read_json};
use crate::context::SharedContext;
use crate::discovery::filter;
use crate::error::HttpError;
use crate::local_agent::LocalError;
use crate::query::{Params, WaitLimits, request_token};
use crate::response::{empty, json, json_with, pretty, to_json};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use proconsul_types::agent::ServiceDefinition;
use proconsul_types::catalog::{
    CheckStatus, ConnectProxyConfig, HealthCheck, NodeService, Weights, aggregate_status,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::hash::Hasher;

/// Definitions are small; this bound only stops abuse.
pub(crate) const MAX_DEFINITION_BODY: usize = 1024 * 1024;

impl From<LocalError> for HttpError {
    fn from(err: LocalError) -> Self {
        match err {
            LocalError::BadRequest(m) => HttpError::BadRequest(m),
            LocalError::NotFound(m) => HttpError::NotFound(m),
            LocalError::Internal(m) => HttpError::Internal(m),
        }
    }
}

/// `api.ServiceAddress`: the agent endpoints spell its fields in PascalCase.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AgentServiceAddress<'a> {
    address: &'a str,
    port: u16,
}

/// `api.AgentService`, as `/v1/agent/services` and `/v1/agent/service/:id` render it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AgentService<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    kind: &'a str,
    #[serde(rename = "ID")]
    id: &'a str,
    service: &'a str,
    tags: &'a [String],
    meta: BTreeMap<&'a str, &'a str>,
    port: u16,
    address: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    tagged_addresses: BTreeMap<&'a str, AgentServiceAddress<'a>>,
    weights: Weights,
    enable_tag_override: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    content_hash: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    proxy: Option<&'a ConnectProxyConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    connect: Option<serde_json::Value>,
    datacenter: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    locality: Option<&'a serde_json::Value>,
}

fn agent_service<'a>(service: &'a NodeService, datacenter: &'a str) -> AgentService<'a> {
    let weights = match service.weights {
        Some(w) if w.passing > 0 => w,
        Some(w) => Weights {
            passing: 1,
            warning: w.warning,
        },
        None => Weights::default(),
    };
    let meta = service
        .meta
        .iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let tagged_addresses = service
        .tagged_addresses
        .iter()
        .map(|(k, a)| {
            let address = AgentServiceAddress {
                address: &a.address,
                port: a.port,
            };
            (k.as_str(), address)
        })
        .collect();
    let is_proxy = service.kind == "connect-proxy" || service.kind.ends_with("-gateway");
    AgentService {
        kind: &service.kind,
        id: &service.id,
        service: &service.service,
        tags: &service.tags,
        meta,
        port: service.port,
        address: &service.address,
        tagged_addresses,
        weights,
        enable_tag_override: service.enable_tag_override,
        content_hash: "",
        proxy: is_proxy.then_some(&service.proxy),
        connect: service
            .connect
            .native
            .then(|| serde_json::json!({"Native": true})),
        datacenter,
        locality: service.locality.as_ref(),
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn token(params: &Params, headers: &HeaderMap) -> String {
    request_token(params, headers).unwrap_or_default()
}

pub async fn register(
    State(ctx): State<SharedContext>,
    Query(raw): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    let mut def: ServiceDefinition =
        read_json(&headers, body, MAX_DEFINITION_BODY, "agent").await?;
    def.normalize();
    if def.name.is_empty() {
        return Err(HttpError::BadRequest("Missing service name".into()));
    }
    if matches!(def.address.as_str(), "0.0.0.0" | "::" | "[::]") {
        return Err(HttpError::BadRequest("Invalid service address".into()));
    }
    def.validate_weights()
        .map_err(|e| HttpError::BadRequest(format!("Invalid Weights: {e}")))?;
    def.validate_meta()
        .map_err(|e| HttpError::BadRequest(format!("Invalid Service Meta: {e}")))?;
    let checks = def
        .check_definitions()
        .map_err(|e| HttpError::BadRequest(format!("Invalid check: {e}")))?;
    if checks.iter().any(|c| !c.has_valid_status()) {
        return Err(HttpError::BadRequest(
            "Status for checks must 'passing', 'warning', 'critical'".into(),
        ));
    }
    let replace = params
        .get("replace-existing-checks")
        .is_some_and(|v| v.is_empty() || v == "true");
    let token = token(&params, &headers);
    ctx.local.register_service(def, checks, replace, &token)?;
    ctx.local.sync_changes().await;
    Ok(empty())
}

pub async fn deregister(
    State(ctx): State<SharedContext>,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    let id = percent_decode(&id)?;
    ctx.local.deregister_service(&id)?;
    ctx.local.sync_changes().await;
    Ok(empty())
}

pub async fn services(
    State(ctx): State<SharedContext>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    let filter = filter(&params)?;
    let services = ctx.local.services();
    let dc = ctx.config.datacenter.as_str();
    let mut out = serde_json::Map::new();
    for service in &services {
        let value = serde_json::to_value(agent_service(service, dc))
            .map_err(|e| HttpError::Internal(e.to_string()))?;
        if let Some(f) = &filter
            && !f
                .matches(&value)
                .map_err(|e| HttpError::BadRequest(e.to_string()))?
        {
            continue;
        }
        out.insert(service.id.clone(), value);
    }
    Ok(json(&ctx, &params, &out))
}

/// A stable 64-bit content hash (FNV-1a over the rendering), as hex: opaque to clients,
/// who only compare it with the `?hash=` they send back.
fn content_hash(bytes: &[u8]) -> String {
    struct Fnv(u64);
    impl Hasher for Fnv {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for b in bytes {
                self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
            }
        }
    }
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    h.write(bytes);
    format!("{:x}", h.finish())
}

/// `GET /v1/agent/service/:id`, with hash-based blocking (`?hash=` and `?wait=`).
pub async fn service(
    State(ctx): State<SharedContext>,
    Path(id): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    let id = percent_decode(&id)?;
    let limits = WaitLimits {
        default: ctx.config.default_query_time,
        max: ctx.config.max_query_time,
    };
    let opts = crate::query::ReadOptions::from_params(&params, limits)?;
    let wanted = params.get("hash").unwrap_or("").to_string();
    let deadline = tokio::time::Instant::now() + opts.wait_with_jitter();
    let mut changes = ctx.local.changes();
    loop {
        changes.borrow_and_update();
        let Some(service) = ctx.local.service(&id) else {
            return Err(HttpError::NotFound(format!("unknown service ID: {id}")));
        };
        let dc = ctx.config.datacenter.as_str();
        let mut rendered = agent_service(&service, dc);
        let hash = content_hash(&to_json(&rendered, false));
        let waiting = !wanted.is_empty() && wanted == hash;
        if !waiting || tokio::time::Instant::now() >= deadline {
            rendered.content_hash = &hash;
            let mut headers = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(&hash) {
                headers.insert("x-consul-contenthash", value);
            }
            let body = to_json(&rendered, pretty(&ctx, &params));
            return Ok(json_with(StatusCode::OK, headers, body));
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return Err(HttpError::Internal("agent is shutting down".into())) },
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}

/// Consul's `AggregatedStatus`: maintenance checks win, then the worst status.
fn aggregated(checks: &[HealthCheck]) -> &'static str {
    let maintenance = checks.iter().any(|c| {
        c.check_id == "_node_maintenance" || c.check_id.starts_with("_service_maintenance:")
    });
    if maintenance {
        return "maintenance";
    }
    aggregate_status(checks).as_str()
}

/// 200 passing, 429 warning, 503 anything worse (Consul's mapping).
fn health_code(status: &str) -> StatusCode {
    match status {
        "passing" => StatusCode::OK,
        "warning" => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// `?format=text` or an `Accept: text/plain` header asks for the bare status.
fn wants_text(params: &Params, headers: &HeaderMap) -> bool {
    let accept_text = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if accept_text {
        return true;
    }
    params.get("format").is_some_and(|f| f == "text")
}

fn text_reply(code: StatusCode, text: &str) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "text/plain")],
        text.to_string(),
    )
        .into_response()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ServiceChecksInfo<'a> {
    aggregated_status: &'a str,
    service: Option<AgentService<'a>>,
    checks: Option<Vec<HealthCheck>>,
}

pub async fn health_by_id(
    State(ctx): State<SharedContext>,
    Path(id): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    let id = percent_decode(&id)?;
    let text = wants_text(&params, &headers);
    let Some(service) = ctx.local.service(&id) else {
        let reason = format!("ServiceId {id} not found");
        if text {
            return Ok(text_reply(StatusCode::NOT_FOUND, &reason));
        }
        let info = ServiceChecksInfo {
            aggregated_status: CheckStatus::Critical.as_str(),
            service: None,
            checks: None,
        };
        let body = to_json(&info, pretty(&ctx, &params));
        return Ok(json_with(StatusCode::NOT_FOUND, HeaderMap::new(), body));
    };
    let checks = ctx.local.service_health_checks(&id);
    let status = aggregated(&checks);
    let code = health_code(status);
    if text {
        return Ok(text_reply(code, status));
    }
    let info = ServiceChecksInfo {
        aggregated_status: status,
        service: Some(agent_service(&service, &ctx.config.datacenter)),
        checks: Some(checks),
    };
    let body = to_json(&info, pretty(&ctx, &params));
    Ok(json_with(code, HeaderMap::new(), body))
}

pub async fn health_by_name(
    State(ctx): State<SharedContext>,
    Path(name): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    let name = percent_decode(&name)?;
    let services: Vec<NodeService> = ctx
        .local
        .services()
        .into_iter()
        .filter(|s| s.service == name)
        .collect();
    let mut code = StatusCode::NOT_FOUND;
    let mut status = format!("ServiceName {name} Not Found");
    let mut infos = Vec::new();
    for service in &services {
        let checks = ctx.local.service_health_checks(&service.id);
        let this = aggregated(&checks);
        let this_code = health_code(this);
        if code == StatusCode::NOT_FOUND || this_code.as_u16() > code.as_u16() {
            code = this_code;
            status = this.to_string();
        }
        infos.push((this, service, checks));
    }
    if wants_text(&params, &headers) {
        return Ok(text_reply(code, &status));
    }
    let body: Vec<ServiceChecksInfo> = infos
        .into_iter()
        .map(|(s, service, checks)| ServiceChecksInfo {
            aggregated_status: s,
            service: Some(agent_service(service, &ctx.config.datacenter)),
            checks: Some(checks),
        })
        .collect();
    Ok(json_with(
        code,
        HeaderMap::new(),
        to_json(&body, pretty(&ctx, &params)),
    ))
}

/// `?enable=` is required and parsed as Go's `strconv.ParseBool`.
fn enable_param(params: &Params) -> Result<bool, HttpError> {
    let Some(raw) = params.get("enable") else {
        return Err(HttpError::BadRequest("Missing value for enable".into()));
    };
    parse_bool(raw)
        .ok_or_else(|| HttpError::BadRequest(format!("Invalid value for enable: {raw:?}")))
}

pub async fn service_maintenance(
    State(ctx): State<SharedContext>,
    Path(id): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    let id = percent_decode(&id)?;
    if id.is_empty() {
        return Err(HttpError::BadRequest("Missing service ID".into()));
    }
    let enable = enable_param(&params)?;
    let reason = params.get("reason").unwrap_or("");
    ctx.local
        .service_maintenance(&id, enable, reason, &token(&params, &headers))?;
    ctx.local.sync_changes().await;
    Ok(empty())
}

pub async fn node_maintenance(
    State(ctx): State<SharedContext>,
    Query(raw): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    let enable = enable_param(&params)?;
    let reason = params.get("reason").unwrap_or("");
    ctx.local
        .node_maintenance(enable, reason, &token(&params, &headers));
    ctx.local.sync_changes().await;
    Ok(empty())
}

pub async fn reload(State(ctx): State<SharedContext>) -> Result<Response, HttpError> {
    ctx.local.reload()?;
    ctx.local.sync_changes().await;
    Ok(empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_hash_is_stable_and_sensitive() {
        assert_eq!(content_hash(b"abc"), content_hash(b"abc"));
        assert_ne!(content_hash(b"abc"), content_hash(b"abd"));
    }

    #[test]
    fn maintenance_wins_the_aggregate() {
        let check = |id: &str, status| HealthCheck {
            check_id: id.into(),
            status,
            ..HealthCheck::default()
        };
        assert_eq!(aggregated(&[check("a", CheckStatus::Passing)]), "passing");
        assert_eq!(
            aggregated(&[
                check("a", CheckStatus::Passing),
                check("b", CheckStatus::Warning)
            ]),
            "warning"
        );
        assert_eq!(
            aggregated(&[
                check("a", CheckStatus::Passing),
                check("_service_maintenance:web", CheckStatus::Critical)
            ]),
            "maintenance"
        );
    }
}
