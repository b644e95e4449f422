//! Rust client for the HTTP API
