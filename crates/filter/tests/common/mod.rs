//! Realistic Consul response fixtures shared by the integration tests.
#![allow(dead_code)]

use proconsul_filter::Filter;
use serde_json::{Value, json};

/// `/v1/agent/services`: a map of service ID to AgentService.
pub fn agent_services() -> Value {
    json!({
        "web-1": {
            "Kind": "", "ID": "web-1", "Service": "web",
            "Tags": ["v2", "primary"],
            "Meta": {"env": "qa", "version": "2.0", "team.owner": "a b"},
            "Port": 8080, "Address": "10.0.0.1",
            "TaggedAddresses": {"lan_ipv4": {"Address": "10.0.0.1", "Port": 8080}},
            "Weights": {"Passing": 10, "Warning": 1},
            "EnableTagOverride": false, "Datacenter": "dc1"
        },
        "web-2": {
            "Kind": "", "ID": "web-2", "Service": "web",
            "Tags": ["v1"],
            "Meta": {"env": "prod"},
            "Port": 8081, "Address": "10.0.0.2",
            "Weights": {"Passing": 1, "Warning": 1},
            "EnableTagOverride": true, "Datacenter": "dc1"
        },
        "redis": {
            "Kind": "", "ID": "redis", "Service": "redis",
            "Tags": [], "Meta": {},
            "Port": 6379, "Address": "",
            "Weights": {"Passing": 1, "Warning": 1},
            "EnableTagOverride": false, "Datacenter": "dc1"
        },
        "web-sidecar-proxy": {
            "Kind": "connect-proxy", "ID": "web-sidecar-proxy", "Service": "web-sidecar-proxy",
            "Tags": null, "Meta": null,
            "Port": 21000, "Address": "",
            "Proxy": {"DestinationServiceName": "web", "LocalServicePort": 8080, "Upstreams": []},
            "Weights": {"Passing": 1, "Warning": 1},
            "EnableTagOverride": false, "Datacenter": "dc1"
        }
    })
}

/// `/v1/catalog/service/web`: a list of ServiceNode.
pub fn catalog_service() -> Value {
    json!([
        {
            "ID": "40e4a748-2192-161a-0510-9bf59fe950b5", "Node": "node-1", "Address": "192.168.10.10",
            "Datacenter": "dc1",
            "TaggedAddresses": {"lan": "192.168.10.10", "wan": "10.0.10.10"},
            "NodeMeta": {"instance_type": "t2.medium", "rack": "r1"},
            "ServiceKind": "", "ServiceID": "web-1", "ServiceName": "web",
            "ServiceTags": ["v2", "primary"], "ServiceAddress": "", "ServicePort": 8080,
            "ServiceMeta": {"version": "2.0"},
            "ServiceWeights": {"Passing": 10, "Warning": 1},
            "ServiceEnableTagOverride": false,
            "CreateIndex": 10, "ModifyIndex": 12
        },
        {
            "ID": "a1b2c3d4-2192-161a-0510-9bf59fe950b5", "Node": "node-2", "Address": "192.168.10.11",
            "Datacenter": "dc1",
            "TaggedAddresses": {"lan": "192.168.10.11"},
            "NodeMeta": {"instance_type": "m5.large"},
            "ServiceKind": "", "ServiceID": "web-2", "ServiceName": "web",
            "ServiceTags": ["v1"], "ServiceAddress": "10.1.1.1", "ServicePort": 8081,
            "ServiceMeta": {},
            "ServiceWeights": {"Passing": 1, "Warning": 1},
            "ServiceEnableTagOverride": true,
            "CreateIndex": 20, "ModifyIndex": 20
        }
    ])
}

/// `/v1/health/service/web`: a list of {Node, Service, Checks}.
pub fn health_service() -> Value {
    json!([
        {
            "Node": {"ID": "n1", "Node": "node-1", "Address": "192.168.10.10", "Datacenter": "dc1",
                     "Meta": {"os": "linux", "rack": "r1"}, "TaggedAddresses": {"lan": "192.168.10.10"}},
            "Service": {"ID": "web-1", "Service": "web", "Tags": ["v2", "primary"], "Port": 8080,
                        "Meta": {"version": "2.0"}, "Address": ""},
            "Checks": [
                {"Node": "node-1", "CheckID": "serfHealth", "Name": "Serf Health Status", "Status": "passing",
                 "ServiceID": "", "ServiceName": "", "ServiceTags": []},
                {"Node": "node-1", "CheckID": "service:web-1", "Name": "web check", "Status": "passing",
                 "ServiceID": "web-1", "ServiceName": "web", "ServiceTags": ["v2", "primary"]}
            ]
        },
        {
            "Node": {"ID": "n2", "Node": "node-2", "Address": "192.168.10.11", "Datacenter": "dc1",
                     "Meta": {"os": "windows"}, "TaggedAddresses": {"lan": "192.168.10.11"}},
            "Service": {"ID": "web-2", "Service": "web", "Tags": ["v1"], "Port": 8081,
                        "Meta": {}, "Address": "10.1.1.1"},
            "Checks": [
                {"Node": "node-2", "CheckID": "serfHealth", "Name": "Serf Health Status", "Status": "passing",
                 "ServiceID": "", "ServiceName": "", "ServiceTags": []},
                {"Node": "node-2", "CheckID": "service:web-2", "Name": "web check", "Status": "critical",
                 "ServiceID": "web-2", "ServiceName": "web", "ServiceTags": ["v1"]}
            ]
        },
        {
            "Node": {"ID": "n3", "Node": "node-3", "Address": "192.168.10.12", "Datacenter": "dc1",
                     "Meta": null, "TaggedAddresses": null},
            "Service": {"ID": "web-3", "Service": "web", "Tags": null, "Port": 8082,
                        "Meta": null, "Address": ""},
            "Checks": []
        }
    ])
}

/// Parses `expr` (panicking with the error on failure).
pub fn filter(expr: &str) -> Filter {
    match Filter::parse(expr) {
        Ok(f) => f,
        Err(e) => panic!("{expr:?} should parse: {e}"),
    }
}

/// The keys of the object entries `expr` keeps, sorted.
pub fn kept_keys(expr: &str, data: Value) -> Vec<String> {
    let out = filter(expr)
        .apply(data)
        .unwrap_or_else(|e| panic!("{expr:?}: {e}"));
    let mut keys: Vec<String> = out
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

/// The value of `field` (a JSON pointer) in each array element `expr` keeps.
pub fn kept_by(expr: &str, data: Value, pointer: &str) -> Vec<String> {
    let out = filter(expr)
        .apply(data)
        .unwrap_or_else(|e| panic!("{expr:?}: {e}"));
    out.as_array()
        .map(|a| {
            a.iter()
                .map(|v| {
                    v.pointer(pointer)
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Parse error text for `expr` (panics if it parses).
pub fn parse_error(expr: &str) -> String {
    match Filter::parse(expr) {
        Ok(_) => panic!("{expr:?} should not parse"),
        Err(e) => e.to_string(),
    }
}
