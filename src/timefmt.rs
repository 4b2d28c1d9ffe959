//! Parsing of the time values users and CI systems hand us: epoch seconds, RFC 3339 and its
//! close relatives, and durations like `90s`, `20m`, `1h30m`.
//!
//! Hand-written rather than a date crate: we only ever need "text → epoch seconds", and this
//! keeps the dependency tree (and the 2-core build) small.

/// Parses a point in time into epoch seconds.
///
/// Accepts epoch seconds (`1704018030`, also with a fraction, which is truncated), and
/// RFC 3339 / ISO 8601 date-times with `T` or a space between date and time, optional
/// fractional seconds, and `Z`, `±hh:mm`, `±hhmm` or `±hh` (`2026-06-15 13:45:30+00:00`).
/// A date-time without an offset is read as UTC. Errors say what was expected.
pub fn parse_timestamp(text: &str) -> Result<i64, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("expected epoch seconds or an RFC 3339 time, got an empty value".into());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<i64>()
            .map_err(|_| format!("epoch seconds {s:?} are out of range"));
    }
    if let Some((int, frac)) = s.split_once('.') {
        if !int.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && !frac.is_empty()
            && frac.bytes().all(|b| b.is_ascii_digit())
        {
            return int
                .parse::<i64>()
                .map_err(|_| format!("epoch seconds {s:?} are out of range"));
        }
    }
    parse_datetime(s).ok_or_else(|| {
        format!(
            "expected epoch seconds or an RFC 3339 time such as 2024-01-01T12:00:00Z, got {s:?}"
        )
    })
}

fn parse_datetime(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    // YYYY-MM-DD
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut rest = &b[10..];
    let (mut hour, mut minute, mut second) = (0, 0, 0);
    if !rest.is_empty() {
        if !matches!(rest[0], b'T' | b't' | b' ') {
            return None;
        }
        rest = &rest[1..];
        if rest.len() < 5 || rest[2] != b':' {
            return None;
        }
        hour = digits(&rest[0..2])?;
        minute = digits(&rest[3..5])?;
        rest = &rest[5..];
        if rest.first() == Some(&b':') {
            second = digits(rest.get(1..3)?)?;
            rest = &rest[3..];
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        if rest.first() == Some(&b'.') || rest.first() == Some(&b',') {
            let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            rest = &rest[1 + n..];
        }
    }
    let offset = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let (h, m) = match tail {
                [h1, h2] => (digits(&[*h1, *h2])?, 0),
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                    (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?)
                }
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let secs = h * 3600 + m * 60;
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
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

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// 2000-01-01T00:00:00Z: no deployment we report started before it.
pub const EARLIEST: i64 = 946_684_800;

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

/// Formats epoch seconds as RFC 3339 UTC (`2024-01-01T12:00:00Z`), for human output.
pub fn format_rfc3339(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    // civil_from_days
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Parses an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, as in `Retry-After`) into epoch
/// seconds; `None` when it is not one.
pub fn parse_http_date(text: &str) -> Option<i64> {
    let mut parts = text.split_whitespace();
    let _weekday = parts.next()?;
    let day = parts.next()?;
    let month = parts.next()?;
    let year = parts.next()?;
    let time = parts.next()?;
    if parts.next()? != "GMT" {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS.iter().position(|m| *m == month)? + 1;
    parse_datetime(&format!("{year}-{m:02}-{day:0>2}T{time}Z"))
}

/// Parses a duration into whole seconds: `300`, `90s`, `20m`, `1h30m`, `2d`, `1h 30m 15s`.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let s = text.trim();
    let bad =
        || format!("expected whole seconds or a duration such as 90s, 20m or 1h30m, got {text:?}");
    if s.is_empty() {
        return Err(bad());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().map_err(|_| bad());
    }
    let mut total: i64 = 0;
    let mut number: Option<i64> = None;
    let mut last_unit = u8::MAX;
    for c in s.bytes() {
        match c {
            b'0'..=b'9' => {
                let n = number.unwrap_or(0);
                number = Some(
                    n.checked_mul(10)
                        .and_then(|n| n.checked_add(i64::from(c - b'0')))
                        .ok_or_else(bad)?,
                );
            }
            b' ' if number.is_none() => {}
            _ => {
                let (rank, unit) = match c.to_ascii_lowercase() {
                    b'd' => (0, 86_400),
                    b'h' => (1, 3_600),
                    b'm' => (2, 60),
                    b's' => (3, 1),
                    _ => return Err(bad()),
                };
                // Units must come largest first, each once: "30m1h" is more likely a typo.
                if last_unit != u8::MAX && rank <= last_unit {
                    return Err(bad());
                }
                last_unit = rank;
                let n = number.take().ok_or_else(bad)?;
                total = n
                    .checked_mul(unit)
                    .and_then(|v| total.checked_add(v))
                    .ok_or_else(bad)?;
            }
        }
    }
    if number.is_some() {
        return Err(bad());
    }
    Ok(total)
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
