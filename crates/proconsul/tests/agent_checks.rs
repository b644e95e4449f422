//! Checks run by a real agent against real endpoints (an HTTP server whose status the test
//! flips, TCP and UDP listeners, scripts, alias checks), anti-entropy repairing the catalog,
//! `DeregisterCriticalServiceAfter`, config-file services with reload, and persistence.

mod common;

use common::{Agent, wait_for};
use serde_json::json;
use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(15);

/// A tiny HTTP server answering every request with the status in `status`; also counts the
/// failing (non-2xx) answers it gave.
fn flipping_server_counted() -> (String, Arc<AtomicU16>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/health", listener.local_addr().expect("addr"));
    let status = Arc::new(AtomicU16::new(200));
    let failures = Arc::new(AtomicUsize::new(0));
    let (shared, failed) = (status.clone(), failures.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 2048];
            let _ = stream.read(&mut buf);
            let code = shared.load(Ordering::SeqCst);
            let body = format!("status {code}");
            let reply = format!(
                "HTTP/1.1 {code} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            if stream.write_all(reply.as_bytes()).is_ok() && !(200..300).contains(&code) {
                failed.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    (url, status, failures)
}

fn flipping_server() -> (String, Arc<AtomicU16>) {
    let (url, status, _) = flipping_server_counted();
    (url, status)
}

fn register(agent: &Agent, body: serde_json::Value) {
    let reply = agent.put("/v1/agent/service/register", body.to_string().as_bytes());
    assert_eq!(reply.status, 200, "{reply:?}");
}

fn wait_status(agent: &Agent, check: &str, want: &str) -> serde_json::Value {
    wait_for(&format!("{check} {want}"), DEADLINE, || {
        let checks = agent.get("/v1/agent/checks").json();
        (checks[check]["Status"] == want).then(|| checks[check].clone())
    })
}

#[test]
fn http_check_follows_the_endpoint_and_the_catalog_follows_the_check() {
    let agent = Agent::start_dev();
    let (url, status) = flipping_server();
    register(
        &agent,
        json!({"ID": "web1", "Name": "web", "Port": 80,
               "Check": {"HTTP": url, "Interval": "1s", "Header": {"X-Probe": ["1"]}}}),
    );
    let check = wait_status(&agent, "service:web1", "passing");
    assert!(
        check["Output"]
            .as_str()
            .unwrap_or("")
            .contains("status 200"),
        "{check}"
    );
    wait_for("passing in the catalog", DEADLINE, || {
        let passing = agent.get("/v1/health/service/web?passing").json();
        (passing.as_array().map(Vec::len) == Some(1)).then_some(())
    });
    status.store(429, Ordering::SeqCst);
    wait_status(&agent, "service:web1", "warning");
    status.store(500, Ordering::SeqCst);
    wait_status(&agent, "service:web1", "critical");
    wait_for("critical in the catalog", DEADLINE, || {
        let passing = agent.get("/v1/health/service/web?passing").json();
        (passing == json!([])).then_some(())
    });
    status.store(200, Ordering::SeqCst);
    wait_status(&agent, "service:web1", "passing");
}

#[test]
fn thresholds_hold_back_a_flip() {
    let agent = Agent::start_dev();
    let (url, status, failures) = flipping_server_counted();
    register(
        &agent,
        json!({"Name": "api", "Check": {"HTTP": url, "Interval": "1s", "Status": "passing",
               "FailuresBeforeCritical": 3}}),
    );
    // Consul's handler reports a check's first result whatever it is; thresholds count
    // from the first success on. So let a passing probe run first.
    wait_for("a first passing probe", DEADLINE, || {
        let checks = agent.get("/v1/agent/checks").json();
        (checks["service:api"]["Output"]
            .as_str()?
            .contains("status 200"))
        .then_some(())
    });
    status.store(500, Ordering::SeqCst);
    // Polled far faster than the 1 s interval: the check may only turn critical once the
    // endpoint has failed three times (without the threshold, the first failure would do).
    let failed_before = wait_for("critical", DEADLINE, || {
        let seen = failures.load(Ordering::SeqCst);
        let checks = agent.get("/v1/agent/checks").json();
        (checks["service:api"]["Status"] == "critical").then_some(seen)
    });
    assert!(
        failed_before >= 2,
        "critical after {failed_before} failing answers"
    );
    assert!(failures.load(Ordering::SeqCst) >= 3);
}

#[test]
fn tcp_udp_and_alias_checks() {
    let agent = Agent::start_dev();
    let tcp = TcpListener::bind("127.0.0.1:0").expect("bind tcp");
    let tcp_addr = tcp.local_addr().expect("addr").to_string();
    let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
    let udp_addr = udp.local_addr().expect("addr").to_string();
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").to_string()
    };
    register(
        &agent,
        json!({"ID": "db1", "Name": "db", "Checks": [
            {"CheckID": "db-tcp", "TCP": tcp_addr, "Interval": "1s"},
            {"CheckID": "db-udp", "UDP": udp_addr, "Interval": "1s"}
        ]}),
    );
    register(
        &agent,
        json!({"ID": "down1", "Name": "down", "Check": {"CheckID": "down-tcp", "TCP": closed, "Interval": "1s", "Status": "passing"}}),
    );
    register(
        &agent,
        json!({"ID": "proxy1", "Name": "proxy", "Check": {"CheckID": "proxy-alias", "AliasService": "db1"}}),
    );
    wait_status(&agent, "db-tcp", "passing");
    wait_status(&agent, "db-udp", "passing");
    wait_status(&agent, "down-tcp", "critical");
    wait_status(&agent, "proxy-alias", "passing");
    // The alias mirrors db1: make db1 critical through a TTL check of its own.
    let ttl = json!({"Name": "db-ttl", "ServiceID": "db1", "TTL": "60s", "ID": "db-ttl"});
    let reply = agent.put("/v1/agent/check/register", ttl.to_string().as_bytes());
    assert_eq!(reply.status, 200, "{reply:?}");
    let aliased = wait_status(&agent, "proxy-alias", "critical");
    assert!(
        aliased["Output"].as_str().unwrap_or("").contains("db-ttl"),
        "{aliased}"
    );
    assert_eq!(agent.put("/v1/agent/check/pass/db-ttl", b"").status, 200);
    wait_status(&agent, "proxy-alias", "passing");
    drop(tcp);
}

