//! The route table: every endpoint with its methods and the ACL permission it needs, in one
//! place, so enforcing ACLs is one middleware over this table.

use crate::context::SharedContext;
use crate::error::HttpError;
use crate::{agent, agent_checks, agent_services, catalog, health, kv, session, txn};
use axum::Router;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};

/// The permission a request needs. The resource (key, node, session) comes from the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acl {
    /// No ACL check (status endpoints).
    None,
    /// `key:read` on the key (or the prefix with `recurse`/`keys`: `key:list`).
    KeyRead,
    /// `key:write` on the key (recursive deletes: on every key under the prefix).
    KeyWrite,
    /// Each operation of a transaction is checked like its single endpoint.
    TxnOps,
    /// `session:read` on the session's node.
    SessionRead,
    /// `session:write` on the node.
    SessionWrite,
    /// `agent:read` on this agent's node.
    AgentRead,
    /// `agent:write` on this agent's node.
    AgentWrite,
    /// `node:read` for member listings (filtered per member).
    NodeRead,
    /// `service:read` on the path's service (or per listed service), results filtered by
    /// `node:read` on each instance's node.
    ServiceRead,
    /// `node:read` on the path's node (or per listed node), services and service checks
    /// filtered by `service:read`.
    NodeServiceRead,
    /// `node:write` on the body's node, `service:write` on its service (catalog writes).
    CatalogWrite,
    /// `service:write` on the service the path or body names (agent service and check
    /// endpoints; node-level checks need `node:write` on this agent's node).
    ServiceWrite,
    /// `node:write` on this agent's node (node maintenance).
    NodeWrite,
}

#[derive(Debug, Clone, Copy)]
pub enum Endpoint {
    KvGet,
    KvRedirect,
    KvPut,
    KvDelete,
    Txn,
    SessionCreate,
    SessionDestroy,
    SessionRenew,
    SessionInfo,
    SessionNode,
    SessionList,
    StatusLeader,
    StatusPeers,
    AgentSelf,
    AgentMembers,
    AgentLeave,
    AgentServices,
    AgentService,
    AgentServiceRegister,
    AgentServiceDeregister,
    AgentServiceMaintenance,
    AgentNodeMaintenance,
    AgentHealthByName,
    AgentHealthById,
    AgentChecks,
    AgentCheckRegister,
    AgentCheckDeregister,
    AgentCheckPass,
    AgentCheckWarn,
    AgentCheckFail,
    AgentCheckUpdate,
    AgentReload,
    CatalogDatacenters,
    CatalogRegister,
    CatalogDeregister,
    CatalogNodes,
    CatalogServices,
    CatalogService,
    CatalogConnect,
    HealthConnect,
    CatalogNode,
    CatalogNodeServices,
    HealthNode,
    HealthChecks,
    HealthService,
    HealthState,
}

pub struct Route {
    pub path: &'static str,
    pub method: Method,
    pub endpoint: Endpoint,
    pub acl: Acl,
}

macro_rules! routes {
    ($($method:ident $path:literal => $endpoint:ident, $acl:ident;)*) => {
        /// Every route the HTTP API serves.
        pub fn table() -> Vec<Route> {
            vec![$(Route { path: $path, method: Method::$method, endpoint: Endpoint::$endpoint, acl: Acl::$acl }),*]
        }
    };
}

