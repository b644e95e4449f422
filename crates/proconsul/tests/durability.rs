//! Durability of one server with `-data-dir`, tested on the real binary with real SIGKILLs and
//! real files: every write that got a 200 survives a crash, recovery after recovery; a torn WAL
//! tail is cut and reported while damage in the middle of the log refuses to start; snapshots
//! bound the WAL and restore the state; a restart keeps the node ID, re-elects at once, re-arms
//! session TTLs, and SIGTERM exits 0.
//!
//! Nothing sleeps to get green: every wait polls with a deadline.

mod common;

use common::{Agent, Reply, request, wait_for};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// SplitMix64: a seeded, dependency-free generator, so a failing round can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn seed() -> u64 {
    std::env::var("DURABILITY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_D00D)
}

/// Writes a JSON config file into `dir` and returns the `-config-file` flag for it.
fn config_flag(dir: &Path, config: &Value) -> String {
    let path = dir.join("durability-test-config.json");
    std::fs::write(&path, config.to_string()).expect("write config file");
    format!("-config-file={}", path.display())
}

/// Starts a durable agent on `dir` (on `port` if given) and reports how long it took to serve.
fn start(dir: &Path, port: Option<u16>, args: &[String]) -> (Agent, Duration) {
    let started = Instant::now();
    let mut builder = Agent::dev().durable(dir);
    if let Some(port) = port {
        builder = builder.http_port(port);
    }
    for arg in args {
        builder = builder.arg(arg.clone());
    }
    let agent = builder.start();
    (agent, started.elapsed())
}

/// One request that must be answered (any status), retried while the agent is not listening.
fn call(agent: &Agent, method: &str, path: &str, body: Option<&[u8]>) -> Reply {
    agent.http(method, path, body)
}

fn kv_entries(agent: &Agent, prefix: &str) -> (BTreeMap<String, Value>, u64) {
    let reply = call(agent, "GET", &format!("/v1/kv/{prefix}?recurse"), None);
    let index = reply.index();
    if reply.status == 404 {
        return (BTreeMap::new(), index);
    }
    assert_eq!(reply.status, 200, "{reply:?}");
    let entries = match reply.json() {
        Value::Array(items) => items,
        other => panic!("not a list: {other}"),
    };
    let map = entries
        .into_iter()
        .map(|e| (e["Key"].as_str().unwrap_or_default().to_string(), e))
        .collect();
    (map, index)
}

fn b64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c).expect("base64 digit") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn value_of(entry: &Value) -> String {
    let raw = entry["Value"].as_str().map(b64_decode).unwrap_or_default();
    String::from_utf8(raw).expect("utf-8 value")
}

fn stat(agent: &Agent, name: &str) -> u64 {
    let body = call(agent, "GET", "/v1/agent/self", None).json();
    body["Stats"]["raft"][name]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("Stats.raft.{name} in {body}"))
}

fn node_id(agent: &Agent) -> String {
    let body = call(agent, "GET", "/v1/agent/self", None).json();
    body["Config"]["NodeID"]
        .as_str()
        .expect("Config.NodeID")
        .to_string()
}

fn wal_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("raft").join("wal")
}

