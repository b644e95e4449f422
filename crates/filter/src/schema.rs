//! Passes over a parsed expression: regex compilation and the optional
//! selector validation against an endpoint's field list.

use regex::RegexBuilder;

use crate::ast::{Expr, MatchExpr, MatchOp};
use crate::error::FilterError;

/// Compiles the pattern of every `matches` / `not matches`, in source order.
pub fn compile_regexes(expr: &mut Expr) -> Result<(), FilterError> {
    match expr {
        Expr::And(items) | Expr::Or(items) => items.iter_mut().try_for_each(compile_regexes),
        Expr::Not(inner) => compile_regexes(inner),
        Expr::Match(m) => compile_match(m),
    }
}

fn compile_match(m: &mut MatchExpr) -> Result<(), FilterError> {
    if !matches!(m.op, MatchOp::Matches | MatchOp::NotMatches) {
        return Ok(());
    }
    let Some(value) = m.value.as_mut() else {
        return Ok(());
    };
    let re = RegexBuilder::new(&value.raw)
        .size_limit(crate::MAX_REGEX_SIZE)
        .dfa_size_limit(crate::MAX_REGEX_SIZE)
        .build()
        .map_err(|e| FilterError::Regex {
            pattern: value.raw.clone(),
            reason: one_line(&e.to_string()),
        })?;
    value.regex = Some(re);
    Ok(())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks every selector (in source order) against `fields`.
pub fn validate(expr: &Expr, fields: &[&str]) -> Result<(), FilterError> {
    match expr {
        Expr::And(items) | Expr::Or(items) => items.iter().try_for_each(|e| validate(e, fields)),
        Expr::Not(inner) => validate(inner, fields),
        Expr::Match(m) => validate_selector(&m.selector, fields),
    }
}

fn validate_selector(selector: &[String], fields: &[&str]) -> Result<(), FilterError> {
    for len in 1..=selector.len() {
        let prefix = &selector[..len];
        if !fields.iter().any(|f| pattern_matches(f, prefix)) {
            return Err(FilterError::InvalidSelector(prefix.join(".")));
        }
    }
    Ok(())
}

fn pattern_matches(pattern: &str, path: &[String]) -> bool {
    let mut segments = pattern.split('.');
    for seg in path {
        match segments.next() {
            Some("*" | "<any>") => {}
            Some(p) if p == seg => {}
            _ => return false,
        }
    }
    segments.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn patterns() {
        assert!(pattern_matches("Meta.*", &path(&["Meta", "a b"])));
        assert!(pattern_matches("Meta.<any>", &path(&["Meta", "x"])));
        assert!(!pattern_matches("Meta.*", &path(&["Meta"])));
        assert!(!pattern_matches("Meta", &path(&["Meta", "x"])));
        assert!(pattern_matches("Service.Tags", &path(&["Service", "Tags"])));
    }
}
