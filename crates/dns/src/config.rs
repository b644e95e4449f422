//! The DNS interface's settings: Consul's `domain`, `alt_domain`, `recursors` and the
//! `dns_config { }` block, in plain std types so the agent can map its `RuntimeConfig` onto it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use crate::error::DnsError;

/// `dns_config.soa { }`: the numbers in the SOA record of the Consul zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoaConfig {
    pub refresh: u32,
    pub retry: u32,
    pub expire: u32,
    /// Also the TTL of the SOA record itself (Consul keeps them equal so negative caching
    /// and the SOA agree).
    pub min_ttl: u32,
}

impl Default for SoaConfig {
    fn default() -> Self {
        Self {
            refresh: 3600,
            retry: 600,
            expire: 86400,
            min_ttl: 0,
        }
    }
}

/// Order in which recursors are tried (`dns_config.recursor_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecursorStrategy {
    #[default]
    Sequential,
    Random,
}

/// Everything the DNS server needs from the agent configuration. Defaults are Consul's.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsConfig {
    /// Primary domain, e.g. `consul.` (a trailing dot is optional).
    pub domain: String,
    /// Optional second domain answered exactly like the primary one.
    pub alt_domain: Option<String>,
    /// Upstream servers for names outside our domains, tried per `recursor_strategy`.
    pub recursors: Vec<SocketAddr>,
    pub recursor_strategy: RecursorStrategy,
    pub recursor_timeout: Duration,
    pub node_ttl: Duration,
    /// Service name, `prefix*` or `*` → TTL. Exact names win over prefixes, longer prefixes
    /// over shorter ones.
    pub service_ttl: BTreeMap<String, Duration>,
    pub only_passing: bool,
    pub udp_answer_limit: u32,
    /// 0 = unlimited.
    pub a_record_limit: u32,
    pub enable_truncate: bool,
    pub enable_additional_node_meta_txt: bool,
    pub allow_stale: bool,
    pub max_stale: Duration,
    pub soa: SoaConfig,
}

impl Default for DnsConfig {
    fn default() -> Self {
        Self {
            domain: "consul.".to_string(),
            alt_domain: None,
            recursors: Vec::new(),
            recursor_strategy: RecursorStrategy::Sequential,
            recursor_timeout: Duration::from_secs(2),
            node_ttl: Duration::ZERO,
            service_ttl: BTreeMap::new(),
            only_passing: false,
            udp_answer_limit: 3,
            a_record_limit: 0,
            enable_truncate: false,
            enable_additional_node_meta_txt: true,
            allow_stale: true,
            max_stale: Duration::from_secs(87600 * 3600),
            soa: SoaConfig::default(),
        }
    }
}

impl DnsConfig {
    /// TTL in seconds for answers about `service`: exact key, else the longest matching
    /// `prefix*` key (`*` alone matches everything), else 0.
    pub fn service_ttl_secs(&self, service: &str) -> u32 {
        if let Some(ttl) = self.service_ttl.get(service) {
            return secs(*ttl);
        }
        self.service_ttl
            .iter()
            .filter_map(|(key, ttl)| {
                let prefix = key.strip_suffix('*')?;
                service.starts_with(prefix).then_some((prefix.len(), *ttl))
            })
            .max_by_key(|(len, _)| *len)
            .map_or(0, |(_, ttl)| secs(ttl))
    }

    pub fn node_ttl_secs(&self) -> u32 {
        secs(self.node_ttl)
    }

    /// Rejects settings the server cannot run with; called once before binding.
    pub fn validate(&self) -> Result<(), DnsError> {
        crate::name::Domains::new(&self.domain, self.alt_domain.as_deref())?;
        if self.recursor_timeout.is_zero() {
            return Err(DnsError::Config("recursor_timeout must be positive".into()));
        }
        Ok(())
    }
}

/// DNS TTLs are whole seconds; durations beyond u32 saturate.
fn secs(d: Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_ttl_prefers_exact_then_longest_prefix() {
        let mut cfg = DnsConfig::default();
        for (k, v) in [("*", 5), ("web*", 10), ("web-api*", 20), ("web", 30)] {
            cfg.service_ttl.insert(k.into(), Duration::from_secs(v));
        }
        assert_eq!(cfg.service_ttl_secs("web"), 30);
        assert_eq!(cfg.service_ttl_secs("web-api-v2"), 20);
        assert_eq!(cfg.service_ttl_secs("webby"), 10);
        assert_eq!(cfg.service_ttl_secs("db"), 5);
        assert_eq!(DnsConfig::default().service_ttl_secs("db"), 0);
    }
}
