//! Built-in policies and the anonymous token, with Consul's IDs, names and rules.

use super::{Policy, PolicyLink, Token};

/// IDs starting with this are reserved for built-in objects.
pub const RESERVED_ID_PREFIX: &str = "00000000-0000-0000-0000-0000000000";

pub const GLOBAL_MANAGEMENT_ID: &str = "00000000-0000-0000-0000-000000000001";
pub const GLOBAL_MANAGEMENT_NAME: &str = "global-management";
pub const GLOBAL_MANAGEMENT_DESCRIPTION: &str = "Builtin Policy that grants unlimited access";
/// Write on everything. Its rules cannot be changed; the policy cannot be deleted.
pub const GLOBAL_MANAGEMENT_RULES: &str = r#"
acl = "write"
agent_prefix "" {
	policy = "write"
}
event_prefix "" {
	policy = "write"
}
key_prefix "" {
	policy = "write"
}
keyring = "write"
node_prefix "" {
	policy = "write"
}
operator = "write"
mesh = "write"
peering = "write"
query_prefix "" {
	policy = "write"
}
service_prefix "" {
	policy = "write"
	intentions = "write"
}
session_prefix "" {
	policy = "write"
}"#;

pub const GLOBAL_READ_ONLY_ID: &str = "00000000-0000-0000-0000-000000000002";
pub const GLOBAL_READ_ONLY_NAME: &str = "builtin/global-read-only";
pub const GLOBAL_READ_ONLY_DESCRIPTION: &str =
    "Builtin Policy that grants unlimited read-only access to all components";
/// Read on everything (Consul 1.16+).
pub const GLOBAL_READ_ONLY_RULES: &str = r#"
acl = "read"
agent_prefix "" {
	policy = "read"
}
event_prefix "" {
	policy = "read"
}
key_prefix "" {
	policy = "read"
}
keyring = "read"
node_prefix "" {
	policy = "read"
}
operator = "read"
mesh = "read"
peering = "read"
query_prefix "" {
	policy = "read"
}
service_prefix "" {
	policy = "read"
	intentions = "read"
}
session_prefix "" {
	policy = "read"
}"#;

/// The anonymous token: used for requests without a token (after `acl.tokens.default`).
pub const ANONYMOUS_TOKEN_ACCESSOR_ID: &str = "00000000-0000-0000-0000-000000000002";
pub const ANONYMOUS_TOKEN_SECRET_ID: &str = "anonymous";
pub const ANONYMOUS_TOKEN_DESCRIPTION: &str = "Anonymous Token";

/// Is `id` in the reserved built-in range?
pub fn is_reserved_id(id: &str) -> bool {
    id.starts_with(RESERVED_ID_PREFIX)
}

/// The `global-management` policy as first created (indexes and hash left to the store).
pub fn global_management_policy() -> Policy {
    Policy {
        id: GLOBAL_MANAGEMENT_ID.to_string(),
        name: GLOBAL_MANAGEMENT_NAME.to_string(),
        description: GLOBAL_MANAGEMENT_DESCRIPTION.to_string(),
        rules: GLOBAL_MANAGEMENT_RULES.to_string(),
        ..Policy::default()
    }
}

/// The `builtin/global-read-only` policy.
pub fn global_read_only_policy() -> Policy {
    Policy {
        id: GLOBAL_READ_ONLY_ID.to_string(),
        name: GLOBAL_READ_ONLY_NAME.to_string(),
        description: GLOBAL_READ_ONLY_DESCRIPTION.to_string(),
        rules: GLOBAL_READ_ONLY_RULES.to_string(),
        ..Policy::default()
    }
}

/// Every built-in policy.
pub fn builtin_policies() -> Vec<Policy> {
    vec![global_management_policy(), global_read_only_policy()]
}

/// The anonymous token as first created: no policies, so the default policy decides.
pub fn anonymous_token() -> Token {
    Token {
        accessor_id: ANONYMOUS_TOKEN_ACCESSOR_ID.to_string(),
        secret_id: ANONYMOUS_TOKEN_SECRET_ID.to_string(),
        description: ANONYMOUS_TOKEN_DESCRIPTION.to_string(),
        ..Token::default()
    }
}

/// A link to `global-management`, as bootstrap tokens carry.
pub fn global_management_link() -> PolicyLink {
    PolicyLink {
        id: GLOBAL_MANAGEMENT_ID.to_string(),
        name: GLOBAL_MANAGEMENT_NAME.to_string(),
    }
}
