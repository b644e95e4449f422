//! Start-to-serving time and idle RSS: spawn a server, poll its health endpoint until it
//! reports a leader, let it idle, read its RSS, stop it.

use crate::http::Conn;
use crate::target::System;
use crate::watch::rss_kb;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;
use tokio::time::Instant;

pub struct StartupSpec {
    pub system: System,
    pub addr: SocketAddr,
    pub idle: Duration,
    pub timeout: Duration,
    pub command: Vec<String>,
}

#[derive(Debug)]
pub struct StartupResult {
    pub serving_ms: f64,
    pub rss_kb: u64,
    /// Failed probes before the first good one (connection refused while starting, etc.).
    pub probes: u64,
}

/// One probe: proconsul's `/v1/status/leader` must be 200 with a non-empty leader; etcd's
/// `/health` must say `"health":"true"` (it does only once a leader is elected).
async fn probe(system: System, addr: SocketAddr) -> bool {
    let Ok(mut conn) = Conn::connect(addr).await else {
        return false;
    };
    let request: &[u8] = match system {
        System::Proconsul => b"GET /v1/status/leader HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        System::Etcd => b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    };
    let Ok(resp) = conn.roundtrip(request).await else {
        return false;
    };
    let body = String::from_utf8_lossy(conn.body(&resp));
    resp.status == 200
        && match system {
            System::Proconsul => {
                let leader = body.trim().trim_matches('"');
                !leader.is_empty()
            }
            System::Etcd => body.replace(' ', "").contains(r#""health":"true""#),
        }
}

pub async fn run(spec: StartupSpec) -> Result<StartupResult, String> {
    let (program, args) = spec.command.split_first().ok_or("no command given")?;
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("spawn {program}: {e}"))?;
    let pid = child.id().ok_or("child exited at once")?;
    let mut probes = 0;
    let serving = loop {
        if probe(spec.system, spec.addr).await {
            break Some(started.elapsed());
        }
        probes += 1;
        if started.elapsed() > spec.timeout {
            break None;
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{program} exited before serving: {status}"));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    tokio::time::sleep(spec.idle).await;
    let rss = rss_kb(pid);
    let _ = child.kill().await;
    let serving = serving.ok_or("not serving before the timeout")?;
    Ok(StartupResult {
        serving_ms: serving.as_secs_f64() * 1000.0,
        rss_kb: rss.ok_or("cannot read RSS")?,
        probes,
    })
}
