//! HCL → JSON mapping with HCL1-like rules, so HCL and JSON config files share
//! one decoding path.
//!
//! * an attribute `k = v` becomes key `k`;
//! * a block `name { .. }` becomes an object at key `name`;
//! * a labelled block `name "label" { .. }` becomes `{name: {label: {..}}}`;
//! * a block repeated (two `service { }`) becomes an array of objects;
//! * blocks with a plural list name (`services`, `checks`, `watches`, ...)
//!   always become arrays.

use hcl::eval::{Context, Evaluate};
use hcl::{Body, Structure};
use serde_json::{Map, Value};

/// Block names whose values are always lists, even when written once.
const ALWAYS_LIST: &[&str] = &[
    "services",
    "checks",
    "watches",
    "upstreams",
    "segments",
    "bootstrap",
    "paths",
    "config_entries_bootstrap",
];

/// Parses HCL text into a JSON object.
pub fn hcl_to_json(text: &str) -> Result<Value, String> {
    let body = match hcl::parse(text) {
        Ok(body) => body,
        // HCL1 allows quoted attribute names in blocks (`node_meta { "k" = "v" }`);
        // HCL2 does not. Retry with such names unquoted.
        Err(e) => match unquote_keys(text) {
            Some(fixed) => hcl::parse(&fixed).map_err(|_| e.to_string())?,
            None => return Err(e.to_string()),
        },
    };
    body_to_json(body).map(Value::Object)
}

/// Rewrites lines `"name" = value` to `name = value` when `name` is a valid
/// HCL2 identifier; `None` when nothing changed.
fn unquote_keys(text: &str) -> Option<String> {
    let mut changed = false;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let rewritten = trimmed.strip_prefix('"').and_then(|rest| {
            let (key, after) = rest.split_once('"')?;
            let ident = key
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            (ident && after.trim_start().starts_with('=')).then(|| format!("{indent}{key}{after}"))
        });
        match rewritten {
            Some(r) => {
                changed = true;
                out.push_str(&r);
            }
            None => out.push_str(line),
        }
    }
    changed.then_some(out)
}

fn body_to_json(body: Body) -> Result<Map<String, Value>, String> {
    let ctx = Context::new();
    let mut out = Map::new();
    for structure in body.into_inner() {
        match structure {
            Structure::Attribute(attr) => {
                let value = attr.expr.evaluate(&ctx).map_err(|e| e.to_string())?;
                out.insert(attr.key.into_inner(), hcl_value_to_json(value));
            }
            Structure::Block(block) => {
                let mut value = Value::Object(body_to_json(block.body)?);
                for label in block.labels.into_iter().rev() {
                    let mut m = Map::new();
                    m.insert(label.into_inner(), value);
                    value = Value::Object(m);
                }
                insert_block(&mut out, block.identifier.into_inner(), value);
            }
        }
    }
    Ok(out)
}

fn insert_block(out: &mut Map<String, Value>, name: String, value: Value) {
    let always_list = ALWAYS_LIST.contains(&name.as_str());
    match out.get_mut(&name) {
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = std::mem::take(existing);
            *existing = Value::Array(vec![first, value]);
        }
        None => {
            let v = if always_list {
                Value::Array(vec![value])
            } else {
                value
            };
            out.insert(name, v);
        }
    }
}

fn hcl_value_to_json(value: hcl::Value) -> Value {
    match value {
        hcl::Value::Null => Value::Null,
        hcl::Value::Bool(b) => Value::Bool(b),
        hcl::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        hcl::Value::String(s) => Value::String(s),
        hcl::Value::Array(items) => {
            Value::Array(items.into_iter().map(hcl_value_to_json).collect())
        }
        hcl::Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, hcl_value_to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn conv(s: &str) -> Value {
        match hcl_to_json(s) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn attributes_and_blocks() {
        let v = conv(
            r#"
datacenter = "dc1"
server = true
bootstrap_expect = 3
ratio = 1.5
retry_join = ["a", "b"]
ports {
  http = 8501
}
limits = { http_max_conns_per_client = 10 }
"#,
        );
        assert_eq!(
            v,
            json!({
                "datacenter": "dc1", "server": true, "bootstrap_expect": 3, "ratio": 1.5,
                "retry_join": ["a", "b"], "ports": {"http": 8501},
                "limits": {"http_max_conns_per_client": 10}
            })
        );
    }

    #[test]
    fn repeated_and_labelled_blocks() {
        let v = conv(
            r#"
service {
  name = "web"
  port = 80
  check {
    http = "http://localhost/health"
    interval = "10s"
  }
}
service {
  name = "db"
}
checks {
  id = "c1"
}
acl "tokens" "x" {
  a = 1
}
"#,
        );
        assert_eq!(
            v,
            json!({
                "service": [
                    {"name": "web", "port": 80, "check": {"http": "http://localhost/health", "interval": "10s"}},
                    {"name": "db"}
                ],
                "checks": [{"id": "c1"}],
                "acl": {"tokens": {"x": {"a": 1}}}
            })
        );
    }

    #[test]
    fn heredoc_and_objects_in_lists() {
        let v = conv(
            "services = [\n  { name = \"a\" },\n  { name = \"b\", tags = [\"x\"] }\n]\nscript = <<EOF\necho hi\nEOF\n",
        );
        assert_eq!(
            v["services"],
            json!([{"name": "a"}, {"name": "b", "tags": ["x"]}])
        );
        assert_eq!(v["script"], json!("echo hi\n"));
    }

    #[test]
    fn hcl1_quoted_keys_in_blocks() {
        let v = conv("node_meta {\n  \"instance-type\" = \"t2\"\n  \"rack\" = \"r1\"\n}\n");
        assert_eq!(
            v,
            json!({"node_meta": {"instance-type": "t2", "rack": "r1"}})
        );
        assert!(hcl_to_json("node_meta {\n  \"a.b\" = \"x\"\n}\n").is_err());
    }

    #[test]
    fn syntax_error_is_reported() {
        assert!(hcl_to_json("ports {").is_err());
        assert!(hcl_to_json("a = ").is_err());
    }
}
