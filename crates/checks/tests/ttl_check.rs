//! TTL checks: expiry, re-arming by updates, output truncation.

mod support;

use std::time::Duration;

use proconsul_checks::spec::CheckSpec;
use proconsul_checks::{CheckError, CheckKind, Status, spawn_check};

fn ttl_spec(ttl: Duration, max: usize) -> CheckSpec {
    let mut s = CheckSpec::new(CheckKind::Ttl { ttl }, Duration::ZERO);
    s.output_max_size = max;
    s
}

#[tokio::test]
async fn never_updated_check_expires() {
    let (sink, mut rx) = support::channel_sink();
    let _h = spawn_check("ttl", ttl_spec(Duration::from_millis(100), 4096), sink);
    let u = support::next(&mut rx, "expiry").await;
    assert_eq!(
        (u.status, u.output.as_str()),
        (Status::Critical, "TTL expired")
    );
}

#[tokio::test]
async fn update_reports_then_expiry_carries_last_output() {
    let (sink, mut rx) = support::channel_sink();
    let h = spawn_check("ttl", ttl_spec(Duration::from_millis(200), 4096), sink);
    assert_eq!(
        h.update(Status::Passing, "all good").expect("ttl"),
        "all good"
    );
    let u = support::next(&mut rx, "update").await;
    assert_eq!((u.status, u.output.as_str()), (Status::Passing, "all good"));
    let u = support::next(&mut rx, "expiry").await;
    assert_eq!(u.status, Status::Critical);
    assert_eq!(
        u.output,
        "TTL expired (last output before timeout follows): all good"
    );

    // An update re-arms an expired check; it expires again later.
    h.update(Status::Warning, "meh").expect("ttl");
    let u = support::next(&mut rx, "re-armed update").await;
    assert_eq!(u.status, Status::Warning);
    let u = support::next(&mut rx, "second expiry").await;
    assert_eq!(
        u.output,
        "TTL expired (last output before timeout follows): meh"
    );
}

#[tokio::test]
async fn updates_within_ttl_keep_it_alive() {
    let (sink, mut rx) = support::channel_sink();
    let h = spawn_check("ttl", ttl_spec(Duration::from_secs(3), 4096), sink);
    // Each update is well within the TTL of the previous one; no expiry may interleave.
    for i in 0..5 {
        h.update(Status::Passing, &format!("beat {i}"))
            .expect("ttl");
        let u = support::next(&mut rx, "heartbeat").await;
        assert_eq!(u.output, format!("beat {i}"));
    }
    assert!(rx.try_recv().is_err(), "no expiry while heartbeats arrive");
}

#[tokio::test]
async fn ttl_output_is_truncated_at_the_front_limit() {
    let (sink, mut rx) = support::channel_sink();
    let h = spawn_check("ttl", ttl_spec(Duration::from_secs(60), 10), sink);
    let stored = h.update(Status::Passing, "0123456789abcdef").expect("ttl");
    assert_eq!(stored, "0123456789 ... (captured 10 of 16 bytes)");
    assert_eq!(support::next(&mut rx, "update").await.output, stored);
}

#[tokio::test]
async fn update_on_a_non_ttl_check_is_an_error() {
    let (sink, _rx) = support::channel_sink();
    let s = CheckSpec::new(
        CheckKind::Tcp {
            addr: "127.0.0.1:1".into(),
        },
        Duration::from_secs(60),
    );
    let h = spawn_check("tcp", s, sink);
    assert!(matches!(
        h.update(Status::Passing, "x"),
        Err(CheckError::NotTtl)
    ));
}

#[tokio::test]
async fn stopped_ttl_check_does_not_expire() {
    let (sink, mut rx) = support::channel_sink();
    let h = spawn_check("ttl", ttl_spec(Duration::from_millis(100), 4096), sink);
    h.stopped().await;
    // The task (and with it the timer) is gone; the sink's channel closes without an
    // expiry ever being sent.
    assert!(rx.recv().await.is_none());
}
