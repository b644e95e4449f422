use super::*;

fn rule(kind: Kind, prefix: bool, name: &str, access: Access) -> Rule {
    Rule {
        kind,
        prefix,
        name: name.to_string(),
        access,
        intentions: None,
    }
}

const DOC_EXAMPLE_HCL: &str = r#"
# These control access to the key/value store.
key_prefix "" {
  policy = "read"
}
key_prefix "foo/" {
  policy = "write"
}
key_prefix "foo/private/" {
  policy = "deny"
}
// Or for exact key matches
key "foo/bar/secret" {
  policy = "deny"
}
/* cluster-wide operator information */
operator = "read"
"#;

const DOC_EXAMPLE_JSON: &str = r#"{
  "key_prefix": {
    "": { "policy": "read" },
    "foo/": { "policy": "write" },
    "foo/private/": { "policy": "deny" }
  },
  "key": { "foo/bar/secret": { "policy": "deny" } },
  "operator": "read"
}"#;

#[test]
fn hcl_and_json_forms_give_the_same_rules() {
    let hcl = Rules::parse(DOC_EXAMPLE_HCL).expect("hcl parses");
    let json = Rules::parse(DOC_EXAMPLE_JSON).expect("json parses");
    let want = vec![
        rule(Kind::Key, true, "", Access::Read),
        rule(Kind::Key, true, "foo/", Access::Write),
        rule(Kind::Key, true, "foo/private/", Access::Deny),
        rule(Kind::Key, false, "foo/bar/secret", Access::Deny),
    ];
    assert_eq!(hcl.rules, want);
    assert_eq!(hcl.operator, Some(Access::Read));
    assert_eq!(hcl, json);
}

#[test]
fn every_resource_is_accepted() {
    let text = r#"
agent "a" { policy = "read" }
agent_prefix "" { policy = "write" }
event "deploy" { policy = "write" }
event_prefix "" { policy = "read" }
key "k" { policy = "list" }
key_prefix "" { policy = "list" }
node "n" { policy = "write" }
node_prefix "" { policy = "read" }
query "q" { policy = "write" }
query_prefix "" { policy = "read" }
service "web" {
  policy = "write"
  intentions = "read"
}
service_prefix "" { policy = "read" }
session "n" { policy = "write" }
session_prefix "" { policy = "deny" }
acl = "read"
keyring = "write"
operator = "deny"
mesh = "read"
peering = "write"
"#;
    let rules = Rules::parse(text).expect("parses");
    assert_eq!(rules.rules.len(), 14);
    assert_eq!(rules.acl, Some(Access::Read));
    assert_eq!(rules.keyring, Some(Access::Write));
    assert_eq!(rules.operator, Some(Access::Deny));
    assert_eq!(rules.mesh, Some(Access::Read));
    assert_eq!(rules.peering, Some(Access::Write));
    let web = rules
        .rules
        .iter()
        .find(|r| r.kind == Kind::Service && !r.prefix)
        .expect("service rule");
    assert_eq!(web.intentions, Some(Access::Read));
    let session_prefix = rules
        .rules
        .iter()
        .find(|r| r.kind == Kind::Session && r.prefix)
        .expect("session_prefix rule");
    assert_eq!(session_prefix.access, Access::Deny);
}

#[test]
fn empty_and_blank_rules_are_an_empty_policy() {
    assert_eq!(Rules::parse("").expect("empty"), Rules::default());
    assert_eq!(Rules::parse("  \n").expect("blank"), Rules::default());
    assert_eq!(Rules::parse("{}").expect("empty json"), Rules::default());
    assert_eq!(
        Rules::parse("# only a comment\n").expect("comment"),
        Rules::default()
    );
}

#[test]
fn json_lists_of_blocks_are_accepted() {
    let text = r#"{"key": [{"a": {"policy": "read"}}, {"b": [{"policy": "write"}]}]}"#;
    let rules = Rules::parse(text).expect("parses");
    assert_eq!(
        rules.rules,
        vec![
            rule(Kind::Key, false, "a", Access::Read),
            rule(Kind::Key, false, "b", Access::Write)
        ]
    );
}

#[test]
fn hcl1_nested_block_form_is_accepted() {
    let rules = Rules::parse("key { ab { policy = \"read\" } }").expect("parses");
    assert_eq!(
        rules.rules,
        vec![rule(Kind::Key, false, "ab", Access::Read)]
    );
}

#[test]
fn levels_are_case_insensitive_and_unknown_things_ignored() {
    let text = r#"
key "a" {
  Policy = "WRITE"
  sentinel { code = "x" }
}
namespace "ns" { policy = "read" }
"#;
    let rules = Rules::parse(text).expect("parses");
    assert_eq!(
        rules.rules,
        vec![rule(Kind::Key, false, "a", Access::Write)]
    );
}

