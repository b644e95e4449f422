//! Consul's shared HTTP API flags (`-http-addr`, `-token`, ...) and the glue from parsed flags
//! plus `CONSUL_HTTP_*` environment to an API client and a runtime to drive it.

use proconsul_api::{Client, Config, QueryOptions};

use crate::flags::{Flag, FlagSet, Kind, Matches};
use crate::output::Ui;

const fn http_flag(name: &'static str, kind: Kind, usage: &'static str) -> Flag {
    let default = if matches!(kind, Kind::Bool) {
        "false"
    } else {
        ""
    };
    Flag {
        name,
        kind,
        custom: true,
        default,
        usage,
        http: true,
    }
}

/// Client flags (every API command).
const CLIENT_FLAGS: [Flag; 8] = [
    http_flag(
        "http-addr",
        Kind::String,
        "The `address` and port of the Consul HTTP agent. The value can be an IP address or \
         DNS address, but it must also include the port. This can also be specified via the \
         CONSUL_HTTP_ADDR environment variable. The default value is http://127.0.0.1:8500. \
         The scheme can also be set to HTTPS by setting the environment variable \
         CONSUL_HTTP_SSL=true.",
    ),
    http_flag(
        "token",
        Kind::String,
        "ACL token to use in the request. This can also be specified via the CONSUL_HTTP_TOKEN \
         environment variable. If unspecified, the query will default to the token of the \
         Consul agent at the HTTP address.",
    ),
    http_flag(
        "token-file",
        Kind::String,
        "File containing the ACL token to use in the request instead of one specified via the \
         -token argument or CONSUL_HTTP_TOKEN environment variable. This can also be specified \
         via the CONSUL_HTTP_TOKEN_FILE environment variable.",
    ),
    http_flag(
        "ca-file",
        Kind::String,
        "Path to a CA file to use for TLS when communicating with Consul. This can also be \
         specified via the CONSUL_CACERT environment variable.",
    ),
    http_flag(
        "ca-path",
        Kind::String,
        "Path to a directory of CA certificates to use for TLS when communicating with Consul. \
         This can also be specified via the CONSUL_CAPATH environment variable.",
    ),
    http_flag(
        "client-cert",
        Kind::String,
        "Path to a client cert file to use for TLS when 'verify_incoming' is enabled. This can \
         also be specified via the CONSUL_CLIENT_CERT environment variable.",
    ),
    http_flag(
        "client-key",
        Kind::String,
        "Path to a client key file to use for TLS when 'verify_incoming' is enabled. This can \
         also be specified via the CONSUL_CLIENT_KEY environment variable.",
    ),
    http_flag(
        "tls-server-name",
        Kind::String,
        "The server name to use as the SNI host when connecting via TLS. This can also be \
         specified via the CONSUL_TLS_SERVER_NAME environment variable.",
    ),
];

/// Server flags (read commands).
const SERVER_FLAGS: [Flag; 2] = [
    http_flag(
        "datacenter",
        Kind::String,
        "Name of the datacenter to query. If unspecified, this will default to the datacenter \
         of the queried agent.",
    ),
    http_flag(
        "stale",
        Kind::Bool,
        "Permit any Consul server (non-leader) to respond to this request. This allows for \
         lower latency and higher throughput, but can result in stale data. This option has no \
         effect on non-read operations. The default value is false.",
    ),
];

/// Enterprise multi-tenancy flags: accepted, and meaningless for OSS (`default` only).
const TENANCY_FLAGS: [Flag; 2] = [
    Flag {
        name: "namespace",
        kind: Kind::String,
        custom: true,
        default: "",
        usage: "Specifies the namespace to query. If not provided, the namespace will be \
                inferred from the request's ACL token, or will default to the `default` \
                namespace.",
        http: false,
    },
    Flag {
        name: "partition",
        kind: Kind::String,
        custom: true,
        default: "",
        usage: "Specifies the admin partition to query. If not provided, the admin partition \
                will be inferred from the request's ACL token, or will default to the `default` \
                admin partition. Admin Partitions are a Consul Enterprise feature.",
        http: false,
    },
];

/// Adds client, server and multi-tenancy flags, as Consul's KV commands do.
pub fn with_http_flags(set: FlagSet) -> FlagSet {
    TENANCY_FLAGS
        .iter()
        .fold(with_client_server_flags(set), |set, flag| {
            set.with(flag.clone())
        })
}

/// Adds the client flags only (`maint`).
pub fn with_client_flags(set: FlagSet) -> FlagSet {
    CLIENT_FLAGS
        .iter()
        .fold(set, |set, flag| set.with(flag.clone()))
}

/// Adds client and server flags only (`catalog datacenters`).
pub fn with_client_server_flags(set: FlagSet) -> FlagSet {
    CLIENT_FLAGS
        .iter()
        .chain(&SERVER_FLAGS)
        .fold(set, |set, flag| set.with(flag.clone()))
}

/// Adds client and server flags plus `-partition` (`catalog nodes`).
pub fn with_partition_flag(set: FlagSet) -> FlagSet {
    with_client_server_flags(set).with(TENANCY_FLAGS[1].clone())
}

/// `CONSUL_HTTP_*` environment overridden by whichever HTTP flags were given.
pub fn api_config(m: &Matches) -> Config {
    let mut config = Config::from_env();
    let given = |name: &str| m.get(name).filter(|v| !v.is_empty()).map(str::to_string);
    if let Some(addr) = given("http-addr") {
        config.address = addr;
    }
    if let Some(token) = given("token") {
        config.token = Some(token);
    }
    if let Some(file) = given("token-file") {
        config.token_file = Some(file);
    }
    if let Some(dc) = given("datacenter") {
        config.datacenter = Some(dc);
    }
    config
}

/// Read options from `-stale`.
pub fn query_options(m: &Matches) -> QueryOptions {
    QueryOptions {
        stale: m.bool("stale"),
        ..QueryOptions::default()
    }
}

/// Builds the API client, reporting failure the way Consul does.
pub fn client(m: &Matches, ui: &mut Ui) -> Option<Client> {
    match Client::new(&api_config(m)) {
        Ok(client) => Some(client),
        Err(e) => {
            ui.error(&format!("Error connecting to Consul agent: {e}"));
            None
        }
    }
}

/// A current-thread runtime for one command's API calls.
pub fn runtime(ui: &mut Ui) -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            ui.error(&format!("Error starting async runtime: {e}"));
            None
        }
    }
}
