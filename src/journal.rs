//! The request journal: a bounded ring of what the vendor endpoints received and answered.
//!
//! Bounded in entries (`--journal-size`, default 10,000) and in bytes (`--journal-bytes`, default 64 MiB),
//! so a long soak never grows memory; bodies are truncated.
//!
//! Recording is on every vendor request's path, so it is kept cheap: an entry is one allocation (path,
//! query and both bodies copied side by side), and each worker thread records into its own shard. A
//! shared ring had both workers take one lock and free each other's buffers (an entry was pushed out by
//! whichever thread came next): with it, `class/create` served ~12% fewer requests per second than
//! with `--journal-size 0`. Each shard keeps the newest `capacity` entries of its thread within its share
//! of the byte budget; a read shows the newest entries of all that none of the shards has dropped (so never
//! a gap), at most `capacity` of them.

use crate::limits::{Cap, Caps};
use crate::VendorKind;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Longest request or response body kept per entry.
pub const MAX_BODY_KEPT: usize = 16 * 1024;

/// One request and its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// increasing id
    pub id: u64,
    /// which vendor module answered (none for file downloads)
    pub vendor: Option<VendorKind>,
    /// HTTP method
    pub method: String,
    /// path
    pub path: String,
    /// raw query string
    pub query: String,
    /// request body (lossy UTF-8, truncated)
    pub body: String,
    /// HTTP status answered
    pub status: u16,
    /// response body (lossy UTF-8, truncated)
    pub response: String,
    /// id of the fault rule that shaped the answer, if any
    pub fault: Option<u64>,
    /// virtual time of arrival, unix seconds
    pub virtual_time: i64,
    /// virtual time of arrival, unix milliseconds
    pub virtual_ms: i64,
    /// wall time of arrival, unix milliseconds
    pub wall_ms: i64,
}

/// One request and its answer as the journal holds it: path, query, request body and response body in
/// one buffer (bodies cut to [`MAX_BODY_KEPT`]); [`JournalEntry`] is made from it when the journal is read.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    /// which vendor module answered
    pub vendor: Option<VendorKind>,
    /// HTTP method
    pub method: &'static str,
    /// HTTP status answered
    pub status: u16,
    /// id of the fault rule that shaped the answer, if any
    pub fault: Option<u64>,
    /// virtual time of arrival, unix milliseconds
    pub virtual_ms: i64,
    /// wall time of arrival, unix milliseconds
    pub wall_ms: i64,
    /// path, query, body and response, one after the other
    data: Box<[u8]>,
    /// where the query, the body and the response start in `data`
    ends: [u32; 3],
}

/// The part of a body the journal keeps, and the note that ends a cut one.
fn cut(b: &[u8]) -> (&[u8], Option<String>) {
    (&b[..b.len().min(MAX_BODY_KEPT)], (b.len() > MAX_BODY_KEPT).then(|| format!("…[{} bytes]", b.len())))
}

/// What a [`StoredEntry`] is made from.
#[derive(Debug, Clone, Copy)]
pub struct NewEntry<'a> {
    /// which vendor module answered
    pub vendor: Option<VendorKind>,
    /// HTTP method
    pub method: &'static str,
    /// path
    pub path: &'a str,
    /// raw query string
    pub query: &'a str,
    /// request body
    pub body: &'a [u8],
    /// HTTP status answered
    pub status: u16,
    /// response body
    pub response: &'a [u8],
    /// id of the fault rule that shaped the answer, if any
    pub fault: Option<u64>,
    /// virtual time of arrival, unix milliseconds
    pub virtual_ms: i64,
    /// wall time of arrival, unix milliseconds
    pub wall_ms: i64,
}

impl StoredEntry {
    /// Bytes it takes in the journal: its buffer and its place in a shard.
    pub fn footprint(&self) -> usize {
        self.data.len() + std::mem::size_of::<(u64, StoredEntry)>()
    }

