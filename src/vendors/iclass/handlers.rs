//! The TIC PaaS endpoints (seed 004): authentication of every call, classes, users, documents.

use super::api::*;
use super::errors::*;
use super::models::*;
use super::Iclass;
use crate::clock::{AuthNow, ClientTime};
use crate::http::{Exchange, Reply};
use crate::vendors::kit::{self, BodyProblem};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::BTreeSet;

type Res<T> = Result<T, IclassError>;

/// Largest page size of the lists (`size` 最大100).
pub const MAX_PAGE_SIZE: i64 = 100;
/// `start_time` and `stop_time`, when given, are unix seconds between 0 and the year 9999.
fn check_times(start: Option<i64>, stop: Option<i64>) -> Res<()> {
    for (name, v) in [("start_time", start), ("stop_time", stop)] {
        if let Some(t) = v.filter(|t| !(0..=crate::clock::MAX_TIME_S).contains(t)) {
            return Err(IclassError::invalid(format!(
                "{name} must be unix seconds between 0 and {} (year 9999), got {t}",
                crate::clock::MAX_TIME_S
            )));
        }
    }
    Ok(())
}

/// Default planned length of a class: start_time + 2 hours.
pub const DEFAULT_CLASS_LENGTH_S: i64 = 2 * 3600;
/// Extensions the H5 (animated PPT) transcoder takes.
pub const TRANSCODE_EXTS: [&str; 2] = ["ppt", "pptx"];

/// `{error_code: 0, error_msg: "", ...fields}`.
fn ok(fields: Value) -> Reply {
    kit::success(&[("error_code", json!(OK)), ("error_msg", json!(""))], fields)
}

fn respond(r: Res<Value>) -> Reply {
    match r {
        Ok(v) => ok(v),
        Err(e) => e.reply(),
    }
}

/// The body as a JSON object, or 10002.
fn parse_object(ex: &Exchange) -> Res<Value> {
    kit::json_body::<Value>(ex).map_err(|p| match p {
        BodyProblem::Empty => {
            IclassError::new(DESERIALIZE, "the body is empty; a JSON object with expire_time is expected")
        }
        p => IclassError::new(DESERIALIZE, p.to_string()),
    })
}

/// The body as the endpoint's request type; a field of the wrong type is 10000, naming it.
fn typed<T: DeserializeOwned>(body: &Value) -> Res<T> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        IclassError::new(PARSE, format!("field `{path}`: {}", e.into_inner()))
    })
}

/// A request body read straight into its type, or already read as a JSON value.
enum Body<T> {
    Typed(T),
    Value(Value),
}

/// Only the `expire_time` of a body (every other field skipped without being built).
#[derive(serde::Deserialize)]
struct ExpireTime {
    expire_time: i64,
}

/// The usual body: a JSON object of the right types, read straight into `T` without building a JSON value.
/// `None` for anything else (the caller then takes the path that words each refusal).
fn typed_only<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    T::deserialize(&mut de).ok().filter(|_| de.end().is_ok())
}

/// [`typed_only`] of a body that also carries an integer `expire_time`.
fn typed_fast<T: DeserializeOwned>(body: &[u8]) -> Option<(i64, T)> {
    let expire = typed_only::<ExpireTime>(body)?.expire_time;
    Some((expire, typed_only(body)?))
}

/// Longest `random` on the URL, in characters (clients send integers or hex strings such as PHP's
/// `uniqid()`, 13 characters).
pub const MAX_RANDOM_CHARS: usize = 32;

/// `sign` (any case, surrounding spaces ignored) is md5(tic_key + expire_time), compared in constant time.
/// Hand-written on purpose: the digest is computed without building the text or its hex as strings, and
/// the sign's hex read into 16 bytes on the stack (part of the second round of docs/performance.md, where
/// each change was measured with the table).
fn sign_matches(sign: &str, key: &str, expire: i64) -> bool {
    use md5::{Digest, Md5};
    use subtle::ConstantTimeEq;
    let mut h = Md5::new();
    h.update(key.as_bytes());
    let mut digits = [0u8; 20];
    h.update(decimal(expire, &mut digits));
    let digest = h.finalize();
    let sign = sign.trim().as_bytes();
    let mut given = [0u8; 16];
    let nibble = |c: u8| char::from(c).to_digit(16);
    let read = sign.len() == 32
        && given.iter_mut().zip(sign.chunks_exact(2)).all(|(b, pair)| {
            match (nibble(pair[0]), nibble(pair[1])) {
                (Some(hi), Some(lo)) => {
                    *b = (hi * 16 + lo) as u8;
                    true
                }
                _ => false,
            }
        });
    read && bool::from(digest.as_slice().ct_eq(&given))
}

