//! The parsed form of a filter expression.

use regex::Regex;

/// A boolean expression.
///
/// `and`/`or` chains are kept flat (n-ary) so that long chains do not make the
/// tree (and the evaluator's recursion) deep; only parentheses add depth.
#[derive(Debug, Clone)]
pub enum Expr {
    /// True when every operand is true (evaluated left to right, short-circuit).
    And(Vec<Expr>),
    /// True when any operand is true (evaluated left to right, short-circuit).
    Or(Vec<Expr>),
    /// Negation. `not not X` is folded to `X` by the parser, as go-bexpr does.
    Not(Box<Expr>),
    /// A single comparison.
    Match(MatchExpr),
}

/// `Selector op Value`, `Selector is [not] empty` or `Value [not] in Selector`.
#[derive(Debug, Clone)]
pub struct MatchExpr {
    /// Path segments, e.g. `Service.Meta["a b"]` is `["Service", "Meta", "a b"]`.
    pub selector: Vec<String>,
    pub op: MatchOp,
    /// Absent for `is empty` / `is not empty`.
    pub value: Option<MatchValue>,
}

impl MatchExpr {
    /// The selector as go-bexpr prints it: segments joined with `.`.
    pub fn selector_string(&self) -> String {
        self.selector.join(".")
    }
}

/// The operators. `contains` parses to [`MatchOp::In`] and `not contains` to
/// [`MatchOp::NotIn`], exactly as in go-bexpr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    Equal,
    NotEqual,
    In,
    NotIn,
    IsEmpty,
    IsNotEmpty,
    Matches,
    NotMatches,
}

impl MatchOp {
    /// go-bexpr's name for the operator, used in error messages.
    pub fn go_name(self) -> &'static str {
        match self {
            MatchOp::Equal => "Equal",
            MatchOp::NotEqual => "Not Equal",
            MatchOp::In => "In",
            MatchOp::NotIn => "Not In",
            MatchOp::IsEmpty => "Is Empty",
            MatchOp::IsNotEmpty => "Is Not Empty",
            MatchOp::Matches => "Matches",
            MatchOp::NotMatches => "Not Matches",
        }
    }

    /// Whether the operator is the negation of another one.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            MatchOp::NotEqual | MatchOp::NotIn | MatchOp::IsNotEmpty | MatchOp::NotMatches
        )
    }

    /// The positive form of the operator.
    pub fn positive(self) -> MatchOp {
        match self {
            MatchOp::NotEqual => MatchOp::Equal,
            MatchOp::NotIn => MatchOp::In,
            MatchOp::IsNotEmpty => MatchOp::IsEmpty,
            MatchOp::NotMatches => MatchOp::Matches,
            op => op,
        }
    }
}

/// The literal side of a match. Like go-bexpr we keep only its text: a bare
/// identifier, number, quoted or raw string all become a string that is
/// coerced to the selected value's type at evaluation time (so `Port == 80`
/// and `Port == "80"` are the same filter).
#[derive(Debug, Clone)]
pub struct MatchValue {
    pub raw: String,
    /// Compiled once at parse time for `matches` / `not matches`.
    pub regex: Option<Regex>,
}
