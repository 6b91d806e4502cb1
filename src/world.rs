//! The simulation kernel every vendor module maps its API onto.
//!
//! [`World`] holds what all vendors share: the virtual clock, the scheduler, the id stream, the file
//! store, the timing table, a handle on the callback outbox and the change feed. Vendor-specific state
//! (accounts, tasks in the vendor's words) lives in each vendor module, one lock per tenant
//! ([`crate::tenants::Tenants`]), and uses the shared recording engine ([`crate::recording::Recording`]).

use crate::clock::{AuthClock, AuthNow, Clock};
use crate::feed::{Change, Feed};
use crate::files::FileStore;
use crate::ids::IdSource;
use crate::limits::Caps;
use crate::outbox::Outbox;
use crate::recording::{self, Recording};
pub use crate::recording::{Timings, TimingsPatch};
use crate::scheduler::{Job, Scheduler};
use crate::VendorKind;
use parking_lot::RwLock;
use std::sync::Arc;

/// The simulation kernel: what every vendor's world runs on. Nothing here knows about HTTP (that is the
/// front door's, [`crate::http::FrontDoor`]) or about any vendor (each keeps its own state in
/// [`crate::tenants::Tenants`]).
#[derive(Debug)]
pub struct World {
    /// virtual time
    pub clock: Clock,
    /// due jobs
    pub scheduler: Scheduler,
    /// reproducible ids
    pub ids: IdSource,
    /// recorded files and their bytes
    pub files: FileStore,
    /// processing durations and media sizes
    pub timings: RwLock<Timings>,
    /// callbacks: signing, delivery, retries, log
    pub outbox: Arc<Outbox>,
    /// callback retry policy per vendor (fixture `callbacks`); absent means the vendor's documented default
    pub callback_policies: RwLock<std::collections::BTreeMap<VendorKind, crate::outbox::RetryPolicy>>,
    /// what changed, for the layers above to follow
    pub feed: Arc<Feed>,
    /// every memory cap (`--journal-bytes`, `--max-groups`, ...), and their warnings
    pub caps: Arc<Caps>,
    /// which clock judges client-made times (`--auth-clock`), as [`AuthClock::to_u8`]
    auth_clock: std::sync::atomic::AtomicU8,
}

impl World {
    /// A world with an empty state on `clock`, its ids drawn from `seed`, its callbacks sent by `outbox`,
    /// its changes published on `feed` and what it keeps bounded by `caps`.
    pub fn new(clock: Clock, seed: u64, outbox: Arc<Outbox>, feed: Arc<Feed>, caps: Arc<Caps>) -> Self {
        World {
            clock,
            scheduler: Scheduler::default(),
            ids: IdSource::new(seed),
            files: FileStore::new(caps.clone()),
            timings: RwLock::new(Timings::default()),
            outbox,
            callback_policies: RwLock::new(std::collections::BTreeMap::new()),
            feed,
            caps,
            auth_clock: std::sync::atomic::AtomicU8::new(AuthClock::default().to_u8()),
        }
    }

    /// Which clock judges client-made times.
    pub fn auth_clock(&self) -> AuthClock {
        AuthClock::from_u8(self.auth_clock.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Change which clock judges client-made times.
    pub fn set_auth_clock(&self, mode: AuthClock) {
        self.auth_clock.store(mode.to_u8(), std::sync::atomic::Ordering::Relaxed);
    }

    /// Both clocks now, with virtual time read as `virtual_ms` (a job's or event's instant), for judging a
    /// client-made time outside a request (a class beginning checks its recorder's usersig).
    pub fn auth_now(&self, virtual_ms: i64) -> AuthNow {
        AuthNow::new(self.auth_clock(), virtual_ms, crate::clock::wall_now_ms())
    }

    /// Current timing table.
    pub fn timings(&self) -> Timings {
        *self.timings.read()
    }

    /// The retry policy of `vendor`'s callbacks.
    pub fn callback_policy(&self, vendor: VendorKind) -> crate::outbox::RetryPolicy {
        self.callback_policies.read().get(&vendor).copied().unwrap_or_default()
    }

    /// Hand a callback to the outbox (signed and delivered from there), with its vendor's retry policy.
    pub fn send_callback(&self, cb: crate::outbox::NewCallback, now_ms: i64) -> String {
        let policy = self.callback_policy(cb.vendor);
        self.outbox.enqueue(&self.scheduler, cb, policy, now_ms)
    }

    /// Schedule a vendor job.
    pub fn schedule_vendor(&self, due_ms: i64, vendor: VendorKind, tenant: &str, task: &str, target: &str) {
        self.scheduler.schedule(
            due_ms,
            Job::Vendor { vendor, tenant: tenant.into(), task: task.into(), target: target.into() },
        );
    }

    /// Schedule the next processing step of `rec` (queued → encoding → uploading → done), if it has one.
    pub fn schedule_recording_step(&self, vendor: VendorKind, tenant: &str, rec: &Recording) {
        if let Some(due) = rec.next_step_due(&self.timings()) {
            self.schedule_vendor(due, vendor, tenant, recording::STEP_TASK, &rec.id);
        }
    }

    /// Publish that the clock changed (set, advanced, restored).
    pub fn clock_changed(&self) {
        self.feed.publish(|| {
            let r = self.clock.reading();
            Change::Clock { now_ms: r.now_ms, frozen: r.frozen, scale: r.scale }
        });
    }
}
