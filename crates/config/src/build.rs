//! Building the `RuntimeConfig` from the merged sources, applying Consul's
//! defaults for everything left unset.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::ConfigError;
use crate::runtime::*;
use crate::schema::{Kind, TOP};
use crate::view::View;

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

const fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// Lowercase canonical log level, accepting Consul's spellings in any case.
pub(crate) fn normalize_log_level(level: &str) -> Option<&'static str> {
    Some(match level.trim().to_ascii_lowercase().as_str() {
        "trace" => "trace",
        "debug" => "debug",
        "info" => "info",
        "warn" | "warning" => "warn",
        "err" | "error" => "error",
        _ => return None,
    })
}

/// Makes a DNS domain fully qualified (`consul` → `consul.`).
fn fqdn(s: &str) -> String {
    if s.ends_with('.') {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

fn log_level(v: &View) -> Result<&'static str, ConfigError> {
    let raw = v.str_or("log_level", "info");
    normalize_log_level(&raw).ok_or_else(|| {
        ConfigError::Invalid(format!(
            "Invalid log level: {raw}. Valid log levels are: [TRACE DEBUG INFO WARN ERR]"
        ))
    })
}

fn build_ui(v: &View) -> UiConfig {
    UiConfig {
        enabled: v.bool_or("ui_config.enabled", false),
        dir: v.nonempty("ui_config.dir"),
        content_path: v.str_or("ui_config.content_path", "/ui/"),
        metrics_provider: v.nonempty("ui_config.metrics_provider"),
    }
}

fn build_http(v: &View) -> HttpConfig {
    HttpConfig {
        response_headers: v.str_map("http_config.response_headers"),
        block_endpoints: v.strings("http_config.block_endpoints"),
        allow_write_http_from: v.strings("http_config.allow_write_http_from"),
        use_cache: v.bool_or("http_config.use_cache", true),
    }
}

/// Builds the runtime config from the merged JSON.
pub(crate) fn build(merged: &Value, dev: bool) -> Result<RuntimeConfig, ConfigError> {
    let v = View(merged);
    let server = v.bool_or("server", false);
    let datacenter = v.str_or("datacenter", "dc1").to_lowercase();
    let primary_datacenter = v
        .nonempty("primary_datacenter")
        .map_or_else(|| datacenter.clone(), |s| s.to_lowercase());
    let ui_config = build_ui(&v);
    let net = build_net(&v)?;
    Ok(RuntimeConfig {
        dev_mode: dev,
        datacenter,
        primary_datacenter,
        node_name: v.nonempty("node_name").unwrap_or_else(crate::net::hostname),
        node_id: v.nonempty("node_id").map(|s| s.to_lowercase()),
        node_meta: v.str_map("node_meta"),
        disable_host_node_id: v.bool_or("disable_host_node_id", true),
        server,
        bootstrap: v.bool_or("bootstrap", false),
        bootstrap_expect: bootstrap_expect(&v)?,
        data_dir: v.nonempty("data_dir").map(PathBuf::from),
        bind_addr: net.bind,
        advertise_addr: net.advertise,
        advertise_addr_wan: net.advertise_wan,
        serf_bind_addr_lan: v.ip("serf_lan").unwrap_or(net.bind),
        serf_bind_addr_wan: v.ip("serf_wan").unwrap_or(net.bind),
        addresses: build_addresses(&v, &net.client),
        client_addrs: net.client,
        ports: build_ports(&v)?,
        retry_join: v.strings("retry_join"),
        retry_join_wan: v.strings("retry_join_wan"),
        retry_interval: v.dur_or("retry_interval", secs(30)),
        retry_interval_wan: v.dur_or("retry_interval_wan", secs(30)),
        retry_max: v.u32_or("retry_max", 0)?,
        retry_max_wan: v.u32_or("retry_max_wan", 0)?,
        rejoin_after_leave: v.bool_or("rejoin_after_leave", false),
        encrypt: v.nonempty("encrypt").map(|s| s.trim().to_string()),
        encrypt_verify_incoming: v.bool_or("encrypt_verify_incoming", true),
        encrypt_verify_outgoing: v.bool_or("encrypt_verify_outgoing", true),
        disable_keyring_file: v.bool_or("disable_keyring_file", false),
        ui_enabled: ui_config.enabled,
        ui_config,
        log_level: log_level(&v)?.to_string(),
        log_json: v.bool_or("log_json", false),
        log_file: v.nonempty("log_file"),
        enable_syslog: v.bool_or("enable_syslog", false),
        enable_script_checks: v.bool_or("enable_script_checks", false),
        enable_local_script_checks: v.bool_or("enable_local_script_checks", false),
        disable_remote_exec: v.bool_or("disable_remote_exec", true),
        disable_update_check: v.bool_or("disable_update_check", false),
        enable_debug: v.bool_or("enable_debug", false),
        session_ttl_min: v.dur_or("session_ttl_min", secs(10)),
        default_query_time: v.dur_or("default_query_time", secs(300)),
        max_query_time: v.dur_or("max_query_time", secs(600)),
        discovery_max_stale: v.dur_or("discovery_max_stale", Duration::ZERO),
        limits: build_limits(&v)?,
        performance: build_performance(&v)?,
        domain: fqdn(&v.nonempty("domain").unwrap_or_else(|| "consul".to_string())),
        alt_domain: v.nonempty("alt_domain").map(|s| fqdn(&s)),
        recursors: v.strings("recursors"),
        dns_config: build_dns(&v)?,
        acl: build_acl(&v),
        tls: build_tls(&v),
        telemetry: build_telemetry(&v),
        http_config: build_http(&v),
        leave_on_terminate: v.bool_or("leave_on_terminate", !server),
        skip_leave_on_interrupt: v.bool_or("skip_leave_on_interrupt", server),
        reconnect_timeout: v.dur_or("reconnect_timeout", secs(72 * 3600)),
        reconnect_timeout_wan: v.dur_or("reconnect_timeout_wan", secs(72 * 3600)),
        translate_wan_addrs: v.bool_or("translate_wan_addrs", false),
        pid_file: v.nonempty("pid_file"),
        check_output_max_size: v.u32_or("check_output_max_size", 4096)?,
        check_update_interval: v.dur_or("check_update_interval", secs(300)),
        ae_interval: v.dur_or("ae_interval", secs(60)),
        check_reap_interval: v.dur_or("check_reap_interval", secs(30)),
        check_deregister_interval_min: v.dur_or("check_deregister_interval_min", secs(60)),
        autopilot: build_autopilot(&v)?,
        raft_protocol: v.u32_or("raft_protocol", 3)?,
        raft_snapshot_threshold: v.uint_or("raft_snapshot_threshold", 16384)?,
        raft_snapshot_interval: v.dur_or("raft_snapshot_interval", secs(30)),
        raft_trailing_logs: v.uint_or("raft_trailing_logs", 10240)?,
        connect_enabled: v.bool_or("connect.enabled", true),
        pretty_json: dev,
        services: v.list("services"),
        checks: v.list("checks"),
        watches: v.list("watches"),
        extra: build_extra(merged),
    })
}

fn bootstrap_expect(v: &View) -> Result<u32, ConfigError> {
    let n = v.int("bootstrap_expect").unwrap_or(0);
    if n < 0 {
        return Err(ConfigError::Invalid(format!(
            "bootstrap_expect cannot be {n}. Must be greater than or equal to zero"
        )));
    }
    u32::try_from(n).map_err(|_| ConfigError::Invalid(format!("bootstrap_expect cannot be {n}")))
}

struct Net {
    bind: IpAddr,
    advertise: IpAddr,
    advertise_wan: IpAddr,
    client: Vec<IpAddr>,
}

fn build_net(v: &View) -> Result<Net, ConfigError> {
    let bind = v
        .ip("bind_addr")
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let advertise = match v.ip("advertise_addr") {
        Some(ip) => ip,
        None if bind.is_unspecified() => crate::net::private_ipv4(),
        None => bind,
    };
    if advertise.is_unspecified() {
        return Err(ConfigError::Invalid(
            "Advertise address cannot be 0.0.0.0, :: or [::]".to_string(),
        ));
    }
    let advertise_wan = v.ip("advertise_addr_wan").unwrap_or(advertise);
    if advertise_wan.is_unspecified() {
        return Err(ConfigError::Invalid(
            "Advertise WAN address cannot be 0.0.0.0, :: or [::]".to_string(),
        ));
    }
    let client = v
        .ips("client_addr")
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    Ok(Net {
        bind,
        advertise,
        advertise_wan,
        client,
    })
}

fn build_addresses(v: &View, client: &[IpAddr]) -> Addresses {
    let get = |k: &str| {
        v.ips(&format!("addresses.{k}"))
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| client.to_vec())
    };
    Addresses {
        dns: get("dns"),
        http: get("http"),
        https: get("https"),
        grpc: get("grpc"),
        grpc_tls: get("grpc_tls"),
    }
}

