//! `POST /v4/ilvb_edu/record`: authentication, then `req_record`, `query_record_result`, `report_group`.

use super::api::RecordRequest;
use super::errors::*;
use super::models::*;
use super::IlvbEdu;
use crate::http::{Exchange, Reply};
use crate::limits::Cap;
use crate::recording::{MediaKind, Recording};
use crate::vendors::kit::{self, BodyProblem};
use serde_json::{json, Value};

type Res<T> = Result<T, EduError>;

/// `{error_code: 0, error_msg: "", ...fields}`.
fn ok(fields: Value) -> Reply {
    kit::success(&[("error_code", json!(0)), ("error_msg", json!(""))], fields)
}

/// The document's three body failures: nothing parsable (-9000), not standard JSON (-9002), bad fields (-9003).
fn parse_body(ex: &Exchange) -> Res<RecordRequest> {
    kit::json_body(ex).map_err(|p| match p {
        BodyProblem::NotJson(e) => EduError::new(DESERIALIZE, format!("the body is not standard JSON: {e}")),
        BodyProblem::Field { .. } => EduError::param(p.to_string()),
        _ => EduError::new(DATA_PARSE, p.to_string()),
    })
}

impl IlvbEdu {
    /// `POST /v4/ilvb_edu/record?sdkappid=&identifier=&usersig=&contenttype=json`.
    pub(super) fn record(&self, ex: &Exchange) -> Reply {
        match self.authenticate(ex).and_then(|tenant| self.dispatch(&tenant, ex)) {
            Ok(v) => ok(v),
            Err(e) => e.reply(),
        }
    }

