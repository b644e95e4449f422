//! The validated runtime configuration the agent runs with.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

/// Listener ports; `None` means disabled (`-1`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Ports {
    pub dns: Option<u16>,
    pub http: Option<u16>,
    pub https: Option<u16>,
    pub grpc: Option<u16>,
    pub grpc_tls: Option<u16>,
    pub serf_lan: Option<u16>,
    pub serf_wan: Option<u16>,
    pub server: Option<u16>,
    pub sidecar_min_port: u16,
    pub sidecar_max_port: u16,
    pub expose_min_port: u16,
    pub expose_max_port: u16,
}

/// Per-listener bind addresses (`addresses { }`); each defaults to `client_addrs`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Addresses {
    pub dns: Vec<IpAddr>,
    pub http: Vec<IpAddr>,
    pub https: Vec<IpAddr>,
    pub grpc: Vec<IpAddr>,
    pub grpc_tls: Vec<IpAddr>,
}

/// `limits { }`.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub struct Limits {
    pub kv_max_value_size: u64,
    pub txn_max_req_len: u64,
    pub http_max_conns_per_client: u32,
    pub rpc_max_conns_per_client: u32,
    /// `None` = unlimited (Consul's `rate.Inf`).
    pub rpc_rate: Option<f64>,
    pub rpc_max_burst: u32,
}

/// `performance { }`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Performance {
    pub raft_multiplier: u32,
    pub leave_drain_time: Duration,
    pub rpc_hold_timeout: Duration,
}

/// `dns_config.soa { }` (seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Soa {
    pub expire: u32,
    pub min_ttl: u32,
    pub refresh: u32,
    pub retry: u32,
}

/// `dns_config { }`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct DnsConfig {
    pub allow_stale: bool,
    pub max_stale: Duration,
    pub node_ttl: Duration,
    /// Service name (or `*`) → TTL.
    pub service_ttl: BTreeMap<String, Duration>,
    pub only_passing: bool,
    pub udp_answer_limit: u32,
    pub enable_truncate: bool,
    pub a_record_limit: u32,
    pub recursor_timeout: Duration,
    pub recursor_strategy: String,
    pub disable_compression: bool,
    pub enable_additional_node_meta_txt: bool,
    pub soa: Soa,
    pub use_cache: bool,
    pub cache_max_age: Duration,
}

/// `acl.tokens { }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct AclTokens {
    /// Also legacy `acl.tokens.master` and top-level `acl_master_token`.
    pub initial_management: Option<String>,
    pub default: Option<String>,
    pub agent: Option<String>,
    /// Also legacy `acl.tokens.agent_master`.
    pub agent_recovery: Option<String>,
    pub replication: Option<String>,
    pub config_file_service_registration: Option<String>,
    pub dns: Option<String>,
}

/// `acl { }`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct AclConfig {
    pub enabled: bool,
    pub default_policy: String,
    pub down_policy: String,
    pub enable_token_persistence: bool,
    pub enable_token_replication: bool,
    pub enable_key_list_policy: bool,
    pub token_ttl: Duration,
    pub policy_ttl: Duration,
    pub role_ttl: Duration,
    pub tokens: AclTokens,
}

/// One TLS protocol section (`tls.defaults`, `tls.https`, ...), with the
/// per-protocol values already falling back to `tls.defaults`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct TlsProtocol {
    pub ca_file: Option<String>,
    pub ca_path: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    pub verify_incoming: bool,
    pub verify_outgoing: bool,
    pub tls_min_version: String,
    pub tls_cipher_suites: Option<String>,
    /// Meaningful for `internal_rpc` only.
    pub verify_server_hostname: bool,
}

/// `tls { }`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct TlsConfig {
    pub defaults: TlsProtocol,
    pub https: TlsProtocol,
    pub internal_rpc: TlsProtocol,
    pub grpc: TlsProtocol,
}

/// `telemetry { }`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Telemetry {
    pub prometheus_retention_time: Duration,
    pub disable_hostname: bool,
    pub metrics_prefix: String,
    pub filter_default: bool,
    pub prefix_filter: Vec<String>,
    pub statsd_address: Option<String>,
    pub statsite_address: Option<String>,
    pub dogstatsd_addr: Option<String>,
}

/// `http_config { }`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct HttpConfig {
    pub response_headers: BTreeMap<String, String>,
    pub block_endpoints: Vec<String>,
    pub allow_write_http_from: Vec<String>,
    pub use_cache: bool,
}

