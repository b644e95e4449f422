//! Building the response to one question (pure): records, response code and sections, from a
//! parsed name, the catalog view and the config. Randomness and the clock come in as
//! arguments so tests are deterministic.

use std::collections::HashSet;
use std::net::IpAddr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{NS, PTR, SOA, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use rand::RngCore;
use rand::seq::SliceRandom;

use crate::catalog::{CatalogView, Health, InstanceRecord, NodeRecord, ReverseRecord};
use crate::config::DnsConfig;
use crate::error::DnsError;
use crate::name::{Domains, Query, Zone, encode_hex_ip, parse};
use crate::records::{address_records, build_name, hostname, ip_record, meta_txt};

/// Consul advertises at most this many servers in NS answers.
const MAX_NS: usize = 3;
/// The service whose instances are the Consul servers (NS records).
const CONSUL_SERVICE: &str = "consul";

/// The question as asked: answers are owned by this exact name (case preserved).
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    pub name: &'a Name,
    pub qtype: RecordType,
}

/// A response before size trimming and encoding.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub rcode: ResponseCode,
    pub answers: Vec<Record>,
    pub authority: Vec<Record>,
    pub additional: Vec<Record>,
}

impl Answer {
    pub(crate) fn with(rcode: ResponseCode) -> Self {
        Self {
            rcode,
            answers: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
        }
    }
}

/// Per-call inputs that are not the question: the catalog, randomness and time.
pub struct Env<'a> {
    pub view: &'a dyn CatalogView,
    pub rng: &'a mut dyn RngCore,
    /// Seconds since the Unix epoch; the SOA serial.
    pub now_unix: u64,
}

/// Answers questions under the configured domains.
#[derive(Debug, Clone)]
pub struct Responder {
    config: DnsConfig,
    domains: Domains,
}

impl Responder {
    pub fn new(config: DnsConfig) -> Result<Self, DnsError> {
        config.validate()?;
        let domains = Domains::new(&config.domain, config.alt_domain.as_deref())?;
        Ok(Self { config, domains })
    }

    pub fn config(&self) -> &DnsConfig {
        &self.config
    }

    pub fn domains(&self) -> &Domains {
        &self.domains
    }

    /// Parses the question and answers it; `None` when the name is outside our zones (the
    /// caller forwards it to recursors or refuses it). Also `None` for PTR names nothing in
    /// the catalog owns, when recursors are configured: upstream may know them.
    pub fn respond(&self, q: Question<'_>, env: &mut Env<'_>) -> Option<Answer> {
        let labels: Vec<&[u8]> = q.name.iter().collect();
        let parsed = parse(&labels, q.qtype == RecordType::SRV, &self.domains)?;
        let answer = self.answer(q, parsed.zone, &parsed.query, env);
        let unowned_ptr = parsed.zone == Zone::Reverse && answer.rcode == ResponseCode::NXDomain;
        if unowned_ptr && !self.config.recursors.is_empty() {
            return None;
        }
        Some(answer)
    }

    /// The response for a question whose name `parse` placed in one of our zones.
    pub fn answer(&self, q: Question<'_>, zone: Zone, query: &Query, env: &mut Env<'_>) -> Answer {
        let in_domain = zone != Zone::Reverse;
        match q.qtype {
            RecordType::SOA if in_domain => self.soa_answer(zone, env),
            RecordType::NS if in_domain => self.ns_answer(zone, env),
            RecordType::AXFR | RecordType::IXFR => Answer::with(ResponseCode::NotImp),
            _ => self.by_query(q, zone, query, env),
        }
    }

    fn by_query(&self, q: Question<'_>, zone: Zone, query: &Query, env: &mut Env<'_>) -> Answer {
        let ctx = Ctx {
            resp: self,
            q,
            zone,
            now: env.now_unix,
        };
        match query {
            Query::Service { name, tag, dc } | Query::Rfc2782 { name, tag, dc } => {
                ctx.service(name, tag.as_deref(), dc.as_deref(), env)
            }
            Query::Node { name, dc } => ctx.node(name, dc.as_deref(), env.view),
            Query::Addr(ip) => ctx.addr(*ip),
            Query::Ptr(ip) => ctx.ptr(*ip, env.view),
            // Prepared queries are not executed yet; an unknown query is NXDOMAIN in Consul.
            Query::Apex | Query::PreparedQuery { .. } | Query::Unknown => ctx.nxdomain(),
        }
    }

