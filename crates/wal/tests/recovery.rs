//! Recovery: torn tails are cut, anything else refuses to open.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs::OpenOptions;

use common::{append_sync, payload, records, segment_files, small_segments};
use proconsul_wal::{Wal, WalError, WalOptions};

fn write_log(dir: &std::path::Path, opts: WalOptions, range: std::ops::RangeInclusive<u64>) {
    let (wal, _) = Wal::open(dir, opts).unwrap();
    append_sync(&wal, records(range)).unwrap();
}

#[test]
fn reopen_returns_everything_appended() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), WalOptions::default(), 1..=50);
    let (wal, rec) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(rec.records, records(1..=50));
    assert!(rec.cut.is_none());
    assert_eq!((wal.first_index(), wal.last_index()), (Some(1), Some(50)));
    append_sync(&wal, records(51..=60)).unwrap();
    assert!(matches!(
        append_sync(&wal, records(62..=62)),
        Err(WalError::NonContiguous {
            expected: 61,
            got: 62
        })
    ));
}

#[test]
fn truncation_at_every_byte_offset_recovers_the_complete_prefix() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), WalOptions::default(), 1..=6);
    let seg = segment_files(dir.path()).remove(0);
    let original = std::fs::read(&seg).unwrap();
    // Record boundaries, from the encoded sizes (16-byte header + payload).
    let mut ends = vec![40usize];
    for i in 1..=6 {
        ends.push(ends.last().unwrap() + 16 + payload(i).len());
    }
    assert_eq!(*ends.last().unwrap(), original.len());
    for cut in 40..=original.len() {
        for f in segment_files(dir.path()) {
            std::fs::remove_file(f).unwrap();
        }
        std::fs::write(&seg, &original[..cut]).unwrap();
        let complete = ends.iter().filter(|e| **e <= cut).count() as u64 - 1;
        let (wal, rec) = Wal::open(dir.path(), WalOptions::default()).unwrap();
        let expect_records = if complete == 0 {
            vec![]
        } else {
            records(1..=complete)
        };
        assert_eq!(rec.records, expect_records, "cut at {cut}");
        let torn = !ends.contains(&cut);
        assert_eq!(rec.cut.is_some(), torn, "cut at {cut}");
        // Recovery must leave a file that appends cleanly continue.
        append_sync(&wal, records(complete + 1..=6)).unwrap();
        drop(wal);
        let (_, rec) = Wal::open(dir.path(), WalOptions::default()).unwrap();
        assert_eq!(rec.records, records(1..=6), "after re-append, cut at {cut}");
    }
}

#[test]
fn bit_flip_in_the_middle_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), WalOptions::default(), 1..=6);
    let seg = segment_files(dir.path()).remove(0);
    let mut bytes = std::fs::read(&seg).unwrap();
    // Inside record 2's payload: header 40 + record 1 (16 + len) + record 2 header 16.
    let at = 40 + 16 + payload(1).len() + 16 + 3;
    bytes[at] ^= 0x04;
    std::fs::write(&seg, &bytes).unwrap();
    match Wal::open(dir.path(), WalOptions::default()) {
        Err(WalError::Corrupt { reason, .. }) => assert!(reason.contains("follows"), "{reason}"),
        other => panic!("expected corruption error, got {:?}", other.map(|(_, r)| r)),
    }
    // Refusing must not modify the file.
    assert_eq!(std::fs::read(&seg).unwrap(), bytes);
}

#[test]
fn zero_filled_tail_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), WalOptions::default(), 1..=6);
    let seg = segment_files(dir.path()).remove(0);
    let len = std::fs::metadata(&seg).unwrap().len();
    let f = OpenOptions::new().write(true).open(&seg).unwrap();
    f.set_len(len + 8192).unwrap();
    drop(f);
    let (_, rec) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(rec.records, records(1..=6));
    let cut = rec.cut.unwrap();
    assert_eq!((cut.offset, cut.bytes), (len, 8192));
    assert_eq!(std::fs::metadata(&seg).unwrap().len(), len);
}

