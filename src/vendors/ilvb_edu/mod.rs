//! Seed 000: Tencent TIC education recording, admin API `POST /v4/ilvb_edu/record`.
//!
//! After a class has ended, an admin asks for its recording (`req_record`); the recording back end picks
//! up every room queued so far in one go and says so with one callback `event_type` 1000 (`roomid_list`);
//! when the files are done it sends one 1001 per file (`is_finish` on the last), or a 1001 with a non-zero
//! `error_code` if the recording failed, after which the class may be requested again while its media is
//! kept (7 days). `query_record_result` reports the same files. Classes come from fixtures and world events
//! (`ilvb_edu.class_start`, `ilvb_edu.class_end`); failures from `ilvb_edu.recording_fail`.

pub mod api;
mod client;
pub mod errors;
mod handlers;
pub mod models;

use crate::checks::{self, event_fields, FixtureError};
use crate::http::{endpoint, Envelope, FrontDoor, Reply};
use crate::outbox::{NewCallback, Signer, SuccessRule};
use crate::recording::{self, Phase};
use crate::tenants::{TenantTable, Tenants};
use crate::vendors::{kit, JobReport, Vendor};
use crate::world::World;
use actix_web::http::Method;
use actix_web::web;
use errors::EduError;
use models::*;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;

/// The vendor's host names (the seed document's, vendor-facts.md's and its public client code's, with
/// wildcards where it spreads a service over numbered or per-app subdomains): recmock's certificate covers
/// them, so clients that hard-code `https://<host>` run unchanged.
pub const HOSTS: &[(&str, &str)] = &[("console.tim.qq.com", "000 TIC recording service (IM REST host)")];

register_vendor!(seed: 0, name: "ilvb_edu", module: IlvbEdu, client: client::IlvbEduClient, hosts: HOSTS);

/// Scheduler task: the recording back end picks up the queued rooms of an app.
pub const PICKUP_TASK: &str = "pickup";

/// Fixture items with their JSON paths.
type Located<T> = Vec<(String, T)>;

/// The education recording vendor module.
#[derive(Debug)]
pub struct IlvbEdu {
    world: Arc<World>,
    door: Arc<FrontDoor>,
    /// apps by sdkappid (as text)
    apps: Tenants<EduApp>,
}

/// A classroom in a fixture. Times above 10^9 are unix seconds; smaller ones are seconds relative to
/// when the fixture is loaded (negative: in the past).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassroomFixture {
    sdkappid: u64,
    roomid: u64,
    #[serde(default)]
    start: Option<f64>,
    #[serde(default)]
    end: Option<f64>,
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    groupid: Option<String>,
}

fn resolve(t: f64, base_ms: i64) -> i64 {
    if t.abs() > 1e9 {
        (t * 1000.0).round() as i64
    } else {
        base_ms + (t * 1000.0).round() as i64
    }
}

/// `ilvb_edu.class_start`: a class begins in a room now.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassStart {
    #[serde(rename = "type")]
    _type: String,
    sdkappid: u64,
    roomid: u64,
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    groupid: Option<String>,
}

/// `ilvb_edu.class_end`: the class in a room ends now.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassEnd {
    #[serde(rename = "type")]
    _type: String,
    sdkappid: u64,
    roomid: u64,
}

/// `ilvb_edu.recording_fail`: the room's recording fails now.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordingFail {
    #[serde(rename = "type")]
    _type: String,
    sdkappid: u64,
    roomid: u64,
    #[serde(default)]
    error_code: Option<i64>,
    #[serde(default)]
    error_msg: Option<String>,
}

/// The world events this vendor understands.
pub const EVENTS: [&str; 3] = ["class_start", "class_end", "recording_fail"];

#[derive(Debug)]
enum EduEvent {
    Start(ClassStart),
    End(ClassEnd),
    Fail(RecordingFail),
}

impl EduEvent {
    fn parse(name: &str, v: &Value) -> Result<EduEvent, String> {
        let e = match name {
            "class_start" => EduEvent::Start(event_fields(KIND, name, v)?),
            "class_end" => EduEvent::End(event_fields(KIND, name, v)?),
            "recording_fail" => EduEvent::Fail(event_fields(KIND, name, v)?),
            other => return Err(kit::unknown_event(KIND, other, &EVENTS)),
        };
        if let EduEvent::Fail(f) = &e {
            if f.error_code == Some(0) {
                return Err("ilvb_edu.recording_fail: error_code must be non-zero (0 means success)".into());
            }
        }
        Ok(e)
    }

