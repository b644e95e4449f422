//! Catalog register/deregister rules and the narrowness of catalog watches.

use proconsul_state::{ApplyError, Command, Request, Response, ServiceQuery, Store, Watch};
use proconsul_types::catalog::{CheckStatus, HealthCheck, NodeService, RegisterRequest};
use proconsul_types::session::Session;
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

    fn apply(&mut self, command: Command) -> Response {
        self.index += 1;
        self.store.apply(
            self.index,
            &Request {
                now_ms: 1_000,
                command,
            },
        )
    }

    fn register(
        &mut self,
        node: &str,
        service: Option<(&str, &[&str])>,
        checks: Vec<HealthCheck>,
    ) -> Response {
        let mut request = RegisterRequest {
            node: node.into(),
            address: "10.0.0.1".into(),
            service: service.map(|(name, tags)| NodeService {
                id: name.into(),
                service: name.into(),
                tags: tags.iter().map(|t| t.to_string()).collect(),
                ..NodeService::default()
            }),
            checks,
            ..RegisterRequest::default()
        };
        if request.normalize("dc1").is_err() {
            return Response::Error(ApplyError::MissingNodeName);
        }
        self.apply(Command::CatalogRegister(Box::new(request)))
    }

    fn deregister(&mut self, node: &str, service: Option<&str>, check: Option<&str>) -> Response {
        self.apply(Command::CatalogDeregister {
            node: node.into(),
            service_id: service.map(String::from),
            check_id: check.map(String::from),
        })
    }
}

fn check(id: &str, service: &str, status: CheckStatus) -> HealthCheck {
    HealthCheck {
        check_id: id.into(),
        name: id.into(),
        service_id: service.into(),
        status,
        ..HealthCheck::default()
    }
}

async fn fires(watch: Watch) -> bool {
    tokio::time::timeout(Duration::from_millis(50), watch.fired())
        .await
        .is_ok()
}

#[test]
fn register_creates_node_service_and_service_checks() {
    let mut h = Harness::new();
    let r = h.register(
        "n1",
        Some(("web", &["v1", "primary"])),
        vec![check("web-ok", "web", CheckStatus::Passing)],
    );
    assert_eq!(r, Response::Done);
    let (_, nodes) = h
        .store
        .catalog_service_nodes("web", &ServiceQuery::default());
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].node, "n1");
    assert_eq!(nodes[0].service_weights.passing, 1);
    let (_, checks) = h.store.health_node_checks("n1");
    assert_eq!(
        checks[0].service_name, "web",
        "check copies the service name"
    );
    assert_eq!(checks[0].service_tags, ["v1", "primary"]);
    let (_, services) = h.store.catalog_services(&[], None);
    assert_eq!(services["web"], ["primary", "v1"]);
}

#[test]
fn check_for_unknown_service_fails_and_changes_nothing() {
    let mut h = Harness::new();
    let r = h.register("n1", None, vec![check("c", "ghost", CheckStatus::Passing)]);
    assert_eq!(
        r,
        Response::Error(ApplyError::CheckInsert(
            "Missing service registration".into()
        ))
    );
    assert_eq!(
        r.clone().to_string_lossy(),
        "failed inserting check: Missing service registration"
    );
    assert!(
        h.store.catalog_nodes(&[]).1.is_empty(),
        "the node was not created either"
    );
}

trait Lossy {
    fn to_string_lossy(self) -> String;
}
impl Lossy for Response {
    fn to_string_lossy(self) -> String {
        match self {
            Response::Error(e) => e.to_string(),
            other => format!("{other:?}"),
        }
    }
}

#[test]
fn tags_are_an_and_and_case_insensitive() {
    let mut h = Harness::new();
    h.register("n1", Some(("web", &["a", "b"])), vec![]);
    h.register("n2", Some(("web", &["a"])), vec![]);
    let q = |tags: &[&str]| ServiceQuery {
        tags: tags.iter().map(|t| t.to_string()).collect(),
        node_meta: Vec::new(),
        connect: false,
    };
    assert_eq!(h.store.catalog_service_nodes("web", &q(&["a"])).1.len(), 2);
    assert_eq!(
        h.store
            .catalog_service_nodes("web", &q(&["a", "B"]))
            .1
            .len(),
        1
    );
    assert_eq!(h.store.catalog_service_nodes("web", &q(&["c"])).1.len(), 0);
}

