//! Seed 003: the ZijingCloud meeting REST API (`POST /meeting/*`, header `auth`).
//!
//! An enterprise (tenant, `entId`) authenticates every call with its `auth` key (public cloud:
//! `<API ID>:<API KEY>`; dedicated cloud: the tenant's key field). During a conference (known by its short
//! number, `conferenceKey`) it opens and closes the recording and the live broadcast; a closed recording is
//! processed by the shared engine and becomes files (`getRecords` rows with a downloadable `downUrl`),
//! which `delRecordFile` deletes. Conferences come from fixtures and world events
//! (`meeting.conference_start`, `meeting.conference_end`); `meeting.recording_fail` fails a recording.

pub mod api;
mod client;
pub mod errors;
mod handlers;
pub mod models;

use crate::checks::{self, event_fields, FixtureError};
use crate::http::{endpoint, Envelope, FrontDoor, Reply};
use crate::recording::{self, Phase};
use crate::tenants::{TenantTable, Tenants};
use crate::vendors::{kit, JobReport, Vendor};
use crate::world::World;
use actix_web::http::Method;
use actix_web::web;
use errors::{CodeForm, MeetingError};
use models::*;
use parking_lot::RwLock;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The vendor's host names (the seed document's, vendor-facts.md's and its public client code's, with
/// wildcards where it spreads a service over numbered or per-app subdomains): recmock's certificate covers
/// them, so clients that hard-code `https://<host>` run unchanged.
pub const HOSTS: &[(&str, &str)] = &[
    ("vapi.myvmr.cn", "003 ZijingCloud (live viewing; the API host is `apiServer` in the document)"),
    ("*.myvmr.cn", "003 ZijingCloud, any other host"),
    ("*.cossh.myqcloud.com", "003 recording downloads (COS)"),
];

register_vendor!(seed: 3, name: "meeting", module: Meeting, client: client::MeetingClient, hosts: HOSTS);

/// Fixture items with their JSON paths.
type Located<T> = Vec<(String, T)>;

/// Longest `auth` (the document's 长度 column).
pub const MAX_AUTH_LEN: usize = 60;
/// Longest conference key (the document's 长度 column).
pub const MAX_KEY_LEN: usize = 50;

/// Lookups derived from the tenants (rebuilt after every load, reset and restore).
#[derive(Debug, Default)]
struct Index {
    /// auth → ent id
    auths: HashMap<String, String>,
    /// public-cloud API ID → ent id (to tell a borrowed auth from garbage)
    api_ids: HashMap<String, String>,
    /// conference key → ent id (short numbers are unique across tenants)
    conferences: HashMap<String, String>,
}

/// The meeting vendor module.
#[derive(Debug)]
pub struct Meeting {
    world: Arc<World>,
    door: Arc<FrontDoor>,
    /// tenants by ent id (as text)
    tenants: Tenants<Tenant>,
    index: RwLock<Index>,
}

fn yes() -> bool {
    true
}

/// A conference in a fixture.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConferenceFixture {
    ent_id: u64,
    #[serde(deserialize_with = "crate::wire::lenient_string_required")]
    conference_key: String,
    #[serde(default = "yes")]
    allow_record: bool,
    #[serde(default = "yes")]
    allow_live: bool,
    #[serde(default)]
    started: bool,
}

/// `meeting.conference_start`: a conference begins now (declared on the fly when `ent_id` names a tenant
/// and the key is new).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConferenceStart {
    #[serde(rename = "type")]
    _type: String,
    #[serde(deserialize_with = "crate::wire::lenient_string_required")]
    conference_key: String,
    #[serde(default)]
    ent_id: Option<u64>,
    #[serde(default)]
    allow_record: Option<bool>,
    #[serde(default)]
    allow_live: Option<bool>,
}

/// `meeting.conference_end`: the conference ends now; its recording and live are closed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConferenceEnd {
    #[serde(rename = "type")]
    _type: String,
    #[serde(deserialize_with = "crate::wire::lenient_string_required")]
    conference_key: String,
    #[serde(default)]
    ent_id: Option<u64>,
}

/// `meeting.recording_fail`: the conference's recording in progress (or the recording `record_id`, also
/// while it is being processed) fails now.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordingFail {
    #[serde(rename = "type")]
    _type: String,
    #[serde(deserialize_with = "crate::wire::lenient_string_required")]
    conference_key: String,
    #[serde(default)]
    ent_id: Option<u64>,
    #[serde(default)]
    record_id: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// The world events this vendor understands.
