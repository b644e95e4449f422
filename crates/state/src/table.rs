//! The one generic indexed table under KV, tombstones, sessions, nodes and checks.
//!
//! Rows are keyed by string in a `BTreeMap` (ordered, so prefix scans are range scans), with
//! an optional secondary index (KV entry -> its lock session, session -> its node, ...), the
//! table's max modify index (what `X-Consul-Index` reports for the table), watch points, and
//! a journal so a failed transaction can be rolled back exactly.

use crate::watch::{Watch, Watches};
use std::collections::{BTreeMap, BTreeSet};

/// A row type. `secondary_key` feeds the table's one secondary index.
pub trait Row: Clone {
    fn secondary_key(&self) -> Option<&str> {
        None
    }
}

impl Row for u64 {}

struct Journal<V> {
    saved: Vec<(String, Option<V>)>,
    max_index: u64,
    dirty_len: usize,
}

pub struct Table<V: Row> {
    rows: BTreeMap<String, V>,
    by_secondary: BTreeSet<(String, String)>,
    max_index: u64,
    watches: Watches,
    dirty: Vec<String>,
    journal: Option<Journal<V>>,
}

impl<V: Row> Default for Table<V> {
    fn default() -> Self {
        Table {
            rows: BTreeMap::new(),
            by_secondary: BTreeSet::new(),
            max_index: 0,
            watches: Watches::default(),
            dirty: Vec::new(),
            journal: None,
        }
    }
}

