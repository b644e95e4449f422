//! Conventions every endpoint shares: JSON formatting (`?pretty`, `-dev`), tokens, common
//! headers, unknown paths, methods, status endpoints, and shutdown (`leave`, SIGTERM).

mod common;

use common::{Agent, wait_for};
use serde_json::json;
use std::time::Duration;

#[test]
fn pretty_printing() {
    let dev = Agent::start_dev();
    dev.put("/v1/kv/p", b"v");
    let pretty = dev.get("/v1/kv/p");
    assert!(
        pretty.body.starts_with("[\n    {\n        \""),
        "-dev pretty-prints: {:?}",
        pretty.body
    );
    assert!(pretty.body.ends_with("]\n"));

    let dir = tempfile::tempdir().expect("tempdir");
    let server = Agent::dev().durable(dir.path()).start();
    assert_eq!(
        server.put("/v1/kv/p", b"v").body,
        "true",
        "compact outside -dev"
    );
    let compact = server.get("/v1/kv/p");
    assert!(
        compact.body.starts_with("[{\"LockIndex\""),
        "{:?}",
        compact.body
    );
    assert!(!compact.body.ends_with('\n'));
    for query in ["?pretty", "?pretty=", "?pretty=false"] {
        let reply = server.get(&format!("/v1/kv/p{query}"));
        assert!(
            reply
                .body
                .starts_with("[\n    {\n        \"LockIndex\": 0,\n"),
            "{query}: {:?}",
            reply.body
        );
        assert!(reply.body.ends_with("}\n]\n"), "{query}");
    }
    assert_eq!(server.put("/v1/kv/p?pretty", b"v").body, "true\n");
    assert_eq!(
        server
            .get("/v1/status/peers?pretty")
            .body
            .matches("\n    \"")
            .count(),
        1
    );
}

#[test]
fn tokens_are_accepted_from_every_source() {
    let agent = Agent::start_dev();
    let cases: [(&str, &[(&str, &str)]); 5] = [
        ("/v1/kv/t?token=secret", &[]),
        ("/v1/kv/t", &[("X-Consul-Token", "secret")]),
        ("/v1/kv/t", &[("Authorization", "Bearer secret")]),
        ("/v1/kv/t", &[("Authorization", "bearer secret")]),
        ("/v1/kv/t", &[("Authorization", "Basic dXNlcjpwYXNz")]),
    ];
    for (i, (path, headers)) in cases.iter().enumerate() {
        let put = agent.http_with("PUT", path, headers, format!("{i}").as_bytes());
        assert_eq!(
            (put.status, put.body.trim()),
            (200, "true"),
            "{path} {headers:?}"
        );
        let get = agent.http_with("GET", path, headers, b"");
        assert_eq!(get.status, 200, "{path} {headers:?}");
    }
    assert_eq!(agent.get("/v1/kv/t?raw").body, "4");
}

#[test]
fn default_acl_policy_header_on_every_answer() {
    let agent = Agent::start_dev();
    agent.put("/v1/kv/h", b"v");
    let answers = [
        agent.get("/v1/kv/h"),
        agent.get("/v1/kv/missing"),
        agent.get("/v1/kv/"),
        agent.http("POST", "/v1/kv/h", Some(b"")),
        agent.http("OPTIONS", "/v1/kv/h", None),
        agent.get("/v1/kv/h?dc=nowhere"),
        agent.put("/v1/txn", b"garbage"),
        agent.get("/v1/status/leader"),
        agent.put("/v1/session/renew/nope", b""),
    ];
    for reply in answers {
        assert_eq!(
            reply.header("x-consul-default-acl-policy"),
            Some("allow"),
            "{reply:?}"
        );
    }
}

