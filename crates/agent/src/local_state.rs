//! The agent's own view of the services and checks registered with it (Consul's
//! `agent/local.State`): the source of truth anti-entropy pushes to the catalog. Each entry
//! carries whether the catalog already has it (`in_sync`) and a generation, so a sync that
//! raced a newer change never marks that change as synced.

use proconsul_types::agent::CheckDefinition;
use proconsul_types::catalog::{CheckStatus, HealthCheck, NodeService};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

/// Where a definition came from: config files are reloaded from the files; API
/// registrations are persisted in the data dir.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Config,
    Api,
}

#[derive(Debug, Clone)]
pub struct LocalService {
    pub service: NodeService,
    pub token: String,
    pub source: Source,
    pub in_sync: bool,
    /// Removed locally; kept until the catalog has forgotten it too.
    pub deleted: bool,
    pub generation: u64,
}

#[derive(Debug, Clone)]
pub struct LocalCheck {
    pub check: HealthCheck,
    /// How the check runs; empty for maintenance checks, which nothing runs.
    pub definition: CheckDefinition,
    pub token: String,
    pub source: Source,
    pub in_sync: bool,
    pub deleted: bool,
    pub generation: u64,
    /// When the check last turned critical (for `DeregisterCriticalServiceAfter`).
    pub critical_since: Option<Instant>,
    /// An output-only change waits until then before it counts as out of sync (Consul's
    /// `check_update_interval`), so chatty checks do not write to Raft on every run.
    pub deferred_until: Option<Instant>,
}

impl LocalService {
    /// A catalog entry the agent does not have: to be deregistered by the next push.
    pub fn orphan(service: NodeService) -> LocalService {
        LocalService {
            service,
            token: String::new(),
            source: Source::Api,
            in_sync: false,
            deleted: true,
            generation: 0,
        }
    }
}

impl LocalCheck {
    /// A catalog check the agent does not have: to be deregistered by the next push.
    pub fn orphan(check: HealthCheck) -> LocalCheck {
        LocalCheck {
            check,
            definition: CheckDefinition::default(),
            token: String::new(),
            source: Source::Api,
            in_sync: false,
            deleted: true,
            generation: 0,
            critical_since: None,
            deferred_until: None,
        }
    }
}

#[derive(Debug, Default)]
pub struct Entries {
    pub services: BTreeMap<String, LocalService>,
    pub checks: BTreeMap<String, LocalCheck>,
    next_generation: u64,
}

impl Entries {
    fn next_generation(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }

    /// Live (not deleted) services.
    pub fn live_services(&self) -> impl Iterator<Item = &LocalService> {
        self.services.values().filter(|s| !s.deleted)
    }

    /// Live checks.
    pub fn live_checks(&self) -> impl Iterator<Item = &LocalCheck> {
        self.checks.values().filter(|c| !c.deleted)
    }
}

pub struct LocalState {
    entries: Mutex<Entries>,
    /// Bumped on every change, for hash-based blocking queries.
    version: watch::Sender<u64>,
    /// Wakes anti-entropy to push changes.
    pub sync_wanted: Notify,
    /// How long an output-only check change may wait before it is synced.
    check_update_interval: std::time::Duration,
}

