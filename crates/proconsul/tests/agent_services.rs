//! `/v1/agent/service*`, `/v1/agent/check*`, `/v1/agent/health/*` and maintenance against a
//! real dev agent: Consul's shapes and texts, TTL transitions, health codes, hash blocking,
//! and the server's own `consul` service.

mod common;

use common::{Agent, wait_for};
use serde_json::json;
use std::time::Duration;

fn put_json(agent: &Agent, path: &str, body: serde_json::Value) -> common::Reply {
    agent.put(path, body.to_string().as_bytes())
}

fn check_status(agent: &Agent, id: &str) -> Option<String> {
    let checks = agent.get("/v1/agent/checks").json();
    checks[id]["Status"].as_str().map(str::to_string)
}

#[test]
fn register_list_and_deregister_with_consul_shapes() {
    let agent = Agent::start_dev();
    let reply = put_json(
        &agent,
        "/v1/agent/service/register",
        json!({
            "ID": "web1", "Name": "web", "Tags": ["v1"], "Port": 8080, "Address": "10.0.0.5",
            "Meta": {"version": "1"},
            "TaggedAddresses": {"lan": {"Address": "10.0.0.5", "Port": 8080}},
            "Weights": {"Passing": 3, "Warning": 1},
            "Check": {"TTL": "30s"}
        }),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body, "");
    let services = agent.get("/v1/agent/services").json();
    let web = &services["web1"];
    assert_eq!(web["Service"], "web");
    assert_eq!(web["Tags"], json!(["v1"]));
    assert_eq!(web["Meta"], json!({"version": "1"}));
    assert_eq!(web["Port"], 8080);
    assert_eq!(
        web["TaggedAddresses"]["lan"],
        json!({"Address": "10.0.0.5", "Port": 8080})
    );
    assert_eq!(web["Weights"], json!({"Passing": 3, "Warning": 1}));
    assert_eq!(web["EnableTagOverride"], false);
    assert_eq!(web["Datacenter"], "dc1");
    // The handler waits for the sync: the catalog has it when the answer arrives, with its
    // (initially critical) check in the same write, so it is never listed as passing.
    assert_eq!(
        agent.get("/v1/health/service/web?passing").json(),
        json!([])
    );
    let health = agent.get("/v1/health/service/web").json();
    assert_eq!(health[0]["Checks"][1]["CheckID"], "service:web1");
    let catalog = agent.get("/v1/catalog/service/web").json();
    assert_eq!(catalog[0]["ServiceID"], "web1");
    assert_eq!(
        catalog[0]["ServiceWeights"],
        json!({"Passing": 3, "Warning": 1})
    );
    let checks = agent.get("/v1/agent/checks").json();
    assert_eq!(checks["service:web1"]["Name"], "Service 'web' check");
    assert_eq!(checks["service:web1"]["Status"], "critical");
    assert_eq!(checks["service:web1"]["Type"], "ttl");
    assert_eq!(checks["service:web1"]["ServiceTags"], json!(["v1"]));

    // lowercase and snake_case bodies, as python-consul and config files send them.
    let reply = put_json(
        &agent,
        "/v1/agent/service/register",
        json!({"name": "db", "port": 5432, "enable_tag_override": true,
               "checks": [{"ttl": "10s"}, {"tcp": "127.0.0.1:1", "interval": "10s", "check_id": "db-tcp"}]}),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    let services = agent
        .get("/v1/agent/services?filter=Service%20%3D%3D%20db")
        .json();
    assert_eq!(services.as_object().map(|m| m.len()), Some(1));
    assert_eq!(services["db"]["EnableTagOverride"], true);
    let checks = agent.get("/v1/agent/checks").json();
    assert!(checks.get("service:db:1").is_some(), "{checks}");
    assert!(checks.get("db-tcp").is_some(), "{checks}");

    // ?replace-existing-checks drops the checks the new definition no longer has.
    let reply = put_json(
        &agent,
        "/v1/agent/service/register?replace-existing-checks",
        json!({"name": "db", "port": 5432, "checks": [{"ttl": "10s", "check_id": "db-ttl"}]}),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    let checks = agent.get("/v1/agent/checks").json();
    assert!(checks.get("db-ttl").is_some(), "{checks}");
    assert!(
        checks.get("db-tcp").is_none() && checks.get("service:db:1").is_none(),
        "{checks}"
    );

    let missing = agent.put("/v1/agent/service/deregister/nope", b"");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body, "Unknown service ID \"nope\"");
    let reply = agent.put("/v1/agent/service/deregister/web1", b"");
    assert_eq!(reply.status, 200);
    assert!(agent.get("/v1/agent/services").json().get("web1").is_none());
    assert!(
        agent
            .get("/v1/agent/checks")
            .json()
            .get("service:web1")
            .is_none()
    );
    assert_eq!(agent.get("/v1/catalog/service/web").json(), json!([]));
    assert_eq!(agent.get("/v1/agent/service/web1").status, 404);
}

#[test]
fn the_server_registers_its_consul_service() {
    let agent = Agent::start_dev();
    let entries = wait_for("the consul service", Duration::from_secs(10), || {
        let body = agent.get("/v1/catalog/service/consul").json();
        body.as_array().filter(|a| !a.is_empty()).cloned()
    });
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["ServiceID"], "consul");
    assert!(entries[0]["ServicePort"].as_u64().is_some_and(|p| p > 0));
    let health = agent.get("/v1/health/service/consul?passing").json();
    assert_eq!(health[0]["Checks"][0]["CheckID"], "serfHealth");
    assert!(
        agent
            .get("/v1/catalog/services")
            .json()
            .get("consul")
            .is_some()
    );
}

