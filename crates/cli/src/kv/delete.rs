//! `consul kv delete`.

use proconsul_api::DeleteOptions;

use crate::commands::{Command, parse_flags};
use crate::flags::{FlagSet, Matches};
use crate::http::{client, runtime, with_http_flags};
use crate::kv::optional_key;
use crate::output::Ui;

pub struct Delete;

fn flag_set() -> FlagSet {
    with_http_flags(
        FlagSet::new()
            .bool(
                "cas",
                "Perform a Check-And-Set operation. Specifying this value also requires the \
                 -modify-index flag to be set. The default value is false.",
            )
            .uint(
                "modify-index",
                "Unsigned integer representing the ModifyIndex of the key. This is used in \
                 combination with the -cas flag.",
            )
            .bool(
                "recurse",
                "Recursively delete all keys with the path. The default value is false.",
            ),
    )
}

/// Consul's argument checks, in Consul's order.
fn validate(m: &Matches, key: &str) -> Result<(), &'static str> {
    let (cas, recurse, index) = (m.bool("cas"), m.bool("recurse"), m.uint("modify-index"));
    if key.is_empty() && !recurse {
        return Err("Error! Missing KEY argument");
    }
    if cas && index == 0 {
        return Err(
            "Cannot delete a key that does not exist. Provide a -modify-index greater than than 0.",
        );
    }
    if index != 0 && !cas {
        return Err("Cannot specify -modify-index without -cas!");
    }
    if recurse && cas {
        return Err("Cannot specify both -cas and -recurse!");
    }
    Ok(())
}

async fn remove(m: &Matches, key: &str, ui: &mut Ui<'_>) -> i32 {
    let Some(client) = client(m, ui) else {
        return 1;
    };
    let kv = client.kv();
    let (msg, ok) = if m.bool("recurse") {
        let opts = DeleteOptions {
            recurse: true,
            ..DeleteOptions::default()
        };
        match kv.delete(key, &opts).await {
            Ok(_) => (format!("Success! Deleted keys with prefix: {key}"), true),
            Err(e) => (format!("Error! Did not delete prefix {key}: {e}"), false),
        }
    } else if m.bool("cas") {
        let opts = DeleteOptions {
            cas: Some(m.uint("modify-index")),
            ..DeleteOptions::default()
        };
        match kv.delete(key, &opts).await {
            Ok(true) => (format!("Success! Deleted key: {key}"), true),
            Ok(false) => (
                format!("Error! Did not delete key {key}: CAS failed"),
                false,
            ),
            Err(e) => (format!("Error! Did not delete key {key}: {e}"), false),
        }
    } else {
        match kv.delete(key, &DeleteOptions::default()).await {
            Ok(_) => (format!("Success! Deleted key: {key}"), true),
            Err(e) => (format!("Error deleting key {key}: {e}"), false),
        }
    };
    if ok {
        ui.info(&msg);
        0
    } else {
        ui.error(&msg);
        1
    }
}

impl Command for Delete {
    fn synopsis(&self) -> &'static str {
        "Removes data from the KV store"
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
        if let Err(msg) = validate(&m, &key) {
            ui.error(msg);
            return 1;
        }
        let Some(rt) = runtime(ui) else {
            return 1;
        };
        rt.block_on(remove(&m, &key, ui))
    }
}

const HELP: &str = r#"
Usage: consul kv delete [options] KEY_OR_PREFIX

  Removes the value from Consul's key-value store at the given path. If no
  key exists at the path, no action is taken.

  To delete the value for the key named "foo" in the key-value store:

      $ consul kv delete foo

  To delete all keys which start with "foo", specify the -recurse option:

      $ consul kv delete -recurse foo

  This will delete the keys named "foo", "food", and "foo/bar/zip" if they
  existed.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn check(args: &[&str]) -> Result<(), &'static str> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let m = flag_set().parse(&args).unwrap_or_default();
        let key = m.args.first().cloned().unwrap_or_default();
        validate(&m, &key)
    }

    #[test]
    fn consul_validation_messages() {
        assert_eq!(check(&[]), Err("Error! Missing KEY argument"));
        assert_eq!(check(&["-recurse"]), Ok(()));
        assert_eq!(
            check(&["-cas", "k"]),
            Err(
                "Cannot delete a key that does not exist. Provide a -modify-index greater than than 0."
            )
        );
        assert_eq!(
            check(&["-modify-index=3", "k"]),
            Err("Cannot specify -modify-index without -cas!")
        );
        assert_eq!(
            check(&["-cas", "-modify-index=3", "-recurse", "k"]),
            Err("Cannot specify both -cas and -recurse!")
        );
        assert_eq!(check(&["-cas", "-modify-index=3", "k"]), Ok(()));
    }
}
