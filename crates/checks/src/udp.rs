//! UDP checks, with Consul's rule: send a datagram, then wait for one byte back.
//! A reply passes; *silence until the timeout also passes* (UDP services often never
//! answer); only an error passes through as critical, which on Linux is mostly the ICMP
//! port-unreachable that a connected socket reports as "connection refused".

use std::time::Duration;

use tokio::net::UdpSocket;

use crate::CheckResult;

/// Consul sends its (empty) `Message`; an empty datagram is still a datagram and is what
/// provokes the ICMP error from a closed port.
const PAYLOAD: &[u8] = b"";

pub async fn probe(addr: &str, timeout: Duration) -> CheckResult {
    let success = || CheckResult::passing(format!("UDP connect {addr}: Success"));
    let deadline = tokio::time::Instant::now() + timeout;
    let sock = match tokio::time::timeout_at(deadline, connect(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return CheckResult::critical(format!("dial udp {addr}: {e}")),
        // A dial timeout counts as success in Consul too.
        Err(_) => return success(),
    };
    if let Err(e) = sock.send(PAYLOAD).await {
        return CheckResult::critical(format!("write udp {addr}: {e}"));
    }
    let mut buf = [0u8; 1];
    match tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await {
        Ok(Ok(_)) | Err(_) => success(),
        Ok(Err(e)) => {
            let local = sock.local_addr().map(|a| a.to_string()).unwrap_or_default();
            CheckResult::critical(format!("read udp {local}->{addr}: {e}"))
        }
    }
}

/// Binds a socket of the target's address family and connects it, so ICMP errors for
/// the target are delivered to it.
async fn connect(addr: &str) -> std::io::Result<UdpSocket> {
    let target = tokio::net::lookup_host(addr)
        .await?
        .next()
        .ok_or_else(|| std::io::Error::other("no addresses"))?;
    let bind = if target.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let sock = UdpSocket::bind(bind).await?;
    sock.connect(target).await?;
    Ok(sock)
}
