//! Snapshot and restore of the whole state.
//!
//! The format is versioned from the first release: a JSON document whose `format` field is
//! checked on restore. Rows are written in key order, so equal states give equal bytes
//! (the property tests compare snapshots byte for byte).

use crate::store::{ServiceRow, Store, check_key, service_key};
use crate::table::Table;
use proconsul_types::catalog::{HealthCheck, Node};
use proconsul_types::kv::KvEntry;
use proconsul_types::session::Session;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SNAPSHOT_FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot decode failed: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("unsupported snapshot format {0} (this build reads format {SNAPSHOT_FORMAT})")]
    Format(u32),
}

#[derive(Serialize, Deserialize)]
struct TableImage<V> {
    index: u64,
    rows: Vec<V>,
}

#[derive(Serialize, Deserialize)]
struct Image {
    format: u32,
    last_index: u64,
    kv: TableImage<KvEntry>,
    tombstones: TableImage<(String, u64)>,
    sessions: TableImage<Session>,
    nodes: TableImage<Node>,
    checks: TableImage<HealthCheck>,
    #[serde(default = "TableImage::empty")]
    services: TableImage<ServiceRow>,
    #[serde(default = "TableImage::empty")]
    service_index: TableImage<(String, u64)>,
    #[serde(default)]
    service_extinction: u64,
    lock_delays: BTreeMap<String, u64>,
}

impl<V> TableImage<V> {
    fn empty() -> Self {
        TableImage {
            index: 0,
            rows: Vec::new(),
        }
    }
}

fn pairs(table: &Table<u64>) -> TableImage<(String, u64)> {
    TableImage {
        index: table.max_index(),
        rows: table.iter().map(|(k, v)| (k.clone(), *v)).collect(),
    }
}

fn image<V: crate::table::Row + Clone>(table: &Table<V>) -> TableImage<V> {
    TableImage {
        index: table.max_index(),
        rows: table.iter().map(|(_, v)| v.clone()).collect(),
    }
}

fn rebuild<V: crate::table::Row>(image: TableImage<V>, key: impl Fn(&V) -> String) -> Table<V> {
    let rows = image.rows.into_iter().map(|row| (key(&row), row)).collect();
    Table::from_rows(rows, image.index)
}

impl Store {
    pub fn snapshot(&self) -> Vec<u8> {
        let image = Image {
            format: SNAPSHOT_FORMAT,
            last_index: self.last_index,
            kv: image(&self.kv),
            tombstones: pairs(&self.tombstones),
            sessions: image(&self.sessions),
            nodes: image(&self.nodes),
            checks: image(&self.checks),
            services: image(&self.services),
            service_index: pairs(&self.service_index),
            service_extinction: self.service_extinction,
            lock_delays: self.lock_delays.clone(),
        };
        // Serializing plain data to a Vec cannot fail; fall back to an empty document anyway.
        serde_json::to_vec(&image).unwrap_or_default()
    }

    /// Replaces this store's contents with a snapshot, waking every blocked reader.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), SnapshotError> {
        let image: Image = serde_json::from_slice(bytes)?;
        if image.format != SNAPSHOT_FORMAT {
            return Err(SnapshotError::Format(image.format));
        }
        let mut restored = Store {
            kv: rebuild(image.kv, |e| e.key.clone()),
            tombstones: Table::from_rows(
                image.tombstones.rows.into_iter().collect(),
                image.tombstones.index,
            ),
            sessions: rebuild(image.sessions, |s| s.id.clone()),
            nodes: rebuild(image.nodes, |n| n.node.clone()),
            checks: rebuild(image.checks, |c| check_key(&c.node, &c.check_id)),
            services: rebuild(image.services, |r| service_key(&r.node, &r.service.id)),
            service_index: Table::from_rows(
                image.service_index.rows.into_iter().collect(),
                image.service_index.index,
            ),
            service_extinction: image.service_extinction,
            lock_delays: image.lock_delays,
            last_index: image.last_index,
        };
        std::mem::swap(self, &mut restored);
        // `restored` now holds the old tables and their watch points: wake those readers.
        restored.fire_all_watches();
        Ok(())
    }
}
