//! Rust client for the HTTP API
proconsul-api = { path = "crates/api" }
