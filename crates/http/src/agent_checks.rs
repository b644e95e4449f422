//! `/v1/agent/checks` and `/v1/agent/check/*`: the agent's local checks and TTL updates.

use crate::agent_services::MAX_DEFINITION_BODY;
use crate::body::{percent_decode, read_json};
use crate::context::SharedContext;
use crate::discovery::filter;
use crate::error::HttpError;
use crate::query::{Params, request_token};
use crate::response::{empty, json};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use proconsul_types::agent::CheckDefinition;
use proconsul_types::catalog::CheckStatus;
use serde::Deserialize;

pub async fn checks(
    State(ctx): State<SharedContext>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    let filter = filter(&params)?;
    let mut out = serde_json::Map::new();
    for check in ctx.local.checks() {
        let value = serde_json::to_value(&check).map_err(|e| HttpError::Internal(e.to_string()))?;
        if let Some(f) = &filter
            && !f
                .matches(&value)
                .map_err(|e| HttpError::BadRequest(e.to_string()))?
        {
            continue;
        }
        out.insert(check.check_id.clone(), value);
    }
    Ok(json(&ctx, &params, &out))
}

pub async fn register(
    State(ctx): State<SharedContext>,
    Query(raw): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    let mut def: CheckDefinition = read_json(&headers, body, MAX_DEFINITION_BODY, "agent").await?;
    def.normalize();
    if def.name.is_empty() {
        return Err(HttpError::BadRequest("Missing check name".into()));
    }
    if !def.has_valid_status() {
        return Err(HttpError::BadRequest("Bad check status".into()));
    }
    def.validate()
        .map_err(|e| HttpError::BadRequest(format!("Invalid check: {e}")))?;
    if def.id.is_empty() {
        def.id = def.name.clone();
    }
    if !def.service_id.is_empty() && ctx.local.service(&def.service_id).is_none() {
        return Err(HttpError::NotFound(format!(
            "ServiceID {:?} does not exist",
            def.service_id
        )));
    }
    let token = request_token(&params, &headers).unwrap_or_default();
    ctx.local.register_check(def, &token)?;
    ctx.local.sync_changes().await;
    Ok(empty())
}

pub async fn deregister(
    State(ctx): State<SharedContext>,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    let id = percent_decode(&id)?;
    ctx.local.deregister_check(&id)?;
    ctx.local.sync_changes().await;
    Ok(empty())
}

async fn ttl_update(
    ctx: &SharedContext,
    id: &str,
    status: CheckStatus,
    output: &str,
) -> Result<Response, HttpError> {
    let id = percent_decode(id)?;
    ctx.local.update_ttl(&id, status, output)?;
    ctx.local.sync_changes().await;
    Ok(empty())
}

fn note(raw: Vec<(String, String)>) -> String {
    Params::new(raw).get("note").unwrap_or("").to_string()
}

pub async fn pass(
    State(ctx): State<SharedContext>,
    Path(id): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    ttl_update(&ctx, &id, CheckStatus::Passing, &note(raw)).await
}

pub async fn warn(
    State(ctx): State<SharedContext>,
    Path(id): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    ttl_update(&ctx, &id, CheckStatus::Warning, &note(raw)).await
}

pub async fn fail(
    State(ctx): State<SharedContext>,
    Path(id): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    ttl_update(&ctx, &id, CheckStatus::Critical, &note(raw)).await
}

/// The body of `PUT /v1/agent/check/update/:id`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct CheckUpdate {
    status: String,
    output: String,
}

pub async fn update(
    State(ctx): State<SharedContext>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let update: CheckUpdate = read_json(&headers, body, MAX_DEFINITION_BODY, "agent").await?;
    let status = match update.status.as_str() {
        "passing" => CheckStatus::Passing,
        "warning" => CheckStatus::Warning,
        "critical" => CheckStatus::Critical,
        other => {
            return Err(HttpError::BadRequest(format!(
                "Invalid check status: '{other}'"
            )));
        }
    };
    ttl_update(&ctx, &id, status, &update.output).await
}
