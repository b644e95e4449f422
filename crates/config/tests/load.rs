//! Building the runtime config: defaults, -dev, files, directories, flags,
//! validation errors.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use proconsul_config::{
    AgentFlags, ConfigError, RuntimeConfig, load, load_with_warnings, parse_agent_args,
};
use serde_json::json;

fn flags(a: &[&str]) -> AgentFlags {
    let v: Vec<String> = a.iter().map(|s| s.to_string()).collect();
    match parse_agent_args(&v) {
        Ok(f) => f,
        Err(e) => panic!("{a:?}: {e}"),
    }
}

fn ok(a: &[&str]) -> RuntimeConfig {
    match load(&flags(a)) {
        Ok(rt) => rt,
        Err(e) => panic!("{a:?}: {e}"),
    }
}

fn fail(a: &[&str]) -> String {
    match load(&flags(a)) {
        Ok(rt) => panic!("{a:?} loaded: {rt:?}"),
        Err(e) => e.to_string(),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    if let Err(e) = std::fs::write(&p, text) {
        panic!("write {}: {e}", p.display());
    }
    p.display().to_string()
}

fn tmp() -> tempfile::TempDir {
    match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    }
}

fn ip(s: &str) -> IpAddr {
    match s.parse() {
        Ok(ip) => ip,
        Err(e) => panic!("{s}: {e}"),
    }
}

#[test]
fn defaults() {
    let d = tmp();
    let dd = format!("-data-dir={}", d.path().display());
    let rt = ok(&[&dd, "-bind=10.1.2.3"]);
    assert!(!rt.dev_mode && !rt.server && !rt.bootstrap);
    assert_eq!(rt.datacenter, "dc1");
    assert_eq!(rt.primary_datacenter, "dc1");
    assert!(!rt.node_name.is_empty());
    assert_eq!(rt.node_id, None);
    assert_eq!(rt.bootstrap_expect, 0);
    assert_eq!(rt.data_dir.as_deref(), Some(d.path()));
    assert_eq!(rt.bind_addr, ip("10.1.2.3"));
    assert_eq!(rt.advertise_addr, ip("10.1.2.3"));
    assert_eq!(rt.advertise_addr_wan, ip("10.1.2.3"));
    assert_eq!(rt.client_addrs, vec![ip("127.0.0.1")]);
    assert_eq!(rt.ports.dns, Some(8600));
    assert_eq!(rt.ports.http, Some(8500));
    assert_eq!(rt.ports.https, None);
    assert_eq!(rt.ports.grpc, None);
    assert_eq!(rt.ports.grpc_tls, None);
    assert_eq!(rt.ports.serf_lan, Some(8301));
    assert_eq!(rt.ports.serf_wan, Some(8302));
    assert_eq!(rt.ports.server, Some(8300));
    assert!(rt.retry_join.is_empty());
    assert_eq!(rt.retry_interval, Duration::from_secs(30));
    assert_eq!(rt.retry_max, 0);
    assert_eq!(rt.encrypt, None);
    assert!(rt.encrypt_verify_incoming && rt.encrypt_verify_outgoing);
    assert!(!rt.ui_enabled);
    assert_eq!(rt.log_level, "info");
    assert!(!rt.log_json);
    assert!(!rt.enable_script_checks && !rt.enable_local_script_checks);
    assert!(rt.disable_remote_exec);
    assert_eq!(rt.session_ttl_min, Duration::from_secs(10));
    assert_eq!(rt.default_query_time, Duration::from_secs(300));
    assert_eq!(rt.max_query_time, Duration::from_secs(600));
    assert_eq!(rt.limits.kv_max_value_size, 524_288);
    assert_eq!(rt.limits.txn_max_req_len, 524_288);
    assert_eq!(rt.limits.http_max_conns_per_client, 200);
    assert_eq!(rt.limits.rpc_max_conns_per_client, 100);
    assert_eq!(rt.performance.raft_multiplier, 5);
    assert_eq!(rt.performance.leave_drain_time, Duration::from_secs(5));
    assert_eq!(rt.performance.rpc_hold_timeout, Duration::from_secs(7));
    assert_eq!(rt.domain, "consul.");
    assert_eq!(rt.alt_domain, None);
    assert!(rt.dns_config.allow_stale);
    assert_eq!(rt.dns_config.max_stale, Duration::from_secs(87600 * 3600));
    assert_eq!(rt.dns_config.node_ttl, Duration::ZERO);
    assert_eq!(rt.dns_config.udp_answer_limit, 3);
    assert!(!rt.dns_config.enable_truncate && !rt.dns_config.only_passing);
    assert_eq!(rt.dns_config.a_record_limit, 0);
    assert_eq!(rt.dns_config.recursor_timeout, Duration::from_secs(2));
    assert!(!rt.acl.enabled);
    assert_eq!(rt.acl.default_policy, "allow");
    assert_eq!(rt.acl.down_policy, "extend-cache");
    assert_eq!(rt.acl.token_ttl, Duration::from_secs(30));
    assert_eq!(rt.tls.defaults.tls_min_version, "TLSv1_2");
    assert!(!rt.tls.internal_rpc.verify_server_hostname);
    assert_eq!(rt.telemetry.metrics_prefix, "consul");
    assert_eq!(rt.telemetry.prometheus_retention_time, Duration::ZERO);
    assert!(rt.http_config.use_cache);
    assert!(rt.leave_on_terminate, "clients leave on terminate");
    assert!(!rt.skip_leave_on_interrupt);
    assert!(!rt.rejoin_after_leave);
    assert_eq!(rt.reconnect_timeout, Duration::from_secs(72 * 3600));
    assert_eq!(rt.check_output_max_size, 4096);
    assert_eq!(rt.check_update_interval, Duration::from_secs(300));
    assert_eq!(rt.discovery_max_stale, Duration::ZERO);
    assert!(rt.autopilot.cleanup_dead_servers);
    assert_eq!(
        rt.autopilot.last_contact_threshold,
        Duration::from_millis(200)
    );
    assert_eq!(rt.autopilot.max_trailing_logs, 250);
    assert_eq!(rt.raft_protocol, 3);
    assert!(!rt.pretty_json);
    assert!(rt.services.is_empty() && rt.checks.is_empty() && rt.watches.is_empty());
}

