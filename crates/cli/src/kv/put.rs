//! `consul kv put`.

use base64::Engine as _;
use proconsul_api::PutOptions;

use crate::commands::{Command, parse_flags};
use crate::flags::{FlagSet, Matches};
use crate::http::{client, runtime, with_http_flags};
use crate::kv::load_data_source;
use crate::output::Ui;

pub struct Put;

fn flag_set() -> FlagSet {
    with_http_flags(
        FlagSet::new()
            .bool(
                "cas",
                "Perform a Check-And-Set operation. Specifying this value also requires the \
                 -modify-index flag to be set. The default value is false.",
            )
            .uint(
                "flags",
                "Unsigned integer value to assign to this key-value pair. This value is not read \
                 by Consul, so clients can use this value however makes sense for their use \
                 case. The default value is 0 (no flags).",
            )
            .bool(
                "base64",
                "Treat the data as base 64 encoded. The default value is false.",
            )
            .uint(
                "modify-index",
                "Unsigned integer representing the ModifyIndex of the key. This is used in \
                 combination with the -cas flag.",
            )
            .string(
                "session",
                "",
                "User-defined identifer for this session as a string. This is commonly used with \
                 the -acquire and -release operations to build robust locking, but it can be set \
                 on any key. The default value is empty (no session).",
            )
            .bool(
                "acquire",
                "Obtain a lock on the key. If the key does not exist, this operation will create \
                 the key and obtain the lock. The session must already exist and be specified \
                 via the -session flag. The default value is false.",
            )
            .bool(
                "release",
                "Forfeit the lock on the key at the given path. This requires the -session flag \
                 to be set. The key must be held by the session in order to be unlocked. The \
                 default value is false.",
            ),
    )
}

/// KEY and the optional DATA (literal, `@file` or `-` for stdin).
fn key_and_data(args: &[String], ui: &mut Ui) -> Result<(String, Vec<u8>), String> {
    match args {
        [] => Err("Missing KEY argument".to_string()),
        [key] => Ok((key.clone(), Vec::new())),
        [key, data] => Ok((key.clone(), load_data_source(data, ui.stdin)?)),
        _ => Err(format!(
            "Too many arguments (expected 1 or 2, got {})",
            args.len()
        )),
    }
}

async fn write(m: &Matches, key: &str, data: &[u8], ui: &mut Ui<'_>) -> i32 {
    let Some(client) = client(m, ui) else {
        return 1;
    };
    let session = m.string_or("session", "").to_string();
    let mut opts = PutOptions {
        flags: m.uint("flags"),
        ..PutOptions::default()
    };
    let kv = client.kv();
    if m.bool("cas") {
        let index = m.uint("modify-index");
        opts.cas = Some(index);
        return match kv.put(key, data, &opts).await {
            Err(e) => fail(ui, &format!("Error! Did not write to {key}: {e}")),
            Ok(false) if index == 0 => fail(
                ui,
                &format!(
                    "Error! Did not write to {key}: CAS performed with index=0 and key already exists."
                ),
            ),
            Ok(false) => fail(ui, &format!("Error! Did not write to {key}: CAS failed")),
            Ok(true) => succeed(ui, &format!("Success! Data written to: {key}")),
        };
    }
    if m.bool("acquire") {
        opts.acquire = Some(session);
        return match kv.put(key, data, &opts).await {
            Err(e) => fail(ui, &format!("Error! Failed writing data: {e}")),
            Ok(false) => fail(ui, "Error! Did not acquire lock"),
            Ok(true) => succeed(ui, &format!("Success! Lock acquired on: {key}")),
        };
    }
    if m.bool("release") {
        opts.release = Some(session);
        return match kv.put(key, data, &opts).await {
            // Consul prints the key, not the error, here.
            Err(_) => fail(ui, &format!("Error! Failed writing data: {key}")),
            Ok(false) => fail(ui, "Error! Did not release lock"),
            Ok(true) => succeed(ui, &format!("Success! Lock released on: {key}")),
        };
    }
    match kv.put(key, data, &opts).await {
        Err(e) => fail(ui, &format!("Error! Failed writing data: {e}")),
        Ok(_) => succeed(ui, &format!("Success! Data written to: {key}")),
    }
}

