//! Catalog and health reads, each with the index Consul reports for it and the narrowest
//! watch that covers its answer.
//!
//! | read | index | watch |
//! |---|---|---|
//! | nodes | nodes table | nodes table |
//! | services | services table (with node-meta: max with nodes) | services (+ nodes) table |
//! | one service's instances / health / checks | that service name's index | that name |
//! | one node's services | max(nodes, services) | the node row + the node's service rows |
//! | one node's checks, checks in a state | checks table | the node's check rows / checks table |

use crate::store::{Store, node_prefix, nonzero};
use crate::watch::Watch;
use proconsul_types::catalog::{
    CheckServiceNode, HealthCheck, HealthState, Node, NodeService, ServiceNode,
};
use std::collections::{BTreeMap, BTreeSet};

/// `?node-meta=k:v` pairs (all must match) and `?tag=` values (all must be present).
#[derive(Debug, Clone, Default)]
pub struct ServiceQuery {
    pub tags: Vec<String>,
    pub node_meta: Vec<(String, String)>,
    /// `/v1/catalog/connect/:s`, `/v1/health/connect/:s`: the connect-capable instances of
    /// the service (its proxies and its connect-native instances) instead of all of them.
    pub connect: bool,
}

impl Store {
    pub fn catalog_nodes(&self, node_meta: &[(String, String)]) -> (u64, Vec<Node>) {
        let nodes = self
            .nodes
            .iter()
            .map(|(_, n)| n)
            .filter(|n| n.satisfies_meta(node_meta))
            .cloned()
            .collect();
        (nonzero(self.nodes.max_index()), nodes)
    }

    pub fn node_get(&self, name: &str) -> (u64, Option<&Node>) {
        (nonzero(self.nodes.max_index()), self.nodes.get(name))
    }

    pub fn watch_nodes(&self) -> Watch {
        self.nodes.watch_table()
    }

    /// Service name -> the union of its instances' tags (sorted, deduplicated).
    /// `keep` (a `?filter=`) sees each instance in catalog form before it counts.
    pub fn catalog_services(
        &self,
        node_meta: &[(String, String)],
        keep: Option<&dyn Fn(&ServiceNode) -> bool>,
    ) -> (u64, BTreeMap<String, Vec<String>>) {
        let mut union: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (_, row) in self.services.iter() {
            let Some(node) = self.nodes.get(&row.node) else {
                continue;
            };
            if !node.satisfies_meta(node_meta) {
                continue;
            }
            if let Some(keep) = keep
                && !keep(&row.service.to_service_node(node))
            {
                continue;
            }
            union
                .entry(row.service.service.clone())
                .or_default()
                .extend(row.service.tags.iter().cloned());
        }
        let services = union
            .into_iter()
            .map(|(name, tags)| (name, tags.into_iter().collect()))
            .collect();
        let mut index = self.services.max_index();
        if !node_meta.is_empty() {
            index = index.max(self.nodes.max_index());
        }
        (nonzero(index), services)
    }

    pub fn watch_catalog_services(&self, node_meta: bool) -> Watch {
        if node_meta {
            Watch::any([self.services.watch_table(), self.nodes.watch_table()])
        } else {
            self.services.watch_table()
        }
    }

    /// The index of everything about service `name` (Consul's `maxIndexForService`).
    pub fn service_name_index(&self, name: &str) -> u64 {
        let index = self
            .service_index
            .get(name)
            .copied()
            .unwrap_or(self.service_extinction);
        nonzero(index)
    }

    /// Wakes when any instance of `name`, its checks or its nodes change.
    pub fn watch_service(&self, name: &str) -> Watch {
        self.service_index.watch_key(name)
    }

