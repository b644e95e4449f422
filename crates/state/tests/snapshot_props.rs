//! Property: applying a random command sequence directly, or up to a snapshot, restoring it
//! into a fresh store and applying the rest, ends in byte-identical states.

use proconsul_state::{Command, DeleteMode, Request, SetMode, Store};
use proconsul_types::catalog::{CheckStatus, HealthCheck, Node, NodeService, RegisterRequest};
use proconsul_types::session::{Behavior, Session};
use proconsul_types::txn::{
    CatalogVerb, KvVerb, TxnCheckOp, TxnKvOp, TxnNodeOp, TxnOp, TxnServiceOp,
};
use proptest::prelude::*;

fn key() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a", "a/b", "a/c", "b", "b/x/y", ""]).prop_map(String::from)
}

fn session_id() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["s1", "s2", "s3"]).prop_map(String::from)
}

fn catalog_command() -> impl Strategy<Value = Command> {
    let node = prop::sample::select(vec!["n1", "n2"]).prop_map(String::from);
    let service = prop::sample::select(vec!["web", "db"]).prop_map(String::from);
    let status = prop::sample::select(vec![
        CheckStatus::Passing,
        CheckStatus::Warning,
        CheckStatus::Critical,
    ]);
    let register = (
        node.clone(),
        prop::option::of(service.clone()),
        prop::option::of((prop::option::of(service.clone()), status)),
        any::<bool>(),
    )
        .prop_map(|(node, service, check, tagged)| {
            let service = service.map(|name| NodeService {
                id: name.clone(),
                service: name,
                tags: if tagged { vec!["t".into()] } else { Vec::new() },
                ..NodeService::default()
            });
            let checks = check
                .map(|(service_id, status)| HealthCheck {
                    check_id: service_id.clone().unwrap_or_else(|| "serfHealth".into()),
                    service_id: service_id.unwrap_or_default(),
                    status,
                    ..HealthCheck::default()
                })
                .into_iter()
                .collect();
            Command::CatalogRegister(Box::new(RegisterRequest {
                node,
                address: "10.0.0.1".into(),
                service,
                checks,
                ..RegisterRequest::default()
            }))
        });
    let deregister = (
        node,
        prop::option::of(service.clone()),
        prop::option::of(prop::sample::select(vec!["serfHealth", "web", "db"])),
    )
        .prop_map(|(node, service_id, check_id)| Command::CatalogDeregister {
            node,
            service_id,
            check_id: check_id.map(String::from),
        });
    prop_oneof![register, deregister]
}

