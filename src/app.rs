//! The application: the composition root. [`Emulator`] builds the world, the front door and the vendor
//! modules on them, loads the fixtures it started from, resets, dumps and restores, and runs due jobs in
//! order (the runner).

use crate::clock::{AuthClock, ClockReading};
use crate::config::Config;
use crate::faults::Faults;
use crate::feed::{Change, Feed};
use crate::files::StoredFile;
use crate::fixture::{self, FixtureDoc, FixtureError};
use crate::http::FrontDoor;
use crate::ids::IdState;
use crate::limits::Caps;
use crate::outbox::Outbox;
use crate::scheduler::{Job, SchedulerState};
use crate::vendors::{self, Vendor};
use crate::world::{Timings, World};
use crate::VendorKind;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;

/// Most jobs one run executes (a guard against a job that keeps rescheduling itself at the same instant).
pub const MAX_JOBS_PER_RUN: usize = 1_000_000;

/// What loading a fixture did.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    /// the document's name
    pub name: String,
    /// tenants it created, as `<vendor>:<id>`
    pub tenants: Vec<String>,
    /// timeline steps scheduled
    pub timeline_steps: usize,
    /// anything worth knowing (e.g. a clock start that was ignored)
    pub notes: Vec<String>,
}

/// One job a run executed.
#[derive(Debug, Clone, Serialize)]
pub struct RanJob {
    /// virtual unix seconds it was due
    pub at: i64,
    /// virtual unix milliseconds it was due
    pub at_ms: i64,
    /// `vendor`, `timeline` or `delivery`
    pub kind: &'static str,
    /// which vendor
    pub vendor: Option<VendorKind>,
    /// what happened
    pub description: String,
}

/// How a fixture is being loaded.
#[derive(Debug, Clone, Copy, PartialEq)]
enum LoadMode<'a> {
    /// at start or full reset: the fixture's clock start is applied as is
    Startup,
    /// `POST /__admin/fixtures`: time never goes back
    Runtime,
    /// reloading one tenant after a tenant reset
    Tenant(VendorKind, &'a str),
}

/// A whole-world dump, as `GET /__admin/state` shows it and `PUT /__admin/state` takes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateDump {
    /// format version
    pub recmock_state: u32,
    /// the clock
    pub clock: ClockReading,
    /// which clock judges client-made times (absent in dumps older than it: left as it is)
    #[serde(default)]
    pub auth_clock: Option<AuthClock>,
    /// the id stream
    pub ids: IdState,
    /// the timing table
    pub timings: Timings,
    /// pending jobs
    pub scheduler: SchedulerState,
    /// stored files
    pub files: Vec<StoredFile>,
    /// fault rules and the next rule id
    pub faults: Value,
    /// callbacks
    pub outbox: Value,
    /// callback delivery settings: `timeout_ms` and per-vendor `policies`
    #[serde(default)]
    pub callback_settings: Value,
    /// each vendor's state
    pub vendors: serde_json::Map<String, Value>,
}

/// The emulator: the world, the front door, and the vendors on them.
pub struct Emulator {
    /// the simulation kernel
    pub world: Arc<World>,
    /// the HTTP front door (journal, fault rules, routes, public URL)
    pub door: Arc<FrontDoor>,
    /// the fault rules (the front door's and the outbox's)
    pub faults: Arc<Faults>,
    /// dashboard event streams open now (at most `--max-ui-streams`)
    pub ui_streams: Arc<std::sync::atomic::AtomicUsize>,
    vendors: Vec<Arc<dyn Vendor>>,
    start_fixtures: Vec<FixtureDoc>,
    frozen_override: bool,
    scale_override: Option<f64>,
    /// `--auth-clock` was given: fixtures and dumps do not change the mode
    auth_clock_override: bool,
    callback_timeout_ms: u64,
    runner: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").field("vendors", &self.vendors.len()).finish()
    }
}

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// a fixture is unreadable or wrong
    #[error("fixture {name} has {} error(s):\n{}", .errors.len(), .errors.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Fixture {
        /// the document
        name: String,
        /// its problems
        errors: Vec<FixtureError>,
    },
    /// the state file is unreadable or wrong
    #[error("state file {path}: {message}")]
    State {
        /// the file
        path: String,
        /// what is wrong
        message: String,
    },
    /// the HTTPS listener's certificate could not be loaded or made
    #[error("TLS: {0}")]
    Tls(String),
    /// the listener could not be opened
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// address
        addr: String,
        /// cause
        source: std::io::Error,
    },
}

