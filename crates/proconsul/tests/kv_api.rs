//! `/v1/kv/*` end to end: reads, writes, locks, deletes, bad input and blocking queries, as
//! Consul's `agent/kvs_endpoint.go` answers them.

mod common;

use common::{Agent, Reply, wait_for};
use serde_json::{Value, json};
use std::sync::mpsc;
use std::time::Duration;

fn entry(agent: &Agent, key: &str) -> Value {
    let reply = agent.get(&format!("/v1/kv/{key}"));
    assert_eq!(reply.status, 200, "GET {key}: {reply:?}");
    reply.json()[0].clone()
}

fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn session(agent: &Agent, body: &str) -> String {
    let reply = agent.put("/v1/session/create", body.as_bytes());
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json()["ID"].as_str().expect("ID").to_string()
}

/// Runs a GET on another thread so the test can write while it blocks.
fn spawn_get(agent: &Agent, path: &str) -> mpsc::Receiver<Reply> {
    let (tx, rx) = mpsc::channel();
    let url = agent.url(path);
    std::thread::spawn(move || {
        if let Ok(reply) = common::request("GET", &url, None) {
            let _ = tx.send(reply);
        }
    });
    rx
}

fn recv(rx: &mpsc::Receiver<Reply>) -> Reply {
    rx.recv_timeout(Duration::from_secs(30))
        .expect("blocking query answered within 30 s")
}

#[test]
fn get_single_recurse_keys_raw() {
    let agent = Agent::start_dev();
    assert_eq!(agent.put("/v1/kv/web/bar", b"1").json(), json!(true));
    assert_eq!(agent.put("/v1/kv/web/sub/a", b"2").json(), json!(true));
    assert_eq!(agent.put("/v1/kv/web/sub/b", b"").json(), json!(true));
    assert_eq!(agent.put("/v1/kv/webby", b"3").json(), json!(true));

    let one = agent.get("/v1/kv/web/bar");
    assert_eq!(one.status, 200);
    assert_eq!(one.header("content-type"), Some("application/json"));
    let body = one.json();
    assert_eq!(body.as_array().map(Vec::len), Some(1), "always an array");
    let e = &body[0];
    assert_eq!(e["Key"], "web/bar");
    assert_eq!(e["Value"], b64("1"));
    assert_eq!(e["Flags"], 0);
    assert_eq!(e["LockIndex"], 0);
    assert!(e.get("Session").is_none(), "Session only when locked: {e}");
    assert_eq!(one.index(), e["ModifyIndex"].as_u64().expect("index"));
    assert_eq!(
        entry(&agent, "web/sub/b")["Value"],
        Value::Null,
        "empty value is null"
    );

    let all = agent.get("/v1/kv/web?recurse");
    let keys: Vec<String> = all
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["Key"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(keys, ["web/bar", "web/sub/a", "web/sub/b", "webby"]);
    let whole = agent.get("/v1/kv/?recurse");
    assert_eq!(
        whole.json().as_array().map(Vec::len),
        Some(4),
        "empty key + recurse = everything"
    );

    assert_eq!(
        agent.get("/v1/kv/web/?keys").json(),
        json!(["web/bar", "web/sub/a", "web/sub/b"])
    );
    assert_eq!(
        agent.get("/v1/kv/web/?keys&separator=/").json(),
        json!(["web/bar", "web/sub/"])
    );
    assert_eq!(
        agent.get("/v1/kv/web/?keys&seperator=/").json(),
        json!(["web/bar", "web/sub/"])
    );
    assert_eq!(
        agent.get("/v1/kv/?keys&separator=/").json(),
        json!(["web/", "webby"])
    );
    assert_eq!(agent.get("/v1/kv/nothing/?keys").status, 404);

    let raw = agent.get("/v1/kv/web/sub/a?raw");
    assert_eq!((raw.status, raw.body.as_str()), (200, "2"));
    assert_eq!(raw.header("content-type"), Some("text/plain"));
    assert_eq!(raw.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(raw.header("content-security-policy"), Some("sandbox"));
    assert!(raw.index() >= 1);
}

#[test]
fn missing_keys_and_empty_store() {
    let agent = Agent::start_dev();
    let root = agent.get("/v1/kv/?keys");
    assert_eq!(
        (root.status, root.json()),
        (200, json!([])),
        "root ?keys with no keys is []"
    );
    assert!(root.index() >= 1, "X-Consul-Index never 0");
    for path in [
        "/v1/kv/missing",
        "/v1/kv/missing?recurse",
        "/v1/kv/missing?raw",
        "/v1/kv/?recurse",
    ] {
        let reply = agent.get(path);
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.body, "", "{path}: 404 has an empty body");
        assert!(reply.index() >= 1, "{path}");
        assert_eq!(reply.header("x-consul-knownleader"), Some("true"), "{path}");
        assert!(reply.header("x-consul-lastcontact").is_some(), "{path}");
    }
    for (method, path) in [
        ("GET", "/v1/kv/"),
        ("PUT", "/v1/kv/"),
        ("DELETE", "/v1/kv/"),
    ] {
        let reply = agent.http(method, path, None);
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (400, "Missing key name"),
            "{method} {path}"
        );
    }
    assert_eq!(
        agent.get("/v1/kv/?keys").json(),
        json!([]),
        "nothing was written"
    );
}

