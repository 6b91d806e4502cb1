//! `POST /meeting/*`: authentication by the `auth` header, then the conference's state machine.
//!
//! Order of the checks (docs/decisions.md, 003): `auth` (403) → body (400) → the conference exists (200008)
//! and is the tenant's (200001) → what the conference allows (200004 / 200005) → it is on (200006) →
//! its recording or live state (200003 / 200002 / 200007).

use super::api::*;
use super::errors::*;
use super::models::*;
use super::Meeting;
use super::KIND;
use crate::codec::html_escape;
use crate::files::file_url_at;
use crate::http::{Exchange, Reply};
use crate::recording::{MediaKind, Recording};
use crate::vendors::kit::{self, BodyProblem};
use serde::de::DeserializeOwned;

type Res<T> = Result<T, MeetingError>;

/// Longest `conferenceKey` (the document's 长度 column).
const MAX_KEY_LEN: usize = 50;
/// Longest `recordId` accepted (the document says 15 in one table and 50 in another; ids are 32–36 long).
const MAX_RECORD_ID_LEN: usize = 50;
/// Longest `origin` (the document's 长度 column).
const MAX_ORIGIN_LEN: usize = 128;

/// The body as JSON: missing (400 with the real server's words), not JSON or not an object, wrong types.
fn parse_body<T: DeserializeOwned>(ex: &Exchange) -> Res<T> {
    kit::json_body(ex).map_err(|p| match p {
        BodyProblem::Empty => MeetingError::with_message(BAD_PARAMS, BODY_MISSING_MSG),
        BodyProblem::NotJson(e) => MeetingError::params(format!("the body is not JSON: {e}")),
        p => MeetingError::params(p),
    })
}

/// `conferenceKey` (or its alias `sipkey`): present, not blank, at most 50 characters.
fn conference_key(req: &ConferenceRequest) -> Res<String> {
    let key = match (&req.conference_key, &req.sipkey) {
        (Some(a), Some(b)) if a != b => {
            return Err(MeetingError::params(format!(
                "conferenceKey `{a}` and sipkey `{b}` name different conferences"
            )))
        }
        (Some(k), _) | (None, Some(k)) => k.clone(),
        (None, None) => return Err(MeetingError::params("conferenceKey is required")),
    };
    check_key(&key)?;
    Ok(key)
}

fn check_key(key: &str) -> Res<()> {
    if key.trim().is_empty() {
        return Err(MeetingError::params("conferenceKey must not be empty"));
    }
    if key.chars().count() > MAX_KEY_LEN {
        return Err(MeetingError::params(format!("conferenceKey is longer than {MAX_KEY_LEN} characters")));
    }
    Ok(())
}

fn record_id(req: &RecordRequest) -> Res<Option<String>> {
    match &req.record_id {
        None => Ok(None),
        Some(id) if id.trim().is_empty() => Err(MeetingError::params("recordId must not be empty")),
        Some(id) if id.chars().count() > MAX_RECORD_ID_LEN => {
            Err(MeetingError::params(format!("recordId is longer than {MAX_RECORD_ID_LEN} characters")))
        }
        Some(id) => Ok(Some(id.clone())),
    }
}

/// The base of `downUrl` given by `origin` (an http(s) URL); without it, the address the request came in on.
fn download_base(req: &RecordRequest) -> Res<Option<String>> {
    let Some(o) = &req.origin else { return Ok(None) };
    if o.chars().count() > MAX_ORIGIN_LEN {
        return Err(MeetingError::params(format!("origin is longer than {MAX_ORIGIN_LEN} characters")));
    }
    let rest = o.strip_prefix("https://").or_else(|| o.strip_prefix("http://"));
    // A host that starts with a letter or digit, then only characters a URL carries unencoded: the
    // `downUrl` built on it must stay a valid URL.
    let url_safe = |c: char| c.is_ascii_alphanumeric() || "-._~:/@[]!$&'()*+,;=".contains(c);
    match rest {
        Some(r) if r.starts_with(|c: char| c.is_ascii_alphanumeric()) && r.chars().all(url_safe) => {
            Ok(Some(o.trim_end_matches('/').to_string()))
        }
        _ => Err(MeetingError::params(format!(
            "origin must be the API server's base URL (`https://apiServer`), got `{o}`"
        ))),
    }
}