impl Emulator {
    /// Build the world and the vendors, and load the configured fixtures.
    pub fn new(config: &Config, public_url: String) -> Result<Arc<Emulator>, StartError> {
        let seed = config.seed.unwrap_or_else(rand::random);
        let clock = crate::clock::Clock::new(
            crate::clock::wall_now_ms(),
            config.frozen_clock,
            config.time_scale.unwrap_or(1.0),
        );
        let feed = Arc::new(Feed::default());
        // Every memory cap, read by the layers that keep things (docs/decisions.md, "Bounded memory").
        let caps = Arc::new(Caps::new(config.limits));
        let faults = Arc::new(Faults::new(caps.clone()));
        let roots = crate::http::tls::receiver_roots(config.ca_dir());
        let outbox = Arc::new(Outbox::new(faults.clone(), feed.clone(), caps.clone(), &roots));
        outbox.set_timeout_ms(config.callback_timeout_ms);
        let world = Arc::new(World::new(clock, seed, outbox, feed, caps));
        world.set_auth_clock(config.auth_clock.unwrap_or(config.default_auth_clock));
        let door = Arc::new(FrontDoor::new(world.clone(), faults.clone(), config.max_body_bytes, public_url));
        if let Some(u) = &config.public_url {
            door.give_public_url(u);
        }
        let vendors = vendors::all(&world, &door);
        let mut docs = Vec::new();
        for src in &config.fixtures {
            let doc =
                src.read().map_err(|e| StartError::Fixture { name: format!("{src:?}"), errors: vec![e] })?;
            docs.push(doc);
        }
        let app = Arc::new(Emulator {
            world,
            door,
            faults,
            ui_streams: Arc::default(),
            vendors,
            start_fixtures: docs,
            frozen_override: config.frozen_clock,
            scale_override: config.time_scale,
            auth_clock_override: config.auth_clock.is_some(),
            callback_timeout_ms: config.callback_timeout_ms,
            runner: tokio::sync::Mutex::new(()),
        });
        for doc in &app.start_fixtures {
            app.load(doc, LoadMode::Startup)
                .map_err(|errors| StartError::Fixture { name: doc.name.clone(), errors })?;
        }
        Ok(app)
    }

    /// The vendor module of `kind`, if it is implemented.
    pub fn vendor(&self, kind: VendorKind) -> Option<&Arc<dyn Vendor>> {
        self.vendors.iter().find(|v| v.kind() == kind)
    }

    /// Every implemented vendor module.
    pub fn vendors(&self) -> &[Arc<dyn Vendor>] {
        &self.vendors
    }

    /// Names of the fixtures loaded at start.
    pub fn start_fixture_names(&self) -> Vec<String> {
        self.start_fixtures.iter().map(|d| d.name.clone()).collect()
    }

    /// Check a fixture document without loading it: everything `recmock check` reports.
    pub fn check(&self, doc: &Value) -> Vec<FixtureError> {
        check_with(&self.vendors, doc)
    }

    /// Load a fixture at run time (`POST /__admin/fixtures`).
    pub fn load_runtime(&self, doc: &FixtureDoc) -> Result<LoadReport, Vec<FixtureError>> {
        self.load(doc, LoadMode::Runtime)
    }

