//! Top-level dispatch, emulating `mitchellh/cli` as configured by Consul's `main.go`:
//! help goes to stdout; `consul`, `consul -foo` or an unknown command print the command list
//! and exit 127; `-h`/`-help`/`--help` anywhere (before `--`) prints help and exits 0;
//! `-v`/`-version`/`--version` before the subcommand runs `version`.

use crate::flags::{FlagSet, Matches, ParseError};
use crate::output::Ui;
use crate::{catalog, kv, maint, services, version};

/// `cli.RunResultHelp`: a command returns this to have its help printed (exit 1).
pub const RUN_RESULT_HELP: i32 = -18511;

/// One command of the tree.
pub trait Command {
    /// One-line description for listings.
    fn synopsis(&self) -> &'static str;
    /// Full help text (`consul <cmd> -h`).
    fn help(&self) -> String;
    /// Runs with the arguments after the command name; returns the exit code.
    fn run(&self, args: &[String], ui: &mut Ui) -> i32;
}

/// All commands, keyed by their full space-separated name.
pub fn registry() -> Vec<(&'static str, Box<dyn Command>)> {
    vec![
        ("agent", Box::new(AgentStub)),
        ("catalog", Box::new(catalog::CatalogCommand)),
        (
            "catalog datacenters",
            Box::new(catalog::datacenters::Datacenters),
        ),
        ("catalog nodes", Box::new(catalog::nodes::Nodes)),
        ("catalog services", Box::new(catalog::services::Services)),
        ("kv", Box::new(kv::KvCommand)),
        ("kv delete", Box::new(kv::delete::Delete)),
        ("kv export", Box::new(kv::export::Export)),
        ("kv get", Box::new(kv::get::Get)),
        ("kv import", Box::new(kv::import::Import)),
        ("kv put", Box::new(kv::put::Put)),
        ("maint", Box::new(maint::Maint)),
        ("services", Box::new(services::ServicesCommand)),
        (
            "services deregister",
            Box::new(services::deregister::Deregister),
        ),
        ("services register", Box::new(services::register::Register)),
        ("version", Box::new(version::Version)),
    ]
}

/// Parses `args` with `set`; on failure prints Go's error text and usage to stderr.
pub fn parse_flags(set: &FlagSet, args: &[String], ui: &mut Ui) -> Option<Matches> {
    match set.parse(args) {
        Ok(m) => Some(m),
        Err(ParseError::Help) => {
            ui.error_raw(&set.go_usage());
            None
        }
        Err(ParseError::Invalid(msg)) => {
            ui.error(&msg);
            ui.error_raw(&set.go_usage());
            None
        }
    }
}

/// What `mitchellh/cli`'s argument scan found.
#[derive(Debug, Default, PartialEq, Eq)]
struct Scan {
    help: bool,
    version: bool,
    top_flags: Vec<String>,
    subcommand: String,
    sub_args: Vec<String>,
}

fn scan(args: &[String], names: &[&str]) -> Scan {
    let mut s = Scan::default();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        if arg == "--" {
            break;
        }
        if matches!(arg, "-h" | "-help" | "--help") {
            s.help = true;
            i += 1;
            continue;
        }
        if s.subcommand.is_empty() {
            if matches!(arg, "-v" | "-version" | "--version") {
                s.version = true;
                i += 1;
                continue;
            }
            if arg.starts_with('-') {
                s.top_flags.push(arg.to_string());
            } else if !arg.is_empty() {
                let search = args[i..].join(" ");
                let longest = names
                    .iter()
                    .filter(|k| search == **k || search.starts_with(&format!("{k} ")))
                    .max_by_key(|k| k.len());
                s.subcommand = longest.map_or(arg.to_string(), |k| k.to_string());
                let consumed = longest.map_or(0, |k| k.matches(' ').count());
                s.sub_args = args.get(i + consumed + 1..).unwrap_or_default().to_vec();
                i += consumed;
            }
        }
        i += 1;
    }
    s
}

/// Runs the command line against `ui`; the testable core of [`crate::run`].
pub fn run_with(args: &[String], ui: &mut Ui) -> i32 {
    let registry = registry();
    let names: Vec<&str> = registry.iter().map(|(n, _)| *n).collect();
    let s = scan(args, &names);
    if s.version {
        return version::Version.run(&[], ui);
    }
    if s.help && s.subcommand.is_empty() {
        ui.info(&root_help(&registry));
        return 0;
    }
    let Some((_, command)) = registry.iter().find(|(n, _)| *n == s.subcommand) else {
        ui.info(&root_help(&registry));
        return 127;
    };
    if s.help {
        ui.out_raw(&command_help(&registry, &s.subcommand, command.as_ref()));
        return 0;
    }
    if !s.top_flags.is_empty() {
        ui.out_raw(
            "Invalid flags before the subcommand. If these flags are for\n\
             the subcommand, please put them after the subcommand.\n\n",
        );
        ui.out_raw(&command_help(&registry, &s.subcommand, command.as_ref()));
        return 1;
    }
    let code = command.run(&s.sub_args, ui);
    if code == RUN_RESULT_HELP {
        ui.out_raw(&command_help(&registry, &s.subcommand, command.as_ref()));
        return 1;
    }
    code
}

