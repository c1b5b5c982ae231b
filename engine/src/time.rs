//! Wall-clock time: UTC date-times in scenario files (`time.start`, track rows,
//! `landfall_utc`) as seconds since 1970-01-01T00:00Z.
//!
//! The calendar is jiff's (proleptic Gregorian), so an impossible date such as
//! 2018-02-30 is refused instead of rolling over into the next month.

use jiff::civil::{Date, DateTime};
use jiff::tz::Offset;

/// Seconds since 1970-01-01T00:00Z of an ISO 8601 UTC time: `YYYY-MM-DD HH:MM[:SS]`,
/// `T` or space between date and time, optional trailing `Z`.
pub fn parse_utc(s: &str) -> Result<f64, String> {
    let bad = || format!("`{s}` is not a UTC time like 2018-09-16 06:00 or 2018-09-16T06:00:00Z");
    let t = s.trim().trim_end_matches('Z');
    let (date, time) = t.split_once(['T', ' ']).unwrap_or((t, "00:00"));
    let d: Vec<&str> = date.split('-').collect();
    let h: Vec<&str> = time.trim().split(':').collect();
    if d.len() != 3 || !(2..=3).contains(&h.len()) {
        return Err(bad());
    }
    let num = |x: &str| x.parse::<i64>().map_err(|_| bad());
    let (y, mo, da) = (num(d[0])?, num(d[1])?, num(d[2])?);
    let (hh, mm) = (num(h[0])?, num(h[1])?);
    let ss: f64 = match h.get(2) {
        Some(x) => x.parse().map_err(|_| bad())?,
        None => 0.0,
    };
    // Four-digit years (ISO 8601 without expansion); a leap second (:60) is accepted.
    if !(0..=9999).contains(&y)
        || !(1..=12).contains(&mo)
        || !(0..=23).contains(&hh)
        || !(0..=59).contains(&mm)
        || !(0.0..61.0).contains(&ss)
    {
        return Err(bad());
    }
    // The ranges above make these conversions lossless.
    let (y, mo, da_small) = (y as i16, mo as i8, i8::try_from(da).unwrap_or(i8::MAX));
    let days_in_month = Date::new(y, mo, 1).map_err(|_| bad())?.days_in_month();
    if !(1..=i64::from(days_in_month)).contains(&da) {
        return Err(format!(
            "`{s}` is not a date: {y:04}-{mo:02} has {days_in_month} days"
        ));
    }
    let minute = DateTime::new(y, mo, da_small, hh as i8, mm as i8, 0, 0).map_err(|_| bad())?;
    let minute_s = Offset::UTC
        .to_timestamp(minute)
        .map_err(|_| bad())?
        .as_second();
    Ok(minute_s as f64 + ss)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written day count this module used before jiff (H. Hinnant's
    /// algorithm): valid dates must give exactly the seconds they always gave.
    fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    #[test]
    fn utc_times_parse() {
        assert_eq!(parse_utc("1970-01-01 00:00").unwrap(), 0.0);
        assert_eq!(
            parse_utc("2018-09-16T06:00:00Z").unwrap(),
            parse_utc("2018-09-16 06:00").unwrap()
        );
        // 2018-09-16 is day 17790 since the epoch.
        assert_eq!(parse_utc("2018-09-16 00:00").unwrap(), 17790.0 * 86400.0);
        assert_eq!(
            parse_utc("2018-09-16 06:00:30.5").unwrap(),
            17790.0 * 86400.0 + 21630.5
        );
        assert!(parse_utc("2018-13-01 00:00").is_err());
        assert!(parse_utc("yesterday").is_err());
        // A year that would overflow the day count is refused, not a panic.
        assert!(parse_utc("9223372036854775807-01-01 00:00").is_err());
    }

    #[test]
    fn impossible_dates_are_refused_not_rolled_over() {
        for s in [
            "2018-02-30T00:00:00Z",
            "2018-09-31 00:00",
            "2019-02-29 00:00",
            "2018-04-31 12:00",
            "2018-01-00 00:00",
            "2018-01-32 00:00",
            "1900-02-29 00:00",
        ] {
            let e = parse_utc(s).unwrap_err();
            assert!(
                e.contains("is not a date") || e.contains("is not a UTC time"),
                "{s}: {e}"
            );
        }
        assert!(
            parse_utc("2018-09-31 00:00")
                .unwrap_err()
                .contains("has 30 days")
        );
        assert!(parse_utc("2020-02-29 00:00").is_ok());
        assert!(parse_utc("2000-02-29 00:00").is_ok());
    }

    #[test]
    fn valid_dates_give_the_same_seconds_as_the_old_day_count() {
        for y in [0, 1, 1899, 1900, 1969, 1970, 2000, 2018, 2024, 9999] {
            for m in 1..=12 {
                for d in [1, 15, 28] {
                    let s = format!("{y:04}-{m:02}-{d:02} 13:47:09");
                    let old = days_from_civil(y, m, d) as f64 * 86400.0
                        + (13 * 3600 + 47 * 60) as f64
                        + 9.0;
                    assert_eq!(parse_utc(&s).unwrap(), old, "{s}");
                }
            }
        }
    }
}
