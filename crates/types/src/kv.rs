//! KV entries (`structs.DirEntry` in Consul) and their JSON shape.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One key. `Value` is base64 in JSON, and `null` when empty (Consul stores an empty body as nil).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct KvEntry {
    pub lock_index: u64,
    pub key: String,
    pub flags: u64,
    #[serde(
        serialize_with = "serialize_value",
        deserialize_with = "deserialize_value"
    )]
    pub value: Vec<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    pub create_index: u64,
    pub modify_index: u64,
}

pub fn serialize_value<S: Serializer>(value: &[u8], s: S) -> Result<S::Ok, S::Error> {
    if value.is_empty() {
        s.serialize_none()
    } else {
        s.serialize_str(&BASE64.encode(value))
    }
}

pub fn deserialize_value<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    match text {
        None => Ok(Vec::new()),
        Some(text) => BASE64
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom),
    }
}

/// The line a `consul kv export` file holds per key (lowercase field names, unlike the API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvExportEntry {
    pub key: String,
    pub flags: u64,
    pub value: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_matches_consul() {
        let entry = KvEntry {
            lock_index: 0,
            key: "a".into(),
            flags: 0,
            value: b"hi".to_vec(),
            session: None,
            create_index: 5,
            modify_index: 6,
        };
        let text = serde_json::to_string(&entry).expect("serializes");
        assert_eq!(
            text,
            r#"{"LockIndex":0,"Key":"a","Flags":0,"Value":"aGk=","CreateIndex":5,"ModifyIndex":6}"#
        );
        let empty = KvEntry {
            value: Vec::new(),
            ..entry
        };
        let text = serde_json::to_string(&empty).expect("serializes");
        assert!(text.contains(r#""Value":null"#));
        let back: KvEntry = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, empty);
    }
}