#[test]
fn server_leave_defaults() {
    let d = tmp();
    let dd = format!("-data-dir={}", d.path().display());
    let rt = ok(&[&dd, "-server", "-bind=127.0.0.1"]);
    assert!(!rt.leave_on_terminate);
    assert!(rt.skip_leave_on_interrupt);
}

#[test]
fn dev_defaults() {
    let rt = ok(&["-dev"]);
    assert!(rt.dev_mode && rt.server && rt.bootstrap);
    assert_eq!(rt.bootstrap_expect, 0);
    assert_eq!(rt.data_dir, None);
    assert_eq!(rt.bind_addr, ip("127.0.0.1"));
    assert_eq!(rt.advertise_addr, ip("127.0.0.1"));
    assert_eq!(rt.client_addrs, vec![ip("127.0.0.1")]);
    assert!(rt.ui_enabled);
    assert_eq!(rt.log_level, "debug");
    assert_eq!(rt.ports.grpc, Some(8502));
    assert!(rt.pretty_json);
    assert_eq!(rt.performance.raft_multiplier, 1);
    assert!(rt.connect_enabled);
    assert!(!rt.acl.enabled);
    assert_eq!(rt.datacenter, "dc1");
}

#[test]
fn dev_values_are_overridable() {
    let rt = ok(&[
        "-dev",
        "-log-level=INFO",
        "-grpc-port=-1",
        "-client=0.0.0.0",
    ]);
    assert_eq!(rt.log_level, "info");
    assert_eq!(rt.ports.grpc, None);
    assert_eq!(rt.client_addrs, vec![ip("0.0.0.0")]);
}