    fn zone_labels(&self, zone: Zone) -> &[String] {
        self.domains.labels(zone)
    }

    fn zone_name(&self, zone: Zone) -> Name {
        build_name(&[], self.zone_labels(zone)).unwrap_or_else(Name::root)
    }

    /// The zone's SOA: `ns.<domain>`, `hostmaster.<domain>`, serial = now.
    pub fn soa(&self, zone: Zone, now_unix: u64) -> Record {
        let soa = &self.config.soa;
        let zone_name = self.zone_name(zone);
        let labels = self.zone_labels(zone);
        let mname = build_name(&["ns"], labels).unwrap_or_else(|| zone_name.clone());
        let rname = build_name(&["hostmaster"], labels).unwrap_or_else(|| zone_name.clone());
        // Serial arithmetic is mod 2^32 anyway (RFC 1982), so wrapping is intended.
        let serial = now_unix as u32;
        let clamp = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        let rdata = SOA::new(
            mname,
            rname,
            serial,
            clamp(soa.refresh),
            clamp(soa.retry),
            clamp(soa.expire),
            soa.min_ttl,
        );
        Record::from_rdata(zone_name, soa.min_ttl, RData::SOA(rdata))
    }

    fn soa_answer(&self, zone: Zone, env: &mut Env<'_>) -> Answer {
        let (ns, glue) = self.nameservers(zone, env);
        let mut answer = Answer::with(ResponseCode::NoError);
        answer.answers.push(self.soa(zone, env.now_unix));
        answer.authority = ns;
        answer.additional = glue;
        answer
    }

    fn ns_answer(&self, zone: Zone, env: &mut Env<'_>) -> Answer {
        let (ns, glue) = self.nameservers(zone, env);
        let mut answer = Answer::with(ResponseCode::NoError);
        if ns.is_empty() {
            answer.authority.push(self.soa(zone, env.now_unix));
        }
        answer.answers = ns;
        answer.additional = glue;
        answer
    }

    /// Up to three random healthy Consul servers as NS records plus their address glue.
    fn nameservers(&self, zone: Zone, env: &mut Env<'_>) -> (Vec<Record>, Vec<Record>) {
        let dc = env.view.datacenter().to_string();
        let mut servers = self.healthy(env.view.service_instances(&dc, CONSUL_SERVICE, None));
        servers.shuffle(env.rng);
        let ttl = self.config.node_ttl_secs();
        let zone_name = self.zone_name(zone);
        let (mut ns, mut glue) = (Vec::new(), Vec::new());
        let mut seen = HashSet::new();
        for server in servers {
            if ns.len() >= MAX_NS {
                break;
            }
            let node = &server.node;
            let Some(target) = node_fqdn(&node.name, &node.datacenter, self.zone_labels(zone))
            else {
                continue;
            };
            if !seen.insert(target.clone()) {
                continue;
            }
            let rdata = RData::NS(NS(target.clone()));
            ns.push(Record::from_rdata(zone_name.clone(), ttl, rdata));
            glue.extend(address_records(
                &target,
                &node.address,
                RecordType::ANY,
                ttl,
            ));
        }
        (ns, glue)
    }

    /// Consul drops critical instances (maintenance is a critical check); with
    /// `only_passing`, warning ones too.
    fn healthy(&self, instances: Vec<InstanceRecord>) -> Vec<InstanceRecord> {
        let only_passing = self.config.only_passing;
        instances
            .into_iter()
            .filter(|i| match i.health {
                Health::Passing => true,
                Health::Warning => !only_passing,
                Health::Critical | Health::Maintenance => false,
            })
            .collect()
    }
}

/// `<node>.node.<dc>.<domain>`.
fn node_fqdn(node: &str, dc: &str, zone: &[String]) -> Option<Name> {
    build_name(&[node, "node", dc], zone)
}

/// One question being answered.
struct Ctx<'r, 'q> {
    resp: &'r Responder,
    q: Question<'q>,
    zone: Zone,
    now: u64,
}

