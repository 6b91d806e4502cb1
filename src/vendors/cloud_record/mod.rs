//! Seed 001: the HST cloud-recording REST API.
//!
//! `GET /access/token` exchanges a developer id and token for an access token; the `/v1/record/*`
//! endpoints create and steer record tasks (manual tasks start with their first layout, auto tasks at
//! once), list them, and hand out the download URLs of their segment files. Tasks move through statuses
//! 1 → 2 (⇄ 7 suspended) → 3 → 4 → 5 → 6, or -1, on the virtual clock. Groups and their streams come from
//! fixtures and world events (`cloud_record.join`, `leave`, `stream_open`, `stream_close`); the event
//! gateway (`gateway.rs`, a WebSocket at `/`) shows them to the vendor's console as they change.

pub mod api;
mod client;
pub mod errors;
pub mod gateway;
mod handlers;
pub mod models;
pub mod token;

use crate::checks::{self, event_fields, FixtureError};
use crate::http::{endpoint, Envelope, FrontDoor, Reply};
use crate::recording::{self, Phase};
use crate::tenants::{TenantTable, Tenants};
use crate::vendors::{kit, JobReport, Vendor};
use crate::world::World;
use actix_web::http::Method;
use actix_web::web;
use errors::CloudError;
use models::*;
use parking_lot::RwLock;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The vendor's host names (the seed document's, vendor-facts.md's and its public client code's, with
/// wildcards where it spreads a service over numbered or per-app subdomains): recmock's certificate covers
/// them, so clients that hard-code `https://<host>` run unchanged.
pub const HOSTS: &[(&str, &str)] = &[
    ("access.paas.hst.com", "001 HST access service (/server/address)"),
    ("access.paas.haoshitong.com", "001 HST access service (second name)"),
    ("paas-token-gen.haoshitong.com", "001 HST console token service (/generate/token)"),
    ("fsp-store-gw.hst.com", "001 HST business gateway (/access/token, /v1/record/*)"),
    ("fsp-record-gw.hst.com", "001 HST record gateway"),
    ("fsp-ep.hst.com", "001 HST event gateway"),
    ("*.hst.com", "001 HST, any other gateway"),
    ("*.haoshitong.com", "001 HST, any other service"),
];

register_vendor!(seed: 1, name: "cloud_record", module: CloudRecord, client: client::CloudRecordClient, hosts: HOSTS);

/// Fixture items with their JSON paths.
type Located<T> = Vec<(String, T)>;

/// Scheduler task: stop a task whose group has had nothing to record for `timeout` seconds.
pub const TIMEOUT_TASK: &str = "timeout_check";

/// The cloud-recording vendor module.
#[derive(Debug)]
pub struct CloudRecord {
    world: Arc<World>,
    door: Arc<FrontDoor>,
    /// accounts by app_id
    accounts: Tenants<Account>,
    /// dev_id → app_id (derived from `accounts`; an account without `dev_id` is under its app id)
    dev_ids: RwLock<HashMap<String, String>>,
    /// access token (current or recently retired) → app_id (derived from `accounts`)
    access_tokens: RwLock<HashMap<String, String>>,
    /// the event gateway's sockets
    gateway: Arc<gateway::Gateway>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupFixture {
    app_id: String,
    group_id: String,
    #[serde(default)]
    users: Vec<UserFixture>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFixture {
    user_id: String,
    #[serde(default)]
    streams: Vec<Stream>,
}

/// `cloud_record.join`: a user enters a group publishing streams (merged with what it already publishes).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinEvent {
    #[serde(rename = "type")]
    _type: String,
    app_id: String,
    group_id: String,
    user_id: String,
    #[serde(default)]
    streams: Vec<Stream>,
}

/// `cloud_record.leave`: a user leaves a group with all its streams.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LeaveEvent {
    #[serde(rename = "type")]
    _type: String,
    app_id: String,
    group_id: String,
    user_id: String,
}

