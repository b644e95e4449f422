//! Version numbers reported to clients.
//!
//! Clients such as py-consul and consul-template switch behaviour on the Consul version an agent
//! reports, so we report the Consul release whose API we match, and our own version beside it.

/// The Consul release whose HTTP API, CLI and config surface this build matches.
pub const CONSUL_COMPAT_VERSION: &str = "1.22.0";

/// Proconsul's own version.
pub const PROCONSUL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The Consul protocol versions (serf/raft era) we report, as `consul version` does.
pub const PROTOCOL_VERSION_MIN: u8 = 2;
pub const PROTOCOL_VERSION_MAX: u8 = 3;
