//! The compiled Authorizer: answers "may this token do X on Y" from merged rules.
//!
//! Two layers, as in Consul's chained authorizer: the token's merged rules decide `Allow` or
//! `Deny` when a rule governs the resource; otherwise (`Default`) the `acl.default_policy`
//! decides. Within the rules of one kind an exact rule on the name beats the longest prefix
//! rule the name starts with (see [`crate::merge`] for how several policies combine).
//!
//! The default layer: `allow` allows everything *except* `acl:read`/`acl:write` (Consul's
//! `AllowAll` is not a management authorizer), `deny` denies everything. `mesh` and `peering`
//! fall back to the `operator` rule when the token has no rule of their own.
//!
//! Each resource kind compiles into a radix tree ([`crate::radix`]), so a check costs a walk
//! along the name, independent of the number of rules (see `examples/authorize_bench.rs`).

use crate::access::{Access, Decision, Need};
use crate::merge::MergedRules;
use crate::radix::RadixTree;
use crate::rules::{Kind, Rules, Single};
use std::fmt;

/// `acl.default_policy`: what happens when no rule governs a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DefaultPolicy {
    /// Consul's default.
    #[default]
    Allow,
    Deny,
}

impl DefaultPolicy {
    /// Parses `allow` or `deny` (as written in the config).
    pub fn parse(text: &str) -> Option<DefaultPolicy> {
        match text {
            "allow" => Some(DefaultPolicy::Allow),
            "deny" => Some(DefaultPolicy::Deny),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DefaultPolicy::Allow => "allow",
            DefaultPolicy::Deny => "deny",
        }
    }
}

impl fmt::Display for DefaultPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The last layer of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    /// Everything but ACL management.
    Allow,
    Deny,
    /// Everything, ACL management included.
    Manage,
}

impl Root {
    fn allows(self, management: bool) -> bool {
        match self {
            Root::Allow => !management,
            Root::Deny => false,
            Root::Manage => true,
        }
    }
}

/// A token's compiled rules.
#[derive(Debug, Clone, Default)]
struct Compiled {
    /// Indexed by [`kind_index`].
    trees: [RadixTree; 7],
    intentions: RadixTree,
    acl: Option<Access>,
    keyring: Option<Access>,
    operator: Option<Access>,
    mesh: Option<Access>,
    peering: Option<Access>,
}

fn kind_index(kind: Kind) -> usize {
    match kind {
        Kind::Agent => 0,
        Kind::Event => 1,
        Kind::Key => 2,
        Kind::Node => 3,
        Kind::Query => 4,
        Kind::Service => 5,
        Kind::Session => 6,
    }
}

impl Compiled {
    fn from_merged(merged: &MergedRules) -> Compiled {
        let mut c = Compiled::default();
        for ((kind, prefix, name), m) in &merged.labelled {
            if let Some(tree) = c.trees.get_mut(kind_index(*kind)) {
                tree.insert(name, *prefix, m.access);
            }
            if *kind == Kind::Service {
                c.intentions.insert(name, *prefix, m.effective_intentions());
            }
        }
        for tree in c.trees.iter_mut() {
            tree.finish();
        }
        c.intentions.finish();
        c.acl = merged.single(Single::Acl);
        c.keyring = merged.single(Single::Keyring);
        c.operator = merged.single(Single::Operator);
        c.mesh = merged.single(Single::Mesh);
        c.peering = merged.single(Single::Peering);
        c
    }

    fn tree(&self, kind: Kind) -> Option<&RadixTree> {
        self.trees.get(kind_index(kind))
    }

    fn single(&self, which: Single) -> Option<Access> {
        match which {
            Single::Acl => self.acl,
            Single::Keyring => self.keyring,
            Single::Operator => self.operator,
            // mesh and peering default to the operator rule (Consul's MeshRead/PeeringRead).
            Single::Mesh => self.mesh.or(self.operator),
            Single::Peering => self.peering.or(self.operator),
        }
    }
}

/// Answers permission checks for one token. Cheap to query, built once per token.
#[derive(Debug, Clone)]
pub struct Authorizer {
    rules: Option<Box<Compiled>>,
    root: Root,
}

impl Authorizer {
    /// Allows everything except ACL management: what `default_policy = "allow"` gives a
    /// token without rules.
    pub fn allow_all() -> Authorizer {
        Authorizer {
            rules: None,
            root: Root::Allow,
        }
    }

    /// Denies everything.
    pub fn deny_all() -> Authorizer {
        Authorizer {
            rules: None,
            root: Root::Deny,
        }
    }

    /// Allows everything including ACL management (Consul's `ManageAll`).
    pub fn manage_all() -> Authorizer {
        Authorizer {
            rules: None,
            root: Root::Manage,
        }
    }

    /// Only the default policy, no rules.
    pub fn from_default(default: DefaultPolicy) -> Authorizer {
        match default {
            DefaultPolicy::Allow => Authorizer::allow_all(),
            DefaultPolicy::Deny => Authorizer::deny_all(),
        }
    }

    /// Compiles merged rules over the default policy.
    pub fn new(merged: &MergedRules, default: DefaultPolicy) -> Authorizer {
        let mut authz = Authorizer::from_default(default);
        authz.rules = Some(Box::new(Compiled::from_merged(merged)));
        authz
    }

