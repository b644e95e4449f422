//! What the `/v1/agent/service|check|health|maintenance|reload` endpoints need from the
//! agent that serves them: its local services and checks. The agent crate implements this
//! (local state, check runners, anti-entropy); the HTTP layer only decodes, validates and
//! renders, so the two stay testable apart.

use proconsul_types::agent::{CheckDefinition, ServiceDefinition};
use proconsul_types::catalog::{CheckStatus, HealthCheck, NodeService};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::watch;

/// An agent-side refusal, mapped to Consul's status codes by the HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Internal(String),
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The agent's local services and checks, as the HTTP API drives them.
pub trait LocalAgent: Send + Sync {
    /// Adds or replaces a service (already validated by the caller) and its checks.
    fn register_service(
        &self,
        def: ServiceDefinition,
        checks: Vec<CheckDefinition>,
        replace_existing_checks: bool,
        token: &str,
    ) -> Result<(), LocalError>;
    /// Removes a service and its checks; `NotFound` with Consul's text if unknown.
    fn deregister_service(&self, id: &str) -> Result<(), LocalError>;
    /// Adds or replaces a standalone check (already validated by the caller).
    fn register_check(&self, def: CheckDefinition, token: &str) -> Result<(), LocalError>;
    fn deregister_check(&self, id: &str) -> Result<(), LocalError>;
    /// Sets a TTL check's status and output.
    fn update_ttl(&self, id: &str, status: CheckStatus, output: &str) -> Result<(), LocalError>;
    /// Every local service, in ID order.
    fn services(&self) -> Vec<NodeService>;
    fn service(&self, id: &str) -> Option<NodeService>;
    /// Every local check, in ID order.
    fn checks(&self) -> Vec<HealthCheck>;
    /// The checks that decide a service's health: its own and the node's.
    fn service_health_checks(&self, id: &str) -> Vec<HealthCheck>;
    fn service_maintenance(
        &self,
        id: &str,
        enable: bool,
        reason: &str,
        token: &str,
    ) -> Result<(), LocalError>;
    fn node_maintenance(&self, enable: bool, reason: &str, token: &str);
    /// Re-reads the configuration files (services, checks) as SIGHUP does.
    fn reload(&self) -> Result<(), LocalError>;
    /// Bumped on every change of local services or checks (hash-based blocking waits on it).
    fn changes(&self) -> watch::Receiver<u64>;
    /// Pushes pending changes to the catalog now; failures are left to anti-entropy.
    fn sync_changes(&self) -> BoxFuture<'_, ()>;
}
