//! Seed 002: Tencent interactive-live SDK 1.3 recording, and the VOD API v2 look-ups of its files.
//!
//! The SDK calls are served as REST: a user (logged in with `sdkappid` + `identifier` + `usersig`) starts
//! recording a room (`POST /live_sdk/v1/record/start`) and stops it (`/stop`, answering the VOD file ids).
//! One recording per user at a time; every 90 minutes of recorded media a file is cut (each piece is one
//! run of the shared recording engine, processed into a VOD file); a client that sends no data for a
//! minute (world event `live_sdk.client_gone`) has its recording closed, keeping what was recorded. The
//! files are looked up with the VOD API v2 (`/v2/index.php`, `DescribeRecordPlayInfo` by `vid`,
//! `DescribeVodPlayInfo` by `fileName`), whose requests are signed with the account's SecretId/SecretKey.

pub mod api;
mod client;
pub mod errors;
mod handlers;
pub mod models;
pub mod vod;

use crate::checks::{self, event_fields, FixtureError};
use crate::files::{Media, NewFile, Picture, Shape};
use crate::http::routes::method_not_allowed;
use crate::http::{endpoint, serve, Doorway, Envelope, FrontDoor, Reply};
use crate::recording::{self, MediaKind, Phase, Recording};
use crate::tenants::{TenantTable, Tenants};
use crate::vendors::{kit, JobReport, Vendor};
use crate::world::World;
use crate::VendorKind;
use actix_web::http::Method;
use actix_web::{web, HttpRequest};
use errors::{SdkError, VodError};
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
    ("vod.api.qcloud.com", "002 Tencent VOD API v2 (/v2/index.php)"),
    ("*.vod2.myqcloud.com", "002/000/004 VOD playback hosts (<appid>.vod2.myqcloud.com)"),
];

register_vendor!(seed: 2, name: "live_sdk", module: LiveSdk, client: client::LiveSdkClient, hosts: HOSTS);

/// Scheduler task: cut the recording's current piece when it holds 90 minutes of media.
pub const CUT_TASK: &str = "cut";
/// Scheduler task: close the recording of a client that has sent no data for a minute.
pub const NO_DATA_TASK: &str = "no_data_close";

/// Size of the generated cover screenshot (a 1280×720 JPEG), bytes: 64 KiB, a usual size of such a picture.
pub const IMAGE_BYTES: u64 = 64 * 1024;

/// The live-SDK recording vendor module.
#[derive(Debug)]
pub struct LiveSdk {
    world: Arc<World>,
    door: Arc<FrontDoor>,
    /// apps by sdkappid (as text)
    apps: Tenants<LiveApp>,
    /// VOD SecretId → sdkappid (derived from `apps`)
    secret_ids: RwLock<HashMap<String, String>>,
}

/// `live_sdk.client_gone` / `live_sdk.data_resumed`: the user's client stops / starts again sending data.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEvent {
    #[serde(rename = "type")]
    _type: String,
    sdkappid: u64,
    identifier: String,
}

/// `live_sdk.recording_fail`: the recording server fails the user's recording.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FailEvent {
    #[serde(rename = "type")]
    _type: String,
    sdkappid: u64,
    identifier: String,
    #[serde(default)]
    reason: Option<String>,
}

/// `live_sdk.vod_account`: the account's VOD service is enabled/disabled or its balance changes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VodAccountEvent {
    #[serde(rename = "type")]
    _type: String,
    sdkappid: u64,
    #[serde(default)]
    vod_enabled: Option<bool>,
    #[serde(default)]
    vod_balance: Option<f64>,
}

/// The world events this vendor understands.
pub const EVENTS: [&str; 4] = ["client_gone", "data_resumed", "recording_fail", "vod_account"];

#[derive(Debug)]
enum LiveEvent {
    Gone(UserEvent),
    Resumed(UserEvent),
    Fail(FailEvent),
    Account(VodAccountEvent),
}

