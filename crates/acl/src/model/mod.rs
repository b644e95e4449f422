//! Policies, roles and tokens with Consul's JSON shapes (`structs.ACLPolicy`, `ACLRole`,
//! `ACLToken`): PascalCase names, `ID` spelled in capitals, `Hash` as base64 (`null` when
//! empty), empty lists omitted where Consul omits them, times in RFC 3339.
//!
//! Every field has a default, so request bodies may leave fields out; decode request bodies
//! with `proconsul_types::decode` to get Consul's case-insensitive field matching.

mod builtin;
mod identity;
mod time;

pub use builtin::{
    ANONYMOUS_TOKEN_ACCESSOR_ID, ANONYMOUS_TOKEN_DESCRIPTION, ANONYMOUS_TOKEN_SECRET_ID,
    GLOBAL_MANAGEMENT_DESCRIPTION, GLOBAL_MANAGEMENT_ID, GLOBAL_MANAGEMENT_NAME,
    GLOBAL_MANAGEMENT_RULES, GLOBAL_READ_ONLY_DESCRIPTION, GLOBAL_READ_ONLY_ID,
    GLOBAL_READ_ONLY_NAME, GLOBAL_READ_ONLY_RULES, RESERVED_ID_PREFIX, anonymous_token,
    builtin_policies, global_management_link, global_management_policy, global_read_only_policy,
    is_reserved_id,
};
pub use identity::{node_identity_rules, service_identity_rules};
pub use time::{TimeError, Timestamp};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::time::Duration;

/// A link from a token or role to a policy (`ACLTokenPolicyLink`); by ID once stored, by ID
/// or Name in requests.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyLink {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Name")]
    pub name: String,
}

/// A link from a token to a role (`ACLTokenRoleLink`).
pub type RoleLink = PolicyLink;

/// Grants what a service needs to register itself (`ACLServiceIdentity`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ServiceIdentity {
    pub service_name: String,
    /// Where the identity applies; empty: every datacenter.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub datacenters: Vec<String>,
}

/// Grants what a node's agent needs (`ACLNodeIdentity`); always tied to one datacenter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct NodeIdentity {
    pub node_name: String,
    pub datacenter: String,
}

/// A named set of rules (`ACLPolicy`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Policy {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub description: String,
    /// The rule text, HCL or JSON; see [`crate::rules`].
    pub rules: String,
    /// Where the policy applies; empty: every datacenter.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub datacenters: Vec<String>,
    #[serde(serialize_with = "ser_hash", deserialize_with = "de_hash")]
    pub hash: Vec<u8>,
    pub create_index: u64,
    pub modify_index: u64,
}

impl Policy {
    /// Does the policy apply in datacenter `dc`?
    pub fn applies_in(&self, dc: &str) -> bool {
        self.datacenters.is_empty() || self.datacenters.iter().any(|d| d == dc)
    }
}

/// A named bundle of policies and identities (`ACLRole`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Role {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicyLink>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub service_identities: Vec<ServiceIdentity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub node_identities: Vec<NodeIdentity>,
    #[serde(serialize_with = "ser_hash", deserialize_with = "de_hash")]
    pub hash: Vec<u8>,
    pub create_index: u64,
    pub modify_index: u64,
}

/// A token (`ACLToken`): the secret a client sends, and what it grants.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Token {
    #[serde(rename = "AccessorID")]
    pub accessor_id: String,
    #[serde(rename = "SecretID")]
    pub secret_id: String,
    pub description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicyLink>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleLink>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub service_identities: Vec<ServiceIdentity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub node_identities: Vec<NodeIdentity>,
    /// Local to this datacenter (not replicated).
    pub local: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub auth_method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_time: Option<Timestamp>,
    /// Create-time convenience (`"1h"` or nanoseconds); turned into `ExpirationTime` when the
    /// token is stored. Written as integer nanoseconds, like Go's `time.Duration`.
    #[serde(
        rename = "ExpirationTTL",
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_ttl",
        deserialize_with = "de_ttl"
    )]
    pub expiration_ttl: Option<Duration>,
    pub create_time: Timestamp,
    #[serde(serialize_with = "ser_hash", deserialize_with = "de_hash")]
    pub hash: Vec<u8>,
    pub create_index: u64,
    pub modify_index: u64,
}

impl Token {
    /// Consul's `IsExpired`: the expiration time lies strictly before `now`. A token without
    /// one (or with Go's zero time) never expires.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        match self.expiration_time {
            Some(at) if !at.is_zero() => at < now,
            _ => false,
        }
    }
}

fn ser_hash<S: Serializer>(hash: &[u8], s: S) -> Result<S::Ok, S::Error> {
    proconsul_types::kv::serialize_value(hash, s)
}

/// Base64 like Go's `[]byte`; text that is not base64 is kept as its bytes (Consul's token
/// decoder takes the string's bytes as they are).
fn de_hash<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    Ok(match text {
        None => Vec::new(),
        Some(text) => {
            let value = serde_json::Value::String(text.clone());
            proconsul_types::kv::deserialize_value(value).unwrap_or_else(|_| text.into_bytes())
        }
    })
}

fn ser_ttl<S: Serializer>(ttl: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match ttl {
        Some(d) => s.serialize_u64(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
        None => s.serialize_none(),
    }
}

fn de_ttl<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    let ttl = match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) if text.is_empty() => None,
        serde_json::Value::String(text) => Some(
            proconsul_types::duration::parse_go_duration(&text)
                .map_err(serde::de::Error::custom)?,
        ),
        serde_json::Value::Number(n) => {
            let nanos = n.as_f64().unwrap_or(0.0);
            if nanos < 0.0 {
                return Err(serde::de::Error::custom("ExpirationTTL cannot be negative"));
            }
            Some(Duration::from_nanos(nanos as u64))
        }
        _ => {
            return Err(serde::de::Error::custom(
                "ExpirationTTL: expected a duration",
            ));
        }
    };
    Ok(ttl.filter(|d| !d.is_zero()))
}

#[cfg(test)]
mod tests;
