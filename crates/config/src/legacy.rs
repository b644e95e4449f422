//! Per-source normalisation after the schema check: singular `service`/`check`
//! join the `services`/`checks` lists, and deprecated keys move to their
//! current place (with a warning, as Consul does).

use serde_json::{Map, Value};

/// (deprecated top-level key, current dotted path)
const MOVED: &[(&str, &str)] = &[
    ("acl_agent_master_token", "acl.tokens.agent_recovery"),
    ("acl_agent_token", "acl.tokens.agent"),
    ("acl_datacenter", "primary_datacenter"),
    ("acl_default_policy", "acl.default_policy"),
    ("acl_down_policy", "acl.down_policy"),
    ("acl_enable_key_list_policy", "acl.enable_key_list_policy"),
    ("acl_master_token", "acl.tokens.initial_management"),
    ("acl_replication_token", "acl.tokens.replication"),
    ("acl_token", "acl.tokens.default"),
    ("acl_ttl", "acl.token_ttl"),
    ("enable_acl_replication", "acl.enable_token_replication"),
    ("ca_file", "tls.defaults.ca_file"),
    ("ca_path", "tls.defaults.ca_path"),
    ("cert_file", "tls.defaults.cert_file"),
    ("key_file", "tls.defaults.key_file"),
    ("tls_min_version", "tls.defaults.tls_min_version"),
    ("tls_cipher_suites", "tls.defaults.tls_cipher_suites"),
    ("verify_incoming", "tls.defaults.verify_incoming"),
    ("verify_incoming_rpc", "tls.internal_rpc.verify_incoming"),
    ("verify_incoming_https", "tls.https.verify_incoming"),
    ("verify_outgoing", "tls.defaults.verify_outgoing"),
    (
        "verify_server_hostname",
        "tls.internal_rpc.verify_server_hostname",
    ),
    ("ui", "ui_config.enabled"),
    ("ui_dir", "ui_config.dir"),
    ("ui_content_path", "ui_config.content_path"),
];

/// (deprecated key inside `acl.tokens`, current key)
const MOVED_TOKENS: &[(&str, &str)] = &[
    ("master", "initial_management"),
    ("agent_master", "agent_recovery"),
];

fn deprecated(old: &str, new: &str) -> String {
    format!("The '{old}' field is deprecated. Use the '{new}' field instead.")
}

/// Sets `path` in `root` unless the source already sets it.
fn set_if_absent(root: &mut Map<String, Value>, path: &str, value: Value) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut cur = root;
    for part in parts {
        let entry = cur
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else { return };
        cur = next;
    }
    cur.entry(last.to_string()).or_insert(value);
}

fn append_list(root: &mut Map<String, Value>, plural: &str, singular: Value) {
    let items = match singular {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => vec![other],
    };
    let entry = root
        .entry(plural.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = entry {
        list.extend(items);
    }
}

/// Normalises one checked source; pushes deprecation warnings.
pub(crate) fn normalize(value: Value, source: &str, warnings: &mut Vec<String>) -> Value {
    let Value::Object(mut root) = value else {
        return value;
    };
    for (singular, plural) in [("service", "services"), ("check", "checks")] {
        if let Some(v) = root.remove(singular) {
            append_list(&mut root, plural, v);
        }
    }
    for (old, new) in MOVED {
        if let Some(v) = root.remove(*old) {
            warnings.push(format!("{source}: {}", deprecated(old, new)));
            set_if_absent(&mut root, new, v);
        }
    }
    let tokens = root
        .get_mut("acl")
        .and_then(|acl| acl.get_mut("tokens"))
        .and_then(Value::as_object_mut);
    if let Some(tokens) = tokens {
        for (old, new) in MOVED_TOKENS {
            if let Some(v) = tokens.remove(*old) {
                warnings.push(format!(
                    "{source}: {}",
                    deprecated(&format!("acl.tokens.{old}"), &format!("acl.tokens.{new}"))
                ));
                tokens.entry(new.to_string()).or_insert(v);
            }
        }
    }
    Value::Object(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn singular_joins_plural_and_legacy_moves() {
        let mut w = Vec::new();
        let v = normalize(
            json!({
                "services": [{"name": "a"}],
                "service": {"name": "b"},
                "check": [{"id": "c1"}, {"id": "c2"}],
                "acl_master_token": "root",
                "ca_file": "/ca.pem",
                "verify_server_hostname": true,
                "acl": {"tokens": {"agent_master": "x"}},
                "ui": true
            }),
            "a.json",
            &mut w,
        );
        assert_eq!(v["services"], json!([{"name": "a"}, {"name": "b"}]));
        assert_eq!(v["checks"], json!([{"id": "c1"}, {"id": "c2"}]));
        assert_eq!(v["acl"]["tokens"]["initial_management"], json!("root"));
        assert_eq!(v["acl"]["tokens"]["agent_recovery"], json!("x"));
        assert_eq!(v["tls"]["defaults"]["ca_file"], json!("/ca.pem"));
        assert_eq!(
            v["tls"]["internal_rpc"]["verify_server_hostname"],
            json!(true)
        );
        assert_eq!(v["ui_config"]["enabled"], json!(true));
        assert!(v.get("acl_master_token").is_none());
        assert_eq!(w.len(), 5);
        assert!(w.iter().any(|m| m
            == "a.json: The 'acl_master_token' field is deprecated. Use the 'acl.tokens.initial_management' field instead."));
    }

    #[test]
    fn current_key_wins_over_legacy_in_same_source() {
        let mut w = Vec::new();
        let v = normalize(
            json!({"ca_file": "old", "tls": {"defaults": {"ca_file": "new"}}}),
            "x",
            &mut w,
        );
        assert_eq!(v["tls"]["defaults"]["ca_file"], json!("new"));
    }
}