pub const EVENTS: [&str; 3] = ["conference_start", "conference_end", "recording_fail"];

#[derive(Debug)]
enum MeetingEvent {
    Start(ConferenceStart),
    End(ConferenceEnd),
    Fail(RecordingFail),
}

impl MeetingEvent {
    fn parse(name: &str, v: &Value) -> Result<MeetingEvent, String> {
        let e = match name {
            "conference_start" => MeetingEvent::Start(event_fields(KIND, name, v)?),
            "conference_end" => MeetingEvent::End(event_fields(KIND, name, v)?),
            "recording_fail" => MeetingEvent::Fail(event_fields(KIND, name, v)?),
            other => return Err(kit::unknown_event(KIND, other, &EVENTS)),
        };
        let key = e.key();
        if key.trim().is_empty() || key.chars().count() > MAX_KEY_LEN {
            return Err(format!(
                "meeting.{name}: conference_key must be 1 to {MAX_KEY_LEN} characters, not blank"
            ));
        }
        Ok(e)
    }

    fn key(&self) -> &str {
        match self {
            MeetingEvent::Start(e) => &e.conference_key,
            MeetingEvent::End(e) => &e.conference_key,
            MeetingEvent::Fail(e) => &e.conference_key,
        }
    }

    fn ent_id(&self) -> Option<u64> {
        match self {
            MeetingEvent::Start(e) => e.ent_id,
            MeetingEvent::End(e) => e.ent_id,
            MeetingEvent::Fail(e) => e.ent_id,
        }
    }
}

impl Meeting {
    /// The module on `world`, with no tenants.
    pub fn new(world: Arc<World>, door: Arc<FrontDoor>) -> Self {
        let tenants = Tenants::new(KIND, "tenants", &world.feed);
        Meeting { world, door, tenants, index: RwLock::new(Index::default()) }
    }

    /// Rebuild the lookups from the tenants (never holding the index while taking a tenant lock).
    fn rebuild_index(&self) {
        let mut idx = Index::default();
        for (ent, t) in self.tenants.all() {
            let t = t.read();
            idx.auths.insert(t.config.auth.clone(), ent.clone());
            if let Some(id) = t.config.api_id() {
                idx.api_ids.insert(id.to_string(), ent.clone());
            }
            for key in t.conferences.keys() {
                idx.conferences.insert(key.clone(), ent.clone());
            }
        }
        *self.index.write() = idx;
    }

    /// The watch URL of a live: served by recmock (`GET /meeting/live/{liveId}`) while the live is on.
    fn live_url(&self, base: &str, live: &Live) -> String {
        format!("{base}/meeting/live/{}", live.live_id)
    }

    /// The RTMP stream of a live, on recmock's host (not served: recmock carries no media).
    fn rtmp_url(&self, base: &str, live: &Live) -> String {
        // A base that is no URL (a strange `Host`) names no host: the stream is then said to be local.
        let host = crate::codec::url_host(base).unwrap_or_else(|| "localhost".into());
        format!("rtmp://{host}:1935/live/{}", live.live_id)
    }

    /// A recording's next processing step; when done, its segments become files.
    fn step(&self, ent: &str, record_id: &str, at: i64) -> Option<JobReport> {
        let timings = self.world.timings();
        let t = self.tenants.get(ent)?;
        let mut guard = t.lock();
        let rec = guard.records.get_mut(record_id)?;
        let phase = rec.recording.step(at, &timings)?;
        self.world.schedule_recording_step(KIND, ent, &rec.recording);
        if phase != Phase::Done {
            return Some(JobReport { description: format!("recording {record_id}: {phase:?}") });
        }
        let owner = format!("{KIND}:{ent}");
        let started = rec.recording.started_ms.unwrap_or(rec.recording.created_ms);
        let key = rec.conference_key.clone();
        let name_of = move |seg: &crate::recording::Segment| {
            let (_, _, _, h, mi, s) = crate::clock::calendar::parts(
                (started + seg.offset_s * 1000).div_euclid(1000),
                crate::clock::calendar::BEIJING_OFFSET_S,
            );
            format!("{key}_{h:02}{mi:02}{s:02}.mp4")
        };
        for (seg, f) in kit::store_segments(&self.world, &owner, &mut rec.recording, at, name_of) {
            let start_ms = started + seg.offset_s * 1000;
            rec.files.push(RecordFile {
                file_id: self.world.ids.hex(32),
                name: f.name.clone(),
                file_key: f.key,
                start_ms,
                stop_ms: start_ms + seg.duration_s * 1000,
                size: f.size,
            });
        }
        Some(JobReport {
            description: format!(
                "recording {record_id} of conference {}: done, {} file(s)",
                rec.conference_key,
                rec.files.len()
            ),
        })
    }