/// `cloud_record.stream_open` / `stream_close`: one stream appears or disappears.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamEvent {
    #[serde(rename = "type")]
    _type: String,
    app_id: String,
    group_id: String,
    user_id: String,
    media_type: u8,
    #[serde(deserialize_with = "crate::wire::lenient_string_required")]
    media_id: String,
}

/// `cloud_record.recording_fail`: the back end fails a task (status -1).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FailEvent {
    #[serde(rename = "type")]
    _type: String,
    app_id: String,
    record_id: String,
    #[serde(default)]
    reason: Option<String>,
}

/// The world events this vendor understands.
pub const EVENTS: [&str; 5] = ["join", "leave", "stream_open", "stream_close", "recording_fail"];

/// A parsed world event.
#[derive(Debug)]
enum CloudEvent {
    Join(JoinEvent),
    Leave(LeaveEvent),
    StreamOpen(StreamEvent),
    StreamClose(StreamEvent),
    Fail(FailEvent),
}

impl CloudEvent {
    fn parse(name: &str, event: &Value) -> Result<CloudEvent, String> {
        let e = match name {
            "join" => CloudEvent::Join(event_fields(KIND, name, event)?),
            "leave" => CloudEvent::Leave(event_fields(KIND, name, event)?),
            "stream_open" => CloudEvent::StreamOpen(event_fields(KIND, name, event)?),
            "stream_close" => CloudEvent::StreamClose(event_fields(KIND, name, event)?),
            "recording_fail" => CloudEvent::Fail(event_fields(KIND, name, event)?),
            other => return Err(kit::unknown_event(KIND, other, &EVENTS)),
        };
        match &e {
            CloudEvent::Join(j) => check_streams(&j.streams)?,
            CloudEvent::StreamOpen(s) | CloudEvent::StreamClose(s) => {
                check_streams(&[Stream { media_type: s.media_type, media_id: s.media_id.clone() }])?
            }
            _ => {}
        }
        Ok(e)
    }

    fn app_id(&self) -> &str {
        match self {
            CloudEvent::Join(e) => &e.app_id,
            CloudEvent::Leave(e) => &e.app_id,
            CloudEvent::StreamOpen(e) | CloudEvent::StreamClose(e) => &e.app_id,
            CloudEvent::Fail(e) => &e.app_id,
        }
    }
}

fn check_streams(streams: &[Stream]) -> Result<(), String> {
    for (i, s) in streams.iter().enumerate() {
        if s.media_type > 2 {
            return Err(format!("streams[{i}].media_type must be 0 (screen share), 1 (audio) or 2 (camera)"));
        }
        if s.media_id.is_empty() {
            return Err(format!("streams[{i}].media_id must not be empty"));
        }
    }
    Ok(())
}

impl CloudRecord {
    /// The module on `world`, with no accounts.
    pub fn new(world: Arc<World>, door: Arc<FrontDoor>) -> Self {
        CloudRecord {
            accounts: Tenants::new(KIND, "accounts", &world.feed),
            gateway: Arc::new(gateway::Gateway::new(world.feed.clone(), world.caps.clone())),
            world,
            door,
            dev_ids: RwLock::new(HashMap::new()),
            access_tokens: RwLock::new(HashMap::new()),
        }
    }

    /// The app a developer id names: an account's `dev_id`, or its app id (the vendor's console logs in
    /// with the app id in the developer id's place). The fixture check keeps the two from naming different
    /// accounts.
    fn app_of_dev(&self, dev: &str) -> Option<String> {
        if let Some(app) = self.dev_ids.read().get(dev) {
            return Some(app.clone());
        }
        self.accounts.get(dev).map(|_| dev.to_string())
    }

    fn app_of_access_token(&self, t: &str) -> Option<String> {
        self.access_tokens.read().get(t).cloned()
    }

    fn index_access_token(&self, token: &str, app: &str, dropped: &[String]) {
        let mut idx = self.access_tokens.write();
        for d in dropped {
            idx.remove(d);
        }
        idx.insert(token.to_string(), app.to_string());
    }

