//! `consul catalog ...`: reads of the datacenter-wide catalog.

pub mod datacenters;
pub mod nodes;
pub mod services;

use crate::commands::{Command, RUN_RESULT_HELP};
use crate::output::Ui;

/// `consul catalog`: only lists its subcommands.
pub struct CatalogCommand;

impl Command for CatalogCommand {
    fn synopsis(&self) -> &'static str {
        "Interact with the catalog"
    }

    fn help(&self) -> String {
        HELP.trim().to_string()
    }

    fn run(&self, _args: &[String], _ui: &mut Ui) -> i32 {
        RUN_RESULT_HELP
    }
}

/// The catalog commands take no positional arguments.
pub fn no_args(args: &[String], ui: &mut Ui) -> bool {
    if args.is_empty() {
        return true;
    }
    ui.error(&format!(
        "Too many arguments (expected 0, got {})",
        args.len()
    ));
    false
}

const HELP: &str = r#"
Usage: consul catalog <subcommand> [options] [args]

  This command has subcommands for interacting with Consul's catalog. The
  catalog should not be confused with the agent, although the APIs and
  responses may be similar.

  Here are some simple examples, and more detailed examples are available
  in the subcommands or the documentation.

  List all datacenters:

      $ consul catalog datacenters

  List all nodes:

      $ consul catalog nodes

  List all services:

      $ consul catalog services

  For more examples, ask for subcommand help or view the documentation.
"#;
