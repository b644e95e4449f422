//! The query-name grammar of Consul's DNS interface (pure): which names we answer, and what
//! they ask for. Input is the question's labels, leftmost first, as they came off the wire.
//!
//! ```text
//! [<tag>.]<service>.service[.<dc>].<domain>      Service
//! _<service>._<tag>[.service][.<dc>].<domain>    Rfc2782 (`.service` optional for SRV)
//! <node>.node[.<dc>].<domain>                    Node (dots allowed in <node>)
//! <name>.query[.<dc>].<domain>                   PreparedQuery
//! <hex ip>.addr[.<dc>].<domain>                  Addr
//! <reversed ip>.in-addr.arpa / ip6.arpa          Ptr
//! ```
//! `[.<dc>]` may also be written `.<dc>.dc`. Anything else under the domain is `Unknown`
//! (answered NXDOMAIN), names elsewhere are not ours (`parse` returns `None`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::DnsError;

/// DNS allows at most 127 labels in 255 bytes; anything longer is not a real name.
const MAX_LABELS: usize = 127;
const MAX_LABEL_LEN: usize = 63;

/// The configured domains as lowercase labels (root excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domains {
    primary: Vec<String>,
    alt: Option<Vec<String>>,
}

impl Domains {
    pub fn new(domain: &str, alt_domain: Option<&str>) -> Result<Self, DnsError> {
        let primary = domain_labels(domain)?;
        let alt = alt_domain.map(domain_labels).transpose()?;
        Ok(Self { primary, alt })
    }

    /// The domain's labels, for building owner names of answers.
    pub fn labels(&self, zone: Zone) -> &[String] {
        match (zone, &self.alt) {
            (Zone::Alt, Some(alt)) => alt,
            _ => &self.primary,
        }
    }
}

fn domain_labels(domain: &str) -> Result<Vec<String>, DnsError> {
    let trimmed = domain.trim_end_matches('.');
    if trimmed.is_empty() {
        return Err(DnsError::Config(format!(
            "domain {domain:?} is empty or the root"
        )));
    }
    let labels: Vec<String> = trimmed.split('.').map(str::to_ascii_lowercase).collect();
    let bad = |l: &String| l.is_empty() || l.len() > MAX_LABEL_LEN;
    if labels.iter().any(bad) || labels.len() > MAX_LABELS {
        return Err(DnsError::Config(format!(
            "domain {domain:?} is not a valid DNS name"
        )));
    }
    Ok(labels)
}

/// Which of our zones a name fell in: answers are named in the zone that was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Primary,
    Alt,
    /// `in-addr.arpa.` / `ip6.arpa.`; answers name nodes in the primary domain.
    Reverse,
}

/// What a name under one of our zones asks for. Strings are lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// The domain itself (`consul.`): SOA and NS live here.
    Apex,
    Service {
        name: String,
        tag: Option<String>,
        dc: Option<String>,
    },
    /// RFC 2782 `_name._tag`; `_tcp` means no tag filter.
    Rfc2782 {
        name: String,
        tag: Option<String>,
        dc: Option<String>,
    },
    Node {
        name: String,
        dc: Option<String>,
    },
    PreparedQuery {
        name: String,
        dc: Option<String>,
    },
    Addr(IpAddr),
    Ptr(IpAddr),
    /// Under our zone but not a valid Consul name: NXDOMAIN.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub zone: Zone,
    pub query: Query,
}

/// Classifies a question name. `srv` is whether the question type is SRV, which makes the
/// `.service` label optional for RFC 2782 names (as in Consul).
pub fn parse<L: AsRef<[u8]>>(labels: &[L], srv: bool, domains: &Domains) -> Option<Parsed> {
    let lower: Vec<String> = labels
        .iter()
        .map(|l| String::from_utf8_lossy(l.as_ref()).to_ascii_lowercase())
        .collect();
    if let Some(query) = parse_reverse(&lower) {
        return Some(Parsed {
            zone: Zone::Reverse,
            query,
        });
    }
    let (zone, rest) = strip_domain(&lower, domains)?;
    let too_long = lower.len() > MAX_LABELS
        || lower
            .iter()
            .any(|l| l.is_empty() || l.len() > MAX_LABEL_LEN);
    let query = if too_long {
        Query::Unknown
    } else {
        parse_local(rest, srv)
    };
    Some(Parsed { zone, query })
}

/// Removes the longest matching domain suffix (a name can match both when one domain is a
/// subdomain of the other; the longer one is the intended zone).
fn strip_domain<'a>(labels: &'a [String], domains: &Domains) -> Option<(Zone, &'a [String])> {
    let strip = |domain: &[String]| {
        let start = labels.len().checked_sub(domain.len())?;
        (labels[start..] == *domain).then_some(&labels[..start])
    };
    let primary = strip(&domains.primary).map(|rest| (Zone::Primary, rest));
    let alt = domains
        .alt
        .as_deref()
        .and_then(strip)
        .map(|rest| (Zone::Alt, rest));
    match (primary, alt) {
        (Some(p), Some(a)) => Some(if a.1.len() < p.1.len() { a } else { p }),
        (p, a) => p.or(a),
    }
}

/// Kind labels that split a name into `<parts>.<kind>.<suffixes>`.
const KINDS: [&str; 7] = [
    "service", "connect", "virtual", "ingress", "node", "query", "addr",
];

