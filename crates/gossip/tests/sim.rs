//! Deterministic simulation of the pure core: N members exchanging packets through an
//! in-memory network with a fake clock, seeded loss and latency.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::time::Duration;

use proconsul_gossip::{
    Event, GossipConfig, MemberEventKind, MemberStatus, Membership, NodeId, Output, Tags,
};

const TICK: Duration = Duration::from_millis(5);

/// splitmix64: the network's own seeded randomness (loss, latency).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A datagram in flight: (deliver at, sequence, destination index, bytes).
type InFlight = Reverse<(Duration, u64, usize, Vec<u8>)>;

struct Sim {
    now: Duration,
    nodes: Vec<Option<Membership>>,
    wire: BinaryHeap<InFlight>,
    seq: u64,
    rng: Rng,
    loss_percent: u64,
    events: Vec<Vec<Event>>,
}

fn addr(i: usize) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 1], 8301 + u16::try_from(i).expect("small")))
}

fn name(i: usize) -> String {
    format!("node-{i}")
}

fn node(i: usize, bump: u64, seed: u64) -> Membership {
    let tags = Tags::from_pairs([("role", "node"), ("dc", "dc1")]).expect("tags");
    let id = NodeId::new(name(i), addr(i), bump, tags).expect("id");
    Membership::new(
        id,
        GossipConfig::lan(),
        seed.wrapping_mul(31).wrapping_add(i as u64),
    )
}

impl Sim {
    fn new(n: usize, seed: u64, loss_percent: u64) -> Self {
        Self {
            now: Duration::ZERO,
            nodes: (0..n).map(|i| Some(node(i, 1, seed))).collect(),
            wire: BinaryHeap::new(),
            seq: 0,
            rng: Rng(seed),
            loss_percent,
            events: vec![Vec::new(); n],
        }
    }

    fn index_of(to: SocketAddr) -> Option<usize> {
        (0..64).find(|&i| addr(i) == to)
    }

    fn absorb(&mut self, from: usize, out: Output) {
        for p in out.packets {
            let Some(dst) = Self::index_of(p.to) else {
                continue;
            };
            if self.rng.chance(self.loss_percent) {
                continue;
            }
            let latency = Duration::from_micros(200 + self.rng.next() % 3000);
            self.seq += 1;
            self.wire.push(Reverse((
                self.now + latency,
                self.seq,
                dst,
                p.data.to_vec(),
            )));
        }
        self.events[from].extend(out.events);
    }

    fn step(&mut self) {
        self.now += TICK;
        while let Some(Reverse((at, _, _, _))) = self.wire.peek() {
            if *at > self.now {
                break;
            }
            let Some(Reverse((_, _, dst, data))) = self.wire.pop() else {
                break;
            };
            let now = self.now;
            if let Some(m) = self.nodes[dst].as_mut() {
                let out = m.handle_packet(&data, now);
                self.absorb(dst, out);
            }
        }
        for i in 0..self.nodes.len() {
            let now = self.now;
            if let Some(m) = self.nodes[i].as_mut() {
                let out = m.handle_timers(now);
                self.absorb(i, out);
            }
        }
    }

    /// Steps until `done` holds or `limit` passes; returns the time it took.
    fn run_until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&Sim) -> bool,
    ) -> Option<Duration> {
        let start = self.now;
        while self.now - start <= limit {
            if done(self) {
                return Some(self.now - start);
            }
            self.step();
        }
        None
    }

    fn join_all(&mut self) {
        for i in 1..self.nodes.len() {
            let now = self.now;
            let out = self.nodes[i]
                .as_mut()
                .expect("up")
                .join(addr(0), now)
                .expect("join");
            self.absorb(i, out);
        }
    }

    fn status(&self, observer: usize, of: usize) -> Option<MemberStatus> {
        let m = self.nodes[observer].as_ref()?;
        m.member(&name(of)).map(|m| m.status)
    }

    fn live(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|&i| self.nodes[i].is_some())
    }

    /// Every live node sees `of` with `status`.
    fn all_see(&self, of: usize, status: MemberStatus) -> bool {
        self.live()
            .filter(|&o| o != of)
            .all(|o| self.status(o, of) == Some(status))
    }

    /// Every live node sees every live node as active (alive, or suspect under loss).
    fn all_alive(&self) -> bool {
        self.live().all(|o| {
            self.live()
                .all(|of| self.status(o, of).is_some_and(MemberStatus::is_active))
        })
    }

    fn converged(n: usize, seed: u64, loss: u64) -> Sim {
        let mut sim = Sim::new(n, seed, loss);
        sim.join_all();
        // A lost announce or reply leaves a node outside: retry like retry_join does.
        for _ in 0..10 {
            if sim
                .run_until(Duration::from_secs(1), Sim::all_alive)
                .is_some()
            {
                return sim;
            }
            for i in 1..n {
                let now = sim.now;
                let m = sim.nodes[i].as_mut().expect("up");
                if !m.is_joined() {
                    let out = m.join(addr(0), now).expect("join");
                    sim.absorb(i, out);
                }
            }
        }
        panic!("cluster of {n} did not converge (seed {seed})");
    }
}

