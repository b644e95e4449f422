//! Catalog objects with Consul's exact JSON shapes: nodes, services (agent form and catalog
//! form), health checks, the health view of a service instance, and register/deregister
//! request bodies.

mod check;
mod health;
mod node;
mod register;
mod service;

pub use check::{CheckStatus, HealthCheck, HealthCheckDefinition};
pub use health::{CheckServiceNode, HealthState, aggregate_status};
pub use node::Node;
pub use register::{
    DeregisterRequest, RegisterError, RegisterRequest, check_uuid, normalize_service,
};
pub use service::{
    ConnectProxyConfig, NodeService, ServiceAddress, ServiceConnect, ServiceNode, Weights,
};