    /// Rebuild the derived indexes from the accounts.
    fn rebuild_indexes(&self) {
        let mut devs = HashMap::new();
        let mut toks = HashMap::new();
        for (app, t) in self.accounts.all() {
            let a = t.lock();
            devs.insert(a.config.dev_id().to_string(), app.clone());
            if let Some(tok) = &a.access_token {
                toks.insert(tok.token.clone(), app.clone());
            }
            for r in &a.retired_tokens {
                toks.insert(r.clone(), app.clone());
            }
        }
        *self.dev_ids.write() = devs;
        *self.access_tokens.write() = toks;
    }

    /// After a group's streams changed at `at`: tasks that lost everything start their idle clock.
    fn refresh_idle(&self, app: &str, acc: &mut Account, group_id: &str, at: i64) {
        let group = acc.groups.get(group_id).cloned();
        // Only the group's active tasks can start or stop idling: the index names them.
        for id in acc.tasks.active_ids_in_group(group_id) {
            let Some(task) = acc.tasks.get_mut(&id) else { continue };
            if task.has_input(group.as_ref()) {
                task.idle_since_ms = None;
            } else if task.idle_since_ms.is_none() {
                task.idle_since_ms = Some(at);
                self.arm_timeout(app, task);
            }
        }
    }

    fn step_recording(&self, app: &str, record_id: &str, at: i64) -> Option<JobReport> {
        let timings = self.world.timings();
        let tenant = self.accounts.get(app)?;
        let mut guard = tenant.lock();
        let acc = &mut *guard;
        let stored = acc.stored;
        let quota = acc.config.quota_bytes;
        let task = acc.tasks.get_mut(record_id)?;
        let before = task.status();
        let phase = task.recording.step(at, &timings)?;
        if phase == Phase::Done {
            let total = task.recording.total_bytes();
            if stored + total > quota {
                let reason = format!(
                    "{}: uploading {total} bytes would exceed the quota ({stored} of {quota} bytes used)",
                    errors::describe(errors::NO_SPACE)
                );
                // The files never land: the task fails instead of finishing.
                task.recording.phase = Phase::Uploading;
                let _ = task.recording.fail(at, &reason);
                task.stop_reason = Some(reason);
            } else {
                let owner = format!("{KIND}:{app}");
                let ext = task.recording.shape().format();
                let many = task.recording.segments.len() > 1;
                let base = task.file_name.clone();
                let name_of = |seg: &crate::recording::Segment| {
                    if many {
                        format!("{base}_{}.{ext}", seg.index)
                    } else {
                        format!("{base}.{ext}")
                    }
                };
                // The files have the sizes the segments were cut with (`total`); what counts is theirs.
                acc.stored += kit::store_segments(&self.world, &owner, &mut task.recording, at, name_of)
                    .map(|(_, f)| f.size)
                    .sum::<u64>();
            }
        }
        self.world.schedule_recording_step(KIND, app, &task.recording);
        let after = task.status();
        acc.refresh(record_id);
        Some(JobReport { description: format!("record {record_id}: status {before} → {after}") })
    }

    fn check_timeout(&self, app: &str, record_id: &str, at: i64) -> Option<JobReport> {
        let timings = self.world.timings();
        let tenant = self.accounts.get(app)?;
        let mut acc = tenant.lock();
        let task = acc.tasks.get_mut(record_id)?;
        // This job is the task's one pending check (or, after a restore, the dump's: adopted as it).
        let ours = task.timeout_job_ms.is_none_or(|due| due == at);
        if ours {
            task.timeout_job_ms = None;
        }
        let idle = task.idle_since_ms?;
        if !task.recording.is_active() {
            return None;
        }
        if idle.max(task.last_command_ms).saturating_add(task.timeout_s.saturating_mul(1000)) > at {
            // A command moved the deadline: the check comes back then.
            if ours {
                self.arm_timeout(app, task);
            }
            return None;
        }
        let (before, timeout_s) = (task.status(), task.timeout_s);
        task.recording.stop(at, &timings).ok()?;
        task.stop_reason = Some(format!("timeout: nothing to record and no command for {timeout_s} s"));
        self.world.schedule_recording_step(KIND, app, &task.recording);
        let after = task.status();
        acc.refresh(record_id);
        Some(JobReport {
            description: format!(
                "record {record_id}: stopped itself after {timeout_s} s without streams or commands (status {before} → {after})"
            ),
        })
    }