const SERVER_JSON: &str = r#"{
  "datacenter": "East-1",
  "data_dir": "DATA",
  "node_name": "server-1",
  "server": true,
  "bootstrap_expect": 3,
  "bind_addr": "10.0.0.10",
  "client_addr": "127.0.0.1 10.0.0.10",
  "retry_join": ["10.0.0.11", "10.0.0.12"],
  "encrypt": "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=",
  "ports": {"http": 8501, "https": 8443, "grpc": "8502"},
  "acl": {
    "enabled": true,
    "default_policy": "deny",
    "down_policy": "extend-cache",
    "enable_token_persistence": true,
    "tokens": {"initial_management": "root-token", "agent": "agent-token"}
  },
  "tls": {
    "defaults": {
      "ca_file": "/etc/consul/ca.pem",
      "cert_file": "/etc/consul/server.pem",
      "key_file": "/etc/consul/server-key.pem",
      "verify_incoming": true,
      "verify_outgoing": true
    },
    "internal_rpc": {"verify_server_hostname": true},
    "https": {"verify_incoming": false}
  },
  "performance": {"raft_multiplier": 1},
  "telemetry": {"prometheus_retention_time": "60s", "disable_hostname": true},
  "connect": {"enabled": true},
  "ui_config": {"enabled": true},
  "autopilot": {"min_quorum": 3},
  "node_meta": {"rack": "r1"}
}"#;

fn check_server(rt: &RuntimeConfig) {
    assert_eq!(rt.datacenter, "east-1", "datacenter is lowercased");
    assert_eq!(rt.node_name, "server-1");
    assert!(rt.server);
    assert_eq!(rt.bootstrap_expect, 3);
    assert_eq!(rt.bind_addr, ip("10.0.0.10"));
    assert_eq!(rt.advertise_addr, ip("10.0.0.10"));
    assert_eq!(rt.client_addrs, vec![ip("127.0.0.1"), ip("10.0.0.10")]);
    assert_eq!(rt.addresses.http, rt.client_addrs);
    assert_eq!(rt.retry_join, vec!["10.0.0.11", "10.0.0.12"]);
    assert!(rt.encrypt.is_some());
    assert_eq!(rt.ports.http, Some(8501));
    assert_eq!(rt.ports.https, Some(8443));
    assert_eq!(rt.ports.grpc, Some(8502));
    assert!(rt.acl.enabled && rt.acl.enable_token_persistence);
    assert_eq!(rt.acl.default_policy, "deny");
    assert_eq!(
        rt.acl.tokens.initial_management.as_deref(),
        Some("root-token")
    );
    assert_eq!(rt.acl.tokens.agent.as_deref(), Some("agent-token"));
    assert_eq!(
        rt.tls.defaults.ca_file.as_deref(),
        Some("/etc/consul/ca.pem")
    );
    assert_eq!(
        rt.tls.internal_rpc.ca_file.as_deref(),
        Some("/etc/consul/ca.pem")
    );
    assert!(rt.tls.internal_rpc.verify_incoming);
    assert!(rt.tls.internal_rpc.verify_server_hostname);
    assert!(!rt.tls.https.verify_incoming);
    assert!(rt.tls.https.verify_outgoing);
    assert_eq!(rt.performance.raft_multiplier, 1);
    assert_eq!(
        rt.telemetry.prometheus_retention_time,
        Duration::from_secs(60)
    );
    assert!(rt.telemetry.disable_hostname);
    assert!(rt.ui_enabled);
    assert_eq!(rt.autopilot.min_quorum, 3);
    assert_eq!(rt.node_meta.get("rack").map(String::as_str), Some("r1"));
    assert_eq!(rt.extra.get("connect"), Some(&json!({"enabled": true})));
}

