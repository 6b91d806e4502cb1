//! The SDK calls as REST (`POST /live_sdk/v1/record/start`, `/stop`) and the VOD API v2 look-ups
//! (`GET`/`POST /v2/index.php`: `DescribeRecordPlayInfo`, `DescribeVodPlayInfo`).

use super::api::RecordRequest;
use super::errors::*;
use super::models::*;
use super::vod::{self, SignatureMethod};
use super::LiveSdk;
use crate::clock::{AuthNow, ClientTime};
use crate::http::{Exchange, Reply};
use crate::recording::{MediaKind, Phase, Recording};
use crate::tlssig::SigError;
use crate::vendors::kit::{self, BodyProblem};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashSet};

type Res<T> = Result<T, SdkError>;

/// Seconds a VOD request's `Timestamp` may differ from now (either way), on the clock `--auth-clock` names.
pub const TIMESTAMP_WINDOW_S: i64 = 300;
/// Most `(Timestamp, Nonce)` pairs remembered per app; beyond it the oldest are forgotten.
pub const MAX_NONCES: usize = 100_000;

/// Forget the `(Timestamp, Nonce)` pairs a replay could no longer pass with: those whose `Timestamp` is
/// stale on every clock `now` judges by (under `either`, on both). What is left lies within
/// [`TIMESTAMP_WINDOW_S`] of a reading, and at most [`MAX_NONCES`] of it is kept.
fn forget_stale_nonces(nonces: &mut BTreeSet<(i64, u64)>, now: &AuthNow) {
    let mut from = i64::MIN;
    let mut doomed = Vec::new();
    for (lo, hi) in now.spans(TIMESTAMP_WINDOW_S).into_iter().chain(std::iter::once((i64::MAX, i64::MAX))) {
        doomed.extend(nonces.range((from, 0)..(lo, 0)).copied());
        from = hi.saturating_add(1);
    }
    for d in &doomed {
        nonces.remove(d);
    }
    while nonces.len() >= MAX_NONCES {
        nonces.pop_first();
    }
}
/// Default `pageSize` of `DescribeVodPlayInfo`.
pub const DEFAULT_PAGE_SIZE: i64 = 10;
/// Largest `pageSize` of `DescribeVodPlayInfo`.
pub const MAX_PAGE_SIZE: i64 = 100;
/// Longest `file_name`, in bytes.
pub const MAX_FILE_NAME: usize = 128;

/// `{code: 0, desc: "", ...fields}`.
fn ok(fields: Value) -> Reply {
    kit::success(&[("code", json!(0)), ("desc", json!(""))], fields)
}

/// The request packet: nothing parsable (30000001), a field of the wrong type (30000003).
fn parse_body(ex: &Exchange) -> Res<RecordRequest> {
    kit::json_body(ex).map_err(|p| match p {
        BodyProblem::Field { .. } => SdkError::new(BAD_FIELD, p.to_string()),
        _ => SdkError::new(BAD_PACKET, p.to_string()),
    })
}

fn platform_of(req: &RecordRequest) -> Res<Platform> {
    let p =
        req.platform.as_deref().filter(|s| !s.trim().is_empty()).ok_or_else(|| {
            SdkError::new(MISSING_FIELD, "platform is required (android, ios, windows or web)")
        })?;
    Platform::parse(p).ok_or_else(|| {
        SdkError::new(BAD_FIELD, format!("platform must be android, ios, windows or web, got `{p}`"))
    })
}

fn room_of(req: &RecordRequest) -> Res<(u32, u32)> {
    let relation = req.relation_id.ok_or_else(|| SdkError::new(MISSING_FIELD, "relation_id is required"))?;
    if relation == 0 {
        return Err(SdkError::new(
            BAD_FIELD,
            "relation_id must be the group id the room was opened with, not 0",
        ));
    }
    let room = req.room_id.ok_or_else(|| SdkError::new(MISSING_FIELD, "room_id is required"))?;
    Ok((relation, room))
}

fn data_type_of(req: &RecordRequest, platform: Platform) -> Res<Option<u8>> {
    match req.record_data_type {
        None => Ok(None),
        Some(t) if t > u32::from(DATA_AUX) => Err(SdkError::new(
            BAD_FIELD,
            format!("record_data_type must be 0 (camera) or 1 (auxiliary stream), got {t}"),
        )),
        Some(t) if t == u32::from(DATA_AUX) && platform == Platform::Web => Err(SdkError::new(
            UNSUPPORTED_DATA_TYPE,
            "the Web SDK records the camera only (videotype 1, the auxiliary stream, is not supported)",
        )),
        Some(t) => Ok(Some(t as u8)),
    }
}

