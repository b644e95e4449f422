//! Timestamps as Go's `time.Time` writes them in JSON (RFC 3339 with up to nanoseconds, the
//! fraction's trailing zeros dropped, `Z` for a zero offset). The written offset is kept so
//! a value reads back as it was written; comparisons use the instant only.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;
use std::time::Duration;

/// A point in time (seconds and nanoseconds since the Unix epoch) and the UTC offset it is
/// shown in. No clock is read here: callers pass `now` in.
#[derive(Debug, Clone, Copy)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
    offset_min: i16,
}

/// An RFC 3339 text Go's `time.Parse` would reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parsing time {0:?} as \"2006-01-02T15:04:05Z07:00\": cannot parse")]
pub struct TimeError(pub String);

const NANOS_PER_SEC: i128 = 1_000_000_000;
/// Seconds from 0001-01-01 to 1970-01-01: Go's zero `time.Time`.
const GO_ZERO_SECS: i64 = -62_135_596_800;

impl Timestamp {
    /// Go's zero time, `0001-01-01T00:00:00Z` (what Consul prints for an unset `CreateTime`).
    pub const ZERO: Timestamp = Timestamp {
        secs: GO_ZERO_SECS,
        nanos: 0,
        offset_min: 0,
    };

    /// From nanoseconds since the Unix epoch, shown in UTC.
    pub fn from_unix_nanos(nanos: i128) -> Timestamp {
        let secs = nanos.div_euclid(NANOS_PER_SEC);
        let sub = nanos.rem_euclid(NANOS_PER_SEC);
        Timestamp {
            secs: i64::try_from(secs).unwrap_or(if secs < 0 { i64::MIN } else { i64::MAX }),
            nanos: u32::try_from(sub).unwrap_or(0),
            offset_min: 0,
        }
    }

    pub fn unix_nanos(&self) -> i128 {
        i128::from(self.secs) * NANOS_PER_SEC + i128::from(self.nanos)
    }

    pub fn is_zero(&self) -> bool {
        self.secs == GO_ZERO_SECS && self.nanos == 0
    }

    /// The instant `d` later (saturating), in the same offset.
    pub fn add(&self, d: Duration) -> Timestamp {
        let nanos = self.unix_nanos().saturating_add(d.as_nanos() as i128);
        Timestamp {
            offset_min: self.offset_min,
            ..Timestamp::from_unix_nanos(nanos)
        }
    }

    /// Parses `2006-01-02T15:04:05.999999999Z07:00`.
    pub fn parse_rfc3339(text: &str) -> Result<Timestamp, TimeError> {
        parse(text).ok_or_else(|| TimeError(text.to_string()))
    }

    /// Go's `RFC3339Nano` form.
    pub fn to_rfc3339(&self) -> String {
        let local = self.secs + i64::from(self.offset_min) * 60;
        let days = local.div_euclid(86_400);
        let of_day = local.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut out = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            of_day / 3600,
            of_day / 60 % 60,
            of_day % 60
        );
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(frac.trim_end_matches('0'));
        }
        if self.offset_min == 0 {
            out.push('Z');
        } else {
            let sign = if self.offset_min < 0 { '-' } else { '+' };
            let abs = self.offset_min.unsigned_abs();
            out.push_str(&format!("{sign}{:02}:{:02}", abs / 60, abs % 60));
        }
        out
    }
}

impl Default for Timestamp {
    fn default() -> Self {
        Timestamp::ZERO
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        (self.secs, self.nanos) == (other.secs, other.nanos)
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.secs, self.nanos).cmp(&(other.secs, other.nanos))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

fn digits(text: &str, from: usize, len: usize) -> Option<i64> {
    let part = text.get(from..from + len)?;
    if !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

fn parse(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    let sep_ok = b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && matches!(b.get(10), Some(b'T' | b't'))
        && b.get(13) == Some(&b':')
        && b.get(16) == Some(&b':');
    if !sep_ok {
        return None;
    }
    let (y, m, d) = (
        digits(text, 0, 4)?,
        digits(text, 5, 2)?,
        digits(text, 8, 2)?,
    );
    let (hh, mm, ss) = (
        digits(text, 11, 2)?,
        digits(text, 14, 2)?,
        digits(text, 17, 2)?,
    );
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    let mut pos = 19;
    let mut nanos: u32 = 0;
    if b.get(pos) == Some(&b'.') {
        let start = pos + 1;
        let len = b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 || len > 9 {
            return None;
        }
        let frac = u32::try_from(digits(text, start, len)?).ok()?;
        nanos = frac * 10u32.pow(9 - len as u32);
        pos = start + len;
    }
    let offset_min: i16 = match b.get(pos..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (oh, om) = (digits(text, pos + 1, 2)?, digits(text, pos + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let total = i16::try_from(oh * 60 + om).ok()?;
            if *sign == b'-' { -total } else { total }
        }
        _ => return None,
    };
    let local = days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(Timestamp {
        secs: local - i64::from(offset_min) * 60,
        nanos,
        offset_min,
    })
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) {
        let t = Timestamp::parse_rfc3339(text).expect(text);
        assert_eq!(t.to_rfc3339(), text);
    }

    #[test]
    fn go_forms_round_trip() {
        round_trip("2019-04-25T16:30:03.146698-04:00");
        round_trip("2024-02-29T00:00:00Z");
        round_trip("0001-01-01T00:00:00Z");
        round_trip("1969-12-31T23:59:59.999999999Z");
        round_trip("2030-01-02T03:04:05.5+05:30");
    }

    #[test]
    fn instants_compare_across_offsets() {
        let a = Timestamp::parse_rfc3339("2020-01-01T01:00:00+01:00").expect("a");
        let b = Timestamp::parse_rfc3339("2020-01-01T00:00:00Z").expect("b");
        assert_eq!(a, b);
        assert_eq!(b.unix_nanos(), 1_577_836_800 * 1_000_000_000);
        assert!(Timestamp::from_unix_nanos(b.unix_nanos() + 1) > a);
        assert!(Timestamp::ZERO.is_zero());
        assert_eq!(Timestamp::default().to_rfc3339(), "0001-01-01T00:00:00Z");
        let later = b.add(Duration::from_millis(1500));
        assert_eq!(later.to_rfc3339(), "2020-01-01T00:00:01.5Z");
    }

    #[test]
    fn bad_texts_are_rejected() {
        for bad in [
            "",
            "2020-01-01",
            "2020-13-01T00:00:00Z",
            "2021-02-29T00:00:00Z",
            "2020-01-01T24:00:00Z",
            "2020-01-01T00:00:00",
            "2020-01-01T00:00:00.Z",
            "2020-01-01T00:00:00.1234567890Z",
            "2020-01-01T00:00:00+0100",
            "2020-01-01T00:00:00Zjunk",
            "2020-01-01T00:00:+0Z",
        ] {
            assert!(Timestamp::parse_rfc3339(bad).is_err(), "{bad}");
        }
    }
}
