//! Seed 004: the Tencent interactive-classroom (TIC) PaaS cloud API under `/paas/v1/`.
//!
//! Every call carries `sdkappid`, `random` and `sign` = md5(tic_key + expire_time) on the URL and
//! `expire_time` in the JSON body. Classes (`class/*`), users (`user/*`) and documents (`document/*`) live
//! per app. A class goes `will` → `ing` → `end` when the client component reports "teacher begins class"
//! and "teacher ends class" — world events here (`iclass.class_begin`, `iclass.class_over`). A class with
//! `remote` in its record types is recorded in the cloud from begin to end by the shared engine; once the
//! recording is processed, `online_record_stop` lists one real file per recorded stream (camera and screen
//! share of each publisher, and the whiteboard). Documents added with `is_transcode` go through an H5
//! transcode (queued → processing 30/60/90 → finished) driven by scheduled jobs. Every event is called back
//! to the app's URL as `{expire_time, event, data}` with `sdkappid`, `random`, `sign` on the URL.

pub mod api;
mod client;
pub mod errors;
mod handlers;
pub mod models;

use crate::checks::{self, event_fields, FixtureError};
use crate::files::{Media, NewFile};
use crate::http::{endpoint, Envelope, FrontDoor, Reply};
use crate::outbox::{NewCallback, Signer, SuccessRule};
use crate::recording::{self, MediaKind, Phase, Recording};
use crate::tenants::{TenantTable, Tenants};
use crate::vendors::{kit, JobReport, Vendor};
use crate::world::World;
use actix_web::http::Method;
use actix_web::web;
use errors::IclassError;
use models::*;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The vendor's host names (the seed document's, vendor-facts.md's and its public client code's, with
/// wildcards where it spreads a service over numbered or per-app subdomains): recmock's certificate covers
/// them, so clients that hard-code `https://<host>` run unchanged.
pub const HOSTS: &[(&str, &str)] = &[
    ("iclass.api.qcloud.com", "004 TIC PaaS cloud API (/paas/v1/*)"),
    ("tedu.qcloudtrtc.com", "004 teacher/student classroom URLs"),
];

register_vendor!(seed: 4, name: "iclass", module: Iclass, client: client::IclassClient, hosts: HOSTS);

/// Fixture items with their JSON paths.
type Located<T> = Vec<(String, T)>;

/// An endpoint handler.
type Handler = fn(&Iclass, &crate::http::Exchange) -> Reply;

/// Scheduler task: the next step of a document's H5 transcode.
pub const TRANSCODE_TASK: &str = "transcode_step";
/// Resolution the H5 transcoder reports for a PPT (the seed's example).
pub const TRANSCODE_RESOLUTION: &str = "1024x768";
/// A class's cloud recording makes one file per stream: segments are never cut (one year).
pub const RECORDING_SEGMENT_S: i64 = 366 * 86_400;
/// Bytes of an H5 transcode result per PPT page.
pub const H5_BYTES_PER_PAGE: u64 = 4096;
/// The file name of a transcoded document's H5 page.
pub const H5_FILE_NAME: &str = "index.html";

/// The TIC PaaS vendor module.
#[derive(Debug)]
pub struct Iclass {
    world: Arc<World>,
    door: Arc<FrontDoor>,
    /// apps by sdkappid (as a string)
    apps: Tenants<Account>,
}

// ----- fixture section ----------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFixture {
    sdkappid: u64,
    user_id: String,
    role: String,
    nickname: Option<String>,
    gender: Option<String>,
    avatar: Option<String>,
    phone_no: Option<String>,
    e_mail: Option<String>,
    user_token: Option<String>,
    regist_time: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberFixture {
    #[serde(default)]
    role: Option<String>,
    user_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassFixture {
    sdkappid: u64,
    class_id: u64,
    teacher_id: String,
    class_topic: Option<String>,
    class_type: Option<String>,
    create_time: Option<i64>,
    start_time: Option<i64>,
    stop_time: Option<i64>,
    record_types: Option<Vec<String>>,
    #[serde(default)]
    members: Vec<MemberFixture>,
    record_user_id: Option<String>,
    record_user_sig: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentFixture {
    sdkappid: u64,
    doc_id: String,
    doc_url: String,
    doc_name: Option<String>,
    doc_ext: Option<String>,
    doc_size: Option<u64>,
    doc_md5: Option<String>,
    permission: Option<String>,
    owner: Option<String>,
    is_transcode: Option<bool>,
    pages: Option<u32>,
    upload_time: Option<i64>,
}

struct Section {
    apps: Located<AppConfig>,
    users: Located<UserFixture>,
    classes: Located<ClassFixture>,
    documents: Located<DocumentFixture>,
}

// ----- world events -------------------------------------------------------------------------------

/// One stream a user publishes: 0 camera, 1 screen share.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamSpec {
    user_id: String,
    video_type: i64,
}

/// `iclass.class_begin`: the teacher begins the class (optionally with streams already published).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BeginEvent {
    #[serde(rename = "type")]
    _type: String,
    sdkappid: u64,
    class_id: u64,
    #[serde(default)]
    streams: Vec<StreamSpec>,
}

/// `iclass.class_over`: the teacher ends the class.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverEvent {
    #[serde(rename = "type")]
    _type: String,
    sdkappid: u64,
    class_id: u64,
}

/// `iclass.join_class`: a user enters the class through the client component.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinEvent {
    #[serde(rename = "type")]
    _type: String,
    sdkappid: u64,
    class_id: u64,
    user_id: String,
    #[serde(default)]
    user_token: Option<String>,
    #[serde(default)]
    video_types: Vec<i64>,
}

/// `iclass.quit_class`: a user leaves (its streams close).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuitEvent {
    #[serde(rename = "type")]
    _type: String,
    sdkappid: u64,
    class_id: u64,
    user_id: String,
}

/// `iclass.stream_open` / `iclass.stream_close`: a camera (0) or screen share (1) starts or stops.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamEvent {
    #[serde(rename = "type")]
    _type: String,
    sdkappid: u64,
    class_id: u64,
    user_id: String,
    video_type: i64,
}

/// `iclass.recording_fail`: the class's cloud recording fails.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordingFailEvent {
    #[serde(rename = "type")]
    _type: String,
    sdkappid: u64,
    class_id: u64,
    #[serde(default)]
    reason: Option<String>,
}

/// `iclass.transcode_fail`: a document's H5 transcode fails.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TranscodeFailEvent {
    #[serde(rename = "type")]
    _type: String,
    sdkappid: u64,
    doc_id: String,
    #[serde(default)]
    error_code: Option<i64>,
    #[serde(default)]
    error_msg: Option<String>,
}

/// The world events this vendor understands.
pub const EVENTS: [&str; 8] = [
    "class_begin",
    "class_over",
    "join_class",
    "quit_class",
    "stream_open",
    "stream_close",
    "recording_fail",
    "transcode_fail",
];

#[derive(Debug)]
enum IclassEvent {
    Begin(BeginEvent),
    Over(OverEvent),
    Join(JoinEvent),
    Quit(QuitEvent),
    StreamOpen(StreamEvent),
    StreamClose(StreamEvent),
    RecordingFail(RecordingFailEvent),
    TranscodeFail(TranscodeFailEvent),
}

fn video_type(code: i64, path: &str) -> Result<VideoType, String> {
    VideoType::published(code)
        .ok_or_else(|| format!("{path} must be 0 (camera) or 1 (screen share), got {code}"))
}

