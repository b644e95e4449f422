//! The agent's service and check registry as the HTTP API, config files and reloads drive
//! it: local state + check runners + persistence + anti-entropy, with the rules Consul's
//! agent applies (script checks refused unless enabled, maintenance checks, replacing a
//! service's checks, deregistering services whose checks stay critical too long).

use crate::anti_entropy::AntiEntropy;
use crate::check_supervisor::CheckSupervisor;
use crate::local_state::{LocalState, Source};
use crate::persistence::{self, Persisted, PersistedCheck, PersistedService};
use proconsul_config::RuntimeConfig;
use proconsul_http::local_agent::BoxFuture;
use proconsul_http::{LocalAgent, LocalError};
use proconsul_types::agent::{CheckDefinition, ServiceDefinition};
use proconsul_types::catalog::{CheckStatus, HealthCheck, NodeService};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::watch;

pub const NODE_MAINTENANCE_ID: &str = "_node_maintenance";
pub const SERVICE_MAINTENANCE_PREFIX: &str = "_service_maintenance:";
const NODE_MAINTENANCE_DEFAULT: &str = "Maintenance mode is enabled for this node, but no reason was provided. This is a default message.";
const SERVICE_MAINTENANCE_DEFAULT: &str = "Maintenance mode is enabled for this service, but no reason was provided. This is a default message.";

/// Re-reads the agent's configuration (flags and files) for a reload.
pub type ConfigLoader = Box<dyn Fn() -> Result<RuntimeConfig, String> + Send + Sync>;

pub struct Registry {
    pub local: Arc<LocalState>,
    supervisor: CheckSupervisor,
    anti_entropy: Arc<AntiEntropy>,
    node_name: String,
    data_dir: Option<PathBuf>,
    /// `enable_script_checks`, `enable_local_script_checks` (updated on reload).
    scripts: Mutex<(bool, bool)>,
    deregister_min: Duration,
    loader: Option<ConfigLoader>,
    /// Serialises persistence writes so the file always holds the latest state.
    persist_lock: Mutex<()>,
}

fn internal(e: impl ToString) -> LocalError {
    LocalError::Internal(e.to_string())
}

/// A definition from a config file, decoded like an API body.
fn decode<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
    what: &str,
) -> Result<T, String> {
    proconsul_types::decode::from_value(value.clone()).map_err(|e| format!("invalid {what}: {e}"))
}

/// The definition that would register `service` again (for persistence).
fn service_definition(service: &NodeService) -> ServiceDefinition {
    ServiceDefinition {
        kind: service.kind.clone(),
        id: service.id.clone(),
        name: service.service.clone(),
        tags: service.tags.clone(),
        address: service.address.clone(),
        tagged_addresses: service.tagged_addresses.clone(),
        meta: service.meta.clone().unwrap_or_default(),
        port: service.port,
        weights: service.weights,
        enable_tag_override: service.enable_tag_override,
        proxy: service.proxy.clone(),
        connect: service.connect.clone(),
        locality: service.locality.clone(),
        ..ServiceDefinition::default()
    }
}

impl Registry {
    pub fn new(
        config: &RuntimeConfig,
        local: Arc<LocalState>,
        supervisor: CheckSupervisor,
        anti_entropy: Arc<AntiEntropy>,
        loader: Option<ConfigLoader>,
    ) -> Registry {
        Registry {
            local,
            supervisor,
            anti_entropy,
            node_name: config.node_name.clone(),
            data_dir: config.data_dir.clone(),
            scripts: Mutex::new((
                config.enable_script_checks,
                config.enable_local_script_checks,
            )),
            deregister_min: config.check_deregister_interval_min,
            loader,
            persist_lock: Mutex::new(()),
        }
    }

    fn script_refusal(&self, source: Source, checks: &[CheckDefinition]) -> Result<(), LocalError> {
        if !checks.iter().any(CheckDefinition::runs_commands) {
            return Ok(());
        }
        let (remote, local) = *self.scripts.lock().unwrap_or_else(PoisonError::into_inner);
        match source {
            Source::Api if !remote => Err(LocalError::Internal(
                "Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true".into(),
            )),
            Source::Config if !remote && !local => Err(LocalError::Internal(
                "Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true".into(),
            )),
            _ => Ok(()),
        }
    }

