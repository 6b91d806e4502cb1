//! The cloud-recording endpoints (seed 001): authentication, record tasks, layouts, lists, files.

use super::api::*;
use super::errors::*;
use super::models::*;
use super::token;
use super::CloudRecord;
use super::KIND;
use crate::clock::{calendar, AuthNow};
use crate::http::{Exchange, Reply};
use crate::recording::{MediaKind, Recording, Refusal};
use crate::vendors::kit::{self, BodyProblem};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

type Res<T> = Result<T, CloudError>;

/// Largest page size of the lists.
pub const MAX_PAGE_SIZE: i64 = 500;
/// Default page size of the lists.
pub const DEFAULT_PAGE_SIZE: i64 = 50;

/// `{code: 0, msg: "OK", ...fields}`.
fn ok(fields: Value) -> Reply {
    kit::success(&[("code", json!(0)), ("msg", json!("OK"))], fields)
}

/// Parse a JSON object body: syntax errors are 6050030005, wrong types 6050030003 (naming the field).
pub(super) fn parse_body<T: DeserializeOwned>(ex: &Exchange) -> Res<T> {
    kit::json_body(ex).map_err(|p| match p {
        BodyProblem::Field { .. } => CloudError::params(p.to_string()),
        _ => CloudError::new(JSON_PARSE, p.to_string()),
    })
}

fn required(v: Option<String>, name: &str) -> Res<String> {
    match v {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(CloudError::params(format!("{name} is required"))),
    }
}

fn in_range(name: &str, v: Option<i64>, lo: i64, hi: i64, default: i64) -> Res<i64> {
    match v {
        None => Ok(default),
        Some(x) if (lo..=hi).contains(&x) => Ok(x),
        Some(x) => Err(CloudError::params(format!("{name} must be in [{lo},{hi}], got {x}"))),
    }
}

fn check_app(given: &Option<String>, account_app: &str) -> Res<()> {
    match given.as_deref() {
        None | Some("") => Err(CloudError::params("app_id is required")),
        Some(a) if a == account_app => Ok(()),
        Some(a) => {
            Err(CloudError::new(AUTH_FAILED, format!("app_id `{a}` does not belong to this access token")))
        }
    }
}

fn valid_file_name(name: &str) -> Res<()> {
    if name.is_empty() || name.len() > 128 || name.contains(['/', '\\', '\0']) || name == "." || name == ".."
    {
        return Err(CloudError::params(format!(
            "file_name `{name}` must be 1-128 characters without `/` or `\\`"
        )));
    }
    Ok(())
}

fn query_int(ex: &Exchange, name: &str) -> Res<Option<i64>> {
    match ex.query(name) {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| CloudError::params(format!("{name} must be an integer, got `{s}`"))),
    }
}

fn query_time(ex: &Exchange, name: &str) -> Res<Option<i64>> {
    match ex.query(name) {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => calendar::parse_beijing(&s).map(Some).ok_or_else(|| {
            CloudError::params(format!(
                "{name} must be `YYYY-MM-DD HH:MM:SS` (Beijing time) or unix seconds, got `{s}`"
            ))
        }),
    }
}

/// (page, page_size) from the query; pages count from 1.
fn paging(ex: &Exchange) -> Res<(i64, i64)> {
    let page = query_int(ex, "page")?.unwrap_or(1);
    if page < 1 {
        return Err(CloudError::params(format!("page must be >= 1, got {page}")));
    }
    let size = in_range("page_size", query_int(ex, "page_size")?, 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)?;
    Ok((page, size))
}

fn page_of<T>(items: Vec<T>, page: i64, size: i64) -> Vec<T> {
    // `page` comes from the query: a huge one is simply past the end, never an overflow.
    let skip = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    items.into_iter().skip(skip).take(size as usize).collect()
}

/// The credential of an `Authorization` value: trimmed, without a `Bearer ` prefix (tolerated, decisions.md).
fn strip_bearer(h: &str) -> &str {
    let h = h.trim();
    match h.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => h[7..].trim(),
        _ => h,
    }
}

/// The event gateway's address for a business gateway at `base`: the same host, as a WebSocket URL
/// (`wss://` behind `https://`), the shape the access service answers (`ws://192.168.7.201:29200`).
fn event_gateway(base: &str) -> String {
    if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else {
        format!("ws://{}", base.strip_prefix("http://").unwrap_or(base))
    }
}

/// A Beijing date-time of virtual ms (empty when absent), serialised without building a `String`.
struct DateTime(Option<i64>);

impl serde::Serialize for DateTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(ms) = self.0 else { return s.serialize_str("") };
        let mut buf = [0u8; 19];
        match calendar::beijing_datetime_into(ms.div_euclid(1000), &mut buf) {
            Some(text) => s.serialize_str(text),
            None => s.serialize_str(&calendar::beijing_datetime(ms.div_euclid(1000))),
        }
    }
}

