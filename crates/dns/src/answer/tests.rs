use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use hickory_proto::rr::rdata::A;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::catalog::Weights;
use crate::memory::MemoryCatalog;

const NOW: u64 = 1_700_000_000;

fn node(name: &str, addr: &str) -> NodeRecord {
    NodeRecord {
        name: name.into(),
        datacenter: "dc1".into(),
        address: addr.into(),
        ..NodeRecord::default()
    }
}

fn instance(node: &NodeRecord, service: &str, health: Health, tags: &[&str]) -> InstanceRecord {
    InstanceRecord {
        node: node.clone(),
        service: service.into(),
        service_address: String::new(),
        port: 8080,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        health,
        weights: Weights::default(),
    }
}

/// `web`: node1 and node2 passing, node3 warning on its own service address, node4 critical.
fn fixture() -> MemoryCatalog {
    let mut cat = MemoryCatalog::new("dc1");
    cat.remote_datacenters.push("dc2".into());
    let mut n1 = node("node1", "10.0.0.1");
    n1.meta = BTreeMap::from([
        ("env".into(), "prod".into()),
        ("rfc1035-x".into(), "raw".into()),
    ]);
    let nodes = [
        n1,
        node("node2", "10.0.0.2"),
        node("node3", "10.0.0.3"),
        node("node4", "10.0.0.4"),
    ];
    cat.instances.push(instance(
        &nodes[0],
        "web",
        Health::Passing,
        &["v1", "primary"],
    ));
    cat.instances
        .push(instance(&nodes[1], "web", Health::Passing, &["v2"]));
    let mut warn = instance(&nodes[2], "web", Health::Warning, &["v1"]);
    warn.service_address = "10.1.0.3".into();
    warn.weights = Weights {
        passing: 10,
        warning: 2,
    };
    cat.instances.push(warn);
    cat.instances
        .push(instance(&nodes[3], "web", Health::Critical, &["v1"]));
    cat.instances
        .push(instance(&nodes[3], "down", Health::Critical, &[]));
    cat.instances
        .push(instance(&nodes[0], "consul", Health::Passing, &[]));
    cat.nodes.extend(nodes);
    cat.nodes.push(node("v6only", "2001:db8::7"));
    cat
}

fn ask_with(
    cfg: DnsConfig,
    cat: &MemoryCatalog,
    name: &str,
    qtype: RecordType,
    seed: u64,
) -> Option<Answer> {
    let responder = Responder::new(cfg).expect("valid config");
    let qname = Name::from_ascii(name).expect("name");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut env = Env {
        view: cat,
        rng: &mut rng,
        now_unix: NOW,
    };
    responder.respond(
        Question {
            name: &qname,
            qtype,
        },
        &mut env,
    )
}

fn ask(name: &str, qtype: RecordType) -> Answer {
    ask_with(DnsConfig::default(), &fixture(), name, qtype, 7).expect("in zone")
}

fn ips(records: &[Record]) -> Vec<String> {
    let mut out: Vec<String> = records
        .iter()
        .filter_map(|r| r.data.ip_addr())
        .map(|ip| ip.to_string())
        .collect();
    out.sort();
    out
}

fn assert_soa_authority(answer: &Answer) {
    assert_eq!(answer.authority.len(), 1);
    assert_eq!(answer.authority[0].record_type(), RecordType::SOA);
    assert_eq!(answer.authority[0].name.to_ascii(), "consul.");
}

#[test]
fn service_a_excludes_critical() {
    let answer = ask("web.service.consul.", RecordType::A);
    assert_eq!(answer.rcode, ResponseCode::NoError);
    assert_eq!(ips(&answer.answers), ["10.0.0.1", "10.0.0.2", "10.1.0.3"]);
    assert!(
        answer
            .answers
            .iter()
            .all(|r| r.name.to_ascii() == "web.service.consul." && r.ttl == 0)
    );
}

#[test]
fn only_passing_also_drops_warning() {
    let cfg = DnsConfig {
        only_passing: true,
        ..DnsConfig::default()
    };
    let answer = ask_with(cfg, &fixture(), "web.service.consul.", RecordType::A, 1).expect("zone");
    assert_eq!(ips(&answer.answers), ["10.0.0.1", "10.0.0.2"]);
}

#[test]
fn tags_filter_instances() {
    assert_eq!(
        ips(&ask("v1.web.service.consul.", RecordType::A).answers),
        ["10.0.0.1", "10.1.0.3"]
    );
    assert_eq!(
        ips(&ask("_web._v2.service.consul.", RecordType::SRV).additional),
        ["10.0.0.2"]
    );
    let none = ask("nope.web.service.consul.", RecordType::A);
    assert_eq!(none.rcode, ResponseCode::NXDomain);
}

