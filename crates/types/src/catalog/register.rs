//! `PUT /v1/catalog/register` and `/v1/catalog/deregister` bodies (`structs.RegisterRequest`,
//! `structs.DeregisterRequest`), with the defaults and checks Consul's `Catalog.Register`
//! RPC applies before anything reaches Raft.

use super::check::HealthCheck;
use super::node::Node;
use super::service::NodeService;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Validation failures, with Consul's texts (returned as 500s, as Consul's RPC errors are).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    #[error("Must provide node")]
    MissingNode,
    #[error("Must provide address if SkipNodeUpdate is not set")]
    MissingAddress,
    #[error("Bad node ID: {0}")]
    BadNodeId(String),
    #[error("Must provide service name with ID")]
    MissingServiceName,
    #[error("Invalid service address")]
    InvalidServiceAddress,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct RegisterRequest {
    pub datacenter: String,
    #[serde(rename = "ID")]
    pub id: String,
    pub node: String,
    pub address: String,
    pub tagged_addresses: Option<BTreeMap<String, String>>,
    pub node_meta: Option<BTreeMap<String, String>>,
    pub service: Option<NodeService>,
    /// The old single-check field; `normalize` moves it into `checks`.
    pub check: Option<HealthCheck>,
    pub checks: Vec<HealthCheck>,
    pub skip_node_update: bool,
}

impl RegisterRequest {
    /// Validates and fills defaults as Consul does before proposing: the service ID defaults
    /// to its name, a check's ID to its name and its node to the request's node, `Check`
    /// joins `Checks`, an empty check `Type` is derived from the definition, and invalid
    /// weights become `{1, 1}`.
    pub fn normalize(&mut self, default_datacenter: &str) -> Result<(), RegisterError> {
        if self.node.is_empty() {
            return Err(RegisterError::MissingNode);
        }
        if self.address.is_empty() && !self.skip_node_update {
            return Err(RegisterError::MissingAddress);
        }
        if !self.id.is_empty() {
            check_uuid(&self.id).map_err(RegisterError::BadNodeId)?;
        }
        if self.datacenter.is_empty() {
            self.datacenter = default_datacenter.to_string();
        }
        if let Some(service) = &mut self.service {
            normalize_service(service)?;
        }
        if let Some(check) = self.check.take() {
            self.checks.push(check);
        }
        for check in &mut self.checks {
            if check.node.is_empty() {
                check.node = self.node.clone();
            }
            if check.check_id.is_empty() && !check.name.is_empty() {
                check.check_id = check.name.clone();
            }
            if check.check_type.is_empty() {
                check.check_type = check.definition.check_type().to_string();
            }
        }
        Ok(())
    }

    /// The node row this request describes.
    pub fn to_node(&self) -> Node {
        Node {
            id: self.id.clone(),
            node: self.node.clone(),
            address: self.address.clone(),
            datacenter: self.datacenter.clone(),
            tagged_addresses: self.tagged_addresses.clone(),
            meta: self.node_meta.clone(),
            create_index: 0,
            modify_index: 0,
        }
    }
}

/// Consul's `servicePreApply` defaults for a service about to be written: the ID defaults to
/// the name, a name is required with an ID, wildcard addresses are refused and invalid
/// weights become `{1, 1}`.
pub fn normalize_service(service: &mut NodeService) -> Result<(), RegisterError> {
    if service.id.is_empty() && !service.service.is_empty() {
        service.id = service.service.clone();
    }
    if !service.id.is_empty() && service.service.is_empty() {
        return Err(RegisterError::MissingServiceName);
    }
    if matches!(service.address.as_str(), "0.0.0.0" | "::" | "[::]") {
        return Err(RegisterError::InvalidServiceAddress);
    }
    // Consul's `ToServiceNode`: weights with Passing < 1 or Warning < 0 are replaced.
    service.weights = Some(match service.weights {
        Some(w) if w.passing >= 1 && w.warning >= 0 => w,
        _ => super::service::Weights::default(),
    });
    Ok(())
}

/// hashicorp/go-uuid's `ParseUUID` checks, with its error texts.
pub fn check_uuid(id: &str) -> Result<(), String> {
    if id.len() != 36 {
        return Err("uuid string is wrong length".into());
    }
    let bytes = id.as_bytes();
    if [8, 13, 18, 23].iter().any(|&i| bytes[i] != b'-') {
        return Err("uuid is improperly formatted".into());
    }
    for (i, c) in id.chars().enumerate() {
        if [8, 13, 18, 23].contains(&i) {
            continue;
        }
        if !c.is_ascii_hexdigit() {
            return Err(format!(
                "encoding/hex: invalid byte: U+{:04X} {c:?}",
                u32::from(c)
            ));
        }
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeregisterRequest {
    pub datacenter: String,
    pub node: String,
    #[serde(rename = "ServiceID")]
    pub service_id: String,
    #[serde(rename = "CheckID")]
    pub check_id: String,
}

impl DeregisterRequest {
    pub fn validate(&self) -> Result<(), RegisterError> {
        if self.node.is_empty() {
            return Err(RegisterError::MissingNode);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_case_insensitively_and_fills_defaults() {
        let body = json!({
            "node": "ext", "address": "10.0.0.9",
            "service": {"service": "web", "tags": ["a"], "port": 80},
            "check": {"name": "web-alive", "serviceid": "web", "status": "passing",
                      "definition": {"tcp": "10.0.0.9:80", "interval": "10s"}}
        });
        let mut req: RegisterRequest = crate::decode::from_value(body).expect("decodes");
        req.normalize("dc1").expect("valid");
        let service = req.service.as_ref().expect("service");
        assert_eq!(service.id, "web");
        assert_eq!(service.weights.map(|w| w.passing), Some(1));
        assert_eq!(req.datacenter, "dc1");
        assert_eq!(req.checks.len(), 1);
        assert_eq!(req.checks[0].check_id, "web-alive");
        assert_eq!(req.checks[0].node, "ext");
        assert_eq!(req.checks[0].check_type, "tcp");
    }

    #[test]
    fn validation_texts() {
        let mut req = RegisterRequest::default();
        assert_eq!(
            req.normalize("dc1").map_err(|e| e.to_string()),
            Err("Must provide node".into())
        );
        req.node = "n".into();
        assert_eq!(req.normalize("dc1"), Err(RegisterError::MissingAddress));
        req.address = "1.2.3.4".into();
        req.id = "nope".into();
        assert_eq!(
            req.normalize("dc1").map_err(|e| e.to_string()),
            Err("Bad node ID: uuid string is wrong length".into())
        );
        req.id = "40e4a748-2192-161a-0510-9bf59fe950b5".into();
        req.service = Some(NodeService {
            id: "x".into(),
            ..NodeService::default()
        });
        assert_eq!(req.normalize("dc1"), Err(RegisterError::MissingServiceName));
    }
}