impl IclassEvent {
    fn parse(name: &str, event: &Value) -> Result<IclassEvent, String> {
        let e = match name {
            "class_begin" => IclassEvent::Begin(event_fields(KIND, name, event)?),
            "class_over" => IclassEvent::Over(event_fields(KIND, name, event)?),
            "join_class" => IclassEvent::Join(event_fields(KIND, name, event)?),
            "quit_class" => IclassEvent::Quit(event_fields(KIND, name, event)?),
            "stream_open" => IclassEvent::StreamOpen(event_fields(KIND, name, event)?),
            "stream_close" => IclassEvent::StreamClose(event_fields(KIND, name, event)?),
            "recording_fail" => IclassEvent::RecordingFail(event_fields(KIND, name, event)?),
            "transcode_fail" => IclassEvent::TranscodeFail(event_fields(KIND, name, event)?),
            other => return Err(kit::unknown_event(KIND, other, &EVENTS)),
        };
        match &e {
            IclassEvent::Begin(b) => {
                for (i, s) in b.streams.iter().enumerate() {
                    video_type(s.video_type, &format!("streams[{i}].video_type"))?;
                    if s.user_id.is_empty() {
                        return Err(format!("streams[{i}].user_id must not be empty"));
                    }
                }
            }
            IclassEvent::Join(j) => {
                for (i, v) in j.video_types.iter().enumerate() {
                    video_type(*v, &format!("video_types[{i}]"))?;
                }
            }
            IclassEvent::StreamOpen(s) | IclassEvent::StreamClose(s) => {
                video_type(s.video_type, "video_type")?;
            }
            _ => {}
        }
        Ok(e)
    }

    fn sdkappid(&self) -> u64 {
        match self {
            IclassEvent::Begin(e) => e.sdkappid,
            IclassEvent::Over(e) => e.sdkappid,
            IclassEvent::Join(e) => e.sdkappid,
            IclassEvent::Quit(e) => e.sdkappid,
            IclassEvent::StreamOpen(e) | IclassEvent::StreamClose(e) => e.sdkappid,
            IclassEvent::RecordingFail(e) => e.sdkappid,
            IclassEvent::TranscodeFail(e) => e.sdkappid,
        }
    }
}

/// Can `user` enter `class` of `acc`? The reason (with the vendor's code) when not.
fn may_enter(acc: &Account, class: &Class, user: &str) -> Result<(), String> {
    if class.class_status == ClassStatus::End {
        return Err(format!("class {} has ended: `{user}` cannot join (10224)", class.class_id));
    }
    if !acc.users.contains_key(user) {
        return Err(format!("no such user `{user}` in app {} (10215)", acc.config.sdkappid));
    }
    if class.class_type != ClassType::Public && !class.has_member(user) {
        return Err(format!(
            "class {} is {}: only its members may enter and `{user}` is not one (10203)",
            class.class_id,
            class.class_type.as_str()
        ));
    }
    Ok(())
}

/// Open a stream (joining the user if needed); a recording in progress starts recording it.
fn open_stream(acc: &mut Account, class_id: u64, user: &str, vt: VideoType, at_ms: i64) -> bool {
    let Some(class) = acc.classes.get_mut(&class_id) else { return false };
    let streams = class.present.entry(user.to_string()).or_default();
    if streams.contains_key(&vt) {
        return false;
    }
    streams.insert(vt, at_ms);
    if let Some(rec) = acc.recordings.get_mut(&class_id).filter(|r| r.recording.phase == Phase::Recording) {
        rec.streams.push(StreamSpan {
            user_id: user.to_string(),
            video_type: vt,
            start_ms: at_ms,
            stop_ms: None,
        });
    }
    true
}

/// Close a stream; its recorded span (if any) ends.
fn close_stream(acc: &mut Account, class_id: u64, user: &str, vt: VideoType, at_ms: i64) -> bool {
    let Some(class) = acc.classes.get_mut(&class_id) else { return false };
    let Some(streams) = class.present.get_mut(user) else { return false };
    if streams.remove(&vt).is_none() {
        return false;
    }
    if let Some(rec) = acc.recordings.get_mut(&class_id) {
        for s in
            rec.streams.iter_mut().filter(|s| s.user_id == user && s.video_type == vt && s.stop_ms.is_none())
        {
            s.stop_ms = Some(at_ms);
        }
    }
    true
}

impl Iclass {
    /// The module on `world`, with no apps.
    pub fn new(world: Arc<World>, door: Arc<FrontDoor>) -> Self {
        // The app's key never changes: signs are checked against it without the app's lock.
        let apps = Tenants::new(KIND, "apps", &world.feed)
            .with_fixed(|a: &Account| a.config.tic_key.as_str().into());
        Iclass { world, door, apps }
    }

    // ----- callbacks ------------------------------------------------------------------------------

    /// Hand one event to the outbox: `{event, data}` (the outbox adds `expire_time` and signs the URL).
    fn send(&self, tenant: &str, acc: &Account, resource: String, event: &str, data: Value, at_ms: i64) {
        let cb = NewCallback {
            vendor: KIND,
            tenant: tenant.to_string(),
            resources: vec![resource],
            event: event.to_string(),
            url: acc.config.callback_url.clone(),
            payload: json!({ "event": event, "data": data }),
            signer: Signer::UrlMd5 { key: acc.config.tic_key.clone(), sdkappid: acc.config.sdkappid },
            success: SuccessRule::Http2xxErrorCodeZero,
        };
        self.world.send_callback(cb, at_ms);
    }

    /// `transport_progress` for a document's current transcode state.
    fn transcode_progress(&self, tenant: &str, acc: &Account, doc: &Document, at_ms: i64) {
        let Some(t) = &doc.transcode else { return };
        let data = json!({
            "error_code": t.code,
            "error_msg": t.msg,
            "timestamp": at_ms.div_euclid(1000),
            "status": t.status,
            "progress": t.progress,
            "h5_url": t.h5_url,
            "resolution": t.resolution,
            "pages": t.pages,
            "title": t.title,
            "doc_id": doc.doc_id,
        });
        self.send(tenant, acc, format!("doc:{}", doc.doc_id), "transport_progress", data, at_ms);
    }

    /// Schedule the next transcode step of `doc_id`, one step interval after `from_ms`.
    fn schedule_transcode(&self, tenant: &str, acc: &Account, doc_id: &str, from_ms: i64) {
        let step_ms = (acc.config.transcode_step_s * 1000.0).round() as i64;
        self.world.schedule_vendor(from_ms + step_ms, KIND, tenant, TRANSCODE_TASK, doc_id);
    }

    // ----- jobs -----------------------------------------------------------------------------------

    fn step_transcode(&self, tenant: &str, doc_id: &str, at_ms: i64) -> Option<JobReport> {
        let handle = self.apps.get(tenant)?;
        let mut guard = handle.lock();
        let acc = &mut *guard;
        let owner = format!("{}:{tenant}", KIND);
        let doc = acc.documents.get_mut(doc_id)?;
        let t = doc.transcode.as_mut()?;
        let before = format!("{} {}", t.status.as_str(), t.progress);
        match t.status {
            TranscodeStatus::Queued => {
                t.status = TranscodeStatus::Processing;
                t.progress = 30;
            }
            TranscodeStatus::Processing if t.progress < 90 => t.progress += 30,
            TranscodeStatus::Processing => {
                let f = self.world.files.create(
                    &self.world.ids,
                    &owner,
                    H5_FILE_NAME,
                    "html",
                    u64::from(t.pages) * H5_BYTES_PER_PAGE,
                    at_ms,
                );
                t.status = TranscodeStatus::Finished;
                t.progress = 100;
                t.h5_url = self.door.file_url(&f);
                t.file_key = Some(f.key);
            }
            TranscodeStatus::Finished | TranscodeStatus::Failed => return None,
        }
        let after = format!("{} {}", t.status.as_str(), t.progress);
        let finished = t.status == TranscodeStatus::Finished;
        let doc = doc.clone();
        self.transcode_progress(tenant, acc, &doc, at_ms);
        if !finished {
            self.schedule_transcode(tenant, acc, doc_id, at_ms);
        }
        Some(JobReport { description: format!("document {doc_id}: transcode {before} → {after}") })
    }

