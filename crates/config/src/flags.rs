//! `consul agent` command-line flags, parsed with Go `flag` package semantics.

use std::path::PathBuf;

use crate::ConfigError;
use crate::duration::parse_go_duration;

/// A `-config-file` or `-config-dir` argument, kept in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigPath {
    /// `-config-file` (a directory given here is loaded like `-config-dir`).
    File(PathBuf),
    /// `-config-dir`.
    Dir(PathBuf),
}

/// Agent command-line flags (args after `agent`); every field is `Option`/`Vec`
/// so that "not given" is visible.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct AgentFlags {
    pub dev: Option<bool>,
    pub server: Option<bool>,
    pub bootstrap: Option<bool>,
    pub bootstrap_expect: Option<i64>,
    pub bind: Option<String>,
    pub client: Option<String>,
    pub advertise: Option<String>,
    pub advertise_wan: Option<String>,
    pub data_dir: Option<String>,
    /// `-config-file` and `-config-dir` in the order given.
    pub config_paths: Vec<ConfigPath>,
    /// `-config-format`: `json` or `hcl`.
    pub config_format: Option<String>,
    pub datacenter: Option<String>,
    pub primary_datacenter: Option<String>,
    pub node: Option<String>,
    pub node_id: Option<String>,
    /// `-node-meta key:value`, repeatable.
    pub node_meta: Vec<(String, String)>,
    pub retry_join: Vec<String>,
    pub retry_join_wan: Vec<String>,
    pub retry_interval: Option<String>,
    pub retry_interval_wan: Option<String>,
    pub retry_max: Option<i64>,
    pub retry_max_wan: Option<i64>,
    pub encrypt: Option<String>,
    pub ui: Option<bool>,
    pub ui_dir: Option<String>,
    pub ui_content_path: Option<String>,
    pub log_level: Option<String>,
    pub log_json: Option<bool>,
    pub log_file: Option<String>,
    pub syslog: Option<bool>,
    pub dns_port: Option<i64>,
    pub http_port: Option<i64>,
    pub https_port: Option<i64>,
    pub grpc_port: Option<i64>,
    pub grpc_tls_port: Option<i64>,
    pub serf_lan_port: Option<i64>,
    pub serf_wan_port: Option<i64>,
    pub server_port: Option<i64>,
    pub serf_lan_bind: Option<String>,
    pub serf_wan_bind: Option<String>,
    pub recursors: Vec<String>,
    pub domain: Option<String>,
    pub alt_domain: Option<String>,
    pub enable_script_checks: Option<bool>,
    pub enable_local_script_checks: Option<bool>,
    pub disable_host_node_id: Option<bool>,
    pub disable_keyring_file: Option<bool>,
    pub pid_file: Option<String>,
    /// `-hcl` fragments, in order.
    pub hcl: Vec<String>,
    pub rejoin: Option<bool>,
    pub raft_protocol: Option<i64>,
}

#[derive(Clone, Copy)]
enum Kind {
    Bool,
    Int,
    Duration,
    Str,
}

