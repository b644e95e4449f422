//! `PUT /v1/txn` end to end: every KV verb, all-or-nothing rollback (409), read-only
//! transactions, limits and malformed bodies.

mod common;

use common::{Agent, Reply};
use serde_json::{Value, json};

fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn txn(agent: &Agent, ops: &Value) -> Reply {
    agent.put("/v1/txn", ops.to_string().as_bytes())
}

fn kv(verb: &str, key: &str, extra: Value) -> Value {
    let mut op = json!({ "Verb": verb, "Key": key });
    if let (Some(op), Some(extra)) = (op.as_object_mut(), extra.as_object()) {
        op.extend(extra.clone());
    }
    json!({ "KV": op })
}

fn keys(agent: &Agent) -> Value {
    agent.get("/v1/kv/?keys").json()
}

fn results(reply: &Reply) -> Vec<Value> {
    assert_eq!(reply.status, 200, "{reply:?}");
    let body = reply.json();
    assert_eq!(body["Errors"], Value::Null, "{body}");
    body["Results"].as_array().cloned().unwrap_or_default()
}

#[test]
fn writes_and_reads_every_verb() {
    let agent = Agent::start_dev();
    let reply = txn(
        &agent,
        &json!([
            kv("set", "a", json!({"Value": b64("1"), "Flags": 9})),
            kv("cas", "b", json!({"Value": b64("2"), "Index": 0})),
            kv("set", "tree/x", json!({"Value": b64("x")})),
            kv("set", "tree/y", json!({})),
        ]),
    );
    let res = results(&reply);
    assert_eq!(res.len(), 4);
    assert_eq!(res[0]["KV"]["Key"], "a");
    assert_eq!(res[0]["KV"]["Flags"], 9);
    assert_eq!(
        res[0]["KV"]["Value"],
        Value::Null,
        "write results carry no value"
    );
    assert_eq!(agent.get("/v1/kv/b?raw").body, "2");
    let b_index = res[1]["KV"]["ModifyIndex"].as_u64().expect("index");

    let res = results(&txn(
        &agent,
        &json!([
            kv("get", "a", json!({})),
            kv("get-tree", "tree/", json!({})),
            kv("get-or-empty", "absent", json!({})),
            kv("check-index", "b", json!({"Index": b_index})),
            kv("check-not-exists", "absent", json!({})),
        ]),
    ));
    assert_eq!(res.len(), 5, "{res:?}");
    assert_eq!(res[0]["KV"]["Value"], b64("1"), "get returns the value");
    assert_eq!(
        (res[1]["KV"]["Key"].clone(), res[2]["KV"]["Key"].clone()),
        (json!("tree/x"), json!("tree/y"))
    );
    assert_eq!(res[3]["KV"]["Key"], "absent");
    assert_eq!(res[3]["KV"]["Value"], Value::Null);
    assert_eq!(res[4]["KV"]["Key"], "b");

    let sid = agent
        .put("/v1/session/create", br#"{"LockDelay":0}"#)
        .json()["ID"]
        .as_str()
        .expect("ID")
        .to_string();
    let res = results(&txn(
        &agent,
        &json!([
            kv("lock", "l", json!({"Session": sid, "Value": b64("locked")})),
            kv("check-session", "l", json!({"Session": sid})),
        ]),
    ));
    assert_eq!(res[0]["KV"]["Session"], sid.as_str());
    assert_eq!(res[0]["KV"]["LockIndex"], 1);
    let res = results(&txn(
        &agent,
        &json!([kv("unlock", "l", json!({"Session": sid}))]),
    ));
    assert!(res[0]["KV"].get("Session").is_none(), "{res:?}");

    let res = results(&txn(
        &agent,
        &json!([
            kv("delete", "a", json!({})),
            kv("delete-tree", "tree/", json!({})),
            kv("delete-cas", "b", json!({"Index": b_index})),
        ]),
    ));
    assert!(res.is_empty(), "deletes produce no results: {res:?}");
    assert_eq!(keys(&agent), json!(["l"]));
}

#[test]
fn rollback_reports_errors_and_changes_nothing() {
    let agent = Agent::start_dev();
    agent.put("/v1/kv/existing", b"old");
    let before = agent.get("/v1/kv/existing").json();
    let reply = txn(
        &agent,
        &json!([
            kv("set", "new", json!({"Value": b64("n")})),
            kv("set", "existing", json!({"Value": b64("changed")})),
            kv("cas", "existing", json!({"Value": b64("c"), "Index": 1})),
            kv("check-not-exists", "existing", json!({})),
        ]),
    );
    assert_eq!(reply.status, 409, "{reply:?}");
    let body = reply.json();
    assert_eq!(body["Results"], Value::Null);
    let errors = body["Errors"].as_array().expect("errors");
    let indexes: Vec<u64> = errors
        .iter()
        .filter_map(|e| e["OpIndex"].as_u64())
        .collect();
    assert_eq!(indexes, [2, 3]);
    assert_eq!(
        errors[0]["What"],
        r#"failed to set key "existing", index is stale"#
    );
    assert_eq!(errors[1]["What"], r#"key "existing" exists"#);
    assert_eq!(agent.get("/v1/kv/new").status, 404, "rolled back");
    assert_eq!(agent.get("/v1/kv/existing").json(), before, "rolled back");

    for op in [
        kv("get", "missing", json!({})),
        kv(
            "lock",
            "k",
            json!({"Session": "00000000-0000-0000-0000-000000000000"}),
        ),
        kv("unlock", "k", json!({})),
        kv("delete-cas", "existing", json!({"Index": 1})),
        kv("check-index", "existing", json!({"Index": 1})),
        kv("check-session", "existing", json!({"Session": "x"})),
        kv("explode", "k", json!({})),
    ] {
        let reply = txn(&agent, &json!([kv("set", "side", json!({})), op]));
        assert_eq!(reply.status, 409, "{op}: {reply:?}");
        assert_eq!(reply.json()["Errors"][0]["OpIndex"], 1, "{op}");
        assert!(
            reply.json()["Errors"][0]["What"]
                .as_str()
                .is_some_and(|w| !w.is_empty())
        );
    }
    assert_eq!(
        keys(&agent),
        json!(["existing"]),
        "no failed transaction wrote anything"
    );
}

#[test]
fn read_only_transactions_are_reads() {
    let agent = Agent::start_dev();
    agent.put("/v1/kv/r", b"v");
    for query in ["", "?stale", "?consistent"] {
        let reply = agent.put(
            &format!("/v1/txn{query}"),
            json!([kv("get", "r", json!({}))]).to_string().as_bytes(),
        );
        assert_eq!(results(&reply)[0]["KV"]["Value"], b64("v"), "{query}");
        assert_eq!(
            reply.header("x-consul-knownleader"),
            Some("true"),
            "{query}"
        );
        assert!(reply.header("x-consul-lastcontact").is_some(), "{query}");
    }
    let conflict = agent.put("/v1/txn?stale&consistent", b"[]");
    assert_eq!(conflict.status, 400);
    let dc = agent.put(
        "/v1/txn?dc=mars",
        json!([kv("set", "x", json!({}))]).to_string().as_bytes(),
    );
    assert_eq!(
        (dc.status, dc.body.as_str()),
        (500, "No path to datacenter")
    );
    assert_eq!(keys(&agent), json!(["r"]));
}

#[test]
fn limits_and_malformed_bodies() {
    let agent = Agent::start_dev();
    let ops: Vec<Value> = (0..128)
        .map(|i| kv("set", &format!("many/{i:03}"), json!({})))
        .collect();
    assert_eq!(
        results(&txn(&agent, &Value::Array(ops))).len(),
        128,
        "128 operations are fine"
    );
    agent.delete("/v1/kv/many/?recurse");

    let ops: Vec<Value> = (0..129)
        .map(|i| kv("set", &format!("many/{i}"), json!({})))
        .collect();
    let reply = txn(&agent, &Value::Array(ops));
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (413, "Transaction contains too many operations (129 > 128)")
    );

    let huge = json!([kv("set", "huge", json!({"Value": "A".repeat(600 * 1024)}))]);
    let reply = txn(&agent, &huge);
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert!(reply.body.starts_with("Request body("), "{}", reply.body);
    assert!(reply.body.contains("txn_max_req_len"), "{}", reply.body);

    for body in [
        &b"not json"[..],
        b"{\"KV\":{}}",
        b"[{\"KV\":{\"Verb\":\"set\",\"Key\":\"k\",\"Flags\":\"x\"}}]",
        b"[1]",
    ] {
        let reply = agent.put("/v1/txn", body);
        assert_eq!(
            reply.status,
            400,
            "{}: {reply:?}",
            String::from_utf8_lossy(body)
        );
        assert!(
            reply.body.starts_with("Failed to parse body: "),
            "{reply:?}"
        );
    }
    let bad_b64 = txn(&agent, &json!([kv("set", "k", json!({"Value": "!!!"}))]));
    assert_eq!(bad_b64.status, 400);
    assert!(
        bad_b64.body.starts_with("Failed to parse body: "),
        "{bad_b64:?}"
    );
    let get = agent.get("/v1/txn");
    assert_eq!(
        (get.status, get.header("allow")),
        (405, Some("OPTIONS,PUT"))
    );
    assert_eq!(keys(&agent), json!([]), "nothing was written");
}

#[test]
fn lowercase_keys_are_accepted() {
    let agent = Agent::start_dev();
    let body = format!(
        r#"[{{"kv":{{"verb":"set","key":"lc","value":"{}","flags":3}}}}]"#,
        b64("low")
    );
    let res = results(&agent.put("/v1/txn", body.as_bytes()));
    assert_eq!(res[0]["KV"]["Key"], "lc");
    assert_eq!(res[0]["KV"]["Flags"], 3);
    assert_eq!(agent.get("/v1/kv/lc?raw").body, "low");
}
