//! `consul services deregister`.

use crate::commands::{Command, parse_flags};
use crate::flags::{FlagSet, Matches};
use crate::http::{client, runtime, with_http_flags};
use crate::output::{Ui, go_quote};
use crate::services::{load_or_report, str_field};

pub struct Deregister;

fn flag_set() -> FlagSet {
    with_http_flags(FlagSet::new().string(
        "id",
        "",
        "ID to delete. This must not be set if arguments are given.",
    ))
}

/// One service to remove: the ID sent (its ID, else its name) and the name Consul's error
/// text quotes (empty with `-id`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    id: String,
    name: String,
}

async fn deregister_all(m: &Matches, targets: &[Target], ui: &mut Ui<'_>) -> i32 {
    let Some(client) = client(m, ui) else {
        return 1;
    };
    for t in targets.iter().filter(|t| !t.id.is_empty()) {
        if let Err(e) = client.agent().service_deregister(&t.id).await {
            ui.error(&format!(
                "Error deregistering service {}: {e}",
                go_quote(&t.name)
            ));
            return 1;
        }
        ui.info(&format!("Deregistered service: {}", t.id));
    }
    0
}

impl Command for Deregister {
    fn synopsis(&self) -> &'static str {
        "Deregister services with the local agent"
    }

    fn help(&self) -> String {
        flag_set().consul_help(HELP)
    }

    fn run(&self, args: &[String], ui: &mut Ui) -> i32 {
        let set = flag_set();
        let Some(m) = parse_flags(&set, args, ui) else {
            return 1;
        };
        let id = m.string_or("id", "").to_string();
        if m.args.is_empty() && id.is_empty() {
            ui.error("Service deregistration requires at least one argument or -id.");
            return 1;
        }
        if !m.args.is_empty() && !id.is_empty() {
            ui.error("Service deregistration requires arguments or -id, not both.");
            return 1;
        }
        let targets = if m.args.is_empty() {
            vec![Target {
                id,
                name: String::new(),
            }]
        } else {
            let Some(defs) = load_or_report(&m.args, ui) else {
                return 1;
            };
            defs.iter()
                .map(|def| {
                    let name = str_field(def, "Name");
                    let id = Some(str_field(def, "ID"))
                        .filter(|id| !id.is_empty())
                        .unwrap_or_else(|| name.clone());
                    Target { id, name }
                })
                .collect()
        };
        let Some(rt) = runtime(ui) else {
            return 1;
        };
        rt.block_on(deregister_all(&m, &targets, ui))
    }
}

const HELP: &str = r#"
Usage: consul services deregister [options] [FILE...]

  Deregister one or more services that were previously registered with
  the local agent.

      $ consul services deregister web.json db.json

  The -id flag may be used to deregister a single service by ID:

      $ consul services deregister -id=web

  Services are deregistered from the local agent catalog. This command must
  be run against the same agent where the service was registered.
"#;

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
            Deregister.run(&args, &mut ui)
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
            run(&[]),
            (
                1,
                String::new(),
                "Service deregistration requires at least one argument or -id.\n".into()
            )
        );
        assert_eq!(
            run(&["-id=web", "web.json"]),
            (
                1,
                String::new(),
                "Service deregistration requires arguments or -id, not both.\n".into()
            )
        );
        let (code, _, err) = run(&["/nonexistent/web.json"]);
        assert_eq!(code, 1);
        assert!(
            err.starts_with("Error: config: failed to read /nonexistent/web.json"),
            "{err}"
        );
    }
}