    fn add_service(
        &self,
        def: ServiceDefinition,
        checks: Vec<CheckDefinition>,
        replace_existing_checks: bool,
        token: &str,
        source: Source,
    ) -> Result<(), LocalError> {
        self.script_refusal(source, &checks)?;
        let service = def.to_node_service();
        let rows = def.service_checks(checks, &self.node_name);
        if replace_existing_checks {
            let keep: Vec<&str> = rows.iter().map(|(d, _)| d.id.as_str()).collect();
            let stale: Vec<String> = self
                .local
                .lock()
                .live_checks()
                .filter(|c| c.check.service_id == service.id)
                .map(|c| c.check.check_id.clone())
                .filter(|id| !keep.contains(&id.as_str()))
                .collect();
            for id in stale {
                self.supervisor.stop(&id);
                self.local.remove_check(&id);
            }
        }
        self.local.add_service(service, token, source);
        for (def, row) in rows {
            // In local state first: a runner's first result must find its check there.
            let id = row.check_id.clone();
            self.local.add_check(row, def.clone(), token, source);
            self.supervisor.start(&id, &def);
        }
        Ok(())
    }

    fn remove_service(&self, id: &str) -> bool {
        let owned: Vec<String> = self
            .local
            .lock()
            .live_checks()
            .filter(|c| c.check.service_id == id)
            .map(|c| c.check.check_id.clone())
            .collect();
        for check in &owned {
            self.supervisor.stop(check);
        }
        self.local.remove_service(id)
    }

    fn add_check(
        &self,
        def: CheckDefinition,
        token: &str,
        source: Source,
    ) -> Result<(), LocalError> {
        self.script_refusal(source, std::slice::from_ref(&def))?;
        let mut row = def.to_health_check(&self.node_name);
        if !def.service_id.is_empty() {
            let e = self.local.lock();
            let Some(service) = e.services.get(&def.service_id).filter(|s| !s.deleted) else {
                return Err(LocalError::NotFound(format!(
                    "ServiceID {:?} does not exist",
                    def.service_id
                )));
            };
            row.service_name = service.service.service.clone();
            row.service_tags = service.service.tags.clone();
        }
        self.local.add_check(row, def.clone(), token, source);
        self.supervisor.start(&def.id, &def);
        Ok(())
    }

    /// Writes the API-registered definitions to the data dir (nothing without one).
    fn persist(&self) {
        let Some(dir) = &self.data_dir else {
            return;
        };
        let _guard = self
            .persist_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let state = {
            let e = self.local.lock();
            Persisted {
                version: persistence::FORMAT_VERSION,
                services: e
                    .live_services()
                    .filter(|s| s.source == Source::Api)
                    .map(|s| PersistedService {
                        definition: service_definition(&s.service),
                        checks: Vec::new(),
                        token: s.token.clone(),
                    })
                    .collect(),
                checks: e
                    .live_checks()
                    .filter(|c| c.source == Source::Api)
                    .map(|c| PersistedCheck {
                        definition: c.definition.clone(),
                        token: c.token.clone(),
                    })
                    .collect(),
            }
        };
        if let Err(err) = persistence::save(dir, &state) {
            tracing::error!(error = %err, "failed to persist local services and checks");
        }
    }

    /// Saves the current result of every TTL check (with `-data-dir`).
    fn persist_ttl_states(&self) {
        let Some(dir) = &self.data_dir else {
            return;
        };
        let now_ms = unix_ms();
        let _guard = self
            .persist_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let checks = self
            .local
            .lock()
            .live_checks()
            .filter(|c| !c.definition.ttl.is_zero())
            .map(|c| {
                let state = persistence::CheckState {
                    status: c.check.status.as_str().to_string(),
                    output: c.check.output.clone(),
                    expires_unix_ms: now_ms + c.definition.ttl.0.as_millis() as u64,
                };
                (c.check.check_id.clone(), state)
            })
            .collect();
        let states = persistence::CheckStates { version: 0, checks };
        if let Err(err) = persistence::save_check_states(dir, &states) {
            tracing::warn!(error = %err, "failed to persist TTL check state");
        }
    }

    /// Puts back the last result of TTL checks whose TTL had not run out (call once the
    /// persisted and config-file definitions are loaded).
    pub fn restore_ttl_states(&self) {
        let Some(dir) = &self.data_dir else {
            return;
        };
        let now_ms = unix_ms();
        for (id, state) in persistence::load_check_states(dir).checks {
            let Some(status) = CheckStatus::parse(&state.status) else {
                continue;
            };
            if state.expires_unix_ms > now_ms && self.local.lock().checks.contains_key(&id) {
                // Through the TTL handle, so the timer restarts from the restored state.
                let _ = self.supervisor.update_ttl(&id, status, &state.output);
            }
        }
    }

