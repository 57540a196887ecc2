//! FILETIME, the time format of NTLM (MS-NLMP 2.2.2.1 `MsvAvTimestamp`,
//! 2.2.2.7 `TimeStamp`; MS-DTYP 2.3.3), and its calendar rendering.
//!
//! The conversions are pure integer arithmetic: they never panic, and a
//! value whose year RFC 3339's four digits cannot hold has no rendering.
//! The crate reads no clock: callers pass the time in.

use alloc::string::String;
use core::fmt;

/// A FILETIME: 100-nanosecond ticks since 1601-01-01T00:00:00Z (MS-DTYP 2.3.3).
///
/// ```
/// use ntlm_wire::FileTime;
///
/// let t = FileTime::from_unix(1_255_039_227, 554_683_400);
/// assert_eq!(t.to_rfc3339().as_deref(), Some("2009-10-08T22:00:27.5546834Z"));
/// assert_eq!(FileTime::UNIX_EPOCH.ticks(), 116_444_736_000_000_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileTime(pub u64);

/// FILETIME ticks per second.
const TICKS_PER_SECOND: u64 = 10_000_000;
/// Seconds per day.
const SECONDS_PER_DAY: i64 = 86_400;
/// Days from 1601-01-01 to 1970-01-01.
const DAYS_1601_TO_1970: i64 = 134_774;
/// RFC 3339 (`date-fullyear = 4DIGIT`) cannot express later years.
const MAX_YEAR: i64 = 9999;

impl FileTime {
    /// 1970-01-01T00:00:00Z, the Unix epoch.
    pub const UNIX_EPOCH: Self = Self(116_444_736_000_000_000);
    /// Ticks per second.
    pub const TICKS_PER_SECOND: u64 = TICKS_PER_SECOND;

    /// The raw tick count.
    pub const fn ticks(self) -> u64 {
        self.0
    }

    /// From seconds and nanoseconds since the Unix epoch (for callers that
    /// read a clock), saturating at the largest FILETIME.
    pub const fn from_unix(seconds: u64, nanos: u32) -> Self {
        Self(
            seconds
                .saturating_mul(TICKS_PER_SECOND)
                .saturating_add(nanos as u64 / 100)
                .saturating_add(Self::UNIX_EPOCH.0),
        )
    }

    /// Ticks from `earlier` to `self`; zero when `earlier` is later.
    pub const fn ticks_since(self, earlier: Self) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// The 8 bytes as they are on the wire (little-endian).
    pub const fn to_le_bytes(self) -> [u8; 8] {
        self.0.to_le_bytes()
    }

    /// From the 8 bytes on the wire (little-endian).
    pub const fn from_le_bytes(b: [u8; 8]) -> Self {
        Self(u64::from_le_bytes(b))
    }

    /// The calendar date and time (UTC); `None` past year 9999.
    pub fn to_datetime(self) -> Option<DateTime> {
        let secs = i64::try_from(self.0 / TICKS_PER_SECOND).ok()?;
        let ticks = u32::try_from(self.0 % TICKS_PER_SECOND).ok()?;
        let unix = secs.checked_sub(DAYS_1601_TO_1970.checked_mul(SECONDS_PER_DAY)?)?;
        let d = DateTime::from_unix(unix, ticks.checked_mul(100)?)?;
        (d.year <= MAX_YEAR).then_some(d)
    }

    /// RFC 3339 in UTC, e.g. `2009-10-08T22:00:27.5546834Z` (see
    /// [`DateTime`]'s `Display`); `None` past year 9999.
    pub fn to_rfc3339(self) -> Option<String> {
        self.to_datetime().map(|d| alloc::format!("{d}"))
    }
}

impl From<u64> for FileTime {
    fn from(ticks: u64) -> Self {
        Self(ticks)
    }
}

/// A UTC instant split into proleptic Gregorian calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Year (1601..=9999 from a [`FileTime`]).
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
    /// From seconds since the Unix epoch (negative before it) and
    /// nanoseconds (`0..1_000_000_000`; more is carried into the seconds);
    /// `None` only when the arithmetic would overflow.
    pub fn from_unix(seconds: i64, nanos: u32) -> Option<Self> {
        let seconds = seconds.checked_add(i64::from(nanos / 1_000_000_000))?;
        let nanos = nanos % 1_000_000_000;
        let days = seconds.div_euclid(SECONDS_PER_DAY);
        let sod = seconds.rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days)?;
        Some(Self {
            year,
            month,
            day,
            hour: u8::try_from(sod / 3600).ok()?,
            minute: u8::try_from(sod % 3600 / 60).ok()?,
            second: u8::try_from(sod % 60).ok()?,
            ticks: nanos / 100,
        })
    }

    /// Microseconds within the second.
    pub const fn micros(&self) -> u32 {
        self.ticks / 10
    }
}