fn command() -> impl Strategy<Value = Command> {
    let set_mode = prop_oneof![
        Just(SetMode::Plain),
        (0u64..40).prop_map(SetMode::Cas),
        session_id().prop_map(SetMode::Acquire),
        session_id().prop_map(SetMode::Release),
    ];
    let delete_mode = prop_oneof![
        Just(DeleteMode::Key),
        Just(DeleteMode::Tree),
        (0u64..40).prop_map(DeleteMode::Cas)
    ];
    let verb = prop::sample::select(vec![
        KvVerb::Set,
        KvVerb::Cas,
        KvVerb::Delete,
        KvVerb::Get,
        KvVerb::Lock,
        KvVerb::CheckNotExists,
    ]);
    let txn_op = (verb, key(), 0u64..40, prop::option::of(session_id())).prop_map(
        |(verb, key, index, session)| {
            TxnOp::Kv(TxnKvOp {
                verb,
                key,
                value: b"t".to_vec(),
                flags: 1,
                index,
                session,
            })
        },
    );
    // Catalog operations inside transactions: node deletes and critical checks invalidate
    // sessions (lock delays, released keys) mid-transaction.
    let catalog_op = (
        prop::sample::select(vec![
            CatalogVerb::Set,
            CatalogVerb::Delete,
            CatalogVerb::Cas,
        ]),
        0u8..3,
        prop::sample::select(vec![CheckStatus::Passing, CheckStatus::Critical]),
        0u64..40,
    )
        .prop_map(|(verb, kind, status, index)| match kind {
            0 => TxnOp::Node(Box::new(TxnNodeOp {
                verb,
                node: Node {
                    node: "n1".into(),
                    address: "10.0.0.1".into(),
                    modify_index: index,
                    ..Node::default()
                },
            })),
            1 => TxnOp::Service(Box::new(TxnServiceOp {
                verb,
                node: "n1".into(),
                service: NodeService {
                    id: "web".into(),
                    service: "web".into(),
                    modify_index: index,
                    ..NodeService::default()
                },
            })),
            _ => TxnOp::Check(Box::new(TxnCheckOp {
                verb,
                check: HealthCheck {
                    node: "n1".into(),
                    check_id: "serfHealth".into(),
                    status,
                    modify_index: index,
                    ..HealthCheck::default()
                },
            })),
        });
    let txn_op = prop_oneof![3 => txn_op, 1 => catalog_op];
    prop_oneof![
        (key(), any::<u8>(), set_mode).prop_map(|(key, v, mode)| Command::KvSet {
            key,
            value: vec![v],
            flags: u64::from(v),
            mode
        }),
        (key(), delete_mode).prop_map(|(key, mode)| Command::KvDelete { key, mode }),
        prop::collection::vec(txn_op, 1..4).prop_map(|ops| Command::Txn { ops }),
        (session_id(), any::<bool>(), 0u64..3).prop_map(|(id, delete, delay)| {
            Command::SessionCreate {
                session: Session {
                    id,
                    name: String::new(),
                    node: "n1".into(),
                    lock_delay: delay * 1_000_000_000,
                    behavior: if delete {
                        Behavior::Delete
                    } else {
                        Behavior::Release
                    },
                    ttl: String::new(),
                    node_checks: Some(vec!["serfHealth".into()]),
                    service_checks: None,
                    create_index: 0,
                    modify_index: 0,
                },
            }
        }),
        session_id().prop_map(|id| Command::SessionDestroy { id }),
        any::<bool>().prop_map(|critical| Command::NodeRegister {
            node: Node {
                node: "n1".into(),
                ..Node::default()
            },
            checks: vec![HealthCheck {
                check_id: "serfHealth".into(),
                status: if critical {
                    CheckStatus::Critical
                } else {
                    CheckStatus::Passing
                },
                ..HealthCheck::default()
            }],
        }),
        (0u64..40).prop_map(|up_to_index| Command::TombstoneReap { up_to_index }),
        catalog_command(),
        catalog_command(),
        batch_command(),
    ]
}

/// A batch of single-key writes on distinct keys, as the server's batcher builds them.
fn batch_command() -> impl Strategy<Value = Command> {
    let write = (
        key(),
        any::<u8>(),
        prop_oneof![Just(None), (0u64..40).prop_map(Some)],
        any::<bool>(),
    );
    prop::collection::vec(write, 1..5).prop_map(|writes| {
        let mut seen = std::collections::HashSet::new();
        let commands = writes
            .into_iter()
            .filter(|(key, ..)| seen.insert(key.clone()))
            .map(|(key, v, cas, delete)| match (delete, cas) {
                (true, Some(index)) => Command::KvDelete {
                    key,
                    mode: DeleteMode::Cas(index),
                },
                (true, None) => Command::KvDelete {
                    key,
                    mode: DeleteMode::Key,
                },
                (false, cas) => Command::KvSet {
                    key,
                    value: vec![v],
                    flags: 0,
                    mode: cas.map_or(SetMode::Plain, SetMode::Cas),
                },
            })
            .collect();
        Command::Batch(commands)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn snapshot_restore_is_transparent(commands in prop::collection::vec((command(), 0u64..4000), 1..60), cut in 0usize..60) {
        let mut direct = Store::new();
        let mut via_snapshot = Store::new();
        let cut = cut.min(commands.len());
        let mut now_ms = 0;
        for (i, (command, step)) in commands.iter().enumerate() {
            now_ms += step;
            let request = Request { now_ms, command: command.clone() };
            let index = i as u64 + 1;
            let a = direct.apply(index, &request);
            if i == cut {
                let bytes = via_snapshot.snapshot();
                let mut fresh = Store::new();
                fresh.restore(&bytes).expect("restore");
                via_snapshot = fresh;
            }
            let b = via_snapshot.apply(index, &request);
            prop_assert_eq!(a, b);
        }
        prop_assert_eq!(direct.snapshot(), via_snapshot.snapshot());
    }
}
