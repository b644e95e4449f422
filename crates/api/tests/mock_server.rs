//! Wire-level checks of the client against a one-shot mock HTTP server: request line, headers,
//! body, and how statuses and index headers come back.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use proconsul_api::{Client, Config, DeleteOptions, Error, HttpAuth, PutOptions, QueryOptions};

/// What the server saw.
struct Seen {
    request_line: String,
    headers: Vec<String>,
    body: Vec<u8>,
}

/// Serves one request with `status`, extra headers and `body`; returns the address and a
/// receiver for what the client sent.
fn serve_once(status: &str, headers: &str, body: &str) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let (tx, rx) = mpsc::channel();
    let response = format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut request_line = String::new();
        reader.read_line(&mut request_line).expect("request line");
        let mut headers = Vec::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("header");
            let line = line.trim_end().to_string();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            headers.push(line);
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("body");
        let mut stream = stream;
        stream.write_all(response.as_bytes()).expect("respond");
        let _ = tx.send(Seen {
            request_line: request_line.trim_end().to_string(),
            headers,
            body,
        });
    });
    (addr, rx)
}

fn client(addr: &str, token: Option<&str>) -> Client {
    let config = Config {
        address: format!("http://{addr}"),
        token: token.map(str::to_string),
        http_auth: Some(HttpAuth::parse("user:pass")),
        ..Config::default()
    };
    Client::new(&config).expect("client")
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn has_header(seen: &Seen, name: &str, value: &str) -> bool {
    seen.headers.iter().any(|h| {
        h.split_once(':')
            .is_some_and(|(n, v)| n.eq_ignore_ascii_case(name) && v.trim() == value)
    })
}

#[test]
fn get_sends_token_auth_and_encoded_key() {
    let body = r#"[{"LockIndex":0,"Key":"a b/ü?","Flags":3,"Value":"eA==","CreateIndex":4,"ModifyIndex":9}]"#;
    let (addr, rx) = serve_once(
        "200 OK",
        "X-Consul-Index: 9\r\nX-Consul-KnownLeader: true\r\nX-Consul-LastContact: 0\r\n",
        body,
    );
    let c = client(&addr, Some("secret"));
    let q = QueryOptions {
        stale: true,
        ..QueryOptions::default()
    };
    let (pair, meta) = rt().block_on(c.kv().get("a b/ü?", &q)).expect("get");
    let pair = pair.expect("pair");
    assert_eq!(pair.value_bytes(), b"x");
    assert_eq!(pair.flags, 3);
    assert_eq!((meta.last_index, meta.known_leader), (9, true));
    let seen = rx.recv().expect("seen");
    assert_eq!(
        seen.request_line,
        "GET /v1/kv/a%20b/%C3%BC%3F?stale HTTP/1.1"
    );
    assert!(has_header(&seen, "X-Consul-Token", "secret"));
    assert!(has_header(&seen, "Authorization", "Basic dXNlcjpwYXNz"));
}

#[test]
fn missing_key_is_none_with_index() {
    let (addr, _rx) = serve_once("404 Not Found", "X-Consul-Index: 12\r\n", "");
    let (pair, meta) = rt()
        .block_on(
            client(&addr, None)
                .kv()
                .get("nope", &QueryOptions::default()),
        )
        .expect("get");
    assert!(pair.is_none());
    assert_eq!(meta.last_index, 12);
}

#[test]
fn put_sends_body_and_params() {
    let (addr, rx) = serve_once("200 OK", "", "false");
    let opts = PutOptions {
        flags: 42,
        cas: Some(7),
        ..PutOptions::default()
    };
    let ok = rt()
        .block_on(client(&addr, None).kv().put("k", b"\x00data", &opts))
        .expect("put");
    assert!(!ok);
    let seen = rx.recv().expect("seen");
    assert_eq!(seen.request_line, "PUT /v1/kv/k?flags=42&cas=7 HTTP/1.1");
    assert_eq!(seen.body, b"\x00data");
    assert!(
        !seen
            .headers
            .iter()
            .any(|h| h.to_ascii_lowercase().starts_with("x-consul-token"))
    );
}

#[test]
fn server_errors_keep_the_body() {
    let (addr, _rx) = serve_once("500 Internal Server Error", "", "invalid session \"x\"\n");
    let opts = PutOptions {
        acquire: Some("x".into()),
        ..PutOptions::default()
    };
    let err = rt()
        .block_on(client(&addr, None).kv().put("k", b"", &opts))
        .expect_err("500");
    assert!(matches!(err, Error::Api { status: 500, .. }));
    assert_eq!(
        err.to_string(),
        "Unexpected response code: 500 (invalid session \"x\")"
    );
}

#[test]
fn delete_recurse_and_keys() {
    let (addr, rx) = serve_once("200 OK", "", "true");
    let opts = DeleteOptions {
        recurse: true,
        ..DeleteOptions::default()
    };
    assert!(
        rt().block_on(client(&addr, None).kv().delete("web/", &opts))
            .expect("delete")
    );
    assert_eq!(
        rx.recv().expect("seen").request_line,
        "DELETE /v1/kv/web/?recurse HTTP/1.1"
    );

    let (addr, rx) = serve_once("200 OK", "", r#"["web/a","web/sub/"]"#);
    let (keys, _) = rt()
        .block_on(
            client(&addr, None)
                .kv()
                .keys("web/", "/", &QueryOptions::default()),
        )
        .expect("keys");
    assert_eq!(keys, vec!["web/a".to_string(), "web/sub/".to_string()]);
    assert_eq!(
        rx.recv().expect("seen").request_line,
        "GET /v1/kv/web/?keys&separator=%2F HTTP/1.1"
    );
}

#[test]
fn status_leader_and_agent_self() {
    let (addr, _rx) = serve_once("200 OK", "", "\"127.0.0.1:8300\"");
    assert_eq!(
        rt().block_on(client(&addr, None).status_leader())
            .expect("leader"),
        "127.0.0.1:8300"
    );
    let (addr, _rx) = serve_once("200 OK", "", r#"{"Config":{"Datacenter":"dc1"}}"#);
    let v = rt()
        .block_on(client(&addr, None).agent_self())
        .expect("self");
    assert_eq!(v["Config"]["Datacenter"], "dc1");
}
