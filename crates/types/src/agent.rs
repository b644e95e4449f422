//! Agent-local definitions: what `PUT /v1/agent/service/register`, `PUT
//! /v1/agent/check/register` and the `service {}` / `check {}` blocks of config files accept
//! (`structs.ServiceDefinition`, `structs.CheckDefinition`, `structs.CheckType`), with the
//! validation Consul applies before a definition reaches the agent's local state.
//!
//! Decode with [`crate::decode`]: field names match case-insensitively and in snake_case,
//! so API bodies (`EnableTagOverride`), python-consul bodies (`enabletagoverride`) and
//! config files (`enable_tag_override`) all land here.

use crate::catalog::{
    CheckStatus, ConnectProxyConfig, HealthCheck, HealthCheckDefinition, NodeService,
    ServiceAddress, ServiceConnect, Weights,
};
use crate::duration::GoDuration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Why a definition was refused, with Consul's texts (the HTTP layer adds the prefixes
/// Consul adds: `Invalid check: `, `Invalid Weights: `, `Invalid Service Meta: `).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    #[error("Interval and TTL cannot both be specified")]
    IntervalAndTtl,
    #[error("Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or gRPC checks")]
    MissingInterval,
    #[error("Interval cannot be set for Alias checks")]
    AliasInterval,
    #[error("TTL must be not be set for Alias checks")]
    AliasTtl,
    #[error("TTL must be > 0 for TTL checks")]
    MissingTtl,
    #[error("MaxOutputMaxSize must be positive")]
    NegativeOutputMaxSize,
}

/// How a check runs (`structs.CheckType` plus the `CheckDefinition` fields: `ID`,
/// `ServiceID`, `Token`). Used for a service's `Check`/`Checks` and for standalone checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct CheckDefinition {
    /// Standalone checks name their ID `ID`; service checks `CheckID`. Either is accepted.
    #[serde(rename = "ID", skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(rename = "CheckID", skip_serializing_if = "String::is_empty")]
    pub check_id: String,
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub notes: String,
    #[serde(rename = "ServiceID", skip_serializing_if = "String::is_empty")]
    pub service_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub token: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub script_args: Vec<String>,
    /// `args` in config files is the same as `ScriptArgs`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(rename = "HTTP", skip_serializing_if = "String::is_empty")]
    pub http: String,
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
    #[serde(skip_serializing_if = "GoDuration::is_zero")]
    pub interval: GoDuration,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub alias_node: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub alias_service: String,
    #[serde(rename = "DockerContainerID", skip_serializing_if = "String::is_empty")]
    pub docker_container_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub shell: String,
    #[serde(rename = "GRPC", skip_serializing_if = "String::is_empty")]
    pub grpc: String,
    #[serde(rename = "GRPCUseTLS", skip_serializing_if = "is_false")]
    pub grpc_use_tls: bool,
    #[serde(rename = "H2PING", skip_serializing_if = "String::is_empty")]
    pub h2ping: String,
    /// Consul defaults `H2PingUseTLS` to true when the field is absent.
    #[serde(rename = "H2PingUseTLS", skip_serializing_if = "Option::is_none")]
    pub h2ping_use_tls: Option<bool>,
    #[serde(rename = "TLSServerName", skip_serializing_if = "String::is_empty")]
    pub tls_server_name: String,
    #[serde(rename = "TLSSkipVerify", skip_serializing_if = "is_false")]
    pub tls_skip_verify: bool,
    #[serde(skip_serializing_if = "GoDuration::is_zero")]
    pub timeout: GoDuration,
    #[serde(rename = "TTL", skip_serializing_if = "GoDuration::is_zero")]
    pub ttl: GoDuration,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub success_before_passing: u32,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub failures_before_warning: u32,
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub failures_before_critical: u32,
    #[serde(skip_serializing_if = "GoDuration::is_zero")]
    pub deregister_critical_service_after: GoDuration,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub output_max_size: i64,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

impl CheckDefinition {
    /// Folds the alternative spellings into one: `CheckID` into `ID`, `args` into
    /// `ScriptArgs`. Call once after decoding.
    pub fn normalize(&mut self) {
        if self.id.is_empty() {
            self.id = std::mem::take(&mut self.check_id);
        } else {
            self.check_id.clear();
        }
        if self.script_args.is_empty() {
            self.script_args = std::mem::take(&mut self.args);
        } else {
            self.args.clear();
        }
    }

