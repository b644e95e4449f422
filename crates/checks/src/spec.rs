//! What to check and how often: the runner's input, already decoded from the API or
//! config shape by the caller.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::error::CheckError;
use crate::output::DEFAULT_OUTPUT_MAX_SIZE;
use crate::status::Thresholds;

/// Consul raises intervals below this to it (fork-bomb protection); the agent applies it.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// Default timeout for network checks (HTTP, TCP, UDP, gRPC, H2 ping).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default timeout for script and Docker checks.
pub const DEFAULT_SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckKind {
    Http {
        url: String,
        /// Empty means GET.
        method: String,
        headers: BTreeMap<String, Vec<String>>,
        body: String,
        tls_skip_verify: bool,
        /// Certificate name to verify instead of the URL's host.
        tls_server_name: Option<String>,
        disable_redirects: bool,
    },
    Tcp {
        addr: String,
    },
    Udp {
        addr: String,
    },
    Grpc {
        /// `host:port` or `host:port/service`.
        target: String,
        use_tls: bool,
        tls_skip_verify: bool,
        tls_server_name: Option<String>,
    },
    H2Ping {
        addr: String,
        /// Consul's `H2PingUseTLS` defaults to true at the definition level.
        use_tls: bool,
        tls_skip_verify: bool,
        tls_server_name: Option<String>,
    },
    Script {
        args: Vec<String>,
    },
    Docker {
        container_id: String,
        /// Consul uses the shell only for the legacy `Script` string (`<shell> -c
        /// <script>`); with `args` it is ignored. Kept for definition fidelity.
        shell: Option<String>,
        args: Vec<String>,
    },
    Ttl {
        ttl: Duration,
    },
}

impl CheckKind {
    /// Consul's per-kind default timeout.
    pub fn default_timeout(&self) -> Duration {
        match self {
            CheckKind::Script { .. } | CheckKind::Docker { .. } => DEFAULT_SCRIPT_TIMEOUT,
            _ => DEFAULT_TIMEOUT,
        }
    }

    /// An HTTP check with Consul's defaults for everything but the URL.
    pub fn http(url: impl Into<String>) -> CheckKind {
        CheckKind::Http {
            url: url.into(),
            method: String::new(),
            headers: BTreeMap::new(),
            body: String::new(),
            tls_skip_verify: false,
            tls_server_name: None,
            disable_redirects: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSpec {
    pub kind: CheckKind,
    /// Time between the end of one run and the start of the next. Ignored for TTL checks.
    pub interval: Duration,
    /// Bound on one run; `None` means the kind's default.
    pub timeout: Option<Duration>,
    pub success_before_passing: u32,
    pub failures_before_warning: u32,
    pub failures_before_critical: u32,
    /// Output cap in bytes; 0 means the default (4096).
    pub output_max_size: usize,
}

impl CheckSpec {
    /// A spec with Consul's defaults: no thresholds, default timeout and output cap.
    pub fn new(kind: CheckKind, interval: Duration) -> CheckSpec {
        CheckSpec {
            kind,
            interval,
            timeout: None,
            success_before_passing: 0,
            failures_before_warning: 0,
            failures_before_critical: 0,
            output_max_size: DEFAULT_OUTPUT_MAX_SIZE,
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> CheckSpec {
        self.timeout = Some(timeout);
        self
    }

    pub fn effective_timeout(&self) -> Duration {
        match self.timeout {
            Some(t) if !t.is_zero() => t,
            _ => self.kind.default_timeout(),
        }
    }

    pub fn effective_output_max_size(&self) -> usize {
        if self.output_max_size == 0 {
            DEFAULT_OUTPUT_MAX_SIZE
        } else {
            self.output_max_size
        }
    }

    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            success_before_passing: self.success_before_passing,
            failures_before_warning: self.failures_before_warning,
            failures_before_critical: self.failures_before_critical,
        }
    }

    /// The interval as Consul's agent applies it (raised to [`MIN_INTERVAL`]).
    pub fn clamped_interval(&self) -> Duration {
        self.interval.max(MIN_INTERVAL)
    }

    /// Rejects definitions no probe can run. Network addresses are resolved per run, so
    /// only emptiness is checked here.
    pub fn validate(&self) -> Result<(), CheckError> {
        let bad = |m: &str| Err(CheckError::Invalid(m.to_string()));
        match &self.kind {
            CheckKind::Http { url, .. } if url.is_empty() => bad("HTTP url is empty"),
            CheckKind::Tcp { addr } | CheckKind::Udp { addr } | CheckKind::H2Ping { addr, .. }
                if addr.is_empty() =>
            {
                bad("address is empty")
            }
            CheckKind::Grpc { target, .. } if target.is_empty() => bad("gRPC target is empty"),
            CheckKind::Script { args } if args.is_empty() => bad("script args are empty"),
            CheckKind::Docker { container_id, .. } if container_id.is_empty() => {
                bad("docker container id is empty")
            }
            CheckKind::Docker { args, .. } if args.is_empty() => bad("docker args are empty"),
            CheckKind::Ttl { ttl } if ttl.is_zero() => bad("TTL must be positive"),
            CheckKind::Ttl { .. } => Ok(()),
            _ if self.interval.is_zero() => bad("interval must be positive"),
            _ => Ok(()),
        }
    }
}
