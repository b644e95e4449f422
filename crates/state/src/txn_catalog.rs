//! Node, Service and Check operations of `/v1/txn` (Consul's `txnNode`, `txnService`,
//! `txnCheck` in `agent/consul/state/txn.go`), with Consul's error texts.
//!
//! Writes go through the same catalog helpers as `/v1/catalog/register` and `deregister`, so
//! they bump the same per-service indexes and fire the same watches, and they run inside
//! the transaction's journal (`Store::txn_apply`), so a failed transaction undoes them.
//! Writes answer with the row as stored; deletes answer nothing.

use crate::store::{Store, check_key, service_key};
use proconsul_types::catalog::Node;
use proconsul_types::txn::{CatalogVerb, TxnCheckOp, TxnNodeOp, TxnOp, TxnResult, TxnServiceOp};

/// Consul's `ErrMissingNode` and `ErrMissingService`.
const MISSING_NODE: &str = "Missing node registration";
const MISSING_SERVICE: &str = "Missing service registration";

/// CAS on a write: index 0 means "only if absent", otherwise the row must exist with
/// exactly that modify index.
fn cas_allows(existing: Option<u64>, wanted: u64) -> bool {
    match existing {
        None => wanted == 0,
        Some(current) => wanted != 0 && current == wanted,
    }
}

impl Store {
    pub(crate) fn txn_node_write(
        &mut self,
        index: u64,
        now_ms: u64,
        op: &TxnNodeOp,
    ) -> Result<Vec<TxnResult>, String> {
        let name = op.node.node.as_str();
        match op.verb {
            CatalogVerb::Get => return self.txn_node_read(op),
            CatalogVerb::Set => self.txn_node_set(index, now_ms, &op.node),
            CatalogVerb::Cas => {
                let existing = self.nodes.get(name).map(|n| n.modify_index);
                if !cas_allows(existing, op.node.modify_index) {
                    return Err(format!("failed to set node {name:?}, index is stale"));
                }
                self.txn_node_set(index, now_ms, &op.node);
            }
            CatalogVerb::Delete => {
                self.delete_node(index, now_ms, name);
                return Ok(Vec::new());
            }
            CatalogVerb::DeleteCas => {
                let existing = self.nodes.get(name).map(|n| n.modify_index);
                if existing != Some(op.node.modify_index) {
                    return Err(format!("failed to delete node {name:?}, index is stale"));
                }
                self.delete_node(index, now_ms, name);
                return Ok(Vec::new());
            }
        }
        Ok(self
            .txn_find_node(&op.node)
            .map(|n| vec![TxnResult::Node(Box::new(n.clone()))])
            .unwrap_or_default())
    }

    /// Consul's `ensureNodeTxn`: a node whose ID is already registered under another name is
    /// renamed (the old registration, with its services and checks, is removed first).
    fn txn_node_set(&mut self, index: u64, now_ms: u64, node: &Node) {
        if !node.id.is_empty() {
            let renamed = self
                .nodes
                .iter()
                .map(|(_, n)| n)
                .find(|n| n.id.eq_ignore_ascii_case(&node.id))
                .filter(|n| !n.node.eq_ignore_ascii_case(&node.node))
                .map(|n| n.node.clone());
            if let Some(old) = renamed {
                self.delete_node(index, now_ms, &old);
            }
        }
        self.upsert_node(index, node.clone());
    }

    /// By ID when one is given (Consul's precedence), else by name.
    fn txn_find_node(&self, node: &Node) -> Option<&Node> {
        if node.id.is_empty() {
            return self.nodes.get(&node.node);
        }
        self.nodes
            .iter()
            .map(|(_, n)| n)
            .find(|n| n.id.eq_ignore_ascii_case(&node.id))
    }

    fn txn_node_read(&self, op: &TxnNodeOp) -> Result<Vec<TxnResult>, String> {
        match self.txn_find_node(&op.node) {
            Some(node) => Ok(vec![TxnResult::Node(Box::new(node.clone()))]),
            None => Err(format!("node {:?} doesn't exist", op.node.node)),
        }
    }