/// Flag name, kind, help text.
const FLAGS: &[(&str, Kind, &str)] = &[
    ("advertise", Kind::Str, "Sets the advertise address to use."),
    (
        "advertise-wan",
        Kind::Str,
        "Sets address to advertise on WAN instead of -advertise address.",
    ),
    (
        "alt-domain",
        Kind::Str,
        "Alternate domain to use for DNS interface.",
    ),
    (
        "bind",
        Kind::Str,
        "Sets the bind address for cluster communication.",
    ),
    ("bootstrap", Kind::Bool, "Sets server to bootstrap mode."),
    (
        "bootstrap-expect",
        Kind::Int,
        "Sets server to expect bootstrap mode.",
    ),
    (
        "client",
        Kind::Str,
        "Sets the address to bind for client access (HTTP, DNS, gRPC).",
    ),
    (
        "config-dir",
        Kind::Str,
        "Path to a directory to read configuration files from. Repeatable.",
    ),
    (
        "config-file",
        Kind::Str,
        "Path to a file in JSON or HCL format. Repeatable.",
    ),
    (
        "config-format",
        Kind::Str,
        "Config files are in this format irrespective of their extension (json or hcl).",
    ),
    (
        "data-dir",
        Kind::Str,
        "Path to a data directory to store agent state.",
    ),
    ("datacenter", Kind::Str, "Datacenter of the agent."),
    ("dev", Kind::Bool, "Starts the agent in development mode."),
    (
        "disable-host-node-id",
        Kind::Bool,
        "Setting this to true will prevent Consul from using information from the host to generate a node ID.",
    ),
    (
        "disable-keyring-file",
        Kind::Bool,
        "Disables the backing up of the keyring to a file.",
    ),
    ("dns-port", Kind::Int, "DNS port to use."),
    ("domain", Kind::Str, "Domain to use for DNS interface."),
    (
        "enable-local-script-checks",
        Kind::Bool,
        "Enables health check scripts from configuration file.",
    ),
    (
        "enable-script-checks",
        Kind::Bool,
        "Enables health check scripts.",
    ),
    ("encrypt", Kind::Str, "Provides the gossip encryption key."),
    (
        "grpc-port",
        Kind::Int,
        "Sets the gRPC API port to listen on.",
    ),
    (
        "grpc-tls-port",
        Kind::Int,
        "Sets the gRPC-TLS API port to listen on.",
    ),
    (
        "hcl",
        Kind::Str,
        "hcl config fragment. Can be specified multiple times.",
    ),
    (
        "http-port",
        Kind::Int,
        "Sets the HTTP API port to listen on.",
    ),
    (
        "https-port",
        Kind::Int,
        "Sets the HTTPS API port to listen on.",
    ),
    (
        "log-file",
        Kind::Str,
        "Path to the file the logs get written to.",
    ),
    ("log-json", Kind::Bool, "Output logs in JSON format."),
    ("log-level", Kind::Str, "Log level of the agent."),
    (
        "node",
        Kind::Str,
        "Name of this node. Must be unique in the cluster.",
    ),
    (
        "node-id",
        Kind::Str,
        "A unique ID for this node across space and time.",
    ),
    (
        "node-meta",
        Kind::Str,
        "An arbitrary metadata key/value pair for this node, of the format `key:value`. Repeatable.",
    ),
    ("pid-file", Kind::Str, "Path to file to store agent PID."),
    (
        "primary-datacenter",
        Kind::Str,
        "Sets the primary datacenter.",
    ),
    (
        "raft-protocol",
        Kind::Int,
        "Sets the Raft protocol version.",
    ),
    (
        "recursor",
        Kind::Str,
        "Address of an upstream DNS server. Repeatable.",
    ),
    (
        "rejoin",
        Kind::Bool,
        "Ignores a previous leave and attempts to rejoin the cluster.",
    ),
    (
        "retry-interval",
        Kind::Duration,
        "Time to wait between join attempts.",
    ),
    (
        "retry-interval-wan",
        Kind::Duration,
        "Time to wait between join -wan attempts.",
    ),
    (
        "retry-join",
        Kind::Str,
        "Address of an agent to join at start time with retries enabled. Repeatable.",
    ),
    (
        "retry-join-wan",
        Kind::Str,
        "Address of an agent to join -wan at start time with retries enabled. Repeatable.",
    ),
    (
        "retry-max",
        Kind::Int,
        "Maximum number of join attempts. Defaults to 0, which will retry indefinitely.",
    ),
    (
        "retry-max-wan",
        Kind::Int,
        "Maximum number of join -wan attempts.",
    ),
    (
        "serf-lan-bind",
        Kind::Str,
        "Address to bind Serf LAN listeners to.",
    ),
    (
        "serf-lan-port",
        Kind::Int,
        "Sets the Serf LAN port to listen on.",
    ),
    (
        "serf-wan-bind",
        Kind::Str,
        "Address to bind Serf WAN listeners to.",
    ),
    (
        "serf-wan-port",
        Kind::Int,
        "Sets the Serf WAN port to listen on.",
    ),
    ("server", Kind::Bool, "Switches agent to server mode."),
    (
        "server-port",
        Kind::Int,
        "Sets the server port to listen on.",
    ),
    ("syslog", Kind::Bool, "Enables logging to syslog."),
    (
        "ui",
        Kind::Bool,
        "Enables the built-in static web UI server.",
    ),
    (
        "ui-content-path",
        Kind::Str,
        "Sets the external UI path to a string.",
    ),
    (
        "ui-dir",
        Kind::Str,
        "Path to directory containing the web UI resources.",
    ),
];