#[test]
fn srv_targets_weights_and_additional_records() {
    let answer = ask("_web._tcp.service.consul.", RecordType::SRV);
    assert_eq!(answer.rcode, ResponseCode::NoError);
    let mut srvs: Vec<(String, u16, u16, u16)> = answer
        .answers
        .iter()
        .map(|r| match &r.data {
            RData::SRV(s) => (s.target.to_ascii(), s.priority, s.weight, s.port),
            other => panic!("not SRV: {other:?}"),
        })
        .collect();
    srvs.sort();
    assert_eq!(
        srvs,
        [
            ("0a010003.addr.dc1.consul.".to_string(), 1, 2, 8080),
            ("node1.node.dc1.consul.".to_string(), 1, 1, 8080),
            ("node2.node.dc1.consul.".to_string(), 1, 1, 8080),
        ]
    );
    let a_names: Vec<String> = answer
        .additional
        .iter()
        .filter(|r| r.record_type() == RecordType::A)
        .map(|r| {
            format!(
                "{} {}",
                r.name,
                r.data.ip_addr().map(|i| i.to_string()).unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(a_names.len(), 3);
    assert!(a_names.contains(&"0a010003.addr.dc1.consul. 10.1.0.3".to_string()));
    assert!(a_names.contains(&"node1.node.dc1.consul. 10.0.0.1".to_string()));
    let txt = answer
        .additional
        .iter()
        .filter(|r| r.record_type() == RecordType::TXT)
        .count();
    assert_eq!(txt, 2, "node1's meta rides along as TXT");
}

#[test]
fn srv_without_service_label_and_with_dc() {
    let answer = ask("_web._tcp.dc1.consul.", RecordType::SRV);
    assert_eq!(answer.answers.len(), 3);
    let other_dc = ask("web.service.dc2.consul.", RecordType::SRV);
    assert_eq!(other_dc.rcode, ResponseCode::NXDomain);
    let unknown_dc = ask("web.service.dc9.consul.", RecordType::A);
    assert_eq!(unknown_dc.rcode, ResponseCode::NXDomain);
    assert_soa_authority(&unknown_dc);
}

#[test]
fn nxdomain_vs_nodata() {
    let missing = ask("nothing.service.consul.", RecordType::A);
    assert_eq!(missing.rcode, ResponseCode::NXDomain);
    assert_soa_authority(&missing);
    // Zero healthy instances counts as unknown.
    assert_eq!(
        ask("down.service.consul.", RecordType::A).rcode,
        ResponseCode::NXDomain
    );
    // Known name, no record of that type: NOERROR with the SOA.
    let nodata = ask("web.service.consul.", RecordType::AAAA);
    assert_eq!(nodata.rcode, ResponseCode::NoError);
    assert!(nodata.answers.is_empty());
    assert_soa_authority(&nodata);
    let mx = ask("node1.node.consul.", RecordType::MX);
    assert_eq!((mx.rcode, mx.answers.len()), (ResponseCode::NoError, 0));
    assert_soa_authority(&mx);
    let v6 = ask("v6only.node.consul.", RecordType::A);
    assert_eq!((v6.rcode, v6.answers.len()), (ResponseCode::NoError, 0));
    assert_eq!(
        ask("ghost.node.consul.", RecordType::A).rcode,
        ResponseCode::NXDomain
    );
    assert_eq!(
        ask("bogus.consul.", RecordType::A).rcode,
        ResponseCode::NXDomain
    );
}

#[test]
fn node_address_and_meta_txt() {
    let answer = ask("node1.node.dc1.consul.", RecordType::A);
    assert_eq!(ips(&answer.answers), ["10.0.0.1"]);
    assert_eq!(answer.additional.len(), 2, "meta TXT in additional");
    let txt = ask("NODE1.node.consul.", RecordType::TXT);
    let texts: Vec<String> = txt.answers.iter().map(|r| r.data.to_string()).collect();
    assert_eq!(texts.len(), 2);
    assert!(texts[0].contains("env=prod"), "{texts:?}");
    assert!(
        texts[1].contains("raw") && !texts[1].contains("rfc1035"),
        "{texts:?}"
    );
    let any = ask("node1.node.consul.", RecordType::ANY);
    assert_eq!(any.answers.len(), 3);
    let aaaa = ask("v6only.node.consul.", RecordType::AAAA);
    assert_eq!(ips(&aaaa.answers), ["2001:db8::7"]);
}

#[test]
fn meta_txt_in_additional_can_be_disabled() {
    let cfg = DnsConfig {
        enable_additional_node_meta_txt: false,
        ..DnsConfig::default()
    };
    let answer = ask_with(cfg, &fixture(), "node1.node.consul.", RecordType::A, 1).expect("zone");
    assert!(answer.additional.is_empty());
}

#[test]
fn ttls_come_from_config() {
    let mut cfg = DnsConfig {
        node_ttl: Duration::from_secs(11),
        ..DnsConfig::default()
    };
    cfg.service_ttl.insert("*".into(), Duration::from_secs(5));
    cfg.service_ttl
        .insert("we*".into(), Duration::from_secs(30));
    let cat = fixture();
    let svc = ask_with(cfg.clone(), &cat, "web.service.consul.", RecordType::SRV, 1).expect("zone");
    assert!(
        svc.answers
            .iter()
            .chain(&svc.additional)
            .all(|r| r.ttl == 30)
    );
    let node = ask_with(cfg.clone(), &cat, "node1.node.consul.", RecordType::A, 1).expect("zone");
    assert!(node.answers.iter().all(|r| r.ttl == 11));
    let consul = ask_with(cfg, &cat, "consul.service.consul.", RecordType::A, 1).expect("zone");
    assert!(consul.answers.iter().all(|r| r.ttl == 5));
}

#[test]
fn a_record_limit_caps_answers() {
    let cfg = DnsConfig {
        a_record_limit: 2,
        ..DnsConfig::default()
    };
    let answer = ask_with(cfg, &fixture(), "web.service.consul.", RecordType::A, 1).expect("zone");
    assert_eq!(answer.answers.len(), 2);
}

#[test]
fn shuffle_is_driven_by_the_rng() {
    let cfg = DnsConfig::default();
    let cat = fixture();
    let order = |seed| {
        let a = ask_with(
            cfg.clone(),
            &cat,
            "web.service.consul.",
            RecordType::A,
            seed,
        )
        .expect("zone");
        a.answers
            .iter()
            .filter_map(|r| r.data.ip_addr())
            .collect::<Vec<_>>()
    };
    assert_eq!(order(3), order(3), "same seed, same order");
    let orders: HashSet<_> = (0..20).map(order).collect();
    assert!(orders.len() > 1, "order varies with the seed");
}

#[test]
fn soa_and_ns_at_the_apex() {
    let answer = ask("consul.", RecordType::SOA);
    assert_eq!(answer.rcode, ResponseCode::NoError);
    let RData::SOA(soa) = &answer.answers[0].data else {
        panic!("no SOA")
    };
    assert_eq!(soa.mname.to_ascii(), "ns.consul.");
    assert_eq!(soa.rname.to_ascii(), "hostmaster.consul.");
    assert_eq!(
        (soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum),
        (NOW as u32, 3600, 600, 86400, 0)
    );
    assert_eq!(answer.authority[0].record_type(), RecordType::NS);
    let ns = ask("consul.", RecordType::NS);
    let RData::NS(target) = &ns.answers[0].data else {
        panic!("no NS")
    };
    assert_eq!(target.0.to_ascii(), "node1.node.dc1.consul.");
    assert_eq!(ips(&ns.additional), ["10.0.0.1"]);
    assert_eq!(ask("consul.", RecordType::A).rcode, ResponseCode::NXDomain);
    assert_eq!(ask("consul.", RecordType::AXFR).rcode, ResponseCode::NotImp);
}

#[test]
fn alt_domain_answers_in_its_own_zone() {
    let cfg = DnsConfig {
        alt_domain: Some("example.org".into()),
        ..DnsConfig::default()
    };
    let answer = ask_with(
        cfg.clone(),
        &fixture(),
        "_web._tcp.service.example.org.",
        RecordType::SRV,
        1,
    )
    .expect("zone");
    assert!(answer.answers.iter().all(|r| match &r.data {
        RData::SRV(s) => s.target.to_ascii().ends_with(".dc1.example.org."),
        _ => false,
    }));
    let missing =
        ask_with(cfg, &fixture(), "x.service.example.org.", RecordType::A, 1).expect("zone");
    assert_eq!(missing.authority[0].name.to_ascii(), "example.org.");
}

#[test]
fn addr_and_ptr() {
    let addr = ask("0a000001.addr.dc1.consul.", RecordType::A);
    assert_eq!(
        addr.answers[0].data,
        RData::A(A(Ipv4Addr::new(10, 0, 0, 1)))
    );
    let other = ask("0a000001.addr.consul.", RecordType::SRV);
    assert_eq!(
        (other.rcode, other.answers.len(), other.additional.len()),
        (ResponseCode::NoError, 0, 1)
    );
    let ptr = ask("1.0.0.10.in-addr.arpa.", RecordType::PTR);
    let RData::PTR(target) = &ptr.answers[0].data else {
        panic!("no PTR")
    };
    assert_eq!(target.0.to_ascii(), "node1.node.dc1.consul.");
    let svc = ask("3.0.1.10.in-addr.arpa.", RecordType::PTR);
    let RData::PTR(target) = &svc.answers[0].data else {
        panic!("no PTR")
    };
    assert_eq!(target.0.to_ascii(), "web.service.dc1.consul.");
    assert_eq!(
        ask("9.9.9.9.in-addr.arpa.", RecordType::PTR).rcode,
        ResponseCode::NXDomain
    );
}

#[test]
fn outside_names_and_unowned_ptr_with_recursors() {
    assert!(
        ask_with(
            DnsConfig::default(),
            &fixture(),
            "example.com.",
            RecordType::A,
            1
        )
        .is_none()
    );
    let cfg = DnsConfig {
        recursors: vec!["127.0.0.1:5353".parse().expect("addr")],
        ..DnsConfig::default()
    };
    assert!(
        ask_with(
            cfg.clone(),
            &fixture(),
            "9.9.9.9.in-addr.arpa.",
            RecordType::PTR,
            1
        )
        .is_none()
    );
    assert!(
        ask_with(
            cfg,
            &fixture(),
            "1.0.0.10.in-addr.arpa.",
            RecordType::PTR,
            1
        )
        .is_some()
    );
}