#[test]
fn server_json_file() {
    let d = tmp();
    let text = SERVER_JSON.replace("DATA", &d.path().display().to_string());
    let f = write(d.path(), "server.json", &text);
    let (rt, warnings) = match load_with_warnings(&flags(&["-config-file", &f])) {
        Ok(x) => x,
        Err(e) => panic!("{e}"),
    };
    check_server(&rt);
    assert!(warnings.iter().any(|w| w.contains("expecting 3 servers")));
}

const SERVER_HCL: &str = r#"
datacenter = "East-1"
data_dir = "DATA"
node_name = "server-1"
server = true
bootstrap_expect = 3
bind_addr = "10.0.0.10"
client_addr = "127.0.0.1 10.0.0.10"
retry_join = ["10.0.0.11", "10.0.0.12"]
encrypt = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="
ports {
  http = 8501
  https = 8443
  grpc = 8502
}
acl {
  enabled = true
  default_policy = "deny"
  down_policy = "extend-cache"
  enable_token_persistence = true
  tokens {
    initial_management = "root-token"
    agent = "agent-token"
  }
}
tls {
  defaults {
    ca_file = "/etc/consul/ca.pem"
    cert_file = "/etc/consul/server.pem"
    key_file = "/etc/consul/server-key.pem"
    verify_incoming = true
    verify_outgoing = true
  }
  internal_rpc {
    verify_server_hostname = true
  }
  https = { verify_incoming = false }
}
performance {
  raft_multiplier = 1
}
telemetry {
  prometheus_retention_time = "60s"
  disable_hostname = true
}
connect {
  enabled = true
}
ui_config {
  enabled = true
}
autopilot {
  min_quorum = 3
}
node_meta = {
  rack = "r1"
}
"#;

#[test]
fn server_hcl_file_matches_json() {
    let d = tmp();
    let text = SERVER_HCL.replace("DATA", &d.path().display().to_string());
    let f = write(d.path(), "server.hcl", &text);
    check_server(&ok(&["-config-file", &f]));
}

const CLIENT_HCL: &str = r#"
data_dir = "DATA"
retry_join = ["provider=aws tag_key=consul tag_value=server"]
service {
  name = "web"
  port = 8080
  tags = ["v1", "primary"]
  check {
    id = "web-http"
    http = "http://localhost:8080/health"
    interval = "10s"
  }
}
service {
  name = "db"
  port = 5432
}
check {
  id = "mem"
  args = ["/bin/check_mem"]
  interval = "30s"
}
watches = [
  { type = "key", key = "foo", handler_type = "script", args = ["/bin/h"] }
]
enable_local_script_checks = true
"#;

#[test]
fn client_with_services_and_checks() {
    let d = tmp();
    let text = CLIENT_HCL.replace("DATA", &d.path().display().to_string());
    let f = write(d.path(), "client.hcl", &text);
    let rt = ok(&["-config-file", &f, "-bind=10.0.0.20"]);
    assert!(!rt.server);
    assert_eq!(rt.services.len(), 2);
    assert_eq!(rt.services[0]["name"], json!("web"));
    assert_eq!(rt.services[0]["tags"], json!(["v1", "primary"]));
    assert_eq!(rt.services[0]["check"]["interval"], json!("10s"));
    assert_eq!(rt.services[1]["port"], json!(5432));
    assert_eq!(
        rt.checks,
        vec![json!({"id": "mem", "args": ["/bin/check_mem"], "interval": "30s"})]
    );
    assert_eq!(rt.watches.len(), 1);
    assert_eq!(rt.watches[0]["type"], json!("key"));
    assert!(rt.enable_local_script_checks);
    assert_eq!(
        rt.retry_join,
        vec!["provider=aws tag_key=consul tag_value=server"]
    );
}