    /// True when nothing at all was given (Consul's `CheckType.Empty`): a service's
    /// absent `Check` decodes to this and is skipped.
    pub fn is_empty(&self) -> bool {
        *self == CheckDefinition::default()
    }

    fn is_script(&self) -> bool {
        !self.script_args.is_empty()
    }

    /// A check that runs something on an interval (as opposed to TTL and alias checks).
    fn is_interval_check(&self) -> bool {
        self.is_script()
            || !self.http.is_empty()
            || !self.tcp.is_empty()
            || !self.udp.is_empty()
            || !self.grpc.is_empty()
            || !self.h2ping.is_empty()
    }

    pub fn is_alias(&self) -> bool {
        !self.alias_service.is_empty() || !self.alias_node.is_empty()
    }

    /// Script and Docker checks run commands: refused unless script checks are enabled.
    pub fn runs_commands(&self) -> bool {
        self.is_script()
    }

    /// `CheckType.Validate`, with Consul's texts.
    pub fn validate(&self) -> Result<(), DefinitionError> {
        let interval_check = self.is_interval_check();
        if !self.interval.is_zero() && !self.ttl.is_zero() {
            return Err(DefinitionError::IntervalAndTtl);
        }
        if interval_check && self.interval.is_zero() {
            return Err(DefinitionError::MissingInterval);
        }
        if interval_check && self.is_alias() {
            return Err(DefinitionError::AliasInterval);
        }
        if self.is_alias() && !self.ttl.is_zero() {
            return Err(DefinitionError::AliasTtl);
        }
        if !interval_check && !self.is_alias() && self.ttl.is_zero() {
            return Err(DefinitionError::MissingTtl);
        }
        if self.output_max_size < 0 {
            return Err(DefinitionError::NegativeOutputMaxSize);
        }
        Ok(())
    }

    /// `CheckType.Type()`: the kind as the API names it (one rule, the catalog's).
    pub fn check_type(&self) -> &'static str {
        self.catalog_definition().check_type()
    }

    /// True when `status` is empty or one of the three statuses a check may start in.
    pub fn has_valid_status(&self) -> bool {
        matches!(
            self.status.as_str(),
            "" | "passing" | "warning" | "critical"
        )
    }

    /// The catalog row for this check on `node`, before any run: Consul's initial status
    /// is critical unless the definition says otherwise.
    pub fn to_health_check(&self, node: &str) -> HealthCheck {
        HealthCheck {
            node: node.to_string(),
            check_id: self.id.clone(),
            name: self.name.clone(),
            status: CheckStatus::parse(&self.status).unwrap_or(CheckStatus::Critical),
            notes: self.notes.clone(),
            output: String::new(),
            service_id: self.service_id.clone(),
            check_type: self.check_type().to_string(),
            interval: crate::duration::format(self.interval.0),
            timeout: crate::duration::format(self.timeout.0),
            definition: self.catalog_definition(),
            ..HealthCheck::default()
        }
    }

    /// The `Definition` block the catalog keeps for this check.
    fn catalog_definition(&self) -> HealthCheckDefinition {
        HealthCheckDefinition {
            http: self.http.clone(),
            tls_server_name: self.tls_server_name.clone(),
            tls_skip_verify: self.tls_skip_verify,
            header: self.header.clone(),
            method: self.method.clone(),
            body: self.body.clone(),
            disable_redirects: self.disable_redirects,
            tcp: self.tcp.clone(),
            tcp_use_tls: self.tcp_use_tls,
            udp: self.udp.clone(),
            h2ping: self.h2ping.clone(),
            h2ping_use_tls: self.h2ping_use_tls.unwrap_or(true) && !self.h2ping.is_empty(),
            interval: self.interval,
            output_max_size: self.output_max_size.max(0) as u64,
            timeout: self.timeout,
            deregister_critical_service_after: self.deregister_critical_service_after,
            script_args: self.script_args.clone(),
            docker_container_id: self.docker_container_id.clone(),
            shell: self.shell.clone(),
            grpc: self.grpc.clone(),
            grpc_use_tls: self.grpc_use_tls,
            alias_node: self.alias_node.clone(),
            alias_service: self.alias_service.clone(),
            ttl: self.ttl,
            ..HealthCheckDefinition::default()
        }
    }
}

