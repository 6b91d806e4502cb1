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

/// Wall-clock unix milliseconds: starts the virtual clock, stamps journal entries and callback attempts, and is
/// the second reading client-made times are judged by ([`AuthClock`]).
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

/// Which clock judges the times clients make (`--auth-clock`, fixture `auth_clock`).
///
/// Clients stamp their credentials (VOD `Timestamp`, 004 `expire_time`, usersigs, HST developer tokens)
/// with the machine's wall clock, which parts from virtual time as soon as a test freezes or advances it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthClock {
    /// valid at virtual now **or** at wall now (the server's default)
    #[default]
    Either,
    /// valid at virtual now only: answers are byte-deterministic (same seed, frozen clock, same requests)
    Virtual,
    /// valid at wall now only (setups with no virtual time at all)
    Wall,
}

impl AuthClock {
    /// Every mode, in the order the flag documents them.
    pub const ALL: [AuthClock; 3] = [AuthClock::Either, AuthClock::Virtual, AuthClock::Wall];

    /// The mode's name (`either`, `virtual`, `wall`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthClock::Either => "either",
            AuthClock::Virtual => "virtual",
            AuthClock::Wall => "wall",
        }
    }

    /// The mode as one byte (for an atomic cell).
    pub fn to_u8(self) -> u8 {
        match self {
            AuthClock::Either => 0,
            AuthClock::Virtual => 1,
            AuthClock::Wall => 2,
        }
    }

    /// The mode of [`AuthClock::to_u8`]'s byte (anything else: the default).
    pub fn from_u8(b: u8) -> AuthClock {
        match b {
            1 => AuthClock::Virtual,
            2 => AuthClock::Wall,
            _ => AuthClock::Either,
        }
    }
}

impl std::fmt::Display for AuthClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for AuthClock {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        AuthClock::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("auth clock must be either, virtual or wall, got `{s}`"))
    }
}

/// Seconds a client's clock may run ahead of the reading that judges it: a credential stamped with its
/// making time (a usersig's `TLS.time`, an HST token's `ts`) counts from this long before that time.
pub const CLOCK_SKEW_S: i64 = 300;

/// One end of the span in which a client-made time counts: `name` and `at` are what the client wrote (as a
/// refusal names it), `slack` how many seconds a reading may lie beyond `at` on that side (negative: the
/// reading must stay that far short of it, e.g. `-1` for "valid while now < at").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit<'a> {
    /// the field, as a refusal names it (`Timestamp`, `expire_time`, `TLS.time + TLS.expire`)
    pub name: &'a str,
    /// the instant it holds, unix seconds
    pub at: i64,
    /// seconds a reading may lie beyond `at`
    pub slack: i64,
}

/// When a client-made time counts: at a reading `r` with `from.at - from.slack <= r <= until.at +
/// until.slack` (an end that is `None` does not limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientTime<'a> {
    /// the earliest reading it counts at
    pub from: Option<Limit<'a>>,
    /// the latest reading it counts at
    pub until: Option<Limit<'a>>,
}

impl<'a> ClientTime<'a> {
    /// A time that counts within `slack` seconds of `at`, either way (VOD API v2 `Timestamp`).
    pub fn around(name: &'a str, at: i64, slack: i64) -> Self {
        let l = Limit { name, at, slack };
        ClientTime { from: Some(l), until: Some(l) }
    }

    /// An expiry: the time counts while the reading is before `at` (004 `expire_time`, HST `et`).
    pub fn expiring(name: &'a str, at: i64) -> Self {
        ClientTime { from: None, until: Some(Limit { name, at, slack: -1 }) }
    }

    /// Also not before `at` minus [`CLOCK_SKEW_S`] (the client's making time).
    pub fn made_at(mut self, name: &'a str, at: i64) -> Self {
        self.from = Some(Limit { name, at, slack: CLOCK_SKEW_S });
        self
    }