    pub(crate) fn txn_service_write(
        &mut self,
        index: u64,
        now_ms: u64,
        op: &TxnServiceOp,
    ) -> Result<Vec<TxnResult>, String> {
        let (node, id) = (op.node.as_str(), op.service.id.as_str());
        let key = service_key(node, id);
        match op.verb {
            CatalogVerb::Get => return self.txn_service_read(op),
            CatalogVerb::Set => self.txn_service_set(index, op)?,
            CatalogVerb::Cas => {
                let existing = self.services.get(&key).map(|r| r.service.modify_index);
                if !cas_allows(existing, op.service.modify_index) {
                    return Err(format!(
                        "failed to set service {id:?} on node {node:?}, index is stale"
                    ));
                }
                self.txn_service_set(index, op)?;
            }
            CatalogVerb::Delete => {
                self.delete_service(index, now_ms, node, id);
                return Ok(Vec::new());
            }
            CatalogVerb::DeleteCas => {
                let existing = self.services.get(&key).map(|r| r.service.modify_index);
                if existing != Some(op.service.modify_index) {
                    return Err(format!(
                        "failed to delete service {id:?} on node {node:?}, index is stale"
                    ));
                }
                self.delete_service(index, now_ms, node, id);
                return Ok(Vec::new());
            }
        }
        Ok(self
            .services
            .get(&key)
            .map(|r| vec![TxnResult::Service(Box::new(r.service.clone()))])
            .unwrap_or_default())
    }

    fn txn_service_set(&mut self, index: u64, op: &TxnServiceOp) -> Result<(), String> {
        if self.nodes.get(&op.node).is_none() {
            return Err(MISSING_NODE.to_string());
        }
        self.ensure_service(index, &op.node, &op.service);
        Ok(())
    }

    fn txn_service_read(&self, op: &TxnServiceOp) -> Result<Vec<TxnResult>, String> {
        match self.services.get(&service_key(&op.node, &op.service.id)) {
            Some(row) => Ok(vec![TxnResult::Service(Box::new(row.service.clone()))]),
            None => Err(format!(
                "service {:?} on node {:?} doesn't exist",
                op.service.id, op.node
            )),
        }
    }

    pub(crate) fn txn_check_write(
        &mut self,
        index: u64,
        now_ms: u64,
        op: &TxnCheckOp,
    ) -> Result<Vec<TxnResult>, String> {
        let (node, id) = (op.check.node.as_str(), op.check.check_id.as_str());
        let key = check_key(node, id);
        match op.verb {
            CatalogVerb::Get => return self.txn_check_read(op),
            CatalogVerb::Set => self.txn_check_set(index, now_ms, op)?,
            CatalogVerb::Cas => {
                let existing = self.checks.get(&key).map(|c| c.modify_index);
                if !cas_allows(existing, op.check.modify_index) {
                    return Err(format!(
                        "failed to set check {id:?} on node {node:?}, index is stale"
                    ));
                }
                self.txn_check_set(index, now_ms, op)?;
            }
            CatalogVerb::Delete => {
                self.delete_check(index, now_ms, node, id);
                return Ok(Vec::new());
            }
            CatalogVerb::DeleteCas => {
                let existing = self.checks.get(&key).map(|c| c.modify_index);
                if existing != Some(op.check.modify_index) {
                    return Err(format!(
                        "failed to delete check {id:?} on node {node:?}, index is stale"
                    ));
                }
                self.delete_check(index, now_ms, node, id);
                return Ok(Vec::new());
            }
        }
        Ok(self
            .checks
            .get(&key)
            .map(|c| vec![TxnResult::Check(Box::new(c.clone()))])
            .unwrap_or_default())
    }

    /// Consul's `ensureCheckTxn`: the node must exist, and the service for a service check.
    fn txn_check_set(&mut self, index: u64, now_ms: u64, op: &TxnCheckOp) -> Result<(), String> {
        let check = &op.check;
        if self.nodes.get(&check.node).is_none() {
            return Err(MISSING_NODE.to_string());
        }
        if !check.service_id.is_empty()
            && self
                .services
                .get(&service_key(&check.node, &check.service_id))
                .is_none()
        {
            return Err(MISSING_SERVICE.to_string());
        }
        self.ensure_check(index, now_ms, check.clone());
        Ok(())
    }

    fn txn_check_read(&self, op: &TxnCheckOp) -> Result<Vec<TxnResult>, String> {
        match self
            .checks
            .get(&check_key(&op.check.node, &op.check.check_id))
        {
            Some(check) => Ok(vec![TxnResult::Check(Box::new(check.clone()))]),
            None => Err(format!(
                "check {:?} on node {:?} doesn't exist",
                op.check.check_id, op.check.node
            )),
        }
    }

    /// The `get` verbs of a read-only transaction.
    pub(crate) fn txn_catalog_read(&self, op: &TxnOp) -> Result<Vec<TxnResult>, String> {
        match op {
            TxnOp::Node(op) if op.verb.is_read() => self.txn_node_read(op),
            TxnOp::Service(op) if op.verb.is_read() => self.txn_service_read(op),
            TxnOp::Check(op) if op.verb.is_read() => self.txn_check_read(op),
            _ => Err("write operation in a read-only transaction".to_string()),
        }
    }
}