fn fail(ui: &mut Ui, msg: &str) -> i32 {
    ui.error(msg);
    1
}

fn succeed(ui: &mut Ui, msg: &str) -> i32 {
    ui.info(msg);
    0
}

impl Command for Put {
    fn synopsis(&self) -> &'static str {
        "Sets or updates data in the KV store"
    }

    fn help(&self) -> String {
        flag_set().consul_help(HELP)
    }

    fn run(&self, args: &[String], ui: &mut Ui) -> i32 {
        let set = flag_set();
        let Some(m) = parse_flags(&set, args, ui) else {
            return 1;
        };
        let (key, mut data) = match key_and_data(&m.args, ui) {
            Ok(kd) => kd,
            Err(e) => return fail(ui, &format!("Error! {e}")),
        };
        if m.bool("base64") {
            // Consul prints this error but carries on with a truncated value; we stop instead.
            match base64::engine::general_purpose::STANDARD.decode(&data) {
                Ok(decoded) => data = decoded,
                Err(e) => return fail(ui, &format!("Error! Cannot base 64 decode data: {e}")),
            }
        }
        if (m.bool("release") || m.bool("acquire")) && m.string_or("session", "").is_empty() {
            return fail(
                ui,
                "Error! Missing -session (required with -acquire and -release)",
            );
        }
        let Some(rt) = runtime(ui) else {
            return 1;
        };
        rt.block_on(write(&m, &key, &data, ui))
    }
}

const HELP: &str = r#"
Usage: consul kv put [options] KEY [DATA]

  Writes the data to the given path in the key-value store. The data can be of
  any type.

      $ consul kv put config/redis/maxconns 5

  The data can also be consumed from a file on disk by prefixing with the "@"
  symbol. For example:

      $ consul kv put config/program/license @license.lic

  Or it can be read from stdin using the "-" symbol:

      $ echo "abcd1234" | consul kv put config/program/license -

  The DATA argument itself is optional. If omitted, this will create an empty
  key-value pair at the specified path:

      $ consul kv put webapp/beta/active

  If the -base64 flag is specified, the data will be treated as base 64
  encoded.

  To perform a Check-And-Set operation, specify the -cas flag with the
  appropriate -modify-index flag corresponding to the key you want to perform
  the CAS operation on:

      $ consul kv put -cas -modify-index=844 config/redis/maxconns 5

  Additional flags and more advanced use cases are detailed below.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (mut out, mut err, mut input) = (Vec::new(), Vec::new(), stdin);
        let code = {
            let mut ui = Ui {
                out: &mut out,
                err: &mut err,
                stdin: &mut input,
            };
            Put.run(&args, &mut ui)
        };
        (
            code,
            String::from_utf8_lossy(&out).into(),
            String::from_utf8_lossy(&err).into(),
        )
    }

    #[test]
    fn argument_errors() {
        assert_eq!(
            run(&[], b""),
            (1, String::new(), "Error! Missing KEY argument\n".into())
        );
        assert_eq!(
            run(&["a", "b", "c"], b""),
            (
                1,
                String::new(),
                "Error! Too many arguments (expected 1 or 2, got 3)\n".into()
            )
        );
        assert_eq!(
            run(&["-acquire", "k", "v"], b""),
            (
                1,
                String::new(),
                "Error! Missing -session (required with -acquire and -release)\n".into()
            )
        );
        let (code, _, err) = run(&["-base64", "k", "%%%"], b"");
        assert_eq!(code, 1);
        assert!(err.starts_with("Error! Cannot base 64 decode data: "));
    }

    #[test]
    fn connection_refused_is_reported() {
        let (code, out, err) = run(&["-http-addr=127.0.0.1:1", "k", "v"], b"");
        assert_eq!(code, 1);
        assert!(out.is_empty());
        assert!(
            err.starts_with("Error! Failed writing data: Put \"http://127.0.0.1:1/v1/kv/k\": "),
            "{err}"
        );
    }
}
