//! Reads rules out of the parsed tree and validates them with Consul's texts.
//!
//! Consul checks `acl`, then each labelled kind (exact form, then prefix form) in the order
//! agent, key, node, service, session, event, query, then `keyring`, `operator`, `mesh`,
//! `peering`; the first bad rule is reported, printed as Go's `%#v` prints Consul's rule
//! struct, e.g. `Invalid key policy: &acl.KeyRule{Prefix:"foo", Policy:"nope",
//! EnterpriseRule:acl.EnterpriseRule{}}`. Unknown resources and unknown fields inside a
//! block are ignored, as Consul's HCL decoder ignores them.

use super::source::Node;
use super::{Kind, Rule, Rules, Single};
use crate::access::Access;

/// Why policy rules were rejected. The texts are Consul's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// The text is not valid HCL/JSON or has the wrong shape.
    #[error("Failed to parse ACL rules: {0}")]
    Syntax(String),
    /// A rule's `policy` (or an unlabelled resource's value) is not a valid level.
    #[error("Invalid {resource} policy: {rule}")]
    InvalidPolicy {
        resource: &'static str,
        rule: String,
    },
    /// A service rule's `intentions` is not a valid level.
    #[error("Invalid {resource} intentions policy: {rule}")]
    InvalidIntentions {
        resource: &'static str,
        rule: String,
    },
}

/// A labelled rule as written, before validation.
struct RawRule {
    kind: Kind,
    prefix: bool,
    name: String,
    policy: String,
    intentions: String,
}

#[derive(Default)]
struct RawRules {
    rules: Vec<RawRule>,
    singles: [Option<String>; 5],
}

fn single_index(which: Single) -> usize {
    match which {
        Single::Acl => 0,
        Single::Keyring => 1,
        Single::Operator => 2,
        Single::Mesh => 3,
        Single::Peering => 4,
    }
}

fn already_set(name: &str) -> RulesError {
    RulesError::Syntax(format!(
        "The argument {name:?} was already set. Each argument can only be defined once"
    ))
}

pub(super) fn decode(tree: Node) -> Result<Rules, RulesError> {
    let Node::Object(entries) = tree else {
        return Err(RulesError::Syntax("rules must be an object".to_string()));
    };
    let mut raw = RawRules::default();
    for (key, value) in entries {
        let lower = key.to_ascii_lowercase();
        if let Some(which) = Single::from_name(&lower) {
            let Node::Scalar(text) = value else {
                return Err(RulesError::Syntax(format!("{lower}: expected a string")));
            };
            let slot = &mut raw.singles[single_index(which)];
            if slot.is_some() {
                return Err(already_set(&lower));
            }
            *slot = Some(text);
        } else if let Some((kind, prefix)) = Kind::from_block_name(&lower) {
            collect_labelled(kind, prefix, value, &mut raw.rules)?;
        }
    }
    validate(raw)
}

fn collect_labelled(
    kind: Kind,
    prefix: bool,
    node: Node,
    out: &mut Vec<RawRule>,
) -> Result<(), RulesError> {
    match node {
        Node::Object(entries) => {
            for (label, body) in entries {
                collect_body(kind, prefix, label, body, out)?;
            }
            Ok(())
        }
        Node::List(items) => items
            .into_iter()
            .try_for_each(|item| collect_labelled(kind, prefix, item, out)),
        Node::Scalar(_) => Err(RulesError::Syntax(format!(
            "{}: expected a block with one label",
            kind.block_name(prefix)
        ))),
    }
}

