//! Building single resource records the way Consul shapes them (pure helpers for `answer`).

use std::collections::BTreeMap;
use std::net::IpAddr;

use hickory_proto::rr::rdata::{A, AAAA, CNAME, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// A TXT character-string holds at most 255 bytes.
const TXT_CHUNK: usize = 255;

/// Builds an absolute name from dotted text parts followed by the zone's labels, e.g.
/// (`["web01", "node", "dc1"]`, `["consul"]`). Dots inside a part (node names may contain
/// them) split it into labels. `None` if any label is empty or longer than 63 bytes.
pub fn build_name(parts: &[&str], zone: &[String]) -> Option<Name> {
    let labels = parts
        .iter()
        .flat_map(|p| p.split('.'))
        .chain(zone.iter().map(String::as_str));
    let mut bytes: Vec<&[u8]> = Vec::new();
    for label in labels {
        if label.is_empty() {
            return None;
        }
        bytes.push(label.as_bytes());
    }
    Name::from_labels(bytes).ok()
}

/// Whether an address of this family answers a question of `qtype`. Consul also returns
/// addresses for SRV (as additional records), ANY, NS and, oddly, TXT questions.
fn family_wanted(ip: IpAddr, qtype: RecordType) -> bool {
    let shared = matches!(
        qtype,
        RecordType::SRV | RecordType::ANY | RecordType::NS | RecordType::TXT
    );
    match ip {
        IpAddr::V4(_) => shared || qtype == RecordType::A,
        IpAddr::V6(_) => shared || qtype == RecordType::AAAA,
    }
}

/// A/AAAA for an IP, or a CNAME for a hostname address; empty when the address family
/// does not fit the question or the hostname is not a valid DNS name.
pub fn address_records(owner: &Name, address: &str, qtype: RecordType, ttl: u32) -> Vec<Record> {
    match address.parse::<IpAddr>() {
        Ok(ip) => ip_record(owner, ip, qtype, ttl).into_iter().collect(),
        Err(_) => match hostname(address) {
            Some(target) => vec![Record::from_rdata(
                owner.clone(),
                ttl,
                RData::CNAME(CNAME(target)),
            )],
            None => Vec::new(),
        },
    }
}

pub fn ip_record(owner: &Name, ip: IpAddr, qtype: RecordType, ttl: u32) -> Option<Record> {
    if !family_wanted(ip, qtype) {
        return None;
    }
    let rdata = match ip {
        IpAddr::V4(v4) => RData::A(A(v4)),
        IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
    };
    Some(Record::from_rdata(owner.clone(), ttl, rdata))
}

/// A hostname address as an absolute name (`db.example.com` → `db.example.com.`).
pub fn hostname(address: &str) -> Option<Name> {
    if address.is_empty() {
        return None;
    }
    build_name(&[address.trim_end_matches('.')], &[])
}

/// TXT records from node meta, one per key in key order. Keys starting `rfc1035-` emit the
/// bare value; others the RFC 1464 `key=value` form.
pub fn meta_txt(owner: &Name, meta: &BTreeMap<String, String>, ttl: u32) -> Vec<Record> {
    meta.iter()
        .map(|(key, value)| {
            let text = if key.to_ascii_lowercase().starts_with("rfc1035-") {
                value.clone()
            } else {
                rfc1464(key, value)
            };
            Record::from_rdata(owner.clone(), ttl, RData::TXT(TXT::new(chunks(&text))))
        })
        .collect()
}

/// RFC 1464: backquote quotes backquotes and `=` in keys, plus leading/trailing spaces.
fn rfc1464(key: &str, value: &str) -> String {
    let escaped = key.replace('`', "``").replace('=', "`=");
    let body = escaped.trim_matches(' ');
    let leading = escaped.len() - escaped.trim_start_matches(' ').len();
    let trailing = if body.is_empty() {
        0
    } else {
        escaped.len() - escaped.trim_end_matches(' ').len()
    };
    let key = format!("{}{}{}", "` ".repeat(leading), body, "` ".repeat(trailing));
    format!("{key}={}", value.replace('`', "``"))
}

/// Splits text into character-strings of at most 255 bytes, on char boundaries.
fn chunks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if current.len() + c.len_utf8() > TXT_CHUNK {
            out.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() || out.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1464_escaping() {
        assert_eq!(rfc1464("key", "value"), "key=value");
        assert_eq!(rfc1464("a=b", "c`d"), "a`=b=c``d");
        assert_eq!(rfc1464("  k ", "v"), "` ` k` =v");
    }

    #[test]
    fn txt_strings_fit_255_bytes() {
        let long = "é".repeat(300);
        let parts = chunks(&long);
        assert!(parts.iter().all(|p| p.len() <= TXT_CHUNK));
        assert_eq!(parts.concat(), long);
        assert_eq!(chunks(""), vec![String::new()]);
    }

    #[test]
    fn names_and_addresses() {
        let zone = vec!["consul".to_string()];
        let n = build_name(&["my.host", "node", "dc1"], &zone).expect("name");
        assert_eq!(n.to_ascii(), "my.host.node.dc1.consul.");
        assert!(build_name(&["a..b"], &zone).is_none());
        let recs = address_records(&n, "10.0.0.1", RecordType::AAAA, 0);
        assert!(recs.is_empty());
        let recs = address_records(&n, "db.example.com", RecordType::A, 5);
        assert_eq!(recs[0].record_type(), RecordType::CNAME);
    }
}
