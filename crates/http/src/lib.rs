//! the /v1 HTTP API (axum)
proconsul-http = { path = "crates/http" }
