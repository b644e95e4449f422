//! Node, Service and Check operations in transactions: Consul's verbs and error texts,
//! all-or-nothing together with KV operations, and watches that fire only for committed
//! transactions.

use proconsul_state::{Command, Request, Response, SetMode, Store, Watch};
use proconsul_types::catalog::{CheckStatus, HealthCheck, Node, NodeService};
use proconsul_types::session::Session;
use proconsul_types::txn::{
    CatalogVerb, KvVerb, TxnCheckOp, TxnKvOp, TxnNodeOp, TxnOp, TxnResponse, TxnResult,
    TxnServiceOp,
};
use proptest::prelude::*;
use std::time::Duration;

struct Harness {
    store: Store,
    index: u64,
}

impl Harness {
    fn new() -> Self {
        Harness {
            store: Store::new(),
            index: 0,
        }
    }

    fn txn(&mut self, ops: Vec<TxnOp>) -> TxnResponse {
        self.index += 1;
        let request = Request {
            now_ms: 1_000,
            command: Command::Txn { ops },
        };
        match self.store.apply(self.index, &request) {
            Response::Txn(response) => response,
            other => panic!("txn answered {other:?}"),
        }
    }

    fn ok(&mut self, ops: Vec<TxnOp>) -> Vec<TxnResult> {
        let response = self.txn(ops);
        assert_eq!(response.errors, None, "{response:?}");
        response.results.expect("results")
    }

    fn errors(&mut self, ops: Vec<TxnOp>) -> Vec<(usize, String)> {
        let response = self.txn(ops);
        assert!(response.results.is_none(), "{response:?}");
        response
            .errors
            .expect("errors")
            .into_iter()
            .map(|e| (e.op_index, e.what))
            .collect()
    }

    /// The snapshot with `last_index` put back, so a no-op txn compares equal.
    fn image(&self) -> String {
        let text = String::from_utf8(self.store.snapshot()).expect("utf8");
        text.replacen(
            &format!("\"last_index\":{}", self.store.last_index()),
            "\"last_index\":0",
            1,
        )
    }
}

fn kv(verb: KvVerb, key: &str, index: u64) -> TxnOp {
    TxnOp::Kv(TxnKvOp {
        verb,
        key: key.into(),
        value: b"v".to_vec(),
        flags: 0,
        index,
        session: None,
    })
}

fn node(verb: CatalogVerb, name: &str, index: u64) -> TxnOp {
    TxnOp::Node(Box::new(TxnNodeOp {
        verb,
        node: Node {
            node: name.into(),
            address: "10.0.0.1".into(),
            datacenter: "dc1".into(),
            modify_index: index,
            ..Node::default()
        },
    }))
}

fn service(verb: CatalogVerb, node: &str, name: &str, index: u64) -> TxnOp {
    TxnOp::Service(Box::new(TxnServiceOp {
        verb,
        node: node.into(),
        service: NodeService {
            id: name.into(),
            service: name.into(),
            port: 80,
            modify_index: index,
            ..NodeService::default()
        },
    }))
}

fn check(verb: CatalogVerb, node: &str, id: &str, service_id: &str, index: u64) -> TxnOp {
    TxnOp::Check(Box::new(TxnCheckOp {
        verb,
        check: HealthCheck {
            node: node.into(),
            check_id: id.into(),
            name: id.into(),
            service_id: service_id.into(),
            status: CheckStatus::Passing,
            modify_index: index,
            ..HealthCheck::default()
        },
    }))
}

async fn fires(watch: Watch) -> bool {
    tokio::time::timeout(Duration::from_millis(50), watch.fired())
        .await
        .is_ok()
}

use CatalogVerb::{Cas, Delete, DeleteCas, Get, Set};