/// `structs.ServiceDefinition`: a service registered with the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceDefinition {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub tags: Vec<String>,
    pub address: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tagged_addresses: BTreeMap<String, ServiceAddress>,
    pub meta: BTreeMap<String, String>,
    pub port: u16,
    pub weights: Option<Weights>,
    pub enable_tag_override: bool,
    #[serde(skip_serializing_if = "CheckDefinition::is_empty")]
    pub check: CheckDefinition,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckDefinition>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub token: String,
    pub proxy: ConnectProxyConfig,
    pub connect: ServiceConnect,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locality: Option<serde_json::Value>,
}

/// Consul's limits on metadata (`structs.ValidateServiceMetadata`).
const META_MAX_PAIRS: usize = 64;
const META_KEY_MAX_LEN: usize = 128;
const META_VALUE_MAX_LEN: usize = 512;

impl ServiceDefinition {
    /// Folds alternative spellings in the definition's checks; defaults the ID to the name.
    pub fn normalize(&mut self) {
        if self.id.is_empty() {
            self.id = self.name.clone();
        }
        self.check.normalize();
        for check in &mut self.checks {
            check.normalize();
        }
    }

    /// `structs.ValidateWeights`.
    pub fn validate_weights(&self) -> Result<(), String> {
        let Some(w) = self.weights else {
            return Ok(());
        };
        if w.passing < 1 {
            return Err("Passing must be greater than 0".into());
        }
        if w.warning < 0 {
            return Err("Warning must be greater or equal than 0".into());
        }
        if w.passing > 65535 || w.warning > 65535 {
            return Err("DNS Weight must be between 0 and 65535".into());
        }
        Ok(())
    }

