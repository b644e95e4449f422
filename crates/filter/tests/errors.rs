//! Malformed input: the exact texts Consul (go-bexpr v0.1.2 + pigeon) returns,
//! and the input bounds.

mod common;

use common::*;
use proconsul_filter::{Filter, FilterError, MAX_DEPTH, MAX_EXPRESSION_LEN, error::PREFIX};
use std::time::{Duration, Instant};

#[test]
fn messages_seen_from_consul() {
    // Both texts appear verbatim in Consul bug reports (#7338, #9441).
    assert_eq!(
        parse_error("foo"),
        r#"Failed to create boolean expression evaluator: 1:4 (3): no match found, expected: "!=", ".", "==", "[", [ \t\r\n] or [a-zA-Z0-9_]"#
    );
    assert_eq!(
        parse_error("Address == 10.10.10.10 "),
        r#"Failed to create boolean expression evaluator: 1:17 (16): rule "number": Invalid number literal"#
    );
}

#[test]
fn grammar_errors() {
    let cases: &[(&str, &str)] = &[
        // unterminated strings
        (
            r#"Name == "abc"#,
            r#"1:13 (12): rule "string": Unterminated string literal"#,
        ),
        (
            "Name == `abc",
            r#"1:13 (12): rule "string": Unterminated string literal"#,
        ),
        // bad escapes (go-bexpr cannot express \" inside "..." either)
        (
            r#"Name == "a\qb""#,
            r#"1:9 (8): rule "string": invalid syntax"#,
        ),
        (
            r#"Name == "a\"b""#,
            r#"1:9 (8): rule "string": invalid syntax"#,
        ),
        // missing operand / operator
        (
            "Name ==",
            r#"1:8 (7): no match found, expected: "-", "0", "\"", "`", [ \t\r\n], [1-9] or [a-zA-Z]"#,
        ),
        (
            "",
            r#"1:1 (0): no match found, expected: "(", "-", "0", "\"", "`", "not", [ \t\r\n], [1-9] or [a-zA-Z]"#,
        ),
        // unknown operator
        (
            "Name = web",
            r#"1:6 (5): no match found, expected: "!=", "==", "contains", "in", "is", "matches", "not" or [ \t\r\n]"#,
        ),
        (
            "Name ~= web",
            r#"1:6 (5): no match found, expected: "!=", "==", "contains", "in", "is", "matches", "not" or [ \t\r\n]"#,
        ),
        (
            "Name=web",
            r#"1:5 (4): no match found, expected: "!=", ".", "==", "[", [ \t\r\n] or [a-zA-Z0-9_]"#,
        ),
        // trailing garbage
        (
            "Name == web )",
            r#"1:13 (12): no match found, expected: "and", "or", [ \t\r\n] or EOF"#,
        ),
        (
            "Port == 1)",
            r#"1:10 (9): no match found, expected: ".", [ \t\r\n], [0-9] or EOF"#,
        ),
        // keywords are lower case and need surrounding whitespace
        (
            "a == 1 AND b == 2",
            r#"1:8 (7): no match found, expected: "and", "or", [ \t\r\n] or EOF"#,
        ),
        (
            "not(a == 1)",
            r#"1:4 (3): no match found, expected: "!=", ".", "==", "[", [ \t\r\n] or [a-zA-Z0-9_]"#,
        ),
        // grouping
        (
            "(a == 1",
            r#"1:8 (7): rule "grouping": Unmatched parentheses"#,
        ),
        (
            "(a == 1 and b ==)",
            r#"1:9 (8): rule "grouping": Unmatched parentheses"#,
        ),
        // index expressions
        ("Meta[foo] == 1", r#"1:6 (5): rule "index": Invalid index"#),
        (
            r#"Meta["a" == 1"#,
            r#"1:10 (9): rule "index": Unclosed index expression"#,
        ),
        // value in value
        (
            r#""a" in "b""#,
            r#"1:8 (7): rule "match": Invalid selector"#,
        ),
        // numbers
        (
            "Port == 0x1F",
            r#"1:10 (9): rule "number": Invalid number literal"#,
        ),
        (
            "Port == 01",
            r#"1:10 (9): rule "number": Invalid number literal"#,
        ),
        (
            "Port == 1e5",
            r#"1:10 (9): rule "number": Invalid number literal"#,
        ),
    ];
    for (expr, detail) in cases {
        let got = Filter::parse(expr).expect_err(expr);
        assert!(matches!(got, FilterError::Syntax(_)), "{expr:?}: {got:?}");
        assert_eq!(
            got.to_string(),
            format!("{PREFIX}{detail}"),
            "filter {expr:?}"
        );
    }
}

#[test]
fn multiline_positions() {
    assert_eq!(
        parse_error("a == 1 and\n  b == \"x"),
        format!("{PREFIX}2:10 (20): rule \"string\": Unterminated string literal")
    );
}

#[test]
fn regex_errors() {
    let e = Filter::parse(r#"Name matches "(""#).expect_err("bad regex");
    assert!(matches!(e, FilterError::Regex { .. }), "{e:?}");
    assert!(e.to_string().starts_with(&format!(
        "{PREFIX}Failed to compile regular expression \"(\": "
    )));
    // Over the size limit.
    let e = Filter::parse(r#"Name matches `(\w{100}){100}`"#).expect_err("huge regex");
    assert!(matches!(e, FilterError::Regex { .. }), "{e:?}");
}

#[test]
fn length_limit() {
    let ok = format!("Name == \"{}\"", "x".repeat(MAX_EXPRESSION_LEN - 10));
    assert_eq!(ok.len(), MAX_EXPRESSION_LEN);
    assert!(Filter::parse(&ok).is_ok());
    let long = format!("Name == \"{}\"", "x".repeat(MAX_EXPRESSION_LEN - 9));
    assert_eq!(
        Filter::parse(&long).expect_err("too long"),
        FilterError::TooLong {
            len: MAX_EXPRESSION_LEN + 1,
            max: MAX_EXPRESSION_LEN
        }
    );
}

#[test]
fn depth_limit() {
    let nest = |n: usize| format!("{}a == 1{}", "(".repeat(n), ")".repeat(n));
    let f = Filter::parse(&nest(MAX_DEPTH)).expect("max depth parses");
    assert!(f.matches(&serde_json::json!({"a": 1})).is_ok_and(|b| b));
    let e = Filter::parse(&nest(MAX_DEPTH + 1)).expect_err("too deep");
    assert!(matches!(e, FilterError::TooDeep { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!("{PREFIX}1:66 (65): parentheses nest deeper than 64 levels")
    );
    // Thousands of unbalanced parentheses: bounded by length, fast, no overflow.
    let e = Filter::parse(&"(".repeat(4000)).expect_err("too deep");
    assert!(matches!(e, FilterError::TooDeep { .. }), "{e:?}");
}

fn assert_fast(expr: &str) {
    let start = Instant::now();
    let _ = Filter::parse(expr);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "slow parse of {} bytes",
        expr.len()
    );
}

#[test]
fn pathological_inputs_are_linear() {
    // Unbalanced groups that backtracking would explore exponentially.
    assert_fast(&format!("{}a == 1", "(".repeat(60)));
    assert_fast(&format!("{}a == 1 and", "(a == 1 and ".repeat(60)));
    assert_fast(&"not ".repeat(1000));
    assert_fast(&format!("{}a == 1", "not ".repeat(1000)));
    assert_fast(&"a == 1 or ".repeat(400));
    assert_fast(&"[\"".repeat(2000));
    assert_fast(&"a[\"x\"]".repeat(580));
    // A long flat chain does not recurse per operand.
    let chain = vec!["a == 1"; 400].join(" or ");
    let f = Filter::parse(&chain).expect("long chain");
    assert!(f.matches(&serde_json::json!({"a": 1})).is_ok_and(|b| b));
    let nots = format!("{}a == 1", "not ".repeat(1001));
    let f = Filter::parse(&nots).expect("not chain");
    assert!(f.matches(&serde_json::json!({"a": 1})).is_ok_and(|b| !b));
}
