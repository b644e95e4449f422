//! A small radix tree over resource names holding, per name, an exact-match level and a
//! prefix level: the compiled form of one resource kind's rules.
//!
//! Built once per token, then only read. A lookup walks at most one node per rule on the
//! path and compares label bytes, so its cost depends on the name's length, not on the number
//! of rules. Each node also records whether any rule at or below it fails to grant `write`,
//! which answers "may I write every key under this prefix" without walking the subtree.

use crate::access::{Access, Decision};

#[derive(Debug, Clone, Default)]
pub(crate) struct RadixTree {
    root: Node,
}

#[derive(Debug, Clone, Default)]
struct Node {
    /// The bytes this node adds to its parent's path; empty only for the root.
    label: Box<[u8]>,
    exact: Option<Access>,
    prefix: Option<Access>,
    /// Some rule (exact or prefix) at this node or below does not grant `write`.
    non_write_below: bool,
    /// Sorted by first label byte; first bytes are distinct.
    children: Vec<Node>,
}

impl Node {
    /// The child whose label starts with `byte`.
    fn child(&self, byte: u8) -> Option<&Node> {
        self.children
            .binary_search_by_key(&byte, |c| c.label.first().copied().unwrap_or(0))
            .ok()
            .and_then(|pos| self.children.get(pos))
    }

    fn finish(&mut self) -> bool {
        let mut below = [self.exact, self.prefix]
            .into_iter()
            .flatten()
            .any(|a| a != Access::Write);
        for child in &mut self.children {
            below |= child.finish();
        }
        self.non_write_below = below;
        below
    }
}

fn insert(node: &mut Node, key: &[u8], prefix: bool, access: Access) {
    let Some(&first) = key.first() else {
        let slot = if prefix {
            &mut node.prefix
        } else {
            &mut node.exact
        };
        *slot = Access::merge_opt(*slot, Some(access));
        return;
    };
    let found = node
        .children
        .binary_search_by_key(&first, |c| c.label.first().copied().unwrap_or(0));
    match found {
        Err(pos) => {
            let mut leaf = Node {
                label: key.into(),
                ..Node::default()
            };
            insert(&mut leaf, &[], prefix, access);
            node.children.insert(pos, leaf);
        }
        Ok(pos) => {
            let Some(child) = node.children.get_mut(pos) else {
                return;
            };
            let common = child
                .label
                .iter()
                .zip(key)
                .take_while(|(a, b)| a == b)
                .count();
            if common < child.label.len() {
                // Split: a new node for the shared part, the old child below it.
                let mut old = std::mem::take(child);
                let (head, tail) = old.label.split_at(common);
                let head: Box<[u8]> = head.into();
                old.label = tail.into();
                *child = Node {
                    label: head,
                    children: vec![old],
                    ..Node::default()
                };
            }
            insert(child, key.get(common..).unwrap_or_default(), prefix, access);
        }
    }
}

impl RadixTree {
    /// Adds a rule; a second rule on the same name and form merges with the first
    /// ([`Access::merge`]: `deny` wins, else the more permissive). Call [`RadixTree::finish`]
    /// after the last insert.
    pub(crate) fn insert(&mut self, name: &str, prefix: bool, access: Access) {
        insert(&mut self.root, name.as_bytes(), prefix, access);
    }

    /// Computes the per-node summaries; required before [`RadixTree::write_prefix`].
    pub(crate) fn finish(&mut self) {
        self.root.finish();
    }

    /// The rule that governs `name`: an exact rule on `name`, else the longest prefix rule
    /// that `name` starts with, else `None`.
    pub(crate) fn lookup(&self, name: &str) -> Option<Access> {
        let mut node = &self.root;
        let mut rest = name.as_bytes();
        let mut best = None;
        loop {
            let Some(&first) = rest.first() else {
                return node.exact.or(node.prefix).or(best);
            };
            if node.prefix.is_some() {
                best = node.prefix;
            }
            match node.child(first) {
                Some(child) if rest.starts_with(&child.label) => {
                    rest = rest.get(child.label.len()..).unwrap_or_default();
                    node = child;
                }
                _ => return best,
            }
        }
    }

