//! Consul's DNS interface: a pure core (name grammar, answer building, size trimming) and a
//! thin IO shell (our UDP loop, hickory-server on TCP, recursor forwarding).

pub mod answer;
pub mod catalog;
pub mod config;
pub mod error;
pub mod forward;
pub mod memory;
mod mmsg;
pub mod name;
mod records;
pub mod server;
mod tcp;
pub mod trim;
mod udp;

pub use catalog::{CatalogView, Health, InstanceRecord, NodeRecord, ReverseRecord, Weights};
pub use config::{DnsConfig, RecursorStrategy, SoaConfig};
pub use error::DnsError;
pub use memory::MemoryCatalog;
pub use server::{DnsServer, serve};