    fn load(&self, doc: &FixtureDoc, mode: LoadMode) -> Result<LoadReport, Vec<FixtureError>> {
        let mut errors = check_with(&self.vendors, &doc.value);
        let common = fixture::parse_common(&doc.value, &mut Vec::new());
        if !errors.is_empty() {
            return Err(errors);
        }
        let only = match mode {
            LoadMode::Tenant(k, id) => Some((k, id)),
            _ => None,
        };
        let sections: Vec<(&Arc<dyn Vendor>, &Value)> = self
            .vendors
            .iter()
            .filter(|v| only.is_none_or(|(k, _)| k == v.kind()))
            .filter_map(|v| doc.value.get(v.kind().as_str()).map(|s| (v, s)))
            .collect();
        for (v, s) in &sections {
            if let Err(mut e) = v.load_section(s, v.kind().as_str(), only.map(|o| o.1), true) {
                errors.append(&mut e);
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut report =
            LoadReport { name: doc.name.clone(), tenants: Vec::new(), timeline_steps: 0, notes: Vec::new() };
        // Clock and settings first: vendor sections may give times relative to the (new) now.
        if only.is_none() {
            if let Some(c) = &common.clock {
                let frozen = if self.frozen_override { Some(true) } else { c.frozen };
                let scale = self.scale_override.or(c.scale);
                match mode {
                    LoadMode::Startup => {
                        let now = self.world.clock.reading();
                        self.world.clock.restore(ClockReading {
                            now_ms: c.start.map_or(now.now_ms, |s| s * 1000),
                            frozen: frozen.unwrap_or(now.frozen),
                            scale: scale.unwrap_or(now.scale),
                        });
                    }
                    _ => {
                        let now = self.world.clock.now_ms();
                        let start = c.start.map(|s| s * 1000).filter(|s| {
                            let later = *s >= now;
                            if !later {
                                report.notes.push(
                                    "clock.start ignored: it is in the past and time never goes back".into(),
                                );
                            }
                            later
                        });
                        if let Err(e) = self.world.clock.set(frozen, scale, start) {
                            report.notes.push(format!("clock not changed: {e}"));
                        }
                    }
                }
            }
            if let Some(m) = common.auth_clock.filter(|_| !self.auth_clock_override) {
                self.world.set_auth_clock(m);
            }
            if let Some(t) = &common.timings {
                t.apply(&mut self.world.timings.write());
            }
            if let Some(cb) = &common.callbacks {
                if let Some(ms) = cb.timeout_ms {
                    self.world.outbox.set_timeout_ms(ms);
                }
                self.world.callback_policies.write().extend(cb.policies());
            }
        }
        for (v, s) in &sections {
            match v.load_section(s, v.kind().as_str(), only.map(|o| o.1), false) {
                Ok(ids) => report.tenants.extend(ids.into_iter().map(|id| format!("{}:{id}", v.kind()))),
                Err(mut e) => errors.append(&mut e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if only.is_some() {
            return Ok(report);
        }
        let base = self.world.clock.now_ms();
        for step in &common.timeline {
            let due =
                if step.at > 1e9 { (step.at * 1000.0) as i64 } else { base + (step.at * 1000.0) as i64 };
            self.world.scheduler.schedule(due, Job::Timeline { event: step.event.clone() });
        }
        report.timeline_steps = common.timeline.len();
        Ok(report)
    }

    /// Empty the world and reload the start fixtures; or, with `tenant` (`<vendor>:<id>`), only that tenant.
    pub fn reset(&self, tenant: Option<&str>) -> Result<Value, String> {
        match tenant {
            None => {
                for v in &self.vendors {
                    v.reset(None);
                }
                self.world.scheduler.clear();
                self.world.files.clear();
                self.world.outbox.clear();
                self.door.journal.clear();
                self.faults.clear();
                *self.world.timings.write() = Timings::default();
                self.world.callback_policies.write().clear();
                self.world.outbox.set_timeout_ms(self.callback_timeout_ms);
                // Ids start over too, so a reset world answers exactly as a fresh start with the same seed.
                self.world.ids.restore(IdState { counter: 0, ..self.world.ids.state() });
                // A new world: each cap warns again when it is next reached.
                self.world.caps.rearm();
                let mut loaded = Vec::new();
                for doc in &self.start_fixtures {
                    let r = self.load(doc, LoadMode::Startup).map_err(|e| {
                        format!(
                            "reloading {}: {}",
                            doc.name,
                            e.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("; ")
                        )
                    })?;
                    loaded.push(r);
                }
                self.world.feed.publish(|| Change::Reset { tenant: None });
                self.world.clock_changed();
                Ok(json!({ "reset": "all", "loaded": loaded }))
            }
            Some(t) => {
                let (kind, id) =
                    t.split_once(':').ok_or_else(|| format!("tenant `{t}` is not `<vendor>:<id>`"))?;
                let kind: VendorKind = kind.parse()?;
                let v = self.vendor(kind).ok_or_else(|| format!("vendor {kind} is not emulated yet"))?;
                if !v.tenant_ids().iter().any(|x| x == id) {
                    return Err(format!("no tenant `{t}` (known: {})", self.tenant_list().join(", ")));
                }
                v.reset(Some(id));
                self.world.scheduler.retain(|j| j.tenant() != Some((kind, id)));
                self.world.files.remove_owner(t);
                self.world.outbox.remove_owner(t);
                let mut reloaded = false;
                for doc in &self.start_fixtures {
                    let r = self.load(doc, LoadMode::Tenant(kind, id)).map_err(|e| {
                        format!(
                            "reloading {}: {}",
                            doc.name,
                            e.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("; ")
                        )
                    })?;
                    reloaded |= !r.tenants.is_empty();
                }
                self.world.feed.publish(|| Change::Reset { tenant: Some(t.into()) });
                Ok(json!({ "reset": t, "reloaded_from_fixtures": reloaded }))
            }
        }
    }

    /// Every tenant as `<vendor>:<id>`.
    pub fn tenant_list(&self) -> Vec<String> {
        self.vendors
            .iter()
            .flat_map(|v| v.tenant_ids().into_iter().map(move |id| format!("{}:{id}", v.kind())))
            .collect()
    }

    /// Write the whole world as JSON to `w`: the document [`StateDump`] reads (`GET /__admin/state`, the
    /// state file). Part by part, each copied only when it is reached and dropped once written, and never
    /// as a `serde_json::Value` tree (which takes several times the size of its text): a world of 300,000
    /// tasks and 100,000 classes (241 MB resident, a 211 MB dump) peaked at 2.4 GB while a `Value` was
    /// built (docs/performance.md).
    pub fn write_dump(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        fn json(w: &mut dyn std::io::Write, v: &impl Serialize) -> std::io::Result<()> {
            serde_json::to_writer(w, v).map_err(std::io::Error::other)
        }
        let (rules, next) = self.faults.state();
        w.write_all(b"{\"recmock_state\":1,\"clock\":")?;
        json(w, &self.world.clock.reading())?;
        w.write_all(b",\"auth_clock\":")?;
        json(w, &self.world.auth_clock())?;
        w.write_all(b",\"ids\":")?;
        json(w, &self.world.ids.state())?;
        w.write_all(b",\"timings\":")?;
        json(w, &self.world.timings())?;
        w.write_all(b",\"scheduler\":")?;
        json(w, &self.world.scheduler.state())?;
        w.write_all(b",\"files\":")?;
        json(w, &self.world.files.state())?;
        w.write_all(b",\"faults\":")?;
        json(w, &json!({ "rules": rules, "next_id": next }))?;
        w.write_all(b",\"outbox\":")?;
        self.world.outbox.write_state(w)?;
        w.write_all(b",\"callback_settings\":")?;
        json(
            w,
            &json!({
                "timeout_ms": self.world.outbox.timeout_ms(),
                "policies": *self.world.callback_policies.read(),
            }),
        )?;
        // Vendors in name order, each section written tenant by tenant.
        let mut vendors: Vec<&Arc<dyn Vendor>> = self.vendors.iter().collect();
        vendors.sort_by_key(|v| v.kind().as_str());
        w.write_all(b",\"vendors\":{")?;
        for (i, v) in vendors.into_iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            json(w, &v.kind().as_str())?;
            w.write_all(b":")?;
            v.write_dump(w)?;
        }
        w.write_all(b"}}")
    }

    /// Replace the whole world with a dump. Nothing changes unless every part is valid.
    pub fn restore(&self, dump: StateDump) -> Result<(), String> {
        if !(0..=crate::clock::MAX_TIME_MS).contains(&dump.clock.now_ms) {
            return Err(format!(
                "clock.now_ms must be between 0 and {} (year 9999), got {}",
                crate::clock::MAX_TIME_MS,
                dump.clock.now_ms
            ));
        }
        if dump.recmock_state != 1 {
            return Err(format!(
                "recmock_state {} is not a version this recmock reads (1)",
                dump.recmock_state
            ));
        }
        // Every number of the dump's state is one it is safe to count and add with (one check, every part).
        let parts = [
            ("scheduler", serde_json::to_value(&dump.scheduler).unwrap_or_default()),
            ("files", serde_json::to_value(&dump.files).unwrap_or_default()),
            ("ids", serde_json::to_value(dump.ids).unwrap_or_default()),
        ];
        for (name, v) in &parts {
            crate::checks::dump_numbers(v, name)?;
        }
        crate::checks::dump_numbers(&dump.outbox, "outbox")?;
        for (k, v) in &dump.vendors {
            crate::checks::dump_numbers(v, &format!("vendors.{k}"))?;
        }
        for k in dump.vendors.keys() {
            let kind: VendorKind = k.parse().map_err(|e| format!("vendors.{k}: {e}"))?;
            if self.vendor(kind).is_none() {
                return Err(format!("vendors.{k}: vendor is not emulated by this recmock"));
            }
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct FaultState {
            rules: Vec<crate::faults::FaultRule>,
            next_id: u64,
        }
        let faults: FaultState =
            serde_json::from_value(dump.faults.clone()).map_err(|e| format!("faults: {e}"))?;
        self.world.outbox.check_state(&dump.outbox).map_err(|e| format!("outbox: {e}"))?;
        #[derive(Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        struct CallbackSettings {
            timeout_ms: Option<u64>,
            #[serde(default)]
            policies: std::collections::BTreeMap<VendorKind, crate::outbox::RetryPolicy>,
        }
        let settings: CallbackSettings = if dump.callback_settings.is_null() {
            CallbackSettings::default()
        } else {
            serde_json::from_value(dump.callback_settings.clone())
                .map_err(|e| format!("callback_settings: {e}"))?
        };
        // The settings a fixture could give are checked as a fixture's (one check of ranges for both).
        let mut callbacks = serde_json::Map::new();
        if let Some(ms) = settings.timeout_ms {
            callbacks.insert("timeout_ms".into(), json!(ms));
        }
        for (k, p) in &settings.policies {
            callbacks.insert(k.as_str().into(), json!(p));
        }
        let as_fixture = json!({
            "clock": { "start": dump.clock.now_ms.div_euclid(1000), "frozen": dump.clock.frozen,
                       "scale": dump.clock.scale },
            "timings": dump.timings,
            "callbacks": callbacks,
        });
        let mut errors = Vec::new();
        fixture::parse_common(&as_fixture, &mut errors);
        if let Some(e) = errors.first() {
            let path = e
                .path
                .replace("callbacks", "callback_settings.policies")
                .replace("callback_settings.policies.timeout_ms", "callback_settings.timeout_ms");
            return Err(format!("{path}: {}", e.message));
        }
        for (i, r) in faults.rules.iter().enumerate() {
            let spec =
                crate::faults::FaultSpec { when: r.when.clone(), action: r.action.clone(), times: r.times };
            if let Some(p) = spec.problem() {
                return Err(format!("faults.rules[{i}]: {p}"));
            }
            if let Some(v) = r.when.vendor.filter(|v| self.vendor(*v).is_none()) {
                return Err(format!("faults.rules[{i}]: vendor {v} is not emulated by this recmock"));
            }
        }
        // Every vendor checks its section before any vendor replaces anything: a bad dump changes nothing.
        let section =
            |v: &Arc<dyn Vendor>| dump.vendors.get(v.kind().as_str()).cloned().unwrap_or(Value::Null);
        for v in &self.vendors {
            v.check_state(&section(v)).map_err(|e| format!("vendors.{}: {e}", v.kind()))?;
        }
        for v in &self.vendors {
            v.restore(&section(v)).map_err(|e| format!("vendors.{}: {e}", v.kind()))?;
        }
        self.world.clock.restore(dump.clock);
        if let Some(m) = dump.auth_clock.filter(|_| !self.auth_clock_override) {
            self.world.set_auth_clock(m);
        }
        self.world.ids.restore(dump.ids);
        *self.world.timings.write() = dump.timings;
        self.world.scheduler.restore(dump.scheduler);
        self.world.files.restore(dump.files, &dump.timings);
        self.faults.restore(faults.rules, faults.next_id);
        self.world.outbox.set_timeout_ms(settings.timeout_ms.unwrap_or(self.callback_timeout_ms));
        *self.world.callback_policies.write() = settings.policies;
        self.world
            .outbox
            .restore(&dump.outbox, &self.world.scheduler, dump.clock.now_ms)
            .map_err(|e| format!("outbox: {e}"))?;
        self.world.feed.publish(|| Change::Reset { tenant: None });
        self.world.clock_changed();
        Ok(())
    }

    /// Check a world event without applying it.
    pub fn check_event(&self, event: &Value) -> Result<(VendorKind, String), String> {
        check_event_with(&self.vendors, event)
    }

    /// Apply a world event (`POST /__admin/events`, timeline steps) at `at_ms`.
    pub fn apply_event(&self, event: &Value, at_ms: i64) -> Result<Value, String> {
        let (kind, name) = self.check_event(event)?;
        let v = self.vendor(kind).ok_or_else(|| format!("vendor {kind} is not emulated yet"))?;
        let outcome = v.apply_event(&name, event, at_ms)?;
        self.world.feed.publish(|| Change::WorldEvent {
            vendor: kind,
            event: Arc::new(event.clone()),
            outcome: Arc::new(outcome.clone()),
            at_ms,
        });
        Ok(outcome)
    }

    /// Run every job due at or before `until_ms`, in due order. With `advancing`, the clock is moved to
    /// each job's due time before it runs, and to `until_ms` at the end; callback deliveries due at the same
    /// instant run concurrently and are awaited, so the call returns only when everything due has happened.
    /// Without `advancing` (the real-time pump), deliveries are spawned so a slow receiver never holds up
    /// other jobs.
    pub async fn run_due(&self, until_ms: i64, advancing: bool) -> Vec<RanJob> {
        let _runner = self.runner.lock().await;
        if advancing {
            // Deliveries the real-time pump spawned for jobs already due land first, so that when an
            // advance returns, everything due up to its target has really been attempted.
            self.world.outbox.settle().await;
        }
        let mut ran = Vec::new();
        let mut popped = 0;
        while popped < MAX_JOBS_PER_RUN {
            let Some(entry) = self.world.scheduler.pop_due(until_ms) else { break };
            popped += 1;
            if advancing {
                self.world.clock.advance_to(entry.due_ms);
            }
            let at_ms = entry.due_ms;
            match entry.job {
                Job::Vendor { vendor, tenant, task, target } => {
                    let description = match self.vendor(vendor) {
                        Some(v) => v.run_job(&tenant, &task, &target, at_ms).map(|r| r.description),
                        None => Some(format!("dropped {task} for {target}: vendor {vendor} is not emulated")),
                    };
                    if let Some(d) = description {
                        ran.push(RanJob {
                            at: at_ms / 1000,
                            at_ms,
                            kind: "vendor",
                            vendor: Some(vendor),
                            description: d,
                        });
                    }
                }
                Job::Timeline { event } => {
                    let vendor = self.check_event(&event).ok().map(|(k, _)| k);
                    let description = match self.apply_event(&event, at_ms) {
                        Ok(v) => format!("timeline event applied: {v}"),
                        Err(e) => format!("timeline event {event} refused: {e}"),
                    };
                    ran.push(RanJob { at: at_ms / 1000, at_ms, kind: "timeline", vendor, description });
                }
                Job::Delivery { callback_id } => {
                    let mut batch = vec![callback_id];
                    while let Some(e) = self
                        .world
                        .scheduler
                        .pop_due_if(until_ms, |e| e.due_ms == at_ms && matches!(e.job, Job::Delivery { .. }))
                    {
                        if let Job::Delivery { callback_id } = e.job {
                            batch.push(callback_id);
                        }
                    }
                    if advancing {
                        let world = &self.world;
                        let auth = world.auth_clock();
                        let results =
                            futures_util::future::join_all(batch.iter().map(|id| {
                                world.outbox.deliver(&world.scheduler, &world.ids, id, at_ms, auth)
                            }))
                            .await;
                        for (vendor, description) in results.into_iter().flatten() {
                            ran.push(RanJob {
                                at: at_ms / 1000,
                                at_ms,
                                kind: "delivery",
                                vendor,
                                description,
                            });
                        }
                    } else {
                        for id in batch {
                            let world = self.world.clone();
                            world.outbox.take_off();
                            tokio::spawn(async move {
                                let auth = world.auth_clock();
                                world.outbox.deliver(&world.scheduler, &world.ids, &id, at_ms, auth).await;
                                world.outbox.land();
                            });
                        }
                    }
                }
            }
        }
        if advancing {
            self.world.clock.advance_to(until_ms);
            self.world.clock_changed();
        }
        ran
    }

    /// Run due jobs forever in real (scaled) time; the server spawns this. While the clock is frozen it
    /// runs nothing: then only the control plane moves time and runs what falls due (`clock/advance`, even
    /// by 0 seconds), so a frozen world is fully deterministic.
    pub async fn pump(self: Arc<Self>) {
        loop {
            let wait = self
                .world
                .scheduler
                .next_due()
                .and_then(|d| self.world.clock.wall_wait_until(d))
                .unwrap_or(std::time::Duration::from_secs(1))
                .min(std::time::Duration::from_secs(1));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.world.scheduler.wake.notified() => {}
            }
            let clock = self.world.clock.reading();
            if !clock.frozen && self.world.scheduler.next_due().is_some_and(|d| d <= clock.now_ms) {
                self.run_due(clock.now_ms, false).await;
            }
        }
    }
}

fn check_event_with(vendors: &[Arc<dyn Vendor>], event: &Value) -> Result<(VendorKind, String), String> {
    let t = event
        .get("type")
        .and_then(Value::as_str)
        .ok_or("an event needs `type`: `<vendor>.<what happened>`")?;
    let (vendor, name) =
        t.split_once('.').ok_or_else(|| format!("event type `{t}` is not `<vendor>.<event>`"))?;
    let kind: VendorKind = vendor.parse()?;
    let v = vendors
        .iter()
        .find(|v| v.kind() == kind)
        .ok_or_else(|| format!("vendor {kind} is not emulated yet"))?;
    v.check_event(name, event)?;
    Ok((kind, name.to_string()))
}

/// Check a fixture document against the given vendor modules (what `recmock check` runs).
pub fn check_with(vendors: &[Arc<dyn Vendor>], doc: &Value) -> Vec<FixtureError> {
    let mut errors = Vec::new();
    fixture::parse_common(doc, &mut errors);
    for &kind in VendorKind::all() {
        let Some(section) = doc.get(kind.as_str()) else { continue };
        match vendors.iter().find(|v| v.kind() == kind) {
            Some(v) => v.check_section(section, kind.as_str(), &mut errors),
            None => {
                errors.push(FixtureError::new(kind.as_str(), format!("vendor {kind} is not emulated yet")))
            }
        }
    }
    // Index the document's own steps (a step that failed to parse is not in `common.timeline`).
    let steps = doc.get("timeline").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    for (i, event) in steps.iter().enumerate().filter_map(|(i, s)| s.get("event").map(|e| (i, e))) {
        let at = format!("timeline[{i}]");
        if errors.iter().any(|x| x.path == at || x.path.starts_with(&format!("{at}."))) {
            continue; // already reported
        }
        if let Err(e) = check_event_with(vendors, event) {
            errors.push(FixtureError::new(format!("{at}.event"), e));
        }
    }
    errors
}
