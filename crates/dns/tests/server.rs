//! Starts the real DNS server on a free loopback port and queries it over UDP and TCP
//! (hickory's message codec on plain sockets) and with `dig` when it is installed.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_proto::serialize::binary::BinDecodable;
use proconsul_dns::{
    DnsConfig, DnsServer, Health, InstanceRecord, MemoryCatalog, NodeRecord, Weights,
};
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::oneshot;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(5);

fn node(name: &str, addr: &str) -> NodeRecord {
    NodeRecord {
        name: name.into(),
        datacenter: "dc1".into(),
        address: addr.into(),
        ..NodeRecord::default()
    }
}

/// `web` on ten passing nodes (10.0.0.1-10) plus one critical; node1 carries meta.
fn catalog() -> MemoryCatalog {
    let mut cat = MemoryCatalog::new("dc1");
    for i in 1..=11u8 {
        let mut n = node(&format!("node{i}"), &format!("10.0.0.{i}"));
        if i == 1 {
            n.meta.insert("env".into(), "prod".into());
        }
        cat.instances.push(InstanceRecord {
            node: n.clone(),
            service: "web".into(),
            service_address: String::new(),
            port: 8000 + u16::from(i),
            tags: vec!["v1".into()],
            health: if i == 11 {
                Health::Critical
            } else {
                Health::Passing
            },
            weights: Weights::default(),
        });
        cat.nodes.push(n);
    }
    cat
}

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), proconsul_dns::DnsError>>,
}

impl Running {
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let finished = timeout(WAIT, self.task).await.expect("server stops");
        finished.expect("task").expect("clean shutdown");
    }
}

async fn start(config: DnsConfig) -> Running {
    let view = Arc::new(catalog());
    let listen: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let server = DnsServer::bind(listen, view, config).await.expect("bind");
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    Running {
        addr,
        stop: Some(stop),
        task,
    }
}

fn request(name: &str, qtype: RecordType, edns: Option<u16>) -> Vec<u8> {
    let mut msg = Message::new(rand::rng().random(), MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = true;
    msg.add_query(Query::query(Name::from_ascii(name).expect("name"), qtype));
    if let Some(size) = edns {
        let mut e = Edns::new();
        e.set_max_payload(size);
        msg.edns = Some(e);
    }
    msg.to_vec().expect("encode")
}

async fn udp_raw(addr: SocketAddr, bytes: &[u8]) -> Option<Vec<u8>> {
    let sock = UdpSocket::bind("127.0.0.1:0").await.expect("client socket");
    sock.send_to(bytes, addr).await.expect("send");
    let mut buf = vec![0u8; 65535];
    let n = timeout(WAIT, sock.recv(&mut buf)).await.ok()?.ok()?;
    buf.truncate(n);
    Some(buf)
}

async fn udp(addr: SocketAddr, name: &str, qtype: RecordType, edns: Option<u16>) -> Message {
    let bytes = udp_raw(addr, &request(name, qtype, edns))
        .await
        .expect("UDP answer");
    Message::from_bytes(&bytes).expect("decode")
}

async fn tcp(addr: SocketAddr, name: &str, qtype: RecordType) -> Message {
    let bytes = request(name, qtype, None);
    let mut stream = timeout(WAIT, TcpStream::connect(addr))
        .await
        .expect("connect in time")
        .expect("connect");
    let len = u16::try_from(bytes.len()).expect("small");
    stream.write_all(&len.to_be_bytes()).await.expect("write");
    stream.write_all(&bytes).await.expect("write");
    let mut len = [0u8; 2];
    timeout(WAIT, stream.read_exact(&mut len))
        .await
        .expect("answer in time")
        .expect("read");
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut body).await.expect("read body");
    Message::from_bytes(&body).expect("decode")
}

fn count(msg: &Message, rtype: RecordType) -> usize {
    msg.answers
        .iter()
        .filter(|r| r.record_type() == rtype)
        .count()
}

