//! An in-memory `CatalogView`: the fixture for tests here and in the agent, and a reference
//! for what the state-store implementation must return.

use std::net::IpAddr;

use crate::catalog::{CatalogView, InstanceRecord, NodeRecord, ReverseRecord};

#[derive(Debug, Clone, Default)]
pub struct MemoryCatalog {
    pub datacenter: String,
    /// Other datacenters that exist (they have no data here).
    pub remote_datacenters: Vec<String>,
    pub nodes: Vec<NodeRecord>,
    pub instances: Vec<InstanceRecord>,
}

impl MemoryCatalog {
    pub fn new(datacenter: &str) -> Self {
        Self {
            datacenter: datacenter.to_string(),
            ..Self::default()
        }
    }
}

impl CatalogView for MemoryCatalog {
    fn datacenter(&self) -> &str {
        &self.datacenter
    }

    fn known_datacenter(&self, dc: &str) -> bool {
        self.datacenter.eq_ignore_ascii_case(dc)
            || self
                .remote_datacenters
                .iter()
                .any(|d| d.eq_ignore_ascii_case(dc))
    }

    fn node(&self, dc: &str, name: &str) -> Option<NodeRecord> {
        self.nodes
            .iter()
            .find(|n| n.datacenter.eq_ignore_ascii_case(dc) && n.name.eq_ignore_ascii_case(name))
            .cloned()
    }

    fn service_instances(&self, dc: &str, service: &str, tag: Option<&str>) -> Vec<InstanceRecord> {
        self.instances
            .iter()
            .filter(|i| i.node.datacenter.eq_ignore_ascii_case(dc))
            .filter(|i| i.service.eq_ignore_ascii_case(service))
            .filter(|i| tag.is_none_or(|t| i.tags.iter().any(|x| x.eq_ignore_ascii_case(t))))
            .cloned()
            .collect()
    }

    fn reverse_lookup(&self, ip: IpAddr) -> Option<ReverseRecord> {
        let matches = |addr: &str| addr.parse::<IpAddr>().ok() == Some(ip);
        let local = |dc: &str| dc.eq_ignore_ascii_case(&self.datacenter);
        if let Some(n) = self
            .nodes
            .iter()
            .find(|n| local(&n.datacenter) && matches(&n.address))
        {
            return Some(ReverseRecord::Node {
                name: n.name.clone(),
                datacenter: n.datacenter.clone(),
            });
        }
        self.instances
            .iter()
            .find(|i| local(&i.node.datacenter) && matches(&i.service_address))
            .map(|i| ReverseRecord::Service {
                name: i.service.clone(),
                datacenter: i.node.datacenter.clone(),
            })
    }
}