/// WAL segment files, oldest first.
fn segments(data_dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(wal_dir(data_dir))
        .expect("wal dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    found.sort();
    found
}

// ---------------------------------------------------------------------------------------------
// 1. Crash during writes
// ---------------------------------------------------------------------------------------------

/// What a key must look like after recovery.
#[derive(Debug, Clone, PartialEq)]
enum Expect {
    Absent,
    Value(String),
    /// Held by this session, with this value.
    Locked(String, String),
}

/// The writes one client thread saw acknowledged, and the one that was in flight at the crash.
#[derive(Default)]
struct History {
    /// Last acknowledged state per key.
    acked: BTreeMap<String, Expect>,
    /// A request without an answer: the key is either as in `acked` or as here.
    in_flight: Option<(String, Expect)>,
    /// Highest `ModifyIndex` seen per key, and highest `X-Consul-Index` seen at all.
    modify_index: BTreeMap<String, u64>,
    max_index: u64,
    acks: usize,
}

enum Outcome {
    Acked(Reply),
    /// No answer (connection refused or reset) or a non-200: the write may or may not exist.
    Unknown,
}

fn send(url: &str, method: &str, body: Option<&[u8]>) -> Outcome {
    match request(method, url, body) {
        Ok(reply) if reply.status == 200 => Outcome::Acked(reply),
        _ => Outcome::Unknown,
    }
}

struct Writer {
    base: String,
    thread: usize,
    round: usize,
    rng: Rng,
    history: History,
    acks: Arc<AtomicUsize>,
}

impl Writer {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn ack(&mut self, key: &str, expect: Expect) {
        self.history.acked.insert(key.to_string(), expect);
        self.history.in_flight = None;
        self.history.acks += 1;
        self.acks.fetch_add(1, Ordering::SeqCst);
    }

    /// Runs until a request goes unanswered (the agent was killed).
    fn run(mut self) -> History {
        for seq in 0.. {
            let key = format!("crash/t{}/k{}", self.thread, self.rng.below(6));
            let value = format!("v-{}-{}-{}", self.round, self.thread, seq);
            let done = match self.rng.below(10) {
                0..=3 => self.put(&key, &value),
                4..=6 => self.cas(&key, &value),
                7 => self.delete(&key),
                _ => self.lock(seq, &value),
            };
            if !done {
                return self.history;
            }
        }
        self.history
    }

    fn put(&mut self, key: &str, value: &str) -> bool {
        self.history.in_flight = Some((key.into(), Expect::Value(value.into())));
        match send(
            &self.url(&format!("/v1/kv/{key}")),
            "PUT",
            Some(value.as_bytes()),
        ) {
            Outcome::Acked(reply) => {
                assert_eq!(reply.body.trim(), "true", "PUT {key}");
                self.ack(key, Expect::Value(value.into()));
                true
            }
            Outcome::Unknown => false,
        }
    }

    fn cas(&mut self, key: &str, value: &str) -> bool {
        let Ok(read) = request("GET", &self.url(&format!("/v1/kv/{key}")), None) else {
            return false;
        };
        let index = match read.status {
            200 => {
                let entry = &read.json()[0];
                let modify = entry["ModifyIndex"].as_u64().expect("ModifyIndex");
                let seen = self.history.modify_index.entry(key.into()).or_default();
                assert!(
                    modify >= *seen,
                    "{key}: ModifyIndex went back {seen} -> {modify}"
                );
                *seen = modify;
                modify
            }
            404 => 0,
            _ => return false,
        };
        self.history.max_index = self.history.max_index.max(read.index());
        self.history.in_flight = Some((key.into(), Expect::Value(value.into())));
        let url = self.url(&format!("/v1/kv/{key}?cas={index}"));
        match send(&url, "PUT", Some(value.as_bytes())) {
            Outcome::Acked(reply) => {
                // Each thread owns its keys, so nobody else can move the index in between.
                assert_eq!(reply.body.trim(), "true", "CAS {key} at {index}");
                self.ack(key, Expect::Value(value.into()));
                true
            }
            Outcome::Unknown => false,
        }
    }

    fn delete(&mut self, key: &str) -> bool {
        self.history.in_flight = Some((key.into(), Expect::Absent));
        match send(&self.url(&format!("/v1/kv/{key}")), "DELETE", None) {
            Outcome::Acked(_) => {
                self.ack(key, Expect::Absent);
                true
            }
            Outcome::Unknown => false,
        }
    }

    /// Creates a session and acquires a fresh lock key with it.
    fn lock(&mut self, seq: usize, value: &str) -> bool {
        let body = br#"{"LockDelay":"0s","Behavior":"release"}"#;
        let Outcome::Acked(created) = send(&self.url("/v1/session/create"), "PUT", Some(body))
        else {
            return false;
        };
        let session = created.json()["ID"].as_str().expect("ID").to_string();
        let key = format!("crash/t{}/lock-{}-{}", self.thread, self.round, seq);
        let expect = Expect::Locked(session.clone(), value.into());
        self.history.in_flight = Some((key.clone(), expect.clone()));
        let url = self.url(&format!("/v1/kv/{key}?acquire={session}"));
        match send(&url, "PUT", Some(value.as_bytes())) {
            Outcome::Acked(reply) => {
                assert_eq!(reply.body.trim(), "true", "acquire {key}");
                self.ack(&key, expect);
                true
            }
            Outcome::Unknown => false,
        }
    }
}

/// Checks every key against the model and returns what is on disk now, resolving each
/// in-flight write to what recovery actually kept.
fn verify(
    agent: &Agent,
    model: &mut BTreeMap<String, Expect>,
    in_flight: &[(String, Expect)],
    modify_index: &mut BTreeMap<String, u64>,
    max_index: u64,
) {
    let (entries, index) = kv_entries(agent, "crash/");
    assert!(
        index >= max_index,
        "X-Consul-Index went back: {max_index} -> {index}"
    );
    let actual = |key: &str| match entries.get(key) {
        None => Expect::Absent,
        Some(e) => match e["Session"].as_str() {
            Some(s) => Expect::Locked(s.to_string(), value_of(e)),
            None => Expect::Value(value_of(e)),
        },
    };
    for (key, maybe) in in_flight {
        let before = model.get(key).cloned().unwrap_or(Expect::Absent);
        let now = actual(key);
        assert!(
            now == before || now == *maybe,
            "{key}: after the crash {now:?}, expected {before:?} or the in-flight {maybe:?}"
        );
        model.insert(key.clone(), now);
    }
    for (key, expect) in model.iter() {
        assert_eq!(&actual(key), expect, "{key} after recovery");
    }
    let extra: Vec<_> = entries.keys().filter(|k| !model.contains_key(*k)).collect();
    assert!(extra.is_empty(), "keys nobody wrote: {extra:?}");
    for (key, entry) in &entries {
        let modify = entry["ModifyIndex"].as_u64().expect("ModifyIndex");
        let seen = modify_index.entry(key.clone()).or_default();
        assert!(
            modify >= *seen,
            "{key}: ModifyIndex went back {seen} -> {modify}"
        );
        *seen = modify;
        if let Some(session) = entry["Session"].as_str() {
            assert!(
                entry["LockIndex"].as_u64().unwrap_or(0) >= 1,
                "{key}: LockIndex"
            );
            let info = call(agent, "GET", &format!("/v1/session/info/{session}"), None);
            assert_eq!(
                info.json().as_array().map(Vec::len),
                Some(1),
                "{key}: session {session}"
            );
        }
    }
}

/// Runs writer threads against `agent` and SIGKILLs it after `kill_after` acknowledgements.
fn crash_round(agent: &mut Agent, round: usize, rng: &mut Rng) -> Vec<History> {
    let acks = Arc::new(AtomicUsize::new(0));
    let kill_after = 20 + rng.below(120) as usize;
    let base = format!("http://127.0.0.1:{}", agent.http_port);
    let handles: Vec<_> = (0..4)
        .map(|thread| {
            let writer = Writer {
                base: base.clone(),
                thread,
                round,
                rng: Rng(rng.next()),
                history: History::default(),
                acks: acks.clone(),
            };
            std::thread::spawn(move || writer.run())
        })
        .collect();
    wait_for("writes to be acknowledged", Duration::from_secs(60), || {
        (acks.load(Ordering::SeqCst) >= kill_after).then_some(())
    });
    agent.kill();
    let histories: Vec<History> = handles
        .into_iter()
        .map(|h| h.join().expect("writer thread"))
        .collect();
    eprintln!(
        "round {round}: killed after {} acknowledged writes (target {kill_after})",
        acks.load(Ordering::SeqCst)
    );
    histories
}

#[test]
fn acknowledged_writes_survive_sigkill_round_after_round() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = Rng(seed());
    let mut model: BTreeMap<String, Expect> = BTreeMap::new();
    let mut modify_index = BTreeMap::new();
    let (mut agent, took) = start(dir.path(), None, &[]);
    eprintln!("first start: {took:?}");
    let port = agent.http_port;
    for round in 0..5 {
        // The self-registration that sessions need happens right after the election.
        wait_for("node registration", Duration::from_secs(20), || {
            let r = call(&agent, "PUT", "/v1/session/create", Some(b"{}"));
            (r.status == 200).then_some(())
        });
        let histories = crash_round(&mut agent, round, &mut rng);
        let mut in_flight = Vec::new();
        let mut max_index = 0;
        for history in histories {
            for (key, expect) in history.acked {
                model.insert(key, expect);
            }
            in_flight.extend(history.in_flight);
            max_index = max_index.max(history.max_index);
            for (key, index) in history.modify_index {
                let seen = modify_index.entry(key).or_default();
                *seen = index.max(*seen);
            }
        }
        let (restarted, took) = start(dir.path(), Some(port), &[]);
        eprintln!("round {round}: restart to leader in {took:?}");
        agent = restarted;
        verify(&agent, &mut model, &in_flight, &mut modify_index, max_index);
    }
    assert!(model.len() >= 10, "too few keys exercised: {}", model.len());
}

