//! `structs.HealthCheck` and its `Definition`.

use crate::duration::GoDuration;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// Check status values, spelled as Consul spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Passing,
    Warning,
    #[default]
    Critical,
    Maintenance,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Passing => "passing",
            CheckStatus::Warning => "warning",
            CheckStatus::Critical => "critical",
            CheckStatus::Maintenance => "maintenance",
        }
    }

    /// Parses a status; the empty string is Consul's "not given", which means critical.
    pub fn parse(text: &str) -> Option<CheckStatus> {
        match text {
            "" | "critical" => Some(CheckStatus::Critical),
            "passing" => Some(CheckStatus::Passing),
            "warning" => Some(CheckStatus::Warning),
            "maintenance" => Some(CheckStatus::Maintenance),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for CheckStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Option::<String>::deserialize(deserializer)?.unwrap_or_default();
        CheckStatus::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("invalid health check status {text:?}"))
        })
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How a check is run (`structs.HealthCheckDefinition`). Every field is `omitempty` in
/// Consul, so a catalog check registered without one renders `"Definition": {}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthCheckDefinition {
    #[serde(rename = "HTTP", skip_serializing_if = "String::is_empty")]
    pub http: String,
    #[serde(rename = "TLSServerName", skip_serializing_if = "String::is_empty")]
    pub tls_server_name: String,
    #[serde(rename = "TLSSkipVerify", skip_serializing_if = "is_false")]
    pub tls_skip_verify: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub header: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub method: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub body: String,
    #[serde(skip_serializing_if = "is_false")]
    pub disable_redirects: bool,
    #[serde(rename = "TCP", skip_serializing_if = "String::is_empty")]
    pub tcp: String,
    #[serde(rename = "TCPUseTLS", skip_serializing_if = "is_false")]
    pub tcp_use_tls: bool,
    #[serde(rename = "UDP", skip_serializing_if = "String::is_empty")]
    pub udp: String,
    #[serde(rename = "H2PING", skip_serializing_if = "String::is_empty")]
    pub h2ping: String,
    #[serde(rename = "OSService", skip_serializing_if = "String::is_empty")]
    pub os_service: String,
    #[serde(rename = "H2PingUseTLS", skip_serializing_if = "is_false")]
    pub h2ping_use_tls: bool,
    #[serde(skip_serializing_if = "GoDuration::is_zero")]
    pub interval: GoDuration,
    #[serde(skip_serializing_if = "is_zero")]
    pub output_max_size: u64,
    #[serde(skip_serializing_if = "GoDuration::is_zero")]
    pub timeout: GoDuration,
    #[serde(skip_serializing_if = "GoDuration::is_zero")]
    pub deregister_critical_service_after: GoDuration,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub script_args: Vec<String>,
    #[serde(rename = "DockerContainerID", skip_serializing_if = "String::is_empty")]
    pub docker_container_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub shell: String,
    #[serde(rename = "GRPC", skip_serializing_if = "String::is_empty")]
    pub grpc: String,
    #[serde(rename = "GRPCUseTLS", skip_serializing_if = "is_false")]
    pub grpc_use_tls: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub alias_node: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub alias_service: String,
    #[serde(rename = "TTL", skip_serializing_if = "GoDuration::is_zero")]
    pub ttl: GoDuration,
}

impl HealthCheckDefinition {
    /// The check type Consul derives from a definition (`CheckType.Type()`), used when a
    /// catalog registration leaves `Type` empty. Network kinds need an interval; script and
    /// Docker checks are named by their arguments alone, as in Consul.
    pub fn check_type(&self) -> &'static str {
        let timed = !self.interval.is_zero();
        if timed && !self.grpc.is_empty() {
            "grpc"
        } else if timed && !self.http.is_empty() {
            "http"
        } else if !self.ttl.is_zero() {
            "ttl"
        } else if timed && !self.tcp.is_empty() {
            "tcp"
        } else if timed && !self.udp.is_empty() {
            "udp"
        } else if !self.alias_node.is_empty() || !self.alias_service.is_empty() {
            "alias"
        } else if !self.script_args.is_empty() && !self.docker_container_id.is_empty() {
            "docker"
        } else if !self.script_args.is_empty() {
            "script"
        } else if timed && !self.h2ping.is_empty() {
            "h2ping"
        } else if timed && !self.os_service.is_empty() {
            "os_service"
        } else {
            ""
        }
    }
}

/// A health check row (`structs.HealthCheck`), node-level when `ServiceID` is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthCheck {
    pub node: String,
    #[serde(rename = "CheckID")]
    pub check_id: String,
    pub name: String,
    pub status: CheckStatus,
    pub notes: String,
    pub output: String,
    #[serde(rename = "ServiceID")]
    pub service_id: String,
    pub service_name: String,
    pub service_tags: Vec<String>,
    #[serde(rename = "Type")]
    pub check_type: String,
    /// Kept as given (a string), as in Consul's struct; the parsed value is in `Definition`.
    pub interval: String,
    pub timeout: String,
    pub exposed_port: u16,
    pub definition: HealthCheckDefinition,
    pub create_index: u64,
    pub modify_index: u64,
}

impl HealthCheck {
    /// Same check data, ignoring the raft indexes (Consul's `HealthCheck.IsSame`).
    pub fn is_same(&self, other: &HealthCheck) -> bool {
        let mut a = self.clone();
        a.create_index = other.create_index;
        a.modify_index = other.modify_index;
        a == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_consul() {
        let check = HealthCheck {
            node: "n1".into(),
            check_id: "serfHealth".into(),
            name: "Serf Health Status".into(),
            status: CheckStatus::Passing,
            ..HealthCheck::default()
        };
        let json = serde_json::to_string(&check).expect("serializes");
        assert_eq!(
            json,
            r#"{"Node":"n1","CheckID":"serfHealth","Name":"Serf Health Status","Status":"passing","Notes":"","Output":"","ServiceID":"","ServiceName":"","ServiceTags":[],"Type":"","Interval":"","Timeout":"","ExposedPort":0,"Definition":{},"CreateIndex":0,"ModifyIndex":0}"#
        );
    }

    #[test]
    fn definition_durations_accept_strings_and_nanoseconds() {
        let value =
            serde_json::json!({"http": "http://x", "interval": "10s", "Timeout": 5_000_000_000u64});
        let def: HealthCheckDefinition = crate::decode::from_value(value).expect("decodes");
        assert_eq!(def.check_type(), "http");
        let json = serde_json::to_string(&def).expect("serializes");
        assert_eq!(
            json,
            r#"{"HTTP":"http://x","Interval":"10s","Timeout":"5s"}"#
        );
    }

    #[test]
    fn empty_status_means_critical() {
        let check: HealthCheck =
            crate::decode::from_value(serde_json::json!({"Status": ""})).expect("decodes");
        assert_eq!(check.status, CheckStatus::Critical);
        assert!(
            crate::decode::from_value::<HealthCheck>(serde_json::json!({"Status": "bogus"}))
                .is_err()
        );
    }
}