    /// Restores API registrations persisted by an earlier run.
    pub fn restore(&self) -> Result<(), String> {
        let Some(dir) = &self.data_dir else {
            return Ok(());
        };
        let persisted = persistence::load(dir).map_err(|e| e.to_string())?;
        for s in persisted.services {
            let mut def = s.definition;
            def.normalize();
            self.add_service(def, Vec::new(), false, &s.token, Source::Api)
                .map_err(|e| e.to_string())?;
        }
        for c in persisted.checks {
            if let Err(err) = self.add_check(c.definition, &c.token, Source::Api) {
                tracing::warn!(error = %err, "dropping a persisted check");
            }
        }
        Ok(())
    }

    /// Registers the services and checks of the config files (replacing earlier ones from
    /// the files; API registrations stay).
    pub fn load_config_definitions(&self, config: &RuntimeConfig) -> Result<(), String> {
        *self.scripts.lock().unwrap_or_else(PoisonError::into_inner) = (
            config.enable_script_checks,
            config.enable_local_script_checks,
        );
        let mut services = Vec::new();
        for raw in &config.services {
            let mut def: ServiceDefinition = decode(raw, "service definition")?;
            def.normalize();
            if def.name.is_empty() {
                return Err("invalid service definition: Missing service name".into());
            }
            let checks = def
                .check_definitions()
                .map_err(|e| format!("invalid service {:?}: Invalid check: {e}", def.name))?;
            services.push((def, checks));
        }
        let mut checks = Vec::new();
        for raw in &config.checks {
            let mut def: CheckDefinition = decode(raw, "check definition")?;
            def.normalize();
            if def.name.is_empty() {
                return Err("invalid check definition: Missing check name".into());
            }
            def.validate()
                .map_err(|e| format!("invalid check {:?}: {e}", def.name))?;
            if def.id.is_empty() {
                def.id = def.name.clone();
            }
            checks.push(def);
        }
        // A reload keeps the checks' current results (Consul snapshots and restores them).
        let results: Vec<(String, CheckStatus, String)> = self
            .local
            .lock()
            .live_checks()
            .filter(|c| c.source == Source::Config)
            .map(|c| {
                (
                    c.check.check_id.clone(),
                    c.check.status,
                    c.check.output.clone(),
                )
            })
            .collect();
        self.unload_config_definitions();
        for (def, defs) in services {
            let token = def.token.clone();
            self.add_service(def, defs, false, &token, Source::Config)
                .map_err(|e| e.to_string())?;
        }
        for def in checks {
            let token = def.token.clone();
            self.add_check(def, &token, Source::Config)
                .map_err(|e| e.to_string())?;
        }
        for (id, status, output) in results {
            let initial = self
                .local
                .lock()
                .checks
                .get(&id)
                .map(|c| c.definition.status.clone());
            if initial.is_some_and(|s| s.is_empty()) {
                self.local.update_check(&id, status, &output);
            }
        }
        Ok(())
    }

    fn unload_config_definitions(&self) {
        let (services, checks) = {
            let e = self.local.lock();
            let services: Vec<String> = e
                .live_services()
                .filter(|s| s.source == Source::Config)
                .map(|s| s.service.id.clone())
                .collect();
            let checks: Vec<String> = e
                .live_checks()
                .filter(|c| c.source == Source::Config)
                .map(|c| c.check.check_id.clone())
                .collect();
            (services, checks)
        };
        for id in services {
            self.remove_service(&id);
        }
        for id in checks {
            self.supervisor.stop(&id);
            self.local.remove_check(&id);
        }
    }

    /// Deregisters services with a check critical for longer than its
    /// `DeregisterCriticalServiceAfter` (raised to `check_deregister_interval_min`).
    pub fn reap_critical_services(&self) {
        let now = tokio::time::Instant::now();
        let doomed: Vec<(String, String)> = self
            .local
            .lock()
            .live_checks()
            .filter_map(|c| {
                let after = c.definition.deregister_critical_service_after.0;
                let since = c.critical_since?;
                let due = !after.is_zero()
                    && !c.check.service_id.is_empty()
                    && now.duration_since(since) > after.max(self.deregister_min);
                due.then(|| (c.check.service_id.clone(), c.check.check_id.clone()))
            })
            .collect();
        let mut removed = false;
        for (service, check) in doomed {
            if self.remove_service(&service) {
                tracing::info!(service = %service, check = %check,
                    "Check for service has been critical for too long; deregistered service");
                removed = true;
            }
        }
        if removed {
            self.persist();
        }
    }

    pub fn shutdown(&self) {
        self.supervisor.stop_all();
    }

    fn maintenance_check(
        &self,
        id: &str,
        name: &str,
        notes: &str,
        service: Option<&NodeService>,
    ) -> (HealthCheck, CheckDefinition) {
        let def = CheckDefinition {
            id: id.to_string(),
            name: name.to_string(),
            notes: notes.to_string(),
            status: "critical".into(),
            service_id: service.map(|s| s.id.clone()).unwrap_or_default(),
            ..CheckDefinition::default()
        };
        let mut row = def.to_health_check(&self.node_name);
        row.interval = String::new();
        row.timeout = String::new();
        if let Some(s) = service {
            row.service_name = s.service.clone();
            row.service_tags = s.tags.clone();
        }
        (row, def)
    }
}

