//! The two systems under test and the requests each is driven with: proconsul's `/v1/kv`
//! (raw body PUT, default-consistency GET) and etcd's JSON gateway (`/v3/kv/put`,
//! serializable `/v3/kv/range`). Requests are built up front so the hot loop only writes bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

pub const KEY_LEN: usize = 16;
pub const VALUE_LEN: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Proconsul,
    Etcd,
}

impl System {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "proconsul" => Ok(Self::Proconsul),
            "etcd" => Ok(Self::Etcd),
            other => Err(format!("unknown system {other:?} (proconsul|etcd)")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Proconsul => "proconsul",
            Self::Etcd => "etcd",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Put,
    Get,
}

/// The `i`th benchmark key: exactly 16 bytes.
pub fn key(i: usize) -> String {
    let k = format!("bench/k{:09}", i % 1_000_000_000);
    debug_assert_eq!(k.len(), KEY_LEN);
    k
}

/// A 256-byte printable value that varies with `i`.
pub fn value(i: usize) -> Vec<u8> {
    (0..VALUE_LEN)
        .map(|j| b'a' + ((i + j) % 26) as u8)
        .collect()
}

fn http_request(method: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    if method != "GET" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// PUT of `value` at `key`.
pub fn put_request(system: System, key: &str, value: &[u8]) -> Vec<u8> {
    match system {
        System::Proconsul => http_request("PUT", &format!("/v1/kv/{key}"), None, value),
        System::Etcd => {
            let body = format!(
                r#"{{"key":"{}","value":"{}"}}"#,
                B64.encode(key),
                B64.encode(value)
            );
            http_request(
                "POST",
                "/v3/kv/put",
                Some("application/json"),
                body.as_bytes(),
            )
        }
    }
}

/// Read of `key`: proconsul's default consistency, etcd's serializable (local) range.
pub fn get_request(system: System, key: &str) -> Vec<u8> {
    match system {
        System::Proconsul => http_request("GET", &format!("/v1/kv/{key}"), None, b""),
        System::Etcd => {
            let body = format!(r#"{{"key":"{}","serializable":true}}"#, B64.encode(key));
            http_request(
                "POST",
                "/v3/kv/range",
                Some("application/json"),
                body.as_bytes(),
            )
        }
    }
}

/// Requests for `keys` distinct keys, in key order.
pub fn build_requests(system: System, op: Op, keys: usize) -> Vec<Vec<u8>> {
    (0..keys)
        .map(|i| match op {
            Op::Put => put_request(system, &key(i), &value(i)),
            Op::Get => get_request(system, &key(i)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_and_value_sizes() {
        assert_eq!(key(0).len(), KEY_LEN);
        assert_eq!(key(123_456).len(), KEY_LEN);
        assert_eq!(value(7).len(), VALUE_LEN);
    }

    #[test]
    fn etcd_put_is_json_with_base64() {
        let r = String::from_utf8(put_request(System::Etcd, "k", b"v")).expect("utf8");
        assert!(r.starts_with("POST /v3/kv/put HTTP/1.1\r\n"));
        assert!(r.ends_with(r#"{"key":"aw==","value":"dg=="}"#));
    }
}
