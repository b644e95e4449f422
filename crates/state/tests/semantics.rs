//! KV, session and transaction semantics of the state machine (Consul's behaviour).

use proconsul_state::{ApplyError, Command, DeleteMode, Request, Response, SetMode, Store};
use proconsul_types::catalog::{CheckStatus, HealthCheck, Node};
use proconsul_types::session::{Behavior, SERF_HEALTH_CHECK, Session};
use proconsul_types::txn::{KvVerb, TxnKvOp, TxnOp};

struct Harness {
    store: Store,
    index: u64,
    now_ms: u64,
}

impl Harness {
    fn new() -> Self {
        let mut h = Harness {
            store: Store::new(),
            index: 0,
            now_ms: 1_000_000,
        };
        h.register_node("n1", CheckStatus::Passing);
        h
    }

    fn apply(&mut self, command: Command) -> Response {
        self.index += 1;
        self.store.apply(
            self.index,
            &Request {
                now_ms: self.now_ms,
                command,
            },
        )
    }

    fn register_node(&mut self, name: &str, serf: CheckStatus) -> Response {
        let node = Node {
            node: name.into(),
            address: "127.0.0.1".into(),
            ..Node::default()
        };
        let check = HealthCheck {
            node: name.into(),
            check_id: SERF_HEALTH_CHECK.into(),
            name: "Serf Health Status".into(),
            status: serf,
            ..HealthCheck::default()
        };
        self.apply(Command::NodeRegister {
            node,
            checks: vec![check],
        })
    }

    fn put(&mut self, key: &str, value: &str, mode: SetMode) -> Response {
        self.apply(Command::KvSet {
            key: key.into(),
            value: value.as_bytes().to_vec(),
            flags: 0,
            mode,
        })
    }

    fn session(&mut self, id: &str, behavior: Behavior, lock_delay_ms: u64) -> Response {
        let session = Session {
            id: id.into(),
            name: String::new(),
            node: "n1".into(),
            lock_delay: lock_delay_ms * 1_000_000,
            behavior,
            ttl: String::new(),
            node_checks: Some(vec![SERF_HEALTH_CHECK.into()]),
            service_checks: None,
            create_index: 0,
            modify_index: 0,
        };
        self.apply(Command::SessionCreate { session })
    }
}

#[test]
fn put_get_preserves_create_index_and_resets_flags() {
    let mut h = Harness::new();
    h.apply(Command::KvSet {
        key: "a".into(),
        value: b"1".to_vec(),
        flags: 42,
        mode: SetMode::Plain,
    });
    let created = h.index;
    h.put("a", "2", SetMode::Plain);
    let (index, entry) = h.store.kv_get("a");
    let entry = entry.expect("exists");
    assert_eq!(entry.create_index, created);
    assert_eq!(entry.modify_index, h.index);
    assert_eq!(index, h.index);
    assert_eq!(entry.flags, 0, "a PUT without flags resets them");
    assert_eq!(entry.value, b"2");
}

#[test]
fn cas_semantics() {
    let mut h = Harness::new();
    assert_eq!(h.put("k", "v", SetMode::Cas(0)), Response::Bool(true));
    assert_eq!(
        h.put("k", "v", SetMode::Cas(0)),
        Response::Bool(false),
        "cas=0 only creates"
    );
    let modify = h.store.kv_get("k").1.expect("exists").modify_index;
    assert_eq!(
        h.put("k", "w", SetMode::Cas(modify + 100)),
        Response::Bool(false)
    );
    assert_eq!(h.put("k", "w", SetMode::Cas(modify)), Response::Bool(true));
    assert_eq!(
        h.put("missing", "w", SetMode::Cas(5)),
        Response::Bool(false)
    );
    let del = |idx| Command::KvDelete {
        key: "k".into(),
        mode: DeleteMode::Cas(idx),
    };
    assert_eq!(h.apply(del(1)), Response::Bool(false));
    let modify = h.store.kv_get("k").1.expect("exists").modify_index;
    assert_eq!(h.apply(del(modify)), Response::Bool(true));
    assert!(h.store.kv_get("k").1.is_none());
}

#[test]
fn delete_leaves_tombstone_so_indexes_advance() {
    let mut h = Harness::new();
    h.put("web/a", "1", SetMode::Plain);
    h.put("web/b", "1", SetMode::Plain);
    h.put("db/a", "1", SetMode::Plain);
    let (before, _) = h.store.kv_list("web/");
    h.apply(Command::KvDelete {
        key: "web/a".into(),
        mode: DeleteMode::Key,
    });
    let (after, entries) = h.store.kv_list("web/");
    assert!(
        after > before,
        "a delete under the prefix advances its index"
    );
    assert_eq!(entries.len(), 1);
    let (db_index, _) = h.store.kv_list("db/");
    assert!(db_index < after, "other prefixes keep their index");
    h.apply(Command::KvDelete {
        key: "web/".into(),
        mode: DeleteMode::Tree,
    });
    assert!(h.store.kv_list("web/").1.is_empty());
    assert_eq!(h.store.tombstone_len(), 2);
    h.apply(Command::TombstoneReap {
        up_to_index: h.index,
    });
    assert_eq!(h.store.tombstone_len(), 0);
}

