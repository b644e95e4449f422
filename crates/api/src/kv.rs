//! The KV store: `/v1/kv/:key`.
//!
//! [`KvPair`] is defined here (not in `proconsul-types`) until the shared wire types land;
//! it is the only KV wire struct the client needs.

use base64::Engine as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::client::{QueryMeta, QueryOptions, Request};
use crate::{Client, Result};

/// One KV entry as returned by `GET /v1/kv/:key`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KvPair {
    pub lock_index: u64,
    pub key: String,
    pub flags: u64,
    /// Raw bytes; `null` on the wire when the key holds no value.
    #[serde(serialize_with = "ser_value", deserialize_with = "de_value", default)]
    pub value: Option<Vec<u8>>,
    /// Holding session, present only while the key is locked.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub session: Option<String>,
    pub create_index: u64,
    pub modify_index: u64,
}

impl KvPair {
    /// The value bytes, empty when `null`.
    pub fn value_bytes(&self) -> &[u8] {
        self.value.as_deref().unwrap_or(&[])
    }
}

fn ser_value<S: Serializer>(value: &Option<Vec<u8>>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match value {
        Some(bytes) => s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes)),
        None => s.serialize_none(),
    }
}

fn de_value<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Vec<u8>>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    text.map(|t| {
        base64::engine::general_purpose::STANDARD
            .decode(t)
            .map_err(serde::de::Error::custom)
    })
    .transpose()
}

/// Write modes of `PUT /v1/kv/:key`; at most one of `cas`, `acquire`, `release` makes sense.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutOptions {
    /// Opaque client flags (a PUT always resets them, so 0 clears).
    pub flags: u64,
    /// Check-and-set: `Some(0)` creates only if absent, `Some(n)` writes only if ModifyIndex == n.
    pub cas: Option<u64>,
    /// Session acquiring the lock.
    pub acquire: Option<String>,
    /// Session releasing the lock.
    pub release: Option<String>,
    pub datacenter: Option<String>,
}

/// Modes of `DELETE /v1/kv/:key`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteOptions {
    /// Delete every key under the prefix.
    pub recurse: bool,
    /// Delete only if ModifyIndex matches.
    pub cas: Option<u64>,
    pub datacenter: Option<String>,
}

/// Characters kept as-is in a key path: RFC 3986 unreserved plus the `/` separator.
pub(crate) const KEY_PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// `/v1/kv/<key>` with every byte outside `[A-Za-z0-9-._~/]` percent-encoded
/// (spaces, `%`, `?`, `#`, non-ASCII as UTF-8). A leading `/` is dropped, as Go's client does.
pub fn key_path(key: &str) -> String {
    let key = key.strip_prefix('/').unwrap_or(key);
    format!("/v1/kv/{}", utf8_percent_encode(key, KEY_PATH))
}

/// KV endpoints of a [`Client`].
#[derive(Debug, Clone, Copy)]
pub struct Kv<'a> {
    client: &'a Client,
}

impl Client {
    /// The KV store endpoints.
    pub fn kv(&self) -> Kv<'_> {
        Kv { client: self }
    }
}

