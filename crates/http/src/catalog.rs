//! `/v1/catalog/*`: register, deregister, nodes, services, service, node, node-services.

use crate::body::read_json;
use crate::context::SharedContext;
use crate::discovery::{
    filter, keep_matching, matches, node_meta, reply, reply_shared, service_query, unknown_peer,
};
use crate::error::HttpError;
use crate::query::{Params, check_datacenter};
use crate::response::json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use proconsul_state::{Command, Response as Applied};
use proconsul_types::catalog::{DeregisterRequest, Node, NodeService, RegisterRequest};
use serde::Serialize;
use std::collections::BTreeMap;

/// Registration bodies are small; this bound only stops abuse.
const MAX_REGISTER_BODY: usize = 1024 * 1024;

/// Proposes a catalog write; Consul reports its RPC errors (validation included) as 500s.
async fn apply(
    ctx: &SharedContext,
    params: &Params,
    command: Command,
) -> Result<Response, HttpError> {
    match ctx.server.apply(command).await? {
        (_, Applied::Error(err)) => Err(HttpError::Internal(err.to_string())),
        _ => Ok(json(ctx, params, &true)),
    }
}

pub async fn register(
    State(ctx): State<SharedContext>,
    Query(raw): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    check_datacenter(&ctx, &params)?;
    let mut request: RegisterRequest =
        read_json(&headers, body, MAX_REGISTER_BODY, "catalog").await?;
    if !request.datacenter.is_empty() && request.datacenter != ctx.config.datacenter {
        return Err(HttpError::Internal("No path to datacenter".into()));
    }
    request
        .normalize(&ctx.config.datacenter)
        .map_err(|e| HttpError::Internal(e.to_string()))?;
    apply(&ctx, &params, Command::CatalogRegister(Box::new(request))).await
}

pub async fn deregister(
    State(ctx): State<SharedContext>,
    Query(raw): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    check_datacenter(&ctx, &params)?;
    let request: DeregisterRequest =
        read_json(&headers, body, MAX_REGISTER_BODY, "catalog").await?;
    if !request.datacenter.is_empty() && request.datacenter != ctx.config.datacenter {
        return Err(HttpError::Internal("No path to datacenter".into()));
    }
    request
        .validate()
        .map_err(|e| HttpError::Internal(e.to_string()))?;
    let some = |s: String| (!s.is_empty()).then_some(s);
    let command = Command::CatalogDeregister {
        node: request.node,
        service_id: some(request.service_id),
        check_id: some(request.check_id),
    };
    apply(&ctx, &params, command).await
}

pub async fn nodes(
    State(ctx): State<SharedContext>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    let filter = filter(&params)?;
    let meta = node_meta(&params);
    reply(
        &ctx,
        &params,
        |s| s.catalog_nodes(&meta),
        |s| s.watch_nodes(),
        |nodes| keep_matching(filter.as_ref(), nodes),
    )
    .await
}

pub async fn services(
    State(ctx): State<SharedContext>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    let filter = filter(&params)?;
    // The filter runs inside the read (on each instance); remember its first error.
    let failure = std::sync::Mutex::new(None);
    let meta = node_meta(&params);
    let response = reply(
        &ctx,
        &params,
        |s| {
            let keep = |sn: &proconsul_types::catalog::ServiceNode| match &filter {
                None => true,
                Some(f) => matches(f, sn).unwrap_or_else(|e| {
                    if let Ok(mut slot) = failure.lock() {
                        slot.get_or_insert(e);
                    }
                    false
                }),
            };
            s.catalog_services(&meta, Some(&keep))
        },
        |s| s.watch_catalog_services(!meta.is_empty()),
        Ok,
    )
    .await?;
    match failure.into_inner().ok().flatten() {
        Some(err) => Err(err),
        None => Ok(response),
    }
}

pub async fn service(
    State(ctx): State<SharedContext>,
    Path(name): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    service_nodes(ctx, name, Params::new(raw), false).await
}

/// `/v1/catalog/connect/:service`: the service's proxies and connect-native instances.
pub async fn connect(
    State(ctx): State<SharedContext>,
    Path(name): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    service_nodes(ctx, name, Params::new(raw), true).await
}

async fn service_nodes(
    ctx: SharedContext,
    name: String,
    params: Params,
    connect: bool,
) -> Result<Response, HttpError> {
    let filter = filter(&params)?;
    let query = service_query(&params, connect);
    let question = format!(
        "catalog/{}/{name}",
        if connect { "connect" } else { "service" }
    );
    reply_shared(
        &ctx,
        &params,
        &question,
        |s| s.query_index(&name, &query),
        |s| s.catalog_service_nodes(&name, &query),
        |s| s.watch_query(&name, &query),
        |mut nodes| {
            if unknown_peer(&params) {
                nodes.clear();
            }
            keep_matching(filter.as_ref(), nodes)
        },
    )
    .await
}

/// `/v1/catalog/node/:node`: services keyed by ID.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct NodeServices {
    node: Node,
    services: BTreeMap<String, NodeService>,
}

/// `/v1/catalog/node-services/:node`: services as a list.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct NodeServiceList {
    node: Option<Node>,
    services: Vec<NodeService>,
}

pub async fn node(
    State(ctx): State<SharedContext>,
    Path(name): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    let filter = filter(&params)?;
    reply(
        &ctx,
        &params,
        |s| s.catalog_node_services(&name),
        |s| s.watch_node(&name),
        |found| {
            // An unknown node is a `null` body with a 200, as in Consul.
            let Some((node, services)) = found else {
                return Ok(None);
            };
            let services = keep_matching(filter.as_ref(), services)?;
            Ok(Some(NodeServices {
                node,
                services: services.into_iter().map(|s| (s.id.clone(), s)).collect(),
            }))
        },
    )
    .await
}

pub async fn node_services(
    State(ctx): State<SharedContext>,
    Path(name): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    let filter = filter(&params)?;
    reply(
        &ctx,
        &params,
        |s| s.catalog_node_services(&name),
        |s| s.watch_node(&name),
        |found| {
            let (node, services) = match found {
                Some((node, services)) => (Some(node), services),
                None => (None, Vec::new()),
            };
            let services = keep_matching(filter.as_ref(), services)?;
            Ok(NodeServiceList { node, services })
        },
    )
    .await
}
