//! One tolerant timestamp parser for every input, and the duration syntax of the policy.
//!
//! Times are kept as epoch seconds (i64): every check is day-granular (AWS truncates
//! `LastAccessedDate` to midnight, IAM records one use per 15 minutes), so sub-second
//! precision only costs memory.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use serde_json::Value;

/// Epoch seconds, UTC.
pub type Secs = i64;

/// One day in [`Secs`].
pub const DAY: i64 = 86_400;

/// Values that mean "no date" in the exports (IAM credential report, Vault, az).
fn is_sentinel(s: &str) -> bool {
    matches!(
        s.to_ascii_lowercase().as_str(),
        "" | "n/a" | "na" | "no_information" | "not_supported" | "null" | "none" | "never" | "-"
    )
}

/// Parses a date string: RFC3339 / ISO 8601 with offset (0-9 fraction digits), naive
/// date-times (read as UTC), plain dates (midnight UTC), epoch numbers, sentinels (None).
pub fn parse_str(s: &str) -> Option<Secs> {
    let s = s.trim();
    if is_sentinel(s) || s.len() > 64 {
        return None;
    }
    if !s.contains(':')
        && !s.get(1..).unwrap_or("").contains('-')
        && let Ok(f) = s.parse::<f64>()
    {
        return from_epoch(f);
    }
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t.as_second());
    }
    // "2024-01-02 03:04:05+00:00" and "... UTC" variants.
    let fixed = s.replacen(' ', "T", 1);
    if let Ok(t) = fixed.parse::<Timestamp>() {
        return Some(t.as_second());
    }
    let naive = fixed
        .trim_end_matches("UTC")
        .trim_end_matches("GMT")
        .trim_end();
    if let Ok(t) = naive.parse::<Timestamp>() {
        return Some(t.as_second());
    }
    if let Ok(dt) = naive.parse::<DateTime>() {
        return TimeZone::UTC.to_timestamp(dt).ok().map(|t| t.as_second());
    }
    if let Ok(d) = s.parse::<Date>() {
        return TimeZone::UTC
            .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
            .ok()
            .map(|t| t.as_second());
    }
    None
}

/// Epoch number in seconds, milliseconds or microseconds (chosen by magnitude).
pub fn from_epoch(f: f64) -> Option<Secs> {
    if !f.is_finite() || f <= 0.0 {
        return None;
    }
    let secs = if f > 1e15 {
        f / 1e6
    } else if f > 1e12 {
        f / 1e3
    } else {
        f
    };
    // Reject what jiff cannot represent (years beyond 9999).
    if secs > 253_402_300_799.0 {
        return None;
    }
    Some(secs.floor() as i64)
}

/// Parses a JSON value holding a date: string, number or null.
pub fn parse_value(v: &Value) -> Option<Secs> {
    match v {
        Value::String(s) => parse_str(s),
        Value::Number(n) => n.as_f64().and_then(from_epoch),
        _ => None,
    }
}

/// RFC3339 rendering, second precision, `Z`.
pub fn fmt(s: Secs) -> String {
    match Timestamp::from_second(s) {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => s.to_string(),
    }
}

/// Date only, for messages.
pub fn fmt_date(s: Secs) -> String {
    match Timestamp::from_second(s) {
        Ok(t) => t.strftime("%Y-%m-%d").to_string(),
        Err(_) => s.to_string(),
    }
}

/// Whole days between two instants (floor), for day-granular comparisons.
pub fn days_between(from: Secs, to: Secs) -> i64 {
    (to - from).div_euclid(DAY)
}

/// Parses a duration: `15m`, `2h30m`, `90d`, `7776000s`, `1w`, ISO 8601 `P90D` / `PT1H` / `P1Y`.
/// Returns seconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    if let Some(rest) = s.strip_prefix('P').or_else(|| s.strip_prefix('p')) {
        return parse_iso_duration(rest);
    }
    if let Ok(n) = s.parse::<i64>() {
        return (n >= 0).then_some(n);
    }
    let mut total: i64 = 0;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let unit = match c {
            's' | 'S' => 1.0,
            'm' => 60.0,
            'h' | 'H' => 3600.0,
            'd' | 'D' => 86_400.0,
            'w' | 'W' => 604_800.0,
            ' ' => continue,
            _ => return None,
        };
        let n: f64 = num.parse().ok()?;
        num.clear();
        total = total.checked_add((n * unit) as i64)?;
    }
    if !num.is_empty() {
        return None;
    }
    Some(total)
}

fn parse_iso_duration(rest: &str) -> Option<i64> {
    let mut total: f64 = 0.0;
    let mut num = String::new();
    let mut in_time = false;
    for c in rest.chars() {
        match c {
            'T' | 't' => in_time = true,
            '0'..='9' | '.' | ',' => num.push(if c == ',' { '.' } else { c }),
            _ => {
                let n: f64 = num.parse().ok()?;
                num.clear();
                let unit = match (c.to_ascii_uppercase(), in_time) {
                    ('Y', false) => 365.0 * 86_400.0,
                    ('M', false) => 30.0 * 86_400.0,
                    ('W', false) => 7.0 * 86_400.0,
                    ('D', false) => 86_400.0,
                    ('H', true) => 3600.0,
                    ('M', true) => 60.0,
                    ('S', true) => 1.0,
                    _ => return None,
                };
                total += n * unit;
            }
        }
    }
    if !num.is_empty() || !total.is_finite() || total > 1e15 {
        return None;
    }
    Some(total as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let want = 1_525_747_253;
        assert_eq!(parse_str("1525747253.72"), Some(want));
        assert_eq!(parse_str("2018-05-08T02:40:53Z"), Some(want));
        assert_eq!(parse_str("2018-05-08T02:40:53.720000Z"), Some(want));
        assert_eq!(parse_str("2018-05-08T02:40:53.123456789Z"), Some(want));
        assert_eq!(parse_str("2018-05-07T19:40:53.720000-07:00"), Some(want));
        assert_eq!(parse_str("2018-05-08T02:40:53+00:00"), Some(want));
        assert_eq!(parse_str("2018-05-08 02:40:53+00:00"), Some(want));
        assert_eq!(parse_str("2018-05-08T02:40:53"), Some(want));
        assert_eq!(parse_str("1525747253720"), Some(want));
        assert_eq!(parse_value(&serde_json::json!(1525747253.72)), Some(want));
        assert_eq!(parse_str("2018-05-08"), Some(want - 9653));
        for s in [
            "N/A",
            "no_information",
            "not_supported",
            "",
            "null",
            "garbage",
            "n/a",
        ] {
            assert_eq!(parse_str(s), None, "{s}");
        }
        assert_eq!(fmt(want), "2018-05-08T02:40:53Z");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m"), Some(900));
        assert_eq!(parse_duration("2h30m"), Some(9000));
        assert_eq!(parse_duration("7776000s"), Some(7_776_000));
        assert_eq!(parse_duration("P90D"), Some(90 * DAY));
        assert_eq!(parse_duration("PT1H"), Some(3600));
        assert_eq!(parse_duration("90x"), None);
    }
}