fn file_name_of(req: &RecordRequest) -> Res<String> {
    let name = req
        .file_name
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| SdkError::new(MISSING_FIELD, "file_name is required"))?;
    if name.len() > MAX_FILE_NAME || name.contains(['/', '\\']) || name.chars().any(char::is_control) {
        return Err(SdkError::new(
            BAD_FIELD,
            format!("file_name must be 1-{MAX_FILE_NAME} bytes without `/`, `\\` or control characters"),
        ));
    }
    Ok(name.to_string())
}

/// VOD `status` of a file in `phase`.
fn vod_status(phase: Phase) -> i64 {
    match phase {
        Phase::Queued => 10,
        Phase::Encoding => 4,
        Phase::Uploading => 5,
        Phase::Done => 2,
        Phase::Failed => 7,
        _ => 0,
    }
}

impl LiveSdk {
    /// The login carried by the URL (`sdkappid`, `identifier`, `usersig`): the tenant and the user.
    fn login(&self, ex: &Exchange) -> Res<(String, String)> {
        let missing = |what: &str| SdkError::new(LOGIN_MISSING, format!("{what} is required in the URL"));
        let raw = ex.query("sdkappid").filter(|s| !s.is_empty()).ok_or_else(|| missing("sdkappid"))?;
        let sdkappid: u64 = raw
            .trim()
            .parse()
            .map_err(|_| SdkError::new(LOGIN_MISSING, format!("sdkappid must be a number, got `{raw}`")))?;
        let tenant = sdkappid.to_string();
        let (key, check) = self
            .apps
            .read(&tenant, |a| (a.config.key.clone(), a.config.usersig_check))
            .ok_or_else(|| SdkError::new(UNKNOWN_APP, format!("sdkappid {sdkappid} is not a known app")))?;
        let identifier =
            ex.query("identifier").filter(|s| !s.is_empty()).ok_or_else(|| missing("identifier"))?;
        let usersig = ex.query("usersig").filter(|s| !s.is_empty()).ok_or_else(|| missing("usersig"))?;
        check.check(&usersig, sdkappid, &key, &identifier, &ex.auth()).map_err(|e| match e {
            SigError::Expired { .. } => SdkError::new(USERSIG_EXPIRED, e.to_string()),
            _ => SdkError::new(USERSIG_REFUSED, e.to_string()),
        })?;
        Ok((tenant, identifier))
    }

    /// `POST /live_sdk/v1/record/start`: requestMultiVideoRecorderStart / StartRecordVideo.
    pub(super) fn start(&self, ex: &Exchange) -> Reply {
        match self.login(ex).and_then(|(t, user)| self.start_recording(&t, &user, ex)) {
            Ok(v) => ok(v),
            Err(e) => e.reply(),
        }
    }

    /// `POST /live_sdk/v1/record/stop`: requestMultiVideoRecorderStop / StopRecordVideo.
    pub(super) fn stop(&self, ex: &Exchange) -> Reply {
        match self.login(ex).and_then(|(t, user)| self.stop_recording(&t, &user, ex)) {
            Ok(v) => ok(v),
            Err(e) => e.reply(),
        }
    }