    fn sdkappid(&self) -> u64 {
        match self {
            EduEvent::Start(e) => e.sdkappid,
            EduEvent::End(e) => e.sdkappid,
            EduEvent::Fail(e) => e.sdkappid,
        }
    }
}

impl IlvbEdu {
    /// The module on `world`, with no apps.
    pub fn new(world: Arc<World>, door: Arc<FrontDoor>) -> Self {
        let apps = Tenants::new(KIND, "apps", &world.feed);
        IlvbEdu { world, door, apps }
    }

    fn callback(&self, cfg: &AppConfig, rooms: &[u64], event: &str, payload: Value, at: i64) {
        self.world.send_callback(
            NewCallback {
                vendor: KIND,
                tenant: cfg.sdkappid.to_string(),
                resources: rooms.iter().map(|r| format!("room:{r}")).collect(),
                event: event.to_string(),
                url: cfg.callback_url.clone(),
                payload,
                signer: Signer::BodyMd5 { key: cfg.key.clone() },
                success: SuccessRule::Http2xxNoErrorCode,
            },
            at,
        );
    }

    /// The back end starts every queued room of the app: one 1000 event for all of them.
    fn pickup(&self, tenant: &str, at: i64) -> Option<JobReport> {
        let timings = self.world.timings();
        let t = self.apps.get(tenant)?;
        let mut guard = t.lock();
        let app = &mut *guard;
        let mut started = Vec::new();
        for roomid in std::mem::take(&mut app.pickup) {
            let Some(rec) = app.rooms.get_mut(&roomid).and_then(|r| r.recording.as_mut()) else { continue };
            if rec.state != RecordState::Queued {
                continue;
            }
            let media_ms = rec.class.end_ms.unwrap_or(rec.class.start_ms) - rec.class.start_ms;
            let _ = rec.recording.start(at);
            let _ = rec.recording.stop_with_media(at, media_ms, &timings);
            rec.state = RecordState::Recording;
            self.world.schedule_recording_step(KIND, tenant, &rec.recording);
            started.push(roomid);
        }
        if started.is_empty() {
            return None;
        }
        let payload = json!({
            "error_code": 0, "error_msg": "", "event_type": 1000,
            "sdkappid": app.config.sdkappid, "roomid_list": started,
        });
        self.callback(&app.config, &started, "1000", payload, at);
        Some(JobReport { description: format!("recording back end started rooms {started:?} (event 1000)") })
    }

    fn step(&self, tenant: &str, target: &str, at: i64) -> Option<JobReport> {
        let roomid: u64 = target.parse().ok()?;
        let timings = self.world.timings();
        let t = self.apps.get(tenant)?;
        let mut guard = t.lock();
        let app = &mut *guard;
        let cfg = app.config.clone();
        let rec = app.rooms.get_mut(&roomid)?.recording.as_mut()?;
        if rec.state != RecordState::Recording {
            return None;
        }
        let phase = rec.recording.step(at, &timings)?;
        self.world.schedule_recording_step(KIND, tenant, &rec.recording);
        if phase != Phase::Done {
            return Some(JobReport { description: format!("room {roomid}: recording {phase:?}") });
        }
        let owner = format!("{KIND}:{tenant}");
        let count = rec.recording.segments.len();
        let stored = kit::store_segments(&self.world, &owner, &mut rec.recording, at, |seg| {
            format!("class_{roomid}_{}.mp4", seg.index)
        });
        for (seg, f) in stored {
            rec.files.push(RecordFile {
                file_id: seg.index,
                video_id: self.world.ids.digits(19),
                is_finish: seg.index as usize == count,
                file_size: f.size,
                file_duration: seg.duration_s,
                file_key: f.key,
            });
        }
        rec.state = RecordState::Done;
        let (start_s, end_s) =
            (rec.class.start_ms.div_euclid(1000), rec.class.end_ms.map_or(0, |e| e.div_euclid(1000)));
        for f in &rec.files {
            let url = self.world.files.get(&f.file_key).map(|sf| self.door.file_url(&sf)).unwrap_or_default();
            let payload = json!({
                "error_code": 0, "error_msg": "", "event_type": 1001, "sdkappid": cfg.sdkappid,
                "class_roomid": roomid, "class_starttime": start_s, "class_endtime": end_s,
                "file_id": f.file_id, "video_id": f.video_id, "is_finish": f.is_finish,
                "file_format": "mp4", "file_size": f.file_size, "file_duration": f.file_duration, "file_url": url,
            });
            self.callback(&cfg, &[roomid], "1001", payload, at);
        }
        Some(JobReport {
            description: format!("room {roomid}: recording done, {count} file(s) (event 1001 each)"),
        })
    }