#[test]
fn keys_fold_at_separator() {
    let mut h = Harness::new();
    for key in ["web/a", "web/sub/x", "web/sub/y", "web/z", "webby"] {
        h.put(key, "", SetMode::Plain);
    }
    let (_, keys) = h.store.kv_keys("web/", "/");
    assert_eq!(keys, ["web/a", "web/sub/", "web/z"]);
    let (_, keys) = h.store.kv_keys("", "");
    assert_eq!(keys.len(), 5);
}

#[test]
fn locks_acquire_release_and_lock_index() {
    let mut h = Harness::new();
    h.session("s1", Behavior::Release, 0);
    h.session("s2", Behavior::Release, 0);
    assert_eq!(
        h.put("lock", "a", SetMode::Acquire("s1".into())),
        Response::Bool(true)
    );
    assert_eq!(
        h.put("lock", "b", SetMode::Acquire("s1".into())),
        Response::Bool(true),
        "re-acquire by holder"
    );
    assert_eq!(
        h.store.kv_get("lock").1.expect("exists").lock_index,
        1,
        "no increment on re-acquire"
    );
    assert_eq!(
        h.put("lock", "c", SetMode::Acquire("s2".into())),
        Response::Bool(false)
    );
    assert_eq!(
        h.put("lock", "d", SetMode::Release("s2".into())),
        Response::Bool(false)
    );
    assert_eq!(
        h.put("lock", "e", SetMode::Plain),
        Response::Bool(true),
        "plain PUT ignores the lock"
    );
    assert_eq!(
        h.store.kv_get("lock").1.expect("exists").session.as_deref(),
        Some("s1")
    );
    assert_eq!(
        h.put("lock", "f", SetMode::Release("s1".into())),
        Response::Bool(true)
    );
    let entry = h.store.kv_get("lock").1.expect("exists");
    assert_eq!((entry.session.as_deref(), entry.lock_index), (None, 1));
    assert_eq!(
        h.put("lock", "g", SetMode::Acquire("s2".into())),
        Response::Bool(true)
    );
    assert_eq!(h.store.kv_get("lock").1.expect("exists").lock_index, 2);
    assert_eq!(
        h.put("lock", "x", SetMode::Acquire("nope".into())),
        Response::Error(ApplyError::InvalidSession("nope".into()))
    );
    assert_eq!(
        ApplyError::InvalidSession("nope".into()).to_string(),
        "invalid session \"nope\""
    );
}

#[test]
fn invalidation_releases_or_deletes_and_applies_lock_delay() {
    let mut h = Harness::new();
    h.session("rel", Behavior::Release, 15_000);
    h.session("del", Behavior::Delete, 0);
    h.session("other", Behavior::Release, 0);
    h.put("a", "1", SetMode::Acquire("rel".into()));
    h.put("b", "1", SetMode::Acquire("del".into()));
    h.apply(Command::SessionDestroy { id: "rel".into() });
    h.apply(Command::SessionDestroy { id: "del".into() });
    let a = h.store.kv_get("a").1.expect("released key stays");
    assert_eq!(a.session, None);
    assert!(
        h.store.kv_get("b").1.is_none(),
        "delete behaviour removes the key"
    );
    assert_eq!(
        h.put("a", "2", SetMode::Acquire("other".into())),
        Response::Bool(false),
        "lock delay"
    );
    h.now_ms += 15_001;
    assert_eq!(
        h.put("a", "2", SetMode::Acquire("other".into())),
        Response::Bool(true)
    );
    assert_eq!(
        h.apply(Command::SessionDestroy {
            id: "unknown".into()
        }),
        Response::Bool(true)
    );
}

#[test]
fn session_validation_and_check_invalidation() {
    let mut h = Harness::new();
    let mut bad = Harness::new();
    bad.register_node("n1", CheckStatus::Critical);
    assert_eq!(
        bad.session("s", Behavior::Release, 0),
        Response::Error(ApplyError::CheckCritical("serfHealth".into()))
    );
    let orphan = Session {
        id: "o".into(),
        name: String::new(),
        node: "nowhere".into(),
        lock_delay: 0,
        behavior: Behavior::Release,
        ttl: String::new(),
        node_checks: None,
        service_checks: None,
        create_index: 0,
        modify_index: 0,
    };
    assert_eq!(
        h.apply(Command::SessionCreate { session: orphan }),
        Response::Error(ApplyError::MissingNode)
    );
    h.session("s", Behavior::Release, 0);
    h.put("k", "v", SetMode::Acquire("s".into()));
    h.register_node("n1", CheckStatus::Critical);
    assert!(
        h.store.session_get("s").1.is_none(),
        "critical serfHealth invalidates the session"
    );
    assert_eq!(h.store.kv_get("k").1.expect("kept").session, None);
}

