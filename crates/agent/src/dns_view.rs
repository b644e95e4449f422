//! The DNS interface's view of the catalog, read from this server's replicated state.
//!
//! DNS answers are stale reads (Consul's `dns_config.allow_stale` default): they come from
//! the local store without a leader round trip, which keeps lookups fast and available.

use proconsul_dns::{CatalogView, Health, InstanceRecord, NodeRecord, ReverseRecord, Weights};
use proconsul_state::Store;
use proconsul_state::catalog_read::ServiceQuery;
use proconsul_types::catalog::{CheckStatus, Node, aggregate_status};
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

pub struct StateCatalogView {
    store: Arc<RwLock<Store>>,
    datacenter: String,
}

impl StateCatalogView {
    pub fn new(store: Arc<RwLock<Store>>, datacenter: String) -> Self {
        StateCatalogView { store, datacenter }
    }

    fn read<T>(&self, f: impl FnOnce(&Store) -> T) -> T {
        let store = self.store.read().unwrap_or_else(|p| p.into_inner());
        f(&store)
    }
}

fn node_record(node: &Node) -> NodeRecord {
    NodeRecord {
        name: node.node.clone(),
        datacenter: node.datacenter.clone(),
        address: node.address.clone(),
        tagged_addresses: node.tagged_addresses.clone().unwrap_or_default(),
        meta: node.meta.clone().unwrap_or_default(),
    }
}

/// `node_record` for a node the caller owns (already a clone): moves instead of cloning.
fn owned_node_record(node: Node) -> NodeRecord {
    NodeRecord {
        name: node.node,
        datacenter: node.datacenter,
        address: node.address,
        tagged_addresses: node.tagged_addresses.unwrap_or_default(),
        meta: node.meta.unwrap_or_default(),
    }
}

fn health(status: CheckStatus) -> Health {
    match status {
        CheckStatus::Passing => Health::Passing,
        CheckStatus::Warning => Health::Warning,
        CheckStatus::Critical => Health::Critical,
        CheckStatus::Maintenance => Health::Maintenance,
    }
}

fn weight(value: i64) -> u16 {
    u16::try_from(value.max(0)).unwrap_or(u16::MAX)
}

impl CatalogView for StateCatalogView {
    fn datacenter(&self) -> &str {
        &self.datacenter
    }

    fn known_datacenter(&self, dc: &str) -> bool {
        dc.eq_ignore_ascii_case(&self.datacenter)
    }

    fn node(&self, _dc: &str, name: &str) -> Option<NodeRecord> {
        self.read(|store| {
            let (_, node) = store.node_get(name);
            node.map(node_record).or_else(|| {
                // DNS names are case-insensitive; node names in the catalog are not.
                let (_, nodes) = store.catalog_nodes(&[]);
                nodes
                    .iter()
                    .find(|n| n.node.eq_ignore_ascii_case(name))
                    .map(node_record)
            })
        })
    }

    fn service_instances(
        &self,
        _dc: &str,
        service: &str,
        tag: Option<&str>,
    ) -> Vec<InstanceRecord> {
        let query = ServiceQuery {
            tags: tag.map(|t| vec![t.to_string()]).unwrap_or_default(),
            node_meta: Vec::new(),
            connect: false,
        };
        let (_, entries) = self.read(|store| store.health_service_nodes(service, &query));
        // The entries are the store's clones, taken under the read lock: move their fields.
        entries
            .into_iter()
            .map(|entry| {
                let health = health(aggregate_status(&entry.checks));
                let service = entry.service;
                let weights = service
                    .weights
                    .as_ref()
                    .map_or_else(Weights::default, |w| Weights {
                        passing: weight(w.passing),
                        warning: weight(w.warning),
                    });
                InstanceRecord {
                    node: owned_node_record(entry.node),
                    service: service.service,
                    service_address: service.address,
                    port: service.port,
                    tags: service.tags,
                    health,
                    weights,
                }
            })
            .collect()
    }

    fn reverse_lookup(&self, ip: IpAddr) -> Option<ReverseRecord> {
        let text = ip.to_string();
        self.read(|store| {
            let (_, nodes) = store.catalog_nodes(&[]);
            nodes
                .iter()
                .find(|n| n.address == text)
                .map(|n| ReverseRecord::Node {
                    name: n.node.clone(),
                    datacenter: n.datacenter.clone(),
                })
        })
    }
}