    fn section_parts(
        section: &Value,
        path: &str,
        errors: &mut Vec<FixtureError>,
    ) -> (Located<AppConfig>, Located<ClassroomFixture>) {
        checks::unknown_keys(section, path, &["apps", "classrooms"], errors);
        (
            checks::parse_list::<AppConfig>(section, path, "apps", errors),
            checks::parse_list::<ClassroomFixture>(section, path, "classrooms", errors),
        )
    }

    fn load_classroom(app: &mut EduApp, c: ClassroomFixture, base: i64) {
        let room = app.rooms.entry(c.roomid).or_default();
        if let Some(start) = c.start {
            room.class = Some(ClassSession {
                start_ms: resolve(start, base),
                end_ms: c.end.map(|e| resolve(e, base)),
                members: c.members,
                groupid: c.groupid.unwrap_or_else(|| c.roomid.to_string()),
            });
        }
    }
}

impl Envelope for IlvbEdu {
    fn refusal(&self, code: i64, detail: &str) -> Reply {
        EduError::new(code, detail).reply()
    }

    fn too_large_code(&self) -> i64 {
        errors::DATA_PARSE
    }
}

impl Vendor for IlvbEdu {
    fn routes(self: Arc<Self>, cfg: &mut web::ServiceConfig) {
        endpoint(cfg, &self, Method::POST, "/v4/ilvb_edu/record", IlvbEdu::record);
    }