fn build_ports(v: &View) -> Result<Ports, ConfigError> {
    let range = |k: &str, d: u16| v.port(&format!("ports.{k}"), Some(d)).unwrap_or(d);
    Ok(Ports {
        dns: v.port("ports.dns", Some(8600)),
        http: v.port("ports.http", Some(8500)),
        https: v.port("ports.https", None),
        grpc: v.port("ports.grpc", None),
        grpc_tls: v.port("ports.grpc_tls", None),
        serf_lan: v.port("ports.serf_lan", Some(8301)),
        serf_wan: v.port("ports.serf_wan", Some(8302)),
        server: v.port("ports.server", Some(8300)),
        sidecar_min_port: range("sidecar_min_port", 21000),
        sidecar_max_port: range("sidecar_max_port", 21255),
        expose_min_port: range("expose_min_port", 21500),
        expose_max_port: range("expose_max_port", 21755),
    })
}

fn build_limits(v: &View) -> Result<Limits, ConfigError> {
    Ok(Limits {
        kv_max_value_size: v.uint_or("limits.kv_max_value_size", 512 * 1024)?,
        txn_max_req_len: v.uint_or("limits.txn_max_req_len", 512 * 1024)?,
        http_max_conns_per_client: v.u32_or("limits.http_max_conns_per_client", 200)?,
        rpc_max_conns_per_client: v.u32_or("limits.rpc_max_conns_per_client", 100)?,
        rpc_rate: v
            .float("limits.rpc_rate")
            .filter(|r| r.is_finite() && *r > 0.0),
        rpc_max_burst: v.u32_or("limits.rpc_max_burst", 1000)?,
    })
}