/// `YYYY-MM-DD HH:MM:SS` of virtual milliseconds in the tenant's zone.
pub(super) fn calendar_time(ms: i64, tz: TimeZone) -> String {
    let (y, mo, d, h, mi, s) = crate::clock::calendar::parts(ms.div_euclid(1000), tz.offset_s());
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

impl Meeting {
    /// The `auth` header → the tenant's id (its `ent_id`).
    fn authenticate(&self, ex: &Exchange) -> Res<String> {
        let raw = ex.req.headers().get("auth");
        let auth = match raw.map(|v| v.to_str()) {
            Some(Err(_)) => return Err(MeetingError::auth("the auth header is not visible ASCII text")),
            Some(Ok(a)) => a,
            None => "",
        };
        if auth.trim().is_empty() {
            return Err(MeetingError::with_message(AUTH_FAILED, AUTH_MISSING_MSG));
        }
        let index = self.index.read();
        if let Some(ent) = index.auths.get(auth) {
            return Ok(ent.clone());
        }
        // `<API ID>:<API KEY>` whose API ID is a tenant's but whose key is not: someone else's API ID
        // ("冒用他人的auth").
        if let Some((id, _)) = auth.split_once(':') {
            if index.api_ids.contains_key(id) {
                return Err(MeetingError::auth(format!(
                    "API ID `{id}` is not used with its own API KEY (冒用他人的auth)"
                )));
            }
        }
        Err(MeetingError::auth("no tenant has this auth"))
    }

    /// Run `f` on the tenant `ent` and its conference `key`, under the tenant's lock: 200008 when no tenant
    /// has the conference, 200001 when another tenant has it.
    fn with_conference<R>(
        &self,
        ent: &str,
        key: &str,
        f: impl FnOnce(&mut Tenant, &str) -> Res<R>,
    ) -> Res<R> {
        match self.index.read().conferences.get(key) {
            None => return Err(MeetingError::new(NO_CONFERENCE)),
            Some(owner) if owner != ent => return Err(MeetingError::new(NOT_YOUR_CONFERENCE)),
            Some(_) => {}
        }
        let t = self.tenants.get(ent).ok_or_else(|| MeetingError::auth("the tenant is gone"))?;
        let mut guard = t.lock();
        if !guard.conferences.contains_key(key) {
            return Err(MeetingError::new(NO_CONFERENCE));
        }
        f(&mut guard, key)
    }

    /// Authenticate, read the conference key, run `f` on the conference; answer in `form`.
    fn conference_call<R: serde::Serialize>(
        &self,
        ex: &Exchange,
        form: CodeForm,
        f: impl FnOnce(&mut Tenant, &str) -> Res<Option<R>>,
    ) -> Reply {
        let result = self.authenticate(ex).and_then(|ent| {
            let req: ConferenceRequest = parse_body(ex)?;
            let key = conference_key(&req)?;
            self.with_conference(&ent, &key, f)
        });
        match result {
            Ok(data) => success(form, data.as_ref()),
            Err(e) => e.reply(form),
        }
    }

    /// `POST /meeting/openRecord`.
    pub(super) fn open_record(&self, ex: &Exchange) -> Reply {
        let now = ex.now_ms;
        self.conference_call(ex, CodeForm::Text, |t, key| {
            let segment_s = t.config.segment_s;
            let conf = conference(t, key)?;
            if !conf.allow_record {
                return Err(MeetingError::new(RECORD_NOT_ALLOWED));
            }
            if conf.started_ms.is_none() {
                return Err(MeetingError::new(NOT_STARTED));
            }
            if conf.recording.is_some() {
                return Err(MeetingError::new(RECORDING_ON));
            }
            let record_id = self.world.ids.uuid().to_string();
            let mut recording =
                Recording::new(record_id.clone(), key.to_string(), MediaKind::Video, segment_s, now);
            recording.start(now).map_err(|e| MeetingError::with_message(INTERNAL, e.to_string()))?;
            conf.recording = Some(record_id.clone());
            conf.failed_reason = None;
            t.records.insert(
                record_id.clone(),
                MeetingRecord {
                    record_id: record_id.clone(),
                    conference_key: key.to_string(),
                    recording,
                    files: Vec::new(),
                    closed_by: None,
                },
            );
            Ok(Some(RecordIdData { record_id }))
        })
    }

    /// `POST /meeting/closeRecord`.
    pub(super) fn close_record(&self, ex: &Exchange) -> Reply {
        let now = ex.now_ms;
        self.conference_call(ex, CodeForm::Text, |t, key| {
            let conf = conference(t, key)?;
            if conf.started_ms.is_none() {
                return Err(MeetingError::new(NOT_STARTED));
            }
            let record_id = conf.recording.take().ok_or_else(|| MeetingError::new(RECORDING_OFF))?;
            let ent = t.config.ent_id.to_string();
            self.stop_recording(&ent, t, &record_id, now, "closeRecord");
            Ok(Some(RecordIdData { record_id }))
        })
    }

    /// `POST /meeting/openLive`.
    pub(super) fn open_live(&self, ex: &Exchange) -> Reply {
        let now = ex.now_ms;
        self.conference_call(ex, CodeForm::Text, |t, key| {
            let cloud = t.config.cloud;
            let conf = conference(t, key)?;
            // 暂时只支持公有云: a dedicated-cloud conference may never go live.
            if cloud == Cloud::Dedicated || !conf.allow_live {
                return Err(MeetingError::new(LIVE_NOT_ALLOWED));
            }
            if conf.started_ms.is_none() {
                return Err(MeetingError::new(NOT_STARTED));
            }
            if conf.live.is_some() {
                return Err(MeetingError::new(LIVE_ON));
            }
            let live = Live { live_id: self.world.ids.hex(16), started_ms: now };
            let liveurl = self.live_url(&ex.base_url(), &live);
            conf.live = Some(live);
            Ok(Some(LiveData { liveurl }))
        })
    }

    /// `POST /meeting/closeLive`: success without `data`, also when the conference was not live.
    pub(super) fn close_live(&self, ex: &Exchange) -> Reply {
        self.conference_call::<()>(ex, CodeForm::Text, |t, key| {
            let cloud = t.config.cloud;
            let conf = conference(t, key)?;
            if cloud == Cloud::Dedicated || !conf.allow_live {
                return Err(MeetingError::new(LIVE_NOT_ALLOWED));
            }
            if conf.started_ms.is_none() {
                return Err(MeetingError::new(NOT_STARTED));
            }
            conf.live = None;
            Ok(None)
        })
    }

    /// `POST /meeting/getLiveRecStatus` (vendor facts): this one answers `code` as a number.
    pub(super) fn live_rec_status(&self, ex: &Exchange) -> Reply {
        self.conference_call(ex, CodeForm::Number, |t, key| {
            let conf = conference(t, key)?;
            if conf.started_ms.is_none() {
                // What the real server says here (a real client compares this message).
                return Err(MeetingError::with_message(NOT_STARTED, "当前会议室没有开启会议"));
            }
            Ok(Some(LiveRecStatus {
                conference_key: conf.conference_key.clone(),
                live: conf.live.is_some(),
                rtmp_url: conf.live.as_ref().map(|l| self.rtmp_url(&ex.base_url(), l)).unwrap_or_default(),
                record: conf.recording.is_some(),
                record_id: conf.recording.clone().unwrap_or_default(),
                failed_reason: conf.failed_reason.clone(),
            }))
        })
    }

    /// `POST /meeting/getRecords`: the files of a recording (by its id), one file (by its row id), or — an
    /// extension — every file of a conference (by `conferenceKey`).
    pub(super) fn get_records(&self, ex: &Exchange) -> Reply {
        let result = self.authenticate(ex).and_then(|ent| {
            let req: RecordRequest = parse_body(ex)?;
            let base = download_base(&req)?.unwrap_or_else(|| ex.base_url());
            let id = record_id(&req)?;
            if let Some(k) = &req.conference_key {
                check_key(k)?;
            }
            match (id, &req.conference_key) {
                (Some(id), key) => self.records_by_id(&ent, &id, key.as_deref(), &base),
                (None, Some(key)) => self.with_conference(&ent, key, |t, key| {
                    let mut files: Vec<(&MeetingRecord, &RecordFile)> = t
                        .records
                        .values()
                        .filter(|r| r.conference_key == key)
                        .flat_map(|r| r.files.iter().map(move |f| (r, f)))
                        .collect();
                    // by start, then recording id (the order of the recordings kept by id it always was)
                    files.sort_by(|(ra, fa), (rb, fb)| {
                        (fa.start_ms, &ra.record_id).cmp(&(fb.start_ms, &rb.record_id))
                    });
                    Ok(files.into_iter().map(|(r, f)| self.row(t, r, f, &base)).collect())
                }),
                (None, None) => Err(MeetingError::params("recordId is required")),
            }
        });
        match result {
            Ok(rows) => success(CodeForm::Text, Some(&rows)),
            Err(e) => e.reply(CodeForm::Text),
        }
    }

    fn records_by_id(&self, ent: &str, id: &str, key: Option<&str>, base: &str) -> Res<Vec<RecordRow>> {
        let t = self.tenants.get(ent).ok_or_else(|| MeetingError::auth("the tenant is gone"))?;
        let t = t.read();
        let (rec, only) = match t.records.get(id) {
            Some(r) => (r, None),
            None => match t.record_of_file(id) {
                Some(r) => (r, Some(id)),
                None => {
                    return Err(MeetingError::params(format!("no recording or file has recordId `{id}`")))
                }
            },
        };
        if let Some(k) = key.filter(|k| *k != rec.conference_key) {
            return Err(MeetingError::params(format!(
                "recordId `{id}` is a recording of conference {}, not {k}",
                rec.conference_key
            )));
        }
        Ok(rec
            .files
            .iter()
            .filter(|f| only.is_none_or(|o| f.file_id == o))
            .map(|f| self.row(&t, rec, f, base))
            .collect())
    }

    /// One `getRecords` row; `downUrl` under `base` (the request's `origin`, else the address it came in on).
    fn row(&self, t: &Tenant, rec: &MeetingRecord, f: &RecordFile, base: &str) -> RecordRow {
        let tz = t.config.timezone;
        let down_url = self.world.files.get(&f.file_key).map(|sf| file_url_at(base, &sf)).unwrap_or_default();
        RecordRow {
            record_id: f.file_id.clone(),
            conference_key: rec.conference_key.clone(),
            ent_id: t.config.ent_id,
            cid: rec.record_id.clone(),
            start_time: calendar_time(f.start_ms, tz),
            file_size: f.size,
            stop_time: calendar_time(f.stop_ms, tz),
            down_url,
        }
    }

    /// `POST /meeting/delRecordFile`: a recording's id deletes the recording and all its files; a row's id
    /// deletes that file. Their downloads answer 404 from then on.
    pub(super) fn del_record_file(&self, ex: &Exchange) -> Reply {
        let result = self.authenticate(ex).and_then(|ent| {
            let req: RecordRequest = parse_body(ex)?;
            let id = record_id(&req)?.ok_or_else(|| MeetingError::params("recordId is required"))?;
            let t = self.tenants.get(&ent).ok_or_else(|| MeetingError::auth("the tenant is gone"))?;
            let mut t = t.lock();
            if let Some(rec) = t.records.get(&id) {
                if rec.recording.is_active() {
                    return Err(MeetingError::new(RECORDING_ON));
                }
                if !rec.recording.is_final() {
                    return Err(MeetingError::params(format!(
                        "recording `{id}` is still being processed; its files are not ready yet"
                    )));
                }
                if let Some(rec) = t.records.remove(&id) {
                    for f in rec.files {
                        self.world.files.remove(&f.file_key);
                    }
                }
                return Ok(RecordIdData { record_id: id });
            }
            for rec in t.records.values_mut() {
                if let Some(i) = rec.files.iter().position(|f| f.file_id == id) {
                    let f = rec.files.remove(i);
                    self.world.files.remove(&f.file_key);
                    return Ok(RecordIdData { record_id: id });
                }
            }
            Err(MeetingError::params(format!("no recording or file has recordId `{id}`")))
        });
        match result {
            Ok(d) => success(CodeForm::Text, Some(&d)),
            Err(e) => e.reply(CodeForm::Text),
        }
    }

    /// `GET /meeting/live/{liveId}`: the watch page of a live, while it is on.
    pub(super) fn live_page(&self, ex: &Exchange) -> Reply {
        let live_id = ex.req.match_info().get("liveId").unwrap_or_default().to_string();
        for (_, t) in self.tenants.all() {
            let t = t.read();
            if let Some(c) =
                t.conferences.values().find(|c| c.live.as_ref().is_some_and(|l| l.live_id == live_id))
            {
                let page = format!(
                    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>recmock live {key}</title></head>\
                     <body><h1>Conference {key} is live</h1><p>stream: {rtmp}</p></body></html>\n",
                    key = html_escape(&c.conference_key),
                    rtmp = html_escape(&c.live.as_ref().map(|l| self.rtmp_url(&ex.base_url(), l)).unwrap_or_default()),
                );
                return Reply { status: 200, content_type: "text/html; charset=utf-8", body: page.into() };
            }
        }
        Reply::json_status(
            404,
            &serde_json::json!({ "error": format!("no live `{live_id}`: it was never opened, or it has ended") }),
        )
    }

    /// Stop the recording `record_id` (already detached from its conference) and queue it for processing.
    pub(super) fn stop_recording(&self, ent: &str, t: &mut Tenant, record_id: &str, at: i64, by: &str) {
        let timings = self.world.timings();
        if let Some(rec) = t.records.get_mut(record_id) {
            if rec.recording.stop(at, &timings).is_ok() {
                rec.closed_by = Some(by.to_string());
                self.world.schedule_recording_step(KIND, ent, &rec.recording);
            }
        }
    }
}

/// The conference `key` of `t` (present: [`Meeting::with_conference`] checked it under the same lock).
fn conference<'a>(t: &'a mut Tenant, key: &str) -> Res<&'a mut Conference> {
    t.conferences.get_mut(key).ok_or_else(|| MeetingError::new(NO_CONFERENCE))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document's example row: 01:43:09 UTC is the `094309` of its Beijing-time file name.
    #[test]
    fn calendar_times_in_the_tenant_zone() {
        let ms = 1_559_266_989_000; // 2019-05-31 01:43:09 UTC
        assert_eq!(calendar_time(ms, TimeZone::Utc), "2019-05-31 01:43:09");
        assert_eq!(calendar_time(ms, TimeZone::Beijing), "2019-05-31 09:43:09");
    }
}
