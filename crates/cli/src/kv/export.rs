//! `consul kv export` and the JSON document shared with `kv import`.

use base64::Engine as _;
use proconsul_api::KvPair;

use crate::commands::{Command, parse_flags};
use crate::flags::{FlagSet, Matches};
use crate::http::{client, query_options, runtime, with_http_flags};
use crate::kv::optional_key;
use crate::output::{Ui, go_json_string};

pub struct Export;

/// One entry of the export document (`{"key", "flags", "value"}`; value base64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub flags: u64,
    pub value: String,
}

impl Entry {
    pub fn from_pair(pair: &KvPair) -> Entry {
        Entry {
            key: pair.key.clone(),
            flags: pair.flags,
            value: base64::engine::general_purpose::STANDARD.encode(pair.value_bytes()),
        }
    }
}

/// Go's `json.MarshalIndent(entries, "", "\t")`, byte for byte.
pub fn to_json(entries: &[Entry]) -> String {
    if entries.is_empty() {
        return "[]".to_string();
    }
    let items: Vec<String> = entries
        .iter()
        .map(|e| {
            format!(
                "\t{{\n\t\t\"key\": {},\n\t\t\"flags\": {},\n\t\t\"value\": {}\n\t}}",
                go_json_string(&e.key),
                e.flags,
                go_json_string(&e.value)
            )
        })
        .collect();
    format!("[\n{}\n]", items.join(",\n"))
}

fn flag_set() -> FlagSet {
    with_http_flags(FlagSet::new())
}

async fn export(m: &Matches, prefix: &str, ui: &mut Ui<'_>) -> i32 {
    let Some(client) = client(m, ui) else {
        return 1;
    };
    match client.kv().list(prefix, &query_options(m)).await {
        Ok((pairs, _)) => {
            let entries: Vec<Entry> = pairs.iter().map(Entry::from_pair).collect();
            ui.info(&to_json(&entries));
            0
        }
        Err(e) => {
            ui.error(&format!("Error querying Consul agent: {e}"));
            1
        }
    }
}

impl Command for Export {
    fn synopsis(&self) -> &'static str {
        "Exports a tree from the KV store as JSON"
    }

    fn help(&self) -> String {
        flag_set().consul_help(HELP)
    }

    fn run(&self, args: &[String], ui: &mut Ui) -> i32 {
        let set = flag_set();
        let Some(m) = parse_flags(&set, args, ui) else {
            return 1;
        };
        let Some(prefix) = optional_key(&m.args, ui) else {
            return 1;
        };
        let Some(rt) = runtime(ui) else {
            return 1;
        };
        rt.block_on(export(&m, &prefix, ui))
    }
}

const HELP: &str = r#"
Usage: consul kv export [KEY_OR_PREFIX]

  Retrieves key-value pairs for the given prefix from Consul's key-value store,
  and writes a JSON representation to stdout. This can be used with the command
  "consul kv import" to move entire trees between Consul clusters.

      $ consul kv export vault

  For a full list of options and examples, please see the Consul documentation.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_indentation() {
        assert_eq!(to_json(&[]), "[]");
        let entries = vec![
            Entry {
                key: "a".into(),
                flags: 0,
                value: "Yg==".into(),
            },
            Entry {
                key: "b<c".into(),
                flags: 42,
                value: "".into(),
            },
        ];
        let expected = "[\n\t{\n\t\t\"key\": \"a\",\n\t\t\"flags\": 0,\n\t\t\"value\": \"Yg==\"\n\t},\n\t{\n\t\t\"key\": \"b\\u003cc\",\n\t\t\"flags\": 42,\n\t\t\"value\": \"\"\n\t}\n]";
        assert_eq!(to_json(&entries), expected);
    }

    #[test]
    fn from_pair_encodes_value() {
        let pair = KvPair {
            key: "k".into(),
            flags: 7,
            value: Some(b"hi".to_vec()),
            ..KvPair::default()
        };
        assert_eq!(
            Entry::from_pair(&pair),
            Entry {
                key: "k".into(),
                flags: 7,
                value: "aGk=".into()
            }
        );
        let empty = KvPair {
            key: "e".into(),
            ..KvPair::default()
        };
        assert_eq!(Entry::from_pair(&empty).value, "");
    }
}
