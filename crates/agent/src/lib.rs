//! Wires one agent process: Raft and the state machine (servers), the leader duties, the
//! HTTP API, registration of this node in the catalog, and graceful shutdown.

mod anti_entropy;
mod check_supervisor;
mod data_dir;
mod describe;
mod dns_view;
mod identity;
mod local_agent;
mod local_state;
mod node_registration;
mod persistence;

pub use local_agent::ConfigLoader;

use proconsul_config::RuntimeConfig;
use proconsul_consensus::{Consensus, ConsensusConfig};
use proconsul_http::{Context, HttpConfig};
use proconsul_server::Server;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    DataDir(#[from] data_dir::DataDirError),
    #[error("Error starting raft: {0}")]
    Raft(#[from] proconsul_consensus::ConsensusError),
    #[error("Error starting HTTP listener on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("client agents (server = false) need the cluster transport, which is not built yet")]
    ClientModeUnsupported,
}

/// How long in-flight requests (blocking queries included) may run after shutdown starts.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

fn consensus_config(config: &RuntimeConfig, node_id: &str) -> ConsensusConfig {
    let advertise = format!(
        "{}:{}",
        config.advertise_addr,
        config.ports.server.unwrap_or(8300)
    );
    let mut raft = ConsensusConfig::with_multiplier(
        identity::raft_id(node_id),
        advertise,
        config.performance.raft_multiplier,
    );
    if config.dev_mode {
        // Consul's dev timings: fast elections for a one-server cluster.
        raft.election_timeout = Duration::from_millis(52);
        raft.heartbeat_interval = Duration::from_millis(10);
        raft.leader_lease = Duration::from_millis(20);
    }
    raft.data_dir = config.data_dir.clone();
    raft.bootstrap = config.dev_mode || config.bootstrap || config.bootstrap_expect == 1;
    raft.snapshot_threshold = config.raft_snapshot_threshold;
    raft.trailing_logs = config.raft_trailing_logs;
    if let Some(mb) = wal_segment_size_mb(config) {
        raft.wal_segment_bytes = mb * 1024 * 1024;
    }
    raft
}

/// Consul's `raft_logstore { wal { segment_size_mb = N } }` (default 64). The block is kept
/// unmodelled in `extra`; HCL blocks may arrive as a one-element list.
fn wal_segment_size_mb(config: &RuntimeConfig) -> Option<u64> {
    fn block(value: &serde_json::Value) -> &serde_json::Value {
        match value.as_array() {
            Some(items) => items.first().unwrap_or(&serde_json::Value::Null),
            None => value,
        }
    }
    let logstore = block(config.extra.get("raft_logstore")?);
    let mb = block(&logstore["wal"])["segment_size_mb"].as_u64()?;
    // Consul accepts 1..=1024 MiB; outside that we keep the default rather than fail.
    (1..=1024).contains(&mb).then_some(mb)
}

fn http_config(config: &RuntimeConfig, node_id: &str) -> HttpConfig {
    let id = describe::Identity { config, node_id };
    HttpConfig {
        datacenter: config.datacenter.clone(),
        node_name: config.node_name.clone(),
        pretty: config.pretty_json,
        kv_max_value_size: config.limits.kv_max_value_size as usize,
        txn_max_req_len: config.limits.txn_max_req_len as usize,
        default_query_time: config.default_query_time,
        max_query_time: config.max_query_time,
        session_ttl_min: config.session_ttl_min,
        agent_self: describe::agent_self(&id),
        member: describe::member(&id),
    }
}

/// Maps the agent's `domain`, `recursors` and `dns_config` onto the DNS server's settings.
fn dns_config(config: &RuntimeConfig) -> Result<proconsul_dns::DnsConfig, AgentError> {
    let d = &config.dns_config;
    let recursors = config
        .recursors
        .iter()
        .map(|r| {
            r.parse::<SocketAddr>()
                .or_else(|_| {
                    r.parse::<std::net::IpAddr>()
                        .map(|ip| SocketAddr::new(ip, 53))
                })
                .map_err(|_| AgentError::Setup(format!("invalid recursor address {r:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let strategy = if d.recursor_strategy == "random" {
        proconsul_dns::RecursorStrategy::Random
    } else {
        proconsul_dns::RecursorStrategy::Sequential
    };
    Ok(proconsul_dns::DnsConfig {
        domain: config.domain.clone(),
        alt_domain: config.alt_domain.clone(),
        recursors,
        recursor_strategy: strategy,
        recursor_timeout: d.recursor_timeout,
        node_ttl: d.node_ttl,
        service_ttl: d.service_ttl.clone(),
        only_passing: d.only_passing,
        udp_answer_limit: d.udp_answer_limit,
        a_record_limit: d.a_record_limit,
        enable_truncate: d.enable_truncate,
        enable_additional_node_meta_txt: d.enable_additional_node_meta_txt,
        allow_stale: d.allow_stale,
        max_stale: d.max_stale,
        soa: proconsul_dns::SoaConfig {
            refresh: d.soa.refresh,
            retry: d.soa.retry,
            expire: d.soa.expire,
            min_ttl: d.soa.min_ttl,
        },
    })
}

/// Binds the DNS interface (UDP and TCP) on every client address, unless `ports.dns = -1`.
async fn bind_dns(
    config: &RuntimeConfig,
    consensus: &Consensus,
) -> Result<Vec<proconsul_dns::DnsServer>, AgentError> {
    let Some(port) = config.ports.dns else {
        return Ok(Vec::new());
    };
    let view: Arc<dyn proconsul_dns::CatalogView> = Arc::new(dns_view::StateCatalogView::new(
        consensus.store().clone(),
        config.datacenter.clone(),
    ));
    let settings = dns_config(config)?;
    let mut servers = Vec::new();
    for ip in &config.client_addrs {
        let addr = SocketAddr::new(*ip, port);
        let server = proconsul_dns::DnsServer::bind(addr, view.clone(), settings.clone())
            .await
            .map_err(|e| AgentError::Setup(format!("Error starting DNS server on {addr}: {e}")))?;
        servers.push(server);
    }
    Ok(servers)
}

async fn bind_http(config: &RuntimeConfig) -> Result<Vec<tokio::net::TcpListener>, AgentError> {
    let Some(port) = config.ports.http else {
        return Ok(Vec::new());
    };
    let mut listeners = Vec::new();
    for ip in &config.client_addrs {
        let addr = SocketAddr::new(*ip, port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| AgentError::Listen { addr, source })?;
        tracing::info!(address = %addr, "HTTP API listening");
        listeners.push(listener);
    }
    Ok(listeners)
}

/// Resolves on SIGINT or SIGTERM.
async fn termination_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// The agent's services and checks: local state, check runners, anti-entropy; restores
/// persisted registrations and loads the config files' definitions.
fn start_registry(
    config: &RuntimeConfig,
    node_id: &str,
    server: &Arc<Server>,
    loader: Option<ConfigLoader>,
) -> Result<(Arc<local_agent::Registry>, Arc<anti_entropy::AntiEntropy>), AgentError> {
    let local = Arc::new(local_state::LocalState::new(config.check_update_interval));
    let node = node_registration::node(config, node_id);
    let commands = node_registration::commands(config, &node);
    let anti_entropy = anti_entropy::AntiEntropy::new(
        local.clone(),
        server.clone(),
        node,
        commands,
        config.ae_interval,
    );
    let supervisor = check_supervisor::CheckSupervisor::new(
        local.clone(),
        server.consensus().store().clone(),
        config.node_name.clone(),
    );
    let registry = Arc::new(local_agent::Registry::new(
        config,
        local,
        supervisor,
        anti_entropy.clone(),
        loader,
    ));
    registry.restore().map_err(AgentError::Setup)?;
    registry
        .load_config_definitions(config)
        .map_err(AgentError::Setup)?;
    registry.restore_ttl_states();
    Ok((registry, anti_entropy))
}

/// Resolves on SIGHUP (never elsewhere).
async fn hangup(signal: &mut Option<tokio::signal::unix::Signal>) {
    match signal.as_mut() {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// Background upkeep of local services: the critical-service reaper and SIGHUP reloads.
async fn registry_upkeep(registry: Arc<local_agent::Registry>, reap_interval: Duration) {
    let mut signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut reap = tokio::time::interval(reap_interval.max(Duration::from_millis(100)));
    loop {
        tokio::select! {
            _ = reap.tick() => registry.reap_critical_services(),
            _ = hangup(&mut signal) => {
                tracing::info!("Caught signal: hangup, reloading configuration");
                if let Err(err) = proconsul_http::LocalAgent::reload(registry.as_ref()) {
                    tracing::error!(error = %err, "Failed to reload configs");
                }
                proconsul_http::LocalAgent::sync_changes(registry.as_ref()).await;
            }
        }
    }
}

/// Raft, the write batcher, the state machine's apply task and the leader duties run on a
/// runtime of their own (one thread): under a flood of HTTP work (hundreds of blocking
/// queries woken at once) the OS still schedules the write path, instead of its tasks
/// queueing behind request handlers on the shared workers.
fn consensus_runtime() -> Result<BackgroundRuntime, AgentError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("raft")
        .enable_all()
        .build()
        .map(|rt| BackgroundRuntime(Some(rt)))
        .map_err(|e| AgentError::Setup(format!("could not start the raft runtime: {e}")))
}

/// A runtime owned by async code: dropping a `Runtime` there panics, so it is shut down
/// in the background instead (on every path out of `run`, errors included).
struct BackgroundRuntime(Option<tokio::runtime::Runtime>);

impl BackgroundRuntime {
    fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.0 {
            Some(rt) => rt.spawn(future),
            // Only `Drop` takes the runtime out.
            None => tokio::spawn(future),
        }
    }
}

impl Drop for BackgroundRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Runs the agent until a termination signal or `PUT /v1/agent/leave`. `loader` re-reads
/// the configuration for reloads (SIGHUP, `/v1/agent/reload`).
pub async fn run(config: RuntimeConfig, loader: Option<ConfigLoader>) -> Result<(), AgentError> {
    let started = Instant::now();
    if !config.server {
        return Err(AgentError::ClientModeUnsupported);
    }
    // Before anything reads or writes the data dir; held until the process exits.
    let _data_dir_lock = match &config.data_dir {
        Some(dir) => Some(data_dir::lock(dir)?),
        None => None,
    };
    let node_id = identity::node_id(config.node_id.as_deref(), config.data_dir.as_deref())
        .map_err(AgentError::Setup)?;
    let listeners = bind_http(&config).await?;
    let consensus_rt = consensus_runtime()?;
    let raft_config = consensus_config(&config, &node_id);
    let consensus = consensus_rt
        .spawn(async move { Consensus::start(raft_config).await })
        .await
        .map_err(|e| AgentError::Setup(format!("Error starting raft: {e}")))??;
    let consensus = Arc::new(consensus);
    let dns_servers = bind_dns(&config, &consensus).await?;
    let server = {
        let consensus = consensus.clone();
        consensus_rt
            .spawn(async move { Server::new(consensus) })
            .await
            .map_err(|e| AgentError::Setup(e.to_string()))?
    };
    let duties = consensus_rt.spawn(server.clone().run_leader_duties());
    let (registry, anti_entropy) = start_registry(&config, &node_id, &server, loader)?;
    let syncing = tokio::spawn(anti_entropy.run());
    let upkeep = tokio::spawn(registry_upkeep(
        registry.clone(),
        config.check_reap_interval,
    ));
    let leave = Arc::new(Notify::new());
    let ctx = Arc::new(Context {
        server: server.clone(),
        config: http_config(&config, &node_id),
        leave: leave.clone(),
        local: registry.clone(),
        answers: Default::default(),
    });
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut http_tasks = Vec::new();
    for listener in listeners {
        let mut stopped = stopped.clone();
        let shutdown = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        http_tasks.push(tokio::spawn(proconsul_http::serve(
            listener,
            ctx.clone(),
            shutdown,
        )));
    }
    let mut dns_tasks = Vec::new();
    for dns in dns_servers {
        let mut stopped = stopped.clone();
        let shutdown = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        dns_tasks.push(tokio::spawn(dns.run(shutdown)));
    }
    tracing::info!(node = %config.node_name, datacenter = %config.datacenter, node_id = %node_id,
        elapsed_ms = started.elapsed().as_millis() as u64, "Consul agent running!");
    tokio::select! {
        _ = termination_signal() => tracing::info!("Caught signal, shutting down"),
        _ = leave.notified() => tracing::info!("Graceful leave requested, shutting down"),
    }
    let _ = stop.send(true);
    for task in http_tasks {
        if tokio::time::timeout(SHUTDOWN_GRACE, task).await.is_err() {
            tracing::debug!("HTTP server did not drain in time; closing remaining connections");
        }
    }
    for task in dns_tasks {
        if tokio::time::timeout(SHUTDOWN_GRACE, task).await.is_err() {
            tracing::debug!("DNS server did not drain in time");
        }
    }
    upkeep.abort();
    syncing.abort();
    registry.shutdown();
    duties.abort();
    let stopping = consensus.clone();
    let _ = consensus_rt
        .spawn(async move { stopping.shutdown().await })
        .await;
    drop(consensus_rt);
    tracing::info!("agent stopped");
    Ok(())
}
