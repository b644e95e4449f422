//! Real sockets: five gossip tasks on 127.0.0.1 join, see each other, notice a crash
//! and a graceful leave, and pass a user event around. Every wait polls a watch with a
//! deadline.

use std::net::SocketAddr;
use std::time::Duration;

use proconsul_gossip::net::{Gossip, NetConfig, RetryPolicy, Snapshot};
use proconsul_gossip::{Event, GossipConfig, GossipError, MemberStatus, Tags};

fn config() -> NetConfig {
    let mut c = NetConfig::lan(SocketAddr::from(([127, 0, 0, 1], 0)));
    c.leave_propagate_delay = Duration::from_millis(300);
    c
}

async fn start(i: usize) -> Gossip {
    let port = (8301 + i).to_string();
    let tags =
        Tags::from_pairs([("role", "node"), ("dc", "dc1"), ("port", port.as_str())]).expect("tags");
    Gossip::start(&format!("node-{i}"), tags, config())
        .await
        .expect("start")
}

/// Waits until `cond` holds on `g`'s snapshot, failing the test after `limit`.
async fn wait_for(g: &Gossip, limit: Duration, what: &str, cond: impl Fn(&Snapshot) -> bool) {
    let mut rx = g.snapshots();
    let waited = tokio::time::timeout(limit, rx.wait_for(|s| cond(s))).await;
    assert!(
        matches!(waited, Ok(Ok(_))),
        "{} did not see {what} within {limit:?}: {:?}",
        g.local().name(),
        g.members()
    );
}

fn status_of(s: &Snapshot, name: &str) -> Option<MemberStatus> {
    s.members.iter().find(|m| m.name == name).map(|m| m.status)
}

fn all_alive(s: &Snapshot, n: usize) -> bool {
    s.members.len() == n && s.members.iter().all(|m| m.status == MemberStatus::Alive)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_members_join_detect_a_crash_and_a_leave() {
    let mut nodes = Vec::new();
    for i in 0..5 {
        nodes.push(start(i).await);
    }
    let seed = nodes[0].local().addr();
    let policy = RetryPolicy {
        attempts: 5,
        initial_backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(1),
    };
    for g in &nodes[1..] {
        g.retry_join(&[seed], &policy).await.expect("join");
    }
    for g in &nodes {
        wait_for(g, Duration::from_secs(10), "5 alive", |s| all_alive(s, 5)).await;
    }
    assert!(
        nodes[2]
            .members()
            .iter()
            .all(|m| m.tags.get("dc") == Some("dc1"))
    );

    // A user event reaches everyone.
    let mut subs: Vec<_> = nodes.iter().map(Gossip::subscribe).collect();
    nodes[1].fire_event("deploy", b"v2").await.expect("fire");
    for sub in &mut subs {
        let got = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match sub.recv().await {
                    Ok(Event::User(u)) if u.name == "deploy" => return u.payload,
                    Ok(_) => {}
                    Err(e) => panic!("event stream: {e}"),
                }
            }
        })
        .await
        .expect("user event within 5 s");
        assert_eq!(got, b"v2");
    }

    // A crash: failed everywhere within the detection bound (plus scheduling slack).
    let crashed = nodes.pop().expect("five");
    crashed.abort();
    let bound = GossipConfig::lan().failure_detection_bound(5) + Duration::from_secs(3);
    for g in &nodes {
        wait_for(g, bound, "node-4 failed", |s| {
            status_of(s, "node-4") == Some(MemberStatus::Failed)
        })
        .await;
    }

    // A graceful leave: left, not failed.
    let leaving = nodes.pop().expect("four");
    leaving.leave().await.expect("leave");
    for g in &nodes {
        wait_for(g, Duration::from_secs(5), "node-3 left", |s| {
            status_of(s, "node-3") == Some(MemberStatus::Left)
        })
        .await;
    }
    for g in &nodes {
        let s = g.snapshots().borrow().clone();
        assert_eq!(status_of(&s, "node-0"), Some(MemberStatus::Alive));
        assert_eq!(s.stats.packets_malformed, 0);
    }
}

#[tokio::test]
async fn retry_join_gives_up_after_its_attempts() {
    let g = start(0).await;
    // A bound but silent socket: nothing ever answers.
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let policy = RetryPolicy {
        attempts: 3,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(100),
    };
    let addr = silent.local_addr().expect("addr");
    let result = g.retry_join(&[addr], &policy).await;
    assert!(
        matches!(result, Err(GossipError::JoinFailed(1))),
        "{result:?}"
    );
}
