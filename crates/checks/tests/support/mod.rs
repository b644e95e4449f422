//! Shared test helpers: a sink that forwards updates to a channel, and waiting for an
//! update with a deadline (never a fixed sleep).
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use proconsul_checks::{CheckUpdate, Sink, Status};
use tokio::sync::mpsc;

pub const DEADLINE: Duration = Duration::from_secs(15);

pub fn channel_sink() -> (Sink, mpsc::UnboundedReceiver<CheckUpdate>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let sink: Sink = Arc::new(move |u: CheckUpdate| {
        let _ = tx.send(u);
    });
    (sink, rx)
}

/// The next update, or a panic naming what was awaited once the deadline passes.
pub async fn next(rx: &mut mpsc::UnboundedReceiver<CheckUpdate>, what: &str) -> CheckUpdate {
    match tokio::time::timeout(DEADLINE, rx.recv()).await {
        Ok(Some(u)) => u,
        Ok(None) => panic!("sink closed while waiting for {what}"),
        Err(_) => panic!("no update within {DEADLINE:?} while waiting for {what}"),
    }
}

/// Skips updates until one satisfies `pred`; returns it and the statuses skipped.
pub async fn wait_for(
    rx: &mut mpsc::UnboundedReceiver<CheckUpdate>,
    what: &str,
    pred: impl Fn(&CheckUpdate) -> bool,
) -> (CheckUpdate, Vec<Status>) {
    let mut skipped = Vec::new();
    let end = tokio::time::Instant::now() + DEADLINE;
    loop {
        let left = end.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(u)) if pred(&u) => return (u, skipped),
            Ok(Some(u)) => skipped.push(u.status),
            Ok(None) => panic!("sink closed while waiting for {what}"),
            Err(_) => panic!("no matching update while waiting for {what}; saw {skipped:?}"),
        }
    }
}