    /// A seeded task (`POST /__admin/seed`): number `no`, finished at once and processed, nothing recorded.
    fn seed_task(
        acc: &mut Account,
        prefix: &str,
        no: u64,
        group_id: &str,
        at_ms: i64,
        timings: &crate::recording::Timings,
    ) {
        let record_id = format!("{prefix}_{}", 10_000 + no);
        let mut recording = crate::recording::Recording::new(
            record_id.clone(),
            group_id.to_string(),
            crate::recording::MediaKind::Video,
            3600,
            at_ms,
        );
        let _ = recording.stop(at_ms, timings);
        recording.phase = Phase::Done;
        acc.tasks.insert(RecordTask {
            no,
            recording,
            group_id: group_id.to_string(),
            file_name: record_id,
            file_type: 0,
            width: 1920,
            height: 1080,
            record_mode: 0,
            frame_rate: 30,
            timeout_s: 600,
            auto: None,
            layout: None,
            seq: String::new(),
            last_command_ms: at_ms,
            idle_since_ms: None,
            stop_reason: Some("finish".into()),
            files_deleted: false,
            timeout_job_ms: None,
        });
    }

    fn section_parts(
        section: &Value,
        path: &str,
        errors: &mut Vec<FixtureError>,
    ) -> (Located<AccountConfig>, Located<GroupFixture>) {
        checks::unknown_keys(section, path, &["accounts", "groups"], errors);
        let accounts = checks::parse_list::<AccountConfig>(section, path, "accounts", errors);
        let groups = checks::parse_list::<GroupFixture>(section, path, "groups", errors);
        (accounts, groups)
    }
}

impl Envelope for CloudRecord {
    fn refusal(&self, code: i64, detail: &str) -> Reply {
        CloudError::new(code, detail).reply(&[])
    }

    fn too_large_code(&self) -> i64 {
        errors::JSON_PARSE
    }
}

impl Vendor for CloudRecord {
    fn routes(self: Arc<Self>, cfg: &mut web::ServiceConfig) {
        endpoint(cfg, &self, Method::GET, "/access/token", CloudRecord::access_token);
        endpoint(cfg, &self, Method::GET, "/server/address", CloudRecord::server_address);
        endpoint(cfg, &self, Method::POST, "/generate/token", CloudRecord::generate_token);
        endpoint(cfg, &self, Method::POST, "/v1/record/init", CloudRecord::init);
        endpoint(cfg, &self, Method::POST, "/v1/record/resume", CloudRecord::resume);
        endpoint(cfg, &self, Method::POST, "/v1/record/suspend", CloudRecord::suspend);
        endpoint(cfg, &self, Method::POST, "/v1/record/finish", CloudRecord::finish);
        endpoint(cfg, &self, Method::POST, "/v1/record/set/layout", CloudRecord::set_layout);
        endpoint(cfg, &self, Method::GET, "/v1/record/task/list", CloudRecord::task_list);
        endpoint(cfg, &self, Method::GET, "/v1/record/file/download/url", CloudRecord::download_url);
        endpoint(cfg, &self, Method::POST, "/v1/record/file", CloudRecord::delete_files);
        crate::http::ws::websocket(cfg, &self, self.door.clone(), "/", gateway::open);
    }