#[test]
fn zeroed_last_record_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), WalOptions::default(), 1..=6);
    let seg = segment_files(dir.path()).remove(0);
    let mut bytes = std::fs::read(&seg).unwrap();
    let last_len = 16 + payload(6).len();
    let n = bytes.len();
    bytes[n - last_len..].fill(0);
    std::fs::write(&seg, &bytes).unwrap();
    let (_, rec) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(rec.records, records(1..=5));
}

#[test]
fn oversized_length_field_does_not_allocate_and_is_cut_at_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), WalOptions::default(), 1..=3);
    let seg = segment_files(dir.path()).remove(0);
    let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
    let mut junk = u32::MAX.to_le_bytes().to_vec();
    junk.extend_from_slice(&[1u8; 12]);
    std::io::Write::write_all(&mut f, &junk).unwrap();
    drop(f);
    let (_, rec) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(rec.records, records(1..=3));
    assert!(rec.cut.unwrap().reason.contains("maximum"));
}

#[test]
fn oversized_append_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions {
        max_record_bytes: 100,
        ..WalOptions::default()
    };
    let (wal, _) = Wal::open(dir.path(), opts).unwrap();
    let r = wal.append(vec![(1, vec![0; 101])], Box::new(|_| {}));
    assert!(matches!(r, Err(WalError::TooLarge { len: 101, max: 100 })));
    assert_eq!(wal.last_index(), None);
}

fn multi_segment_log() -> (tempfile::TempDir, Vec<std::path::PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), small_segments(), 1..=300);
    let segs = segment_files(dir.path());
    assert!(
        segs.len() >= 3,
        "expected several segments, got {}",
        segs.len()
    );
    (dir, segs)
}

#[test]
fn multi_segment_roundtrip() {
    let (dir, _) = multi_segment_log();
    let (_, rec) = Wal::open(dir.path(), small_segments()).unwrap();
    assert_eq!(rec.records, records(1..=300));
}

#[test]
fn torn_end_of_a_sealed_segment_refuses_to_open() {
    let (dir, segs) = multi_segment_log();
    let len = std::fs::metadata(&segs[0]).unwrap().len();
    let f = OpenOptions::new().write(true).open(&segs[0]).unwrap();
    f.set_len(len - 3).unwrap();
    drop(f);
    assert!(matches!(
        Wal::open(dir.path(), small_segments()),
        Err(WalError::Corrupt { .. })
    ));
}

#[test]
fn bad_header_in_an_earlier_segment_refuses_to_open() {
    let (dir, segs) = multi_segment_log();
    let mut bytes = std::fs::read(&segs[1]).unwrap();
    bytes[30] ^= 1;
    std::fs::write(&segs[1], bytes).unwrap();
    match Wal::open(dir.path(), small_segments()) {
        Err(WalError::Corrupt {
            segment, offset, ..
        }) => {
            assert_eq!((segment, offset), (segs[1].clone(), 0));
        }
        other => panic!("expected corruption, got {:?}", other.map(|(_, r)| r)),
    }
}

#[test]
fn missing_middle_segment_is_a_gap() {
    let (dir, segs) = multi_segment_log();
    std::fs::remove_file(&segs[1]).unwrap();
    match Wal::open(dir.path(), small_segments()) {
        Err(WalError::Corrupt { reason, .. }) => assert!(reason.contains("index"), "{reason}"),
        other => panic!("expected gap error, got {:?}", other.map(|(_, r)| r)),
    }
}

#[test]
fn torn_header_of_the_last_segment_is_removed() {
    let (dir, segs) = multi_segment_log();
    let last = segs.last().unwrap();
    let f = OpenOptions::new().write(true).open(last).unwrap();
    f.set_len(17).unwrap();
    drop(f);
    let (_, rec) = Wal::open(dir.path(), small_segments()).unwrap();
    assert_eq!(rec.removed_segments, vec![last.clone()]);
    let n = rec.records.len() as u64;
    assert_eq!(rec.records, records(1..=n));
}

