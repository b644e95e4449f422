//! The agent's DNS interface answers from the catalog: a service registered through
//! `/v1/catalog/register` resolves over UDP and TCP with `dig`, and goes away when its
//! check turns critical.

mod common;

use common::{Agent, wait_for};
use std::process::Command;
use std::time::Duration;

fn dig(agent: &Agent, args: &[&str]) -> Option<String> {
    let port = agent.dns_port.to_string();
    let output = Command::new("dig")
        .args(["@127.0.0.1", "-p", &port, "+short", "+tries=1", "+time=2"])
        .args(args)
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn register(agent: &Agent, node: &str, address: &str, status: &str) {
    let body = serde_json::json!({
        "Node": node, "Address": address,
        "Service": {"Service": "web", "Port": 8080, "Tags": ["v1"]},
        "Check": {"CheckID": "web-check", "Name": "web", "Status": status, "ServiceID": "web"},
    });
    let reply = agent.put("/v1/catalog/register", body.to_string().as_bytes());
    assert_eq!(
        (reply.status, reply.body.trim()),
        (200, "true"),
        "{}",
        reply.body
    );
}

#[test]
fn services_resolve_over_dns_and_unhealthy_ones_drop_out() {
    if Command::new("dig").arg("-v").output().is_err() {
        eprintln!("skipping: dig is not installed (apt-get install dnsutils)");
        return;
    }
    let agent = Agent::start_dev();
    register(&agent, "ext1", "10.1.2.3", "passing");
    register(&agent, "ext2", "10.1.2.4", "passing");
    let answers = wait_for("web.service.consul A", Duration::from_secs(10), || {
        let out = dig(&agent, &["web.service.consul"])?;
        (out.lines().count() == 2).then_some(out)
    });
    let mut lines: Vec<&str> = answers.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, ["10.1.2.3", "10.1.2.4"]);
    let srv = dig(&agent, &["web.service.consul", "SRV"]).unwrap_or_default();
    assert!(srv.contains("8080 ext1.node.dc1.consul."), "{srv}");
    assert_eq!(
        dig(&agent, &["v1.web.service.consul", "+tcp"])
            .unwrap_or_default()
            .lines()
            .count(),
        2
    );
    assert_eq!(
        dig(&agent, &["ext1.node.consul"]).as_deref(),
        Some("10.1.2.3")
    );

    register(&agent, "ext2", "10.1.2.4", "critical");
    let after = dig(&agent, &["web.service.consul"]).unwrap_or_default();
    assert_eq!(after, "10.1.2.3", "a critical instance is not served");
    let status = Command::new("dig")
        .args([
            "@127.0.0.1",
            "-p",
            &agent.dns_port.to_string(),
            "missing.service.consul",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    assert!(status.contains("status: NXDOMAIN"), "{status}");
}
