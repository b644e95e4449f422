//! Go `time.Duration` parsing and formatting (`time.ParseDuration` and
//! `Duration.String()`), so config values and API output look like Consul's.

use std::time::Duration;

/// A duration string that Go's `time.ParseDuration` would reject; the message
/// uses Go's wording (`time: invalid duration "abc"`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(pub String);

const NS_PER_US: u128 = 1_000;
const NS_PER_MS: u128 = 1_000_000;
const NS_PER_S: u128 = 1_000_000_000;
/// Go durations are int64 nanoseconds.
const MAX_NANOS: u128 = i64::MAX as u128;

fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => NS_PER_US,
        "ms" => NS_PER_MS,
        "s" => NS_PER_S,
        "m" => 60 * NS_PER_S,
        "h" => 3600 * NS_PER_S,
        _ => return None,
    })
}

fn quote(s: &str) -> String {
    format!("{s:?}")
}

/// Parses a Go duration string such as `"300ms"`, `"1.5h"`, `"2h45m"` or `"0"`.
///
/// Negative durations are rejected (a `std::time::Duration` cannot hold them),
/// except `-0`.
pub fn parse_go_duration(s: &str) -> Result<Duration, DurationError> {
    let invalid = || DurationError(format!("time: invalid duration {}", quote(s)));
    let (negative, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let (value, after) = parse_component(rest, s)?;
        total = total.checked_add(value).ok_or_else(invalid)?;
        if total > MAX_NANOS {
            return Err(invalid());
        }
        rest = after;
    }
    if negative && total > 0 {
        return Err(DurationError(format!(
            "time: negative duration {} not allowed",
            quote(s)
        )));
    }
    let secs = u64::try_from(total / NS_PER_S).map_err(|_| invalid())?;
    let nanos = u32::try_from(total % NS_PER_S).map_err(|_| invalid())?;
    Ok(Duration::new(secs, nanos))
}

/// Parses one `<number><unit>` component; returns its nanoseconds and the rest.
fn parse_component<'a>(rest: &'a str, whole: &str) -> Result<(u128, &'a str), DurationError> {
    let invalid = || DurationError(format!("time: invalid duration {}", quote(whole)));
    let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let int_part = &rest[..int_len];
    let mut after = &rest[int_len..];
    let mut frac_part = "";
    if let Some(stripped) = after.strip_prefix('.') {
        let frac_len = stripped.bytes().take_while(u8::is_ascii_digit).count();
        frac_part = &stripped[..frac_len];
        after = &stripped[frac_len..];
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(invalid());
    }
    let unit_len = after
        .char_indices()
        .find(|(_, c)| *c == '.' || c.is_ascii_digit())
        .map_or(after.len(), |(i, _)| i);
    let unit = &after[..unit_len];
    if unit.is_empty() {
        return Err(DurationError(format!(
            "time: missing unit in duration {}",
            quote(whole)
        )));
    }
    let scale = unit_nanos(unit).ok_or_else(|| {
        DurationError(format!(
            "time: unknown unit {} in duration {}",
            quote(unit),
            quote(whole)
        ))
    })?;
    let int_value: u128 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().map_err(|_| invalid())?
    };
    let mut value = int_value.checked_mul(scale).ok_or_else(invalid)?;
    // Like Go, digits beyond what can matter are dropped.
    let frac_digits = &frac_part[..frac_part.len().min(20)];
    if !frac_digits.is_empty() {
        let frac: u128 = frac_digits.parse().map_err(|_| invalid())?;
        let denom = 10u128.pow(u32::try_from(frac_digits.len()).map_err(|_| invalid())?);
        value = value
            .checked_add(frac.saturating_mul(scale) / denom)
            .ok_or_else(invalid)?;
    }
    Ok((value, &after[unit_len..]))
}

/// Formats `value / 10^prec` with trailing fractional zeros removed.
fn fmt_frac(value: u128, prec: u32) -> String {
    let div = 10u128.pow(prec);
    let int = value / div;
    let frac = value % div;
    if frac == 0 {
        return int.to_string();
    }
    let digits = format!("{frac:0width$}", width = prec as usize);
    format!("{int}.{}", digits.trim_end_matches('0'))
}

/// Formats like Go's `time.Duration.String()`: `"0s"`, `"1.5s"`, `"1m30s"`,
/// `"500ms"`, `"1h0m0s"`, `"10µs"`.
pub fn format_go_duration(d: Duration) -> String {
    let u = d.as_nanos();
    if u < NS_PER_S {
        return match u {
            0 => "0s".to_string(),
            n if n < NS_PER_US => format!("{n}ns"),
            n if n < NS_PER_MS => format!("{}\u{b5}s", fmt_frac(n, 3)),
            n => format!("{}ms", fmt_frac(n, 6)),
        };
    }
    let secs = fmt_frac(u % (60 * NS_PER_S), 9);
    let mins = u / (60 * NS_PER_S);
    if mins == 0 {
        return format!("{secs}s");
    }
    let hours = mins / 60;
    if hours == 0 {
        return format!("{}m{secs}s", mins % 60);
    }
    format!("{hours}h{}m{secs}s", mins % 60)
}

/// Short names for the two conversions, as the rest of the code base uses them.
pub fn parse(s: &str) -> Result<Duration, DurationError> {
    parse_go_duration(s)
}

