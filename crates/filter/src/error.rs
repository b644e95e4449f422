//! Errors, with the texts Consul puts in the body of a rejected `?filter=`.
//!
//! Consul wraps every failure to build a filter in
//! `Failed to create boolean expression evaluator: <detail>`; the detail is
//! either a parser message in pigeon's `line:col (offset): ...` form or one of
//! go-bexpr's validation messages. Consul detects the validation errors when the
//! filter is created (it knows the Go type); we detect most of them while
//! evaluating against JSON, but keep the same text so the HTTP body matches.

use thiserror::Error;

/// Prefix of every filter error body Consul returns.
pub const PREFIX: &str = "Failed to create boolean expression evaluator: ";

/// Everything that can go wrong parsing or evaluating a filter.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterError {
    /// The expression does not follow the grammar. The string is the parser
    /// message(s), e.g. `1:4 (3): no match found, expected: "!=", ...`.
    #[error("Failed to create boolean expression evaluator: {0}")]
    Syntax(String),

    /// The expression is longer than [`crate::MAX_EXPRESSION_LEN`] bytes.
    #[error(
        "Failed to create boolean expression evaluator: expression of {len} bytes exceeds the limit of {max} bytes"
    )]
    TooLong { len: usize, max: usize },

    /// Parentheses nest deeper than [`crate::MAX_DEPTH`].
    #[error(
        "Failed to create boolean expression evaluator: {position}: parentheses nest deeper than {max} levels"
    )]
    TooDeep { position: String, max: usize },

    /// A selector names no field (schema validation, or a selector that goes
    /// through a scalar value).
    #[error("Failed to create boolean expression evaluator: Selector {} is not valid", go_quote(.0))]
    InvalidSelector(String),

    /// The operator cannot be applied to the selected value's type.
    #[error(
        "Failed to create boolean expression evaluator: Invalid match operator {} for selector {}",
        go_quote(.op),
        go_quote(.selector)
    )]
    InvalidOperator { op: String, selector: String },

    /// The literal cannot be converted to the selected value's type.
    #[error(
        "Failed to create boolean expression evaluator: Failed to coerce value {} for selector {}: {reason}",
        go_quote(.value),
        go_quote(.selector)
    )]
    Coerce {
        value: String,
        selector: String,
        reason: String,
    },

    /// The right-hand side of `matches` is not a valid (or is too large a) regex.
    #[error(
        "Failed to create boolean expression evaluator: Failed to compile regular expression {}: {reason}",
        go_quote(.pattern)
    )]
    Regex { pattern: String, reason: String },

    /// [`crate::Filter::apply`] was given something other than an array or object.
    #[error("Only slices, arrays and maps are filterable")]
    NotFilterable,
}

impl FilterError {
    /// True when the error is the client's fault (Consul answers these with a
    /// 400 in recent versions); false only for [`FilterError::NotFilterable`],
    /// which is a programming error on our side.
    pub fn is_client_error(&self) -> bool {
        !matches!(self, FilterError::NotFilterable)
    }
}

/// Quotes like Go's `%q` / `strconv.Quote`: double quotes, backslash escapes
/// for quotes, backslashes and control characters.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                let n = c as u32;
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes() {
        assert_eq!(go_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(go_quote("\u{1}"), "\"\\x01\"");
        assert_eq!(go_quote("é"), "\"é\"");
    }

    #[test]
    fn display_has_consul_prefix() {
        let e = FilterError::InvalidSelector("Foo.Bar".into());
        assert_eq!(
            e.to_string(),
            "Failed to create boolean expression evaluator: Selector \"Foo.Bar\" is not valid"
        );
        assert!(e.to_string().starts_with(PREFIX));
        assert!(!FilterError::NotFilterable.is_client_error());
    }
}