#[test]
fn bad_definitions_get_consul_status_and_text() {
    let agent = Agent::start_dev();
    let cases = [
        (json!({"Port": 80}), 400, "Missing service name"),
        (
            json!({"Name": "a", "Check": {"HTTP": "http://x"}}),
            400,
            "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or gRPC checks",
        ),
        (
            json!({"Name": "a", "Check": {"Notes": "no kind"}}),
            400,
            "Invalid check: TTL must be > 0 for TTL checks",
        ),
        (
            json!({"Name": "a", "Check": {"TTL": "10s", "Interval": "10s"}}),
            400,
            "Invalid check: Interval and TTL cannot both be specified",
        ),
        (
            json!({"Name": "a", "Check": {"TTL": "10s", "Status": "bogus"}}),
            400,
            "Status for checks must 'passing', 'warning', 'critical'",
        ),
        (
            json!({"Name": "a", "Weights": {"Passing": 0, "Warning": 0}}),
            400,
            "Invalid Weights: Passing must be greater than 0",
        ),
        (
            json!({"Name": "a", "Address": "0.0.0.0"}),
            400,
            "Invalid service address",
        ),
        (
            json!({"Name": "a", "Check": {"Args": ["/bin/true"], "Interval": "10s"}}),
            500,
            "Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true",
        ),
    ];
    for (body, status, text) in cases {
        let reply = put_json(&agent, "/v1/agent/service/register", body.clone());
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (status, text),
            "{body}"
        );
    }
    let bad_duration = put_json(
        &agent,
        "/v1/agent/service/register",
        json!({"Name": "a", "Check": {"TTL": "ten seconds"}}),
    );
    assert_eq!(bad_duration.status, 400);
    assert!(
        bad_duration.body.starts_with("Request decode failed: "),
        "{bad_duration:?}"
    );
    assert_eq!(agent.get("/v1/agent/services").json(), json!({}));

    let reply = put_json(&agent, "/v1/agent/check/register", json!({"TTL": "10s"}));
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (400, "Missing check name")
    );
    let reply = put_json(
        &agent,
        "/v1/agent/check/register",
        json!({"Name": "c", "TTL": "10s", "ServiceID": "nope"}),
    );
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (404, "ServiceID \"nope\" does not exist")
    );
    let reply = put_json(
        &agent,
        "/v1/agent/check/register",
        json!({"Name": "c", "TTL": "10s", "Status": "bogus"}),
    );
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (400, "Bad check status")
    );
    let reply = put_json(
        &agent,
        "/v1/agent/check/register",
        json!({"Name": "tcp", "TCP": "127.0.0.1:1", "Interval": "30s"}),
    );
    assert_eq!(reply.status, 200);
    let reply = agent.put("/v1/agent/check/pass/tcp", b"");
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (500, "CheckID \"tcp\" does not have associated TTL")
    );
    let reply = put_json(
        &agent,
        "/v1/agent/check/update/tcp",
        json!({"Status": "bogus"}),
    );
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (400, "Invalid check status: 'bogus'")
    );
    let reply = agent.put("/v1/agent/check/deregister/nope", b"");
    assert_eq!(reply.status, 404);
    assert!(
        reply.body.starts_with("Unknown check ID \"nope\""),
        "{reply:?}"
    );
}