/// `n` in decimal, written into `buf`.
fn decimal(n: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

fn required(v: Option<String>, name: &str) -> Res<String> {
    match v {
        Some(s) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(IclassError::invalid(format!("{name} must not be empty"))),
        None => Err(IclassError::invalid(format!("{name} is required"))),
    }
}

fn class_id_of(v: Option<i64>) -> Res<u64> {
    match v {
        None => Err(IclassError::invalid("class_id is required")),
        Some(n) if n <= 0 => {
            Err(IclassError::invalid(format!("class_id must be a positive integer, got {n}")))
        }
        Some(n) => Ok(n as u64),
    }
}

/// One of a vocabulary's words, or 10003 listing them.
fn word<T>(v: &str, name: &str, parse: impl Fn(&str) -> Option<T>, words: impl Fn() -> String) -> Res<T> {
    parse(v).ok_or_else(|| IclassError::invalid(format!("{name} must be one of {}, got `{v}`", words())))
}

/// A filter list of vocabulary words (absent or empty: no filter).
fn word_filter<T: Ord>(
    v: Option<Vec<String>>,
    name: &str,
    parse: impl Fn(&str) -> Option<T> + Copy,
    words: impl Fn() -> String + Copy,
) -> Res<BTreeSet<T>> {
    let mut out = BTreeSet::new();
    for (i, s) in v.unwrap_or_default().iter().enumerate() {
        out.insert(word(s, &format!("{name}[{i}]"), parse, words)?);
    }
    Ok(out)
}

fn is_http_url(s: &str) -> bool {
    (s.starts_with("http://") && s.len() > 7) || (s.starts_with("https://") && s.len() > 8)
}

/// (index, size) of a list request: index from 0, size 1..=100 (default 100).
fn paging(index: Option<i64>, size: Option<i64>) -> Res<(u64, u64)> {
    let index = index.unwrap_or(0);
    if index < 0 {
        return Err(IclassError::invalid(format!("index must be >= 0, got {index}")));
    }
    let size = size.unwrap_or(MAX_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(IclassError::invalid(format!("size must be between 1 and {MAX_PAGE_SIZE}, got {size}")));
    }
    Ok((index as u64, size as u64))
}

/// `{finish, total, list}` of page `index` of `items`.
fn page<T>(items: Vec<T>, index: u64, size: u64, row: impl Fn(T) -> Value) -> Value {
    let total = items.len() as u64;
    let start = index.saturating_mul(size);
    let rows: Vec<Value> =
        items.into_iter().skip(start.min(total) as usize).take(size as usize).map(row).collect();
    let finish = start.saturating_add(rows.len() as u64) >= total;
    json!({ "finish": finish, "total": total, "list": rows })
}

/// `{finish, total, list}` of a page that starts at position `start` of `total` matching items.
#[cfg(test)]
fn page_of_total<T>(total: u64, start: u64, items: Vec<T>, row: impl Fn(T) -> Value) -> Value {
    let rows: Vec<Value> = items.into_iter().map(row).collect();
    let finish = start.saturating_add(rows.len() as u64) >= total;
    json!({ "finish": finish, "total": total, "list": rows })
}

/// Validated `record_types` from the table's top-level field and/or the example's `settings.record_types`.
fn record_types(top: Option<Vec<String>>, settings: Option<SettingsRequest>) -> Res<Option<Vec<RecordType>>> {
    fn parse(list: Vec<String>, name: &str) -> Res<Vec<RecordType>> {
        let mut out = Vec::new();
        for (i, s) in list.iter().enumerate() {
            let t = word(s, &format!("{name}[{i}]"), RecordType::parse, RecordType::words)?;
            if !out.contains(&t) {
                out.push(t);
            }
        }
        Ok(out)
    }
    let a = top.map(|l| parse(l, "record_types")).transpose()?;
    let b = settings.and_then(|s| s.record_types).map(|l| parse(l, "settings.record_types")).transpose()?;
    match (a, b) {
        (Some(a), Some(b)) => {
            let (sa, sb): (BTreeSet<_>, BTreeSet<_>) = (a.iter().collect(), b.iter().collect());
            if sa != sb {
                return Err(IclassError::invalid(
                    "record_types and settings.record_types are both given and differ; give one of them",
                ));
            }
            Ok(Some(a))
        }
        (a, b) => Ok(a.or(b)),
    }
}

/// Validated `members`: the students (the teacher is added by the caller). An entry for the teacher with
/// role `teacher` (as class/info lists it) is accepted and skipped.
fn members(list: Vec<MemberRequest>, teacher_id: &str) -> Res<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for (i, m) in list.into_iter().enumerate() {
        let user_id = required(m.user_id, &format!("members[{i}].user_id"))?;
        let role = required(m.role, &format!("members[{i}].role"))?;
        let role = word(&role, &format!("members[{i}].role"), Role::parse, Role::words)?;
        if user_id == teacher_id {
            if role == Role::Teacher {
                continue;
            }
            return Err(IclassError::invalid(format!(
                "members[{i}]: `{user_id}` is the teacher (a member with role teacher already), not a {}",
                role.as_str()
            )));
        }
        if role != Role::Student {
            return Err(IclassError::invalid(format!(
                "members[{i}].role must be `student` (the document: 本接口中全部填student), got `{}`",
                role.as_str()
            )));
        }
        if out.contains(&user_id) {
            return Err(IclassError::invalid(format!("members[{i}].user_id `{user_id}` is listed twice")));
        }
        out.push(user_id);
    }
    Ok(out)
}

fn member_list(teacher_id: &str, students: &[String]) -> Vec<Member> {
    std::iter::once(Member { role: Role::Teacher, user_id: teacher_id.to_string() })
        .chain(students.iter().map(|s| Member { role: Role::Student, user_id: s.clone() }))
        .collect()
}

fn check_record_user_shape(id: &Option<String>, sig: &Option<String>) -> Res<()> {
    if let Some(id) = id {
        if !id.starts_with(RECORD_USER_PREFIX) {
            return Err(IclassError::invalid(format!(
                "record_user_id must start with `{RECORD_USER_PREFIX}` (recommended: {RECORD_USER_PREFIX}<class_id>_<n>), got `{id}`"
            )));
        }
        if id.len() == RECORD_USER_PREFIX.len() {
            return Err(IclassError::invalid(format!(
                "record_user_id must continue after `{RECORD_USER_PREFIX}` (e.g. {RECORD_USER_PREFIX}<class_id>_1)"
            )));
        }
    }
    if sig.as_deref().is_some_and(|s| s.trim().is_empty()) {
        return Err(IclassError::invalid("record_user_sig must not be empty"));
    }
    Ok(())
}

/// Rules a class must satisfy against the app's state (create, modify, fixtures).
/// `check_sig`: verify `record_user_sig` now (it was given in this request).
pub(super) fn validate_class(acc: &Account, c: &Class, check_sig: bool, now: &AuthNow) -> Res<()> {
    if c.stop_time < c.start_time {
        return Err(IclassError::invalid(format!(
            "stop_time {} is before start_time {}",
            c.stop_time, c.start_time
        )));
    }
    if !acc.users.contains_key(&c.teacher_id) {
        return Err(IclassError::new(
            NO_SUCH_USER,
            format!("teacher_id `{}` is not a registered user (user/register first)", c.teacher_id),
        ));
    }
    if let Some(m) = c.members.iter().find(|m| !acc.users.contains_key(&m.user_id)) {
        return Err(IclassError::new(
            NO_SUCH_USER,
            format!("member `{}` is not a registered user (user/register first)", m.user_id),
        ));
    }
    let students = c.members.iter().filter(|m| m.role == Role::Student).count();
    if c.class_type == ClassType::OneToOne && students > 1 {
        return Err(IclassError::invalid(format!("a 1v1 class has one student; members lists {students}")));
    }
    if c.settings.remote() {
        if c.record_user_id.is_none() {
            return Err(IclassError::invalid(
                "record_user_id is required when record_types contains `remote` (cloud recording)",
            ));
        }
        if c.record_user_sig.is_none() {
            return Err(IclassError::invalid(
                "record_user_sig is required when record_types contains `remote` (cloud recording)",
            ));
        }
    }
    if let Some(rid) = &c.record_user_id {
        if rid == &c.teacher_id || c.has_member(rid) {
            return Err(IclassError::new(
                DUPLICATE_USER,
                format!(
                    "record_user_id `{rid}` is a member of the class; the recorder needs its own user id"
                ),
            ));
        }
        if let Some(other) = acc.record_user_in_use(rid, Some(c.class_id)) {
            return Err(IclassError::new(
                DUPLICATE_USER,
                format!(
                    "record_user_id `{rid}` is already the recorder of class {other}; it must not repeat"
                ),
            ));
        }
        if check_sig {
            if let (Some(key), Some(sig)) = (&acc.config.sdk_key, &c.record_user_sig) {
                crate::tlssig::verify(sig, acc.config.sdkappid, key, rid, now)
                    .map_err(|e| IclassError::invalid(format!("record_user_sig: {e}")))?;
            }
        }
    }
    Ok(())
}

/// The `class/info` answer, typed so it is serialised straight from the class (fields in the order a
/// JSON object map writes them: the bytes are what they always were).
#[derive(serde::Serialize)]
struct ClassInfoAnswer<'a> {
    chat_group_id: String,
    class_id: u64,
    class_status: ClassStatus,
    class_topic: &'a str,
    class_type: ClassType,
    cmd_group_id: String,
    create_time: i64,
    error_code: i64,
    error_msg: &'static str,
    member_count: usize,
    members: Vec<MemberRow<'a>>,
    real_start_time: i64,
    real_stop_time: i64,
    settings: SettingsRow<'a>,
    start_time: i64,
    stop_time: i64,
    teacher_id: &'a str,
}

