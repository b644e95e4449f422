//! Property tests: the compiled Authorizer agrees with a naive reference that scans every
//! rule of every policy and applies Consul's precedence literally, for random rule sets and
//! random names, for every resource kind and access level. Also: rules rendered as HCL and
//! as JSON parse back to the same rules.

use proconsul_acl::access::{Access, Need};
use proconsul_acl::authorizer::{Authorizer, DefaultPolicy};
use proconsul_acl::rules::{Kind, Rule, Rules, Single};
use proptest::prelude::*;

// ---- the reference -------------------------------------------------------------------------

/// Consul's `takesPrecedenceOver` order, written out.
fn stronger(a: Access, b: Access) -> Access {
    let rank = |x: Access| match x {
        Access::Deny => 4,
        Access::Write => 3,
        Access::List => 2,
        Access::Read => 1,
    };
    if rank(b) > rank(a) { b } else { a }
}

fn grants(access: Access, need: Need) -> bool {
    match access {
        Access::Write => true,
        Access::List => need == Need::List || need == Need::Read,
        Access::Read => need == Need::Read,
        Access::Deny => false,
    }
}

fn all_rules(policies: &[Rules]) -> impl Iterator<Item = &Rule> {
    policies.iter().flat_map(|p| p.rules.iter())
}

/// All rules of `kind` and form `prefix` on exactly `name`, merged; `None` if there are none.
fn merged_on(policies: &[Rules], kind: Kind, prefix: bool, name: &str) -> Option<Access> {
    all_rules(policies)
        .filter(|r| r.kind == kind && r.prefix == prefix && r.name == name)
        .map(|r| r.access)
        .reduce(stronger)
}

/// The governing level: exact rule, else the longest matching prefix rule.
fn governing(policies: &[Rules], kind: Kind, name: &str) -> Option<Access> {
    if let Some(exact) = merged_on(policies, kind, false, name) {
        return Some(exact);
    }
    let longest = all_rules(policies)
        .filter(|r| r.kind == kind && r.prefix && name.starts_with(r.name.as_str()))
        .map(|r| r.name.len())
        .max()?;
    all_rules(policies)
        .filter(|r| r.kind == kind && r.prefix && r.name.len() == longest)
        .filter(|r| name.starts_with(r.name.as_str()))
        .map(|r| r.access)
        .reduce(stronger)
}

fn naive_allowed(
    policies: &[Rules],
    default: DefaultPolicy,
    kind: Kind,
    name: &str,
    need: Need,
) -> bool {
    match governing(policies, kind, name) {
        Some(access) => grants(access, need),
        None => default == DefaultPolicy::Allow,
    }
}

fn naive_single(policies: &[Rules], default: DefaultPolicy, which: Single, need: Need) -> bool {
    let level = |w: Single| policies.iter().filter_map(|p| p.single(w)).reduce(stronger);
    let mut access = level(which);
    if access.is_none() && matches!(which, Single::Mesh | Single::Peering) {
        access = level(Single::Operator);
    }
    match access {
        Some(access) => grants(access, need),
        None => default == DefaultPolicy::Allow && which != Single::Acl,
    }
}

fn naive_write_prefix(policies: &[Rules], default: DefaultPolicy, prefix: &str) -> bool {
    let longest_cover = all_rules(policies)
        .filter(|r| r.kind == Kind::Key && r.prefix && prefix.starts_with(r.name.as_str()))
        .map(|r| r.name.as_str())
        .max_by_key(|n| n.len());
    let base = longest_cover.and_then(|n| merged_on(policies, Kind::Key, true, n));
    if base.is_some_and(|a| a != Access::Write) {
        return false;
    }
    let below_not_write = all_rules(policies)
        .filter(|r| r.kind == Kind::Key && r.name.starts_with(prefix))
        .any(|r| merged_on(policies, Kind::Key, r.prefix, &r.name) != Some(Access::Write));
    if below_not_write {
        return false;
    }
    match base {
        Some(_) => true,
        None => default == DefaultPolicy::Allow,
    }
}

fn naive_intention(policies: &[Rules], default: DefaultPolicy, name: &str, need: Need) -> bool {
    let effective = |prefix: bool, rule_name: &str| -> Option<Access> {
        let on = || {
            all_rules(policies).filter(move |r| {
                r.kind == Kind::Service && r.prefix == prefix && r.name == rule_name
            })
        };
        let policy = on().map(|r| r.access).reduce(stronger)?;
        let explicit = on().filter_map(|r| r.intentions).reduce(stronger);
        Some(explicit.unwrap_or(if policy == Access::Deny {
            Access::Deny
        } else {
            Access::Read
        }))
    };
    let governing = effective(false, name).or_else(|| {
        all_rules(policies)
            .filter(|r| r.kind == Kind::Service && r.prefix && name.starts_with(r.name.as_str()))
            .map(|r| r.name.as_str())
            .max_by_key(|n| n.len())
            .and_then(|n| effective(true, n))
    });
    match governing {
        Some(access) => grants(access, need),
        None => default == DefaultPolicy::Allow,
    }
}

// ---- generators ----------------------------------------------------------------------------

const KINDS: [Kind; 7] = [
    Kind::Agent,
    Kind::Event,
    Kind::Key,
    Kind::Node,
    Kind::Query,
    Kind::Service,
    Kind::Session,
];