/// `cli.BasicHelpFunc("consul")` over the top-level commands.
fn root_help(registry: &[(&'static str, Box<dyn Command>)]) -> String {
    let top: Vec<&(&str, Box<dyn Command>)> =
        registry.iter().filter(|(n, _)| !n.contains(' ')).collect();
    let width = top.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut out = String::from("Usage: consul [--version] [--help] <command> [<args>]\n\n");
    out.push_str("Available commands are:\n");
    for (name, cmd) in top {
        out.push_str(&format!("    {name:<width$}    {}\n", cmd.synopsis()));
    }
    out
}

/// `mitchellh/cli`'s command help template: help text plus immediate subcommands.
fn command_help(
    registry: &[(&'static str, Box<dyn Command>)],
    name: &str,
    cmd: &dyn Command,
) -> String {
    let prefix = format!("{name} ");
    let subs: Vec<(&str, &dyn Command)> = registry
        .iter()
        .filter_map(|(n, c)| n.strip_prefix(&prefix).map(|rest| (rest, c.as_ref())))
        .filter(|(rest, _)| !rest.contains(' '))
        .collect();
    let mut out = cmd.help();
    if !subs.is_empty() {
        let width = subs.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        out.push_str("\n\nSubcommands:");
        for (sub, c) in subs {
            out.push_str(&format!("\n    {sub:<width$}    {}", c.synopsis()));
        }
    }
    out.push('\n');
    out
}

/// `agent` is run by the binary itself; listed here so help shows it.
struct AgentStub;

impl Command for AgentStub {
    fn synopsis(&self) -> &'static str {
        "Runs a Consul agent"
    }
    fn help(&self) -> String {
        "Usage: consul agent [options]\n\n  Starts the Consul agent and runs until an interrupt is received. The\n  agent represents a single node in a cluster.".to_string()
    }
    fn run(&self, _args: &[String], ui: &mut Ui) -> i32 {
        ui.error(
            "Error! The agent command is started by the proconsul binary, not the CLI library",
        );
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> (i32, String, String) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (mut out, mut err, mut input) = (Vec::new(), Vec::new(), std::io::empty());
        let code = {
            let mut ui = Ui {
                out: &mut out,
                err: &mut err,
                stdin: &mut input,
            };
            run_with(&args, &mut ui)
        };
        (
            code,
            String::from_utf8_lossy(&out).into(),
            String::from_utf8_lossy(&err).into(),
        )
    }

    #[test]
    fn scan_finds_nested_commands() {
        let names = ["kv", "kv get", "version"];
        let args: Vec<String> = ["kv", "get", "-recurse", "a"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let s = scan(&args, &names);
        assert_eq!(s.subcommand, "kv get");
        assert_eq!(s.sub_args, vec!["-recurse".to_string(), "a".to_string()]);
        let args: Vec<String> = ["kv", "getx"].iter().map(|s| s.to_string()).collect();
        assert_eq!(scan(&args, &names).subcommand, "kv");
    }

    #[test]
    fn no_args_and_unknown_list_commands_exit_127() {
        for args in [&[][..], &["nope"][..], &["-foo"][..]] {
            let (code, out, err) = run(args);
            assert_eq!(code, 127, "{args:?}");
            assert!(out.starts_with(
                "Usage: consul [--version] [--help] <command> [<args>]\n\nAvailable commands are:\n"
            ));
            assert!(
                out.contains("\n    kv          Interact with the key-value store\n"),
                "{out}"
            );
            assert!(out.ends_with("\n\n"));
            assert!(err.is_empty());
        }
    }

    #[test]
    fn help_flags_exit_0() {
        let (code, out, _) = run(&["-h"]);
        assert_eq!(code, 0);
        assert!(out.contains("Available commands are:"));
        let (code, out, _) = run(&["kv", "get", "-h"]);
        assert_eq!(code, 0);
        assert!(out.starts_with("Usage: consul kv get [options] [KEY_OR_PREFIX]\n"));
        assert!(out.contains("\nHTTP API Options\n\n  -ca-file=<value>\n"));
        assert!(out.contains("\n  -http-addr=<address>\n"));
        assert!(out.contains("\nCommand Options\n\n  -base64\n"));
        assert!(out.contains("\n  -separator=<string>\n"));
    }

    #[test]
    fn parent_command_prints_subcommands_exit_1() {
        let (code, out, _) = run(&["kv"]);
        assert_eq!(code, 1);
        assert!(out.starts_with("Usage: consul kv <subcommand> [options] [args]\n"));
        assert!(out.ends_with(
            "Subcommands:\n    delete    Removes data from the KV store\n    export    Exports a tree from the KV store as JSON\n    get       Retrieves or lists data from the KV store\n    import    Imports a tree stored as JSON to the KV store\n    put       Sets or updates data in the KV store\n"
        ), "{out}");
    }

    #[test]
    fn top_flags_before_subcommand() {
        let (code, out, _) = run(&["-foo", "version"]);
        assert_eq!(code, 1);
        assert!(out.starts_with("Invalid flags before the subcommand."));
    }

    #[test]
    fn unknown_flag_prints_go_usage() {
        let (code, out, err) = run(&["kv", "get", "-x", "foo"]);
        assert_eq!(code, 1);
        assert!(out.is_empty());
        assert!(err.starts_with("flag provided but not defined: -x\nUsage:\n  -base64\n    \tBase64 encode the value."), "{err}");
        assert!(err.contains("\n  -separator string\n"));
        assert!(err.contains(" (default \"/\")\n"));
    }

    #[test]
    fn version_flags() {
        for args in [
            &["-v"][..],
            &["--version"][..],
            &["-version"][..],
            &["version"][..],
        ] {
            let (code, out, _) = run(args);
            assert_eq!(code, 0);
            assert!(out.starts_with("Consul v1.22.0\n"), "{out}");
        }
    }
}
