//! Runs the agent's checks: one runner per local check (from the `checks` crate), TTL
//! handles for `/v1/agent/check/pass|warn|fail|update`, and alias checks, which follow the
//! aliased node or service in the catalog. Every result lands in the local state.

use crate::local_state::LocalState;
use proconsul_checks::alias::{AliasedCheck, aggregate};
use proconsul_checks::{CheckHandle, CheckKind, CheckSpec, Status, spawn_check};
use proconsul_state::{Store, Watch};
use proconsul_types::agent::CheckDefinition;
use proconsul_types::catalog::CheckStatus;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use tokio::task::JoinHandle;

enum Running {
    Runner(CheckHandle),
    Alias(JoinHandle<()>),
}

impl Drop for Running {
    fn drop(&mut self) {
        match self {
            Running::Runner(handle) => handle.stop(),
            Running::Alias(task) => task.abort(),
        }
    }
}

pub struct CheckSupervisor {
    local: Arc<LocalState>,
    store: Arc<RwLock<Store>>,
    node_name: String,
    running: Mutex<HashMap<String, Running>>,
}

fn to_status(status: CheckStatus) -> Status {
    match status {
        CheckStatus::Passing => Status::Passing,
        CheckStatus::Warning => Status::Warning,
        _ => Status::Critical,
    }
}

fn from_status(status: Status) -> CheckStatus {
    match status {
        Status::Passing => CheckStatus::Passing,
        Status::Warning => CheckStatus::Warning,
        Status::Critical => CheckStatus::Critical,
    }
}

/// The runner's input for a definition; `None` for alias checks and for checks nothing
/// runs (maintenance).
pub fn check_spec(def: &CheckDefinition) -> Option<CheckSpec> {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let kind = match def.check_type() {
        "http" => CheckKind::Http {
            url: def.http.clone(),
            method: def.method.clone(),
            headers: def.header.clone(),
            body: def.body.clone(),
            tls_skip_verify: def.tls_skip_verify,
            tls_server_name: some(&def.tls_server_name),
            disable_redirects: def.disable_redirects,
        },
        "tcp" => CheckKind::Tcp {
            addr: def.tcp.clone(),
        },
        "udp" => CheckKind::Udp {
            addr: def.udp.clone(),
        },
        "grpc" => CheckKind::Grpc {
            target: def.grpc.clone(),
            use_tls: def.grpc_use_tls,
            tls_skip_verify: def.tls_skip_verify,
            tls_server_name: some(&def.tls_server_name),
        },
        "h2ping" => CheckKind::H2Ping {
            addr: def.h2ping.clone(),
            use_tls: def.h2ping_use_tls.unwrap_or(true),
            tls_skip_verify: def.tls_skip_verify,
            tls_server_name: some(&def.tls_server_name),
        },
        "script" => CheckKind::Script {
            args: def.script_args.clone(),
        },
        "docker" => CheckKind::Docker {
            container_id: def.docker_container_id.clone(),
            shell: some(&def.shell),
            args: def.script_args.clone(),
        },
        "ttl" => CheckKind::Ttl { ttl: def.ttl.0 },
        _ => return None,
    };
    let mut spec = CheckSpec::new(kind, def.interval.0);
    spec.interval = spec.clamped_interval();
    if !def.timeout.is_zero() {
        spec.timeout = Some(def.timeout.0);
    }
    spec.success_before_passing = def.success_before_passing;
    spec.failures_before_warning = def.failures_before_warning;
    spec.failures_before_critical = def.failures_before_critical;
    if def.output_max_size > 0 {
        spec.output_max_size = def.output_max_size as usize;
    }
    Some(spec)
}

impl CheckSupervisor {
    pub fn new(local: Arc<LocalState>, store: Arc<RwLock<Store>>, node_name: String) -> Self {
        CheckSupervisor {
            local,
            store,
            node_name,
            running: Mutex::new(HashMap::new()),
        }
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts (or restarts) the check `id` as `def` describes. Must run on the runtime.
    pub fn start(&self, id: &str, def: &CheckDefinition) {
        let running = if def.is_alias() {
            Some(Running::Alias(tokio::spawn(run_alias(
                id.to_string(),
                def.clone(),
                self.node_name.clone(),
                self.store.clone(),
                self.local.clone(),
            ))))
        } else {
            check_spec(def).map(|spec| {
                let local = self.local.clone();
                let sink = Arc::new(move |u: proconsul_checks::CheckUpdate| {
                    local.update_check(&u.check_id, from_status(u.status), &u.output);
                });
                Running::Runner(spawn_check(id, spec, sink))
            })
        };
        let mut map = self.running();
        match running {
            Some(r) => {
                map.insert(id.to_string(), r);
            }
            None => {
                map.remove(id);
            }
        }
    }

    pub fn stop(&self, id: &str) {
        self.running().remove(id);
    }

    /// Feeds a TTL check; false when `id` is not a running TTL check.
    pub fn update_ttl(&self, id: &str, status: CheckStatus, output: &str) -> bool {
        match self.running().get(id) {
            Some(Running::Runner(handle)) => handle.update(to_status(status), output).is_ok(),
            _ => false,
        }
    }

    pub fn stop_all(&self) {
        self.running().clear();
    }
}

/// Follows the aliased node's checks in the catalog (blocking on its watch) and reports
/// their aggregate as this check's status.
async fn run_alias(
    id: String,
    def: CheckDefinition,
    local_node: String,
    store: Arc<RwLock<Store>>,
    local: Arc<LocalState>,
) {
    let node = if def.alias_node.is_empty() {
        local_node
    } else {
        def.alias_node.clone()
    };
    loop {
        let (result, watch) = {
            let store = store.read().unwrap_or_else(PoisonError::into_inner);
            let (_, checks) = store.health_node_checks(&node);
            let aliased: Vec<AliasedCheck> = checks
                .iter()
                .map(|c| AliasedCheck {
                    name: &c.name,
                    service_id: &c.service_id,
                    status: to_status(c.status),
                    output: &c.output,
                })
                .collect();
            let service_exists = || {
                store
                    .catalog_node_services(&node)
                    .1
                    .is_some_and(|(_, services)| services.iter().any(|s| s.id == def.alias_service))
            };
            let result = aggregate(&node, &def.alias_service, &aliased, service_exists);
            let watch = Watch::any([store.watch_node_checks(&node), store.watch_node(&node)]);
            (result, watch)
        };
        local.update_check(&id, from_status(result.status), &result.output);
        watch.fired().await;
    }
}
