//! The virtual clock every vendor, job and callback reads.
//!
//! Real time by default; frozen or scaled on request. Time never goes back: setting or advancing to an
//! earlier instant is refused. All instants are unix milliseconds (`i64`); the control plane shows seconds.

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Why a clock change was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClockError {
    /// The requested instant lies before the clock's current time.
    #[error("time never goes back: requested {requested_ms} ms is before now {now_ms} ms")]
    Backwards {
        /// what was asked for
        requested_ms: i64,
        /// where the clock stood
        now_ms: i64,
    },
    /// The scale is not a finite positive number up to [`MAX_SCALE`].
    #[error("scale must be a finite number > 0 and <= {MAX_SCALE}, got {0}")]
    BadScale(f64),
}

/// The fastest scale (virtual seconds per wall second): beyond it virtual milliseconds overflow.
pub const MAX_SCALE: f64 = 1_000_000.0;

/// The latest representable virtual instant: 9999-12-31 23:59:59 UTC. Every time a user can give (fixtures,
/// clock changes, state dumps) is checked against it, so no job or calendar arithmetic can overflow.
pub const MAX_TIME_MS: i64 = 253_402_300_799_000;

/// [`MAX_TIME_MS`] in seconds.
pub const MAX_TIME_S: i64 = MAX_TIME_MS / 1000;

#[derive(Debug)]
struct Anchor {
    virtual_ms: i64,
    wall: Instant,
    scale: f64,
    frozen: bool,
}

/// A serialisable reading of the clock, as the control plane and state dumps show it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct ClockReading {
    /// virtual unix time in milliseconds
    pub now_ms: i64,
    /// whether time stands still until advanced
    pub frozen: bool,
    /// virtual seconds per wall second when not frozen
    pub scale: f64,
}

/// The virtual clock.
#[derive(Debug)]
pub struct Clock {
    anchor: RwLock<Anchor>,
}

/// Wall-clock unix milliseconds (used only to start the virtual clock and stamp journal entries).
pub fn wall_now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl Clock {
    /// A clock reading `start_ms` now.
    pub fn new(start_ms: i64, frozen: bool, scale: f64) -> Self {
        Clock {
            anchor: RwLock::new(Anchor {
                virtual_ms: start_ms,
                wall: Instant::now(),
                scale: if scale.is_finite() && scale > 0.0 { scale.min(MAX_SCALE) } else { 1.0 },
                frozen,
            }),
        }
    }

    fn now_locked(a: &Anchor) -> i64 {
        if a.frozen {
            a.virtual_ms
        } else {
            let elapsed = a.wall.elapsed().as_secs_f64() * 1000.0 * a.scale;
            // Saturating: a clock left running long enough stops at the end of representable time.
            a.virtual_ms.saturating_add(elapsed as i64).min(MAX_TIME_MS)
        }
    }

    /// Virtual unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        Self::now_locked(&self.anchor.read())
    }

    /// Virtual unix seconds.
    pub fn now_s(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// The clock as the control plane shows it.
    pub fn reading(&self) -> ClockReading {
        let a = self.anchor.read();
        ClockReading { now_ms: Self::now_locked(&a), frozen: a.frozen, scale: a.scale }
    }

    /// Change any of frozen, scale and now. `now_ms` earlier than the current time is refused.
    pub fn set(
        &self,
        frozen: Option<bool>,
        scale: Option<f64>,
        now_ms: Option<i64>,
    ) -> Result<ClockReading, ClockError> {
        if let Some(s) = scale {
            if !(s.is_finite() && s > 0.0 && s <= MAX_SCALE) {
                return Err(ClockError::BadScale(s));
            }
        }
        let mut a = self.anchor.write();
        let current = Self::now_locked(&a);
        if let Some(t) = now_ms {
            if t < current {
                return Err(ClockError::Backwards { requested_ms: t, now_ms: current });
            }
        }
        a.virtual_ms = now_ms.unwrap_or(current);
        a.wall = Instant::now();
        if let Some(f) = frozen {
            a.frozen = f;
        }
        if let Some(s) = scale {
            a.scale = s;
        }
        Ok(ClockReading { now_ms: a.virtual_ms, frozen: a.frozen, scale: a.scale })
    }

    /// Move the clock forward to `t_ms` if it is later than now (used while running due jobs).
    pub fn advance_to(&self, t_ms: i64) {
        let mut a = self.anchor.write();
        let current = Self::now_locked(&a);
        if t_ms > current {
            a.virtual_ms = t_ms;
            a.wall = Instant::now();
        }
    }

    /// Put the clock exactly where a state dump says it was (the one place time may go back).
    pub fn restore(&self, r: ClockReading) {
        let mut a = self.anchor.write();
        a.virtual_ms = r.now_ms.clamp(0, MAX_TIME_MS);
        a.wall = Instant::now();
        a.frozen = r.frozen;
        a.scale = if r.scale.is_finite() && r.scale > 0.0 { r.scale.min(MAX_SCALE) } else { 1.0 };
    }

    /// Wall-clock milliseconds until virtual time reaches `due_ms`, or `None` when frozen.
    pub fn wall_wait_until(&self, due_ms: i64) -> Option<std::time::Duration> {
        let a = self.anchor.read();
        if a.frozen {
            return None;
        }
        let now = Self::now_locked(&a);
        let virtual_wait = (due_ms - now).max(0) as f64;
        Some(std::time::Duration::from_micros((virtual_wait * 1000.0 / a.scale) as u64))
    }
}

