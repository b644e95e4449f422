//! `consul kv get`.

use base64::Engine as _;
use proconsul_api::KvPair;

use crate::commands::{Command, parse_flags};
use crate::flags::{FlagSet, Matches};
use crate::http::{client, query_options, runtime, with_http_flags};
use crate::kv::optional_key;
use crate::output::{Ui, tabwrite};

pub struct Get;

fn flag_set() -> FlagSet {
    with_http_flags(
        FlagSet::new()
            .bool(
                "base64",
                "Base64 encode the value. The default value is false.",
            )
            .bool(
                "detailed",
                "Provide additional metadata about the key in addition to the value such as the \
                 ModifyIndex and any flags that may have been set on the key. The default value \
                 is false.",
            )
            .bool(
                "keys",
                "List keys which start with the given prefix, but not their values. This is \
                 especially useful if you only need the key names themselves. This option is \
                 commonly combined with the -separator option. The default value is false.",
            )
            .bool(
                "recurse",
                "Recursively look at all keys prefixed with the given path. The default value \
                 is false.",
            )
            .string(
                "separator",
                "/",
                "String to use as a separator between keys. The default value is \"/\", but \
                 this option is only taken into account when paired with the -keys flag.",
            ),
    )
}

/// The `-detailed` block: a tabwriter table (padding 6), `Value` last and unpadded.
pub fn pretty_kv_pair(pair: &KvPair, base64: bool, keys_only: bool) -> Vec<u8> {
    let mut text = Vec::new();
    text.extend_from_slice(format!("CreateIndex\t{}\n", pair.create_index).as_bytes());
    text.extend_from_slice(format!("Flags\t{}\n", pair.flags).as_bytes());
    text.extend_from_slice(b"Key\t");
    text.extend_from_slice(pair.key.as_bytes());
    text.push(b'\n');
    text.extend_from_slice(format!("LockIndex\t{}\n", pair.lock_index).as_bytes());
    text.extend_from_slice(format!("ModifyIndex\t{}\n", pair.modify_index).as_bytes());
    match pair.session.as_deref().filter(|s| !s.is_empty()) {
        Some(session) => text.extend_from_slice(format!("Session\t{session}\n").as_bytes()),
        None => text.extend_from_slice(b"Session\t-\n"),
    }
    if !keys_only {
        text.extend_from_slice(b"Value\t");
        text.extend_from_slice(&value_bytes(pair, base64));
    }
    tabwrite(&text, 0, 6)
}

fn value_bytes(pair: &KvPair, base64: bool) -> Vec<u8> {
    if base64 {
        base64::engine::general_purpose::STANDARD
            .encode(pair.value_bytes())
            .into_bytes()
    } else {
        pair.value_bytes().to_vec()
    }
}

/// Prints a list of pairs: detailed blocks separated by blank lines, or `key:value` lines.
fn print_pairs(pairs: &[KvPair], m: &Matches, keys_only: bool, ui: &mut Ui) {
    for (i, pair) in pairs.iter().enumerate() {
        if m.bool("detailed") {
            ui.info_bytes(&pretty_kv_pair(pair, m.bool("base64"), keys_only));
            if i + 1 < pairs.len() {
                ui.info("");
            }
        } else if keys_only {
            ui.info(&pair.key);
        } else {
            let mut line = format!("{}:", pair.key).into_bytes();
            line.extend_from_slice(&value_bytes(pair, m.bool("base64")));
            ui.info_bytes(&line);
        }
    }
}

