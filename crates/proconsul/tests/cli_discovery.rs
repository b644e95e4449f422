//! End-to-end tests of `consul catalog ...`, `consul services ...` and `consul maint`: the
//! real binary against a real dev agent started by the harness. Expected texts are Consul's.

mod common;

use std::time::Duration;

use common::{Agent, fails, ok, stderr, stdout, wait_for};

/// Waits until `catalog services` (with `extra` flags) prints exactly `expected`.
fn wait_catalog_services(agent: &Agent, extra: &[&str], expected: &str) {
    let mut args = vec!["catalog", "services"];
    args.extend_from_slice(extra);
    wait_for("catalog services output", Duration::from_secs(10), || {
        (stdout(&agent.cli(&args)) == expected).then_some(())
    });
}

#[test]
fn catalog_datacenters_and_nodes() {
    let agent = Agent::start_dev();
    assert_eq!(ok(agent.cli(&["catalog", "datacenters"])), "dc1\n");
    assert_eq!(
        fails(agent.cli(&["catalog", "datacenters", "extra"])),
        "Too many arguments (expected 0, got 1)\n"
    );

    let node_id = agent.get("/v1/agent/self").json()["Config"]["NodeID"]
        .as_str()
        .expect("NodeID")
        .to_string();
    let short = node_id.split('-').next().expect("first octet");
    let pad = " ".repeat(short.len() - 2);
    assert_eq!(
        ok(agent.cli(&["catalog", "nodes"])),
        format!("Node       ID{pad}  Address    DC\ntest-node  {short}  127.0.0.1  dc1\n")
    );
    let detailed = ok(agent.cli(&["catalog", "nodes", "-detailed"]));
    let mut lines = detailed.lines();
    let header = lines.next().expect("header");
    assert!(header.starts_with("Node       ID  "), "{detailed}");
    assert!(header.contains("  DC   TaggedAddresses  "), "{detailed}");
    assert!(header.trim_end().ends_with("Meta"), "{detailed}");
    let row = lines.next().expect("row");
    assert!(
        row.starts_with(&format!("test-node  {node_id}  127.0.0.1  dc1  ")),
        "{row}"
    );
    assert!(row.contains("lan=127.0.0.1, "), "{row}");

    // -service lists the nodes providing it; the agent's own node provides `consul`.
    assert_eq!(
        ok(agent.cli(&["catalog", "nodes", "-service=consul"])),
        ok(agent.cli(&["catalog", "nodes"]))
    );
    assert_eq!(
        ok(agent.cli(&[
            "catalog",
            "nodes",
            "-near=_agent",
            "-filter=Node == \"test-node\""
        ])),
        ok(agent.cli(&["catalog", "nodes"]))
    );
    // Nothing matching: Consul says so on stderr and still exits 0.
    for args in [
        &["catalog", "nodes", "-node-meta=rack=nowhere"][..],
        &["catalog", "nodes", "-service=nope"][..],
    ] {
        let out = agent.cli(args);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(stdout(&out), "");
        assert_eq!(
            stderr(&out),
            "No nodes match the given query - try expanding your search.\n"
        );
    }
    let err = fails(agent.cli(&["catalog", "nodes", "-node-meta=novalue"]));
    assert!(
        err.starts_with(
            "invalid value \"novalue\" for flag -node-meta: Missing \"=\" value in argument: novalue\nUsage:\n"
        ),
        "{err}"
    );
    let err = fails(agent.cli(&["catalog", "nodes", "-filter=Node ==="]));
    assert!(
        err.starts_with("Error listing nodes: Unexpected response code: 400"),
        "{err}"
    );
}

