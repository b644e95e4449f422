//! The set of Consul config keys with their value kinds, and the per-source
//! check that rejects unknown keys and coerces values (Consul decodes with weak
//! typing: `"8500"` is a valid port, `"true"` a valid bool).

use std::net::IpAddr;

use serde_json::{Map, Value};

use crate::ConfigError;
use crate::duration::parse_go_duration;
use crate::flags::parse_bool;

/// The kind of value a key holds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// Anything; kept as is.
    Any,
    Bool,
    Int,
    Float,
    /// An integer port; `-1` (or any value <= 0) disables the listener.
    Port,
    Str,
    /// A Go duration string.
    Duration,
    /// One IP address.
    Ip,
    /// Space-separated IP addresses (or `unix://` paths).
    IpList,
    /// A base64 gossip key of 16, 24 or 32 bytes.
    GossipKey,
    /// A UUID (`node_id`).
    Uuid,
    /// A list of strings; a single string is accepted as a one-element list.
    StrList,
    /// A list of anything; a single object is accepted as a one-element list.
    List,
    /// An object with arbitrary keys whose values have the given kind.
    Map(&'static Kind),
    /// An object with the given known keys.
    Obj(&'static [(&'static str, Kind)]),
}

use Kind::*;

const STR_MAP: Kind = Map(&Str);

const ACL_TOKENS: &[(&str, Kind)] = &[
    ("initial_management", Str),
    ("master", Str),
    ("default", Str),
    ("agent", Str),
    ("agent_recovery", Str),
    ("agent_master", Str),
    ("replication", Str),
    ("config_file_service_registration", Str),
    ("dns", Str),
    ("managed_service_provider", List),
];

const ACL: &[(&str, Kind)] = &[
    ("enabled", Bool),
    ("default_policy", Str),
    ("down_policy", Str),
    ("policy_ttl", Duration),
    ("role_ttl", Duration),
    ("token_ttl", Duration),
    ("enable_key_list_policy", Bool),
    ("enable_token_persistence", Bool),
    ("enable_token_replication", Bool),
    ("msp_disable_bootstrap", Bool),
    ("tokens", Obj(ACL_TOKENS)),
];

const ADDRESSES: &[(&str, Kind)] = &[
    ("dns", IpList),
    ("http", IpList),
    ("https", IpList),
    ("grpc", IpList),
    ("grpc_tls", IpList),
];

const PORTS: &[(&str, Kind)] = &[
    ("dns", Port),
    ("http", Port),
    ("https", Port),
    ("grpc", Port),
    ("grpc_tls", Port),
    ("serf_lan", Port),
    ("serf_wan", Port),
    ("server", Port),
    ("sidecar_min_port", Port),
    ("sidecar_max_port", Port),
    ("expose_min_port", Port),
    ("expose_max_port", Port),
];

const AUTOPILOT: &[(&str, Kind)] = &[
    ("cleanup_dead_servers", Bool),
    ("last_contact_threshold", Duration),
    ("max_trailing_logs", Int),
    ("min_quorum", Int),
    ("server_stabilization_time", Duration),
    ("redundancy_zone_tag", Str),
    ("disable_upgrade_migration", Bool),
    ("upgrade_version_tag", Str),
];

const SOA: &[(&str, Kind)] = &[
    ("expire", Int),
    ("min_ttl", Int),
    ("refresh", Int),
    ("retry", Int),
];

const DNS_CONFIG: &[(&str, Kind)] = &[
    ("allow_stale", Bool),
    ("a_record_limit", Int),
    ("disable_compression", Bool),
    ("enable_additional_node_meta_txt", Bool),
    ("enable_truncate", Bool),
    ("max_stale", Duration),
    ("node_ttl", Duration),
    ("only_passing", Bool),
    ("recursor_strategy", Str),
    ("recursor_timeout", Duration),
    ("service_ttl", Map(&Duration)),
    ("soa", Obj(SOA)),
    ("udp_answer_limit", Int),
    ("use_cache", Bool),
    ("cache_max_age", Duration),
    ("prefer_namespace", Bool),
    ("experimental", Any),
];

const HTTP_CONFIG: &[(&str, Kind)] = &[
    ("allow_write_http_from", StrList),
    ("block_endpoints", StrList),
    ("disable_ui_metrics", Bool),
    ("max_header_bytes", Int),
    ("response_headers", STR_MAP),
    ("use_cache", Bool),
];