#[tokio::test]
async fn udp_and_tcp_answers() {
    let server = start(DnsConfig::default()).await;
    let a = udp(server.addr, "web.service.consul.", RecordType::A, None).await;
    assert_eq!(a.metadata.response_code, ResponseCode::NoError);
    assert!(a.metadata.authoritative && !a.metadata.recursion_available);
    assert_eq!(count(&a, RecordType::A), 3, "udp_answer_limit");
    assert!(!a.metadata.truncation, "no TC unless enable_truncate");

    let srv = udp(server.addr, "web.service.consul.", RecordType::SRV, None).await;
    assert_eq!(count(&srv, RecordType::SRV), 3);
    let glue = srv
        .additionals
        .iter()
        .filter(|r| r.record_type() == RecordType::A)
        .count();
    assert_eq!(glue, 3, "one A per kept SRV target");

    let rfc = tcp(server.addr, "_web._tcp.service.consul.", RecordType::SRV).await;
    assert_eq!(count(&rfc, RecordType::SRV), 10, "TCP is not count-limited");

    let edns = udp(
        server.addr,
        "web.service.consul.",
        RecordType::A,
        Some(4096),
    )
    .await;
    assert_eq!(count(&edns, RecordType::A), 10, "EDNS: size trimming only");
    assert!(edns.edns.is_some(), "OPT echoed");

    let node = tcp(server.addr, "NODE1.node.consul.", RecordType::A).await;
    assert_eq!(
        node.answers[0].data,
        RData::A("10.0.0.1".parse::<std::net::Ipv4Addr>().expect("ip").into())
    );
    assert_eq!(node.additionals.len(), 1, "meta TXT");

    let ptr = udp(server.addr, "2.0.0.10.in-addr.arpa.", RecordType::PTR, None).await;
    let RData::PTR(target) = &ptr.answers[0].data else {
        panic!("no PTR: {ptr:?}")
    };
    assert_eq!(target.0.to_ascii(), "node2.node.dc1.consul.");

    let missing = udp(server.addr, "nope.service.consul.", RecordType::A, None).await;
    assert_eq!(missing.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(missing.authorities[0].record_type(), RecordType::SOA);

    let outside = udp(server.addr, "example.com.", RecordType::A, None).await;
    assert_eq!(outside.metadata.response_code, ResponseCode::Refused);
    server.stop().await;
}

#[tokio::test]
async fn truncate_sets_tc_only_when_enabled() {
    let config = DnsConfig {
        enable_truncate: true,
        ..DnsConfig::default()
    };
    let server = start(config).await;
    let a = udp(server.addr, "web.service.consul.", RecordType::A, None).await;
    assert_eq!(count(&a, RecordType::A), 3);
    assert!(a.metadata.truncation);
    let small = udp(server.addr, "node1.node.consul.", RecordType::A, None).await;
    assert!(!small.metadata.truncation);
    server.stop().await;
}

#[tokio::test]
async fn forwards_outside_names_to_recursors() {
    // The upstream is another instance of our server, authoritative for `example.`.
    let upstream = start(DnsConfig {
        domain: "example.".into(),
        ..DnsConfig::default()
    })
    .await;
    let config = DnsConfig {
        recursors: vec![upstream.addr],
        recursor_timeout: Duration::from_secs(1),
        ..DnsConfig::default()
    };
    let server = start(config).await;
    let relayed = udp(server.addr, "node3.node.example.", RecordType::A, None).await;
    assert_eq!(relayed.metadata.response_code, ResponseCode::NoError);
    assert!(relayed.metadata.recursion_available && !relayed.metadata.authoritative);
    assert_eq!(relayed.answers.len(), 1);
    let nx = udp(server.addr, "ghost.node.example.", RecordType::A, None).await;
    assert_eq!(nx.metadata.response_code, ResponseCode::NXDomain);
    let local = udp(server.addr, "node3.node.consul.", RecordType::A, None).await;
    assert!(local.metadata.authoritative && local.metadata.recursion_available);
    upstream.stop().await;
    // With the only recursor gone, forwarding fails over to SERVFAIL.
    let failed = udp(server.addr, "node3.node.example.", RecordType::A, None).await;
    assert_eq!(failed.metadata.response_code, ResponseCode::ServFail);
    server.stop().await;
}

#[tokio::test]
async fn survives_garbage_and_truncated_packets() {
    let server = start(DnsConfig::default()).await;
    let sock = UdpSocket::bind("127.0.0.1:0").await.expect("socket");
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xd15);
    let valid = request("web.service.consul.", RecordType::SRV, Some(1232));
    for i in 0..400usize {
        let packet: Vec<u8> = if i % 2 == 0 {
            let len = rng.random_range(0..600);
            (0..len).map(|_| rng.random()).collect()
        } else {
            // Every prefix of a valid query, then a valid header with random flags.
            let mut p = valid[..i % valid.len()].to_vec();
            if p.len() > 3 {
                p[2] = rng.random();
                p[3] = rng.random();
            }
            p
        };
        sock.send_to(&packet, server.addr).await.expect("send");
    }
    // Whatever came back must decode as a DNS response.
    let mut buf = vec![0u8; 65535];
    while let Ok(Ok(n)) = timeout(Duration::from_millis(300), sock.recv(&mut buf)).await {
        let msg = Message::from_bytes(&buf[..n]).expect("server replies are well-formed");
        assert_eq!(msg.metadata.message_type, MessageType::Response);
    }
    let still = udp(server.addr, "web.service.consul.", RecordType::A, None).await;
    assert_eq!(count(&still, RecordType::A), 3);
    let over_tcp = tcp(server.addr, "web.service.consul.", RecordType::A).await;
    assert_eq!(count(&over_tcp, RecordType::A), 10);
    server.stop().await;
}