/// Calendar formatting in a fixed UTC offset (the vendors are in China: UTC+8, no daylight saving).
pub mod calendar {
    use time::{Date, Month};

    /// Beijing time offset in seconds.
    pub const BEIJING_OFFSET_S: i64 = 8 * 3600;

    /// The Julian day number of 1970-01-01.
    const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

    /// (year, month, day) of the day `days` after 1970-01-01. The `time` crate's dates end at the years
    /// ±9999; a day beyond gives the first or last of them (no instant recmock accepts lies beyond them:
    /// see [`super::MAX_TIME_MS`]).
    fn civil(days: i64) -> (i64, u32, u32) {
        let date = i32::try_from(days.saturating_add(UNIX_EPOCH_JULIAN_DAY))
            .ok()
            .and_then(|jd| Date::from_julian_day(jd).ok())
            .unwrap_or(if days < 0 { Date::MIN } else { Date::MAX });
        let (y, m, d) = date.to_calendar_date();
        (i64::from(y), u32::from(u8::from(m)), u32::from(d))
    }

    /// (year, month, day, hour, minute, second) of `unix_s` at `offset_s`.
    pub fn parts(unix_s: i64, offset_s: i64) -> (i64, u32, u32, u32, u32, u32) {
        let t = unix_s.saturating_add(offset_s);
        let days = t.div_euclid(86_400);
        let secs = t.rem_euclid(86_400);
        thread_local! {
            // The civil date of the last day converted: a list page formats two times per row, nearly
            // always of a few days. A measured hot-path memo (docs/performance.md, "Calendar": the
            // hand-written arithmetic was ~10% of the server's time on row `b2`), kept on top of `time`
            // because it still pays there: a whole `parts` call took 12 ns with `time`'s conversion and
            // 5-6 ns with the memo (17 ns and 5 ns with the old arithmetic; release build, 100,000
            // times of 100 consecutive days, on the 2-core bench machine).
            static LAST_DAY: std::cell::Cell<(i64, (i64, u32, u32))> =
                const { std::cell::Cell::new((i64::MIN, (0, 0, 0))) };
        }
        let (y, m, d) = LAST_DAY.with(|last| match last.get() {
            (day, ymd) if day == days => ymd,
            _ => {
                let ymd = civil(days);
                last.set((days, ymd));
                ymd
            }
        });
        (y, m, d, (secs / 3600) as u32, ((secs / 60) % 60) as u32, (secs % 60) as u32)
    }

    /// `YYYY-MM-DD HH:MM:SS` of `unix_s` in Beijing time.
    pub fn beijing_datetime(unix_s: i64) -> String {
        let (y, mo, d, h, mi, s) = parts(unix_s, BEIJING_OFFSET_S);
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    }

