//! The `?filter=` expression language of Consul's HTTP API (go-bexpr).
//!
//! ```
//! use proconsul_filter::Filter;
//! use serde_json::json;
//!
//! let f = Filter::parse(r#"Service == "web" and "primary" in Tags and Port == 8080"#).unwrap();
//! let svc = json!({"Service": "web", "Tags": ["primary"], "Port": 8080});
//! assert!(f.matches(&svc).unwrap());
//! ```
//!
//! * Grammar and error messages follow go-bexpr v0.1.2, the version Consul
//!   uses: see [`parser`] for the syntax and [`error::FilterError`] for the
//!   messages (all start with `Failed to create boolean expression evaluator: `,
//!   which is the body Consul sends back for a bad filter).
//! * Evaluation works on the JSON rendering of a result element; see [`eval`]
//!   for the exact rules (missing keys, arrays, coercion).
//! * Consul rejects selectors that are not fields of the Go type when the
//!   filter is created. Over JSON we cannot know a field that happens to be
//!   absent from the data, so that check is opt-in: pass the endpoint's
//!   selector list to [`Filter::parse_with_fields`] or
//!   [`Filter::validate_selectors`].
//! * Input is bounded: [`MAX_EXPRESSION_LEN`] bytes, [`MAX_DEPTH`] nested
//!   parentheses, regexes compiled with [`MAX_REGEX_SIZE`]. Parsing is linear
//!   and never recurses deeper than the parenthesis depth.

pub mod ast;
pub mod error;
pub mod eval;
pub mod lexer;
pub mod parser;
mod schema;

use serde_json::Value;

pub use ast::{Expr, MatchExpr, MatchOp, MatchValue};
pub use error::FilterError;

/// Longest accepted expression, in bytes.
pub const MAX_EXPRESSION_LEN: usize = 4096;
/// Deepest accepted nesting of parentheses.
pub const MAX_DEPTH: usize = 64;
/// Size limit for one compiled regex (`regex::RegexBuilder::size_limit`).
pub const MAX_REGEX_SIZE: usize = 1 << 20;

/// A parsed filter expression; cheap to evaluate many times.
#[derive(Debug, Clone)]
pub struct Filter {
    source: String,
    ast: Expr,
}

impl Filter {
    /// Parses an expression and compiles its regexes.
    ///
    /// An empty expression is an error here; Consul treats an empty
    /// `filter=` as "no filter", which [`Filter::parse_optional`] does.
    pub fn parse(expr: &str) -> Result<Filter, FilterError> {
        if expr.len() > MAX_EXPRESSION_LEN {
            return Err(FilterError::TooLong {
                len: expr.len(),
                max: MAX_EXPRESSION_LEN,
            });
        }
        let mut ast = parser::parse(expr)?;
        schema::compile_regexes(&mut ast)?;
        Ok(Filter {
            source: expr.to_string(),
            ast,
        })
    }

    /// Like [`Filter::parse`], but an empty expression means "no filter".
    pub fn parse_optional(expr: &str) -> Result<Option<Filter>, FilterError> {
        if expr.is_empty() {
            return Ok(None);
        }
        Filter::parse(expr).map(Some)
    }

    /// Parses, then checks every selector against `fields` (see
    /// [`Filter::validate_selectors`]).
    pub fn parse_with_fields(expr: &str, fields: &[&str]) -> Result<Filter, FilterError> {
        let f = Filter::parse(expr)?;
        f.validate_selectors(fields)?;
        Ok(f)
    }

    /// Checks that every selector names a known field, as Consul does against
    /// the Go type. `fields` lists the valid selectors of the endpoint, one
    /// dotted path each, with `*` (or `<any>`) for "any map key"; every prefix
    /// of a selector must be listed, e.g. `["Node", "Meta", "Meta.*"]`.
    /// The first unknown prefix gives `Selector "Meta.a.b" is not valid`.
    pub fn validate_selectors(&self, fields: &[&str]) -> Result<(), FilterError> {
        schema::validate(&self.ast, fields)
    }

    /// Evaluates the filter against one result element.
    pub fn matches(&self, item: &Value) -> Result<bool, FilterError> {
        eval::eval(&self.ast, item)
    }

    /// Keeps the matching elements of an array, or the entries of an object
    /// whose values match (keys are kept). `null` (a Go nil list) passes
    /// through; any other value is [`FilterError::NotFilterable`].
    pub fn apply(&self, items: Value) -> Result<Value, FilterError> {
        match items {
            Value::Array(list) => {
                let mut kept = Vec::with_capacity(list.len());
                for item in list {
                    if self.matches(&item)? {
                        kept.push(item);
                    }
                }
                Ok(Value::Array(kept))
            }
            Value::Object(map) => {
                let mut kept = serde_json::Map::new();
                for (key, item) in map {
                    if self.matches(&item)? {
                        kept.insert(key, item);
                    }
                }
                Ok(Value::Object(kept))
            }
            Value::Null => Ok(Value::Null),
            _ => Err(FilterError::NotFilterable),
        }
    }

    /// The expression as given.
    pub fn expression(&self) -> &str {
        &self.source
    }

    /// The parsed expression.
    pub fn ast(&self) -> &Expr {
        &self.ast
    }
}
