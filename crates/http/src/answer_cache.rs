//! Encoded answers shared between requests asking the same question at the same index.
//!
//! A change to a watched service wakes every blocking query on it at once; without sharing,
//! each of them copies the instances and encodes its own (often 100 KB+) JSON answer, and
//! the fan-out is bound by that work. Here the first request to need the answer for
//! (question, index) encodes it and the others reuse the bytes. The answer at a given index
//! is fully determined by the question and the index, so sharing never changes what a
//! client sees. Bounded by entry count and bytes; one entry (the newest index) per question.

use axum::body::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

const MAX_ENTRIES: usize = 256;
const MAX_BYTES: usize = 32 * 1024 * 1024;
/// Answers larger than this are encoded per request (they would crowd out the rest).
pub const MAX_SHARED_ANSWER: usize = 4 * 1024 * 1024;

/// One answer being, or already, encoded. `None` when encoding failed (the request that
/// needs it recomputes to report the error).
pub type Slot = Arc<OnceLock<Option<Bytes>>>;

#[derive(Default)]
pub struct AnswerCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, (u64, Slot)>,
    /// Insertion order, for eviction.
    order: VecDeque<String>,
}

fn size(slot: &Slot) -> usize {
    slot.get().and_then(Option::as_ref).map_or(0, Bytes::len)
}

impl AnswerCache {
    /// The slot for `question` at `index`: the shared one if another request already
    /// created it, else a new one (replacing the question's older index).
    pub fn slot(&self, question: &str, index: u64) -> Slot {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, slot)) = inner.entries.get(question)
            && *at == index
        {
            return slot.clone();
        }
        let slot: Slot = Arc::new(OnceLock::new());
        if inner
            .entries
            .insert(question.to_string(), (index, slot.clone()))
            .is_none()
        {
            inner.order.push_back(question.to_string());
        }
        inner.evict();
        slot
    }
}

impl Inner {
    fn evict(&mut self) {
        let mut bytes: usize = self.entries.values().map(|(_, s)| size(s)).sum();
        while self.entries.len() > MAX_ENTRIES || bytes > MAX_BYTES {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some((_, slot)) = self.entries.remove(&oldest) {
                bytes -= size(&slot);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_question_and_index_share_a_slot() {
        let cache = AnswerCache::default();
        let a = cache.slot("q", 5);
        let _ = a.set(Some(Bytes::from_static(b"answer")));
        let b = cache.slot("q", 5);
        assert_eq!(b.get(), Some(&Some(Bytes::from_static(b"answer"))));
        let newer = cache.slot("q", 6);
        assert!(newer.get().is_none(), "a new index is a new answer");
        assert!(cache.slot("other", 5).get().is_none());
    }

    #[test]
    fn entries_are_bounded() {
        let cache = AnswerCache::default();
        for i in 0..(MAX_ENTRIES + 10) {
            let _ = cache
                .slot(&format!("q{i}"), 1)
                .set(Some(Bytes::from_static(b"x")));
        }
        let inner = cache.inner.lock().expect("lock");
        assert_eq!(inner.entries.len(), MAX_ENTRIES);
        assert!(!inner.entries.contains_key("q0"), "oldest evicted first");
    }
}
