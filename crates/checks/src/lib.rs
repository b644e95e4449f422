//! Health-check runners with Consul's semantics.
//!
//! The crate runs checks and reports `(status, output)` updates through a sink; it knows
//! nothing about the catalog or the agent. Each check kind has its own module with a
//! one-shot probe; [`runner`] schedules probes (stagger, interval, timeout) and applies the
//! [`status::StatusHandler`] thresholds; [`ttl`] is the dead man's switch for TTL checks.
//! Alias checks need the catalog, so only their pure aggregation lives here ([`alias`]).

pub mod alias;
mod conn;
pub mod docker;
pub mod error;
pub mod grpc;
pub mod h2ping;
pub mod http;
pub mod output;
pub mod runner;
pub mod script;
pub mod spec;
pub mod status;
pub mod tcp;
mod tls;
pub mod ttl;
pub mod udp;

pub use error::CheckError;
pub use runner::{CheckHandle, CheckUpdate, Probe, Sink, spawn_check};
pub use spec::{CheckKind, CheckSpec};
pub use status::{Status, StatusHandler, Thresholds};

/// The outcome of one probe, before thresholds are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    pub status: Status,
    pub output: String,
}

impl CheckResult {
    pub fn new(status: Status, output: impl Into<String>) -> Self {
        CheckResult {
            status,
            output: output.into(),
        }
    }
    pub fn passing(output: impl Into<String>) -> Self {
        Self::new(Status::Passing, output)
    }
    pub fn warning(output: impl Into<String>) -> Self {
        Self::new(Status::Warning, output)
    }
    pub fn critical(output: impl Into<String>) -> Self {
        Self::new(Status::Critical, output)
    }
}
