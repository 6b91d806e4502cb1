//! The vendor modules. Each folder is one vendor and holds everything it does: routes, wire types, errors,
//! state, world events, its fixture section, its callbacks, and how the scenario runner signs requests to
//! it and checks its callbacks ([`ScenarioClient`]). What they share is written once, in [`kit`] and below
//! them (the front door, the world, the platform).
//!
//! A vendor registers itself from its own folder with `inventory::submit!` (its [`VendorKind`] and its
//! [`Registration`]); the `pub mod` line below is the only line outside the folder a new vendor adds.

/// Declare a vendor folder's kind (seed number and name) and register it: its module, built on a world
/// behind a front door with `$module::new(world, door)`, its client side and its host names. Also says which vendor the
/// module is and which door it is reached through (its `door` field).
macro_rules! register_vendor {
    (seed: $seed:expr, name: $name:expr, module: $module:ident, client: $client:expr, hosts: $hosts:expr) => {
        /// This vendor.
        pub const KIND: $crate::VendorKind = $crate::VendorKind::new($seed, $name);

        inventory::submit! { KIND }

        inventory::submit! {
            $crate::vendors::Registration {
                kind: KIND,
                build: |world, door| std::sync::Arc::new($module::new(world.clone(), door.clone())),
                client: &$client,
                hosts: $hosts,
            }
        }

        impl $crate::http::Doorway for $module {
            fn kind(&self) -> $crate::VendorKind {
                KIND
            }

            fn door(&self) -> &$crate::http::FrontDoor {
                &self.door
            }
        }
    };
}

pub mod kit;

pub mod cloud_record;
pub mod iclass;
pub mod ilvb_edu;
pub mod live_sdk;
pub mod meeting;

use crate::checks::FixtureError;
use crate::http::{Envelope, FrontDoor};
use crate::tenants::TenantTable;
use crate::world::World;
use crate::VendorKind;
use actix_web::web;
use futures_util::future::BoxFuture;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What one run of a scheduled vendor job did, for the `clock/advance` report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JobReport {
    /// a short description in the vendor's words (`record 2026..._10001: status 3 → 4`)
    pub description: String,
}

