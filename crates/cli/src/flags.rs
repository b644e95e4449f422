//! A Go `flag`-package compatible parser, plus Consul's help rendering of flag sets.
//!
//! Hand-written rather than clap: Go's rules (single-dash long names, `-flag value` vs bool
//! `-flag`, `-flag=value`, parsing stops at the first positional or `--`, exact error texts such
//! as `flag provided but not defined: -x` followed by `PrintDefaults` output) are the spec, and
//! reproducing them through clap would need more glue than the parser itself.

use std::collections::BTreeMap;

use crate::output::{go_quote, wrap_at_length};

/// Value type of a flag; decides parsing and how usage names the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    String,
    Uint,
    Int,
    /// Repeatable string (Consul's `AppendSliceValue`): every occurrence is kept.
    List,
    /// Repeatable `key=value` (Consul's `FlagMapValue`): a later key wins.
    Map,
}

/// One flag definition.
#[derive(Debug, Clone)]
pub struct Flag {
    pub name: &'static str,
    pub kind: Kind,
    /// Defined through a custom `flag.Value` (Consul's `StringValue`/`BoolValue`): changes the
    /// value placeholder in usage (`value`) and the bool parse error text.
    pub custom: bool,
    pub default: &'static str,
    pub usage: &'static str,
    /// Belongs to Consul's HTTP API option group in help output.
    pub http: bool,
}

/// A set of flags for one command.
#[derive(Debug, Clone, Default)]
pub struct FlagSet {
    flags: Vec<Flag>,
}

/// Outcome of parsing: flag values (validated, as strings) and the positional arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matches {
    values: BTreeMap<&'static str, String>,
    lists: BTreeMap<&'static str, Vec<String>>,
    pub args: Vec<String>,
}

/// Why parsing stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// `-h`/`-help` when not defined: Go prints usage only.
    Help,
    /// Any other error: Go prints this message, then usage.
    Invalid(String),
}

impl FlagSet {
    pub fn new() -> FlagSet {
        FlagSet::default()
    }

    pub fn with(mut self, flag: Flag) -> FlagSet {
        self.flags.push(flag);
        self.flags.sort_by_key(|f| f.name);
        self
    }

    pub fn bool(self, name: &'static str, usage: &'static str) -> FlagSet {
        self.with(Flag {
            name,
            kind: Kind::Bool,
            custom: false,
            default: "false",
            usage,
            http: false,
        })
    }

    pub fn string(self, name: &'static str, default: &'static str, usage: &'static str) -> FlagSet {
        self.with(Flag {
            name,
            kind: Kind::String,
            custom: false,
            default,
            usage,
            http: false,
        })
    }

    pub fn uint(self, name: &'static str, usage: &'static str) -> FlagSet {
        self.with(Flag {
            name,
            kind: Kind::Uint,
            custom: false,
            default: "0",
            usage,
            http: false,
        })
    }

    pub fn int(self, name: &'static str, usage: &'static str) -> FlagSet {
        self.with(Flag {
            name,
            kind: Kind::Int,
            custom: false,
            default: "0",
            usage,
            http: false,
        })
    }

    /// A repeatable string flag (a Go `flag.Var`, so usage names its value `value`).
    pub fn list(self, name: &'static str, usage: &'static str) -> FlagSet {
        self.with(Flag {
            name,
            kind: Kind::List,
            custom: true,
            default: "",
            usage,
            http: false,
        })
    }

    /// A repeatable `key=value` flag.
    pub fn map(self, name: &'static str, usage: &'static str) -> FlagSet {
        self.with(Flag {
            name,
            kind: Kind::Map,
            custom: true,
            default: "",
            usage,
            http: false,
        })
    }

    pub fn flags(&self) -> &[Flag] {
        &self.flags
    }

