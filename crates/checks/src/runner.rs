//! Scheduling: one tokio task per check. The first run comes after a random stagger
//! within the interval (so checks registered together do not fire together, as Consul's
//! `lib.RandomStagger`), then a run every `interval` after the previous one ends; a check
//! never overlaps itself. Results pass through the [`StatusHandler`] before the sink.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::docker::{self, DockerClient};
use crate::error::CheckError;
use crate::grpc::GrpcProbe;
use crate::h2ping::H2PingProbe;
use crate::http::{HttpOptions, HttpProbe};
use crate::spec::{CheckKind, CheckSpec};
use crate::status::{Status, StatusHandler};
use crate::ttl::{self, TtlShared};
use crate::{CheckResult, script, tcp, udp};

/// One reported status change (after thresholds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckUpdate {
    pub check_id: String,
    pub status: Status,
    pub output: String,
}

/// Where updates go. Called from the check's task (or, for TTL checks, from `update`'s
/// caller); it must be quick and must not call back into the same handle.
pub type Sink = Arc<dyn Fn(CheckUpdate) + Send + Sync>;

/// A check kind prepared for repeated runs (clients and TLS configs built once).
#[derive(Debug, Clone)]
pub enum Probe {
    Http(HttpProbe),
    Tcp(String),
    Udp(String),
    Grpc(GrpcProbe),
    H2Ping(H2PingProbe),
    Script(Vec<String>),
    Docker {
        client: DockerClient,
        container_id: String,
        args: Vec<String>,
    },
}

impl Probe {
    /// Prepares a probe for `spec`. TTL checks have no probe (`Invalid`).
    pub fn new(spec: &CheckSpec) -> Result<Probe, CheckError> {
        spec.validate()?;
        let timeout = spec.effective_timeout();
        let probe = match &spec.kind {
            CheckKind::Http {
                url,
                method,
                headers,
                body,
                tls_skip_verify,
                tls_server_name,
                disable_redirects,
            } => {
                let o = HttpOptions {
                    url,
                    method,
                    headers: Some(headers),
                    body,
                    tls_skip_verify: *tls_skip_verify,
                    tls_server_name: tls_server_name.as_deref(),
                    disable_redirects: *disable_redirects,
                };
                Probe::Http(HttpProbe::new(
                    &o,
                    timeout,
                    spec.effective_output_max_size(),
                )?)
            }
            CheckKind::Tcp { addr } => Probe::Tcp(addr.clone()),
            CheckKind::Udp { addr } => Probe::Udp(addr.clone()),
            CheckKind::Grpc {
                target,
                use_tls,
                tls_skip_verify,
                tls_server_name,
            } => Probe::Grpc(GrpcProbe::new(
                target,
                *use_tls,
                *tls_skip_verify,
                tls_server_name.as_deref(),
            )?),
            CheckKind::H2Ping {
                addr,
                use_tls,
                tls_skip_verify,
                tls_server_name,
            } => Probe::H2Ping(H2PingProbe::new(
                addr,
                *use_tls,
                *tls_skip_verify,
                tls_server_name.as_deref(),
            )?),
            CheckKind::Script { args } => Probe::Script(args.clone()),
            CheckKind::Docker {
                container_id, args, ..
            } => Probe::Docker {
                client: DockerClient::from_env()?,
                container_id: container_id.clone(),
                args: args.clone(),
            },
            CheckKind::Ttl { .. } => {
                return Err(CheckError::Invalid("TTL checks have no probe".into()));
            }
        };
        Ok(probe)
    }

    /// Runs the probe once, bounded by `timeout`.
    pub async fn run(&self, timeout: Duration, output_max_size: usize) -> CheckResult {
        let run = async {
            match self {
                Probe::Http(p) => p.probe().await,
                Probe::Tcp(addr) => tcp::probe(addr, timeout).await,
                Probe::Udp(addr) => udp::probe(addr, timeout).await,
                Probe::Grpc(p) => p.probe(timeout).await,
                Probe::H2Ping(p) => p.probe(timeout).await,
                Probe::Script(args) => script::probe(args, timeout, output_max_size).await,
                Probe::Docker {
                    client,
                    container_id,
                    args,
                } => client.probe(container_id, args, output_max_size).await,
            }
        };
        // Probes bound themselves with Consul's texts; this is the backstop (and the
        // only bound for Docker, which Consul leaves unbounded). The grace lets a probe's
        // own timeout report first.
        match tokio::time::timeout(timeout + Duration::from_millis(500), run).await {
            Ok(r) => r,
            Err(_) => CheckResult::critical(docker::timeout_text(timeout)),
        }
    }
}