#[test]
fn members_join_and_see_each_other_with_tags() {
    let sim = Sim::converged(5, 1, 0);
    let members = sim.nodes[3].as_ref().expect("up").members();
    assert_eq!(members.len(), 5);
    assert!(members.iter().all(|m| m.tags.get("dc") == Some("dc1")));
    assert!(sim.events[2].iter().any(|e| matches!(e,
        Event::Member { kind: MemberEventKind::Join, member } if member.name == "node-4")));
}

#[test]
fn killed_member_is_failed_everywhere_within_the_bound() {
    let bound = GossipConfig::lan().failure_detection_bound(5);
    for seed in 1..=6 {
        let mut sim = Sim::converged(5, seed, 5);
        sim.nodes[4] = None;
        let took = sim.run_until(bound, |s| s.all_see(4, MemberStatus::Failed));
        let took = took.unwrap_or_else(|| panic!("seed {seed}: not failed within {bound:?}"));
        eprintln!(
            "seed {seed}: failed everywhere after {took:?} (bound {bound:?}), t={:?}",
            sim.now
        );
        assert!(
            took > GossipConfig::lan().suspicion_timeout(5),
            "seed {seed}: {took:?}"
        );
        // The healthy members stay alive despite 5% loss.
        for o in sim.live() {
            for of in sim.live() {
                assert!(
                    sim.status(o, of).is_some_and(MemberStatus::is_active),
                    "seed {seed}: node {o} sees healthy node {of} as {:?}",
                    sim.status(o, of)
                );
            }
        }
    }
}

#[test]
fn graceful_leave_is_left_not_failed() {
    let mut sim = Sim::converged(5, 7, 0);
    let now = sim.now;
    let out = sim.nodes[2]
        .as_mut()
        .expect("up")
        .leave(now)
        .expect("leave");
    sim.absorb(2, out);
    let took = sim.run_until(Duration::from_secs(2), |s| s.all_see(2, MemberStatus::Left));
    assert!(took.is_some(), "leave did not reach everyone");
    // Long after, still left (no one turns it into failed).
    sim.run_until(Duration::from_secs(15), |_| false);
    assert!(sim.all_see(2, MemberStatus::Left));
    assert_eq!(sim.status(2, 2), Some(MemberStatus::Left));
    for o in [0, 1, 3, 4] {
        let leaves = sim.events[o].iter().filter(|e| {
            matches!(e,
            Event::Member { kind: MemberEventKind::Leave, member } if member.name == "node-2")
        });
        assert_eq!(leaves.count(), 1, "node {o}");
        assert!(!sim.events[o].iter().any(|e| matches!(
            e,
            Event::Member {
                kind: MemberEventKind::Failed,
                ..
            }
        )));
    }
}

#[test]
fn restarted_member_rejoins_after_failure() {
    let mut sim = Sim::converged(5, 3, 0);
    sim.nodes[3] = None;
    let bound = GossipConfig::lan().failure_detection_bound(5);
    assert!(
        sim.run_until(bound, |s| s.all_see(3, MemberStatus::Failed))
            .is_some()
    );
    // Same name and address, a later generation (the shell uses its start time).
    sim.nodes[3] = Some(node(3, 2, 99));
    let now = sim.now;
    let out = sim.nodes[3]
        .as_mut()
        .expect("up")
        .join(addr(0), now)
        .expect("join");
    sim.absorb(3, out);
    assert!(
        sim.run_until(Duration::from_secs(5), Sim::all_alive)
            .is_some()
    );
    let seen = sim.nodes[0]
        .as_ref()
        .expect("up")
        .member("node-3")
        .expect("known")
        .bump;
    assert_eq!(seen, 2);
}

