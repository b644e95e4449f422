use super::*;
use crate::model::{GLOBAL_MANAGEMENT_ID, anonymous_token, global_management_link};

fn ctx(default_policy: DefaultPolicy) -> ResolveContext<'static> {
    ResolveContext {
        datacenter: "dc1",
        now: Timestamp::parse_rfc3339("2025-01-01T00:00:00Z").expect("now"),
        default_policy,
    }
}

fn link(id: &str) -> PolicyLink {
    PolicyLink {
        id: id.to_string(),
        name: String::new(),
    }
}

fn policy(id: &str, rules: &str, dcs: &[&str]) -> Policy {
    Policy {
        id: id.to_string(),
        name: format!("name-{id}"),
        rules: rules.to_string(),
        datacenters: dcs.iter().map(|d| d.to_string()).collect(),
        ..Policy::default()
    }
}

fn store() -> MemoryLookup {
    let mut s = MemoryLookup::with_builtins();
    s.add_policy(policy(
        "kv-read",
        r#"key_prefix "" { policy = "read" }"#,
        &[],
    ));
    s.add_policy(policy(
        "dc2-only",
        r#"key_prefix "" { policy = "write" }"#,
        &["dc2"],
    ));
    s.add_policy(policy("broken", r#"key "a" { policy = "nope" }"#, &[]));
    s.add_policy(policy("ops", r#"operator = "write""#, &["dc1"]));
    s.add_role(Role {
        id: "role-ops".to_string(),
        policies: vec![link("ops")],
        node_identities: vec![
            NodeIdentity {
                node_name: "n-dc1".to_string(),
                datacenter: "dc1".to_string(),
            },
            NodeIdentity {
                node_name: "n-dc2".to_string(),
                datacenter: "dc2".to_string(),
            },
        ],
        ..Role::default()
    });
    s
}

#[test]
fn management_token_allows_everything() {
    let token = Token {
        policies: vec![global_management_link()],
        ..Token::default()
    };
    let a = authorizer_for(&token, &store(), &ctx(DefaultPolicy::Deny)).expect("resolves");
    assert!(a.acl_write() && a.snapshot() && a.operator_write() && a.keyring_write());
    assert!(a.key_write_prefix("") && a.key_list("") && a.service_write("x"));
    assert!(a.node_write("n") && a.session_write("n") && a.agent_write("n"));
    assert!(a.event_write("e") && a.query_write("q") && a.mesh_write() && a.peering_write());
    assert!(a.intention_write("web"));
    assert_eq!(token.policies[0].id, GLOBAL_MANAGEMENT_ID);
}

#[test]
fn anonymous_token_gets_the_default_policy() {
    let token = anonymous_token();
    let a = authorizer_for(&token, &store(), &ctx(DefaultPolicy::Deny)).expect("resolves");
    assert!(!a.key_read("x"));
    let a = authorizer_for(&token, &store(), &ctx(DefaultPolicy::Allow)).expect("resolves");
    assert!(a.key_write("x") && !a.acl_read());
}

#[test]
fn datacenter_scoping_and_missing_links() {
    let token = Token {
        policies: vec![link("kv-read"), link("dc2-only"), link("missing")],
        roles: vec![link("role-ops"), link("missing-role")],
        ..Token::default()
    };
    let a = authorizer_for(&token, &store(), &ctx(DefaultPolicy::Deny)).expect("resolves");
    assert!(a.key_read("x"));
    assert!(!a.key_write("x"), "dc2-only must not apply in dc1");
    assert!(a.operator_write(), "role policy applies");
    assert!(a.node_write("n-dc1"), "node identity in dc1");
    assert!(!a.node_write("n-dc2"), "node identity of dc2");
    assert!(
        a.service_read("anything"),
        "node identity grants service read"
    );
}

#[test]
fn service_identities_grant_the_service_and_its_sidecar() {
    let token = Token {
        service_identities: vec![
            ServiceIdentity {
                service_name: "web".to_string(),
                datacenters: vec![],
            },
            ServiceIdentity {
                service_name: "db".to_string(),
                datacenters: vec!["dc2".to_string()],
            },
        ],
        ..Token::default()
    };
    let a = authorizer_for(&token, &store(), &ctx(DefaultPolicy::Deny)).expect("resolves");
    assert!(a.service_write("web") && a.service_write("web-sidecar-proxy"));
    assert!(!a.service_write("db") && a.service_read("db"));
    assert!(a.node_read("any") && !a.node_write("any"));
    assert!(!a.key_read("k"));
}

#[test]
fn expired_tokens_are_not_found() {
    let c = ctx(DefaultPolicy::Allow);
    let token = Token {
        policies: vec![global_management_link()],
        expiration_time: Some(Timestamp::from_unix_nanos(c.now.unix_nanos() - 1)),
        ..Token::default()
    };
    let err = authorizer_for(&token, &store(), &c).expect_err("expired");
    assert_eq!(err, ResolveError::NotFound);
    assert_eq!(err.to_string(), "ACL not found");
    let fresh = Token {
        expiration_time: Some(c.now),
        ..token
    };
    assert!(authorizer_for(&fresh, &store(), &c).is_ok());
}

#[test]
fn a_broken_policy_fails_resolution_with_consuls_text() {
    let token = Token {
        policies: vec![link("broken")],
        ..Token::default()
    };
    let err = authorizer_for(&token, &store(), &ctx(DefaultPolicy::Deny)).expect_err("broken");
    assert!(
        err.to_string().starts_with(
            "failed to parse the ACL policies: failed to parse \"name-broken\": Invalid key policy"
        ),
        "{err}"
    );
}
