//! FILETIME values (MS-NLMP 2.2.2.1 `MsvAvTimestamp`, 2.2.2.7 `TimeStamp`)
//! rendered as RFC 3339 date-times.
//!
//! A FILETIME counts 100-nanosecond intervals since 1601-01-01T00:00:00Z
//! ([MS-DTYP] 2.3.3). The conversion is pure integer arithmetic: it never
//! panics and reports values whose year does not fit RFC 3339's four digits.

use core::fmt::Write as _;

/// FILETIME ticks per second.
const TICKS_PER_SECOND: u64 = 10_000_000;
/// Seconds per day.
const SECONDS_PER_DAY: u64 = 86_400;
/// Days from 1601-01-01 to 1970-01-01.
const DAYS_1601_TO_1970: i64 = 134_774;
/// RFC 3339 (`date-fullyear = 4DIGIT`) cannot express later years.
const MAX_YEAR: i64 = 9999;

/// A FILETIME split into calendar fields (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Year (1601..=9999).
    pub year: i64,
    /// Month (1..=12).
    pub month: u8,
    /// Day of the month (1..=31).
    pub day: u8,
    /// Hour (0..=23).
    pub hour: u8,
    /// Minute (0..=59).
    pub minute: u8,
    /// Second (0..=59).
    pub second: u8,
    /// Sub-second part in 100-nanosecond ticks (0..10_000_000).
    pub ticks: u32,
}

impl DateTime {
    /// Splits a FILETIME; `None` when its year is past 9999 (RFC 3339 limit).
    pub fn from_filetime(filetime: u64) -> Option<Self> {
        let secs = filetime / TICKS_PER_SECOND;
        let ticks = u32::try_from(filetime % TICKS_PER_SECOND).ok()?;
        let days = i64::try_from(secs / SECONDS_PER_DAY).ok()?;
        let sod = secs % SECONDS_PER_DAY;
        let (year, month, day) = civil_from_days(days.checked_sub(DAYS_1601_TO_1970)?)?;
        if year > MAX_YEAR {
            return None;
        }
        Some(Self {
            year,
            month,
            day,
            hour: u8::try_from(sod / 3600).ok()?,
            minute: u8::try_from(sod % 3600 / 60).ok()?,
            second: u8::try_from(sod % 60).ok()?,
            ticks,
        })
    }

    /// RFC 3339 in UTC, e.g. `2009-10-08T22:00:27.5546834Z`; the fraction
    /// is omitted when zero and printed without trailing zeros otherwise.
    pub fn to_rfc3339(&self) -> String {
        let mut s = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        if self.ticks != 0 {
            let frac = format!("{:07}", self.ticks);
            let _ = write!(s, ".{}", frac.trim_end_matches('0'));
        }
        s.push('Z');
        s
    }
}

/// Formats a FILETIME as RFC 3339, or `None` when it lies past year 9999.
pub fn to_rfc3339(filetime: u64) -> Option<String> {
    DateTime::from_filetime(filetime).map(|d| d.to_rfc3339())
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
///
/// Howard Hinnant's `civil_from_days`, in checked arithmetic.
fn civil_from_days(days: i64) -> Option<(i64, u8, u8)> {
    let z = days.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = era.checked_mul(400)?.checked_add(yoe)? + i64::from(month <= 2);
    Some((year, u8::try_from(month).ok()?, u8::try_from(day).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_is_1601() {
        assert_eq!(to_rfc3339(0).unwrap(), "1601-01-01T00:00:00Z");
    }

    #[test]
    fn unix_epoch() {
        assert_eq!(
            to_rfc3339(116_444_736_000_000_000).unwrap(),
            "1970-01-01T00:00:00Z"
        );
    }

    #[test]
    fn keeps_sub_second_ticks() {
        // 2009-10-08T22:00:27.5546834Z (a Windows 7 MsvAvTimestamp).
        let ft = 116_444_736_000_000_000 + 1_255_039_227 * 10_000_000 + 5_546_834;
        assert_eq!(to_rfc3339(ft).unwrap(), "2009-10-08T22:00:27.5546834Z");
        assert_eq!(
            to_rfc3339(116_444_736_000_000_000 + 5_000_000).unwrap(),
            "1970-01-01T00:00:00.5Z"
        );
    }

    #[test]
    fn leap_days() {
        // 2000-02-29T12:34:56Z = 951827696 s after the Unix epoch.
        let ft = 116_444_736_000_000_000 + 951_827_696 * 10_000_000;
        assert_eq!(to_rfc3339(ft).unwrap(), "2000-02-29T12:34:56Z");
        // 1700 is not a leap year: 1700-03-01 follows 1700-02-28.
        let d = DateTime::from_filetime(36_218 * 86_400 * 10_000_000).unwrap();
        assert_eq!((d.year, d.month, d.day), (1700, 3, 1));
    }

    #[test]
    fn last_representable_instant() {
        // 9999-12-31T23:59:59.9999999Z
        let ft = 2_650_467_743_999_999_999;
        assert_eq!(to_rfc3339(ft).unwrap(), "9999-12-31T23:59:59.9999999Z");
        assert_eq!(to_rfc3339(ft + 1), None);
    }

    #[test]
    fn out_of_range_never_panics() {
        assert_eq!(to_rfc3339(u64::MAX), None);
        for ft in [u64::MAX / 2, u64::MAX - 1, 1 << 63] {
            assert_eq!(to_rfc3339(ft), None);
        }
    }
}