/// A vendor module, as the application and the control plane see it.
pub trait Vendor: Envelope + Send + Sync + 'static {
    /// Register the vendor's routes.
    fn routes(self: Arc<Self>, cfg: &mut web::ServiceConfig);

    /// Check a fixture section on its own (shape, ranges, references inside the section).
    fn check_section(&self, section: &Value, path: &str, errors: &mut Vec<FixtureError>);

    /// Load a checked fixture section into the world, or only the part for tenant `only`.
    /// With `dry_run`, only report conflicts with the current world (e.g. an account that exists).
    /// Returns the tenant ids it loaded.
    fn load_section(
        &self,
        section: &Value,
        path: &str,
        only: Option<&str>,
        dry_run: bool,
    ) -> Result<Vec<String>, Vec<FixtureError>>;

    /// Check a world event of this vendor (`name` is the part after `<vendor>.`), without applying it.
    fn check_event(&self, name: &str, event: &Value) -> Result<(), String>;

    /// Apply a world event at `at_ms`; returns a description of what changed.
    fn apply_event(&self, name: &str, event: &Value, at_ms: i64) -> Result<Value, String>;

    /// Run a scheduled job of this vendor.
    fn run_job(&self, tenant: &str, task: &str, target: &str, due_ms: i64) -> Option<JobReport>;

    /// The vendor's tenants (accounts, apps), as one table: ids, reset, dump and restore go through it.
    fn tenants(&self) -> &dyn TenantTable;

    /// Rebuild what the vendor derives from its tenants (look-up indexes), after a reset or a restore.
    fn reindex(&self) {}

    /// Ids of every tenant (account) of this vendor.
    fn tenant_ids(&self) -> Vec<String> {
        self.tenants().ids()
    }

    /// Forget every tenant, or only `tenant`.
    fn reset(&self, tenant: Option<&str>) {
        self.tenants().reset(tenant);
        self.reindex();
    }

    /// Write the vendor's whole state, for a dump.
    fn write_dump(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        self.tenants().write_dump(w)
    }

    /// Check a dump's section of this vendor without changing anything: its shape and what must hold
    /// across its tenants ([`TenantState::check_dump`](crate::tenants::TenantState::check_dump)), then each
    /// tenant's configuration with the vendor's own fixture checks ([`kit::check_dumped_configs`]).
    fn check_state(&self, state: &Value) -> Result<(), String> {
        let tenants = self.tenants();
        let configs = tenants.check_dump(state)?;
        kit::check_dumped_configs(tenants.dump_key(), &configs, |section, errors| {
            self.check_section(section, "", errors)
        })
    }

    /// Replace the vendor's state with a dump's (checked with [`Vendor::check_state`] first).
    fn restore(&self, state: &Value) -> Result<(), String> {
        self.tenants().restore_dump(state)?;
        self.reindex();
        Ok(())
    }

    /// How many entities of each kind the vendor holds (its tenants as `tenant`), for
    /// `GET /__admin/metrics`.
    fn entity_counts(&self) -> BTreeMap<&'static str, u64> {
        self.tenants().entities()
    }

    /// Register the callback URL of tenant `tenant` (`POST /__admin/callbacks/url`).
    fn set_callback_url(&self, tenant: &str, _url: &str) -> Result<(), String> {
        Err(format!("{}:{tenant}: this vendor sends no callbacks", self.kind()))
    }

    /// Bulk-create entities in tenant `tenant` at `at_ms` (`POST /__admin/seed`): a large account for load
    /// and scale tests without a million API calls. `spec` is the request body (its `tenant` key included);
    /// each vendor documents what it seeds. Returns what was created. Called on a blocking thread (never an
    /// HTTP worker), it holds the tenant's lock for [`SEED_CHUNK`] entities at a time
    /// ([`kit::in_chunks`]), so the tenant's requests are answered meanwhile.
    fn seed(&self, tenant: &str, _spec: &Value, _at_ms: i64) -> Result<Value, String> {
        Err(format!("{}:{tenant}: this vendor has no bulk seeding", self.kind()))
    }

    /// The vendor's live connections (WebSocket sessions: login, subscriptions, frames in and out), for
    /// `GET /__admin/gateway/sessions`.
    fn live_sessions(&self) -> Vec<Value> {
        Vec::new()
    }

    /// The kinds of entity the dashboard lists for this vendor (`task`, `class`, `recording`, ...), in the
    /// vendor's words; the first is listed when none is asked for.
    fn entity_kinds(&self) -> &'static [&'static str] {
        &[]
    }

    /// A page of this vendor's entities with their status, for the dashboard (`/__admin/ui/vendors/..`):
    /// filtered and paged here, from the vendor's own indexes where it keeps them, so a page of a
    /// large account costs a page.
    fn entities(&self, _query: &EntityQuery<'_>) -> EntityPage {
        EntityPage::default()
    }

    /// One entity in full, for the dashboard: its state, and for a recording the timeline of its status
    /// changes (derived from its own timestamps and the timing table) and its files.
    fn entity(&self, _tenant: &str, _kind: &str, _id: &str) -> Option<EntityDetail> {
        None
    }

    /// Lines for the startup banner: credentials of each tenant.
    fn banner(&self) -> Vec<String>;

    /// A ready-to-paste curl against this vendor, if it has a tenant.
    fn example_curl(&self, base_url: &str) -> Option<String>;
}

/// What the dashboard asks a vendor for ([`Vendor::entities`]).
#[derive(Debug, Clone, Default)]
pub struct EntityQuery<'a> {
    /// one tenant's (its id in the vendor's words), or every tenant's
    pub tenant: Option<&'a str>,
    /// which kind of entity (one of [`Vendor::entity_kinds`]); none: the first
    pub kind: Option<&'a str>,
    /// only entities whose [`EntityRow::status_key`] is this
    pub status: Option<&'a str>,
    /// only entities whose id contains this
    pub id: Option<&'a str>,
    /// rows to pass over (the page's position)
    pub skip: usize,
    /// rows to give at most
    pub limit: usize,
}

impl EntityQuery<'_> {
    /// Whether `row` passes the status and id filters (the tenant and kind are the vendor's to pick).
    pub fn accepts(&self, row: &EntityRow) -> bool {
        self.status.is_none_or(|s| row.status_key == s) && self.id.is_none_or(|i| row.id.contains(i))
    }

    /// How many of `rows` pass the filters, and `limit` of those from position `skip`: for entities few
    /// enough to list whole.
    pub fn page_of(
        &self,
        rows: impl IntoIterator<Item = EntityRow>,
        skip: usize,
        limit: usize,
    ) -> (usize, Vec<EntityRow>) {
        let (mut total, mut page) = (0, Vec::new());
        for row in rows.into_iter().filter(|r| self.accepts(r)) {
            if total >= skip && page.len() < limit {
                page.push(row);
            }
            total += 1;
        }
        (total, page)
    }
}

/// A page of entities: how many match, and the rows asked for.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EntityPage {
    /// how many entities match the query
    pub total: usize,
    /// the page
    pub rows: Vec<EntityRow>,
}

/// One entity as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EntityRow {
    /// its tenant's id
    pub tenant: String,
    /// its kind ([`Vendor::entity_kinds`])
    pub kind: &'static str,
    /// its id in the vendor's words
    pub id: String,
    /// its status as a filter names it (`3`, `ing`, `recording`)
    pub status_key: String,
    /// its status as a person reads it (`3 queued for encoding`)
    pub status: String,
    /// when it was created, virtual ms, when known
    pub created_ms: Option<i64>,
    /// a few words more (group, topic, file name, size)
    pub summary: String,
}

