//! TCP, UDP, gRPC and H2 ping checks against real sockets and servers in the test.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use proconsul_checks::spec::CheckSpec;
use proconsul_checks::{CheckKind, CheckResult, Probe, Status};
use tokio::net::{TcpListener, UdpSocket};

const TIMEOUT: Duration = Duration::from_millis(500);

async fn run(kind: CheckKind) -> CheckResult {
    let s = CheckSpec::new(kind, Duration::from_secs(1)).with_timeout(TIMEOUT);
    Probe::new(&s).expect("probe").run(TIMEOUT, 4096).await
}

async fn closed_tcp_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    l.local_addr().expect("addr")
}

#[tokio::test]
async fn tcp_open_port_passes_closed_port_fails() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let r = run(CheckKind::Tcp { addr: addr.clone() }).await;
    assert_eq!(
        r,
        CheckResult::passing(format!("TCP connect {addr}: Success"))
    );

    let closed = closed_tcp_port().await.to_string();
    let r = run(CheckKind::Tcp {
        addr: closed.clone(),
    })
    .await;
    assert_eq!(r.status, Status::Critical);
    assert!(
        r.output.starts_with(&format!("dial tcp {closed}: ")),
        "{}",
        r.output
    );
    assert!(r.output.to_lowercase().contains("refused"), "{}", r.output);
}

#[tokio::test]
async fn udp_reply_and_silence_pass_port_unreachable_fails() {
    // A server that echoes.
    let echo = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let echo_addr = echo.local_addr().expect("addr").to_string();
    tokio::spawn(async move {
        let mut buf = [0u8; 64];
        while let Ok((n, from)) = echo.recv_from(&mut buf).await {
            let _ = echo
                .send_to(if n == 0 { b"pong" } else { &buf[..n] }, from)
                .await;
        }
    });
    let r = run(CheckKind::Udp {
        addr: echo_addr.clone(),
    })
    .await;
    assert_eq!(
        r,
        CheckResult::passing(format!("UDP connect {echo_addr}: Success"))
    );

    // A socket that never answers: silence until the timeout is success, as in Consul.
    let silent = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let silent_addr = silent.local_addr().expect("addr").to_string();
    let r = run(CheckKind::Udp {
        addr: silent_addr.clone(),
    })
    .await;
    assert_eq!(
        r,
        CheckResult::passing(format!("UDP connect {silent_addr}: Success"))
    );
    drop(silent);

    // Nobody bound: the kernel's ICMP port unreachable surfaces as a read error.
    let r = run(CheckKind::Udp {
        addr: silent_addr.clone(),
    })
    .await;
    assert_eq!(r.status, Status::Critical, "{}", r.output);
    assert!(r.output.starts_with("read udp 127.0.0.1:"), "{}", r.output);
    assert!(r.output.to_lowercase().contains("refused"), "{}", r.output);
}

/// A gRPC health server on h2: "" and "web" are SERVING, "sick" NOT_SERVING, anything
/// else NotFound (as grpc-go's health server answers an unknown service).
async fn grpc_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let Ok(mut conn) = h2::server::handshake(stream).await else {
                    return;
                };
                while let Some(Ok((req, respond))) = conn.accept().await {
                    tokio::spawn(answer_health(req, respond));
                }
            });
        }
    });
    addr
}

async fn answer_health(
    req: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
) {
    assert_eq!(req.uri().path(), "/grpc.health.v1.Health/Check");
    let mut body = req.into_body();
    let mut data = BytesMut::new();
    while let Some(Ok(chunk)) = body.data().await {
        let _ = body.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
    }
    // 5-byte frame header, then optional field 1 (tag 0x0a, one-byte length).
    let service = if data.len() > 7 {
        String::from_utf8_lossy(&data[7..]).into_owned()
    } else {
        String::new()
    };
    let status = match service.as_str() {
        "" | "web" => 1u8,
        "sick" => 2,
        _ => {
            let resp = http::Response::builder()
                .header("content-type", "application/grpc")
                .header("grpc-status", "5")
                .header("grpc-message", "unknown%20service")
                .body(())
                .expect("response");
            let _ = respond.send_response(resp, true);
            return;
        }
    };
    let resp = http::Response::builder()
        .header("content-type", "application/grpc")
        .body(())
        .expect("response");
    let Ok(mut send) = respond.send_response(resp, false) else {
        return;
    };
    let mut frame = BytesMut::new();
    frame.put_slice(&[0, 0, 0, 0, 2, 0x08, status]);
    let _ = send.send_data(frame.freeze(), false);
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
    let _ = send.send_trailers(trailers);
}

fn grpc(target: String) -> CheckKind {
    CheckKind::Grpc {
        target,
        use_tls: false,
        tls_skip_verify: false,
        tls_server_name: None,
    }
}

#[tokio::test]
async fn grpc_health_statuses() {
    let addr = grpc_server().await;
    let r = run(grpc(addr.to_string())).await;
    assert_eq!(
        r,
        CheckResult::passing(format!("gRPC check {addr}: success"))
    );

    let r = run(grpc(format!("{addr}/web"))).await;
    assert_eq!(
        r,
        CheckResult::passing(format!("gRPC check {addr}/web: success"))
    );

    let r = run(grpc(format!("{addr}/sick"))).await;
    assert_eq!(
        r,
        CheckResult::critical(format!("gRPC {addr}/sick serving status: NOT_SERVING"))
    );

    let r = run(grpc(format!("{addr}/nope"))).await;
    assert_eq!(
        r,
        CheckResult::critical("rpc error: code = NotFound desc = unknown service")
    );

    let closed = closed_tcp_port().await;
    let r = run(grpc(closed.to_string())).await;
    assert_eq!(r.status, Status::Critical);
    assert!(
        r.output
            .starts_with("rpc error: code = Unavailable desc = connection error"),
        "{}",
        r.output
    );
}

#[tokio::test]
async fn grpc_and_h2ping_time_out_on_a_silent_server() {
    // Accepts TCP but never speaks HTTP/2.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let r = run(grpc(addr.to_string())).await;
    assert_eq!(
        r,
        CheckResult::critical(
            "rpc error: code = DeadlineExceeded desc = context deadline exceeded"
        )
    );
    let r = run(CheckKind::H2Ping {
        addr: addr.to_string(),
        use_tls: false,
        tls_skip_verify: false,
        tls_server_name: None,
    })
    .await;
    assert_eq!(
        r,
        CheckResult::critical("HTTP2 ping failed: context deadline exceeded")
    );
}

#[tokio::test]
async fn h2ping_acked_passes_and_closed_port_fails() {
    let addr = grpc_server().await;
    let kind = |addr: String| CheckKind::H2Ping {
        addr,
        use_tls: false,
        tls_skip_verify: false,
        tls_server_name: None,
    };
    let r = run(kind(addr.to_string())).await;
    assert_eq!(r, CheckResult::passing("HTTP2 ping was successful"));

    let closed = closed_tcp_port().await.to_string();
    let r = run(kind(closed.clone())).await;
    assert_eq!(r.status, Status::Critical);
    assert!(
        r.output
            .starts_with(&format!("Failed to dial to {closed}: dial tcp {closed}: ")),
        "{}",
        r.output
    );

    // TLS against a plaintext server fails in the handshake.
    let r = run(CheckKind::H2Ping {
        addr: addr.to_string(),
        use_tls: true,
        tls_skip_verify: true,
        tls_server_name: None,
    })
    .await;
    assert_eq!(r.status, Status::Critical);
    assert!(
        r.output
            .starts_with(&format!("Failed to dial to {addr}: tls: ")),
        "{}",
        r.output
    );
}
