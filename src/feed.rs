//! The change feed: one bounded broadcast of what changed in the world, for the layers above to follow
//! instead of polling (the HST event gateway pushes stream changes from it, a live dashboard redraws from
//! it).
//!
//! Publishing is free while nobody listens: the change is not even built. A listener that falls more than
//! [`CAPACITY`] changes behind loses the oldest ones and is told how many ([`Missed`]), so a slow reader
//! never holds up a request or grows memory.
//!
//! ```
//! use recmock::feed::{Change, Feed};
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let feed = Feed::default();
//! feed.publish(|| Change::Reset { tenant: None }); // nobody listens: dropped, never built
//! let mut sub = feed.subscribe();
//! feed.publish(|| Change::Clock { now_ms: 5_000, frozen: true, scale: 1.0 });
//! assert!(matches!(sub.next().await, Ok(Change::Clock { now_ms: 5_000, .. })));
//! # });
//! ```

use crate::VendorKind;
use serde::Serialize;
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Changes a listener may fall behind by before it starts losing the oldest.
pub const CAPACITY: usize = 4096;

/// One thing that changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Something in a tenant (account, app) was created, moved on or removed: a request or a job took the
    /// tenant's lock for writing.
    Tenant {
        /// the vendor
        vendor: VendorKind,
        /// the tenant's id in the vendor's words
        tenant: Arc<str>,
    },
    /// A world event was applied (a fixture timeline step, a scenario step, `POST /__admin/events`).
    WorldEvent {
        /// the vendor
        vendor: VendorKind,
        /// the event, as given (`type` included)
        event: Arc<Value>,
        /// what the vendor said it changed
        outcome: Arc<Value>,
        /// virtual unix milliseconds it happened at
        at_ms: i64,
    },
    /// A request was answered and recorded in the journal under `id`.
    Request {
        /// the journal id
        id: u64,
        /// the vendor that answered, none for the control plane and downloads
        vendor: Option<VendorKind>,
    },
    /// A callback was accepted, attempted, or changed state.
    Callback {
        /// the callback's id in the outbox
        id: Arc<str>,
        /// the vendor that sent it
        vendor: VendorKind,
        /// its state after the change (`pending`, `delivered`, ...)
        state: &'static str,
    },
    /// The virtual clock was set, advanced or restored.
    Clock {
        /// virtual unix milliseconds
        now_ms: i64,
        /// whether it stands still
        frozen: bool,
        /// virtual seconds per wall second
        scale: f64,
    },
    /// The whole world, or one tenant (`<vendor>:<id>`), was reset or replaced by a restore.
    Reset {
        /// the tenant, or none for everything
        tenant: Option<Arc<str>>,
    },
}

/// The feed.
#[derive(Debug)]
pub struct Feed {
    sender: broadcast::Sender<Change>,
    listeners: Arc<AtomicUsize>,
}

impl Default for Feed {
    fn default() -> Self {
        Feed { sender: broadcast::channel(CAPACITY).0, listeners: Arc::new(AtomicUsize::new(0)) }
    }
}

/// A listener fell behind and lost this many of the oldest changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Missed(pub u64);

/// The feed closed (the world is gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl Feed {
    /// Publish a change; `change` is called only when someone listens.
    pub fn publish(&self, change: impl FnOnce() -> Change) {
        if self.listeners.load(Ordering::Relaxed) > 0 {
            // An error means every listener left meanwhile: nothing to do.
            let _ = self.sender.send(change());
        }
    }

    /// Start listening: every change published from now on.
    pub fn subscribe(&self) -> Subscription {
        self.listeners.fetch_add(1, Ordering::Relaxed);
        Subscription { receiver: self.sender.subscribe(), listeners: self.listeners.clone() }
    }

    /// How many listen now.
    pub fn listeners(&self) -> usize {
        self.listeners.load(Ordering::Relaxed)
    }
}

/// One listener of the feed; dropping it stops listening.
#[derive(Debug)]
pub struct Subscription {
    receiver: broadcast::Receiver<Change>,
    listeners: Arc<AtomicUsize>,
}

impl Subscription {
    /// The next change; `Err(Ok(Missed))` when this listener fell behind (the next call goes on with the
    /// oldest change still kept), `Err(Err(Closed))` when the feed is gone.
    pub async fn next(&mut self) -> Result<Change, Result<Missed, Closed>> {
        match self.receiver.recv().await {
            Ok(c) => Ok(c),
            Err(broadcast::error::RecvError::Lagged(n)) => Err(Ok(Missed(n))),
            Err(broadcast::error::RecvError::Closed) => Err(Err(Closed)),
        }
    }

    /// The next change if one is waiting, without waiting.
    pub fn try_next(&mut self) -> Option<Result<Change, Missed>> {
        match self.receiver.try_recv() {
            Ok(c) => Some(Ok(c)),
            Err(broadcast::error::TryRecvError::Lagged(n)) => Some(Err(Missed(n))),
            Err(_) => None,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.listeners.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_built_without_listeners_and_a_slow_listener_is_told_what_it_missed() {
        let feed = Feed::default();
        feed.publish(|| unreachable!("built without a listener"));
        let mut sub = feed.subscribe();
        assert_eq!(feed.listeners(), 1);
        for i in 0..(CAPACITY as i64 + 10) {
            feed.publish(|| Change::Clock { now_ms: i, frozen: true, scale: 1.0 });
        }
        assert_eq!(sub.try_next(), Some(Err(Missed(10))));
        assert_eq!(sub.try_next(), Some(Ok(Change::Clock { now_ms: 10, frozen: true, scale: 1.0 })));
        drop(sub);
        assert_eq!(feed.listeners(), 0);
    }
}
