//! Evaluation of a parsed expression against one JSON value.
//!
//! The rules follow go-bexpr v0.1.2 (the version Consul uses), transposed
//! from Go values to their JSON rendering:
//!
//! * Selector walking: an object is indexed by the next segment; an array in
//!   the *middle* of a selector means "any element" (`Checks.Status ==
//!   "passing"` is true when at least one check passes, and false for an empty
//!   array, also with `!=`); an array at the *end* of a selector is the value
//!   the operator works on (`"x" in Tags`).
//! * A missing key (or a `null` on the way): `==`, `in`/`contains` and
//!   `is not empty` are false; `!=`, `not in`/`not contains`, `is empty`,
//!   `matches` and `not matches` are true. (That `matches` is true on a
//!   missing key is a go-bexpr quirk kept for fidelity.)
//! * `==`/`!=`: the literal is coerced to the selected value's type: strings
//!   compare as text, booleans with Go's `strconv.ParseBool` spellings,
//!   integers with `strconv.ParseInt(s, 0, 64)` rules (`0x1f`, `0o17`, `1_000`),
//!   other numbers as `f64`. A literal that cannot be coerced is an error, as
//!   in Consul (which reports it when the filter is created).
//! * `in`/`contains`: object = key present, array = some element equals the
//!   literal (coerced per element; elements it cannot be coerced to do not
//!   match), string = substring.
//! * `is empty`: empty array, object or string.
//! * `matches`: strings only, unanchored regex search.
//! * Operators that go-bexpr does not allow on a type (`==` on an array,
//!   `matches` on a number, `in` on a bool, ...) and selectors that continue
//!   through a scalar yield the error Consul reports for them.

use serde_json::{Number, Value};

use crate::ast::{Expr, MatchExpr, MatchOp};
use crate::error::{FilterError, go_quote};