/// A running check. Dropping it stops the check.
#[derive(Debug)]
pub struct CheckHandle {
    id: String,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    ttl: Option<Arc<TtlShared>>,
}

impl std::fmt::Debug for TtlShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TtlShared")
    }
}

impl CheckHandle {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Stops the check: no run starts after this, and a run in progress is abandoned
    /// (its process killed) without reporting. Idempotent.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Stops the check and waits until its task has ended, after which the sink is
    /// never called again by this check.
    pub async fn stopped(mut self) {
        self.stop();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// TTL checks: set the status and restart the TTL. Returns the stored output
    /// (truncated to the output limit as Consul does).
    pub fn update(&self, status: Status, output: &str) -> Result<String, CheckError> {
        match &self.ttl {
            Some(t) => Ok(t.update(status, output)),
            None => Err(CheckError::NotTtl),
        }
    }
}

impl Drop for CheckHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts running `spec` on the current tokio runtime, reporting through `sink`.
/// A definition whose probe cannot be prepared reports critical with the reason each
/// interval (Consul reports request-building errors the same way).
pub fn spawn_check(id: impl Into<String>, spec: CheckSpec, sink: Sink) -> CheckHandle {
    let id = id.into();
    if let CheckKind::Ttl { ttl } = spec.kind {
        return spawn_ttl(id, ttl, spec.effective_output_max_size(), sink);
    }
    let probe = Probe::new(&spec).map_err(|e| e.to_string());
    spawn_probe(id, spec, probe, sink)
}

/// Like [`spawn_check`] with a prepared probe (e.g. sharing one Docker client).
pub fn spawn_probe(
    id: impl Into<String>,
    spec: CheckSpec,
    probe: Result<Probe, String>,
    sink: Sink,
) -> CheckHandle {
    let id = id.into();
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(run_loop(id.clone(), spec, probe, sink, stop_rx));
    CheckHandle {
        id,
        stop,
        task: Some(task),
        ttl: None,
    }
}

fn spawn_ttl(id: String, ttl: Duration, output_max_size: usize, sink: Sink) -> CheckHandle {
    let (stop, stop_rx) = watch::channel(false);
    let shared = Arc::new(TtlShared::new(id.clone(), ttl, output_max_size, sink));
    let task = tokio::spawn(ttl::run(shared.clone(), stop_rx));
    CheckHandle {
        id,
        stop,
        task: Some(task),
        ttl: Some(shared),
    }
}

/// A random duration in `[0, interval)`.
pub fn random_stagger(interval: Duration) -> Duration {
    let nanos = interval.as_nanos().min(u128::from(u64::MAX)) as u64;
    if nanos == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(rand::rng().random_range(0..nanos))
}

async fn run_loop(
    id: String,
    spec: CheckSpec,
    probe: Result<Probe, String>,
    sink: Sink,
    mut stop: watch::Receiver<bool>,
) {
    let timeout = spec.effective_timeout();
    let max = spec.effective_output_max_size();
    let mut handler = StatusHandler::new(spec.thresholds());
    let mut wait = random_stagger(spec.interval);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        let result = match &probe {
            Ok(p) => tokio::select! {
                r = p.run(timeout, max) => r,
                _ = stop.changed() => return,
            },
            Err(e) => CheckResult::critical(e.clone()),
        };
        if *stop.borrow() {
            return;
        }
        match handler.observe(result.status) {
            Some(status) => sink(CheckUpdate {
                check_id: id.clone(),
                status,
                output: result.output,
            }),
            None => tracing::debug!(check = %id, status = %result.status, "below threshold"),
        }
        wait = spec.interval;
    }
}
