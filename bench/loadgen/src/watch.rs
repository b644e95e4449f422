//! Blocking-query fan-out: hold `watchers` blocking queries on key A and `others` on key B
//! (one connection each), measure the agent's RSS before and while they are held, PUT key A
//! once, then time every A answer from the PUT and check that no B watcher was woken.

use crate::http::Conn;
use crate::stats::percentile;
use crate::target::{System, get_request, put_request};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub struct WatchSpec {
    pub addr: SocketAddr,
    pub pid: u32,
    pub watchers: usize,
    pub others: usize,
    pub key_a: String,
    pub key_b: String,
    /// Connections being opened at once while setting up.
    pub connect_parallel: usize,
}

#[derive(Debug, Default)]
pub struct WatchResult {
    pub expected: usize,
    pub answered: usize,
    /// Answers that came before the PUT (the query did not block).
    pub early: usize,
    pub errors: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub rss_before_kb: u64,
    pub rss_held_kb: u64,
    pub others: usize,
    pub others_woken: usize,
    pub setup_secs: f64,
}

impl WatchResult {
    /// Agent RSS growth per held query, bytes.
    pub fn bytes_per_query(&self) -> f64 {
        let held = (self.expected + self.others).max(1) as f64;
        (self.rss_held_kb as f64 - self.rss_before_kb as f64) * 1024.0 / held
    }
}

/// VmRSS of `pid` in KiB, from /proc.
pub fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn blocking_request(key: &str, index: u64) -> Vec<u8> {
    format!("GET /v1/kv/{key}?index={index}&wait=60s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .into_bytes()
}

/// Writes both keys and returns their current indexes.
async fn prepare(conn: &mut Conn, spec: &WatchSpec) -> Result<(u64, u64), String> {
    let mut indexes = [0u64; 2];
    for (slot, key) in [&spec.key_a, &spec.key_b].into_iter().enumerate() {
        let put = put_request(System::Proconsul, key, b"initial");
        let r = conn
            .roundtrip(&put)
            .await
            .map_err(|e| format!("PUT {key}: {e}"))?;
        if r.status != 200 {
            return Err(format!("PUT {key}: status {}", r.status));
        }
        let r = conn
            .roundtrip(&get_request(System::Proconsul, key))
            .await
            .map_err(|e| format!("GET {key}: {e}"))?;
        indexes[slot] = r.index.ok_or(format!("GET {key}: no X-Consul-Index"))?;
    }
    Ok((indexes[0], indexes[1]))
}

/// What one watcher saw: `Ok(Some(t))` answered at `t`, `Ok(None)` still pending when
/// cancelled, `Err` a connection or protocol error.
type Outcome = Result<Option<Instant>, ()>;

struct Launch {
    addr: SocketAddr,
    gate: Arc<Semaphore>,
    sent: Arc<AtomicUsize>,
    cancel: watch::Receiver<bool>,
}

impl Launch {
    fn spawn(&self, request: Arc<Vec<u8>>) -> JoinHandle<Outcome> {
        let (addr, gate, sent) = (self.addr, self.gate.clone(), self.sent.clone());
        let mut cancel = self.cancel.clone();
        tokio::spawn(async move {
            let opened = async {
                let _permit = gate.acquire().await.map_err(|_| ())?;
                let mut conn = Conn::connect(addr).await.map_err(|_| ())?;
                conn.send(&request).await.map_err(|_| ())?;
                Ok::<_, ()>(conn)
            }
            .await;
            sent.fetch_add(1, Ordering::SeqCst);
            let mut conn = opened?;
            tokio::select! {
                r = conn.read_response() => match r {
                    Ok(resp) if resp.status == 200 => Ok(Some(Instant::now())),
                    _ => Err(()),
                },
                _ = cancel.wait_for(|c| *c) => Ok(None),
            }
        })
    }
}

/// Waits until every watcher has sent its request (or failed to), then until the agent's
/// RSS stops growing, so the held queries are parked before measuring.
async fn settle(sent: &AtomicUsize, total: usize, pid: u32) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(40);
    while sent.load(Ordering::SeqCst) < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut last = rss_kb(pid).unwrap_or(0);
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = rss_kb(pid).unwrap_or(0);
        if now.abs_diff(last) * 200 < last.max(1) {
            return now;
        }
        last = now;
    }
    last
}

/// Runs the whole fan-out scenario.
pub async fn run(spec: WatchSpec) -> Result<WatchResult, String> {
    let mut conn = Conn::connect(spec.addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (index_a, index_b) = prepare(&mut conn, &spec).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before_kb = rss_kb(spec.pid).ok_or("cannot read agent RSS")?;

    let (cancel_tx, cancel_rx) = watch::channel(false);
    let launch = Launch {
        addr: spec.addr,
        gate: Arc::new(Semaphore::new(spec.connect_parallel.max(1))),
        sent: Arc::new(AtomicUsize::new(0)),
        cancel: cancel_rx,
    };
    let setup_start = Instant::now();
    let req_a = Arc::new(blocking_request(&spec.key_a, index_a));
    let req_b = Arc::new(blocking_request(&spec.key_b, index_b));
    let a: Vec<_> = (0..spec.watchers)
        .map(|_| launch.spawn(req_a.clone()))
        .collect();
    let b: Vec<_> = (0..spec.others)
        .map(|_| launch.spawn(req_b.clone()))
        .collect();
    let total = spec.watchers + spec.others;
    let rss_held_kb = settle(&launch.sent, total, spec.pid).await;
    let setup_secs = setup_start.elapsed().as_secs_f64();

    let fired = Instant::now();
    let put = put_request(System::Proconsul, &spec.key_a, b"changed");
    let put_ok = matches!(conn.roundtrip(&put).await, Ok(r) if r.status == 200);

    let mut result = WatchResult {
        expected: spec.watchers,
        others: spec.others,
        rss_before_kb,
        rss_held_kb,
        setup_secs,
        errors: usize::from(!put_ok),
        ..WatchResult::default()
    };
    let latencies = collect_a(a, fired, &mut result).await;
    // Give B watchers time to be (wrongly) woken, then release everyone still held.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = cancel_tx.send(true);
    for h in b {
        match h.await {
            Ok(Ok(Some(_))) => result.others_woken += 1,
            Ok(Ok(None)) => {}
            _ => result.errors += 1,
        }
    }
    result.p50_ms = percentile(&latencies, 50.0);
    result.p99_ms = percentile(&latencies, 99.0);
    result.max_ms = latencies.last().copied().unwrap_or(0.0);
    Ok(result)
}

/// Collects the A watchers' answers (waiting at most 10 s after the PUT); returns the sorted
/// answer latencies in milliseconds.
async fn collect_a(
    a: Vec<JoinHandle<Outcome>>,
    fired: Instant,
    result: &mut WatchResult,
) -> Vec<f64> {
    let deadline = fired + Duration::from_secs(10);
    let mut latencies = Vec::with_capacity(a.len());
    for h in a {
        match tokio::time::timeout_at(deadline, h).await {
            Ok(Ok(Ok(Some(t)))) if t >= fired => {
                result.answered += 1;
                latencies.push((t - fired).as_secs_f64() * 1000.0);
            }
            Ok(Ok(Ok(Some(_)))) => result.early += 1,
            _ => result.errors += 1,
        }
    }
    latencies.sort_by(f64::total_cmp);
    latencies
}