    fn start_recording(&self, tenant: &str, user: &str, ex: &Exchange) -> Res<Value> {
        let req = parse_body(ex)?;
        let platform = platform_of(&req)?;
        let (relation_id, room_id) = room_of(&req)?;
        let file_name = file_name_of(&req)?;
        let data_type = data_type_of(&req, platform)?.unwrap_or(DATA_CAMERA);
        let params = RecordParams {
            platform,
            file_name,
            class_id: req.class_id.unwrap_or(0),
            tags: req.tags.unwrap_or_default(),
            is_transcode: req.is_transcode.unwrap_or(false),
            is_screenshot: req.is_screenshot.unwrap_or(false),
            is_watermark: req.is_watermark.unwrap_or(false),
            sdk_type: req.sdk_type.unwrap_or(0),
            record_data_type: data_type,
        };
        let now = ex.now_ms;
        let t = self.apps.get(tenant).ok_or_else(|| SdkError::new(UNKNOWN_APP, "the app is gone"))?;
        let mut guard = t.lock();
        let app = &mut *guard;
        if !app.config.vod_enabled {
            return Err(SdkError::new(
                NO_PERMISSION,
                format!("app {tenant} has not enabled the VOD service, where recordings are stored"),
            ));
        }
        if app.config.vod_balance <= 0.0 {
            return Err(SdkError::new(
                NO_BALANCE,
                format!("the VOD balance of app {tenant} is {}", app.config.vod_balance),
            ));
        }
        // Recordings whose client went silent a minute ago are closed first (the pump may lag behind).
        let open: Vec<u64> = app.active.values().copied().collect();
        for seq in open {
            self.settle(tenant, app, seq, now);
        }
        if let Some(rec) = app.active.get(user).and_then(|s| app.recordings.get(s)) {
            let mut detail = format!(
                "user `{user}` is already recording room {} (relation_id {}, room_id {}) since {}; one recording per user at a time",
                rec.room(),
                rec.relation_id,
                rec.room_id,
                rec.started_ms / 1000
            );
            if let Some(g) = rec.gone_since_ms {
                detail.push_str(&format!(
                    "; its client has sent no data since {}, so it closes at {}",
                    g / 1000,
                    (g + NO_DATA_CLOSE_S * 1000) / 1000
                ));
            }
            return Err(SdkError::new(ALREADY_RECORDING, detail));
        }
        if app.active.len() >= app.config.max_recordings as usize {
            return Err(SdkError::new(
                FLOW_CONTROL,
                format!(
                    "app {tenant} already runs {} recordings, its limit (max_recordings)",
                    app.active.len()
                ),
            ));
        }
        app.recordings_created += 1;
        let seq = app.recordings_created;
        let room = format!("{relation_id}:{room_id}");
        let mut piece = Recording::new(format!("{seq}.1"), room, MediaKind::Video, SEGMENT_S, now);
        let _ = piece.start(now);
        let rec = SdkRecording {
            seq,
            identifier: user.to_string(),
            relation_id,
            room_id,
            params,
            started_ms: now,
            piece,
            file_ids: Vec::new(),
            gone_since_ms: None,
            closed_ms: None,
            close_reason: None,
            failure: None,
            failure_reported: false,
        };
        self.schedule_cut(tenant, &rec);
        app.recordings.insert(seq, rec);
        app.active.insert(user.to_string(), seq);
        app.latest.insert(user.to_string(), seq);
        Ok(json!({}))
    }

    fn stop_recording(&self, tenant: &str, user: &str, ex: &Exchange) -> Res<Value> {
        let req = parse_body(ex)?;
        let platform = platform_of(&req)?;
        let (relation_id, room_id) = room_of(&req)?;
        let data_type = data_type_of(&req, platform)?;
        let now = ex.now_ms;
        let t = self.apps.get(tenant).ok_or_else(|| SdkError::new(UNKNOWN_APP, "the app is gone"))?;
        let mut guard = t.lock();
        let app = &mut *guard;
        if let Some(seq) = app.active.get(user).copied() {
            self.settle(tenant, app, seq, now);
        }
        let Some(seq) = app.active.get(user).copied() else {
            return Err(Self::why_not_recording(app, user));
        };
        let rec =
            app.recordings.get(&seq).ok_or_else(|| SdkError::new(NOT_RECORDING, "recording is gone"))?;
        if (rec.relation_id, rec.room_id) != (relation_id, room_id) {
            return Err(SdkError::new(
                OTHER_RECORDING,
                format!(
                    "user `{user}` records relation_id {} room_id {}, not relation_id {relation_id} room_id {room_id}",
                    rec.relation_id, rec.room_id
                ),
            ));
        }
        if let Some(t) = data_type.filter(|t| *t != rec.params.record_data_type) {
            return Err(SdkError::new(
                OTHER_RECORDING,
                format!("user `{user}` records data type {}, not {t}", rec.params.record_data_type),
            ));
        }
        self.close(tenant, app, seq, now, CloseReason::Stopped);
        let file_ids = app.recordings.get(&seq).map(|r| r.file_ids.clone()).unwrap_or_default();
        Ok(json!({ "file_ids": file_ids }))
    }