const LIMITS: &[(&str, Kind)] = &[
    ("http_max_conns_per_client", Int),
    ("https_handshake_timeout", Duration),
    ("rpc_client_timeout", Duration),
    ("rpc_handshake_timeout", Duration),
    ("rpc_max_burst", Int),
    ("rpc_max_conns_per_client", Int),
    ("rpc_rate", Float),
    ("kv_max_value_size", Int),
    ("txn_max_req_len", Int),
    ("request_limits", Any),
];

const PERFORMANCE: &[(&str, Kind)] = &[
    ("leave_drain_time", Duration),
    ("raft_multiplier", Int),
    ("rpc_hold_timeout", Duration),
    ("grpc_keepalive_interval", Duration),
    ("grpc_keepalive_timeout", Duration),
];

const TELEMETRY: &[(&str, Kind)] = &[
    ("circonus_api_app", Str),
    ("circonus_api_token", Str),
    ("circonus_api_url", Str),
    ("circonus_broker_id", Str),
    ("circonus_broker_select_tag", Str),
    ("circonus_check_display_name", Str),
    ("circonus_check_force_metric_activation", Str),
    ("circonus_check_id", Str),
    ("circonus_check_instance_id", Str),
    ("circonus_check_search_tag", Str),
    ("circonus_check_tags", Str),
    ("circonus_submission_interval", Str),
    ("circonus_submission_url", Str),
    ("disable_hostname", Bool),
    ("disable_per_tenancy_usage_metrics", Bool),
    ("dogstatsd_addr", Str),
    ("dogstatsd_tags", StrList),
    ("enable_host_metrics", Bool),
    ("retry_failed_connection", Bool),
    ("filter_default", Bool),
    ("prefix_filter", StrList),
    ("metrics_prefix", Str),
    ("prometheus_retention_time", Duration),
    ("statsd_address", Str),
    ("statsite_address", Str),
];

const TLS_PROTO: &[(&str, Kind)] = &[
    ("ca_file", Str),
    ("ca_path", Str),
    ("cert_file", Str),
    ("key_file", Str),
    ("tls_min_version", Str),
    ("tls_cipher_suites", Str),
    ("verify_incoming", Bool),
    ("verify_outgoing", Bool),
    ("verify_server_hostname", Bool),
    ("use_auto_cert", Bool),
];

const TLS: &[(&str, Kind)] = &[
    ("defaults", Obj(TLS_PROTO)),
    ("internal_rpc", Obj(TLS_PROTO)),
    ("https", Obj(TLS_PROTO)),
    ("grpc", Obj(TLS_PROTO)),
];

const UI_CONFIG: &[(&str, Kind)] = &[
    ("enabled", Bool),
    ("dir", Str),
    ("content_path", Str),
    ("metrics_provider", Str),
    ("metrics_provider_files", StrList),
    ("metrics_provider_options_json", Str),
    ("metrics_proxy", Any),
    ("dashboard_url_templates", STR_MAP),
    ("hcp_enabled", Bool),
];