impl LiveEvent {
    fn parse(name: &str, v: &Value) -> Result<LiveEvent, String> {
        let e = match name {
            "client_gone" => LiveEvent::Gone(event_fields(KIND, name, v)?),
            "data_resumed" => LiveEvent::Resumed(event_fields(KIND, name, v)?),
            "recording_fail" => LiveEvent::Fail(event_fields(KIND, name, v)?),
            "vod_account" => LiveEvent::Account(event_fields(KIND, name, v)?),
            other => return Err(kit::unknown_event(KIND, other, &EVENTS)),
        };
        if let LiveEvent::Account(a) = &e {
            if a.vod_enabled.is_none() && a.vod_balance.is_none() {
                return Err("live_sdk.vod_account: give vod_enabled and/or vod_balance".into());
            }
            if a.vod_balance.is_some_and(|b| !b.is_finite()) {
                return Err("live_sdk.vod_account: vod_balance must be a finite number".into());
            }
        }
        Ok(e)
    }

    fn sdkappid(&self) -> u64 {
        match self {
            LiveEvent::Gone(e) | LiveEvent::Resumed(e) => e.sdkappid,
            LiveEvent::Fail(e) => e.sdkappid,
            LiveEvent::Account(e) => e.sdkappid,
        }
    }
}

/// When the piece will hold [`SEGMENT_S`] of media, if it is recording.
fn cut_due(piece: &Recording) -> Option<i64> {
    if piece.phase != Phase::Recording {
        return None;
    }
    let span = piece.span_start_ms?;
    // Saturating: a restored dump may hold any times; the clock never reaches these bounds anyway.
    Some(span.saturating_add(SEGMENT_S * 1000).saturating_sub(piece.recorded_ms))
}

/// Bytes per second of each transcoded definition, as a fraction (quarters) of the original's.
const TRANSCODES: [(u32, u64, u32, u32); 3] = [(10, 1, 320, 180), (20, 2, 640, 360), (30, 3, 1280, 720)];

impl LiveSdk {
    /// The module on `world`, with no apps.
    pub fn new(world: Arc<World>, door: Arc<FrontDoor>) -> Self {
        let apps = Tenants::new(KIND, "apps", &world.feed);
        LiveSdk { world, door, apps, secret_ids: RwLock::new(HashMap::new()) }
    }

    fn tenant_of_secret(&self, secret_id: &str) -> Option<String> {
        self.secret_ids.read().get(secret_id).cloned()
    }

    /// Rebuild the SecretId index from the apps.
    fn rebuild_index(&self) {
        let mut idx = HashMap::new();
        for (id, t) in self.apps.all() {
            if let Some(s) = &t.read().config.vod_secret_id {
                idx.insert(s.clone(), id);
            }
        }
        *self.secret_ids.write() = idx;
    }

    fn schedule_cut(&self, tenant: &str, rec: &SdkRecording) {
        if let Some(due) = cut_due(&rec.piece) {
            self.world.schedule_vendor(due, KIND, tenant, CUT_TASK, &rec.seq.to_string());
        }
    }

    /// Turn a stopped piece into a VOD file (none if it holds no media); returns its id.
    fn file_from_piece(
        &self,
        tenant: &str,
        app: &mut LiveApp,
        seq: u64,
        mut piece: Recording,
    ) -> Option<String> {
        if piece.segments.is_empty() {
            return None;
        }
        let rec = app.recordings.get_mut(&seq)?;
        let file_id = loop {
            let id = self.world.ids.digits(19);
            if !app.files.contains_key(&id) {
                break id;
            }
        };
        piece.id = file_id.clone();
        // The Web SDK's transcode/snapshot/watermark flags have no effect (暂没有作用).
        let honours_flags = rec.params.platform != Platform::Web;
        let file = VodFile {
            file_id: file_id.clone(),
            recording_seq: seq,
            index: rec.file_ids.len() as u32 + 1,
            file_name: rec.params.file_name.clone(),
            transcode: honours_flags && rec.params.is_transcode,
            screenshot: honours_flags && rec.params.is_screenshot,
            recording: piece,
            outputs: Vec::new(),
            image_key: None,
        };
        rec.file_ids.push(file_id.clone());
        self.world.schedule_recording_step(KIND, tenant, &file.recording);
        app.files.insert(file_id.clone(), file);
        Some(file_id)
    }

