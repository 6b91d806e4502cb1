//! The change feed: one bounded broadcast of what changed in the world, for the layers above to follow
//! instead of polling (the HST event gateway pushes stream changes from it, a live dashboard redraws from
//! it).
//!
//! Publishing is free while nobody listens: the change is not even built. A listener that falls more than
//! [`CAPACITY`] changes behind loses the oldest ones and is told how many ([`Missed`]), so a slow reader
//! never holds up a request or grows memory.
//!
//! A [`Tap`] is a listener that is called synchronously, on the publisher's thread, before `publish`
//! returns: what it does is done when the change's cause (an applied world event, a reset) is. It must be
//! quick and must never wait (the HST event gateway's tap puts frames into bounded per-socket queues and
//! closes a socket whose queue is full, so a slow socket never holds up the world).
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
use parking_lot::Mutex;
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

/// A synchronous listener (see [`Feed::tap`]).
type TapFn = Arc<dyn Fn(&Change) + Send + Sync>;

/// The taps, as one list replaced whole on every change: a publisher takes a snapshot (one reference
/// count) and calls them with no lock held, so a tap may publish in turn (e.g. journal what it did).
#[derive(Default)]
struct Taps {
    list: Mutex<Arc<Vec<(u64, TapFn)>>>,
    next_id: std::sync::atomic::AtomicU64,
    count: AtomicUsize,
}

impl std::fmt::Debug for Taps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Taps").field("count", &self.count.load(Ordering::Relaxed)).finish()
    }
}

/// The feed.
#[derive(Debug)]
pub struct Feed {
    sender: broadcast::Sender<Change>,
    listeners: Arc<AtomicUsize>,
    taps: Arc<Taps>,
}

impl Default for Feed {
    fn default() -> Self {
        Feed {
            sender: broadcast::channel(CAPACITY).0,
            listeners: Arc::new(AtomicUsize::new(0)),
            taps: Arc::new(Taps::default()),
        }
    }
}

/// A listener fell behind and lost this many of the oldest changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Missed(pub u64);

/// The feed closed (the world is gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl Feed {
    /// Publish a change; `change` is called only when someone listens. Taps run first, on this thread.
    pub fn publish(&self, change: impl FnOnce() -> Change) {
        if self.listeners.load(Ordering::Relaxed) > 0 {
            let change = change();
            if self.taps.count.load(Ordering::Relaxed) > 0 {
                let taps = self.taps.list.lock().clone();
                for (_, tap) in taps.iter() {
                    tap(&change);
                }
            }
            if self.sender.receiver_count() > 0 {
                // An error means every listener left meanwhile: nothing to do.
                let _ = self.sender.send(change);
            }
        }
    }

    /// Call `f` with every change from now on, synchronously in [`Feed::publish`], until the returned
    /// [`Tap`] is dropped. `f` must not wait for anything (it runs on the publisher's thread, often a
    /// request's).
    pub fn tap(&self, f: impl Fn(&Change) + Send + Sync + 'static) -> Tap {
        let id = self.taps.next_id.fetch_add(1, Ordering::Relaxed);
        {
            let mut list = self.taps.list.lock();
            let mut next: Vec<(u64, TapFn)> = list.as_ref().clone();
            next.push((id, Arc::new(f)));
            *list = Arc::new(next);
            self.taps.count.fetch_add(1, Ordering::Relaxed);
        }
        self.listeners.fetch_add(1, Ordering::Relaxed);
        Tap { id, taps: self.taps.clone(), listeners: self.listeners.clone() }
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

/// A synchronous listener of the feed ([`Feed::tap`]); dropping it stops the calls.
pub struct Tap {
    id: u64,
    taps: Arc<Taps>,
    listeners: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Tap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tap").field("id", &self.id).finish()
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        let mut list = self.taps.list.lock();
        let next: Vec<(u64, TapFn)> = list.iter().filter(|(id, _)| *id != self.id).cloned().collect();
        *list = Arc::new(next);
        self.taps.count.fetch_sub(1, Ordering::Relaxed);
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

    #[test]
    fn taps_run_before_publish_returns_and_may_publish_in_turn() {
        let feed = Arc::new(Feed::default());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (s, f) = (seen.clone(), Arc::downgrade(&feed));
        let tap = feed.tap(move |c| {
            s.lock().push(c.clone());
            if let (Change::Reset { .. }, Some(feed)) = (c, f.upgrade()) {
                feed.publish(|| Change::Clock { now_ms: 1, frozen: true, scale: 1.0 });
            }
        });
        assert_eq!(feed.listeners(), 1);
        feed.publish(|| Change::Reset { tenant: None });
        assert_eq!(
            *seen.lock(),
            [Change::Reset { tenant: None }, Change::Clock { now_ms: 1, frozen: true, scale: 1.0 }]
        );
        drop(tap);
        assert_eq!(feed.listeners(), 0);
        feed.publish(|| unreachable!("built without a listener"));
    }
}
