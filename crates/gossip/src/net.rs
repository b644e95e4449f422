//! The IO shell: one tokio task owns the UDP socket, the clock and the [`Membership`];
//! callers talk to it through a [`Gossip`] handle (commands in, a membership snapshot
//! `watch` and an event `broadcast` out).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::net::UdpSocket;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::GossipConfig;
use crate::core::{Event, Membership, Output, Stats};
use crate::error::GossipError;
use crate::member::{Member, NodeId, Tags};

/// Events buffered per subscriber; a subscriber that falls further behind loses the
/// oldest ones (it sees `RecvError::Lagged`) and should re-read the snapshot.
pub const EVENT_CHANNEL_CAPACITY: usize = 1024;
/// Commands queued to the gossip task.
const COMMAND_QUEUE: usize = 64;

/// Where and how to run.
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// The address to bind the UDP socket to (port 0 picks a free one).
    pub bind: SocketAddr,
    /// The address other members send to; defaults to the bound address.
    pub advertise: Option<SocketAddr>,
    /// Timing and limits.
    pub gossip: GossipConfig,
    /// How long to keep the task alive after a leave so the news spreads (Consul's
    /// `LeavePropagateDelay` is 3 s).
    pub leave_propagate_delay: Duration,
}

impl NetConfig {
    /// LAN defaults on `bind`.
    pub fn lan(bind: SocketAddr) -> Self {
        Self {
            bind,
            advertise: None,
            gossip: GossipConfig::lan(),
            leave_propagate_delay: Duration::from_secs(3),
        }
    }
}

/// How `retry_join` retries (Consul's `retry_join` with `retry_max` and
/// `retry_interval`, with exponential backoff up to `max_backoff`).
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Rounds over all seeds before giving up (at least one).
    pub attempts: u32,
    /// Wait after the first round.
    pub initial_backoff: Duration,
    /// Longest wait between rounds.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 10,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// What the gossip task publishes after each change.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Every known member, this node included.
    pub members: Vec<Member>,
    /// Whether this node knows another active member.
    pub joined: bool,
    /// Counters at the time of the snapshot.
    pub stats: Stats,
}

enum Command {
    Join(SocketAddr),
    Fire(String, Vec<u8>, oneshot::Sender<Result<(), GossipError>>),
    Leave(oneshot::Sender<Result<(), GossipError>>),
}

/// A running gossip member.
pub struct Gossip {
    commands: mpsc::Sender<Command>,
    snapshots: watch::Receiver<Snapshot>,
    events: broadcast::Sender<Event>,
    local: NodeId,
    task: JoinHandle<()>,
}

impl Gossip {
    /// Binds the socket and starts the task. The identity's generation is the current
    /// wall-clock time in milliseconds, so a restarted node supersedes its old self.
    pub async fn start(name: &str, tags: Tags, config: NetConfig) -> Result<Self, GossipError> {
        let socket = UdpSocket::bind(config.bind).await?;
        let addr = config.advertise.unwrap_or(socket.local_addr()?);
        let bump = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        let local = NodeId::new(name, addr, bump, tags)?;
        let membership = Membership::new(local.clone(), config.gossip.clone(), rand::random());
        let (commands, rx) = mpsc::channel(COMMAND_QUEUE);
        let (events, _) = broadcast::channel(EVENT_CHANNEL_CAPACITY);
        let (snap_tx, snapshots) = watch::channel(snapshot_of(&membership));
        let shell = Shell {
            socket: Arc::new(socket),
            membership,
            origin: Instant::now(),
            events: events.clone(),
            snapshots: snap_tx,
            leave_delay: config.leave_propagate_delay,
        };
        let task = tokio::spawn(shell.run(rx));
        Ok(Self {
            commands,
            snapshots,
            events,
            local,
            task,
        })
    }

    /// This node's identity at start.
    pub fn local(&self) -> &NodeId {
        &self.local
    }

    /// The latest membership snapshot, updated on every change.
    pub fn snapshots(&self) -> watch::Receiver<Snapshot> {
        self.snapshots.clone()
    }

    /// The current members.
    pub fn members(&self) -> Vec<Member> {
        self.snapshots.borrow().members.clone()
    }

    /// A stream of membership and user events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Sends one join request to `seed`; see [`Gossip::retry_join`] to wait for it.
    pub async fn join(&self, seed: SocketAddr) -> Result<(), GossipError> {
        self.commands
            .send(Command::Join(seed))
            .await
            .map_err(|_| GossipError::Stopped)
    }

