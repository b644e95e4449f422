//! `consul kv import`.

use base64::Engine as _;
use proconsul_api::PutOptions;
use serde_json::Value;

use crate::commands::{Command, parse_flags};
use crate::flags::{FlagSet, Matches};
use crate::http::{client, runtime, with_http_flags};
use crate::kv::export::Entry;
use crate::kv::load_data_source;
use crate::output::Ui;

pub struct Import;

fn flag_set() -> FlagSet {
    with_http_flags(FlagSet::new().string("prefix", "", "Key prefix for imported data"))
}

/// Decodes an export document the way Go's `encoding/json` would: field names match
/// case-insensitively, unknown fields are ignored, `null` means no entries.
pub fn parse_entries(data: &[u8]) -> Result<Vec<Entry>, String> {
    let doc: Value = serde_json::from_slice(data).map_err(|e| e.to_string())?;
    let items = match doc {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type []*impexp.Entry",
                json_kind(&other)
            ));
        }
    };
    items
        .iter()
        .filter(|v| !v.is_null())
        .map(parse_entry)
        .collect()
}

fn parse_entry(item: &Value) -> Result<Entry, String> {
    let Value::Object(fields) = item else {
        return Err(format!(
            "json: cannot unmarshal {} into Go value of type impexp.Entry",
            json_kind(item)
        ));
    };
    let mut entry = Entry {
        key: String::new(),
        flags: 0,
        value: String::new(),
    };
    for (name, value) in fields {
        let mismatch = |go_type: &str| {
            format!(
                "json: cannot unmarshal {} into Go struct field Entry.{} of type {go_type}",
                json_kind(value),
                name.to_ascii_lowercase()
            )
        };
        match name.to_ascii_lowercase().as_str() {
            "key" if !value.is_null() => {
                entry.key = value
                    .as_str()
                    .ok_or_else(|| mismatch("string"))?
                    .to_string();
            }
            "value" if !value.is_null() => {
                entry.value = value
                    .as_str()
                    .ok_or_else(|| mismatch("string"))?
                    .to_string();
            }
            "flags" if !value.is_null() => {
                entry.flags = value.as_u64().ok_or_else(|| mismatch("uint64"))?
            }
            _ => {}
        }
    }
    Ok(entry)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Go's `path.Clean`.
pub fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return ".".to_string();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|s| *s != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// The key an entry is written to: `path.Join(prefix, key)`, keeping a trailing `/`.
pub fn import_key(prefix: &str, key: &str) -> String {
    let parts: Vec<&str> = [prefix, key]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let mut joined = if parts.is_empty() {
        String::new()
    } else {
        clean_path(&parts.join("/"))
    };
    if key.ends_with('/') {
        joined.push('/');
    }
    joined
}

fn data_arg(args: &[String], ui: &mut Ui) -> Result<Vec<u8>, String> {
    match args {
        [] => Err("Missing DATA argument".to_string()),
        [data] if data.is_empty() => Err("Empty DATA argument".to_string()),
        [data] => load_data_source(data, ui.stdin),
        _ => Err(format!(
            "Too many arguments (expected 1, got {})",
            args.len()
        )),
    }
}

async fn import(m: &Matches, data: &[u8], ui: &mut Ui<'_>) -> i32 {
    let Some(client) = client(m, ui) else {
        return 1;
    };
    let entries = match parse_entries(data) {
        Ok(entries) => entries,
        Err(e) => {
            ui.error(&format!("Cannot unmarshal data: {e}"));
            return 1;
        }
    };
    let prefix = m.string_or("prefix", "");
    for entry in entries {
        let value = match base64::engine::general_purpose::STANDARD.decode(&entry.value) {
            Ok(v) => v,
            Err(e) => {
                ui.error(&format!(
                    "Error base 64 decoding value for key {}: {e}",
                    entry.key
                ));
                return 1;
            }
        };
        let key = import_key(prefix, &entry.key);
        let opts = PutOptions {
            flags: entry.flags,
            ..PutOptions::default()
        };
        if let Err(e) = client.kv().put(&key, &value, &opts).await {
            ui.error(&format!("Error! Failed writing data for key {key}: {e}"));
            return 1;
        }
        ui.info(&format!("Imported: {key}"));
    }
    0
}

impl Command for Import {
    fn synopsis(&self) -> &'static str {
        "Imports a tree stored as JSON to the KV store"
    }

    fn help(&self) -> String {
        flag_set().consul_help(HELP)
    }

    fn run(&self, args: &[String], ui: &mut Ui) -> i32 {
        let set = flag_set();
        let Some(m) = parse_flags(&set, args, ui) else {
            return 1;
        };
        let data = match data_arg(&m.args, ui) {
            Ok(data) => data,
            Err(e) => {
                ui.error(&format!("Error! {e}"));
                return 1;
            }
        };
        let Some(rt) = runtime(ui) else {
            return 1;
        };
        rt.block_on(import(&m, &data, ui))
    }
}