#[test]
fn node_verbs_and_texts() {
    let mut h = Harness::new();
    let res = h.ok(vec![node(Set, "n1", 0), node(Get, "n1", 0)]);
    let [TxnResult::Node(set), TxnResult::Node(got)] = res.as_slice() else {
        panic!("{res:?}")
    };
    assert_eq!((set.create_index, set.modify_index), (1, 1));
    assert_eq!(set, got);
    assert_eq!(
        h.errors(vec![
            node(Get, "nope", 0),
            node(Cas, "n1", 0),
            node(Cas, "n2", 5)
        ]),
        [
            (0, r#"node "nope" doesn't exist"#.to_string()),
            (1, r#"failed to set node "n1", index is stale"#.to_string()),
            (2, r#"failed to set node "n2", index is stale"#.to_string()),
        ]
    );
    let res = h.ok(vec![node(Cas, "n1", 1), node(Cas, "n2", 0)]);
    assert_eq!(res.len(), 2);
    assert_eq!(
        h.errors(vec![node(DeleteCas, "n1", 2), node(DeleteCas, "zz", 0)]),
        [
            (
                0,
                r#"failed to delete node "n1", index is stale"#.to_string()
            ),
            (
                1,
                r#"failed to delete node "zz", index is stale"#.to_string()
            ),
        ]
    );
    // n1 was rewritten with the same data by the cas above: unchanged rows keep their index.
    let modify = h.store.nodes().get("n1").expect("n1").modify_index;
    assert!(
        h.ok(vec![node(DeleteCas, "n1", modify), node(Delete, "n2", 0)])
            .is_empty()
    );
    assert!(h.store.nodes().is_empty());
    assert!(
        h.ok(vec![node(Delete, "never", 0)]).is_empty(),
        "no-op delete"
    );
}

#[test]
fn node_ids_find_and_rename() {
    let mut h = Harness::new();
    let id = "40e4a748-2192-161a-0510-9bf59fe950b5";
    let mut op = node(Set, "old", 0);
    if let TxnOp::Node(n) = &mut op {
        n.node.id = id.into();
    }
    h.ok(vec![op.clone(), service(Set, "old", "web", 0)]);
    if let TxnOp::Node(n) = &mut op {
        n.node.node = "new".into();
    }
    let res = h.ok(vec![op]);
    let [TxnResult::Node(renamed)] = res.as_slice() else {
        panic!("{res:?}")
    };
    assert_eq!(renamed.node, "new");
    assert!(h.store.nodes().get("old").is_none(), "renamed by ID");
    assert!(h.store.services().is_empty(), "with its services");
    let by_id = TxnOp::Node(Box::new(TxnNodeOp {
        verb: Get,
        node: Node {
            id: id.to_uppercase(),
            ..Node::default()
        },
    }));
    assert!(matches!(h.store.txn_read(&[by_id]).results.as_deref(),
        Some([TxnResult::Node(n)]) if n.node == "new"));
}

#[test]
fn service_and_check_verbs_and_texts() {
    let mut h = Harness::new();
    assert_eq!(
        h.errors(vec![
            service(Set, "n1", "web", 0),
            check(Set, "n1", "c", "", 0),
        ]),
        [
            (0, "Missing node registration".to_string()),
            (1, "Missing node registration".to_string()),
        ]
    );
    let res = h.ok(vec![
        node(Set, "n1", 0),
        service(Set, "n1", "web", 0),
        check(Set, "n1", "web-alive", "web", 0),
        check(Set, "n1", "serfHealth", "", 0),
    ]);
    let [
        _,
        TxnResult::Service(web),
        TxnResult::Check(alive),
        TxnResult::Check(_),
    ] = res.as_slice()
    else {
        panic!("{res:?}")
    };
    assert_eq!(web.weights.map(|w| w.passing), Some(1));
    assert_eq!(
        alive.service_name, "web",
        "service name copied into the check"
    );
    let index = h.index;
    assert_eq!(
        h.errors(vec![
            check(Set, "n1", "x", "db", 0),
            service(Get, "n1", "db", 0),
            check(Get, "n1", "x", "", 0),
            service(Cas, "n1", "web", index + 7),
            service(Cas, "n1", "db", 3),
            service(DeleteCas, "n1", "web", 1),
            check(Cas, "n1", "web-alive", "web", 0),
            check(DeleteCas, "n1", "nope", "", 0),
        ]),
        [
            (0, "Missing service registration".to_string()),
            (1, r#"service "db" on node "n1" doesn't exist"#.to_string()),
            (2, r#"check "x" on node "n1" doesn't exist"#.to_string()),
            (
                3,
                r#"failed to set service "web" on node "n1", index is stale"#.to_string()
            ),
            (
                4,
                r#"failed to set service "db" on node "n1", index is stale"#.to_string()
            ),
            (
                5,
                r#"failed to delete service "web" on node "n1", index is stale"#.to_string()
            ),
            (
                6,
                r#"failed to set check "web-alive" on node "n1", index is stale"#.to_string()
            ),
            (
                7,
                r#"failed to delete check "nope" on node "n1", index is stale"#.to_string()
            ),
        ]
    );
    let res = h.ok(vec![
        service(Cas, "n1", "web", index),
        check(DeleteCas, "n1", "serfHealth", "", index),
        service(Get, "n1", "web", 0),
    ]);
    assert_eq!(res.len(), 2, "deletes answer nothing: {res:?}");
    assert!(h.ok(vec![service(Delete, "n1", "web", 0)]).is_empty());
    assert!(
        h.store.checks().is_empty(),
        "a service delete takes its checks"
    );
}

#[test]
fn failed_mixed_txn_changes_nothing_and_fires_nothing() {
    let mut h = Harness::new();
    h.ok(vec![
        kv(KvVerb::Set, "k", 0),
        node(Set, "n1", 0),
        service(Set, "n1", "web", 0),
        check(Set, "n1", "serfHealth", "", 0),
    ]);
    // A lock held by a session on the node: deleting the node would release it and start a
    // lock delay.
    let session = Session {
        id: "s1".into(),
        name: String::new(),
        node: "n1".into(),
        lock_delay: 15_000_000_000,
        behavior: Default::default(),
        ttl: String::new(),
        node_checks: None,
        service_checks: None,
        create_index: 0,
        modify_index: 0,
    };
    for command in [
        Command::SessionCreate { session },
        Command::KvSet {
            key: "k".into(),
            value: b"held".to_vec(),
            flags: 0,
            mode: SetMode::Acquire("s1".into()),
        },
    ] {
        h.index += 1;
        h.store.apply(
            h.index,
            &Request {
                now_ms: 1_000,
                command,
            },
        );
    }
    assert!(h.store.kv_get("k").1.is_some_and(|e| e.session.is_some()));
    let before = h.image();
    let web_index = h.store.service_name_index("web");
    let watches = [
        h.store.watch_service("web"),
        h.store.watch_service("db"),
        h.store.watch_nodes(),
        h.store.watch_node("n1"),
        h.store.watch_checks(false),
        h.store.watch_kv_key("k"),
        h.store.watch_sessions(),
    ];
    let errors = h.errors(vec![
        kv(KvVerb::Set, "k", 0),
        kv(KvVerb::Set, "k2", 0),
        service(Set, "n1", "db", 0),
        check(Set, "n1", "serfHealth", "", 0),
        node(Delete, "n1", 0),
        node(Set, "n2", 0),
        service(Cas, "n2", "web", 99),
    ]);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, 6);
    assert_eq!(
        h.image(),
        before,
        "rows, table indexes, extinction, lock delays"
    );
    assert_eq!(h.store.service_name_index("web"), web_index);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    for (i, watch) in watches.into_iter().enumerate() {
        assert!(!rt.block_on(fires(watch)), "watch {i} fired for a rollback");
    }

    // The same changes committed fire the service watches.
    let web = h.store.watch_service("web");
    let db = h.store.watch_service("db");
    h.ok(vec![service(Set, "n1", "db", 0), node(Delete, "n1", 0)]);
    assert!(rt.block_on(fires(web)));
    assert!(rt.block_on(fires(db)));
    assert!(h.store.sessions().is_empty(), "node delete invalidated s1");
    assert!(h.store.lock_delay_until("k").is_some());
    assert!(h.store.service_name_index("web") > web_index);
}

#[test]
fn read_only_catalog_reads() {
    let mut h = Harness::new();
    h.ok(vec![node(Set, "n1", 0), service(Set, "n1", "web", 0)]);
    let response = h
        .store
        .txn_read(&[node(Get, "n1", 0), service(Get, "n1", "web", 0)]);
    assert_eq!(response.results.map(|r| r.len()), Some(2));
    let response = h.store.txn_read(&[check(Get, "n1", "c", "", 0)]);
    assert_eq!(response.errors.map(|e| e[0].op_index), Some(0));
}

fn any_op() -> impl Strategy<Value = TxnOp> {
    let verb = prop::sample::select(vec![Set, Cas, Get, Delete, DeleteCas]);
    let name = prop::sample::select(vec!["n1", "n2"]);
    let svc = prop::sample::select(vec!["web", "db"]);
    let index = 0u64..8;
    prop_oneof![
        (
            prop::sample::select(vec![KvVerb::Set, KvVerb::Cas, KvVerb::Delete, KvVerb::Get]),
            prop::sample::select(vec!["a", "b"]),
            index.clone()
        )
            .prop_map(|(v, k, i)| kv(v, k, i)),
        (verb.clone(), name.clone(), index.clone()).prop_map(|(v, n, i)| node(v, n, i)),
        (verb.clone(), name.clone(), svc.clone(), index.clone())
            .prop_map(|(v, n, s, i)| service(v, n, s, i)),
        (verb, name, prop::option::of(svc), index).prop_map(|(v, n, s, i)| {
            let id = s.unwrap_or("serfHealth");
            check(v, n, id, s.unwrap_or(""), i)
        }),
    ]
}

proptest! {
    /// A failed transaction leaves the state byte-identical; a successful one ends where
    /// applying its operations one by one (each alone, at the same raft index) ends.
    #[test]
    fn all_or_nothing(history in prop::collection::vec(prop::collection::vec(any_op(), 1..6), 1..12)) {
        let mut h = Harness::new();
        for ops in history {
            let before = h.image();
            let snapshot = h.store.snapshot();
            let response = h.txn(ops.clone());
            if response.errors.is_some() {
                prop_assert_eq!(h.image(), before);
                continue;
            }
            let mut replay = Store::new();
            replay.restore(&snapshot).expect("restore");
            for op in ops {
                let request = Request { now_ms: 1_000, command: Command::Txn { ops: vec![op] } };
                replay.apply(h.index, &request);
            }
            prop_assert_eq!(replay.snapshot(), h.store.snapshot());
        }
    }
}