    /// May every name starting with `prefix` be written (recursive delete)? Consul's
    /// `KeyWritePrefix`: `Deny` if the longest prefix rule covering `prefix` is not `write`,
    /// or if any rule on a name starting with `prefix` is not `write`; otherwise `Allow` when
    /// a covering prefix rule exists and `Default` when none does.
    pub(crate) fn write_prefix(&self, prefix: &str) -> Decision {
        let mut node = &self.root;
        let mut rest = prefix.as_bytes();
        let mut base = Decision::Default;
        let below = loop {
            if let Some(access) = node.prefix {
                base = access.enforce(crate::access::Need::Write);
            }
            let Some(&first) = rest.first() else {
                break node.non_write_below;
            };
            match node.child(first) {
                Some(child) if rest.starts_with(&child.label) => {
                    rest = rest.get(child.label.len()..).unwrap_or_default();
                    node = child;
                }
                // `prefix` ends inside the child's label: its whole subtree is under `prefix`.
                Some(child) if child.label.starts_with(rest) => break child.non_write_below,
                _ => break false,
            }
        };
        if below { Decision::Deny } else { base }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Access::*;

    fn tree(rules: &[(&str, bool, Access)]) -> RadixTree {
        let mut t = RadixTree::default();
        for (name, prefix, access) in rules {
            t.insert(name, *prefix, *access);
        }
        t.finish();
        t
    }

    #[test]
    fn exact_beats_prefix_and_longest_prefix_wins() {
        let t = tree(&[
            ("", true, Read),
            ("foo/", true, Write),
            ("foo/private/", true, Deny),
            ("foo/bar/secret", false, Deny),
            ("foo/private/", false, List),
        ]);
        assert_eq!(t.lookup("other"), Some(Read));
        assert_eq!(t.lookup(""), Some(Read));
        assert_eq!(t.lookup("foo/bar"), Some(Write));
        assert_eq!(t.lookup("foo/bar/secret"), Some(Deny));
        assert_eq!(t.lookup("foo/bar/secret2"), Some(Write));
        assert_eq!(t.lookup("foo/private/x"), Some(Deny));
        assert_eq!(t.lookup("foo/private/"), Some(List));
        assert_eq!(t.lookup("foo"), Some(Read));
    }

    #[test]
    fn no_rule_is_none() {
        let t = tree(&[("abc", true, Write), ("abd", false, Read)]);
        assert_eq!(t.lookup("ab"), None);
        assert_eq!(t.lookup("abd"), Some(Read));
        assert_eq!(t.lookup("abdx"), None);
        assert_eq!(t.lookup("abcx"), Some(Write));
    }

    #[test]
    fn same_name_rules_merge() {
        let t = tree(&[("a", true, Write), ("a", true, Deny), ("a", true, Read)]);
        assert_eq!(t.lookup("ab"), Some(Deny));
        let t = tree(&[("a", false, Read), ("a", false, List)]);
        assert_eq!(t.lookup("a"), Some(List));
    }

    #[test]
    fn write_prefix_checks_everything_below() {
        let t = tree(&[("", true, Write), ("app/secret/", true, Deny)]);
        assert_eq!(t.write_prefix("app/"), Decision::Deny);
        assert_eq!(t.write_prefix("app/se"), Decision::Deny);
        assert_eq!(t.write_prefix("app/secret/x"), Decision::Deny);
        assert_eq!(t.write_prefix("other/"), Decision::Allow);
        assert_eq!(t.write_prefix("app/public/"), Decision::Allow);
        let t = tree(&[("app/", true, Write), ("app/ro", false, Read)]);
        assert_eq!(t.write_prefix("app/"), Decision::Deny);
        assert_eq!(t.write_prefix("app/rw"), Decision::Allow);
        assert_eq!(t.write_prefix("x"), Decision::Default);
        let t = tree(&[("app/x", false, Write)]);
        assert_eq!(t.write_prefix("app/"), Decision::Default);
    }
}