routes! {
    GET "/v1/kv" => KvRedirect, None;
    PUT "/v1/kv" => KvRedirect, None;
    DELETE "/v1/kv" => KvRedirect, None;
    GET "/v1/kv/" => KvGet, KeyRead;
    PUT "/v1/kv/" => KvPut, KeyWrite;
    DELETE "/v1/kv/" => KvDelete, KeyWrite;
    GET "/v1/kv/{*key}" => KvGet, KeyRead;
    PUT "/v1/kv/{*key}" => KvPut, KeyWrite;
    DELETE "/v1/kv/{*key}" => KvDelete, KeyWrite;
    PUT "/v1/txn" => Txn, TxnOps;
    PUT "/v1/session/create" => SessionCreate, SessionWrite;
    PUT "/v1/session/destroy/{id}" => SessionDestroy, SessionWrite;
    PUT "/v1/session/renew/{id}" => SessionRenew, SessionWrite;
    GET "/v1/session/info/{id}" => SessionInfo, SessionRead;
    GET "/v1/session/node/{node}" => SessionNode, SessionRead;
    GET "/v1/session/list" => SessionList, SessionRead;
    GET "/v1/status/leader" => StatusLeader, None;
    GET "/v1/status/peers" => StatusPeers, None;
    GET "/v1/agent/self" => AgentSelf, AgentRead;
    GET "/v1/agent/members" => AgentMembers, NodeRead;
    PUT "/v1/agent/leave" => AgentLeave, AgentWrite;
    PUT "/v1/agent/reload" => AgentReload, AgentWrite;
    GET "/v1/agent/services" => AgentServices, ServiceRead;
    GET "/v1/agent/service/{id}" => AgentService, ServiceRead;
    PUT "/v1/agent/service/register" => AgentServiceRegister, ServiceWrite;
    PUT "/v1/agent/service/deregister/{id}" => AgentServiceDeregister, ServiceWrite;
    PUT "/v1/agent/service/maintenance/{id}" => AgentServiceMaintenance, ServiceWrite;
    PUT "/v1/agent/maintenance" => AgentNodeMaintenance, NodeWrite;
    GET "/v1/agent/health/service/name/{name}" => AgentHealthByName, ServiceRead;
    GET "/v1/agent/health/service/id/{id}" => AgentHealthById, ServiceRead;
    GET "/v1/agent/checks" => AgentChecks, NodeServiceRead;
    PUT "/v1/agent/check/register" => AgentCheckRegister, ServiceWrite;
    PUT "/v1/agent/check/deregister/{id}" => AgentCheckDeregister, ServiceWrite;
    PUT "/v1/agent/check/pass/{id}" => AgentCheckPass, ServiceWrite;
    PUT "/v1/agent/check/warn/{id}" => AgentCheckWarn, ServiceWrite;
    PUT "/v1/agent/check/fail/{id}" => AgentCheckFail, ServiceWrite;
    PUT "/v1/agent/check/update/{id}" => AgentCheckUpdate, ServiceWrite;
    GET "/v1/catalog/datacenters" => CatalogDatacenters, None;
    PUT "/v1/catalog/register" => CatalogRegister, CatalogWrite;
    PUT "/v1/catalog/deregister" => CatalogDeregister, CatalogWrite;
    GET "/v1/catalog/nodes" => CatalogNodes, NodeRead;
    GET "/v1/catalog/services" => CatalogServices, ServiceRead;
    GET "/v1/catalog/service/{service}" => CatalogService, ServiceRead;
    GET "/v1/catalog/connect/{service}" => CatalogConnect, ServiceRead;
    GET "/v1/health/connect/{service}" => HealthConnect, ServiceRead;
    GET "/v1/catalog/node/{node}" => CatalogNode, NodeServiceRead;
    GET "/v1/catalog/node-services/{node}" => CatalogNodeServices, NodeServiceRead;
    GET "/v1/health/node/{node}" => HealthNode, NodeServiceRead;
    GET "/v1/health/checks/{service}" => HealthChecks, ServiceRead;
    GET "/v1/health/service/{service}" => HealthService, ServiceRead;
    GET "/v1/health/state/{state}" => HealthState, NodeServiceRead;
}

fn handler(endpoint: Endpoint, filter: MethodFilter) -> MethodRouter<SharedContext> {
    match endpoint {
        Endpoint::KvGet => on(filter, kv::get),
        Endpoint::KvRedirect => on(filter, kv_redirect),
        Endpoint::KvPut => on(filter, kv::put),
        Endpoint::KvDelete => on(filter, kv::delete),
        Endpoint::Txn => on(filter, txn::txn),
        Endpoint::SessionCreate => on(filter, session::create),
        Endpoint::SessionDestroy => on(filter, session::destroy),
        Endpoint::SessionRenew => on(filter, session::renew),
        Endpoint::SessionInfo => on(filter, session::info),
        Endpoint::SessionNode => on(filter, session::node),
        Endpoint::SessionList => on(filter, session::list),
        Endpoint::StatusLeader => on(filter, agent::status_leader),
        Endpoint::StatusPeers => on(filter, agent::status_peers),
        Endpoint::AgentSelf => on(filter, agent::agent_self),
        Endpoint::AgentMembers => on(filter, agent::members),
        Endpoint::AgentLeave => on(filter, agent::leave),
        Endpoint::AgentReload => on(filter, agent_services::reload),
        Endpoint::AgentServices => on(filter, agent_services::services),
        Endpoint::AgentService => on(filter, agent_services::service),
        Endpoint::AgentServiceRegister => on(filter, agent_services::register),
        Endpoint::AgentServiceDeregister => on(filter, agent_services::deregister),
        Endpoint::AgentServiceMaintenance => on(filter, agent_services::service_maintenance),
        Endpoint::AgentNodeMaintenance => on(filter, agent_services::node_maintenance),
        Endpoint::AgentHealthByName => on(filter, agent_services::health_by_name),
        Endpoint::AgentHealthById => on(filter, agent_services::health_by_id),
        Endpoint::AgentChecks => on(filter, agent_checks::checks),
        Endpoint::AgentCheckRegister => on(filter, agent_checks::register),
        Endpoint::AgentCheckDeregister => on(filter, agent_checks::deregister),
        Endpoint::AgentCheckPass => on(filter, agent_checks::pass),
        Endpoint::AgentCheckWarn => on(filter, agent_checks::warn),
        Endpoint::AgentCheckFail => on(filter, agent_checks::fail),
        Endpoint::AgentCheckUpdate => on(filter, agent_checks::update),
        Endpoint::CatalogDatacenters => on(filter, agent::datacenters),
        Endpoint::CatalogRegister => on(filter, catalog::register),
        Endpoint::CatalogDeregister => on(filter, catalog::deregister),
        Endpoint::CatalogNodes => on(filter, catalog::nodes),
        Endpoint::CatalogServices => on(filter, catalog::services),
        Endpoint::CatalogService => on(filter, catalog::service),
        Endpoint::CatalogConnect => on(filter, catalog::connect),
        Endpoint::HealthConnect => on(filter, health::connect),
        Endpoint::CatalogNode => on(filter, catalog::node),
        Endpoint::CatalogNodeServices => on(filter, catalog::node_services),
        Endpoint::HealthNode => on(filter, health::node),
        Endpoint::HealthChecks => on(filter, health::checks),
        Endpoint::HealthService => on(filter, health::service),
        Endpoint::HealthState => on(filter, health::state),
    }
}