/// Parses the labels left of the domain (Consul scans right to left for the first kind label).
fn parse_local(labels: &[String], srv: bool) -> Query {
    if labels.is_empty() {
        return Query::Apex;
    }
    for i in (0..labels.len()).rev() {
        let label = labels[i].as_str();
        if KINDS.contains(&label) {
            return parse_kind(label, &labels[..i], &labels[i + 1..]);
        }
        // For SRV questions `_name._tag[.dc]` needs no `.service` label.
        if srv && label.starts_with('_') {
            return parse_kind("service", &labels[..=i], &labels[i + 1..]);
        }
    }
    Query::Unknown
}

fn parse_kind(kind: &str, parts: &[String], suffixes: &[String]) -> Query {
    if parts.is_empty() {
        return Query::Unknown;
    }
    match kind {
        "service" => match datacenter(suffixes) {
            Some(dc) => service(parts, dc),
            None => Query::Unknown,
        },
        "node" => match datacenter(suffixes) {
            Some(dc) => Query::Node {
                name: parts.join("."),
                dc,
            },
            None => Query::Unknown,
        },
        "query" if suffixes.len() <= 1 => Query::PreparedQuery {
            name: prepared_query_name(parts),
            dc: suffixes.first().cloned(),
        },
        // Consul ignores whatever follows `.addr`.
        "addr" if parts.len() == 1 => decode_hex_ip(&parts[0]).map_or(Query::Unknown, Query::Addr),
        // connect / ingress / virtual need the mesh; answered NXDOMAIN until it exists.
        _ => Query::Unknown,
    }
}

/// `[]` → default DC, `[dc]`, `[dc, "dc"]`; `peer` and enterprise forms are not served.
fn datacenter(suffixes: &[String]) -> Option<Option<String>> {
    match suffixes {
        [] => Some(None),
        [dc] => Some(Some(dc.clone())),
        [dc, kind] if kind == "dc" => Some(Some(dc.clone())),
        _ => None,
    }
}

fn service(parts: &[String], dc: Option<String>) -> Query {
    if let [name, tag] = parts
        && let (Some(name), Some(tag)) = (name.strip_prefix('_'), tag.strip_prefix('_'))
    {
        // Only `_tcp` is special ("any tag"); `_udp` filters on tag `udp`, like Consul.
        let tag = (tag != "tcp" && !tag.is_empty()).then(|| tag.to_string());
        return Query::Rfc2782 {
            name: name.to_string(),
            tag,
            dc,
        };
    }
    let Some((name, tags)) = parts.split_last() else {
        return Query::Unknown;
    };
    let tag = (!tags.is_empty()).then(|| tags.join("."));
    Query::Service {
        name: name.clone(),
        tag,
        dc,
    }
}

/// `_<name>._<proto>` (protocol ignored) or a plain name that may contain dots.
fn prepared_query_name(parts: &[String]) -> String {
    let rfc2782 =
        parts.len() >= 2 && parts[0].starts_with('_') && parts[parts.len() - 1].starts_with('_');
    if rfc2782 {
        let joined = parts[..parts.len() - 1].join(".");
        joined.strip_prefix('_').unwrap_or(&joined).to_string()
    } else {
        parts.join(".")
    }
}

/// 8 hex digits → IPv4, 32 → IPv6.
pub fn decode_hex_ip(label: &str) -> Option<IpAddr> {
    let bytes = decode_hex(label)?;
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes)
            .ok()
            .map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        16 => <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|b| IpAddr::V6(Ipv6Addr::from(b))),
        _ => None,
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The `<hex>` label Consul uses for service addresses in SRV targets.
pub fn encode_hex_ip(ip: IpAddr) -> String {
    let bytes = match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `d.c.b.a.in-addr.arpa` / 32 nibbles `.ip6.arpa`. `None` when the name is not under
/// either reverse zone; `Some(Unknown)` when it is but does not spell a full address.
fn parse_reverse(labels: &[String]) -> Option<Query> {
    let n = labels.len();
    if n < 2 || labels[n - 1] != "arpa" {
        return None;
    }
    let ip = match labels[n - 2].as_str() {
        "in-addr" => reverse_v4(&labels[..n - 2]),
        "ip6" => reverse_v6(&labels[..n - 2]),
        _ => return None,
    };
    Some(ip.map_or(Query::Unknown, Query::Ptr))
}

fn reverse_v4(labels: &[String]) -> Option<IpAddr> {
    if labels.len() != 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (i, label) in labels.iter().rev().enumerate() {
        if label.is_empty() || label.len() > 3 || !label.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        octets[i] = label.parse().ok()?;
    }
    Some(IpAddr::V4(Ipv4Addr::from(octets)))
}

fn reverse_v6(labels: &[String]) -> Option<IpAddr> {
    if labels.len() != 32 {
        return None;
    }
    let mut octets = [0u8; 16];
    for (i, label) in labels.iter().rev().enumerate() {
        if label.len() != 1 {
            return None;
        }
        let nibble = u8::from_str_radix(label, 16).ok()?;
        octets[i / 2] |= if i % 2 == 0 { nibble << 4 } else { nibble };
    }
    Some(IpAddr::V6(Ipv6Addr::from(octets)))
}

#[cfg(test)]
mod tests;
