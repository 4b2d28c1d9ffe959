//! The time values users and CI systems hand us: epoch seconds, RFC 3339 and its close
//! relatives, HTTP dates, and durations like `90s`, `20m`, `1h30m`, read with `jiff` (its
//! timestamp parser and its "friendly" duration format). What is ours here is only the policy:
//! which forms we accept, that a date-time without an offset is UTC, and what is plausible.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Span, SpanRelativeTo, Timestamp};

/// Parses a point in time into epoch seconds.
///
/// Accepts epoch seconds (`1704018030`, also with a fraction, which is truncated), and
/// RFC 3339 / ISO 8601 date-times with `T` or a space between date and time, optional
/// fractional seconds, and `Z`, `±hh:mm`, `±hhmm` or `±hh` (`2026-06-15 13:45:30+00:00`).
/// A date-time without an offset, or a date alone, is read as UTC. Errors say what was
/// expected.
pub fn parse_timestamp(text: &str) -> Result<i64, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("expected epoch seconds or an RFC 3339 time, got an empty value".into());
    }
    if let Some(epoch) = epoch_seconds(s) {
        return epoch.ok_or_else(|| format!("epoch seconds {s:?} are out of range"));
    }
    parse_datetime(s).ok_or_else(|| {
        format!(
            "expected epoch seconds or an RFC 3339 time such as 2024-01-01T12:00:00Z, got {s:?}"
        )
    })
}

/// `Some` when `s` is digits, optionally with a fraction (truncated); the inner `None` when
/// they do not fit.
fn epoch_seconds(s: &str) -> Option<Option<i64>> {
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let int = match s.split_once('.') {
        Some((int, frac)) if digits(int) && digits(frac) => int,
        None if digits(s) => s,
        _ => return None,
    };
    Some(int.parse::<i64>().ok())
}

fn parse_datetime(s: &str) -> Option<i64> {
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Some(whole_seconds(ts));
    }
    // No offset: UTC.
    let civil = s
        .parse::<DateTime>()
        .ok()
        .or_else(|| s.parse::<Date>().ok().map(|d| d.at(0, 0, 0, 0)))?;
    TimeZone::UTC.to_timestamp(civil).ok().map(whole_seconds)
}

/// The written seconds without their fraction (`…:59.123` is `…:59`), before 1970 too.
fn whole_seconds(ts: Timestamp) -> i64 {
    if ts.subsec_nanosecond() < 0 {
        ts.as_second() - 1
    } else {
        ts.as_second()
    }
}

/// 2000-01-01T00:00:00Z: no deployment we report started before it.
pub const EARLIEST: i64 = 946_684_800;

/// Now, in epoch seconds.
pub fn now_epoch() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Whether `t` is a plausible start of a job reported at `now`: not before 2000-01-01 and at most
/// a day ahead (clocks drift; a year 0000 or a millisecond value read as seconds does not).
pub fn check_sane(t: i64, now: i64) -> Result<(), String> {
    if t < EARLIEST {
        return Err(format!(
            "{} is before 2000-01-01: not a plausible time for a job",
            format_rfc3339(t)
        ));
    }
    if t > now + 86_400 {
        return Err(format!(
            "{} is more than a day in the future",
            format_rfc3339(t)
        ));
    }
    Ok(())
}

/// Formats epoch seconds as RFC 3339 UTC (`2024-01-01T12:00:00Z`), for human output; a value
/// outside the years -9999..=9999 says so.
pub fn format_rfc3339(epoch: i64) -> String {
    match Timestamp::from_second(epoch) {
        Ok(ts) => ts.to_string(),
        Err(_) if epoch < 0 => format!("epoch {epoch}, before -009999-01-01T00:00:00Z"),
        Err(_) => format!("epoch {epoch}, after 9999-12-31T23:59:59Z"),
    }
}

/// Parses an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, as in `Retry-After`) into epoch
/// seconds; `None` when it is not one (HTTP dates are always in GMT).
pub fn parse_http_date(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.ends_with(" GMT") {
        return None;
    }
    // The weekday is redundant; a wrong one does not make the date unreadable.
    let date = text.split_once(", ").map_or(text, |(_, rest)| rest);
    jiff::fmt::rfc2822::parse(date)
        .ok()
        .map(|z| z.timestamp().as_second())
}

/// Parses a duration into whole seconds: `300`, `90s`, `20m`, `1h30m`, `2d`, `1h 30m 15s`
/// (jiff's friendly format in its compact units `d`, `h`, `m`, `s`, each once, largest first; a
/// day is 24 hours). Fractions, signs and spelled-out units are refused: SPEC.md's durations
/// are whole, non-negative seconds written the short way.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let s = text.trim().to_ascii_lowercase();
    let s = s.as_str();
    let bad =
        || format!("expected whole seconds or a duration such as 90s, 20m or 1h30m, got {text:?}");
    let compact = |c: char| c.is_ascii_digit() || matches!(c, 'd' | 'h' | 'm' | 's' | ' ');
    if s.is_empty() || !s.chars().all(compact) {
        return Err(bad());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().map_err(|_| bad());
    }
    let span: Span = jiff::fmt::friendly::SpanParser::new()
        .parse_span(s)
        .map_err(|_| bad())?;
    let duration = span
        .to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|_| bad())?;
    Ok(duration.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1704018030"), Ok(1_704_018_030));
        assert_eq!(parse_timestamp("1704018030.75"), Ok(1_704_018_030));
        assert_eq!(parse_timestamp("2023-12-31T10:20:30Z"), Ok(1_704_018_030));
        assert_eq!(
            parse_timestamp("2023-12-31T10:20:30.123Z"),
            Ok(1_704_018_030)
        );
        assert_eq!(
            parse_timestamp("2023-12-31T12:20:30+02:00"),
            Ok(1_704_018_030)
        );
        assert_eq!(
            parse_timestamp("2023-12-31 05:20:30-0500"),
            Ok(1_704_018_030)
        );
        assert_eq!(
            parse_timestamp("2026-06-15 13:45:30+00:00"),
            Ok(1_781_531_130)
        );
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_timestamp("2024-02-29T00:00:00Z"), Ok(1_709_164_800));
        for bad in [
            "",
            "yesterday",
            "2023-02-29T00:00:00Z",
            "2023-12-31T25:00:00Z",
            "12:00",
            "2023-12-31T10:20:30+2",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn rfc3339_round_trip() {
        for t in [0, 1_704_018_030, 1_709_164_800, 4_102_444_800, -86_400] {
            assert_eq!(parse_timestamp(&format_rfc3339(t)), Ok(t));
        }
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date("Sun, 31 Dec 2023 10:20:30 GMT"),
            Some(1_704_018_030)
        );
        assert_eq!(parse_http_date("Sun, 31 Dec 2023 10:20:30 PST"), None);
        assert_eq!(parse_http_date("soon"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("300"), Ok(300));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("20m"), Ok(1200));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("1h 30m 15s"), Ok(5415));
        assert_eq!(parse_duration("2d"), Ok(172_800));
        assert_eq!(parse_duration("1H30M"), Ok(5400));
        for bad in [
            "",
            "-5",
            "1.5h",
            "m",
            "10x",
            "30m1h",
            "1h1h",
            "99999999999999999999",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should not parse");
        }
    }
}