/// The `init` answer, typed (fields in the order a JSON object map writes them).
#[derive(serde::Serialize)]
struct InitAnswer {
    code: i64,
    id: i64,
    msg: &'static str,
    record_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<String>,
}

/// One row of `task/list`, typed so a page is serialised straight from the tasks (fields in the order a
/// JSON object map writes them, so the bytes are what they always were).
#[derive(serde::Serialize)]
struct TaskRow<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    auto: Option<Value>,
    file_name: &'a str,
    file_type: u8,
    group_id: &'a str,
    record_id: &'a str,
    record_mode: u8,
    start_time: DateTime,
    status: i64,
    stop_time: DateTime,
}

/// The `task/list` answer.
#[derive(serde::Serialize)]
struct TaskPage<'a> {
    code: i64,
    msg: &'static str,
    page: i64,
    page_size: i64,
    record_list: Vec<TaskRow<'a>>,
    total_num: usize,
}

impl CloudRecord {
    // ----- authentication -------------------------------------------------------------------------

    /// Is `token` a developer token of `acc`, its times judged by `now`? Returns the reason when not.
    fn developer_token_ok(acc: &AccountConfig, tok: &str, now: &AuthNow) -> Result<(), String> {
        if tok == acc.token {
            return Ok(());
        }
        match &acc.app_secret {
            Some(secret) => {
                token::verify(tok, secret, &acc.app_id, now).map(|_| ()).map_err(|e| e.to_string())
            }
            None => Err("token does not match the account's developer token".into()),
        }
    }

    /// The app a developer id (or the app id in its place) and its developer token (as the fixture gives
    /// it, or made by the TokenGenerator, its times judged by `now`) log in to, or why not: `/access/token`,
    /// the `<dev_id>.<token>` header and the event gateway's login all ask this.
    pub(super) fn developer_login(&self, dev: &str, tok: &str, now: &AuthNow) -> Result<String, String> {
        let app = self.app_of_dev(dev).ok_or_else(|| format!("unknown dev_id `{dev}`"))?;
        let cfg = self.accounts.read(&app, |a| a.config.clone()).ok_or("account is gone")?;
        Self::developer_token_ok(&cfg, tok, now)?;
        Ok(app)
    }

    /// The app an access token grants at `now_ms`: the `Authorization` header and the event gateway's login
    /// ask this. An expired or replaced token is `606000001`, an unknown one `6050030007`.
    pub(super) fn access_token_app(&self, token: &str, now_ms: i64) -> Res<String> {
        let app = self
            .app_of_access_token(token)
            .ok_or_else(|| CloudError::new(AUTH_FAILED, "unknown access token"))?;
        self.accounts
            .read(&app, |a| match &a.access_token {
                Some(t) if t.token == token && now_ms < t.expires_ms => Ok(app.clone()),
                Some(t) if t.token == token => Err(CloudError::new(TOKEN_TIMEOUT, "the access token has expired; get a new one from /access/token")),
                _ if a.retired_tokens.iter().any(|r| r == token) => Err(CloudError::new(
                    TOKEN_TIMEOUT,
                    "this access token was replaced by a newer one (an account has one valid access token at a time)",
                )),
                _ => Err(CloudError::new(AUTH_FAILED, "unknown access token")),
            })
            .unwrap_or_else(|| Err(CloudError::new(AUTH_FAILED, "unknown access token")))
    }

    /// The app id an `Authorization` header grants.
    fn authenticate(&self, ex: &Exchange) -> Res<String> {
        let h = ex.header("authorization").map(strip_bearer).filter(|s| !s.is_empty()).ok_or_else(|| {
            CloudError::new(
                NOT_LOGGED_IN,
                "send `Authorization: <access_token>` (from GET /access/token) or `<dev_id>.<token>`",
            )
        })?;
        if let Some((dev, tok)) = h.split_once('.') {
            return self.developer_login(dev, tok, &ex.auth()).map_err(|e| CloudError::new(AUTH_FAILED, e));
        }
        self.access_token_app(h, ex.now_ms)
    }

