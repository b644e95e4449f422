//! the /v1 HTTP API (axum)
