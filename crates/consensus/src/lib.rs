//! Raft (openraft 0.9) behind the narrow API the rest of proconsul uses: propose a command,
//! wait for a read barrier in a consistency mode, ask who leads. Log storage is in memory for
//! `-dev` and the durable WAL with a data dir; snapshots are our state store's image.

// openraft dictates `StorageError` (over 200 bytes) as the error of every storage callback;
// boxing it in our helpers would only add conversions at each call.
#![allow(clippy::result_large_err)]

mod durable;
mod log_store;
mod network;
mod server;
mod snapshot_file;
mod state_machine;
mod types;

pub use server::{Consensus, ConsensusConfig, ConsensusError, Consistency, ReadMeta};
pub use types::NodeId;