    /// The answer to a stop by a user with no open recording: what became of the latest one.
    fn why_not_recording(app: &mut LiveApp, user: &str) -> SdkError {
        let Some(rec) = app.latest.get(user).and_then(|s| app.recordings.get_mut(s)) else {
            return SdkError::new(NOT_RECORDING, format!("user `{user}` has no recording in progress"));
        };
        let closed = rec.closed_ms.unwrap_or(0) / 1000;
        match rec.close_reason {
            Some(CloseReason::Failed) if !rec.failure_reported => {
                rec.failure_reported = true;
                SdkError::new(
                    RECORDING_FAILED,
                    format!(
                        "the recording of user `{user}` failed at {closed}: {}; files cut before: {:?}",
                        rec.failure.as_deref().unwrap_or("recording failed"),
                        rec.file_ids
                    ),
                )
            }
            Some(CloseReason::ClientGone) => SdkError::new(
                NOT_RECORDING,
                format!(
                    "user `{user}` has no recording in progress: the last one was closed at {closed}, after its client sent no data for {NO_DATA_CLOSE_S} s; its files: {:?}",
                    rec.file_ids
                ),
            ),
            _ => SdkError::new(NOT_RECORDING, format!("user `{user}` has no recording in progress")),
        }
    }

    // ----- VOD API v2 ------------------------------------------------------------------------------

    /// `GET`/`POST /v2/index.php`.
    pub(super) fn vod(&self, ex: &Exchange) -> Reply {
        match self.vod_request(ex) {
            Ok(v) => Reply::json(&v),
            Err(e) => e.reply(),
        }
    }

