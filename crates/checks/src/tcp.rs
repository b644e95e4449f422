//! TCP checks: passing when a connection can be established within the timeout.

use std::time::Duration;

use tokio::net::TcpStream;

use crate::CheckResult;

/// Connects to `addr` (every resolved address, v4 and v6, in turn) and closes at once.
/// Texts follow Consul: `TCP connect <addr>: Success`; failures carry Go-like
/// `dial tcp <addr>: <reason>` text.
pub async fn probe(addr: &str, timeout: Duration) -> CheckResult {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => {
            drop(stream);
            CheckResult::passing(format!("TCP connect {addr}: Success"))
        }
        Ok(Err(e)) => CheckResult::critical(format!("dial tcp {addr}: {e}")),
        Err(_) => CheckResult::critical(format!("dial tcp {addr}: i/o timeout")),
    }
}