#[test]
fn put_flags_cas_and_delete() {
    let agent = Agent::start_dev();
    assert_eq!(agent.put("/v1/kv/f?flags=42", b"x").json(), json!(true));
    assert_eq!(entry(&agent, "f")["Flags"], 42);
    assert_eq!(agent.put("/v1/kv/f", b"y").json(), json!(true));
    assert_eq!(
        entry(&agent, "f")["Flags"],
        0,
        "a PUT without flags resets them"
    );
    assert_eq!(
        agent
            .put("/v1/kv/f?flags=18446744073709551615", b"y")
            .json(),
        json!(true)
    );
    assert_eq!(entry(&agent, "f")["Flags"], json!(u64::MAX));

    assert_eq!(
        agent.put("/v1/kv/c?cas=0", b"1").json(),
        json!(true),
        "cas=0 creates"
    );
    assert_eq!(
        agent.put("/v1/kv/c?cas=0", b"2").json(),
        json!(false),
        "cas=0 only creates"
    );
    let index = entry(&agent, "c")["ModifyIndex"].as_u64().expect("index");
    assert_eq!(
        agent
            .put(&format!("/v1/kv/c?cas={}", index + 1000), b"3")
            .json(),
        json!(false)
    );
    assert_eq!(
        agent.put("/v1/kv/nope?cas=5", b"3").json(),
        json!(false),
        "cas on a missing key"
    );
    assert_eq!(agent.get("/v1/kv/nope").status, 404);
    assert_eq!(
        agent.put(&format!("/v1/kv/c?cas={index}"), b"4").json(),
        json!(true)
    );
    let c = entry(&agent, "c");
    assert_eq!(c["Value"], b64("4"));
    assert!(c["ModifyIndex"].as_u64() > Some(index));
    assert_eq!(
        c["CreateIndex"].as_u64(),
        Some(index),
        "CreateIndex kept across updates"
    );

    let now = c["ModifyIndex"].as_u64().expect("index");
    assert_eq!(
        agent.delete(&format!("/v1/kv/c?cas={}", now - 1)).json(),
        json!(false)
    );
    assert_eq!(
        agent.get("/v1/kv/c").status,
        200,
        "stale delete-cas keeps the key"
    );
    assert_eq!(
        agent.delete("/v1/kv/c?cas=0").json(),
        json!(false),
        "cas=0 never deletes"
    );
    assert_eq!(
        agent.delete(&format!("/v1/kv/c?cas={now}")).json(),
        json!(true)
    );
    assert_eq!(agent.get("/v1/kv/c").status, 404);
    assert_eq!(
        agent.delete("/v1/kv/c").json(),
        json!(true),
        "deleting a missing key is true"
    );

    for key in ["t/a", "t/b/c", "t/b/d", "tz"] {
        agent.put(&format!("/v1/kv/{key}"), b"v");
    }
    assert_eq!(agent.delete("/v1/kv/t/?recurse").json(), json!(true));
    assert_eq!(agent.get("/v1/kv/?keys").json(), json!(["f", "tz"]));
    assert_eq!(
        agent.delete("/v1/kv/?recurse").json(),
        json!(true),
        "empty key + recurse"
    );
    assert_eq!(agent.get("/v1/kv/?keys").json(), json!([]));
}