fn dig(addr: SocketAddr, args: &[&str]) -> Option<String> {
    let port = addr.port().to_string();
    let mut cmd = Command::new("dig");
    cmd.args(["@127.0.0.1", "-p", &port, "+time=2", "+tries=1"])
        .args(args);
    let out = cmd.output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dig_sees_consul_answers() {
    if Command::new("dig").arg("-v").output().is_err() {
        eprintln!(
            "SKIP dig_sees_consul_answers: `dig` is not installed (apt-get install dnsutils)"
        );
        return;
    }
    let server = start(DnsConfig::default()).await;
    let addr = server.addr;
    let run = |args: Vec<&'static str>| tokio::task::spawn_blocking(move || dig(addr, &args));
    let short_a = run(vec!["+short", "+noedns", "web.service.consul", "A"])
        .await
        .expect("join")
        .expect("dig");
    assert_eq!(short_a.lines().count(), 3, "{short_a}");
    let srv = run(vec!["+short", "+noedns", "web.service.consul", "SRV"])
        .await
        .expect("join")
        .expect("dig");
    assert_eq!(srv.lines().count(), 3, "{srv}");
    assert!(
        srv.lines()
            .all(|l| l.starts_with("1 1 80") && l.ends_with(".node.dc1.consul.")),
        "{srv}"
    );
    let rfc = run(vec!["+short", "+noedns", "_web._tcp.service.consul", "SRV"])
        .await
        .expect("join")
        .expect("dig");
    assert_eq!(rfc.lines().count(), 3, "{rfc}");
    let node = run(vec!["+short", "node1.node.consul"])
        .await
        .expect("join")
        .expect("dig");
    assert_eq!(node.trim(), "10.0.0.1");
    let ptr = run(vec!["+short", "-x", "10.0.0.4"])
        .await
        .expect("join")
        .expect("dig");
    assert_eq!(ptr.trim(), "node4.node.dc1.consul.");
    let tcp = run(vec!["+tcp", "+short", "web.service.consul"])
        .await
        .expect("join")
        .expect("dig");
    assert_eq!(tcp.lines().count(), 10, "{tcp}");
    let full = run(vec!["nope.service.consul"])
        .await
        .expect("join")
        .expect("dig");
    assert!(
        full.contains("status: NXDOMAIN") && full.contains("flags: qr aa rd;"),
        "{full}"
    );
    assert!(full.contains("hostmaster.consul."), "{full}");
    server.stop().await;
}

/// Reads one length-prefixed message from a TCP stream.
async fn read_frame(stream: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 2];
    timeout(WAIT, stream.read_exact(&mut len))
        .await
        .expect("answer in time")
        .expect("read");
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut body).await.expect("read body");
    body
}

#[tokio::test]
async fn tcp_answers_pipelined_queries_in_order_and_survives_garbage() {
    let server = start(DnsConfig::default()).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    // Ten queries in one write (as dnsperf pipelines them), then a garbage frame.
    let mut burst = Vec::new();
    let names: Vec<String> = (0..10)
        .map(|i| {
            if i % 2 == 0 {
                "web.service.consul.".into()
            } else {
                "nope.service.consul.".into()
            }
        })
        .collect();
    let mut ids = Vec::new();
    for name in &names {
        let bytes = request(name, RecordType::A, None);
        ids.push(u16::from_be_bytes([bytes[0], bytes[1]]));
        burst.extend(u16::try_from(bytes.len()).expect("small").to_be_bytes());
        burst.extend(bytes);
    }
    // A query header (QR clear) announcing one question whose bytes are cut short.
    let garbage = [
        0xde, 0xad, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x07, b'w',
    ];
    burst.extend(u16::try_from(garbage.len()).expect("small").to_be_bytes());
    burst.extend(garbage);
    stream.write_all(&burst).await.expect("write");
    for (i, id) in ids.iter().enumerate() {
        let answer = Message::from_bytes(&read_frame(&mut stream).await).expect("decode");
        assert_eq!(answer.metadata.id, *id, "answers come back in query order");
        let want = if i % 2 == 0 {
            ResponseCode::NoError
        } else {
            ResponseCode::NXDomain
        };
        assert_eq!(answer.metadata.response_code, want, "query {i}");
    }
    let formerr = Message::from_bytes(&read_frame(&mut stream).await).expect("decode");
    assert_eq!(formerr.metadata.response_code, ResponseCode::FormErr);
    // The same connection and the server still answer.
    let again = tcp(server.addr, "web.service.consul.", RecordType::A).await;
    assert_eq!(again.metadata.response_code, ResponseCode::NoError);
}