    /// Apply everything due for recording `seq` up to `until`: 90-minute cuts, and the close of a client
    /// silent for a minute. Idempotent: jobs and requests call it, whoever comes first does the work.
    fn settle(&self, tenant: &str, app: &mut LiveApp, seq: u64, until: i64) -> Vec<String> {
        let timings = self.world.timings();
        let mut done = Vec::new();
        while let Some(rec) = app.recordings.get_mut(&seq).filter(|r| r.is_open()) {
            if let Some(at) = cut_due(&rec.piece).filter(|at| *at <= until) {
                let n = rec.file_ids.len() + 2;
                let mut next =
                    Recording::new(format!("{seq}.{n}"), rec.room(), MediaKind::Video, SEGMENT_S, at);
                next.shape = Some(piece_shape(rec.params.record_data_type));
                let _ = next.start(at);
                let mut piece = std::mem::replace(&mut rec.piece, next);
                let _ = piece.stop(at, &timings);
                self.schedule_cut(tenant, rec);
                if let Some(id) = self.file_from_piece(tenant, app, seq, piece) {
                    done.push(format!("recording {seq}: 90 minutes recorded, file {id} cut"));
                }
                continue;
            }
            if let Some(close_at) =
                rec.gone_since_ms.map(|g| g.saturating_add(NO_DATA_CLOSE_S * 1000)).filter(|c| *c <= until)
            {
                let user = rec.identifier.clone();
                self.close(tenant, app, seq, close_at, CloseReason::ClientGone);
                done.push(format!(
                    "recording {seq} of `{user}`: closed, no data from the client for {NO_DATA_CLOSE_S} s"
                ));
            }
            break;
        }
        done
    }

    /// End recording `seq` at `at`: its last piece becomes a file if it holds media.
    fn close(&self, tenant: &str, app: &mut LiveApp, seq: u64, at: i64, reason: CloseReason) {
        let timings = self.world.timings();
        let Some(rec) = app.recordings.get_mut(&seq).filter(|r| r.is_open()) else { return };
        let _ = rec.piece.stop(at, &timings);
        rec.closed_ms = Some(at);
        rec.close_reason = Some(reason);
        // The engine's record of the last piece stays with the recording (stopped; no file if empty).
        let user = rec.identifier.clone();
        let piece = rec.piece.clone();
        if app.active.get(&user) == Some(&seq) {
            app.active.remove(&user);
        }
        if let Some(id) = self.file_from_piece(tenant, app, seq, piece) {
            if let Some(r) = app.recordings.get_mut(&seq) {
                r.piece.id = id;
            }
        }
    }

