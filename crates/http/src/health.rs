//! `/v1/health/*`: checks of a node, checks of a service, instances of a service with their
//! checks (`?passing`), and checks in a state.

use crate::context::SharedContext;
use crate::discovery::{
    filter, keep_matching, node_meta, reply, reply_shared, service_query, unknown_peer,
};
use crate::error::HttpError;
use crate::query::Params;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use proconsul_types::catalog::HealthState;

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
        |s| s.health_node_checks(&name),
        |s| s.watch_node_checks(&name),
        |checks| keep_matching(filter.as_ref(), checks),
    )
    .await
}

pub async fn checks(
    State(ctx): State<SharedContext>,
    Path(name): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    let filter = filter(&params)?;
    let meta = node_meta(&params);
    reply(
        &ctx,
        &params,
        |s| s.health_service_checks(&name, &meta),
        |s| s.watch_service(&name),
        |checks| keep_matching(filter.as_ref(), checks),
    )
    .await
}

/// `?passing` with no value means true; otherwise Go's `strconv.ParseBool` spellings.
fn passing(params: &Params) -> Result<bool, HttpError> {
    match params.get("passing") {
        None => Ok(false),
        Some("" | "1" | "t" | "T" | "TRUE" | "true" | "True") => Ok(true),
        Some("0" | "f" | "F" | "FALSE" | "false" | "False") => Ok(false),
        Some(_) => Err(HttpError::BadRequest("Invalid value for ?passing".into())),
    }
}

pub async fn service(
    State(ctx): State<SharedContext>,
    Path(name): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    service_nodes(ctx, name, Params::new(raw), false).await
}

/// `/v1/health/connect/:service`: the service's proxies and connect-native instances.
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
    let only_passing = passing(&params)?;
    let query = service_query(&params, connect);
    let question = format!(
        "health/{}/{name}",
        if connect { "connect" } else { "service" }
    );
    reply_shared(
        &ctx,
        &params,
        &question,
        |s| s.query_index(&name, &query),
        |s| s.health_service_nodes(&name, &query),
        |s| s.watch_query(&name, &query),
        |mut nodes| {
            if unknown_peer(&params) {
                nodes.clear();
            }
            if only_passing {
                nodes.retain(|n| n.all_passing());
            }
            keep_matching(filter.as_ref(), nodes)
        },
    )
    .await
}

/// Consul does not validate `:state`: an unknown state answers `[]` (200), not an error.
pub async fn state(
    State(ctx): State<SharedContext>,
    Path(state): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    let filter = filter(&params)?;
    let meta = node_meta(&params);
    let wanted = HealthState::parse(&state);
    reply(
        &ctx,
        &params,
        |s| s.health_checks_in_state(wanted, &meta),
        |s| s.watch_checks(!meta.is_empty()),
        |checks| keep_matching(filter.as_ref(), checks),
    )
    .await
}