async fn fetch(m: &Matches, key: &str, ui: &mut Ui<'_>) -> i32 {
    let Some(client) = client(m, ui) else {
        return 1;
    };
    let q = query_options(m);
    let kv = client.kv();
    let (keys, recurse) = (m.bool("keys"), m.bool("recurse"));
    let result = if keys && !recurse {
        kv.keys(key, m.string_or("separator", "/"), &q)
            .await
            .map(|(keys, _)| {
                keys.iter().for_each(|k| ui.info(k));
            })
    } else if recurse {
        kv.list(key, &q)
            .await
            .map(|(pairs, _)| print_pairs(&pairs, m, keys, ui))
    } else {
        match kv.get(key, &q).await {
            Ok((None, _)) => {
                ui.error(&format!("Error! No key exists at: {key}"));
                return 1;
            }
            Ok((Some(pair), _)) if m.bool("detailed") => {
                ui.info_bytes(&pretty_kv_pair(&pair, m.bool("base64"), false));
                Ok(())
            }
            Ok((Some(pair), _)) => {
                ui.info_bytes(&value_bytes(&pair, m.bool("base64")));
                Ok(())
            }
            Err(e) => Err(e),
        }
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            ui.error(&format!("Error querying Consul agent: {e}"));
            1
        }
    }
}

impl Command for Get {
    fn synopsis(&self) -> &'static str {
        "Retrieves or lists data from the KV store"
    }

    fn help(&self) -> String {
        flag_set().consul_help(HELP)
    }

    fn run(&self, args: &[String], ui: &mut Ui) -> i32 {
        let set = flag_set();
        let Some(m) = parse_flags(&set, args, ui) else {
            return 1;
        };
        let Some(key) = optional_key(&m.args, ui) else {
            return 1;
        };
        if key.is_empty() && !(m.bool("recurse") || m.bool("keys")) {
            ui.error("Error! Missing KEY argument");
            return 1;
        }
        let Some(rt) = runtime(ui) else {
            return 1;
        };
        rt.block_on(fetch(&m, &key, ui))
    }
}

const HELP: &str = r#"
Usage: consul kv get [options] [KEY_OR_PREFIX]

  Retrieves the value from Consul's key-value store at the given key name. If no
  key exists with that name, an error is returned. If a key exists with that
  name but has no data, nothing is returned. If the name or prefix is omitted,
  it defaults to "" which is the root of the key-value store.

  To retrieve the value for the key named "foo" in the key-value store:

      $ consul kv get foo

  This will return the original, raw value stored in Consul. To view detailed
  information about the key, specify the "-detailed" flag. This will output all
  known metadata about the key including ModifyIndex and any user-supplied
  flags:

      $ consul kv get -detailed foo

  To treat the path as a prefix and list all keys which start with the given
  prefix, specify the "-recurse" flag:

      $ consul kv get -recurse foo

  This will return all key-value pairs. To just list the keys which start with
  the specified prefix, use the "-keys" option instead:

      $ consul kv get -keys foo

  For a full list of options and examples, please see the Consul documentation.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> KvPair {
        KvPair {
            lock_index: 1,
            key: "foo".into(),
            flags: 42,
            value: Some(b"bar".to_vec()),
            session: None,
            create_index: 5,
            modify_index: 12,
        }
    }

    #[test]
    fn detailed_output_matches_consul() {
        let got = String::from_utf8_lossy(&pretty_kv_pair(&pair(), false, false)).to_string();
        let expected = "CreateIndex      5\n\
                        Flags            42\n\
                        Key              foo\n\
                        LockIndex        1\n\
                        ModifyIndex      12\n\
                        Session          -\n\
                        Value            bar";
        assert_eq!(got, expected);
    }

    #[test]
    fn detailed_base64_session_and_keys_only() {
        let mut p = pair();
        p.session = Some("abc".into());
        let got = String::from_utf8_lossy(&pretty_kv_pair(&p, true, false)).to_string();
        assert!(got.contains("Session          abc\n"));
        assert!(got.ends_with("Value            YmFy"));
        let keys_only = String::from_utf8_lossy(&pretty_kv_pair(&p, false, true)).to_string();
        assert!(keys_only.ends_with("Session          abc\n"));
        assert!(!keys_only.contains("Value"));
    }
}