fn err(text: &str) -> String {
    match Rules::parse(text) {
        Ok(rules) => panic!("expected an error for {text:?}, got {rules:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn invalid_levels_use_consuls_texts() {
    assert_eq!(err(r#"acl = "nope""#), r#"Invalid acl policy: "nope""#);
    assert_eq!(
        err(r#"agent "foo" { policy = "nope" }"#),
        r#"Invalid agent policy: &acl.AgentRule{Node:"foo", Policy:"nope"}"#
    );
    assert_eq!(
        err(r#"key "foo" { policy = "nope" }"#),
        r#"Invalid key policy: &acl.KeyRule{Prefix:"foo", Policy:"nope", EnterpriseRule:acl.EnterpriseRule{}}"#
    );
    assert_eq!(
        err(r#"{"key_prefix": {"foo": {"policy": "nope"}}}"#),
        r#"Invalid key_prefix policy: &acl.KeyRule{Prefix:"foo", Policy:"nope", EnterpriseRule:acl.EnterpriseRule{}}"#
    );
    assert_eq!(
        err(r#"node_prefix "foo" { policy = "list" }"#),
        r#"Invalid node_prefix policy: &acl.NodeRule{Name:"foo", Policy:"list", EnterpriseRule:acl.EnterpriseRule{}}"#
    );
    assert_eq!(
        err(r#"service "foo" { policy = "nope" }"#),
        r#"Invalid service policy: &acl.ServiceRule{Name:"foo", Policy:"nope", Intentions:"", EnterpriseRule:acl.EnterpriseRule{}}"#
    );
    assert_eq!(
        err(r#"service_prefix "foo" { policy = "read" intentions = "nope" }"#),
        r#"Invalid service_prefix intentions policy: &acl.ServiceRule{Name:"foo", Policy:"read", Intentions:"nope", EnterpriseRule:acl.EnterpriseRule{}}"#
    );
    assert_eq!(
        err(r#"session "foo" { policy = "nope" }"#),
        r#"Invalid session policy: &acl.SessionRule{Node:"foo", Policy:"nope"}"#
    );
    assert_eq!(
        err(r#"event_prefix "foo" { policy = "nope" }"#),
        r#"Invalid event_prefix policy: &acl.EventRule{Event:"foo", Policy:"nope"}"#
    );
    assert_eq!(
        err(r#"query "foo" { policy = "nope" }"#),
        r#"Invalid query policy: &acl.PreparedQueryRule{Prefix:"foo", Policy:"nope"}"#
    );
    assert_eq!(
        err(r#"keyring = "list""#),
        r#"Invalid keyring policy: "list""#
    );
    assert_eq!(err(r#"operator = "x""#), r#"Invalid operator policy: "x""#);
    assert_eq!(err(r#"mesh = "x""#), r#"Invalid mesh policy: "x""#);
    assert_eq!(err(r#"peering = "x""#), r#"Invalid peering policy: "x""#);
}

#[test]
fn a_block_without_policy_is_invalid() {
    assert_eq!(
        err(r#"key "a" {}"#),
        r#"Invalid key policy: &acl.KeyRule{Prefix:"a", Policy:"", EnterpriseRule:acl.EnterpriseRule{}}"#
    );
}

#[test]
fn errors_follow_consuls_validation_order() {
    // Consul validates `acl` first and `operator` after the labelled kinds; agent before key.
    let text =
        "operator = \"bad\"\nkey \"k\" { policy = \"bad\" }\nagent \"a\" { policy = \"bad\" }";
    assert!(err(text).starts_with("Invalid agent policy"));
    let text = "key \"k\" { policy = \"bad\" }\nacl = \"bad\"";
    assert_eq!(err(text), r#"Invalid acl policy: "bad""#);
}

#[test]
fn names_are_quoted_like_go() {
    assert_eq!(
        err("key \"a\\\"b\\n\" { policy = \"x\" }"),
        r#"Invalid key policy: &acl.KeyRule{Prefix:"a\"b\n", Policy:"x", EnterpriseRule:acl.EnterpriseRule{}}"#
    );
}

#[test]
fn duplicate_arguments_and_bad_shapes_are_syntax_errors() {
    let e = err("key \"a\" {\n policy = \"read\"\n policy = \"write\"\n}");
    assert!(e.starts_with("Failed to parse ACL rules: "), "{e}");
    let e = err("acl = \"read\"\nacl = \"write\"");
    assert!(e.starts_with("Failed to parse ACL rules: "), "{e}");
    let e = err("key = \"read\"");
    assert!(e.starts_with("Failed to parse ACL rules: "), "{e}");
    let e = err("key \"a\" { policy = ");
    assert!(e.starts_with("Failed to parse ACL rules: "), "{e}");
    let e = err("[1, 2]");
    assert!(e.starts_with("Failed to parse ACL rules: "), "{e}");
}