// ---------------------------------------------------------------------------------------------
// 2. Torn tail and mid-log corruption
// ---------------------------------------------------------------------------------------------

/// Writes `count` keys under `prefix` and returns them with their values.
fn write_keys(agent: &Agent, prefix: &str, count: usize) -> BTreeMap<String, String> {
    (0..count)
        .map(|i| {
            let key = format!("{prefix}/k{i:03}");
            let value = format!("value-{prefix}-{i}");
            let reply = call(
                agent,
                "PUT",
                &format!("/v1/kv/{key}"),
                Some(value.as_bytes()),
            );
            assert_eq!(
                (reply.status, reply.body.trim()),
                (200, "true"),
                "PUT {key}"
            );
            (key, value)
        })
        .collect()
}

fn assert_keys(agent: &Agent, keys: &BTreeMap<String, String>) {
    for (key, value) in keys {
        let got = call(agent, "GET", &format!("/v1/kv/{key}?raw"), None);
        assert_eq!(
            (got.status, got.body.as_str()),
            (200, value.as_str()),
            "{key}"
        );
    }
}

/// Byte offsets `(start, len)` of every record in a segment (40-byte header, then records of
/// a 16-byte header — len u32, crc u32, index u64 — and the payload).
fn records(segment: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 40;
    while at + 16 <= segment.len() {
        let len = u32::from_le_bytes(segment[at..at + 4].try_into().expect("4 bytes")) as usize;
        if at + 16 + len > segment.len() {
            break;
        }
        out.push((at, 16 + len));
        at += 16 + len;
    }
    out
}

