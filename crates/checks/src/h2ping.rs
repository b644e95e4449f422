//! H2 ping checks: open an HTTP/2 connection and have a PING frame acknowledged.
//! Texts are Consul's: `HTTP2 ping was successful`, `HTTP2 ping failed: <err>`,
//! `Failed to dial to <addr>: <err>`, `Failed to create client connection <err>`.

use std::time::Duration;

use crate::CheckResult;
use crate::conn::{TlsDial, dial};
use crate::error::CheckError;

#[derive(Debug, Clone)]
pub struct H2PingProbe {
    addr: String,
    tls: Option<TlsDial>,
}

impl H2PingProbe {
    pub fn new(
        addr: &str,
        use_tls: bool,
        skip_verify: bool,
        server_name: Option<&str>,
    ) -> Result<Self, CheckError> {
        let tls = if use_tls {
            Some(TlsDial::new(addr, skip_verify, server_name)?)
        } else {
            None
        };
        Ok(H2PingProbe {
            addr: addr.to_string(),
            tls,
        })
    }

    pub async fn probe(&self, timeout: Duration) -> CheckResult {
        match tokio::time::timeout(timeout, self.ping()).await {
            Ok(r) => r,
            Err(_) => CheckResult::critical("HTTP2 ping failed: context deadline exceeded"),
        }
    }

    async fn ping(&self) -> CheckResult {
        let io = match dial(&self.addr, self.tls.as_ref()).await {
            Ok(io) => io,
            Err(e) => {
                return CheckResult::critical(format!("Failed to dial to {}: {e}", self.addr));
            }
        };
        let (_send, mut conn) = match h2::client::handshake(io).await {
            Ok(pair) => pair,
            Err(e) => {
                return CheckResult::critical(format!("Failed to create client connection {e}"));
            }
        };
        let Some(mut pinger) = conn.ping_pong() else {
            return CheckResult::critical("HTTP2 ping failed: ping handle unavailable");
        };
        // The connection future does the IO; it runs only while we await the pong, and
        // is dropped (closing the socket) when this function returns.
        let driver = async {
            let _ = (&mut conn).await;
        };
        tokio::pin!(driver);
        let result = tokio::select! {
            r = pinger.ping(h2::Ping::opaque()) => r,
            _ = &mut driver => {
                return CheckResult::critical("HTTP2 ping failed: connection closed");
            }
        };
        match result {
            Ok(_) => CheckResult::passing("HTTP2 ping was successful"),
            Err(e) => CheckResult::critical(format!("HTTP2 ping failed: {e}")),
        }
    }
}
