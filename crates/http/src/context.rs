//! What every handler shares: the server, the agent's identity and the HTTP limits.

use proconsul_server::Server;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub datacenter: String,
    pub node_name: String,
    /// Pretty-print every JSON response (`-dev`), not only `?pretty` ones.
    pub pretty: bool,
    pub kv_max_value_size: usize,
    pub txn_max_req_len: usize,
    pub default_query_time: Duration,
    pub max_query_time: Duration,
    pub session_ttl_min: Duration,
    /// The body of `/v1/agent/self`, prepared by the agent from its runtime config.
    pub agent_self: serde_json::Value,
    /// This agent as `/v1/agent/members` lists it.
    pub member: serde_json::Value,
}

pub struct Context {
    pub server: Arc<Server>,
    pub config: HttpConfig,
    /// Notified by `PUT /v1/agent/leave`: the agent shuts down gracefully.
    pub leave: Arc<Notify>,
    /// The agent's local services and checks.
    pub local: Arc<dyn crate::local_agent::LocalAgent>,
    /// Encoded answers of blocking reads, shared between identical questions.
    pub answers: crate::answer_cache::AnswerCache,
}

pub type SharedContext = Arc<Context>;
