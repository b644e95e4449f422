//! The ACL rule language: policy rules written in HCL or JSON, as Consul accepts them.
//!
//! ```text
//! key_prefix "" { policy = "read" }
//! key "app/secret" { policy = "deny" }
//! service "web" { policy = "write" intentions = "read" }
//! operator = "read"
//! ```
//!
//! The same rules in JSON: `{"key_prefix": {"": {"policy": "read"}}, "operator": "read"}`.
//! Text whose first non-blank character is `{` is read as JSON, anything else as HCL (Consul's
//! HCL v1 decoder makes the same choice).
//!
//! Parsing is in two steps: [`source`] turns HCL or JSON into one small tree that keeps the
//! written order, and [`decode`] reads the rules out of that tree and validates them in
//! Consul's order with Consul's error texts (`Invalid key policy: &acl.KeyRule{...}`).

mod decode;
mod source;

use crate::access::Access;

pub use decode::RulesError;

/// A labelled resource: rules name one resource (`key "a"`) or every resource whose name
/// starts with a prefix (`key_prefix "a/"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Agent,
    Event,
    Key,
    Node,
    Query,
    Service,
    Session,
}

impl Kind {
    /// Every labelled kind, in the order Consul validates them.
    pub const ALL: [Kind; 7] = [
        Kind::Agent,
        Kind::Key,
        Kind::Node,
        Kind::Service,
        Kind::Session,
        Kind::Event,
        Kind::Query,
    ];

    /// The rule's block name: `key` or `key_prefix`.
    pub fn block_name(self, prefix: bool) -> &'static str {
        match (self, prefix) {
            (Kind::Agent, false) => "agent",
            (Kind::Agent, true) => "agent_prefix",
            (Kind::Event, false) => "event",
            (Kind::Event, true) => "event_prefix",
            (Kind::Key, false) => "key",
            (Kind::Key, true) => "key_prefix",
            (Kind::Node, false) => "node",
            (Kind::Node, true) => "node_prefix",
            (Kind::Query, false) => "query",
            (Kind::Query, true) => "query_prefix",
            (Kind::Service, false) => "service",
            (Kind::Service, true) => "service_prefix",
            (Kind::Session, false) => "session",
            (Kind::Session, true) => "session_prefix",
        }
    }

    /// The kind and prefix flag for a block name (`key_prefix` -> `(Key, true)`).
    pub fn from_block_name(name: &str) -> Option<(Kind, bool)> {
        let (base, prefix) = match name.strip_suffix("_prefix") {
            Some(base) => (base, true),
            None => (name, false),
        };
        let kind = match base {
            "agent" => Kind::Agent,
            "event" => Kind::Event,
            "key" => Kind::Key,
            "node" => Kind::Node,
            "query" => Kind::Query,
            "service" => Kind::Service,
            "session" => Kind::Session,
            _ => return None,
        };
        Some((kind, prefix))
    }

    /// Only key rules accept `list`.
    pub fn allows_list(self) -> bool {
        self == Kind::Key
    }
}

/// An unlabelled resource: `acl = "write"`, `operator = "read"`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Single {
    Acl,
    Keyring,
    Operator,
    Mesh,
    Peering,
}

impl Single {
    pub const ALL: [Single; 5] = [
        Single::Acl,
        Single::Keyring,
        Single::Operator,
        Single::Mesh,
        Single::Peering,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Single::Acl => "acl",
            Single::Keyring => "keyring",
            Single::Operator => "operator",
            Single::Mesh => "mesh",
            Single::Peering => "peering",
        }
    }

    pub fn from_name(name: &str) -> Option<Single> {
        Single::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// One labelled rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub kind: Kind,
    /// `true` for the `_prefix` form.
    pub prefix: bool,
    /// The label: a resource name, or a prefix of names.
    pub name: String,
    pub access: Access,
    /// `intentions = "..."` of a service rule; `None` when not written (Consul then derives
    /// it from `policy`: `read`/`write` give intentions `read`, `deny` gives `deny`).
    pub intentions: Option<Access>,
}

/// The parsed rules of one policy, in written order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    pub rules: Vec<Rule>,
    pub acl: Option<Access>,
    pub keyring: Option<Access>,
    pub operator: Option<Access>,
    pub mesh: Option<Access>,
    pub peering: Option<Access>,
}

impl Rules {
    /// Parses policy rules written in HCL or JSON. Empty text is an empty policy.
    pub fn parse(text: &str) -> Result<Rules, RulesError> {
        if text.trim().is_empty() {
            return Ok(Rules::default());
        }
        let tree = source::parse(text).map_err(RulesError::Syntax)?;
        decode::decode(tree)
    }

    /// The level of an unlabelled resource.
    pub fn single(&self, which: Single) -> Option<Access> {
        match which {
            Single::Acl => self.acl,
            Single::Keyring => self.keyring,
            Single::Operator => self.operator,
            Single::Mesh => self.mesh,
            Single::Peering => self.peering,
        }
    }

    pub(crate) fn single_mut(&mut self, which: Single) -> &mut Option<Access> {
        match which {
            Single::Acl => &mut self.acl,
            Single::Keyring => &mut self.keyring,
            Single::Operator => &mut self.operator,
            Single::Mesh => &mut self.mesh,
            Single::Peering => &mut self.peering,
        }
    }
}

#[cfg(test)]
mod tests;