/// The usage text printed for `consul agent -h`.
pub fn agent_usage() -> String {
    let mut out = String::from(
        "Usage: consul agent [options]\n\n  Starts the Consul agent and runs until an interrupt is received. The\n  agent represents a single node in a cluster.\n\nAgent Options:\n",
    );
    for (name, kind, help) in FLAGS {
        let arg = match kind {
            Kind::Bool => "",
            Kind::Int => "=<int>",
            Kind::Duration => "=<duration>",
            Kind::Str => "=<string>",
        };
        out.push_str(&format!("\n  -{name}{arg}\n     {help}\n"));
    }
    out
}

/// Go's `strconv.ParseBool`.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Parses Go-style flags: `-name=value`, `-name value`, `--name=value`,
/// `--name value`, bare bool flags (`-dev`) and `-dev=true`.
pub fn parse_agent_args(args: &[String]) -> Result<AgentFlags, ConfigError> {
    let mut flags = AgentFlags::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg.len() < 2 || !arg.starts_with('-') {
            // First non-flag argument: Go's flag package stops here.
            return Err(extra_args(&args[i - 1..]));
        }
        let mut name = &arg[1..];
        if let Some(rest) = name.strip_prefix('-') {
            if rest.is_empty() {
                // "--" terminates the flags.
                if i < args.len() {
                    return Err(extra_args(&args[i..]));
                }
                break;
            }
            name = rest;
        }
        if name.starts_with('-') || name.starts_with('=') {
            return Err(ConfigError::Flag(format!("bad flag syntax: {arg}")));
        }
        let (name, inline) = match name.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (name, None),
        };
        if name == "h" || name == "help" {
            return Err(ConfigError::Help(agent_usage()));
        }
        let Some((_, kind, _)) = FLAGS.iter().find(|(n, _, _)| *n == name) else {
            return Err(ConfigError::Flag(format!(
                "flag provided but not defined: -{name}"
            )));
        };
        let value = match (kind, inline) {
            (_, Some(v)) => v,
            (Kind::Bool, None) => "true".to_string(),
            (_, None) => match args.get(i) {
                Some(v) => {
                    i += 1;
                    v.clone()
                }
                None => {
                    return Err(ConfigError::Flag(format!(
                        "flag needs an argument: -{name}"
                    )));
                }
            },
        };
        set_flag(&mut flags, name, *kind, value)?;
    }
    Ok(flags)
}

fn extra_args(rest: &[String]) -> ConfigError {
    ConfigError::Flag(format!(
        "config: Unknown extra arguments: [{}]",
        rest.join(" ")
    ))
}

/// A typed flag value.
enum Val {
    B(bool),
    I(i64),
    S(String),
}

