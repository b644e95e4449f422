//! Raft (openraft 0.9) behind the narrow API the rest of proconsul uses: propose a command,
//! wait for a read barrier in a consistency mode, ask who leads. Log storage is in memory for
//! `-dev` and the durable WAL with a data dir; snapshots are our state store's image.

mod durable;
mod log_store;
mod network;
mod server;
mod snapshot_file;
mod state_machine;
mod types;

pub use server::{Consensus, ConsensusConfig, ConsensusError, Consistency, ReadMeta};
pub use types::NodeId;