#[test]
fn script_checks_need_enabling_and_map_exit_codes() {
    let agent = Agent::dev().arg("-enable-script-checks").start();
    let script = |code: i32| json!(["/bin/sh", "-c", format!("echo out{code}; exit {code}")]);
    register(
        &agent,
        json!({"Name": "jobs", "Checks": [
            {"CheckID": "s0", "Args": script(0), "Interval": "1s"},
            {"CheckID": "s1", "Args": script(1), "Interval": "1s"},
            {"CheckID": "s2", "Args": script(2), "Interval": "1s"}
        ]}),
    );
    let passing = wait_status(&agent, "s0", "passing");
    assert_eq!(passing["Output"], "out0\n");
    wait_status(&agent, "s1", "warning");
    wait_status(&agent, "s2", "critical");
    assert_eq!(agent.get("/v1/agent/checks").json()["s0"]["Type"], "script");
}

#[test]
fn anti_entropy_repairs_catalog_drift_both_ways() {
    let agent = Agent::dev().arg("-hcl=ae_interval = \"500ms\"").start();
    register(
        &agent,
        json!({"ID": "web1", "Name": "web", "Check": {"TTL": "60s"}}),
    );
    let node = agent.get("/v1/agent/self").json()["Config"]["NodeName"]
        .as_str()
        .expect("node name")
        .to_string();
    // Deleted from the catalog by hand: anti-entropy puts it back.
    let body = json!({"Node": node, "ServiceID": "web1"});
    let reply = agent.put("/v1/catalog/deregister", body.to_string().as_bytes());
    assert_eq!(reply.status, 200, "{reply:?}");
    wait_for("web1 back in the catalog", DEADLINE, || {
        let entries = agent.get("/v1/catalog/service/web").json();
        (entries.as_array().map(Vec::len) == Some(1)).then_some(())
    });
    wait_for("its check back", DEADLINE, || {
        let checks = agent.get(&format!("/v1/health/node/{node}")).json();
        let ids: Vec<_> = checks
            .as_array()?
            .iter()
            .map(|c| c["CheckID"].clone())
            .collect();
        ids.contains(&json!("service:web1")).then_some(())
    });
    // Registered in the catalog on this node behind the agent's back: removed.
    let body = json!({"Node": node, "Address": "127.0.0.1",
                      "Service": {"ID": "ghost", "Service": "ghost"}});
    let reply = agent.put("/v1/catalog/register", body.to_string().as_bytes());
    assert_eq!(reply.status, 200, "{reply:?}");
    wait_for("ghost removed", DEADLINE, || {
        (agent.get("/v1/catalog/service/ghost").json() == json!([])).then_some(())
    });
    // The server's own service is never touched.
    assert_eq!(
        agent
            .get("/v1/catalog/service/consul")
            .json()
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn services_critical_too_long_are_deregistered() {
    let agent = Agent::dev()
        .arg("-hcl=check_reap_interval = \"200ms\"")
        .arg("-hcl=check_deregister_interval_min = \"1s\"")
        .start();
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").to_string()
    };
    register(
        &agent,
        json!({"ID": "gone1", "Name": "gone", "Check": {"TCP": closed, "Interval": "1s",
               "DeregisterCriticalServiceAfter": "1s"}}),
    );
    register(
        &agent,
        json!({"ID": "stays1", "Name": "stays", "Check": {"TTL": "60s"}}),
    );
    wait_for("gone1 deregistered", DEADLINE, || {
        agent
            .get("/v1/agent/services")
            .json()
            .get("gone1")
            .is_none()
            .then_some(())
    });
    wait_for("gone1 out of the catalog", DEADLINE, || {
        (agent.get("/v1/catalog/service/gone").json() == json!([])).then_some(())
    });
    // A critical check without the option keeps its service.
    assert!(
        agent
            .get("/v1/agent/services")
            .json()
            .get("stays1")
            .is_some()
    );
}

#[test]
fn config_file_services_reload_on_sighup_and_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("services.hcl");
    std::fs::write(
        &file,
        "enable_local_script_checks = true\nservice {\n  name = \"web\"\n  port = 80\n  check {\n    args = [\"/bin/true\"]\n    interval = \"1s\"\n  }\n}\n",
    )
    .expect("write");
    let agent = Agent::dev()
        .arg(format!("-config-dir={}", dir.path().display()))
        .start();
    assert!(agent.get("/v1/agent/services").json().get("web").is_some());
    wait_status(&agent, "service:web", "passing");
    // Local script checks do not open the API to scripts.
    let body = json!({"Name": "api", "Check": {"Args": ["/bin/true"], "Interval": "1s"}});
    let reply = agent.put("/v1/agent/service/register", body.to_string().as_bytes());
    assert_eq!(reply.status, 500, "{reply:?}");
    register(&agent, json!({"Name": "from-api", "Check": {"TTL": "60s"}}));

    std::fs::write(
        &file,
        "services = [\n  { name = \"db\", port = 5432, checks = [{ ttl = \"30s\" }] }\n]\n",
    )
    .expect("rewrite");
    let status = std::process::Command::new("kill")
        .args(["-HUP", &agent.pid().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    wait_for("reload by SIGHUP", DEADLINE, || {
        let services = agent.get("/v1/agent/services").json();
        (services.get("db").is_some() && services.get("web").is_none()).then_some(())
    });
    assert!(
        agent
            .get("/v1/agent/services")
            .json()
            .get("from-api")
            .is_some()
    );
    assert_eq!(agent.get("/v1/catalog/service/web").json(), json!([]));

    std::fs::write(&file, "service { name = \"cache\" }\n").expect("rewrite");
    assert_eq!(agent.put("/v1/agent/reload", b"").status, 200);
    let services = agent.get("/v1/agent/services").json();
    assert!(
        services.get("cache").is_some() && services.get("db").is_none(),
        "{services}"
    );
    std::fs::write(&file, "service { port = \"not a number\" }\n").expect("rewrite");
    let reply = agent.put("/v1/agent/reload", b"");
    assert_eq!(reply.status, 500, "{reply:?}");
    assert!(
        agent
            .get("/v1/agent/services")
            .json()
            .get("cache")
            .is_some(),
        "a bad reload changes nothing"
    );
}

#[test]
fn api_registrations_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut agent = Agent::dev().durable(dir.path()).start();
    register(
        &agent,
        json!({"ID": "web1", "Name": "web", "Tags": ["x"], "Check": {"TTL": "60s"}}),
    );
    let check = json!({"Name": "disk", "TTL": "60s"});
    assert_eq!(
        agent
            .put("/v1/agent/check/register", check.to_string().as_bytes())
            .status,
        200
    );
    assert_eq!(
        agent
            .put(
                "/v1/agent/service/maintenance/web1?enable=true&reason=r",
                b""
            )
            .status,
        200
    );
    let pass = agent.put("/v1/agent/check/pass/service:web1?note=fine", b"");
    assert_eq!(pass.status, 200);
    agent.terminate();
    let agent = Agent::dev().durable(dir.path()).start();
    let services = agent.get("/v1/agent/services").json();
    assert_eq!(services["web1"]["Tags"], json!(["x"]));
    let checks = agent.get("/v1/agent/checks").json();
    assert!(checks.get("service:web1").is_some(), "{checks}");
    assert!(checks.get("disk").is_some(), "{checks}");
    assert_eq!(checks["_service_maintenance:web1"]["Notes"], "r");
    // A TTL check whose TTL had not run out keeps its last result.
    assert_eq!(checks["service:web1"]["Status"], "passing");
    assert_eq!(checks["service:web1"]["Output"], "fine");
    wait_for("web1 in the catalog", DEADLINE, || {
        let entries = agent.get("/v1/catalog/service/web").json();
        (entries.as_array().map(Vec::len) == Some(1)).then_some(())
    });
}
