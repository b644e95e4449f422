//! `/v1/catalog/*` against a real dev agent: external registrations, listings, tag AND,
//! node-meta, filter, deregister cascade, and Consul's error answers.

mod common;

use common::Agent;
use serde_json::json;

fn register(agent: &Agent, body: serde_json::Value) -> common::Reply {
    agent.put("/v1/catalog/register", body.to_string().as_bytes())
}

fn external(agent: &Agent, node: &str, rack: &str, tags: &[&str]) {
    let reply = register(
        agent,
        json!({
            "Node": node, "Address": "10.1.0.1", "NodeMeta": {"rack": rack},
            "Service": {"Service": "web", "Tags": tags, "Port": 80},
            "Check": {"Name": "web-alive", "ServiceID": "web", "Status": "passing"}
        }),
    );
    assert_eq!(
        (reply.status, reply.body.trim()),
        (200, "true"),
        "{reply:?}"
    );
}

#[test]
fn external_services_list_filter_and_deregister() {
    let agent = Agent::start_dev();
    external(&agent, "ext1", "r1", &["v1", "primary"]);
    external(&agent, "ext2", "r2", &["v1"]);

    let nodes = agent.get("/v1/catalog/nodes");
    assert_eq!(nodes.status, 200);
    let names: Vec<String> = nodes
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|n| n["Node"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        names.contains(&"ext1".to_string()) && names.contains(&"test-node".to_string()),
        "{names:?}"
    );
    assert!(nodes.index() >= 1);

    let services = agent.get("/v1/catalog/services").json();
    assert_eq!(services["web"], json!(["primary", "v1"]));

    let web = agent.get("/v1/catalog/service/web");
    let rows = web.json();
    assert_eq!(rows.as_array().map(Vec::len), Some(2));
    assert_eq!(rows[0]["ServiceID"], "web");
    assert_eq!(
        rows[0]["ServiceWeights"],
        json!({"Passing": 1, "Warning": 1})
    );
    assert!(
        web.body.find("\"ID\"") < web.body.find("\"ServiceName\""),
        "Consul's field order"
    );

    let both = agent
        .get("/v1/catalog/service/web?tag=v1&tag=primary")
        .json();
    assert_eq!(both.as_array().map(Vec::len), Some(1), "tags are an AND");
    let meta = agent
        .get("/v1/catalog/service/web?node-meta=rack:r2")
        .json();
    assert_eq!(meta[0]["Node"], "ext2");
    let filtered = agent
        .get("/v1/catalog/service/web?filter=Node%20%3D%3D%20%22ext1%22")
        .json();
    assert_eq!(filtered.as_array().map(Vec::len), Some(1));

    let node = agent.get("/v1/catalog/node/ext1").json();
    assert_eq!(node["Node"]["Address"], "10.1.0.1");
    assert_eq!(node["Services"]["web"]["Port"], 80);
    let list = agent.get("/v1/catalog/node-services/ext1").json();
    assert_eq!(list["Services"][0]["ID"], "web");
    let missing = agent.get("/v1/catalog/node/nope");
    assert_eq!((missing.status, missing.body.trim()), (200, "null"));

    let gone = agent.put("/v1/catalog/deregister", br#"{"Node": "ext1"}"#);
    assert_eq!(gone.body.trim(), "true");
    assert_eq!(
        agent
            .get("/v1/catalog/service/web")
            .json()
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert!(
        agent
            .get("/v1/health/node/ext1")
            .json()
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    agent.put(
        "/v1/catalog/deregister",
        br#"{"Node": "ext2", "ServiceID": "web"}"#,
    );
    assert_eq!(agent.get("/v1/catalog/services").json().get("web"), None);
    assert!(
        agent
            .get("/v1/health/node/ext2")
            .json()
            .as_array()
            .is_some_and(Vec::is_empty),
        "service checks go with it"
    );
}

#[test]
fn bad_input_answers_like_consul() {
    let agent = Agent::start_dev();
    let bad_json = agent.put("/v1/catalog/register", b"{nope");
    assert_eq!(bad_json.status, 400);
    assert!(
        bad_json.body.starts_with("Request decode failed: "),
        "{bad_json:?}"
    );
    // Consul validates in its RPC handler, whose errors are 500s.
    let no_node = register(&agent, json!({"Address": "10.0.0.1"}));
    assert_eq!(
        (no_node.status, no_node.body.as_str()),
        (500, "Must provide node")
    );
    let unknown = register(
        &agent,
        json!({"Node": "x", "Address": "10.0.0.1", "Check": {"Name": "c", "ServiceID": "ghost"}}),
    );
    assert_eq!(
        (unknown.status, unknown.body.as_str()),
        (500, "failed inserting check: Missing service registration")
    );
    let filter = agent.get("/v1/catalog/nodes?filter=Node%20%3D%3D");
    assert_eq!(filter.status, 400);
    assert!(
        filter
            .body
            .starts_with("Failed to create boolean expression evaluator"),
        "{filter:?}"
    );
    let method = agent.get("/v1/catalog/register");
    assert_eq!(method.status, 405);
    assert_eq!(method.header("allow"), Some("OPTIONS,PUT"));
}