    /// [`beijing_datetime`] written into `buf` without allocating (lists format two per row); `None` for a
    /// year outside 0..=9999, which the allocating version handles. The digits are written by hand, not by
    /// `time`'s formatting: typed list answers write their dates without `format!` (docs/performance.md,
    /// "First round").
    pub fn beijing_datetime_into(unix_s: i64, buf: &mut [u8; 19]) -> Option<&str> {
        let (y, mo, d, h, mi, s) = parts(unix_s, BEIJING_OFFSET_S);
        if !(0..=9999).contains(&y) {
            return None;
        }
        let y = y as u32;
        let digits = [y / 1000, y / 100 % 10, y / 10 % 10, y % 10];
        buf[..4].iter_mut().zip(digits).for_each(|(b, x)| *b = b'0' + x as u8);
        for (at, v, sep) in [(4, mo, b'-'), (7, d, b'-'), (10, h, b' '), (13, mi, b':'), (16, s, b':')] {
            buf[at] = sep;
            buf[at + 1] = b'0' + (v / 10) as u8;
            buf[at + 2] = b'0' + (v % 10) as u8;
        }
        std::str::from_utf8(buf).ok()
    }

    /// `YYYYMMDDHHMMSS` of `unix_s` in Beijing time.
    pub fn beijing_compact(unix_s: i64) -> String {
        let mut buf = [0u8; 19];
        if let Some(t) = beijing_datetime_into(unix_s, &mut buf) {
            // Every record id starts with one: drop the separators of the long form instead of formatting.
            return t.bytes().filter(u8::is_ascii_digit).map(char::from).collect();
        }
        let (y, mo, d, h, mi, s) = parts(unix_s, BEIJING_OFFSET_S);
        format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}")
    }

    /// Parse `YYYY-MM-DD HH:MM:SS` (or `YYYY-MM-DD`) in Beijing time, or a plain unix-seconds integer.
    pub fn parse_beijing(text: &str) -> Option<i64> {
        let text = text.trim();
        if let Ok(n) = text.parse::<i64>() {
            return Some(n);
        }
        let (date, time) = match text.split_once([' ', 'T']) {
            Some((d, t)) => (d, t),
            None => (text, "00:00:00"),
        };
        let mut dp = date.split('-');
        let y: i64 = dp.next()?.parse().ok().filter(|y| (1..=9999).contains(y))?;
        let m: u8 = dp.next()?.parse().ok()?;
        let d: u8 = dp.next()?.parse().ok()?;
        if dp.next().is_some() {
            return None;
        }
        // A day the month does not have (2026-02-31, 2025-02-29) is refused (the hand-written calendar
        // before the `time` crate carried it into the next month: 2026-02-31 was 2026-03-03).
        let date = Date::from_calendar_date(i32::try_from(y).ok()?, Month::try_from(m).ok()?, d).ok()?;
        let mut tp = time.split(':');
        let h: u32 = tp.next()?.parse().ok()?;
        let mi: u32 = tp.next().unwrap_or("0").parse().ok()?;
        let s: u32 = tp.next().unwrap_or("0").parse().ok()?;
        // A leap second (`:60`) is taken as the next minute's first.
        if tp.next().is_some() || h > 23 || mi > 59 || s > 60 {
            return None;
        }
        let days = i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY;
        Some(days * 86_400 + (h * 3600 + mi * 60 + s) as i64 - BEIJING_OFFSET_S)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_stands_still_and_refuses_going_back() {
        let c = Clock::new(1_767_225_600_000, true, 1.0);
        assert_eq!(c.now_ms(), 1_767_225_600_000);
        assert!(matches!(c.set(None, None, Some(1_767_225_599_000)), Err(ClockError::Backwards { .. })));
        c.set(None, None, Some(1_767_225_660_000)).unwrap();
        assert_eq!(c.now_s(), 1_767_225_660);
        assert!(c.set(None, Some(0.0), None).is_err());
    }

    #[test]
    fn beijing_calendar_round_trips() {
        // 2026-01-01 00:00:00 UTC is 08:00 in Beijing.
        assert_eq!(calendar::beijing_datetime(1_767_225_600), "2026-01-01 08:00:00");
        for t in [0, 1_767_225_600, 1_767_225_600 + 86_399, 253_402_271_999 - 8 * 3600] {
            let mut buf = [0u8; 19];
            assert_eq!(
                calendar::beijing_datetime_into(t, &mut buf),
                Some(calendar::beijing_datetime(t).as_str())
            );
        }
        assert_eq!(calendar::beijing_compact(1_767_225_600), "20260101080000");
        assert_eq!(calendar::parse_beijing("2026-01-01 08:00:00"), Some(1_767_225_600));
        assert_eq!(calendar::parse_beijing("1767225600"), Some(1_767_225_600));
        assert_eq!(calendar::parse_beijing("2020-02-29"), Some(1_582_905_600));
        assert_eq!(calendar::parse_beijing("2026-13-01"), None);
        assert_eq!(calendar::parse_beijing("yesterday"), None);
        assert_eq!(calendar::parse_beijing("300000000000-01-01"), None);
    }

    #[test]
    fn days_a_month_does_not_have_are_refused() {
        for bad in [
            "2026-02-31",
            "2026-02-29",
            "2026-02-30 12:00:00",
            "2026-04-31",
            "2026-11-31T08:00:00",
            "2100-02-29",
        ] {
            assert_eq!(calendar::parse_beijing(bad), None, "{bad}");
        }
        for bad in ["2026-00-10", "2026-01-00", "2026-01-32", "0-01-01", "10000-01-01", "2026-01-01 24:00:00"]
        {
            assert_eq!(calendar::parse_beijing(bad), None, "{bad}");
        }
        // The last day of each month, leap days of leap years, and the ends of the accepted years.
        assert_eq!(calendar::parse_beijing("2026-03-03"), Some(1_772_467_200));
        assert_eq!(calendar::parse_beijing("2026-02-28 23:59:59"), Some(1_772_294_399));
        assert_eq!(calendar::parse_beijing("2024-02-29"), Some(1_709_136_000));
        assert_eq!(calendar::parse_beijing("2000-02-29"), Some(951_753_600));
        assert_eq!(calendar::parse_beijing("2026-04-30T08:00:00"), Some(1_777_507_200));
        assert_eq!(calendar::parse_beijing("9999-12-31 23:59:59"), Some(253_402_271_999));
        assert_eq!(calendar::parse_beijing("0001-01-01"), Some(-62_135_625_600));
        // Kept as before: a leap second is the next minute's first, hours and minutes may be left out.
        assert_eq!(calendar::parse_beijing("2026-01-01 07:59:60"), Some(1_767_225_600));
        assert_eq!(calendar::parse_beijing("2026-01-01 08"), Some(1_767_225_600));
        assert_eq!(calendar::parse_beijing(" 2026-1-1 8:0:0 "), Some(1_767_225_600));
    }

    #[test]
    fn calendar_parts_far_from_now() {
        assert_eq!(calendar::parts(0, 0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(calendar::parts(-1, 0), (1969, 12, 31, 23, 59, 59));
        assert_eq!(calendar::parts(951_782_400, 0), (2000, 2, 29, 0, 0, 0));
        assert_eq!(calendar::parts(-62_135_596_800, 0), (1, 1, 1, 0, 0, 0));
        assert_eq!(calendar::parts(253_402_300_799, 0), (9999, 12, 31, 23, 59, 59));
        assert_eq!(calendar::beijing_datetime(-1_000_000_000), "1938-04-25 06:13:20");
        // Beyond the years ±9999 the date stays at the end (no instant recmock accepts is there).
        assert_eq!(calendar::parts(i64::MAX, 0).0, 9999);
        assert_eq!(calendar::parts(i64::MIN, 0).0, -9999);
    }

    #[test]
    fn formatting_across_days_in_any_order_round_trips() {
        // The last converted day is remembered per thread: times of one day, the next, back to the first,
        // a leap day and far-apart years must all format as themselves.
        let base = 1_767_225_600;
        let mut times =
            vec![base, base + 86_399, base + 86_400, base + 5, base - 1, 1_582_905_600, 0, base + 3];
        times.extend((0..200).map(|i| base + i * 43_201));
        for t in times {
            let text = calendar::beijing_datetime(t);
            assert_eq!(calendar::parse_beijing(&text), Some(t), "{t} formatted as {text}");
        }
    }
}