    fn lookup(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.name == name)
    }

    /// Parses like Go's `FlagSet.Parse`.
    pub fn parse(&self, args: &[String]) -> Result<Matches, ParseError> {
        let mut matches = Matches::default();
        let mut rest = args;
        while let Some((first, tail)) = rest.split_first() {
            let s = first.as_str();
            if s.len() < 2 || !s.starts_with('-') {
                break;
            }
            let dashes = if s.starts_with("--") { 2 } else { 1 };
            if s == "--" {
                rest = tail;
                break;
            }
            rest = tail;
            let name = &s[dashes..];
            if name.is_empty() || name.starts_with('-') || name.starts_with('=') {
                return Err(ParseError::Invalid(format!("bad flag syntax: {s}")));
            }
            let (name, inline) = match name[1..].find('=') {
                Some(i) => (&name[..i + 1], Some(&name[i + 2..])),
                None => (name, None),
            };
            let Some(flag) = self.lookup(name) else {
                if name == "help" || name == "h" {
                    return Err(ParseError::Help);
                }
                return Err(ParseError::Invalid(format!(
                    "flag provided but not defined: -{name}"
                )));
            };
            let value = match (flag.kind, inline) {
                (Kind::Bool, None) => "true".to_string(),
                (_, Some(v)) => v.to_string(),
                (_, None) => match rest.split_first() {
                    Some((next, tail)) => {
                        rest = tail;
                        next.clone()
                    }
                    None => {
                        return Err(ParseError::Invalid(format!(
                            "flag needs an argument: -{name}"
                        )));
                    }
                },
            };
            let value = validate(flag, &value)?;
            if matches!(flag.kind, Kind::List | Kind::Map) {
                matches.lists.entry(flag.name).or_default().push(value);
            } else {
                matches.values.insert(flag.name, value);
            }
        }
        matches.args = rest.to_vec();
        Ok(matches)
    }

    /// Go's default usage for an unnamed FlagSet: `Usage:` then `PrintDefaults`.
    pub fn go_usage(&self) -> String {
        let mut out = String::from("Usage:\n");
        for flag in &self.flags {
            let (placeholder, usage) = unquote_usage(flag);
            let mut line = format!("  -{}", flag.name);
            if !placeholder.is_empty() {
                line.push(' ');
                line.push_str(&placeholder);
            }
            line.push_str(if line.len() <= 4 { "\t" } else { "\n    \t" });
            line.push_str(&usage.replace('\n', "\n    \t"));
            if !is_zero_default(flag) {
                if flag.kind == Kind::String && !flag.custom {
                    line.push_str(&format!(" (default {})", go_quote(flag.default)));
                } else {
                    line.push_str(&format!(" (default {})", flag.default));
                }
            }
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// Consul's `flags.Usage`: trimmed help text, then HTTP API and command option sections.
    pub fn consul_help(&self, text: &str) -> String {
        let mut out = text.trim().to_string();
        out.push_str("\n\n");
        let sections = [("HTTP API Options", true), ("Command Options", false)];
        for (title, http) in sections {
            let group: Vec<&Flag> = self.flags.iter().filter(|f| f.http == http).collect();
            if group.is_empty() {
                continue;
            }
            out.push_str(title);
            out.push_str("\n\n");
            for flag in group {
                let (placeholder, usage) = unquote_usage(flag);
                if placeholder.is_empty() {
                    out.push_str(&format!("  -{}\n", flag.name));
                } else {
                    out.push_str(&format!("  -{}=<{}>\n", flag.name, placeholder));
                }
                out.push_str(&wrap_at_length(&usage, 5));
                out.push_str("\n\n");
            }
        }
        out.trim_end_matches('\n').to_string()
    }
}

/// Go's `flag.UnquoteUsage`: a back-quoted word names the value; else a name from the type.
fn unquote_usage(flag: &Flag) -> (String, String) {
    let usage = flag.usage;
    if let Some(start) = usage.find('`')
        && let Some(len) = usage[start + 1..].find('`')
    {
        let name = &usage[start + 1..start + 1 + len];
        let plain = format!("{}{}{}", &usage[..start], name, &usage[start + len + 2..]);
        return (name.to_string(), plain);
    }
    let name = match (flag.kind, flag.custom) {
        (Kind::Bool, _) => "",
        (_, true) => "value",
        (Kind::String | Kind::List | Kind::Map, false) => "string",
        (Kind::Uint, false) => "uint",
        (Kind::Int, false) => "int",
    };
    (name.to_string(), usage.to_string())
}

fn is_zero_default(flag: &Flag) -> bool {
    match flag.kind {
        Kind::Bool => flag.default == "false",
        Kind::String | Kind::List | Kind::Map => flag.default.is_empty(),
        Kind::Uint | Kind::Int => flag.default == "0",
    }
}

fn validate(flag: &Flag, value: &str) -> Result<String, ParseError> {
    let invalid = |why: &str| {
        ParseError::Invalid(format!(
            "invalid value {} for flag -{}: {why}",
            go_quote(value),
            flag.name
        ))
    };
    match flag.kind {
        Kind::String | Kind::List => Ok(value.to_string()),
        Kind::Map if !value.contains('=') => Err(invalid(&format!(
            "Missing \"=\" value in argument: {value}"
        ))),
        Kind::Map => Ok(value.to_string()),
        Kind::Int => parse_go_int(value).map(|n| n.to_string()).map_err(invalid),
        Kind::Bool => match proconsul_api::parse_go_bool(value) {
            Some(b) => Ok(b.to_string()),
            None if flag.custom => Err(ParseError::Invalid(format!(
                "invalid boolean value {} for -{}: strconv.ParseBool: parsing {}: invalid syntax",
                go_quote(value),
                flag.name,
                go_quote(value)
            ))),
            None => Err(ParseError::Invalid(format!(
                "invalid boolean value {} for -{}: parse error",
                go_quote(value),
                flag.name
            ))),
        },
        Kind::Uint => parse_go_uint(value).map(|n| n.to_string()).map_err(invalid),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`: an optional sign, then [`parse_go_uint`]'s rules.
pub fn parse_go_int(s: &str) -> Result<i64, &'static str> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = parse_go_uint(digits)?;
    if negative {
        match magnitude.cmp(&(i64::MAX as u64 + 1)) {
            std::cmp::Ordering::Greater => Err("value out of range"),
            std::cmp::Ordering::Equal => Ok(i64::MIN),
            std::cmp::Ordering::Less => Ok(-(magnitude as i64)),
        }
    } else {
        i64::try_from(magnitude).map_err(|_| "value out of range")
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)`: base prefixes `0x`, `0o`, `0b`, leading `0` = octal,
/// `_` separators; errors are `parse error` / `value out of range` as the flag package words them.
pub fn parse_go_uint(s: &str) -> Result<u64, &'static str> {
    const SYNTAX: &str = "parse error";
    let lower = s.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    if digits.is_empty() || !underscores_ok(digits, prefixed) {
        return Err(SYNTAX);
    }
    let mut n: u64 = 0;
    let mut overflow = false;
    for c in digits.chars().filter(|c| *c != '_') {
        let d = c.to_digit(radix).ok_or(SYNTAX)?;
        match n
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
        {
            Some(v) => n = v,
            None => overflow = true,
        }
    }
    if overflow {
        Err("value out of range")
    } else {
        Ok(n)
    }
}

/// Underscores only between digits (or right after a base prefix).
fn underscores_ok(digits: &str, prefixed: bool) -> bool {
    if !digits.contains('_') {
        return true;
    }
    let bytes = digits.as_bytes();
    let ends_bad = bytes.last() == Some(&b'_') || (!prefixed && bytes.first() == Some(&b'_'));
    !ends_bad && !digits.contains("__")
}

impl Matches {
    /// Value of a bool flag (false when unset).
    pub fn bool(&self, name: &str) -> bool {
        self.values.get(name).is_some_and(|v| v == "true")
    }

    /// Value of a string flag if it was given on the command line.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Value of a string flag, or `default` when unset.
    pub fn string_or<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.get(name).unwrap_or(default)
    }

    /// Value of a uint flag (0 when unset; values were validated while parsing).
    pub fn uint(&self, name: &str) -> u64 {
        self.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// Value of an int flag (0 when unset; values were validated while parsing).
    pub fn int(&self, name: &str) -> i64 {
        self.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// Every occurrence of a repeatable flag, in command-line order.
    pub fn list(&self, name: &str) -> &[String] {
        self.lists.get(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// A `key=value` flag as a map (split at the first `=`; a later key wins).
    pub fn map(&self, name: &str) -> BTreeMap<String, String> {
        self.list(name)
            .iter()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    pub fn is_set(&self, name: &str) -> bool {
        self.values.contains_key(name) || self.lists.contains_key(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> FlagSet {
        FlagSet::new()
            .bool("recurse", "Recurse.")
            .string("separator", "/", "Separator.")
            .uint("flags", "Flags.")
            .with(Flag {
                name: "http-addr",
                kind: Kind::String,
                custom: true,
                default: "",
                usage: "The `address` and port.",
                http: true,
            })
    }

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn ok(v: &[&str]) -> Matches {
        match set().parse(&args(v)) {
            Ok(m) => m,
            Err(e) => panic!("parse {v:?}: {e:?}"),
        }
    }

    fn err(v: &[&str]) -> ParseError {
        match set().parse(&args(v)) {
            Ok(m) => panic!("parse {v:?} should fail: {m:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn go_forms() {
        let m = ok(&[
            "-recurse",
            "--flags",
            "42",
            "-separator=:",
            "--http-addr=h:1",
            "key",
            "-x",
        ]);
        assert!(m.bool("recurse"));
        assert_eq!(m.uint("flags"), 42);
        assert_eq!(m.string_or("separator", "/"), ":");
        assert_eq!(m.get("http-addr"), Some("h:1"));
        assert_eq!(m.args, args(&["key", "-x"]));
    }

    #[test]
    fn bools_and_terminators() {
        assert!(!ok(&["-recurse=false"]).bool("recurse"));
        assert!(ok(&["-recurse=T"]).bool("recurse"));
        let m = ok(&["-recurse", "false"]);
        assert!(m.bool("recurse"));
        assert_eq!(m.args, args(&["false"]));
        assert_eq!(ok(&["--", "-recurse"]).args, args(&["-recurse"]));
        assert_eq!(ok(&["-", "a"]).args, args(&["-", "a"]));
        assert_eq!(ok(&["-separator", "-x"]).get("separator"), Some("-x"));
        assert_eq!(ok(&["-separator="]).get("separator"), Some(""));
        assert_eq!(ok(&[]).string_or("separator", "/"), "/");
    }

    #[test]
    fn go_error_texts() {
        let invalid = |s: &str| ParseError::Invalid(s.to_string());
        assert_eq!(err(&["-x"]), invalid("flag provided but not defined: -x"));
        assert_eq!(
            err(&["--nope=1"]),
            invalid("flag provided but not defined: -nope")
        );
        assert_eq!(err(&["-flags"]), invalid("flag needs an argument: -flags"));
        assert_eq!(
            err(&["-flags=abc"]),
            invalid("invalid value \"abc\" for flag -flags: parse error")
        );
        assert_eq!(
            err(&["-flags=18446744073709551616"]),
            invalid("invalid value \"18446744073709551616\" for flag -flags: value out of range")
        );
        assert_eq!(
            err(&["-recurse=maybe"]),
            invalid("invalid boolean value \"maybe\" for -recurse: parse error")
        );
        assert_eq!(err(&["---x"]), invalid("bad flag syntax: ---x"));
        assert_eq!(err(&["-=x"]), invalid("bad flag syntax: -=x"));
        assert_eq!(err(&["-h"]), ParseError::Help);
        assert_eq!(err(&["-help"]), ParseError::Help);
    }

    #[test]
    fn go_uints() {
        assert_eq!(parse_go_uint("0x2a"), Ok(42));
        assert_eq!(parse_go_uint("052"), Ok(42));
        assert_eq!(parse_go_uint("0b101010"), Ok(42));
        assert_eq!(parse_go_uint("1_000"), Ok(1000));
        assert_eq!(parse_go_uint("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_go_uint("-1"), Err("parse error"));
        assert_eq!(parse_go_uint(""), Err("parse error"));
        assert_eq!(parse_go_uint("1__0"), Err("parse error"));
        assert_eq!(parse_go_uint("0"), Ok(0));
    }

    #[test]
    fn repeatable_and_int_flags() {
        let set = FlagSet::new()
            .list("tag", "Tag.")
            .map("meta", "Meta as `key=value`.")
            .int("port", "Port.");
        let m = set
            .parse(&args(&[
                "-tag=a",
                "-tag",
                "b",
                "-meta=k=v=w",
                "-meta",
                "k2=",
                "-meta=k=x",
                "-port=-8",
            ]))
            .unwrap_or_default();
        assert_eq!(m.list("tag"), ["a".to_string(), "b".to_string()]);
        let meta = m.map("meta");
        assert_eq!(meta.get("k").map(String::as_str), Some("x"));
        assert_eq!(meta.get("k2").map(String::as_str), Some(""));
        assert_eq!(m.int("port"), -8);
        assert!(m.list("nope").is_empty());
        assert_eq!(
            set.parse(&args(&["-meta=novalue"])),
            Err(ParseError::Invalid(
                "invalid value \"novalue\" for flag -meta: Missing \"=\" value in argument: novalue"
                    .into()
            ))
        );
        assert_eq!(
            set.parse(&args(&["-port=x"])),
            Err(ParseError::Invalid(
                "invalid value \"x\" for flag -port: parse error".into()
            ))
        );
        assert_eq!(parse_go_int("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(
            parse_go_int("9223372036854775808"),
            Err("value out of range")
        );
        assert_eq!(
            set.go_usage(),
            "Usage:\n  -meta key=value\n    \tMeta as key=value.\n  -port int\n    \tPort.\n  -tag value\n    \tTag.\n"
        );
    }

    #[test]
    fn print_defaults_like_go() {
        let expected = "Usage:\n  -flags uint\n    \tFlags.\n  -http-addr address\n    \tThe address and port.\n  -recurse\n    \tRecurse.\n  -separator string\n    \tSeparator. (default \"/\")\n";
        assert_eq!(set().go_usage(), expected);
    }

    #[test]
    fn consul_help_sections() {
        let help = set().consul_help("\nUsage: consul x\n\n  Does x.\n");
        let expected = "Usage: consul x\n\n  Does x.\n\nHTTP API Options\n\n  -http-addr=<address>\n     The address and port.\n\nCommand Options\n\n  -flags=<uint>\n     Flags.\n\n  -recurse\n     Recurse.\n\n  -separator=<string>\n     Separator.";
        assert_eq!(help, expected);
    }
}
