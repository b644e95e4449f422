//! Typed reads from the merged (already schema-checked) JSON config.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use serde_json::Value;

use crate::ConfigError;
use crate::duration::parse_go_duration;

/// A read-only view of the merged config, addressed by dotted paths.
pub(crate) struct View<'a>(pub &'a Value);

impl<'a> View<'a> {
    pub fn get(&self, path: &str) -> Option<&'a Value> {
        let mut cur = self.0;
        for part in path.split('.') {
            cur = cur.get(part)?;
        }
        (!cur.is_null()).then_some(cur)
    }

    pub fn str(&self, path: &str) -> Option<String> {
        self.get(path).and_then(Value::as_str).map(str::to_string)
    }

    /// A string that is unset when empty.
    pub fn nonempty(&self, path: &str) -> Option<String> {
        self.str(path).filter(|s| !s.is_empty())
    }

    pub fn str_or(&self, path: &str, default: &str) -> String {
        self.str(path).unwrap_or_else(|| default.to_string())
    }

    pub fn bool_or(&self, path: &str, default: bool) -> bool {
        self.get(path).and_then(Value::as_bool).unwrap_or(default)
    }

    pub fn bool(&self, path: &str) -> Option<bool> {
        self.get(path).and_then(Value::as_bool)
    }

    pub fn int(&self, path: &str) -> Option<i64> {
        self.get(path).and_then(Value::as_i64)
    }

    pub fn float(&self, path: &str) -> Option<f64> {
        self.get(path).and_then(Value::as_f64)
    }

    /// A non-negative integer, with Consul's message when negative.
    pub fn uint_or(&self, path: &str, default: u64) -> Result<u64, ConfigError> {
        match self.int(path) {
            None => Ok(default),
            Some(n) => u64::try_from(n).map_err(|_| {
                ConfigError::Invalid(format!(
                    "{path} cannot be {n}. Must be greater than or equal to zero"
                ))
            }),
        }
    }

    pub fn u32_or(&self, path: &str, default: u32) -> Result<u32, ConfigError> {
        let n = self.uint_or(path, u64::from(default))?;
        u32::try_from(n)
            .map_err(|_| ConfigError::Invalid(format!("{path} cannot be {n}: too large")))
    }

    pub fn dur_or(&self, path: &str, default: Duration) -> Duration {
        self.get(path)
            .and_then(Value::as_str)
            .and_then(|s| parse_go_duration(s).ok())
            .unwrap_or(default)
    }

    /// A port: unset → default; `<= 0` → disabled.
    pub fn port(&self, path: &str, default: Option<u16>) -> Option<u16> {
        match self.int(path) {
            None => default,
            Some(n) => u16::try_from(n).ok().filter(|p| *p > 0),
        }
    }

    pub fn ip(&self, path: &str) -> Option<IpAddr> {
        self.str(path).and_then(|s| s.trim().parse().ok())
    }

    /// Space-separated IPs; `unix://` entries are skipped.
    pub fn ips(&self, path: &str) -> Option<Vec<IpAddr>> {
        let s = self.str(path)?;
        Some(
            s.split_whitespace()
                .filter_map(|a| a.parse().ok())
                .collect(),
        )
    }

    pub fn list(&self, path: &str) -> Vec<Value> {
        self.get(path)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    pub fn strings(&self, path: &str) -> Vec<String> {
        self.list(path)
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    pub fn str_map(&self, path: &str) -> BTreeMap<String, String> {
        self.get(path)
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn dur_map(&self, path: &str) -> BTreeMap<String, Duration> {
        self.get(path)
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| {
                        let d = parse_go_duration(v.as_str()?).ok()?;
                        Some((k.clone(), d))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}
