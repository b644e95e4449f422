//! Merging config sources: later sources override scalars, lists concatenate,
//! objects merge key by key.

use serde_json::Value;

/// Merges `later` into `acc`.
pub(crate) fn merge_into(acc: &mut Value, later: Value) {
    match (acc, later) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) => merge_into(existing, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => a.extend(b),
        (slot, later) => *slot = later,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_override_lists_concat_objects_merge() {
        let mut acc = json!({
            "datacenter": "dc1",
            "retry_join": ["a"],
            "ports": {"http": 1, "dns": 2},
            "node_meta": {"a": "1"}
        });
        merge_into(
            &mut acc,
            json!({
                "datacenter": "dc2",
                "retry_join": ["b", "c"],
                "ports": {"http": 3},
                "node_meta": {"b": "2"},
                "server": true
            }),
        );
        assert_eq!(
            acc,
            json!({
                "datacenter": "dc2",
                "retry_join": ["a", "b", "c"],
                "ports": {"http": 3, "dns": 2},
                "node_meta": {"a": "1", "b": "2"},
                "server": true
            })
        );
    }

    #[test]
    fn type_change_replaces() {
        let mut acc = json!({"a": {"b": 1}});
        merge_into(&mut acc, json!({"a": "x"}));
        assert_eq!(acc, json!({"a": "x"}));
    }
}
