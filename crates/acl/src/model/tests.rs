use super::*;
use serde_json::json;

#[test]
fn token_json_has_consuls_names_and_order() {
    let token = Token {
        accessor_id: "6a1253d2-1785-24fd-91c2-f8e78c745511".to_string(),
        secret_id: "45a3bd52-07c7-47a4-52fd-0745e0cfe967".to_string(),
        description: "Agent token for 'node1'".to_string(),
        policies: vec![PolicyLink {
            id: "165d4317-e379-f732-ce70-86278c4558f7".to_string(),
            name: "node1-write".to_string(),
        }],
        service_identities: vec![ServiceIdentity {
            service_name: "web".to_string(),
            datacenters: vec!["dc1".to_string()],
        }],
        node_identities: vec![NodeIdentity {
            node_name: "node1".to_string(),
            datacenter: "dc1".to_string(),
        }],
        create_time: Timestamp::parse_rfc3339("2018-10-24T12:25:06.921933-04:00").expect("time"),
        hash: b"UuiRkOQPRCvoRZHRtUxxbrmwZ5crYrOdZ0Z1FTFbTbA=".to_vec(),
        create_index: 59,
        modify_index: 59,
        ..Token::default()
    };
    let text = serde_json::to_string(&token).expect("serializes");
    let order = [
        "\"AccessorID\"",
        "\"SecretID\"",
        "\"Description\"",
        "\"Policies\"",
        "\"ServiceIdentities\"",
        "\"NodeIdentities\"",
        "\"Local\"",
        "\"CreateTime\"",
        "\"Hash\"",
        "\"CreateIndex\"",
        "\"ModifyIndex\"",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|k| {
            text.find(k)
                .unwrap_or_else(|| panic!("{k} missing in {text}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    for absent in ["Roles", "AuthMethod", "ExpirationTime", "ExpirationTTL"] {
        assert!(!text.contains(absent), "{absent} in {text}");
    }
    let value: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        value["Policies"],
        json!([{"ID": "165d4317-e379-f732-ce70-86278c4558f7", "Name": "node1-write"}])
    );
    assert_eq!(
        value["ServiceIdentities"],
        json!([{"ServiceName": "web", "Datacenters": ["dc1"]}])
    );
    assert_eq!(
        value["NodeIdentities"],
        json!([{"NodeName": "node1", "Datacenter": "dc1"}])
    );
    assert_eq!(
        value["CreateTime"],
        json!("2018-10-24T12:25:06.921933-04:00")
    );
    let back: Token = serde_json::from_str(&text).expect("reads back");
    assert_eq!(back, token);
}

#[test]
fn token_requests_decode_case_insensitively_with_ttl_forms() {
    let body = json!({
        "description": "ci",
        "policies": [{"name": "readonly"}],
        "ExpirationTTL": "1h30m",
        "local": true
    });
    let token: Token = proconsul_types::decode::from_value(body).expect("decodes");
    assert_eq!(token.description, "ci");
    assert_eq!(token.policies[0].name, "readonly");
    assert_eq!(token.expiration_ttl, Some(Duration::from_secs(5400)));
    assert!(token.local);
    let token: Token =
        serde_json::from_value(json!({"ExpirationTTL": 2_000_000_000u64})).expect("number");
    assert_eq!(token.expiration_ttl, Some(Duration::from_secs(2)));
    assert_eq!(
        serde_json::to_value(&token).expect("ser")["ExpirationTTL"],
        json!(2_000_000_000u64)
    );
    assert!(serde_json::from_value::<Token>(json!({"ExpirationTTL": "soon"})).is_err());
    let token: Token = serde_json::from_value(json!({"ExpirationTTL": ""})).expect("empty");
    assert_eq!(token.expiration_ttl, None);
}

#[test]
fn expiry_is_strictly_before_now() {
    let at = Timestamp::parse_rfc3339("2030-01-01T00:00:00Z").expect("time");
    let token = Token {
        expiration_time: Some(at),
        ..Token::default()
    };
    assert!(!token.is_expired(at));
    assert!(token.is_expired(Timestamp::from_unix_nanos(at.unix_nanos() + 1)));
    assert!(!Token::default().is_expired(at));
    let zero = Token {
        expiration_time: Some(Timestamp::ZERO),
        ..Token::default()
    };
    assert!(!zero.is_expired(at));
}

#[test]
fn policy_and_role_shapes() {
    let policy = global_management_policy();
    let value = serde_json::to_value(&policy).expect("ser");
    assert_eq!(value["ID"], json!(GLOBAL_MANAGEMENT_ID));
    assert_eq!(value["Name"], json!("global-management"));
    assert_eq!(value["Hash"], json!(null));
    assert!(value.get("Datacenters").is_none());
    assert!(policy.applies_in("dc9"));
    let scoped = Policy {
        datacenters: vec!["dc1".to_string()],
        hash: vec![1, 2, 3],
        ..Policy::default()
    };
    assert!(scoped.applies_in("dc1") && !scoped.applies_in("dc2"));
    let value = serde_json::to_value(&scoped).expect("ser");
    assert_eq!(value["Hash"], json!("AQID"));
    assert_eq!(value["Datacenters"], json!(["dc1"]));
    let role: Role = serde_json::from_value(json!({
        "ID": "r1", "Name": "web", "Policies": [{"ID": "p1"}],
        "NodeIdentities": [{"NodeName": "n", "Datacenter": "dc1"}]
    }))
    .expect("role");
    assert_eq!(role.policies[0].id, "p1");
    let value = serde_json::to_value(&role).expect("ser");
    assert!(value.get("ServiceIdentities").is_none());
    assert_eq!(value["Policies"], json!([{"ID": "p1", "Name": ""}]));
}

#[test]
fn builtins_parse_and_the_anonymous_token_is_consuls() {
    for policy in builtin_policies() {
        crate::rules::Rules::parse(&policy.rules).expect("built-in rules parse");
        assert!(is_reserved_id(&policy.id));
    }
    let anon = anonymous_token();
    assert_eq!(anon.accessor_id, "00000000-0000-0000-0000-000000000002");
    assert_eq!(anon.secret_id, "anonymous");
    assert!(anon.policies.is_empty());
    assert_eq!(global_management_link().name, GLOBAL_MANAGEMENT_NAME);
}

#[test]
fn a_hash_that_is_not_base64_keeps_its_bytes() {
    let token: Token = serde_json::from_value(json!({"Hash": "not base64!"})).expect("token");
    assert_eq!(token.hash, b"not base64!".to_vec());
}