impl Ctx<'_, '_> {
    fn cfg(&self) -> &DnsConfig {
        &self.resp.config
    }

    fn zone_labels(&self) -> &[String] {
        self.resp.zone_labels(self.zone)
    }

    fn nxdomain(&self) -> Answer {
        let mut answer = Answer::with(ResponseCode::NXDomain);
        answer.authority.push(self.resp.soa(self.zone, self.now));
        answer
    }

    /// NOERROR with an SOA in authority when the name exists but has no records of the
    /// asked type (RFC 2308 NODATA); otherwise the answer as it is.
    fn finish(&self, mut answer: Answer) -> Answer {
        if answer.answers.is_empty() && answer.rcode == ResponseCode::NoError {
            answer.authority.push(self.resp.soa(self.zone, self.now));
        }
        answer
    }

    /// The datacenter a query names, or ours; `None` when the view does not know it.
    fn datacenter(&self, dc: Option<&str>, view: &dyn CatalogView) -> Option<String> {
        let dc = dc.unwrap_or_else(|| view.datacenter());
        view.known_datacenter(dc).then(|| dc.to_string())
    }

    fn service(
        &self,
        name: &str,
        tag: Option<&str>,
        dc: Option<&str>,
        env: &mut Env<'_>,
    ) -> Answer {
        let Some(dc) = self.datacenter(dc, env.view) else {
            return self.nxdomain();
        };
        let mut instances = self
            .resp
            .healthy(env.view.service_instances(&dc, name, tag));
        if instances.is_empty() {
            return self.nxdomain();
        }
        instances.shuffle(env.rng);
        let ttl = self.cfg().service_ttl_secs(name);
        let answer = if self.q.qtype == RecordType::SRV {
            self.service_srv(&instances, &dc, ttl)
        } else {
            self.service_addresses(&instances, ttl)
        };
        self.finish(answer)
    }

    /// A/AAAA (or CNAME) per instance, deduplicated, capped by `a_record_limit`. A CNAME is
    /// only returned when no instance has an IP address, as in Consul.
    fn service_addresses(&self, instances: &[InstanceRecord], ttl: u32) -> Answer {
        let mut answer = Answer::with(ResponseCode::NoError);
        let limit = self.cfg().a_record_limit as usize;
        let mut seen = HashSet::new();
        let mut cname: Option<Record> = None;
        for instance in instances {
            let address = instance_address(instance);
            for record in address_records(self.q.name, address, self.q.qtype, ttl) {
                if record.record_type() == RecordType::CNAME {
                    cname.get_or_insert(record);
                } else if seen.insert(record.data.clone()) {
                    answer.answers.push(record);
                }
            }
            if limit > 0 && answer.answers.len() >= limit {
                answer.answers.truncate(limit);
                break;
            }
        }
        if answer.answers.is_empty() {
            answer.answers.extend(cname);
        }
        answer
    }

    fn service_srv(&self, instances: &[InstanceRecord], dc: &str, ttl: u32) -> Answer {
        let mut answer = Answer::with(ResponseCode::NoError);
        let mut seen = HashSet::new();
        for instance in instances {
            let key = (
                instance.node.name.as_str(),
                instance.service_address.as_str(),
                instance.port,
            );
            if !seen.insert(key) {
                continue;
            }
            let Some((target, extra)) = self.srv_target(instance, dc, ttl) else {
                continue;
            };
            let weight = match instance.health {
                Health::Warning => instance.weights.warning,
                _ => instance.weights.passing,
            };
            let srv = SRV::new(1, weight, instance.port, target);
            answer.answers.push(Record::from_rdata(
                self.q.name.clone(),
                ttl,
                RData::SRV(srv),
            ));
            answer.additional.extend(extra);
            let meta_owner = node_fqdn(&instance.node.name, dc, self.zone_labels());
            if self.cfg().enable_additional_node_meta_txt
                && let Some(owner) = meta_owner
            {
                let txt = meta_txt(&owner, &instance.node.meta, ttl);
                answer.additional.extend(txt);
            }
        }
        answer
    }