#[test]
fn purge_is_persisted_and_deletes_whole_segments() {
    let (dir, segs) = multi_segment_log();
    let (wal, _) = Wal::open(dir.path(), small_segments()).unwrap();
    wal.purge_to(150).unwrap();
    assert_eq!(wal.first_index(), Some(151));
    assert!(segment_files(dir.path()).len() < segs.len());
    drop(wal);
    let (wal, rec) = Wal::open(dir.path(), small_segments()).unwrap();
    assert_eq!(rec.records, records(151..=300));
    // Purging past the end empties the log; the next append must be above the purge point.
    wal.purge_to(1000).unwrap();
    assert_eq!((wal.first_index(), wal.last_index()), (None, None));
    assert!(segment_files(dir.path()).is_empty());
    assert!(append_sync(&wal, records(500..=500)).is_err());
    append_sync(&wal, records(1001..=1010)).unwrap();
    drop(wal);
    let (_, rec) = Wal::open(dir.path(), small_segments()).unwrap();
    assert_eq!(rec.records, records(1001..=1010));
    assert_eq!(rec.floor, 1001);
}

#[test]
fn truncate_across_segments_then_continue() {
    let (dir, _) = multi_segment_log();
    let (wal, _) = Wal::open(dir.path(), small_segments()).unwrap();
    wal.truncate_from(42).unwrap();
    assert_eq!(wal.last_index(), Some(41));
    append_sync(&wal, records(42..=100)).unwrap();
    drop(wal);
    let (wal, rec) = Wal::open(dir.path(), small_segments()).unwrap();
    assert_eq!(rec.records, records(1..=100));
    wal.truncate_from(1).unwrap();
    assert!(segment_files(dir.path()).is_empty());
    drop(wal);
    let (_, rec) = Wal::open(dir.path(), small_segments()).unwrap();
    assert!(rec.records.is_empty());
}

#[test]
fn unsupported_version_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), WalOptions::default(), 1..=2);
    let seg = segment_files(dir.path()).remove(0);
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[8] = 2;
    // Recompute the header checksum so only the version is wrong.
    let crc = crc32fast::hash(&bytes[0..32]);
    bytes[32..36].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&seg, bytes).unwrap();
    match Wal::open(dir.path(), WalOptions::default()) {
        Err(WalError::Corrupt { reason, .. }) => assert!(reason.contains("version"), "{reason}"),
        other => panic!("unexpected {:?}", other.map(|(_, r)| r)),
    }
}

#[test]
fn purge_interrupted_before_deleting_segments_is_finished_by_recovery() {
    let (dir, segs) = multi_segment_log();
    let saved: Vec<_> = segs.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let (wal, _) = Wal::open(dir.path(), small_segments()).unwrap();
    wal.purge_to(200).unwrap();
    drop(wal);
    // Simulate a crash after the floor was written but before the deletions hit the disk.
    let mut restored = Vec::new();
    for (p, bytes) in segs.iter().zip(&saved) {
        if !p.exists() {
            std::fs::write(p, bytes).unwrap();
            restored.push(p.clone());
        }
    }
    assert!(!restored.is_empty());
    let (wal, rec) = Wal::open(dir.path(), small_segments()).unwrap();
    assert_eq!(rec.records, records(201..=300));
    assert_eq!(rec.removed_segments, restored);
    assert_eq!(wal.first_index(), Some(201));
}

#[test]
fn dropping_the_last_handle_inside_a_callback_does_not_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let wal = std::sync::Arc::new(wal);
    let (tx, rx) = std::sync::mpsc::channel();
    let held = std::sync::Arc::clone(&wal);
    wal.append(
        records(1..=1),
        Box::new(move |r| {
            drop(held);
            tx.send(r).unwrap();
        }),
    )
    .unwrap();
    drop(wal);
    rx.recv().unwrap().unwrap();
}