    fn check_section(&self, section: &Value, path: &str, errors: &mut Vec<FixtureError>) {
        let (accounts, groups) = Self::section_parts(section, path, errors);
        let mut seen_dev: HashMap<&str, &str> = HashMap::new();
        let mut seen_app: HashMap<&str, &str> = HashMap::new();
        for (p, a) in &accounts {
            for (k, v) in
                [("dev_id", a.dev_id.as_ref()), ("token", Some(&a.token)), ("app_id", Some(&a.app_id))]
            {
                if v.is_some_and(|v| v.trim().is_empty()) {
                    errors.push(FixtureError::new(format!("{p}.{k}"), "must not be empty"));
                }
            }
            if a.dev_id.as_deref().is_some_and(|d| d.contains('.')) {
                errors.push(FixtureError::new(
                    format!("{p}.dev_id"),
                    "must not contain `.` (Authorization is `<dev_id>.<token>`)",
                ));
            }
            if a.app_id.contains('.') {
                errors.push(FixtureError::new(
                    format!("{p}.app_id"),
                    "must not contain `.` (the vendor's console sends `Authorization: <app_id>.<token>`)",
                ));
            }
            if let Some(s) = &a.app_secret {
                if s.len() != 16 {
                    errors.push(FixtureError::new(
                        format!("{p}.app_secret"),
                        format!("must be 16 characters (an AES-128 key), got {}", s.len()),
                    ));
                }
            }
            if !(1..=31_536_000).contains(&a.token_timeout_s) {
                errors.push(FixtureError::new(
                    format!("{p}.token_timeout_s"),
                    "must be between 1 and 31536000 seconds",
                ));
            }
            for (k, v) in [
                ("max_tasks", a.max_tasks),
                ("max_group_tasks", a.max_group_tasks),
                ("max_layout_inputs", a.max_layout_inputs),
            ] {
                if v == 0 {
                    errors.push(FixtureError::new(format!("{p}.{k}"), "must be at least 1"));
                }
            }
            if let Some(d) = &a.dev_id {
                if let Some(first) = seen_dev.insert(d, p) {
                    errors.push(FixtureError::new(
                        format!("{p}.dev_id"),
                        format!("duplicate dev_id `{d}` (also at {first})"),
                    ));
                }
            }
            if let Some(first) = seen_app.insert(&a.app_id, p) {
                errors.push(FixtureError::new(
                    format!("{p}.app_id"),
                    format!("duplicate app_id `{}` (also at {first})", a.app_id),
                ));
            }
        }
        // A developer id may be an app id: one id names one account.
        for (p, a) in &accounts {
            let Some(d) = a.dev_id.as_deref().filter(|d| *d != a.app_id) else { continue };
            if let Some((q, _)) = accounts.iter().find(|(_, b)| b.app_id == d) {
                errors.push(FixtureError::new(
                    format!("{p}.dev_id"),
                    format!("dev_id `{d}` is the app_id of the account at {q}: an id names one account"),
                ));
            }
        }
        for (p, g) in &groups {
            if g.group_id.is_empty() {
                errors.push(FixtureError::new(format!("{p}.group_id"), "must not be empty"));
            }
            for (i, u) in g.users.iter().enumerate() {
                if u.user_id.is_empty() {
                    errors.push(FixtureError::new(format!("{p}.users[{i}].user_id"), "must not be empty"));
                }
                if let Err(e) = check_streams(&u.streams) {
                    errors.push(FixtureError::new(format!("{p}.users[{i}]"), e));
                }
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
        let (accounts, groups) = Self::section_parts(section, path, &mut errors);
        let accounts: Vec<_> =
            accounts.into_iter().filter(|(_, a)| only.is_none_or(|o| o == a.app_id)).collect();
        let groups: Vec<_> = groups.into_iter().filter(|(_, g)| only.is_none_or(|o| o == g.app_id)).collect();
        for (p, a) in &accounts {
            if self.accounts.get(&a.app_id).is_some() {
                errors.push(FixtureError::new(
                    format!("{p}.app_id"),
                    format!("account with app_id `{}` already exists", a.app_id),
                ));
            }
            if let Some(app) = a.dev_id.as_deref().and_then(|d| self.app_of_dev(d)) {
                errors.push(FixtureError::new(
                    format!("{p}.dev_id"),
                    format!("dev_id `{}` already names app `{app}`", a.dev_id()),
                ));
            }
            if let Some(app) = self.app_of_dev(&a.app_id).filter(|app| *app != a.app_id) {
                errors.push(FixtureError::new(
                    format!("{p}.app_id"),
                    format!("app_id `{}` is the dev_id of app `{app}`: an id names one account", a.app_id),
                ));
            }
        }
        for (p, g) in &groups {
            if self.accounts.get(&g.app_id).is_none() && !accounts.iter().any(|(_, a)| a.app_id == g.app_id) {
                errors.push(FixtureError::new(
                    format!("{p}.app_id"),
                    format!("no account with app_id `{}`", g.app_id),
                ));
            }
        }
        if let Some(stop) = kit::stop_before_loading(errors, dry_run) {
            return stop;
        }
        let mut loaded = Vec::new();
        for (_, a) in accounts {
            let app = a.app_id.clone();
            self.accounts.insert(&app, Account::new(a));
            loaded.push(app);
        }
        for (_, g) in groups {
            self.accounts.write(&g.app_id, |acc| {
                let group = acc.groups.entry(g.group_id.clone()).or_default();
                for u in g.users {
                    let streams = group.users.entry(u.user_id).or_default();
                    for s in u.streams {
                        if !streams.contains(&s) {
                            streams.push(s);
                        }
                    }
                }
            });
        }
        self.rebuild_indexes();
        Ok(loaded)
    }

    fn check_event(&self, name: &str, event: &Value) -> Result<(), String> {
        CloudEvent::parse(name, event).map(|_| ())
    }

    fn apply_event(&self, name: &str, event: &Value, at_ms: i64) -> Result<Value, String> {
        let ev = CloudEvent::parse(name, event)?;
        let app = ev.app_id().to_string();
        let tenant =
            self.accounts.get(&app).ok_or_else(|| format!("no such app_id `{app}` (unknown account)"))?;
        let mut guard = tenant.lock();
        let acc = &mut *guard;
        match ev {
            CloudEvent::Join(e) => {
                let streams = acc
                    .groups
                    .entry(e.group_id.clone())
                    .or_default()
                    .users
                    .entry(e.user_id.clone())
                    .or_default();
                let mut opened = Vec::new();
                for s in e.streams {
                    if !streams.contains(&s) {
                        streams.push(s.clone());
                        opened.push(s);
                    }
                }
                let now_streams = streams.clone();
                self.refresh_idle(&app, acc, &e.group_id, at_ms);
                Ok(
                    json!({ "joined": e.user_id, "group_id": e.group_id, "streams": now_streams, "opened": opened }),
                )
            }
            CloudEvent::Leave(e) => {
                let removed = acc.groups.get_mut(&e.group_id).and_then(|g| g.users.remove(&e.user_id));
                let Some(closed) = removed else {
                    return Err(format!("no such user `{}` in group `{}`", e.user_id, e.group_id));
                };
                self.refresh_idle(&app, acc, &e.group_id, at_ms);
                Ok(json!({ "left": e.user_id, "group_id": e.group_id, "closed": closed }))
            }
            CloudEvent::StreamOpen(e) => {
                let s = Stream { media_type: e.media_type, media_id: e.media_id.clone() };
                let streams = acc
                    .groups
                    .entry(e.group_id.clone())
                    .or_default()
                    .users
                    .entry(e.user_id.clone())
                    .or_default();
                if !streams.contains(&s) {
                    streams.push(s);
                }
                self.refresh_idle(&app, acc, &e.group_id, at_ms);
                Ok(
                    json!({ "stream_open": { "user_id": e.user_id, "media_type": e.media_type, "media_id": e.media_id }, "group_id": e.group_id }),
                )
            }
            CloudEvent::StreamClose(e) => {
                let s = Stream { media_type: e.media_type, media_id: e.media_id.clone() };
                let streams = acc
                    .groups
                    .get_mut(&e.group_id)
                    .and_then(|g| g.users.get_mut(&e.user_id))
                    .filter(|st| st.contains(&s))
                    .ok_or_else(|| {
                        format!(
                            "no such stream {}/{} of user `{}` in group `{}`",
                            e.media_type, e.media_id, e.user_id, e.group_id
                        )
                    })?;
                streams.retain(|x| x != &s);
                self.refresh_idle(&app, acc, &e.group_id, at_ms);
                Ok(
                    json!({ "stream_close": { "user_id": e.user_id, "media_type": e.media_type, "media_id": e.media_id }, "group_id": e.group_id }),
                )
            }
            CloudEvent::Fail(e) => {
                let task = acc
                    .tasks
                    .get_mut(&e.record_id)
                    .ok_or_else(|| format!("no such record task `{}`", e.record_id))?;
                let reason = e.reason.unwrap_or_else(|| "recording failed (world event)".into());
                task.recording.fail(at_ms, &reason).map_err(|_| {
                    format!("record task {} has already ended (status {})", e.record_id, task.status())
                })?;
                task.stop_reason = Some(reason);
                let status = task.status();
                acc.refresh(&e.record_id);
                Ok(json!({ "failed": e.record_id, "status": status }))
            }
        }
    }

    fn run_job(&self, tenant: &str, task: &str, target: &str, due_ms: i64) -> Option<JobReport> {
        match task {
            recording::STEP_TASK => self.step_recording(tenant, target, due_ms),
            TIMEOUT_TASK => self.check_timeout(tenant, target, due_ms),
            _ => None,
        }
    }

    fn tenants(&self) -> &dyn TenantTable {
        &self.accounts
    }

    fn reindex(&self) {
        self.rebuild_indexes();
    }

    fn live_sessions(&self) -> Vec<Value> {
        self.gateway.sessions()
    }

    /// `{"tasks": N, "group_id": "seed"}`: N record tasks in the group (created if absent), numbered and
    /// named as `init` would, that were finished at once and processed: status 6, nothing recorded, no
    /// files, no jobs. Limits (`max_tasks`, quota) do not apply: they guard new tasks, not history.
    fn seed(&self, tenant: &str, spec: &Value, at_ms: i64) -> Result<Value, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Spec {
            #[serde(rename = "tenant")]
            _tenant: String,
            tasks: u64,
            #[serde(default = "default_seed_group")]
            group_id: String,
        }
        fn default_seed_group() -> String {
            "seed".into()
        }
        let spec: Spec =
            serde_path_to_error::deserialize(spec).map_err(|e| format!("{} (at {})", e.inner(), e.path()))?;
        if !(1..=crate::vendors::MAX_SEED).contains(&spec.tasks) {
            return Err(format!(
                "tasks must be between 1 and {}, got {}",
                crate::vendors::MAX_SEED,
                spec.tasks
            ));
        }
        if spec.group_id.trim().is_empty() {
            return Err("group_id must not be empty".into());
        }
        let timings = self.world.timings();
        let prefix = crate::clock::calendar::beijing_compact(at_ms.div_euclid(1000));
        let handle = self.accounts.get(tenant).ok_or_else(|| format!("no account `{tenant}`"))?;
        let (mut first, mut last) = (None, 0);
        kit::in_chunks(spec.tasks, |n| {
            let mut acc = handle.lock();
            acc.groups.entry(spec.group_id.clone()).or_default();
            for _ in 0..n {
                let no = acc
                    .tasks_created
                    .checked_add(1)
                    .filter(|no| no.checked_add(10_000).is_some())
                    .ok_or("the account has used up its record numbers")?;
                acc.tasks_created = no;
                first.get_or_insert(no);
                last = no;
                Self::seed_task(&mut acc, &prefix, no, &spec.group_id, at_ms, &timings);
            }
            Ok(())
        })?;
        let total = handle.read().tasks.len();
        Ok(json!({
            "created": { "tasks": spec.tasks }, "group_id": spec.group_id,
            "record_numbers": [first, last], "total_tasks": total,
        }))
    }

    fn entity_kinds(&self) -> &'static [&'static str] {
        &["task", "group"]
    }

