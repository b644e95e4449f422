//! Gossip membership for proconsul: SWIM with suspicion (the `foca` crate) plus what
//! Consul's Serf layer adds on top: member tags, graceful leave (`left`) told apart
//! from failure (`failed`), and user events.
//!
//! - [`core::Membership`] is pure: packets, timer deadlines (`now` as a [`std::time::Duration`]
//!   since an origin of the caller's choosing) and a random seed go in; packets to send and
//!   events come out as data. Simulation tests drive it with a fake clock.
//! - [`net`] is the IO shell: one tokio task owning a UDP socket and the clock.

pub mod broadcast;
pub mod config;
pub mod core;
pub mod error;
pub mod member;
pub mod net;

pub use crate::broadcast::UserEvent;
pub use crate::config::GossipConfig;
pub use crate::core::{Event, MemberEventKind, Membership, Outgoing, Output, Stats};
pub use crate::error::GossipError;
pub use crate::member::{Member, MemberStatus, NodeId, Tags};
