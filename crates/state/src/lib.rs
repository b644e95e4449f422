//! The replicated state machine: tables, indexes, watches for blocking queries, and
//! `apply(index, request) -> response`, a pure function of the state and its inputs.
//!
//! No IO, no clock, no randomness: time arrives inside each `Request`, so every replica that
//! applies the same log reaches the same state (property-tested with snapshots).

pub mod catalog;
pub mod catalog_read;
pub mod command;
pub mod kv;
pub mod session;
pub mod snapshot;
pub mod store;
pub mod table;
pub mod txn;
mod txn_catalog;
pub mod watch;

pub use catalog_read::ServiceQuery;
pub use command::{ApplyError, Command, DeleteMode, Request, Response, SetMode};
pub use store::{ServiceRow, Store, nonzero};
pub use watch::Watch;