#[test]
fn locks_acquire_release() {
    let agent = Agent::start_dev();
    let s1 = session(&agent, r#"{"Name":"one"}"#);
    let s2 = session(&agent, r#"{"Name":"two"}"#);
    assert_eq!(
        agent
            .put(&format!("/v1/kv/lock?acquire={s1}&flags=7"), b"a")
            .json(),
        json!(true)
    );
    let e = entry(&agent, "lock");
    assert_eq!(
        (e["LockIndex"].as_u64(), e["Session"].as_str()),
        (Some(1), Some(s1.as_str()))
    );
    assert_eq!(e["Flags"], 7);
    assert_eq!(
        agent.put(&format!("/v1/kv/lock?acquire={s1}"), b"b").json(),
        json!(true),
        "re-acquire"
    );
    assert_eq!(
        entry(&agent, "lock")["LockIndex"],
        1,
        "re-acquire keeps the lock index"
    );
    assert_eq!(
        agent.put(&format!("/v1/kv/lock?acquire={s2}"), b"c").json(),
        json!(false)
    );
    assert_eq!(
        entry(&agent, "lock")["Value"],
        b64("b"),
        "failed acquire writes nothing"
    );

    assert_eq!(
        agent.put("/v1/kv/lock", b"plain").json(),
        json!(true),
        "plain PUT ignores the lock"
    );
    let e = entry(&agent, "lock");
    assert_eq!(
        (e["Value"].clone(), e["Session"].as_str()),
        (json!(b64("plain")), Some(s1.as_str()))
    );

    assert_eq!(
        agent.put(&format!("/v1/kv/lock?release={s2}"), b"x").json(),
        json!(false)
    );
    assert_eq!(
        agent
            .put(&format!("/v1/kv/lock?release={s1}"), b"rel")
            .json(),
        json!(true)
    );
    let e = entry(&agent, "lock");
    assert!(e.get("Session").is_none(), "released: {e}");
    assert_eq!(
        (e["LockIndex"].as_u64(), e["Value"].clone()),
        (Some(1), json!(b64("rel")))
    );
    assert_eq!(
        agent.put(&format!("/v1/kv/lock?acquire={s2}"), b"d").json(),
        json!(true)
    );
    assert_eq!(
        entry(&agent, "lock")["LockIndex"],
        2,
        "a fresh acquire bumps the lock index"
    );

    let before = entry(&agent, "lock");
    let bad = agent.put(
        "/v1/kv/lock?acquire=00000000-0000-0000-0000-000000000000",
        b"z",
    );
    assert_eq!(bad.status, 500);
    assert!(bad.body.starts_with("invalid session"), "{bad:?}");
    let bad = agent.put("/v1/kv/other?acquire=nonsense", b"z");
    assert_eq!(bad.status, 500);
    assert!(bad.body.starts_with("invalid session"), "{bad:?}");
    for path in ["/v1/kv/lock?acquire=", "/v1/kv/lock?release="] {
        let reply = agent.put(path, b"z");
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (500, "missing session"),
            "{path}"
        );
    }
    assert_eq!(
        entry(&agent, "lock"),
        before,
        "failed lock calls change nothing"
    );
    assert_eq!(agent.get("/v1/kv/other").status, 404);
}

#[test]
fn bad_parameters_leave_data_untouched() {
    let agent = Agent::start_dev();
    agent.put("/v1/kv/k?flags=3", b"keep");
    let before = entry(&agent, "k");
    let conflicting = agent.put("/v1/kv/k?cas=0&acquire=x", b"new");
    assert_eq!(conflicting.status, 400);
    assert_eq!(conflicting.body, "Conflicting flags: acquire=x&cas=0\n");
    let conflicting = agent.put("/v1/kv/k?release=a&acquire=b&cas=1", b"new");
    assert_eq!(
        conflicting.body,
        "Conflicting flags: acquire=b&cas=1&release=a\n"
    );
    let conflicting = agent.delete("/v1/kv/k?recurse&cas=1");
    assert_eq!(
        (conflicting.status, conflicting.body.as_str()),
        (400, "Conflicting flags: cas=1&recurse=\n")
    );
    for (method, path, text) in [
        (
            "PUT",
            "/v1/kv/k?flags=abc",
            r#"strconv.ParseUint: parsing "abc": invalid syntax"#,
        ),
        (
            "PUT",
            "/v1/kv/k?flags=-1",
            r#"strconv.ParseUint: parsing "-1": invalid syntax"#,
        ),
        (
            "PUT",
            "/v1/kv/k?flags=99999999999999999999",
            r#"strconv.ParseUint: parsing "99999999999999999999": value out of range"#,
        ),
        (
            "PUT",
            "/v1/kv/k?cas=x",
            r#"strconv.ParseUint: parsing "x": invalid syntax"#,
        ),
        (
            "DELETE",
            "/v1/kv/k?cas=x",
            r#"strconv.ParseUint: parsing "x": invalid syntax"#,
        ),
    ] {
        let reply = agent.http(method, path, Some(b"new"));
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (500, text),
            "{method} {path}"
        );
    }
    for (path, text) in [
        ("/v1/kv/k?index=abc", "Invalid index"),
        ("/v1/kv/k?index=-1", "Invalid index"),
        ("/v1/kv/k?wait=abc", "Invalid wait time"),
        ("/v1/kv/k?wait=10", "Invalid wait time"),
        ("/v1/kv/k?wait=bad&index=bad", "Invalid wait time"),
        (
            "/v1/kv/k?stale&consistent",
            "Cannot specify ?stale with ?consistent, conflicting semantics.",
        ),
    ] {
        let reply = agent.get(path);
        assert_eq!((reply.status, reply.body.as_str()), (400, text), "{path}");
        let reply = agent.put(path, b"new");
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (400, text),
            "PUT {path}"
        );
    }
    let other_dc = agent.put("/v1/kv/k?dc=other", b"new");
    assert_eq!(
        (other_dc.status, other_dc.body.as_str()),
        (500, "No path to datacenter")
    );
    let other_dc = agent.delete("/v1/kv/k?dc=other");
    assert_eq!(
        (other_dc.status, other_dc.body.as_str()),
        (500, "No path to datacenter")
    );
    let negative = agent.get("/v1/kv/k?wait=-5s");
    assert_eq!(
        negative.status, 200,
        "Go accepts a negative wait (the default applies)"
    );
    let empty = agent.get("/v1/kv/k?index=&wait=");
    assert_eq!(
        empty.status, 200,
        "empty index/wait are ignored, as Go's parser does"
    );
    assert_eq!(entry(&agent, "k"), before, "no bad request changed the key");
    assert_eq!(agent.get("/v1/kv/?keys").json(), json!(["k"]));
}

