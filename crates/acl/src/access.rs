//! Access levels (`deny`, `read`, `list`, `write`), the permission a check needs, and the
//! three-valued decision an authorizer layer returns.

use std::fmt;

/// A rule's disposition, as written in `policy = "..."`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    Deny,
    Read,
    /// Recursive listing of keys; valid on `key`/`key_prefix` rules only.
    List,
    Write,
}

impl Access {
    /// Parses a level the way Consul does (`AccessLevelFromString`): case-insensitive.
    pub fn parse(text: &str) -> Option<Access> {
        match text.to_ascii_lowercase().as_str() {
            "deny" => Some(Access::Deny),
            "read" => Some(Access::Read),
            "list" => Some(Access::List),
            "write" => Some(Access::Write),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Access::Deny => "deny",
            Access::Read => "read",
            Access::List => "list",
            Access::Write => "write",
        }
    }

    /// Rank in Consul's merge order (`takesPrecedenceOver`): deny > write > list > read.
    fn merge_rank(self) -> u8 {
        match self {
            Access::Read => 1,
            Access::List => 2,
            Access::Write => 3,
            Access::Deny => 4,
        }
    }

    /// Combines two rules on the same resource name from different policies: `deny` wins,
    /// otherwise the more permissive level.
    pub fn merge(self, other: Access) -> Access {
        if other.merge_rank() > self.merge_rank() {
            other
        } else {
            self
        }
    }

    /// Merges optional levels (an unset field loses to any set one).
    pub fn merge_opt(a: Option<Access>, b: Option<Access>) -> Option<Access> {
        match (a, b) {
            (Some(a), Some(b)) => Some(a.merge(b)),
            (a, None) => a,
            (None, b) => b,
        }
    }

    /// What this rule decides for a check needing `need` (Consul's `enforce`): `write` grants
    /// everything, `list` grants list and read, `read` grants read, `deny` denies.
    pub fn enforce(self, need: Need) -> Decision {
        let allowed = match self {
            Access::Write => true,
            Access::List => matches!(need, Need::List | Need::Read),
            Access::Read => need == Need::Read,
            Access::Deny => false,
        };
        if allowed {
            Decision::Allow
        } else {
            Decision::Deny
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The permission a check requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Need {
    Read,
    List,
    Write,
}

/// One layer's answer: allow, deny, or no opinion (ask the next layer, finally the default
/// policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Allow,
    Deny,
    Default,
}

impl Decision {
    /// Resolves `Default` with the given fallback.
    pub fn or(self, fallback: bool) -> bool {
        match self {
            Decision::Allow => true,
            Decision::Deny => false,
            Decision::Default => fallback,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_order_is_deny_write_list_read() {
        use Access::*;
        assert_eq!(Read.merge(Write), Write);
        assert_eq!(Write.merge(Deny), Deny);
        assert_eq!(Deny.merge(Write), Deny);
        assert_eq!(List.merge(Read), List);
        assert_eq!(List.merge(Write), Write);
        assert_eq!(Access::merge_opt(None, Some(Read)), Some(Read));
        assert_eq!(Access::merge_opt(None, None), None);
    }

    #[test]
    fn enforce_matches_consul() {
        use Access::*;
        assert_eq!(Write.enforce(Need::List), Decision::Allow);
        assert_eq!(List.enforce(Need::Read), Decision::Allow);
        assert_eq!(List.enforce(Need::Write), Decision::Deny);
        assert_eq!(Read.enforce(Need::List), Decision::Deny);
        assert_eq!(Deny.enforce(Need::Read), Decision::Deny);
    }

    #[test]
    fn parse_is_case_insensitive() {
        assert_eq!(Access::parse("WRITE"), Some(Access::Write));
        assert_eq!(Access::parse("nope"), None);
        assert_eq!(Access::parse(""), None);
    }
}
