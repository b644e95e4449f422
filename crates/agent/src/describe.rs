//! How this agent describes itself: the `/v1/agent/self` document and its member entry.

use proconsul_config::RuntimeConfig;
use proconsul_types::version::{CONSUL_COMPAT_VERSION, PROCONSUL_VERSION};
use serde_json::{Value, json};

pub struct Identity<'a> {
    pub config: &'a RuntimeConfig,
    pub node_id: &'a str,
}

fn port(p: Option<u16>) -> i64 {
    p.map_or(-1, i64::from)
}

pub fn member(id: &Identity<'_>) -> Value {
    let c = id.config;
    let mut tags = json!({
        "role": if c.server { "consul" } else { "node" },
        "dc": c.datacenter,
        "segment": "",
        "id": id.node_id,
        "vsn": "2", "vsn_min": "2", "vsn_max": "3",
        "build": format!("{CONSUL_COMPAT_VERSION}:proconsul-{PROCONSUL_VERSION}"),
        "raft_vsn": "3",
        "port": port(c.ports.server).to_string(),
        "wan_join_port": port(c.ports.serf_wan).to_string(),
    });
    if c.bootstrap_expect > 0 {
        tags["expect"] = json!(c.bootstrap_expect.to_string());
    }
    if c.bootstrap || c.dev_mode {
        tags["bootstrap"] = json!("1");
    }
    json!({
        "Name": c.node_name,
        "Addr": c.advertise_addr.to_string(),
        "Port": port(c.ports.serf_lan),
        "Tags": tags,
        "Status": 1,
        "ProtocolMin": 1, "ProtocolMax": 5, "ProtocolCur": 2,
        "DelegateMin": 2, "DelegateMax": 5, "DelegateCur": 4,
    })
}

pub fn agent_self(id: &Identity<'_>) -> Value {
    let c = id.config;
    json!({
        "Config": {
            "Datacenter": c.datacenter,
            "PrimaryDatacenter": c.primary_datacenter,
            "NodeName": c.node_name,
            "NodeID": id.node_id,
            "Partition": "",
            "Revision": "proconsul",
            "Server": c.server,
            "Version": CONSUL_COMPAT_VERSION,
            "BuildDate": "1970-01-01T00:00:01Z",
            // Patroni reads this (nanoseconds) when its TTL is refused.
            "SessionTTLMin": c.session_ttl_min.as_nanos() as u64,
        },
        "DebugConfig": {
            "Datacenter": c.datacenter,
            "NodeName": c.node_name,
            "NodeID": id.node_id,
            "ServerMode": c.server,
            "DevMode": c.dev_mode,
            "DataDir": c.data_dir.as_ref().map(|d| d.display().to_string()).unwrap_or_default(),
            "BindAddr": c.bind_addr.to_string(),
            "AdvertiseAddrLAN": c.advertise_addr.to_string(),
            "ClientAddrs": c.client_addrs.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "HTTPPort": port(c.ports.http),
            "DNSPort": port(c.ports.dns),
            "ServerPort": port(c.ports.server),
            "SerfPortLAN": port(c.ports.serf_lan),
            "SerfPortWAN": port(c.ports.serf_wan),
            "GRPCPort": port(c.ports.grpc),
            "SessionTTLMin": proconsul_types::duration::format(c.session_ttl_min),
            "EnableScriptChecks": c.enable_script_checks,
            "EnableLocalScriptChecks": c.enable_local_script_checks,
            "Version": CONSUL_COMPAT_VERSION,
        },
        "Coord": { "Vec": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], "Error": 1.5, "Adjustment": 0.0, "Height": 1.0e-5 },
        "Member": member(id),
        "Stats": {
            "agent": { "check_monitors": "0", "check_ttls": "0", "checks": "0", "services": "0" },
            "build": { "prerelease": "", "revision": "proconsul", "version": CONSUL_COMPAT_VERSION, "version_metadata": "" },
            "consul": { "server": c.server.to_string(), "known_datacenters": "1" },
        },
        "Meta": c.node_meta,
        "xDS": null,
    })
}