fn typed(name: &str, kind: Kind, value: String) -> Result<Val, ConfigError> {
    match kind {
        Kind::Bool => parse_bool(&value).map(Val::B).ok_or_else(|| {
            ConfigError::Flag(format!(
                "invalid boolean value {value:?} for -{name}: parse error"
            ))
        }),
        Kind::Int => value.parse::<i64>().map(Val::I).map_err(|_| {
            ConfigError::Flag(format!(
                "invalid value {value:?} for flag -{name}: parse error"
            ))
        }),
        Kind::Duration => match parse_go_duration(&value) {
            Ok(_) => Ok(Val::S(value)),
            Err(e) => Err(ConfigError::Flag(format!(
                "invalid value {value:?} for flag -{name}: {e}"
            ))),
        },
        Kind::Str => Ok(Val::S(value)),
    }
}

fn set_flag(f: &mut AgentFlags, name: &str, kind: Kind, value: String) -> Result<(), ConfigError> {
    let v = typed(name, kind, value)?;
    match v {
        Val::B(b) => set_bool(f, name, b),
        Val::I(n) => set_int(f, name, n),
        Val::S(s) => set_str(f, name, s),
    }
    Ok(())
}

fn set_bool(f: &mut AgentFlags, name: &str, b: bool) {
    let slot = match name {
        "dev" => &mut f.dev,
        "server" => &mut f.server,
        "bootstrap" => &mut f.bootstrap,
        "ui" => &mut f.ui,
        "log-json" => &mut f.log_json,
        "syslog" => &mut f.syslog,
        "enable-script-checks" => &mut f.enable_script_checks,
        "enable-local-script-checks" => &mut f.enable_local_script_checks,
        "disable-host-node-id" => &mut f.disable_host_node_id,
        "disable-keyring-file" => &mut f.disable_keyring_file,
        "rejoin" => &mut f.rejoin,
        _ => return,
    };
    *slot = Some(b);
}

fn set_int(f: &mut AgentFlags, name: &str, n: i64) {
    let slot = match name {
        "bootstrap-expect" => &mut f.bootstrap_expect,
        "retry-max" => &mut f.retry_max,
        "retry-max-wan" => &mut f.retry_max_wan,
        "dns-port" => &mut f.dns_port,
        "http-port" => &mut f.http_port,
        "https-port" => &mut f.https_port,
        "grpc-port" => &mut f.grpc_port,
        "grpc-tls-port" => &mut f.grpc_tls_port,
        "serf-lan-port" => &mut f.serf_lan_port,
        "serf-wan-port" => &mut f.serf_wan_port,
        "server-port" => &mut f.server_port,
        "raft-protocol" => &mut f.raft_protocol,
        _ => return,
    };
    *slot = Some(n);
}

fn set_str(f: &mut AgentFlags, name: &str, s: String) {
    let slot = match name {
        "config-file" => return f.config_paths.push(ConfigPath::File(s.into())),
        "config-dir" => return f.config_paths.push(ConfigPath::Dir(s.into())),
        "retry-join" => return f.retry_join.push(s),
        "retry-join-wan" => return f.retry_join_wan.push(s),
        "recursor" => return f.recursors.push(s),
        "hcl" => return f.hcl.push(s),
        "node-meta" => {
            let (k, v) = s.split_once(':').unwrap_or((s.as_str(), ""));
            return f.node_meta.push((k.to_string(), v.to_string()));
        }
        "advertise" => &mut f.advertise,
        "advertise-wan" => &mut f.advertise_wan,
        "alt-domain" => &mut f.alt_domain,
        "bind" => &mut f.bind,
        "client" => &mut f.client,
        "config-format" => &mut f.config_format,
        "data-dir" => &mut f.data_dir,
        "datacenter" => &mut f.datacenter,
        "domain" => &mut f.domain,
        "encrypt" => &mut f.encrypt,
        "log-file" => &mut f.log_file,
        "log-level" => &mut f.log_level,
        "node" => &mut f.node,
        "node-id" => &mut f.node_id,
        "pid-file" => &mut f.pid_file,
        "primary-datacenter" => &mut f.primary_datacenter,
        "retry-interval" => &mut f.retry_interval,
        "retry-interval-wan" => &mut f.retry_interval_wan,
        "serf-lan-bind" => &mut f.serf_lan_bind,
        "serf-wan-bind" => &mut f.serf_wan_bind,
        "ui-dir" => &mut f.ui_dir,
        "ui-content-path" => &mut f.ui_content_path,
        _ => return,
    };
    *slot = Some(s);
}