const HELP: &str = r#"
Usage: consul kv import [DATA]

  Imports key-value pairs to the key-value store from the JSON representation
  generated by the "consul kv export" command.

  The data can be read from a file by prefixing the filename with the "@"
  symbol. For example:

      $ consul kv import @filename.json

  Or it can be read from stdin using the "-" symbol:

      $ cat filename.json | consul kv import -

  Alternatively the data may be provided as the final parameter to the command,
  though care must be taken with regards to shell escaping.

  For a full list of options and examples, please see the Consul documentation.
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::export::to_json;

    #[test]
    fn export_import_round_trip() {
        let entries = vec![
            Entry {
                key: "a/b".into(),
                flags: 0,
                value: "Yg==".into(),
            },
            Entry {
                key: "dir/".into(),
                flags: 42,
                value: "".into(),
            },
            Entry {
                key: "ü & <x>".into(),
                flags: u64::MAX,
                value: "AAEC".into(),
            },
        ];
        assert_eq!(parse_entries(to_json(&entries).as_bytes()), Ok(entries));
        assert_eq!(parse_entries(b"[]"), Ok(vec![]));
        assert_eq!(parse_entries(b"null"), Ok(vec![]));
    }

    #[test]
    fn go_decoding_rules() {
        let got = parse_entries(br#"[{"Key":"k","FLAGS":3,"Value":"eA==","extra":1}]"#);
        assert_eq!(
            got,
            Ok(vec![Entry {
                key: "k".into(),
                flags: 3,
                value: "eA==".into()
            }])
        );
        assert_eq!(
            parse_entries(br#"{"key":"k"}"#),
            Err("json: cannot unmarshal object into Go value of type []*impexp.Entry".into())
        );
        assert!(parse_entries(br#"[{"flags":"x"}]"#).is_err());
        assert!(parse_entries(b"not json").is_err());
    }

    #[test]
    fn keys_are_joined_like_go_path_join() {
        assert_eq!(import_key("", "a/b"), "a/b");
        assert_eq!(import_key("", "a//b/"), "a/b/");
        assert_eq!(import_key("pre", "a"), "pre/a");
        assert_eq!(import_key("pre/", "/a/"), "pre/a/");
        assert_eq!(import_key("", ""), "");
        assert_eq!(clean_path("a/../../b"), "../b");
        assert_eq!(clean_path("/../a/./b"), "/a/b");
    }

    #[test]
    fn data_argument_errors() {
        let (mut out, mut err, mut input) = (Vec::new(), Vec::new(), &b""[..]);
        let mut ui = Ui {
            out: &mut out,
            err: &mut err,
            stdin: &mut input,
        };
        assert_eq!(data_arg(&[], &mut ui), Err("Missing DATA argument".into()));
        assert_eq!(
            data_arg(&[String::new()], &mut ui),
            Err("Empty DATA argument".into())
        );
        let two = vec!["a".to_string(), "b".to_string()];
        assert_eq!(
            data_arg(&two, &mut ui),
            Err("Too many arguments (expected 1, got 2)".into())
        );
    }
}