/// `autopilot { }`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Autopilot {
    pub cleanup_dead_servers: bool,
    pub last_contact_threshold: Duration,
    pub max_trailing_logs: u64,
    pub min_quorum: u32,
    pub server_stabilization_time: Duration,
    pub redundancy_zone_tag: Option<String>,
    pub disable_upgrade_migration: bool,
    pub upgrade_version_tag: Option<String>,
}

/// `ui_config { }`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct UiConfig {
    pub enabled: bool,
    pub dir: Option<String>,
    pub content_path: String,
    pub metrics_provider: Option<String>,
}

/// The runtime configuration: defaults, `-dev` defaults, files, `-hcl`
/// fragments and flags, merged and validated.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub struct RuntimeConfig {
    pub dev_mode: bool,
    pub datacenter: String,
    pub primary_datacenter: String,
    pub node_name: String,
    pub node_id: Option<String>,
    pub node_meta: BTreeMap<String, String>,
    pub disable_host_node_id: bool,
    pub server: bool,
    pub bootstrap: bool,
    pub bootstrap_expect: u32,
    /// `None` in `-dev` mode (in-memory state).
    pub data_dir: Option<PathBuf>,
    pub bind_addr: IpAddr,
    pub advertise_addr: IpAddr,
    pub advertise_addr_wan: IpAddr,
    pub serf_bind_addr_lan: IpAddr,
    pub serf_bind_addr_wan: IpAddr,
    pub client_addrs: Vec<IpAddr>,
    pub addresses: Addresses,
    pub ports: Ports,
    pub retry_join: Vec<String>,
    pub retry_join_wan: Vec<String>,
    pub retry_interval: Duration,
    pub retry_interval_wan: Duration,
    pub retry_max: u32,
    pub retry_max_wan: u32,
    pub rejoin_after_leave: bool,
    pub encrypt: Option<String>,
    pub encrypt_verify_incoming: bool,
    pub encrypt_verify_outgoing: bool,
    pub disable_keyring_file: bool,
    pub ui_enabled: bool,
    pub ui_config: UiConfig,
    /// Lowercase: `trace`, `debug`, `info`, `warn` or `error`.
    pub log_level: String,
    pub log_json: bool,
    pub log_file: Option<String>,
    pub enable_syslog: bool,
    pub enable_script_checks: bool,
    pub enable_local_script_checks: bool,
    pub disable_remote_exec: bool,
    pub disable_update_check: bool,
    pub enable_debug: bool,
    pub session_ttl_min: Duration,
    pub default_query_time: Duration,
    pub max_query_time: Duration,
    pub discovery_max_stale: Duration,
    pub limits: Limits,
    pub performance: Performance,
    /// Always ends with a dot (`consul.`).
    pub domain: String,
    pub alt_domain: Option<String>,
    pub recursors: Vec<String>,
    pub dns_config: DnsConfig,
    pub acl: AclConfig,
    pub tls: TlsConfig,
    pub telemetry: Telemetry,
    pub http_config: HttpConfig,
    pub leave_on_terminate: bool,
    pub skip_leave_on_interrupt: bool,
    pub reconnect_timeout: Duration,
    pub reconnect_timeout_wan: Duration,
    pub translate_wan_addrs: bool,
    pub pid_file: Option<String>,
    pub check_output_max_size: u32,
    pub check_update_interval: Duration,
    /// How often anti-entropy compares local services and checks with the catalog
    /// (Consul's internal `ae_interval`, 1m; accepted here so tests can shorten it).
    pub ae_interval: Duration,
    /// How often services whose checks stayed critical are looked for (Consul's
    /// `check_reap_interval`, 30s).
    pub check_reap_interval: Duration,
    /// The floor for `DeregisterCriticalServiceAfter` (Consul's
    /// `check_deregister_interval_min`, 1m).
    pub check_deregister_interval_min: Duration,
    pub autopilot: Autopilot,
    pub raft_protocol: u32,
    pub raft_snapshot_threshold: u64,
    pub raft_snapshot_interval: Duration,
    pub raft_trailing_logs: u64,
    pub connect_enabled: bool,
    /// Every JSON response pretty-printed (`-dev`).
    pub pretty_json: bool,
    /// Raw service definitions (snake_case, as written), for the API decoder.
    pub services: Vec<Value>,
    /// Raw check definitions.
    pub checks: Vec<Value>,
    /// Raw watch definitions.
    pub watches: Vec<Value>,
    /// Accepted keys this struct does not model, as merged JSON
    /// (e.g. `connect`, `auto_encrypt`, `gossip_lan`).
    pub extra: BTreeMap<String, Value>,
}
