//! The dialect-neutral world every vendor module maps its API onto.
//!
//! [`World`] holds what all vendors share: the virtual clock, the scheduler, the id stream, the file
//! store, the timing table, the request journal, the fault rules and the callback outbox. Vendor-specific
//! state (accounts, tasks in the vendor's words) lives in each vendor module, one lock per tenant
//! ([`Tenants`]), and uses the shared recording engine ([`engine::Recording`]).

pub mod engine;
pub mod files;
pub mod index;
pub mod tenants;

pub use engine::{MediaKind, Phase, Recording, Refusal, Segment};
pub use files::{FileStore, StoredFile};
pub use index::RankedSet;
pub use tenants::{parse_dump, TenantLock, Tenants};

use crate::clock::Clock;
use crate::faults::Faults;
use crate::ids::IdSource;
use crate::journal::Journal;
use crate::outbox::Outbox;
use crate::scheduler::{Job, Scheduler};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The five emulated vendors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VendorKind {
    /// seed 000: Tencent TIC education recording admin API
    IlvbEdu,
    /// seed 001: HST cloud-recording REST API
    CloudRecord,
    /// seed 002: Tencent interactive-live SDK recording + VOD look-ups
    LiveSdk,
    /// seed 003: ZijingCloud meeting API
    Meeting,
    /// seed 004: Tencent interactive-classroom PaaS API
    Iclass,
}

impl VendorKind {
    /// Every vendor, in seed order.
    pub const ALL: [VendorKind; 5] = [
        VendorKind::IlvbEdu,
        VendorKind::CloudRecord,
        VendorKind::LiveSdk,
        VendorKind::Meeting,
        VendorKind::Iclass,
    ];

    /// The name used in fixtures, events, journal filters and tenant ids.
    pub fn as_str(self) -> &'static str {
        match self {
            VendorKind::IlvbEdu => "ilvb_edu",
            VendorKind::CloudRecord => "cloud_record",
            VendorKind::LiveSdk => "live_sdk",
            VendorKind::Meeting => "meeting",
            VendorKind::Iclass => "iclass",
        }
    }
}

/// The fields of the world event `<vendor>.<name>` read as `T`; an error names the event and the path of the
/// offending field. Every vendor's event vocabulary reads its events this way.
pub fn event_fields<T: serde::de::DeserializeOwned>(
    vendor: VendorKind,
    name: &str,
    v: &serde_json::Value,
) -> Result<T, String> {
    serde_path_to_error::deserialize(v)
        .map_err(|e| format!("{vendor}.{name}: {} (at {})", e.inner(), e.path()))
}

impl fmt::Display for VendorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VendorKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VendorKind::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| {
            format!("unknown vendor `{s}` (known: ilvb_edu, cloud_record, live_sdk, meeting, iclass)")
        })
    }
}

/// How long the back end's processing steps take and how big generated media is. Fixture-settable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timings {
    /// seconds a stopped recording waits in the encoding queue
    pub encode_queue_s: f64,
    /// seconds encoding takes
    pub encode_s: f64,
    /// seconds uploading the encoded files takes
    pub upload_s: f64,
    /// bytes per recorded second of a video (mp4) file
    pub video_bytes_per_s: u64,
    /// bytes per recorded second of an audio-only (mp3) file
    pub audio_bytes_per_s: u64,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            encode_queue_s: 5.0,
            encode_s: 10.0,
            upload_s: 5.0,
            video_bytes_per_s: 2000,
            audio_bytes_per_s: 500,
        }
    }
}

/// A timing table with only the keys a fixture gave (merged over the current one).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingsPatch {
    /// see [`Timings::encode_queue_s`]
    pub encode_queue_s: Option<f64>,
    /// see [`Timings::encode_s`]
    pub encode_s: Option<f64>,
    /// see [`Timings::upload_s`]
    pub upload_s: Option<f64>,
    /// see [`Timings::video_bytes_per_s`]
    pub video_bytes_per_s: Option<u64>,
    /// see [`Timings::audio_bytes_per_s`]
    pub audio_bytes_per_s: Option<u64>,
}

