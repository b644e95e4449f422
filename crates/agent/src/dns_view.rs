//! The DNS interface's view of the catalog, read from this server's replicated state.
//!
//! DNS answers are stale reads (Consul's `dns_config.allow_stale` default): they come from
//! the local store without a leader round trip, which keeps lookups fast and available.

use proconsul_dns::{CatalogView, Health, InstanceRecord, NodeRecord, ReverseRecord, Weights};
use proconsul_state::store::node_prefix;
use proconsul_state::{ServiceQuery, Store};
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

    /// The instances `Store::health_service_nodes` returns, read by reference under the
    /// lock: only the fields DNS uses are copied, instead of cloning every node, service
    /// and check first.
    fn service_instances(
        &self,
        _dc: &str,
        service: &str,
        tag: Option<&str>,
    ) -> Vec<InstanceRecord> {
        let query = ServiceQuery {
            tags: tag.map(str::to_string).into_iter().collect(),
            ..ServiceQuery::default()
        };
        self.read(|store| {
            store
                .service_instances(service, &query)
                .map(|(node, svc)| {
                    let prefix = node_prefix(&node.node);
                    let checks = store
                        .checks()
                        .prefix(&prefix)
                        .map(|(_, check)| check)
                        .filter(|c| c.service_id.is_empty() || c.service_id == svc.id);
                    let weights = svc
                        .weights
                        .as_ref()
                        .map_or_else(Weights::default, |w| Weights {
                            passing: weight(w.passing),
                            warning: weight(w.warning),
                        });
                    InstanceRecord {
                        node: node_record(node),
                        service: svc.service.clone(),
                        service_address: svc.address.clone(),
                        port: svc.port,
                        tags: svc.tags.clone(),
                        health: health(aggregate_status(checks)),
                        weights,
                    }
                })
                .collect()
        })
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