/// Top-level keys. Blocks we do not use are accepted whole (`Any`).
pub(crate) const TOP: &[(&str, Kind)] = &[
    ("acl", Obj(ACL)),
    ("acl_agent_master_token", Str),
    ("acl_agent_token", Str),
    ("acl_datacenter", Str),
    ("acl_default_policy", Str),
    ("acl_down_policy", Str),
    ("acl_enable_key_list_policy", Bool),
    ("acl_master_token", Str),
    ("acl_replication_token", Str),
    ("acl_token", Str),
    ("acl_ttl", Duration),
    ("addresses", Obj(ADDRESSES)),
    ("advertise_addr", Ip),
    ("advertise_addr_ipv4", Ip),
    ("advertise_addr_ipv6", Ip),
    ("advertise_addr_wan", Ip),
    ("advertise_addr_wan_ipv4", Ip),
    ("advertise_addr_wan_ipv6", Ip),
    ("advertise_reconnect_timeout", Duration),
    ("alt_domain", Str),
    ("audit", Any),
    ("auto_config", Any),
    ("ae_interval", Duration),
    ("auto_encrypt", Any),
    ("auto_reload_config", Bool),
    ("autopilot", Obj(AUTOPILOT)),
    ("bind_addr", Ip),
    ("bootstrap", Bool),
    ("bootstrap_expect", Int),
    ("ca_file", Str),
    ("ca_path", Str),
    ("cache", Any),
    ("cert_file", Str),
    ("check", Any),
    ("check_deregister_interval_min", Duration),
    ("check_output_max_size", Int),
    ("check_reap_interval", Duration),
    ("check_update_interval", Duration),
    ("checks", List),
    ("client_addr", IpList),
    ("cloud", Any),
    ("config_entries", Any),
    ("connect", Any),
    ("data_dir", Str),
    ("datacenter", Str),
    ("default_query_time", Duration),
    ("disable_anonymous_signature", Bool),
    ("disable_coordinates", Bool),
    ("disable_host_node_id", Bool),
    ("disable_http_unprintable_char_filter", Bool),
    ("disable_keyring_file", Bool),
    ("disable_remote_exec", Bool),
    ("disable_update_check", Bool),
    ("discard_check_output", Bool),
    ("discovery_max_stale", Duration),
    ("dns_config", Obj(DNS_CONFIG)),
    ("domain", Str),
    ("enable_acl_replication", Bool),
    ("enable_agent_tls_for_checks", Bool),
    ("enable_central_service_config", Bool),
    ("enable_debug", Bool),
    ("enable_local_script_checks", Bool),
    ("enable_script_checks", Bool),
    ("enable_syslog", Bool),
    ("encrypt", GossipKey),
    ("encrypt_verify_incoming", Bool),
    ("encrypt_verify_outgoing", Bool),
    ("experiments", StrList),
    ("gossip_lan", Any),
    ("gossip_wan", Any),
    ("http_config", Obj(HTTP_CONFIG)),
    ("key_file", Str),
    ("leave_on_terminate", Bool),
    ("license_path", Str),
    ("limits", Obj(LIMITS)),
    ("locality", Any),
    ("log_file", Str),
    ("log_json", Bool),
    ("log_level", Str),
    ("log_rotate_bytes", Int),
    ("log_rotate_duration", Duration),
    ("log_rotate_max_files", Int),
    ("max_query_time", Duration),
    ("node_id", Uuid),
    ("node_meta", STR_MAP),
    ("node_name", Str),
    ("non_voting_server", Bool),
    ("partition", Str),
    ("peering", Any),
    ("performance", Obj(PERFORMANCE)),
    ("pid_file", Str),
    ("ports", Obj(PORTS)),
    ("primary_datacenter", Str),
    ("primary_gateways", StrList),
    ("primary_gateways_interval", Duration),
    ("raft_boltdb", Any),
    ("raft_logstore", Any),
    ("raft_protocol", Int),
    ("raft_snapshot_interval", Duration),
    ("raft_snapshot_threshold", Int),
    ("raft_trailing_logs", Int),
    ("read_replica", Bool),
    ("reconnect_timeout", Duration),
    ("reconnect_timeout_wan", Duration),
    ("recursors", StrList),
    ("rejoin_after_leave", Bool),
    ("reporting", Any),
    ("retry_interval", Duration),
    ("retry_interval_wan", Duration),
    ("retry_join", StrList),
    ("retry_join_wan", StrList),
    ("retry_max", Int),
    ("retry_max_wan", Int),
    ("rpc", Any),
    ("segment", Str),
    ("segments", List),
    ("serf_lan", Ip),
    ("serf_lan_allowed_cidrs", StrList),
    ("serf_wan", Ip),
    ("serf_wan_allowed_cidrs", StrList),
    ("server", Bool),
    ("server_name", Str),
    ("server_rejoin_age_max", Duration),
    ("service", Any),
    ("services", List),
    ("session_ttl_min", Duration),
    ("skip_leave_on_interrupt", Bool),
    ("syslog_facility", Str),
    ("telemetry", Obj(TELEMETRY)),
    ("tls", Obj(TLS)),
    ("tls_cipher_suites", Str),
    ("tls_min_version", Str),
    ("tls_prefer_server_cipher_suites", Bool),
    ("translate_wan_addrs", Bool),
    ("ui", Bool),
    ("ui_config", Obj(UI_CONFIG)),
    ("ui_content_path", Str),
    ("ui_dir", Str),
    ("unix_sockets", Any),
    ("use_streaming_backend", Bool),
    ("verify_incoming", Bool),
    ("verify_incoming_https", Bool),
    ("verify_incoming_rpc", Bool),
    ("verify_outgoing", Bool),
    ("verify_server_hostname", Bool),
    ("watches", List),
    ("xds", Any),
];

/// Keys Consul removed; using them is an error with this explanation.
const REMOVED: &[(&str, &str)] = &[
    (
        "start_join",
        "'start_join' was removed in Consul 1.15; use 'retry_join' instead",
    ),
    (
        "start_join_wan",
        "'start_join_wan' was removed in Consul 1.15; use 'retry_join_wan' instead",
    ),
];