#[test]
fn quick_restart_supersedes_the_old_identity() {
    let mut sim = Sim::converged(5, 4, 0);
    // Restarted before anyone noticed it was gone.
    sim.nodes[1] = Some(node(1, 5, 42));
    let now = sim.now;
    let out = sim.nodes[1]
        .as_mut()
        .expect("up")
        .join(addr(0), now)
        .expect("join");
    sim.absorb(1, out);
    let took = sim.run_until(Duration::from_secs(5), |s| {
        s.all_alive()
            && s.live().all(|o| {
                s.nodes[o]
                    .as_ref()
                    .and_then(|m| m.member("node-1"))
                    .map(|m| m.bump)
                    == Some(5)
            })
    });
    assert!(took.is_some());
    // Never reported failed: the new generation replaced the old in place.
    sim.run_until(Duration::from_secs(15), |_| false);
    assert!(sim.all_alive());
}

#[test]
fn user_event_reaches_every_member_once() {
    let mut sim = Sim::converged(5, 5, 5);
    let now = sim.now;
    let out = sim.nodes[0]
        .as_mut()
        .expect("up")
        .fire_event("deploy", b"v2", now)
        .expect("fire");
    sim.absorb(0, out);
    let got = |s: &Sim, i: usize| {
        s.events[i]
            .iter()
            .filter(|e| matches!(e, Event::User(u) if u.name == "deploy" && u.payload == b"v2"))
            .count()
    };
    let took = sim.run_until(Duration::from_secs(2), |s| (0..5).all(|i| got(s, i) >= 1));
    assert!(took.is_some(), "event did not reach everyone");
    sim.run_until(Duration::from_secs(5), |_| false);
    assert!(
        (0..5).all(|i| got(&sim, i) == 1),
        "delivered more than once"
    );
}

#[test]
fn oversized_user_event_is_refused() {
    let mut m = node(0, 1, 1);
    let payload = vec![0u8; 512];
    assert!(m.fire_event("x", &payload, Duration::ZERO).is_err());
    assert!(m.fire_event("", b"", Duration::ZERO).is_err());
    assert!(m.fire_event("x", &payload[..511], Duration::ZERO).is_ok());
}

#[test]
fn garbage_packets_are_dropped_and_counted() {
    let mut sim = Sim::converged(3, 9, 0);
    let mut rng = Rng(77);
    let m = sim.nodes[0].as_mut().expect("up");
    for len in [0usize, 1, 2, 7, 64, 700, 1400, 1401, 5000] {
        let data: Vec<u8> = (0..len).map(|_| (rng.next() & 0xff) as u8).collect();
        let out = m.handle_packet(&data, Duration::from_secs(60));
        assert!(out.packets.is_empty());
    }
    assert_eq!(m.stats().packets_malformed + m.stats().packets_rejected, 9);
    sim.run_until(Duration::from_secs(3), |_| false);
    assert!(sim.all_alive());
}

#[test]
fn same_seed_same_history() {
    let trace = |seed| {
        let mut sim = Sim::converged(4, seed, 10);
        sim.run_until(Duration::from_secs(5), |_| false);
        (sim.seq, sim.events.iter().map(Vec::len).collect::<Vec<_>>())
    };
    assert_eq!(trace(11), trace(11));
}

/// The target for a 32-member LAN pool: a crash is known everywhere within
/// 8.5 s, and a leave within 2 s.
#[test]
fn thirty_two_members_meet_the_lan_targets() {
    for seed in [21, 22] {
        let mut sim = Sim::converged(32, seed, 1);
        sim.nodes[17] = None;
        let took = sim.run_until(Duration::from_millis(8500), |s| {
            s.all_see(17, MemberStatus::Failed)
        });
        assert!(
            took.is_some(),
            "seed {seed}: crash not known everywhere in 8.5 s"
        );
        let now = sim.now;
        let out = sim.nodes[5]
            .as_mut()
            .expect("up")
            .leave(now)
            .expect("leave");
        sim.absorb(5, out);
        let took = sim.run_until(Duration::from_secs(2), |s| s.all_see(5, MemberStatus::Left));
        assert!(
            took.is_some(),
            "seed {seed}: leave not known everywhere in 2 s"
        );
    }
}
