//! Character-level scanning.
//!
//! go-bexpr's grammar is a scannerless PEG, and its error messages name the
//! characters and literals the parser expected at the farthest position it
//! reached. To reproduce those messages this "lexer" is a cursor with PEG
//! primitives (literal, character class, any character, `!`/`&` lookahead)
//! that records failures the same way: the farthest failing position and the
//! set of things wanted there; inside a `!` lookahead, a *successful* probe is
//! what gets recorded (as `!want`). Token-level scanners (identifiers,
//! whitespace, string-literal unquoting) live here too.

use std::collections::BTreeSet;

/// Character class of whitespace, as the grammar spells it.
pub const WS_CLASS: &str = "[ \\t\\r\\n]";
/// First character of an identifier.
pub const IDENT_START_CLASS: &str = "[a-zA-Z]";
/// Following characters of an identifier.
pub const IDENT_REST_CLASS: &str = "[a-zA-Z0-9_]";
/// Non-zero digit.
pub const NONZERO_CLASS: &str = "[1-9]";
/// Any digit.
pub const DIGIT_CLASS: &str = "[0-9]";

/// A cursor over the expression with pigeon-compatible failure tracking.
#[derive(Debug)]
pub struct Scanner<'a> {
    src: &'a str,
    /// Byte offset of the next character.
    pub pos: usize,
    invert: bool,
    max_fail_pos: usize,
    max_fail_expected: BTreeSet<String>,
}

impl<'a> Scanner<'a> {
    pub fn new(src: &'a str) -> Self {
        Scanner {
            src,
            pos: 0,
            invert: false,
            max_fail_pos: 0,
            max_fail_expected: BTreeSet::new(),
        }
    }

    pub fn src(&self) -> &'a str {
        self.src
    }

    /// The next character, if any.
    pub fn peek(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }

    /// Text between `start` and the cursor.
    pub fn text_from(&self, start: usize) -> &'a str {
        self.src.get(start..self.pos).unwrap_or("")
    }

    /// Records a probe: a failure outside `!`, or a success inside `!`.
    fn fail_at(&mut self, matched: bool, pos: usize, want: &str) {
        if matched != self.invert || pos < self.max_fail_pos {
            return;
        }
        if pos > self.max_fail_pos {
            self.max_fail_pos = pos;
            self.max_fail_expected.clear();
        }
        let entry = if self.invert {
            format!("!{want}")
        } else {
            want.to_string()
        };
        self.max_fail_expected.insert(entry);
    }

    /// Matches the literal `lit` (its wanted-form is the Go-quoted literal).
    pub fn lit(&mut self, lit: &str) -> bool {
        let start = self.pos;
        let ok = self.src.get(start..).is_some_and(|s| s.starts_with(lit));
        if ok {
            self.pos += lit.len();
        }
        if ok == self.invert && start >= self.max_fail_pos {
            let want = crate::error::go_quote(lit);
            self.fail_at(ok, start, &want);
        }
        ok
    }

    /// Matches one character satisfying `pred`; `class` is its grammar text.
    pub fn class(&mut self, pred: fn(char) -> bool, class: &str) -> bool {
        let start = self.pos;
        match self.peek() {
            Some(c) if pred(c) => {
                self.pos += c.len_utf8();
                self.fail_at(true, start, class);
                true
            }
            _ => {
                self.fail_at(false, start, class);
                false
            }
        }
    }

    /// Matches any one character (`.` in the grammar).
    pub fn any(&mut self) -> bool {
        let start = self.pos;
        match self.peek() {
            Some(c) => {
                self.pos += c.len_utf8();
                self.fail_at(true, start, ".");
                true
            }
            None => {
                self.fail_at(false, start, ".");
                false
            }
        }
    }

    /// Negative lookahead `!f`: never consumes input.
    pub fn not(&mut self, f: impl FnOnce(&mut Self) -> bool) -> bool {
        let start = self.pos;
        self.invert = !self.invert;
        let ok = f(self);
        self.invert = !self.invert;
        self.pos = start;
        !ok
    }

    /// Positive lookahead `&f`: never consumes input.
    pub fn and(&mut self, f: impl FnOnce(&mut Self) -> bool) -> bool {
        let start = self.pos;
        let ok = f(self);
        self.pos = start;
        ok
    }

    /// Runs a sequence; on failure the cursor goes back to where it was.
    pub fn attempt(&mut self, f: impl FnOnce(&mut Self) -> bool) -> bool {
        let start = self.pos;
        let ok = f(self);
        if !ok {
            self.pos = start;
        }
        ok
    }

    /// `EOF <- !.`
    pub fn eof(&mut self) -> bool {
        self.not(|s| s.any())
    }

    /// `_ <- [ \t\r\n]+`
    pub fn ws(&mut self) -> bool {
        if !self.class(is_ws, WS_CLASS) {
            return false;
        }
        while self.class(is_ws, WS_CLASS) {}
        true
    }

    /// `_?`
    pub fn opt_ws(&mut self) {
        self.ws();
    }

    /// `Identifier <- [a-zA-Z] [a-zA-Z0-9_]*`
    pub fn identifier(&mut self) -> Option<&'a str> {
        let start = self.pos;
        if !self.class(is_ident_start, IDENT_START_CLASS) {
            return None;
        }
        while self.class(is_ident_rest, IDENT_REST_CLASS) {}
        Some(self.text_from(start))
    }

    /// Converts a byte offset to pigeon's `line:col (offset)`; columns count
    /// characters from 1.
    pub fn position(&self, offset: usize) -> String {
        let before = self.src.get(..offset).unwrap_or(self.src);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        format!("{line}:{col} ({offset})")
    }

    /// The "no match found" message for the farthest failure, as pigeon
    /// renders it: wanted items sorted, `!.` shown as a trailing `EOF`.
    pub fn no_match_message(&self) -> String {
        let mut eof = false;
        let mut items: Vec<&str> = Vec::new();
        for want in &self.max_fail_expected {
            if want == "!." {
                eof = true;
            } else {
                items.push(want);
            }
        }
        if eof {
            items.push("EOF");
        }
        let list = match items.split_last() {
            None => String::new(),
            Some((last, [])) => (*last).to_string(),
            Some((last, rest)) => format!("{} or {}", rest.join(", "), last),
        };
        format!(
            "{}: no match found, expected: {}",
            self.position(self.max_fail_pos),
            list
        )
    }
}

