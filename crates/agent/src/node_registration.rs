//! This node as the catalog should hold it: the node row with its `serfHealth` check, and
//! on servers the `consul` service Consul's leader registers for every server.

use crate::anti_entropy::CONSUL_SERVICE_ID;
use proconsul_config::RuntimeConfig;
use proconsul_state::Command;
use proconsul_types::catalog::{
    CheckStatus, HealthCheck, Node, NodeService, RegisterRequest, Weights,
};
use proconsul_types::session::SERF_HEALTH_CHECK;
use std::collections::BTreeMap;

pub fn node(config: &RuntimeConfig, node_id: &str) -> Node {
    let address = config.advertise_addr.to_string();
    let wan = config.advertise_addr_wan.to_string();
    let tagged = BTreeMap::from([
        ("lan".to_string(), address.clone()),
        ("lan_ipv4".to_string(), address.clone()),
        ("wan".to_string(), wan.clone()),
        ("wan_ipv4".to_string(), wan),
    ]);
    let mut meta = config.node_meta.clone();
    meta.insert("consul-network-segment".into(), String::new());
    meta.insert(
        "consul-version".into(),
        proconsul_types::version::CONSUL_COMPAT_VERSION.into(),
    );
    Node {
        id: node_id.to_string(),
        node: config.node_name.clone(),
        address,
        datacenter: config.datacenter.clone(),
        tagged_addresses: Some(tagged),
        meta: Some(meta),
        create_index: 0,
        modify_index: 0,
    }
}

/// The `consul` service of a server: port 8300 (the server port), Consul's meta keys.
fn consul_service(config: &RuntimeConfig) -> NodeService {
    let mut meta = BTreeMap::from([
        ("non_voter".to_string(), "false".to_string()),
        ("raft_version".to_string(), "3".to_string()),
        ("read_replica".to_string(), "false".to_string()),
        ("serf_protocol_current".to_string(), "2".to_string()),
        ("serf_protocol_max".to_string(), "5".to_string()),
        ("serf_protocol_min".to_string(), "1".to_string()),
        (
            "version".to_string(),
            proconsul_types::version::CONSUL_COMPAT_VERSION.to_string(),
        ),
    ]);
    if let Some(port) = config.ports.grpc {
        meta.insert("grpc_port".into(), port.to_string());
    }
    NodeService {
        id: CONSUL_SERVICE_ID.into(),
        service: CONSUL_SERVICE_ID.into(),
        port: config.ports.server.unwrap_or(8300),
        weights: Some(Weights::default()),
        meta: Some(meta),
        ..NodeService::default()
    }
}

/// The writes that (re)register this node: the node with its passing gossip check, then
/// (servers) the `consul` service.
pub fn commands(config: &RuntimeConfig, node: &Node) -> Vec<Command> {
    let check = HealthCheck {
        node: node.node.clone(),
        check_id: SERF_HEALTH_CHECK.into(),
        name: "Serf Health Status".into(),
        status: CheckStatus::Passing,
        output: "Agent alive and reachable".into(),
        ..HealthCheck::default()
    };
    let mut commands = vec![Command::NodeRegister {
        node: node.clone(),
        checks: vec![check],
    }];
    if config.server {
        let request = RegisterRequest {
            datacenter: node.datacenter.clone(),
            id: node.id.clone(),
            node: node.node.clone(),
            address: node.address.clone(),
            tagged_addresses: node.tagged_addresses.clone(),
            node_meta: node.meta.clone(),
            service: Some(consul_service(config)),
            skip_node_update: true,
            ..RegisterRequest::default()
        };
        commands.push(Command::CatalogRegister(Box::new(request)));
    }
    commands
}