#[test]
fn services_register_from_files_and_flags_show_in_catalog() {
    let agent = Agent::start_dev();
    let dir = tempfile::tempdir().expect("tempdir");
    let hcl = dir.path().join("web.hcl");
    std::fs::write(
        &hcl,
        "service {\n  name = \"web\"\n  id = \"web-1\"\n  port = 8080\n  tags = [\"v1\", \"primary\"]\n  meta = { env = \"prod\" }\n}\n",
    )
    .expect("write hcl");
    let json = dir.path().join("db.json");
    std::fs::write(
        &json,
        r#"{"services": [{"name": "db", "port": 5432, "tags": ["pg"]}, {"name": "cache", "id": "cache-1"}]}"#,
    )
    .expect("write json");
    let hcl = hcl.display().to_string();
    let json = json.display().to_string();

    assert_eq!(
        ok(agent.cli(&["services", "register", &hcl])),
        "Registered service: web\n"
    );
    assert_eq!(
        ok(agent.cli(&["services", "register", &json])),
        "Registered service: db\nRegistered service: cache\n"
    );
    assert_eq!(
        ok(agent.cli(&[
            "services",
            "register",
            "-name=api",
            "-id=api-1",
            "-address=10.0.0.7",
            "-port=9000",
            "-tag=blue",
            "-tag=v2",
            "-meta=team=core",
            "-meta=tier=1",
        ])),
        "Registered service: api\n"
    );

    let services = agent.get("/v1/agent/services").json();
    assert_eq!(services["web-1"]["Service"], "web");
    assert_eq!(services["web-1"]["Port"], 8080);
    assert_eq!(
        services["web-1"]["Tags"],
        serde_json::json!(["v1", "primary"])
    );
    assert_eq!(services["web-1"]["Meta"]["env"], "prod");
    assert_eq!(services["db"]["Port"], 5432);
    assert_eq!(services["cache-1"]["Service"], "cache");
    assert_eq!(services["api-1"]["Address"], "10.0.0.7");
    assert_eq!(services["api-1"]["Tags"], serde_json::json!(["blue", "v2"]));
    assert_eq!(services["api-1"]["Meta"]["tier"], "1");

    wait_catalog_services(&agent, &[], "api\ncache\nconsul\ndb\nweb\n");
    assert_eq!(
        ok(agent.cli(&["catalog", "services", "-tags"])),
        "api         blue,v2\ncache       \nconsul      \ndb          pg\nweb         primary,v1\n"
    );
    assert_eq!(
        ok(agent.cli(&["catalog", "services", "-node=test-node"])),
        "api\ncache\nconsul\ndb\nweb\n"
    );
    assert_eq!(
        ok(agent.cli(&["catalog", "services", "-filter=ServiceName == web"])),
        "web\n"
    );
    let out = agent.cli(&["catalog", "services", "-node=nope"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr(&out),
        "No services match the given query - try expanding your search.\n"
    );
    let out = agent.cli(&["catalog", "nodes", "-service=web"]);
    assert!(ok(out).contains("\ntest-node  "));

    // Deregister by file (ID, else name) and by -id.
    assert_eq!(
        ok(agent.cli(&["services", "deregister", &hcl])),
        "Deregistered service: web-1\n"
    );
    assert_eq!(
        ok(agent.cli(&["services", "deregister", &json])),
        "Deregistered service: db\nDeregistered service: cache-1\n"
    );
    assert_eq!(
        ok(agent.cli(&["services", "deregister", "-id=api-1"])),
        "Deregistered service: api-1\n"
    );
    assert_eq!(
        agent.get("/v1/agent/services").json(),
        serde_json::json!({})
    );
    wait_catalog_services(&agent, &[], "consul\n");
}

#[test]
fn services_error_cases() {
    let agent = Agent::start_dev();
    assert_eq!(
        fails(agent.cli(&["services", "deregister", "-id=nope"])),
        "Error deregistering service \"\": Unexpected response code: 404 (Unknown service ID \"nope\")\n"
    );
    assert_eq!(
        fails(agent.cli(&["services", "deregister"])),
        "Service deregistration requires at least one argument or -id.\n"
    );
    assert_eq!(
        fails(agent.cli(&["services", "deregister", "-id=x", "a.json"])),
        "Service deregistration requires arguments or -id, not both.\n"
    );
    assert_eq!(
        fails(agent.cli(&["services", "register"])),
        "Service registration requires at least one argument or flags.\n"
    );
    assert_eq!(
        fails(agent.cli(&["services", "register", "-name=web", "a.json"])),
        "Service registration requires arguments or -id, not both.\n"
    );
    let err = fails(agent.cli(&["services", "register", "/nonexistent/web.json"]));
    assert!(
        err.starts_with("Error: config: failed to read /nonexistent/web.json"),
        "{err}"
    );
    let err = fails(agent.cli(&["services", "register", "-name=web", "-port=http"]));
    assert!(
        err.starts_with("invalid value \"http\" for flag -port: parse error\nUsage:\n"),
        "{err}"
    );
    assert_eq!(
        fails(agent.cli(&[
            "services",
            "register",
            "-name=web",
            "-tagged-address=lan=10.0.0.1"
        ])),
        "Invalid Tagged Address: address 10.0.0.1: missing port in address\n"
    );
    let err = fails(agent.cli(&["services", "register", "-id=only-id"]));
    assert_eq!(
        err,
        "Service registration requires at least one argument or flags.\n"
    );
}

#[test]
fn maint_enable_list_disable() {
    let agent = Agent::start_dev();
    assert_eq!(ok(agent.cli(&["maint"])), "");
    ok(agent.cli(&["services", "register", "-name=web", "-id=web-1"]));

    assert_eq!(
        ok(agent.cli(&["maint", "-enable", "-reason=kernel upgrade"])),
        "Node maintenance is now enabled\n"
    );
    assert_eq!(
        ok(agent.cli(&["maint", "-enable", "-service=web-1", "-reason=deploy"])),
        "Service maintenance is now enabled for \"web-1\"\n"
    );
    let checks = agent.get("/v1/agent/checks").json();
    assert_eq!(checks["_node_maintenance"]["Notes"], "kernel upgrade");
    assert_eq!(checks["_service_maintenance:web-1"]["Status"], "critical");
    assert_eq!(
        ok(agent.cli(&["maint"])),
        "Node:\n  Name:   test-node\n  Reason: kernel upgrade\n\n\
         Service:\n  ID:     web-1\n  Reason: deploy\n\n"
    );

    assert_eq!(
        ok(agent.cli(&["maint", "-disable", "-service=web-1"])),
        "Service maintenance is now disabled for \"web-1\"\n"
    );
    assert_eq!(
        ok(agent.cli(&["maint", "-disable"])),
        "Node maintenance is now disabled\n"
    );
    assert_eq!(ok(agent.cli(&["maint"])), "");
    let checks = agent.get("/v1/agent/checks").json();
    assert!(checks.get("_node_maintenance").is_none(), "{checks}");

    // Without a reason the agent's default text lands in Notes.
    ok(agent.cli(&["maint", "-enable"]));
    let listing = ok(agent.cli(&["maint"]));
    assert!(
        listing.starts_with("Node:\n  Name:   test-node\n  Reason: "),
        "{listing}"
    );
    ok(agent.cli(&["maint", "-disable"]));
}

#[test]
fn maint_error_cases() {
    let agent = Agent::start_dev();
    assert_eq!(
        fails(agent.cli(&["maint", "-enable", "-disable"])),
        "Only one of -enable or -disable may be provided\n"
    );
    assert_eq!(
        fails(agent.cli(&["maint", "-reason=x"])),
        "Reason may only be provided with -enable\n"
    );
    assert_eq!(
        fails(agent.cli(&["maint", "-service=web"])),
        "Service requires either -enable or -disable\n"
    );
    let err = fails(agent.cli(&["maint", "-enable", "-service=nope"]));
    assert!(
        err.starts_with("Error enabling service maintenance: Unexpected response code: 404"),
        "{err}"
    );
    let err = fails(agent.cli(&["maint", "-http-addr=127.0.0.1:1"]));
    assert!(
        err.starts_with("Error querying Consul agent: Get \"http://127.0.0.1:1/v1/agent/self\": "),
        "{err}"
    );
    let err = fails(agent.cli(&["maint", "-datacenter=dc1"]));
    assert!(
        err.starts_with("flag provided but not defined: -datacenter\n"),
        "{err}"
    );
}
