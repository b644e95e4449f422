//! The ACL model, pure and deterministic: Consul's policy rule language, policies, roles and
//! tokens with Consul's JSON shapes, and the compiled [`authorizer::Authorizer`] that answers
//! permission checks. No IO and no clock: `now`, the datacenter and `acl.default_policy` are
//! inputs. Nothing enforces these checks yet (see `docs/acl.md`).
//!
//! One concept per module:
//! - [`access`]: levels (`deny`/`read`/`list`/`write`), what a check needs, decisions;
//! - [`rules`]: parsing HCL/JSON rules with Consul's error texts;
//! - [`merge`]: combining several policies (`deny` first, else the most permissive, per name);
//! - [`authorizer`]: exact rule > longest prefix rule > default policy, compiled into one radix
//!   tree per resource kind (`radix`, private);
//! - [`model`]: `Policy`, `Role`, `Token`, built-in policies, the anonymous token, the
//!   synthetic policies of service and node identities, Go-style timestamps;
//! - [`resolve`]: a token (policies, roles, identities, datacenter scope, expiry) -> Authorizer.
//!
//! ```
//! use proconsul_acl::authorizer::{Authorizer, DefaultPolicy};
//! use proconsul_acl::rules::Rules;
//!
//! let rules = Rules::parse(r#"
//! key_prefix "" { policy = "read" }
//! key_prefix "app/" { policy = "write" }
//! key "app/secret" { policy = "deny" }
//! "#).expect("valid rules");
//! let authz = Authorizer::from_rules([&rules], DefaultPolicy::Deny);
//! assert!(authz.key_read("other"));
//! assert!(authz.key_write("app/config"));
//! assert!(!authz.key_read("app/secret"));
//! assert!(!authz.key_write_prefix("app/")); // a rule below `app/` is not write
//! assert!(!authz.node_read("n1")); // no rule: the default policy
//! ```
//!
//! Performance: a check walks the name along one radix tree, independent of the number of
//! rules; with a 50-rule policy checks cost ~10-25 ns against ~2 ns for an allow-all baseline.
//! Measure with `cargo run --release -p proconsul-acl --example authorize_bench`
//! (`bench/README.md`, "ACL authorization micro-benchmark").

pub mod access;
pub mod authorizer;
pub mod merge;
pub mod model;
mod radix;
pub mod resolve;
pub mod rules;