/// Short names over a tiny alphabet, so names and prefixes collide often.
fn name() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!['a', 'b', '/', 'é']), 0..5)
        .prop_map(|chars| chars.into_iter().collect())
}

fn access(kind: Kind) -> impl Strategy<Value = Access> {
    let mut levels = vec![Access::Deny, Access::Read, Access::Write];
    if kind == Kind::Key {
        levels.push(Access::List);
    }
    prop::sample::select(levels)
}

fn rule() -> impl Strategy<Value = Rule> {
    (prop::sample::select(KINDS.to_vec()), any::<bool>(), name()).prop_flat_map(
        |(kind, prefix, name)| {
            let intentions = if kind == Kind::Service {
                prop::option::of(prop::sample::select(vec![
                    Access::Deny,
                    Access::Read,
                    Access::Write,
                ]))
                .boxed()
            } else {
                Just(None).boxed()
            };
            (access(kind), intentions).prop_map(move |(access, intentions)| Rule {
                kind,
                prefix,
                name: name.clone(),
                access,
                intentions,
            })
        },
    )
}

fn single_level() -> impl Strategy<Value = Option<Access>> {
    prop::option::of(prop::sample::select(vec![
        Access::Deny,
        Access::Read,
        Access::Write,
    ]))
}

fn policy() -> impl Strategy<Value = Rules> {
    (
        prop::collection::vec(rule(), 0..20),
        [
            single_level(),
            single_level(),
            single_level(),
            single_level(),
            single_level(),
        ],
    )
        .prop_map(|(rules, [acl, keyring, operator, mesh, peering])| Rules {
            rules,
            acl,
            keyring,
            operator,
            mesh,
            peering,
        })
}

fn default_policy() -> impl Strategy<Value = DefaultPolicy> {
    prop::sample::select(vec![DefaultPolicy::Allow, DefaultPolicy::Deny])
}

// ---- properties ----------------------------------------------------------------------------

const NEEDS: [Need; 3] = [Need::Read, Need::List, Need::Write];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn compiled_agrees_with_the_reference(
        policies in prop::collection::vec(policy(), 1..4),
        default in default_policy(),
        names in prop::collection::vec(name(), 1..12),
    ) {
        let authz = Authorizer::from_rules(&policies, default);
        // Query the rule names themselves too: exact hits and prefix boundaries.
        let mut queries = names;
        queries.extend(policies.iter().flat_map(|p| p.rules.iter().map(|r| r.name.clone())));
        for q in &queries {
            for kind in KINDS {
                for need in NEEDS {
                    prop_assert_eq!(
                        authz.allowed(kind, q, need),
                        naive_allowed(&policies, default, kind, q, need),
                        "kind {:?} need {:?} name {:?}", kind, need, q
                    );
                }
            }
            prop_assert_eq!(authz.key_write_prefix(q), naive_write_prefix(&policies, default, q), "write_prefix {:?}", q);
            prop_assert_eq!(authz.intention_read(q), naive_intention(&policies, default, q, Need::Read), "intention_read {:?}", q);
            prop_assert_eq!(authz.intention_write(q), naive_intention(&policies, default, q, Need::Write), "intention_write {:?}", q);
        }
        for which in Single::ALL {
            for need in [Need::Read, Need::Write] {
                prop_assert_eq!(
                    authz.allowed_single(which, need),
                    naive_single(&policies, default, which, need),
                    "{:?} {:?}", which, need
                );
            }
        }
    }

    #[test]
    fn hcl_and_json_renderings_parse_back(policy in policy()) {
        let hcl = Rules::parse(&render_hcl(&policy));
        prop_assert_eq!(hcl.as_ref(), Ok(&policy));
        let json = Rules::parse(&render_json(&policy));
        prop_assert_eq!(json.as_ref(), Ok(&policy));
    }
}

fn render_hcl(policy: &Rules) -> String {
    let mut out = String::new();
    for r in &policy.rules {
        let name = serde_json::to_string(&r.name).unwrap_or_default();
        out.push_str(&format!(
            "{} {name} {{\n  policy = \"{}\"\n",
            r.kind.block_name(r.prefix),
            r.access
        ));
        if let Some(i) = r.intentions {
            out.push_str(&format!("  intentions = \"{i}\"\n"));
        }
        out.push_str("}\n");
    }
    for which in Single::ALL {
        if let Some(a) = policy.single(which) {
            out.push_str(&format!("{} = \"{a}\"\n", which.name()));
        }
    }
    out
}

fn render_json(policy: &Rules) -> String {
    use serde_json::{Map, Value, json};
    let mut top: Vec<(String, Value)> = Vec::new();
    for r in &policy.rules {
        let mut body = Map::new();
        body.insert("policy".to_string(), json!(r.access.as_str()));
        if let Some(i) = r.intentions {
            body.insert("intentions".to_string(), json!(i.as_str()));
        }
        // One top-level entry per rule keeps the written order (a list of blocks).
        top.push((
            r.kind.block_name(r.prefix).to_string(),
            json!([{ r.name.clone(): body }]),
        ));
    }
    for which in Single::ALL {
        if let Some(a) = policy.single(which) {
            top.push((which.name().to_string(), json!(a.as_str())));
        }
    }
    // Duplicate keys are legal JSON and the rules decoder reads every entry.
    let entries: Vec<String> = top
        .iter()
        .map(|(k, v)| format!("{}: {}", json!(k), v))
        .collect();
    format!("{{{}}}", entries.join(", "))
}
