//! Catalog scale (bench/discovery.sh): `nodes` nodes and `instances` service instances, of
//! which `x_instances` belong to service `X` (one per node, on distinct nodes) and the rest
//! are spread evenly over `other_services` other names; every instance has a passing service
//! check. proconsul gets them through `PUT /v1/catalog/register` (one instance per request);
//! etcd gets the same registration bodies as values under `svc/<service>/<id>`. Then the read:
//! proconsul `GET /v1/health/service/X?passing`, etcd a serializable range on `svc/X/`.

use crate::http::Conn;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use std::net::SocketAddr;

use crate::target::System;

#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub nodes: usize,
    pub x_instances: usize,
    pub other_services: usize,
}

impl Shape {
    /// Service name and node index of instance `k`.
    fn place(&self, k: usize) -> (String, usize) {
        let nodes = self.nodes.max(1);
        if k < self.x_instances {
            ("X".into(), k % nodes)
        } else {
            let other = (k - self.x_instances) % self.other_services.max(1);
            (format!("svc{other:04}"), k % nodes)
        }
    }

    /// The registration body of instance `k`.
    pub fn register_body(&self, k: usize) -> String {
        let (service, node) = self.place(k);
        format!(
            r#"{{"Node":"node{node:05}","Address":"10.{}.{}.{}","Service":{{"ID":"{service}-{k}","Service":"{service}","Port":{}}},"Check":{{"CheckID":"{service}-{k}-chk","Name":"{service}-{k}-chk","Status":"passing","ServiceID":"{service}-{k}"}}}}"#,
            node >> 16,
            (node >> 8) & 255,
            node & 255,
            8000 + k % 1000
        )
    }

    /// The write that stores instance `k` in `system`.
    pub fn request(&self, system: System, k: usize) -> Vec<u8> {
        let body = self.register_body(k);
        match system {
            System::Proconsul => http("PUT", "/v1/catalog/register", &body),
            System::Etcd => {
                let (service, _) = self.place(k);
                let key = format!("svc/{service}/{service}-{k}");
                let put = format!(
                    r#"{{"key":"{}","value":"{}"}}"#,
                    B64.encode(key),
                    B64.encode(body)
                );
                http("POST", "/v3/kv/put", &put)
            }
        }
    }
}

fn http(method: &str, path: &str, body: &str) -> Vec<u8> {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The read of every instance of `X`.
pub fn read_request(system: System) -> Vec<u8> {
    match system {
        System::Proconsul => {
            b"GET /v1/health/service/X?passing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec()
        }
        System::Etcd => {
            let body = format!(
                r#"{{"key":"{}","range_end":"{}","serializable":true}}"#,
                B64.encode("svc/X/"),
                B64.encode("svc/X0")
            );
            http("POST", "/v3/kv/range", &body)
        }
    }
}

/// Sends the read once and checks the answer: `expect` entries, all of service X and (for
/// proconsul) all passing. Returns the body size in bytes.
pub async fn verify_read(system: System, addr: SocketAddr, expect: usize) -> Result<usize, String> {
    let mut conn = Conn::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let resp = conn
        .roundtrip(&read_request(system))
        .await
        .map_err(|e| format!("read: {e}"))?;
    let body = conn.body(&resp);
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| format!("read: status {}, not JSON: {e}", resp.status))?;
    let good = match system {
        System::Proconsul => v.as_array().map_or(0, |entries| {
            entries
                .iter()
                .filter(|e| {
                    e["Service"]["Service"] == "X"
                        && e["Checks"]
                            .as_array()
                            .is_some_and(|c| c.iter().all(|c| c["Status"] == "passing"))
                })
                .count()
        }),
        System::Etcd => v["kvs"].as_array().map_or(0, |kvs| {
            kvs.iter()
                .filter(|kv| {
                    kv["key"]
                        .as_str()
                        .and_then(|k| B64.decode(k).ok())
                        .is_some_and(|k| k.starts_with(b"svc/X/"))
                })
                .count()
        }),
    };
    if good != expect {
        return Err(format!(
            "{}: the read returned {good} good entries, expected {expect}",
            system.name()
        ));
    }
    Ok(body.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPE: Shape = Shape {
        nodes: 10_000,
        x_instances: 1_000,
        other_services: 990,
    };

    #[test]
    fn x_instances_are_on_distinct_nodes() {
        let nodes: std::collections::HashSet<usize> = (0..1000).map(|k| SHAPE.place(k).1).collect();
        assert_eq!(nodes.len(), 1000);
        assert_eq!(SHAPE.place(999).0, "X");
        assert_eq!(SHAPE.place(1000).0, "svc0000");
    }

    #[test]
    fn bodies_are_json() {
        let v: Value = serde_json::from_str(&SHAPE.register_body(12_345)).expect("json");
        assert_eq!(v["Node"], "node02345");
        assert_eq!(v["Address"], "10.0.9.41");
        assert_eq!(v["Check"]["ServiceID"], v["Service"]["ID"]);
    }
}