#[test]
fn unknown_paths_and_errors_are_plain_text() {
    let agent = Agent::start_dev();
    let api = agent.get("/v1/nope");
    assert_eq!(
        (api.status, api.body.as_str()),
        (
            404,
            "Invalid URL path: not a recognized HTTP API endpoint\n"
        )
    );
    let deep = agent.get("/v1/kv-not/x");
    assert_eq!(deep.status, 404);
    let other = agent.get("/nope");
    assert_eq!(other.status, 404);
    assert_eq!(
        other.body,
        "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'\n"
    );
    let nested = agent.get("/ui/v1/x");
    assert_eq!(
        nested.body, "Invalid URL path: not a recognized HTTP API endpoint\n",
        "Consul looks for /v1/ anywhere"
    );
    let root = agent.get("/");
    assert_eq!(root.status, 200);
    assert!(root.body.starts_with("Consul Agent: UI disabled."));
    let error = agent.get("/v1/kv/x?index=bad");
    assert_eq!(
        error.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    for (method, path, allow) in [
        ("GET", "/v1/agent/leave", "OPTIONS,PUT"),
        ("PUT", "/v1/status/leader", "OPTIONS,GET"),
        ("DELETE", "/v1/session/list", "OPTIONS,GET"),
        ("POST", "/v1/txn", "OPTIONS,PUT"),
    ] {
        let reply = agent.http(method, path, None);
        assert_eq!(reply.status, 405, "{method} {path}");
        assert_eq!(reply.header("allow"), Some(allow), "{method} {path}");
        assert_eq!(reply.body, format!("method {method} not allowed"));
    }
    // HEAD is in no route's method list (a HEAD answer carries no body).
    let head = agent.http("HEAD", "/v1/status/leader", None);
    assert_eq!(head.status, 405);
    assert_eq!(head.header("allow"), Some("OPTIONS,GET"));
}

#[test]
fn status_and_identity_endpoints() {
    let agent = Agent::start_dev();
    let leader = format!("127.0.0.1:{}", agent.server_port);
    assert_eq!(agent.get("/v1/status/leader").json(), json!(leader));
    assert_eq!(agent.get("/v1/status/peers").json(), json!([leader]));
    assert_eq!(agent.get("/v1/status/leader?dc=dc1").status, 200);
    let other = agent.get("/v1/status/peers?dc=dc2");
    assert_eq!(
        (other.status, other.body.as_str()),
        (500, "No path to datacenter")
    );
    assert_eq!(agent.get("/v1/catalog/datacenters").json(), json!(["dc1"]));
    let me = agent.get("/v1/agent/self").json();
    assert_eq!(me["Config"]["NodeName"], "test-node");
    let members = agent.get("/v1/agent/members").json();
    assert_eq!(members[0]["Name"], "test-node");
}

#[test]
fn leave_stops_the_agent() {
    let mut agent = Agent::start_dev();
    let reply = agent.put("/v1/agent/leave", b"");
    assert_eq!((reply.status, reply.body.as_str()), (200, ""));
    let status = wait_for("agent exit after leave", Duration::from_secs(15), || {
        agent.exited()
    });
    assert!(status.success(), "{status:?}");
}

#[test]
fn sigterm_exits_promptly_with_a_blocking_query_in_flight() {
    let mut agent = Agent::start_dev();
    agent.put("/v1/kv/b", b"v");
    let index = agent.get("/v1/kv/b").index();
    let url = agent.url(&format!("/v1/kv/b?index={index}&wait=5m"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(common::request("GET", &url, None).is_ok());
    });
    // The blocking query is in flight once a second query sees the same index unchanged;
    // the signal is sent either way, and the process must exit within the harness deadline.
    let _ = agent.get(&format!("/v1/kv/b?index={index}&wait=200ms"));
    let status = agent.terminate();
    assert!(status.success(), "{status:?}");
    let _ = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("blocked client was answered or cut off");
}

#[test]
fn kv_without_trailing_slash_redirects_like_gos_mux() {
    let agent = Agent::start_dev();
    for method in ["GET", "PUT", "DELETE"] {
        let request = format!(
            "{method} /v1/kv?recurse HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let reply = common::raw_request(&agent.http_addr(), request.into_bytes());
        assert_eq!(reply.status, 301, "{method}: {reply:?}");
        assert_eq!(
            reply.header("location"),
            Some("/v1/kv/?recurse"),
            "{method}"
        );
    }
}
