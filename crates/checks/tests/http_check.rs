//! HTTP checks against a real local HTTP server whose answer the test flips.

mod support;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use proconsul_checks::spec::CheckSpec;
use proconsul_checks::{CheckKind, Probe, Status, spawn_check};
use tokio::net::TcpListener;

/// Status code to answer with; 0 = never answer (hang), 1 = a 10000-byte body.
struct Server {
    addr: SocketAddr,
    mode: Arc<AtomicU16>,
}

async fn serve() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mode = Arc::new(AtomicU16::new(200));
    let m = mode.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let m = m.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let m = m.clone();
                    async move { Ok::<_, Infallible>(answer(m.load(Ordering::SeqCst), &req).await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Server { addr, mode }
}

async fn answer(mode: u16, req: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    match mode {
        0 => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Response::new(Full::new(Bytes::from("late")))
        }
        1 => {
            let body: String = (0..10_000)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            Response::new(Full::new(Bytes::from(body)))
        }
        code => {
            let ua = req
                .headers()
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let mut r = Response::new(Full::new(Bytes::from(format!("mode {code} ua={ua}"))));
            *r.status_mut() = hyper::StatusCode::from_u16(code).expect("code");
            r
        }
    }
}

fn spec(url: &str) -> CheckSpec {
    CheckSpec::new(CheckKind::http(url), Duration::from_millis(50))
        .with_timeout(Duration::from_millis(500))
}

#[tokio::test]
async fn http_statuses_map_like_consul() {
    let srv = serve().await;
    let url = format!("http://{}/health", srv.addr);
    let s = spec(&url);
    let probe = Probe::new(&s).expect("probe");
    let run = || probe.run(s.effective_timeout(), 4096);

    let r = run().await;
    assert_eq!(r.status, Status::Passing);
    assert_eq!(
        r.output,
        format!("HTTP GET {url}: 200 OK Output: mode 200 ua=Consul Health Check")
    );

    srv.mode.store(429, Ordering::SeqCst);
    let r = run().await;
    assert_eq!(r.status, Status::Warning);
    assert!(
        r.output
            .contains(": 429 Too Many Requests Output: mode 429"),
        "{}",
        r.output
    );

    srv.mode.store(500, Ordering::SeqCst);
    let r = run().await;
    assert_eq!(r.status, Status::Critical);
    assert!(
        r.output.contains(": 500 Internal Server Error Output:"),
        "{}",
        r.output
    );

    srv.mode.store(204, Ordering::SeqCst);
    assert_eq!(run().await.status, Status::Passing);

    srv.mode.store(0, Ordering::SeqCst);
    let r = run().await;
    assert_eq!(r.status, Status::Critical);
    assert_eq!(
        r.output,
        format!(
            "Get {url:?}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        )
    );
}

#[tokio::test]
async fn http_body_is_kept_to_its_last_bytes() {
    let srv = serve().await;
    srv.mode.store(1, Ordering::SeqCst);
    let url = format!("http://{}/", srv.addr);
    let mut s = spec(&url);
    s.output_max_size = 100;
    let probe = Probe::new(&s).expect("probe");
    let r = probe.run(s.effective_timeout(), 100).await;
    let body = r.output.split(" Output: ").nth(1).expect("output part");
    assert_eq!(body.len(), 100);
    let full: String = (0..10_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    assert_eq!(body, &full[full.len() - 100..]);
}

#[tokio::test]
async fn http_connection_refused_is_critical() {
    // Bind then drop to get a port with nothing listening.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr");
    let url = format!("http://{addr}/");
    let s = spec(&url);
    let r = Probe::new(&s)
        .expect("probe")
        .run(s.effective_timeout(), 4096)
        .await;
    assert_eq!(r.status, Status::Critical);
    assert!(
        r.output.starts_with(&format!("Get {url:?}: ")),
        "{}",
        r.output
    );
}

#[tokio::test]
async fn http_method_headers_and_body_are_sent() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let svc = service_fn(|req: Request<hyper::body::Incoming>| async move {
            use http_body_util::BodyExt;
            let method = req.method().to_string();
            let x = req.headers().get("x-test").cloned();
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let text = format!("{method} {x:?} {}", String::from_utf8_lossy(&body));
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(text))))
        });
        let _ = http1::Builder::new()
            .serve_connection(TokioIo::new(stream), svc)
            .await;
    });
    let mut headers = BTreeMap::new();
    headers.insert("X-Test".to_string(), vec!["yes".to_string()]);
    let kind = CheckKind::Http {
        url: format!("http://{addr}/"),
        method: "PUT".into(),
        headers,
        body: "payload".into(),
        tls_skip_verify: false,
        tls_server_name: None,
        disable_redirects: true,
    };
    let s = CheckSpec::new(kind, Duration::from_secs(1));
    let r = Probe::new(&s)
        .expect("probe")
        .run(s.effective_timeout(), 4096)
        .await;
    assert_eq!(r.status, Status::Passing, "{}", r.output);
    assert!(r.output.starts_with("HTTP PUT "), "{}", r.output);
    assert!(
        r.output.ends_with("Output: PUT Some(\"yes\") payload"),
        "{}",
        r.output
    );
}

/// Thresholds applied by the runner: warning after 1 failure, critical after 2,
/// passing again only after 2 successes.
#[tokio::test]
async fn runner_applies_thresholds_as_status_flips() {
    let srv = serve().await;
    let mut s = spec(&format!("http://{}/", srv.addr));
    s.failures_before_warning = 1;
    s.failures_before_critical = 2;
    s.success_before_passing = 2;
    let (sink, mut rx) = support::channel_sink();
    let handle = spawn_check("web", s, sink);

    let first = support::next(&mut rx, "first passing").await;
    assert_eq!(
        (first.check_id.as_str(), first.status),
        ("web", Status::Passing)
    );

    srv.mode.store(500, Ordering::SeqCst);
    let (u, _) = support::wait_for(&mut rx, "warning", |u| u.status != Status::Passing).await;
    assert_eq!(
        u.status,
        Status::Warning,
        "first failure is reported as warning"
    );
    assert!(
        u.output.contains("500 Internal Server Error"),
        "{}",
        u.output
    );
    let u = support::next(&mut rx, "critical").await;
    assert_eq!(u.status, Status::Critical);

    srv.mode.store(429, Ordering::SeqCst);
    let (u, skipped) =
        support::wait_for(&mut rx, "recovery", |u| u.status != Status::Critical).await;
    assert_eq!(u.status, Status::Warning, "429 is a warning once reported");
    assert!(skipped.iter().all(|s| *s == Status::Critical));
    handle.stopped().await;
}

#[tokio::test]
async fn stopped_check_reports_nothing_more() {
    let srv = serve().await;
    let (sink, mut rx) = support::channel_sink();
    let handle = spawn_check("web", spec(&format!("http://{}/", srv.addr)), sink);
    support::next(&mut rx, "first update").await;
    handle.stopped().await;
    while rx.try_recv().is_ok() {}
    // The sink (and its sender) was dropped with the task: the channel closes.
    assert!(rx.recv().await.is_none());
}
