//! The server role: executes writes through Raft with the proposer's clock, answers reads
//! behind the right barrier, and runs the leader's duties (session TTL expiry, KV tombstone
//! garbage collection).

mod batcher;
mod session_timers;

pub use session_timers::SessionTimers;

use proconsul_consensus::{Consensus, ConsensusError, Consistency, ReadMeta};
use proconsul_state::{Command, Request, Response, Store};
use proconsul_types::session::Session;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;
use tokio::time::Instant;

/// How long a KV tombstone is kept before the leader reaps it (Consul's `TombstoneTTL`).
pub const TOMBSTONE_TTL: Duration = Duration::from_secs(15 * 60);
/// How often the leader samples the index for tombstone GC (Consul's granularity).
pub const TOMBSTONE_GRANULARITY: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Consensus(#[from] ConsensusError),
    /// A proposal failed on behalf of a batch; the text is the consensus error's.
    #[error("{0}")]
    Propose(String),
    #[error("server is shutting down")]
    Stopped,
}

pub struct Server {
    consensus: Arc<Consensus>,
    timers: Mutex<SessionTimers>,
    timers_changed: Notify,
    batch_queue: tokio::sync::mpsc::Sender<batcher::Pending>,
}

pub(crate) fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn session_ttl(session: &Session) -> Option<Duration> {
    proconsul_types::duration::parse(&session.ttl)
        .ok()
        .filter(|ttl| !ttl.is_zero())
}

impl Server {
    /// Creates the server role and starts its write batcher (call inside the runtime).
    pub fn new(consensus: Arc<Consensus>) -> Arc<Server> {
        let (batch_queue, queue) = tokio::sync::mpsc::channel(batcher::QUEUE_CAPACITY);
        tokio::spawn(batcher::run(consensus.clone(), queue));
        Arc::new(Server {
            consensus,
            timers: Mutex::default(),
            timers_changed: Notify::new(),
            batch_queue,
        })
    }

    pub fn consensus(&self) -> &Arc<Consensus> {
        &self.consensus
    }

    fn timers(&self) -> MutexGuard<'_, SessionTimers> {
        self.timers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Proposes `command` stamped with this server's clock; returns the raft index and answer.
    pub async fn apply(&self, command: Command) -> Result<(u64, Response), ServerError> {
        if command.batch_key().is_some() {
            let (reply, answer) = tokio::sync::oneshot::channel();
            self.batch_queue
                .send((command, reply))
                .await
                .map_err(|_| ServerError::Stopped)?;
            return answer.await.map_err(|_| ServerError::Stopped)?;
        }
        let created = match &command {
            Command::SessionCreate { session } => Some((session.id.clone(), session_ttl(session))),
            _ => None,
        };
        let destroyed = match &command {
            Command::SessionDestroy { id } => Some(id.clone()),
            _ => None,
        };
        let (index, response) = self
            .consensus
            .propose(Request {
                now_ms: unix_ms(),
                command,
            })
            .await?;
        if let (Some((id, Some(ttl))), Response::Done) = (created, &response) {
            self.timers().arm(&id, ttl, Instant::now());
            self.timers_changed.notify_one();
        }
        if let Some(id) = destroyed {
            self.timers().remove(&id);
        }
        Ok((index, response))
    }

    /// Runs `read` against the store once the consistency barrier allows.
    pub async fn read<T>(
        &self,
        mode: Consistency,
        read: impl FnOnce(&Store) -> T,
    ) -> Result<(T, ReadMeta), ServerError> {
        let meta = self.consensus.read_barrier(mode).await?;
        let store = self
            .consensus
            .store()
            .read()
            .unwrap_or_else(|p| p.into_inner());
        Ok((read(&store), meta))
    }

    /// Renews a session's TTL (leader-local, not replicated). `None` if it does not exist.
    pub async fn renew(&self, id: &str) -> Result<Option<Session>, ServerError> {
        let (session, _) = self
            .read(Consistency::Default, |store| {
                store.session_get(id).1.cloned()
            })
            .await?;
        if let Some(session) = &session
            && let Some(ttl) = session_ttl(session)
        {
            self.timers().arm(id, ttl, Instant::now());
            self.timers_changed.notify_one();
        }
        Ok(session)
    }

    /// Arms a timer for every TTL session (on gaining leadership).
    fn arm_all_timers(&self) {
        let sessions: Vec<(String, Duration)> = {
            let store = self
                .consensus
                .store()
                .read()
                .unwrap_or_else(|p| p.into_inner());
            store
                .session_list()
                .1
                .into_iter()
                .filter_map(|s| session_ttl(s).map(|ttl| (s.id.clone(), ttl)))
                .collect()
        };
        let now = Instant::now();
        let mut timers = self.timers();
        for (id, ttl) in sessions {
            timers.arm(&id, ttl, now);
        }
    }

    async fn expire_sessions(&self) {
        let expired = self.timers().expired(Instant::now());
        for id in expired {
            tracing::info!(session = %id, "session TTL expired; invalidating");
            if let Err(err) = self.apply(Command::SessionDestroy { id: id.clone() }).await {
                tracing::warn!(session = %id, error = %err, "could not invalidate expired session");
            }
        }
    }

    /// Reaps tombstones older than the TTL, using index samples taken every granularity tick.
    async fn collect_tombstones(&self, samples: &mut VecDeque<(Instant, u64)>) {
        let now = Instant::now();
        let last_index = self
            .consensus
            .store()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .last_index();
        samples.push_back((now, last_index));
        let mut reap_to = None;
        while let Some((at, index)) = samples.front() {
            if now.duration_since(*at) < TOMBSTONE_TTL {
                break;
            }
            reap_to = Some(*index);
            samples.pop_front();
        }
        let Some(up_to_index) = reap_to else { return };
        let any = {
            let store = self
                .consensus
                .store()
                .read()
                .unwrap_or_else(|p| p.into_inner());
            store.tombstone_len() > 0
        };
        if any && let Err(err) = self.apply(Command::TombstoneReap { up_to_index }).await {
            tracing::warn!(error = %err, "tombstone reap failed");
        }
    }

    /// Runs the leader duties for as long as the process lives: they are active only while
    /// this server leads.
    pub async fn run_leader_duties(self: Arc<Self>) {
        let mut metrics = self.consensus.metrics();
        let mut was_leader = false;
        let mut samples = VecDeque::new();
        let mut gc_tick = tokio::time::interval(TOMBSTONE_GRANULARITY);
        loop {
            let leader = self.consensus.is_leader();
            if leader && !was_leader {
                tracing::info!("gained leadership: starting session timers");
                self.arm_all_timers();
            } else if !leader && was_leader {
                tracing::info!("lost leadership: stopping session timers");
                self.timers().clear();
                samples.clear();
            }
            was_leader = leader;
            let next = self.timers().next_deadline().filter(|_| leader);
            let sleep = tokio::time::sleep_until(
                next.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600)),
            );
            tokio::select! {
                changed = metrics.changed() => if changed.is_err() { return },
                _ = self.timers_changed.notified() => {}
                _ = sleep, if next.is_some() => self.expire_sessions().await,
                _ = gc_tick.tick() => if leader { self.collect_tombstones(&mut samples).await },
            }
        }
    }
}
