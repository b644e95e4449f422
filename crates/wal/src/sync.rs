//! The writer/sync thread and group commit.
//!
//! Callers only validate and enqueue (a mutex held for microseconds), so `append` never waits
//! for the disk. One dedicated thread takes everything queued, writes it, issues ONE fdatasync
//! for the whole batch, then runs the callbacks. Appends that arrive while that fdatasync is in
//! flight pile up in the queue and share the next one: that is the group commit. Truncations and
//! purges go through the same queue so they apply in order with the appends around them.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::error::WalError;
use crate::segments::Segments;
use crate::stats::Counters;

/// Called once the records of one `append` are durable, or with the error that prevented it.
pub type DurableCallback = Box<dyn FnOnce(Result<(), WalError>) + Send>;

pub(crate) enum Op {
    Append {
        records: Vec<(u64, Vec<u8>)>,
        on_durable: DurableCallback,
    },
    Truncate {
        from: u64,
        done: SyncSender<Result<(), WalError>>,
    },
    Purge {
        floor: u64,
        done: SyncSender<Result<(), WalError>>,
    },
}

/// State guarded by the mutex: the logical view callers validate against, and the queue.
pub(crate) struct Front {
    pub first: Option<u64>,
    pub last: Option<u64>,
    pub floor: u64,
    pub queue: Vec<Op>,
    /// Set after the first I/O failure; see [`WalError::Poisoned`].
    pub poisoned: Option<String>,
    pub closed: bool,
}

pub(crate) struct Shared {
    pub front: Mutex<Front>,
    pub wake: Condvar,
    pub stats: Arc<Counters>,
}

impl Shared {
    /// Locks the front. A poisoned mutex only means a caller panicked while holding it; the
    /// data is a few integers and a queue that stay consistent, so keep going.
    pub fn lock(&self) -> MutexGuard<'_, Front> {
        self.front.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn poison(&self, err: &WalError) -> String {
        let mut front = self.lock();
        let msg = front
            .poisoned
            .get_or_insert_with(|| err.to_string())
            .clone();
        tracing::error!(error = %msg, "WAL failed; refusing further writes");
        msg
    }

    fn poisoned(&self) -> Option<String> {
        self.lock().poisoned.clone()
    }
}

/// Body of the sync thread. Returns when the log is closed and the queue is drained.
pub(crate) fn run(shared: Arc<Shared>, mut segments: Segments) {
    loop {
        let ops = {
            let mut front = shared.lock();
            while front.queue.is_empty() && !front.closed {
                front = shared.wake.wait(front).unwrap_or_else(|e| e.into_inner());
            }
            if front.queue.is_empty() {
                return;
            }
            std::mem::take(&mut front.queue)
        };
        process(&shared, &mut segments, ops);
    }
}

fn process(shared: &Shared, segments: &mut Segments, ops: Vec<Op>) {
    let mut pending: Vec<DurableCallback> = Vec::new();
    for op in ops {
        if let Some(msg) = shared.poisoned() {
            fail(op, &msg);
            continue;
        }
        match op {
            Op::Append {
                records,
                on_durable,
            } => match segments.append(&records) {
                Ok(()) => pending.push(on_durable),
                Err(e) => {
                    let msg = shared.poison(&e);
                    run_callback(on_durable, Err(e));
                    fail_all(pending.drain(..), &msg);
                }
            },
            Op::Truncate { from, done } => {
                commit(shared, segments, &mut pending);
                let _ = done.send(checked(shared, segments.truncate_from(from)));
            }
            Op::Purge { floor, done } => {
                commit(shared, segments, &mut pending);
                let _ = done.send(checked(shared, segments.purge_to(floor)));
            }
        }
    }
    commit(shared, segments, &mut pending);
}

/// One fdatasync for everything written so far, then the callbacks.
fn commit(shared: &Shared, segments: &mut Segments, pending: &mut Vec<DurableCallback>) {
    if pending.is_empty() {
        return;
    }
    match segments.sync() {
        Ok(()) => {
            for cb in pending.drain(..) {
                run_callback(cb, Ok(()));
            }
        }
        Err(e) => {
            let msg = shared.poison(&e);
            fail_all(pending.drain(..), &msg);
        }
    }
}

fn checked(shared: &Shared, r: Result<(), WalError>) -> Result<(), WalError> {
    if let Err(e) = &r {
        shared.poison(e);
    }
    r
}

fn fail(op: Op, msg: &str) {
    let err = || WalError::Poisoned(msg.to_string());
    match op {
        Op::Append { on_durable, .. } => run_callback(on_durable, Err(err())),
        Op::Truncate { done, .. } | Op::Purge { done, .. } => {
            let _ = done.send(Err(err()));
        }
    }
}

fn fail_all(cbs: impl Iterator<Item = DurableCallback>, msg: &str) {
    for cb in cbs {
        run_callback(cb, Err(WalError::Poisoned(msg.to_string())));
    }
}

/// A panicking callback must not kill the sync thread: every later caller would hang.
fn run_callback(cb: DurableCallback, result: Result<(), WalError>) {
    if catch_unwind(AssertUnwindSafe(move || cb(result))).is_err() {
        tracing::error!("WAL on_durable callback panicked");
    }
}
