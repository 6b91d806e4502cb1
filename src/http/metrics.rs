//! Request metrics of the front door: for each registered route (vendor, method, route pattern) how many
//! requests got each status, and a latency histogram — what `GET /__admin/metrics` shows.
//!
//! Counting is on every vendor request's path, so it takes no lock and allocates nothing: a route's
//! [`RouteStats`] is made once, when the route is registered, and handed to its handler; a request adds to a
//! few atomics. A route keeps at most [`STATUS_SLOTS`] distinct statuses (a fault rule can answer any);
//! later ones count under `other`, so the series stay bounded: the route patterns are a fixed set.

use crate::VendorKind;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in microseconds (the histogram's `le`, in seconds: 0.0005 … 10).
pub const BUCKETS_US: [u64; 14] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    5_000_000, 10_000_000,
];

/// Distinct statuses counted per route; further ones count as `other`.
pub const STATUS_SLOTS: usize = 12;

#[derive(Debug, Default)]
struct StatusSlot {
    /// 0 while free
    status: AtomicU16,
    count: AtomicU64,
}

/// One route's counts: requests by status, and their latencies.
#[derive(Debug)]
pub struct RouteStats {
    /// the vendor that owns the route (`None`: not a vendor's)
    pub vendor: Option<VendorKind>,
    /// the HTTP method (`GET`, `POST`, ...)
    pub method: String,
    /// the route pattern as registered (`/files/{key}/{name}`), never a request's path
    pub route: String,
    statuses: [StatusSlot; STATUS_SLOTS],
    other: AtomicU64,
    /// requests per bucket (not cumulative); the last is above every bound
    buckets: [AtomicU64; BUCKETS_US.len() + 1],
    sum_us: AtomicU64,
}

/// A route's latency histogram, as Prometheus shows one.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// requests at or below each bound of [`BUCKETS_US`] (cumulative)
    pub cumulative: Vec<u64>,
    /// every request
    pub count: u64,
    /// total latency, seconds
    pub sum_s: f64,
}

impl RouteStats {
    /// No requests yet, for `method route` of `vendor`.
    pub fn new(vendor: Option<VendorKind>, method: &str, route: &str) -> Self {
        RouteStats {
            vendor,
            method: method.to_string(),
            route: route.to_string(),
            statuses: Default::default(),
            other: AtomicU64::new(0),
            buckets: Default::default(),
            sum_us: AtomicU64::new(0),
        }
    }

    /// Count one request answered with `status` after `elapsed`.
    pub fn observe(&self, status: u16, elapsed: Duration) {
        self.count_status(status);
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let bucket = BUCKETS_US.iter().position(|&b| us <= b).unwrap_or(BUCKETS_US.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    fn count_status(&self, status: u16) {
        // 0 marks a free slot: a status of 0 (a dropped connection) is kept as 1 below any real one.
        let status = status.max(1);
        for slot in &self.statuses {
            let mut held = slot.status.load(Ordering::Acquire);
            if held == 0 {
                // Claim the free slot; another thread may have claimed it first, for this status or another.
                held = match slot.status.compare_exchange(0, status, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => status,
                    Err(now) => now,
                };
            }
            if held == status {
                slot.count.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        self.other.fetch_add(1, Ordering::Relaxed);
    }

    /// Requests by status (`None`: statuses beyond [`STATUS_SLOTS`]; `Some(0)`: a dropped connection), in
    /// status order; only statuses seen.
    pub fn statuses(&self) -> Vec<(Option<u16>, u64)> {
        let mut out: Vec<(Option<u16>, u64)> = self
            .statuses
            .iter()
            .filter_map(|s| {
                let status = s.status.load(Ordering::Acquire);
                (status != 0)
                    .then(|| (Some(if status == 1 { 0 } else { status }), s.count.load(Ordering::Relaxed)))
            })
            .collect();
        out.sort_unstable();
        let other = self.other.load(Ordering::Relaxed);
        if other > 0 {
            out.push((None, other));
        }
        out
    }

    /// The latency histogram.
    pub fn histogram(&self) -> Histogram {
        let mut cumulative = Vec::with_capacity(BUCKETS_US.len());
        let mut total = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            total += b.load(Ordering::Relaxed);
            if i < BUCKETS_US.len() {
                cumulative.push(total);
            }
        }
        Histogram { cumulative, count: total, sum_s: self.sum_us.load(Ordering::Relaxed) as f64 / 1e6 }
    }

    /// Requests counted so far.
    pub fn requests(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_latencies_are_counted() {
        let s = RouteStats::new(None, "GET", "/x/{id}");
        s.observe(200, Duration::from_micros(300));
        s.observe(200, Duration::from_millis(3));
        s.observe(404, Duration::from_secs(60));
        s.observe(0, Duration::ZERO);
        assert_eq!(s.statuses(), vec![(Some(0), 1), (Some(200), 2), (Some(404), 1)]);
        let h = s.histogram();
        assert_eq!(h.count, 4);
        assert_eq!(h.cumulative[0], 2, "≤ 0.5 ms: 0 and 300 µs");
        assert_eq!(h.cumulative[3], 3, "≤ 5 ms");
        assert_eq!(*h.cumulative.last().unwrap(), 3, "60 s is above every bound");
        assert!((h.sum_s - 60.0033).abs() < 1e-9, "{}", h.sum_s);
        assert_eq!(s.requests(), 4);
    }

    #[test]
    fn statuses_beyond_the_slots_count_as_other() {
        let s = RouteStats::new(None, "POST", "/y");
        for status in 500..520u16 {
            s.observe(status, Duration::ZERO);
        }
        let counted = s.statuses();
        assert_eq!(counted.len(), STATUS_SLOTS + 1);
        assert_eq!(counted.last(), Some(&(None, (20 - STATUS_SLOTS) as u64)));
    }

    #[test]
    fn racing_threads_lose_no_count() {
        let s = std::sync::Arc::new(RouteStats::new(None, "GET", "/z"));
        let threads: Vec<_> = (0..4u16)
            .map(|t| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for i in 0..10_000u16 {
                        s.observe(200 + (i + t) % 3, Duration::from_micros(1));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let counted = s.statuses();
        assert_eq!(counted.len(), 3, "{counted:?}");
        assert_eq!(counted.iter().map(|(_, n)| n).sum::<u64>(), 40_000);
    }
}
