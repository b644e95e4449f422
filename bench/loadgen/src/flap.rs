//! Health watch fan-out (bench/discovery.sh): `instances` instances of `web` flap (their
//! service check goes passing <-> critical) once per `period`, spread evenly over it, while
//! `watchers` clients follow the service: proconsul's blocking
//! `GET /v1/health/service/web?index=N`, or etcd watches on the prefix `web/` (its JSON
//! gateway's streamed `POST /v3/watch`). Every change carries a global sequence number `c`
//! (the check's `Output` is `seq=c`; etcd's value likewise), and change `c` is to instance
//! `(c - 1) % instances`. A watcher's answer reflects change `c` when it shows that instance
//! with a sequence number of at least `c` (a later change to the same instance supersedes
//! it). Measured: for every watcher × change pair, the time from sending the change to that
//! watcher's first answer reflecting it; and the server's CPU time over the flapping period.
//!
//! Each instance reports its changes on a connection of its own, on schedule, so a slow write
//! does not slow the flapping down; changes to one instance are a period apart.

use crate::http::Conn;
use crate::load::preload;
use crate::stats::percentile;
use crate::target::System;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use memchr::memmem;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Semaphore, oneshot, watch};
use tokio::time::Instant;

pub struct FlapSpec {
    pub system: System,
    pub addr: SocketAddr,
    /// The server's pid, for its CPU time.
    pub pid: u32,
    pub watchers: usize,
    pub instances: usize,
    /// Each instance changes once per period.
    pub period: Duration,
    /// How long the changes go on.
    pub duration: Duration,
    /// After the last change, how long watchers may take to catch up.
    pub grace: Duration,
    /// `getconf CLK_TCK`: the unit of /proc/<pid>/stat's utime and stime.
    pub clk_tck: f64,
    pub connect_parallel: usize,
}

#[derive(Debug, Default)]
pub struct FlapResult {
    pub changes: u64,
    pub pairs: u64,
    pub missed: u64,
    pub latencies_us: Vec<u32>,
    pub server_cpu_pct: f64,
    pub loadgen_cpu_pct: f64,
    pub flap_secs: f64,
    /// From the first change sent to the last one sent.
    pub send_secs: f64,
    pub responses: u64,
    pub body_bytes: u64,
    pub watcher_errors: u64,
    pub change_errors: u64,
    pub change_p50_us: u32,
    pub change_p99_us: u32,
    pub setup_secs: f64,
}

/// utime + stime of a process (`self` or a pid), in clock ticks.
pub fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces: count from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Every `seq=N` in `bytes`, in order.
pub fn seqs(bytes: &[u8]) -> impl Iterator<Item = u64> + '_ {
    memmem::find_iter(bytes, b"seq=").map(move |at| {
        bytes[at + 4..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .fold(0u64, |n, b| n * 10 + u64::from(b - b'0'))
    })
}

fn status_of(passing: bool) -> &'static str {
    if passing { "passing" } else { "critical" }
}

