//! Custom broadcasts carried by foca next to membership updates: Serf's user events and
//! leave intents (a node announcing its graceful leave, so the cluster marks it `left`
//! instead of `failed` when it goes down).
//!
//! foca hands every received item to [`Handler::receive_item`], which decides whether it
//! is new (keep spreading it) or already seen (drop it). New items are queued in an
//! [`Inbox`] shared with the core, which drains it after each input.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::member::NAME_LEN_MAX;

/// How far behind the newest event clock a user event may be and still be delivered
/// (Serf's event buffer of 512 Lamport times).
pub const EVENT_WINDOW: u64 = 512;
/// Most broadcast keys remembered for deduplication.
pub const SEEN_MAX: usize = 8192;
/// Most received items queued for the core between two drains.
pub const INBOX_MAX: usize = 4096;

/// A user event: a name and an opaque payload, delivered once to every member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEvent {
    /// The Lamport time of the event (Serf's `LTime`).
    pub ltime: u64,
    /// The node that fired it.
    pub origin: String,
    /// Per-origin sequence number; with `origin` it identifies the event.
    pub seq: u64,
    /// The event name.
    pub name: String,
    /// The payload.
    pub payload: Vec<u8>,
}

/// A node's announcement that it is leaving gracefully.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LeaveIntent {
    /// The leaving node's name.
    pub name: String,
    /// The generation that leaves (a later generation of the same name is a rejoin).
    pub bump: u64,
}

/// What travels as one custom broadcast item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Broadcast {
    /// A user event.
    User(UserEvent),
    /// A leave intent.
    Leave(LeaveIntent),
}

/// Identifies a broadcast for deduplication and invalidation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BroadcastKey {
    /// (origin, seq) of a user event.
    User(String, u64),
    /// (name, bump) of a leave intent.
    Leave(String, u64),
}

impl foca::Invalidates for BroadcastKey {
    fn invalidates(&self, other: &Self) -> bool {
        self == other
    }
}

/// Items received and not yet taken by the core, plus the event clock.
#[derive(Debug, Default)]
pub struct Inbox {
    /// New items in arrival order.
    pub items: VecDeque<Broadcast>,
    /// Items that did not decode or broke a bound.
    pub invalid: u64,
    /// Items dropped because the inbox was full.
    pub overflow: u64,
    /// The Lamport clock for user events: the next time to fire at.
    pub event_clock: u64,
}

/// Shared between the [`Handler`] owned by foca and the core.
pub type SharedInbox = Arc<Mutex<Inbox>>;

/// Locks the inbox; a poisoned lock still holds consistent data (every update is a
/// single push or counter bump), so it is used as is.
pub fn lock(inbox: &SharedInbox) -> std::sync::MutexGuard<'_, Inbox> {
    inbox.lock().unwrap_or_else(PoisonError::into_inner)
}

/// foca's broadcast handler: decodes, bounds-checks and deduplicates items.
pub struct Handler {
    inbox: SharedInbox,
    seen: HashSet<BroadcastKey>,
    seen_order: VecDeque<BroadcastKey>,
    max_event_size: usize,
}

impl Handler {
    /// A handler delivering into `inbox`, accepting user events up to `max_event_size`.
    pub fn new(inbox: SharedInbox, max_event_size: usize) -> Self {
        Self {
            inbox,
            seen: HashSet::new(),
            seen_order: VecDeque::new(),
            max_event_size,
        }
    }

    fn remember(&mut self, key: BroadcastKey) -> bool {
        if self.seen.contains(&key) {
            return false;
        }
        if self.seen_order.len() >= SEEN_MAX
            && let Some(old) = self.seen_order.pop_front()
        {
            self.seen.remove(&old);
        }
        self.seen.insert(key.clone());
        self.seen_order.push_back(key);
        true
    }

    fn valid(&self, item: &Broadcast) -> bool {
        match item {
            Broadcast::User(e) => {
                !e.name.is_empty()
                    && e.origin.len() <= NAME_LEN_MAX
                    && e.name.len() + e.payload.len() <= self.max_event_size
            }
            Broadcast::Leave(l) => !l.name.is_empty() && l.name.len() <= NAME_LEN_MAX,
        }
    }
}

/// Never fails: a bad item is counted and dropped so the rest of the packet is kept.
#[derive(Debug, thiserror::Error)]
#[error("unreachable")]
pub struct NeverError;

impl foca::BroadcastHandler<crate::member::NodeId> for Handler {
    type Key = BroadcastKey;
    type Error = NeverError;

    fn receive_item(
        &mut self,
        data: &[u8],
        _sender: Option<&crate::member::NodeId>,
    ) -> Result<Option<BroadcastKey>, NeverError> {
        let item = match postcard::from_bytes::<Broadcast>(data) {
            Ok(item) if self.valid(&item) => item,
            _ => {
                lock(&self.inbox).invalid += 1;
                return Ok(None);
            }
        };
        let key = match &item {
            Broadcast::User(e) => BroadcastKey::User(e.origin.clone(), e.seq),
            Broadcast::Leave(l) => BroadcastKey::Leave(l.name.clone(), l.bump),
        };
        let mut inbox = lock(&self.inbox);
        if let Broadcast::User(e) = &item {
            // Serf drops events too far behind its clock: they were delivered before
            // and have since fallen out of the dedup window.
            if e.ltime.saturating_add(EVENT_WINDOW) < inbox.event_clock {
                return Ok(None);
            }
            inbox.event_clock = inbox.event_clock.max(e.ltime.saturating_add(1));
        }
        drop(inbox);
        if !self.remember(key.clone()) {
            return Ok(None);
        }
        let mut inbox = lock(&self.inbox);
        if inbox.items.len() >= INBOX_MAX {
            inbox.overflow += 1;
        } else {
            inbox.items.push_back(item);
        }
        Ok(Some(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use foca::BroadcastHandler;

    fn event(origin: &str, seq: u64, ltime: u64, payload: usize) -> Vec<u8> {
        let e = Broadcast::User(UserEvent {
            ltime,
            origin: origin.into(),
            seq,
            name: "deploy".into(),
            payload: vec![7; payload],
        });
        postcard::to_allocvec(&e).expect("encodes")
    }

    #[test]
    fn dedups_and_bounds() {
        let inbox = SharedInbox::default();
        let mut h = Handler::new(inbox.clone(), 512);
        assert!(
            h.receive_item(&event("a", 1, 0, 10), None)
                .expect("ok")
                .is_some()
        );
        assert!(
            h.receive_item(&event("a", 1, 0, 10), None)
                .expect("ok")
                .is_none()
        );
        assert!(
            h.receive_item(&event("a", 2, 1, 600), None)
                .expect("ok")
                .is_none()
        );
        assert!(
            h.receive_item(&[0xff, 0xff, 0xff], None)
                .expect("ok")
                .is_none()
        );
        let inbox = lock(&inbox);
        assert_eq!(inbox.items.len(), 1);
        assert_eq!(inbox.invalid, 2);
        assert_eq!(inbox.event_clock, 1);
    }

    #[test]
    fn drops_events_far_behind_the_clock() {
        let inbox = SharedInbox::default();
        let mut h = Handler::new(inbox.clone(), 512);
        assert!(
            h.receive_item(&event("a", 1, 1000, 0), None)
                .expect("ok")
                .is_some()
        );
        assert!(
            h.receive_item(&event("b", 1, 10, 0), None)
                .expect("ok")
                .is_none()
        );
        assert!(
            h.receive_item(&event("b", 2, 900, 0), None)
                .expect("ok")
                .is_some()
        );
    }
}
