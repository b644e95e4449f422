use super::*;

fn authz(rules: &[&str], default: DefaultPolicy) -> Authorizer {
    let parsed: Vec<Rules> = rules
        .iter()
        .map(|r| Rules::parse(r).expect("rules parse"))
        .collect();
    Authorizer::from_rules(&parsed, default)
}

#[test]
fn docs_key_example() {
    let a = authz(
        &[r#"
key_prefix "" { policy = "read" }
key_prefix "foo/" { policy = "write" }
key_prefix "foo/private/" { policy = "deny" }
key "foo/bar/secret" { policy = "deny" }
operator = "read"
"#],
        DefaultPolicy::Deny,
    );
    assert!(a.key_read("anything"));
    assert!(!a.key_write("anything"));
    assert!(a.key_write("foo/x"));
    assert!(!a.key_read("foo/private/x"));
    assert!(!a.key_read("foo/bar/secret"));
    assert!(a.key_write("foo/bar/secret/not-exact"));
    assert!(a.operator_read());
    assert!(!a.operator_write());
    // mesh and peering follow operator when unset
    assert!(a.mesh_read());
    assert!(!a.peering_write());
    // nothing about nodes: default deny
    assert!(!a.node_read("n1"));
}

#[test]
fn key_list_needs_list_or_write() {
    let a = authz(
        &[r#"
key_prefix "r/" { policy = "read" }
key_prefix "l/" { policy = "list" }
key_prefix "w/" { policy = "write" }
"#],
        DefaultPolicy::Deny,
    );
    assert!(!a.key_list("r/"));
    assert!(a.key_read("r/x"));
    assert!(a.key_list("l/"));
    assert!(a.key_read("l/x"));
    assert!(!a.key_write("l/x"));
    assert!(a.key_list("w/"));
}

#[test]
fn recursive_delete_needs_write_on_everything_below() {
    let a = authz(
        &[r#"
key_prefix "" { policy = "write" }
key_prefix "app/secret/" { policy = "deny" }
key "app/config" { policy = "read" }
"#],
        DefaultPolicy::Deny,
    );
    assert!(!a.key_write_prefix(""));
    assert!(!a.key_write_prefix("app/"));
    assert!(!a.key_write_prefix("app/con"));
    assert!(a.key_write_prefix("app/other/"));
    assert!(a.key_write_prefix("zzz"));
    // CVE-2019-12291: a prefix rule must not let a token delete outside it under default deny.
    let b = authz(
        &[r#"key_prefix "app/" { policy = "write" }"#],
        DefaultPolicy::Deny,
    );
    assert!(b.key_write_prefix("app/"));
    assert!(!b.key_write_prefix("ap"));
    assert!(!b.key_write_prefix(""));
    // ...while under default allow an uncovered prefix without sub-rules is allowed.
    let c = authz(
        &[r#"key_prefix "app/" { policy = "write" }"#],
        DefaultPolicy::Allow,
    );
    assert!(c.key_write_prefix("other/"));
    assert!(c.key_write_prefix(""));
    let d = authz(
        &[r#"key_prefix "app/" { policy = "read" }"#],
        DefaultPolicy::Allow,
    );
    assert!(!d.key_write_prefix(""));
}

#[test]
fn policies_merge_deny_first_on_the_same_rule_only() {
    let a = authz(
        &[
            r#"key_prefix "" { policy = "deny" }"#,
            r#"key_prefix "app/" { policy = "write" }"#,
            r#"key_prefix "" { policy = "write" }"#,
        ],
        DefaultPolicy::Allow,
    );
    assert!(!a.key_read("x"));
    assert!(a.key_write("app/x"));
    let b = authz(
        &[
            r#"service "web" { policy = "read" }"#,
            r#"service "web" { policy = "write" }"#,
        ],
        DefaultPolicy::Deny,
    );
    assert!(b.service_write("web"));
}

#[test]
fn default_allow_does_not_grant_acl_management() {
    let a = Authorizer::from_default(DefaultPolicy::Allow);
    assert!(a.key_write("x"));
    assert!(a.operator_write());
    assert!(a.mesh_write());
    assert!(!a.acl_read());
    assert!(!a.acl_write());
    assert!(!a.snapshot());
    let d = Authorizer::from_default(DefaultPolicy::Deny);
    assert!(!d.key_read("x"));
    assert!(!d.operator_read());
    let m = Authorizer::manage_all();
    assert!(m.acl_write() && m.key_write_prefix("") && m.snapshot());
}

#[test]
fn explicit_rules_beat_the_default() {
    let a = authz(
        &[r#"
acl = "read"
key_prefix "" { policy = "deny" }
"#],
        DefaultPolicy::Allow,
    );
    assert!(a.acl_read());
    assert!(!a.acl_write());
    assert!(!a.key_read("x"));
    assert!(a.node_write("n"));
}

#[test]
fn intentions_default_from_the_service_policy() {
    let a = authz(
        &[r#"
service "web" { policy = "write" }
service "db" { policy = "read" intentions = "write" }
service_prefix "" { policy = "deny" }
"#],
        DefaultPolicy::Allow,
    );
    assert!(a.intention_read("web"));
    assert!(!a.intention_write("web"));
    assert!(a.intention_write("db"));
    assert!(!a.intention_read("other"));
}

#[test]
fn every_labelled_kind_is_wired() {
    let a = authz(
        &[r#"
agent "a" { policy = "write" }
event "e" { policy = "write" }
node "n" { policy = "write" }
query "q" { policy = "write" }
session "s" { policy = "write" }
service "v" { policy = "write" }
keyring = "write"
mesh = "read"
peering = "write"
"#],
        DefaultPolicy::Deny,
    );
    assert!(a.agent_write("a") && a.agent_read("a") && !a.agent_read("b"));
    assert!(a.event_write("e") && a.event_read("e") && !a.event_read("f"));
    assert!(a.node_write("n") && a.node_read("n") && !a.node_read("m"));
    assert!(a.query_write("q") && a.query_read("q") && !a.query_read("r"));
    assert!(a.session_write("s") && a.session_read("s") && !a.session_read("t"));
    assert!(a.service_write("v") && a.service_read("v") && !a.service_read("w"));
    assert!(a.keyring_write() && a.keyring_read());
    assert!(a.mesh_read() && !a.mesh_write());
    assert!(a.peering_write() && !a.operator_read());
}