impl LocalState {
    pub fn new(check_update_interval: std::time::Duration) -> LocalState {
        LocalState {
            entries: Mutex::new(Entries::default()),
            version: watch::channel(0).0,
            sync_wanted: Notify::new(),
            check_update_interval,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// Tells watchers and anti-entropy that something changed.
    pub fn changed(&self) {
        self.version.send_modify(|v| *v += 1);
        self.sync_wanted.notify_one();
    }

    pub fn add_service(&self, service: NodeService, token: &str, source: Source) {
        let mut e = self.lock();
        let generation = e.next_generation();
        e.services.insert(
            service.id.clone(),
            LocalService {
                service,
                token: token.to_string(),
                source,
                in_sync: false,
                deleted: false,
                generation,
            },
        );
        drop(e);
        self.changed();
    }

    /// Marks a service and its checks deleted. False if there was no such service.
    pub fn remove_service(&self, id: &str) -> bool {
        let mut e = self.lock();
        if e.services.get(id).is_none_or(|s| s.deleted) {
            return false;
        }
        let generation = e.next_generation();
        if let Some(s) = e.services.get_mut(id) {
            s.deleted = true;
            s.in_sync = false;
            s.generation = generation;
        }
        let owned: Vec<String> = e
            .live_checks()
            .filter(|c| c.check.service_id == id)
            .map(|c| c.check.check_id.clone())
            .collect();
        for check_id in owned {
            mark_check_deleted(&mut e, &check_id);
        }
        drop(e);
        self.changed();
        true
    }

    /// Adds or replaces a check. A replaced check keeps its status and output unless the
    /// new definition sets an initial status (Consul restores state the same way).
    pub fn add_check(
        &self,
        mut check: HealthCheck,
        definition: CheckDefinition,
        token: &str,
        source: Source,
    ) {
        let mut e = self.lock();
        let generation = e.next_generation();
        let previous = e.checks.get(&check.check_id).filter(|c| !c.deleted);
        let critical_since = match previous {
            Some(p) if definition.status.is_empty() => {
                check.status = p.check.status;
                check.output = p.check.output.clone();
                p.critical_since
            }
            _ => (check.status == CheckStatus::Critical).then(Instant::now),
        };
        e.checks.insert(
            check.check_id.clone(),
            LocalCheck {
                check,
                definition,
                token: token.to_string(),
                source,
                in_sync: false,
                deleted: false,
                generation,
                critical_since,
                deferred_until: None,
            },
        );
        drop(e);
        self.changed();
    }

    /// Marks a check deleted. False if there was no such check.
    pub fn remove_check(&self, id: &str) -> bool {
        let mut e = self.lock();
        if e.checks.get(id).is_none_or(|c| c.deleted) {
            return false;
        }
        mark_check_deleted(&mut e, id);
        drop(e);
        self.changed();
        true
    }

    /// Records a check result. A status change is synced at once; an output-only change
    /// waits `check_update_interval`. Unknown (just removed) checks are ignored.
    pub fn update_check(&self, id: &str, status: CheckStatus, output: &str) {
        let mut e = self.lock();
        let generation = e.next_generation();
        let interval = self.check_update_interval;
        let Some(c) = e.checks.get_mut(id).filter(|c| !c.deleted) else {
            return;
        };
        if c.check.status == status && c.check.output == output {
            return;
        }
        let status_changed = c.check.status != status;
        if status_changed {
            c.critical_since = (status == CheckStatus::Critical).then(Instant::now);
        }
        c.check.status = status;
        c.check.output = output.to_string();
        c.generation = generation;
        if status_changed || interval.is_zero() {
            c.in_sync = false;
            c.deferred_until = None;
        } else if c.in_sync && c.deferred_until.is_none() {
            c.deferred_until = Some(Instant::now() + interval);
        }
        drop(e);
        self.changed();
    }

    /// Marks entries synced, unless they changed since `generation` was read.
    pub fn mark_service_synced(&self, id: &str, generation: u64) {
        let mut e = self.lock();
        let remove = match e.services.get_mut(id) {
            Some(s) if s.generation == generation => {
                s.in_sync = true;
                s.deleted
            }
            _ => false,
        };
        if remove {
            e.services.remove(id);
        }
    }

    pub fn mark_check_synced(&self, id: &str, generation: u64) {
        let mut e = self.lock();
        let remove = match e.checks.get_mut(id) {
            Some(c) if c.generation == generation => {
                c.in_sync = true;
                c.deferred_until = None;
                c.deleted
            }
            _ => false,
        };
        if remove {
            e.checks.remove(id);
        }
    }

    /// Turns due deferred output updates into pending syncs; returns the next due time.
    pub fn promote_deferred(&self, now: Instant) -> Option<Instant> {
        let mut e = self.lock();
        let mut next: Option<Instant> = None;
        for c in e.checks.values_mut() {
            match c.deferred_until {
                Some(due) if due <= now => {
                    c.deferred_until = None;
                    c.in_sync = false;
                }
                Some(due) => next = Some(next.map_or(due, |n| n.min(due))),
                None => {}
            }
        }
        next
    }
}

fn mark_check_deleted(e: &mut Entries, id: &str) {
    let generation = e.next_generation();
    if let Some(c) = e.checks.get_mut(id) {
        c.deleted = true;
        c.in_sync = false;
        c.deferred_until = None;
        c.generation = generation;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn check(id: &str, service: &str) -> HealthCheck {
        HealthCheck {
            check_id: id.into(),
            service_id: service.into(),
            ..HealthCheck::default()
        }
    }

    #[test]
    fn removing_a_service_deletes_its_checks() {
        let state = LocalState::new(Duration::from_secs(300));
        state.add_service(
            NodeService {
                id: "web".into(),
                ..NodeService::default()
            },
            "",
            Source::Api,
        );
        state.add_check(
            check("c1", "web"),
            CheckDefinition::default(),
            "",
            Source::Api,
        );
        state.add_check(check("c2", ""), CheckDefinition::default(), "", Source::Api);
        assert!(state.remove_service("web"));
        assert!(!state.remove_service("web"));
        let e = state.lock();
        assert!(e.checks["c1"].deleted);
        assert!(!e.checks["c2"].deleted);
    }

    #[test]
    fn a_sync_that_raced_a_change_does_not_mark_it_synced() {
        let state = LocalState::new(Duration::from_secs(300));
        state.add_check(check("c", ""), CheckDefinition::default(), "", Source::Api);
        let generation = state.lock().checks["c"].generation;
        state.update_check("c", CheckStatus::Passing, "ok");
        state.mark_check_synced("c", generation);
        assert!(!state.lock().checks["c"].in_sync);
    }

    #[test]
    fn output_only_changes_are_deferred() {
        let state = LocalState::new(Duration::from_secs(300));
        state.add_check(check("c", ""), CheckDefinition::default(), "", Source::Api);
        state.update_check("c", CheckStatus::Passing, "one");
        let generation = state.lock().checks["c"].generation;
        state.mark_check_synced("c", generation);
        state.update_check("c", CheckStatus::Passing, "two");
        let e = state.lock();
        assert!(e.checks["c"].in_sync, "output-only change waits");
        assert!(e.checks["c"].deferred_until.is_some());
        assert_eq!(e.checks["c"].check.output, "two");
    }
}