    fn check_section(&self, section: &Value, path: &str, errors: &mut Vec<FixtureError>) {
        let (apps, rooms) = Self::section_parts(section, path, errors);
        kit::report_duplicates(&apps, "sdkappid", |a| a.sdkappid, errors);
        for (p, a) in &apps {
            if a.key.is_empty() {
                errors.push(FixtureError::new(format!("{p}.key"), "must not be empty"));
            }
            if a.admins.is_empty() || a.admins.iter().any(String::is_empty) {
                errors.push(FixtureError::new(
                    format!("{p}.admins"),
                    "needs at least one non-empty identifier",
                ));
            }
            kit::check_callback_url(a.callback_url.as_deref(), &format!("{p}.callback_url"), errors);
            if !(60..=86_400 * 30).contains(&a.segment_s) {
                errors.push(FixtureError::new(
                    format!("{p}.segment_s"),
                    "must be between 60 and 2592000 seconds",
                ));
            }
            if !(0..=100 * 365 * 86_400).contains(&a.retention_s) {
                errors.push(FixtureError::new(
                    format!("{p}.retention_s"),
                    "must be between 0 and 100 years in seconds",
                ));
            }
        }
        let mut rooms_seen = HashSet::new();
        for (p, c) in &rooms {
            if c.roomid == 0 {
                errors.push(FixtureError::new(format!("{p}.roomid"), "must be a positive room number"));
            }
            if !rooms_seen.insert((c.sdkappid, c.roomid)) {
                errors.push(FixtureError::new(
                    format!("{p}.roomid"),
                    format!("room {} is declared twice", c.roomid),
                ));
            }
            for (k, v) in [("start", c.start), ("end", c.end)] {
                // Absolute (> 10^9) times must be representable; relative ones are within ±10^9 s anyway.
                if v.is_some_and(|t| !t.is_finite() || t < -1e9 || t > crate::clock::MAX_TIME_S as f64) {
                    errors.push(FixtureError::new(
                        format!("{p}.{k}"),
                        "must be unix seconds up to the year 9999, or seconds relative to the load (|t| <= 10^9)",
                    ));
                }
            }
            match (c.start, c.end) {
                (None, Some(_)) => errors.push(FixtureError::new(format!("{p}.end"), "needs `start`")),
                (Some(s), Some(e))
                    if resolve(e, 0) <= resolve(s, 0) && (s.abs() > 1e9) == (e.abs() > 1e9) =>
                {
                    errors.push(FixtureError::new(format!("{p}.end"), "must be after `start`"))
                }
                _ => {}
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
        let (apps, rooms) = Self::section_parts(section, path, &mut errors);
        let keep = |id: u64| only.is_none_or(|o| o == id.to_string());
        let apps: Vec<_> = apps.into_iter().filter(|(_, a)| keep(a.sdkappid)).collect();
        let rooms: Vec<_> = rooms.into_iter().filter(|(_, r)| keep(r.sdkappid)).collect();
        kit::report_existing(
            &apps,
            "sdkappid",
            |a| a.sdkappid.to_string(),
            |id| self.apps.get(id).is_some(),
            "app",
            &mut errors,
        );
        for (p, r) in &rooms {
            let known = self.apps.get(&r.sdkappid.to_string()).is_some()
                || apps.iter().any(|(_, a)| a.sdkappid == r.sdkappid);
            if !known {
                errors.push(FixtureError::new(
                    format!("{p}.sdkappid"),
                    format!("no app with sdkappid {}", r.sdkappid),
                ));
            }
        }
        if let Some(stop) = kit::stop_before_loading(errors, dry_run) {
            return stop;
        }
        let base = self.world.clock.now_ms();
        let mut loaded = Vec::new();
        for (_, a) in apps {
            let id = a.sdkappid.to_string();
            self.apps.insert(&id, EduApp::new(a));
            loaded.push(id);
        }
        for (_, r) in rooms {
            self.apps.write(&r.sdkappid.to_string(), |app| Self::load_classroom(app, r, base));
        }
        Ok(loaded)
    }

    fn check_event(&self, name: &str, event: &Value) -> Result<(), String> {
        EduEvent::parse(name, event).map(|_| ())
    }

    fn apply_event(&self, name: &str, event: &Value, at_ms: i64) -> Result<Value, String> {
        let ev = EduEvent::parse(name, event)?;
        let sdkappid = ev.sdkappid();
        let t = self.apps.get(&sdkappid.to_string()).ok_or_else(|| format!("no such app {sdkappid}"))?;
        let mut guard = t.lock();
        let app = &mut *guard;
        match ev {
            EduEvent::Start(e) => {
                let room = app.rooms.entry(e.roomid).or_default();
                if room.class.as_ref().is_some_and(|c| c.end_ms.is_none()) {
                    return Err(format!("a class is already on in room {}", e.roomid));
                }
                room.class = Some(ClassSession {
                    start_ms: at_ms,
                    end_ms: None,
                    members: e.members,
                    groupid: e.groupid.unwrap_or_else(|| e.roomid.to_string()),
                });
                Ok(json!({ "class_started": e.roomid, "at": at_ms / 1000 }))
            }
            EduEvent::End(e) => {
                let class = app
                    .rooms
                    .get_mut(&e.roomid)
                    .and_then(|r| r.class.as_mut())
                    .filter(|c| c.end_ms.is_none())
                    .ok_or_else(|| format!("no such class on in room {}", e.roomid))?;
                class.end_ms = Some(at_ms);
                Ok(
                    json!({ "class_ended": e.roomid, "at": at_ms / 1000, "duration_s": (at_ms - class.start_ms) / 1000 }),
                )
            }
            EduEvent::Fail(e) => {
                let cfg = app.config.clone();
                app.pickup.retain(|r| *r != e.roomid);
                let rec = app
                    .rooms
                    .get_mut(&e.roomid)
                    .and_then(|r| r.recording.as_mut())
                    .filter(|r| matches!(r.state, RecordState::Queued | RecordState::Recording))
                    .ok_or_else(|| format!("no such recording in progress in room {}", e.roomid))?;
                let code = e.error_code.unwrap_or(errors::GENERIC);
                let msg = e.error_msg.unwrap_or_else(|| "recording failed".into());
                let _ = rec.recording.fail(at_ms, &msg);
                rec.state = RecordState::Failed;
                rec.error = Some((code, msg.clone()));
                let payload = json!({
                    "error_code": code, "error_msg": msg, "event_type": 1001, "sdkappid": cfg.sdkappid,
                    "class_roomid": e.roomid, "class_starttime": rec.class.start_ms.div_euclid(1000),
                    "class_endtime": rec.class.end_ms.map_or(0, |x| x.div_euclid(1000)),
                    "file_id": 0, "video_id": "", "is_finish": true,
                    "file_format": "", "file_size": 0, "file_duration": 0, "file_url": "",
                });
                self.callback(&cfg, &[e.roomid], "1001", payload, at_ms);
                Ok(json!({ "recording_failed": e.roomid, "error_code": code }))
            }
        }
    }

    fn run_job(&self, tenant: &str, task: &str, target: &str, due_ms: i64) -> Option<JobReport> {
        match task {
            PICKUP_TASK => self.pickup(tenant, due_ms),
            recording::STEP_TASK => self.step(tenant, target, due_ms),
            _ => None,
        }
    }

    fn tenants(&self) -> &dyn TenantTable {
        &self.apps
    }

    fn set_callback_url(&self, tenant: &str, url: &str) -> Result<(), String> {
        self.apps
            .write(tenant, |a| a.config.callback_url = Some(url.to_string()))
            .ok_or_else(|| format!("no app {tenant}"))
    }

    fn entity_kinds(&self) -> &'static [&'static str] {
        &["class", "recording"]
    }

    /// Classrooms by id: their latest class, or their latest recording request.
    fn entities(&self, q: &crate::vendors::EntityQuery<'_>) -> crate::vendors::EntityPage {
        let recordings = q.kind == Some("recording");
        kit::page_listing(&self.apps, q, |app, a| {
            a.rooms
                .iter()
                .filter_map(|(room, c)| match recordings {
                    true => c.recording.as_ref().map(|r| recording_row(app, *room, r)),
                    false => c.class.as_ref().map(|s| class_row(app, *room, s)),
                })
                .collect()
        })
    }

    fn entity(&self, tenant: &str, kind: &str, id: &str) -> Option<crate::vendors::EntityDetail> {
        let room: u64 = id.parse().ok()?;
        let timings = self.world.timings();
        self.apps.read(tenant, |a| {
            let c = a.rooms.get(&room)?;
            match kind {
                "class" => c.class.as_ref().map(|s| class_row(tenant, room, s).detail(s)),
                "recording" => c.recording.as_ref().map(|r| {
                    let files = r.files.iter().map(|f| f.file_key.clone());
                    let words = |p: Phase| p.as_str().to_string();
                    recording_row(tenant, room, r).detail(r).recording(&r.recording, &timings, words, files)
                }),
                _ => None,
            }
        })?
    }

    fn banner(&self) -> Vec<String> {
        self.apps
            .all()
            .into_iter()
            .map(|(_, t)| {
                let a = t.lock();
                format!(
                    "ilvb_edu (000)      sdkappid={}  admins={}  key={}  usersig_check={:?}",
                    a.config.sdkappid,
                    a.config.admins.join(","),
                    a.config.key,
                    a.config.usersig_check
                )
            })
            .collect()
    }

    fn example_curl(&self, base: &str) -> Option<String> {
        let (_, t) = self.apps.all().into_iter().next()?;
        let a = t.lock();
        let admin = a.config.admins.first()?.clone();
        let sig = crate::tlssig::sign(
            a.config.sdkappid,
            &a.config.key,
            &admin,
            self.world.clock.now_s(),
            180 * 86_400,
        );
        let room = a.rooms.keys().next().copied().unwrap_or(3003);
        Some(format!(
            "curl -X POST '{base}/v4/ilvb_edu/record?sdkappid={}&identifier={admin}&usersig={sig}&contenttype=json' -d '{{\"cmd\":\"open_record_svc\",\"sub_cmd\":\"query_record_result\",\"class_roomid\":{room}}}'",
            a.config.sdkappid
        ))
    }
}

/// A classroom's latest class as the dashboard lists it.
fn class_row(app: &str, room: u64, s: &ClassSession) -> crate::vendors::EntityRow {
    let key = if s.end_ms.is_some() { "ended" } else { "on" };
    let summary = format!("group {} · {} member(s)", s.groupid, s.members.len());
    crate::vendors::EntityRow::new(app, "class", room, key, key, Some(s.start_ms), summary)
}

/// A classroom's latest recording request as the dashboard lists it.
fn recording_row(app: &str, room: u64, r: &RoomRecording) -> crate::vendors::EntityRow {
    let key = match r.state {
        RecordState::Queued => "queued",
        RecordState::Recording => "recording",
        RecordState::Done => "done",
        RecordState::Failed => "failed",
    };
    let status = format!("{key} ({})", r.recording.phase.as_str());
    let summary = format!("group {} · {} file(s)", r.groupid, r.files.len());
    crate::vendors::EntityRow::new(app, "recording", room, key, status, Some(r.requested_ms), summary)
}
