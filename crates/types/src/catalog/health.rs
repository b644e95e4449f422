//! The health view: a service instance with its node and every check that applies to it,
//! and the aggregation rules shared by the health API, DNS and prepared queries.

use super::check::{CheckStatus, HealthCheck};
use super::node::Node;
use super::service::NodeService;
use serde::{Deserialize, Serialize};

/// One element of `/v1/health/service/:service` (`structs.CheckServiceNode`): the node, the
/// instance, and the node-level checks plus this instance's checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct CheckServiceNode {
    pub node: Node,
    pub service: NodeService,
    pub checks: Vec<HealthCheck>,
}

impl CheckServiceNode {
    /// `?passing`: every check, node-level and service-level, is passing (warning excluded).
    pub fn all_passing(&self) -> bool {
        self.checks.iter().all(|c| c.status == CheckStatus::Passing)
    }
}

/// Consul's aggregate: maintenance wins, then critical, then warning, else passing.
pub fn aggregate_status<'a>(checks: impl IntoIterator<Item = &'a HealthCheck>) -> CheckStatus {
    let mut worst = CheckStatus::Passing;
    for check in checks {
        let rank = |s: CheckStatus| match s {
            CheckStatus::Passing => 0,
            CheckStatus::Warning => 1,
            CheckStatus::Critical => 2,
            CheckStatus::Maintenance => 3,
        };
        if rank(check.status) > rank(worst) {
            worst = check.status;
        }
    }
    worst
}

/// The `:state` of `/v1/health/state/:state`: a status, or `any`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    Any,
    Is(CheckStatus),
}

impl HealthState {
    /// Consul does not validate the state: an unknown one simply matches no check, so this
    /// returns `None` only for callers that want to tell the difference.
    pub fn parse(text: &str) -> Option<HealthState> {
        match text {
            "any" => Some(HealthState::Any),
            "passing" => Some(HealthState::Is(CheckStatus::Passing)),
            "warning" => Some(HealthState::Is(CheckStatus::Warning)),
            "critical" => Some(HealthState::Is(CheckStatus::Critical)),
            "maintenance" => Some(HealthState::Is(CheckStatus::Maintenance)),
            _ => None,
        }
    }

    pub fn matches(self, status: CheckStatus) -> bool {
        match self {
            HealthState::Any => true,
            HealthState::Is(s) => s == status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(status: CheckStatus) -> HealthCheck {
        HealthCheck {
            status,
            ..HealthCheck::default()
        }
    }

    #[test]
    fn aggregation_order() {
        use CheckStatus::*;
        assert_eq!(aggregate_status([]), Passing);
        assert_eq!(aggregate_status(&[check(Passing), check(Warning)]), Warning);
        assert_eq!(
            aggregate_status(&[check(Warning), check(Critical), check(Passing)]),
            Critical
        );
        assert_eq!(
            aggregate_status(&[check(Critical), check(Maintenance)]),
            Maintenance
        );
    }
}