    /// A file's next processing step; once done, its outputs exist in the file store.
    fn step(&self, tenant: &str, file_id: &str, at: i64) -> Option<JobReport> {
        let timings = self.world.timings();
        let t = self.apps.get(tenant)?;
        let mut guard = t.lock();
        let f = guard.files.get_mut(file_id)?;
        let phase = f.recording.step(at, &timings)?;
        self.world.schedule_recording_step(KIND, tenant, &f.recording);
        if phase != Phase::Done {
            return Some(JobReport { description: format!("VOD file {file_id}: {phase:?}") });
        }
        let owner = format!("{}:{tenant}", KIND);
        let duration = f.duration_s().max(1) as u64;
        let base = format!("{}_{}", f.file_name, f.index);
        let shape = f.recording.shape();
        let seg = f.recording.segments.first_mut()?;
        let files = &self.world.files;
        // Every output lasts what the VOD answer says the file lasts (`duration`, recorded seconds).
        let duration_ms = duration.saturating_mul(1000);
        let name = format!("{base}.mp4");
        let new = NewFile {
            owner: &owner,
            name: &name,
            media: Some(Media { shape, duration_ms }),
            format: "mp4",
            target_size: seg.size,
            seed: Some(seg.seed),
        };
        let original = files.add(&self.world.ids, new, at);
        seg.size = original.size;
        seg.file_key = Some(original.key.clone());
        let mut outputs = vec![PlayOutput {
            definition: 0,
            vbitrate: original.size.saturating_mul(8) / duration,
            vwidth: ORIGINAL.width,
            vheight: ORIGINAL.height,
            size: original.size,
            file_key: original.key,
        }];
        if f.transcode {
            let audio = match shape {
                Shape::Mp4 { audio, .. } => audio,
                _ => None,
            };
            for (definition, quarters, vwidth, vheight) in TRANSCODES {
                let picture = Picture { width: vwidth, height: vheight, fps: ORIGINAL.fps };
                let name = format!("{base}.f{definition}.mp4");
                let new = NewFile {
                    owner: &owner,
                    name: &name,
                    media: Some(Media { shape: Shape::Mp4 { video: Some(picture), audio }, duration_ms }),
                    format: "mp4",
                    target_size: seg.size / 4 * quarters,
                    seed: None,
                };
                let sf = files.add(&self.world.ids, new, at);
                outputs.push(PlayOutput {
                    definition,
                    vbitrate: sf.size.saturating_mul(8) / duration,
                    vwidth,
                    vheight,
                    size: sf.size,
                    file_key: sf.key,
                });
            }
        }
        if f.screenshot {
            let name = format!("{base}.jpg");
            let cover = Shape::Jpeg { width: ORIGINAL.width, height: ORIGINAL.height };
            let new = NewFile {
                owner: &owner,
                name: &name,
                media: Some(Media { shape: cover, duration_ms: 0 }),
                format: "jpg",
                target_size: IMAGE_BYTES,
                seed: None,
            };
            let img = files.add(&self.world.ids, new, at);
            f.image_key = Some(img.key);
        }
        let n = outputs.len();
        f.outputs = outputs;
        Some(JobReport { description: format!("VOD file {file_id}: done, {n} play URL(s)") })
    }

    fn jobs_of_recording(&self, tenant: &str, target: &str, at: i64) -> Option<JobReport> {
        let seq: u64 = target.parse().ok()?;
        let t = self.apps.get(tenant)?;
        let mut guard = t.lock();
        let done = self.settle(tenant, &mut guard, seq, at);
        (!done.is_empty()).then(|| JobReport { description: done.join("; ") })
    }

    fn section_apps(section: &Value, path: &str, errors: &mut Vec<FixtureError>) -> Vec<(String, AppConfig)> {
        checks::unknown_keys(section, path, &["apps"], errors);
        checks::parse_list::<AppConfig>(section, path, "apps", errors)
    }

    /// A user's open recording, settled at `at`.
    fn open_recording(&self, tenant: &str, app: &mut LiveApp, user: &str, at: i64) -> Result<u64, String> {
        if let Some(seq) = app.active.get(user).copied() {
            self.settle(tenant, app, seq, at);
        }
        if let Some(seq) = app.active.get(user) {
            return Ok(*seq);
        }
        match app.latest.get(user).and_then(|s| app.recordings.get(s)) {
            Some(r) if r.close_reason == Some(CloseReason::ClientGone) => Err(format!(
                "the recording of `{user}` was closed at {} (its client sent no data for {NO_DATA_CLOSE_S} s)",
                r.closed_ms.unwrap_or(at) / 1000
            )),
            _ => Err(format!("user `{user}` of app {tenant} has no recording in progress")),
        }
    }
}

/// The VOD API's face: its errors and oversize bodies in the VOD API v2 envelope.
struct VodFace<'a>(&'a LiveSdk);

impl Doorway for VodFace<'_> {
    fn kind(&self) -> VendorKind {
        KIND
    }

    fn door(&self) -> &FrontDoor {
        &self.0.door
    }
}