    fn section_parts(
        section: &Value,
        path: &str,
        errors: &mut Vec<FixtureError>,
    ) -> (Located<TenantConfig>, Located<ConferenceFixture>) {
        checks::unknown_keys(section, path, &["tenants", "conferences"], errors);
        (
            checks::parse_list::<TenantConfig>(section, path, "tenants", errors),
            checks::parse_list::<ConferenceFixture>(section, path, "conferences", errors),
        )
    }

    /// The tenant an event concerns: the conference's owner, or (for a new conference) `ent_id`.
    fn event_tenant(&self, ev: &MeetingEvent) -> Result<String, String> {
        let key = ev.key();
        let owner = self.index.read().conferences.get(key).cloned();
        match (owner, ev.ent_id()) {
            (Some(o), Some(e)) if o != e.to_string() => {
                Err(format!("conference {key} belongs to ent_id {o}, not {e}"))
            }
            (Some(o), _) => Ok(o),
            (None, Some(e)) if matches!(ev, MeetingEvent::Start(_)) => {
                if self.tenants.get(&e.to_string()).is_none() {
                    return Err(format!("no such tenant: ent_id {e}"));
                }
                Ok(e.to_string())
            }
            (None, _) => Err(format!("no such conference {key}")),
        }
    }
}

/// What a dump's tenant must satisfy beyond its shape and its configuration: keys that match their entries,
/// and times a calendar can show (a later step or format must never overflow).
fn check_tenant_state(t: &Tenant) -> Result<(), String> {
    let time = |what: String, v: Option<i64>| match v {
        Some(ms) if !(0..=crate::clock::MAX_TIME_MS).contains(&ms) => {
            Err(format!("{what}: must be between 0 and {} ms (year 9999)", crate::clock::MAX_TIME_MS))
        }
        _ => Ok(()),
    };
    for (key, conf) in &t.conferences {
        if *key != conf.conference_key {
            return Err(format!("conferences.{key}: conference_key is `{}`", conf.conference_key));
        }
        time(format!("conferences.{key}.started_ms"), conf.started_ms)?;
        time(format!("conferences.{key}.live.started_ms"), conf.live.as_ref().map(|l| l.started_ms))?;
        if let Some(r) = conf.recording.as_ref().filter(|r| !t.records.contains_key(*r)) {
            return Err(format!("conferences.{key}.recording: no recording {r}"));
        }
    }
    let mut records: Vec<(&String, &MeetingRecord)> = t.records.iter().collect();
    records.sort_unstable_by_key(|(id, _)| *id);
    for (id, rec) in records {
        let at = |field: &str| format!("records.{id}.{field}");
        if *id != rec.record_id {
            return Err(format!("{}: is `{}`", at("record_id"), rec.record_id));
        }
        if !t.conferences.contains_key(&rec.conference_key) {
            return Err(format!("{}: no conference {}", at("conference_key"), rec.conference_key));
        }
        let r = &rec.recording;
        for (field, v) in [
            ("recording.created_ms", Some(r.created_ms)),
            ("recording.started_ms", r.started_ms),
            ("recording.stopped_ms", r.stopped_ms),
            ("recording.phase_since_ms", Some(r.phase_since_ms)),
            ("recording.span_start_ms", r.span_start_ms),
            ("recording.recorded_ms", Some(r.recorded_ms)),
        ] {
            time(at(field), v)?;
        }
        if !(1..=86_400).contains(&r.segment_s) {
            return Err(format!("{}: must be between 1 and 86400", at("recording.segment_s")));
        }
        for s in &r.segments {
            if !(0..=crate::clock::MAX_TIME_S).contains(&s.offset_s)
                || !(0..=crate::clock::MAX_TIME_S).contains(&s.duration_s)
            {
                return Err(format!(
                    "{}: offset_s and duration_s must be 0 to year 9999",
                    at("recording.segments")
                ));
            }
        }
        for f in &rec.files {
            time(at("files.start_ms"), Some(f.start_ms))?;
            time(at("files.stop_ms"), Some(f.stop_ms))?;
        }
    }
    Ok(())
}

