//! Recursive-descent parser for go-bexpr's grammar (the version Consul uses).
//!
//! Each rule below mirrors a rule of go-bexpr's PEG, in the same order of
//! alternatives, so that both the accepted language and the error messages
//! match. Two rewrites keep the parser linear without changing either:
//!
//! * `X <- A _ "or" _ X / A` becomes `A (_ "or" _ A)*` (a loop): re-parsing
//!   `A` after a failed tail has no new effect, so it is skipped;
//! * alternatives that share a prefix (`"(" _? Or _? ")"` and the
//!   "Unmatched parentheses" alternative) parse the prefix once.
//!
//! Keywords are lower case and need whitespace on both sides (`a and b`,
//! `not x`): `AND`, `And`, `not(x)` and `(a)and(b)` are syntax errors, as in
//! go-bexpr. Parentheses may nest at most [`crate::MAX_DEPTH`] levels.

use crate::ast::{Expr, MatchExpr, MatchOp, MatchValue};
use crate::error::FilterError;
use crate::lexer::{self, DIGIT_CLASS, NONZERO_CLASS, Scanner};

/// Parses `src` into an expression (regexes are compiled separately).
pub fn parse(src: &str) -> Result<Expr, FilterError> {
    let mut p = Parser {
        s: Scanner::new(src),
        errors: Vec::new(),
        depth: 0,
        too_deep_at: None,
    };
    let result = p.input();
    if let Some(at) = p.too_deep_at {
        return Err(FilterError::TooDeep {
            position: p.s.position(at),
            max: crate::MAX_DEPTH,
        });
    }
    if !p.errors.is_empty() {
        return Err(FilterError::Syntax(p.errors.join("\n")));
    }
    result.ok_or_else(|| FilterError::Syntax(p.s.no_match_message()))
}

struct Parser<'a> {
    s: Scanner<'a>,
    /// Errors raised by the grammar's semantic predicates, deduplicated, in
    /// the order they were raised (pigeon reports them all, one per line).
    errors: Vec<String>,
    depth: usize,
    too_deep_at: Option<usize>,
}

impl<'a> Parser<'a> {
    fn error_at(&mut self, pos: usize, rule: &str, msg: &str) {
        let text = format!("{}: rule \"{}\": {}", self.s.position(pos), rule, msg);
        if !self.errors.contains(&text) {
            self.errors.push(text);
        }
    }

    fn aborted(&self) -> bool {
        self.too_deep_at.is_some()
    }

    /// Parses `_? OrExpression _?` one parenthesis level deeper.
    fn nested_or(&mut self) -> Option<Expr> {
        if self.depth >= crate::MAX_DEPTH {
            self.too_deep_at.get_or_insert(self.s.pos);
            return None;
        }
        self.depth += 1;
        self.s.opt_ws();
        let e = self.or_expr();
        if e.is_some() {
            self.s.opt_ws();
        }
        self.depth -= 1;
        e
    }

    /// `Input <- _? "(" _? OrExpression _? ")" _? EOF / _? OrExpression _? EOF`
    fn input(&mut self) -> Option<Expr> {
        self.s.opt_ws();
        if self.s.lit("(")
            && let Some(e) = self.nested_or()
            && self.s.lit(")")
        {
            self.s.opt_ws();
            if self.s.eof() {
                return Some(e);
            }
        }
        if self.aborted() {
            return None;
        }
        self.s.pos = 0;
        self.s.opt_ws();
        let e = self.or_expr()?;
        self.s.opt_ws();
        if self.s.eof() { Some(e) } else { None }
    }

    /// `OrExpression <- AndExpression _ "or" _ OrExpression / AndExpression`
    fn or_expr(&mut self) -> Option<Expr> {
        self.chain("or", Self::and_expr, Expr::Or)
    }

    /// `AndExpression <- NotExpression _ "and" _ AndExpression / NotExpression`
    fn and_expr(&mut self) -> Option<Expr> {
        self.chain("and", Self::not_expr, Expr::And)
    }

    fn chain(
        &mut self,
        keyword: &str,
        operand: fn(&mut Self) -> Option<Expr>,
        build: fn(Vec<Expr>) -> Expr,
    ) -> Option<Expr> {
        if self.aborted() {
            return None;
        }
        let mut items = vec![operand(self)?];
        loop {
            let save = self.s.pos;
            if self.s.ws()
                && self.s.lit(keyword)
                && self.s.ws()
                && let Some(e) = operand(self)
            {
                items.push(e);
                continue;
            }
            self.s.pos = save;
            break;
        }
        if items.len() == 1 {
            items.pop()
        } else {
            Some(build(items))
        }
    }