/// One row of `class/list` (fields in JSON object map order).
#[derive(serde::Serialize)]
struct ClassRow<'a> {
    class_id: u64,
    class_status: ClassStatus,
    class_topic: &'a str,
    class_type: ClassType,
    create_time: i64,
    start_time: i64,
    stop_time: i64,
    teacher_id: &'a str,
}

impl<'a> ClassRow<'a> {
    fn of(c: &'a Class) -> Self {
        ClassRow {
            class_id: c.class_id,
            class_status: c.class_status,
            class_topic: &c.class_topic,
            class_type: c.class_type,
            create_time: c.create_time,
            start_time: c.start_time,
            stop_time: c.stop_time,
            teacher_id: &c.teacher_id,
        }
    }
}

/// The `class/list` answer (fields in JSON object map order).
#[derive(serde::Serialize)]
struct ClassPage<'a> {
    error_code: i64,
    error_msg: &'static str,
    finish: bool,
    list: Vec<ClassRow<'a>>,
    total: usize,
}

/// The `class/create` answer (fields in JSON object map order).
#[derive(serde::Serialize)]
struct ClassCreated {
    class_id: u64,
    error_code: i64,
    error_msg: &'static str,
    student_url: String,
    teacher_url: String,
}

#[derive(serde::Serialize)]
struct MemberRow<'a> {
    role: Role,
    user_id: &'a str,
}

#[derive(serde::Serialize)]
struct SettingsRow<'a> {
    fps: u32,
    layout: u32,
    record_types: &'a [RecordType],
    resolution: &'a str,
}

fn class_info_answer(c: &Class) -> Reply {
    Reply::json(&ClassInfoAnswer {
        chat_group_id: c.chat_group_id(),
        class_id: c.class_id,
        class_status: c.class_status,
        class_topic: &c.class_topic,
        class_type: c.class_type,
        cmd_group_id: c.cmd_group_id(),
        create_time: c.create_time,
        error_code: OK,
        error_msg: "",
        member_count: c.members.len(),
        members: c.members.iter().map(|m| MemberRow { role: m.role, user_id: &m.user_id }).collect(),
        real_start_time: c.real_start_time,
        real_stop_time: c.real_stop_time,
        settings: SettingsRow {
            fps: c.settings.fps,
            layout: c.settings.layout,
            record_types: &c.settings.record_types,
            resolution: &c.settings.resolution,
        },
        start_time: c.start_time,
        stop_time: c.stop_time,
        teacher_id: &c.teacher_id,
    })
}