    fn step_recording(&self, tenant: &str, target: &str, at_ms: i64) -> Option<JobReport> {
        let class_id: u64 = target.parse().ok()?;
        let timings = self.world.timings();
        let handle = self.apps.get(tenant)?;
        let mut guard = handle.lock();
        let acc = &mut *guard;
        let rec = acc.recordings.get_mut(&class_id)?;
        let before = rec.recording.phase;
        let phase = rec.recording.step(at_ms, &timings)?;
        if phase != Phase::Done {
            self.world.schedule_recording_step(KIND, tenant, &rec.recording);
            return Some(JobReport {
                description: format!("class {class_id} recording: {before:?} → {phase:?}"),
            });
        }
        let owner = format!("{}:{tenant}", KIND);
        let started = rec.recording.started_ms.unwrap_or(rec.recording.created_ms);
        let stopped = rec.recording.stopped_ms.unwrap_or(at_ms);
        let mut files = Vec::new();
        let mut n: HashMap<(String, VideoType), u32> = HashMap::new();
        let mut spans = rec.streams.clone();
        spans.sort_by_key(|s| (s.start_ms, s.video_type.code(), s.user_id.clone()));
        for s in spans {
            let ms = (s.stop_ms.unwrap_or(stopped) - s.start_ms).max(0);
            if ms == 0 {
                continue;
            }
            let secs = ((ms + 500) / 1000).max(1);
            let k = n.entry((s.user_id.clone(), s.video_type)).or_insert(0);
            *k += 1;
            let name = format!("{class_id}_{}_{}_{}.mp4", file_safe(&s.user_id), s.video_type.as_str(), k);
            files.push(self.video_file(
                &owner,
                &name,
                s.video_type,
                &s.user_id,
                s.start_ms - started,
                secs,
                at_ms,
            ));
        }
        for seg in &rec.recording.segments {
            let name = format!("{class_id}_whiteboard_{}.mp4", seg.index);
            files.push(self.video_file(
                &owner,
                &name,
                VideoType::Whiteboard,
                "",
                seg.offset_s * 1000,
                seg.duration_s,
                at_ms,
            ));
        }
        files.sort_by_key(|f| (f.video_play_time, f.video_type, f.user_id.clone()));
        rec.files = files.clone();
        let video_info: Vec<Value> = files
            .iter()
            .map(|f| {
                let url =
                    self.world.files.get(&f.file_key).map(|s| self.door.file_url(&s)).unwrap_or_default();
                json!({
                    "video_play_time": f.video_play_time,
                    "video_size": f.video_size,
                    "video_format": f.video_format,
                    "video_duration": f.video_duration,
                    "video_url": url,
                    "video_id": f.video_id,
                    "video_type": f.video_type,
                    "user_id": f.user_id,
                })
            })
            .collect();
        let count = video_info.len();
        let data = json!({
            "error_code": 0,
            "error_msg": "",
            "timestamp": at_ms.div_euclid(1000),
            "start_time": started.div_euclid(1000),
            "stop_time": stopped.div_euclid(1000),
            "class_id": class_id,
            "video_info": video_info,
        });
        let acc_ref: &Account = acc;
        self.send(tenant, acc_ref, format!("class:{class_id}"), "online_record_stop", data, at_ms);
        Some(JobReport {
            description: format!("class {class_id} recording: {before:?} → Done, {count} video file(s)"),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn video_file(
        &self,
        owner: &str,
        name: &str,
        vt: VideoType,
        user_id: &str,
        play_ms: i64,
        secs: i64,
        at_ms: i64,
    ) -> VideoFile {
        let shape = vt.shape();
        let secs_u = secs.max(0) as u64;
        let new = NewFile {
            owner,
            name,
            media: Some(Media { shape, duration_ms: secs_u.saturating_mul(1000) }),
            format: "mp4",
            target_size: secs_u.saturating_mul(shape.bytes_per_s(&self.world.timings())),
            seed: None,
        };
        let f = self.world.files.add(&self.world.ids, new, at_ms);
        VideoFile {
            video_play_time: play_ms.max(0),
            video_size: f.size,
            video_format: "mp4".into(),
            video_duration: secs,
            video_id: self.world.ids.digits(19),
            video_type: vt.code(),
            user_id: user_id.to_string(),
            file_key: f.key,
        }
    }

    // ----- events ---------------------------------------------------------------------------------

    fn begin_class(
        &self,
        tenant: &str,
        acc: &mut Account,
        e: BeginEvent,
        at_ms: i64,
    ) -> Result<Value, String> {
        let at_s = at_ms.div_euclid(1000);
        let class = acc.classes.get(&e.class_id).ok_or_else(|| no_class(acc, e.class_id))?;
        match class.class_status {
            ClassStatus::Will => {}
            ClassStatus::Ing => return Err(format!("class {} has already begun", e.class_id)),
            ClassStatus::End => return Err(format!("class {} has ended; it cannot begin again", e.class_id)),
        }
        let mut streams = Vec::new();
        for (i, s) in e.streams.iter().enumerate() {
            may_enter(acc, class, &s.user_id).map_err(|m| format!("streams[{i}]: {m}"))?;
            streams.push((s.user_id.clone(), video_type(s.video_type, "video_type")?));
        }
        let (remote, record_user, sig) =
            (class.settings.remote(), class.record_user_id.clone(), class.record_user_sig.clone());
        acc.classes.set_status(e.class_id, ClassStatus::Ing);
        if let Some(c) = acc.classes.get_mut(&e.class_id) {
            c.real_start_time = at_s;
        }
        for (u, vt) in &streams {
            open_stream(acc, e.class_id, u, *vt, at_ms);
        }
        self.send(
            tenant,
            acc,
            format!("class:{}", e.class_id),
            "class_begin",
            json!({ "class_id": e.class_id, "real_start_time": at_s }),
            at_ms,
        );
        let mut recording = Value::Null;
        if remote {
            let login = match (&record_user, &sig, &acc.config.sdk_key) {
                (None, _, _) | (_, None, _) => {
                    Err("the class has no record_user_id/record_user_sig".to_string())
                }
                (Some(u), Some(s), Some(key)) => {
                    crate::tlssig::verify(s, acc.config.sdkappid, key, u, &self.world.auth_now(at_ms))
                        .map(|_| ())
                        .map_err(|err| format!("the recorder could not enter the room as `{u}`: {err}"))
                }
                (Some(_), Some(_), None) => Ok(()),
            };
            let login =
                login.and_then(|()| record_user.ok_or_else(|| "the class has no record_user_id".to_string()));
            let data = match login {
                Ok(user) => {
                    let id = e.class_id.to_string();
                    let mut rec =
                        Recording::new(id.clone(), id, MediaKind::Video, RECORDING_SEGMENT_S, at_ms);
                    // Its own segments are the whiteboard's files.
                    rec.shape = Some(VideoType::Whiteboard.shape());
                    let _ = rec.start(at_ms);
                    let mut spans = Vec::new();
                    if let Some(c) = acc.classes.get(&e.class_id) {
                        for (u, st) in &c.present {
                            for vt in st.keys() {
                                spans.push(StreamSpan {
                                    user_id: u.clone(),
                                    video_type: *vt,
                                    start_ms: at_ms,
                                    stop_ms: None,
                                });
                            }
                        }
                    }
                    acc.recordings.insert(
                        e.class_id,
                        ClassRecording {
                            class_id: e.class_id,
                            recording: rec,
                            record_user_id: user,
                            streams: spans,
                            files: Vec::new(),
                        },
                    );
                    recording = json!("started");
                    json!({ "error_code": 0, "error_msg": "", "class_id": e.class_id, "timestamp": at_s })
                }
                Err(reason) => {
                    let err = IclassError::new(errors::LOGIN_FAILED, reason);
                    recording = json!(format!("not started: {}", err.msg()));
                    json!({ "error_code": err.code, "error_msg": err.msg(), "class_id": e.class_id, "timestamp": at_s })
                }
            };
            self.send(tenant, acc, format!("class:{}", e.class_id), "online_record_start", data, at_ms);
        }
        Ok(
            json!({ "class_id": e.class_id, "class_status": "ing", "real_start_time": at_s, "recording": recording }),
        )
    }

    fn end_class(&self, tenant: &str, acc: &mut Account, e: OverEvent, at_ms: i64) -> Result<Value, String> {
        let at_s = at_ms.div_euclid(1000);
        let class = acc
            .classes
            .get_mut(&e.class_id)
            .ok_or_else(|| format!("no such class {} (10230)", e.class_id))?;
        match class.class_status {
            ClassStatus::Ing => {}
            ClassStatus::Will => return Err(format!("class {} has not begun", e.class_id)),
            ClassStatus::End => return Err(format!("class {} has already ended", e.class_id)),
        }
        class.real_stop_time = at_s;
        class.present.clear();
        acc.classes.set_status(e.class_id, ClassStatus::End);
        self.send(
            tenant,
            acc,
            format!("class:{}", e.class_id),
            "class_over",
            json!({ "class_id": e.class_id, "real_stop_time": at_s }),
            at_ms,
        );
        let timings = self.world.timings();
        let mut recording = Value::Null;
        if let Some(rec) = acc.recordings.get_mut(&e.class_id).filter(|r| r.recording.is_active()) {
            for s in rec.streams.iter_mut().filter(|s| s.stop_ms.is_none()) {
                s.stop_ms = Some(at_ms);
            }
            if rec.recording.stop(at_ms, &timings).is_ok() {
                self.world.schedule_recording_step(KIND, tenant, &rec.recording);
                recording = json!(format!("stopped after {} s; processing", rec.recording.recorded_s()));
            }
        }
        Ok(
            json!({ "class_id": e.class_id, "class_status": "end", "real_stop_time": at_s, "recording": recording }),
        )
    }

    fn fail_recording(
        &self,
        tenant: &str,
        acc: &mut Account,
        e: RecordingFailEvent,
        at_ms: i64,
    ) -> Result<Value, String> {
        let rec = acc
            .recordings
            .get_mut(&e.class_id)
            .ok_or_else(|| format!("no such recording: class {} has no cloud recording", e.class_id))?;
        let reason = e.reason.unwrap_or_else(|| "cloud recording failed (world event)".into());
        rec.recording.fail(at_ms, &reason).map_err(|_| {
            format!("the recording of class {} has already ended ({:?})", e.class_id, rec.recording.phase)
        })?;
        for s in rec.streams.iter_mut().filter(|s| s.stop_ms.is_none()) {
            s.stop_ms = Some(at_ms);
        }
        let started = rec.recording.started_ms.unwrap_or(rec.recording.created_ms);
        let stopped = rec.recording.stopped_ms.unwrap_or(at_ms);
        let data = json!({
            "error_code": errors::GENERIC,
            "error_msg": reason,
            "timestamp": at_ms.div_euclid(1000),
            "start_time": started.div_euclid(1000),
            "stop_time": stopped.div_euclid(1000),
            "class_id": e.class_id,
            "video_info": [],
        });
        self.send(tenant, acc, format!("class:{}", e.class_id), "online_record_stop", data, at_ms);
        Ok(json!({ "class_id": e.class_id, "recording": "failed", "reason": reason }))
    }

    fn fail_transcode(
        &self,
        tenant: &str,
        acc: &mut Account,
        e: TranscodeFailEvent,
        at_ms: i64,
    ) -> Result<Value, String> {
        let doc =
            acc.documents.get_mut(&e.doc_id).ok_or_else(|| format!("no such document `{}`", e.doc_id))?;
        let t = doc
            .transcode
            .as_mut()
            .ok_or_else(|| format!("document `{}` is not being transcoded", e.doc_id))?;
        if matches!(t.status, TranscodeStatus::Finished | TranscodeStatus::Failed) {
            return Err(format!("the transcode of `{}` has already ended ({})", e.doc_id, t.status.as_str()));
        }
        let code = e.error_code.filter(|c| *c != 0).unwrap_or(errors::GENERIC);
        t.status = TranscodeStatus::Failed;
        t.code = code;
        t.msg = e.error_msg.unwrap_or_else(|| "H5 transcode failed (world event)".into());
        let doc = doc.clone();
        self.transcode_progress(tenant, acc, &doc, at_ms);
        Ok(json!({ "doc_id": e.doc_id, "transcode_status": "failed", "transcode_code": code }))
    }

    fn apply(&self, tenant: &str, acc: &mut Account, ev: IclassEvent, at_ms: i64) -> Result<Value, String> {
        match ev {
            IclassEvent::Begin(e) => self.begin_class(tenant, acc, e, at_ms),
            IclassEvent::Over(e) => self.end_class(tenant, acc, e, at_ms),
            IclassEvent::Join(e) => {
                let class = acc.classes.get(&e.class_id).ok_or_else(|| no_class(acc, e.class_id))?;
                may_enter(acc, class, &e.user_id)?;
                if let (Some(tok), Some(u)) = (&e.user_token, acc.users.get(&e.user_id)) {
                    if tok != &u.user_token {
                        let why = if u.retired_tokens.contains(tok) {
                            "it was replaced by user/token/update"
                        } else {
                            "it is not this user's ticket"
                        };
                        return Err(format!("user_token of `{}` is not valid: {why} (10211)", e.user_id));
                    }
                }
                let vts: Vec<VideoType> =
                    e.video_types.iter().filter_map(|v| VideoType::published(*v)).collect();
                if let Some(c) = acc.classes.get_mut(&e.class_id) {
                    c.present.entry(e.user_id.clone()).or_default();
                }
                for vt in &vts {
                    open_stream(acc, e.class_id, &e.user_id, *vt, at_ms);
                }
                Ok(
                    json!({ "joined": e.user_id, "class_id": e.class_id, "streams": publishing(acc, e.class_id, &e.user_id) }),
                )
            }
            IclassEvent::Quit(e) => {
                let class = acc.classes.get(&e.class_id).ok_or_else(|| no_class(acc, e.class_id))?;
                let streams: Vec<VideoType> = class
                    .present
                    .get(&e.user_id)
                    .ok_or_else(|| format!("no such user `{}` in class {}", e.user_id, e.class_id))?
                    .keys()
                    .copied()
                    .collect();
                for vt in streams {
                    close_stream(acc, e.class_id, &e.user_id, vt, at_ms);
                }
                if let Some(c) = acc.classes.get_mut(&e.class_id) {
                    c.present.remove(&e.user_id);
                }
                Ok(json!({ "left": e.user_id, "class_id": e.class_id }))
            }
            IclassEvent::StreamOpen(e) => {
                let vt = video_type(e.video_type, "video_type")?;
                let class = acc.classes.get(&e.class_id).ok_or_else(|| no_class(acc, e.class_id))?;
                may_enter(acc, class, &e.user_id)?;
                let opened = open_stream(acc, e.class_id, &e.user_id, vt, at_ms);
                Ok(json!({
                    "stream_open": { "user_id": e.user_id, "video_type": vt.code() },
                    "class_id": e.class_id,
                    "already_open": !opened,
                }))
            }
            IclassEvent::StreamClose(e) => {
                let vt = video_type(e.video_type, "video_type")?;
                acc.classes.get(&e.class_id).ok_or_else(|| no_class(acc, e.class_id))?;
                if !close_stream(acc, e.class_id, &e.user_id, vt, at_ms) {
                    return Err(format!(
                        "no such stream: `{}` publishes no {} in class {}",
                        e.user_id,
                        vt.as_str(),
                        e.class_id
                    ));
                }
                Ok(
                    json!({ "stream_close": { "user_id": e.user_id, "video_type": vt.code() }, "class_id": e.class_id }),
                )
            }
            IclassEvent::RecordingFail(e) => self.fail_recording(tenant, acc, e, at_ms),
            IclassEvent::TranscodeFail(e) => self.fail_transcode(tenant, acc, e, at_ms),
        }
    }

    // ----- fixtures -------------------------------------------------------------------------------

    /// A seeded class (`POST /__admin/seed`): `will`, taught by `teacher_id`, without callbacks.
    fn seed_class(&self, acc: &mut Account, teacher_id: &str, now_s: i64) {
        let class_id = Self::new_class_id(acc, &self.world.ids);
        let c = ClassFixture {
            sdkappid: 0,
            class_id,
            teacher_id: teacher_id.to_string(),
            class_topic: None,
            class_type: None,
            create_time: None,
            start_time: None,
            stop_time: None,
            record_types: None,
            members: Vec::new(),
            record_user_id: None,
            record_user_sig: None,
        };
        let class = Self::build_class(acc, c, now_s);
        acc.classes.insert(class_id, class);
    }

    fn section(section: &Value, path: &str, errors: &mut Vec<FixtureError>) -> Section {
        checks::unknown_keys(section, path, &["apps", "users", "classes", "documents"], errors);
        Section {
            apps: checks::parse_list::<AppConfig>(section, path, "apps", errors),
            users: checks::parse_list::<UserFixture>(section, path, "users", errors),
            classes: checks::parse_list::<ClassFixture>(section, path, "classes", errors),
            documents: checks::parse_list::<DocumentFixture>(section, path, "documents", errors),
        }
    }

    fn build_user(&self, acc: &mut Account, u: UserFixture, now_s: i64) -> User {
        let ids = &self.world.ids;
        let t = u.regist_time.unwrap_or(now_s);
        User {
            no: acc.next_no(),
            nickname: u.nickname.unwrap_or_else(|| u.user_id.clone()),
            role: Role::parse(&u.role).unwrap_or(Role::Student),
            gender: u.gender.as_deref().and_then(Gender::parse).unwrap_or(Gender::Male),
            avatar: u.avatar.unwrap_or_else(|| handlers::default_avatar(ids)),
            phone_no: u.phone_no.unwrap_or_default(),
            e_mail: u.e_mail.unwrap_or_default(),
            regist_time: t,
            update_time: t,
            user_token: u.user_token.unwrap_or_else(|| ids.hex(32)),
            retired_tokens: Vec::new(),
            user_id: u.user_id,
        }
    }

    fn build_class(acc: &mut Account, c: ClassFixture, now_s: i64) -> Class {
        let start = c.start_time.unwrap_or(now_s);
        let mut record_types: Vec<RecordType> = Vec::new();
        for t in c.record_types.unwrap_or_else(|| vec!["local".into()]) {
            if let Some(t) = RecordType::parse(&t) {
                if !record_types.contains(&t) {
                    record_types.push(t);
                }
            }
        }
        let mut members = vec![Member { role: Role::Teacher, user_id: c.teacher_id.clone() }];
        for m in c.members {
            if m.user_id != c.teacher_id && !members.iter().any(|x| x.user_id == m.user_id) {
                members.push(Member { role: Role::Student, user_id: m.user_id });
            }
        }
        Class {
            no: acc.next_no(),
            class_id: c.class_id,
            class_topic: c.class_topic.filter(|t| !t.is_empty()).unwrap_or_else(|| c.class_id.to_string()),
            class_type: c.class_type.as_deref().and_then(ClassType::parse).unwrap_or(ClassType::Public),
            class_status: ClassStatus::Will,
            teacher_id: c.teacher_id,
            create_time: c.create_time.unwrap_or(now_s),
            start_time: start,
            stop_time: c.stop_time.unwrap_or(start.saturating_add(handlers::DEFAULT_CLASS_LENGTH_S)),
            real_start_time: 0,
            real_stop_time: 0,
            members,
            settings: Settings { record_types, ..Settings::default() },
            record_user_id: c.record_user_id,
            record_user_sig: c.record_user_sig,
            present: BTreeMap::new(),
        }
    }

    fn build_document(&self, tenant: &str, acc: &mut Account, d: DocumentFixture, now_ms: i64) -> Document {
        let owner = d.owner.unwrap_or_default();
        let permission = if owner.is_empty() {
            Permission::Public
        } else {
            d.permission.as_deref().and_then(Permission::parse).unwrap_or(Permission::Private)
        };
        let doc_name = d.doc_name.unwrap_or_default();
        let doc_size = d.doc_size.unwrap_or(0);
        let is_transcode = d.is_transcode.unwrap_or(false);
        // A document of the starting world that asked for H5 transcoding has been transcoded already.
        let transcode = is_transcode.then(|| {
            let pages = d.pages.unwrap_or_else(|| handlers::pages_of(doc_size));
            let f = self.world.files.create(
                &self.world.ids,
                &format!("{}:{tenant}", KIND),
                H5_FILE_NAME,
                "html",
                u64::from(pages) * H5_BYTES_PER_PAGE,
                now_ms,
            );
            Transcode {
                status: TranscodeStatus::Finished,
                progress: 100,
                code: 0,
                msg: String::new(),
                h5_url: self.door.file_url(&f),
                pages,
                resolution: TRANSCODE_RESOLUTION.into(),
                title: handlers::title_of(&doc_name, &d.doc_url),
                file_key: Some(f.key),
            }
        });
        Document {
            no: acc.next_no(),
            doc_id: d.doc_id,
            doc_url: d.doc_url,
            doc_name,
            doc_ext: d.doc_ext.unwrap_or_default(),
            doc_size,
            doc_md5: d.doc_md5.unwrap_or_default(),
            permission,
            owner,
            upload_time: d.upload_time.unwrap_or(now_ms.div_euclid(1000)),
            is_transcode,
            transcode,
        }
    }
}

fn no_class(acc: &Account, class_id: u64) -> String {
    format!("no such class {class_id} in app {} (10230)", acc.config.sdkappid)
}

fn publishing(acc: &Account, class_id: u64, user: &str) -> Vec<u8> {
    acc.classes
        .get(&class_id)
        .and_then(|c| c.present.get(user))
        .map(|s| s.keys().map(|v| v.code()).collect())
        .unwrap_or_default()
}

fn check_word<T>(
    v: Option<&str>,
    path: String,
    parse: impl Fn(&str) -> Option<T>,
    words: String,
    errors: &mut Vec<FixtureError>,
) -> Option<T> {
    let v = v?;
    let parsed = parse(v);
    if parsed.is_none() {
        errors.push(FixtureError::new(path, format!("must be one of {words}, got `{v}`")));
    }
    parsed
}

impl Envelope for Iclass {
    fn refusal(&self, code: i64, detail: &str) -> Reply {
        IclassError::new(code, detail).reply()
    }

    fn too_large_code(&self) -> i64 {
        errors::READ_BODY
    }
}

impl Vendor for Iclass {
    fn routes(self: Arc<Self>, cfg: &mut web::ServiceConfig) {
        let routes: [(&str, Handler); 14] = [
            ("/paas/v1/class/create", Iclass::class_create),
            ("/paas/v1/class/delete", Iclass::class_delete),
            ("/paas/v1/class/modify", Iclass::class_modify),
            ("/paas/v1/class/info", Iclass::class_info),
            ("/paas/v1/class/list", Iclass::class_list),
            ("/paas/v1/user/register", Iclass::user_register),
            ("/paas/v1/user/profile/modify", Iclass::user_profile_modify),
            ("/paas/v1/user/token/update", Iclass::user_token_update),
            ("/paas/v1/user/info", Iclass::user_info),
            ("/paas/v1/user/list", Iclass::user_list),
            ("/paas/v1/document/add", Iclass::document_add),
            ("/paas/v1/document/delete", Iclass::document_delete),
            ("/paas/v1/document/info", Iclass::document_info),
            ("/paas/v1/document/list", Iclass::document_list),
        ];
        for (path, handler) in routes {
            endpoint(cfg, &self, Method::POST, path, handler);
        }
        // teacher_url / student_url: only all-digit paths, so no other route is shadowed.
        endpoint(
            cfg,
            &self,
            Method::GET,
            r"/{sdkappid:\d+}/{class_id:\d+}/{role:[01]}",
            Iclass::classroom_page,
        );
    }

    fn check_section(&self, section: &Value, path: &str, errors: &mut Vec<FixtureError>) {
        let s = Self::section(section, path, errors);
        let mut apps: HashMap<u64, &str> = HashMap::new();
        for (p, a) in &s.apps {
            if a.tic_key.trim().is_empty() {
                errors.push(FixtureError::new(format!("{p}.tic_key"), "must not be empty"));
            }
            if a.sdk_key.as_deref().is_some_and(|k| k.is_empty()) {
                errors.push(FixtureError::new(
                    format!("{p}.sdk_key"),
                    "must not be empty (omit it to accept any record_user_sig)",
                ));
            }
            kit::check_callback_url(a.callback_url.as_deref(), &format!("{p}.callback_url"), errors);
            if !(a.transcode_step_s.is_finite() && (0.0..=86_400.0).contains(&a.transcode_step_s)) {
                errors.push(FixtureError::new(
                    format!("{p}.transcode_step_s"),
                    "must be between 0 and 86400 seconds",
                ));
            }
            if let Some(first) = apps.insert(a.sdkappid, p) {
                errors.push(FixtureError::new(
                    format!("{p}.sdkappid"),
                    format!("duplicate sdkappid {} (also at {first})", a.sdkappid),
                ));
            }
        }
        let mut users: HashMap<(u64, &str), &str> = HashMap::new();
        for (p, u) in &s.users {
            if u.user_id.trim().is_empty() {
                errors.push(FixtureError::new(format!("{p}.user_id"), "must not be empty"));
            }
            check_word(Some(u.role.as_str()), format!("{p}.role"), Role::parse, Role::words(), errors);
            check_word(u.gender.as_deref(), format!("{p}.gender"), Gender::parse, Gender::words(), errors);
            if u.user_token.as_deref().is_some_and(str::is_empty) {
                errors.push(FixtureError::new(
                    format!("{p}.user_token"),
                    "must not be empty (omit it to generate one)",
                ));
            }
            if let Some(first) = users.insert((u.sdkappid, &u.user_id), p) {
                errors.push(FixtureError::new(
                    format!("{p}.user_id"),
                    format!("duplicate user `{}` (also at {first})", u.user_id),
                ));
            }
        }
        let mut classes: HashMap<(u64, u64), &str> = HashMap::new();
        for (p, c) in &s.classes {
            for (k, v) in
                [("create_time", c.create_time), ("start_time", c.start_time), ("stop_time", c.stop_time)]
            {
                if v.is_some_and(|t| !(0..=crate::clock::MAX_TIME_S).contains(&t)) {
                    errors.push(FixtureError::new(
                        format!("{p}.{k}"),
                        "must be unix seconds between 0 and the year 9999",
                    ));
                }
            }
            if !(1..=9_999_999_999).contains(&c.class_id) {
                errors.push(FixtureError::new(format!("{p}.class_id"), "must be between 1 and 9999999999"));
            }
            if c.teacher_id.trim().is_empty() {
                errors.push(FixtureError::new(format!("{p}.teacher_id"), "must not be empty"));
            }
            check_word(
                c.class_type.as_deref(),
                format!("{p}.class_type"),
                ClassType::parse,
                ClassType::words(),
                errors,
            );
            let mut remote = false;
            for (i, t) in c.record_types.iter().flatten().enumerate() {
                remote |= check_word(
                    Some(t),
                    format!("{p}.record_types[{i}]"),
                    RecordType::parse,
                    RecordType::words(),
                    errors,
                ) == Some(RecordType::Remote);
            }
            for (i, m) in c.members.iter().enumerate() {
                if m.user_id.trim().is_empty() {
                    errors.push(FixtureError::new(format!("{p}.members[{i}].user_id"), "must not be empty"));
                }
                if let Some(r) = check_word(
                    m.role.as_deref(),
                    format!("{p}.members[{i}].role"),
                    Role::parse,
                    Role::words(),
                    errors,
                ) {
                    let teacher = m.user_id == c.teacher_id;
                    if (teacher && r != Role::Teacher) || (!teacher && r != Role::Student) {
                        errors.push(FixtureError::new(
                            format!("{p}.members[{i}].role"),
                            "must be `student` (or `teacher` for the class's teacher)",
                        ));
                    }
                }
            }
            let start = c.start_time.unwrap_or(0);
            if c.start_time.is_some_and(|t| t < 0) {
                errors.push(FixtureError::new(format!("{p}.start_time"), "must be unix seconds (>= 0)"));
            }
            if let Some(stop) = c.stop_time {
                if stop < start {
                    errors.push(FixtureError::new(format!("{p}.stop_time"), "must not be before start_time"));
                }
            }
            if let Some(id) = &c.record_user_id {
                if !id.starts_with(RECORD_USER_PREFIX) || id.len() == RECORD_USER_PREFIX.len() {
                    errors.push(FixtureError::new(
                        format!("{p}.record_user_id"),
                        format!("must start with `{RECORD_USER_PREFIX}` and continue (e.g. {RECORD_USER_PREFIX}<class_id>_1)"),
                    ));
                }
            }
            if remote
                && (c.record_user_id.is_none() || c.record_user_sig.as_deref().is_none_or(str::is_empty))
            {
                errors.push(FixtureError::new(
                    p.clone(),
                    "record_types contains `remote`: record_user_id and record_user_sig are required",
                ));
            }
            if let Some(first) = classes.insert((c.sdkappid, c.class_id), p) {
                errors.push(FixtureError::new(
                    format!("{p}.class_id"),
                    format!("duplicate class {} (also at {first})", c.class_id),
                ));
            }
        }
        let mut docs: HashMap<(u64, &str), &str> = HashMap::new();
        for (p, d) in &s.documents {
            if d.doc_id.trim().is_empty() {
                errors.push(FixtureError::new(format!("{p}.doc_id"), "must not be empty"));
            }
            if !(d.doc_url.starts_with("http://") || d.doc_url.starts_with("https://")) {
                errors.push(FixtureError::new(format!("{p}.doc_url"), "must be an http(s) URL"));
            }
            check_word(
                d.permission.as_deref(),
                format!("{p}.permission"),
                Permission::parse,
                Permission::words(),
                errors,
            );
            if d.pages == Some(0) {
                errors.push(FixtureError::new(format!("{p}.pages"), "must be at least 1"));
            }
            if let Some(first) = docs.insert((d.sdkappid, &d.doc_id), p) {
                errors.push(FixtureError::new(
                    format!("{p}.doc_id"),
                    format!("duplicate document `{}` (also at {first})", d.doc_id),
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
        let s = Self::section(section, path, &mut errors);
        let mine = |id: u64| only.is_none_or(|o| o == id.to_string());
        let apps: Vec<_> = s.apps.into_iter().filter(|(_, a)| mine(a.sdkappid)).collect();
        let users: Vec<_> = s.users.into_iter().filter(|(_, u)| mine(u.sdkappid)).collect();
        let classes: Vec<_> = s.classes.into_iter().filter(|(_, c)| mine(c.sdkappid)).collect();
        let documents: Vec<_> = s.documents.into_iter().filter(|(_, d)| mine(d.sdkappid)).collect();
        let new_apps: BTreeSet<u64> = apps.iter().map(|(_, a)| a.sdkappid).collect();
        for (p, a) in &apps {
            if self.apps.get(&a.sdkappid.to_string()).is_some() {
                errors.push(FixtureError::new(
                    format!("{p}.sdkappid"),
                    format!("app {} already exists", a.sdkappid),
                ));
            }
        }
        // What exists once this section is loaded: the world's plus the section's.
        let existing = |app: u64, f: &dyn Fn(&Account) -> bool| -> bool {
            self.apps.write(&app.to_string(), |acc| f(acc)).unwrap_or(false)
        };
        let app_known = |app: u64| new_apps.contains(&app) || self.apps.get(&app.to_string()).is_some();
        let declared: BTreeSet<(u64, &str)> =
            users.iter().map(|(_, u)| (u.sdkappid, u.user_id.as_str())).collect();
        let user_known = |app: u64, u: &str| {
            declared.contains(&(app, u)) || existing(app, &|acc| acc.users.contains_key(u))
        };
        for (p, u) in &users {
            if !app_known(u.sdkappid) {
                errors.push(FixtureError::new(format!("{p}.sdkappid"), format!("no app {}", u.sdkappid)));
            } else if existing(u.sdkappid, &|acc| acc.users.contains_key(&u.user_id)) {
                errors.push(FixtureError::new(
                    format!("{p}.user_id"),
                    format!("user `{}` already exists", u.user_id),
                ));
            }
        }
        let mut record_users: BTreeMap<(u64, &str), &str> = BTreeMap::new();
        for (p, c) in &classes {
            if !app_known(c.sdkappid) {
                errors.push(FixtureError::new(format!("{p}.sdkappid"), format!("no app {}", c.sdkappid)));
                continue;
            }
            if existing(c.sdkappid, &|acc| {
                acc.classes.contains_key(&c.class_id) || acc.recordings.contains_key(&c.class_id)
            }) {
                errors.push(FixtureError::new(
                    format!("{p}.class_id"),
                    format!("class {} already exists", c.class_id),
                ));
            }
            if !user_known(c.sdkappid, &c.teacher_id) {
                errors.push(FixtureError::new(
                    format!("{p}.teacher_id"),
                    format!("no user `{}`", c.teacher_id),
                ));
            }
            for (i, m) in c.members.iter().enumerate() {
                if !user_known(c.sdkappid, &m.user_id) {
                    errors.push(FixtureError::new(
                        format!("{p}.members[{i}].user_id"),
                        format!("no user `{}`", m.user_id),
                    ));
                }
            }
            if c.class_type.as_deref() == Some("1v1")
                && c.members.iter().filter(|m| m.user_id != c.teacher_id).count() > 1
            {
                errors.push(FixtureError::new(format!("{p}.members"), "a 1v1 class has one student"));
            }
            if let Some(r) = &c.record_user_id {
                if let Some(first) = record_users.insert((c.sdkappid, r), p) {
                    errors.push(FixtureError::new(
                        format!("{p}.record_user_id"),
                        format!("`{r}` is already the recorder of the class at {first}"),
                    ));
                } else if existing(c.sdkappid, &|acc| acc.record_user_in_use(r, None).is_some()) {
                    errors.push(FixtureError::new(
                        format!("{p}.record_user_id"),
                        format!("`{r}` is already a class's recorder"),
                    ));
                }
                if r == &c.teacher_id || c.members.iter().any(|m| &m.user_id == r) {
                    errors.push(FixtureError::new(
                        format!("{p}.record_user_id"),
                        "must not be a member of the class",
                    ));
                }
            }
        }
        for (p, d) in &documents {
            if !app_known(d.sdkappid) {
                errors.push(FixtureError::new(format!("{p}.sdkappid"), format!("no app {}", d.sdkappid)));
                continue;
            }
            if existing(d.sdkappid, &|acc| acc.documents.contains_key(&d.doc_id)) {
                errors.push(FixtureError::new(
                    format!("{p}.doc_id"),
                    format!("document `{}` already exists", d.doc_id),
                ));
            }
            if let Some(o) = d.owner.as_deref().filter(|o| !o.is_empty()) {
                if !user_known(d.sdkappid, o) {
                    errors.push(FixtureError::new(format!("{p}.owner"), format!("no user `{o}`")));
                }
            }
        }
        if let Some(stop) = kit::stop_before_loading(errors, dry_run) {
            return stop;
        }
        let now_ms = self.world.clock.now_ms();
        let now_s = now_ms.div_euclid(1000);
        let mut loaded = Vec::new();
        for (_, a) in apps {
            let id = a.sdkappid.to_string();
            self.apps.insert(&id, Account::new(a));
            loaded.push(id);
        }
        for (_, u) in users {
            let tenant = u.sdkappid.to_string();
            self.apps.write(&tenant, |acc| {
                let user = self.build_user(acc, u, now_s);
                acc.users.insert(user.user_id.clone(), user);
            });
        }
        for (_, c) in classes {
            let tenant = c.sdkappid.to_string();
            self.apps.write(&tenant, |acc| {
                let class = Self::build_class(acc, c, now_s);
                acc.classes.insert(class.class_id, class);
            });
        }
        for (_, d) in documents {
            let tenant = d.sdkappid.to_string();
            self.apps.write(&tenant, |acc| {
                let doc = self.build_document(&tenant, acc, d, now_ms);
                acc.documents.insert(doc.doc_id.clone(), doc);
            });
        }
        Ok(loaded)
    }

    fn check_event(&self, name: &str, event: &Value) -> Result<(), String> {
        IclassEvent::parse(name, event).map(|_| ())
    }

    fn apply_event(&self, name: &str, event: &Value, at_ms: i64) -> Result<Value, String> {
        let ev = IclassEvent::parse(name, event)?;
        let tenant = ev.sdkappid().to_string();
        let handle = self.apps.get(&tenant).ok_or_else(|| format!("no such sdkappid {tenant} (10270)"))?;
        let mut guard = handle.lock();
        self.apply(&tenant, &mut guard, ev, at_ms)
    }

    fn run_job(&self, tenant: &str, task: &str, target: &str, due_ms: i64) -> Option<JobReport> {
        match task {
            recording::STEP_TASK => self.step_recording(tenant, target, due_ms),
            TRANSCODE_TASK => self.step_transcode(tenant, target, due_ms),
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

    /// `{"users": N, "classes": M, "teacher_id": "seed_teacher"}`: N students `seed_user_<n>` and M
    /// public classes (status `will`, no members but the teacher, local recording) taught by `teacher_id`,
    /// registered as a teacher when it is not a user yet. Numbers, ids and tokens come from the same
    /// sources as `user/register` and `class/create`; no callbacks are sent.
    fn seed(&self, tenant: &str, spec: &Value, at_ms: i64) -> Result<Value, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Spec {
            #[serde(rename = "tenant")]
            _tenant: String,
            #[serde(default)]
            users: u64,
            #[serde(default)]
            classes: u64,
            #[serde(default = "default_seed_teacher")]
            teacher_id: String,
        }
        fn default_seed_teacher() -> String {
            "seed_teacher".into()
        }
        let spec: Spec =
            serde_path_to_error::deserialize(spec).map_err(|e| format!("{} (at {})", e.inner(), e.path()))?;
        let max = crate::vendors::MAX_SEED;
        if spec.users > max || spec.classes > max || spec.users + spec.classes == 0 {
            return Err(format!("users and classes must each be at most {max}, and not both 0"));
        }
        if spec.teacher_id.trim().is_empty() {
            return Err("teacher_id must not be empty".into());
        }
        let now_s = at_ms.div_euclid(1000);
        let fixture_user = |user_id: String, role: &str| UserFixture {
            sdkappid: 0,
            user_id,
            role: role.into(),
            nickname: None,
            gender: None,
            avatar: None,
            phone_no: None,
            e_mail: None,
            user_token: None,
            regist_time: None,
        };
        let handle = self.apps.get(tenant).ok_or_else(|| format!("no app `{tenant}`"))?;
        kit::in_chunks(spec.users, |n| {
            let mut guard = handle.lock();
            let acc = &mut *guard;
            let mut users = 0;
            while users < n {
                if acc.seq == u64::MAX {
                    return Err("the app has used up its sequence numbers".into());
                }
                let user_id = format!("seed_user_{}", acc.seq + 1);
                if acc.users.contains_key(&user_id) {
                    acc.next_no();
                    continue;
                }
                let u = self.build_user(acc, fixture_user(user_id, "student"), now_s);
                acc.users.insert(u.user_id.clone(), u);
                users += 1;
            }
            Ok(())
        })?;
        {
            let mut acc = handle.lock();
            if spec.classes > 0 && !acc.users.contains_key(&spec.teacher_id) {
                let u = self.build_user(&mut acc, fixture_user(spec.teacher_id.clone(), "teacher"), now_s);
                acc.users.insert(u.user_id.clone(), u);
            }
        }
        kit::in_chunks(spec.classes, |n| {
            let mut guard = handle.lock();
            let acc = &mut *guard;
            for _ in 0..n {
                self.seed_class(acc, &spec.teacher_id, now_s);
            }
            Ok(())
        })?;
        let acc = handle.read();
        Ok(json!({
            "created": { "users": spec.users, "classes": spec.classes },
            "teacher_id": spec.teacher_id,
            "total_users": acc.users.len(),
            "total_classes": acc.classes.len(),
        }))
    }

    fn entity_kinds(&self) -> &'static [&'static str] {
        &["class", "user", "document", "recording"]
    }

    /// Classes newest first from the class table's indexes (one status: its index); users, documents
    /// and recordings listed whole.
    fn entities(&self, q: &crate::vendors::EntityQuery<'_>) -> crate::vendors::EntityPage {
        match q.kind.unwrap_or("class") {
            "user" => kit::page_listing(&self.apps, q, |app, a| {
                let mut users: Vec<&User> = a.users.values().collect();
                users.sort_by_key(|u| std::cmp::Reverse(u.no));
                users.into_iter().map(|u| user_row(app, u)).collect()
            }),
            "document" => kit::page_listing(&self.apps, q, |app, a| {
                let mut docs: Vec<&Document> = a.documents.values().collect();
                docs.sort_by_key(|d| std::cmp::Reverse(d.no));
                docs.into_iter().map(|d| document_row(app, d)).collect()
            }),
            "recording" => kit::page_listing(&self.apps, q, |app, a| {
                a.recordings.values().rev().map(|r| class_recording_row(app, r)).collect()
            }),
            _ => {
                let status = q.status.map(ClassStatus::parse);
                kit::page_across(&self.apps, q, |app, a, skip, limit| {
                    let mut f = ClassFilter::default();
                    match status {
                        Some(None) => return (0, Vec::new()),
                        Some(Some(s)) => {
                            f.statuses.insert(s);
                        }
                        None => {}
                    }
                    if q.id.is_some() {
                        let all = a.classes.page(&f, true, 0, usize::MAX).1;
                        return q.page_of(all.into_iter().map(|c| class_row(app, c)), skip, limit);
                    }
                    let (total, rows) = a.classes.page(&f, true, skip, limit);
                    (total, rows.into_iter().map(|c| class_row(app, c)).collect())
                })
            }
        }
    }

    fn entity(&self, tenant: &str, kind: &str, id: &str) -> Option<crate::vendors::EntityDetail> {
        let timings = self.world.timings();
        let words = |p: Phase| p.as_str().to_string();
        let with_recording = |d: crate::vendors::EntityDetail, r: Option<&ClassRecording>| match r {
            Some(r) => d.recording(&r.recording, &timings, words, r.files.iter().map(|f| f.file_key.clone())),
            None => d,
        };
        self.apps.read(tenant, |a| match kind {
            "class" => {
                let c = a.classes.get(&id.parse().ok()?)?;
                Some(with_recording(class_row(tenant, c).detail(c), a.recordings.get(&c.class_id)))
            }
            "recording" => {
                let r = a.recordings.get(&id.parse().ok()?)?;
                Some(with_recording(class_recording_row(tenant, r).detail(r), Some(r)))
            }
            "user" => a.users.get(id).map(|u| user_row(tenant, u).detail(u)),
            "document" => a.documents.get(id).map(|d| {
                let detail = document_row(tenant, d).detail(d);
                crate::vendors::EntityDetail {
                    files: d.transcode.iter().filter_map(|t| t.file_key.clone()).collect(),
                    ..detail
                }
            }),
            _ => None,
        })?
    }

    fn banner(&self) -> Vec<String> {
        self.apps
            .all()
            .into_iter()
            .map(|(_, t)| {
                let a = t.lock();
                format!(
                    "iclass (004)        sdkappid={}  tic_key={}  callback_url={}",
                    a.config.sdkappid,
                    a.config.tic_key,
                    a.config.callback_url.as_deref().unwrap_or("(none)")
                )
            })
            .collect()
    }

    fn example_curl(&self, base: &str) -> Option<String> {
        let (_, t) = self.apps.all().into_iter().next()?;
        let a = t.lock();
        let expire = self.world.clock.now_s() + 86_400;
        let sign = crate::outbox::md5_sign(&a.config.tic_key, expire);
        Some(format!(
            "curl -X POST '{base}/paas/v1/user/list?sdkappid={}&random=1&sign={sign}' -H 'Content-Type: application/json' -d '{{\"expire_time\":{expire}}}'",
            a.config.sdkappid
        ))
    }
}

impl crate::tenants::TenantState for Account {
    fn fixture_item(&self) -> Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn entities(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("user", self.users.len()),
            ("class", self.classes.len()),
            ("document", self.documents.len()),
            ("recording", self.recordings.len()),
        ]
    }

    /// Each app stands under its own sdkappid.
    fn check_dump(apps: &BTreeMap<String, Self>) -> Result<(), String> {
        for (k, a) in apps {
            if k != &a.config.sdkappid.to_string() {
                return Err(format!("apps.{k}: holds the app {}", a.config.sdkappid));
            }
        }
        Ok(())
    }
}

/// A class as the dashboard lists it.
fn class_row(app: &str, c: &Class) -> crate::vendors::EntityRow {
    let key = c.class_status.as_str();
    let summary = format!(
        "{} · {} · teacher {} · {} member(s)",
        c.class_topic,
        c.class_type.as_str(),
        c.teacher_id,
        c.members.len()
    );
    crate::vendors::EntityRow::new(app, "class", c.class_id, key, key, Some(c.create_time * 1000), summary)
}

/// A user as the dashboard lists it.
fn user_row(app: &str, u: &User) -> crate::vendors::EntityRow {
    let key = u.role.as_str();
    let summary = if u.nickname.is_empty() { String::new() } else { u.nickname.clone() };
    crate::vendors::EntityRow::new(app, "user", &u.user_id, key, key, Some(u.regist_time * 1000), summary)
}

/// A document as the dashboard lists it.
fn document_row(app: &str, d: &Document) -> crate::vendors::EntityRow {
    let key = d.transcode.as_ref().map_or("uploaded", |t| t.status.as_str());
    let status = match &d.transcode {
        Some(t) => format!("{key} {}%", t.progress),
        None => key.to_string(),
    };
    let summary = format!("{} · owner {} · {} bytes", d.doc_name, d.owner, d.doc_size);
    crate::vendors::EntityRow::new(
        app,
        "document",
        &d.doc_id,
        key,
        status,
        Some(d.upload_time * 1000),
        summary,
    )
}

/// A class's cloud recording as the dashboard lists it.
fn class_recording_row(app: &str, r: &ClassRecording) -> crate::vendors::EntityRow {
    let phase = r.recording.phase.as_str();
    let summary = format!("recorder {} · {} file(s)", r.record_user_id, r.files.len());
    crate::vendors::EntityRow::new(
        app,
        "recording",
        r.class_id,
        phase,
        phase,
        Some(r.recording.created_ms),
        summary,
    )
}
