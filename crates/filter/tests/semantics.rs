//! Evaluation semantics over realistic Consul JSON.

mod common;

use common::*;
use proconsul_filter::{Filter, FilterError};
use serde_json::json;

#[test]
fn agent_services_table() {
    let cases: &[(&str, &[&str])] = &[
        // Consul documentation style examples.
        (r#"Service == "web""#, &["web-1", "web-2"]),
        ("Service == web", &["web-1", "web-2"]),
        (r#"Meta.env == "qa""#, &["web-1"]),
        (r#""v2" in Tags"#, &["web-1"]),
        (r#"Tags contains "v1""#, &["web-2"]),
        (
            r#""v2" not in Tags"#,
            &["redis", "web-2", "web-sidecar-proxy"],
        ),
        (
            r#"Tags not contains "v2""#,
            &["redis", "web-2", "web-sidecar-proxy"],
        ),
        ("Tags is empty", &["redis", "web-sidecar-proxy"]),
        ("Tags is not empty", &["web-1", "web-2"]),
        ("Meta is empty", &["redis", "web-sidecar-proxy"]),
        (r#"Kind == "connect-proxy""#, &["web-sidecar-proxy"]),
        (
            r#"Proxy.DestinationServiceName == "web""#,
            &["web-sidecar-proxy"],
        ),
        (
            "Proxy.Upstreams is empty",
            &["redis", "web-1", "web-2", "web-sidecar-proxy"],
        ),
        // number and bool coercion
        ("Port == 8080", &["web-1"]),
        (r#"Port == "8080""#, &["web-1"]),
        ("Port != 8080", &["redis", "web-2", "web-sidecar-proxy"]),
        (r#"Port == "0x1F90""#, &["web-1"]),
        ("Weights.Passing == 10", &["web-1"]),
        ("EnableTagOverride == true", &["web-2"]),
        (
            "EnableTagOverride == false",
            &["redis", "web-1", "web-sidecar-proxy"],
        ),
        (r#"EnableTagOverride == "True""#, &["web-2"]),
        (
            "EnableTagOverride != 1",
            &["redis", "web-1", "web-sidecar-proxy"],
        ),
        // substring and regex on strings
        (
            r#""eb" in Service"#,
            &["web-1", "web-2", "web-sidecar-proxy"],
        ),
        (r#"Service contains "proxy""#, &["web-sidecar-proxy"]),
        (r#"Service matches "^web-[a-z]+""#, &["web-sidecar-proxy"]),
        (r#"Service not matches "^web""#, &["redis"]),
        (
            r#"Address matches `^10\.0\.0\.[0-9]+$`"#,
            &["web-1", "web-2"],
        ),
        // map keys: present / absent, odd characters
        (r#""env" in Meta"#, &["web-1", "web-2"]),
        (r#"Meta contains "version""#, &["web-1"]),
        (r#"Meta["team.owner"] == "a b""#, &["web-1"]),
        (r#"Meta[ "team.owner" ] == `a b`"#, &["web-1"]),
        (r#"TaggedAddresses["lan_ipv4"].Port == 8080"#, &["web-1"]),
        (
            r#"TaggedAddresses.lan_ipv4.Address == "10.0.0.1""#,
            &["web-1"],
        ),
        // missing keys (go-bexpr map semantics)
        (
            r#"Meta.env != "qa""#,
            &["redis", "web-2", "web-sidecar-proxy"],
        ),
        ("Meta.env is empty", &["redis", "web-sidecar-proxy"]),
        ("Meta.env is not empty", &["web-1", "web-2"]),
        (
            r#"Meta.version matches "^2""#,
            &["redis", "web-1", "web-2", "web-sidecar-proxy"],
        ),
        // boolean structure
        (r#"Service == web and "v2" in Tags"#, &["web-1"]),
        (r#"Service == web and not "v2" in Tags"#, &["web-2"]),
        (r#"Service == redis or Port == 8081"#, &["redis", "web-2"]),
        (r#"not Service == web"#, &["redis", "web-sidecar-proxy"]),
        (r#"not not Service == web"#, &["web-1", "web-2"]),
        (
            r#"not (Service == web or Service == redis)"#,
            &["web-sidecar-proxy"],
        ),
        (r#"(Service == web)"#, &["web-1", "web-2"]),
        ("  ( ( Port == 6379 ) )  ", &["redis"]),
    ];
    for (expr, want) in cases {
        assert_eq!(kept_keys(expr, agent_services()), *want, "filter {expr:?}");
    }
}

#[test]
fn precedence_not_and_or() {
    // a and not b or c  ==  (a and (not b)) or c
    let data = agent_services();
    let a = kept_keys(
        r#"Service == web and not Port == 8080 or Service == redis"#,
        data.clone(),
    );
    let b = kept_keys(
        r#"(Service == web and (not Port == 8080)) or Service == redis"#,
        data.clone(),
    );
    assert_eq!(a, b);
    assert_eq!(a, ["redis", "web-2"]);
    // or binds looser than and, on either side
    let c = kept_keys(
        r#"Service == redis or Service == web and Port == 8080"#,
        data.clone(),
    );
    assert_eq!(c, ["redis", "web-1"]);
    let d = kept_keys(
        r#"(Service == redis or Service == web) and Port == 8080"#,
        data,
    );
    assert_eq!(d, ["web-1"]);
}

#[test]
fn catalog_service_table() {
    let cases: &[(&str, &[&str])] = &[
        (r#"ServiceTags contains "primary""#, &["node-1"]),
        (r#"NodeMeta.rack == r1"#, &["node-1"]),
        (r#"NodeMeta.instance_type matches "^m5""#, &["node-2"]),
        (
            r#"ServiceMeta.version == "2.0" and ServicePort == 8080"#,
            &["node-1"],
        ),
        (r#"ServiceAddress is empty"#, &["node-1"]),
        (r#"ServiceEnableTagOverride == true"#, &["node-2"]),
        (r#"ServiceWeights.Passing != 10"#, &["node-2"]),
        (r#"TaggedAddresses.wan is not empty"#, &["node-1"]),
        (r#""wan" not in TaggedAddresses"#, &["node-2"]),
        (r#"CreateIndex == 20"#, &["node-2"]),
        (
            r#"Node == "node-1" or Node == "node-2""#,
            &["node-1", "node-2"],
        ),
    ];
    for (expr, want) in cases {
        assert_eq!(
            kept_by(expr, catalog_service(), "/Node"),
            *want,
            "filter {expr:?}"
        );
    }
}

#[test]
fn health_service_any_element_semantics() {
    let cases: &[(&str, &[&str])] = &[
        // Any check passing: node-3 has no checks at all.
        (r#"Checks.Status == passing"#, &["node-1", "node-2"]),
        // Any check not passing — not "no check passing".
        (r#"Checks.Status != passing"#, &["node-2"]),
        (r#"Checks.Status == critical"#, &["node-2"]),
        (r#"not Checks.Status == critical"#, &["node-1", "node-3"]),
        (r#"Checks is empty"#, &["node-3"]),
        (r#"Checks.ServiceTags contains "v2""#, &["node-1"]),
        (r#"Checks.ServiceTags is empty"#, &["node-1", "node-2"]),
        (
            r#"Checks.CheckID matches "^service:""#,
            &["node-1", "node-2"],
        ),
        (
            r#"Service.Tags contains "v2" and Node.Meta.os == linux"#,
            &["node-1"],
        ),
        (r#"Node.Meta.os != linux"#, &["node-2", "node-3"]),
        (r#""rack" in Node.Meta"#, &["node-1"]),
        (r#"Service.Meta is empty"#, &["node-2", "node-3"]),
        (r#""v1" in Service.Tags"#, &["node-2"]),
        (r#"Service.Tags is empty"#, &["node-3"]),
        (r#"Service.Port == 8082"#, &["node-3"]),
        (
            r#"Node.TaggedAddresses.lan == "192.168.10.11""#,
            &["node-2"],
        ),
    ];
    for (expr, want) in cases {
        assert_eq!(
            kept_by(expr, health_service(), "/Node/Node"),
            *want,
            "filter {expr:?}"
        );
    }
}

#[test]
fn operators_positive_and_negative() {
    let item = json!({"S": "hello", "N": 3, "F": 1.5, "B": true, "A": ["x", 2, false], "O": {"k": 1}, "E": ""});
    let t = |e: &str| {
        filter(e)
            .matches(&item)
            .unwrap_or_else(|err| panic!("{e}: {err}"))
    };
    let table: &[(&str, bool)] = &[
        ("S == hello", true),
        ("S == world", false),
        ("S != hello", false),
        ("S != world", true),
        ("N == 3", true),
        ("N == 4", false),
        ("N != 3", false),
        ("N == -3", false),
        ("F == 1.5", true),
        ("F == 1.50", true),
        ("F != 1.5", false),
        ("F == 2", false),
        ("B == true", true),
        ("B == t", true),
        ("B == false", false),
        ("B != true", false),
        ("x in A", true),
        ("y in A", false),
        ("2 in A", true),
        ("3 in A", false),
        ("false in A", true),
        ("x not in A", false),
        ("y not in A", true),
        ("A contains x", true),
        ("A not contains x", false),
        ("k in O", true),
        ("z in O", false),
        ("O contains k", true),
        ("O not contains k", false),
        ("ell in S", true),
        ("S contains ell", true),
        ("S not contains xyz", true),
        ("S contains xyz", false),
        ("A is empty", false),
        ("A is not empty", true),
        ("O is empty", false),
        ("E is empty", true),
        ("E is not empty", false),
        ("S is empty", false),
        (r#"S matches "^h.l+o$""#, true),
        (r#"S matches "^x""#, false),
        (r#"S not matches "^x""#, true),
        (r#"S not matches "l""#, false),
        ("Missing == x", false),
        ("Missing != x", true),
        ("x in Missing", false),
        ("x not in Missing", true),
        ("Missing is empty", true),
        ("Missing is not empty", false),
        ("O.z == 1", false),
        ("O.k == 1", true),
        ("O.k != 1", false),
    ];
    for (expr, want) in table {
        assert_eq!(t(expr), *want, "filter {expr:?}");
    }
    // Mixed-type array membership: numbers coerced per element.
    let mixed = json!({"A": ["x", 2]});
    assert!(filter("2 in A").matches(&mixed).is_ok_and(|b| b));
    assert!(filter("\"2\" in A").matches(&mixed).is_ok_and(|b| b));
}

#[test]
fn escapes_and_raw_strings() {
    let item = json!({"S": "a\tb\"c\\d", "R": "C:\\dir\\n", "U": "é😀", "K": {"we\"ird key": "v", "x y": "z"}});
    let t = |e: &str| {
        filter(e)
            .matches(&item)
            .unwrap_or_else(|err| panic!("{e}: {err}"))
    };
    assert!(t(r#"S contains "a\tb""#));
    assert!(t(r#"S contains "\x61\u0009b""#));
    assert!(t(r#"S contains "\\d""#));
    assert!(t(r#"S contains `"c\d`"#));
    assert!(t(r#"R == `C:\dir\n`"#));
    assert!(t(r#"R == "C:\\dir\\n""#));
    assert!(t(r#"U == "\u00e9\U0001F600""#));
    assert!(t(r#"U == "é😀""#));
    assert!(t(r#"K[`we"ird key`] == v"#));
    assert!(t(r#"K["we\x22ird key"] == v"#));
    assert!(t(r#"K["x y"] == "z""#));
    assert!(t(r#""x y" in K"#));
}

#[test]
fn bare_values_and_selector_values() {
    let item = json!({"Node": "foo.bar", "Addr": "a.b c", "Name": "not"});
    let t = |e: &str| {
        filter(e)
            .matches(&item)
            .unwrap_or_else(|err| panic!("{e}: {err}"))
    };
    assert!(t("Node == foo.bar"));
    assert!(t(r#"Addr == a["b c"]"#));
    // keywords are ordinary identifiers where a value is expected
    assert!(t("Name == not"));
    assert!(t("not in Name"));
    let f = filter("notx == 1");
    assert!(f.matches(&json!({"notx": 1})).is_ok_and(|b| b));
}

#[test]
fn type_errors_use_consul_messages() {
    let item = json!({"Port": 80, "On": true, "Tags": ["a"], "Meta": {"k": "v"}, "Name": "x"});
    let err = |e: &str| filter(e).matches(&item).expect_err(e).to_string();
    assert_eq!(
        err("Port == abc"),
        "Failed to create boolean expression evaluator: Failed to coerce value \"abc\" for selector \"Port\": strconv.ParseInt: parsing \"abc\": invalid syntax"
    );
    assert_eq!(
        err("On == yes"),
        "Failed to create boolean expression evaluator: Failed to coerce value \"yes\" for selector \"On\": strconv.ParseBool: parsing \"yes\": invalid syntax"
    );
    assert_eq!(
        err("Tags == a"),
        "Failed to create boolean expression evaluator: Invalid match operator \"Equal\" for selector \"Tags\""
    );
    assert_eq!(
        err(r#"Port matches "8""#),
        "Failed to create boolean expression evaluator: Invalid match operator \"Matches\" for selector \"Port\""
    );
    assert_eq!(
        err("Meta != x"),
        "Failed to create boolean expression evaluator: Invalid match operator \"Not Equal\" for selector \"Meta\""
    );
    assert_eq!(
        err("x in Port"),
        "Failed to create boolean expression evaluator: Invalid match operator \"In\" for selector \"Port\""
    );
    assert_eq!(
        err("Port is empty"),
        "Failed to create boolean expression evaluator: Invalid match operator \"Is Empty\" for selector \"Port\""
    );
    assert_eq!(
        err("Name.Sub == x"),
        "Failed to create boolean expression evaluator: Selector \"Name.Sub\" is not valid"
    );
    // short-circuit: the failing right side is never evaluated
    assert!(
        filter("Port == 81 and Port == abc")
            .matches(&item)
            .is_ok_and(|b| !b)
    );
    assert!(
        filter("Port == 80 or Port == abc")
            .matches(&item)
            .is_ok_and(|b| b)
    );
}

#[test]
fn apply_shapes() {
    let f = filter("Port == 1");
    assert_eq!(f.apply(json!([])).ok(), Some(json!([])));
    assert_eq!(f.apply(json!({})).ok(), Some(json!({})));
    assert_eq!(f.apply(json!(null)).ok(), Some(json!(null)));
    assert_eq!(
        f.apply(json!([{"Port": 1}, {"Port": 2}])).ok(),
        Some(json!([{"Port": 1}]))
    );
    assert_eq!(
        f.apply(json!({"a": {"Port": 2}, "b": {"Port": 1}})).ok(),
        Some(json!({"b": {"Port": 1}}))
    );
    assert_eq!(f.apply(json!("x")), Err(FilterError::NotFilterable));
    assert_eq!(f.apply(json!([{"Port": "x"}])).ok(), Some(json!([])));
    assert!(filter("Port == 2").apply(json!([{"Port": true}])).is_err());
}

#[test]
fn selector_validation_schema() {
    let fields = [
        "Service",
        "ID",
        "Tags",
        "Port",
        "Meta",
        "Meta.*",
        "Weights",
        "Weights.Passing",
        "Weights.Warning",
        "TaggedAddresses",
        "TaggedAddresses.<any>",
        "TaggedAddresses.<any>.Port",
    ];
    assert!(Filter::parse_with_fields(r#"Service == web and Meta["a b"] == x"#, &fields).is_ok());
    assert!(Filter::parse_with_fields("TaggedAddresses.lan.Port == 1", &fields).is_ok());
    let e = Filter::parse_with_fields("Port == 1 or Foo == x", &fields).expect_err("Foo");
    assert_eq!(
        e.to_string(),
        "Failed to create boolean expression evaluator: Selector \"Foo\" is not valid"
    );
    let e = Filter::parse_with_fields("Weights.Bogus.X == 1", &fields).expect_err("Bogus");
    assert_eq!(e, FilterError::InvalidSelector("Weights.Bogus".into()));
    let e = Filter::parse_with_fields("Meta.a.b == 1", &fields).expect_err("too deep");
    assert_eq!(e, FilterError::InvalidSelector("Meta.a.b".into()));
    let f = filter("Tags is empty");
    assert!(f.validate_selectors(&fields).is_ok());
    assert!(f.validate_selectors(&["Service"]).is_err());
}

#[test]
fn parse_optional_and_accessors() {
    assert!(Filter::parse_optional("").is_ok_and(|f| f.is_none()));
    let f = Filter::parse_optional("a == b")
        .ok()
        .flatten()
        .expect("filter");
    assert_eq!(f.expression(), "a == b");
    assert!(Filter::parse_optional(" ").is_err());
}