/// Evaluates `expr` against `item`, short-circuiting `and`/`or` left to right.
pub fn eval(expr: &Expr, item: &Value) -> Result<bool, FilterError> {
    match expr {
        Expr::And(items) => {
            for e in items {
                if !eval(e, item)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Expr::Or(items) => {
            for e in items {
                if eval(e, item)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Expr::Not(e) => Ok(!eval(e, item)?),
        Expr::Match(m) => walk(m, 0, item),
    }
}

/// The result for a selector that finds nothing.
fn missing(op: MatchOp) -> bool {
    !matches!(op, MatchOp::Equal | MatchOp::In | MatchOp::IsNotEmpty)
}

fn walk(m: &MatchExpr, depth: usize, v: &Value) -> Result<bool, FilterError> {
    let Some(segment) = m.selector.get(depth) else {
        return terminal(m, v);
    };
    match v {
        Value::Object(map) => match map.get(segment) {
            Some(next) => walk(m, depth + 1, next),
            None => Ok(missing(m.op)),
        },
        Value::Array(items) => {
            for item in items {
                if walk(m, depth, item)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Value::Null => Ok(missing(m.op)),
        _ => Err(FilterError::InvalidSelector(m.selector[..=depth].join("."))),
    }
}

fn terminal(m: &MatchExpr, v: &Value) -> Result<bool, FilterError> {
    if v.is_null() {
        return Ok(missing(m.op));
    }
    let positive = match m.op.positive() {
        MatchOp::Equal => equal(m, v)?,
        MatchOp::In => contains(m, v)?,
        MatchOp::IsEmpty => is_empty(m, v)?,
        _ => regex_match(m, v)?,
    };
    Ok(positive != m.op.is_negated())
}

fn raw(m: &MatchExpr) -> &str {
    m.value.as_ref().map_or("", |v| v.raw.as_str())
}

fn invalid_op(m: &MatchExpr) -> FilterError {
    FilterError::InvalidOperator {
        op: m.op.go_name().to_string(),
        selector: m.selector_string(),
    }
}

fn equal(m: &MatchExpr, v: &Value) -> Result<bool, FilterError> {
    match v {
        Value::String(s) => Ok(s == raw(m)),
        Value::Bool(b) => Ok(parse_bool(m)? == *b),
        Value::Number(n) => number_equal(m, n),
        _ => Err(invalid_op(m)),
    }
}

fn contains(m: &MatchExpr, v: &Value) -> Result<bool, FilterError> {
    match v {
        Value::Object(map) => Ok(map.contains_key(raw(m))),
        Value::String(s) => Ok(s.contains(raw(m))),
        Value::Array(items) => {
            // Elements the literal cannot be coerced to are skipped, as
            // go-bexpr does for `[]interface{}` (JSON arrays may mix types).
            for item in items {
                let found = match item {
                    Value::String(s) => s == raw(m),
                    Value::Bool(b) => parse_bool(m).is_ok_and(|lit| lit == *b),
                    Value::Number(n) => number_equal(m, n).unwrap_or(false),
                    _ => false,
                };
                if found {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        _ => Err(invalid_op(m)),
    }
}

fn is_empty(m: &MatchExpr, v: &Value) -> Result<bool, FilterError> {
    match v {
        Value::Array(a) => Ok(a.is_empty()),
        Value::Object(o) => Ok(o.is_empty()),
        Value::String(s) => Ok(s.is_empty()),
        _ => Err(invalid_op(m)),
    }
}

fn regex_match(m: &MatchExpr, v: &Value) -> Result<bool, FilterError> {
    let Value::String(s) = v else {
        return Err(invalid_op(m));
    };
    match m.value.as_ref().and_then(|v| v.regex.as_ref()) {
        Some(re) => Ok(re.is_match(s)),
        None => Err(invalid_op(m)),
    }
}

fn coerce_error(m: &MatchExpr, func: &str, reason: &str) -> FilterError {
    FilterError::Coerce {
        value: raw(m).to_string(),
        selector: m.selector_string(),
        reason: format!("strconv.{func}: parsing {}: {reason}", go_quote(raw(m))),
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(m: &MatchExpr) -> Result<bool, FilterError> {
    match raw(m) {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(coerce_error(m, "ParseBool", "invalid syntax")),
    }
}

fn number_equal(m: &MatchExpr, n: &Number) -> Result<bool, FilterError> {
    let text = raw(m);
    if let Some(i) = n.as_i64() {
        let lit = parse_int(text).map_err(|r| coerce_error(m, "ParseInt", r))?;
        return Ok(lit == i);
    }
    if let Some(u) = n.as_u64() {
        let lit = parse_uint(text).map_err(|r| coerce_error(m, "ParseUint", r))?;
        return Ok(lit == u);
    }
    let lit: f64 = text
        .parse()
        .map_err(|_| coerce_error(m, "ParseFloat", "invalid syntax"))?;
    Ok(n.as_f64() == Some(lit))
}

const SYNTAX: &str = "invalid syntax";
const RANGE: &str = "value out of range";

/// Go's `strconv.ParseInt(s, 0, 64)`.
fn parse_int(s: &str) -> Result<i64, &'static str> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = parse_uint(body)?;
    if neg {
        0i64.checked_sub_unsigned(magnitude).ok_or(RANGE)
    } else {
        i64::try_from(magnitude).map_err(|_| RANGE)
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)`: base prefixes `0x`, `0o`, `0b`, a
/// leading `0` for octal, and `_` digit separators.
fn parse_uint(s: &str) -> Result<u64, &'static str> {
    if s.is_empty() {
        return Err(SYNTAX);
    }
    let lower = s.to_ascii_lowercase();
    let (radix, digits) = if lower.len() >= 3 && lower.starts_with("0x") {
        (16, &s[2..])
    } else if lower.len() >= 3 && lower.starts_with("0o") {
        (8, &s[2..])
    } else if lower.len() >= 3 && lower.starts_with("0b") {
        (2, &s[2..])
    } else if s.starts_with('0') && s.len() > 1 {
        (8, &s[1..])
    } else {
        (10, s)
    };
    if digits.contains('_') && !underscore_ok(s) {
        return Err(SYNTAX);
    }
    let mut value: u64 = 0;
    for c in digits.chars().filter(|&c| c != '_') {
        let d = c.to_digit(radix).ok_or(SYNTAX)?;
        value = value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or(RANGE)?;
    }
    Ok(value)
}

/// Go's rule: underscores only between digits or after a base prefix.
fn underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let mut saw = b'^';
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_int_parsing() {
        assert_eq!(parse_int("8080"), Ok(8080));
        assert_eq!(parse_int("-12"), Ok(-12));
        assert_eq!(parse_int("0x1F"), Ok(31));
        assert_eq!(parse_int("0o17"), Ok(15));
        assert_eq!(parse_int("017"), Ok(15));
        assert_eq!(parse_int("0b101"), Ok(5));
        assert_eq!(parse_int("1_000"), Ok(1000));
        assert_eq!(parse_int("0"), Ok(0));
        assert_eq!(parse_int("1__0"), Err(SYNTAX));
        assert_eq!(parse_int("_1"), Err(SYNTAX));
        assert_eq!(parse_int("1.5"), Err(SYNTAX));
        assert_eq!(parse_int(""), Err(SYNTAX));
        assert_eq!(parse_int("abc"), Err(SYNTAX));
        assert_eq!(parse_int("9223372036854775808"), Err(RANGE));
        assert_eq!(parse_int("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_uint("-1"), Err(SYNTAX));
        assert_eq!(parse_uint("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_uint("18446744073709551616"), Err(RANGE));
    }
}