    /// Copy an exchange into one buffer, bodies cut to [`MAX_BODY_KEPT`] bytes (a cut one ends with
    /// `…[<length> bytes]`).
    pub fn new(x: &NewEntry<'_>) -> StoredEntry {
        let (body, body_note) = cut(x.body);
        let (response, response_note) = cut(x.response);
        let note_len = |n: &Option<String>| n.as_ref().map_or(0, String::len);
        let mut data = Vec::with_capacity(
            x.path.len()
                + x.query.len()
                + body.len()
                + note_len(&body_note)
                + response.len()
                + note_len(&response_note),
        );
        data.extend_from_slice(x.path.as_bytes());
        let query_at = data.len();
        data.extend_from_slice(x.query.as_bytes());
        let body_at = data.len();
        data.extend_from_slice(body);
        data.extend_from_slice(body_note.as_deref().unwrap_or_default().as_bytes());
        let response_at = data.len();
        data.extend_from_slice(response);
        data.extend_from_slice(response_note.as_deref().unwrap_or_default().as_bytes());
        // A path and query are far below 4 GiB and each body is cut to 16 KiB: the offsets fit.
        let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        StoredEntry {
            vendor: x.vendor,
            method: x.method,
            status: x.status,
            fault: x.fault,
            virtual_ms: x.virtual_ms,
            wall_ms: x.wall_ms,
            data: data.into_boxed_slice(),
            ends: [at(query_at), at(body_at), at(response_at)],
        }
    }

    fn bytes(&self, from: usize, to: usize) -> &[u8] {
        self.data.get(from..to).unwrap_or_default()
    }

    /// The path requested.
    pub fn path(&self) -> &str {
        std::str::from_utf8(self.bytes(0, self.ends[0] as usize)).unwrap_or_default()
    }

    /// The raw query string (empty when there was none).
    pub fn query(&self) -> &str {
        std::str::from_utf8(self.bytes(self.ends[0] as usize, self.ends[1] as usize)).unwrap_or_default()
    }

    /// The request body as kept.
    pub fn body(&self) -> &[u8] {
        self.bytes(self.ends[1] as usize, self.ends[2] as usize)
    }

    /// The response body as kept.
    pub fn response(&self) -> &[u8] {
        self.bytes(self.ends[2] as usize, self.data.len())
    }
}

/// Filters of `GET /__admin/requests`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JournalFilter {
    /// only this vendor
    pub vendor: Option<VendorKind>,
    /// only paths starting with this
    pub path: Option<String>,
    /// only requests at or after this virtual unix second
    pub since: Option<i64>,
    /// only the last N matches
    pub limit: Option<usize>,
    /// only entries older than this id (the next page of a paged read)
    #[serde(default)]
    pub before: Option<u64>,
    /// only this method
    #[serde(default)]
    pub method: Option<String>,
    /// only this HTTP status
    #[serde(default)]
    pub status: Option<u16>,
}

/// Lossy, truncated text of a body.
pub fn body_text(bytes: &[u8]) -> String {
    let cut = bytes.len().min(MAX_BODY_KEPT);
    let mut s = String::from_utf8_lossy(&bytes[..cut]).into_owned();
    if bytes.len() > cut {
        s.push_str(&format!("…[{} bytes]", bytes.len()));
    }
    s
}

/// One worker thread's share of the journal: its entries, oldest first, with their ids.
#[derive(Debug, Default)]
struct Ring {
    entries: VecDeque<(u64, StoredEntry)>,
    /// bytes its entries take ([`StoredEntry::footprint`])
    bytes: usize,
    /// the id of the newest entry it has dropped (every id up to it may be missing from the journal)
    dropped_upto: u64,
}

type Shard = Mutex<Ring>;

/// The most shards: each keeps up to `capacity` entries and its share of the byte budget.
const MAX_SHARDS: usize = 4;

/// The journal.
#[derive(Debug)]
pub struct Journal {
    shards: Box<[Shard]>,
    next_id: AtomicU64,
    capacity: usize,
    /// each shard's share of `--journal-bytes`
    shard_bytes: usize,
    caps: Arc<Caps>,
}

