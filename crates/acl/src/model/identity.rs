//! The synthetic policies behind service and node identities (Consul's
//! `aclPolicyTemplateServiceIdentity` / `aclPolicyTemplateNodeIdentity`), built directly as
//! rules so no name is ever interpolated into rule text.

use crate::access::Access;
use crate::rules::{Kind, Rule, Rules};

fn rule(kind: Kind, prefix: bool, name: &str, access: Access) -> Rule {
    Rule {
        kind,
        prefix,
        name: name.to_string(),
        access,
        intentions: None,
    }
}

/// A service identity: `service "<name>"` and `service "<name>-sidecar-proxy"` write,
/// `service_prefix ""` and `node_prefix ""` read.
pub fn service_identity_rules(service: &str) -> Rules {
    Rules {
        rules: vec![
            rule(Kind::Service, false, service, Access::Write),
            rule(
                Kind::Service,
                false,
                &format!("{service}-sidecar-proxy"),
                Access::Write,
            ),
            rule(Kind::Service, true, "", Access::Read),
            rule(Kind::Node, true, "", Access::Read),
        ],
        ..Rules::default()
    }
}

/// A node identity: `node "<name>"` write, `service_prefix ""` read.
pub fn node_identity_rules(node: &str) -> Rules {
    Rules {
        rules: vec![
            rule(Kind::Node, false, node, Access::Write),
            rule(Kind::Service, true, "", Access::Read),
        ],
        ..Rules::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_as_consuls_templates() {
        let svc = Rules::parse(
            r#"
service "web" { policy = "write" }
service "web-sidecar-proxy" { policy = "write" }
service_prefix "" { policy = "read" }
node_prefix "" { policy = "read" }"#,
        )
        .expect("template parses");
        assert_eq!(service_identity_rules("web"), svc);
        let node = Rules::parse(
            r#"
node "n1" { policy = "write" }
service_prefix "" { policy = "read" }"#,
        )
        .expect("template parses");
        assert_eq!(node_identity_rules("n1"), node);
    }
}
