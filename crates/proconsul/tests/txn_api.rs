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

fn node_op(verb: &str, node: Value) -> Value {
    json!({ "Node": { "Verb": verb, "Node": node } })
}

fn service_op(verb: &str, node: &str, service: Value) -> Value {
    json!({ "Service": { "Verb": verb, "Node": node, "Service": service } })
}

fn check_op(verb: &str, check: Value) -> Value {
    json!({ "Check": { "Verb": verb, "Check": check } })
}

fn conflict(reply: &Reply) -> Vec<(u64, String)> {
    assert_eq!(reply.status, 409, "{reply:?}");
    let body = reply.json();
    assert_eq!(body["Results"], Value::Null, "{body}");
    body["Errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["OpIndex"].as_u64().expect("OpIndex"),
                e["What"].as_str().expect("What").to_string(),
            )
        })
        .collect()
}

#[test]
fn node_set_then_get() {
    let agent = Agent::start_dev();
    let id = "67539c9d-b948-ba67-edd4-d07a676d6673";
    let res = results(&txn(
        &agent,
        &json!([node_op(
            "set",
            json!({"ID": id, "Node": "bar", "Address": "192.168.0.1",
                   "Meta": {"instance_type": "m2.large"}})
        )]),
    ));
    let node = &res[0]["Node"];
    assert_eq!(node["Node"], "bar");
    assert_eq!(
        node["Datacenter"], "dc1",
        "defaults to the agent's datacenter"
    );
    assert_eq!(node["TaggedAddresses"], Value::Null);
    assert_eq!(node["Meta"]["instance_type"], "m2.large");
    assert_eq!(node["CreateIndex"], node["ModifyIndex"]);

    let reply = txn(
        &agent,
        &json!([
            node_op("get", json!({"Node": "bar"})),
            node_op("get", json!({"ID": id}))
        ]),
    );
    assert!(reply.header("x-consul-knownleader").is_some(), "a read");
    let res = results(&reply);
    assert_eq!((&res[0]["Node"], &res[1]["Node"]), (node, node));
    let catalog = agent.get("/v1/catalog/node/bar").json();
    assert_eq!(catalog["Node"]["Address"], "192.168.0.1");

    let errors = conflict(&txn(
        &agent,
        &json!([node_op("get", json!({"Node": "nope"}))]),
    ));
    assert_eq!(errors, [(0, r#"node "nope" doesn't exist"#.to_string())]);
    let errors = conflict(&txn(
        &agent,
        &json!([
            node_op("set", json!({"Address": "1.2.3.4"})),
            node_op("set", json!({"Node": "x", "ID": "nope"})),
            node_op("explode", json!({"Node": "x"})),
        ]),
    ));
    assert_eq!(
        errors,
        [
            (0, "Must provide node".to_string()),
            (1, "Bad node ID: uuid string is wrong length".to_string()),
            (2, "unknown node operation: explode".to_string()),
        ]
    );
}

#[test]
fn service_cas_with_a_stale_index_applies_nothing() {
    let agent = Agent::start_dev();
    let before = agent.get("/v1/catalog/services").json();
    let ops = json!([
        kv("set", "side", json!({"Value": b64("x")})),
        node_op("set", json!({"Node": "n1", "Address": "10.0.0.1"})),
        service_op("set", "n1", json!({"Service": "db", "Port": 5432})),
        service_op(
            "cas",
            "n1",
            json!({"ID": "web", "Service": "web", "ModifyIndex": 5})
        ),
    ]);
    let errors = conflict(&txn(&agent, &ops));
    assert_eq!(
        errors,
        [(
            3,
            r#"failed to set service "web" on node "n1", index is stale"#.to_string()
        )]
    );
    assert_eq!(
        agent.get("/v1/kv/side").status,
        404,
        "the KV set rolled back"
    );
    assert_eq!(agent.get("/v1/catalog/node/n1").json(), Value::Null);
    assert_eq!(agent.get("/v1/catalog/services").json(), before);

    let errors = conflict(&txn(
        &agent,
        &json!([service_op("set", "ghost", json!({"Service": "web"}))]),
    ));
    assert_eq!(errors, [(0, "Missing node registration".to_string())]);

    // ModifyIndex 0: create only if absent.
    let res = results(&txn(
        &agent,
        &json!([
            node_op("set", json!({"Node": "n1", "Address": "10.0.0.1"})),
            service_op(
                "cas",
                "n1",
                json!({"Service": "web", "Tags": ["v1"], "Port": 80})
            ),
        ]),
    ));
    let web = &res[1]["Service"];
    assert_eq!(
        (web["ID"].clone(), web["Port"].clone()),
        (json!("web"), json!(80))
    );
    assert_eq!(web["Weights"], json!({"Passing": 1, "Warning": 1}));
    let index = web["ModifyIndex"].as_u64().expect("index");
    let res = results(&txn(
        &agent,
        &json!([
            service_op(
                "cas",
                "n1",
                json!({"Service": "web", "Tags": ["v2"], "Port": 80,
                                          "ModifyIndex": index})
            ),
            service_op("get", "n1", json!({"ID": "web"})),
        ]),
    ));
    assert_eq!(res[1]["Service"]["Tags"], json!(["v2"]));
    let listed = agent.get("/v1/catalog/service/web").json();
    assert_eq!(listed[0]["ServiceTags"], json!(["v2"]));
}

#[test]
fn check_set_is_visible_in_health() {
    let agent = Agent::start_dev();
    results(&txn(
        &agent,
        &json!([
            node_op("set", json!({"Node": "bar", "Address": "192.168.0.1"})),
            service_op("set", "bar", json!({"ID": "web1", "Service": "web"})),
        ]),
    ));
    let index = agent.get("/v1/health/service/web").index();
    let url = agent.url(&format!("/v1/health/service/web?index={index}&wait=5s"));
    let waiter = std::thread::spawn(move || common::request("GET", &url, None));
    std::thread::sleep(std::time::Duration::from_millis(300));
    // The sample from Consul's documentation, as clients send it (`ServiceTags: null`).
    let res = results(&txn(
        &agent,
        &json!([check_op(
            "set",
            json!({"Node": "bar", "CheckID": "service:web1", "Name": "Web HTTP Check",
                   "Status": "critical", "ServiceID": "web1", "ServiceName": "web",
                   "ServiceTags": null,
                   "Definition": {"HTTP": "http://localhost:8080", "Interval": "10s"}})
        )]),
    ));
    let check = &res[0]["Check"];
    assert_eq!(check["CheckID"], "service:web1");
    assert_eq!(check["Definition"]["Interval"], "10s");
    assert_eq!(check["Type"], "http");
    let woken = waiter.join().expect("waiter").expect("reply");
    assert!(
        woken.index() > index,
        "the txn woke the blocked health reader"
    );
    assert_eq!(woken.json()[0]["Checks"][0]["Status"], "critical");

    let checks = agent.get("/v1/health/checks/web").json();
    assert_eq!(checks[0]["CheckID"], "service:web1");
    assert_eq!(checks[0]["Status"], "critical");
    let modify = checks[0]["ModifyIndex"].as_u64().expect("index");
    let errors = conflict(&txn(
        &agent,
        &json!([
            check_op(
                "set",
                json!({"Node": "bar", "CheckID": "x", "ServiceID": "db"})
            ),
            check_op(
                "cas",
                json!({"Node": "bar", "CheckID": "service:web1",
                                   "ServiceID": "web1", "Status": "passing",
                                   "ModifyIndex": modify + 1})
            ),
        ]),
    ));
    assert_eq!(
        errors,
        [
            (0, "Missing service registration".to_string()),
            (
                1,
                r#"failed to set check "service:web1" on node "bar", index is stale"#.to_string()
            ),
        ]
    );
    results(&txn(
        &agent,
        &json!([check_op(
            "cas",
            json!({"Node": "bar", "CheckID": "service:web1",
                                        "ServiceID": "web1", "Status": "passing",
                                        "ModifyIndex": modify})
        )]),
    ));
    assert_eq!(
        agent.get("/v1/health/service/web?passing").json()[0]["Service"]["ID"],
        "web1"
    );
}

#[test]
fn delete_verbs() {
    let agent = Agent::start_dev();
    let res = results(&txn(
        &agent,
        &json!([
            node_op("set", json!({"Node": "n1", "Address": "10.0.0.1"})),
            service_op("set", "n1", json!({"Service": "web"})),
            service_op("set", "n1", json!({"Service": "db"})),
            check_op(
                "set",
                json!({"Node": "n1", "Name": "web-alive", "ServiceID": "web",
                                   "Status": "passing"})
            ),
            check_op(
                "set",
                json!({"Node": "n1", "CheckID": "disk", "Status": "passing"})
            ),
        ]),
    ));
    assert_eq!(res.len(), 5);
    let node_index = res[0]["Node"]["ModifyIndex"].as_u64().expect("index");
    let disk_index = res[4]["Check"]["ModifyIndex"].as_u64().expect("index");

    let errors = conflict(&txn(
        &agent,
        &json!([
            check_op(
                "delete-cas",
                json!({"Node": "n1", "CheckID": "disk",
                                          "ModifyIndex": disk_index + 1})
            ),
            service_op("delete-cas", "n1", json!({"ID": "db", "ModifyIndex": 1})),
            node_op(
                "delete-cas",
                json!({"Node": "n1", "ModifyIndex": node_index + 1})
            ),
        ]),
    ));
    assert_eq!(
        errors.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert_eq!(errors[2].1, r#"failed to delete node "n1", index is stale"#);

    let res = results(&txn(
        &agent,
        &json!([
            check_op(
                "delete-cas",
                json!({"Node": "n1", "CheckID": "disk",
                                          "ModifyIndex": disk_index})
            ),
            service_op("delete", "n1", json!({"ID": "web"})),
            check_op("delete", json!({"Node": "n1", "CheckID": "absent"})),
        ]),
    ));
    assert!(res.is_empty(), "deletes produce no results: {res:?}");
    assert_eq!(
        agent.get("/v1/health/node/n1").json(),
        json!([]),
        "web's check went too"
    );
    let services = agent.get("/v1/catalog/node/n1").json();
    assert_eq!(
        services["Services"]
            .as_object()
            .map(|s| s.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["db".to_string()])
    );
    let node_index = services["Node"]["ModifyIndex"].as_u64().expect("index");
    results(&txn(
        &agent,
        &json!([node_op(
            "delete-cas",
            json!({"Node": "n1", "ModifyIndex": node_index})
        )]),
    ));
    assert_eq!(agent.get("/v1/catalog/node/n1").json(), Value::Null);
    assert_eq!(agent.get("/v1/catalog/service/db").json(), json!([]));
}