#[test]
fn config_dir_lexical_order_later_wins_lists_concat() {
    let d = tmp();
    let dir = d.path().join("conf.d");
    if let Err(e) = std::fs::create_dir_all(dir.join("sub")) {
        panic!("{e}");
    }
    write(
        &dir,
        "20-b.hcl",
        "datacenter = \"dc-b\"\nretry_join = [\"b\"]\nservices = [{ name = \"s2\" }]\n",
    );
    write(
        &dir,
        "10-a.json",
        r#"{"datacenter": "dc-a", "retry_join": ["a"], "service": {"name": "s1"}, "node_meta": {"x": "1"}}"#,
    );
    write(
        &dir,
        "30-c.json",
        r#"{"node_meta": {"y": "2"}, "ports": {"http": 9000}}"#,
    );
    write(&dir, "ignored.txt", "not config");
    write(
        &dir.join("sub"),
        "nested.json",
        r#"{"datacenter": "nested"}"#,
    );
    let dd = format!("-data-dir={}", d.path().display());
    let cd = format!("-config-dir={}", dir.display());
    let rt = ok(&[&dd, &cd, "-bind=127.0.0.1", "-retry-join=c"]);
    assert_eq!(rt.datacenter, "dc-b");
    assert_eq!(rt.retry_join, vec!["a", "b", "c"]);
    let names: Vec<_> = rt.services.iter().map(|s| s["name"].clone()).collect();
    assert_eq!(names, vec![json!("s1"), json!("s2")]);
    assert_eq!(rt.node_meta.len(), 2);
    assert_eq!(rt.ports.http, Some(9000));
}

#[test]
fn files_in_command_line_order_and_flags_override() {
    let d = tmp();
    let a = write(
        d.path(),
        "a.json",
        r#"{"datacenter": "one", "log_level": "warn", "ports": {"dns": 53}}"#,
    );
    let b = write(d.path(), "b.hcl", "datacenter = \"two\"\n");
    let dd = format!("-data-dir={}", d.path().display());
    let rt = ok(&[
        &dd,
        "-bind=127.0.0.1",
        "-config-file",
        &b,
        "-config-file",
        &a,
    ]);
    assert_eq!(rt.datacenter, "one");
    let rt = ok(&[
        &dd,
        "-bind=127.0.0.1",
        "-config-file",
        &a,
        "-config-file",
        &b,
        "-datacenter=three",
        "-dns-port=-1",
        "-log-level=ERR",
    ]);
    assert_eq!(rt.datacenter, "three");
    assert_eq!(rt.ports.dns, None, "-1 disables");
    assert_eq!(rt.log_level, "error");
}

