//! Errors at the crate boundary.

use std::io;

/// Why the DNS server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("invalid DNS configuration: {0}")]
    Config(String),
    #[error("binding the DNS listener on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("DNS server task failed: {0}")]
    Server(String),
}