impl TimingsPatch {
    /// Problems with the values, as (field, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (name, v) in [
            ("encode_queue_s", self.encode_queue_s),
            ("encode_s", self.encode_s),
            ("upload_s", self.upload_s),
        ] {
            if let Some(v) = v {
                if !(v.is_finite() && (0.0..=86_400.0).contains(&v)) {
                    out.push((name, format!("must be between 0 and 86400 seconds, got {v}")));
                }
            }
        }
        for (name, v) in
            [("video_bytes_per_s", self.video_bytes_per_s), ("audio_bytes_per_s", self.audio_bytes_per_s)]
        {
            if let Some(v) = v {
                if !(1..=10_000_000).contains(&v) {
                    out.push((name, format!("must be between 1 and 10000000, got {v}")));
                }
            }
        }
        out
    }

    /// Apply the given keys over `t`.
    pub fn apply(&self, t: &mut Timings) {
        if let Some(v) = self.encode_queue_s {
            t.encode_queue_s = v;
        }
        if let Some(v) = self.encode_s {
            t.encode_s = v;
        }
        if let Some(v) = self.upload_s {
            t.upload_s = v;
        }
        if let Some(v) = self.video_bytes_per_s {
            t.video_bytes_per_s = v;
        }
        if let Some(v) = self.audio_bytes_per_s {
            t.audio_bytes_per_s = v;
        }
    }
}

/// The shared core of the emulator.
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
    /// the request journal
    pub journal: Journal,
    /// fault rules
    pub faults: Faults,
    /// callbacks: signing, delivery, retries, log
    pub outbox: Outbox,
    /// largest request body accepted, in bytes
    pub max_body_bytes: usize,
    /// callback retry policy per vendor (fixture `callbacks`); absent means the vendor's documented default
    pub callback_policies: RwLock<std::collections::BTreeMap<VendorKind, crate::outbox::RetryPolicy>>,
    /// every route the server registered (for `GET /__admin/routes`)
    pub routes: crate::http::RouteBook,
    public_url: RwLock<String>,
    given_public_url: std::sync::OnceLock<String>,
}

impl World {
    /// A world with an empty state.
    pub fn new(
        clock: Clock,
        seed: u64,
        journal_size: usize,
        public_url: String,
        max_body_bytes: usize,
    ) -> Self {
        World {
            clock,
            scheduler: Scheduler::default(),
            ids: IdSource::new(seed),
            files: FileStore::default(),
            timings: RwLock::new(Timings::default()),
            journal: Journal::new(journal_size),
            faults: Faults::default(),
            outbox: Outbox::default(),
            max_body_bytes,
            callback_policies: RwLock::new(std::collections::BTreeMap::new()),
            routes: crate::http::RouteBook::default(),
            public_url: RwLock::new(public_url.trim_end_matches('/').to_string()),
            given_public_url: std::sync::OnceLock::new(),
        }
    }

    /// Base URL of everything recmock hands out (file downloads, the business gateway address).
    pub fn public_url(&self) -> String {
        self.public_url.read().clone()
    }

    /// Set the base URL (once the listening port is known).
    pub fn set_public_url(&self, url: &str) {
        *self.public_url.write() = url.trim_end_matches('/').to_string();
    }

    /// Fix the base of every URL handed out (`--public-url`): answers then no longer follow the address
    /// each request came in on. Only the first call counts.
    pub fn give_public_url(&self, url: &str) {
        let url = url.trim_end_matches('/').to_string();
        self.set_public_url(&url);
        let _ = self.given_public_url.set(url);
    }

    /// `--public-url`, when it was given.
    pub fn given_public_url(&self) -> Option<&str> {
        self.given_public_url.get().map(String::as_str)
    }

    /// The download URL of a stored file under the public URL: for what no request asked for (callbacks,
    /// state built by jobs). An answer to a request uses [`crate::http::Exchange::file_url`] instead.
    pub fn file_url(&self, f: &StoredFile) -> String {
        files::file_url_at(&self.public_url(), f)
    }

    /// Current timing table.
    pub fn timings(&self) -> Timings {
        *self.timings.read()
    }

    /// The retry policy of `vendor`'s callbacks.
    pub fn callback_policy(&self, vendor: VendorKind) -> crate::outbox::RetryPolicy {
        self.callback_policies.read().get(&vendor).copied().unwrap_or_default()
    }

    /// Hand a callback to the outbox (signed and delivered from there).
    pub fn send_callback(&self, cb: crate::outbox::NewCallback, now_ms: i64) -> String {
        self.outbox.enqueue(&self.scheduler, cb, now_ms)
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
            self.schedule_vendor(due, vendor, tenant, engine::STEP_TASK, &rec.id);
        }
    }
}
