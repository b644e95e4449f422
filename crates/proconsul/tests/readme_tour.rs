//! The README's "short tour" curl sequence, step by step over HTTP, with the answers the README
//! promises. If this test changes, the README must change with it.

mod common;

use common::Agent;
use serde_json::json;
use std::time::Duration;

#[test]
fn readme_short_tour() {
    let agent = Agent::start_dev();

    // curl -s -X PUT localhost:8500/v1/kv/app/config -d 'hello'           # true
    assert_eq!(agent.put("/v1/kv/app/config", b"hello").json(), json!(true));
    // curl -s localhost:8500/v1/kv/app/config?raw                         # hello
    assert_eq!(agent.get("/v1/kv/app/config?raw").body, "hello");
    // curl -s localhost:8500/v1/kv/app?recurse    # [{"Key":"app/config","Value":"aGVsbG8=",...}]
    let listed = agent.get("/v1/kv/app?recurse").json();
    assert_eq!(listed[0]["Key"], "app/config");
    assert_eq!(listed[0]["Value"], "aGVsbG8=");

    // curl -s 'localhost:8500/v1/kv/app/config?index=N&wait=30s'          # blocks until the key changes
    let index = agent.get("/v1/kv/app/config").index();
    let url = agent.url(&format!("/v1/kv/app/config?index={index}&wait=30s"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if let Ok(reply) = common::request("GET", &url, None) {
            let _ = tx.send(reply);
        }
    });
    agent.put("/v1/kv/app/config", b"hello again");
    let woke = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("blocking read answered");
    assert!(woke.index() > index);
    assert_eq!(woke.json()[0]["Value"], "aGVsbG8gYWdhaW4=");

    // SID=$(curl -s -X PUT localhost:8500/v1/session/create -d '{"Name":"leader","TTL":"15s"}' | jq -r .ID)
    let created = agent.put("/v1/session/create", br#"{"Name":"leader","TTL":"15s"}"#);
    let sid = created.json()["ID"].as_str().expect("ID").to_string();
    // curl -s -X PUT "localhost:8500/v1/kv/app/leader?acquire=$SID" -d 'node-1'   # true
    assert_eq!(
        agent
            .put(&format!("/v1/kv/app/leader?acquire={sid}"), b"node-1")
            .json(),
        json!(true)
    );
    // curl -s -X PUT "localhost:8500/v1/session/renew/$SID"
    let renewed = agent.put(&format!("/v1/session/renew/{sid}"), b"");
    assert_eq!(renewed.status, 200);
    assert_eq!(renewed.json()[0]["ID"], sid.as_str());
    assert_eq!(renewed.json()[0]["Name"], "leader");

    // curl -s -X PUT localhost:8500/v1/txn -d '[{"KV":{"Verb":"set","Key":"a","Value":"MQ=="}},
    //                                           {"KV":{"Verb":"cas","Key":"b","Value":"Mg==","Index":0}},
    //   {"Node":{"Verb":"set","Node":{"Node":"cache1","Address":"10.0.0.7"}}},
    //   {"Service":{"Verb":"cas","Node":"cache1","Service":{"Service":"redis","Port":6379,"ModifyIndex":0}}}]'
    let txn = agent.put(
        "/v1/txn",
        br#"[{"KV":{"Verb":"set","Key":"a","Value":"MQ=="}},
             {"KV":{"Verb":"cas","Key":"b","Value":"Mg==","Index":0}},
             {"Node":{"Verb":"set","Node":{"Node":"cache1","Address":"10.0.0.7"}}},
             {"Service":{"Verb":"cas","Node":"cache1","Service":{"Service":"redis","Port":6379,"ModifyIndex":0}}}]"#,
    );
    assert_eq!(txn.status, 200, "{txn:?}");
    assert_eq!(txn.json()["Errors"], json!(null));
    assert_eq!(txn.json()["Results"][3]["Service"]["Service"], "redis");
    assert_eq!(
        agent.get("/v1/catalog/service/redis").json()[0]["Address"],
        "10.0.0.7"
    );
    assert_eq!(agent.get("/v1/kv/a?raw").body, "1");
    assert_eq!(agent.get("/v1/kv/b?raw").body, "2");
    assert_eq!(
        agent.get("/v1/kv/?keys").json(),
        json!(["a", "app/config", "app/leader", "b"])
    );
}
