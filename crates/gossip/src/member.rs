//! Our SWIM identity: a node's name, gossip address, a bump that makes a restarted or
//! renewed node win over its previous self, and its tags (Serf's member tags).
//!
//! The identity travels in every packet header and every membership update, so it is
//! bounded: names like Consul's node names (at most [`NAME_LEN_MAX`] bytes) and tags
//! encoded in at most [`TAGS_ENCODED_MAX`] bytes (memberlist's `MetaMaxSize`). The
//! limits are enforced when an identity is built and again when one is decoded.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::error::GossipError;

/// Longest node name accepted (Serf validates node names to 128 characters).
pub const NAME_LEN_MAX: usize = 128;
/// Largest encoded tag map (memberlist's `MetaMaxSize`).
pub const TAGS_ENCODED_MAX: usize = 512;
/// Most tags a member may carry.
pub const TAGS_COUNT_MAX: usize = 64;

/// A member's tags (`role`, `dc`, `port`, `build`, `vsn`, ... in Consul), bounded.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, String>",
    into = "BTreeMap<String, String>"
)]
pub struct Tags(BTreeMap<String, String>);

impl Tags {
    /// Checks the bounds: count and encoded size.
    pub fn new(map: BTreeMap<String, String>) -> Result<Self, GossipError> {
        if map.len() > TAGS_COUNT_MAX {
            return Err(GossipError::TagsTooLarge {
                size: map.len(),
                limit: TAGS_COUNT_MAX,
            });
        }
        // Each entry is two length-prefixed strings; a varint prefix is at most 5 bytes
        // for these sizes, so this over-approximates postcard's encoding slightly.
        let size: usize = map.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
        if size > TAGS_ENCODED_MAX {
            return Err(GossipError::TagsTooLarge {
                size,
                limit: TAGS_ENCODED_MAX,
            });
        }
        Ok(Self(map))
    }

    /// Builds tags from pairs, checking the bounds.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, GossipError> {
        Self::new(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    /// The value of tag `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// All tags in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The tags as a map.
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

impl TryFrom<BTreeMap<String, String>> for Tags {
    type Error = GossipError;
    fn try_from(map: BTreeMap<String, String>) -> Result<Self, GossipError> {
        Self::new(map)
    }
}

impl From<Tags> for BTreeMap<String, String> {
    fn from(tags: Tags) -> Self {
        tags.0
    }
}

/// The identity foca gossips about. Two identities with the same address are the same
/// node at different times: the one with the higher `bump` wins.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawNodeId")]
pub struct NodeId {
    name: String,
    addr: SocketAddr,
    bump: u64,
    tags: Tags,
}

/// The wire form, validated into a [`NodeId`] on decode.
#[derive(Deserialize)]
struct RawNodeId {
    name: String,
    addr: SocketAddr,
    bump: u64,
    tags: Tags,
}

impl TryFrom<RawNodeId> for NodeId {
    type Error = GossipError;
    fn try_from(raw: RawNodeId) -> Result<Self, GossipError> {
        // Empty names are allowed on the wire: a join is addressed to an identity whose
        // name we do not know yet (see `NodeId::seed`).
        if raw.name.len() > NAME_LEN_MAX {
            return Err(GossipError::InvalidName(raw.name.len()));
        }
        Ok(Self {
            name: raw.name,
            addr: raw.addr,
            bump: raw.bump,
            tags: raw.tags,
        })
    }
}

impl NodeId {
    /// A node identity. `bump` must grow across restarts of the same node (the shell
    /// uses the start time in milliseconds) so that the new process supersedes the old.
    pub fn new(
        name: impl Into<String>,
        addr: SocketAddr,
        bump: u64,
        tags: Tags,
    ) -> Result<Self, GossipError> {
        let name = name.into();
        if name.is_empty() || name.len() > NAME_LEN_MAX {
            return Err(GossipError::InvalidName(name.len()));
        }
        Ok(Self {
            name,
            addr,
            bump,
            tags,
        })
    }

    /// The identity a join is addressed to: only the address is known. foca accepts an
    /// announce sent to any identity sharing the receiver's address.
    pub(crate) fn seed(addr: SocketAddr) -> Self {
        Self {
            name: String::new(),
            addr,
            bump: 0,
            tags: Tags::default(),
        }
    }

    /// The node name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The gossip address packets for this node go to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The generation of this identity.
    pub fn bump(&self) -> u64 {
        self.bump
    }

    /// The member tags.
    pub fn tags(&self) -> &Tags {
        &self.tags
    }
}

impl foca::Identity for NodeId {
    type Addr = SocketAddr;

    /// After being declared down, come back at once as the next generation.
    fn renew(&self) -> Option<Self> {
        let bump = self.bump.checked_add(1)?;
        Some(Self {
            bump,
            ..self.clone()
        })
    }

    fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The newest generation wins; equal generations are ordered by name so every
    /// member takes the same decision.
    fn win_addr_conflict(&self, adversary: &Self) -> bool {
        (self.bump, &self.name, &self.tags) > (adversary.bump, &adversary.name, &adversary.tags)
    }
}

/// A member's status as Serf reports it, plus SWIM's suspicion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MemberStatus {
    /// Answering probes.
    Alive,
    /// Someone failed to reach it; it may still refute the suspicion.
    Suspect,
    /// Declared down by the cluster without having announced a leave.
    Failed,
    /// Left gracefully: it announced its leave before going down.
    Left,
}

impl MemberStatus {
    /// Serf's status name (`alive`, `failed`, `left`); a suspect counts as `alive`
    /// there, so it is reported as `suspect` only here.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Alive => "alive",
            Self::Suspect => "suspect",
            Self::Failed => "failed",
            Self::Left => "left",
        }
    }

    /// Alive or suspect: still a member as far as routing is concerned.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Alive | Self::Suspect)
    }
}

