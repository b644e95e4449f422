//! Fitting a response to its transport (pure), with Consul's rules: UDP without EDNS keeps at
//! most `min(udp_answer_limit, 8)` answers and 512 bytes measured uncompressed; UDP with EDNS
//! keeps what fits the advertised size; TCP what fits 64 KiB. Additional records follow the
//! answers that remain; the authority section goes first when space runs out.

use std::collections::HashSet;

use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};

use crate::answer::Answer;

const DEFAULT_UDP_SIZE: usize = 512;
/// Consul's ceiling for EDNS sizes: 64 KiB minus IP and UDP headers.
const MAX_UDP_SIZE: usize = 65535 - 68;
/// Consul never sends more than 8 answers over plain UDP whatever the configuration.
const MAX_UDP_ANSWERS: usize = 8;
const UDP_HEADER: usize = 8;
const MAX_TCP_SIZE: usize = 65523;
const HEADER_LEN: usize = 12;
const OPT_LEN: usize = 11;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `edns_payload` is the requester's advertised UDP size when it sent an OPT record.
    Udp {
        edns_payload: Option<u16>,
    },
    Tcp,
}

/// Trims `answer` in place for `transport`; true when answers were dropped (the caller sets
/// TC only if `enable_truncate`).
pub fn trim(
    answer: &mut Answer,
    qname: &Name,
    qtype: RecordType,
    transport: Transport,
    udp_answer_limit: Option<u32>,
) -> bool {
    let before = answer.answers.len();
    let (max_size, count_cap) = match transport {
        Transport::Udp { edns_payload } => {
            let advertised = edns_payload.map_or(0, usize::from);
            let size = advertised.clamp(DEFAULT_UDP_SIZE, MAX_UDP_SIZE);
            // The answer-count cap only applies to classic 512-byte UDP.
            let cap = match udp_answer_limit {
                Some(limit) if size == DEFAULT_UDP_SIZE => (limit as usize).min(MAX_UDP_ANSWERS),
                _ => before,
            };
            (size - UDP_HEADER, cap)
        }
        // More than 4096 records (1024 SRV) never fit in 64 KiB.
        Transport::Tcp => (
            MAX_TCP_SIZE,
            if qtype == RecordType::SRV { 1024 } else { 4096 },
        ),
    };
    let edns = matches!(
        transport,
        Transport::Udp {
            edns_payload: Some(_)
        }
    );
    let fixed = HEADER_LEN + name_len(qname) + 4 + if edns { OPT_LEN } else { 0 };
    let sizes = Sizes::new(answer);
    let mut keep = before.min(count_cap);
    let mut authority = true;
    if sizes.total(answer, keep, authority) + fixed > max_size && keep > 1 {
        authority = false;
        keep = largest_fitting(keep, |k| sizes.total(answer, k, false) + fixed <= max_size);
    }
    if keep < before {
        answer.answers.truncate(keep);
        let names = referenced_names(&answer.answers);
        answer
            .additional
            .retain(|r| names.contains(&r.name.to_lowercase()));
    }
    if !authority {
        answer.authority.clear();
    }
    answer.answers.len() < before
}