impl Kv<'_> {
    /// One key; `None` when it does not exist (404).
    pub async fn get(&self, key: &str, q: &QueryOptions) -> Result<(Option<KvPair>, QueryMeta)> {
        let resp = self
            .client
            .send(Request::new(Method::GET, key_path(key)).query(q))
            .await?;
        if resp.status == 404 {
            return Ok((None, resp.meta));
        }
        let resp = resp.require_ok()?;
        let mut pairs: Vec<KvPair> = resp.json()?;
        let first = if pairs.is_empty() {
            None
        } else {
            Some(pairs.swap_remove(0))
        };
        Ok((first, resp.meta))
    }

    /// Every entry under `prefix` (`""` = whole store); empty when nothing matches.
    pub async fn list(&self, prefix: &str, q: &QueryOptions) -> Result<(Vec<KvPair>, QueryMeta)> {
        let req = Request::new(Method::GET, key_path(prefix))
            .flag("recurse", true)
            .query(q);
        let resp = self.client.send(req).await?;
        if resp.status == 404 {
            return Ok((Vec::new(), resp.meta));
        }
        let resp = resp.require_ok()?;
        Ok((resp.json()?, resp.meta))
    }

    /// Key names under `prefix`, folded at the first `separator` after it (empty = no folding).
    pub async fn keys(
        &self,
        prefix: &str,
        separator: &str,
        q: &QueryOptions,
    ) -> Result<(Vec<String>, QueryMeta)> {
        let mut req = Request::new(Method::GET, key_path(prefix)).flag("keys", true);
        if !separator.is_empty() {
            req = req.param("separator", separator);
        }
        let resp = self.client.send(req.query(q)).await?;
        if resp.status == 404 {
            return Ok((Vec::new(), resp.meta));
        }
        let resp = resp.require_ok()?;
        Ok((resp.json()?, resp.meta))
    }

    /// Writes `value`; returns the agent's verdict (always `true` for a plain write).
    pub async fn put(&self, key: &str, value: &[u8], opts: &PutOptions) -> Result<bool> {
        let mut req = Request::new(Method::PUT, key_path(key));
        if opts.flags != 0 {
            req = req.param("flags", opts.flags.to_string());
        }
        if let Some(cas) = opts.cas {
            req = req.param("cas", cas.to_string());
        }
        if let Some(session) = &opts.acquire {
            req = req.param("acquire", session.clone());
        }
        if let Some(session) = &opts.release {
            req = req.param("release", session.clone());
        }
        if let Some(dc) = &opts.datacenter {
            req = req.param("dc", dc.clone());
        }
        req.body = Some(value.to_vec());
        let resp = self.client.send(req).await?.require_ok()?;
        Ok(parse_bool_body(&resp.body))
    }

    /// Deletes a key or (with `recurse`) a prefix; returns the agent's verdict.
    pub async fn delete(&self, key: &str, opts: &DeleteOptions) -> Result<bool> {
        let mut req = Request::new(Method::DELETE, key_path(key)).flag("recurse", opts.recurse);
        if let Some(cas) = opts.cas {
            req = req.param("cas", cas.to_string());
        }
        if let Some(dc) = &opts.datacenter {
            req = req.param("dc", dc.clone());
        }
        let resp = self.client.send(req).await?.require_ok()?;
        Ok(parse_bool_body(&resp.body))
    }
}

/// Go's client treats any body containing `true` as success.
fn parse_bool_body(body: &[u8]) -> bool {
    String::from_utf8_lossy(body).contains("true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_are_encoded_per_segment() {
        assert_eq!(key_path("a/b/c"), "/v1/kv/a/b/c");
        assert_eq!(key_path("/lead"), "/v1/kv/lead");
        assert_eq!(
            key_path("sp ace/100%/q?/h#"),
            "/v1/kv/sp%20ace/100%25/q%3F/h%23"
        );
        assert_eq!(key_path("ünï/ü"), "/v1/kv/%C3%BCn%C3%AF/%C3%BC");
        assert_eq!(key_path("a+b&c=d"), "/v1/kv/a%2Bb%26c%3Dd");
        assert_eq!(key_path("dir/"), "/v1/kv/dir/");
        assert_eq!(key_path(""), "/v1/kv/");
        assert_eq!(key_path("x.yml~-_"), "/v1/kv/x.yml~-_");
    }

    #[test]
    fn kv_pair_wire_shape() {
        let json = r#"[{"LockIndex":1,"Key":"k","Flags":42,"Value":"aGk=","Session":"s",
            "CreateIndex":3,"ModifyIndex":4},
            {"LockIndex":0,"Key":"e","Flags":0,"Value":null,"CreateIndex":5,"ModifyIndex":5}]"#;
        let pairs: Vec<KvPair> = match serde_json::from_str(json) {
            Ok(p) => p,
            Err(e) => panic!("decode: {e}"),
        };
        assert_eq!(pairs[0].value_bytes(), b"hi");
        assert_eq!(pairs[0].session.as_deref(), Some("s"));
        assert_eq!(pairs[1].value, None);
        assert_eq!(pairs[1].value_bytes(), b"");
        let back = serde_json::to_value(&pairs[1]).unwrap_or_default();
        assert_eq!(back["Value"], serde_json::Value::Null);
        assert!(back.get("Session").is_none());
        assert_eq!(
            serde_json::to_value(&pairs[0]).unwrap_or_default()["Value"],
            "aGk="
        );
    }

    #[test]
    fn bool_bodies() {
        assert!(parse_bool_body(b"true"));
        assert!(parse_bool_body(b"true\n"));
        assert!(!parse_bool_body(b"false"));
    }
}
