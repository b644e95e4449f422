//! Sessions (`structs.Session`): the lease objects behind locks and leader election.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// What happens to the keys a session holds when it is invalidated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Behavior {
    #[default]
    Release,
    Delete,
}

impl Behavior {
    pub fn parse(text: &str) -> Option<Behavior> {
        match text {
            "" | "release" => Some(Behavior::Release),
            "delete" => Some(Behavior::Delete),
            _ => None,
        }
    }
}

/// A service check a session is tied to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceCheck {
    #[serde(rename = "ID")]
    pub id: String,
    pub namespace: String,
}

/// The check every session depends on unless told otherwise: the node's gossip health.
pub const SERF_HEALTH_CHECK: &str = "serfHealth";

/// Lock-delay bounds and default (Consul's `structs.MaxLockDelay` and the endpoint default).
pub const DEFAULT_LOCK_DELAY: Duration = Duration::from_secs(15);
pub const MAX_LOCK_DELAY: Duration = Duration::from_secs(60);
/// Session TTL ceiling (`SessionTTLMax`).
pub const SESSION_TTL_MAX: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Session {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub node: String,
    /// Nanoseconds, as Go's `time.Duration` marshals.
    pub lock_delay: u64,
    pub behavior: Behavior,
    #[serde(rename = "TTL")]
    pub ttl: String,
    pub node_checks: Option<Vec<String>>,
    pub service_checks: Option<Vec<ServiceCheck>>,
    pub create_index: u64,
    pub modify_index: u64,
}

impl Session {
    /// Every check whose critical state invalidates this session.
    pub fn all_check_ids(&self) -> impl Iterator<Item = &str> {
        let node = self.node_checks.iter().flatten().map(String::as_str);
        let service = self.service_checks.iter().flatten().map(|c| c.id.as_str());
        node.chain(service)
    }
}

/// The body of `PUT /v1/session/create`; every field optional, decoded case-insensitively.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct SessionCreateRequest {
    pub name: Option<String>,
    pub node: Option<String>,
    pub checks: Option<Vec<String>>,
    pub node_checks: Option<Vec<String>>,
    pub service_checks: Option<Vec<ServiceCheck>>,
    pub lock_delay: Option<Value>,
    pub behavior: Option<String>,
    #[serde(rename = "TTL")]
    pub ttl: Option<String>,
    pub namespace: Option<String>,
}

/// Decodes `LockDelay` the way Consul's `fixupLockDelay` does: a number below 1000 means
/// seconds (old clients sent `15`), a larger number means nanoseconds, a string is a Go
/// duration. The result is capped at 60 s.
pub fn parse_lock_delay(value: &Value) -> Result<Duration, String> {
    let delay = match value {
        Value::Null => DEFAULT_LOCK_DELAY,
        Value::Number(n) => {
            let raw = n.as_f64().ok_or_else(|| format!("invalid LockDelay {n}"))?;
            if raw < 0.0 {
                return Err(format!("invalid LockDelay {n}"));
            }
            if raw < 1000.0 {
                Duration::from_secs_f64(raw)
            } else {
                Duration::from_nanos(raw as u64)
            }
        }
        Value::String(text) => crate::duration::parse(text).map_err(|e| e.to_string())?,
        other => return Err(format!("invalid LockDelay {other}")),
    };
    Ok(delay.min(MAX_LOCK_DELAY))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lock_delay_quirks() {
        assert_eq!(parse_lock_delay(&json!(15)), Ok(Duration::from_secs(15)));
        assert_eq!(
            parse_lock_delay(&json!(2_000_000_000u64)),
            Ok(Duration::from_secs(2))
        );
        assert_eq!(
            parse_lock_delay(&json!("0.001s")),
            Ok(Duration::from_millis(1))
        );
        assert_eq!(parse_lock_delay(&json!("5m")), Ok(MAX_LOCK_DELAY));
        assert_eq!(parse_lock_delay(&json!(0)), Ok(Duration::ZERO));
        assert!(parse_lock_delay(&json!("abc")).is_err());
        assert!(parse_lock_delay(&json!([1])).is_err());
    }

    #[test]
    fn json_shape_matches_consul() {
        let session = Session {
            id: "id".into(),
            name: "n".into(),
            node: "node1".into(),
            lock_delay: 15_000_000_000,
            behavior: Behavior::Release,
            ttl: "".into(),
            node_checks: Some(vec![SERF_HEALTH_CHECK.into()]),
            service_checks: None,
            create_index: 1,
            modify_index: 1,
        };
        let text = serde_json::to_string(&session).expect("serializes");
        assert_eq!(
            text,
            r#"{"ID":"id","Name":"n","Node":"node1","LockDelay":15000000000,"Behavior":"release","TTL":"","NodeChecks":["serfHealth"],"ServiceChecks":null,"CreateIndex":1,"ModifyIndex":1}"#
        );
    }
}