#[test]
fn ttl_checks_and_agent_health_endpoints() {
    let agent = Agent::start_dev();
    let reply = put_json(
        &agent,
        "/v1/agent/service/register",
        json!({"ID": "api1", "Name": "api", "Check": {"TTL": "2s", "CheckID": "api-ttl"}}),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    let health = agent.get("/v1/agent/health/service/id/api1");
    assert_eq!(health.status, 503);
    assert_eq!(health.json()["AggregatedStatus"], "critical");
    assert_eq!(health.json()["Service"]["ID"], "api1");

    assert_eq!(
        agent
            .put("/v1/agent/check/pass/api-ttl?note=all%20good", b"")
            .status,
        200
    );
    let checks = agent.get("/v1/agent/checks").json();
    assert_eq!(checks["api-ttl"]["Status"], "passing");
    assert_eq!(checks["api-ttl"]["Output"], "all good");
    let text = agent.get("/v1/agent/health/service/id/api1?format=text");
    assert_eq!((text.status, text.body.as_str()), (200, "passing"));
    // The catalog follows (the TTL handler waits for the sync).
    let catalog = agent.get("/v1/health/service/api?passing").json();
    assert_eq!(catalog.as_array().map(Vec::len), Some(1));

    assert_eq!(agent.put("/v1/agent/check/warn/api-ttl", b"").status, 200);
    let by_name = agent.get("/v1/agent/health/service/name/api");
    assert_eq!(by_name.status, 429);
    assert_eq!(by_name.json()[0]["AggregatedStatus"], "warning");
    let update = put_json(
        &agent,
        "/v1/agent/check/update/api-ttl",
        json!({"Status": "passing", "Output": "from update"}),
    );
    assert_eq!(update.status, 200);
    assert_eq!(
        agent.get("/v1/agent/checks").json()["api-ttl"]["Output"],
        "from update"
    );

    // Without another update the TTL runs out and the check turns critical.
    wait_for("TTL expiry", Duration::from_secs(10), || {
        (check_status(&agent, "api-ttl").as_deref() == Some("critical")).then_some(())
    });
    let output = agent.get("/v1/agent/checks").json()["api-ttl"]["Output"].clone();
    assert_eq!(
        output,
        "TTL expired (last output before timeout follows): from update"
    );
    wait_for("critical in the catalog", Duration::from_secs(10), || {
        let passing = agent.get("/v1/health/service/api?passing").json();
        (passing == json!([])).then_some(())
    });

    let unknown = agent.get("/v1/agent/health/service/name/nope?format=text");
    assert_eq!(
        (unknown.status, unknown.body.as_str()),
        (404, "ServiceName nope Not Found")
    );
    let unknown = agent.get("/v1/agent/health/service/id/nope");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["AggregatedStatus"], "critical");
}