/// Where a value came from, for error messages.
pub(crate) struct Ctx<'a> {
    pub source: &'a str,
}

impl Ctx<'_> {
    fn invalid(&self, key: &str, expected: &str, got: &Value) -> ConfigError {
        let got = match got {
            Value::String(s) => format!("{s:?}"),
            other => other.to_string(),
        };
        ConfigError::InvalidValue {
            source_name: self.source.to_string(),
            key: key.to_string(),
            expected: expected.to_string(),
            got,
        }
    }
}

/// Checks a whole source against the top-level schema and returns it coerced.
pub(crate) fn check_source(value: Value, source: &str) -> Result<Value, ConfigError> {
    let ctx = Ctx { source };
    if let Value::Object(m) = &value {
        for (key, msg) in REMOVED {
            if m.contains_key(*key) {
                return Err(ConfigError::Removed {
                    source_name: source.to_string(),
                    message: (*msg).to_string(),
                });
            }
        }
    }
    coerce(value, &Obj(TOP), "", &ctx)
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Coerces `value` to `kind`; `key` is the dotted path for messages.
pub(crate) fn coerce(
    value: Value,
    kind: &Kind,
    key: &str,
    ctx: &Ctx,
) -> Result<Value, ConfigError> {
    match kind {
        Any => Ok(value),
        Bool => coerce_bool(value, key, ctx),
        Int | Port => coerce_int(value, matches!(kind, Port), key, ctx),
        Float => match &value {
            Value::Number(_) => Ok(value),
            Value::String(s) => match s.trim().parse::<f64>() {
                Ok(f) => Ok(Value::from(f)),
                Err(_) => Err(ctx.invalid(key, "number", &value)),
            },
            _ => Err(ctx.invalid(key, "number", &value)),
        },
        Str => match value {
            Value::String(_) => Ok(value),
            Value::Number(n) => Ok(Value::String(n.to_string())),
            Value::Bool(b) => Ok(Value::String(b.to_string())),
            other => Err(ctx.invalid(key, "string", &other)),
        },
        Duration => coerce_duration(value, key, ctx),
        Ip | IpList | GossipKey | Uuid => coerce_checked_str(value, kind, key, ctx),
        StrList => coerce_list(value, &Str, key, ctx),
        List => coerce_list(value, &Any, key, ctx),
        Map(inner) => coerce_map(value, inner, key, ctx),
        Obj(fields) => coerce_obj(value, fields, key, ctx),
    }
}

fn coerce_bool(value: Value, key: &str, ctx: &Ctx) -> Result<Value, ConfigError> {
    match &value {
        Value::Bool(_) => Ok(value),
        Value::String(s) => parse_bool(s.trim())
            .map(Value::Bool)
            .ok_or_else(|| ctx.invalid(key, "boolean", &value)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Ok(Value::Bool(i != 0)),
            None => Err(ctx.invalid(key, "boolean", &value)),
        },
        _ => Err(ctx.invalid(key, "boolean", &value)),
    }
}

fn coerce_int(value: Value, port: bool, key: &str, ctx: &Ctx) -> Result<Value, ConfigError> {
    let expected = if port { "port number" } else { "integer" };
    let n = match &value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    let Some(n) = n else {
        return Err(ctx.invalid(key, expected, &value));
    };
    if port && n > 65535 {
        return Err(ctx.invalid(key, "port number (-1 to 65535)", &value));
    }
    Ok(Value::from(n))
}

fn coerce_duration(value: Value, key: &str, ctx: &Ctx) -> Result<Value, ConfigError> {
    let text = match &value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(ctx.invalid(key, "duration", &value)),
    };
    match parse_go_duration(&text) {
        Ok(_) => Ok(Value::String(text)),
        Err(e) => Err(ctx.invalid(key, &format!("duration ({e})"), &value)),
    }
}

