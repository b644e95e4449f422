//! Services in their two shapes: `NodeService` (agent form: `ID`, `Service`, `Tags`, ...,
//! used by `/v1/catalog/node/:n` and `/v1/health/service/:s`) and `ServiceNode` (catalog
//! form: node fields plus `Service*` fields, used by `/v1/catalog/service/:s`).

use super::node::Node;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// DNS SRV weights. Consul fills `{1, 1}` when a registration gives none (or invalid ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Weights {
    pub passing: i64,
    pub warning: i64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            passing: 1,
            warning: 1,
        }
    }
}

/// A service tagged address. Consul's catalog and health output spell these fields in
/// lowercase (`{"address": .., "port": ..}`); input matches case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ServiceAddress {
    pub address: String,
    pub port: u16,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u16) -> bool {
    *n == 0
}

/// `structs.ConnectProxyConfig`, kept for round-tripping: proconsul has no service mesh, but
/// registrations that carry a proxy block must read back the same. `MeshGateway` and
/// `Expose` are structs in Go, so they render as `{}` even when unset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct ConnectProxyConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub destination_service_name: String,
    #[serde(
        rename = "DestinationServiceID",
        skip_serializing_if = "String::is_empty"
    )]
    pub destination_service_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub local_service_address: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub local_service_port: u16,
    pub mode: String,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub config: Map<String, Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub upstreams: Vec<Value>,
    pub mesh_gateway: Map<String, Value>,
    pub expose: Map<String, Value>,
}

/// `structs.ServiceConnect`; only `Native` is kept (sidecar registration is agent-side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceConnect {
    #[serde(skip_serializing_if = "is_false")]
    pub native: bool,
}

/// A service instance on a node, agent form (`structs.NodeService`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct NodeService {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(rename = "ID")]
    pub id: String,
    pub service: String,
    pub tags: Vec<String>,
    pub address: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tagged_addresses: BTreeMap<String, ServiceAddress>,
    pub meta: Option<BTreeMap<String, String>>,
    pub port: u16,
    /// `None` on input means "not given" (Consul then stores `{1, 1}`).
    pub weights: Option<Weights>,
    pub enable_tag_override: bool,
    pub proxy: ConnectProxyConfig,
    pub connect: ServiceConnect,
    /// `Locality` (`{"Region": .., "Zone": ..}`), kept as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locality: Option<Value>,
    pub create_index: u64,
    pub modify_index: u64,
}

impl NodeService {
    /// Same registration data, ignoring the raft indexes.
    pub fn is_same(&self, other: &NodeService) -> bool {
        let mut a = self.clone();
        a.create_index = other.create_index;
        a.modify_index = other.modify_index;
        a == *other
    }

    /// True when the instance carries every tag in `tags` (`?tag=` is an AND, compared
    /// case-insensitively as Consul's `serviceTagFilter` does).
    pub fn has_tags(&self, tags: &[String]) -> bool {
        tags.iter()
            .all(|want| self.tags.iter().any(|t| t.eq_ignore_ascii_case(want)))
    }

    /// The catalog form of this instance on `node`.
    pub fn to_service_node(&self, node: &Node) -> ServiceNode {
        ServiceNode {
            id: node.id.clone(),
            node: node.node.clone(),
            address: node.address.clone(),
            datacenter: node.datacenter.clone(),
            tagged_addresses: node.tagged_addresses.clone(),
            node_meta: node.meta.clone(),
            service_kind: self.kind.clone(),
            service_id: self.id.clone(),
            service_name: self.service.clone(),
            service_tags: self.tags.clone(),
            service_address: self.address.clone(),
            service_tagged_addresses: self.tagged_addresses.clone(),
            service_weights: self.weights.unwrap_or_default(),
            service_meta: self.meta.clone(),
            service_port: self.port,
            service_enable_tag_override: self.enable_tag_override,
            service_proxy: self.proxy.clone(),
            service_connect: self.connect.clone(),
            create_index: self.create_index,
            modify_index: self.modify_index,
        }
    }
}

/// A service instance joined with its node, catalog form (`structs.ServiceNode`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceNode {
    #[serde(rename = "ID")]
    pub id: String,
    pub node: String,
    pub address: String,
    pub datacenter: String,
    pub tagged_addresses: Option<BTreeMap<String, String>>,
    pub node_meta: Option<BTreeMap<String, String>>,
    pub service_kind: String,
    #[serde(rename = "ServiceID")]
    pub service_id: String,
    pub service_name: String,
    pub service_tags: Vec<String>,
    pub service_address: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub service_tagged_addresses: BTreeMap<String, ServiceAddress>,
    pub service_weights: Weights,
    pub service_meta: Option<BTreeMap<String, String>>,
    pub service_port: u16,
    pub service_enable_tag_override: bool,
    pub service_proxy: ConnectProxyConfig,
    pub service_connect: ServiceConnect,
    pub create_index: u64,
    pub modify_index: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_service_renders_like_consul() {
        let svc = NodeService {
            id: "redis1".into(),
            service: "redis".into(),
            port: 8000,
            weights: Some(Weights::default()),
            ..NodeService::default()
        };
        let json = serde_json::to_string(&svc).expect("serializes");
        assert_eq!(
            json,
            r#"{"ID":"redis1","Service":"redis","Tags":[],"Address":"","Meta":null,"Port":8000,"Weights":{"Passing":1,"Warning":1},"EnableTagOverride":false,"Proxy":{"Mode":"","MeshGateway":{},"Expose":{}},"Connect":{},"CreateIndex":0,"ModifyIndex":0}"#
        );
    }

    #[test]
    fn service_node_field_order() {
        let node = Node {
            node: "n1".into(),
            address: "10.0.0.1".into(),
            ..Node::default()
        };
        let svc = NodeService {
            id: "web".into(),
            service: "web".into(),
            ..NodeService::default()
        };
        let json = serde_json::to_string(&svc.to_service_node(&node)).expect("serializes");
        let order = [
            "ID",
            "Node",
            "Address",
            "Datacenter",
            "TaggedAddresses",
            "NodeMeta",
            "ServiceKind",
            "ServiceID",
            "ServiceName",
            "ServiceTags",
            "ServiceAddress",
            "ServiceWeights",
            "ServiceMeta",
            "ServicePort",
            "ServiceEnableTagOverride",
            "ServiceProxy",
            "ServiceConnect",
            "CreateIndex",
            "ModifyIndex",
        ];
        let positions: Vec<usize> = order
            .iter()
            .map(|k| json.find(&format!("\"{k}\":")).expect("field present"))
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{json}");
        assert!(json.contains(r#""ServiceWeights":{"Passing":1,"Warning":1}"#));
    }
}