impl Journal {
    /// A journal showing the newest `caps.limits.journal_entries` entries (0 keeps none) within
    /// `caps.limits.journal_bytes` bytes: each of its shards holds up to that many entries and its share of
    /// the bytes (plus, at most, the one entry that alone is larger).
    pub fn new(caps: Arc<Caps>) -> Self {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, MAX_SHARDS);
        Journal {
            shards: (0..n).map(|_| Shard::default()).collect(),
            next_id: AtomicU64::new(1),
            capacity: caps.limits.journal_entries,
            shard_bytes: caps.limits.journal_bytes / n,
            caps,
        }
    }

    /// The calling thread's shard (threads are dealt shards in turn as they first record).
    fn shard(&self) -> &Shard {
        thread_local! {
            static TURN: Cell<Option<usize>> = const { Cell::new(None) };
        }
        static NEXT_TURN: AtomicUsize = AtomicUsize::new(0);
        let turn = TURN.with(|t| {
            *t.get().get_or_insert_with(|| {
                let n = NEXT_TURN.fetch_add(1, Ordering::Relaxed);
                t.set(Some(n));
                n
            })
        });
        &self.shards[turn % self.shards.len()]
    }

    /// Record an exchange; returns the id it was given (none when the journal keeps nothing).
    pub fn record(&self, x: &NewEntry<'_>) -> Option<u64> {
        if self.capacity == 0 || self.shard_bytes == 0 {
            return None;
        }
        let e = StoredEntry::new(x);
        let size = e.footprint();
        let mut dropped = Vec::new();
        let (id, by_count, by_bytes) = {
            let mut ring = self.shard().lock();
            // Taken under the shard's lock, so each shard's ids increase from front to back.
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            ring.entries.push_back((id, e));
            ring.bytes = ring.bytes.saturating_add(size);
            let (mut by_count, mut by_bytes) = (false, false);
            while ring.entries.len() > 1 {
                let over_count = ring.entries.len() > self.capacity;
                let over_bytes = ring.bytes > self.shard_bytes;
                if !(over_count || over_bytes) {
                    break;
                }
                by_count |= over_count;
                by_bytes |= over_bytes && !over_count;
                let Some(old) = ring.entries.pop_front() else { break };
                ring.bytes = ring.bytes.saturating_sub(old.1.footprint());
                ring.dropped_upto = ring.dropped_upto.max(old.0);
                dropped.push(old);
            }
            (id, by_count, by_bytes)
        };
        // Pushed-out entries are freed outside the lock.
        drop(dropped);
        if by_count {
            self.caps
                .reached(Cap::JournalEntries, || "the oldest requests are dropped from the journal".into());
        }
        if by_bytes {
            self.caps.reached(Cap::JournalBytes, || {
                format!(
                    "the journal holds {} bytes per worker thread: the oldest requests are dropped",
                    self.shard_bytes
                )
            });
        }
        Some(id)
    }

    /// The id below which the journal may have gaps (the newest any shard dropped).
    fn cut(rings: &[parking_lot::MutexGuard<'_, Ring>]) -> u64 {
        rings.iter().map(|r| r.dropped_upto).max().unwrap_or(0)
    }

    /// Entries matching `f`, oldest first.
    pub fn list(&self, f: &JournalFilter) -> Vec<JournalEntry> {
        let shards: Vec<_> = self.shards.iter().map(|s| s.lock()).collect();
        let cut = Self::cut(&shards);
        let mut all: Vec<&(u64, StoredEntry)> =
            shards.iter().flat_map(|s| s.entries.iter()).filter(|(id, _)| *id > cut).collect();
        all.sort_unstable_by_key(|(id, _)| *id);
        // The newest `capacity` of all with no gap (each shard holds the newest entries of its own).
        let newest = &all[all.len().saturating_sub(self.capacity)..];
        let matching: Vec<&(u64, StoredEntry)> = newest
            .iter()
            .copied()
            .filter(|(_, e)| f.vendor.is_none_or(|v| e.vendor == Some(v)))
            .filter(|(_, e)| f.path.as_deref().is_none_or(|p| e.path().starts_with(p)))
            .filter(|(_, e)| f.since.is_none_or(|s| e.virtual_ms.div_euclid(1000) >= s))
            .filter(|(id, e)| {
                f.before.is_none_or(|b| *id < b)
                    && f.method.as_deref().is_none_or(|m| e.method.eq_ignore_ascii_case(m))
                    && f.status.is_none_or(|s| e.status == s)
            })
            .collect();
        let skip = f.limit.map_or(0, |n| matching.len().saturating_sub(n));
        matching
            .into_iter()
            .skip(skip)
            .map(|(id, e)| JournalEntry {
                id: *id,
                vendor: e.vendor,
                method: e.method.to_string(),
                path: e.path().to_string(),
                query: e.query().to_string(),
                body: String::from_utf8_lossy(e.body()).into_owned(),
                status: e.status,
                response: String::from_utf8_lossy(e.response()).into_owned(),
                fault: e.fault,
                virtual_time: e.virtual_ms.div_euclid(1000),
                virtual_ms: e.virtual_ms,
                wall_ms: e.wall_ms,
            })
            .collect()
    }

    /// Forget everything.
    pub fn clear(&self) {
        for s in self.shards.iter() {
            let mut ring = s.lock();
            let old = std::mem::take(&mut ring.entries);
            ring.dropped_upto = ring.dropped_upto.max(old.back().map_or(0, |e| e.0));
            ring.bytes = 0;
            drop(ring);
            drop(old);
        }
    }

    /// Number of entries held (what a read shows).
    pub fn len(&self) -> usize {
        let shards: Vec<_> = self.shards.iter().map(|s| s.lock()).collect();
        let cut = Self::cut(&shards);
        let shown: usize =
            shards.iter().map(|s| s.entries.len() - s.entries.partition_point(|(id, _)| *id <= cut)).sum();
        shown.min(self.capacity)
    }

    /// Bytes its entries take.
    pub fn bytes(&self) -> usize {
        self.shards.iter().map(|s| s.lock().bytes).sum()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The configured bound.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(entries: usize, bytes: usize) -> Journal {
        let limits =
            crate::limits::Limits { journal_entries: entries, journal_bytes: bytes, ..Default::default() };
        Journal::new(Arc::new(Caps::new(limits)))
    }

    fn exchange(target: &str, t: i64) -> NewEntry<'_> {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        NewEntry {
            vendor: Some(VendorKind::new(1, "cloud_record")),
            method: "GET",
            path,
            query,
            body: b"",
            status: 200,
            response: b"{}",
            fault: None,
            virtual_ms: t * 1000,
            wall_ms: 0,
        }
    }

    #[test]
    fn an_entry_keeps_its_parts_in_one_buffer_and_cuts_long_bodies() {
        let e = StoredEntry::new(&NewEntry {
            body: b"{\"a\":1}",
            ..exchange("/v1/record/task/list?app_id=a&page=2", 0)
        });
        assert_eq!((e.path(), e.query()), ("/v1/record/task/list", "app_id=a&page=2"));
        assert_eq!((e.body(), e.response()), (&b"{\"a\":1}"[..], &b"{}"[..]));
        let e = StoredEntry::new(&exchange("/v1/x", 0));
        assert_eq!((e.path(), e.query(), e.body()), ("/v1/x", "", &b""[..]));
        let long = vec![b'a'; MAX_BODY_KEPT + 5];
        let e = StoredEntry::new(&NewEntry { body: &long, response: &long, ..exchange("/v1/x", 0) });
        let note = format!("…[{} bytes]", MAX_BODY_KEPT + 5);
        assert_eq!(e.body().len(), MAX_BODY_KEPT + note.len());
        assert!(e.body().ends_with(note.as_bytes()) && e.response().ends_with(note.as_bytes()));
    }

    #[test]
    fn threads_recording_at_once_leave_the_newest_entries_of_all() {
        // Each thread records into its own shard; a read must still show exactly the newest `capacity`
        // entries of all threads, in id order, however the threads interleaved.
        let j = std::sync::Arc::new(journal(50, usize::MAX));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let j = j.clone();
                std::thread::spawn(move || {
                    for i in 0..(100 + t * 30) {
                        j.record(&exchange(&format!("/t{t}/{i}"), i));
                    }
                })
            })
            .collect();
        for th in threads {
            assert!(th.join().is_ok());
        }
        let total: u64 = (0..4).map(|t| 100 + t * 30).sum();
        let ids: Vec<u64> = j.list(&JournalFilter::default()).iter().map(|e| e.id).collect();
        assert_eq!(ids, ((total - 49)..=total).collect::<Vec<_>>());
        assert_eq!(j.len(), 50);
        j.clear();
        assert!(j.is_empty());
    }

    #[test]
    fn ring_is_bounded_and_filters() {
        let j = journal(3, usize::MAX);
        for i in 0..5 {
            j.record(&exchange(if i % 2 == 0 { "/v1/a" } else { "/v2/b" }, i));
        }
        assert_eq!(j.len(), 3);
        let all = j.list(&JournalFilter::default());
        assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), vec![3, 4, 5]);
        let f = JournalFilter { path: Some("/v1".into()), ..Default::default() };
        assert_eq!(j.list(&f).len(), 2);
        let f = JournalFilter { since: Some(4), ..Default::default() };
        assert_eq!(j.list(&f).len(), 1);
        assert_eq!(body_text(&vec![b'a'; MAX_BODY_KEPT + 5]).len(), MAX_BODY_KEPT + "…[16389 bytes]".len());
    }

    #[test]
    fn the_byte_cap_drops_the_oldest_and_a_read_shows_no_gap() {
        // Entries of ~1 KiB against a budget of ~10 of them per shard, from threads dealt different shards:
        // the journal never holds more than its bytes, and a read is the newest entries without a hole.
        let body = vec![b'x'; 1000];
        let one = StoredEntry::new(&NewEntry { body: &body, ..exchange("/v1/x", 0) }).footprint();
        let shards = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, MAX_SHARDS);
        let j = std::sync::Arc::new(journal(10_000, 10 * one * shards));
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let (j, body) = (j.clone(), body.clone());
                std::thread::spawn(move || {
                    for i in 0..200 {
                        j.record(&NewEntry { body: &body, ..exchange("/v1/x", i) });
                    }
                })
            })
            .collect();
        for th in threads {
            assert!(th.join().is_ok());
        }
        assert!(j.bytes() <= 10 * one * shards, "{} bytes held", j.bytes());
        let ids: Vec<u64> = j.list(&JournalFilter::default()).iter().map(|e| e.id).collect();
        assert!(!ids.is_empty() && ids.len() <= 10 * shards);
        assert_eq!(ids.last(), Some(&600));
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "a gap in {ids:?}");
        assert_eq!(j.len(), ids.len());
        assert!(j.caps.was_reached(Cap::JournalBytes) && !j.caps.was_reached(Cap::JournalEntries));
        // No bytes keep nothing; an entry larger than a shard's whole share is still kept, alone.
        let none = journal(10, 0);
        assert_eq!(none.record(&exchange("/v1/a", 0)), None);
        let small = journal(10, shards * (one / 2));
        small.record(&NewEntry { body: &body, ..exchange("/v1/a", 0) });
        small.record(&NewEntry { body: &body, ..exchange("/v1/b", 0) });
        assert_eq!(small.list(&JournalFilter::default()).iter().map(|e| e.id).collect::<Vec<_>>(), vec![2]);
        small.clear();
        assert!(small.is_empty() && small.bytes() == 0);
    }
}