#[cfg(test)]
fn class_info(c: &Class) -> Value {
    json!({
        "class_id": c.class_id,
        "class_topic": c.class_topic,
        "class_type": c.class_type,
        "class_status": c.class_status,
        "teacher_id": c.teacher_id,
        "create_time": c.create_time,
        "start_time": c.start_time,
        "stop_time": c.stop_time,
        "real_start_time": c.real_start_time,
        "real_stop_time": c.real_stop_time,
        "member_count": c.members.len(),
        "chat_group_id": c.chat_group_id(),
        "cmd_group_id": c.cmd_group_id(),
        "settings": {
            "resolution": c.settings.resolution,
            "fps": c.settings.fps,
            "layout": c.settings.layout,
            "record_types": c.settings.record_types,
        },
        "members": c.members.iter().map(|m| json!({"role": m.role, "user_id": m.user_id})).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
fn class_row(c: &Class) -> Value {
    json!({
        "class_id": c.class_id,
        "class_topic": c.class_topic,
        "class_type": c.class_type,
        "class_status": c.class_status,
        "teacher_id": c.teacher_id,
        "create_time": c.create_time,
        "start_time": c.start_time,
        "stop_time": c.stop_time,
    })
}

fn user_json(u: &User) -> Value {
    json!({
        "user_id": u.user_id,
        "nickname": u.nickname,
        "gender": u.gender,
        "avatar": u.avatar,
        "role": u.role,
        "phone_no": u.phone_no,
        "e_mail": u.e_mail,
        "regist_time": u.regist_time,
        "update_time": u.update_time,
    })
}

/// A document as `document/info` and `document/list` show it; its H5 URL under `base` (the address the
/// request came in on, or `--public-url`).
pub(super) fn document_json(d: &Document, base: &str) -> Value {
    let t = d.transcode.as_ref();
    let h5_url = t.map_or(String::new(), |t| match &t.file_key {
        Some(key) => crate::files::file_key_url(base, key, super::H5_FILE_NAME),
        None => t.h5_url.clone(),
    });
    json!({
        "doc_id": d.doc_id,
        "doc_name": d.doc_name,
        "doc_url": d.doc_url,
        "doc_ext": d.doc_ext,
        "doc_md5": d.doc_md5,
        "doc_size": d.doc_size,
        "permission": d.permission,
        "owner": d.owner,
        "upload_time": d.upload_time,
        "is_transcode": d.is_transcode,
        "transcode_status": t.map_or("", |t| t.status.as_str()),
        "transcode_code": t.map_or(0, |t| t.code),
        "transcode_msg": t.map_or("", |t| t.msg.as_str()),
        "transcode_result": h5_url,
    })
}

/// The extension of a document: `doc_ext`, else the one of the URL's file name.
pub(super) fn effective_ext(doc_ext: &str, doc_url: &str) -> String {
    let ext = doc_ext.trim().trim_start_matches('.');
    if !ext.is_empty() {
        return ext.to_ascii_lowercase();
    }
    let path = doc_url.split(['?', '#']).next().unwrap_or("");
    let file = path.rsplit('/').next().unwrap_or("");
    file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default()
}

/// The PPT's page count as recmock models it: one page per started 100 KiB (at least 1, at most 500).
pub(super) fn pages_of(doc_size: u64) -> u32 {
    doc_size.div_ceil(100 * 1024).clamp(1, 500) as u32
}

/// The PPT's title: the document name, else the URL's file name.
pub(super) fn title_of(doc_name: &str, doc_url: &str) -> String {
    if !doc_name.is_empty() {
        return doc_name.to_string();
    }
    let path = doc_url.split(['?', '#']).next().unwrap_or("");
    path.rsplit('/').next().unwrap_or("").to_string()
}

impl Iclass {
    // ----- authentication -------------------------------------------------------------------------

    /// Check the common parameters of every call; returns the tenant id and the body as the endpoint's
    /// request type.
    ///
    /// `expire_time` is read from the URL when it is there (the later revision of the vendor's document
    /// lists it among the URL's common parameters, and clients sign that one), else from the body.
    ///
    /// Order: URL parameters parse (10000: `sdkappid` an integer, `random` 1..32 characters, a URL
    /// `expire_time` an integer) → the app exists (10270) → `sign` present (10217) → the body is a JSON
    /// object (10002; with `expire_time` on the URL an empty body reads as `{}`) → `expire_time` present
    /// (10217) and an integer (10000) → sign matches md5(tic_key + expire_time) (10217) → expire_time in
    /// the future on the `--auth-clock` (10216) → the body's fields have the request type's types (10000,
    /// naming the field).
    fn authenticate_as<T: DeserializeOwned>(&self, ex: &Exchange) -> Res<(String, T)> {
        let sdkappid = match ex.query_str("sdkappid") {
            None => return Err(IclassError::new(PARSE, "URL parameter `sdkappid` is missing")),
            Some(s) => s.trim().parse::<u64>().map_err(|_| {
                IclassError::new(PARSE, format!("URL parameter `sdkappid` must be an integer, got `{s}`"))
            })?,
        };
        match ex.query_str("random") {
            None => return Err(IclassError::new(PARSE, "URL parameter `random` is missing")),
            Some(s) if s.is_empty() || s.chars().count() > MAX_RANDOM_CHARS => {
                return Err(IclassError::new(
                    PARSE,
                    format!("URL parameter `random` must be 1 to {MAX_RANDOM_CHARS} characters, got `{s}`"),
                ))
            }
            Some(_) => {}
        }
        let url_expire = match ex.query_str("expire_time") {
            None => None,
            Some(s) => Some(s.trim().parse::<i64>().map_err(|_| {
                IclassError::new(
                    PARSE,
                    format!("URL parameter `expire_time` must be an integer (unix seconds), got `{s}`"),
                )
            })?),
        };
        let tenant = sdkappid.to_string();
        let no_app = || IclassError::new(NO_SUCH_ACCOUNT, format!("no app with sdkappid {sdkappid}"));
        self.apps.fixed(&tenant, |_| ()).ok_or_else(no_app)?;
        let sign = ex.query_str("sign").filter(|s| !s.trim().is_empty()).ok_or_else(|| {
            IclassError::new(
                SIGN_FAILED,
                "URL parameter `sign` is missing (sign = md5(tic_key + expire_time))",
            )
        })?;
        // The usual body (a well-formed object of the right types, with an integer `expire_time` unless the
        // URL has one) is read straight into `T`; anything else is read as a JSON value first, which
        // decides what to answer (same codes, same order, same messages).
        let (expire, body) = match url_expire {
            Some(expire) if ex.body.iter().all(u8::is_ascii_whitespace) => (expire, Body::Value(json!({}))),
            Some(expire) => match typed_only::<T>(&ex.body) {
                Some(req) => (expire, Body::Typed(req)),
                None => (expire, Body::Value(parse_object(ex)?)),
            },
            None => match typed_fast::<T>(&ex.body) {
                Some((expire, req)) => (expire, Body::Typed(req)),
                None => {
                    let body = parse_object(ex)?;
                    let expire = match body.get("expire_time") {
                        None | Some(Value::Null) => {
                            return Err(IclassError::new(
                                SIGN_FAILED,
                                "expire_time is missing (from the URL and the body); the sign is md5(tic_key + expire_time)",
                            ))
                        }
                        Some(Value::Number(n)) if n.is_i64() => n.as_i64().unwrap_or_default(),
                        Some(other) => {
                            return Err(IclassError::new(
                                PARSE,
                                format!("field `expire_time`: expected an integer (unix seconds), got {other}"),
                            ))
                        }
                    };
                    (expire, Body::Value(body))
                }
            },
        };
        if !self.apps.fixed(&tenant, |key| sign_matches(sign, key, expire)).ok_or_else(no_app)? {
            return Err(IclassError::new(
                SIGN_FAILED,
                format!("sign `{sign}` is not md5(tic_key + expire_time) for expire_time {expire}"),
            ));
        }
        ex.auth().judge(&ClientTime::expiring("expire_time", expire)).map_err(|why| {
            IclassError::new(TOKEN_EXPIRED, format!("{why}; expire_time must lie in the future"))
        })?;
        let req = match body {
            Body::Typed(req) => req,
            Body::Value(v) => typed(&v)?,
        };
        Ok((tenant, req))
    }

    fn gone() -> IclassError {
        IclassError::new(NO_SUCH_ACCOUNT, "the app was removed")
    }

    /// Run `f` on the tenant's state under its lock.
    fn locked<R>(&self, tenant: &str, f: impl FnOnce(&mut Account) -> Res<R>) -> Res<R> {
        self.apps.write(tenant, f).unwrap_or_else(|| Err(Self::gone()))
    }

    /// Run `f` on the tenant's state under its lock shared with other readers (answers that only read).
    fn reading<R>(&self, tenant: &str, f: impl FnOnce(&Account) -> Res<R>) -> Res<R> {
        self.apps.read(tenant, f).unwrap_or_else(|| Err(Self::gone()))
    }

    // ----- classes --------------------------------------------------------------------------------

    /// `POST /paas/v1/class/create`.
    pub(super) fn class_create(&self, ex: &Exchange) -> Reply {
        self.create_class(ex).map(|a| Reply::json(&a)).unwrap_or_else(|e| e.reply())
    }

    fn create_class(&self, ex: &Exchange) -> Res<ClassCreated> {
        let (tenant, req): (String, ClassRequest) = self.authenticate_as(ex)?;
        let now = ex.now_s();
        let teacher_id = required(req.teacher_id, "teacher_id")?;
        let class_type = match &req.class_type {
            None => ClassType::Public,
            Some(t) => word(t, "class_type", ClassType::parse, ClassType::words)?,
        };
        check_times(req.start_time, req.stop_time)?;
        let start_time = req.start_time.unwrap_or(now);
        let stop_time = req.stop_time.unwrap_or(start_time.saturating_add(DEFAULT_CLASS_LENGTH_S));
        let record_types = record_types(req.record_types, req.settings)?.unwrap_or(vec![RecordType::Local]);
        let students = members(req.members.unwrap_or_default(), &teacher_id)?;
        check_record_user_shape(&req.record_user_id, &req.record_user_sig)?;
        let topic = req.class_topic.filter(|t| !t.is_empty());
        let check_sig = req.record_user_sig.is_some() || req.record_user_id.is_some();
        let ids = &self.world.ids;
        // Made before the tenant's lock is taken (every class/create of the app waits for it); the id, the
        // creation number and the default topic are filled in under it.
        let mut class = Class {
            no: 0,
            class_id: 0,
            class_topic: topic.unwrap_or_default(),
            class_type,
            class_status: ClassStatus::Will,
            members: member_list(&teacher_id, &students),
            teacher_id,
            create_time: now,
            start_time,
            stop_time,
            real_start_time: 0,
            real_stop_time: 0,
            settings: Settings { record_types, ..Settings::default() },
            record_user_id: req.record_user_id,
            record_user_sig: req.record_user_sig,
            present: Default::default(),
        };
        let (class_id, sdkappid) = self.locked(&tenant, |acc| {
            let class_id = Self::new_class_id(acc, ids);
            class.no = acc.seq + 1;
            class.class_id = class_id;
            if class.class_topic.is_empty() {
                class.class_topic = class_id.to_string();
            }
            validate_class(acc, &class, check_sig, &ex.auth())?;
            acc.next_no();
            acc.classes.insert(class_id, class);
            Ok((class_id, acc.config.sdkappid))
        })?;
        // The vendor's web classroom is `https://tedu.qcloudtrtc.com/<app>/<class>/<role>`; recmock serves the
        // same path itself (a page naming the class), under the address the client used (decisions.md).
        let mut student_url = ex.base_url();
        {
            use std::fmt::Write as _;
            let _ = write!(student_url, "/{sdkappid}/{class_id}/1");
        }
        // The same address with the teacher's role (`…/0`) instead of the student's (`…/1`).
        let mut teacher_url = String::with_capacity(student_url.len());
        teacher_url.push_str(&student_url[..student_url.len() - 1]);
        teacher_url.push('0');
        Ok(ClassCreated { class_id, error_code: OK, error_msg: "", student_url, teacher_url })
    }

    /// `GET /<sdkappid>/<class_id>/<0|1>`: what `teacher_url` (0) and `student_url` (1) open. The vendor's
    /// web classroom is not emulated; the page names the class, its state and members, so a link a client
    /// hands to a browser lands somewhere real. An unknown class is a 404 with 10230.
    pub(super) fn classroom_page(&self, ex: &Exchange) -> Reply {
        let m = ex.req.match_info();
        let app = m.get("sdkappid").unwrap_or_default();
        let class_id = m.get("class_id").and_then(|c| c.parse::<u64>().ok());
        let role = if m.get("role") == Some("0") { "teacher" } else { "student" };
        let found = class_id.and_then(|id| {
            self.apps
                .write(app, |acc| {
                    acc.classes.get(&id).map(|c| {
                        let members: Vec<&str> = c.members.iter().map(|x| x.user_id.as_str()).collect();
                        (
                            c.class_topic.clone(),
                            c.class_status.as_str(),
                            c.teacher_id.clone(),
                            members.join(", "),
                        )
                    })
                })
                .flatten()
        });
        let Some((topic, status, teacher, members)) = found else {
            let mut r = IclassError::new(
                NO_SUCH_CLASS,
                format!("no class {} in app {app}", m.get("class_id").unwrap_or_default()),
            )
            .reply();
            r.status = 404;
            return r;
        };
        let e = crate::codec::html_escape;
        let body = format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{topic} ({role})</title></head><body>\n\
             <h1>{topic}</h1>\n<p>recmock: the {role} view of class {id} of app {app}. The vendor's web classroom \
             is not emulated; drive the class through the API and <code>POST /__admin/events</code>.</p>\n\
             <ul><li>status: {status}</li><li>teacher: {teacher}</li><li>members: {members}</li></ul>\n</body></html>\n",
            topic = e(&topic),
            id = class_id.unwrap_or_default(),
            app = e(app),
            teacher = e(&teacher),
            members = e(&members),
        );
        Reply { status: 200, content_type: "text/html; charset=utf-8", body: body.into() }
    }

    /// A fresh 9-digit class id (never one of a class or a recording of the app).
    pub(super) fn new_class_id(acc: &Account, ids: &crate::ids::IdSource) -> u64 {
        loop {
            let id = ids.number(9);
            if !acc.classes.contains_key(&id) && !acc.recordings.contains_key(&id) {
                return id;
            }
        }
    }

    /// `POST /paas/v1/class/delete`.
    pub(super) fn class_delete(&self, ex: &Exchange) -> Reply {
        respond((|| {
            let (tenant, req): (String, ClassIdRequest) = self.authenticate_as(ex)?;
            let class_id = class_id_of(req.class_id)?;
            self.locked(&tenant, |acc| {
                let c = acc.classes.get(&class_id).ok_or_else(|| no_class(class_id))?;
                if c.class_status == ClassStatus::Ing {
                    return Err(IclassError::new(
                        CLASS_IN_PROGRESS,
                        format!("class {class_id} is in progress; end it before deleting it"),
                    ));
                }
                acc.classes.remove(&class_id);
                Ok(json!({}))
            })
        })())
    }

    /// `POST /paas/v1/class/modify`: only the fields present change; `members` is replaced whole.
    pub(super) fn class_modify(&self, ex: &Exchange) -> Reply {
        respond(self.modify_class(ex))
    }

    fn modify_class(&self, ex: &Exchange) -> Res<Value> {
        let (tenant, req): (String, ClassRequest) = self.authenticate_as(ex)?;
        let class_id = class_id_of(req.class_id)?;
        let teacher_id = req.teacher_id.map(|t| required(Some(t), "teacher_id")).transpose()?;
        let class_type =
            req.class_type.map(|t| word(&t, "class_type", ClassType::parse, ClassType::words)).transpose()?;
        check_times(req.start_time, req.stop_time)?;
        let record_types = record_types(req.record_types, req.settings)?;
        check_record_user_shape(&req.record_user_id, &req.record_user_sig)?;
        let check_sig = req.record_user_sig.is_some() || req.record_user_id.is_some();
        self.locked(&tenant, |acc| {
            let old = acc.classes.get(&class_id).ok_or_else(|| no_class(class_id))?;
            if old.class_status == ClassStatus::Ing {
                return Err(IclassError::new(
                    CLASS_IN_PROGRESS,
                    format!("class {class_id} is in progress; it can be changed before it begins or after it ends"),
                ));
            }
            let mut c = old.clone();
            if let Some(t) = req.class_topic {
                c.class_topic = if t.is_empty() { class_id.to_string() } else { t };
            }
            if let Some(t) = class_type {
                c.class_type = t;
            }
            if let Some(t) = req.start_time {
                c.start_time = t;
            }
            if let Some(t) = req.stop_time {
                c.stop_time = t;
            }
            if let Some(r) = record_types {
                c.settings.record_types = r;
            }
            if let Some(id) = req.record_user_id {
                c.record_user_id = Some(id);
            }
            if let Some(sig) = req.record_user_sig {
                c.record_user_sig = Some(sig);
            }
            let teacher = teacher_id.unwrap_or_else(|| c.teacher_id.clone());
            let students: Vec<String> = match req.members {
                Some(list) => members(list, &teacher)?,
                None => c
                    .members
                    .iter()
                    .filter(|m| m.role == Role::Student && m.user_id != teacher)
                    .map(|m| m.user_id.clone())
                    .collect(),
            };
            c.teacher_id = teacher.clone();
            c.members = member_list(&teacher, &students);
            validate_class(acc, &c, check_sig, &ex.auth())?;
            acc.classes.insert(class_id, c);
            Ok(json!({}))
        })
    }

    /// `POST /paas/v1/class/info`.
    pub(super) fn class_info(&self, ex: &Exchange) -> Reply {
        let answer = (|| {
            let (tenant, req): (String, ClassIdRequest) = self.authenticate_as(ex)?;
            let class_id = class_id_of(req.class_id)?;
            self.reading(&tenant, |acc| {
                acc.classes.get(&class_id).map(class_info_answer).ok_or_else(|| no_class(class_id))
            })
        })();
        answer.unwrap_or_else(|e| e.reply())
    }

    /// `POST /paas/v1/class/list`.
    pub(super) fn class_list(&self, ex: &Exchange) -> Reply {
        (|| {
            let (tenant, req): (String, ClassListRequest) = self.authenticate_as(ex)?;
            let (index, size) = paging(req.index, req.size)?;
            let desc = req.create_time_desc.unwrap_or(true);
            let statuses =
                word_filter(req.class_status, "class_status", ClassStatus::parse, ClassStatus::words)?;
            let types = word_filter(req.class_type, "class_type", ClassType::parse, ClassType::words)?;
            let user = req.user_id.filter(|u| !u.is_empty());
            self.reading(&tenant, |acc| {
                if let Some(u) = &user {
                    if !acc.users.contains_key(u) {
                        return Err(IclassError::new(
                            NO_SUCH_USER,
                            format!("user_id `{u}` is not a registered user"),
                        ));
                    }
                }
                if acc.classes.is_empty() {
                    return Err(IclassError::new(NO_CLASSES, "the app has no classes")
                        .with_fields(json!({ "finish": true, "total": 0, "list": [] })));
                }
                let filter = ClassFilter { statuses, types, user };
                // `index` comes from the body: a huge one is simply past the end, never an overflow.
                let skip = usize::try_from(index.saturating_mul(size)).unwrap_or(usize::MAX);
                let (total, rows) = acc.classes.page(&filter, desc, skip, size as usize);
                let list: Vec<ClassRow> = rows.into_iter().map(ClassRow::of).collect();
                let finish = (skip as u64).saturating_add(list.len() as u64) >= total as u64;
                Ok(Reply::json(&ClassPage { error_code: OK, error_msg: "", finish, list, total }))
            })
        })()
        .unwrap_or_else(|e| e.reply())
    }

    // ----- users ----------------------------------------------------------------------------------

    /// `POST /paas/v1/user/register`: every new id is created; ids already taken are reported in
    /// `repeats` and the answer carries 10214.
    pub(super) fn user_register(&self, ex: &Exchange) -> Reply {
        respond(self.register(ex))
    }

    fn register(&self, ex: &Exchange) -> Res<Value> {
        let (tenant, req): (String, RegisterRequest) = self.authenticate_as(ex)?;
        let list = req.list.ok_or_else(|| IclassError::invalid("list is required"))?;
        if list.is_empty() {
            return Err(IclassError::invalid("list is empty: nothing to register"));
        }
        let mut wanted = Vec::with_capacity(list.len());
        for (i, mut u) in list.into_iter().enumerate() {
            let p = |f: &str| format!("list[{i}].{f}");
            let user_id = required(u.user_id.take(), &p("user_id"))?;
            let role = word(&required(u.role.take(), &p("role"))?, &p("role"), Role::parse, Role::words)?;
            if role == Role::Superadmin {
                return Err(IclassError::new(
                    NO_PERMISSION,
                    format!(
                        "{}: the superadmin is set when the enterprise is created, not through the API",
                        p("role")
                    ),
                ));
            }
            let gender = match &u.gender {
                None => Gender::Male,
                Some(g) => word(g, &p("gender"), Gender::parse, Gender::words)?,
            };
            if let Some(a) = u.avatar.as_deref().filter(|a| !a.is_empty() && !is_http_url(a)) {
                return Err(IclassError::invalid(format!(
                    "{} must be an http(s) URL, got `{a}`",
                    p("avatar")
                )));
            }
            wanted.push((user_id, role, gender, u));
        }
        let now = ex.now_s();
        let ids = &self.world.ids;
        let (created, repeats) = self.locked(&tenant, |acc| {
            let mut created = Vec::new();
            let mut repeats: Vec<String> = Vec::new();
            for (user_id, role, gender, u) in wanted {
                if acc.users.contains_key(&user_id) {
                    if !repeats.contains(&user_id) {
                        repeats.push(user_id);
                    }
                    continue;
                }
                let user = User {
                    no: acc.next_no(),
                    nickname: u.nickname.unwrap_or_else(|| user_id.clone()),
                    role,
                    gender,
                    avatar: u.avatar.filter(|a| !a.is_empty()).unwrap_or_else(|| default_avatar(ids)),
                    phone_no: u.phone_no.unwrap_or_default(),
                    e_mail: u.e_mail.unwrap_or_default(),
                    regist_time: now,
                    update_time: now,
                    user_token: ids.hex(32),
                    retired_tokens: Vec::new(),
                    user_id: user_id.clone(),
                };
                created.push(json!({ "user_id": user_id, "user_token": user.user_token }));
                acc.users.insert(user_id, user);
            }
            Ok((created, repeats))
        })?;
        let fields = json!({ "user_list": created, "repeats": repeats });
        if repeats.is_empty() {
            Ok(fields)
        } else {
            Err(IclassError::new(DUPLICATE_USER, format!("already registered: {}", repeats.join(", ")))
                .with_fields(fields))
        }
    }

    /// `POST /paas/v1/user/profile/modify`: only the fields present change.
    pub(super) fn user_profile_modify(&self, ex: &Exchange) -> Reply {
        respond((|| {
            let (tenant, req): (String, UserRequest) = self.authenticate_as(ex)?;
            let user_id = required(req.user_id, "user_id")?;
            let role = req.role.map(|r| word(&r, "role", Role::parse, Role::words)).transpose()?;
            let gender = req.gender.map(|g| word(&g, "gender", Gender::parse, Gender::words)).transpose()?;
            if let Some(a) = req.avatar.as_deref().filter(|a| !a.is_empty() && !is_http_url(a)) {
                return Err(IclassError::invalid(format!("avatar must be an http(s) URL, got `{a}`")));
            }
            let now = ex.now_s();
            self.locked(&tenant, |acc| {
                let u = acc.users.get_mut(&user_id).ok_or_else(|| no_user(&user_id))?;
                if let Some(r) = role {
                    if (r == Role::Superadmin) != (u.role == Role::Superadmin) {
                        return Err(IclassError::new(
                            NO_PERMISSION,
                            "the superadmin role is set when the enterprise is created; it cannot be given or taken through the API",
                        ));
                    }
                    u.role = r;
                }
                if let Some(g) = gender {
                    u.gender = g;
                }
                if let Some(n) = req.nickname {
                    u.nickname = n;
                }
                if let Some(a) = req.avatar {
                    u.avatar = a;
                }
                if let Some(p) = req.phone_no {
                    u.phone_no = p;
                }
                if let Some(e) = req.e_mail {
                    u.e_mail = e;
                }
                u.update_time = now;
                Ok(json!({}))
            })
        })())
    }

    /// `POST /paas/v1/user/token/update`: a new ticket; the old one is no longer valid.
    pub(super) fn user_token_update(&self, ex: &Exchange) -> Reply {
        respond((|| {
            let (tenant, req): (String, UserIdRequest) = self.authenticate_as(ex)?;
            let user_id = required(req.user_id, "user_id")?;
            let ids = &self.world.ids;
            self.locked(&tenant, |acc| {
                let u = acc.users.get_mut(&user_id).ok_or_else(|| no_user(&user_id))?;
                let new = ids.hex(32);
                let old = std::mem::replace(&mut u.user_token, new.clone());
                u.retired_tokens.push(old);
                if u.retired_tokens.len() > RETIRED_TOKENS_KEPT {
                    u.retired_tokens.remove(0);
                }
                Ok(json!({ "user_token": new }))
            })
        })())
    }

    /// `POST /paas/v1/user/info`.
    pub(super) fn user_info(&self, ex: &Exchange) -> Reply {
        respond((|| {
            let (tenant, req): (String, UserIdRequest) = self.authenticate_as(ex)?;
            let user_id = required(req.user_id, "user_id")?;
            self.reading(&tenant, |acc| {
                let u = acc.users.get(&user_id).ok_or_else(|| no_user(&user_id))?;
                Ok(json!({ "user_info": user_json(u) }))
            })
        })())
    }

    /// `POST /paas/v1/user/list`.
    pub(super) fn user_list(&self, ex: &Exchange) -> Reply {
        respond((|| {
            let (tenant, req): (String, UserListRequest) = self.authenticate_as(ex)?;
            let (index, size) = paging(req.index, req.size)?;
            let roles = word_filter(req.roles, "roles", Role::parse, Role::words)?;
            let prefix = req.prefix.unwrap_or_default();
            self.reading(&tenant, |acc| {
                let mut list: Vec<&User> = acc
                    .users
                    .values()
                    .filter(|u| roles.is_empty() || roles.contains(&u.role))
                    .filter(|u| u.user_id.starts_with(&prefix))
                    .collect();
                list.sort_by_key(|u| u.no);
                Ok(page(list, index, size, user_json))
            })
        })())
    }

    // ----- documents ------------------------------------------------------------------------------

    /// `POST /paas/v1/document/add`.
    pub(super) fn document_add(&self, ex: &Exchange) -> Reply {
        respond(self.add_document(ex))
    }

    fn add_document(&self, ex: &Exchange) -> Res<Value> {
        let (tenant, req): (String, DocumentAddRequest) = self.authenticate_as(ex)?;
        let doc_url = required(req.doc_url, "doc_url")?;
        if !is_http_url(&doc_url) {
            return Err(IclassError::invalid(format!("doc_url must be an http(s) URL, got `{doc_url}`")));
        }
        let doc_size = match req.doc_size {
            Some(s) if s < 0 => return Err(IclassError::invalid(format!("doc_size must be >= 0, got {s}"))),
            Some(s) => s as u64,
            None => 0,
        };
        let doc_md5 = req.doc_md5.unwrap_or_default();
        let md5_ok = doc_md5.len() == 32 && doc_md5.chars().all(|c| c.is_ascii_hexdigit());
        if !doc_md5.is_empty() && !md5_ok {
            return Err(IclassError::invalid(format!("doc_md5 must be 32 hex digits, got `{doc_md5}`")));
        }
        let permission = match &req.permission {
            None => Permission::Private,
            Some(p) => word(p, "permission", Permission::parse, Permission::words)?,
        };
        let owner = req.owner.unwrap_or_default();
        // 如果不填此字段，permission会被设置为public
        let permission = if owner.is_empty() { Permission::Public } else { permission };
        let is_transcode = req.is_transcode.unwrap_or(false);
        let doc_name = req.doc_name.unwrap_or_default();
        let doc_ext = req.doc_ext.unwrap_or_default();
        let now_ms = ex.now_ms;
        self.locked(&tenant, |acc| {
            if !owner.is_empty() && !acc.users.contains_key(&owner) {
                return Err(IclassError::new(
                    NO_SUCH_USER,
                    format!("owner `{owner}` is not a registered user"),
                ));
            }
            let transcode = if is_transcode {
                if !acc.config.transcode_whitelisted {
                    return Err(IclassError::new(
                        NO_PERMISSION,
                        format!(
                            "app {} is not on the H5-transcode whitelist (is_transcode)",
                            acc.config.sdkappid
                        ),
                    ));
                }
                let ext = effective_ext(&doc_ext, &doc_url);
                if !TRANSCODE_EXTS.contains(&ext.as_str()) {
                    return Err(IclassError::new(
                        TRANSCODE_FAILED,
                        format!(
                            "H5 transcoding takes {} documents; this one is `{}`",
                            TRANSCODE_EXTS.join("/"),
                            if ext.is_empty() { "without extension" } else { &ext }
                        ),
                    ));
                }
                Some(Transcode {
                    status: TranscodeStatus::Queued,
                    progress: 0,
                    code: 0,
                    msg: String::new(),
                    h5_url: String::new(),
                    pages: pages_of(doc_size),
                    resolution: super::TRANSCODE_RESOLUTION.into(),
                    title: title_of(&doc_name, &doc_url),
                    file_key: None,
                })
            } else {
                None
            };
            let doc_id = self.new_doc_id(acc);
            let doc = Document {
                no: acc.next_no(),
                doc_id: doc_id.clone(),
                doc_url,
                doc_name,
                doc_ext,
                doc_size,
                doc_md5,
                permission,
                owner,
                upload_time: now_ms.div_euclid(1000),
                is_transcode,
                transcode,
            };
            if doc.transcode.is_some() {
                self.transcode_progress(&tenant, acc, &doc, now_ms);
                self.schedule_transcode(&tenant, acc, &doc_id, now_ms);
            }
            acc.documents.insert(doc_id.clone(), doc);
            Ok(json!({ "doc_id": doc_id }))
        })
    }

    /// `POST /paas/v1/document/delete`: all the ids must exist, or nothing is deleted.
    pub(super) fn document_delete(&self, ex: &Exchange) -> Reply {
        respond((|| {
            let (tenant, req): (String, DocumentDeleteRequest) = self.authenticate_as(ex)?;
            let ids = req.doc_ids.ok_or_else(|| IclassError::invalid("doc_ids is required"))?;
            if ids.is_empty() {
                return Err(IclassError::invalid("doc_ids is empty: nothing to delete"));
            }
            if ids.iter().any(|d| d.trim().is_empty()) {
                return Err(IclassError::invalid("doc_ids must not contain empty ids"));
            }
            let files = &self.world.files;
            self.locked(&tenant, |acc| {
                let unknown: Vec<&str> =
                    ids.iter().filter(|d| !acc.documents.contains_key(*d)).map(String::as_str).collect();
                if !unknown.is_empty() {
                    return Err(IclassError::invalid(format!(
                        "no such document(s): {} (nothing was deleted)",
                        unknown.join(", ")
                    )));
                }
                for id in &ids {
                    if let Some(key) =
                        acc.documents.remove(id).and_then(|d| d.transcode).and_then(|t| t.file_key)
                    {
                        files.remove(&key);
                    }
                }
                Ok(json!({}))
            })
        })())
    }

    /// `POST /paas/v1/document/info`.
    pub(super) fn document_info(&self, ex: &Exchange) -> Reply {
        respond((|| {
            let (tenant, req): (String, DocumentIdRequest) = self.authenticate_as(ex)?;
            let doc_id = required(req.doc_id, "doc_id")?;
            let base = ex.base_url();
            self.reading(&tenant, |acc| {
                acc.documents
                    .get(&doc_id)
                    .map(|d| document_json(d, &base))
                    .ok_or_else(|| IclassError::invalid(format!("no such document `{doc_id}`")))
            })
        })())
    }

    /// `POST /paas/v1/document/list`.
    pub(super) fn document_list(&self, ex: &Exchange) -> Reply {
        respond((|| {
            let (tenant, req): (String, DocumentListRequest) = self.authenticate_as(ex)?;
            let (index, size) = paging(req.index, req.size)?;
            let permissions =
                word_filter(req.permissions, "permissions", Permission::parse, Permission::words)?;
            let prefix = req.prefix.unwrap_or_default();
            let owner = req.owner.filter(|o| !o.is_empty());
            let base = ex.base_url();
            self.reading(&tenant, |acc| {
                if let Some(o) = &owner {
                    if !acc.users.contains_key(o) {
                        return Err(IclassError::new(
                            NO_SUCH_USER,
                            format!("owner `{o}` is not a registered user"),
                        ));
                    }
                }
                let mut list: Vec<&Document> = acc
                    .documents
                    .values()
                    .filter(|d| permissions.is_empty() || permissions.contains(&d.permission))
                    .filter(|d| d.doc_name.starts_with(&prefix))
                    .filter(|d| owner.as_ref().is_none_or(|o| &d.owner == o))
                    .collect();
                list.sort_by_key(|d| d.no);
                Ok(page(list, index, size, |d| document_json(d, &base)))
            })
        })())
    }

    /// A fresh document id: 16 lowercase letters and digits, unique in the app.
    pub(super) fn new_doc_id(&self, acc: &Account) -> String {
        loop {
            let id = self.world.ids.alnum(16).to_ascii_lowercase();
            if !acc.documents.contains_key(&id) {
                return id;
            }
        }
    }
}

fn no_class(class_id: u64) -> IclassError {
    IclassError::new(NO_SUCH_CLASS, format!("no class {class_id}"))
}

fn no_user(user_id: &str) -> IclassError {
    IclassError::new(NO_SUCH_USER, format!("no user `{user_id}` (user/register first)"))
}

/// One of the back end's default avatars (附录4: chosen at random when none is given).
pub(super) fn default_avatar(ids: &crate::ids::IdSource) -> String {
    format!("https://tedu.qcloudtrtc.com/static/avatar/default_{:02}.png", ids.next_u64() % 16 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_match_in_any_case_and_nothing_else() {
        // The example of the vendor's document: md5("DzXpbluRsmo1JkoFxzKMNg5ifrA4GRlU" + "1548247837").
        let (key, expire) = ("DzXpbluRsmo1JkoFxzKMNg5ifrA4GRlU", 1_548_247_837);
        let sign = "28374bd8cff400ac4906414780fbe387";
        assert_eq!(crate::codec::md5_hex(format!("{key}{expire}")), sign);
        for good in [sign, "28374BD8CFF400AC4906414780FBE387", " 28374bd8cff400ac4906414780fbe387\n"] {
            assert!(sign_matches(good, key, expire), "{good:?}");
        }
        for bad in [
            "28374bd8cff400ac4906414780fbe388",
            "28374bd8cff400ac4906414780fbe38",
            "28374bd8cff400ac4906414780fbe3870",
            "28374bd8cff400ac4906414780fbe38g",
            "+8374bd8cff400ac4906414780fbe387",
            "２8374bd8cff400ac4906414780fbe38",
            "",
        ] {
            assert!(!sign_matches(bad, key, expire), "{bad:?}");
        }
        assert!(!sign_matches(sign, key, expire + 1));
        assert!(!sign_matches(sign, "another key", expire));
        let negative = crate::codec::md5_hex(format!("{key}-5"));
        assert!(sign_matches(&negative, key, -5));
    }

    #[test]
    fn pages_are_exact() {
        let v = page((0..250).collect::<Vec<i32>>(), 2, 100, |i| json!(i));
        assert_eq!(v["total"], 250);
        assert_eq!(v["finish"], true);
        assert_eq!(v["list"].as_array().unwrap().len(), 50);
        let v = page((0..200).collect::<Vec<i32>>(), 1, 100, |i| json!(i));
        assert_eq!(v["finish"], true);
        let v = page((0..200).collect::<Vec<i32>>(), 0, 100, |i| json!(i));
        assert_eq!(v["finish"], false);
        let v = page((0..3).collect::<Vec<i32>>(), u64::MAX, 100, |i| json!(i));
        assert_eq!(v["list"], json!([]));
        assert_eq!(v["finish"], true);
    }

    /// The typed `class/info` answer is byte for byte the one built from a JSON map.
    #[test]
    fn typed_class_info_is_the_map_answer() {
        let c = Class {
            no: 1,
            class_id: 123_456_789,
            class_topic: "t \"q\"".into(),
            class_type: ClassType::OneToMany,
            class_status: ClassStatus::Ing,
            teacher_id: "t1".into(),
            create_time: 1,
            start_time: 2,
            stop_time: 3,
            real_start_time: 4,
            real_stop_time: 0,
            members: member_list("t1", &["s1".to_string(), "s2".to_string()]),
            settings: Settings {
                record_types: vec![RecordType::Remote, RecordType::Local],
                ..Settings::default()
            },
            record_user_id: None,
            record_user_sig: None,
            present: Default::default(),
        };
        assert_eq!(class_info_answer(&c).body, ok(class_info(&c)).body);
        let created = ClassCreated {
            class_id: 7,
            error_code: OK,
            error_msg: "",
            student_url: "s".into(),
            teacher_url: "t".into(),
        };
        let map = ok(json!({ "class_id": 7, "teacher_url": "t", "student_url": "s" }));
        assert_eq!(Reply::json(&created).body, map.body);
        let typed = ClassPage {
            error_code: OK,
            error_msg: "",
            finish: false,
            list: vec![ClassRow::of(&c)],
            total: 9,
        };
        let old = ok(page_of_total(9, 0, vec![&c], class_row));
        assert_eq!(Reply::json(&typed).body, old.body);
    }

    #[test]
    fn document_helpers() {
        assert_eq!(effective_ext("", "https://cos/x/a.PPTX?sig=1"), "pptx");
        assert_eq!(effective_ext(".ppt", "https://cos/x/a.pdf"), "ppt");
        assert_eq!(effective_ext("", "https://cos/x/a"), "");
        assert_eq!(pages_of(0), 1);
        assert_eq!(pages_of(204_800), 2);
        assert_eq!(pages_of(204_801), 3);
        assert_eq!(title_of("", "https://cos/x/lesson.ppt?x"), "lesson.ppt");
    }

    #[test]
    fn record_types_from_either_place() {
        let s = |v: &[&str]| Some(v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(
            record_types(s(&["remote", "local", "remote"]), None).unwrap(),
            Some(vec![RecordType::Remote, RecordType::Local])
        );
        let settings = SettingsRequest { record_types: s(&["local", "remote"]) };
        assert_eq!(record_types(s(&["remote", "local"]), Some(settings)).unwrap().map(|v| v.len()), Some(2));
        let settings = SettingsRequest { record_types: s(&["local"]) };
        assert_eq!(record_types(s(&["remote"]), Some(settings)).unwrap_err().code, INVALID_PARAM);
        assert_eq!(record_types(s(&["cloud"]), None).unwrap_err().code, INVALID_PARAM);
    }
}
