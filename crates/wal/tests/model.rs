//! Random operation sequences against a `Vec` model, with reopens in between.
#![allow(clippy::unwrap_used)]

mod common;

use common::{append_sync, small_segments};
use proconsul_wal::Wal;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// `count` records; `skip` only matters on an empty log, where any index >= floor is legal.
    Append {
        count: u8,
        skip: u8,
        len: u16,
    },
    TruncateFrom(u16),
    PurgeTo(u16),
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1u8..20, 0u8..3, 0u16..700).prop_map(|(count, skip, len)| Op::Append { count, skip, len }),
        2 => any::<u16>().prop_map(Op::TruncateFrom),
        2 => any::<u16>().prop_map(Op::PurgeTo),
        1 => Just(Op::Reopen),
    ]
}

#[derive(Default)]
struct Model {
    floor: u64,
    entries: Vec<(u64, Vec<u8>)>,
}

impl Model {
    fn first(&self) -> Option<u64> {
        self.entries.first().map(|e| e.0)
    }
    fn last(&self) -> Option<u64> {
        self.entries.last().map(|e| e.0)
    }
    /// A position around the live range (a little below and above it, to hit edge cases).
    fn pick(&self, r: u16) -> u64 {
        let base = self.first().unwrap_or(self.floor).saturating_sub(2);
        base + u64::from(r) % (self.entries.len() as u64 + 5)
    }
}

fn payload(index: u64, len: u16) -> Vec<u8> {
    (0..len)
        .map(|i| (index as u8).wrapping_add(i as u8))
        .collect()
}

fn run(ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let (mut wal, _) = Wal::open(dir.path(), small_segments()).unwrap();
    let mut m = Model::default();
    for op in ops {
        match op {
            Op::Append { count, skip, len } => {
                let start = m.last().map_or(m.floor + u64::from(skip), |l| l + 1);
                let recs: Vec<_> = (start..start + u64::from(count))
                    .map(|i| (i, payload(i, len)))
                    .collect();
                append_sync(&wal, recs.clone()).unwrap();
                m.entries.extend(recs);
            }
            Op::TruncateFrom(r) => {
                let from = m.pick(r);
                wal.truncate_from(from).unwrap();
                m.entries.retain(|e| e.0 < from);
            }
            Op::PurgeTo(r) => {
                let upto = m.pick(r);
                wal.purge_to(upto).unwrap();
                m.floor = m.floor.max(upto + 1);
                m.entries.retain(|e| e.0 > upto);
            }
            Op::Reopen => {
                drop(wal);
                let (w, rec) = Wal::open(dir.path(), small_segments()).unwrap();
                assert!(rec.cut.is_none(), "clean shutdown left a torn tail");
                assert_eq!(rec.records, m.entries);
                wal = w;
            }
        }
        assert_eq!(wal.first_index(), m.first());
        assert_eq!(wal.last_index(), m.last());
    }
    drop(wal);
    let (_, rec) = Wal::open(dir.path(), small_segments()).unwrap();
    assert_eq!(rec.records, m.entries);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn matches_vec_model(ops in proptest::collection::vec(op(), 1..40)) {
        run(ops);
    }
}