fn build_performance(v: &View) -> Result<Performance, ConfigError> {
    let m = v.int("performance.raft_multiplier").unwrap_or(5);
    if !(1..=10).contains(&m) {
        return Err(ConfigError::Invalid(format!(
            "performance.raft_multiplier cannot be {m}. Must be between 1 and 10"
        )));
    }
    Ok(Performance {
        raft_multiplier: u32::try_from(m).unwrap_or(5),
        leave_drain_time: v.dur_or("performance.leave_drain_time", secs(5)),
        rpc_hold_timeout: v.dur_or("performance.rpc_hold_timeout", secs(7)),
    })
}

fn build_dns(v: &View) -> Result<DnsConfig, ConfigError> {
    Ok(DnsConfig {
        allow_stale: v.bool_or("dns_config.allow_stale", true),
        max_stale: v.dur_or("dns_config.max_stale", secs(87600 * 3600)),
        node_ttl: v.dur_or("dns_config.node_ttl", Duration::ZERO),
        service_ttl: v.dur_map("dns_config.service_ttl"),
        only_passing: v.bool_or("dns_config.only_passing", false),
        udp_answer_limit: v.u32_or("dns_config.udp_answer_limit", 3)?,
        enable_truncate: v.bool_or("dns_config.enable_truncate", false),
        a_record_limit: v.u32_or("dns_config.a_record_limit", 0)?,
        recursor_timeout: v.dur_or("dns_config.recursor_timeout", secs(2)),
        recursor_strategy: v.str_or("dns_config.recursor_strategy", "sequential"),
        disable_compression: v.bool_or("dns_config.disable_compression", false),
        enable_additional_node_meta_txt: v
            .bool_or("dns_config.enable_additional_node_meta_txt", true),
        soa: Soa {
            expire: v.u32_or("dns_config.soa.expire", 86400)?,
            min_ttl: v.u32_or("dns_config.soa.min_ttl", 0)?,
            refresh: v.u32_or("dns_config.soa.refresh", 3600)?,
            retry: v.u32_or("dns_config.soa.retry", 600)?,
        },
        use_cache: v.bool_or("dns_config.use_cache", false),
        cache_max_age: v.dur_or("dns_config.cache_max_age", Duration::ZERO),
    })
}

