//! TTL checks: a dead man's switch. The status is whatever the last `update` said until
//! the TTL runs out without another update; then it turns critical with `TTL expired`
//! (or `TTL expired (last output before timeout follows): <last output>`). An update
//! re-arms an expired check, as in Consul.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::output::truncate_head;
use crate::runner::{CheckUpdate, Sink};
use crate::status::Status;

pub(crate) struct TtlShared {
    id: String,
    ttl: Duration,
    output_max_size: usize,
    sink: Sink,
    /// Updates and expiry are serialised on this lock, so an expiry can never be
    /// reported after (and override) an update that re-armed the timer.
    state: Mutex<TtlState>,
    rearmed: Notify,
}

struct TtlState {
    deadline: Instant,
    armed: bool,
    last_output: String,
}

impl TtlShared {
    pub(crate) fn new(id: String, ttl: Duration, output_max_size: usize, sink: Sink) -> Self {
        TtlShared {
            id,
            ttl,
            output_max_size,
            sink,
            state: Mutex::new(TtlState {
                // The clock starts at registration: a check never updated expires too.
                deadline: Instant::now() + ttl,
                armed: true,
                last_output: String::new(),
            }),
            rearmed: Notify::new(),
        }
    }

    /// Reports `status`/`output` (output cut to the limit) and restarts the TTL.
    /// Returns the output as stored.
    pub(crate) fn update(&self, status: Status, output: &str) -> String {
        let output = truncate_head(output, self.output_max_size);
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        (self.sink)(CheckUpdate {
            check_id: self.id.clone(),
            status,
            output: output.clone(),
        });
        st.last_output = output.clone();
        st.deadline = Instant::now() + self.ttl;
        st.armed = true;
        drop(st);
        self.rearmed.notify_one();
        output
    }

    /// Reports expiry if the deadline has passed and nothing re-armed the timer since.
    fn expire_if_due(&self) {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if !st.armed || Instant::now() < st.deadline {
            return;
        }
        st.armed = false;
        let output = if st.last_output.is_empty() {
            "TTL expired".to_string()
        } else {
            format!(
                "TTL expired (last output before timeout follows): {}",
                st.last_output
            )
        };
        tracing::warn!(check = %self.id, "check missed TTL, is now critical");
        (self.sink)(CheckUpdate {
            check_id: self.id.clone(),
            status: Status::Critical,
            output,
        });
    }

    fn next_deadline(&self) -> Option<Instant> {
        let st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.armed.then_some(st.deadline)
    }
}

/// The TTL timer task: sleeps until the deadline, re-reading it whenever an update
/// re-arms the check, until stopped.
pub(crate) async fn run(shared: Arc<TtlShared>, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let deadline = shared.next_deadline();
        tokio::select! {
            _ = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            } => shared.expire_if_due(),
            _ = shared.rearmed.notified() => {}
            _ = stop.changed() => return,
        }
    }
}