/// The flags as a config source (a JSON object with Consul's config keys), the
/// way Consul turns flags into one more config fragment merged last.
pub(crate) fn flags_source(f: &AgentFlags) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    let s = |o: &Option<String>| o.as_ref().map(|v| json!(v));
    let b = |o: &Option<bool>| o.map(|v| json!(v));
    let i = |o: &Option<i64>| o.map(|v| json!(v));
    let list = |l: &Vec<String>| (!l.is_empty()).then(|| json!(l));
    put("server", b(&f.server));
    put("bootstrap", b(&f.bootstrap));
    put("bootstrap_expect", i(&f.bootstrap_expect));
    put("bind_addr", s(&f.bind));
    put("client_addr", s(&f.client));
    put("advertise_addr", s(&f.advertise));
    put("advertise_addr_wan", s(&f.advertise_wan));
    put("data_dir", s(&f.data_dir));
    put("datacenter", s(&f.datacenter));
    put("primary_datacenter", s(&f.primary_datacenter));
    put("node_name", s(&f.node));
    put("node_id", s(&f.node_id));
    if !f.node_meta.is_empty() {
        let meta: Map<String, Value> = f
            .node_meta
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        put("node_meta", Some(Value::Object(meta)));
    }
    put("retry_join", list(&f.retry_join));
    put("retry_join_wan", list(&f.retry_join_wan));
    put("retry_interval", s(&f.retry_interval));
    put("retry_interval_wan", s(&f.retry_interval_wan));
    put("retry_max", i(&f.retry_max));
    put("retry_max_wan", i(&f.retry_max_wan));
    put("encrypt", s(&f.encrypt));
    put("log_level", s(&f.log_level));
    put("log_json", b(&f.log_json));
    put("log_file", s(&f.log_file));
    put("enable_syslog", b(&f.syslog));
    put("serf_lan", s(&f.serf_lan_bind));
    put("serf_wan", s(&f.serf_wan_bind));
    put("recursors", list(&f.recursors));
    put("domain", s(&f.domain));
    put("alt_domain", s(&f.alt_domain));
    put("enable_script_checks", b(&f.enable_script_checks));
    put(
        "enable_local_script_checks",
        b(&f.enable_local_script_checks),
    );
    put("disable_host_node_id", b(&f.disable_host_node_id));
    put("disable_keyring_file", b(&f.disable_keyring_file));
    put("pid_file", s(&f.pid_file));
    put("rejoin_after_leave", b(&f.rejoin));
    put("raft_protocol", i(&f.raft_protocol));
    let mut ui = Map::new();
    for (k, v) in [
        ("enabled", b(&f.ui)),
        ("dir", s(&f.ui_dir)),
        ("content_path", s(&f.ui_content_path)),
    ] {
        if let Some(v) = v {
            ui.insert(k.to_string(), v);
        }
    }
    if !ui.is_empty() {
        put("ui_config", Some(Value::Object(ui)));
    }
    let mut ports = Map::new();
    for (k, v) in [
        ("dns", f.dns_port),
        ("http", f.http_port),
        ("https", f.https_port),
        ("grpc", f.grpc_port),
        ("grpc_tls", f.grpc_tls_port),
        ("serf_lan", f.serf_lan_port),
        ("serf_wan", f.serf_wan_port),
        ("server", f.server_port),
    ] {
        if let Some(v) = v {
            ports.insert(k.to_string(), json!(v));
        }
    }
    if !ports.is_empty() {
        put("ports", Some(Value::Object(ports)));
    }
    Value::Object(m)
}