    /// The developer id and token of `/access/token`: the query's `dev_id` and `token` when it has either
    /// (the seed's form), else `Authorization: <dev_id>.<token>` (the seed's header form, which the vendor's
    /// console sends with no query).
    fn developer_credentials(ex: &Exchange) -> Result<(String, String), &'static str> {
        let (dev, tok) = (ex.query("dev_id"), ex.query("token"));
        if dev.is_some() || tok.is_some() {
            return match (dev, tok) {
                (Some(d), Some(t)) => Ok((d, t)),
                _ => Err("dev_id and token are both required query parameters"),
            };
        }
        let header = ex.header("authorization").map(strip_bearer).filter(|h| !h.is_empty()).ok_or(
            "dev_id and token are required: as query parameters, or as the header `Authorization: <dev_id>.<token>`",
        )?;
        header
            .split_once('.')
            .map(|(d, t)| (d.to_string(), t.to_string()))
            .ok_or("the Authorization header of /access/token must be `<dev_id>.<token>`")
    }

    /// `GET /access/token?dev_id=&token=`, or with `Authorization: <dev_id>.<token>` and no query.
    pub(super) fn access_token(&self, ex: &Exchange) -> Reply {
        let fail = |detail: &str| CloudError::new(TOKEN_AUTH_FAILED, detail).reply(&[]);
        let (dev, tok) = match Self::developer_credentials(ex) {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        let app = match self.developer_login(&dev, &tok, &ex.auth()) {
            Ok(app) => app,
            Err(e) => return fail(&e),
        };
        let ids = &self.world.ids;
        let issued = self.accounts.write(&app, |a| {
            let new =
                AccessToken { token: ids.hex(32), expires_ms: ex.now_ms + a.config.token_timeout_s * 1000 };
            let old = a.access_token.replace(new.clone());
            let mut dropped = Vec::new();
            if let Some(old) = old {
                a.retired_tokens.push(old.token);
                while a.retired_tokens.len() > RETIRED_TOKENS_KEPT {
                    dropped.push(a.retired_tokens.remove(0));
                }
            }
            Ok::<_, String>((new, a.config.token_timeout_s, dropped))
        });
        match issued {
            Some(Ok((t, timeout, dropped))) => {
                self.index_access_token(&t.token, &app, &dropped);
                ok(json!({ "result": { "timeout": timeout, "access_token": t.token } }))
            }
            Some(Err(e)) => fail(&e),
            None => fail("account is gone"),
        }
    }

    /// `GET /server/address?appType=10|8`: the business gateway (recmock itself, under the address the client
    /// used or `--public-url`) or the event gateway (the same host as `ws://`/`wss://`, answered at `/` by
    /// the gateway in `gateway.rs`).
    pub(super) fn server_address(&self, ex: &Exchange) -> Reply {
        let answer = |code: i64, message: String, result: Option<String>| {
            let mut v = json!({ "code": code, "message": message });
            if let Some(r) = result {
                v["result"] = json!(r);
            }
            Reply::json(&v)
        };
        match ex.query("appType").as_deref() {
            Some("10") => answer(0, "OK".into(), Some(ex.base_url())),
            Some("8") => answer(0, "OK".into(), Some(event_gateway(&ex.base_url()))),
            Some(other) => answer(
                BAD_PARAMS,
                format!("参数错误: unknown appType `{other}` (10: business gateway, 8: event gateway)"),
                None,
            ),
            None => answer(
                BAD_PARAMS,
                "参数错误: appType is required (10: business gateway, 8: event gateway)".into(),
                None,
            ),
        }
    }

    /// `POST /generate/token`: the console's token service.
    pub(super) fn generate_token(&self, ex: &Exchange) -> Reply {
        let req: GenerateTokenRequest = match parse_body(ex) {
            Ok(r) => r,
            Err(e) => return e.reply(&[]),
        };
        let fail = |d: &str| CloudError::new(TOKEN_AUTH_FAILED, d).reply(&[]);
        let (Some(app_id), Some(secret)) = (req.app_id, req.app_secret) else {
            return fail("appId and appSecret are required");
        };
        // The console's login form says "App ID"; a developer id names the same account.
        let Some(cfg) =
            self.app_of_dev(&app_id).and_then(|app| self.accounts.read(&app, |a| a.config.clone()))
        else {
            return fail(&format!("unknown appId `{app_id}`"));
        };
        if cfg.app_secret.as_deref() != Some(secret.as_str()) {
            return fail("appSecret does not match the app");
        }
        let claims = token::DevToken {
            aid: cfg.app_id,
            gid: String::new(),
            uid: String::new(),
            et: None,
            // Its making time counts on the `--auth-clock` (virtual time under `virtual`).
            ts: ex.auth().earliest_ms(),
            r: (self.world.ids.next_u64() % 1_000_000) as i64,
        };
        match token::encode(&claims, &secret) {
            Ok(t) => ok(json!({ "result": t })),
            Err(e) => fail(&e.to_string()),
        }
    }

    // ----- record tasks ---------------------------------------------------------------------------

    /// `POST /v1/record/init`.
    pub(super) fn init(&self, ex: &Exchange) -> Reply {
        let mut seq = None;
        let result = self.authenticate(ex).and_then(|app| {
            let req: InitRequest = parse_body(ex)?;
            seq = req.seq.clone();
            self.init_task(&app, req, ex.now_ms)
        });
        match result {
            Ok(answer) => Reply::json(&answer),
            Err(e) => e.reply(&[("seq", seq.as_deref())]),
        }
    }

    fn init_task(&self, app: &str, req: InitRequest, now: i64) -> Res<InitAnswer> {
        check_app(&req.app_id, app)?;
        let group_id = required(req.group_id, "group_id")?;
        // The seed's table marks `seq` required but its own examples omit it: optional, echoed when given.
        let seq = req.seq.clone();
        let file_type = in_range("file_type", req.file_type, 0, 1, 0)? as u8;
        let file_duration = in_range("file_duration", req.file_duration, 15, 300, 60)?;
        let width = in_range("width", req.width, 1, 1920, 1920)? as u32;
        let height = in_range("height", req.height, 1, 1080, 1080)? as u32;
        let record_mode = in_range("record_mode", req.record_mode, 0, 0, 0)? as u8;
        let frame_rate = in_range("frame_rate", req.frame_rate, 1, 30, 30)? as u32;
        let timeout_s = in_range("timeout", req.timeout, 5, 1800, 600)?;
        let auto = match req.auto {
            None => None,
            Some(a) => Some(Box::new(AutoSpec {
                kind: in_range("auto.type", a.kind, 1, 2, 1)? as u8,
                user_id: a.user_id.filter(|u| !u.is_empty()),
                media_type: in_range("auto.media_type", a.media_type, 2, 2, 2)? as u8,
                media_count: in_range("auto.media_count", a.media_count, 1, 9, 9)? as u8,
                crop_mode: in_range("auto.crop_mode", a.crop_mode, 1, 3, 2)? as u8,
            })),
        };
        if let Some(n) = &req.file_name {
            valid_file_name(n)?;
        }
        let tenant = self.accounts.get(app).ok_or_else(|| CloudError::new(AUTH_FAILED, "account is gone"))?;
        let mut acc = tenant.lock();
        let stored = acc.stored;
        if stored >= acc.config.quota_bytes {
            return Err(CloudError::new(
                NO_SPACE,
                format!(
                    "stored files use {stored} of {} bytes; delete files with POST /v1/record/file",
                    acc.config.quota_bytes
                ),
            ));
        }
        let active = acc.active_count();
        if active >= acc.config.max_tasks {
            return Err(CloudError::new(
                LOAD_LIMIT_ACCOUNT,
                format!("the account already has {active} active tasks (limit {})", acc.config.max_tasks),
            ));
        }
        let in_group = acc.tasks.active_in_group_count(&group_id);
        if in_group >= acc.config.max_group_tasks {
            return Err(CloudError::new(
                LOAD_LIMIT_GROUP,
                format!(
                    "group `{group_id}` already has {in_group} active tasks (limit {})",
                    acc.config.max_group_tasks
                ),
            ));
        }
        if auto.is_some() {
            if let Some(t) = acc.active_in_group(&group_id).find(|t| t.auto.is_some()) {
                return Err(CloudError::new(
                    AUTO_EXISTS,
                    format!("group `{group_id}` already has auto task {}", t.recording.id),
                ));
            }
        }
        if let Some(n) = &req.file_name {
            if let Some(t) = acc.active_in_group(&group_id).find(|t| &t.file_name == n) {
                return Err(CloudError::new(
                    CONTEXT_EXISTS,
                    format!("task {} already records group `{group_id}` into `{n}`", t.recording.id),
                ));
            }
        }
        acc.tasks_created += 1;
        let record_id =
            format!("{}_{}", calendar::beijing_compact(now.div_euclid(1000)), 10_000 + acc.tasks_created);
        let media = if file_type == 1 { MediaKind::Audio } else { MediaKind::Video };
        let mut recording =
            Recording::new(record_id.clone(), group_id.clone(), media, file_duration * 60, now);
        if auto.is_some() {
            // An auto task records from the start; a manual one waits for its first layout.
            let _ = recording.start(now);
        }
        let mut task = RecordTask {
            no: acc.tasks_created,
            recording,
            group_id: group_id.clone(),
            file_name: req.file_name.clone().unwrap_or_else(|| record_id.clone()),
            file_type,
            width,
            height,
            record_mode,
            frame_rate,
            timeout_s,
            auto,
            layout: None,
            seq: seq.clone().unwrap_or_default(),
            last_command_ms: now,
            idle_since_ms: None,
            stop_reason: None,
            files_deleted: false,
            timeout_job_ms: None,
        };
        task.recording.shape = Some(task.file_shape());
        if !task.has_input(acc.groups.get(&group_id)) {
            task.idle_since_ms = Some(now);
        }
        self.arm_timeout(app, &mut task);
        acc.tasks.insert(task);
        Ok(InitAnswer { code: 0, id: 8194, msg: "OK", record_id, seq })
    }

    /// Schedule the idle check of a task that has nothing to record. A task has one pending check at a
    /// time: when one is due no later than the new deadline, it stays, and runs this again when it finds the
    /// deadline moved (a command on an idle task used to add a job each time).
    pub(super) fn arm_timeout(&self, app: &str, task: &mut RecordTask) {
        if let (true, Some(idle)) = (task.recording.is_active(), task.idle_since_ms) {
            let due = idle.max(task.last_command_ms).saturating_add(task.timeout_s.saturating_mul(1000));
            if task.timeout_job_ms.is_some_and(|pending| pending <= due) {
                return;
            }
            task.timeout_job_ms = Some(due);
            self.world.schedule_vendor(due, KIND, app, super::TIMEOUT_TASK, &task.recording.id);
        }
    }

    /// Common shape of suspend / resume / finish: authenticate, parse, find the active task, act.
    fn task_command(
        &self,
        ex: &Exchange,
        act: impl FnOnce(&mut RecordTask, &Timings) -> Res<Value>,
    ) -> Reply {
        let mut rid = None;
        let result = self.authenticate(ex).and_then(|app| {
            let req: TaskRequest = parse_body(ex)?;
            rid = req.record_id.clone();
            check_app(&req.app_id, &app)?;
            let record_id = required(req.record_id, "record_id")?;
            let timings = self.world.timings();
            let tenant =
                self.accounts.get(&app).ok_or_else(|| CloudError::new(AUTH_FAILED, "account is gone"))?;
            let mut acc = tenant.lock();
            let task = acc
                .tasks
                .get_mut(&record_id)
                .ok_or_else(|| CloudError::new(CONTEXT_NOT_FOUND, format!("no record task `{record_id}`")))?;
            let mut out = act(task, &timings)?;
            task.last_command_ms = ex.now_ms;
            self.arm_timeout(&app, task);
            self.world.schedule_recording_step(KIND, &app, &task.recording);
            acc.refresh(&record_id);
            out["record_id"] = json!(record_id);
            Ok(out)
        });
        match result {
            Ok(v) => ok(v),
            Err(e) => e.reply(&[("record_id", rid.as_deref())]),
        }
    }

    fn ended(task: &RecordTask) -> CloudError {
        CloudError::new(
            CONTEXT_NOT_FOUND,
            format!(
                "record task {} has ended (status {}); its context no longer exists",
                task.recording.id,
                task.status()
            ),
        )
    }

    /// `POST /v1/record/suspend`.
    pub(super) fn suspend(&self, ex: &Exchange) -> Reply {
        let now = ex.now_ms;
        self.task_command(ex, |task, _| match task.recording.pause(now) {
            Ok(()) => Ok(json!({})),
            Err(Refusal::Stopped) => Err(Self::ended(task)),
            Err(_) => Err(CloudError::new(
                CANNOT_SUSPEND,
                format!("record task {} is not recording (status {})", task.recording.id, task.status()),
            )),
        })
    }

    /// `POST /v1/record/resume`.
    pub(super) fn resume(&self, ex: &Exchange) -> Reply {
        let now = ex.now_ms;
        self.task_command(ex, |task, _| match task.recording.resume(now) {
            Ok(()) => Ok(json!({})),
            // Resuming a task that records already is harmless.
            Err(Refusal::NotPaused) if task.status() == 2 => Ok(json!({})),
            Err(Refusal::NotPaused) => Err(CloudError::params(format!(
                "record task {} has not started recording yet; set a layout first",
                task.recording.id
            ))),
            Err(_) => Err(Self::ended(task)),
        })
    }

    /// `POST /v1/record/finish`.
    pub(super) fn finish(&self, ex: &Exchange) -> Reply {
        let now = ex.now_ms;
        self.task_command(ex, |task, timings| {
            task.recording.stop(now, timings).map_err(|_| Self::ended(task))?;
            task.stop_reason = Some("finish".into());
            let r = &task.recording;
            Ok(json!({
                "media_duration": r.recorded_s(),
                "record_duration": (now - r.created_ms).max(0) / 1000,
                "flow": r.total_bytes().div_ceil(1024),
            }))
        })
    }

    /// `POST /v1/record/set/layout`.
    pub(super) fn set_layout(&self, ex: &Exchange) -> Reply {
        let (mut rid, mut seq) = (None, None);
        let result = self.authenticate(ex).and_then(|app| {
            let req: LayoutRequest = parse_body(ex)?;
            rid = req.record_id.clone();
            seq = req.seq.clone();
            self.apply_layout(&app, req, ex.now_ms)
        });
        match result {
            Ok(v) => ok(v),
            Err(e) => e.reply(&[("record_id", rid.as_deref()), ("seq", seq.as_deref())]),
        }
    }

    fn apply_layout(&self, app: &str, req: LayoutRequest, now: i64) -> Res<Value> {
        check_app(&req.app_id, app)?;
        let record_id = required(req.record_id, "record_id")?;
        let seq = req.seq.clone();
        let mut layout = Layout::default();
        for (i, a) in req.audio_list.unwrap_or_default().into_iter().enumerate() {
            let user_id = required(a.user_id, &format!("audio_list[{i}].user_id"))?;
            let media_id = required(a.media_id, &format!("audio_list[{i}].media_id"))?;
            match a.media_type {
                Some(1) => {}
                None => {
                    return Err(CloudError::params(format!("audio_list[{i}].media_type is required (1)")))
                }
                Some(t) => {
                    return Err(CloudError::params(format!(
                        "audio_list[{i}].media_type must be 1 (audio), got {t}"
                    )))
                }
            }
            layout.audio.push(AudioInput { user_id, media_id });
        }
        for (i, v) in req.video_list.unwrap_or_default().into_iter().enumerate() {
            let p = |f: &str| format!("video_list[{i}].{f}");
            let user_id = required(v.user_id, &p("user_id"))?;
            let media_id = required(v.media_id, &p("media_id"))?;
            let media_type = match v.media_type {
                Some(t @ (0 | 2)) => t as u8,
                None => {
                    return Err(CloudError::params(format!(
                        "{} is required (0 screen share, 2 camera)",
                        p("media_type")
                    )))
                }
                Some(t) => {
                    return Err(CloudError::params(format!(
                        "{} must be 0 (screen share) or 2 (camera), got {t}",
                        p("media_type")
                    )))
                }
            };
            layout.video.push(VideoInput {
                user_id,
                media_id,
                media_type,
                x: in_range(&p("x"), v.x, 0, 1920, 0)? as u32,
                y: in_range(&p("y"), v.y, 0, 1080, 0)? as u32,
                w: in_range(&p("w"), v.w, 1, 1920, 320)? as u32,
                h: in_range(&p("h"), v.h, 1, 1080, 240)? as u32,
                crop_mode: in_range(&p("crop_mode"), v.crop_mode, 1, 3, 1)? as u8,
            });
        }
        if layout.audio.is_empty() && layout.video.is_empty() {
            return Err(CloudError::params("audio_list and video_list are both empty: nothing to compose"));
        }
        for (i, a) in layout.audio.iter().enumerate() {
            if layout.audio[..i].iter().any(|b| b.user_id == a.user_id && b.media_id == a.media_id) {
                return Err(CloudError::new(
                    LINK_EXISTS,
                    format!("audio_list[{i}] repeats {}/{}", a.user_id, a.media_id),
                ));
            }
        }
        for (i, v) in layout.video.iter().enumerate() {
            if layout.video[..i]
                .iter()
                .any(|b| b.user_id == v.user_id && b.media_id == v.media_id && b.media_type == v.media_type)
            {
                return Err(CloudError::new(
                    LINK_EXISTS,
                    format!("video_list[{i}] repeats {}/{}", v.user_id, v.media_id),
                ));
            }
        }
        let tenant = self.accounts.get(app).ok_or_else(|| CloudError::new(AUTH_FAILED, "account is gone"))?;
        let mut guard = tenant.lock();
        let acc = &mut *guard;
        let inputs = layout.audio.len() + layout.video.len();
        if inputs > acc.config.max_layout_inputs {
            return Err(CloudError::new(
                LOAD_LIMIT_INPUTS,
                format!(
                    "the layout has {inputs} inputs; the mixer takes at most {}",
                    acc.config.max_layout_inputs
                ),
            ));
        }
        let task = acc
            .tasks
            .get_mut(&record_id)
            .ok_or_else(|| CloudError::new(CONTEXT_NOT_FOUND, format!("no record task `{record_id}`")))?;
        if !task.recording.is_active() {
            return Err(Self::ended(task));
        }
        if task.auto.is_some() {
            return Err(CloudError::new(
                AUTO_NO_MANUAL_LAYOUT,
                format!("record task {record_id} records automatically"),
            ));
        }
        if task.recording.phase == crate::recording::Phase::Paused {
            return Err(CloudError::new(
                PAUSED_LAYOUT,
                format!("record task {record_id} is suspended; resume it first"),
            ));
        }
        if task.file_type == 1 && !layout.video.is_empty() {
            return Err(CloudError::new(
                LAYOUT_WITHOUT_CANVAS,
                format!("record task {record_id} records audio only (file_type 1): it has no canvas for video_list"),
            ));
        }
        if task.file_type == 0 && layout.video.is_empty() {
            return Err(CloudError::new(
                CANVAS_WITHOUT_LAYOUT,
                format!(
                    "record task {record_id} has a {}x{} canvas but video_list is empty",
                    task.width, task.height
                ),
            ));
        }
        let group = acc.groups.get(&task.group_id);
        for (i, a) in layout.audio.iter().enumerate() {
            if !group.is_some_and(|g| g.has_stream(&a.user_id, 1, &a.media_id)) {
                return Err(CloudError::new(
                    OUTPUT_INPUT_MISSING,
                    format!(
                        "audio_list[{i}]: user `{}` has no audio stream `{}` in group `{}`",
                        a.user_id, a.media_id, task.group_id
                    ),
                ));
            }
        }
        for (i, v) in layout.video.iter().enumerate() {
            if !group.is_some_and(|g| g.has_stream(&v.user_id, v.media_type, &v.media_id)) {
                let kind = if v.media_type == 0 { "screen-share" } else { "camera" };
                return Err(CloudError::new(
                    OUTPUT_INPUT_MISSING,
                    format!(
                        "video_list[{i}]: user `{}` has no {kind} stream `{}` in group `{}`",
                        v.user_id, v.media_id, task.group_id
                    ),
                ));
            }
        }
        if task.recording.phase == crate::recording::Phase::Initialised {
            let _ = task.recording.start(now);
        }
        task.layout = Some(Box::new(layout));
        task.recording.shape = Some(task.file_shape());
        task.last_command_ms = now;
        task.idle_since_ms = if task.has_input(group) { None } else { Some(now) };
        self.arm_timeout(app, task);
        acc.refresh(&record_id);
        let mut out = json!({ "record_id": record_id });
        if let Some(seq) = seq {
            out["seq"] = json!(seq);
        }
        Ok(out)
    }

    // ----- lists and files ------------------------------------------------------------------------

    fn query_app(&self, ex: &Exchange) -> Res<String> {
        let app = self.authenticate(ex)?;
        check_app(&ex.query("app_id"), &app)?;
        Ok(app)
    }

    /// `GET /v1/record/task/list`.
    pub(super) fn task_list(&self, ex: &Exchange) -> Reply {
        match self.list_tasks(ex) {
            Ok(r) => r,
            Err(e) => e.reply(&[]),
        }
    }

    fn list_tasks(&self, ex: &Exchange) -> Res<Reply> {
        let app = self.query_app(ex)?;
        let record_id = ex.query("record_id").filter(|s| !s.is_empty());
        let group_id = ex.query("group_id").filter(|s| !s.is_empty());
        let status = query_int(ex, "status")?;
        if let Some(s) = status {
            if ![-1, 1, 2, 3, 4, 5, 6, 7].contains(&s) {
                return Err(CloudError::params(format!("status must be one of 1..7 or -1, got {s}")));
            }
        }
        let start = query_time(ex, "start_time")?.map(|s| s.saturating_mul(1000));
        let stop = query_time(ex, "stop_time")?.map(|s| s.saturating_mul(1000));
        let (page, size) = paging(ex)?;
        let filter = TaskFilter { record_id, group_id, status, start_ms: start, stop_ms: stop };
        // `page` comes from the query: a huge one is simply past the end, never an overflow.
        let skip = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
        self.accounts
            .read(&app, |acc| {
                let (total_num, tasks) = acc.tasks.page(&filter, skip, size as usize);
                let record_list = tasks
                    .into_iter()
                    .map(|t| TaskRow {
                        auto: t.auto.as_ref().and_then(|a| serde_json::to_value(a).ok()),
                        file_name: &t.file_name,
                        file_type: t.file_type,
                        group_id: &t.group_id,
                        record_id: &t.recording.id,
                        record_mode: t.record_mode,
                        start_time: DateTime(Some(t.recording.created_ms)),
                        status: t.status(),
                        stop_time: DateTime(t.recording.stopped_ms),
                    })
                    .collect();
                Reply::json(&TaskPage { code: 0, msg: "OK", page, page_size: size, record_list, total_num })
            })
            .ok_or_else(|| CloudError::new(AUTH_FAILED, "account is gone"))
    }

    /// `GET /v1/record/file/download/url`.
    pub(super) fn download_url(&self, ex: &Exchange) -> Reply {
        match self.list_files(ex) {
            Ok(v) => ok(v),
            Err(e) => e.reply(&[("record_id", ex.query("record_id").as_deref())]),
        }
    }

    fn list_files(&self, ex: &Exchange) -> Res<Value> {
        let app = self.query_app(ex)?;
        let record_id = required(ex.query("record_id"), "record_id")?;
        let (page, size) = paging(ex)?;
        let files = &self.world.files;
        let (status, entries) = self
            .accounts
            .read(&app, |acc| {
                let t = acc.tasks.get(&record_id).ok_or_else(|| {
                    CloudError::new(CONTEXT_NOT_FOUND, format!("no record task `{record_id}`"))
                })?;
                let entries: Vec<Value> = t
                    .recording
                    .segments
                    .iter()
                    .filter_map(|s| s.file_key.as_deref().and_then(|k| files.get(k)).map(|f| (s, f)))
                    .map(|(s, f)| {
                        json!({
                            "url": ex.file_url(&f),
                            "md5": ex.md5(&f),
                            "file_name": f.name,
                            "extent": json!({
                                "index": s.index, "size": f.size, "duration": s.duration_s, "format": f.format
                            }).to_string(),
                        })
                    })
                    .collect();
                Ok::<_, CloudError>((t.status(), entries))
            })
            .ok_or_else(|| CloudError::new(AUTH_FAILED, "account is gone"))??;
        let total = entries.len();
        Ok(json!({
            "record_id": record_id,
            "status": status,
            "total_num": total,
            "page": page,
            "page_size": size,
            "data_list": page_of(entries, page, size),
        }))
    }

    /// `POST /v1/record/file`: delete files (mode 2) or files and records (mode 1).
    pub(super) fn delete_files(&self, ex: &Exchange) -> Reply {
        let result = self.authenticate(ex).and_then(|app| {
            let req: DeleteFilesRequest = parse_body(ex)?;
            check_app(&req.app_id, &app)?;
            let mode = match req.mode.as_deref().map(str::trim) {
                None | Some("") | Some("2") => 2,
                Some("1") => 1,
                Some(m) => {
                    return Err(CloudError::params(format!(
                        "mode must be 1 (files and records) or 2 (files only), got `{m}`"
                    )))
                }
            };
            let list = req.record_list.ok_or_else(|| CloudError::params("record_list is required"))?;
            let mut ids = Vec::with_capacity(list.len());
            for (i, v) in list.iter().enumerate() {
                match v {
                    Value::String(s) if !s.is_empty() => ids.push(s.clone()),
                    Value::Number(n) => ids.push(n.to_string()),
                    _ => {
                        return Err(CloudError::params(format!(
                            "record_list[{i}] must be a record id string"
                        )))
                    }
                }
            }
            let files = &self.world.files;
            let tenant =
                self.accounts.get(&app).ok_or_else(|| CloudError::new(AUTH_FAILED, "account is gone"))?;
            let mut guard = tenant.lock();
            let acc = &mut *guard;
            // All or nothing: refuse before deleting anything if one task is still being recorded or processed.
            if let Some(t) = ids.iter().filter_map(|id| acc.tasks.get(id)).find(|t| !t.recording.is_final()) {
                return Err(CloudError::params(format!(
                    "record task {} is still in progress (status {}); finish it and wait for status 6",
                    t.recording.id,
                    t.status()
                )));
            }
            for id in &ids {
                let Some(t) = acc.tasks.get_mut(id) else { continue };
                let mut freed = 0;
                for s in &mut t.recording.segments {
                    if let Some(k) = s.file_key.take() {
                        files.remove(&k);
                        freed += s.size;
                    }
                }
                acc.stored = acc.stored.saturating_sub(freed);
                t.files_deleted = true;
                if mode == 1 {
                    acc.tasks.remove(id);
                }
            }
            Ok(())
        });
        match result {
            Ok(()) => Reply::json(&json!({ "code": 0, "msg": "ok" })),
            Err(e) => e.reply(&[]),
        }
    }
}

