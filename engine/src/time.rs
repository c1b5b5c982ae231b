//! Wall-clock time: UTC date-times in scenario files (`time.start`, track rows,
//! `landfall_utc`) as seconds since 1970-01-01T00:00Z.

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
    // Four-digit years (ISO 8601 without expansion) also keep the day count in range.
    if !(0..=9999).contains(&y)
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&da)
        || !(0..=23).contains(&hh)
        || !(0..=59).contains(&mm)
        || !(0.0..61.0).contains(&ss)
    {
        return Err(bad());
    }
    Ok(days_from_civil(y, mo, da) as f64 * 86400.0 + (hh * 3600 + mm * 60) as f64 + ss)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_parse() {
        assert_eq!(parse_utc("1970-01-01 00:00").unwrap(), 0.0);
        assert_eq!(
            parse_utc("2018-09-16T06:00:00Z").unwrap(),
            parse_utc("2018-09-16 06:00").unwrap()
        );
        // 2018-09-16 is day 17790 since the epoch.
        assert_eq!(parse_utc("2018-09-16 00:00").unwrap(), 17790.0 * 86400.0);
        assert!(parse_utc("2018-13-01 00:00").is_err());
        assert!(parse_utc("yesterday").is_err());
        // A year that would overflow the day count is refused, not a panic.
        assert!(parse_utc("9223372036854775807-01-01 00:00").is_err());
    }
}