#[test]
fn value_size_limit() {
    let agent = Agent::start_dev();
    let max = vec![b'a'; 512 * 1024];
    assert_eq!(
        agent.put("/v1/kv/big", &max).json(),
        json!(true),
        "exactly 512 KiB fits"
    );
    let raw = agent.get("/v1/kv/big?raw");
    assert_eq!(raw.body.len(), max.len());

    let over = vec![b'b'; 512 * 1024 + 1];
    let reply = agent.put("/v1/kv/big", &over);
    assert_eq!(reply.status, 413);
    assert_eq!(
        reply.body,
        "Request body(524289 bytes) too large, max size: 524288 bytes. See https://developer.hashicorp.com/docs/agent/config/config-files#kv_max_value_size."
    );
    let chunked = agent.put_chunked("/v1/kv/big", &vec![b'c'; 600 * 1024]);
    assert_eq!(chunked.status, 413, "{chunked:?}");
    assert!(chunked.body.starts_with("Request body("), "{chunked:?}");
    assert!(
        chunked.body.contains("max size: 524288 bytes"),
        "{chunked:?}"
    );
    let small_chunked = agent.put_chunked("/v1/kv/small", b"chunky");
    assert_eq!(small_chunked.body.trim(), "true");
    assert_eq!(agent.get("/v1/kv/small?raw").body, "chunky");
    assert_eq!(
        agent.get("/v1/kv/big?raw").body.as_bytes(),
        &max[..],
        "oversized writes change nothing"
    );
}