use crate::world::Timings;

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed answers are byte for byte the ones built from JSON maps before.
    #[test]
    fn typed_answers_are_the_map_answers() {
        let a = InitAnswer { code: 0, id: 8194, msg: "OK", record_id: "r1".into(), seq: Some("7".into()) };
        assert_eq!(Reply::json(&a).body, ok(json!({ "id": 8194, "record_id": "r1", "seq": "7" })).body);
        let a = InitAnswer { seq: None, ..a };
        assert_eq!(Reply::json(&a).body, ok(json!({ "id": 8194, "record_id": "r1" })).body);
        let auto =
            AutoSpec { kind: 2, user_id: Some("u".into()), media_type: 2, media_count: 9, crop_mode: 2 };
        let row = |auto: Option<Value>| TaskRow {
            auto,
            file_name: "f\"x",
            file_type: 1,
            group_id: "g",
            record_id: "r1",
            record_mode: 0,
            start_time: DateTime(Some(1_767_225_600_000)),
            status: 6,
            stop_time: DateTime(None),
        };
        let page = TaskPage {
            code: 0,
            msg: "OK",
            page: 1,
            page_size: 50,
            record_list: vec![row(None), row(serde_json::to_value(&auto).ok())],
            total_num: 2,
        };
        let mut old_row = json!({
            "record_id": "r1", "record_mode": 0, "group_id": "g", "file_name": "f\"x", "file_type": 1,
            "start_time": "2026-01-01 08:00:00", "stop_time": "", "status": 6,
        });
        let plain = old_row.clone();
        old_row["auto"] = json!(auto);
        let old = ok(json!({ "total_num": 2, "page": 1, "page_size": 50, "record_list": [plain, old_row] }));
        assert_eq!(Reply::json(&page).body, old.body);
    }
}
