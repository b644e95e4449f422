//! Group commit: appends that arrive while a sync is in flight share one fdatasync.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Barrier};

use common::payload;
use proconsul_wal::{Wal, WalOptions};

/// Deterministic: the first append's callback (which runs on the sync thread, right after its
/// fdatasync) holds the sync thread until every other append is queued. All of those must then
/// be covered by one more fdatasync.
#[test]
fn appends_queued_during_a_sync_share_one_fsync() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel();
    let first_done = done_tx.clone();
    wal.append(
        vec![(1, payload(1))],
        Box::new(move |r| {
            release_rx.recv().unwrap();
            first_done.send(r).unwrap();
        }),
    )
    .unwrap();
    let others = 200u64;
    for i in 2..=others + 1 {
        let tx = done_tx.clone();
        wal.append(
            vec![(i, payload(i))],
            Box::new(move |r| tx.send(r).unwrap()),
        )
        .unwrap();
    }
    release_tx.send(()).unwrap();
    for _ in 0..=others {
        done_rx.recv().unwrap().unwrap();
    }
    let stats = wal.stats();
    assert_eq!(stats.appends, others + 1);
    // One sync for the first append (maybe also picking up a few others), one for the rest.
    assert!(stats.fsyncs <= 2, "{stats:?}");
}

/// Realistic: threads that each wait for their own acknowledgement before appending again.
/// While one fdatasync is in flight the others queue up, so syncs are shared.
#[test]
fn concurrent_appenders_need_fewer_fsyncs_than_appends() {
    let dir = tempfile::tempdir().unwrap();
    let (wal, _) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let wal = Arc::new(wal);
    // A single lock hands out indexes so that each thread's append is contiguous.
    let next = Arc::new(std::sync::Mutex::new(1u64));
    let threads = 8;
    let per_thread = 50;
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (wal, next, start) = (Arc::clone(&wal), Arc::clone(&next), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                for _ in 0..per_thread {
                    let (tx, rx) = mpsc::channel();
                    {
                        let mut n = next.lock().unwrap();
                        let cb = Box::new(move |r| tx.send(r).unwrap());
                        wal.append(vec![(*n, payload(*n))], cb).unwrap();
                        *n += 1;
                    }
                    rx.recv().unwrap().unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let stats = wal.stats();
    assert_eq!(stats.appends, (threads * per_thread) as u64);
    assert!(stats.fsyncs < stats.appends, "{stats:?}");
    drop(Arc::into_inner(wal));
    let (_, rec) = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(rec.records.len(), threads * per_thread);
}