/// RFC 3339 in UTC, e.g. `2009-10-08T22:00:27.5546834Z`: the fraction is
/// omitted when zero and printed without trailing zeros otherwise.
impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )?;
        if self.ticks != 0 {
            let mut frac = self.ticks;
            let mut digits = 7;
            while frac % 10 == 0 {
                frac /= 10;
                digits -= 1;
            }
            write!(f, ".{frac:0digits$}")?;
        }
        f.write_str("Z")
    }
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
    let year = era
        .checked_mul(400)?
        .checked_add(yoe)?
        .checked_add(i64::from(month <= 2))?;
    Some((year, u8::try_from(month).ok()?, u8::try_from(day).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc(ticks: u64) -> Option<String> {
        FileTime(ticks).to_rfc3339()
    }

    #[test]
    fn epoch_is_1601() {
        assert_eq!(rfc(0).unwrap(), "1601-01-01T00:00:00Z");
    }

    #[test]
    fn unix_epoch() {
        assert_eq!(
            rfc(116_444_736_000_000_000).unwrap(),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(FileTime::from_unix(0, 0), FileTime::UNIX_EPOCH);
        assert_eq!(
            FileTime::from_unix(1, 250),
            FileTime(116_444_736_010_000_002)
        );
    }

    #[test]
    fn keeps_sub_second_ticks() {
        // 2009-10-08T22:00:27.5546834Z (a Windows 7 MsvAvTimestamp).
        let ft = 116_444_736_000_000_000 + 1_255_039_227 * 10_000_000 + 5_546_834;
        assert_eq!(rfc(ft).unwrap(), "2009-10-08T22:00:27.5546834Z");
        assert_eq!(
            rfc(116_444_736_000_000_000 + 5_000_000).unwrap(),
            "1970-01-01T00:00:00.5Z"
        );
        assert_eq!(
            rfc(116_444_736_000_000_000 + 10).unwrap(),
            "1970-01-01T00:00:00.000001Z"
        );
    }

    #[test]
    fn leap_days() {
        // 2000-02-29T12:34:56Z = 951827696 s after the Unix epoch.
        let ft = 116_444_736_000_000_000 + 951_827_696 * 10_000_000;
        assert_eq!(rfc(ft).unwrap(), "2000-02-29T12:34:56Z");
        // 1700 is not a leap year: 1700-03-01 follows 1700-02-28.
        let d = FileTime(36_218 * 86_400 * 10_000_000)
            .to_datetime()
            .unwrap();
        assert_eq!((d.year, d.month, d.day), (1700, 3, 1));
    }

    #[test]
    fn last_representable_instant() {
        // 9999-12-31T23:59:59.9999999Z
        let ft = 2_650_467_743_999_999_999;
        assert_eq!(rfc(ft).unwrap(), "9999-12-31T23:59:59.9999999Z");
        assert_eq!(rfc(ft + 1), None);
    }

    #[test]
    fn out_of_range_never_panics() {
        for ft in [u64::MAX, u64::MAX / 2, u64::MAX - 1, 1 << 63] {
            assert_eq!(rfc(ft), None);
        }
        assert_eq!(
            FileTime::from_unix(u64::MAX, 999_999_999),
            FileTime(u64::MAX)
        );
        assert!(DateTime::from_unix(i64::MAX, 1_999_999_999).is_none());
        assert!(DateTime::from_unix(i64::MIN, 0).is_some());
    }

    #[test]
    fn unix_times_before_1970() {
        let d = DateTime::from_unix(-1, 1_500_000_000).unwrap();
        assert_eq!(alloc::format!("{d}"), "1970-01-01T00:00:00.5Z");
        let d = DateTime::from_unix(-86_400, 0).unwrap();
        assert_eq!(alloc::format!("{d}"), "1969-12-31T00:00:00Z");
        assert_eq!(d.micros(), 0);
    }

    #[test]
    fn ages() {
        assert_eq!(FileTime(10).ticks_since(FileTime(4)), 6);
        assert_eq!(FileTime(4).ticks_since(FileTime(10)), 0);
        let b = FileTime(0x0102_0304_0506_0708).to_le_bytes();
        assert_eq!(FileTime::from_le_bytes(b), FileTime(0x0102_0304_0506_0708));
    }
}