fn method_filter(method: &Method) -> MethodFilter {
    match *method {
        Method::PUT => MethodFilter::PUT,
        Method::DELETE => MethodFilter::DELETE,
        Method::POST => MethodFilter::POST,
        _ => MethodFilter::GET,
    }
}

/// Answers OPTIONS with the `Allow` list, and other methods with Consul's 405.
fn with_fallback(
    router: MethodRouter<SharedContext>,
    allowed: Vec<Method>,
) -> MethodRouter<SharedContext> {
    let allow = std::iter::once("OPTIONS".to_string())
        .chain(allowed.iter().map(|m| m.to_string()))
        .collect::<Vec<_>>()
        .join(",");
    // axum answers HEAD with the GET handler; Consul lists HEAD nowhere, so it is a 405.
    let head_allow = allow.clone();
    let router = router.on(MethodFilter::HEAD, move || async move {
        HttpError::MethodNotAllowed {
            method: "HEAD".into(),
            allow: head_allow,
        }
        .into_response()
    });
    router.fallback(move |method: Method| async move {
        if method == Method::OPTIONS {
            (StatusCode::OK, [(header::ALLOW, allow)]).into_response()
        } else {
            HttpError::MethodNotAllowed {
                method: method.to_string(),
                allow,
            }
            .into_response()
        }
    })
}

/// Consul registers `/v1/kv/` only, so Go's mux answers `/v1/kv` with a redirect to it
/// (query kept), whatever the method.
async fn kv_redirect(uri: axum::http::Uri) -> Response {
    let location = match uri.query() {
        Some(q) => format!("/v1/kv/?{q}"),
        None => "/v1/kv/".to_string(),
    };
    let body = format!("<a href=\"{location}\">Moved Permanently</a>.\n\n");
    (
        StatusCode::MOVED_PERMANENTLY,
        [
            (header::LOCATION, location),
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
        ],
        body,
    )
        .into_response()
}

async fn unknown_path(uri: axum::http::Uri) -> Response {
    // Consul prints the two 404 texts with `Fprintln` (trailing newline) and tests for
    // "/v1/" anywhere in the path.
    let body = if uri.path() == "/" {
        "Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent configuration and restart."
    } else if uri.path().contains("/v1/") {
        "Invalid URL path: not a recognized HTTP API endpoint\n"
    } else {
        "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'\n"
    };
    let status = if uri.path() == "/" {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

pub fn router(ctx: SharedContext) -> Router {
    let table = table();
    let mut paths: Vec<&'static str> = table.iter().map(|r| r.path).collect();
    paths.dedup();
    let mut app = Router::new();
    for path in paths {
        let mut method_router: Option<MethodRouter<SharedContext>> = None;
        let mut allowed = Vec::new();
        for route in table.iter().filter(|r| r.path == path) {
            let next = handler(route.endpoint, method_filter(&route.method));
            method_router = Some(match method_router {
                Some(existing) => existing.merge(next),
                None => next,
            });
            allowed.push(route.method.clone());
        }
        if let Some(method_router) = method_router {
            app = app.route(path, with_fallback(method_router, allowed));
        }
    }
    app.fallback(unknown_path).with_state(ctx)
}