#[test]
fn deregister_service_removes_its_checks_and_node_cascade() {
    let mut h = Harness::new();
    h.register(
        "n1",
        Some(("web", &[])),
        vec![
            check("web-ok", "web", CheckStatus::Passing),
            check("node-ok", "", CheckStatus::Passing),
        ],
    );
    h.register("n1", Some(("db", &[])), vec![]);
    assert_eq!(h.deregister("n1", Some("web"), None), Response::Done);
    let (_, checks) = h.store.health_node_checks("n1");
    assert_eq!(
        checks
            .iter()
            .map(|c| c.check_id.as_str())
            .collect::<Vec<_>>(),
        ["node-ok"]
    );
    assert!(
        h.store
            .catalog_service_nodes("web", &ServiceQuery::default())
            .1
            .is_empty()
    );
    let extinct_at = h.index;
    assert_eq!(
        h.store.service_name_index("web"),
        extinct_at,
        "extinction index"
    );
    h.deregister("n1", None, None);
    assert!(h.store.catalog_node_services("n1").1.is_none());
    assert!(h.store.health_node_checks("n1").1.is_empty());
    assert!(h.store.catalog_services(&[], None).1.is_empty());
    assert_eq!(
        h.deregister("ghost", None, None),
        Response::Done,
        "missing node is a no-op"
    );
}

#[test]
fn node_deregistration_and_critical_checks_invalidate_sessions() {
    let mut h = Harness::new();
    h.register(
        "n1",
        None,
        vec![check("serfHealth", "", CheckStatus::Passing)],
    );
    let session = |id: &str| Session {
        id: id.into(),
        name: String::new(),
        node: "n1".into(),
        lock_delay: 0,
        behavior: Default::default(),
        ttl: String::new(),
        node_checks: Some(vec!["serfHealth".into()]),
        service_checks: None,
        create_index: 0,
        modify_index: 0,
    };
    assert_eq!(
        h.apply(Command::SessionCreate {
            session: session("s1")
        }),
        Response::Done
    );
    h.register(
        "n1",
        None,
        vec![check("serfHealth", "", CheckStatus::Critical)],
    );
    assert!(
        h.store.session_get("s1").1.is_none(),
        "critical check invalidates"
    );
    h.register(
        "n1",
        None,
        vec![check("serfHealth", "", CheckStatus::Passing)],
    );
    h.apply(Command::SessionCreate {
        session: session("s2"),
    });
    h.deregister("n1", None, None);
    assert!(
        h.store.session_get("s2").1.is_none(),
        "node removal invalidates"
    );
}

#[test]
fn health_service_orders_node_checks_first_and_indexes_per_service() {
    let mut h = Harness::new();
    h.register(
        "n1",
        Some(("web", &[])),
        vec![
            check("a-web", "web", CheckStatus::Passing),
            check("z-node", "", CheckStatus::Warning),
        ],
    );
    h.register("n1", Some(("db", &[])), vec![]);
    let db_index = h.store.service_name_index("db");
    let (web_index, nodes) = h
        .store
        .health_service_nodes("web", &ServiceQuery::default());
    let ids: Vec<&str> = nodes[0]
        .checks
        .iter()
        .map(|c| c.check_id.as_str())
        .collect();
    assert_eq!(ids, ["z-node", "a-web"]);
    h.register(
        "n1",
        None,
        vec![check("a-web", "web", CheckStatus::Critical)],
    );
    assert!(h.store.service_name_index("web") > web_index);
    assert_eq!(
        h.store.service_name_index("db"),
        db_index,
        "db untouched by a web check"
    );
    h.register("n1", None, vec![check("z-node", "", CheckStatus::Passing)]);
    assert!(
        h.store.service_name_index("db") > db_index,
        "node checks count for every service"
    );
}

#[tokio::test]
async fn a_web_check_flip_wakes_web_readers_only() {
    let mut h = Harness::new();
    h.register(
        "n1",
        Some(("web", &[])),
        vec![check("web-ok", "web", CheckStatus::Passing)],
    );
    h.register(
        "n2",
        Some(("db", &[])),
        vec![check("db-ok", "db", CheckStatus::Passing)],
    );
    let web = h.store.watch_service("web");
    let db = h.store.watch_service("db");
    let n2 = h.store.watch_node("n2");
    let n2_checks = h.store.watch_node_checks("n2");
    let nodes = h.store.watch_nodes();
    h.register(
        "n1",
        None,
        vec![check("web-ok", "web", CheckStatus::Critical)],
    );
    assert!(fires(web).await);
    assert!(!fires(db).await);
    assert!(!fires(n2).await);
    assert!(!fires(n2_checks).await);
    assert!(!fires(nodes).await, "node listing ignores check changes");
}

#[tokio::test]
async fn watching_a_missing_service_wakes_on_first_registration() {
    let mut h = Harness::new();
    let watch = h.store.watch_service("later");
    h.register("n1", Some(("later", &[])), vec![]);
    assert!(fires(watch).await);
}
