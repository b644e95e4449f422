//! The dev agent starts and serves the basics over real HTTP.

mod common;

use common::Agent;

#[test]
fn dev_agent_serves_kv_and_status() {
    let agent = Agent::start_dev();
    let leader = agent.get("/v1/status/leader");
    assert_eq!(leader.status, 200);
    assert_eq!(
        leader.json(),
        serde_json::json!(format!("127.0.0.1:{}", agent.server_port))
    );
    assert_eq!(agent.put("/v1/kv/hello", b"world").body.trim(), "true");
    let got = agent.get("/v1/kv/hello?raw");
    assert_eq!((got.status, got.body.as_str()), (200, "world"));
    assert!(got.index() >= 1);
    assert_eq!(agent.get("/v1/kv/missing").status, 404);
}
