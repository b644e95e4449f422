//! Robustness: random input never panics, and the corpus in `tests/corpus/`
//! replays cleanly.

mod common;

use common::*;
use proconsul_filter::{Filter, error::PREFIX};
use proptest::prelude::*;
use serde_json::Value;

fn fixtures() -> Vec<Value> {
    let mut items = Vec::new();
    for data in [agent_services(), catalog_service(), health_service()] {
        match data {
            Value::Array(a) => items.extend(a),
            Value::Object(o) => items.extend(o.into_iter().map(|(_, v)| v)),
            other => items.push(other),
        }
    }
    items.push(serde_json::json!({"Port": true, "Tags": [1, "x", null, [2]], "Meta": 3}));
    items
}

/// Parses and, when that works, evaluates against every fixture; errors must
/// carry Consul's prefix (or be the not-filterable error, which cannot occur here).
fn exercise(expr: &str, items: &[Value]) {
    match Filter::parse(expr) {
        Ok(f) => {
            for item in items {
                if let Err(e) = f.matches(item) {
                    assert!(e.to_string().starts_with(PREFIX), "{expr:?}: {e}");
                }
            }
        }
        Err(e) => assert!(e.to_string().starts_with(PREFIX), "{expr:?}: {e}"),
    }
}

/// Fragments that make random input look like filters more often.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Service".to_string()),
        Just("Tags".to_string()),
        Just("Checks.Status".to_string()),
        Just("Meta[\"env\"]".to_string()),
        Just("Port".to_string()),
        Just("Node.Meta.os".to_string()),
        Just(" == ".to_string()),
        Just(" != ".to_string()),
        Just(" and ".to_string()),
        Just(" or ".to_string()),
        Just("not ".to_string()),
        Just(" in ".to_string()),
        Just(" contains ".to_string()),
        Just(" matches ".to_string()),
        Just(" is empty".to_string()),
        Just(" is not empty".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("\"web\"".to_string()),
        Just("`^w.*`".to_string()),
        Just("8080".to_string()),
        Just("-1.5".to_string()),
        Just("true".to_string()),
        Just("[".to_string()),
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just(".".to_string()),
        "[ -~]{0,3}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_printable_never_panics(expr in "[ -~]{0,200}") {
        exercise(&expr, &fixtures());
    }

    #[test]
    fn random_unicode_never_panics(expr in "\\PC{0,100}") {
        exercise(&expr, &fixtures());
    }

    #[test]
    fn token_soup_never_panics(parts in proptest::collection::vec(token(), 0..24)) {
        exercise(&parts.concat(), &fixtures());
    }
}

#[test]
fn corpus_replays() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    assert!(!entries.is_empty(), "no corpus in {}", dir.display());
    let items = fixtures();
    for path in entries {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        // Files ending in `.ok` must parse; `.err` must not; others: no panic.
        let expr = text.strip_suffix('\n').unwrap_or(&text);
        let parsed = Filter::parse(expr);
        match path.extension().and_then(|e| e.to_str()) {
            Some("ok") => assert!(parsed.is_ok(), "{}: {:?}", path.display(), parsed.err()),
            Some("err") => assert!(parsed.is_err(), "{} should not parse", path.display()),
            _ => {}
        }
        exercise(expr, &items);
    }
}