#[test]
fn odd_keys_round_trip() {
    let agent = Agent::start_dev();
    let cases = [
        ("with%20space", "with space"),
        ("caf%C3%A9/%E2%9C%93", "café/✓"),
        ("a%2Fb", "a/b"),
        ("a//b", "a//b"),
        ("q%3Fx%23y", "q?x#y"),
        ("config/app.yml", "config/app.yml"),
        ("pct%25", "pct%"),
    ];
    for (path, key) in cases {
        let put = agent.http_with("PUT", &format!("/v1/kv/{path}"), &[], key.as_bytes());
        assert_eq!((put.status, put.body.trim()), (200, "true"), "PUT {path}");
        let got = agent.http_with("GET", &format!("/v1/kv/{path}"), &[], b"");
        assert_eq!(got.status, 200, "GET {path}");
        assert_eq!(got.json()[0]["Key"], key, "{path}");
        let raw = agent.http_with("GET", &format!("/v1/kv/{path}?raw"), &[], b"");
        assert_eq!(raw.body, key, "{path}");
    }
    let long = "k".repeat(10 * 1024);
    assert_eq!(
        agent.put(&format!("/v1/kv/{long}"), b"long").json(),
        json!(true)
    );
    assert_eq!(agent.get(&format!("/v1/kv/{long}?raw")).body, "long");
    let keys = agent.get("/v1/kv/?keys").json();
    assert_eq!(
        keys.as_array().map(Vec::len),
        Some(cases.len() + 1),
        "{keys}"
    );
    for (path, _) in cases {
        let del = agent.http_with("DELETE", &format!("/v1/kv/{path}"), &[], b"");
        assert_eq!(del.body.trim(), "true", "DELETE {path}");
    }
    assert_eq!(agent.delete(&format!("/v1/kv/{long}")).json(), json!(true));
    assert_eq!(agent.get("/v1/kv/?keys").json(), json!([]));
}

#[test]
fn wrong_methods_and_options() {
    let agent = Agent::start_dev();
    agent.put("/v1/kv/m", b"v");
    for method in ["POST", "PATCH"] {
        let reply = agent.http(method, "/v1/kv/m", Some(b"x"));
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.body, format!("method {method} not allowed"));
        assert_eq!(reply.header("allow"), Some("OPTIONS,GET,PUT,DELETE"));
        assert_eq!(reply.header("x-consul-default-acl-policy"), Some("allow"));
    }
    let options = agent.http("OPTIONS", "/v1/kv/m", None);
    assert_eq!((options.status, options.body.as_str()), (200, ""));
    assert_eq!(options.header("allow"), Some("OPTIONS,GET,PUT,DELETE"));
    assert_eq!(agent.get("/v1/kv/m?raw").body, "v");
}