impl Envelope for VodFace<'_> {
    fn refusal(&self, code: i64, detail: &str) -> Reply {
        VodError::new(code, detail).reply()
    }

    fn too_large_code(&self) -> i64 {
        errors::VOD_BAD_PARAMETER
    }
}

impl Envelope for LiveSdk {
    fn refusal(&self, code: i64, detail: &str) -> Reply {
        SdkError::new(code, detail).reply()
    }

    fn too_large_code(&self) -> i64 {
        errors::BAD_PACKET
    }
}

impl Vendor for LiveSdk {
    fn routes(self: Arc<Self>, cfg: &mut web::ServiceConfig) {
        endpoint(cfg, &self, Method::POST, "/live_sdk/v1/record/start", LiveSdk::start);
        endpoint(cfg, &self, Method::POST, "/live_sdk/v1/record/stop", LiveSdk::stop);
        // Noted by hand: one resource with two methods, answered in the VOD API's own envelope.
        let vod = |method: &str| {
            let (v, stats) = (self.clone(), self.door.routes.note(method, vod::PATH, Some(self.kind())));
            move |req: HttpRequest, body: web::Payload| {
                let (v, stats) = (v.clone(), stats.clone());
                async move { serve(&VodFace(&v), &stats, &req, body, |ex| v.vod(ex)).await }
            }
        };
        cfg.service(
            web::resource(vod::PATH)
                .route(web::get().to(vod("GET")))
                .route(web::post().to(vod("POST")))
                .default_service(method_not_allowed("GET, POST")),
        );
    }

