//! Micro-benchmark: nanoseconds per authorization with a 50-rule policy, against a trivial
//! allow-all authorizer measured in the same run.
//!
//! ```sh
//! cargo run --release -p proconsul-acl --example authorize_bench [iterations]
//! ```
//!
//! Target (issue 5): the 50-rule policy adds at most 2 µs per check over the baseline.

use proconsul_acl::authorizer::{Authorizer, DefaultPolicy};
use proconsul_acl::rules::Rules;
use std::hint::black_box;
use std::time::Instant;

/// 50 rules: 30 key rules (prefix and exact), 10 service, 6 node, 4 session.
fn fifty_rule_policy() -> String {
    let mut text = String::from("key_prefix \"\" { policy = \"read\" }\n");
    for i in 0..19 {
        text.push_str(&format!(
            "key_prefix \"app/team-{i}/\" {{ policy = \"write\" }}\n"
        ));
    }
    for i in 0..10 {
        text.push_str(&format!(
            "key \"app/team-{i}/secrets/db-password\" {{ policy = \"deny\" }}\n"
        ));
    }
    for i in 0..10 {
        let form = if i % 2 == 0 {
            "service"
        } else {
            "service_prefix"
        };
        text.push_str(&format!("{form} \"web-{i}\" {{ policy = \"write\" }}\n"));
    }
    for i in 0..6 {
        text.push_str(&format!(
            "node_prefix \"rack-{i}-\" {{ policy = \"read\" }}\n"
        ));
    }
    for i in 0..4 {
        text.push_str(&format!("session \"node-{i}\" {{ policy = \"write\" }}\n"));
    }
    text
}

fn keys() -> Vec<String> {
    let mut keys = Vec::new();
    for i in 0..24 {
        keys.push(format!("app/team-{}/config/feature-flags/item-{i}", i % 20));
        keys.push(format!("app/team-{}/secrets/db-password", i % 12));
        keys.push(format!("other/namespace/{i}/value"));
    }
    keys
}

/// A labelled check over a list of names.
type Case<'a> = (&'a str, &'a [String], &'a dyn Fn(&str) -> bool);

/// Runs `check` over `names` for `iterations` total calls; returns ns per call.
fn measure(iterations: u64, names: &[String], check: impl Fn(&str) -> bool) -> f64 {
    let mut allowed = 0u64;
    let start = Instant::now();
    let mut i = 0usize;
    for _ in 0..iterations {
        let name = black_box(names[i].as_str());
        if check(name) {
            allowed += 1;
        }
        i += 1;
        if i == names.len() {
            i = 0;
        }
    }
    let elapsed = start.elapsed();
    black_box(allowed);
    elapsed.as_nanos() as f64 / iterations as f64
}

fn main() {
    let iterations: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000_000);
    let rules = match Rules::parse(&fifty_rule_policy()) {
        Ok(rules) => rules,
        Err(e) => {
            eprintln!("benchmark policy does not parse: {e}");
            std::process::exit(1);
        }
    };
    assert_eq!(rules.rules.len(), 50, "the policy has 50 rules");
    let compiled = Authorizer::from_rules([&rules], DefaultPolicy::Deny);
    let baseline = Authorizer::allow_all();
    let keys = keys();
    let services: Vec<String> = (0..16).map(|i| format!("web-{}-api", i % 12)).collect();

    // Warm up both paths once.
    measure(iterations / 10, &keys, |k| compiled.key_read(k));
    measure(iterations / 10, &keys, |k| baseline.key_read(k));

    let base = measure(iterations, &keys, |k| black_box(&baseline).key_read(k));
    println!("iterations per measurement: {iterations}");
    println!("baseline allow-all key_read:      {base:8.1} ns/op");
    let cases: [Case<'_>; 4] = [
        ("key_read", &keys, &|k| black_box(&compiled).key_read(k)),
        ("key_write", &keys, &|k| black_box(&compiled).key_write(k)),
        ("key_write_prefix", &keys, &|k| {
            black_box(&compiled).key_write_prefix(k)
        }),
        ("service_write", &services, &|s| {
            black_box(&compiled).service_write(s)
        }),
    ];
    let mut worst_added: f64 = 0.0;
    for (label, names, check) in cases {
        let ns = measure(iterations, names, check);
        let added = ns - base;
        worst_added = worst_added.max(added);
        println!("50-rule {label:<18} {ns:8.1} ns/op  (+{added:.1} ns over baseline)");
    }
    // Not a per-check cost, but what a cache miss pays: parse and compile the policy.
    let text = fifty_rule_policy();
    let rounds = (iterations / 1000).max(100);
    let start = Instant::now();
    for _ in 0..rounds {
        if let Ok(parsed) = Rules::parse(black_box(&text)) {
            black_box(Authorizer::from_rules([&parsed], DefaultPolicy::Deny));
        }
    }
    let compile_us = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    println!(
        "parse + compile the 50-rule policy: {compile_us:.1} us (once per token, not per check)"
    );
    let verdict = if worst_added <= 2000.0 {
        "PASS"
    } else {
        "FAIL"
    };
    println!("worst added cost: {worst_added:.1} ns/op; target <= 2000 ns: {verdict}");
}