pub fn format(d: Duration) -> String {
    format_go_duration(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Duration {
        match parse_go_duration(s) {
            Ok(d) => d,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn parses_simple_units() {
        assert_eq!(p("0"), Duration::ZERO);
        assert_eq!(p("0s"), Duration::ZERO);
        assert_eq!(p("-0"), Duration::ZERO);
        assert_eq!(p("+5s"), Duration::from_secs(5));
        assert_eq!(p("1ns"), Duration::from_nanos(1));
        assert_eq!(p("1us"), Duration::from_micros(1));
        assert_eq!(p("1\u{b5}s"), Duration::from_micros(1));
        assert_eq!(p("1\u{3bc}s"), Duration::from_micros(1));
        assert_eq!(p("300ms"), Duration::from_millis(300));
        assert_eq!(p("30s"), Duration::from_secs(30));
        assert_eq!(p("5m"), Duration::from_secs(300));
        assert_eq!(p("72h"), Duration::from_secs(72 * 3600));
    }

    #[test]
    fn parses_fractions_and_compounds() {
        assert_eq!(p("1.5s"), Duration::from_millis(1500));
        assert_eq!(p(".5s"), Duration::from_millis(500));
        assert_eq!(p("1.s"), Duration::from_secs(1));
        assert_eq!(p("0.001s"), Duration::from_millis(1));
        assert_eq!(p("1.5h"), Duration::from_secs(5400));
        assert_eq!(p("2h45m"), Duration::from_secs(2 * 3600 + 45 * 60));
        assert_eq!(p("1h2m3s4ms5us6ns"), Duration::new(3723, 4_005_006));
        assert_eq!(p("87600h"), Duration::from_secs(87600 * 3600));
    }

    #[test]
    fn rejects_bad_input_with_go_messages() {
        let err = |s: &str| match parse_go_duration(s) {
            Ok(d) => panic!("{s} parsed as {d:?}"),
            Err(e) => e.to_string(),
        };
        assert_eq!(err(""), r#"time: invalid duration """#);
        assert_eq!(err("abc"), r#"time: invalid duration "abc""#);
        assert_eq!(err("1"), r#"time: missing unit in duration "1""#);
        assert_eq!(err("30"), r#"time: missing unit in duration "30""#);
        assert_eq!(err("1x"), r#"time: unknown unit "x" in duration "1x""#);
        assert_eq!(
            err("1sec"),
            r#"time: unknown unit "sec" in duration "1sec""#
        );
        assert_eq!(err("."), r#"time: invalid duration ".""#);
        assert_eq!(err("-"), r#"time: invalid duration "-""#);
        assert_eq!(err("s"), r#"time: invalid duration "s""#);
        assert!(err("-5s").contains("negative"));
        assert_eq!(
            err("9999999999999h"),
            r#"time: invalid duration "9999999999999h""#
        );
    }

    #[test]
    fn formats_like_go() {
        let f = format_go_duration;
        assert_eq!(f(Duration::ZERO), "0s");
        assert_eq!(f(Duration::from_nanos(1)), "1ns");
        assert_eq!(f(Duration::from_nanos(999)), "999ns");
        assert_eq!(f(Duration::from_micros(10)), "10\u{b5}s");
        assert_eq!(f(Duration::from_nanos(1500)), "1.5\u{b5}s");
        assert_eq!(f(Duration::from_millis(500)), "500ms");
        assert_eq!(f(Duration::from_micros(1500)), "1.5ms");
        assert_eq!(f(Duration::from_millis(1500)), "1.5s");
        assert_eq!(f(Duration::from_secs(10)), "10s");
        assert_eq!(f(Duration::from_secs(90)), "1m30s");
        assert_eq!(f(Duration::from_secs(300)), "5m0s");
        assert_eq!(f(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(f(Duration::from_secs(86400)), "24h0m0s");
        assert_eq!(f(Duration::from_secs(72 * 3600)), "72h0m0s");
        assert_eq!(f(Duration::new(3723, 4_005_006)), "1h2m3.004005006s");
        assert_eq!(f(Duration::from_millis(100)), "100ms");
    }

    #[test]
    fn round_trips() {
        for s in [
            "0s",
            "1ns",
            "10\u{b5}s",
            "1.5ms",
            "500ms",
            "1.5s",
            "59s",
            "1m30s",
            "5m0s",
            "1h0m0s",
            "24h0m0s",
            "72h0m0s",
            "87600h0m0s",
            "1h2m3.004005006s",
            "2562047h47m16.854775807s",
        ] {
            assert_eq!(format_go_duration(p(s)), s, "round trip of {s}");
        }
        for nanos in [
            0u64,
            1,
            999,
            1000,
            1_000_001,
            59_999_999_999,
            3_600_000_000_001,
        ] {
            let d = Duration::from_nanos(nanos);
            assert_eq!(p(&format_go_duration(d)), d);
        }
    }
}

/// A duration in a JSON body: Go duration string or integer nanoseconds on input (Consul's
/// `DurationFixer` accepts both); Go's `Duration.String()` on output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct GoDuration(pub Duration);

impl GoDuration {
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }
}

impl serde::Serialize for GoDuration {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(self.0))
    }
}

impl<'de> serde::Deserialize<'de> for GoDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(text) if text.is_empty() => Ok(GoDuration::default()),
            serde_json::Value::String(text) => parse(&text)
                .map(GoDuration)
                .map_err(|e| D::Error::custom(e.to_string())),
            serde_json::Value::Number(n) => n
                .as_u64()
                .map(|ns| GoDuration(Duration::from_nanos(ns)))
                .ok_or_else(|| D::Error::custom(format!("invalid duration {n}"))),
            serde_json::Value::Null => Ok(GoDuration::default()),
            other => Err(D::Error::custom(format!("invalid duration {other}"))),
        }
    }
}