    /// `NotExpression <- "not" _ NotExpression / ParenthesizedExpression`
    fn not_expr(&mut self) -> Option<Expr> {
        let mut nots = Vec::new();
        loop {
            let save = self.s.pos;
            if self.s.lit("not") && self.s.ws() {
                nots.push(save);
            } else {
                self.s.pos = save;
                break;
            }
        }
        if let Some(e) = self.paren() {
            return Some(negate(e, nots.len()));
        }
        // The innermost `not` failed: each enclosing level falls back to
        // reading its own `not` as the start of a match (a selector "not").
        while let Some(at) = nots.pop() {
            if self.aborted() {
                return None;
            }
            self.s.pos = at;
            if let Some(e) = self.paren() {
                return Some(negate(e, nots.len()));
            }
        }
        None
    }

    /// `ParenthesizedExpression <- "(" _? OrExpression _? ")" / MatchExpression
    ///     / "(" _? OrExpression _? !")" &{ "Unmatched parentheses" }`
    fn paren(&mut self) -> Option<Expr> {
        let start = self.s.pos;
        if !self.s.lit("(") {
            return self.match_expr();
        }
        let inner = self.nested_or();
        let after = self.s.pos;
        let inner_ok = inner.is_some();
        if let Some(e) = inner
            && self.s.lit(")")
        {
            return Some(e);
        }
        if self.aborted() {
            return None;
        }
        self.s.pos = start;
        if let Some(m) = self.match_expr() {
            return Some(m);
        }
        if inner_ok {
            self.error_at(after, "grouping", "Unmatched parentheses");
        }
        self.s.pos = start;
        None
    }

    /// `MatchExpression <- MatchSelectorOpValue / MatchSelectorOp / MatchValueOpSelector`
    fn match_expr(&mut self) -> Option<Expr> {
        let start = self.s.pos;
        let found = self
            .selector_op_value()
            .or_else(|| {
                self.s.pos = start;
                self.selector_op()
            })
            .or_else(|| {
                self.s.pos = start;
                self.value_op_selector()
            });
        if found.is_none() {
            self.s.pos = start;
        }
        found.map(Expr::Match)
    }

    fn selector_op_value(&mut self) -> Option<MatchExpr> {
        let selector = self.selector()?;
        let op = self.value_operator()?;
        let raw = self.value()?;
        Some(MatchExpr {
            selector,
            op,
            value: Some(MatchValue { raw, regex: None }),
        })
    }

    fn selector_op(&mut self) -> Option<MatchExpr> {
        let selector = self.selector()?;
        let op = if self.words(&["is", "empty"], false) {
            MatchOp::IsEmpty
        } else if self.words(&["is", "not", "empty"], false) {
            MatchOp::IsNotEmpty
        } else {
            return None;
        };
        Some(MatchExpr {
            selector,
            op,
            value: None,
        })
    }

    /// `Value (MatchIn / MatchNotIn) Selector`, else the "Invalid selector" error.
    fn value_op_selector(&mut self) -> Option<MatchExpr> {
        let raw = self.value()?;
        let op = if self.words(&["in"], true) {
            MatchOp::In
        } else if self.words(&["not", "in"], true) {
            MatchOp::NotIn
        } else {
            return None;
        };
        let after = self.s.pos;
        match self.selector() {
            Some(selector) => Some(MatchExpr {
                selector,
                op,
                value: Some(MatchValue { raw, regex: None }),
            }),
            None => {
                self.error_at(after, "match", "Invalid selector");
                None
            }
        }
    }

    /// The operators that take a value on their right, in grammar order.
    fn value_operator(&mut self) -> Option<MatchOp> {
        if self.symbol("==") {
            Some(MatchOp::Equal)
        } else if self.symbol("!=") {
            Some(MatchOp::NotEqual)
        } else if self.words(&["contains"], true) {
            Some(MatchOp::In)
        } else if self.words(&["not", "contains"], true) {
            Some(MatchOp::NotIn)
        } else if self.words(&["matches"], true) {
            Some(MatchOp::Matches)
        } else if self.words(&["not", "matches"], true) {
            Some(MatchOp::NotMatches)
        } else {
            None
        }
    }

    /// `_? sym _?`
    fn symbol(&mut self, sym: &str) -> bool {
        self.s.attempt(|s| {
            s.opt_ws();
            if !s.lit(sym) {
                return false;
            }
            s.opt_ws();
            true
        })
    }

    /// `_ w1 _ w2 ... [_]`
    fn words(&mut self, words: &[&str], trailing_ws: bool) -> bool {
        self.s.attempt(|s| {
            for w in words {
                if !(s.ws() && s.lit(w)) {
                    return false;
                }
            }
            !trailing_ws || s.ws()
        })
    }

