//! `consul maint`: node and service maintenance mode.

use std::collections::BTreeMap;

use proconsul_api::{AgentCheck, Client, MaintenanceTarget};

use crate::commands::{Command, parse_flags};
use crate::flags::{FlagSet, Matches};
use crate::http::{client, runtime, with_client_flags};
use crate::output::{Ui, go_quote};

pub struct Maint;

fn flag_set() -> FlagSet {
    with_client_flags(
        FlagSet::new()
            .bool("enable", "Enable maintenance mode.")
            .bool("disable", "Disable maintenance mode.")
            .string("reason", "", "Text describing the maintenance reason.")
            .string(
                "service",
                "",
                "Control maintenance mode for a specific service ID.",
            ),
    )
}

/// Consul's checks on flag combinations, in Consul's order.
fn validate(m: &Matches) -> Result<(), &'static str> {
    let (enable, disable) = (m.bool("enable"), m.bool("disable"));
    let given = |name| m.get(name).is_some_and(|v: &str| !v.is_empty());
    if enable && disable {
        return Err("Only one of -enable or -disable may be provided");
    }
    if !enable && given("reason") {
        return Err("Reason may only be provided with -enable");
    }
    if !enable && !disable && given("service") {
        return Err("Service requires either -enable or -disable");
    }
    Ok(())
}

/// The status listing: a `Node:` block for `_node_maintenance`, a `Service:` block per
/// `_service_maintenance:<id>` check, each followed by an empty line (check ID order).
pub fn format_status(node_name: &str, checks: &BTreeMap<String, AgentCheck>) -> String {
    let mut out = String::new();
    for check in checks.values() {
        if check.check_id == "_node_maintenance" {
            out.push_str(&format!(
                "Node:\n  Name:   {node_name}\n  Reason: {}\n\n",
                check.notes
            ));
        } else if check.check_id.starts_with("_service_maintenance:") {
            out.push_str(&format!(
                "Service:\n  ID:     {}\n  Reason: {}\n\n",
                check.service_id, check.notes
            ));
        }
    }
    out
}

async fn node_name(client: &Client) -> proconsul_api::Result<String> {
    let me = client.agent_self().await?;
    Ok(me["Config"]["NodeName"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

async fn maint(m: &Matches, ui: &mut Ui<'_>) -> Result<String, String> {
    let Some(client) = client(m, ui) else {
        return Err(String::new());
    };
    let node = node_name(&client)
        .await
        .map_err(|e| format!("Error querying Consul agent: {e}"))?;
    let (enable, disable) = (m.bool("enable"), m.bool("disable"));
    if !enable && !disable {
        let checks = client
            .agent()
            .checks()
            .await
            .map_err(|e| format!("Error getting checks: {e}"))?;
        return Ok(format_status(&node, &checks));
    }
    let service = m.get("service").filter(|s| !s.is_empty());
    let target = service.map_or(MaintenanceTarget::Node, MaintenanceTarget::Service);
    let reason = m.string_or("reason", "");
    let (verb, state) = if enable {
        ("enabling", "enabled")
    } else {
        ("disabling", "disabled")
    };
    let what = if service.is_some() { "service" } else { "node" };
    client
        .agent()
        .maintenance(target, enable, reason)
        .await
        .map_err(|e| format!("Error {verb} {what} maintenance: {e}"))?;
    Ok(match service {
        Some(id) => format!("Service maintenance is now {state} for {}\n", go_quote(id)),
        None => format!("Node maintenance is now {state}\n"),
    })
}

impl Command for Maint {
    fn synopsis(&self) -> &'static str {
        "Controls node or service maintenance mode"
    }

    fn help(&self) -> String {
        flag_set().consul_help(HELP)
    }

    fn run(&self, args: &[String], ui: &mut Ui) -> i32 {
        let set = flag_set();
        let Some(m) = parse_flags(&set, args, ui) else {
            return 1;
        };
        if let Err(msg) = validate(&m) {
            ui.error(msg);
            return 1;
        }
        let Some(rt) = runtime(ui) else {
            return 1;
        };
        match rt.block_on(maint(&m, ui)) {
            Ok(text) => {
                ui.out_raw(&text);
                0
            }
            Err(msg) => {
                if !msg.is_empty() {
                    ui.error(&msg);
                }
                1
            }
        }
    }
}

const HELP: &str = r#"
Usage: consul maint [options]

  Places a node or service into maintenance mode. During maintenance mode,
  the node or service will be excluded from all queries through the DNS
  or API interfaces, effectively taking it out of the pool of available
  nodes. This is done by registering an additional critical health check.

  When enabling maintenance mode for a node or service, you may optionally
  specify a reason string. This string will appear in the "Notes" field
  of the critical health check which is registered against the node or
  service. If no reason is provided, a default value will be used.

  Maintenance mode is persistent, and will be restored in the event of an
  agent restart. It is therefore required to disable maintenance mode on
  a given node or service before it will be placed back into the pool.

  By default, we operate on the node as a whole. By specifying the
  "-service" argument, this behavior can be changed to enable or disable
  only a specific service.

  If no arguments are given, the agent's maintenance status will be shown.
  This will return blank if nothing is currently under maintenance.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: &str, service: &str, notes: &str) -> (String, AgentCheck) {
        (
            id.to_string(),
            AgentCheck {
                check_id: id.into(),
                service_id: service.into(),
                notes: notes.into(),
                ..AgentCheck::default()
            },
        )
    }

    #[test]
    fn status_blocks() {
        let checks: BTreeMap<String, AgentCheck> = [
            check("_service_maintenance:web", "web", "deploy"),
            check("serfHealth", "", ""),
            check("_node_maintenance", "", "patching"),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            format_status("node-1", &checks),
            "Node:\n  Name:   node-1\n  Reason: patching\n\n\
             Service:\n  ID:     web\n  Reason: deploy\n\n"
        );
        assert_eq!(format_status("n", &BTreeMap::new()), "");
    }

    #[test]
    fn flag_conflicts() {
        let check = |args: &[&str]| {
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            validate(&flag_set().parse(&args).unwrap_or_default())
        };
        assert_eq!(
            check(&["-enable", "-disable"]),
            Err("Only one of -enable or -disable may be provided")
        );
        assert_eq!(
            check(&["-disable", "-reason=x"]),
            Err("Reason may only be provided with -enable")
        );
        assert_eq!(
            check(&["-service=web"]),
            Err("Service requires either -enable or -disable")
        );
        assert_eq!(check(&["-enable", "-reason=x", "-service=web"]), Ok(()));
        assert_eq!(check(&[]), Ok(()));
    }
}