/// Largest `k` in `1..=upper` with `fits(k)`, by binary search (size grows with k); at least
/// one answer is always kept, as Consul sends a lone oversized record anyway.
fn largest_fitting(upper: usize, fits: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (1, upper);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// Uncompressed wire sizes of every record, computed once.
struct Sizes {
    answers: Vec<usize>,
    authority: usize,
    additional: Vec<usize>,
}

impl Sizes {
    fn new(answer: &Answer) -> Self {
        Self {
            answers: answer.answers.iter().map(record_len).collect(),
            authority: answer.authority.iter().map(record_len).sum(),
            additional: answer.additional.iter().map(record_len).collect(),
        }
    }

    /// Size of the records when only the first `k` answers (and the additional records
    /// they reference) are kept.
    fn total(&self, answer: &Answer, k: usize, authority: bool) -> usize {
        let kept = &answer.answers[..k.min(answer.answers.len())];
        let names = referenced_names(kept);
        let extra: usize = if k >= answer.answers.len() {
            self.additional.iter().sum()
        } else {
            answer
                .additional
                .iter()
                .zip(&self.additional)
                .filter(|(r, _)| names.contains(&r.name.to_lowercase()))
                .map(|(_, len)| len)
                .sum()
        };
        let auth = if authority { self.authority } else { 0 };
        self.answers[..kept.len()].iter().sum::<usize>() + auth + extra
    }
}

/// Owner names and SRV targets of answers: the names additional records may belong to.
fn referenced_names(answers: &[Record]) -> HashSet<Name> {
    let mut names = HashSet::new();
    for record in answers {
        names.insert(record.name.to_lowercase());
        if let RData::SRV(srv) = &record.data {
            names.insert(srv.target.to_lowercase());
        }
    }
    names
}

fn name_len(name: &Name) -> usize {
    name.iter().map(|label| label.len() + 1).sum::<usize>() + 1
}

/// Owner + type/class/TTL/length (10 bytes) + RDATA, without name compression.
fn record_len(record: &Record) -> usize {
    let mut buf = Vec::new();
    let mut encoder = BinEncoder::new(&mut buf);
    // Encoding our own records cannot fail; if it did, the encoder would fail later too.
    let rdata = record.data.emit(&mut encoder).map_or(0, |()| buf.len());
    name_len(&record.name) + 10 + rdata
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::ResponseCode;
    use hickory_proto::rr::rdata::{A, SRV};
    use std::net::Ipv4Addr;

    fn name(s: &str) -> Name {
        Name::from_ascii(s).expect("name")
    }

    fn a_answer(n: usize) -> Answer {
        let q = name("web.service.consul.");
        let answers = (0..n)
            .map(|i| {
                Record::from_rdata(q.clone(), 0, RData::A(A(Ipv4Addr::new(10, 0, 0, i as u8))))
            })
            .collect();
        Answer {
            rcode: ResponseCode::NoError,
            answers,
            authority: Vec::new(),
            additional: Vec::new(),
        }
    }

    fn udp(edns: Option<u16>) -> Transport {
        Transport::Udp { edns_payload: edns }
    }

    #[test]
    fn plain_udp_caps_answer_count() {
        let q = name("web.service.consul.");
        let mut a = a_answer(10);
        assert!(trim(&mut a, &q, RecordType::A, udp(None), Some(3)));
        assert_eq!(a.answers.len(), 3);
        let mut a = a_answer(10);
        assert!(trim(&mut a, &q, RecordType::A, udp(None), Some(20)));
        assert_eq!(a.answers.len(), 8, "never more than 8 over plain UDP");
        let mut a = a_answer(2);
        assert!(!trim(&mut a, &q, RecordType::A, udp(None), Some(3)));
    }

    #[test]
    fn edns_and_tcp_trim_by_size_only() {
        let q = name("web.service.consul.");
        let mut a = a_answer(100);
        assert!(!trim(&mut a, &q, RecordType::A, udp(Some(4096)), Some(3)));
        assert_eq!(a.answers.len(), 100);
        let mut a = a_answer(100);
        assert!(trim(&mut a, &q, RecordType::A, udp(Some(1000)), Some(3)));
        let kept = a.answers.len();
        assert!(kept > 8 && kept < 100, "kept {kept}");
        let fixed = HEADER_LEN + name_len(&q) + 4 + OPT_LEN;
        let size: usize = a.answers.iter().map(record_len).sum::<usize>() + fixed;
        assert!(size <= 1000 - UDP_HEADER && size + 34 > 1000 - UDP_HEADER);
        let mut a = a_answer(200);
        assert!(!trim(&mut a, &q, RecordType::A, Transport::Tcp, Some(3)));
    }

    #[test]
    fn additional_records_follow_kept_srv_answers() {
        let q = name("web.service.consul.");
        let mut answer = a_answer(0);
        for i in 0..5u8 {
            let target = name(&format!("n{i}.node.dc1.consul."));
            let srv = SRV::new(1, 1, 80, target.clone());
            answer
                .answers
                .push(Record::from_rdata(q.clone(), 0, RData::SRV(srv)));
            let a = RData::A(A(Ipv4Addr::new(10, 0, 0, i)));
            answer.additional.push(Record::from_rdata(target, 0, a));
        }
        assert!(trim(&mut answer, &q, RecordType::SRV, udp(None), Some(3)));
        assert_eq!(answer.answers.len(), 3);
        assert_eq!(answer.additional.len(), 3);
        for (srv, extra) in answer.answers.iter().zip(&answer.additional) {
            let RData::SRV(srv) = &srv.data else {
                panic!("not SRV")
            };
            assert_eq!(&srv.target, &extra.name);
        }
    }
}