impl Envelope for Meeting {
    /// `请求的参数异常: <detail>`: the description without its full stop, then the detail.
    fn refusal(&self, code: i64, detail: &str) -> Reply {
        let described = errors::describe(code).trim_end_matches('。');
        MeetingError::with_message(code, kit::worded(described, detail)).reply(CodeForm::Text)
    }

    fn too_large_code(&self) -> i64 {
        errors::BAD_PARAMS
    }

    /// A fault rule's message replaces the description (the document's `message` is free text).
    fn fault_reply(&self, code: i64, msg: Option<&str>) -> Reply {
        match msg {
            Some(m) => MeetingError::with_message(code, m),
            None => MeetingError::new(code),
        }
        .reply(CodeForm::Text)
    }
}

impl Vendor for Meeting {
    fn routes(self: Arc<Self>, cfg: &mut web::ServiceConfig) {
        endpoint(cfg, &self, Method::POST, "/meeting/openRecord", Meeting::open_record);
        endpoint(cfg, &self, Method::POST, "/meeting/closeRecord", Meeting::close_record);
        endpoint(cfg, &self, Method::POST, "/meeting/getRecords", Meeting::get_records);
        endpoint(cfg, &self, Method::POST, "/meeting/delRecordFile", Meeting::del_record_file);
        endpoint(cfg, &self, Method::POST, "/meeting/openLive", Meeting::open_live);
        endpoint(cfg, &self, Method::POST, "/meeting/closeLive", Meeting::close_live);
        endpoint(cfg, &self, Method::POST, "/meeting/getLiveRecStatus", Meeting::live_rec_status);
        endpoint(cfg, &self, Method::GET, "/meeting/live/{liveId}", Meeting::live_page);
    }

    fn check_section(&self, section: &Value, path: &str, errors: &mut Vec<FixtureError>) {
        let (tenants, conferences) = Self::section_parts(section, path, errors);
        let mut seen_ent: BTreeMap<u64, &str> = BTreeMap::new();
        let mut seen_auth: HashMap<&str, &str> = HashMap::new();
        let mut seen_api: HashMap<&str, &str> = HashMap::new();
        for (p, t) in &tenants {
            let auth = t.auth.as_str();
            if auth.trim().is_empty() {
                errors.push(FixtureError::new(format!("{p}.auth"), "must not be empty"));
            } else if auth.trim() != auth || auth.chars().any(char::is_control) {
                errors.push(FixtureError::new(
                    format!("{p}.auth"),
                    "must not have surrounding spaces or control characters (it travels in a header)",
                ));
            }
            if auth.chars().count() > MAX_AUTH_LEN {
                errors.push(FixtureError::new(
                    format!("{p}.auth"),
                    format!("must be at most {MAX_AUTH_LEN} characters"),
                ));
            }
            if t.cloud == Cloud::Public
                && !auth.split_once(':').is_some_and(|(id, key)| !id.is_empty() && !key.is_empty())
            {
                errors.push(FixtureError::new(
                    format!("{p}.auth"),
                    "a public-cloud auth is `<API ID>:<API KEY>` (both non-empty)",
                ));
            }
            if t.ent_id == 0 {
                errors.push(FixtureError::new(format!("{p}.ent_id"), "must be a positive number"));
            }
            if !(60..=86_400).contains(&t.segment_s) {
                errors.push(FixtureError::new(
                    format!("{p}.segment_s"),
                    "must be between 60 and 86400 seconds",
                ));
            }
            if let Some(first) = seen_ent.insert(t.ent_id, p) {
                errors.push(FixtureError::new(
                    format!("{p}.ent_id"),
                    format!("duplicate ent_id {} (also at {first})", t.ent_id),
                ));
            }
            if let Some(first) = seen_auth.insert(auth, p) {
                errors.push(FixtureError::new(
                    format!("{p}.auth"),
                    format!("duplicate auth (also at {first})"),
                ));
            } else if let Some(id) = t.api_id() {
                if let Some(first) = seen_api.insert(id, p) {
                    errors.push(FixtureError::new(
                        format!("{p}.auth"),
                        format!("API ID `{id}` is already used (at {first})"),
                    ));
                }
            }
        }
        let mut seen_key: HashMap<&str, &str> = HashMap::new();
        for (p, c) in &conferences {
            let key = c.conference_key.as_str();
            if key.trim().is_empty() || key.chars().count() > MAX_KEY_LEN {
                errors.push(FixtureError::new(
                    format!("{p}.conference_key"),
                    format!("must be 1 to {MAX_KEY_LEN} characters, not blank"),
                ));
            }
            if let Some(first) = seen_key.insert(key, p) {
                errors.push(FixtureError::new(
                    format!("{p}.conference_key"),
                    format!("conference {key} is declared twice (also at {first})"),
                ));
            }
        }
    }