    /// The URL parameters, checked in the order the document lists them; returns the tenant id.
    fn authenticate(&self, ex: &Exchange) -> Res<String> {
        let raw = ex
            .query("sdkappid")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| EduError::param("sdkappid is required in the URL"))?;
        let sdkappid: u64 = raw
            .trim()
            .parse()
            .map_err(|_| EduError::param(format!("sdkappid must be a number, got `{raw}`")))?;
        let tenant = sdkappid.to_string();
        let cfg = self
            .apps
            .read(&tenant, |a| a.config.clone())
            .ok_or_else(|| EduError::param(format!("sdkappid {sdkappid} is not a known app")))?;
        let identifier = ex
            .query("identifier")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| EduError::param("identifier is required in the URL"))?;
        if !cfg.admins.contains(&identifier) {
            return Err(EduError::new(
                NO_PERMISSION,
                format!(
                    "`{identifier}` is not an admin of app {sdkappid}; this interface is for admins only"
                ),
            ));
        }
        let usersig = ex
            .query("usersig")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| EduError::param("usersig is required in the URL"))?;
        cfg.usersig_check
            .check(&usersig, sdkappid, &cfg.key, &identifier, &ex.auth())
            .map_err(|e| EduError::new(GENERIC, e.to_string()))?;
        match ex.query("contenttype").as_deref() {
            Some("json") => Ok(tenant),
            Some(other) => Err(EduError::param(format!("contenttype must be `json`, got `{other}`"))),
            None => Err(EduError::param("contenttype=json is required in the URL")),
        }
    }

    fn dispatch(&self, tenant: &str, ex: &Exchange) -> Res<Value> {
        let req = parse_body(ex)?;
        match req.cmd.as_deref() {
            Some("open_record_svc") => {}
            Some(other) => {
                return Err(EduError::param(format!("cmd must be `open_record_svc`, got `{other}`")))
            }
            None => return Err(EduError::param("cmd is required (`open_record_svc`)")),
        }
        match req.sub_cmd.as_deref() {
            Some("req_record") => self.req_record(tenant, &req, ex.now_ms),
            Some("query_record_result") => self.query_record_result(tenant, &req, ex),
            Some("report_group") => self.report_group(tenant, &req, ex.now_ms),
            Some(other) => Err(EduError::param(format!(
                "sub_cmd `{other}` is not one of req_record, query_record_result, report_group"
            ))),
            None => Err(EduError::param("sub_cmd is required")),
        }
    }

    fn room_of(req: &RecordRequest) -> Res<u64> {
        match req.class_roomid {
            Some(0) => Err(EduError::param("class_roomid must be a positive room number")),
            Some(r) => Ok(r),
            None => Err(EduError::param("class_roomid is required")),
        }
    }

    fn req_record(&self, tenant: &str, req: &RecordRequest, now: i64) -> Res<Value> {
        let roomid = Self::room_of(req)?;
        if req.groupid.as_deref() == Some("") {
            return Err(EduError::param("groupid must not be empty (omit it to use the room id)"));
        }
        let timings = self.world.timings();
        let t = self.apps.get(tenant).ok_or_else(|| EduError::new(GENERIC, "the app is gone"))?;
        let mut guard = t.lock();
        let app = &mut *guard;
        let retention_s = app.config.retention_s;
        let segment_s = app.config.segment_s;
        let room = app
            .rooms
            .get_mut(&roomid)
            .ok_or_else(|| EduError::param(format!("room {roomid} never held a class")))?;
        let class =
            room.class.clone().ok_or_else(|| EduError::param(format!("room {roomid} never held a class")))?;
        let end = class.end_ms.ok_or_else(|| {
            EduError::param(format!(
                "the class in room {roomid} has not ended; request its recording after it is over"
            ))
        })?;
        if let Some(rec) = room.recording.as_ref().filter(|r| r.class.start_ms == class.start_ms) {
            match rec.state {
                RecordState::Queued | RecordState::Recording => {
                    return Err(EduError::new(DUPLICATE, format!("room {roomid} is already in the recording list")))
                }
                RecordState::Done => {
                    return Err(EduError::new(
                        DUPLICATE,
                        format!("the class in room {roomid} was already recorded; query_record_result lists its files"),
                    ))
                }
                RecordState::Failed => {}
            }
        }
        let kept_until = end.saturating_add(retention_s.saturating_mul(1000));
        if now >= kept_until {
            return Err(EduError::new(
                GENERIC,
                format!(
                    "the class in room {roomid} ended at {}; its media was kept until {} and can no longer be recorded",
                    end / 1000,
                    kept_until / 1000
                ),
            ));
        }
        let groupid = req.groupid.clone().unwrap_or_else(|| class.groupid.clone());
        let recording =
            Recording::new(roomid.to_string(), roomid.to_string(), MediaKind::Video, segment_s, now);
        room.recording = Some(RoomRecording {
            class,
            groupid,
            state: RecordState::Queued,
            recording,
            requested_ms: now,
            files: Vec::new(),
            error: None,
        });
        app.pickup.push(roomid);
        if app.pickup.len() == 1 {
            // The back end picks up every room queued until then in one go (one 1000 event for all).
            let due = now + (timings.encode_queue_s * 1000.0).round() as i64;
            self.world.schedule_vendor(due, super::KIND, tenant, super::PICKUP_TASK, "");
        }
        Ok(json!({}))
    }

    fn query_record_result(&self, tenant: &str, req: &RecordRequest, ex: &Exchange) -> Res<Value> {
        let roomid = Self::room_of(req)?;
        let files = &self.world.files;
        self.apps
            .write(tenant, |app| {
                let room = app.rooms.get(&roomid).filter(|r| r.class.is_some() || r.recording.is_some());
                let room = room.ok_or_else(|| EduError::param(format!("room {roomid} never held a class")))?;
                let (class, status, record_files) = match &room.recording {
                    None => (room.class.clone(), "none", Vec::new()),
                    Some(rec) => {
                        let status = match rec.state {
                            RecordState::Queued => "queued",
                            RecordState::Recording => "recording",
                            RecordState::Done => "done",
                            RecordState::Failed => "failed",
                        };
                        let list = match (&rec.state, &rec.error) {
                            (RecordState::Failed, Some((code, msg))) => vec![json!({
                                "error_code": code, "error_msg": msg, "file_id": 0, "video_id": "", "is_finish": true,
                                "file_size": 0, "file_format": "", "file_duration": 0, "file_url": "",
                            })],
                            _ => rec
                                .files
                                .iter()
                                .map(|f| {
                                    let url = files.get(&f.file_key).map(|sf| ex.file_url(&sf)).unwrap_or_default();
                                    json!({
                                        "error_code": 0, "error_msg": "", "file_id": f.file_id, "video_id": f.video_id,
                                        "is_finish": f.is_finish, "file_size": f.file_size, "file_format": "mp4",
                                        "file_duration": f.file_duration, "file_url": url,
                                    })
                                })
                                .collect(),
                        };
                        (Some(rec.class.clone()), status, list)
                    }
                };
                let class = class.ok_or_else(|| EduError::param(format!("room {roomid} never held a class")))?;
                Ok(json!({
                    "class_roomid": roomid,
                    "class_starttime": class.start_ms.div_euclid(1000),
                    "class_endtime": class.end_ms.map_or(0, |e| e.div_euclid(1000)),
                    "record_status": status,
                    "record_files": record_files,
                }))
            })
            .unwrap_or_else(|| Err(EduError::new(GENERIC, "the app is gone")))
    }

    fn report_group(&self, tenant: &str, req: &RecordRequest, now: i64) -> Res<Value> {
        let group = req
            .group_id
            .clone()
            .or_else(|| req.groupid.clone())
            .filter(|g| !g.is_empty())
            .ok_or_else(|| EduError::param("group_id is required"))?;
        let caps = &self.world.caps;
        let full =
            self.apps.write(tenant, |app| app.report_group(group, now, caps.limits.groups)).unwrap_or(false);
        if full {
            caps.reached(Cap::Groups, || {
                "the longest-reported whiteboard groups of a 000 app are forgotten".into()
            });
        }
        Ok(json!({}))
    }
}