    fn vod_request(&self, ex: &Exchange) -> Result<Value, VodError> {
        let method = ex.req.method().as_str().to_ascii_uppercase();
        let mut params = ex.query_pairs();
        if method == "POST" {
            let body = std::str::from_utf8(&ex.body)
                .map_err(|_| VodError::param("the form body is not UTF-8 text"))?;
            params.extend(crate::codec::form_pairs(body.trim()));
        }
        let mut seen = HashSet::new();
        if let Some((k, _)) = params.iter().find(|(k, _)| !seen.insert(k.as_str())) {
            return Err(VodError::param(format!("parameter `{k}` is given twice")));
        }
        let get = |k: &str| params.iter().find(|(pk, _)| pk == k).map(|(_, v)| v.as_str());
        let required = |k: &str| {
            get(k).filter(|v| !v.is_empty()).ok_or_else(|| VodError::param(format!("{k} is required")))
        };
        let action = required("Action")?;
        let secret_id = required("SecretId")?;
        let signature = required("Signature")?;
        let ts_raw = required("Timestamp")?;
        let nonce_raw = required("Nonce")?;
        let timestamp: i64 = ts_raw
            .trim()
            .parse()
            .map_err(|_| VodError::param(format!("Timestamp must be unix seconds, got `{ts_raw}`")))?;
        let nonce: u64 =
            nonce_raw.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                VodError::param(format!("Nonce must be a positive integer, got `{nonce_raw}`"))
            })?;
        let sig_method = SignatureMethod::parse(get("SignatureMethod")).ok_or_else(|| {
            VodError::param(format!(
                "SignatureMethod must be HmacSHA1 or HmacSHA256, got `{}`",
                get("SignatureMethod").unwrap_or_default()
            ))
        })?;
        let tenant = self.tenant_of_secret(secret_id).ok_or_else(|| {
            VodError::new(VOD_AUTH_FAILURE, format!("SecretId `{secret_id}` does not exist"))
        })?;
        let host = ex
            .header("host")
            .map(str::to_string)
            .or_else(|| ex.req.uri().authority().map(|a| a.to_string()))
            .unwrap_or_default();
        let auth = ex.auth();
        let base = ex.base_url();
        let t =
            self.apps.get(&tenant).ok_or_else(|| VodError::new(VOD_AUTH_FAILURE, "the account is gone"))?;
        let mut guard = t.lock();
        let app = &mut *guard;
        let key = app
            .config
            .vod_secret_key
            .clone()
            .filter(|_| app.config.vod_secret_id.as_deref() == Some(secret_id))
            .ok_or_else(|| {
                VodError::new(VOD_AUTH_FAILURE, format!("SecretId `{secret_id}` does not exist"))
            })?;
        auth.judge(&ClientTime::around("Timestamp", timestamp, TIMESTAMP_WINDOW_S)).map_err(|why| {
            VodError::new(
                VOD_EXPIRED,
                format!("{why}; a Timestamp counts within {TIMESTAMP_WINDOW_S} s of the server's time"),
            )
        })?;
        if !vod::verify(&key, sig_method, &method, &host, &params, signature) {
            return Err(VodError::new(
                VOD_AUTH_FAILURE,
                format!(
                    "signature mismatch: expected {} of `{}` with the SecretKey of `{secret_id}` (host is the Host header you sent)",
                    sig_method.as_str(),
                    vod::string_to_sign(&method, &host, &params, true)
                ),
            ));
        }
        forget_stale_nonces(&mut app.nonces, &auth);
        if !app.nonces.insert((timestamp, nonce)) {
            return Err(VodError::new(
                VOD_REPLAY,
                format!("Nonce {nonce} with Timestamp {timestamp} was already used"),
            ));
        }
        match action {
            "DescribeRecordPlayInfo" => {
                let vid = required("vid")?;
                let f = app
                    .files
                    .get(vid)
                    .ok_or_else(|| VodError::new(VOD_NOT_FOUND, format!("no file with vid `{vid}`")))?;
                Ok(self.file_set(1, vec![self.file_entry(&base, f)]))
            }
            "DescribeVodPlayInfo" => {
                let file_name = required("fileName")?;
                let int = |k: &str, default: i64, lo: i64, hi: i64| -> Result<i64, VodError> {
                    match get(k).filter(|v| !v.is_empty()) {
                        None => Ok(default),
                        Some(v) => {
                            v.trim().parse::<i64>().ok().filter(|n| (lo..=hi).contains(n)).ok_or_else(|| {
                                VodError::param(format!("{k} must be an integer in [{lo},{hi}], got `{v}`"))
                            })
                        }
                    }
                };
                let page_no = int("pageNo", 1, 1, i64::MAX)?;
                let page_size = int("pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)?;
                let mut matches: Vec<&VodFile> =
                    app.files.values().filter(|f| f.file_name.starts_with(file_name)).collect();
                matches.sort_by_key(|f| (f.recording_seq, f.index));
                let total = matches.len();
                let skip = usize::try_from((page_no - 1).saturating_mul(page_size)).unwrap_or(usize::MAX);
                let page = matches
                    .into_iter()
                    .skip(skip)
                    .take(page_size as usize)
                    .map(|f| self.file_entry(&base, f))
                    .collect();
                Ok(self.file_set(total, page))
            }
            other => Err(VodError::param(format!(
                "Action `{other}` is not supported (DescribeRecordPlayInfo, DescribeVodPlayInfo)"
            ))),
        }
    }

    fn file_set(&self, total: usize, files: Vec<Value>) -> Value {
        json!({ "code": 0, "message": "", "codeDesc": "Success", "totalCount": total, "fileSet": files })
    }

    /// One `fileSet` entry: play URLs (under `base`, the address the request came in on) once the file is
    /// processed.
    fn file_entry(&self, base: &str, f: &VodFile) -> Value {
        let url_of = |key: &str| {
            self.world.files.get(key).map(|sf| crate::files::file_url_at(base, &sf)).unwrap_or_default()
        };
        let play: Vec<Value> = f
            .outputs
            .iter()
            .map(|o| {
                json!({
                    "url": url_of(&o.file_key), "definition": o.definition, "vbitrate": o.vbitrate,
                    "vheight": o.vheight, "vwidth": o.vwidth,
                })
            })
            .collect();
        json!({
            "fileId": f.file_id,
            "fileName": f.file_name,
            "duration": f.duration_s(),
            "status": vod_status(f.recording.phase),
            "image_url": f.image_key.as_deref().map(url_of).unwrap_or_default(),
            "playSet": play,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::AuthClock;

    #[test]
    fn a_nonce_is_kept_while_its_timestamp_counts_on_either_clock() {
        let (v, w) = (1_000_000, 2_000_000);
        let mut nonces: BTreeSet<(i64, u64)> =
            [v - 301, v - 300, v, v + 300, v + 301, w - 301, w - 300, w + 300, w + 301]
                .into_iter()
                .map(|t| (t, 1))
                .collect();
        let mut either = nonces.clone();
        forget_stale_nonces(&mut either, &AuthNow::new(AuthClock::Either, v * 1000, w * 1000));
        let kept: Vec<i64> = either.iter().map(|(t, _)| *t).collect();
        assert_eq!(kept, [v - 300, v, v + 300, w - 300, w + 300]);
        forget_stale_nonces(&mut nonces, &AuthNow::new(AuthClock::Virtual, v * 1000, w * 1000));
        let kept: Vec<i64> = nonces.iter().map(|(t, _)| *t).collect();
        assert_eq!(kept, [v - 300, v, v + 300]);
    }
}
