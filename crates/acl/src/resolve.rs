//! From a token to its Authorizer: gather the token's policies, its roles' policies and the
//! synthetic policies of its (and its roles') service and node identities, keep those that
//! apply in this datacenter, merge, compile.
//!
//! Pure: the clock (`now`), the datacenter and the default policy are inputs, and policies and
//! roles come from an [`AclLookup`] the caller implements over its store.

use crate::authorizer::{Authorizer, DefaultPolicy};
use crate::model::{
    NodeIdentity, Policy, PolicyLink, Role, ServiceIdentity, Timestamp, Token, node_identity_rules,
    service_identity_rules,
};
use crate::rules::{Rules, RulesError};
use std::collections::{BTreeMap, BTreeSet};

/// Where policies and roles are found by ID.
pub trait AclLookup {
    fn policy(&self, id: &str) -> Option<Policy>;
    fn role(&self, id: &str) -> Option<Role>;
}

/// The inputs of a resolution besides the token.
#[derive(Debug, Clone, Copy)]
pub struct ResolveContext<'a> {
    /// This server's datacenter: policies and identities scoped elsewhere do not apply.
    pub datacenter: &'a str,
    /// Tokens whose expiration time is before `now` are not found.
    pub now: Timestamp,
    /// `acl.default_policy`.
    pub default_policy: DefaultPolicy,
}

/// Why a token could not be resolved. Texts are Consul's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The token expired (Consul treats it as unknown: HTTP 403 `ACL not found`).
    #[error("ACL not found")]
    NotFound,
    /// A stored policy's rules do not parse.
    #[error("failed to parse the ACL policies: failed to parse {name:?}: {source}")]
    Policy { name: String, source: RulesError },
}

/// The rules that apply to `token` here and now, one entry per policy (stored or synthetic).
/// Links to policies or roles that do not exist are skipped, as Consul skips them.
pub fn effective_rules(
    token: &Token,
    lookup: &dyn AclLookup,
    ctx: &ResolveContext<'_>,
) -> Result<Vec<Rules>, ResolveError> {
    if token.is_expired(ctx.now) {
        return Err(ResolveError::NotFound);
    }
    let mut policy_ids: BTreeSet<String> = BTreeSet::new();
    let mut services: Vec<ServiceIdentity> = token.service_identities.clone();
    let mut nodes: Vec<NodeIdentity> = token.node_identities.clone();
    add_links(&mut policy_ids, &token.policies);
    for link in &token.roles {
        if let Some(role) = lookup.role(&link.id) {
            add_links(&mut policy_ids, &role.policies);
            services.extend(role.service_identities);
            nodes.extend(role.node_identities);
        }
    }
    let mut out = Vec::new();
    for id in &policy_ids {
        let Some(policy) = lookup.policy(id) else {
            continue;
        };
        if !policy.applies_in(ctx.datacenter) {
            continue;
        }
        let rules = Rules::parse(&policy.rules).map_err(|source| ResolveError::Policy {
            name: policy.name.clone(),
            source,
        })?;
        out.push(rules);
    }
    let service_names: BTreeSet<&str> = services
        .iter()
        .filter(|s| s.datacenters.is_empty() || s.datacenters.iter().any(|d| d == ctx.datacenter))
        .map(|s| s.service_name.as_str())
        .collect();
    out.extend(service_names.into_iter().map(service_identity_rules));
    let node_names: BTreeSet<&str> = nodes
        .iter()
        .filter(|n| n.datacenter == ctx.datacenter)
        .map(|n| n.node_name.as_str())
        .collect();
    out.extend(node_names.into_iter().map(node_identity_rules));
    Ok(out)
}

fn add_links(ids: &mut BTreeSet<String>, links: &[PolicyLink]) {
    ids.extend(
        links
            .iter()
            .filter(|l| !l.id.is_empty())
            .map(|l| l.id.clone()),
    );
}

/// Compiles `token` into an Authorizer (see [`effective_rules`]).
pub fn authorizer_for(
    token: &Token,
    lookup: &dyn AclLookup,
    ctx: &ResolveContext<'_>,
) -> Result<Authorizer, ResolveError> {
    let rules = effective_rules(token, lookup, ctx)?;
    Ok(Authorizer::from_rules(&rules, ctx.default_policy))
}

/// An in-memory [`AclLookup`] (tests, tools, the benchmark).
#[derive(Debug, Clone, Default)]
pub struct MemoryLookup {
    pub policies: BTreeMap<String, Policy>,
    pub roles: BTreeMap<String, Role>,
}

impl MemoryLookup {
    /// Holds the built-in policies.
    pub fn with_builtins() -> MemoryLookup {
        let mut lookup = MemoryLookup::default();
        for policy in crate::model::builtin_policies() {
            lookup.add_policy(policy);
        }
        lookup
    }

    pub fn add_policy(&mut self, policy: Policy) {
        self.policies.insert(policy.id.clone(), policy);
    }

    pub fn add_role(&mut self, role: Role) {
        self.roles.insert(role.id.clone(), role);
    }
}

impl AclLookup for MemoryLookup {
    fn policy(&self, id: &str) -> Option<Policy> {
        self.policies.get(id).cloned()
    }

    fn role(&self, id: &str) -> Option<Role> {
        self.roles.get(id).cloned()
    }
}

#[cfg(test)]
mod tests;
