//! `/v1/session/*` end to end: creation (with python-consul's lowercase keys and Consul's
//! quirks), validation errors, renew/destroy, lock release and deletion, lock-delay, TTL expiry
//! and blocking listings.

mod common;

use common::{Agent, Reply, wait_for};
use serde_json::{Value, json};
use std::sync::mpsc;
use std::time::Duration;

fn create(agent: &Agent, body: &str) -> String {
    let reply = agent.put("/v1/session/create", body.as_bytes());
    assert_eq!(reply.status, 200, "create {body}: {reply:?}");
    reply.json()["ID"].as_str().expect("ID").to_string()
}

fn info(agent: &Agent, id: &str) -> Value {
    let reply = agent.get(&format!("/v1/session/info/{id}"));
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json()
}

fn session_count(agent: &Agent) -> usize {
    agent
        .get("/v1/session/list")
        .json()
        .as_array()
        .map(Vec::len)
        .unwrap_or(0)
}

#[test]
fn create_defaults_and_shape() {
    let agent = Agent::start_dev();
    for body in ["", "{}", "null"] {
        let id = create(&agent, body);
        let s = &info(&agent, &id)[0];
        assert_eq!(s["ID"], id.as_str());
        assert_eq!(s["Node"], "test-node");
        assert_eq!(
            s["LockDelay"], 15_000_000_000u64,
            "default 15 s, in nanoseconds"
        );
        assert_eq!(s["Behavior"], "release");
        assert_eq!(s["TTL"], "");
        assert_eq!(s["NodeChecks"], json!(["serfHealth"]));
        assert!(s["CreateIndex"].as_u64() >= Some(1));
        assert_eq!(s["CreateIndex"], s["ModifyIndex"]);
    }
    let id = create(&agent, r#"{"Name":"n","Checks":[]}"#);
    let s = &info(&agent, &id)[0];
    assert_eq!(s["Name"], "n");
    assert_eq!(
        s["NodeChecks"],
        json!([]),
        "an explicit empty list drops serfHealth"
    );
}

#[test]
fn create_accepts_lowercase_keys_and_lock_delay_forms() {
    let agent = Agent::start_dev();
    let id = create(
        &agent,
        r#"{"name":"py","ttl":"15s","lockdelay":5,"behavior":"delete","node":"test-node"}"#,
    );
    let s = &info(&agent, &id)[0];
    assert_eq!(
        (s["Name"].clone(), s["TTL"].clone()),
        (json!("py"), json!("15s"))
    );
    assert_eq!(
        (s["Behavior"].clone(), s["LockDelay"].clone()),
        (json!("delete"), json!(5_000_000_000u64))
    );
    for (delay, nanos) in [
        ("999", 60_000_000_000u64),
        ("1000", 1000),
        ("2000000000", 2_000_000_000),
        (r#""3s""#, 3_000_000_000),
        (r#""0.001s""#, 1_000_000),
        (r#""5m""#, 60_000_000_000),
        ("0", 0),
    ] {
        let id = create(&agent, &format!(r#"{{"LockDelay":{delay}}}"#));
        assert_eq!(
            info(&agent, &id)[0]["LockDelay"],
            nanos,
            "LockDelay {delay}"
        );
    }
}

#[test]
fn create_rejects_bad_input_with_consuls_texts() {
    let agent = Agent::start_dev();
    let before = session_count(&agent);
    let ttl_low = agent.put("/v1/session/create", br#"{"TTL":"5s"}"#);
    assert_eq!(ttl_low.status, 500);
    assert_eq!(
        ttl_low.body,
        "Invalid Session TTL '5000000000', must be between [10s=24h0m0s]"
    );
    let ttl_high = agent.put("/v1/session/create", br#"{"TTL":"25h"}"#);
    assert_eq!(ttl_high.status, 500);
    assert!(
        ttl_high
            .body
            .starts_with("Invalid Session TTL '90000000000000'"),
        "{ttl_high:?}"
    );
    let ttl_bad = agent.put("/v1/session/create", br#"{"TTL":"abc"}"#);
    assert_eq!(ttl_bad.status, 500);
    assert!(
        ttl_bad.body.starts_with("Session TTL 'abc' invalid"),
        "{ttl_bad:?}"
    );
    let behavior = agent.put("/v1/session/create", br#"{"Behavior":"explode"}"#);
    assert_eq!(
        (behavior.status, behavior.body.as_str()),
        (500, "Invalid Behavior setting 'explode'")
    );
    let node = agent.put("/v1/session/create", br#"{"Node":"ghost"}"#);
    assert_eq!(
        (node.status, node.body.as_str()),
        (500, "Missing node registration")
    );
    let check = agent.put("/v1/session/create", br#"{"Checks":["nope"]}"#);
    assert_eq!(check.status, 500);
    assert_eq!(check.body, "Missing check 'nope' registration");
    for body in [
        &b"{"[..],
        b"[1,2]",
        b"{\"TTL\": 5",
        b"{\"Name\": 7}",
        b"{\"LockDelay\":\"soon\"}",
    ] {
        let reply = agent.put("/v1/session/create", body);
        assert_eq!(
            reply.status,
            400,
            "{}: {reply:?}",
            String::from_utf8_lossy(body)
        );
        assert!(
            reply.body.starts_with("Request decode failed: "),
            "{reply:?}"
        );
    }
    let dc = agent.put("/v1/session/create?dc=elsewhere", b"{}");
    assert_eq!(
        (dc.status, dc.body.as_str()),
        (500, "No path to datacenter")
    );
    let get = agent.get("/v1/session/create");
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("OPTIONS,PUT"));
    assert_eq!(
        session_count(&agent),
        before,
        "no failed create left a session"
    );
}

#[test]
fn info_renew_destroy() {
    let agent = Agent::start_dev();
    let unknown = "4fe2fd5f-ba2b-4ea6-9d45-2b9e6a8a8b11";
    let missing = agent.get(&format!("/v1/session/info/{unknown}"));
    assert_eq!(
        (missing.status, missing.json()),
        (200, json!([])),
        "unknown session info is []"
    );
    assert!(missing.index() >= 1);
    let renew = agent.put(&format!("/v1/session/renew/{unknown}"), b"");
    assert_eq!(
        (renew.status, renew.body.clone()),
        (404, format!("Session id '{unknown}' not found"))
    );

    let conflict = agent.put(
        &format!("/v1/session/renew/{unknown}?stale&consistent"),
        b"",
    );
    assert_eq!(conflict.status, 400, "renew parses the query options first");
    let id = create(&agent, r#"{"TTL":"30s"}"#);
    let renewed = agent.put(&format!("/v1/session/renew/{id}"), b"");
    assert_eq!(renewed.status, 200);
    assert_eq!(renewed.json()[0]["ID"], id.as_str());
    assert_eq!(renewed.json()[0]["TTL"], "30s");

    let destroyed = agent.put(&format!("/v1/session/destroy/{id}"), b"");
    assert_eq!((destroyed.status, destroyed.json()), (200, json!(true)));
    assert_eq!(info(&agent, &id), json!([]));
    let again = agent.put(&format!("/v1/session/destroy/{id}"), b"");
    assert_eq!(
        (again.status, again.json()),
        (200, json!(true)),
        "destroy is idempotent"
    );
    assert_eq!(
        agent.put(&format!("/v1/session/renew/{id}"), b"").status,
        404
    );
    for (method, path) in [
        ("PUT", "/v1/session/destroy/"),
        ("PUT", "/v1/session/renew/"),
        ("GET", "/v1/session/info/"),
    ] {
        let reply = agent.http(method, path, None);
        assert!(
            reply.status == 400 || reply.status == 404 || reply.status == 405,
            "{path}: {reply:?}"
        );
    }
}

#[test]
fn destroy_releases_or_deletes_held_keys() {
    let agent = Agent::start_dev();
    let releaser = create(&agent, r#"{"Behavior":"release","LockDelay":"0s"}"#);
    let deleter = create(&agent, r#"{"Behavior":"delete","LockDelay":"0s"}"#);
    assert_eq!(
        agent
            .put(&format!("/v1/kv/r?acquire={releaser}"), b"1")
            .json(),
        json!(true)
    );
    assert_eq!(
        agent
            .put(&format!("/v1/kv/d?acquire={deleter}"), b"1")
            .json(),
        json!(true)
    );
    agent.put(&format!("/v1/session/destroy/{releaser}"), b"");
    agent.put(&format!("/v1/session/destroy/{deleter}"), b"");
    let r = agent.get("/v1/kv/r").json();
    assert!(r[0].get("Session").is_none(), "released: {r}");
    assert_eq!(
        (r[0]["LockIndex"].clone(), r[0]["Value"].clone()),
        (json!(1), json!("MQ=="))
    );
    assert_eq!(
        agent.get("/v1/kv/d").status,
        404,
        "Behavior delete removes the key"
    );
}

#[test]
fn lock_delay_blocks_reacquire_until_it_lapses() {
    let agent = Agent::start_dev();
    let first = create(&agent, r#"{"LockDelay":"1s"}"#);
    let second = create(&agent, "{}");
    assert_eq!(
        agent
            .put(&format!("/v1/kv/ld?acquire={first}"), b"1")
            .json(),
        json!(true)
    );
    agent.put(&format!("/v1/session/destroy/{first}"), b"");
    let refused = agent.put(&format!("/v1/kv/ld?acquire={second}"), b"2");
    assert_eq!(
        (refused.status, refused.json()),
        (200, json!(false)),
        "lock-delay in force"
    );
    assert_eq!(
        agent.get("/v1/kv/ld?raw").body,
        "1",
        "refused acquire wrote nothing"
    );
    wait_for("lock-delay to lapse", Duration::from_secs(15), || {
        let reply = agent.put(&format!("/v1/kv/ld?acquire={second}"), b"2");
        (reply.json() == json!(true)).then_some(())
    });
    assert_eq!(agent.get("/v1/kv/ld").json()[0]["Session"], second.as_str());
}

#[test]
fn ttl_session_expires_when_not_renewed() {
    let agent = Agent::start_dev();
    let id = create(&agent, r#"{"TTL":"10s","Behavior":"delete"}"#);
    assert_eq!(
        agent.put(&format!("/v1/kv/eph?acquire={id}"), b"x").json(),
        json!(true)
    );
    wait_for(
        "TTL session to be invalidated",
        Duration::from_secs(40),
        || (info(&agent, &id) == json!([])).then_some(()),
    );
    assert_eq!(agent.get("/v1/kv/eph").status, 404, "its key went with it");
}

#[test]
fn node_and_list_block_on_index() {
    let agent = Agent::start_dev();
    let id = create(&agent, r#"{"Name":"a"}"#);
    let by_node = agent.get("/v1/session/node/test-node");
    assert_eq!(by_node.status, 200);
    assert!(
        by_node
            .json()
            .as_array()
            .is_some_and(|l| l.iter().any(|s| s["ID"] == id.as_str()))
    );
    assert_eq!(agent.get("/v1/session/node/other-node").json(), json!([]));
    let list = agent.get("/v1/session/list");
    let index = list.index();
    assert_eq!(list.json().as_array().map(Vec::len), Some(1));

    let unchanged = agent.get(&format!("/v1/session/list?index={index}&wait=1s"));
    assert_eq!(unchanged.index(), index);

    let (tx, rx) = mpsc::channel::<Reply>();
    let url = agent.url(&format!("/v1/session/list?index={index}&wait=30s"));
    std::thread::spawn(move || {
        if let Ok(reply) = common::request("GET", &url, None) {
            let _ = tx.send(reply);
        }
    });
    let second = create(&agent, r#"{"Name":"b"}"#);
    let woke = rx.recv_timeout(Duration::from_secs(30)).expect("list woke");
    assert!(woke.index() > index);
    assert!(
        woke.json()
            .as_array()
            .is_some_and(|l| l.iter().any(|s| s["ID"] == second.as_str()))
    );

    let index = woke.index();
    let url = agent.url(&format!(
        "/v1/session/node/test-node?index={index}&wait=30s"
    ));
    let (tx, rx) = mpsc::channel::<Reply>();
    std::thread::spawn(move || {
        if let Ok(reply) = common::request("GET", &url, None) {
            let _ = tx.send(reply);
        }
    });
    agent.put(&format!("/v1/session/destroy/{id}"), b"");
    let woke = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("node list woke");
    assert!(woke.index() > index);
    assert_eq!(woke.json().as_array().map(Vec::len), Some(1));
    let bad = agent.get("/v1/session/list?index=x");
    assert_eq!((bad.status, bad.body.as_str()), (400, "Invalid index"));
}
