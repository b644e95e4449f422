//! Closed-loop load: `conns` keep-alive connections, each sending its next request as soon
//! as the previous answer arrives, for a warm-up and then a measured period. Network errors
//! and non-2xx answers are counted, never fatal.

use crate::http::Conn;
use crate::stats::percentile;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

pub struct LoadSpec {
    pub addr: SocketAddr,
    pub conns: usize,
    pub warmup: Duration,
    pub measure: Duration,
    pub requests: Arc<Vec<Vec<u8>>>,
}

#[derive(Debug, Default)]
pub struct LoadResult {
    pub ops: u64,
    pub errors: u64,
    pub secs: f64,
    /// Latencies of the measured operations, microseconds, sorted.
    pub latencies_us: Vec<u32>,
}

impl LoadResult {
    pub fn rps(&self) -> f64 {
        if self.secs > 0.0 {
            self.ops as f64 / self.secs
        } else {
            0.0
        }
    }

    pub fn p(&self, pct: f64) -> u32 {
        percentile(&self.latencies_us, pct)
    }
}

#[derive(Default)]
struct WorkerOut {
    ops: u64,
    errors: u64,
    latencies_us: Vec<u32>,
}

async fn worker(id: usize, spec: Arc<LoadSpec>, measure_from: Instant, end: Instant) -> WorkerOut {
    let mut out = WorkerOut::default();
    let n = spec.requests.len().max(1);
    // Each connection walks the keys from its own offset so they do not all hit one key.
    let mut seq = id * 7919;
    let mut conn: Option<Conn> = None;
    while Instant::now() < end {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match Conn::connect(spec.addr).await {
                Ok(c) => conn.insert(c),
                Err(_) => {
                    out.errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let request = &spec.requests[seq % n];
        seq += 1;
        let started = Instant::now();
        let result = c.roundtrip(request).await;
        let done = Instant::now();
        let counted = started >= measure_from && done <= end;
        match result {
            Ok(r) if (200..300).contains(&r.status) => {
                if counted {
                    out.ops += 1;
                    let us = (done - started).as_micros().min(u32::MAX as u128) as u32;
                    out.latencies_us.push(us);
                }
            }
            Ok(_) => out.errors += 1,
            Err(_) => {
                out.errors += 1;
                conn = None;
            }
        }
    }
    out
}

/// Runs the load and merges the workers' results.
pub async fn run(spec: LoadSpec) -> LoadResult {
    let spec = Arc::new(spec);
    let start = Instant::now();
    let measure_from = start + spec.warmup;
    let end = measure_from + spec.measure;
    let handles: Vec<_> = (0..spec.conns)
        .map(|id| tokio::spawn(worker(id, spec.clone(), measure_from, end)))
        .collect();
    let mut result = LoadResult {
        secs: spec.measure.as_secs_f64(),
        ..LoadResult::default()
    };
    for h in handles {
        match h.await {
            Ok(w) => {
                result.ops += w.ops;
                result.errors += w.errors;
                result.latencies_us.extend(w.latencies_us);
            }
            Err(_) => result.errors += 1,
        }
    }
    result.latencies_us.sort_unstable();
    result
}

/// Writes every request once over `conns` connections (to create the keys a read test
/// reads). Returns the number of failures.
pub async fn preload(addr: SocketAddr, conns: usize, requests: Vec<Vec<u8>>) -> u64 {
    let requests = Arc::new(requests);
    let conns = conns.max(1);
    let handles: Vec<_> = (0..conns)
        .map(|w| {
            let requests = requests.clone();
            tokio::spawn(async move {
                let mut failures = 0u64;
                let mut conn = Conn::connect(addr).await.ok();
                for i in (w..requests.len()).step_by(conns) {
                    let ok = match conn.as_mut() {
                        Some(c) => {
                            matches!(c.roundtrip(&requests[i]).await, Ok(r) if r.status < 300)
                        }
                        None => false,
                    };
                    if !ok {
                        failures += 1;
                        conn = Conn::connect(addr).await.ok();
                    }
                }
                failures
            })
        })
        .collect();
    let mut failures = 0;
    for h in handles {
        failures += h.await.unwrap_or(1);
    }
    failures
}