    /// Joins through any of `seeds`, retrying rounds with backoff until this node knows
    /// another member or the policy's attempts run out.
    pub async fn retry_join(
        &self,
        seeds: &[SocketAddr],
        policy: &RetryPolicy,
    ) -> Result<(), GossipError> {
        let mut snapshots = self.snapshots();
        let mut backoff = policy.initial_backoff;
        for _ in 0..policy.attempts.max(1) {
            for seed in seeds.iter().filter(|s| **s != self.local.addr()) {
                self.join(*seed).await?;
            }
            let wait = snapshots.wait_for(|s| s.joined);
            match tokio::time::timeout(backoff, wait).await {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(_)) => return Err(GossipError::Stopped),
                Err(_) => backoff = (backoff * 2).min(policy.max_backoff),
            }
        }
        Err(GossipError::JoinFailed(seeds.len()))
    }

    /// Fires a user event to every member.
    pub async fn fire_event(&self, name: &str, payload: &[u8]) -> Result<(), GossipError> {
        let (tx, rx) = oneshot::channel();
        let cmd = Command::Fire(name.to_owned(), payload.to_vec(), tx);
        self.commands
            .send(cmd)
            .await
            .map_err(|_| GossipError::Stopped)?;
        rx.await.map_err(|_| GossipError::Stopped)?
    }

    /// Leaves gracefully and stops the task after the propagation delay.
    pub async fn leave(mut self) -> Result<(), GossipError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Leave(tx))
            .await
            .map_err(|_| GossipError::Stopped)?;
        let result = rx.await.map_err(|_| GossipError::Stopped)?;
        let _ = (&mut self.task).await;
        result
    }

    /// Stops at once without telling anyone, like a crash.
    pub fn abort(&self) {
        self.task.abort();
    }
}

impl Drop for Gossip {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn snapshot_of(m: &Membership) -> Snapshot {
    Snapshot {
        members: m.members(),
        joined: m.is_joined(),
        stats: m.stats(),
    }
}

struct Shell {
    socket: Arc<UdpSocket>,
    membership: Membership,
    origin: Instant,
    events: broadcast::Sender<Event>,
    snapshots: watch::Sender<Snapshot>,
    leave_delay: Duration,
}

enum Step {
    Continue,
    Stop,
}

impl Shell {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        // One byte over the limit, so an oversized datagram is seen as such, not
        // silently truncated into something that might decode.
        let mut buf = vec![0u8; self.membership.config().max_packet_size + 1];
        loop {
            let deadline = self.membership.next_timer_at().map(|at| self.origin + at);
            let step = tokio::select! {
                received = self.socket.recv_from(&mut buf) => {
                    // Errors here are per-datagram (e.g. ICMP port unreachable from an
                    // earlier send), never fatal to the member.
                    if let Ok((len, _from)) = received {
                        let out = self.membership.handle_packet(&buf[..len], self.now());
                        self.emit(out).await;
                    }
                    Step::Continue
                }
                () = sleep_until(deadline) => {
                    let out = self.membership.handle_timers(self.now());
                    self.emit(out).await;
                    Step::Continue
                }
                cmd = commands.recv() => match cmd {
                    Some(cmd) => self.command(cmd).await,
                    None => Step::Stop,
                },
            };
            if let Step::Stop = step {
                break;
            }
        }
    }

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    async fn command(&mut self, cmd: Command) -> Step {
        let now = self.now();
        match cmd {
            Command::Join(seed) => {
                match self.membership.join(seed, now) {
                    Ok(out) => self.emit(out).await,
                    Err(e) => tracing::debug!(%seed, error = %e, "gossip join"),
                }
                Step::Continue
            }
            Command::Fire(name, payload, reply) => {
                let result = self.membership.fire_event(&name, &payload, now);
                let result = match result {
                    Ok(out) => {
                        self.emit(out).await;
                        Ok(())
                    }
                    Err(e) => Err(e),
                };
                let _ = reply.send(result);
                Step::Continue
            }
            Command::Leave(reply) => {
                let result = match self.membership.leave(now) {
                    Ok(out) => {
                        self.emit(out).await;
                        tokio::time::sleep(self.leave_delay).await;
                        Ok(())
                    }
                    Err(e) => Err(e),
                };
                let _ = reply.send(result);
                Step::Stop
            }
        }
    }

    async fn emit(&mut self, out: Output) {
        for p in &out.packets {
            if let Err(e) = self.socket.send_to(&p.data, p.to).await {
                tracing::trace!(to = %p.to, error = %e, "gossip send");
            }
        }
        let joined = self.membership.is_joined();
        let changed = !out.events.is_empty() || joined != self.snapshots.borrow().joined;
        for event in out.events {
            // No subscribers is fine.
            let _ = self.events.send(event);
        }
        if changed {
            self.snapshots.send_replace(snapshot_of(&self.membership));
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
