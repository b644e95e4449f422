//! The catalog tables (nodes and node checks so far): what sessions are validated against.

use crate::command::Response;
use crate::store::{Store, check_key, nonzero};
use crate::watch::Watch;
use proconsul_types::catalog::{CheckStatus, HealthCheck, Node};

impl Store {
    /// Registers or updates a node and its node-level checks. A check turning critical
    /// invalidates the sessions that depend on it, as in Consul.
    pub(crate) fn node_register(
        &mut self,
        index: u64,
        now_ms: u64,
        node: &Node,
        checks: &[HealthCheck],
    ) -> Response {
        let existing = self.nodes.get(&node.node);
        let unchanged = existing.is_some_and(|e| {
            e.id == node.id
                && e.address == node.address
                && e.meta == node.meta
                && e.tagged_addresses == node.tagged_addresses
        });
        if !unchanged {
            let mut row = node.clone();
            row.create_index = existing.map_or(index, |e| e.create_index);
            row.modify_index = index;
            self.nodes.insert(row.node.clone(), row, index);
        }
        for check in checks {
            self.check_upsert(index, now_ms, &node.node, check);
        }
        Response::Done
    }

    fn check_upsert(&mut self, index: u64, now_ms: u64, node: &str, check: &HealthCheck) {
        let key = check_key(node, &check.check_id);
        let existing = self.checks.get(&key);
        let mut row = check.clone();
        row.node = node.to_string();
        if let Some(e) = existing {
            let mut same = e.clone();
            same.create_index = row.create_index;
            same.modify_index = row.modify_index;
            if same == row {
                return;
            }
        }
        row.create_index = existing.map_or(index, |e| e.create_index);
        row.modify_index = index;
        let critical = row.status == CheckStatus::Critical;
        self.checks.insert(key, row, index);
        if critical {
            for id in self.sessions_using_check(node, &check.check_id) {
                self.session_invalidate(index, now_ms, &id);
            }
        }
    }

    pub fn node_get(&self, name: &str) -> (u64, Option<&Node>) {
        (nonzero(self.nodes.max_index()), self.nodes.get(name))
    }

    pub fn node_list(&self) -> (u64, Vec<&Node>) {
        (
            nonzero(self.nodes.max_index()),
            self.nodes.iter().map(|(_, n)| n).collect(),
        )
    }

    pub fn watch_nodes(&self) -> Watch {
        self.nodes.watch_table()
    }
}
