//! `/v1/session/*`: create (with Consul's defaults and validation), destroy, renew, info,
//! node, list.

use crate::blocking::blocking_read;
use crate::body::read_json;
use crate::context::SharedContext;
use crate::error::HttpError;
use crate::query::{Params, ReadOptions, check_datacenter};
use crate::response::{json, json_with, pretty, read_headers, to_json};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use proconsul_state::{Command, Response as Applied};
use proconsul_types::duration;
use proconsul_types::session::{
    Behavior, SERF_HEALTH_CHECK, SESSION_TTL_MAX, Session, SessionCreateRequest, parse_lock_delay,
};

/// Session bodies are small; this bound only stops abuse.
const MAX_SESSION_BODY: usize = 64 * 1024;

fn build_session(ctx: &SharedContext, req: SessionCreateRequest) -> Result<Session, HttpError> {
    let lock_delay = match &req.lock_delay {
        Some(value) => parse_lock_delay(value)
            .map_err(|e| HttpError::BadRequest(format!("Request decode failed: {e}")))?,
        None => proconsul_types::session::DEFAULT_LOCK_DELAY,
    };
    let behavior_text = req.behavior.unwrap_or_default();
    let behavior = Behavior::parse(&behavior_text).ok_or_else(|| {
        HttpError::Internal(format!("Invalid Behavior setting '{behavior_text}'"))
    })?;
    let ttl = req.ttl.unwrap_or_default();
    if !ttl.is_empty() {
        let parsed = duration::parse(&ttl)
            .map_err(|e| HttpError::Internal(format!("Session TTL '{ttl}' invalid: {e}")))?;
        if !parsed.is_zero() && (parsed < ctx.config.session_ttl_min || parsed > SESSION_TTL_MAX) {
            return Err(HttpError::Internal(format!(
                "Invalid Session TTL '{}', must be between [{}={}]",
                parsed.as_nanos(),
                duration::format(ctx.config.session_ttl_min),
                duration::format(SESSION_TTL_MAX)
            )));
        }
    }
    // `NodeChecks` wins; the deprecated `Checks` is its old name; neither means serfHealth.
    let node_checks = req
        .node_checks
        .or(req.checks)
        .unwrap_or_else(|| vec![SERF_HEALTH_CHECK.to_string()]);
    let node = req
        .node
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| ctx.config.node_name.clone());
    Ok(Session {
        id: uuid::Uuid::new_v4().to_string(),
        name: req.name.unwrap_or_default(),
        node,
        lock_delay: lock_delay.as_nanos() as u64,
        behavior,
        ttl,
        node_checks: Some(node_checks),
        service_checks: req.service_checks.filter(|c| !c.is_empty()),
        create_index: 0,
        modify_index: 0,
    })
}

pub async fn create(
    State(ctx): State<SharedContext>,
    Query(raw): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    check_datacenter(&ctx, &params)?;
    let request: SessionCreateRequest =
        read_json(&headers, body, MAX_SESSION_BODY, "session").await?;
    let session = build_session(&ctx, request)?;
    let id = session.id.clone();
    match ctx.server.apply(Command::SessionCreate { session }).await? {
        (_, Applied::Done) => Ok(json(&ctx, &params, &serde_json::json!({ "ID": id }))),
        (_, Applied::Error(err)) => Err(HttpError::Internal(err.to_string())),
        (_, other) => Err(HttpError::Internal(format!(
            "unexpected apply result {other:?}"
        ))),
    }
}

fn require(id: &str, what: &str) -> Result<(), HttpError> {
    if id.is_empty() {
        Err(HttpError::BadRequest(what.to_string()))
    } else {
        Ok(())
    }
}

pub async fn destroy(
    State(ctx): State<SharedContext>,
    Path(id): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    check_datacenter(&ctx, &params)?;
    require(&id, "Missing session")?;
    ctx.server.apply(Command::SessionDestroy { id }).await?;
    Ok(json(&ctx, &params, &true))
}

pub async fn renew(
    State(ctx): State<SharedContext>,
    Path(id): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    // Consul parses the full query options here (renew is answered like a read).
    ReadOptions::parse(&ctx, &params)?;
    require(&id, "Missing session")?;
    match ctx.server.renew(&id).await? {
        Some(session) => Ok(json(&ctx, &params, &[session])),
        None => Err(HttpError::NotFound(format!("Session id '{id}' not found"))),
    }
}

async fn list_reply(
    ctx: &SharedContext,
    params: &Params,
    select: impl Fn(&proconsul_state::Store) -> (u64, Vec<Session>),
) -> Result<Response, HttpError> {
    let opts = ReadOptions::parse(ctx, params)?;
    let (index, sessions, meta) = blocking_read(ctx, &opts, select, |s| s.watch_sessions()).await?;
    let headers = read_headers(index, meta, opts.consistency);
    Ok(json_with(
        StatusCode::OK,
        headers,
        to_json(&sessions, pretty(ctx, params)),
    ))
}

pub async fn info(
    State(ctx): State<SharedContext>,
    Path(id): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    require(&id, "Missing session")?;
    list_reply(&ctx, &params, |s| {
        let (index, session) = s.session_get(&id);
        (index, session.cloned().into_iter().collect())
    })
    .await
}

pub async fn node(
    State(ctx): State<SharedContext>,
    Path(node): Path<String>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    require(&node, "Missing node name")?;
    list_reply(&ctx, &params, |s| {
        let (index, sessions) = s.session_list_node(&node);
        (index, sessions.into_iter().cloned().collect())
    })
    .await
}

pub async fn list(
    State(ctx): State<SharedContext>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Result<Response, HttpError> {
    let params = Params::new(raw);
    list_reply(&ctx, &params, |s| {
        let (index, sessions) = s.session_list();
        (index, sessions.into_iter().cloned().collect())
    })
    .await
}
