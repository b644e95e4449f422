//! Wire and domain types with Consul's exact JSON shapes, shared by server, client and CLI.

pub mod version;
