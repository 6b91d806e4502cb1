//! The one source of "later": a queue of due jobs keyed by virtual time.
//!
//! Status progressions, timeouts, segment cuts, callback deliveries and retries and fixture timeline steps
//! are all [`Job`]s with a due instant. Jobs due at the same instant run in the order they were scheduled
//! (`seq`), so a run is deterministic. Nothing here sleeps: the runner in [`crate::app::Emulator`] pops what is due,
//! either when the clock is advanced through the control plane or, in real time, from a background pump.

use crate::VendorKind;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// Something that must happen at a virtual instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// A step of a vendor's own state machine (a recording's next status, a timeout check, a transcode).
    Vendor {
        /// which vendor module runs it
        vendor: VendorKind,
        /// the tenant (account) it concerns
        tenant: Box<str>,
        /// what to do, in the vendor's words (`recording_step`, `timeout_check`, ...)
        task: Box<str>,
        /// the resource it concerns (a record id, a class id, ...)
        target: Box<str>,
    },
    /// A world event from a fixture timeline.
    Timeline {
        /// the event, as `POST /__admin/events` takes it
        event: serde_json::Value,
    },
    /// One delivery attempt of a callback held by the outbox.
    Delivery {
        /// the callback's id in the outbox
        callback_id: String,
    },
}

impl Job {
    /// The tenant the job belongs to, if any (used to drop a tenant's jobs on a tenant reset).
    pub fn tenant(&self) -> Option<(VendorKind, &str)> {
        match self {
            Job::Vendor { vendor, tenant, .. } => Some((*vendor, &**tenant)),
            _ => None,
        }
    }
}

/// A scheduled job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// virtual unix milliseconds at which it falls due
    pub due_ms: i64,
    /// tie-breaker: order of scheduling
    pub seq: u64,
    /// what to do
    pub job: Job,
}

impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.due_ms, self.seq).cmp(&(other.due_ms, other.seq))
    }
}

#[derive(Debug, Default)]
struct Queue {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

/// The queue of due jobs.
#[derive(Debug, Default)]
pub struct Scheduler {
    queue: Mutex<Queue>,
    /// woken whenever a job is added, so the real-time pump can re-plan its sleep
    pub(crate) wake: tokio::sync::Notify,
}

/// The serialisable state of the scheduler.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SchedulerState {
    /// next sequence number
    pub seq: u64,
    /// pending jobs in due order
    pub jobs: Vec<Entry>,
}

impl Scheduler {
    /// Schedule `job` at `due_ms`.
    pub fn schedule(&self, due_ms: i64, job: Job) {
        let earliest = {
            let mut q = self.queue.lock();
            q.seq += 1;
            let seq = q.seq;
            let earliest = q.heap.peek().is_none_or(|top| due_ms < top.0.due_ms);
            q.heap.push(Reverse(Entry { due_ms, seq, job }));
            earliest
        };
        // The pump sleeps until the earliest due job: only a new earliest one changes its plan. (Waking it
        // for every job scheduled, e.g. the idle timeout of every new record task, costs a thread wake-up
        // per request.)
        if earliest {
            self.wake.notify_one();
        }
    }

    /// Take the earliest job if it is due at or before `until_ms`.
    pub fn pop_due(&self, until_ms: i64) -> Option<Entry> {
        let mut q = self.queue.lock();
        match q.heap.peek() {
            Some(Reverse(e)) if e.due_ms <= until_ms => q.heap.pop().map(|r| r.0),
            _ => None,
        }
    }

    /// Take the earliest job if it is due at or before `until_ms` and `pred` accepts it.
    pub fn pop_due_if(&self, until_ms: i64, pred: impl Fn(&Entry) -> bool) -> Option<Entry> {
        let mut q = self.queue.lock();
        match q.heap.peek() {
            Some(Reverse(e)) if e.due_ms <= until_ms && pred(e) => q.heap.pop().map(|r| r.0),
            _ => None,
        }
    }

    /// When the earliest job falls due.
    pub fn next_due(&self) -> Option<i64> {
        self.queue.lock().heap.peek().map(|r| r.0.due_ms)
    }

    /// Number of pending jobs.
    pub fn len(&self) -> usize {
        self.queue.lock().heap.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drop every job for which `keep` is false.
    pub fn retain(&self, keep: impl Fn(&Job) -> bool) {
        let mut q = self.queue.lock();
        let heap = std::mem::take(&mut q.heap);
        q.heap = heap.into_iter().filter(|r| keep(&r.0.job)).collect();
    }

    /// Drop everything.
    pub fn clear(&self) {
        let mut q = self.queue.lock();
        q.heap.clear();
    }

    /// The first `n` pending jobs, in due order (what is scheduled next), without sorting the rest.
    pub fn next(&self, n: usize) -> Vec<Entry> {
        let q = self.queue.lock();
        let mut all: Vec<&Entry> = q.heap.iter().map(|r| &r.0).collect();
        if all.len() > n {
            all.select_nth_unstable(n);
            all.truncate(n);
        }
        all.sort();
        all.into_iter().cloned().collect()
    }

    /// The pending jobs, in due order, for a state dump.
    pub fn state(&self) -> SchedulerState {
        let q = self.queue.lock();
        let mut jobs: Vec<Entry> = q.heap.iter().map(|r| r.0.clone()).collect();
        jobs.sort();
        SchedulerState { seq: q.seq, jobs }
    }

    /// Replace the queue with a dump's.
    pub fn restore(&self, s: SchedulerState) {
        {
            let mut q = self.queue.lock();
            q.seq = s.seq.max(s.jobs.iter().map(|e| e.seq).max().unwrap_or(0));
            q.heap = s.jobs.into_iter().map(Reverse).collect();
        }
        self.wake.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tl(n: i64) -> Job {
        Job::Timeline { event: serde_json::json!({ "n": n }) }
    }

    #[test]
    fn pops_in_due_then_schedule_order() {
        let s = Scheduler::default();
        s.schedule(30, tl(1));
        s.schedule(10, tl(2));
        s.schedule(10, tl(3));
        assert_eq!(s.next_due(), Some(10));
        assert!(s.pop_due(5).is_none());
        let order: Vec<_> = std::iter::from_fn(|| s.pop_due(100)).map(|e| e.job).collect();
        assert_eq!(order, vec![tl(2), tl(3), tl(1)]);
    }

    #[test]
    fn state_round_trips() {
        let s = Scheduler::default();
        s.schedule(20, tl(1));
        s.schedule(10, tl(2));
        let st = s.state();
        let t = Scheduler::default();
        t.restore(st.clone());
        assert_eq!(t.state(), st);
        t.schedule(10, tl(3));
        assert_eq!(t.pop_due(10).map(|e| e.job), Some(tl(2)));
    }
}