    /// `Selector <- Identifier ("." Identifier / IndexExpression)*`
    fn selector(&mut self) -> Option<Vec<String>> {
        let first = self.s.identifier()?;
        let mut path = vec![first.to_string()];
        loop {
            let save = self.s.pos;
            if self.s.lit(".")
                && let Some(id) = self.s.identifier()
            {
                path.push(id.to_string());
                continue;
            }
            self.s.pos = save;
            if let Some(key) = self.index_expr() {
                path.push(key);
                continue;
            }
            self.s.pos = save;
            return Some(path);
        }
    }

    /// `IndexExpression <- "[" _? StringLiteral _? "]"`, else the
    /// "Invalid index" / "Unclosed index expression" errors.
    fn index_expr(&mut self) -> Option<String> {
        let start = self.s.pos;
        if !self.s.lit("[") {
            return None;
        }
        self.s.opt_ws();
        let at = self.s.pos;
        match self.string_literal() {
            Some(key) => {
                self.s.opt_ws();
                if self.s.lit("]") {
                    return Some(key);
                }
                let pos = self.s.pos;
                self.error_at(pos, "index", "Unclosed index expression");
            }
            None => self.error_at(at, "index", "Invalid index"),
        }
        self.s.pos = start;
        None
    }

    /// `Value <- Selector / NumberLiteral / StringLiteral`, as raw text
    /// (a selector used as a value is its segments joined with ".").
    fn value(&mut self) -> Option<String> {
        let start = self.s.pos;
        if let Some(sel) = self.selector() {
            return Some(sel.join("."));
        }
        self.s.pos = start;
        if let Some(n) = self.number_literal() {
            return Some(n);
        }
        self.s.pos = start;
        let v = self.string_literal();
        if v.is_none() {
            self.s.pos = start;
        }
        v
    }

    /// `NumberLiteral <- "-"? IntegerOrFloat &(_ / EOF / ")")`, else
    /// "Invalid number literal".
    fn number_literal(&mut self) -> Option<String> {
        let start = self.s.pos;
        self.s.lit("-");
        if !self.integer_or_float() {
            self.s.pos = start;
            return None;
        }
        let followed_ok = self
            .s
            .and(|s| s.attempt(|s| s.ws()) || s.eof() || s.lit(")"));
        if followed_ok {
            return Some(self.s.text_from(start).to_string());
        }
        let pos = self.s.pos;
        self.error_at(pos, "number", "Invalid number literal");
        self.s.pos = start;
        None
    }

    /// `IntegerOrFloat <- ("0" / [1-9][0-9]*) ("." [0-9]+)?`
    fn integer_or_float(&mut self) -> bool {
        let s = &mut self.s;
        if !s.lit("0") {
            if !s.class(lexer::is_nonzero_digit, NONZERO_CLASS) {
                return false;
            }
            while s.class(lexer::is_digit, DIGIT_CLASS) {}
        }
        s.attempt(|s| {
            if !(s.lit(".") && s.class(lexer::is_digit, DIGIT_CLASS)) {
                return false;
            }
            while s.class(lexer::is_digit, DIGIT_CLASS) {}
            true
        });
        true
    }

    /// `StringLiteral <- '`' RawStringChar* '`' / '"' DoubleStringChar* '"'`,
    /// else "Unterminated string literal" when the input ends inside one.
    fn string_literal(&mut self) -> Option<String> {
        let start = self.s.pos;
        for quote in ["`", "\""] {
            self.s.pos = start;
            if self.s.lit(quote) {
                self.string_chars(quote);
                if self.s.lit(quote) {
                    return Some(self.finish_string(start));
                }
            }
        }
        self.s.pos = start;
        let opened = ["`", "\""].into_iter().any(|quote| {
            self.s.attempt(|s| {
                if !s.lit(quote) {
                    return false;
                }
                while s.attempt(|s| s.not(|s| s.lit(quote)) && s.any()) {}
                true
            })
        });
        if opened && self.s.eof() {
            let pos = self.s.pos;
            self.error_at(pos, "string", "Unterminated string literal");
        }
        self.s.pos = start;
        None
    }

    /// `(!quote .)*`
    fn string_chars(&mut self, quote: &str) {
        while self.s.attempt(|s| s.not(|s| s.lit(quote)) && s.any()) {}
    }

    /// Unquotes the literal that starts at `start`; a bad escape is reported
    /// like go-bexpr's `strconv.Unquote` failure and yields an empty string.
    fn finish_string(&mut self, start: usize) -> String {
        match lexer::unquote(self.s.text_from(start)) {
            Some(v) => v,
            None => {
                self.error_at(start, "string", "invalid syntax");
                String::new()
            }
        }
    }
}

/// Applies `count` negations (an even number cancels out).
fn negate(e: Expr, count: usize) -> Expr {
    if count.is_multiple_of(2) {
        return e;
    }
    match e {
        Expr::Not(inner) => *inner,
        e => Expr::Not(Box::new(e)),
    }
}