fn append_to(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open segment");
    file.write_all(bytes).expect("append");
}

/// A record header for the next index with a payload cut short: what a crash during an
/// unacknowledged append leaves.
fn partial_next_record(segment: &[u8]) -> Vec<u8> {
    let (start, len) = *records(segment).last().expect("a record");
    let mut record = segment[start..start + len].to_vec();
    let index = u64::from_le_bytes(record[8..16].try_into().expect("8 bytes"));
    record[8..16].copy_from_slice(&(index + 1).to_le_bytes());
    record.truncate(16 + (len - 16) / 2);
    record
}

/// Runs the binary on `dir` expecting it to refuse to start; returns its output.
fn start_fails(dir: &Path) -> String {
    let out = Command::new(common::bin())
        .args([
            "agent",
            "-server",
            "-bootstrap-expect=1",
            "-bind=127.0.0.1",
            "-client=127.0.0.1",
        ])
        .arg(format!("-data-dir={}", dir.display()))
        .arg(format!("-http-port={}", common::free_port()))
        .arg(format!("-server-port={}", common::free_port()))
        .arg(format!("-dns-port={}", common::free_port()))
        .arg(format!("-serf-lan-port={}", common::free_port()))
        .arg(format!("-serf-wan-port={}", common::free_port()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = out.id();
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let done = done.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            while !done.load(Ordering::SeqCst) {
                if start.elapsed() > Duration::from_secs(20) {
                    let _ = Command::new("kill")
                        .arg("-KILL")
                        .arg(pid.to_string())
                        .status();
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let output = out.wait_with_output().expect("agent output");
    done.store(true, Ordering::SeqCst);
    let _ = watchdog.join();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !output.status.success() && output.status.code().is_some(),
        "expected a refusal with an exit code, got {:?}; output:\n{text}",
        output.status
    );
    text
}

#[test]
fn torn_tail_is_cut_and_mid_log_damage_refuses_to_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut agent, _) = start(dir.path(), None, &[]);
    let port = agent.http_port;
    let mut keys = write_keys(&agent, "torn/a", 40);
    assert_eq!(agent.terminate().code(), Some(0), "SIGTERM exit");

    // (a) Random garbage after the last record.
    let tail = segments(dir.path()).pop().expect("a segment");
    let mut rng = Rng(seed());
    let garbage: Vec<u8> = (0..301).map(|_| (rng.next() | 1) as u8).collect();
    append_to(&tail, &garbage);
    let (agent, _) = start(dir.path(), Some(port), &[]);
    assert!(
        agent.log().contains("torn"),
        "no torn-tail report in:\n{}",
        agent.log()
    );
    assert_keys(&agent, &keys);
    keys.extend(write_keys(&agent, "torn/b", 20));
    drop(agent); // SIGKILL

    // (b) A record for the next index whose payload never fully reached the disk.
    let tail = segments(dir.path()).pop().expect("a segment");
    let bytes = std::fs::read(&tail).expect("read segment");
    append_to(&tail, &partial_next_record(&bytes));
    let (agent, _) = start(dir.path(), Some(port), &[]);
    assert!(
        agent.log().contains("torn"),
        "no torn-tail report in:\n{}",
        agent.log()
    );
    assert_keys(&agent, &keys);
    keys.extend(write_keys(&agent, "torn/c", 20));
    drop(agent);

    // (c) Zero-filled blocks (size updated, data never written).
    let tail = segments(dir.path()).pop().expect("a segment");
    append_to(&tail, &[0u8; 4096]);
    let (mut agent, _) = start(dir.path(), Some(port), &[]);
    assert!(
        agent.log().contains("torn"),
        "no torn-tail report in:\n{}",
        agent.log()
    );
    assert_keys(&agent, &keys);
    agent.kill();

    // (d) One flipped byte in a record in the middle: not a crash, refuse to start.
    let tail = segments(dir.path()).pop().expect("a segment");
    let original = std::fs::read(&tail).expect("read segment");
    let all = records(&original);
    let (start_at, len) = all[all.len() / 2];
    let mut damaged = original.clone();
    damaged[start_at + 16 + (len - 16) / 2] ^= 0x20;
    std::fs::write(&tail, &damaged).expect("write damaged segment");
    let output = start_fails(dir.path());
    let name = tail
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(
        output.contains(&name),
        "error does not name {name}:\n{output}"
    );
    assert!(
        output.to_lowercase().contains("corrupt"),
        "unclear error:\n{output}"
    );
    assert_eq!(
        std::fs::read(&tail).expect("read"),
        damaged,
        "refusal must not modify the log"
    );

    // Repairing the byte brings everything back.
    std::fs::write(&tail, &original).expect("restore segment");
    let (agent, _) = start(dir.path(), Some(port), &[]);
    assert_keys(&agent, &keys);
}

// ---------------------------------------------------------------------------------------------
// 3. Snapshots and compaction
// ---------------------------------------------------------------------------------------------

fn wal_bytes(data_dir: &Path) -> u64 {
    segments(data_dir)
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum()
}

#[test]
fn snapshots_bound_the_wal_and_restore_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = serde_json::json!({
        "raft_snapshot_threshold": 32,
        "raft_trailing_logs": 8,
        "raft_logstore": {"wal": {"segment_size_mb": 1}},
    });
    let flag = config_flag(dir.path(), &config);
    let (mut agent, _) = start(dir.path(), None, std::slice::from_ref(&flag));
    let port = agent.http_port;
    wait_for("node registration", Duration::from_secs(20), || {
        let r = call(&agent, "PUT", "/v1/session/create", Some(b"{}"));
        (r.status == 200).then_some(())
    });

    // Sessions and locks, one released and re-acquired (LockIndex 2).
    let sessions: Vec<String> = (0..3)
        .map(|_| {
            let r = call(
                &agent,
                "PUT",
                "/v1/session/create",
                Some(br#"{"LockDelay":"0s"}"#),
            );
            r.json()["ID"].as_str().expect("ID").to_string()
        })
        .collect();
    for (i, s) in sessions.iter().enumerate() {
        let r = call(
            &agent,
            "PUT",
            &format!("/v1/kv/snap/lock{i}?acquire={s}"),
            Some(b"held"),
        );
        assert_eq!(r.body.trim(), "true");
    }
    let r = call(
        &agent,
        "PUT",
        &format!("/v1/kv/snap/lock0?release={}", sessions[0]),
        Some(b""),
    );
    assert_eq!(r.body.trim(), "true");
    let r = call(
        &agent,
        "PUT",
        &format!("/v1/kv/snap/lock0?acquire={}", sessions[1]),
        Some(b"again"),
    );
    assert_eq!(r.body.trim(), "true");

    // Large values fill 1 MiB segments quickly; keys cycle so the state stays small.
    let mut peak_segments = 0;
    let mut written = 0u64;
    let big = "x".repeat(24 * 1024);
    for i in 0..400 {
        let key = format!("snap/big{}", i % 16);
        let r = call(
            &agent,
            "PUT",
            &format!("/v1/kv/{key}"),
            Some(format!("{i}{big}").as_bytes()),
        );
        assert_eq!(r.body.trim(), "true");
        written += big.len() as u64;
        peak_segments = peak_segments.max(segments(dir.path()).len());
    }
    // Deletes leave tombstones that move the index of the deleted keys.
    for i in 0..4 {
        let r = call(&agent, "DELETE", &format!("/v1/kv/snap/big{i}"), None);
        assert_eq!(r.status, 200);
    }
    let deleted_index = call(&agent, "GET", "/v1/kv/snap/big0", None).index();

    let snapshot_index = stat(&agent, "last_snapshot_index");
    let segs = segments(dir.path());
    let first_seq: u64 = segs[0]
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.parse().ok())
        .expect("seq");
    eprintln!(
        "wrote {written} value bytes; WAL now {} segments, {} bytes (peak {peak_segments} segments); \
         last snapshot at {snapshot_index}; oldest segment seq {first_seq}",
        segs.len(),
        wal_bytes(dir.path())
    );
    assert!(
        snapshot_index > 300,
        "snapshots were not taken: {snapshot_index}"
    );
    assert!(first_seq > 1, "old segments were not deleted: {segs:?}");
    assert!(
        segs.len() <= 8,
        "WAL keeps growing: {} segments",
        segs.len()
    );
    assert!(dir.path().join("raft/snapshots/snapshot.bin").exists());

    let (before, index_before) = kv_entries(&agent, "snap/");
    let sessions_before = call(&agent, "GET", "/v1/session/list", None).json();
    agent.kill();

    let (agent, took) = start(dir.path(), Some(port), std::slice::from_ref(&flag));
    eprintln!("restart from snapshot + tail: {took:?}");
    let (after, index_after) = kv_entries(&agent, "snap/");
    assert_eq!(
        after, before,
        "KV state after restoring snapshot + log tail"
    );
    assert!(
        index_after >= index_before,
        "X-Consul-Index went back: {index_before} -> {index_after}"
    );
    assert_eq!(after["snap/lock0"]["LockIndex"], 2);
    assert_eq!(after["snap/lock1"]["Session"], sessions[1].as_str());
    let sessions_after = call(&agent, "GET", "/v1/session/list", None).json();
    let ids = |v: &Value| -> Vec<String> {
        let mut ids: Vec<String> = v
            .as_array()
            .expect("list")
            .iter()
            .map(|s| format!("{}@{}", s["ID"], s["CreateIndex"]))
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(&sessions_after),
        ids(&sessions_before),
        "sessions after restart"
    );
    let deleted_after = call(&agent, "GET", "/v1/kv/snap/big0", None);
    assert_eq!(deleted_after.status, 404);
    assert!(
        deleted_after.index() >= deleted_index,
        "index of a deleted key went back: {deleted_index} -> {}",
        deleted_after.index()
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Restart semantics
// ---------------------------------------------------------------------------------------------

#[test]
fn restart_keeps_node_id_reelects_and_rearms_session_ttls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let flag = config_flag(dir.path(), &serde_json::json!({"session_ttl_min": "1s"}));
    let (mut agent, took) = start(dir.path(), None, std::slice::from_ref(&flag));
    eprintln!("first start to leader: {took:?}");
    let port = agent.http_port;
    let id = node_id(&agent);
    wait_for("node registration", Duration::from_secs(20), || {
        let r = call(&agent, "PUT", "/v1/session/create", Some(b"{}"));
        (r.status == 200).then_some(())
    });
    let ttl = call(
        &agent,
        "PUT",
        "/v1/session/create",
        Some(br#"{"TTL":"5s"}"#),
    );
    let ttl_id = ttl.json()["ID"].as_str().expect("ID").to_string();
    let keep = call(&agent, "PUT", "/v1/session/create", Some(b"{}"));
    let keep_id = keep.json()["ID"].as_str().expect("ID").to_string();
    assert_eq!(agent.terminate().code(), Some(0), "SIGTERM must exit 0");

    let (mut agent, took) = start(dir.path(), Some(port), std::slice::from_ref(&flag));
    eprintln!("restart after SIGTERM to leader: {took:?}");
    assert!(took < Duration::from_secs(5), "re-election took {took:?}");
    assert_eq!(node_id(&agent), id, "node ID changed across restart");
    let session_exists = |agent: &Agent, id: &str| {
        let r = call(agent, "GET", &format!("/v1/session/info/{id}"), None);
        r.json().as_array().is_some_and(|a| a.len() == 1)
    };
    // Timers restart from the election: a 5 s TTL session lives at least 10 s more.
    assert!(
        session_exists(&agent, &ttl_id),
        "TTL session lost at restart"
    );
    agent.kill();

    let (agent, took) = start(dir.path(), Some(port), std::slice::from_ref(&flag));
    eprintln!("restart after SIGKILL to leader: {took:?}");
    assert_eq!(node_id(&agent), id, "node ID changed across crash");
    let expired_after = Instant::now();
    wait_for(
        "the TTL session to expire after restart",
        Duration::from_secs(30),
        || (!session_exists(&agent, &ttl_id)).then_some(()),
    );
    eprintln!(
        "TTL session expired {:?} after the restart",
        expired_after.elapsed()
    );
    assert!(
        session_exists(&agent, &keep_id),
        "session without TTL must stay"
    );
}

#[test]
fn second_agent_on_the_same_data_dir_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (agent, _) = start(dir.path(), None, &[]);
    let output = start_fails(dir.path());
    assert!(
        output.contains("in use by another process"),
        "unclear refusal:\n{output}"
    );
    write_keys(&agent, "lock", 3);
}