    /// The limit reading `r` breaks, if any.
    fn broken_at(&self, r: i64) -> Option<Limit<'a>> {
        if let Some(f) = self.from.filter(|f| r < f.at.saturating_sub(f.slack)) {
            return Some(f);
        }
        self.until.filter(|u| r > u.at.saturating_add(u.slack))
    }
}

/// The clocks a client-made time is judged against, read at one instant, and the mode that picks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthNow {
    /// which readings count
    pub mode: AuthClock,
    /// virtual unix milliseconds
    pub virtual_ms: i64,
    /// wall unix milliseconds
    pub wall_ms: i64,
}

/// `n` with a comma every three digits (`12,030`).
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl AuthNow {
    /// Both clocks as they read at `virtual_ms` / `wall_ms`, judged by `mode`.
    pub fn new(mode: AuthClock, virtual_ms: i64, wall_ms: i64) -> Self {
        AuthNow { mode, virtual_ms, wall_ms }
    }

    /// Virtual unix seconds.
    pub fn virtual_s(&self) -> i64 {
        self.virtual_ms.div_euclid(1000)
    }

    /// Wall unix seconds.
    pub fn wall_s(&self) -> i64 {
        self.wall_ms.div_euclid(1000)
    }

    /// The readings the mode judges by, each with its clock's name: virtual, wall, or both (in that order).
    pub fn readings(&self) -> impl Iterator<Item = (&'static str, i64)> {
        let (skip, take) = match self.mode {
            AuthClock::Virtual => (0, 1),
            AuthClock::Wall => (1, 1),
            AuthClock::Either => (0, 2),
        };
        [("virtual", self.virtual_s()), ("wall", self.wall_s())].into_iter().skip(skip).take(take)
    }

    /// Whether `t` counts at one of the readings.
    pub fn accepts(&self, t: &ClientTime) -> bool {
        self.readings().any(|(_, r)| t.broken_at(r).is_none())
    }

    /// `Ok` when `t` counts at one of the readings; otherwise a refusal naming every reading that judged it
    /// ("Timestamp 1796413690 is 12,030 s behind virtual time 1796425720 and 3,700 s behind wall time
    /// 1796409990"). Under `virtual` only virtual time is named, so answers stay deterministic. Nothing is
    /// allocated unless it is refused (every 004 call and VOD look-up passes through here).
    pub fn judge(&self, t: &ClientTime) -> Result<(), String> {
        if self.accepts(t) {
            return Ok(());
        }
        let broken = self.readings().filter_map(|(clock, r)| t.broken_at(r).map(|l| (clock, r, l)));
        let part = |clock: &str, r: i64, at: i64| match at.cmp(&r) {
            std::cmp::Ordering::Equal => format!("at {clock} time {r}"),
            std::cmp::Ordering::Less => {
                format!("{} s behind {clock} time {r}", thousands(r.saturating_sub(at)))
            }
            std::cmp::Ordering::Greater => {
                format!("{} s ahead of {clock} time {r}", thousands(at.saturating_sub(r)))
            }
        };
        let mut out = String::new();
        let mut last: Option<Limit> = None;
        for (clock, r, l) in broken {
            match last {
                None => out.push_str(&format!("{} {} is {}", l.name, l.at, part(clock, r, l.at))),
                Some(p) if p == l => out.push_str(&format!(" and {}", part(clock, r, l.at))),
                Some(_) => out.push_str(&format!(", and {} {} is {}", l.name, l.at, part(clock, r, l.at))),
            }
            last = Some(l);
        }
        Err(out)
    }

    /// The instant the expiry of what recmock signs for others counts from (a callback's `expire_time` is
    /// this plus the vendor's window): virtual now under `virtual`, else the later of the two clocks, so a
    /// receiver checking either clock accepts it.
    pub fn latest_s(&self) -> i64 {
        match self.mode {
            AuthClock::Virtual => self.virtual_s(),
            _ => self.virtual_s().max(self.wall_s()),
        }
    }

    /// The making time recmock writes into a credential a client presents back later (an HST developer
    /// token's `ts`, milliseconds): virtual now under `virtual`, else the earlier of the two clocks, so
    /// the credential counts at both.
    pub fn earliest_ms(&self) -> i64 {
        match self.mode {
            AuthClock::Virtual => self.virtual_ms,
            _ => self.virtual_ms.min(self.wall_ms),
        }
    }

    /// Where a time that counts within `slack` seconds of a reading (see [`ClientTime::around`]) may lie:
    /// the readings' spans, merged and ascending. Replay memories keep exactly what lies in them.
    pub fn spans(&self, slack: i64) -> Vec<(i64, i64)> {
        let mut spans: Vec<(i64, i64)> =
            self.readings().map(|(_, r)| (r.saturating_sub(slack), r.saturating_add(slack))).collect();
        spans.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(spans.len());
        for (a, b) in spans {
            match merged.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        merged
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
    fn client_times_are_judged_by_the_mode_and_refusals_name_its_readings() {
        let v = 1_796_425_720_000;
        let w = 1_796_413_694_000;
        let ts = ClientTime::around("Timestamp", 1_796_413_690, 300);
        assert_eq!(AuthNow::new(AuthClock::Either, v, w).judge(&ts), Ok(()));
        assert_eq!(AuthNow::new(AuthClock::Wall, v, w).judge(&ts), Ok(()));
        assert_eq!(
            AuthNow::new(AuthClock::Virtual, v, w).judge(&ts),
            Err("Timestamp 1796413690 is 12,030 s behind virtual time 1796425720".into())
        );
        let old = ClientTime::around("Timestamp", 1_796_410_000, 300);
        assert_eq!(
            AuthNow::new(AuthClock::Either, v, w).judge(&old),
            Err("Timestamp 1796410000 is 15,720 s behind virtual time 1796425720 and 3,694 s behind wall time 1796413694".into())
        );
        // One limit broken at each reading: both are named.
        let sig =
            ClientTime::expiring("TLS.time + TLS.expire", 1_796_413_000).made_at("TLS.time", 1_796_412_000);
        let early = AuthNow::new(AuthClock::Either, 1_796_000_000_000, w);
        assert_eq!(
            early.judge(&sig),
            Err("TLS.time 1796412000 is 412,000 s ahead of virtual time 1796000000, and TLS.time + TLS.expire 1796413000 is 694 s behind wall time 1796413694".into())
        );
        // An expiry counts strictly before it; the skew lets a making time lie 300 s ahead.
        let exp = ClientTime::expiring("expire_time", 100);
        assert!(AuthNow::new(AuthClock::Virtual, 99_000, 0).accepts(&exp));
        assert_eq!(
            AuthNow::new(AuthClock::Virtual, 100_000, 0).judge(&exp),
            Err("expire_time 100 is at virtual time 100".into())
        );
        let made = ClientTime::default().made_at("ts", 1_000);
        assert!(AuthNow::new(AuthClock::Virtual, 700_000, 0).accepts(&made));
        assert!(!AuthNow::new(AuthClock::Virtual, 699_000, 0).accepts(&made));
    }

    #[test]
    fn what_recmock_signs_counts_on_both_clocks() {
        let a = AuthNow::new(AuthClock::Either, 5_000, 9_000);
        assert_eq!((a.latest_s(), a.earliest_ms()), (9, 5_000));
        let a = AuthNow::new(AuthClock::Virtual, 5_000, 9_000);
        assert_eq!((a.latest_s(), a.earliest_ms()), (5, 5_000));
        assert_eq!(AuthNow::new(AuthClock::Either, 1_000_000, 1_500_000).spans(300), vec![(700, 1800)]);
        assert_eq!(
            AuthNow::new(AuthClock::Either, 1_000_000, 9_000_000).spans(300),
            vec![(700, 1300), (8700, 9300)]
        );
        assert_eq!(AuthNow::new(AuthClock::Wall, 1_000_000, 9_000_000).spans(300), vec![(8700, 9300)]);
        assert_eq!(thousands(12_030), "12,030");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!("Virtual".parse::<AuthClock>(), Ok(AuthClock::Virtual));
        assert!("both".parse::<AuthClock>().is_err());
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