impl<V: Row> Table<V> {
    pub fn from_rows(rows: BTreeMap<String, V>, max_index: u64) -> Self {
        let mut table = Table {
            rows,
            max_index,
            ..Table::default()
        };
        table.by_secondary = table
            .rows
            .iter()
            .filter_map(|(k, v)| v.secondary_key().map(|s| (s.to_string(), k.clone())))
            .collect();
        table
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.rows.get(key)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn rows(&self) -> &BTreeMap<String, V> {
        &self.rows
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.rows.iter()
    }

    /// Rows whose key starts with `prefix`, in key order.
    pub fn prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a String, &'a V)> + 'a {
        self.rows
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(move |(k, _)| k.starts_with(prefix))
    }

    /// Primary keys of rows whose secondary key is `secondary`.
    pub fn keys_by_secondary(&self, secondary: &str) -> Vec<String> {
        let start = (secondary.to_string(), String::new());
        self.by_secondary
            .range(start..)
            .take_while(|(s, _)| s == secondary)
            .map(|(_, k)| k.clone())
            .collect()
    }

    pub fn max_index(&self) -> u64 {
        self.max_index
    }

    /// Raises the table index without a row change (e.g. a delete of a missing key that
    /// Consul still counts).
    pub fn bump_index(&mut self, index: u64) {
        self.max_index = self.max_index.max(index);
    }

    pub fn insert(&mut self, key: String, row: V, index: u64) -> Option<V> {
        self.bump_index(index);
        if let Some(new_secondary) = row.secondary_key() {
            self.by_secondary
                .insert((new_secondary.to_string(), key.clone()));
        }
        let previous = self.rows.insert(key.clone(), row);
        self.unindex_previous(&key, previous.as_ref());
        self.record(key, previous.clone());
        previous
    }

    pub fn remove(&mut self, key: &str, index: u64) -> Option<V> {
        let previous = self.rows.remove(key)?;
        self.bump_index(index);
        if let Some(secondary) = previous.secondary_key() {
            self.by_secondary
                .remove(&(secondary.to_string(), key.to_string()));
        }
        self.record(key.to_string(), Some(previous.clone()));
        Some(previous)
    }

    /// Removes the secondary-index entry of the row a key held before an overwrite, unless
    /// the new row has the same secondary key.
    fn unindex_previous(&mut self, key: &str, previous: Option<&V>) {
        let Some(old) = previous.and_then(|p| p.secondary_key()) else {
            return;
        };
        let still = self.rows.get(key).and_then(|r| r.secondary_key()) == Some(old);
        if !still {
            self.by_secondary
                .remove(&(old.to_string(), key.to_string()));
        }
    }

    fn record(&mut self, key: String, previous: Option<V>) {
        if let Some(journal) = &mut self.journal {
            journal.saved.push((key.clone(), previous));
        }
        self.dirty.push(key);
    }

    /// Starts journaling changes so that `rollback` can undo them.
    pub fn begin(&mut self) {
        self.journal = Some(Journal {
            saved: Vec::new(),
            max_index: self.max_index,
            dirty_len: self.dirty.len(),
        });
    }

    /// Keeps the changes made since `begin`.
    pub fn commit(&mut self) {
        self.journal = None;
    }

    /// Undoes every change made since `begin`, newest first, without firing watches.
    pub fn rollback(&mut self) {
        let Some(journal) = self.journal.take() else {
            return;
        };
        for (key, previous) in journal.saved.into_iter().rev() {
            let current = match previous {
                Some(row) => self.rows.insert(key.clone(), row),
                None => self.rows.remove(&key),
            };
            if let Some(secondary) = current.as_ref().and_then(|c| c.secondary_key()) {
                self.by_secondary
                    .remove(&(secondary.to_string(), key.clone()));
            }
            if let Some(secondary) = self.rows.get(&key).and_then(|r| r.secondary_key()) {
                self.by_secondary.insert((secondary.to_string(), key));
            }
        }
        self.max_index = journal.max_index;
        self.dirty.truncate(journal.dirty_len);
    }

    /// Wakes the readers of every key changed since the last flush.
    pub fn flush_watches(&mut self) {
        if self.dirty.is_empty() {
            return;
        }
        self.watches.fire(self.dirty.iter().map(String::as_str));
        self.dirty.clear();
    }

    pub fn fire_all_watches(&mut self) {
        self.dirty.clear();
        self.watches.fire_all();
    }

    pub fn watch_key(&self, key: &str) -> Watch {
        self.watches.key(key)
    }

    pub fn watch_prefix(&self, prefix: &str) -> Watch {
        self.watches.prefix(prefix)
    }

    pub fn watch_table(&self) -> Watch {
        self.watches.table()
    }

    pub fn watch_points(&self) -> usize {
        self.watches.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Item(Option<String>);
    impl Row for Item {
        fn secondary_key(&self) -> Option<&str> {
            self.0.as_deref()
        }
    }

    #[test]
    fn secondary_index_follows_writes_and_rollback() {
        let mut t: Table<Item> = Table::default();
        t.insert("a".into(), Item(Some("s1".into())), 1);
        t.insert("b".into(), Item(Some("s1".into())), 2);
        assert_eq!(t.keys_by_secondary("s1"), vec!["a", "b"]);
        t.begin();
        t.insert("a".into(), Item(Some("s2".into())), 3);
        t.remove("b", 4);
        t.insert("c".into(), Item(None), 5);
        assert_eq!(t.keys_by_secondary("s1"), Vec::<String>::new());
        assert_eq!(t.keys_by_secondary("s2"), vec!["a"]);
        t.rollback();
        assert_eq!(t.keys_by_secondary("s1"), vec!["a", "b"]);
        assert!(t.keys_by_secondary("s2").is_empty());
        assert!(t.get("c").is_none());
        assert_eq!(t.max_index(), 2);
    }

    #[test]
    fn prefix_scan_is_ordered_and_bounded() {
        let mut t: Table<u64> = Table::default();
        for (i, k) in ["a", "ab", "abc", "b", "a/"].iter().enumerate() {
            t.insert((*k).into(), i as u64, i as u64 + 1);
        }
        let keys: Vec<&String> = t.prefix("a").map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "a/", "ab", "abc"]);
        assert_eq!(t.prefix("").count(), 5);
        assert_eq!(t.prefix("zz").count(), 0);
    }
}