#[test]
fn maintenance_modes() {
    let agent = Agent::start_dev();
    let reply = put_json(
        &agent,
        "/v1/agent/service/register",
        json!({"ID": "web1", "Name": "web", "Check": {"TTL": "60s", "Status": "passing"}}),
    );
    assert_eq!(reply.status, 200);
    let missing = agent.put("/v1/agent/service/maintenance/web1", b"");
    assert_eq!(
        (missing.status, missing.body.as_str()),
        (400, "Missing value for enable")
    );
    let bad = agent.put("/v1/agent/service/maintenance/web1?enable=maybe", b"");
    assert_eq!(
        (bad.status, bad.body.as_str()),
        (400, "Invalid value for enable: \"maybe\"")
    );
    let unknown = agent.put("/v1/agent/service/maintenance/nope?enable=true", b"");
    assert_eq!(unknown.status, 404);

    let on = agent.put(
        "/v1/agent/service/maintenance/web1?enable=true&reason=deploying",
        b"",
    );
    assert_eq!(on.status, 200);
    let checks = agent.get("/v1/agent/checks").json();
    let maint = &checks["_service_maintenance:web1"];
    assert_eq!(maint["Status"], "critical");
    assert_eq!(maint["Notes"], "deploying");
    assert_eq!(maint["Name"], "Service Maintenance Mode");
    assert_eq!(maint["ServiceID"], "web1");
    let health = agent.get("/v1/agent/health/service/id/web1");
    assert_eq!(health.status, 503);
    assert_eq!(health.json()["AggregatedStatus"], "maintenance");
    assert_eq!(
        agent.get("/v1/health/service/web?passing").json(),
        json!([])
    );
    assert_eq!(
        agent
            .put("/v1/agent/service/maintenance/web1?enable=false", b"")
            .status,
        200
    );
    assert!(
        agent
            .get("/v1/agent/checks")
            .json()
            .get("_service_maintenance:web1")
            .is_none()
    );
    assert_eq!(
        agent
            .get("/v1/health/service/web?passing")
            .json()
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    assert_eq!(
        agent.put("/v1/agent/maintenance?enable=true", b"").status,
        200
    );
    let node_maint = &agent.get("/v1/agent/checks").json()["_node_maintenance"];
    assert_eq!(node_maint["Name"], "Node Maintenance Mode");
    assert_eq!(
        node_maint["Notes"],
        "Maintenance mode is enabled for this node, but no reason was provided. This is a default message."
    );
    assert_eq!(
        agent.get("/v1/health/service/web?passing").json(),
        json!([])
    );
    assert_eq!(
        agent.put("/v1/agent/maintenance?enable=false", b"").status,
        200
    );
    assert!(
        agent
            .get("/v1/agent/checks")
            .json()
            .get("_node_maintenance")
            .is_none()
    );
}

#[test]
fn service_endpoint_blocks_on_its_content_hash() {
    let agent = Agent::start_dev();
    let register = |tags: serde_json::Value| {
        let body = json!({"ID": "web1", "Name": "web", "Tags": tags});
        assert_eq!(
            put_json(&agent, "/v1/agent/service/register", body).status,
            200
        );
    };
    register(json!(["a"]));
    let first = agent.get("/v1/agent/service/web1");
    let hash = first
        .header("x-consul-contenthash")
        .expect("hash header")
        .to_string();
    assert_eq!(first.json()["ContentHash"], hash.as_str());
    let url = agent.url(&format!("/v1/agent/service/web1?hash={hash}&wait=30s"));
    let waiter = std::thread::spawn(move || common::request("GET", &url, None).expect("answer"));
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !waiter.is_finished(),
        "an unchanged service must hold the query"
    );
    register(json!(["b"]));
    let second = waiter.join().expect("waiter");
    assert_eq!(second.json()["Tags"], json!(["b"]));
    assert_ne!(second.header("x-consul-contenthash"), Some(hash.as_str()));
}