    /// Tasks newest first, from the task table's indexes (one status: its index); groups by id.
    fn entities(&self, q: &crate::vendors::EntityQuery<'_>) -> crate::vendors::EntityPage {
        let groups = q.kind == Some("group");
        let status = q.status.map(|s| s.parse::<i64>().ok());
        kit::page_across(&self.accounts, q, |app, acc, skip, limit| {
            if groups {
                return q.page_of(acc.groups.iter().map(|(id, g)| group_row(app, id, g)), skip, limit);
            }
            let f = TaskFilter { status: status.flatten(), ..TaskFilter::default() };
            if status.is_some_and(|s| s.is_none()) {
                return (0, Vec::new());
            }
            if q.id.is_some() {
                let all = acc.tasks.page(&f, 0, usize::MAX).1;
                return q.page_of(all.into_iter().rev().map(|t| task_row(app, t)), skip, limit);
            }
            let total = acc.tasks.page(&f, 0, 0).0;
            let rows = kit::newest_first(total, skip, limit, |from, n| {
                acc.tasks.page(&f, from, n).1.into_iter().map(|t| task_row(app, t)).collect()
            });
            (total, rows)
        })
    }

    fn entity(&self, tenant: &str, kind: &str, id: &str) -> Option<crate::vendors::EntityDetail> {
        let timings = self.world.timings();
        self.accounts.read(tenant, |acc| match kind {
            "task" => acc.tasks.get(id).map(|t| {
                let files = t.recording.segments.iter().filter_map(|s| s.file_key.clone());
                task_row(tenant, t).detail(t).recording(
                    &t.recording,
                    &timings,
                    |p| status_words(phase_status(p)),
                    files,
                )
            }),
            "group" => acc.groups.get(id).map(|g| group_row(tenant, id, g).detail(g)),
            _ => None,
        })?
    }