    /// Instances of `name` with their node, in (node, service ID) order, by reference: the
    /// one lookup every service read (HTTP and DNS) goes through.
    pub fn service_instances<'a>(
        &'a self,
        name: &str,
        query: &'a ServiceQuery,
    ) -> impl Iterator<Item = (&'a Node, &'a NodeService)> + 'a {
        let rows: Vec<_> = if query.connect {
            // Proxies are found by destination: a scan (rare queries; no mesh index yet).
            self.services
                .iter()
                .map(|(_, row)| row)
                .filter(|row| {
                    let s = &row.service;
                    (s.kind == "connect-proxy" && s.proxy.destination_service_name == name)
                        || (s.service == name && s.connect.native)
                })
                .collect()
        } else {
            self.services
                .keys_by_secondary(name)
                .into_iter()
                .filter_map(|key| self.services.get(&key))
                .collect()
        };
        rows.into_iter()
            .filter_map(move |row| Some((self.nodes.get(&row.node)?, &row.service)))
            .filter(move |(node, service)| {
                service.has_tags(&query.tags) && node.satisfies_meta(&query.node_meta)
            })
    }

    /// The index `catalog_service_nodes`/`health_service_nodes` report for this query.
    pub fn query_index(&self, name: &str, query: &ServiceQuery) -> u64 {
        if query.connect {
            nonzero(self.services.max_index().max(self.checks.max_index()))
        } else {
            self.service_name_index(name)
        }
    }

    /// The watch matching `query_index`: the service's own, or any change for connect.
    pub fn watch_query(&self, name: &str, query: &ServiceQuery) -> Watch {
        if query.connect {
            self.watch_connect()
        } else {
            self.watch_service(name)
        }
    }

    /// Wakes for connect queries: any service or check change (no per-destination index).
    pub fn watch_connect(&self) -> Watch {
        Watch::any([self.services.watch_table(), self.checks.watch_table()])
    }

    /// `/v1/catalog/service/:service`: no health filtering.
    pub fn catalog_service_nodes(
        &self,
        name: &str,
        query: &ServiceQuery,
    ) -> (u64, Vec<ServiceNode>) {
        let nodes = self
            .service_instances(name, query)
            .map(|(node, service)| service.to_service_node(node))
            .collect();
        (self.query_index(name, query), nodes)
    }

    /// `/v1/health/service/:service`: each instance with node checks first, then its own.
    pub fn health_service_nodes(
        &self,
        name: &str,
        query: &ServiceQuery,
    ) -> (u64, Vec<CheckServiceNode>) {
        let nodes = self
            .service_instances(name, query)
            .map(|(node, service)| {
                let prefix = node_prefix(&node.node);
                let (node_checks, service_checks): (Vec<&HealthCheck>, Vec<&HealthCheck>) = self
                    .checks
                    .prefix(&prefix)
                    .map(|(_, c)| c)
                    .filter(|c| c.service_id.is_empty() || c.service_id == service.id)
                    .partition(|c| c.service_id.is_empty());
                CheckServiceNode {
                    node: node.clone(),
                    service: service.clone(),
                    checks: node_checks
                        .into_iter()
                        .chain(service_checks)
                        .cloned()
                        .collect(),
                }
            })
            .collect();
        (self.query_index(name, query), nodes)
    }

    /// `/v1/health/checks/:service`: the checks of every instance, in (node, check ID) order.
    pub fn health_service_checks(
        &self,
        name: &str,
        node_meta: &[(String, String)],
    ) -> (u64, Vec<HealthCheck>) {
        let query = ServiceQuery {
            tags: Vec::new(),
            node_meta: node_meta.to_vec(),
            connect: false,
        };
        let mut checks: Vec<HealthCheck> = self
            .service_instances(name, &query)
            .flat_map(|(node, service)| {
                let prefix = node_prefix(&node.node);
                self.checks
                    .prefix(&prefix)
                    .map(|(_, c)| c)
                    .filter(|c| c.service_id == service.id)
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .collect();
        checks.sort_by(|a, b| (&a.node, &a.check_id).cmp(&(&b.node, &b.check_id)));
        (self.service_name_index(name), checks)
    }

    /// `/v1/catalog/node/:node`: the node and its services, `None` for an unknown node.
    pub fn catalog_node_services(&self, node: &str) -> (u64, Option<(Node, Vec<NodeService>)>) {
        let index = nonzero(self.nodes.max_index().max(self.services.max_index()));
        let Some(row) = self.nodes.get(node) else {
            return (index, None);
        };
        let services = self
            .services
            .prefix(&node_prefix(node))
            .map(|(_, r)| r.service.clone())
            .collect();
        (index, Some((row.clone(), services)))
    }

    /// Wakes when the node row or one of its services changes.
    pub fn watch_node(&self, node: &str) -> Watch {
        Watch::any([
            self.nodes.watch_key(node),
            self.services.watch_prefix(&node_prefix(node)),
        ])
    }

    /// `/v1/health/node/:node`: node-level and service checks of one node.
    pub fn health_node_checks(&self, node: &str) -> (u64, Vec<HealthCheck>) {
        let checks = self
            .checks
            .prefix(&node_prefix(node))
            .map(|(_, c)| c.clone())
            .collect();
        (nonzero(self.checks.max_index()), checks)
    }

    pub fn watch_node_checks(&self, node: &str) -> Watch {
        self.checks.watch_prefix(&node_prefix(node))
    }

    /// `/v1/health/state/:state`. An unknown state matches nothing, as in Consul.
    pub fn health_checks_in_state(
        &self,
        state: Option<HealthState>,
        node_meta: &[(String, String)],
    ) -> (u64, Vec<HealthCheck>) {
        let checks = self
            .checks
            .iter()
            .map(|(_, c)| c)
            .filter(|c| state.is_some_and(|s| s.matches(c.status)))
            .filter(|c| {
                node_meta.is_empty()
                    || self
                        .nodes
                        .get(&c.node)
                        .is_some_and(|n| n.satisfies_meta(node_meta))
            })
            .cloned()
            .collect();
        let mut index = self.checks.max_index();
        if !node_meta.is_empty() {
            index = index.max(self.nodes.max_index());
        }
        (nonzero(index), checks)
    }

    pub fn watch_checks(&self, node_meta: bool) -> Watch {
        if node_meta {
            Watch::any([self.checks.watch_table(), self.nodes.watch_table()])
        } else {
            self.checks.watch_table()
        }
    }
}
