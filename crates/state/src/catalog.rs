//! Catalog writes: register and deregister nodes, services and checks with Consul's rules
//! (`agent/consul/state/catalog.go`).
//!
//! A registration is validated against the current state first and applied only if all of it
//! can be, so a failed one changes nothing (Consul runs it in one memdb transaction). Every
//! change to a service instance, to one of its checks, or to its node (row or node-level
//! check) bumps that service name's index, which is what health and catalog reads of the
//! service report and watch.

use crate::command::{ApplyError, Response};
use crate::store::{ServiceRow, Store, check_key, node_prefix, service_key};
use proconsul_types::catalog::{CheckStatus, HealthCheck, Node, NodeService, RegisterRequest};
use std::collections::BTreeSet;

impl Store {
    /// The agent's self-registration: a node and its node-level checks.
    pub(crate) fn node_register(
        &mut self,
        index: u64,
        now_ms: u64,
        node: &Node,
        checks: &[HealthCheck],
    ) -> Response {
        let request = RegisterRequest {
            datacenter: node.datacenter.clone(),
            id: node.id.clone(),
            node: node.node.clone(),
            address: node.address.clone(),
            tagged_addresses: node.tagged_addresses.clone(),
            node_meta: node.meta.clone(),
            checks: checks.to_vec(),
            ..RegisterRequest::default()
        };
        self.catalog_register(index, now_ms, &request)
    }

    /// `Catalog.Register`: creates or updates the node, then the service, then the checks.
    /// Unchanged parts are not rewritten, so their indexes stay put.
    pub(crate) fn catalog_register(
        &mut self,
        index: u64,
        now_ms: u64,
        request: &RegisterRequest,
    ) -> Response {
        if let Err(err) = self.register_validate(request) {
            return Response::Error(err);
        }
        self.ensure_node(index, request);
        if let Some(service) = &request.service {
            self.ensure_service(index, &request.node, service);
        }
        for check in request.checks.iter().chain(request.check.iter()) {
            let mut check = check.clone();
            if check.node.is_empty() {
                check.node = request.node.clone();
            }
            if check.check_id.is_empty() {
                check.check_id = check.name.clone();
            }
            self.ensure_check(index, now_ms, check);
        }
        Response::Done
    }

    /// Everything that could make the registration fail halfway, checked up front.
    fn register_validate(&self, request: &RegisterRequest) -> Result<(), ApplyError> {
        if request.node.is_empty() {
            return Err(ApplyError::MissingNodeName);
        }
        if let Some(service) = &request.service
            && (service.id.is_empty() || service.service.is_empty())
        {
            return Err(ApplyError::ServiceInsert(
                "Missing service ID or name".into(),
            ));
        }
        for check in request.checks.iter().chain(request.check.iter()) {
            let node = if check.node.is_empty() {
                &request.node
            } else {
                &check.node
            };
            if check.check_id.is_empty() && check.name.is_empty() {
                return Err(ApplyError::CheckInsert("Missing check ID".into()));
            }
            if node != &request.node && self.nodes.get(node).is_none() {
                return Err(ApplyError::CheckInsert("Missing node registration".into()));
            }
            if check.service_id.is_empty() {
                continue;
            }
            let registering = node == &request.node
                && request
                    .service
                    .as_ref()
                    .is_some_and(|s| s.id == check.service_id);
            let exists = self
                .services
                .get(&service_key(node, &check.service_id))
                .is_some();
            if !registering && !exists {
                return Err(ApplyError::CheckInsert(
                    "Missing service registration".into(),
                ));
            }
        }
        Ok(())
    }

    /// Creates the node, or updates it when the request changes it (never with
    /// `SkipNodeUpdate` on an existing node).
    fn ensure_node(&mut self, index: u64, request: &RegisterRequest) {
        if request.skip_node_update && self.nodes.get(&request.node).is_some() {
            return;
        }
        self.upsert_node(index, request.to_node());
    }

    /// Writes a node row unless it is unchanged (Consul's `ensureNodeTxn`): the create index
    /// is kept, the modify index becomes `index`, and every service on the node is touched.
    pub(crate) fn upsert_node(&mut self, index: u64, mut row: Node) {
        let existing = self.nodes.get(&row.node);
        if existing.is_some_and(|e| e.is_same(&row)) {
            return;
        }
        row.create_index = existing.map_or(index, |e| e.create_index);
        row.modify_index = index;
        let name = row.node.clone();
        self.nodes.insert(name.clone(), row, index);
        // Node fields are part of every service answer on the node.
        self.touch_node_services(index, &name);
    }

    pub(crate) fn ensure_service(&mut self, index: u64, node: &str, service: &NodeService) {
        let key = service_key(node, &service.id);
        let existing = self.services.get(&key).map(|r| r.service.clone());
        let mut row = service.clone();
        row.weights = Some(row.weights.unwrap_or_default());
        if existing.as_ref().is_some_and(|e| e.is_same(&row)) {
            return;
        }
        row.create_index = existing.as_ref().map_or(index, |e| e.create_index);
        row.modify_index = index;
        let name = row.service.clone();
        let row = ServiceRow {
            node: node.to_string(),
            service: row,
        };
        self.services.insert(key, row, index);
        self.touch_service(index, &name);
        if let Some(old) = existing.filter(|e| e.service != name) {
            self.touch_service(index, &old.service);
        }
    }

