//! Wire and domain types with Consul's exact JSON shapes, shared by server, client and CLI.
//!
//! Field names, field order and odd encodings (base64 values, nanosecond `LockDelay`, string
//! `TTL`) follow Consul's JSON exactly, because real clients parse them byte for byte.

pub mod agent;
pub mod catalog;
pub mod decode;
pub mod duration;
pub mod kv;
pub mod session;
pub mod txn;
pub mod version;
