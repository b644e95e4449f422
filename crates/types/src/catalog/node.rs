//! `structs.Node`: a catalog node.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A node as the catalog lists it. The maps are `Option` because Go renders a nil map as
/// `null` (a node registered without `TaggedAddresses` shows `"TaggedAddresses": null`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct Node {
    #[serde(rename = "ID")]
    pub id: String,
    pub node: String,
    pub address: String,
    pub datacenter: String,
    pub tagged_addresses: Option<BTreeMap<String, String>>,
    pub meta: Option<BTreeMap<String, String>>,
    pub create_index: u64,
    pub modify_index: u64,
}

impl Node {
    /// True when every `key:value` pair of `filters` is in the node's meta (`?node-meta=`).
    pub fn satisfies_meta(&self, filters: &[(String, String)]) -> bool {
        filters.iter().all(|(k, v)| {
            self.meta
                .as_ref()
                .and_then(|m| m.get(k))
                .is_some_and(|have| have == v)
        })
    }

    /// Same registration data, ignoring the raft indexes (Consul's `Node.IsSame`).
    pub fn is_same(&self, other: &Node) -> bool {
        self.id == other.id
            && self.node == other.node
            && self.address == other.address
            && self.datacenter == other.datacenter
            && self.tagged_addresses == other.tagged_addresses
            && self.meta == other.meta
    }
}