/// The write that sets instance `i` to `passing` with sequence number `seq`.
fn change_request(system: System, i: usize, passing: bool, seq: u64) -> Vec<u8> {
    let status = status_of(passing);
    let body = match system {
        System::Proconsul => format!(
            r#"{{"Node":"flap-n{i:03}","Address":"10.1.{}.{}","Service":{{"ID":"web-{i}","Service":"web","Port":80}},"Check":{{"CheckID":"web-{i}-chk","Name":"web-{i}-chk","Status":"{status}","ServiceID":"web-{i}","Output":"seq={seq}"}}}}"#,
            i / 256,
            i % 256
        ),
        System::Etcd => format!(
            r#"{{"key":"{}","value":"{}"}}"#,
            B64.encode(format!("web/{i:03}")),
            B64.encode(format!(
                "web-{i} 10.1.{}.{}:80 {status} seq={seq}",
                i / 256,
                i % 256
            ))
        ),
    };
    let path = match system {
        System::Proconsul => "/v1/catalog/register",
        System::Etcd => "/v3/kv/put",
    };
    let method = match system {
        System::Proconsul => "PUT",
        System::Etcd => "POST",
    };
    format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Change `seq` (1-based) of a run: which instance, and its new status. Instance `i` goes
/// critical in the first round, passing again in the second, and so on.
fn change(seq: u64, instances: usize) -> (usize, bool) {
    let k = (seq - 1) as usize;
    let round = k / instances;
    (k % instances, round % 2 == 1)
}

/// Registers every instance as passing with `seq=0`, then checks the server shows them.
async fn setup(spec: &FlapSpec) -> Result<(), String> {
    let requests = (0..spec.instances)
        .map(|i| change_request(spec.system, i, true, 0))
        .collect();
    let failures = preload(spec.addr, 16, requests).await;
    if failures > 0 {
        return Err(format!("setup: {failures} registrations failed"));
    }
    let mut conn = Conn::connect(spec.addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let request: Vec<u8> = match spec.system {
        System::Proconsul => {
            b"GET /v1/health/service/web HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec()
        }
        System::Etcd => etcd_post(
            "/v3/kv/range",
            &format!(
                r#"{{"key":"{}","range_end":"{}","count_only":true}}"#,
                B64.encode("web/"),
                B64.encode("web0")
            ),
        ),
    };
    let resp = conn
        .roundtrip(&request)
        .await
        .map_err(|e| format!("setup read: {e}"))?;
    let body: Value = serde_json::from_slice(conn.body(&resp))
        .map_err(|e| format!("setup read: status {}: {e}", resp.status))?;
    let seen = match spec.system {
        System::Proconsul => body.as_array().map_or(0, |a| {
            a.iter()
                .filter(|e| {
                    e["Checks"]
                        .as_array()
                        .is_some_and(|c| c.iter().all(|c| c["Status"] == "passing"))
                })
                .count()
        }),
        System::Etcd => body["count"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0),
    };
    if seen != spec.instances {
        return Err(format!(
            "setup: server shows {seen} passing instances, expected {}",
            spec.instances
        ));
    }
    Ok(())
}

fn etcd_post(path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// What one watcher saw: the newest sequence number per instance, and each time one went up
/// the new value and when (in time order).
struct WatcherOut {
    instances: u64,
    newest: Vec<u64>,
    transitions: Vec<(u64, Instant)>,
    /// How many changes the watcher has seen so far (a superseded one counts as seen).
    covered: u64,
    responses: u64,
    bytes: u64,
    errors: u64,
}

struct Shared {
    addr: SocketAddr,
    gate: Semaphore,
    ready: AtomicUsize,
    instances: usize,
}

impl WatcherOut {
    fn new(instances: usize) -> Self {
        Self {
            instances: instances.max(1) as u64,
            newest: vec![0; instances.max(1)],
            transitions: Vec::new(),
            covered: 0,
            responses: 0,
            bytes: 0,
            errors: 0,
        }
    }

    /// Changes 1..=seq to the instance `seq` belongs to.
    fn changes_upto(&self, seq: u64) -> u64 {
        if seq == 0 {
            0
        } else {
            (seq - 1) / self.instances + 1
        }
    }

    fn saw(&mut self, seq: u64, at: Instant, covered: &AtomicU64) {
        if seq == 0 {
            return;
        }
        let i = ((seq - 1) % self.instances) as usize;
        let old = self.newest[i];
        if seq > old {
            self.covered += self.changes_upto(seq) - self.changes_upto(old);
            self.newest[i] = seq;
            self.transitions.push((seq, at));
            covered.store(self.covered, Ordering::Relaxed);
        }
    }

    /// When each change 1..=changes was first seen (index `c - 1`).
    fn seen_at(&self, changes: u64) -> Vec<Option<Instant>> {
        let mut seen = vec![None; changes as usize];
        for &(seq, at) in &self.transitions {
            let mut c = seq;
            // Walk back over the earlier changes to the same instance not seen yet.
            while c >= 1 && c <= changes && seen[(c - 1) as usize].is_none() {
                seen[(c - 1) as usize] = Some(at);
                if c <= self.instances {
                    break;
                }
                c -= self.instances;
            }
        }
        seen
    }
}

/// A proconsul watcher: blocking queries in a loop, each with the last `X-Consul-Index`.
async fn proconsul_watcher(
    shared: Arc<Shared>,
    covered: Arc<AtomicU64>,
    mut cancel: watch::Receiver<bool>,
) -> WatcherOut {
    let mut out = WatcherOut::new(shared.instances);
    let mut conn: Option<Conn> = None;
    let mut index = 0u64;
    let mut first = true;
    while !*cancel.borrow() {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => {
                let opened = match shared.gate.acquire().await {
                    Ok(_permit) => Conn::connect(shared.addr).await,
                    Err(_) => break,
                };
                match opened {
                    Ok(c) => conn.insert(c),
                    Err(_) => {
                        out.errors += 1;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                }
            }
        };
        let request = format!(
            "GET /v1/health/service/web?index={index}&wait=60s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        );
        let answer = tokio::select! {
            r = async {
                c.send(request.as_bytes()).await?;
                c.read_response().await
            } => r,
            _ = cancel.wait_for(|c| *c) => break,
        };
        let at = Instant::now();
        match answer {
            Ok(resp) if resp.status == 200 && resp.index.is_some() => {
                let body = c.body(&resp);
                out.responses += 1;
                out.bytes += body.len() as u64;
                for seq in seqs(body) {
                    out.saw(seq, at, &covered);
                }
                index = resp.index.unwrap_or(0);
                if first {
                    first = false;
                    shared.ready.fetch_add(1, Ordering::SeqCst);
                }
            }
            Ok(_) => {
                out.errors += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(_) => {
                out.errors += 1;
                conn = None;
            }
        }
    }
    out
}

/// An etcd watcher: one streamed `POST /v3/watch` on the prefix `web/`; every event message
/// carries the changed value.
async fn etcd_watcher(
    shared: Arc<Shared>,
    covered: Arc<AtomicU64>,
    mut cancel: watch::Receiver<bool>,
) -> WatcherOut {
    let mut out = WatcherOut::new(shared.instances);
    let request = etcd_post(
        "/v3/watch",
        &format!(
            r#"{{"create_request":{{"key":"{}","range_end":"{}"}}}}"#,
            B64.encode("web/"),
            B64.encode("web0")
        ),
    );
    let opened = async {
        let _permit = shared.gate.acquire().await.ok();
        let mut c = Conn::connect(shared.addr).await?;
        c.send(&request).await?;
        let status = c.open_stream().await?;
        Ok::<_, std::io::Error>((c, status))
    }
    .await;
    let mut c = match opened {
        Ok((c, 200)) => c,
        _ => {
            out.errors += 1;
            return out;
        }
    };
    let mut pending = Vec::new();
    loop {
        let more = tokio::select! {
            r = c.next_chunk(&mut pending) => r,
            _ = cancel.wait_for(|c| *c) => break,
        };
        let at = Instant::now();
        match more {
            Ok(true) => {}
            _ => {
                out.errors += 1;
                break;
            }
        }
        // The gateway writes one JSON message per event batch (newline-delimited); a chunk
        // may end mid-message, so keep whatever is incomplete for the next chunk.
        let mut stream = serde_json::Deserializer::from_slice(&pending).into_iter::<Value>();
        let mut used = 0;
        while let Some(Ok(message)) = stream.next() {
            used = stream.byte_offset();
            out.responses += 1;
            let result = &message["result"];
            if result["created"] == true {
                shared.ready.fetch_add(1, Ordering::SeqCst);
            }
            for event in result["events"].as_array().into_iter().flatten() {
                let value = event["kv"]["value"].as_str().unwrap_or("");
                if let Ok(bytes) = B64.decode(value) {
                    out.bytes += bytes.len() as u64;
                    for seq in seqs(&bytes) {
                        out.saw(seq, at, &covered);
                    }
                }
            }
        }
        pending.drain(..used);
    }
    out
}

struct Flapped {
    /// When change `c` was sent (index `c - 1`).
    sent: Vec<Instant>,
    ack_us: Vec<u32>,
    errors: u64,
}

type Sent = (u64, Instant, u32, bool);

/// Instance `i`'s reporter, on a connection of its own (as if each instance's node reported
/// its own health): sends changes `i + 1`, `i + 1 + instances`, … each when it is due,
/// `t0 + (seq - 1) * interval`, so one slow write never delays another instance's change.
async fn flap_sender(
    system: System,
    addr: SocketAddr,
    mut conn: Conn,
    i: usize,
    spec: (usize, Duration, u64, Instant),
) -> Result<Vec<Sent>, String> {
    let (instances, interval, changes, t0) = spec;
    let mut out = Vec::new();
    for seq in ((i as u64 + 1)..=changes).step_by(instances.max(1)) {
        tokio::time::sleep_until(t0 + interval * (seq - 1) as u32).await;
        let (_, passing) = change(seq, instances);
        let request = change_request(system, i, passing, seq);
        let sent = Instant::now();
        let ok = match conn.roundtrip(&request).await {
            Ok(r) => r.status == 200,
            Err(_) => {
                conn = Conn::connect(addr)
                    .await
                    .map_err(|e| format!("flapper reconnect: {e}"))?;
                false
            }
        };
        let ack = sent.elapsed().as_micros().min(u32::MAX as u128) as u32;
        out.push((seq, sent, ack, ok));
    }
    Ok(out)
}

/// Sends the changes on their own thread (and runtime), so the watchers' work does not delay
/// them; t0 is when every reporter's connection is open.
fn spawn_flapper(
    system: System,
    addr: SocketAddr,
    instances: usize,
    interval: Duration,
    changes: u64,
) -> oneshot::Receiver<Result<Flapped, String>> {
    let (tx, rx) = oneshot::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        let result = match rt {
            Ok(rt) => rt.block_on(async move {
                let mut conns = Vec::with_capacity(instances);
                for _ in 0..instances {
                    conns.push(
                        Conn::connect(addr)
                            .await
                            .map_err(|e| format!("flapper connect: {e}"))?,
                    );
                }
                let t0 = Instant::now() + Duration::from_millis(20);
                let senders: Vec<_> = conns
                    .into_iter()
                    .enumerate()
                    .map(|(i, conn)| {
                        let spec = (instances, interval, changes, t0);
                        tokio::spawn(flap_sender(system, addr, conn, i, spec))
                    })
                    .collect();
                let mut all = Vec::with_capacity(changes as usize);
                for s in senders {
                    all.extend(s.await.map_err(|e| format!("flapper: {e}"))??);
                }
                all.sort_by_key(|s| s.0);
                if all.len() as u64 != changes {
                    return Err(format!("flapper sent {} of {changes} changes", all.len()));
                }
                Ok(Flapped {
                    sent: all.iter().map(|s| s.1).collect(),
                    ack_us: all.iter().map(|s| s.2).collect(),
                    errors: all.iter().filter(|s| !s.3).count() as u64,
                })
            }),
            Err(e) => Err(format!("flapper runtime: {e}")),
        };
        let _ = tx.send(result);
    });
    rx
}

/// Runs the whole scenario against one system.
pub async fn run(spec: FlapSpec) -> Result<FlapResult, String> {
    setup(&spec).await?;
    let setup_start = Instant::now();
    let shared = Arc::new(Shared {
        addr: spec.addr,
        gate: Semaphore::new(spec.connect_parallel.max(1)),
        ready: AtomicUsize::new(0),
        instances: spec.instances,
    });
    let (cancel_tx, cancel_rx) = watch::channel(false);
    let covered: Vec<Arc<AtomicU64>> = (0..spec.watchers)
        .map(|_| Arc::new(AtomicU64::new(0)))
        .collect();
    let handles: Vec<_> = covered
        .iter()
        .map(|s| {
            let (shared, s, cancel) = (shared.clone(), s.clone(), cancel_rx.clone());
            match spec.system {
                System::Proconsul => tokio::spawn(proconsul_watcher(shared, s, cancel)),
                System::Etcd => tokio::spawn(etcd_watcher(shared, s, cancel)),
            }
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while shared.ready.load(Ordering::SeqCst) < spec.watchers {
        if Instant::now() > deadline {
            let _ = cancel_tx.send(true);
            return Err(format!(
                "only {} of {} watchers got their first answer within 60 s",
                shared.ready.load(Ordering::SeqCst),
                spec.watchers
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let setup_secs = setup_start.elapsed().as_secs_f64();
    // Let the first round of re-issued blocking queries park.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let interval = spec.period / spec.instances.max(1) as u32;
    let changes = (spec.duration.as_secs_f64() / interval.as_secs_f64()).floor() as u64;
    let pid = spec.pid.to_string();
    let server0 = cpu_ticks(&pid).ok_or("cannot read the server's CPU time")?;
    let self0 = cpu_ticks("self").unwrap_or(0);
    let t0 = Instant::now();
    let flapper = spawn_flapper(spec.system, spec.addr, spec.instances, interval, changes);
    let flapped = flapper.await.map_err(|_| "flapper thread died")??;
    let flap_secs = t0.elapsed().as_secs_f64();
    let server1 = cpu_ticks(&pid).ok_or("cannot read the server's CPU time")?;
    let self1 = cpu_ticks("self").unwrap_or(0);

    let caught_up = Instant::now() + spec.grace;
    while Instant::now() < caught_up && covered.iter().any(|c| c.load(Ordering::Relaxed) < changes)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = cancel_tx.send(true);

    let pct = |ticks: u64| ticks as f64 / spec.clk_tck / flap_secs * 100.0;
    let mut ack = flapped.ack_us.clone();
    ack.sort_unstable();
    let mut result = FlapResult {
        changes,
        server_cpu_pct: pct(server1.saturating_sub(server0)),
        loadgen_cpu_pct: pct(self1.saturating_sub(self0)),
        flap_secs,
        send_secs: match (flapped.sent.first(), flapped.sent.last()) {
            (Some(first), Some(last)) => last.saturating_duration_since(*first).as_secs_f64(),
            _ => 0.0,
        },
        change_errors: flapped.errors,
        change_p50_us: percentile(&ack, 50.0),
        change_p99_us: percentile(&ack, 99.0),
        setup_secs,
        ..FlapResult::default()
    };
    for h in handles {
        let Ok(out) = h.await else {
            result.watcher_errors += 1;
            result.pairs += changes;
            result.missed += changes;
            continue;
        };
        result.responses += out.responses;
        result.body_bytes += out.bytes;
        result.watcher_errors += out.errors;
        for (seen, sent) in out.seen_at(changes).iter().zip(&flapped.sent) {
            result.pairs += 1;
            match seen {
                Some(at) => {
                    let us = at.saturating_duration_since(*sent).as_micros();
                    result.latencies_us.push(us.min(u32::MAX as u128) as u32);
                }
                None => result.missed += 1,
            }
        }
    }
    result.latencies_us.sort_unstable();
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sequence_numbers() {
        let found: Vec<u64> =
            seqs(br#"[{"Output":"seq=7"},{"Output":"seq=12"},{"x":1}]"#).collect();
        assert_eq!(found, [7, 12]);
        assert_eq!(seqs(b"nothing here").count(), 0);
    }

    #[test]
    fn a_later_change_supersedes_an_unseen_one() {
        let covered = AtomicU64::new(0);
        let mut w = WatcherOut::new(3);
        let t = Instant::now();
        for seq in [0, 1, 3] {
            w.saw(seq, t, &covered);
        }
        // Change 2 (instance 1) is never shown; change 5 (instance 1) supersedes it.
        let later = t + Duration::from_millis(5);
        w.saw(5, later, &covered);
        w.saw(1, later, &covered); // old news
        assert_eq!(covered.load(Ordering::Relaxed), 4);
        let seen = w.seen_at(5);
        assert_eq!(seen, [Some(t), Some(later), Some(t), None, Some(later)]);
    }

    #[test]
    fn changes_alternate_by_round() {
        assert_eq!(change(1, 200), (0, false));
        assert_eq!(change(200, 200), (199, false));
        assert_eq!(change(201, 200), (0, true));
        assert_eq!(change(401, 200), (0, false));
    }

    #[test]
    fn cpu_ticks_of_self() {
        assert!(cpu_ticks("self").is_some());
    }
}
