//! The pure half of alias checks: aggregating the aliased target's checks the way
//! Consul's `CheckAlias.processChecks` does. Watching the catalog is the agent's job.

use crate::CheckResult;
use crate::status::Status;

/// One check of the aliased node/service as seen in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasedCheck<'a> {
    pub name: &'a str,
    /// Empty for node-level checks, which count for every service on the node.
    pub service_id: &'a str,
    pub status: Status,
    pub output: &'a str,
}

/// Aggregates `checks` (all checks of the aliased node) for `service_id` (empty = the
/// node itself): the worst status wins, critical first. Texts are Consul's:
/// `No checks found.`, `All checks passing.`, `Aliased check "<name>" failing: <output>`,
/// `Service <id> could not be found on node <node>`.
///
/// `service_exists` says whether the aliased service is registered at all; it is asked
/// only when none of `checks` belong to it (a service without checks is passing).
pub fn aggregate(
    node: &str,
    service_id: &str,
    checks: &[AliasedCheck<'_>],
    service_exists: impl FnOnce() -> bool,
) -> CheckResult {
    let mut health = Status::Passing;
    let mut msg = "No checks found.".to_string();
    let mut service_found = false;
    for chk in checks {
        let matches = chk.service_id == service_id;
        if !chk.service_id.is_empty() && !matches {
            continue;
        }
        service_found |= matches;
        match chk.status {
            Status::Critical | Status::Warning => {
                health = chk.status;
                msg = format!("Aliased check {:?} failing: {}", chk.name, chk.output);
                // Nothing is worse than critical; a warning may still be overtaken.
                if chk.status == Status::Critical {
                    break;
                }
            }
            Status::Passing if health == Status::Passing => {
                msg = "All checks passing.".to_string();
            }
            Status::Passing => {}
        }
    }
    if !service_found && !service_exists() {
        msg = format!("Service {service_id} could not be found on node {node}");
        health = Status::Critical;
    }
    CheckResult::new(health, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chk<'a>(name: &'a str, sid: &'a str, status: Status) -> AliasedCheck<'a> {
        AliasedCheck {
            name,
            service_id: sid,
            status,
            output: "out",
        }
    }

    #[test]
    fn worst_status_wins() {
        let checks = [
            chk("a", "web", Status::Passing),
            chk("b", "web", Status::Warning),
            chk("c", "web", Status::Critical),
            chk("d", "web", Status::Warning),
        ];
        let r = aggregate("n1", "web", &checks, || true);
        assert_eq!(r, CheckResult::critical("Aliased check \"c\" failing: out"));
    }

    #[test]
    fn warning_then_passing_keeps_warning_text() {
        let checks = [
            chk("b", "web", Status::Warning),
            chk("a", "web", Status::Passing),
        ];
        let r = aggregate("n1", "web", &checks, || true);
        assert_eq!(r, CheckResult::warning("Aliased check \"b\" failing: out"));
    }

    #[test]
    fn node_checks_count_and_other_services_do_not() {
        let checks = [
            chk("serf", "", Status::Critical),
            chk("db", "db", Status::Critical),
        ];
        let r = aggregate("n1", "web", &checks, || true);
        assert_eq!(r.status, Status::Critical);
        let checks = [
            chk("db", "db", Status::Critical),
            chk("a", "web", Status::Passing),
        ];
        let r = aggregate("n1", "web", &checks, || true);
        assert_eq!(r, CheckResult::passing("All checks passing."));
    }

    #[test]
    fn no_checks_and_missing_service() {
        assert_eq!(
            aggregate("n1", "web", &[], || true),
            CheckResult::passing("No checks found.")
        );
        assert_eq!(
            aggregate("n1", "web", &[], || false),
            CheckResult::critical("Service web could not be found on node n1")
        );
    }
}
