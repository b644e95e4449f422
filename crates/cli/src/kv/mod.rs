//! `consul kv ...`: the key-value store commands.

pub mod delete;
pub mod export;
pub mod get;
pub mod import;
pub mod put;

use std::io::Read;

use crate::commands::{Command, RUN_RESULT_HELP};
use crate::output::{Ui, go_path_error};

/// `consul kv`: only lists its subcommands.
pub struct KvCommand;

impl Command for KvCommand {
    fn synopsis(&self) -> &'static str {
        "Interact with the key-value store"
    }

    fn help(&self) -> String {
        HELP.trim().to_string()
    }

    fn run(&self, _args: &[String], _ui: &mut Ui) -> i32 {
        RUN_RESULT_HELP
    }
}

const HELP: &str = r#"
Usage: consul kv <subcommand> [options] [args]

  This command has subcommands for interacting with Consul's key-value
  store. Here are some simple examples, and more detailed examples are
  available in the subcommands or the documentation.

  Create or update the key named "redis/config/connections" with the value "5":

      $ consul kv put redis/config/connections 5

  Read this value back:

      $ consul kv get redis/config/connections

  Or get detailed key information:

      $ consul kv get -detailed redis/config/connections

  Finally, delete the key:

      $ consul kv delete redis/config/connections

  For more examples, ask for subcommand help or view the documentation.
"#;

/// Keys cannot start with `/`; like Consul, forgive one leading slash.
pub fn strip_leading_slash(key: &str) -> &str {
    key.strip_prefix('/').unwrap_or(key)
}

/// The single optional positional argument of get/delete/export.
pub fn optional_key(args: &[String], ui: &mut Ui) -> Option<String> {
    match args {
        [] => Some(String::new()),
        [key] => Some(strip_leading_slash(key).to_string()),
        _ => {
            ui.error(&format!(
                "Too many arguments (expected 1, got {})",
                args.len()
            ));
            None
        }
    }
}

/// Consul's `helpers.LoadDataSource`: `@file` reads a file, a lone `-` reads stdin, anything
/// else (including `-x`) is the data itself.
pub fn load_data_source(arg: &str, stdin: &mut dyn Read) -> Result<Vec<u8>, String> {
    if let Some(path) = arg.strip_prefix('@') {
        return std::fs::read(path)
            .map_err(|e| format!("Failed to read file: {}", go_path_error("open", path, &e)));
    }
    if arg == "-" {
        let mut buf = Vec::new();
        stdin.read_to_end(&mut buf).map_err(|e| {
            format!(
                "Failed to read stdin: {}",
                go_path_error("read", "/dev/stdin", &e)
            )
        })?;
        return Ok(buf);
    }
    Ok(arg.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_sources() {
        let mut stdin: &[u8] = b"from stdin";
        assert_eq!(
            load_data_source("-", &mut stdin),
            Ok(b"from stdin".to_vec())
        );
        let mut none: &[u8] = b"";
        assert_eq!(load_data_source("-x", &mut none), Ok(b"-x".to_vec()));
        assert_eq!(load_data_source("", &mut none), Ok(Vec::new()));
        let err = load_data_source("@/nonexistent/file", &mut none);
        assert_eq!(
            err,
            Err("Failed to read file: open /nonexistent/file: no such file or directory".into())
        );
    }

    #[test]
    fn leading_slash() {
        assert_eq!(strip_leading_slash("/a/b"), "a/b");
        assert_eq!(strip_leading_slash("a"), "a");
    }
}
