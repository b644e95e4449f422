//! `consul catalog datacenters`.

use crate::catalog::no_args;
use crate::commands::{Command, parse_flags};
use crate::flags::FlagSet;
use crate::http::{client, runtime, with_client_server_flags};
use crate::output::Ui;

pub struct Datacenters;

fn flag_set() -> FlagSet {
    with_client_server_flags(FlagSet::new())
}

impl Command for Datacenters {
    fn synopsis(&self) -> &'static str {
        "Lists all known datacenters for this agent"
    }

    fn help(&self) -> String {
        flag_set().consul_help(HELP)
    }

    fn run(&self, args: &[String], ui: &mut Ui) -> i32 {
        let set = flag_set();
        let Some(m) = parse_flags(&set, args, ui) else {
            return 1;
        };
        if !no_args(&m.args, ui) {
            return 1;
        }
        let (Some(rt), Some(client)) = (runtime(ui), client(&m, ui)) else {
            return 1;
        };
        match rt.block_on(client.catalog().datacenters()) {
            Err(e) => {
                ui.error(&format!("Error listing datacenters: {e}"));
                1
            }
            Ok(dcs) if dcs.is_empty() => {
                ui.error("No datacenters found");
                1
            }
            Ok(dcs) => {
                for dc in dcs {
                    ui.info(&dc);
                }
                0
            }
        }
    }
}

const HELP: &str = r#"
Usage: consul catalog datacenters [options]

  Retrieves the list of all known datacenters. This datacenters are sorted in
  ascending order based on the estimated median round trip time from the servers
  in this datacenter to the servers in other datacenters.

  List all datacenters:

      $ consul catalog datacenters

  For a full list of options and examples, please see the Consul documentation.
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
            Datacenters.run(&args, &mut ui)
        };
        (
            code,
            String::from_utf8_lossy(&out).into(),
            String::from_utf8_lossy(&err).into(),
        )
    }

    #[test]
    fn rejects_arguments_and_reports_connection_errors() {
        assert_eq!(
            run(&["dc1"]),
            (
                1,
                String::new(),
                "Too many arguments (expected 0, got 1)\n".into()
            )
        );
        let (code, out, err) = run(&["-http-addr=127.0.0.1:1"]);
        assert_eq!((code, out.as_str()), (1, ""));
        assert!(
            err.starts_with(
                "Error listing datacenters: Get \"http://127.0.0.1:1/v1/catalog/datacenters\": "
            ),
            "{err}"
        );
    }
}
