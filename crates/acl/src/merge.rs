//! Merging the rules of several policies into one (Consul's `MergePolicies`).
//!
//! Rules are merged per resource kind, per form (exact or prefix) and per name: of two rules
//! on the same `key_prefix "app/"`, `deny` wins, otherwise the more permissive level
//! (`write` > `list` > `read`). Rules on different names are *not* merged: a `write` on
//! `key_prefix "app/"` in one policy still beats a `deny` on `key_prefix ""` in another for
//! `app/x`, because the longest prefix decides. A service rule's `intentions` merges the same
//! way, separately from its `policy`. Unlabelled resources (`acl`, `operator`, ...) merge
//! with the same order.

use crate::access::Access;
use crate::rules::{Kind, Rules, Single};
use std::collections::BTreeMap;

/// The merged level of one (kind, form, name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merged {
    pub access: Access,
    /// Explicit `intentions` (service rules only).
    pub intentions: Option<Access>,
}

impl Merged {
    /// The effective intentions level of a service rule: the explicit one, else `read` for
    /// `read`/`write` (and `list`) rules and `deny` for `deny` rules.
    pub fn effective_intentions(&self) -> Access {
        self.intentions.unwrap_or(match self.access {
            Access::Deny => Access::Deny,
            _ => Access::Read,
        })
    }
}

/// The rules of several policies merged; keys are (kind, prefix form, name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergedRules {
    pub labelled: BTreeMap<(Kind, bool, String), Merged>,
    pub singles: BTreeMap<SingleKey, Access>,
}

/// [`Single`] as an ordered map key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SingleKey(u8);

impl From<Single> for SingleKey {
    fn from(s: Single) -> Self {
        SingleKey(match s {
            Single::Acl => 0,
            Single::Keyring => 1,
            Single::Operator => 2,
            Single::Mesh => 3,
            Single::Peering => 4,
        })
    }
}

impl MergedRules {
    /// Merges the given policies' rules.
    pub fn merge<'a>(policies: impl IntoIterator<Item = &'a Rules>) -> MergedRules {
        let mut out = MergedRules::default();
        for rules in policies {
            out.add(rules);
        }
        out
    }

    /// Merges one more policy in.
    pub fn add(&mut self, rules: &Rules) {
        for rule in &rules.rules {
            let key = (rule.kind, rule.prefix, rule.name.clone());
            self.labelled
                .entry(key)
                .and_modify(|m| {
                    m.access = m.access.merge(rule.access);
                    m.intentions = Access::merge_opt(m.intentions, rule.intentions);
                })
                .or_insert(Merged {
                    access: rule.access,
                    intentions: rule.intentions,
                });
        }
        for which in Single::ALL {
            if let Some(access) = rules.single(which) {
                self.singles
                    .entry(which.into())
                    .and_modify(|a| *a = a.merge(access))
                    .or_insert(access);
            }
        }
    }

    pub fn single(&self, which: Single) -> Option<Access> {
        self.singles.get(&which.into()).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_wins_on_the_same_name_only() {
        let a = Rules::parse("key_prefix \"\" { policy = \"deny\" }\nacl = \"write\"").expect("a");
        let b = Rules::parse(
            "key_prefix \"\" { policy = \"write\" }\nkey_prefix \"app/\" { policy = \"write\" }\nacl = \"read\"",
        )
        .expect("b");
        let m = MergedRules::merge([&a, &b]);
        let get = |name: &str| {
            m.labelled
                .get(&(Kind::Key, true, name.to_string()))
                .copied()
        };
        assert_eq!(get("").map(|m| m.access), Some(Access::Deny));
        assert_eq!(get("app/").map(|m| m.access), Some(Access::Write));
        assert_eq!(m.single(Single::Acl), Some(Access::Write));
        assert_eq!(m.single(Single::Operator), None);
    }

    #[test]
    fn intentions_merge_separately_and_default_from_policy() {
        let a = Rules::parse("service \"web\" { policy = \"write\" }").expect("a");
        let b = Rules::parse("service \"web\" { policy = \"read\"\nintentions = \"write\" }")
            .expect("b");
        let m = MergedRules::merge([&a, &b]);
        let web = m.labelled[&(Kind::Service, false, "web".to_string())];
        assert_eq!(web.access, Access::Write);
        assert_eq!(web.effective_intentions(), Access::Write);
        let d = Merged {
            access: Access::Deny,
            intentions: None,
        };
        assert_eq!(d.effective_intentions(), Access::Deny);
        let r = Merged {
            access: Access::Write,
            intentions: None,
        };
        assert_eq!(r.effective_intentions(), Access::Read);
    }
}
