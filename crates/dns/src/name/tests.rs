use super::*;

fn domains() -> Domains {
    Domains::new("consul.", Some("example.org")).expect("valid domains")
}

fn p(name: &str, srv: bool) -> Option<Parsed> {
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    parse(&labels, srv, &domains())
}

fn q(name: &str) -> Query {
    p(name, false).expect("in zone").query
}

fn svc(name: &str, tag: Option<&str>, dc: Option<&str>) -> Query {
    Query::Service {
        name: name.into(),
        tag: tag.map(Into::into),
        dc: dc.map(Into::into),
    }
}

#[test]
fn service_forms() {
    assert_eq!(q("web.service.consul."), svc("web", None, None));
    assert_eq!(q("web.service.dc2.consul"), svc("web", None, Some("dc2")));
    assert_eq!(
        q("web.service.dc2.dc.consul"),
        svc("web", None, Some("dc2"))
    );
    assert_eq!(q("v1.web.service.consul"), svc("web", Some("v1"), None));
    // Extra labels before the service name are one tag joined with dots.
    assert_eq!(q("a.b.web.service.consul"), svc("web", Some("a.b"), None));
    assert_eq!(q("service.consul"), Query::Unknown);
    assert_eq!(q("web.service.a.b.consul"), Query::Unknown);
    assert_eq!(q("web.service.p1.peer.consul"), Query::Unknown);
}

#[test]
fn rfc2782_forms() {
    let rfc = |tag: Option<&str>, dc: Option<&str>| Query::Rfc2782 {
        name: "web".into(),
        tag: tag.map(Into::into),
        dc: dc.map(Into::into),
    };
    assert_eq!(q("_web._tcp.service.consul"), rfc(None, None));
    assert_eq!(q("_web._udp.service.consul"), rfc(Some("udp"), None));
    assert_eq!(
        q("_web._v1.service.dc3.consul"),
        rfc(Some("v1"), Some("dc3"))
    );
    // `.service` may be left out for SRV questions only.
    let srv = p("_web._tcp.consul", true).expect("in zone").query;
    assert_eq!(srv, rfc(None, None));
    let srv_dc = p("_web._tcp.dc3.consul", true).expect("in zone").query;
    assert_eq!(srv_dc, rfc(None, Some("dc3")));
    assert_eq!(q("_web._tcp.consul"), Query::Unknown);
}

#[test]
fn node_forms() {
    let node = |name: &str, dc: Option<&str>| Query::Node {
        name: name.into(),
        dc: dc.map(Into::into),
    };
    assert_eq!(q("node1.node.consul"), node("node1", None));
    assert_eq!(q("node1.node.dc1.consul"), node("node1", Some("dc1")));
    assert_eq!(
        q("my.dotted.host.node.consul"),
        node("my.dotted.host", None)
    );
    assert_eq!(q("node.consul"), Query::Unknown);
}

#[test]
fn mixed_case_is_folded() {
    assert_eq!(q("WeB.SeRvIcE.CoNsUl."), svc("web", None, None));
    assert_eq!(
        q("V1.Web.Service.DC2.Consul"),
        svc("web", Some("v1"), Some("dc2"))
    );
    assert_eq!(
        p("web.service.EXAMPLE.org", false).map(|x| x.zone),
        Some(Zone::Alt)
    );
}

#[test]
fn alt_domain_and_outside_names() {
    let parsed = p("web.service.example.org.", false).expect("alt zone");
    assert_eq!(parsed.zone, Zone::Alt);
    assert_eq!(parsed.query, svc("web", None, None));
    assert_eq!(
        p("web.service.consul", false).map(|x| x.zone),
        Some(Zone::Primary)
    );
    assert_eq!(p("www.example.com", false), None);
    assert_eq!(p("consul.io", false), None);
    assert_eq!(p("org", false), None);
    assert_eq!(q("consul"), Query::Apex);
    assert_eq!(q("example.org"), Query::Apex);
}

#[test]
fn nested_domains_pick_the_longest() {
    let d = Domains::new("consul", Some("dc1.consul")).expect("valid");
    let labels = ["web", "service", "dc1", "consul"];
    let parsed = parse(&labels, false, &d).expect("in zone");
    assert_eq!(parsed.zone, Zone::Alt);
    assert_eq!(parsed.query, svc("web", None, None));
}

#[test]
fn prepared_queries() {
    let pq = |name: &str, dc: Option<&str>| Query::PreparedQuery {
        name: name.into(),
        dc: dc.map(Into::into),
    };
    assert_eq!(q("geo-db.query.consul"), pq("geo-db", None));
    assert_eq!(q("geo-db.query.dc2.consul"), pq("geo-db", Some("dc2")));
    assert_eq!(q("_geo-db._tcp.query.consul"), pq("geo-db", None));
    assert_eq!(q("a.b.query.consul"), pq("a.b", None));
    assert_eq!(q("x.query.a.b.consul"), Query::Unknown);
}

#[test]
fn addr_names() {
    assert_eq!(
        q("7f000001.addr.consul"),
        Query::Addr("127.0.0.1".parse().expect("ip"))
    );
    assert_eq!(
        q("7F000001.addr.dc1.consul"),
        Query::Addr("127.0.0.1".parse().expect("ip"))
    );
    let v6 = "20010db8000000000000000000000001.addr.consul";
    assert_eq!(q(v6), Query::Addr("2001:db8::1".parse().expect("ip")));
    assert_eq!(q("7f0000.addr.consul"), Query::Unknown);
    assert_eq!(q("zz000001.addr.consul"), Query::Unknown);
    assert_eq!(q("a.7f000001.addr.consul"), Query::Unknown);
    let ip: IpAddr = "10.0.0.42".parse().expect("ip");
    assert_eq!(encode_hex_ip(ip), "0a00002a");
    assert_eq!(decode_hex_ip(&encode_hex_ip(ip)), Some(ip));
}

#[test]
fn reverse_names() {
    let parsed = p("4.3.2.1.in-addr.arpa", false).expect("reverse zone");
    assert_eq!(parsed.zone, Zone::Reverse);
    assert_eq!(parsed.query, Query::Ptr("1.2.3.4".parse().expect("ip")));
    let v6 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
    assert_eq!(q(v6), Query::Ptr("2001:db8::1".parse().expect("ip")));
    assert_eq!(q("3.2.1.in-addr.arpa"), Query::Unknown);
    assert_eq!(q("256.3.2.1.in-addr.arpa"), Query::Unknown);
    assert_eq!(q("x.3.2.1.in-addr.arpa"), Query::Unknown);
    assert_eq!(p("foo.arpa", false), None);
}

#[test]
fn bad_names_are_unknown_not_panics() {
    assert_eq!(q("foo.consul"), Query::Unknown);
    assert_eq!(q("web.connect.consul"), Query::Unknown);
    assert_eq!(q("web.bogus.dc1.consul"), Query::Unknown);
    let long = "a".repeat(64);
    assert_eq!(q(&format!("{long}.node.consul")), Query::Unknown);
    let many = vec!["x"; 200].join(".");
    assert_eq!(q(&format!("{many}.node.consul")), Query::Unknown);
    let raw: [&[u8]; 4] = [b"\xff\x00", b"service", b"consul", b""];
    assert!(parse(&raw[..3], false, &domains()).is_some());
    assert!(Domains::new(".", None).is_err());
    assert!(Domains::new("a..b", None).is_err());
}
