//! Command-line flag parsing.

use proconsul_config::{ConfigError, ConfigPath, parse_agent_args};

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn parse(a: &[&str]) -> proconsul_config::AgentFlags {
    match parse_agent_args(&args(a)) {
        Ok(f) => f,
        Err(e) => panic!("{a:?}: {e}"),
    }
}

fn err(a: &[&str]) -> String {
    match parse_agent_args(&args(a)) {
        Ok(f) => panic!("{a:?} parsed: {f:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn empty_args() {
    assert_eq!(parse(&[]), proconsul_config::AgentFlags::default());
}

#[test]
fn both_dash_styles_and_value_forms() {
    for a in [
        &["-datacenter=dc2"][..],
        &["-datacenter", "dc2"],
        &["--datacenter=dc2"],
        &["--datacenter", "dc2"],
    ] {
        assert_eq!(parse(a).datacenter.as_deref(), Some("dc2"), "{a:?}");
    }
}

#[test]
fn bool_flags() {
    let f = parse(&[
        "-dev",
        "--server",
        "-ui=true",
        "-bootstrap=false",
        "-log-json",
    ]);
    assert_eq!(f.dev, Some(true));
    assert_eq!(f.server, Some(true));
    assert_eq!(f.ui, Some(true));
    assert_eq!(f.bootstrap, Some(false));
    assert_eq!(f.log_json, Some(true));
    assert_eq!(f.rejoin, None);
    // A bool flag does not consume the next argument.
    let f = parse(&["-dev", "-node", "n1"]);
    assert_eq!(f.dev, Some(true));
    assert_eq!(f.node.as_deref(), Some("n1"));
}

#[test]
fn bad_bool_value() {
    assert_eq!(
        err(&["-dev=maybe"]),
        r#"invalid boolean value "maybe" for -dev: parse error"#
    );
}

#[test]
fn int_flags_and_negative_ports() {
    let f = parse(&[
        "-bootstrap-expect=3",
        "-http-port",
        "-1",
        "-dns-port=8601",
        "-grpc-port=-1",
        "-retry-max",
        "5",
        "-raft-protocol=3",
    ]);
    assert_eq!(f.bootstrap_expect, Some(3));
    assert_eq!(f.http_port, Some(-1));
    assert_eq!(f.dns_port, Some(8601));
    assert_eq!(f.grpc_port, Some(-1));
    assert_eq!(f.retry_max, Some(5));
    assert_eq!(f.raft_protocol, Some(3));
    assert_eq!(
        err(&["-http-port=abc"]),
        r#"invalid value "abc" for flag -http-port: parse error"#
    );
}

#[test]
fn duration_flag_is_checked() {
    assert_eq!(
        parse(&["-retry-interval=5s"]).retry_interval.as_deref(),
        Some("5s")
    );
    assert!(err(&["-retry-interval=5"]).contains("missing unit"));
}

#[test]
fn repeatable_flags_keep_order() {
    let f = parse(&[
        "-config-file=a.json",
        "-config-dir",
        "/etc/consul.d",
        "-config-file=b.hcl",
        "-retry-join=10.0.0.1",
        "-retry-join",
        "10.0.0.2",
        "-retry-join-wan=1.2.3.4",
        "-node-meta=rack:r1",
        "-node-meta",
        "zone:a:b",
        "-recursor=8.8.8.8",
        "-recursor=1.1.1.1",
        "-hcl=a = 1",
        "-hcl",
        "b = 2",
    ]);
    assert_eq!(
        f.config_paths,
        vec![
            ConfigPath::File("a.json".into()),
            ConfigPath::Dir("/etc/consul.d".into()),
            ConfigPath::File("b.hcl".into()),
        ]
    );
    assert_eq!(f.retry_join, vec!["10.0.0.1", "10.0.0.2"]);
    assert_eq!(f.retry_join_wan, vec!["1.2.3.4"]);
    assert_eq!(
        f.node_meta,
        vec![
            ("rack".to_string(), "r1".to_string()),
            ("zone".to_string(), "a:b".to_string())
        ]
    );
    assert_eq!(f.recursors, vec!["8.8.8.8", "1.1.1.1"]);
    assert_eq!(f.hcl, vec!["a = 1", "b = 2"]);
}

#[test]
fn all_string_flags() {
    let f = parse(&[
        "-bind=10.0.0.5",
        "-client=0.0.0.0",
        "-advertise=10.0.0.6",
        "-advertise-wan=1.2.3.4",
        "-data-dir=/var/consul",
        "-config-format=hcl",
        "-node=n1",
        "-node-id=2d8e6f2a-1b2c-4d5e-8f90-123456789abc",
        "-encrypt=pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=",
        "-log-level=warn",
        "-log-file=/tmp/c.log",
        "-domain=example",
        "-alt-domain=alt",
        "-pid-file=/run/c.pid",
        "-primary-datacenter=dc9",
    ]);
    assert_eq!(f.bind.as_deref(), Some("10.0.0.5"));
    assert_eq!(f.client.as_deref(), Some("0.0.0.0"));
    assert_eq!(f.advertise.as_deref(), Some("10.0.0.6"));
    assert_eq!(f.advertise_wan.as_deref(), Some("1.2.3.4"));
    assert_eq!(f.data_dir.as_deref(), Some("/var/consul"));
    assert_eq!(f.config_format.as_deref(), Some("hcl"));
    assert_eq!(f.node.as_deref(), Some("n1"));
    assert!(f.node_id.is_some() && f.encrypt.is_some());
    assert_eq!(f.log_level.as_deref(), Some("warn"));
    assert_eq!(f.log_file.as_deref(), Some("/tmp/c.log"));
    assert_eq!(f.domain.as_deref(), Some("example"));
    assert_eq!(f.alt_domain.as_deref(), Some("alt"));
    assert_eq!(f.pid_file.as_deref(), Some("/run/c.pid"));
    assert_eq!(f.primary_datacenter.as_deref(), Some("dc9"));
}

#[test]
fn unknown_flag() {
    assert_eq!(err(&["-foo"]), "flag provided but not defined: -foo");
    assert_eq!(err(&["--foo=1"]), "flag provided but not defined: -foo");
    // Removed in Consul 1.15.
    assert_eq!(
        err(&["-join=1.2.3.4"]),
        "flag provided but not defined: -join"
    );
}

#[test]
fn missing_value() {
    assert_eq!(err(&["-datacenter"]), "flag needs an argument: -datacenter");
    assert_eq!(
        err(&["-dev", "-http-port"]),
        "flag needs an argument: -http-port"
    );
}

#[test]
fn bad_syntax_and_extra_args() {
    assert_eq!(err(&["---x"]), "bad flag syntax: ---x");
    assert_eq!(err(&["-=x"]), "bad flag syntax: -=x");
    assert_eq!(
        err(&["-dev", "extra", "more"]),
        "config: Unknown extra arguments: [extra more]"
    );
    assert_eq!(
        err(&["-dev", "--", "x"]),
        "config: Unknown extra arguments: [x]"
    );
    assert_eq!(parse(&["-dev", "--"]).dev, Some(true));
}

#[test]
fn help() {
    for h in ["-h", "-help", "--help"] {
        match parse_agent_args(&args(&[h])) {
            Err(ConfigError::Help(text)) => {
                assert!(text.starts_with("Usage: consul agent [options]"));
                assert!(text.contains("-retry-join=<string>"));
                assert!(text.contains("-dev\n"));
            }
            other => panic!("{h}: {other:?}"),
        }
    }
}