#[test]
fn hcl_fragments_between_files_and_flags() {
    let d = tmp();
    let dd = format!("-data-dir={}", d.path().display());
    let rt = ok(&[
        &dd,
        "-bind=127.0.0.1",
        "-hcl",
        "datacenter = \"frag\"",
        "-hcl",
        "ports { http = -1 }",
    ]);
    assert_eq!(rt.datacenter, "frag");
    assert_eq!(rt.ports.http, None);
    let rt = ok(&[
        &dd,
        "-bind=127.0.0.1",
        "-hcl=datacenter = \"frag\"",
        "-datacenter=flag",
    ]);
    assert_eq!(rt.datacenter, "flag");
    let e = fail(&[&dd, "-hcl=bogus = 1"]);
    assert_eq!(e, r#"unknown configuration key "bogus" in flags-0.hcl"#);
}

#[test]
fn config_format_forces_format() {
    let d = tmp();
    let f = write(d.path(), "consul.conf", "datacenter = \"hcl-dc\"\n");
    let dd = format!("-data-dir={}", d.path().display());
    let rt = ok(&[
        &dd,
        "-bind=127.0.0.1",
        "-config-format=hcl",
        "-config-file",
        &f,
    ]);
    assert_eq!(rt.datacenter, "hcl-dc");
    let e = fail(&[&dd, "-config-file", &f]);
    assert!(e.contains("unsupported config format"), "{e}");
    assert!(e.contains("consul.conf"), "{e}");
}

#[test]
fn legacy_keys_are_mapped_with_warnings() {
    let d = tmp();
    let f = write(
        d.path(),
        "legacy.json",
        r#"{"acl_master_token": "m", "acl": {"tokens": {"agent_master": "r"}}, "ca_file": "/ca", "verify_server_hostname": true, "ui": true}"#,
    );
    let dd = format!("-data-dir={}", d.path().display());
    let (rt, w) = match load_with_warnings(&flags(&[&dd, "-bind=127.0.0.1", "-config-file", &f])) {
        Ok(x) => x,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(rt.acl.tokens.initial_management.as_deref(), Some("m"));
    assert_eq!(rt.acl.tokens.agent_recovery.as_deref(), Some("r"));
    assert_eq!(rt.tls.https.ca_file.as_deref(), Some("/ca"));
    assert!(rt.tls.internal_rpc.verify_server_hostname);
    assert!(rt.ui_enabled);
    assert!(
        w.iter()
            .any(|m| m.contains("'ca_file' field is deprecated")),
        "{w:?}"
    );
}

fn file_error(name: &str, text: &str) -> (String, String) {
    let d = tmp();
    let f = write(d.path(), name, text);
    let dd = format!("-data-dir={}", d.path().display());
    (fail(&[&dd, "-bind=127.0.0.1", "-config-file", &f]), f)
}

#[test]
fn invalid_values_name_key_and_file() {
    let (e, f) = file_error("x.json", r#"{"ports": {"http": "abc"}}"#);
    assert_eq!(
        e,
        format!(r#"config: {f}: invalid value for "ports.http": expected port number, got "abc""#)
    );
    let (e, f) = file_error("x.hcl", "ports {\n  dns = 70000\n}\n");
    assert_eq!(
        e,
        format!(
            r#"config: {f}: invalid value for "ports.dns": expected port number (-1 to 65535), got 70000"#
        )
    );
    let (e, f) = file_error(
        "x.json",
        r#"{"performance": {"leave_drain_time": "5 minutes"}}"#,
    );
    assert!(
        e.starts_with(&format!(
            r#"config: {f}: invalid value for "performance.leave_drain_time": expected duration"#
        )),
        "{e}"
    );
    let (e, f) = file_error("x.json", r#"{"encrypt": "not-a-key"}"#);
    assert!(
        e.starts_with(&format!(r#"config: {f}: invalid value for "encrypt""#)),
        "{e}"
    );
    let (e, _) = file_error("x.json", r#"{"encrypt": "c2hvcnQ="}"#);
    assert!(e.contains("base64 key of 16, 24 or 32 bytes"), "{e}");
    let (e, _) = file_error("x.json", r#"{"server": "yes"}"#);
    assert!(
        e.contains(r#""server": expected boolean, got "yes""#),
        "{e}"
    );
    let (e, _) = file_error("x.json", r#"{"node_id": "abc"}"#);
    assert!(e.contains(r#""node_id": expected UUID"#), "{e}");
    let (e, _) = file_error("x.json", r#"{"bind_addr": "not-an-ip"}"#);
    assert!(e.contains(r#""bind_addr": expected IP address"#), "{e}");
}

#[test]
fn unknown_keys_are_errors() {
    let (e, f) = file_error("x.json", r#"{"foo": {"bar": 1}}"#);
    assert_eq!(e, format!(r#"unknown configuration key "foo" in {f}"#));
    let (e, f) = file_error("x.hcl", "ports {\n  htp = 1\n}\n");
    assert_eq!(
        e,
        format!(r#"unknown configuration key "ports.htp" in {f}"#)
    );
    let (e, _) = file_error("x.json", r#"{"acl": {"tokens": {"bogus": "x"}}}"#);
    assert!(e.contains(r#""acl.tokens.bogus""#), "{e}");
    let (e, _) = file_error("x.json", r#"{"start_join": ["a"]}"#);
    assert!(e.contains("retry_join"), "{e}");
}

#[test]
fn unused_consul_blocks_are_accepted() {
    let d = tmp();
    let f = write(
        d.path(),
        "extra.hcl",
        r#"
auto_encrypt { tls = true }
gossip_lan { gossip_interval = "100ms" }
cloud { resource_id = "x" }
license_path = "/etc/license"
config_entries {
  bootstrap {
    kind = "proxy-defaults"
    name = "global"
  }
}
addresses { http = "0.0.0.0" }
disable_update_check = true
"#,
    );
    let dd = format!("-data-dir={}", d.path().display());
    let rt = ok(&[&dd, "-bind=127.0.0.1", "-config-file", &f]);
    assert!(rt.extra.contains_key("auto_encrypt"));
    assert!(rt.extra.contains_key("config_entries"));
    assert_eq!(rt.addresses.http, vec![ip("0.0.0.0")]);
    assert_eq!(rt.addresses.dns, vec![ip("127.0.0.1")]);
    assert!(rt.disable_update_check);
}

#[test]
fn parse_errors_name_the_file() {
    let (e, f) = file_error("bad.json", "{\"datacenter\": ");
    assert!(
        e.starts_with(&format!("config: failed to parse {f}:")),
        "{e}"
    );
    let (e, f) = file_error("bad.hcl", "ports {");
    assert!(
        e.starts_with(&format!("config: failed to parse {f}:")),
        "{e}"
    );
    let e = fail(&["-dev", "-config-file=/nonexistent/x.json"]);
    assert!(
        e.starts_with("config: failed to read /nonexistent/x.json"),
        "{e}"
    );
}

#[test]
fn validation_messages() {
    assert_eq!(fail(&["-bind=127.0.0.1"]), "data_dir cannot be empty");
    assert_eq!(
        fail(&["-dev", "-bootstrap-expect=3"]),
        "'bootstrap_expect > 0' not allowed in dev mode"
    );
    assert_eq!(
        fail(&["-dev", "-bootstrap=false", "-bootstrap-expect=3"]),
        "'bootstrap_expect > 0' not allowed in dev mode"
    );
    let d = tmp();
    let dd = format!("-data-dir={}", d.path().display());
    assert_eq!(
        fail(&[&dd, "-bind=127.0.0.1", "-bootstrap-expect=3"]),
        "'bootstrap_expect > 0' requires 'server = true'"
    );
    assert_eq!(
        fail(&[
            &dd,
            "-bind=127.0.0.1",
            "-server",
            "-bootstrap",
            "-bootstrap-expect=3"
        ]),
        "'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive"
    );
    assert_eq!(
        fail(&[&dd, "-bind=127.0.0.1", "-bootstrap"]),
        "'bootstrap = true' requires 'server = true'"
    );
    assert_eq!(
        fail(&[&dd, "-bind=127.0.0.1", "-server", "-bootstrap-expect=-1"]),
        "bootstrap_expect cannot be -1. Must be greater than or equal to zero"
    );
    assert_eq!(
        fail(&["-dev", "-datacenter=dc 1"]),
        r#"datacenter cannot be "dc 1". Please use only [a-z0-9-_]."#
    );
    assert_eq!(
        fail(&["-dev", "-advertise=0.0.0.0"]),
        "Advertise address cannot be 0.0.0.0, :: or [::]"
    );
    assert!(fail(&["-dev", "-log-level=loud"]).starts_with("Invalid log level: loud"));
    assert_eq!(
        fail(&["-dev", "-hcl=performance { raft_multiplier = 11 }"]),
        "performance.raft_multiplier cannot be 11. Must be between 1 and 10"
    );
    assert!(fail(&["-dev", "-node-meta=consul-x:1"]).starts_with("node_meta invalid:"));
    let file = write(d.path(), "plain", "x");
    let e = fail(&[&format!("-data-dir={file}"), "-bind=127.0.0.1"]);
    assert!(e.ends_with("is not a directory"), "{e}");
    assert!(fail(&["-dev", "-config-format=yaml"]).contains("-config-format"));
}

#[test]
fn flag_sources_reach_runtime() {
    let rt = ok(&[
        "-dev",
        "-node=n1",
        "-node-id=2D8E6F2A-1B2C-4D5E-8F90-123456789ABC",
        "-node-meta=rack:r2",
        "-retry-join-wan=1.2.3.4",
        "-retry-interval=5s",
        "-retry-max=4",
        "-encrypt=pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=",
        "-log-json",
        "-log-file=/tmp/x.log",
        "-https-port=8443",
        "-grpc-tls-port=8503",
        "-serf-lan-port=9301",
        "-serf-wan-port=-1",
        "-server-port=9300",
        "-recursor=8.8.8.8",
        "-domain=example",
        "-alt-domain=alt.",
        "-enable-script-checks",
        "-pid-file=/tmp/pid",
        "-rejoin",
        "-raft-protocol=3",
        "-disable-host-node-id=false",
        "-primary-datacenter=DC0",
        "-advertise-wan=1.2.3.5",
        "-ui=false",
    ]);
    assert_eq!(rt.node_name, "n1");
    assert_eq!(
        rt.node_id.as_deref(),
        Some("2d8e6f2a-1b2c-4d5e-8f90-123456789abc")
    );
    assert_eq!(rt.node_meta.get("rack").map(String::as_str), Some("r2"));
    assert_eq!(rt.retry_join_wan, vec!["1.2.3.4"]);
    assert_eq!(rt.retry_interval, Duration::from_secs(5));
    assert_eq!(rt.retry_max, 4);
    assert!(rt.encrypt.is_some() && rt.log_json);
    assert_eq!(rt.log_file.as_deref(), Some("/tmp/x.log"));
    assert_eq!(rt.ports.https, Some(8443));
    assert_eq!(rt.ports.grpc_tls, Some(8503));
    assert_eq!(rt.ports.serf_lan, Some(9301));
    assert_eq!(rt.ports.serf_wan, None);
    assert_eq!(rt.ports.server, Some(9300));
    assert_eq!(rt.recursors, vec!["8.8.8.8"]);
    assert_eq!(rt.domain, "example.");
    assert_eq!(rt.alt_domain.as_deref(), Some("alt."));
    assert!(rt.enable_script_checks && rt.rejoin_after_leave);
    assert_eq!(rt.pid_file.as_deref(), Some("/tmp/pid"));
    assert!(!rt.disable_host_node_id);
    assert_eq!(rt.primary_datacenter, "dc0");
    assert_eq!(rt.advertise_addr_wan, ip("1.2.3.5"));
    assert!(!rt.ui_enabled);
}

#[test]
fn advertise_defaults_to_a_private_ip_when_bind_is_any() {
    let d = tmp();
    let dd = format!("-data-dir={}", d.path().display());
    let rt = ok(&[&dd]);
    assert!(rt.bind_addr.is_unspecified());
    assert!(!rt.advertise_addr.is_unspecified());
}

#[test]
fn errors_are_config_errors() {
    match load(&flags(&["-bind=127.0.0.1"])) {
        Err(ConfigError::Invalid(m)) => assert_eq!(m, "data_dir cannot be empty"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn node_name_dns_warning() {
    let (_, w) = match load_with_warnings(&flags(&["-dev", "-node=bad_name.x"])) {
        Ok(x) => x,
        Err(e) => panic!("{e}"),
    };
    assert!(
        w.iter()
            .any(|m| m.contains("will not be discoverable via DNS")),
        "{w:?}"
    );
    let (_, w) = match load_with_warnings(&flags(&["-dev", "-node=good-name"])) {
        Ok(x) => x,
        Err(e) => panic!("{e}"),
    };
    assert!(w.is_empty(), "{w:?}");
}