fn coerce_list(value: Value, inner: &Kind, key: &str, ctx: &Ctx) -> Result<Value, ConfigError> {
    let items = match value {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        single @ (Value::Object(_) | Value::String(_)) => vec![single],
        other => return Err(ctx.invalid(key, "list", &other)),
    };
    items
        .into_iter()
        .map(|item| coerce(item, inner, key, ctx))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// Repeated HCL blocks arrive as a list of objects; merge them into one.
fn flatten_objects(value: Value) -> Value {
    match value {
        Value::Array(items) if items.iter().all(Value::is_object) => {
            let mut acc = Value::Object(Map::new());
            for item in items {
                crate::merge::merge_into(&mut acc, item);
            }
            acc
        }
        other => other,
    }
}

fn coerce_map(value: Value, inner: &Kind, key: &str, ctx: &Ctx) -> Result<Value, ConfigError> {
    match flatten_objects(value) {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let child = join(key, &k);
                out.insert(k, coerce(v, inner, &child, ctx)?);
            }
            Ok(Value::Object(out))
        }
        Value::Null => Ok(Value::Object(Map::new())),
        other => Err(ctx.invalid(key, "object", &other)),
    }
}

fn coerce_obj(
    value: Value,
    fields: &[(&str, Kind)],
    key: &str,
    ctx: &Ctx,
) -> Result<Value, ConfigError> {
    let m = match flatten_objects(value) {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        other => return Err(ctx.invalid(key, "object", &other)),
    };
    let mut out = Map::new();
    for (k, v) in m {
        let child = join(key, &k);
        let Some((_, kind)) = fields.iter().find(|(name, _)| *name == k) else {
            return Err(ConfigError::UnknownKey {
                key: child,
                source_name: ctx.source.to_string(),
            });
        };
        out.insert(k, coerce(v, kind, &child, ctx)?);
    }
    Ok(Value::Object(out))
}

fn coerce_checked_str(
    value: Value,
    kind: &Kind,
    key: &str,
    ctx: &Ctx,
) -> Result<Value, ConfigError> {
    let Value::String(s) = &value else {
        return Err(ctx.invalid(key, "string", &value));
    };
    let (ok, expected) = match kind {
        Ip => (s.trim().parse::<IpAddr>().is_ok(), "IP address"),
        IpList => (
            s.split_whitespace()
                .all(|a| a.starts_with("unix://") || a.parse::<IpAddr>().is_ok()),
            "space-separated IP addresses",
        ),
        GossipKey => (gossip_key_ok(s), "base64 key of 16, 24 or 32 bytes"),
        _ => (is_uuid(s), "UUID"),
    };
    if ok {
        Ok(value)
    } else {
        Err(ctx.invalid(key, expected, &value))
    }
}

fn gossip_key_ok(s: &str) -> bool {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .is_ok_and(|k| matches!(k.len(), 16 | 24 | 32))
}

/// `8-4-4-4-12` hex digits.
pub(crate) fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: Value) -> Result<Value, String> {
        check_source(v, "t.json").map_err(|e| e.to_string())
    }

    #[test]
    fn weak_typing_like_consul() {
        let v = check(json!({
            "server": "true",
            "bootstrap_expect": "3",
            "ports": {"http": "8080", "dns": -1},
            "retry_join": "10.0.0.1",
            "data_dir": 5,
            "limits": {"rpc_rate": "2.5"},
            "services": {"name": "single"}
        }));
        assert_eq!(
            v,
            Ok(json!({
                "server": true,
                "bootstrap_expect": 3,
                "ports": {"http": 8080, "dns": -1},
                "retry_join": ["10.0.0.1"],
                "data_dir": "5",
                "limits": {"rpc_rate": 2.5},
                "services": [{"name": "single"}]
            }))
        );
    }

    #[test]
    fn repeated_blocks_merge_into_objects() {
        let v = check(json!({"ports": [{"http": 1}, {"dns": 2}]}));
        assert_eq!(v, Ok(json!({"ports": {"http": 1, "dns": 2}})));
    }

    #[test]
    fn errors_name_key_and_source() {
        assert_eq!(
            check(json!({"dns_config": {"service_ttl": {"web": "ten"}}})),
            Err(r#"config: t.json: invalid value for "dns_config.service_ttl.web": expected duration (time: invalid duration "ten"), got "ten""#.to_string())
        );
        assert_eq!(
            check(json!({"telemetry": {"nope": 1}})),
            Err(r#"unknown configuration key "telemetry.nope" in t.json"#.to_string())
        );
        assert_eq!(
            check(json!({"ports": "8500"})),
            Err(
                r#"config: t.json: invalid value for "ports": expected object, got "8500""#
                    .to_string()
            )
        );
    }

    #[test]
    fn uuid_check() {
        assert!(is_uuid("2d8e6f2a-1b2c-4d5e-8f90-123456789abc"));
        assert!(!is_uuid("2d8e6f2a1b2c4d5e8f90123456789abc"));
        assert!(!is_uuid("2d8e6f2a-1b2c-4d5e-8f90-123456789abz"));
    }
}