/// One member as the local node sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The node name.
    pub name: String,
    /// Its gossip address.
    pub addr: SocketAddr,
    /// Its tags.
    pub tags: Tags,
    /// Its identity's generation.
    pub bump: u64,
    /// Its status.
    pub status: MemberStatus,
}

impl Member {
    pub(crate) fn from_id(id: &NodeId, status: MemberStatus) -> Self {
        Self {
            name: id.name.clone(),
            addr: id.addr,
            tags: id.tags.clone(),
            bump: id.bump,
            status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use foca::Identity;

    fn addr() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 8301))
    }

    #[test]
    fn tags_are_bounded() {
        let big = "x".repeat(TAGS_ENCODED_MAX);
        assert!(Tags::from_pairs([("role", big.as_str())]).is_err());
        let many: BTreeMap<String, String> = (0..=TAGS_COUNT_MAX)
            .map(|i| (i.to_string(), String::new()))
            .collect();
        assert!(Tags::new(many).is_err());
        assert!(Tags::from_pairs([("role", "consul"), ("dc", "dc1")]).is_ok());
    }

    #[test]
    fn names_are_bounded() {
        assert!(NodeId::new("", addr(), 1, Tags::default()).is_err());
        assert!(NodeId::new("n".repeat(NAME_LEN_MAX + 1), addr(), 1, Tags::default()).is_err());
    }

    #[test]
    fn renewed_identity_wins_the_address() {
        let id = NodeId::new("a", addr(), 7, Tags::default()).expect("valid");
        let renewed = id.renew().expect("renews");
        assert_eq!(renewed.bump(), 8);
        assert!(renewed.win_addr_conflict(&id));
        assert!(!id.win_addr_conflict(&renewed));
    }

    #[test]
    fn decoding_enforces_the_bounds() {
        let id = NodeId::new("a", addr(), 1, Tags::default()).expect("valid");
        let bytes = postcard::to_allocvec(&id).expect("encodes");
        let back: NodeId = postcard::from_bytes(&bytes).expect("decodes");
        assert_eq!(back, id);
        let long = NodeId {
            name: "n".repeat(NAME_LEN_MAX + 1),
            ..id
        };
        let bytes = postcard::to_allocvec(&long).expect("encodes");
        assert!(postcard::from_bytes::<NodeId>(&bytes).is_err());
    }
}
