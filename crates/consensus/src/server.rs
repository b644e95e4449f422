//! `Consensus`: one Raft server behind the narrow API the rest of proconsul uses.

use crate::durable::DurableLog;
use crate::log_store::LogStore;
use crate::network::NoPeers;
use crate::state_machine::StateMachine;
use crate::types::{NodeId, TypeConfig};
use openraft::error::{ClientWriteError, RaftError};
use openraft::{BasicNode, Raft, ServerState, SnapshotPolicy};
use proconsul_state::{Request, Response, Store};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How a read is allowed to be served (Consul's consistency modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consistency {
    /// The leader answers while its lease holds.
    Default,
    /// The leader confirms leadership with a quorum and applies up to the read index first.
    Consistent,
    /// Any server answers from local state.
    Stale,
}

/// What a read reports in `X-Consul-KnownLeader` and `X-Consul-LastContact`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadMeta {
    pub known_leader: bool,
    pub last_contact_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ConsensusError {
    /// Consul's text for reads and writes without a leader.
    #[error("No cluster leader")]
    NoLeader,
    #[error("raft storage: {0}")]
    Storage(String),
    #[error("raft stopped: {0}")]
    Fatal(String),
}

#[derive(Debug, Clone)]
pub struct ConsensusConfig {
    pub node_id: NodeId,
    /// This server's RPC address as peers and `/v1/status/leader` see it (`ip:port`).
    pub advertise: String,
    /// Where the log and snapshots live; `None` keeps everything in memory (`-dev`).
    pub data_dir: Option<PathBuf>,
    /// Start a one-server cluster if none exists yet (`-dev`, `-bootstrap-expect=1`).
    pub bootstrap: bool,
    pub election_timeout: Duration,
    pub heartbeat_interval: Duration,
    /// How long a leader trusts its last quorum contact for default-consistency reads.
    pub leader_lease: Duration,
    /// Take a snapshot after this many entries (Consul's `raft_snapshot_threshold`).
    pub snapshot_threshold: u64,
    /// Entries kept after a snapshot for slow followers (`raft_trailing_logs`).
    pub trailing_logs: u64,
    /// Size at which a WAL segment is sealed (`raft_logstore.wal.segment_size_mb`). Purging
    /// deletes whole segments only, so this is the granularity at which disk is given back.
    pub wal_segment_bytes: u64,
}

impl ConsensusConfig {
    /// Consul's timings: base values times `raft_multiplier` (1 in `-dev`, 5 by default).
    pub fn with_multiplier(node_id: NodeId, advertise: String, multiplier: u32) -> Self {
        let m = u64::from(multiplier.clamp(1, 10));
        ConsensusConfig {
            node_id,
            advertise,
            data_dir: None,
            bootstrap: false,
            election_timeout: Duration::from_millis(1000 * m),
            heartbeat_interval: Duration::from_millis(100 * m),
            leader_lease: Duration::from_millis(500 * m),
            snapshot_threshold: 16384,
            trailing_logs: 10240,
            wal_segment_bytes: proconsul_wal::DEFAULT_SEGMENT_BYTES,
        }
    }
}

pub struct Consensus {
    raft: Raft<TypeConfig>,
    store: Arc<RwLock<Store>>,
    config: ConsensusConfig,
}

fn fatal(err: impl std::fmt::Display) -> ConsensusError {
    ConsensusError::Fatal(err.to_string())
}

impl Consensus {
    pub async fn start(config: ConsensusConfig) -> Result<Consensus, ConsensusError> {
        let store = Arc::new(RwLock::new(Store::new()));
        let (log, state_machine) = match &config.data_dir {
            Some(dir) => {
                let durable = DurableLog::open(&dir.join("raft"), config.wal_segment_bytes)
                    .map_err(ConsensusError::Storage)?;
                let log = LogStore::durable(Arc::new(durable))
                    .map_err(|e| ConsensusError::Storage(e.to_string()))?;
                let sm =
                    StateMachine::open(store.clone(), Some(dir.join("raft").join("snapshots")))
                        .map_err(ConsensusError::Storage)?;
                (log, sm)
            }
            None => (
                LogStore::in_memory(),
                StateMachine::open(store.clone(), None).map_err(ConsensusError::Storage)?,
            ),
        };
        let election_ms = config.election_timeout.as_millis() as u64;
        let raft_config = openraft::Config {
            cluster_name: "proconsul".into(),
            election_timeout_min: election_ms,
            election_timeout_max: election_ms * 2,
            heartbeat_interval: (config.heartbeat_interval.as_millis() as u64).max(1),
            snapshot_policy: SnapshotPolicy::LogsSinceLast(config.snapshot_threshold),
            max_in_snapshot_log_to_keep: config.trailing_logs,
            ..openraft::Config::default()
        };
        let raft_config = Arc::new(raft_config.validate().map_err(fatal)?);
        let raft = Raft::new(config.node_id, raft_config, NoPeers, log, state_machine)
            .await
            .map_err(fatal)?;
        let consensus = Consensus {
            raft,
            store,
            config,
        };
        if consensus.config.bootstrap && !consensus.raft.is_initialized().await.map_err(fatal)? {
            let members = BTreeMap::from([(
                consensus.config.node_id,
                BasicNode::new(&consensus.config.advertise),
            )]);
            consensus.raft.initialize(members).await.map_err(fatal)?;
        } else if consensus.is_sole_voter().await? {
            // Restarting the only voter: no other server can hold a newer term or log, so there
            // is nothing to wait an election timeout for (5-10 s with Consul's default timing).
            consensus.raft.trigger().elect().await.map_err(fatal)?;
        }
        Ok(consensus)
    }