    /// `structs.ValidateServiceMetadata` for typical services.
    pub fn validate_meta(&self) -> Result<(), String> {
        if self.meta.len() > META_MAX_PAIRS {
            return Err(format!(
                "Node metadata cannot contain more than {META_MAX_PAIRS} key/value pairs"
            ));
        }
        for (key, value) in &self.meta {
            let problem = if key.is_empty() {
                Some("Key cannot be blank")
            } else if !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                Some("Key contains invalid characters")
            } else if key.len() > META_KEY_MAX_LEN {
                Some("Key is too long (limit: 128 characters)")
            } else if key.starts_with("consul-") {
                Some("Key prefix 'consul-' is reserved for internal use")
            } else if value.len() > META_VALUE_MAX_LEN {
                Some("Value is too long (limit: 512 characters)")
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(format!(
                    "Couldn't load metadata pair ('{key}', '{value}'): {problem}"
                ));
            }
        }
        Ok(())
    }

    /// `ServiceDefinition.CheckTypes`: the non-empty `Check` then `Checks`, each validated.
    pub fn check_definitions(&self) -> Result<Vec<CheckDefinition>, DefinitionError> {
        let mut out = Vec::new();
        if !self.check.is_empty() {
            self.check.validate()?;
            out.push(self.check.clone());
        }
        for check in &self.checks {
            check.validate()?;
            out.push(check.clone());
        }
        Ok(out)
    }

    /// The agent form of the service. Weights default to `{1, 1}`.
    pub fn to_node_service(&self) -> NodeService {
        NodeService {
            kind: self.kind.clone(),
            id: self.id.clone(),
            service: self.name.clone(),
            tags: self.tags.clone(),
            address: self.address.clone(),
            tagged_addresses: self.tagged_addresses.clone(),
            meta: Some(self.meta.clone()),
            port: self.port,
            weights: Some(self.weights.unwrap_or_default()),
            enable_tag_override: self.enable_tag_override,
            proxy: self.proxy.clone(),
            connect: self.connect.clone(),
            locality: self.locality.clone(),
            create_index: 0,
            modify_index: 0,
        }
    }

    /// The service's checks with Consul's defaults filled in: IDs `service:<id>` (or
    /// `service:<id>:<n>` when there are several), names `Service '<name>' check`.
    pub fn service_checks(
        &self,
        checks: Vec<CheckDefinition>,
        node: &str,
    ) -> Vec<(CheckDefinition, HealthCheck)> {
        let several = checks.len() > 1;
        checks
            .into_iter()
            .enumerate()
            .map(|(i, mut def)| {
                if def.id.is_empty() {
                    def.id = if several {
                        format!("service:{}:{}", self.id, i + 1)
                    } else {
                        format!("service:{}", self.id)
                    };
                }
                if def.name.is_empty() {
                    def.name = format!("Service '{}' check", self.name);
                }
                def.service_id = self.id.clone();
                let mut row = def.to_health_check(node);
                row.service_name = self.name.clone();
                row.service_tags = self.tags.clone();
                (def, row)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode;
    use serde_json::json;

    fn service(value: serde_json::Value) -> ServiceDefinition {
        let mut def: ServiceDefinition = decode::from_value(value).expect("decodes");
        def.normalize();
        def
    }

    #[test]
    fn decodes_api_and_config_spellings_alike() {
        let api = service(json!({
            "Name": "web", "Port": 80, "EnableTagOverride": true,
            "Check": {"HTTP": "http://x/health", "Interval": "10s", "DeregisterCriticalServiceAfter": "1m"}
        }));
        let config = service(json!({
            "name": "web", "port": 80, "enable_tag_override": true,
            "check": {"http": "http://x/health", "interval": "10s", "deregister_critical_service_after": "1m"}
        }));
        assert_eq!(api, config);
        assert_eq!(api.id, "web");
        assert_eq!(api.check.check_type(), "http");
    }

    #[test]
    fn args_and_check_id_fold_into_script_args_and_id() {
        let def = service(json!({"name": "s", "checks": [
            {"args": ["/bin/true"], "interval": "5s", "check_id": "c1"},
            {"ScriptArgs": ["/bin/false"], "Interval": "5s", "DockerContainerID": "abc"}
        ]}));
        assert_eq!(def.checks[0].script_args, vec!["/bin/true"]);
        assert_eq!(def.checks[0].id, "c1");
        assert_eq!(def.checks[0].check_type(), "script");
        assert_eq!(def.checks[1].check_type(), "docker");
    }

    #[test]
    fn validation_texts_match_consul() {
        let cases = [
            (json!({"TTL": "10s", "Interval": "10s"}), "Interval and TTL"),
            (json!({"HTTP": "http://x"}), "Interval must be > 0"),
            (json!({"Name": "no kind"}), "TTL must be > 0 for TTL checks"),
            (
                json!({"TCP": "x:1", "Interval": "1s", "AliasService": "a"}),
                "Alias",
            ),
        ];
        for (input, want) in cases {
            let def: CheckDefinition = decode::from_value(input.clone()).expect("decodes");
            let err = def.validate().expect_err("invalid").to_string();
            assert!(err.contains(want), "{input}: {err}");
        }
        let ok: CheckDefinition =
            decode::from_value(json!({"AliasService": "web"})).expect("valid");
        assert!(ok.validate().is_ok());
        assert_eq!(ok.check_type(), "alias");
    }

    #[test]
    fn service_check_ids_and_names_follow_consul() {
        let def = service(json!({"Name": "web", "ID": "web1", "Tags": ["a"],
            "Checks": [{"TTL": "10s"}, {"TTL": "20s", "Name": "second"}]}));
        let checks = def.check_definitions().expect("valid");
        let rows = def.service_checks(checks, "n1");
        assert_eq!(rows[0].1.check_id, "service:web1:1");
        assert_eq!(rows[0].1.name, "Service 'web' check");
        assert_eq!(rows[1].1.check_id, "service:web1:2");
        assert_eq!(rows[1].1.name, "second");
        assert_eq!(rows[1].1.service_tags, vec!["a"]);
        assert_eq!(rows[1].1.status, CheckStatus::Critical);
        assert_eq!(rows[1].1.interval, "0s");
        let single = service(json!({"Name": "db", "Check": {"TTL": "5s", "Status": "passing"}}));
        let rows = single.service_checks(single.check_definitions().expect("valid"), "n1");
        assert_eq!(rows[0].1.check_id, "service:db");
        assert_eq!(rows[0].1.status, CheckStatus::Passing);
    }

    #[test]
    fn meta_and_weights_are_validated() {
        let bad_meta = service(json!({"Name": "a", "Meta": {"consul-x": "1"}}));
        assert!(
            bad_meta
                .validate_meta()
                .expect_err("invalid")
                .contains("reserved")
        );
        let bad_key = service(json!({"Name": "a", "Meta": {"a b": "1"}}));
        assert!(
            bad_key
                .validate_meta()
                .expect_err("invalid")
                .contains("invalid characters")
        );
        let bad_weights = service(json!({"Name": "a", "Weights": {"Passing": 0, "Warning": 1}}));
        assert_eq!(
            bad_weights.validate_weights().expect_err("invalid"),
            "Passing must be greater than 0"
        );
    }
}
