//! Anti-entropy: keeps the catalog's entries for this node equal to the agent's local
//! state. Changes are pushed at once (the HTTP handlers wait for that push, as Consul's
//! do); a periodic full sync reads the catalog and repairs drift in both directions — a
//! service deleted from the catalog by hand comes back, one the agent no longer has goes
//! away. A server that cannot write (no leader) only delays the sync: entries stay out of
//! sync and are retried with a bounded backoff.

use crate::local_state::{LocalCheck, LocalService, LocalState};
use proconsul_server::Server;
use proconsul_state::{Command, Response};
use proconsul_types::catalog::{HealthCheck, Node, NodeService, RegisterRequest};
use proconsul_types::session::SERF_HEALTH_CHECK;
use std::collections::HashSet;
use std::sync::{Arc, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// The server's own service, managed with the node registration, never by local state.
pub const CONSUL_SERVICE_ID: &str = "consul";

const RETRY_MIN: Duration = Duration::from_millis(10);
const RETRY_MAX: Duration = Duration::from_secs(10);

pub struct AntiEntropy {
    local: Arc<LocalState>,
    server: Arc<Server>,
    /// This node as the catalog should have it.
    node: Node,
    /// Commands that (re)register the node, its serfHealth check and the `consul` service.
    node_registration: Vec<Command>,
    interval: Duration,
    /// One sync at a time: handlers and the background loop share it.
    sync_lock: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct SyncFailed(String);

impl AntiEntropy {
    pub fn new(
        local: Arc<LocalState>,
        server: Arc<Server>,
        node: Node,
        node_registration: Vec<Command>,
        interval: Duration,
    ) -> Arc<AntiEntropy> {
        Arc::new(AntiEntropy {
            local,
            server,
            node,
            node_registration,
            interval,
            sync_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The background loop: a full sync at start and every interval, pending changes
    /// whenever local state changes, retries with backoff while the server refuses.
    pub async fn run(self: Arc<Self>) {
        let mut next_full = Instant::now();
        let mut backoff = RETRY_MIN;
        loop {
            let now = Instant::now();
            let mut ok = true;
            if now >= next_full {
                match self.full_sync().await {
                    Ok(()) => next_full = now + self.interval,
                    Err(SyncFailed(reason)) => {
                        tracing::debug!(%reason, "anti-entropy full sync postponed");
                        ok = false;
                    }
                }
            }
            let deferred = self.local.promote_deferred(now);
            if ok && let Err(SyncFailed(reason)) = self.push_changes().await {
                tracing::debug!(%reason, "anti-entropy sync postponed");
                ok = false;
            }
            let mut wake = next_full;
            if let Some(due) = deferred {
                wake = wake.min(due);
            }
            if ok {
                backoff = RETRY_MIN;
            } else {
                wake = wake.min(Instant::now() + backoff);
                backoff = (backoff * 2).min(RETRY_MAX);
            }
            tokio::select! {
                _ = self.local.sync_wanted.notified() => {}
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    /// Pushes pending changes now; a failure is logged and left to the loop's retries.
    pub async fn sync_changes(&self) {
        if let Err(SyncFailed(reason)) = self.push_changes().await {
            tracing::warn!(%reason, "failed to sync changes; anti-entropy will retry");
        }
    }

    async fn apply(&self, command: Command) -> Result<(), SyncFailed> {
        match self.server.apply(command).await {
            Ok((_, Response::Error(err))) => Err(SyncFailed(err.to_string())),
            Ok(_) => Ok(()),
            Err(err) => Err(SyncFailed(err.to_string())),
        }
    }

    fn register_request(&self) -> RegisterRequest {
        RegisterRequest {
            datacenter: self.node.datacenter.clone(),
            id: self.node.id.clone(),
            node: self.node.node.clone(),
            address: self.node.address.clone(),
            tagged_addresses: self.node.tagged_addresses.clone(),
            node_meta: self.node.meta.clone(),
            skip_node_update: true,
            ..RegisterRequest::default()
        }
    }

    async fn push_changes(&self) -> Result<(), SyncFailed> {
        let _guard = self.sync_lock.lock().await;
        let (services, checks) = {
            let e = self.local.lock();
            let services: Vec<LocalService> = e
                .services
                .values()
                .filter(|s| !s.in_sync)
                .cloned()
                .collect();
            let checks: Vec<LocalCheck> = e
                .checks
                .values()
                .filter(|c| !c.in_sync && c.deferred_until.is_none())
                .cloned()
                .collect();
            (services, checks)
        };
        let node = self.node.node.clone();
        for s in services.iter().filter(|s| s.deleted) {
            self.apply(Command::CatalogDeregister {
                node: node.clone(),
                service_id: Some(s.service.id.clone()),
                check_id: None,
            })
            .await?;
            self.local.mark_service_synced(&s.service.id, s.generation);
        }
        for c in checks.iter().filter(|c| c.deleted) {
            self.apply(Command::CatalogDeregister {
                node: node.clone(),
                service_id: None,
                check_id: Some(c.check.check_id.clone()),
            })
            .await?;
            self.local
                .mark_check_synced(&c.check.check_id, c.generation);
        }
        let mut pushed_with_service = HashSet::new();
        for s in services.iter().filter(|s| !s.deleted) {
            // The service goes with its checks in one write, so it never shows up in the
            // catalog without them (and so briefly healthy).
            let own: Vec<&LocalCheck> = checks
                .iter()
                .filter(|c| !c.deleted && c.check.service_id == s.service.id)
                .collect();
            let mut request = self.register_request();
            request.service = Some(s.service.clone());
            request.checks = own.iter().map(|c| c.check.clone()).collect();
            self.apply(Command::CatalogRegister(Box::new(request)))
                .await?;
            self.local.mark_service_synced(&s.service.id, s.generation);
            for c in own {
                self.local
                    .mark_check_synced(&c.check.check_id, c.generation);
                pushed_with_service.insert(c.check.check_id.clone());
            }
        }
        for c in checks
            .iter()
            .filter(|c| !c.deleted && !pushed_with_service.contains(&c.check.check_id))
        {
            let mut request = self.register_request();
            request.checks = vec![c.check.clone()];
            self.apply(Command::CatalogRegister(Box::new(request)))
                .await?;
            self.local
                .mark_check_synced(&c.check.check_id, c.generation);
        }
        Ok(())
    }

    /// Reads this node's catalog entries and marks every difference for the next push.
    async fn full_sync(&self) -> Result<(), SyncFailed> {
        let (node_row, services, checks) = self.catalog_view();
        let registered = node_row.is_some_and(|n| n.address == self.node.address)
            && services.iter().any(|s| s.id == CONSUL_SERVICE_ID)
            && checks.iter().any(|c| c.check_id == SERF_HEALTH_CHECK);
        if !registered {
            for command in self.node_registration.clone() {
                self.apply(command).await?;
            }
        }
        self.compare(services, checks);
        self.push_changes().await
    }

    fn catalog_view(&self) -> (Option<Node>, Vec<NodeService>, Vec<HealthCheck>) {
        let store = self.server.consensus().store().clone();
        let store = store.read().unwrap_or_else(PoisonError::into_inner);
        let (_, node) = store.catalog_node_services(&self.node.node);
        let (_, checks) = store.health_node_checks(&self.node.node);
        match node {
            Some((row, services)) => (Some(row), services, checks),
            None => (None, Vec::new(), checks),
        }
    }

    /// Consul's `updateSyncState`: entries only the catalog has are deleted, entries that
    /// differ or are missing there are pushed again.
    fn compare(&self, catalog_services: Vec<NodeService>, catalog_checks: Vec<HealthCheck>) {
        let service_ids: HashSet<String> = catalog_services.iter().map(|s| s.id.clone()).collect();
        let check_ids: HashSet<String> =
            catalog_checks.iter().map(|c| c.check_id.clone()).collect();
        let mut e = self.local.lock();
        for s in e.services.values_mut().filter(|s| !s.deleted) {
            if !service_ids.contains(&s.service.id) {
                s.in_sync = false;
            }
        }
        for c in e.checks.values_mut().filter(|c| !c.deleted) {
            if !check_ids.contains(&c.check.check_id) {
                c.in_sync = false;
            }
        }
        for remote in catalog_services {
            if remote.id == CONSUL_SERVICE_ID {
                continue;
            }
            match e.services.get_mut(&remote.id) {
                Some(s) if !s.deleted => s.in_sync = s.service.is_same(&remote),
                Some(_) => {}
                None => {
                    e.services
                        .insert(remote.id.clone(), LocalService::orphan(remote));
                }
            }
        }
        for remote in catalog_checks {
            if remote.check_id == SERF_HEALTH_CHECK {
                continue;
            }
            match e.checks.get_mut(&remote.check_id) {
                Some(c) if !c.deleted => {
                    let mut local = c.check.clone();
                    if c.deferred_until.is_some() {
                        // An output-only change is not due yet: compare without it.
                        local.output = remote.output.clone();
                    }
                    c.in_sync = local.is_same(&remote);
                }
                Some(_) => {}
                None => {
                    e.checks
                        .insert(remote.check_id.clone(), LocalCheck::orphan(remote));
                }
            }
        }
    }
}