fn kv_op(verb: KvVerb, key: &str, value: &str, index: u64) -> TxnOp {
    TxnOp::Kv(TxnKvOp {
        verb,
        key: key.into(),
        value: value.as_bytes().to_vec(),
        flags: 0,
        index,
        session: None,
    })
}

#[test]
fn txn_is_all_or_nothing() {
    let mut h = Harness::new();
    h.put("existing", "v", SetMode::Plain);
    let before = h.store.snapshot();
    let ops = vec![
        kv_op(KvVerb::Set, "new", "x", 0),
        kv_op(KvVerb::Delete, "existing", "", 0),
        kv_op(KvVerb::Cas, "new", "y", 999),
        kv_op(KvVerb::Get, "absent", "", 0),
    ];
    let Response::Txn(resp) = h.apply(Command::Txn { ops }) else {
        panic!("txn response")
    };
    let errors = resp.errors.expect("errors");
    assert_eq!(
        errors.iter().map(|e| e.op_index).collect::<Vec<_>>(),
        [2, 3]
    );
    assert_eq!(errors[0].what, "failed to set key \"new\", index is stale");
    assert!(resp.results.is_none());
    let mut after = h.store.snapshot();
    // Only last_index moved.
    let text = String::from_utf8(after.clone()).expect("utf8");
    after = text
        .replacen(
            &format!("\"last_index\":{}", h.index),
            &format!("\"last_index\":{}", h.index - 1),
            1,
        )
        .into_bytes();
    assert_eq!(before, after, "a failed txn changes nothing");

    let ops = vec![
        kv_op(KvVerb::Set, "new", "x", 0),
        kv_op(KvVerb::Get, "new", "", 0),
        kv_op(KvVerb::Delete, "existing", "", 0),
    ];
    let Response::Txn(resp) = h.apply(Command::Txn { ops }) else {
        panic!("txn response")
    };
    let results = resp.results.expect("results");
    assert_eq!(results.len(), 2, "deletes produce no result");
    assert!(h.store.kv_get("existing").1.is_none());
}

#[test]
fn batch_applies_each_write_at_one_index_in_order() {
    let mut h = Harness::new();
    h.put("b", "old", SetMode::Plain);
    let modify_b = h.store.kv_get("b").1.expect("b").modify_index;
    let batch = Command::Batch(vec![
        Command::KvSet {
            key: "a".into(),
            value: b"1".to_vec(),
            flags: 0,
            mode: SetMode::Plain,
        },
        Command::KvSet {
            key: "b".into(),
            value: b"2".to_vec(),
            flags: 0,
            mode: SetMode::Cas(modify_b + 99),
        },
        Command::KvDelete {
            key: "c".into(),
            mode: DeleteMode::Key,
        },
    ]);
    assert_eq!(
        h.apply(batch),
        Response::Batch(vec![
            Response::Bool(true),
            Response::Bool(false),
            Response::Bool(true)
        ])
    );
    let a = h.store.kv_get("a").1.expect("a written");
    assert_eq!(
        a.modify_index, h.index,
        "every write of the batch carries the entry's index"
    );
    assert_eq!(
        h.store.kv_get("b").1.expect("b").value,
        b"old",
        "a failed CAS inside a batch changes nothing"
    );
    assert_eq!(
        Command::KvDelete {
            key: "p/".into(),
            mode: DeleteMode::Tree
        }
        .batch_key(),
        None
    );
    assert_eq!(Command::SessionDestroy { id: "s".into() }.batch_key(), None);
}

#[test]
fn catalog_writes_on_distinct_nodes_batch_and_stay_atomic_each() {
    use proconsul_types::catalog::{NodeService, RegisterRequest};
    let register = |node: &str, service: &str| {
        Command::CatalogRegister(Box::new(RegisterRequest {
            node: node.into(),
            address: "10.0.0.1".into(),
            service: Some(NodeService {
                id: service.into(),
                service: service.into(),
                ..NodeService::default()
            }),
            ..RegisterRequest::default()
        }))
    };
    let a = register("a", "web");
    let b = register("b", "web");
    assert_eq!(a.batch_key().as_deref(), Some("n/a"));
    assert_ne!(a.batch_key(), b.batch_key());
    // An invalid registration in the batch fails alone; its neighbours apply.
    let bad = register("c", "");
    let mut h = Harness::new();
    let response = h.apply(Command::Batch(vec![a, bad, b]));
    let Response::Batch(answers) = response else {
        panic!("batch answer expected, got {response:?}");
    };
    assert!(matches!(answers[0], Response::Done));
    assert!(matches!(answers[1], Response::Error(_)));
    assert!(matches!(answers[2], Response::Done));
    let nodes: Vec<String> = h
        .store
        .catalog_service_nodes("web", &Default::default())
        .1
        .into_iter()
        .map(|n| n.node)
        .collect();
    assert_eq!(nodes, ["a", "b"]);
    assert!(h.store.node_get("c").1.is_none());
}
