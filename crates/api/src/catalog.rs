//! The catalog reads: `/v1/catalog/datacenters|nodes|services|service/:name|node/:node`.
//!
//! The structs carry the fields the CLI prints; unknown fields are ignored and `null`
//! maps or lists read as empty, as Go's decoder leaves them nil.

use std::collections::BTreeMap;

use percent_encoding::utf8_percent_encode;
use reqwest::Method;
use serde::{Deserialize, Deserializer};

use crate::client::{QueryMeta, QueryOptions, Request};
use crate::kv::KEY_PATH;
use crate::{Client, Result};

/// One node of `GET /v1/catalog/nodes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Node {
    #[serde(rename = "ID")]
    pub id: String,
    pub node: String,
    pub address: String,
    pub datacenter: String,
    #[serde(deserialize_with = "null_default")]
    pub tagged_addresses: BTreeMap<String, String>,
    #[serde(deserialize_with = "null_default")]
    pub meta: BTreeMap<String, String>,
}

/// One instance of `GET /v1/catalog/service/:name` (node fields only, what the CLI uses).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CatalogService {
    #[serde(rename = "ID")]
    pub id: String,
    pub node: String,
    pub address: String,
    pub datacenter: String,
    #[serde(deserialize_with = "null_default")]
    pub tagged_addresses: BTreeMap<String, String>,
    #[serde(deserialize_with = "null_default")]
    pub node_meta: BTreeMap<String, String>,
    pub service_name: String,
}

impl CatalogService {
    /// The node part, as Consul's `catalog nodes -service` builds it.
    pub fn to_node(&self) -> Node {
        Node {
            id: self.id.clone(),
            node: self.node.clone(),
            address: self.address.clone(),
            datacenter: self.datacenter.clone(),
            tagged_addresses: self.tagged_addresses.clone(),
            meta: self.node_meta.clone(),
        }
    }
}

/// A service of `GET /v1/catalog/node/:node`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CatalogNodeService {
    #[serde(rename = "ID")]
    pub id: String,
    pub service: String,
    #[serde(deserialize_with = "null_default")]
    pub tags: Vec<String>,
}

/// `GET /v1/catalog/node/:node`: the node and its services keyed by ID.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CatalogNode {
    pub node: Option<Node>,
    #[serde(deserialize_with = "null_default")]
    pub services: BTreeMap<String, CatalogNodeService>,
}

fn null_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Catalog endpoints of a [`Client`].
#[derive(Debug, Clone, Copy)]
pub struct Catalog<'a> {
    client: &'a Client,
}

impl Client {
    /// The catalog endpoints.
    pub fn catalog(&self) -> Catalog<'_> {
        Catalog { client: self }
    }
}

/// `/v1/catalog/<what>/<name>` with the name percent-encoded like a key path.
fn named(what: &str, name: &str) -> String {
    format!("/v1/catalog/{what}/{}", utf8_percent_encode(name, KEY_PATH))
}

impl Catalog<'_> {
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: String,
        q: &QueryOptions,
    ) -> Result<(T, QueryMeta)> {
        let resp = self
            .client
            .send(Request::new(Method::GET, path).query(q))
            .await?
            .require_ok()?;
        Ok((resp.json()?, resp.meta))
    }

    /// Known datacenters (no query options, as in Go's client).
    pub async fn datacenters(&self) -> Result<Vec<String>> {
        let (dcs, _): (Option<Vec<String>>, _) = self
            .get("/v1/catalog/datacenters".into(), &QueryOptions::default())
            .await?;
        Ok(dcs.unwrap_or_default())
    }

    /// Every node (honours `near`, `node_meta`, `filter`).
    pub async fn nodes(&self, q: &QueryOptions) -> Result<(Vec<Node>, QueryMeta)> {
        let (nodes, meta): (Option<Vec<Node>>, _) = self.get("/v1/catalog/nodes".into(), q).await?;
        Ok((nodes.unwrap_or_default(), meta))
    }

    /// Service names with their tags.
    pub async fn services(
        &self,
        q: &QueryOptions,
    ) -> Result<(BTreeMap<String, Vec<String>>, QueryMeta)> {
        type Wire = Option<BTreeMap<String, Option<Vec<String>>>>;
        let (services, meta): (Wire, _) = self.get("/v1/catalog/services".into(), q).await?;
        let services = services
            .unwrap_or_default()
            .into_iter()
            .map(|(name, tags)| (name, tags.unwrap_or_default()))
            .collect();
        Ok((services, meta))
    }

    /// Instances of one service.
    pub async fn service(
        &self,
        name: &str,
        q: &QueryOptions,
    ) -> Result<(Vec<CatalogService>, QueryMeta)> {
        let (list, meta): (Option<Vec<CatalogService>>, _) =
            self.get(named("service", name), q).await?;
        Ok((list.unwrap_or_default(), meta))
    }

    /// One node with its services; `None` when the node is unknown.
    pub async fn node(
        &self,
        node: &str,
        q: &QueryOptions,
    ) -> Result<(Option<CatalogNode>, QueryMeta)> {
        self.get(named("node", node), q).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shapes_with_nulls() {
        let nodes: Vec<Node> = serde_json::from_str(
            r#"[{"ID":"a-b","Node":"n1","Address":"10.0.0.1","Datacenter":"dc1",
                "TaggedAddresses":null,"Meta":{"k":"v"},"CreateIndex":1}]"#,
        )
        .unwrap_or_default();
        assert_eq!(nodes[0].id, "a-b");
        assert!(nodes[0].tagged_addresses.is_empty());
        assert_eq!(nodes[0].meta.get("k").map(String::as_str), Some("v"));
        let node: Option<CatalogNode> = serde_json::from_str(
            r#"{"Node":{"Node":"n1"},"Services":{"web1":{"ID":"web1","Service":"web","Tags":null}}}"#,
        )
        .unwrap_or_default();
        let node = node.unwrap_or_default();
        assert_eq!(node.services["web1"].service, "web");
        assert!(node.services["web1"].tags.is_empty());
        assert_eq!(named("node", "a b/c"), "/v1/catalog/node/a%20b/c");
    }
}
