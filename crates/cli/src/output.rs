//! Output plumbing and Go-compatible text formatting: the `Ui` (stdout/stderr/stdin),
//! `text/tabwriter`, `kr/text` wrapping, `%q` quoting and `encoding/json` string escaping.

use std::io::{Read, Write};

/// Where a command reads and writes; mirrors `cli.BasicUi` (`Info`/`Output` → stdout,
/// `Error` → stderr, each with a trailing newline).
pub struct Ui<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub stdin: &'a mut dyn Read,
}

impl Ui<'_> {
    /// Writes `text` and a newline to stdout.
    pub fn info(&mut self, text: &str) {
        self.info_bytes(text.as_bytes());
    }

    /// Writes raw bytes (e.g. a KV value) and a newline to stdout.
    pub fn info_bytes(&mut self, bytes: &[u8]) {
        // A closed stdout (`| head`) is not worth a panic; Go ignores write errors here too.
        let _ = self.out.write_all(bytes);
        let _ = self.out.write_all(b"\n");
    }

    /// Writes `text` and a newline to stderr.
    pub fn error(&mut self, text: &str) {
        let _ = self.err.write_all(text.as_bytes());
        let _ = self.err.write_all(b"\n");
    }

    /// Writes `text` as-is (no newline added) to stderr.
    pub fn error_raw(&mut self, text: &str) {
        let _ = self.err.write_all(text.as_bytes());
    }

    /// Writes `text` as-is (no newline added) to stdout.
    pub fn out_raw(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
    }
}

/// Go's `text/tabwriter` with padchar `' '` and no flags: tab-terminated cells are aligned
/// into columns (width = widest cell + `padding`, at least `minwidth`), per block of
/// consecutive lines that have that column. The last cell of a line is never padded.
pub fn tabwrite(text: &[u8], minwidth: usize, padding: usize) -> Vec<u8> {
    let lines: Vec<Vec<&[u8]>> = text
        .split(|b| *b == b'\n')
        .map(|l| l.split(|b| *b == b'\t').collect())
        .collect();
    let mut out = Vec::new();
    let mut widths = Vec::new();
    format_block(
        &lines,
        0,
        lines.len(),
        &mut widths,
        minwidth,
        padding,
        &mut out,
    );
    out
}

fn cell_width(cell: &[u8]) -> usize {
    String::from_utf8_lossy(cell).chars().count()
}

fn format_block(
    lines: &[Vec<&[u8]>],
    mut line0: usize,
    line1: usize,
    widths: &mut Vec<usize>,
    minwidth: usize,
    padding: usize,
    out: &mut Vec<u8>,
) {
    let column = widths.len();
    let mut this = line0;
    while this < line1 {
        if column + 1 >= lines[this].len() {
            this += 1;
            continue;
        }
        write_lines(lines, line0, this, widths, out);
        line0 = this;
        let mut width = minwidth;
        while this < line1 && column + 1 < lines[this].len() {
            width = width.max(cell_width(lines[this][column]) + padding);
            this += 1;
        }
        widths.push(width);
        format_block(lines, line0, this, widths, minwidth, padding, out);
        widths.pop();
        line0 = this;
    }
    write_lines(lines, line0, line1, widths, out);
}

fn write_lines(lines: &[Vec<&[u8]>], from: usize, to: usize, widths: &[usize], out: &mut Vec<u8>) {
    for (i, line) in lines.iter().enumerate().take(to).skip(from) {
        for (j, cell) in line.iter().enumerate() {
            out.extend_from_slice(cell);
            if j + 1 < line.len()
                && let Some(w) = widths.get(j)
            {
                let pad = w.saturating_sub(cell_width(cell));
                out.extend(std::iter::repeat_n(b' ', pad));
            }
        }
        if i + 1 < lines.len() {
            out.push(b'\n');
        }
    }
}

/// `ryanuber/columnize.SimpleFormat`: every cell trimmed, each column but a line's last padded
/// to the column's widest cell and followed by two spaces, no trailing newline.
pub fn columnize(rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| r.iter().map(|c| c.trim()).collect())
        .collect();
    let mut widths: Vec<usize> = Vec::new();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            let w = cell.chars().count();
            match widths.get_mut(i) {
                Some(max) => *max = (*max).max(w),
                None => widths.push(w),
            }
        }
    }
    let mut out = String::new();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i] - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad + 2));
            }
        }
        out.push('\n');
    }
    out.pop();
    out
}