pub fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

pub fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic()
}

pub fn is_ident_rest(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

pub fn is_nonzero_digit(c: char) -> bool {
    matches!(c, '1'..='9')
}

pub fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}

/// Decodes a complete string literal including its quotes, with the rules of
/// Go's `strconv.Unquote`: backtick strings are raw (carriage returns are
/// dropped); double-quoted strings take Go escapes (`\n`, `\t`, `\\`, `\"`,
/// `\xHH`, `\ooo`, `\uHHHH`, `\UHHHHHHHH`, ...) and may not contain a raw
/// newline. `None` means "invalid syntax".
pub fn unquote(text: &str) -> Option<String> {
    if let Some(inner) = text.strip_prefix('`').and_then(|t| t.strip_suffix('`')) {
        if inner.contains('`') {
            return None;
        }
        return Some(inner.replace('\r', ""));
    }
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\n') {
        return None;
    }
    let mut out: Vec<u8> = Vec::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return None,
            '\\' => unquote_escape(&mut chars, &mut out)?,
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    Some(match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

fn unquote_escape(chars: &mut std::str::Chars<'_>, out: &mut Vec<u8>) -> Option<()> {
    let simple = |b: u8, out: &mut Vec<u8>| {
        out.push(b);
        Some(())
    };
    match chars.next()? {
        'a' => simple(0x07, out),
        'b' => simple(0x08, out),
        'f' => simple(0x0c, out),
        'n' => simple(b'\n', out),
        'r' => simple(b'\r', out),
        't' => simple(b'\t', out),
        'v' => simple(0x0b, out),
        '\\' => simple(b'\\', out),
        '"' => simple(b'"', out),
        'x' => {
            let v = hex_digits(chars, 2)?;
            out.push(u8::try_from(v).ok()?);
            Some(())
        }
        u @ ('u' | 'U') => {
            let v = hex_digits(chars, if u == 'u' { 4 } else { 8 })?;
            let c = char::from_u32(v)?;
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            Some(())
        }
        d @ '0'..='7' => {
            let mut v = d.to_digit(8)?;
            for _ in 0..2 {
                v = (v << 3) | chars.next()?.to_digit(8)?;
            }
            out.push(u8::try_from(v).ok()?);
            Some(())
        }
        _ => None,
    }
}

fn hex_digits(chars: &mut std::str::Chars<'_>, n: usize) -> Option<u32> {
    let mut v: u32 = 0;
    for _ in 0..n {
        v = (v << 4) | chars.next()?.to_digit(16)?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquote_rules() {
        assert_eq!(unquote("\"a\\tb\"").as_deref(), Some("a\tb"));
        assert_eq!(unquote("\"\\u00e9\\x41\\101\"").as_deref(), Some("éAA"));
        assert_eq!(unquote("\"\\U0001F600\"").as_deref(), Some("😀"));
        assert_eq!(unquote("`a\\n\r`").as_deref(), Some("a\\n"));
        assert_eq!(unquote("\"a\nb\""), None);
        assert_eq!(unquote("\"\\'\""), None);
        assert_eq!(unquote("\"\\q\""), None);
        assert_eq!(unquote("\"\\ud800\""), None);
        assert_eq!(unquote("\"\\400\""), None);
        assert_eq!(unquote("\"\\x4\""), None);
    }

    #[test]
    fn positions_count_characters() {
        let s = Scanner::new("é\nab");
        assert_eq!(s.position(0), "1:1 (0)");
        assert_eq!(s.position(2), "1:2 (2)");
        assert_eq!(s.position(4), "2:2 (4)");
    }
}
