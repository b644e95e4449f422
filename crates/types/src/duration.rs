//! Go `time.Duration` strings: parsing (`"1m30s"`, `"500ms"`, `"1.5h"`) and formatting in Go's
//! `Duration.String()` style (`"0s"`, `"1m30s"`, `"24h0m0s"`), which Consul puts in its JSON.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("time: invalid duration \"{0}\"")]
pub struct DurationError(pub String);

const UNITS: [(&str, f64); 8] = [
    ("ns", 1.0),
    ("us", 1e3),
    ("µs", 1e3),
    ("μs", 1e3),
    ("ms", 1e6),
    ("s", 1e9),
    ("m", 60e9),
    ("h", 3600e9),
];

/// Parses a Go duration string. Negative durations are rejected (Consul never wants them).
pub fn parse(input: &str) -> Result<Duration, DurationError> {
    let err = || DurationError(input.to_string());
    let s = input.strip_prefix('+').unwrap_or(input);
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() || s.starts_with('-') {
        return Err(err());
    }
    let mut rest = s;
    let mut total_ns: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(err());
        }
        let number: f64 = rest[..num_len].parse().map_err(|_| err())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let scale = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, scale)| *scale)
            .ok_or_else(err)?;
        total_ns += number * scale;
        rest = &rest[unit_len..];
    }
    if !total_ns.is_finite() || total_ns > u64::MAX as f64 {
        return Err(err());
    }
    Ok(Duration::from_nanos(total_ns.round() as u64))
}

/// Formats like Go's `time.Duration.String()`.
pub fn format(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".to_string();
    }
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{}µs", trim_fraction(ns, 1_000));
    }
    if ns < 1_000_000_000 {
        return format!("{}ms", trim_fraction(ns, 1_000_000));
    }
    let total_secs = ns / 1_000_000_000;
    let frac_ns = ns % 1_000_000_000;
    let hours = total_secs / 3600;
    let minutes = (total_secs % 3600) / 60;
    let secs = total_secs % 60;
    let secs_text = trim_fraction(
        u128::from(secs as u64) * 1_000_000_000 + frac_ns,
        1_000_000_000,
    );
    if hours > 0 {
        format!("{hours}h{minutes}m{secs_text}s")
    } else if minutes > 0 {
        format!("{minutes}m{secs_text}s")
    } else {
        format!("{secs_text}s")
    }
}

/// `value / unit` with the fraction printed without trailing zeros, as Go does.
fn trim_fraction(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let frac = value % unit;
    if frac == 0 {
        return whole.to_string();
    }
    let width = unit.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_forms() {
        assert_eq!(parse("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("0.001s"), Ok(Duration::from_millis(1)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("15µs"), Ok(Duration::from_micros(15)));
        for bad in ["", "10", "s", "-1s", "1x", "1.2.3s", "ms10"] {
            assert!(parse(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn formats_like_go() {
        let cases = [
            (Duration::ZERO, "0s"),
            (Duration::from_secs(10), "10s"),
            (Duration::from_secs(90), "1m30s"),
            (Duration::from_secs(86400), "24h0m0s"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::from_millis(500), "500ms"),
            (Duration::from_micros(10), "10µs"),
            (Duration::from_nanos(7), "7ns"),
            (Duration::from_secs(3600), "1h0m0s"),
        ];
        for (d, text) in cases {
            assert_eq!(format(d), text);
            assert_eq!(parse(text), Ok(d));
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
