//! The local agent's service, check and maintenance endpoints under `/v1/agent/`.

use std::collections::BTreeMap;

use percent_encoding::utf8_percent_encode;
use reqwest::Method;
use serde::Deserialize;

use crate::client::Request;
use crate::kv::KEY_PATH;
use crate::{Client, Result};

/// One check of `GET /v1/agent/checks` (the fields the CLI reads).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AgentCheck {
    pub node: String,
    #[serde(rename = "CheckID")]
    pub check_id: String,
    pub name: String,
    pub status: String,
    pub notes: String,
    #[serde(rename = "ServiceID")]
    pub service_id: String,
    pub service_name: String,
}

/// What maintenance mode applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaintenanceTarget<'a> {
    /// The whole node (`/v1/agent/maintenance`).
    Node,
    /// One local service by ID (`/v1/agent/service/maintenance/:id`).
    Service(&'a str),
}

/// Agent endpoints of a [`Client`].
#[derive(Debug, Clone, Copy)]
pub struct Agent<'a> {
    client: &'a Client,
}

impl Client {
    /// The local agent endpoints.
    pub fn agent(&self) -> Agent<'_> {
        Agent { client: self }
    }
}

fn with_id(prefix: &str, id: &str) -> String {
    format!("{prefix}{}", utf8_percent_encode(id, KEY_PATH))
}

impl Agent<'_> {
    /// `GET /v1/agent/checks`, keyed by check ID.
    pub async fn checks(&self) -> Result<BTreeMap<String, AgentCheck>> {
        let resp = self
            .client
            .send(Request::new(Method::GET, "/v1/agent/checks"))
            .await?
            .require_ok()?;
        let checks: Option<BTreeMap<String, AgentCheck>> = resp.json()?;
        Ok(checks.unwrap_or_default())
    }

    /// `PUT /v1/agent/service/register` with `definition` as the JSON body (the agent's
    /// decoder takes PascalCase, lowercase and snake_case keys alike).
    pub async fn service_register(&self, definition: &serde_json::Value) -> Result<()> {
        let mut req = Request::new(Method::PUT, "/v1/agent/service/register");
        req.body = Some(definition.to_string().into_bytes());
        self.client.send(req).await?.require_ok()?;
        Ok(())
    }

    /// `PUT /v1/agent/service/deregister/:id`.
    pub async fn service_deregister(&self, id: &str) -> Result<()> {
        let path = with_id("/v1/agent/service/deregister/", id);
        self.client
            .send(Request::new(Method::PUT, path))
            .await?
            .require_ok()?;
        Ok(())
    }

    /// Enables (with `reason`, possibly empty) or disables maintenance mode.
    pub async fn maintenance(
        &self,
        target: MaintenanceTarget<'_>,
        enable: bool,
        reason: &str,
    ) -> Result<()> {
        let path = match target {
            MaintenanceTarget::Node => "/v1/agent/maintenance".to_string(),
            MaintenanceTarget::Service(id) => with_id("/v1/agent/service/maintenance/", id),
        };
        let mut req = Request::new(Method::PUT, path).param("enable", enable.to_string());
        if enable {
            req = req.param("reason", reason);
        }
        self.client.send(req).await?.require_ok()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_wire_shape() {
        let checks: BTreeMap<String, AgentCheck> = serde_json::from_str(
            r#"{"_node_maintenance":{"Node":"n","CheckID":"_node_maintenance","Name":"Node Maintenance Mode",
                "Status":"critical","Notes":"patching","ServiceID":"","ServiceName":"","Type":""}}"#,
        )
        .unwrap_or_default();
        assert_eq!(checks["_node_maintenance"].notes, "patching");
        assert_eq!(
            with_id("/v1/agent/service/deregister/", "a b"),
            "/v1/agent/service/deregister/a%20b"
        );
    }
}
