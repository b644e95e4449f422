//! Rust client for proconsul's (and Consul's) HTTP API.
//!
//! The shape follows HashiCorp's Go `api` package closely enough that the CLI can reproduce
//! Consul's output byte for byte: [`Config`] is read from the same `CONSUL_HTTP_*` environment
//! variables, non-2xx answers surface as [`Error::Api`] whose `Display` is Go's
//! `Unexpected response code: N (body)`, and reads return [`QueryMeta`] with the index headers.

pub mod agent;
pub mod catalog;
mod client;
mod config;
mod error;
pub mod kv;

pub use agent::{AgentCheck, MaintenanceTarget};
pub use catalog::{CatalogNode, CatalogNodeService, CatalogService, Node};
pub use client::{Client, QueryMeta, QueryOptions};
pub use config::{Config, HttpAuth, Scheme, parse_go_bool};
pub use error::Error;
pub use kv::{DeleteOptions, Kv, KvPair, PutOptions};

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;