impl EntityRow {
    /// A row: `status_key` is what a filter names, `status` what a person reads.
    pub fn new(
        tenant: &str,
        kind: &'static str,
        id: impl ToString,
        status_key: impl Into<String>,
        status: impl Into<String>,
        created_ms: Option<i64>,
        summary: String,
    ) -> EntityRow {
        EntityRow {
            tenant: tenant.to_string(),
            kind,
            id: id.to_string(),
            status_key: status_key.into(),
            status: status.into(),
            created_ms,
            summary,
        }
    }

    /// The entity in full: this row and `state` (no recording, no files).
    pub fn detail(self, state: &impl serde::Serialize) -> EntityDetail {
        EntityDetail {
            row: self,
            timeline: Vec::new(),
            files: Vec::new(),
            state: serde_json::to_value(state).unwrap_or_default(),
        }
    }
}

impl EntityDetail {
    /// With a recording: its timeline in the vendor's `words` and its files (`keys`).
    pub fn recording(
        mut self,
        recording: &crate::recording::Recording,
        timings: &crate::recording::Timings,
        words: impl Fn(crate::recording::Phase) -> String,
        keys: impl IntoIterator<Item = String>,
    ) -> EntityDetail {
        self.timeline = timeline_in(recording, timings, words);
        self.files = keys.into_iter().collect();
        self
    }
}

/// One entity in full ([`Vendor::entity`]).
#[derive(Debug, Clone, serde::Serialize)]
pub struct EntityDetail {
    /// how it is listed
    pub row: EntityRow,
    /// the status changes of its recording, in the vendor's words, when it has one
    pub timeline: Vec<TimelineEntry>,
    /// keys of its files in the file store
    pub files: Vec<String>,
    /// its state, as a dump shows it
    pub state: Value,
}

/// One status change of a recording, in the vendor's words.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TimelineEntry {
    /// the status (`4 encoding`)
    pub status: String,
    /// when it began or will begin, virtual ms
    pub at_ms: i64,
    /// it has begun (else: when it will, from the timing table)
    pub reached: bool,
}

/// A recording's timeline ([`crate::recording::Recording::timeline`]) in the vendor's words.
pub fn timeline_in(
    recording: &crate::recording::Recording,
    timings: &crate::recording::Timings,
    words: impl Fn(crate::recording::Phase) -> String,
) -> Vec<TimelineEntry> {
    recording
        .timeline(timings)
        .into_iter()
        .map(|s| TimelineEntry { status: words(s.phase), at_ms: s.at_ms, reached: s.reached })
        .collect()
}

/// Most entities one `POST /__admin/seed` call creates.
pub const MAX_SEED: u64 = 2_000_000;

/// Entities a seeding makes per hold of the tenant's lock: between chunks the tenant's requests go on
/// (10,000 tasks take some milliseconds).
pub const SEED_CHUNK: u64 = 10_000;

/// How a vendor folder registers itself (`inventory::submit!`).
pub struct Registration {
    /// which vendor
    pub kind: VendorKind,
    /// the server side: the module on a world behind a front door
    pub build: fn(&Arc<World>, &Arc<FrontDoor>) -> Arc<dyn Vendor>,
    /// the client side, for the scenario runner
    pub client: &'static dyn ScenarioClient,
    /// the vendor's host names and what each serves (recmock's certificate covers them)
    pub hosts: &'static [(&'static str, &'static str)],
}

inventory::collect!(Registration);

fn registrations() -> Vec<&'static Registration> {
    let mut all: Vec<&Registration> = inventory::iter::<Registration>.into_iter().collect();
    all.sort_by_key(|r| r.kind);
    all
}

/// Every registered vendor module, built on one world and front door, in seed order.
pub fn all(world: &Arc<World>, door: &Arc<FrontDoor>) -> Vec<Arc<dyn Vendor>> {
    registrations().into_iter().map(|r| (r.build)(world, door)).collect()
}

/// The client side of every registered vendor, in seed order.
pub fn clients() -> Vec<(VendorKind, &'static dyn ScenarioClient)> {
    registrations().into_iter().map(|r| (r.kind, r.client)).collect()
}

/// Every registered vendor's host names and what each serves, in seed order.
pub fn hosts() -> Vec<(&'static str, &'static str)> {
    registrations().into_iter().flat_map(|r| r.hosts.iter().copied()).collect()
}

/// Every registered vendor's host names, in seed order.
pub fn host_names() -> Vec<&'static str> {
    hosts().into_iter().map(|(h, _)| h).collect()
}