    fn banner(&self) -> Vec<String> {
        self.accounts
            .all()
            .into_iter()
            .flat_map(|(_, t)| {
                let a = t.lock();
                let c = &a.config;
                let mut lines = vec![format!(
                    "cloud_record (001)  app_id={}  dev_id={}  token={}",
                    c.app_id,
                    c.dev_id(),
                    c.token
                )];
                if let Some(secret) = &c.app_secret {
                    lines.push(format!(
                        "                    console login: App ID {}  App Secret {secret}",
                        c.app_id
                    ));
                }
                lines
            })
            .collect()
    }

    fn example_curl(&self, base: &str) -> Option<String> {
        let (_, t) = self.accounts.all().into_iter().next()?;
        let a = t.lock();
        Some(format!("curl '{base}/access/token?dev_id={}&token={}'", a.config.dev_id(), a.config.token))
    }
}

/// A task as the dashboard lists it.
fn task_row(app: &str, t: &RecordTask) -> crate::vendors::EntityRow {
    let status = t.status();
    let how = if t.auto.is_some() { "auto" } else { "manual" };
    crate::vendors::EntityRow::new(
        app,
        "task",
        &t.recording.id,
        status.to_string(),
        status_words(status),
        Some(t.recording.created_ms),
        format!("group {} · {how} · {}", t.group_id, t.file_name),
    )
}

/// A group as the dashboard lists it.
fn group_row(app: &str, id: &str, g: &Group) -> crate::vendors::EntityRow {
    let users = g.users.len();
    let streams: usize = g.users.values().map(Vec::len).sum();
    let key = if streams > 0 { "live" } else { "empty" };
    let summary = format!("{users} user(s), {streams} stream(s)");
    crate::vendors::EntityRow::new(app, "group", id, key, key, None, summary)
}