/// `kr/text.Wrap` (minimum raggedness) at 72 columns minus `pad`, each line indented by `pad`.
pub fn wrap_at_length(s: &str, pad: usize) -> String {
    let indent = " ".repeat(pad);
    wrap(s, 72usize.saturating_sub(pad))
        .split('\n')
        .map(|line| format!("{indent}{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `kr/text.Wrap`: words are split on single spaces after trimming and turning newlines into
/// spaces; line breaks minimise the sum of squared slack, with a big penalty for overlong lines.
pub fn wrap(s: &str, lim: usize) -> String {
    let joined = s.trim().replace('\n', " ");
    let words: Vec<&str> = joined.split(' ').collect();
    let n = words.len();
    let lim = lim as i64;
    const PENALTY: i64 = 100_000;
    let len = |i: usize, j: usize| -> i64 {
        words[i..=j]
            .iter()
            .map(|w| w.chars().count() as i64)
            .sum::<i64>()
            + (j - i) as i64
    };
    let mut cost = vec![i64::MAX; n];
    let mut next = vec![n; n];
    for i in (0..n).rev() {
        if len(i, n - 1) <= lim || i == n - 1 {
            cost[i] = 0;
            next[i] = n;
            continue;
        }
        for j in i + 1..n {
            let line = len(i, j - 1);
            let slack = lim - line;
            let mut c = slack * slack + cost[j];
            if line > lim {
                c += PENALTY;
            }
            if c < cost[i] {
                cost[i] = c;
                next[i] = j;
            }
        }
    }
    let mut lines = Vec::new();
    let mut i = 0;
    while i < n {
        lines.push(words[i..next[i]].join(" "));
        i = next[i];
    }
    lines.join("\n")
}

/// Go's `%q` / `strconv.Quote` for the strings we print (printable Unicode kept as-is).
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON string literal exactly as Go's `encoding/json` writes it (HTML-safe escaping of
/// `<`, `>`, `&`, and U+2028/U+2029; `\b`/`\f` short forms as in Go 1.22+).
pub fn go_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An I/O error worded like Go's `*PathError`: `open PATH: no such file or directory`.
pub fn go_path_error(op: &str, path: &str, err: &std::io::Error) -> String {
    let text = err.to_string();
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => text.as_str(),
    };
    let mut chars = text.chars();
    let lowered = match chars.next() {
        Some(first) => first.to_lowercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    };
    format!("{op} {path}: {lowered}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabwriter_aligns_first_column() {
        let text = b"CreateIndex\t5\nFlags\t0\nKey\tfoo\nValue\tbar";
        let got = String::from_utf8_lossy(&tabwrite(text, 0, 6)).to_string();
        let expected =
            "CreateIndex      5\nFlags            0\nKey              foo\nValue            bar";
        assert_eq!(got, expected);
    }

    #[test]
    fn tabwriter_blocks_are_separate() {
        let text = b"a\t1\nlonger\t2\n\nx\t3\n";
        let got = String::from_utf8_lossy(&tabwrite(text, 0, 1)).to_string();
        assert_eq!(got, "a      1\nlonger 2\n\nx 3\n");
    }

    #[test]
    fn columnize_like_go() {
        let rows = |v: &[&[&str]]| -> Vec<Vec<String>> {
            v.iter()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect()
        };
        let got = columnize(&rows(&[
            &["Node", "ID", "Address", "DC"],
            &["worker-01", "1b662d97", "10.4.5.31", "dc1"],
            &[" n ", "", "10.0.0.1", "dc10"],
        ]));
        assert_eq!(
            got,
            "Node       ID        Address    DC\n\
             worker-01  1b662d97  10.4.5.31  dc1\n\
             n                    10.0.0.1   dc10"
        );
        assert_eq!(columnize(&rows(&[&["a"], &["bb", "c"]])), "a\nbb  c");
        assert_eq!(columnize(&[]), "");
    }

    #[test]
    fn wraps_with_min_raggedness() {
        assert_eq!(wrap("aaa bb cc ddddd", 6), "aaa\nbb cc\nddddd");
        assert_eq!(wrap("short", 72), "short");
        let w = wrap_at_length("Base64 encode the value. The default value is false.", 5);
        assert_eq!(
            w,
            "     Base64 encode the value. The default value is false."
        );
    }

    #[test]
    fn go_quoting() {
        assert_eq!(go_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(
            go_json_string("<a&b>\u{1}\u{8}é"),
            "\"\\u003ca\\u0026b\\u003e\\u0001\\bé\""
        );
    }

    #[test]
    fn path_errors() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(
            go_path_error("open", "/x", &e),
            "open /x: no such file or directory"
        );
    }
}
