//! `/v1/agent/*` endpoints that describe this agent, `/v1/status/*` and
//! `/v1/catalog/datacenters`.

use crate::context::SharedContext;
use crate::error::HttpError;
use crate::query::{Params, check_datacenter};
use crate::response::{empty, json};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};

pub async fn agent_self(
    State(ctx): State<SharedContext>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Response {
    let params = Params::new(raw);
    let mut body = ctx.config.agent_self.clone();
    let consensus = ctx.server.consensus();
    let leader_addr = consensus.leader_addr().unwrap_or_default();
    let stats = &mut body["Stats"];
    stats["consul"]["leader"] = serde_json::json!(consensus.is_leader().to_string());
    stats["consul"]["leader_addr"] = serde_json::json!(leader_addr);
    for (name, value) in consensus.stats() {
        stats["raft"][name] = serde_json::json!(value);
    }
    json(&ctx, &params, &body)
}

pub async fn members(
    State(ctx): State<SharedContext>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Response {
    let params = Params::new(raw);
    if params.get("wan").is_some_and(|v| !v.is_empty()) {
        if params
            .get("segment")
            .is_some_and(|s| !s.is_empty() && s != "_all")
        {
            return HttpError::BadRequest("Cannot provide a segment with wan=true".into())
                .into_response();
        }
        // The WAN pool names servers `<node>.<datacenter>` and uses the WAN gossip port.
        let mut member = ctx.config.member.clone();
        member["Name"] = serde_json::json!(format!(
            "{}.{}",
            ctx.config.node_name, ctx.config.datacenter
        ));
        if let Some(port) = member["Tags"]["wan_join_port"]
            .as_str()
            .and_then(|p| p.parse::<i64>().ok())
        {
            member["Port"] = serde_json::json!(port);
        }
        return json(&ctx, &params, &[member]);
    }
    json(&ctx, &params, &[&ctx.config.member])
}

/// Graceful leave: answers, then the agent shuts down.
pub async fn leave(State(ctx): State<SharedContext>) -> Response {
    ctx.leave.notify_one();
    empty()
}

pub async fn status_leader(
    State(ctx): State<SharedContext>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    check_datacenter(&ctx, &params)?;
    let leader = ctx.server.consensus().leader_addr().unwrap_or_default();
    Ok(json(&ctx, &params, &leader))
}

pub async fn status_peers(
    State(ctx): State<SharedContext>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    check_datacenter(&ctx, &params)?;
    Ok(json(&ctx, &params, &ctx.server.consensus().peers()))
}

pub async fn datacenters(
    State(ctx): State<SharedContext>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Response {
    let params = Params::new(raw);
    json(&ctx, &params, &[&ctx.config.datacenter])
}
