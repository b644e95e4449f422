//! The narrow read-only view of the catalog that DNS answers are built from. The agent
//! implements it over the state store; tests implement it over plain vectors. It carries
//! no state-crate types on purpose, so this crate builds and tests on its own.

use std::collections::BTreeMap;
use std::net::IpAddr;

/// Aggregated health of a service instance (node checks + service checks), worst wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Passing,
    Warning,
    Critical,
    /// Node or service maintenance mode. Consul models it as a critical check, so DNS
    /// never returns such instances.
    Maintenance,
}

/// A node as DNS needs it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeRecord {
    pub name: String,
    pub datacenter: String,
    /// IP address or hostname (a hostname becomes a CNAME).
    pub address: String,
    pub tagged_addresses: BTreeMap<String, String>,
    /// Node meta, served as TXT records.
    pub meta: BTreeMap<String, String>,
}

/// `Weights` of a service registration; Consul defaults both to 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights {
    pub passing: u16,
    pub warning: u16,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            passing: 1,
            warning: 1,
        }
    }
}

/// One registered instance of a service with its node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRecord {
    pub node: NodeRecord,
    pub service: String,
    /// Empty when the instance uses the node address.
    pub service_address: String,
    pub port: u16,
    pub tags: Vec<String>,
    pub health: Health,
    pub weights: Weights,
}

/// What a reverse (PTR) lookup found for an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReverseRecord {
    Node { name: String, datacenter: String },
    Service { name: String, datacenter: String },
}

/// Read access to the catalog. Names arrive lowercased (DNS is case-insensitive), so
/// implementations match node and service names case-insensitively, as Consul's catalog does.
pub trait CatalogView: Send + Sync + 'static {
    /// The agent's own datacenter, used when a query names none.
    fn datacenter(&self) -> &str;
    fn known_datacenter(&self, dc: &str) -> bool;
    fn node(&self, dc: &str, name: &str) -> Option<NodeRecord>;
    /// All instances of `service` in `dc` (any health), filtered by `tag` when given.
    /// DNS applies the health filter itself.
    fn service_instances(&self, dc: &str, service: &str, tag: Option<&str>) -> Vec<InstanceRecord>;
    /// Node (first) or service instance whose address is `ip`, in the local datacenter.
    fn reverse_lookup(&self, ip: IpAddr) -> Option<ReverseRecord>;
}