    /// SRV target and its address records: the node name when the instance uses the node's
    /// IP, `<hex>.addr.<dc>.<domain>` for a distinct service IP, the hostname itself for
    /// hostname addresses (no additional records: we do not resolve them).
    fn srv_target(
        &self,
        instance: &InstanceRecord,
        dc: &str,
        ttl: u32,
    ) -> Option<(Name, Vec<Record>)> {
        let node = &instance.node;
        let address = instance_address(instance);
        let Ok(ip) = address.parse::<IpAddr>() else {
            return hostname(address).map(|h| (h, Vec::new()));
        };
        let uses_node_address =
            instance.service_address.is_empty() || instance.service_address == node.address;
        let target = if uses_node_address {
            node_fqdn(&node.name, dc, self.zone_labels())?
        } else {
            build_name(&[&encode_hex_ip(ip), "addr", dc], self.zone_labels())?
        };
        let extra = ip_record(&target, ip, RecordType::SRV, ttl);
        Some((target, extra.into_iter().collect()))
    }

    fn node(&self, name: &str, dc: Option<&str>, view: &dyn CatalogView) -> Answer {
        let Some(dc) = self.datacenter(dc, view) else {
            return self.nxdomain();
        };
        let Some(node) = view.node(&dc, name) else {
            return self.nxdomain();
        };
        let qtype = self.q.qtype;
        let mut answer = Answer::with(ResponseCode::NoError);
        if !matches!(
            qtype,
            RecordType::A | RecordType::AAAA | RecordType::ANY | RecordType::TXT
        ) {
            return self.finish(answer);
        }
        let ttl = self.cfg().node_ttl_secs();
        if qtype != RecordType::TXT {
            answer.answers = address_records(self.q.name, &node.address, qtype, ttl);
        }
        let txt = node_txt(self.q.name, &node, ttl);
        if matches!(qtype, RecordType::TXT | RecordType::ANY) {
            answer.answers.extend(txt);
        } else if self.cfg().enable_additional_node_meta_txt {
            answer.additional.extend(txt);
        }
        self.finish(answer)
    }

    /// `<hex>.addr.<domain>` decodes to the address; other types get it as additional data.
    fn addr(&self, ip: IpAddr) -> Answer {
        let ttl = self.cfg().node_ttl_secs();
        let mut answer = Answer::with(ResponseCode::NoError);
        let asked = match ip {
            IpAddr::V4(_) => matches!(self.q.qtype, RecordType::A | RecordType::ANY),
            IpAddr::V6(_) => matches!(self.q.qtype, RecordType::AAAA | RecordType::ANY),
        };
        let qtype = if asked { self.q.qtype } else { RecordType::ANY };
        let record = ip_record(self.q.name, ip, qtype, ttl);
        if asked {
            answer.answers.extend(record);
        } else {
            answer.additional.extend(record);
        }
        self.finish(answer)
    }

    /// PTR to `<node>.node.<dc>.<domain>` (or `<service>.service...` for service addresses).
    fn ptr(&self, ip: IpAddr, view: &dyn CatalogView) -> Answer {
        let labels = self.resp.zone_labels(Zone::Primary);
        let target = view.reverse_lookup(ip).and_then(|found| match found {
            ReverseRecord::Node { name, datacenter } => node_fqdn(&name, &datacenter, labels),
            ReverseRecord::Service { name, datacenter } => {
                build_name(&[&name, "service", &datacenter], labels)
            }
        });
        let Some(target) = target else {
            return self.nxdomain();
        };
        let mut answer = Answer::with(ResponseCode::NoError);
        if matches!(self.q.qtype, RecordType::PTR | RecordType::ANY) {
            let record = Record::from_rdata(self.q.name.clone(), 0, RData::PTR(PTR(target)));
            answer.answers.push(record);
        }
        self.finish(answer)
    }
}

fn node_txt(owner: &Name, node: &NodeRecord, ttl: u32) -> Vec<Record> {
    meta_txt(owner, &node.meta, ttl)
}

/// The address clients should use: the service's own, else its node's.
fn instance_address(instance: &InstanceRecord) -> &str {
    if instance.service_address.is_empty() {
        &instance.node.address
    } else {
        &instance.service_address
    }
}

#[cfg(test)]
mod tests;