    fn load_section(
        &self,
        section: &Value,
        path: &str,
        only: Option<&str>,
        dry_run: bool,
    ) -> Result<Vec<String>, Vec<FixtureError>> {
        let mut errors = Vec::new();
        let (tenants, conferences) = Self::section_parts(section, path, &mut errors);
        let keep = |ent: u64| only.is_none_or(|o| o == ent.to_string());
        let tenants: Vec<_> = tenants.into_iter().filter(|(_, t)| keep(t.ent_id)).collect();
        let conferences: Vec<_> = conferences.into_iter().filter(|(_, c)| keep(c.ent_id)).collect();
        {
            let idx = self.index.read();
            for (p, t) in &tenants {
                if self.tenants.get(&t.ent_id.to_string()).is_some() {
                    errors.push(FixtureError::new(
                        format!("{p}.ent_id"),
                        format!("tenant {} already exists", t.ent_id),
                    ));
                } else if let Some(ent) = idx.auths.get(&t.auth) {
                    errors.push(FixtureError::new(
                        format!("{p}.auth"),
                        format!("already the auth of ent_id {ent}"),
                    ));
                } else if let Some(ent) = t.api_id().and_then(|id| idx.api_ids.get(id)) {
                    errors.push(FixtureError::new(
                        format!("{p}.auth"),
                        format!("its API ID is already the one of ent_id {ent}"),
                    ));
                }
            }
            for (p, c) in &conferences {
                let known = self.tenants.get(&c.ent_id.to_string()).is_some()
                    || tenants.iter().any(|(_, t)| t.ent_id == c.ent_id);
                if !known {
                    errors.push(FixtureError::new(
                        format!("{p}.ent_id"),
                        format!("no tenant with ent_id {}", c.ent_id),
                    ));
                }
                if let Some(ent) = idx.conferences.get(&c.conference_key) {
                    errors.push(FixtureError::new(
                        format!("{p}.conference_key"),
                        format!("conference {} already exists (ent_id {ent})", c.conference_key),
                    ));
                }
            }
        }
        if let Some(stop) = kit::stop_before_loading(errors, dry_run) {
            return stop;
        }
        let now = self.world.clock.now_ms();
        let mut loaded = Vec::new();
        for (_, t) in tenants {
            let id = t.ent_id.to_string();
            self.tenants.insert(&id, Tenant::new(t));
            loaded.push(id);
        }
        for (_, c) in conferences {
            self.tenants.write(&c.ent_id.to_string(), |t| {
                let started = c.started.then_some(now);
                t.conferences.insert(
                    c.conference_key.clone(),
                    Conference::new(c.conference_key, c.allow_record, c.allow_live, started),
                );
            });
        }
        self.rebuild_index();
        Ok(loaded)
    }

    fn check_event(&self, name: &str, event: &Value) -> Result<(), String> {
        MeetingEvent::parse(name, event).map(|_| ())
    }

