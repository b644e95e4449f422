//! Session TTL timers, kept by the leader only (as Consul does): a session whose TTL lapses
//! without a renew is destroyed after 2×TTL. Renewals do not go through Raft; a new leader
//! starts every timer afresh from the replicated sessions.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Duration;
use tokio::time::Instant;

/// Deadlines by session, with a min-heap for "what expires next". Heap entries whose
/// deadline no longer matches the map are stale (renewed or removed) and skipped.
#[derive(Default)]
pub struct SessionTimers {
    deadlines: HashMap<String, Instant>,
    heap: BinaryHeap<Reverse<(Instant, String)>>,
}

impl SessionTimers {
    /// (Re)arms the timer of `id` to fire `2 × ttl` from `now`.
    pub fn arm(&mut self, id: &str, ttl: Duration, now: Instant) {
        let deadline = now + ttl * 2;
        self.deadlines.insert(id.to_string(), deadline);
        self.heap.push(Reverse((deadline, id.to_string())));
        // Renewals leave stale heap entries behind; rebuild when they dominate.
        if self.heap.len() > 64 && self.heap.len() > self.deadlines.len() * 4 {
            self.heap = self
                .deadlines
                .iter()
                .map(|(id, d)| Reverse((*d, id.clone())))
                .collect();
        }
    }

    pub fn remove(&mut self, id: &str) {
        self.deadlines.remove(id);
    }

    pub fn contains(&self, id: &str) -> bool {
        self.deadlines.contains_key(id)
    }

    pub fn clear(&mut self) {
        self.deadlines.clear();
        self.heap.clear();
    }

    pub fn len(&self) -> usize {
        self.deadlines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.deadlines.is_empty()
    }

    /// The earliest live deadline.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((deadline, id))) = self.heap.peek() {
            if self.deadlines.get(id) == Some(deadline) {
                return Some(*deadline);
            }
            self.heap.pop();
        }
        None
    }

    /// Removes and returns every session whose deadline is at or before `now`.
    pub fn expired(&mut self, now: Instant) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(deadline) = self.next_deadline() {
            if deadline > now {
                break;
            }
            if let Some(Reverse((_, id))) = self.heap.pop() {
                self.deadlines.remove(&id);
                out.push(id);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_respects_renewals() {
        let start = Instant::now();
        let mut timers = SessionTimers::default();
        timers.arm("a", Duration::from_secs(10), start);
        timers.arm("b", Duration::from_secs(10), start);
        timers.arm("a", Duration::from_secs(10), start + Duration::from_secs(5));
        assert_eq!(
            timers.next_deadline(),
            Some(start + Duration::from_secs(20))
        );
        assert_eq!(
            timers.expired(start + Duration::from_secs(20)),
            vec!["b".to_string()]
        );
        assert!(timers.expired(start + Duration::from_secs(24)).is_empty());
        assert_eq!(
            timers.expired(start + Duration::from_secs(25)),
            vec!["a".to_string()]
        );
        timers.arm("c", Duration::from_secs(10), start);
        timers.remove("c");
        assert_eq!(timers.next_deadline(), None);
    }
}
