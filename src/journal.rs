//! The request journal: a bounded ring of what the vendor endpoints received and answered.
//!
//! Bounded (`--journal-size`, default 10,000) so a long soak never grows memory; bodies are truncated.

use crate::world::VendorKind;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

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

/// One request and its answer as the journal holds it: the bodies are the buffers the exchange already
/// had (no copy per request); [`JournalEntry`] is made from it when the journal is read.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// which vendor module answered
    pub vendor: Option<VendorKind>,
    /// HTTP method
    pub method: &'static str,
    /// path, then `?` and the raw query string when there is one (one allocation per entry)
    pub target: Box<str>,
    /// request body
    pub body: bytes::Bytes,
    /// HTTP status answered
    pub status: u16,
    /// response body
    pub response: bytes::Bytes,
    /// id of the fault rule that shaped the answer, if any
    pub fault: Option<u64>,
    /// virtual time of arrival, unix milliseconds
    pub virtual_ms: i64,
    /// wall time of arrival, unix milliseconds
    pub wall_ms: i64,
}

impl Recorded {
    /// The path requested.
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    /// The raw query string (empty when there was none).
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }
}

/// Keep at most [`MAX_BODY_KEPT`] bytes of a body: a longer one is copied down, so the journal never holds
/// a large buffer alive.
fn kept(b: bytes::Bytes) -> bytes::Bytes {
    if b.len() > MAX_BODY_KEPT {
        let mut cut = bytes::BytesMut::from(&b[..MAX_BODY_KEPT]);
        cut.extend_from_slice(format!("…[{} bytes]", b.len()).as_bytes());
        cut.freeze()
    } else {
        b
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

#[derive(Debug)]
struct Ring {
    entries: VecDeque<(u64, Recorded)>,
    next_id: u64,
}

/// The journal.
#[derive(Debug)]
pub struct Journal {
    ring: Mutex<Ring>,
    capacity: usize,
}

impl Journal {
    /// A journal keeping at most `capacity` entries (0 keeps none).
    pub fn new(capacity: usize) -> Self {
        Journal { ring: Mutex::new(Ring { entries: VecDeque::new(), next_id: 1 }), capacity }
    }

    /// Record an exchange (its id is assigned here).
    pub fn record(&self, mut e: Recorded) {
        if self.capacity == 0 {
            return;
        }
        e.body = kept(e.body);
        e.response = kept(e.response);
        let oldest = {
            let mut r = self.ring.lock();
            let id = r.next_id;
            r.next_id += 1;
            let oldest = if r.entries.len() >= self.capacity { r.entries.pop_front() } else { None };
            r.entries.push_back((id, e));
            oldest
        };
        // The entry pushed out is freed after the lock is let go (its buffers may belong to another thread).
        drop(oldest);
    }

    /// Entries matching `f`, oldest first.
    pub fn list(&self, f: &JournalFilter) -> Vec<JournalEntry> {
        let r = self.ring.lock();
        let matching: Vec<&(u64, Recorded)> = r
            .entries
            .iter()
            .filter(|(_, e)| f.vendor.is_none_or(|v| e.vendor == Some(v)))
            .filter(|(_, e)| f.path.as_deref().is_none_or(|p| e.path().starts_with(p)))
            .filter(|(_, e)| f.since.is_none_or(|s| e.virtual_ms.div_euclid(1000) >= s))
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
                body: String::from_utf8_lossy(&e.body).into_owned(),
                status: e.status,
                response: String::from_utf8_lossy(&e.response).into_owned(),
                fault: e.fault,
                virtual_time: e.virtual_ms.div_euclid(1000),
                virtual_ms: e.virtual_ms,
                wall_ms: e.wall_ms,
            })
            .collect()
    }

    /// Forget everything.
    pub fn clear(&self) {
        self.ring.lock().entries.clear();
    }

    /// Number of entries held.
    pub fn len(&self) -> usize {
        self.ring.lock().entries.len()
    }

    /// Whether none are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Most entries ever held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, t: i64) -> Recorded {
        Recorded {
            vendor: Some(VendorKind::CloudRecord),
            method: "GET",
            target: path.into(),
            body: bytes::Bytes::new(),
            status: 200,
            response: bytes::Bytes::new(),
            fault: None,
            virtual_ms: t * 1000,
            wall_ms: 0,
        }
    }

    #[test]
    fn an_entry_keeps_path_and_query_in_one_string() {
        let mut e = entry("/v1/record/task/list?app_id=a&page=2", 0);
        assert_eq!((e.path(), e.query()), ("/v1/record/task/list", "app_id=a&page=2"));
        e.target = "/v1/x".into();
        assert_eq!((e.path(), e.query()), ("/v1/x", ""));
        e.target = "/v1/x?".into();
        assert_eq!((e.path(), e.query()), ("/v1/x", ""));
    }

    #[test]
    fn ring_is_bounded_and_filters() {
        let j = Journal::new(3);
        for i in 0..5 {
            j.record(entry(if i % 2 == 0 { "/v1/a" } else { "/v2/b" }, i));
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