    fn check_section(&self, section: &Value, path: &str, errors: &mut Vec<FixtureError>) {
        let apps = Self::section_apps(section, path, errors);
        let mut seen: BTreeMap<u64, &str> = BTreeMap::new();
        let mut secrets: BTreeMap<&str, &str> = BTreeMap::new();
        for (p, a) in &apps {
            if a.key.is_empty() {
                errors.push(FixtureError::new(format!("{p}.key"), "must not be empty"));
            }
            if !a.vod_balance.is_finite() {
                errors.push(FixtureError::new(format!("{p}.vod_balance"), "must be a finite number"));
            }
            if a.max_recordings == 0 {
                errors.push(FixtureError::new(format!("{p}.max_recordings"), "must be at least 1"));
            }
            match (&a.vod_secret_id, &a.vod_secret_key) {
                (Some(id), Some(key)) => {
                    for (k, v) in [("vod_secret_id", id), ("vod_secret_key", key)] {
                        if v.trim().is_empty() {
                            errors.push(FixtureError::new(format!("{p}.{k}"), "must not be empty"));
                        }
                    }
                    if let Some(first) = secrets.insert(id, p) {
                        errors.push(FixtureError::new(
                            format!("{p}.vod_secret_id"),
                            format!("duplicate vod_secret_id `{id}` (also at {first})"),
                        ));
                    }
                }
                (Some(_), None) => {
                    errors.push(FixtureError::new(format!("{p}.vod_secret_key"), "needed with vod_secret_id"))
                }
                (None, Some(_)) => {
                    errors.push(FixtureError::new(format!("{p}.vod_secret_id"), "needed with vod_secret_key"))
                }
                (None, None) => {}
            }
            if let Some(first) = seen.insert(a.sdkappid, p) {
                errors.push(FixtureError::new(
                    format!("{p}.sdkappid"),
                    format!("duplicate sdkappid {} (also at {first})", a.sdkappid),
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
        let apps: Vec<_> = Self::section_apps(section, path, &mut errors)
            .into_iter()
            .filter(|(_, a)| only.is_none_or(|o| o == a.sdkappid.to_string()))
            .collect();
        for (p, a) in &apps {
            if self.apps.get(&a.sdkappid.to_string()).is_some() {
                errors.push(FixtureError::new(
                    format!("{p}.sdkappid"),
                    format!("app {} already exists", a.sdkappid),
                ));
            }
            if let Some(owner) = a.vod_secret_id.as_deref().and_then(|s| self.tenant_of_secret(s)) {
                errors.push(FixtureError::new(
                    format!("{p}.vod_secret_id"),
                    format!("SecretId is already used by app {owner}"),
                ));
            }
        }
        if let Some(stop) = kit::stop_before_loading(errors, dry_run) {
            return stop;
        }
        let mut loaded = Vec::new();
        for (_, a) in apps {
            let id = a.sdkappid.to_string();
            self.apps.insert(&id, LiveApp::new(a));
            loaded.push(id);
        }
        self.rebuild_index();
        Ok(loaded)
    }

    fn check_event(&self, name: &str, event: &Value) -> Result<(), String> {
        LiveEvent::parse(name, event).map(|_| ())
    }

    fn apply_event(&self, name: &str, event: &Value, at_ms: i64) -> Result<Value, String> {
        let ev = LiveEvent::parse(name, event)?;
        let sdkappid = ev.sdkappid();
        let tenant = sdkappid.to_string();
        let t = self.apps.get(&tenant).ok_or_else(|| format!("no such app {sdkappid}"))?;
        let mut guard = t.lock();
        let app = &mut *guard;
        match ev {
            LiveEvent::Gone(e) => {
                let seq = self.open_recording(&tenant, app, &e.identifier, at_ms)?;
                let rec = app.recordings.get_mut(&seq).ok_or("recording is gone")?;
                if let Some(g) = rec.gone_since_ms {
                    return Err(format!(
                        "the client of `{}` has sent no data since {} already",
                        e.identifier,
                        g / 1000
                    ));
                }
                let _ = rec.piece.pause(at_ms);
                rec.gone_since_ms = Some(at_ms);
                let close_at = at_ms + NO_DATA_CLOSE_S * 1000;
                self.world.schedule_vendor(close_at, KIND, &tenant, NO_DATA_TASK, &seq.to_string());
                Ok(json!({ "client_gone": e.identifier, "recording": seq, "closes_at": close_at / 1000 }))
            }
            LiveEvent::Resumed(e) => {
                let seq = self.open_recording(&tenant, app, &e.identifier, at_ms)?;
                let rec = app.recordings.get_mut(&seq).ok_or("recording is gone")?;
                if rec.gone_since_ms.take().is_none() {
                    return Err(format!("the client of `{}` is sending data already", e.identifier));
                }
                let _ = rec.piece.resume(at_ms);
                self.schedule_cut(&tenant, rec);
                Ok(json!({ "data_resumed": e.identifier, "recording": seq }))
            }
            LiveEvent::Fail(e) => {
                let seq = self.open_recording(&tenant, app, &e.identifier, at_ms)?;
                let reason = e.reason.unwrap_or_else(|| "recording failed".into());
                let rec = app.recordings.get_mut(&seq).ok_or("recording is gone")?;
                let _ = rec.piece.fail(at_ms, &reason);
                rec.closed_ms = Some(at_ms);
                rec.close_reason = Some(CloseReason::Failed);
                rec.failure = Some(reason);
                app.active.remove(&e.identifier);
                Ok(json!({ "recording_failed": seq, "identifier": e.identifier }))
            }
            LiveEvent::Account(e) => {
                if let Some(v) = e.vod_enabled {
                    app.config.vod_enabled = v;
                }
                if let Some(b) = e.vod_balance {
                    app.config.vod_balance = b;
                }
                Ok(
                    json!({ "sdkappid": sdkappid, "vod_enabled": app.config.vod_enabled, "vod_balance": app.config.vod_balance }),
                )
            }
        }
    }

    fn run_job(&self, tenant: &str, task: &str, target: &str, due_ms: i64) -> Option<JobReport> {
        match task {
            CUT_TASK | NO_DATA_TASK => self.jobs_of_recording(tenant, target, due_ms),
            recording::STEP_TASK => self.step(tenant, target, due_ms),
            _ => None,
        }
    }

    fn tenants(&self) -> &dyn TenantTable {
        &self.apps
    }

    fn reindex(&self) {
        self.rebuild_index();
    }

    fn entity_kinds(&self) -> &'static [&'static str] {
        &["recording", "file"]
    }

    /// Recordings (start → stop of one user) and their VOD files, newest first.
    fn entities(&self, q: &crate::vendors::EntityQuery<'_>) -> crate::vendors::EntityPage {
        let files = q.kind == Some("file");
        kit::page_listing(&self.apps, q, |app, a| match files {
            true => a.files.values().rev().map(|f| vod_row(app, f)).collect(),
            false => a.recordings.values().rev().map(|r| sdk_row(app, r)).collect(),
        })
    }

    fn entity(&self, tenant: &str, kind: &str, id: &str) -> Option<crate::vendors::EntityDetail> {
        let timings = self.world.timings();
        let words = |p: crate::recording::Phase| p.as_str().to_string();
        self.apps.read(tenant, |a| match kind {
            "file" => a.files.get(id).map(|f| {
                let keys = f.outputs.iter().map(|o| o.file_key.clone()).chain(f.image_key.clone());
                vod_row(tenant, f).detail(f).recording(&f.recording, &timings, words, keys)
            }),
            "recording" => a.recordings.get(&id.parse().ok()?).map(|r| {
                let files = r.file_ids.iter().filter_map(|id| a.files.get(id));
                let keys: Vec<String> =
                    files.flat_map(|f| f.outputs.iter().map(|o| o.file_key.clone())).collect();
                sdk_row(tenant, r).detail(r).recording(&r.piece, &timings, words, keys)
            }),
            _ => None,
        })?
    }

    fn banner(&self) -> Vec<String> {
        self.apps
            .all()
            .into_iter()
            .map(|(_, t)| {
                let a = t.read();
                let c = &a.config;
                format!(
                    "live_sdk (002)      sdkappid={}  key={}  usersig_check={:?}  vod_enabled={}  vod_balance={}  VOD SecretId={}  SecretKey={}",
                    c.sdkappid,
                    c.key,
                    c.usersig_check,
                    c.vod_enabled,
                    c.vod_balance,
                    c.vod_secret_id.as_deref().unwrap_or("-"),
                    c.vod_secret_key.as_deref().unwrap_or("-"),
                )
            })
            .collect()
    }

    fn example_curl(&self, base: &str) -> Option<String> {
        let (_, t) = self.apps.all().into_iter().next()?;
        let a = t.read();
        let user = "demo_user";
        let sig = crate::tlssig::sign(
            a.config.sdkappid,
            &a.config.key,
            user,
            self.world.clock.now_s(),
            180 * 86_400,
        );
        Some(format!(
            "curl -X POST '{base}/live_sdk/v1/record/start?sdkappid={}&identifier={user}&usersig={sig}' -d '{{\"platform\":\"android\",\"relation_id\":15000,\"room_id\":1,\"file_name\":\"demo_recording\"}}'",
            a.config.sdkappid
        ))
    }
}

/// A recording as the dashboard lists it.
fn sdk_row(app: &str, r: &SdkRecording) -> crate::vendors::EntityRow {
    let key = match (r.failure.is_some(), r.is_open()) {
        (true, _) => "failed",
        (false, true) => "recording",
        (false, false) => "stopped",
    };
    let summary = format!("{} in room {} · {} file(s)", r.identifier, r.room(), r.file_ids.len());
    crate::vendors::EntityRow::new(app, "recording", r.seq, key, key, Some(r.started_ms), summary)
}

/// A VOD file as the dashboard lists it.
fn vod_row(app: &str, f: &VodFile) -> crate::vendors::EntityRow {
    let phase = f.recording.phase.as_str();
    let summary =
        format!("{} #{} · recording {} · {} s", f.file_name, f.index, f.recording_seq, f.duration_s());
    crate::vendors::EntityRow::new(
        app,
        "file",
        &f.file_id,
        phase,
        phase,
        Some(f.recording.created_ms),
        summary,
    )
}
