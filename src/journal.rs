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
    entries: VecDeque<JournalEntry>,
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

    /// Record an entry (its id is assigned here).
    pub fn record(&self, mut e: JournalEntry) {
        if self.capacity == 0 {
            return;
        }
        let mut r = self.ring.lock();
        e.id = r.next_id;
        r.next_id += 1;
        if r.entries.len() >= self.capacity {
            r.entries.pop_front();
        }
        r.entries.push_back(e);
    }

    /// Entries matching `f`, oldest first.
    pub fn list(&self, f: &JournalFilter) -> Vec<JournalEntry> {
        let r = self.ring.lock();
        let mut out: Vec<JournalEntry> = r
            .entries
            .iter()
            .filter(|e| f.vendor.is_none_or(|v| e.vendor == Some(v)))
            .filter(|e| f.path.as_deref().is_none_or(|p| e.path.starts_with(p)))
            .filter(|e| f.since.is_none_or(|s| e.virtual_time >= s))
            .cloned()
            .collect();
        if let Some(n) = f.limit {
            let skip = out.len().saturating_sub(n);
            out.drain(..skip);
        }
        out
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

    fn entry(path: &str, t: i64) -> JournalEntry {
        JournalEntry {
            id: 0,
            vendor: Some(VendorKind::CloudRecord),
            method: "GET".into(),
            path: path.into(),
            query: String::new(),
            body: String::new(),
            status: 200,
            response: String::new(),
            fault: None,
            virtual_time: t,
            virtual_ms: t * 1000,
            wall_ms: 0,
        }
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