#[test]
fn blocking_get_wakes_on_change_and_times_out_unchanged() {
    let agent = Agent::start_dev();
    agent.put("/v1/kv/w", b"1");
    let index = agent.get("/v1/kv/w").index();

    let timed_out = agent.get(&format!("/v1/kv/w?index={index}&wait=1s"));
    assert_eq!(
        (timed_out.status, timed_out.index()),
        (200, index),
        "times out with the same index"
    );

    let rx = spawn_get(&agent, &format!("/v1/kv/w?index={index}&wait=30s"));
    agent.put("/v1/kv/w", b"2");
    let woke = recv(&rx);
    assert!(woke.index() > index, "{woke:?}");
    assert_eq!(woke.json()[0]["Value"], b64("2"));

    // Writes elsewhere must not move this key's index; the watcher times out unchanged.
    let index = woke.index();
    let rx = spawn_get(&agent, &format!("/v1/kv/w?index={index}&wait=2s"));
    let unchanged = wait_for("watcher timeout", Duration::from_secs(30), || {
        agent.put("/v1/kv/elsewhere", b"x");
        rx.try_recv().ok()
    });
    assert_eq!(unchanged.index(), index, "{unchanged:?}");

    let rx = spawn_get(&agent, &format!("/v1/kv/w?index={index}&wait=30s"));
    agent.delete("/v1/kv/w");
    let deleted = recv(&rx);
    assert_eq!(deleted.status, 404);
    assert!(
        deleted.index() > index,
        "a delete advances the index (tombstone)"
    );
}

#[test]
fn blocking_recurse_and_keys_wake_on_prefix_writes() {
    let agent = Agent::start_dev();
    agent.put("/v1/kv/p/a", b"1");
    let index = agent.get("/v1/kv/p/?recurse").index();
    let rx = spawn_get(&agent, &format!("/v1/kv/p/?recurse&index={index}&wait=30s"));
    agent.put("/v1/kv/p/new", b"2");
    let woke = recv(&rx);
    assert!(woke.index() > index);
    assert_eq!(woke.json().as_array().map(Vec::len), Some(2));

    let index = woke.index();
    let rx = spawn_get(&agent, &format!("/v1/kv/p/?keys&index={index}&wait=30s"));
    agent.delete("/v1/kv/p/a");
    let woke = recv(&rx);
    assert!(woke.index() > index);
    assert_eq!(woke.json(), json!(["p/new"]));

    // A missing prefix blocks too, and wakes when something appears under it.
    let missing = agent.get("/v1/kv/q/?recurse");
    assert_eq!(missing.status, 404);
    let rx = spawn_get(
        &agent,
        &format!("/v1/kv/q/?recurse&index={}&wait=30s", missing.index()),
    );
    agent.put("/v1/kv/q/x", b"3");
    let woke = recv(&rx);
    assert_eq!(woke.status, 200, "{woke:?}");
}

#[test]
fn consistency_modes_and_datacenter() {
    let agent = Agent::start_dev();
    agent.put("/v1/kv/c", b"1");
    for (query, effective) in [
        ("", "leader"),
        ("?stale", "stale"),
        ("?consistent", "consistent"),
        ("?leader", "leader"),
    ] {
        let reply = agent.get(&format!("/v1/kv/c{query}"));
        assert_eq!(reply.status, 200, "{query}");
        assert_eq!(
            reply.header("x-consul-knownleader"),
            Some("true"),
            "{query}"
        );
        assert!(reply.header("x-consul-lastcontact").is_some(), "{query}");
        assert_eq!(
            reply.header("x-consul-effective-consistency"),
            Some(effective),
            "{query}"
        );
        assert!(reply.index() >= 1);
    }
    assert_eq!(agent.get("/v1/kv/c?dc=dc1").status, 200);
    let other = agent.get("/v1/kv/c?dc=other");
    assert_eq!(
        (other.status, other.body.as_str()),
        (500, "No path to datacenter")
    );
    assert_eq!(agent.put("/v1/kv/c?dc=dc1", b"2").json(), json!(true));
    assert_eq!(agent.get("/v1/kv/c?raw").body, "2");
}