    /// Merges the rules of several policies and compiles them.
    pub fn from_rules<'a>(
        policies: impl IntoIterator<Item = &'a Rules>,
        default: DefaultPolicy,
    ) -> Authorizer {
        Authorizer::new(&MergedRules::merge(policies), default)
    }

    /// The rules layer's decision for a labelled resource (`Default`: no rule governs it).
    pub fn decide(&self, kind: Kind, name: &str, need: Need) -> Decision {
        self.rules
            .as_ref()
            .and_then(|c| c.tree(kind))
            .and_then(|tree| tree.lookup(name))
            .map_or(Decision::Default, |access| access.enforce(need))
    }

    /// The rules layer's decision for an unlabelled resource.
    pub fn decide_single(&self, which: Single, need: Need) -> Decision {
        self.rules
            .as_ref()
            .and_then(|c| c.single(which))
            .map_or(Decision::Default, |access| access.enforce(need))
    }

    /// May the token do `need` on the named resource of `kind`?
    pub fn allowed(&self, kind: Kind, name: &str, need: Need) -> bool {
        self.decide(kind, name, need).or(self.root.allows(false))
    }

    /// May the token do `need` on an unlabelled resource?
    pub fn allowed_single(&self, which: Single, need: Need) -> bool {
        let management = which == Single::Acl;
        self.decide_single(which, need)
            .or(self.root.allows(management))
    }

    pub fn key_read(&self, key: &str) -> bool {
        self.allowed(Kind::Key, key, Need::Read)
    }

    /// Recursive listing (`?recurse`, `?keys`) when `acl.enable_key_list_policy` is on: needs
    /// `list` or `write` (`read` is not enough). With the option off, Consul checks
    /// [`Authorizer::key_read`] on the prefix instead; the caller picks.
    pub fn key_list(&self, prefix: &str) -> bool {
        self.allowed(Kind::Key, prefix, Need::List)
    }

    pub fn key_write(&self, key: &str) -> bool {
        self.allowed(Kind::Key, key, Need::Write)
    }

    /// Write on every key under `prefix` (recursive delete; CVE-2019-12291): denied when the
    /// longest prefix rule covering `prefix` is not `write`, or when any rule on a name
    /// starting with `prefix` is not `write`; with no rule at all, the default policy.
    pub fn key_write_prefix(&self, prefix: &str) -> bool {
        self.rules
            .as_ref()
            .and_then(|c| c.tree(Kind::Key))
            .map_or(Decision::Default, |tree| tree.write_prefix(prefix))
            .or(self.root.allows(false))
    }

    pub fn service_read(&self, name: &str) -> bool {
        self.allowed(Kind::Service, name, Need::Read)
    }

    pub fn service_write(&self, name: &str) -> bool {
        self.allowed(Kind::Service, name, Need::Write)
    }

    /// Intentions whose destination is `service` (exact names; the `*` wildcard forms are not
    /// implemented yet).
    pub fn intention_read(&self, service: &str) -> bool {
        self.intention(service, Need::Read)
    }

    pub fn intention_write(&self, service: &str) -> bool {
        self.intention(service, Need::Write)
    }

    fn intention(&self, service: &str, need: Need) -> bool {
        self.rules
            .as_ref()
            .and_then(|c| c.intentions.lookup(service))
            .map_or(Decision::Default, |access| access.enforce(need))
            .or(self.root.allows(false))
    }

    pub fn node_read(&self, name: &str) -> bool {
        self.allowed(Kind::Node, name, Need::Read)
    }

    pub fn node_write(&self, name: &str) -> bool {
        self.allowed(Kind::Node, name, Need::Write)
    }

    /// Sessions are authorized by the node they are tied to.
    pub fn session_read(&self, node: &str) -> bool {
        self.allowed(Kind::Session, node, Need::Read)
    }

    pub fn session_write(&self, node: &str) -> bool {
        self.allowed(Kind::Session, node, Need::Write)
    }

    /// Agent endpoints are authorized by the agent's node name.
    pub fn agent_read(&self, node: &str) -> bool {
        self.allowed(Kind::Agent, node, Need::Read)
    }

    pub fn agent_write(&self, node: &str) -> bool {
        self.allowed(Kind::Agent, node, Need::Write)
    }

    pub fn event_read(&self, name: &str) -> bool {
        self.allowed(Kind::Event, name, Need::Read)
    }

    pub fn event_write(&self, name: &str) -> bool {
        self.allowed(Kind::Event, name, Need::Write)
    }

    /// Prepared queries, by query name (or prefix).
    pub fn query_read(&self, name: &str) -> bool {
        self.allowed(Kind::Query, name, Need::Read)
    }

    pub fn query_write(&self, name: &str) -> bool {
        self.allowed(Kind::Query, name, Need::Write)
    }

    pub fn operator_read(&self) -> bool {
        self.allowed_single(Single::Operator, Need::Read)
    }

    pub fn operator_write(&self) -> bool {
        self.allowed_single(Single::Operator, Need::Write)
    }

    pub fn keyring_read(&self) -> bool {
        self.allowed_single(Single::Keyring, Need::Read)
    }

    pub fn keyring_write(&self) -> bool {
        self.allowed_single(Single::Keyring, Need::Write)
    }

    pub fn acl_read(&self) -> bool {
        self.allowed_single(Single::Acl, Need::Read)
    }

    pub fn acl_write(&self) -> bool {
        self.allowed_single(Single::Acl, Need::Write)
    }

    /// Snapshots contain every secret, so they need `acl = "write"`.
    pub fn snapshot(&self) -> bool {
        self.acl_write()
    }

    pub fn mesh_read(&self) -> bool {
        self.allowed_single(Single::Mesh, Need::Read)
    }

    pub fn mesh_write(&self) -> bool {
        self.allowed_single(Single::Mesh, Need::Write)
    }

    pub fn peering_read(&self) -> bool {
        self.allowed_single(Single::Peering, Need::Read)
    }

    pub fn peering_write(&self) -> bool {
        self.allowed_single(Single::Peering, Need::Write)
    }
}

#[cfg(test)]
mod tests;
