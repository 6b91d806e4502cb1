//! The request journal: a bounded ring of what the vendor endpoints received and answered.
//!
//! Bounded (`--journal-size`, default 10,000) so a long soak never grows memory; bodies are truncated.
//!
//! Recording is on every vendor request's path, so it is kept cheap: an entry is one allocation (path,
//! query and both bodies copied side by side), and each worker thread records into its own shard. A
//! shared ring had both workers take one lock and free each other's buffers (an entry was pushed out by
//! whichever thread came next): with it, `class/create` served ~12% fewer requests per second than
//! with `--journal-size 0`. Each shard keeps the newest `capacity` entries of its thread, so together
//! they always hold the newest `capacity` of all, which is what a read shows.

use crate::VendorKind;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

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
type Shard = Mutex<VecDeque<(u64, StoredEntry)>>;

/// The most shards: each keeps up to `capacity` entries, so memory is bounded by this many times it.
const MAX_SHARDS: usize = 4;

/// The journal.
#[derive(Debug)]
pub struct Journal {
    shards: Box<[Shard]>,
    next_id: AtomicU64,
    capacity: usize,
}

impl Journal {
    /// A journal showing the newest `capacity` entries (0 keeps none); each of its shards holds up to
    /// `capacity`, so memory is bounded by four times `capacity` entries (at most four shards).
    pub fn new(capacity: usize) -> Self {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, MAX_SHARDS);
        Journal { shards: (0..n).map(|_| Shard::default()).collect(), next_id: AtomicU64::new(1), capacity }
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
        if self.capacity == 0 {
            return None;
        }
        let e = StoredEntry::new(x);
        let (id, oldest) = {
            let mut shard = self.shard().lock();
            // Taken under the shard's lock, so each shard's ids increase from front to back.
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            let oldest = if shard.len() >= self.capacity { shard.pop_front() } else { None };
            shard.push_back((id, e));
            (id, oldest)
        };
        // The pushed-out entry is freed outside the lock.
        drop(oldest);
        Some(id)
    }

    /// Entries matching `f`, oldest first.
    pub fn list(&self, f: &JournalFilter) -> Vec<JournalEntry> {
        let shards: Vec<_> = self.shards.iter().map(|s| s.lock()).collect();
        let mut all: Vec<&(u64, StoredEntry)> = shards.iter().flat_map(|s| s.iter()).collect();
        all.sort_unstable_by_key(|(id, _)| *id);
        // The newest `capacity` of all (each shard holds the newest `capacity` of its own).
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
            s.lock().clear();
        }
    }

    /// Number of entries held (what a read shows).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum::<usize>().min(self.capacity)
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
        let j = std::sync::Arc::new(Journal::new(50));
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
        let j = Journal::new(3);
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
}
