//! `/v1/health/*` against a real dev agent: passing filter, states, and blocking queries
//! woken only by changes to the watched service.

mod common;

use common::Agent;
use serde_json::json;
use std::time::{Duration, Instant};

fn register(agent: &Agent, node: &str, service: &str, status: &str) {
    let body = json!({
        "Node": node, "Address": "10.2.0.1",
        "Service": {"Service": service, "Port": 8080},
        "Check": {"CheckID": format!("{service}-check"), "Name": "alive", "ServiceID": service, "Status": status}
    });
    let reply = agent.put("/v1/catalog/register", body.to_string().as_bytes());
    assert_eq!(reply.status, 200, "{reply:?}");
}

#[test]
fn passing_states_and_shapes() {
    let agent = Agent::start_dev();
    register(&agent, "a", "web", "passing");
    register(&agent, "b", "web", "warning");
    let all = agent.get("/v1/health/service/web").json();
    assert_eq!(all.as_array().map(Vec::len), Some(2));
    assert_eq!(all[0]["Node"]["Node"], "a");
    assert_eq!(all[0]["Service"]["Service"], "web");
    assert_eq!(all[0]["Checks"][0]["ServiceName"], "web");
    assert_eq!(all[0]["Checks"][0]["Definition"], json!({}));
    let passing = agent.get("/v1/health/service/web?passing").json();
    assert_eq!(
        passing.as_array().map(Vec::len),
        Some(1),
        "warning is not passing"
    );
    assert_eq!(
        agent.get("/v1/health/service/web?passing=bogus").status,
        400
    );
    let warning = agent.get("/v1/health/state/warning").json();
    assert_eq!(warning[0]["Node"], "b");
    let any = agent.get("/v1/health/state/any").json();
    assert!(
        any.as_array().is_some_and(|a| a.len() >= 3),
        "serfHealth + 2: {any}"
    );
    let unknown = agent.get("/v1/health/state/bogus");
    assert_eq!(
        (unknown.status, unknown.body.trim()),
        (200, "[]"),
        "Consul does not validate"
    );
    let checks = agent
        .get("/v1/health/checks/web?filter=Status%20%3D%3D%20%22passing%22")
        .json();
    assert_eq!(checks.as_array().map(Vec::len), Some(1));
    let node = agent.get("/v1/health/node/test-node").json();
    assert_eq!(node[0]["CheckID"], "serfHealth");
}

#[test]
fn blocking_health_query_wakes_for_its_service_only() {
    let agent = Agent::start_dev();
    register(&agent, "a", "web", "passing");
    register(&agent, "b", "db", "passing");
    let index = agent.get("/v1/health/service/web").index();
    let url = agent.url(&format!("/v1/health/service/web?index={index}&wait=3s"));
    let waiter = std::thread::spawn(move || {
        let start = Instant::now();
        let reply = common::request("GET", &url, None).expect("request");
        (start.elapsed(), reply)
    });
    std::thread::sleep(Duration::from_millis(300));
    register(&agent, "b", "db", "critical");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !waiter.is_finished(),
        "a db change must not wake a web reader"
    );
    register(&agent, "a", "web", "critical");
    let (elapsed, reply) = waiter.join().expect("waiter");
    assert!(
        elapsed < Duration::from_millis(2500),
        "woken by the web flip, took {elapsed:?}"
    );
    assert!(reply.index() > index);
    assert_eq!(reply.json()[0]["Checks"][0]["Status"], "critical");
}

#[test]
fn many_watchers_of_one_service_all_see_each_change() {
    let agent = Agent::start_dev();
    register(&agent, "a", "web", "passing");
    for (round, status) in ["critical", "passing", "warning"].iter().enumerate() {
        let index = agent.get("/v1/health/service/web").index();
        let watchers: Vec<_> = (0..16)
            .map(|i| {
                // Half ask with ?passing, half without: different questions, different answers.
                let query = if i % 2 == 0 { "&passing" } else { "" };
                let url = agent.url(&format!(
                    "/v1/health/service/web?index={index}&wait=30s{query}"
                ));
                std::thread::spawn(move || common::request("GET", &url, None).expect("answer"))
            })
            .collect();
        register(&agent, "a", "web", status);
        for (i, watcher) in watchers.into_iter().enumerate() {
            let reply = watcher.join().expect("watcher");
            assert!(reply.index() > index, "round {round}: woken by the change");
            let body = reply.json();
            if i % 2 == 0 {
                let want = usize::from(*status == "passing");
                assert_eq!(
                    body.as_array().map(Vec::len),
                    Some(want),
                    "round {round} ?passing"
                );
            } else {
                assert_eq!(body[0]["Checks"][0]["Status"], *status, "round {round}");
            }
        }
    }
}