fn build_acl(v: &View) -> AclConfig {
    let t = |k: &str| v.nonempty(&format!("acl.tokens.{k}"));
    AclConfig {
        enabled: v.bool_or("acl.enabled", false),
        default_policy: v.str_or("acl.default_policy", "allow"),
        down_policy: v.str_or("acl.down_policy", "extend-cache"),
        enable_token_persistence: v.bool_or("acl.enable_token_persistence", false),
        enable_token_replication: v.bool_or("acl.enable_token_replication", false),
        enable_key_list_policy: v.bool_or("acl.enable_key_list_policy", false),
        token_ttl: v.dur_or("acl.token_ttl", secs(30)),
        policy_ttl: v.dur_or("acl.policy_ttl", secs(30)),
        role_ttl: v.dur_or("acl.role_ttl", secs(30)),
        tokens: AclTokens {
            initial_management: t("initial_management"),
            default: t("default"),
            agent: t("agent"),
            agent_recovery: t("agent_recovery"),
            replication: t("replication"),
            config_file_service_registration: t("config_file_service_registration"),
            dns: t("dns"),
        },
    }
}

/// One `tls.<section>`, falling back to `tls.defaults` per field.
fn tls_section(v: &View, section: &str) -> TlsProtocol {
    let s = |k: &str| {
        v.nonempty(&format!("tls.{section}.{k}"))
            .or_else(|| v.nonempty(&format!("tls.defaults.{k}")))
    };
    let b = |k: &str| {
        v.bool(&format!("tls.{section}.{k}"))
            .or_else(|| v.bool(&format!("tls.defaults.{k}")))
            .unwrap_or(false)
    };
    TlsProtocol {
        ca_file: s("ca_file"),
        ca_path: s("ca_path"),
        cert_file: s("cert_file"),
        key_file: s("key_file"),
        verify_incoming: b("verify_incoming"),
        verify_outgoing: b("verify_outgoing"),
        tls_min_version: s("tls_min_version").unwrap_or_else(|| "TLSv1_2".to_string()),
        tls_cipher_suites: s("tls_cipher_suites"),
        verify_server_hostname: b("verify_server_hostname"),
    }
}

fn build_tls(v: &View) -> TlsConfig {
    TlsConfig {
        defaults: tls_section(v, "defaults"),
        https: tls_section(v, "https"),
        internal_rpc: tls_section(v, "internal_rpc"),
        grpc: tls_section(v, "grpc"),
    }
}

fn build_telemetry(v: &View) -> Telemetry {
    Telemetry {
        prometheus_retention_time: v.dur_or("telemetry.prometheus_retention_time", Duration::ZERO),
        disable_hostname: v.bool_or("telemetry.disable_hostname", false),
        metrics_prefix: v.str_or("telemetry.metrics_prefix", "consul"),
        filter_default: v.bool_or("telemetry.filter_default", true),
        prefix_filter: v.strings("telemetry.prefix_filter"),
        statsd_address: v.nonempty("telemetry.statsd_address"),
        statsite_address: v.nonempty("telemetry.statsite_address"),
        dogstatsd_addr: v.nonempty("telemetry.dogstatsd_addr"),
    }
}

fn build_autopilot(v: &View) -> Result<Autopilot, ConfigError> {
    Ok(Autopilot {
        cleanup_dead_servers: v.bool_or("autopilot.cleanup_dead_servers", true),
        last_contact_threshold: v.dur_or("autopilot.last_contact_threshold", ms(200)),
        max_trailing_logs: v.uint_or("autopilot.max_trailing_logs", 250)?,
        min_quorum: v.u32_or("autopilot.min_quorum", 0)?,
        server_stabilization_time: v.dur_or("autopilot.server_stabilization_time", secs(10)),
        redundancy_zone_tag: v.nonempty("autopilot.redundancy_zone_tag"),
        disable_upgrade_migration: v.bool_or("autopilot.disable_upgrade_migration", false),
        upgrade_version_tag: v.nonempty("autopilot.upgrade_version_tag"),
    })
}

/// Accepted top-level blocks that `RuntimeConfig` does not model.
fn build_extra(merged: &Value) -> BTreeMap<String, Value> {
    let Some(m) = merged.as_object() else {
        return BTreeMap::new();
    };
    m.iter()
        .filter(|(k, _)| {
            TOP.iter()
                .any(|(name, kind)| name == k && matches!(kind, Kind::Any | Kind::List))
                && !matches!(k.as_str(), "services" | "checks" | "watches")
                || matches!(k.as_str(), "experiments" | "primary_gateways")
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