    /// The replicated state, for reads. Hold the lock only briefly; never across an await.
    pub fn store(&self) -> &Arc<RwLock<Store>> {
        &self.store
    }

    /// Proposes a command; returns its raft index and what applying it answered.
    pub async fn propose(&self, request: Request) -> Result<(u64, Response), ConsensusError> {
        match self.raft.client_write(request).await {
            Ok(reply) => Ok((reply.log_id.index, reply.data)),
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_))) => {
                Err(ConsensusError::NoLeader)
            }
            Err(RaftError::APIError(other)) => Err(fatal(other)),
            Err(RaftError::Fatal(f)) => Err(fatal(f)),
        }
    }

    /// Waits until a read in `mode` may be served from the local store.
    ///
    /// Default reads skip the quorum round only where that is provably safe: a leader that is
    /// the sole voter cannot be deposed without its knowledge. With peers, openraft's
    /// `millis_since_quorum_ack` metric is a value from the last metrics report, not a live
    /// clock, so it cannot bound a lease; those reads take the read-index path until the
    /// cluster transport tracks its own lease.
    pub async fn read_barrier(&self, mode: Consistency) -> Result<ReadMeta, ConsensusError> {
        let (state, leader, sole_voter) = {
            let metrics = self.raft.metrics();
            let m = metrics.borrow();
            let membership = m.membership_config.membership();
            let sole = membership.voter_ids().count() == 1
                && membership.voter_ids().any(|id| id == self.config.node_id);
            (m.state, m.current_leader, sole)
        };
        let is_leader = state == ServerState::Leader;
        match mode {
            Consistency::Stale => Ok(ReadMeta {
                known_leader: leader.is_some(),
                last_contact_ms: 0,
            }),
            _ if !is_leader => Err(ConsensusError::NoLeader),
            Consistency::Default if sole_voter => Ok(ReadMeta {
                known_leader: true,
                last_contact_ms: 0,
            }),
            Consistency::Default | Consistency::Consistent => {
                self.raft
                    .ensure_linearizable()
                    .await
                    .map_err(|_| ConsensusError::NoLeader)?;
                Ok(ReadMeta {
                    known_leader: true,
                    last_contact_ms: 0,
                })
            }
        }
    }

    /// True when the stored membership has exactly one voter: this server. Asks Raft's core
    /// (not the metrics, which may not have been published yet right after start).
    async fn is_sole_voter(&self) -> Result<bool, ConsensusError> {
        let me = self.config.node_id;
        self.raft
            .with_raft_state(move |st| {
                let mut voters = st.membership_state.effective().voter_ids();
                voters.next() == Some(me) && voters.next().is_none()
            })
            .await
            .map_err(fatal)
    }

    pub fn is_leader(&self) -> bool {
        self.raft.metrics().borrow().state == ServerState::Leader
    }

    /// The leader's RPC address, as `/v1/status/leader` reports it.
    pub fn leader_addr(&self) -> Option<String> {
        let metrics = self.raft.metrics();
        let m = metrics.borrow();
        let leader = m.current_leader?;
        m.membership_config
            .membership()
            .get_node(&leader)
            .map(|n| n.addr.clone())
    }

    /// The voters' RPC addresses (`/v1/status/peers`).
    pub fn peers(&self) -> Vec<String> {
        let metrics = self.raft.metrics();
        let m = metrics.borrow();
        let membership = m.membership_config.membership();
        membership
            .voter_ids()
            .filter_map(|id| membership.get_node(&id).map(|n| n.addr.clone()))
            .collect()
    }

    /// Raft figures for `/v1/agent/self` Stats (all strings, as Consul reports them).
    pub fn stats(&self) -> Vec<(&'static str, String)> {
        let metrics = self.raft.metrics();
        let m = metrics.borrow();
        let state = match m.state {
            ServerState::Leader => "Leader",
            ServerState::Candidate => "Candidate",
            ServerState::Follower => "Follower",
            ServerState::Learner => "Learner",
            ServerState::Shutdown => "Shutdown",
        };
        let voters = m.membership_config.membership().voter_ids().count();
        vec![
            ("state", state.to_string()),
            ("term", m.current_term.to_string()),
            ("last_log_index", m.last_log_index.unwrap_or(0).to_string()),
            (
                "applied_index",
                m.last_applied.map_or(0, |l| l.index).to_string(),
            ),
            (
                "commit_index",
                m.last_applied.map_or(0, |l| l.index).to_string(),
            ),
            (
                "last_snapshot_index",
                m.snapshot.map_or(0, |l| l.index).to_string(),
            ),
            ("num_peers", voters.saturating_sub(1).to_string()),
            ("protocol_version", "3".to_string()),
        ]
    }

    /// Resolves once this server is leader, or returns false after `timeout`.
    pub async fn wait_for_leadership(&self, timeout: Duration) -> bool {
        let mut metrics = self.raft.metrics();
        tokio::time::timeout(timeout, async {
            loop {
                if metrics.borrow().state == ServerState::Leader {
                    return;
                }
                if metrics.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        })
        .await
        .is_ok()
    }

    /// Leadership changes, for the leader-duty loops.
    pub fn metrics(
        &self,
    ) -> tokio::sync::watch::Receiver<openraft::RaftMetrics<NodeId, BasicNode>> {
        self.raft.metrics()
    }

    pub async fn shutdown(&self) {
        if let Err(err) = self.raft.shutdown().await {
            tracing::warn!(error = %err, "raft shutdown");
        }
    }
}