    pub(crate) fn ensure_check(&mut self, index: u64, now_ms: u64, mut check: HealthCheck) {
        // A service check carries its service's name and tags, copied at write time.
        match self
            .services
            .get(&service_key(&check.node, &check.service_id))
        {
            Some(row) if !check.service_id.is_empty() => {
                check.service_name = row.service.service.clone();
                check.service_tags = row.service.tags.clone();
            }
            _ => {
                check.service_name.clear();
                check.service_tags.clear();
            }
        }
        let key = check_key(&check.node, &check.check_id);
        let existing = self.checks.get(&key);
        if existing.is_some_and(|e| check.is_same(e)) {
            return;
        }
        check.create_index = existing.map_or(index, |e| e.create_index);
        check.modify_index = index;
        let critical = check.status == CheckStatus::Critical;
        let (node, check_id) = (check.node.clone(), check.check_id.clone());
        self.touch_check_services(index, &check);
        self.checks.insert(key, check, index);
        if critical {
            for id in self.sessions_using_check(&node, &check_id) {
                self.session_invalidate(index, now_ms, &id);
            }
        }
    }

    /// `Catalog.Deregister`: a service (with its checks), else a check, else the node.
    /// Removing something that does not exist is not an error.
    pub(crate) fn catalog_deregister(
        &mut self,
        index: u64,
        now_ms: u64,
        node: &str,
        service_id: &Option<String>,
        check_id: &Option<String>,
    ) -> Response {
        if node.is_empty() {
            return Response::Error(ApplyError::MissingNodeName);
        }
        match (service_id.as_deref(), check_id.as_deref()) {
            (Some(sid), _) if !sid.is_empty() => self.delete_service(index, now_ms, node, sid),
            (_, Some(cid)) if !cid.is_empty() => self.delete_check(index, now_ms, node, cid),
            _ => self.delete_node(index, now_ms, node),
        }
        Response::Done
    }

    pub(crate) fn delete_service(&mut self, index: u64, now_ms: u64, node: &str, service_id: &str) {
        let Some(row) = self.services.remove(&service_key(node, service_id), index) else {
            return;
        };
        for check_id in self.node_check_ids(node, |c| c.service_id == service_id) {
            self.delete_check(index, now_ms, node, &check_id);
        }
        self.touch_service(index, &row.service.service);
    }

    /// Removes a check and invalidates the sessions that depended on it.
    pub(crate) fn delete_check(&mut self, index: u64, now_ms: u64, node: &str, check_id: &str) {
        let key = check_key(node, check_id);
        let Some(check) = self.checks.get(&key).cloned() else {
            return;
        };
        self.touch_check_services(index, &check);
        self.checks.remove(&key, index);
        for id in self.sessions_using_check(node, check_id) {
            self.session_invalidate(index, now_ms, &id);
        }
    }

    /// Removes a node with its services, checks and sessions.
    pub(crate) fn delete_node(&mut self, index: u64, now_ms: u64, node: &str) {
        if self.nodes.get(node).is_none() {
            return;
        }
        let service_ids: Vec<String> = self
            .services
            .prefix(&node_prefix(node))
            .map(|(_, r)| r.service.id.clone())
            .collect();
        for service_id in service_ids {
            self.delete_service(index, now_ms, node, &service_id);
        }
        for check_id in self.node_check_ids(node, |_| true) {
            self.delete_check(index, now_ms, node, &check_id);
        }
        for id in self.sessions.keys_by_secondary(node) {
            self.session_invalidate(index, now_ms, &id);
        }
        self.nodes.remove(node, index);
    }

    fn node_check_ids(&self, node: &str, keep: impl Fn(&HealthCheck) -> bool) -> Vec<String> {
        self.checks
            .prefix(&node_prefix(node))
            .filter(|(_, c)| keep(c))
            .map(|(_, c)| c.check_id.clone())
            .collect()
    }

    /// A service check changes its service's answers; a node check those of every service
    /// on the node.
    fn touch_check_services(&mut self, index: u64, check: &HealthCheck) {
        if check.service_id.is_empty() {
            self.touch_node_services(index, &check.node);
        } else if let Some(row) = self
            .services
            .get(&service_key(&check.node, &check.service_id))
        {
            let name = row.service.service.clone();
            self.touch_service(index, &name);
        }
    }

    fn touch_node_services(&mut self, index: u64, node: &str) {
        let names: BTreeSet<String> = self
            .services
            .prefix(&node_prefix(node))
            .map(|(_, r)| r.service.service.clone())
            .collect();
        for name in names {
            self.touch_service(index, &name);
        }
    }

    /// Records a change to service `name` at `index`; when its last instance is gone the
    /// per-name index is dropped and the extinction index takes over (as in Consul), so the
    /// table only holds names that exist.
    fn touch_service(&mut self, index: u64, name: &str) {
        if self.services.keys_by_secondary(name).is_empty() {
            self.service_index.remove(name, index);
            self.service_extinction = self.service_extinction.max(index);
        } else {
            self.service_index.insert(name.to_string(), index, index);
        }
    }
}