    fn apply_event(&self, name: &str, event: &Value, at_ms: i64) -> Result<Value, String> {
        let ev = MeetingEvent::parse(name, event)?;
        let ent = self.event_tenant(&ev)?;
        let t = self.tenants.get(&ent).ok_or_else(|| format!("no such tenant: ent_id {ent}"))?;
        let mut guard = t.lock();
        let tenant = &mut *guard;
        match ev {
            MeetingEvent::Start(e) => {
                let key = e.conference_key;
                if !tenant.conferences.contains_key(&key) {
                    // A new conference: claim its short number under the index lock, so two tenants
                    // cannot both take it.
                    let mut idx = self.index.write();
                    if let Some(o) = idx.conferences.get(&key) {
                        return Err(format!("conference {key} belongs to ent_id {o}"));
                    }
                    idx.conferences.insert(key.clone(), ent.clone());
                    tenant.conferences.insert(
                        key.clone(),
                        Conference::new(
                            key.clone(),
                            e.allow_record.unwrap_or(true),
                            e.allow_live.unwrap_or(true),
                            None,
                        ),
                    );
                }
                let conf =
                    tenant.conferences.get_mut(&key).ok_or_else(|| format!("no such conference {key}"))?;
                if conf.started_ms.is_some() {
                    return Err(format!("conference {key} has already started"));
                }
                if let Some(v) = e.allow_record {
                    conf.allow_record = v;
                }
                if let Some(v) = e.allow_live {
                    conf.allow_live = v;
                }
                conf.started_ms = Some(at_ms);
                Ok(json!({ "conference_started": key, "ent_id": tenant.config.ent_id, "at": at_ms / 1000 }))
            }
            MeetingEvent::End(e) => {
                let key = e.conference_key;
                let conf =
                    tenant.conferences.get_mut(&key).ok_or_else(|| format!("no such conference {key}"))?;
                let started = conf.started_ms.take().ok_or_else(|| format!("conference {key} is not on"))?;
                let closed_live = conf.live.take().is_some();
                let recording = conf.recording.take();
                if let Some(id) = &recording {
                    self.stop_recording(&ent, tenant, id, at_ms, "conference_end");
                }
                Ok(json!({
                    "conference_ended": key, "duration_s": (at_ms - started) / 1000,
                    "closed_recording": recording, "closed_live": closed_live,
                }))
            }
            MeetingEvent::Fail(e) => {
                let key = e.conference_key;
                let conf =
                    tenant.conferences.get_mut(&key).ok_or_else(|| format!("no such conference {key}"))?;
                let id = match e.record_id {
                    Some(id) => id,
                    None => conf
                        .recording
                        .clone()
                        .ok_or_else(|| format!("conference {key} is not being recorded"))?,
                };
                let reason = e.reason.unwrap_or_else(|| "recording failed".into());
                let rec = tenant
                    .records
                    .get_mut(&id)
                    .filter(|r| r.conference_key == key)
                    .ok_or_else(|| format!("no such recording {id} of conference {key}"))?;
                rec.recording
                    .fail(at_ms, &reason)
                    .map_err(|_| format!("recording {id} has already ended ({:?})", rec.recording.phase))?;
                if let Some(conf) = tenant.conferences.get_mut(&key) {
                    if conf.recording.as_deref() == Some(id.as_str()) {
                        conf.recording = None;
                    }
                    conf.failed_reason = Some(reason.clone());
                }
                Ok(json!({ "recording_failed": id, "conference_key": key, "reason": reason }))
            }
        }
    }

    fn run_job(&self, tenant: &str, task: &str, target: &str, due_ms: i64) -> Option<JobReport> {
        match task {
            recording::STEP_TASK => self.step(tenant, target, due_ms),
            _ => None,
        }
    }

    fn tenants(&self) -> &dyn TenantTable {
        &self.tenants
    }

    fn reindex(&self) {
        self.rebuild_index();
    }