fn collect_body(
    kind: Kind,
    prefix: bool,
    name: String,
    body: Node,
    out: &mut Vec<RawRule>,
) -> Result<(), RulesError> {
    let fields = match body {
        Node::Object(fields) => fields,
        Node::List(items) => {
            return items
                .into_iter()
                .try_for_each(|item| collect_body(kind, prefix, name.clone(), item, out));
        }
        Node::Scalar(_) => {
            return Err(RulesError::Syntax(format!(
                "{} {name:?}: expected a block",
                kind.block_name(prefix)
            )));
        }
    };
    let mut policy = None;
    let mut intentions = None;
    for (field, value) in fields {
        let lower = field.to_ascii_lowercase();
        let slot = match lower.as_str() {
            "policy" => &mut policy,
            "intentions" if kind == Kind::Service => &mut intentions,
            _ => continue,
        };
        let Node::Scalar(text) = value else {
            return Err(RulesError::Syntax(format!("{lower}: expected a string")));
        };
        if slot.is_some() {
            return Err(already_set(&lower));
        }
        *slot = Some(text);
    }
    out.push(RawRule {
        kind,
        prefix,
        name,
        policy: policy.unwrap_or_default(),
        intentions: intentions.unwrap_or_default(),
    });
    Ok(())
}

fn level(text: &str, allow_list: bool) -> Option<Access> {
    Access::parse(text).filter(|a| allow_list || *a != Access::List)
}

fn validate(raw: RawRules) -> Result<Rules, RulesError> {
    let mut rules = Rules::default();
    let single = |which: Single, rules: &mut Rules| -> Result<(), RulesError> {
        let idx = single_index(which);
        match raw.singles[idx].as_deref() {
            None | Some("") => Ok(()),
            Some(text) => {
                let access = level(text, false).ok_or_else(|| RulesError::InvalidPolicy {
                    resource: which.name(),
                    rule: go_quote(text),
                })?;
                *rules.single_mut(which) = Some(access);
                Ok(())
            }
        }
    };
    single(Single::Acl, &mut rules)?;
    for kind in Kind::ALL {
        for prefix in [false, true] {
            let of_form = raw
                .rules
                .iter()
                .filter(|r| r.kind == kind && r.prefix == prefix);
            for r in of_form {
                check_rule(r)?;
            }
        }
    }
    for which in [
        Single::Keyring,
        Single::Operator,
        Single::Mesh,
        Single::Peering,
    ] {
        single(which, &mut rules)?;
    }
    for r in raw.rules {
        let (access, intentions) = check_rule(&r)?;
        rules.rules.push(Rule {
            kind: r.kind,
            prefix: r.prefix,
            name: r.name,
            access,
            intentions,
        });
    }
    Ok(rules)
}

fn check_rule(r: &RawRule) -> Result<(Access, Option<Access>), RulesError> {
    let resource = r.kind.block_name(r.prefix);
    let access =
        level(&r.policy, r.kind.allows_list()).ok_or_else(|| RulesError::InvalidPolicy {
            resource,
            rule: go_rule(r),
        })?;
    let intentions = if r.intentions.is_empty() {
        None
    } else {
        Some(
            level(&r.intentions, false).ok_or_else(|| RulesError::InvalidIntentions {
                resource,
                rule: go_rule(r),
            })?,
        )
    };
    Ok((access, intentions))
}

/// The rule as Go's `%#v` prints Consul's rule struct pointer.
fn go_rule(r: &RawRule) -> String {
    let (ty, label_field, enterprise) = match r.kind {
        Kind::Agent => ("AgentRule", "Node", false),
        Kind::Event => ("EventRule", "Event", false),
        Kind::Key => ("KeyRule", "Prefix", true),
        Kind::Node => ("NodeRule", "Name", true),
        Kind::Query => ("PreparedQueryRule", "Prefix", false),
        Kind::Service => ("ServiceRule", "Name", true),
        Kind::Session => ("SessionRule", "Node", false),
    };
    let mut out = format!(
        "&acl.{ty}{{{label_field}:{}, Policy:{}",
        go_quote(&r.name),
        go_quote(&r.policy)
    );
    if r.kind == Kind::Service {
        out.push_str(", Intentions:");
        out.push_str(&go_quote(&r.intentions));
    }
    if enterprise {
        out.push_str(", EnterpriseRule:acl.EnterpriseRule{}");
    }
    out.push('}');
    out
}

/// Go's `strconv.Quote` (what `%#v` does to a string). Printability is approximated with
/// Rust's control/whitespace classes.
pub(crate) fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c == ' ' || !(c.is_control() || c.is_whitespace()) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}
