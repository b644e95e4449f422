//! The `/v1` HTTP API (axum), matching Consul's paths, JSON shapes, headers, status codes and
//! plain-text error bodies.

mod agent;
mod agent_checks;
mod agent_services;
mod answer_cache;
mod blocking;
mod body;
mod catalog;
mod context;
mod discovery;
mod error;
mod health;
mod kv;
pub mod local_agent;
mod query;
mod response;
pub mod routes;
mod session;
mod txn;
mod txn_ops;

pub use context::{Context, HttpConfig, SharedContext};
pub use error::HttpError;
pub use local_agent::{LocalAgent, LocalError};
pub use routes::router;

use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;

/// Headers every response carries, errors included.
async fn common_headers(mut response: Response) -> Response {
    response.headers_mut().insert(
        HeaderName::from_static("x-consul-default-acl-policy"),
        HeaderValue::from_static("allow"),
    );
    response
}

/// The ACL token a request carries (`?token=`, `X-Consul-Token`, `Authorization: Bearer`),
/// stored in the request's extensions for the permission checks.
#[derive(Debug, Clone, Default)]
pub struct RequestToken(pub Option<String>);

async fn extract_token(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let raw: Vec<(String, String)> = request
        .uri()
        .query()
        .map(|q| {
            q.split('&')
                .filter_map(|p| {
                    p.split_once('=')
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    let token = query::request_token(&query::Params::new(raw), request.headers());
    request.extensions_mut().insert(RequestToken(token));
    next.run(request).await
}

/// Serves the API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    ctx: SharedContext,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(ctx)
        .layer(axum::middleware::from_fn(extract_token))
        .layer(axum::middleware::map_response(common_headers));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