/// A request the scenario runner is about to send, for a vendor's [`ScenarioClient`] to sign.
#[derive(Debug, Clone, Default)]
pub struct OutgoingRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// the path, without the query
    pub path: String,
    /// `host[:port]` the request goes to, as its `Host` header will say
    pub host: String,
    /// query parameters, in order
    pub query: Vec<(String, String)>,
    /// headers
    pub headers: Vec<(String, String)>,
    /// a JSON body
    pub body: Option<Value>,
    /// a form body
    pub form: Option<Vec<(String, String)>>,
}

impl OutgoingRequest {
    /// The first value of query parameter `name`.
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    /// Add query parameters the request does not have yet.
    pub fn add_query(&mut self, pairs: impl IntoIterator<Item = (&'static str, String)>) {
        for (k, v) in pairs {
            if !self.query.iter().any(|(n, _)| n == k) {
                self.query.push((k.to_string(), v));
            }
        }
    }

    /// Whether the request has header `name` (any case).
    pub fn has_header(&self, name: &str) -> bool {
        self.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
    }
}

/// How a scenario step asked its request to be authorized.
#[derive(Debug, Clone, Copy)]
pub enum AuthRequest<'a> {
    /// `"auth": "none"`: send as written
    None,
    /// no `auth`: the fixture's credentials
    Fixture,
    /// `"auth": {...}`: overrides of the fixture's credentials, in the vendor's terms
    Override(&'a Value),
}

/// An answer the runner got on a vendor's behalf.
#[derive(Debug, Clone)]
pub struct ClientAnswer {
    /// HTTP status
    pub status: u16,
    /// the body as JSON, when it is
    pub json: Option<Value>,
    /// the answer as a person reads it (for error messages)
    pub shown: String,
}

/// What the scenario runner offers a vendor's client side while it signs a request.
pub trait ClientSession: Send {
    /// The scenario's fixture (where the keys come from).
    fn fixture(&self) -> &Value;
    /// The server's virtual time, unix seconds.
    fn now(&mut self) -> BoxFuture<'_, Result<i64, String>>;
    /// A number never handed out before in this run (nonces, `random`).
    fn next_random(&mut self) -> u64;
    /// `GET path?query` on the server.
    fn get(
        &mut self,
        path: String,
        query: Vec<(String, String)>,
    ) -> BoxFuture<'_, Result<ClientAnswer, String>>;
    /// The credentials the vendors issued in this run, kept for their client sides.
    fn credentials(&mut self) -> &mut KeptCredentials;
    /// A credential kept for `key` until virtual second `until` (tokens the vendor issued).
    fn kept(&mut self, key: &str, now: i64) -> Option<String> {
        self.credentials().0.get(key).filter(|(_, until)| now < *until).map(|(v, _)| v.clone())
    }
    /// Keep a credential for `key` until virtual second `until`.
    fn keep(&mut self, key: &str, value: String, until: i64) {
        self.credentials().0.insert(key.to_string(), (value, until));
    }
    /// Forget every kept credential (whatever replaced them made them stale).
    fn forget_kept(&mut self) {
        self.credentials().0.clear();
    }
}

/// Credentials vendors issued (tokens), each with its virtual expiry in unix seconds.
#[derive(Debug, Default)]
pub struct KeptCredentials(BTreeMap<String, (String, i64)>);

/// The client side of a vendor: how the scenario runner signs requests to it and checks its callbacks, from
/// the fixture's keys (never from the server's state: it may run against a remote server).
pub trait ScenarioClient: Send + Sync {
    /// The keys this vendor's `auth` override object may have.
    fn auth_keys(&self) -> &'static [&'static str];

    /// Add the vendor's authentication to `req`.
    fn authorize<'a>(
        &'a self,
        session: &'a mut dyn ClientSession,
        req: &'a mut OutgoingRequest,
        auth: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<(), String>>;

    /// Whether a callback with this URL query and JSON body is one this vendor sends (by its shape).
    fn sent_callback(&self, _query: &BTreeMap<String, String>, _body: &Value) -> bool {
        false
    }

    /// Check a received callback's signature as the vendor's receiver would, with the fixture's keys:
    /// `query` is the decoded query of the URL it was posted to, `body` its JSON body.
    fn verify_callback(
        &self,
        _fixture: &Value,
        _query: &BTreeMap<String, String>,
        _body: &Value,
    ) -> Result<(), String> {
        Err("this vendor sends no signed callbacks".into())
    }
}

/// Parse a step's `auth` override object as the vendor's own override type (unknown keys are errors).
pub fn parse_override<T: serde::de::DeserializeOwned + Default>(auth: AuthRequest<'_>) -> Result<T, String> {
    match auth {
        AuthRequest::Override(v) => serde_json::from_value(v.clone()).map_err(|e| format!("auth: {e}")),
        _ => Ok(T::default()),
    }
}