impl LocalAgent for Registry {
    fn register_service(
        &self,
        def: ServiceDefinition,
        checks: Vec<CheckDefinition>,
        replace_existing_checks: bool,
        token: &str,
    ) -> Result<(), LocalError> {
        self.add_service(def, checks, replace_existing_checks, token, Source::Api)?;
        self.persist();
        Ok(())
    }

    fn deregister_service(&self, id: &str) -> Result<(), LocalError> {
        if !self.remove_service(id) {
            return Err(LocalError::NotFound(format!("Unknown service ID {id:?}")));
        }
        self.persist();
        Ok(())
    }

    fn register_check(&self, def: CheckDefinition, token: &str) -> Result<(), LocalError> {
        self.add_check(def, token, Source::Api)?;
        self.persist();
        Ok(())
    }

    fn deregister_check(&self, id: &str) -> Result<(), LocalError> {
        self.supervisor.stop(id);
        if !self.local.remove_check(id) {
            return Err(unknown_check(id));
        }
        self.persist();
        Ok(())
    }

    fn update_ttl(&self, id: &str, status: CheckStatus, output: &str) -> Result<(), LocalError> {
        if self.local.lock().checks.get(id).is_none_or(|c| c.deleted) {
            return Err(unknown_check(id));
        }
        if !self.supervisor.update_ttl(id, status, output) {
            return Err(internal(format!(
                "CheckID {id:?} does not have associated TTL"
            )));
        }
        self.persist_ttl_states();
        Ok(())
    }

    fn services(&self) -> Vec<NodeService> {
        self.local
            .lock()
            .live_services()
            .map(|s| s.service.clone())
            .collect()
    }

    fn service(&self, id: &str) -> Option<NodeService> {
        let e = self.local.lock();
        e.services
            .get(id)
            .filter(|s| !s.deleted)
            .map(|s| s.service.clone())
    }

    fn checks(&self) -> Vec<HealthCheck> {
        self.local
            .lock()
            .live_checks()
            .map(|c| c.check.clone())
            .collect()
    }

    fn service_health_checks(&self, id: &str) -> Vec<HealthCheck> {
        self.local
            .lock()
            .live_checks()
            .filter(|c| c.check.service_id == id || c.check.service_id.is_empty())
            .map(|c| c.check.clone())
            .collect()
    }

    fn service_maintenance(
        &self,
        id: &str,
        enable: bool,
        reason: &str,
        token: &str,
    ) -> Result<(), LocalError> {
        let Some(service) = self.service(id) else {
            return Err(LocalError::NotFound(format!(
                "No service registered with ID {id:?}"
            )));
        };
        let check_id = format!("{SERVICE_MAINTENANCE_PREFIX}{id}");
        if enable {
            let notes = if reason.is_empty() {
                SERVICE_MAINTENANCE_DEFAULT
            } else {
                reason
            };
            let (row, def) = self.maintenance_check(
                &check_id,
                "Service Maintenance Mode",
                notes,
                Some(&service),
            );
            self.local.add_check(row, def, token, Source::Api);
        } else {
            self.local.remove_check(&check_id);
        }
        self.persist();
        Ok(())
    }

    fn node_maintenance(&self, enable: bool, reason: &str, token: &str) {
        if enable {
            let notes = if reason.is_empty() {
                NODE_MAINTENANCE_DEFAULT
            } else {
                reason
            };
            let (row, def) =
                self.maintenance_check(NODE_MAINTENANCE_ID, "Node Maintenance Mode", notes, None);
            self.local.add_check(row, def, token, Source::Api);
        } else {
            self.local.remove_check(NODE_MAINTENANCE_ID);
        }
        self.persist();
    }

    fn reload(&self) -> Result<(), LocalError> {
        let Some(loader) = &self.loader else {
            return Ok(());
        };
        let config = loader().map_err(LocalError::Internal)?;
        self.load_config_definitions(&config)
            .map_err(LocalError::Internal)?;
        tracing::info!("Reloaded configuration: services and checks");
        Ok(())
    }

    fn changes(&self) -> watch::Receiver<u64> {
        self.local.subscribe()
    }

    fn sync_changes(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.anti_entropy.sync_changes())
    }
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn unknown_check(id: &str) -> LocalError {
    LocalError::NotFound(format!(
        "Unknown check ID {id:?}. Ensure that the check ID is passed, not the check name."
    ))
}