    fn entity_kinds(&self) -> &'static [&'static str] {
        &["conference", "record", "live"]
    }

    /// Conferences by short number, recordings newest first, and the lives on now.
    fn entities(&self, q: &crate::vendors::EntityQuery<'_>) -> crate::vendors::EntityPage {
        let kind = q.kind.unwrap_or("conference");
        kit::page_listing(&self.tenants, q, |ent, t| match kind {
            "record" => {
                let mut records: Vec<&MeetingRecord> = t.records.values().collect();
                records.sort_by(|a, b| {
                    (b.recording.created_ms, &b.record_id).cmp(&(a.recording.created_ms, &a.record_id))
                });
                records.into_iter().map(|r| record_row(ent, r)).collect()
            }
            "live" => t.conferences.values().filter_map(|c| live_row(ent, c)).collect(),
            _ => t.conferences.values().map(|c| conference_row(ent, c)).collect(),
        })
    }

    fn entity(&self, tenant: &str, kind: &str, id: &str) -> Option<crate::vendors::EntityDetail> {
        let timings = self.world.timings();
        self.tenants.read(tenant, |t| match kind {
            "record" => t.records.get(id).map(|r| {
                let keys = r.files.iter().map(|f| f.file_key.clone());
                let words = |p: Phase| p.as_str().to_string();
                record_row(tenant, r).detail(r).recording(&r.recording, &timings, words, keys)
            }),
            "conference" => t.conferences.get(id).map(|c| conference_row(tenant, c).detail(c)),
            "live" => t.conferences.get(id).and_then(|c| Some(live_row(tenant, c)?.detail(c))),
            _ => None,
        })?
    }

    fn banner(&self) -> Vec<String> {
        self.tenants
            .all()
            .into_iter()
            .map(|(_, t)| {
                let t = t.read();
                let confs: Vec<String> = t
                    .conferences
                    .values()
                    .map(|c| {
                        if c.started_ms.is_some() {
                            format!("{}(on)", c.conference_key)
                        } else {
                            c.conference_key.clone()
                        }
                    })
                    .collect();
                format!(
                    "meeting (003)       ent_id={}  cloud={}  auth={}  conferences={}",
                    t.config.ent_id,
                    t.config.cloud.as_str(),
                    t.config.auth,
                    confs.join(",")
                )
            })
            .collect()
    }

    fn example_curl(&self, base: &str) -> Option<String> {
        let tenants = self.tenants.all();
        let pick = tenants
            .iter()
            .find(|(_, t)| {
                let t = t.read();
                t.config.cloud == Cloud::Public && t.conferences.values().any(|c| c.started_ms.is_some())
            })
            .or_else(|| tenants.first())?;
        let t = pick.1.read();
        let key = t
            .conferences
            .values()
            .find(|c| c.started_ms.is_some())
            .or_else(|| t.conferences.values().next())
            .map_or_else(|| "1866".to_string(), |c| c.conference_key.clone());
        Some(format!(
            "curl -X POST '{base}/meeting/getLiveRecStatus' -H 'auth: {}' -H 'Content-Type: application/json' -d '{{\"conferenceKey\":\"{key}\"}}'",
            t.config.auth
        ))
    }
}

impl crate::tenants::TenantState for Tenant {
    fn entities(&self) -> Vec<(&'static str, usize)> {
        vec![("conference", self.conferences.len()), ("recording", self.records.len())]
    }

    fn fixture_item(&self) -> Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    /// Each tenant under its own ent_id, its conferences its own (its configuration, an auth used twice
    /// included, is checked like a fixture's).
    fn check_dump(tenants: &BTreeMap<String, Self>) -> Result<(), String> {
        let mut keys = HashMap::new();
        for (id, t) in tenants {
            if *id != t.config.ent_id.to_string() {
                return Err(format!("tenants.{id}: config.ent_id is {}", t.config.ent_id));
            }
            check_tenant_state(t).map_err(|e| format!("tenants.{id}.{e}"))?;
            for key in t.conferences.keys() {
                if let Some(other) = keys.insert(key.as_str(), id) {
                    return Err(format!("tenants.{id}: conference {key} also belongs to tenant {other}"));
                }
            }
        }
        Ok(())
    }
}

/// A conference as the dashboard lists it.
fn conference_row(ent: &str, c: &Conference) -> crate::vendors::EntityRow {
    let key = if c.started_ms.is_some() { "on" } else { "off" };
    let mut summary = Vec::new();
    if c.recording.is_some() {
        summary.push("recording".to_string());
    }
    if let Some(l) = &c.live {
        summary.push(format!("live {}", l.live_id));
    }
    if let Some(r) = &c.failed_reason {
        summary.push(format!("last recording failed: {r}"));
    }
    let row = crate::vendors::EntityRow::new;
    row(ent, "conference", &c.conference_key, key, key, c.started_ms, summary.join(" · "))
}

/// A recording as the dashboard lists it.
fn record_row(ent: &str, r: &MeetingRecord) -> crate::vendors::EntityRow {
    let phase = r.recording.phase.as_str();
    let closed = r.closed_by.as_deref().map(|b| format!(" · closed by {b}")).unwrap_or_default();
    let summary = format!("conference {} · {} file(s){closed}", r.conference_key, r.files.len());
    crate::vendors::EntityRow::new(
        ent,
        "record",
        &r.record_id,
        phase,
        phase,
        Some(r.recording.created_ms),
        summary,
    )
}

/// A conference's live broadcast, while it is on, as the dashboard lists it.
fn live_row(ent: &str, c: &Conference) -> Option<crate::vendors::EntityRow> {
    let l = c.live.as_ref()?;
    let summary = format!("live {}", l.live_id);
    Some(crate::vendors::EntityRow::new(
        ent,
        "live",
        &c.conference_key,
        "live",
        "live",
        Some(l.started_ms),
        summary,
    ))
}
