//! `make soak`: is recmock safe to leave running for days? A compressed day of mixed traffic against one
//! process started with its default flags, with its memory sampled as it goes.
//!
//! The release binary (`CARGO_BIN_EXE_recmock`) is started with nothing but `--port` (the embedded demo
//! world, the journal on, a real clock at scale 1) and driven by this program's own async clients
//! (reqwest and WebSockets over loopback) until the time is up:
//! - every vendor's flows, deletes included: 001 tasks (init, list, suspend, resume, finish, the files'
//!   download URL, a byte range of a file, delete), 004 classes (create, modify twice, info, list, begun and
//!   ended by world events, delete), 004 users and documents with an H5 transcode, 000 classes held and
//!   recorded (`req_record`, `query_record_result`, `report_group` with new groups), 002 recordings and VOD
//!   look-ups, 003 recordings and lives with their files and deletes;
//! - callbacks that cannot be delivered: the demo world's 000 and 004 apps have no `callback_url` (held),
//!   and after each reset 000's is set to a closed port (every attempt fails until the callback fails);
//! - fault rules added all the time (some used up, some delivering 000 callbacks, some matching nothing);
//! - the control plane: clock advances (a day of virtual time over the run), the journal, the callback log,
//!   state dumps, and a full reset every `SOAK_RESET_EVERY` requests (default 5,000; 0: never);
//! - the HST event gateway: `SOAK_SOCKETS` WebSockets (default 20) logging in, subscribing to the demo
//!   group and reading the pushes the soak's join/leave events cause, reconnecting now and then; two of
//!   them never read.
//!
//! recmock's VmRSS is sampled every 10 s and printed as a table. The run passes when nothing answered 5xx,
//! nothing panicked, and RSS grew < 5 % over the second half (median of the last three samples against the
//! median of the first three of the second half). `SOAK_CI=1` (the 60-second variant CI runs) fails only on a
//! 5xx, a panic, or RSS above `SOAK_RSS_CAP_MB` (default 512).
//!
//! `SOAK_SECONDS` (default 600), `SOAK_WORKERS` (default 12), `SOAK_RECMOCK_ARGS` (more flags, e.g. to try
//! a cap; the default run gives none), `SOAK_RECMOCK` (another recmock binary, e.g. an older build),
//! `SOAK_VIRTUAL_STEP` (virtual seconds per wall second; default 144, a day in ten minutes), `SOAK_VERBOSE=1`
//! (every vendor refusal counted by route and code).

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const RECMOCK: &str = env!("CARGO_BIN_EXE_recmock");

// The demo world's credentials (fixtures/demo.json).
const CR_APP: &str = "demo_app_0001";
const CR_AUTH: &str = "demo_dev_0001.demo-token-0001";
const CR_DEV: &str = "demo_dev_0001";
const CR_TOKEN: &str = "demo-token-0001";
const CR_GROUP: &str = "demo_group";
const EDU_APP: u64 = 1_400_000_001;
const EDU_KEY: &str = "demo-ilvb-key-0000000000000000000000000000000000000000000000000";
const LIVE_APP: u64 = 1_400_000_002;
const LIVE_KEY: &str = "demo-live-key-0000000000000000000000000000000000000000000000000";
const VOD_ID: &str = "AKIDdemo0000000000000000000000000000";
const VOD_KEY: &str = "demoSecretKey0000000000000000000";
const MEETING_AUTH: &str = "demo-meeting-api-id:demo-meeting-api-key-0001";
const MEETING_ENT: u64 = 52;
const IC_APP: u64 = 1_400_127_140;
const IC_KEY: &str = "DzXpbluRsmo1JkoFxzKMNg5ifrA4GRlU";
const IC_TEACHER: &str = "demo_teacher";
const IC_STUDENT: &str = "demo_student_1";

/// Seconds between RSS samples.
const SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// Virtual seconds in the compressed day.
const DAY_S: f64 = 86_400.0;

/// The recmock to run: `SOAK_RECMOCK` (another build, e.g. to compare with an older one), else this build's.
fn binary() -> String {
    std::env::var("SOAK_RECMOCK").unwrap_or_else(|_| RECMOCK.to_string())
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    let seconds = env_u64("SOAK_SECONDS", 600);
    let ci = std::env::var("SOAK_CI").is_ok_and(|v| v == "1");
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let pass = rt.block_on(run(seconds, ci));
    std::process::exit(if pass { 0 } else { 1 });
}

// ----- the server -----------------------------------------------------------------------------------

struct Server {
    child: Child,
    port: u16,
    /// recmock's stderr, line by line (panics and the caps' warnings are read from it)
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start() -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let extra = std::env::var("SOAK_RECMOCK_ARGS").unwrap_or_default();
        let mut child = Command::new(binary())
            .args(["--port", &port.to_string()])
            .args(extra.split_whitespace())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("recmock starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        if let Some(err) = child.stderr.take() {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    if let Ok(mut l) = log.lock() {
                        l.push(line);
                    }
                }
            });
        }
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(t0.elapsed() < Duration::from_secs(20), "recmock did not listen within 20 s");
            std::thread::sleep(Duration::from_millis(5));
        }
        Server { child, port, log }
    }

    fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_string))
            .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
            .unwrap_or(0)
    }

    /// Whether the process is still running.
    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, then wait (SIGKILL after 20 s): the exit status, if it stopped by itself.
    fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) on our own child's pid, which has not been reaped yet.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ----- counting -------------------------------------------------------------------------------------

#[derive(Default)]
struct Stats {
    requests: AtomicU64,
    ok: AtomicU64,
    /// answers 400..499 (the vendors' own refusals are HTTP 200)
    client_errors: AtomicU64,
    /// 5xx by route
    server_errors: Mutex<BTreeMap<String, u64>>,
    /// no answer: connection refused, reset, timeout
    transport: AtomicU64,
    transport_seen: Mutex<Vec<String>>,
    /// answers with a vendor error code (HTTP 200), by route and code
    refusals: Mutex<BTreeMap<String, u64>>,
    download_bytes: AtomicU64,
    resets: AtomicU64,
    ws_opened: AtomicU64,
    ws_frames: AtomicU64,
    ws_closed_by_server: AtomicU64,
    flows: AtomicU64,
}

impl Stats {
    fn server_error_total(&self) -> u64 {
        self.server_errors.lock().map(|m| m.values().sum()).unwrap_or(0)
    }
}

// ----- the driver -----------------------------------------------------------------------------------

struct Soak {
    base: String,
    host: String,
    client: reqwest::Client,
    stats: Stats,
    stop: AtomicBool,
    reset_every: u64,
    next: AtomicU64,
    /// the 000 admin's usersig (valid 180 days from the wall clock; the server judges either clock)
    edu_sig: String,
    /// a port nothing listens on: 000's callbacks go there after each reset
    dead_url: String,
    /// another `reset_every` requests were sent: time for a reset
    reset_due: tokio::sync::Notify,
    verbose: bool,
}

type Answer = Option<(u16, Value)>;

impl Soak {
    fn n(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Count a request; every `reset_every` of them, a reset falls due.
    fn tick(&self) {
        let n = self.stats.requests.fetch_add(1, Ordering::Relaxed) + 1;
        if self.reset_every > 0 && n.is_multiple_of(self.reset_every) {
            self.reset_due.notify_one();
        }
    }

    /// Send a request, count its answer under `route`; the JSON answer (Null when not JSON).
    async fn send(&self, route: &str, rb: reqwest::RequestBuilder) -> Answer {
        self.tick();
        let answer = match rb.timeout(Duration::from_secs(60)).send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let body = resp.bytes().await.unwrap_or_default();
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                self.count(route, status, &v);
                Some((status, v))
            }
            Err(e) => {
                self.stats.transport.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut seen) = self.stats.transport_seen.lock() {
                    if seen.len() < 10 {
                        seen.push(format!("{route}: {e}"));
                    }
                }
                None
            }
        };

        answer
    }

    fn count(&self, route: &str, status: u16, v: &Value) {
        if status >= 500 {
            if let Ok(mut m) = self.stats.server_errors.lock() {
                *m.entry(format!("{route} → {status}")).or_default() += 1;
            }
        } else if status >= 400 {
            self.stats.client_errors.fetch_add(1, Ordering::Relaxed);
        } else {
            self.stats.ok.fetch_add(1, Ordering::Relaxed);
        }
        if self.verbose && status < 500 {
            let code = v
                .get("error_code")
                .or_else(|| v.get("code"))
                .map(|c| c.to_string().trim_matches('"').to_string())
                .unwrap_or_default();
            let fine = matches!(code.as_str(), "" | "0" | "200");
            if !fine || status >= 400 {
                if let Ok(mut m) = self.stats.refusals.lock() {
                    *m.entry(format!("{route} {status} {code}")).or_default() += 1;
                }
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, route: &str, path: &str) -> Answer {
        self.send(route, self.client.get(self.url(path))).await
    }

    async fn post(&self, route: &str, path: &str, body: Value) -> Answer {
        self.send(
            route,
            self.client
                .post(self.url(path))
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
        .await
    }

    async fn admin(&self, path: &str, body: Value) -> Answer {
        self.post(path, &format!("/__admin{path}"), body).await
    }

    async fn event(&self, e: Value) -> Answer {
        self.admin("/events", e).await
    }

    /// A byte range of a file (a URL recmock handed out), counted as a download.
    async fn download(&self, url: &str, range: &str) {
        if !url.starts_with(&self.base) {
            return;
        }
        self.tick();
        match self.client.get(url).header("range", range).timeout(Duration::from_secs(60)).send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let mut resp = resp;
                let mut got = 0u64;
                while let Ok(Some(chunk)) = resp.chunk().await {
                    got += chunk.len() as u64;
                }
                self.stats.download_bytes.fetch_add(got, Ordering::Relaxed);
                self.count("GET /files/{key}/{name}", status, &Value::Null);
            }
            Err(_) => {
                self.stats.transport.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// A full reset, then 000's callbacks pointed at a closed port.
    async fn reset(&self) {
        self.stats.resets.fetch_add(1, Ordering::Relaxed);
        let _ = self.send("/__admin/reset", self.client.post(self.url("/__admin/reset"))).await;
        self.dead_callbacks().await;
    }

    async fn dead_callbacks(&self) {
        let tenant = format!("ilvb_edu:{EDU_APP}");
        let body = json!({ "tenant": tenant, "url": self.dead_url });
        let _ = self
            .send(
                "/__admin/callbacks/url",
                self.client.post(self.url("/__admin/callbacks/url")).body(body.to_string()),
            )
            .await;
    }

    // ----- 001 -----

    async fn cr_get(&self, route: &str, path: &str) -> Answer {
        self.send(route, self.client.get(self.url(path)).header("authorization", CR_AUTH)).await
    }

    async fn cr_post(&self, route: &str, path: &str, body: Value) -> Answer {
        self.send(
            route,
            self.client.post(self.url(path)).header("authorization", CR_AUTH).body(body.to_string()),
        )
        .await
    }

    /// A task from init to finish; its record id waits for processing in `later`.
    async fn cloud_task(&self, later: &mut VecDeque<Later>) {
        let n = self.n();
        if n.is_multiple_of(50) {
            // The seed's token exchange (it replaces the account's one access token; the soak signs with
            // `<dev_id>.<token>`).
            self.get("/access/token", &format!("/access/token?dev_id={CR_DEV}&token={CR_TOKEN}")).await;
        }
        let manual = n.is_multiple_of(3);
        let mut body =
            json!({ "app_id": CR_APP, "group_id": format!("soak_g{}", n % 400), "file_type": (n % 2) });
        if manual {
            // A manual task records what its layout names: the demo group's teacher.
            body = json!({ "app_id": CR_APP, "group_id": CR_GROUP, "width": 320, "height": 240, "frame_rate": 15 });
        } else {
            body["auto"] = json!({});
        }
        let Some((_, v)) = self.cr_post("/v1/record/init", "/v1/record/init", body).await else { return };
        let Some(rid) = v["record_id"].as_str().map(str::to_string) else { return };
        let task = |extra: Value| {
            let mut b = json!({ "app_id": CR_APP, "record_id": rid });
            if let (Some(b), Value::Object(e)) = (b.as_object_mut(), extra) {
                b.extend(e);
            }
            b
        };
        if manual {
            let layout = json!({
                "video_list": [{ "user_id": "teacher", "media_id": "0", "media_type": 2 }],
                "audio_list": [{ "user_id": "teacher", "media_id": "1", "media_type": 1 }],
            });
            self.cr_post("/v1/record/set/layout", "/v1/record/set/layout", task(layout)).await;
        }
        self.cr_get("/v1/record/task/list", &format!("/v1/record/task/list?app_id={CR_APP}&page_size=20"))
            .await;
        // Commands on a task (each one used to arm another idle-timeout job).
        for _ in 0..2 {
            self.cr_post("/v1/record/suspend", "/v1/record/suspend", task(json!({}))).await;
            self.cr_post("/v1/record/resume", "/v1/record/resume", task(json!({}))).await;
        }
        if n.is_multiple_of(50) {
            // Left to stop itself (the idle timeout) or to be deleted while active.
            later.push_back(Later::cloud(rid));
            return;
        }
        self.cr_post("/v1/record/finish", "/v1/record/finish", task(json!({}))).await;
        later.push_back(Later::cloud(rid));
    }

    /// A processed task's files: the download URL, a range of the file, then the task deleted. False when
    /// it is not ready yet.
    async fn cloud_files(&self, rid: &str, last_try: bool) -> bool {
        let path = format!("/v1/record/file/download/url?app_id={CR_APP}&record_id={rid}");
        let Some((_, v)) = self.cr_get("/v1/record/file/download/url", &path).await else { return true };
        let ready = v["status"].as_i64().is_some_and(|s| s == 6 || s == -1) || v["code"].as_i64() != Some(0);
        if !ready && !last_try {
            return false;
        }
        if let Some(url) = v["data_list"][0]["url"].as_str() {
            self.download(url, "bytes=0-65535").await;
            self.download(url, "bytes=-4096").await;
        }
        let mode = if rid.len().is_multiple_of(2) { 1 } else { 2 };
        self.cr_post(
            "/v1/record/file",
            "/v1/record/file",
            json!({ "app_id": CR_APP, "mode": mode, "record_list": [rid] }),
        )
        .await;
        if mode == 2 {
            self.cr_post(
                "/v1/record/file",
                "/v1/record/file",
                json!({ "app_id": CR_APP, "mode": 1, "record_list": [rid] }),
            )
            .await;
        }
        true
    }

    /// Streams joining and leaving the demo group: pushes for the gateway's sockets.
    async fn cloud_streams(&self) {
        let user = format!("soak_u{}", self.n() % 50);
        self.event(
            json!({ "type": "cloud_record.join", "app_id": CR_APP, "group_id": CR_GROUP, "user_id": user,
            "streams": [{ "media_type": 2, "media_id": "0" }, { "media_type": 1, "media_id": "1" }] }),
        )
        .await;
        self.event(
            json!({ "type": "cloud_record.leave", "app_id": CR_APP, "group_id": CR_GROUP, "user_id": user }),
        )
        .await;
    }

    // ----- 004 -----

    fn ic_path(&self, endpoint: &str, expire: i64) -> String {
        format!(
            "/paas/v1/{endpoint}?sdkappid={IC_APP}&random={}&sign={}",
            self.n() % 1_000_000,
            recmock::outbox::md5_sign(IC_KEY, expire)
        )
    }

    async fn ic(&self, endpoint: &str, mut body: Value) -> Answer {
        let expire = wall_s() + 300;
        body["expire_time"] = json!(expire);
        let path = self.ic_path(endpoint, expire);
        self.post(&format!("/paas/v1/{endpoint}"), &path, body).await
    }

    /// A class created, modified, read, begun and ended (callbacks with no URL: held), deleted.
    async fn iclass_class(&self) {
        let n = self.n();
        let remote = n.is_multiple_of(2);
        let mut body = json!({
            "teacher_id": IC_TEACHER, "class_type": "1vN", "class_topic": format!("soak {n}"),
            "members": [{ "role": "student", "user_id": IC_STUDENT }],
        });
        if remote {
            body["settings"] = json!({ "record_types": ["remote"] });
            body["record_user_id"] = json!(format!("tic_recorduser_soak_{n}"));
            body["record_user_sig"] = json!("sig");
        }
        let Some((_, v)) = self.ic("class/create", body).await else { return };
        let Some(class_id) = v["class_id"].as_u64() else { return };
        self.ic("class/modify", json!({ "class_id": class_id, "class_topic": format!("soak {n}, moved") }))
            .await;
        self.ic("class/modify", json!({ "class_id": class_id, "class_type": "public" })).await;
        self.ic("class/info", json!({ "class_id": class_id })).await;
        if n.is_multiple_of(5) {
            self.ic("class/list", json!({ "page": 1, "limit": 20 })).await;
        }
        if !n.is_multiple_of(4) {
            self.event(json!({ "type": "iclass.class_begin", "sdkappid": IC_APP, "class_id": class_id,
                "streams": [{ "user_id": IC_TEACHER, "video_type": 0 }] }))
                .await;
            self.event(json!({ "type": "iclass.join_class", "sdkappid": IC_APP, "class_id": class_id,
                "user_id": IC_STUDENT, "video_types": [0] }))
                .await;
            self.event(json!({ "type": "iclass.class_over", "sdkappid": IC_APP, "class_id": class_id }))
                .await;
            self.ic("class/modify", json!({ "class_id": class_id, "class_topic": "after the class" })).await;
        }
        self.ic("class/delete", json!({ "class_id": class_id })).await;
    }

    /// A user registered, read and changed; a document transcoded (callbacks held), deleted later.
    async fn iclass_people(&self, later: &mut VecDeque<Later>) {
        let n = self.n();
        let user = format!("soak_user_{n}");
        self.ic("user/register", json!({ "list": [{ "user_id": user, "role": "student" }] })).await;
        self.ic("user/info", json!({ "user_id": user })).await;
        self.ic("user/profile/modify", json!({ "user_id": user, "nickname": format!("nick {n}") })).await;
        if n.is_multiple_of(3) {
            let Some((_, v)) = self
                .ic(
                    "document/add",
                    json!({ "doc_url": format!("https://cos.example/soak{n}.pptx"),
                    "doc_name": format!("soak{n}"), "owner": IC_TEACHER, "is_transcode": true }),
                )
                .await
            else {
                return;
            };
            if let Some(doc) = v["doc_id"].as_str() {
                later.push_back(Later::new(Pending::Document(doc.to_string())));
            }
        }
    }

    async fn iclass_document(&self, doc: &str, last_try: bool) -> bool {
        let Some((_, v)) = self.ic("document/info", json!({ "doc_id": doc })).await else { return true };
        let done = v["transcode_status"].as_str().is_none_or(|s| s == "finished" || s == "failed");
        if !done && !last_try {
            return false;
        }
        if let Some(url) = v["transcode_result"].as_str().filter(|u| !u.is_empty()) {
            self.download(url, "bytes=0-").await;
        }
        self.ic("document/delete", json!({ "doc_ids": [doc] })).await;
        true
    }

    // ----- 000 -----

    async fn edu(&self, sub_cmd: &str, extra: Value) -> Answer {
        let path = format!(
            "/v4/ilvb_edu/record?sdkappid={EDU_APP}&identifier=admin&usersig={}&contenttype=json",
            self.edu_sig
        );
        let mut body = json!({ "cmd": "open_record_svc", "sub_cmd": sub_cmd });
        if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
            b.extend(e);
        }
        self.post(&format!("/v4/ilvb_edu/record {sub_cmd}"), &path, body).await
    }

    /// A class held in one of 500 rooms, its recording requested (callbacks 1000/1001 go to a closed port,
    /// or are held before the first reset), a new whiteboard group reported.
    async fn edu_class(&self, later: &mut VecDeque<Later>) {
        let n = self.n();
        let room = 10_000 + n % 500;
        self.event(json!({ "type": "ilvb_edu.class_start", "sdkappid": EDU_APP, "roomid": room,
            "members": ["teacher", "student1"] }))
            .await;
        self.event(json!({ "type": "ilvb_edu.class_end", "sdkappid": EDU_APP, "roomid": room })).await;
        self.edu("req_record", json!({ "class_roomid": room })).await;
        self.edu("report_group", json!({ "group_id": format!("soak_wb_{n}") })).await;
        later.push_back(Later::new(Pending::Room(room)));
    }

    // ----- 002 -----

    fn live_query(identifier: &str) -> String {
        let now = wall_s();
        let sig = recmock::tlssig::sign(LIVE_APP, LIVE_KEY, identifier, now - 60, 86_400);
        format!("sdkappid={LIVE_APP}&identifier={identifier}&usersig={sig}")
    }

    async fn live(&self) {
        let n = self.n();
        let user = format!("soak_live_{}", n % 40);
        let q = Self::live_query(&user);
        let file = format!("soak_live_{n}");
        let body =
            json!({ "platform": "ios", "relation_id": n % 1000, "room_id": n % 1000, "file_name": file });
        self.post("/live_sdk/v1/record/start", &format!("/live_sdk/v1/record/start?{q}"), body.clone()).await;
        self.post("/live_sdk/v1/record/stop", &format!("/live_sdk/v1/record/stop?{q}"), body).await;
        let params: Vec<(String, String)> = [
            ("Action", "DescribeVodPlayInfo".to_string()),
            ("fileName", file),
            ("Region", "gz".into()),
            ("SecretId", VOD_ID.into()),
            ("SignatureMethod", "HmacSHA1".into()),
            ("Timestamp", wall_s().to_string()),
            ("Nonce", (n % 1_000_000 + 1).to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let q = recmock::vendors::live_sdk::vod::signed_query(
            VOD_KEY,
            recmock::vendors::live_sdk::vod::SignatureMethod::HmacSha1,
            "GET",
            &self.host,
            &params,
        );
        self.get("/v2/index.php", &format!("/v2/index.php?{q}")).await;
    }

    // ----- 003 -----

    async fn meet(&self, path: &str, body: Value) -> Answer {
        self.send(path, self.client.post(self.url(path)).header("auth", MEETING_AUTH).body(body.to_string()))
            .await
    }

    /// A recording (and sometimes a live) in one of 100 conferences started by world events.
    async fn meeting(&self, later: &mut VecDeque<Later>) {
        let n = self.n();
        let key = format!("{}", 700_000 + n % 100);
        self.event(
            json!({ "type": "meeting.conference_start", "conference_key": key, "ent_id": MEETING_ENT }),
        )
        .await;
        let conf = json!({ "conferenceKey": key });
        let rid = self
            .meet("/meeting/openRecord", conf.clone())
            .await
            .and_then(|(_, v)| v["data"]["recordId"].as_str().map(str::to_string));
        if n.is_multiple_of(3) {
            if let Some((_, v)) = self.meet("/meeting/openLive", conf.clone()).await {
                if let Some(url) = v["data"]["liveurl"].as_str() {
                    if let Some(path) = url.strip_prefix(&self.base) {
                        self.get("/meeting/live/{liveId}", path).await;
                    }
                }
            }
            self.meet("/meeting/closeLive", conf.clone()).await;
        }
        self.meet("/meeting/getLiveRecStatus", conf.clone()).await;
        self.meet("/meeting/closeRecord", conf.clone()).await;
        self.event(json!({ "type": "meeting.conference_end", "conference_key": key })).await;
        if let Some(rid) = rid {
            later.push_back(Later::new(Pending::Meeting(rid)));
        }
    }

    async fn meeting_files(&self, rid: &str, last_try: bool) -> bool {
        let Some((_, v)) = self.meet("/meeting/getRecords", json!({ "recordId": rid })).await else {
            return true;
        };
        let files = v["data"].as_array().cloned().unwrap_or_default();
        if files.is_empty() && !last_try {
            return false;
        }
        if let Some(url) = files.first().and_then(|f| f["downUrl"].as_str()) {
            self.download(url, "bytes=1000-9999").await;
        }
        self.meet("/meeting/delRecordFile", json!({ "recordId": rid })).await;
        true
    }

    // ----- the control plane -----

    async fn admin_reads(&self) {
        let n = self.n();
        self.get("/__admin/requests", "/__admin/requests?limit=20").await;
        self.get("/__admin/callbacks", "/__admin/callbacks?state=held&limit=20").await;
        self.get("/__admin/clock", "/__admin/clock").await;
        if n.is_multiple_of(4) {
            self.get("/__admin/gateway/sessions", "/__admin/gateway/sessions").await;
            self.get("/__admin/faults", "/__admin/faults").await;
            self.get("/__admin/tenants", "/__admin/tenants").await;
        }
    }
}

fn wall_s() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Something to come back to once virtual time has moved on (recordings processed, transcodes done).
struct Later {
    what: Pending,
    since: Instant,
    tries: u32,
}

enum Pending {
    Cloud(String),
    Document(String),
    Room(u64),
    Meeting(String),
}

impl Later {
    fn new(what: Pending) -> Later {
        Later { what, since: Instant::now(), tries: 0 }
    }
    fn cloud(rid: String) -> Later {
        Later::new(Pending::Cloud(rid))
    }
}

/// One client: flows in a fixed rotation, coming back to what waits for virtual time.
async fn worker(s: Arc<Soak>, id: u64) {
    let mut later: VecDeque<Later> = VecDeque::new();
    let mut turn = id;
    while !s.stopping() {
        turn += 1;
        match turn % 16 {
            0 | 5 | 10 => s.iclass_class().await,
            1 | 8 => s.cloud_task(&mut later).await,
            2 | 12 => s.edu_class(&mut later).await,
            3 | 13 => s.meeting(&mut later).await,
            4 => s.live().await,
            6 | 14 => s.iclass_people(&mut later).await,
            7 => s.cloud_streams().await,
            9 => s.cloud_task(&mut later).await,
            11 => s.admin_reads().await,
            _ => s.live().await,
        }
        s.stats.flows.fetch_add(1, Ordering::Relaxed);
        // Come back to things that waited at least a second of wall time (at least one clock advance).
        while let Some(item) = later.front() {
            if item.since.elapsed() < Duration::from_millis(1200) || s.stopping() {
                break;
            }
            let Some(mut item) = later.pop_front() else { break };
            item.tries += 1;
            let last = item.tries >= 5;
            let done = match &item.what {
                Pending::Cloud(rid) => s.cloud_files(rid, last).await,
                Pending::Document(doc) => s.iclass_document(doc, last).await,
                Pending::Room(room) => {
                    s.edu("query_record_result", json!({ "class_roomid": room })).await;
                    true
                }
                Pending::Meeting(rid) => s.meeting_files(rid, last).await,
            };
            if !done {
                item.since = Instant::now();
                later.push_back(item);
            }
        }
    }
}

/// Virtual time: a day over the run, advanced once a second.
async fn clock(s: Arc<Soak>, step_s: f64) {
    while !s.stopping() {
        tokio::time::sleep(Duration::from_secs(1)).await;
        s.admin("/clock/advance", json!({ "seconds": step_s })).await;
    }
}

/// A full reset whenever another `reset_every` requests were sent.
async fn resets(s: Arc<Soak>) {
    while !s.stopping() {
        if tokio::time::timeout(Duration::from_secs(1), s.reset_due.notified()).await.is_ok() {
            s.reset().await;
        }
    }
}

/// Fault rules: one every half second, in a rotation of kinds; now and then one deleted, or all.
async fn faults(s: Arc<Soak>) {
    let rules = [
        json!({ "match": { "vendor": "meeting", "path": "/meeting/getLiveRecStatus" }, "action": { "error_code": 200009 }, "times": 5 }),
        json!({ "match": { "vendor": "cloud_record", "path": "/v1/record/task/list" }, "action": { "latency_ms": 20 }, "times": 5 }),
        json!({ "match": { "target": "callback", "vendor": "ilvb_edu" }, "action": { "http_status": 200, "body": "{}" }, "times": 3 }),
        json!({ "match": { "vendor": "iclass", "path": "/paas/v1/class/info" }, "action": { "http_status": 429 }, "times": 5 }),
        json!({ "match": { "path": "/never/matches" }, "action": { "drop": true } }),
        json!({ "match": { "vendor": "live_sdk", "path": "/live_sdk/v1/record/start", "body": { "platform": "android" } }, "action": { "error_code": 30000401 } }),
    ];
    let mut i = 0usize;
    while !s.stopping() {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rule = rules[i % rules.len()].clone();
        i += 1;
        if let Some((201, v)) = s.admin("/faults", rule).await {
            if i.is_multiple_of(9) {
                if let Some(id) = v["id"].as_u64() {
                    let url = s.url(&format!("/__admin/faults/{id}"));
                    s.send("/__admin/faults/{id}", s.client.delete(url)).await;
                }
            }
        }
    }
}

/// State dumps now and then (every fault of a dump is in it: the callbacks, the evicted counts).
async fn dumps(s: Arc<Soak>) {
    while !s.stopping() {
        tokio::time::sleep(Duration::from_secs(45)).await;
        if s.stopping() {
            break;
        }
        s.get("/__admin/state", "/__admin/state").await;
    }
}

/// One WebSocket of the event gateway, over and over: log in, subscribe to the demo group, read pushes for
/// a while (a `lazy` socket never reads), close; a socket the server closes (a reset) opens again.
async fn socket(s: Arc<Soak>, id: u64, lazy: bool) {
    let url = s.base.replacen("http://", "ws://", 1) + "/";
    let mut round = 0u64;
    while !s.stopping() {
        round += 1;
        let Ok(Ok((mut ws, _))) =
            tokio::time::timeout(Duration::from_secs(10), tokio_tungstenite::connect_async(url.as_str()))
                .await
        else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        };
        s.stats.ws_opened.fetch_add(1, Ordering::Relaxed);
        let login = json!({ "id": 20000, "dev_id": CR_DEV, "token": CR_TOKEN, "seq_id": 1 });
        let sub =
            json!({ "id": 20004, "seq_id": 2, "app_list": [{ "app_id": CR_APP, "group_list": [CR_GROUP] }] });
        let snap =
            json!({ "id": 20008, "seq_id": 3, "app_list": [{ "app_id": CR_APP, "group_list": [CR_GROUP] }] });
        let mut sent_ok = true;
        for f in [login, sub, snap] {
            sent_ok &= ws.send(Message::text(f.to_string())).await.is_ok();
        }
        if !sent_ok {
            continue;
        }
        let hold = Duration::from_secs(5 + (id * 7 + round * 3) % 25);
        let t0 = Instant::now();
        if lazy {
            while t0.elapsed() < hold && !s.stopping() {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        } else {
            while t0.elapsed() < hold && !s.stopping() {
                match tokio::time::timeout(Duration::from_millis(500), ws.next()).await {
                    Ok(Some(Ok(Message::Text(_)))) => {
                        s.stats.ws_frames.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => {
                        s.stats.ws_closed_by_server.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    Ok(Some(Ok(_))) | Err(_) => {}
                }
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
    }
}

/// What `/__admin/callbacks` and `/__admin/requests` say about the outbox and the journal now.
async fn outbox_line(s: &Soak) -> String {
    let get = |path: &'static str| {
        let client = s.client.clone();
        let url = s.url(path);
        async move {
            match client.get(url).timeout(Duration::from_secs(60)).send().await {
                Ok(r) => r.json::<Value>().await.unwrap_or(Value::Null),
                Err(_) => Value::Null,
            }
        }
    };
    let cb = get("/__admin/callbacks?limit=1").await;
    let held = get("/__admin/callbacks?state=held&limit=1").await;
    let failed = get("/__admin/callbacks?state=failed&limit=1").await;
    let journal = get("/__admin/requests?limit=1").await;
    let num = |v: &Value, k: &str| v[k].as_u64().map_or("-".to_string(), |n| n.to_string());
    let evicted = cb["evicted"]
        .as_object()
        .map_or("-".to_string(), |m| m.values().filter_map(Value::as_u64).sum::<u64>().to_string());
    format!(
        "{:>9} {:>9} {:>9} {:>9} {:>8}",
        num(&cb, "count"),
        num(&held, "count"),
        num(&failed, "count"),
        evicted,
        num(&journal, "held")
    )
}

struct Sample {
    at_s: u64,
    rss_kib: u64,
    requests: u64,
}

async fn run(seconds: u64, ci: bool) -> bool {
    let reset_every = env_u64("SOAK_RESET_EVERY", 5_000);
    let workers = env_u64("SOAK_WORKERS", 12);
    let sockets = env_u64("SOAK_SOCKETS", 20);
    // A day over ten minutes, whatever the run's length (a faster clock makes longer recordings: bigger
    // files, more MD5 work).
    let step_s = env_u64("SOAK_VIRTUAL_STEP", (DAY_S / 600.0) as u64) as f64;
    let mut server = Server::start();
    let base = format!("http://127.0.0.1:{}", server.port);
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let now = wall_s();
    let s = Arc::new(Soak {
        base: base.clone(),
        host: format!("127.0.0.1:{}", server.port),
        client: reqwest::Client::builder().pool_max_idle_per_host(64).build().expect("client"),
        stats: Stats::default(),
        stop: AtomicBool::new(false),
        reset_every,
        next: AtomicU64::new(1),
        edu_sig: recmock::tlssig::sign(EDU_APP, EDU_KEY, "admin", now - 60, 180 * 86_400),
        dead_url: format!("http://127.0.0.1:{dead_port}/cb"),
        reset_due: tokio::sync::Notify::new(),
        verbose: std::env::var("SOAK_VERBOSE").is_ok_and(|v| v == "1"),
    });
    println!(
        "soak: {seconds} s against {} (pid {}) on {base}, default flags{}; {workers} clients, {sockets} \
         WebSockets, a reset every {reset_every} requests, {step_s:.0} virtual s per wall s; RSS every {} s",
        binary(),
        server.child.id(),
        std::env::var("SOAK_RECMOCK_ARGS").map(|a| format!(" + `{a}`")).unwrap_or_default(),
        SAMPLE_EVERY.as_secs()
    );
    let mut tasks = Vec::new();
    for w in 0..workers {
        tasks.push(tokio::spawn(worker(s.clone(), w * 5)));
    }
    for k in 0..sockets {
        tasks.push(tokio::spawn(socket(s.clone(), k, k < 2)));
    }
    tasks.push(tokio::spawn(clock(s.clone(), step_s)));
    tasks.push(tokio::spawn(faults(s.clone())));
    tasks.push(tokio::spawn(dumps(s.clone())));
    tasks.push(tokio::spawn(resets(s.clone())));

    let t0 = Instant::now();
    let mut samples: Vec<Sample> = Vec::new();
    println!(
        "{:>6} {:>9} {:>11} {:>8} {:>6} | {:>9} {:>9} {:>9} {:>9} {:>8}",
        "t (s)", "RSS (MB)", "requests", "req/s", "5xx", "callbacks", "held", "failed", "evicted", "journal"
    );
    let mut last_requests = 0u64;
    let mut died = false;
    loop {
        let rss = server.rss_kib();
        let requests = s.stats.requests.load(Ordering::Relaxed);
        let at_s = t0.elapsed().as_secs();
        let rate = (requests - last_requests) / SAMPLE_EVERY.as_secs().max(1);
        last_requests = requests;
        let outbox = outbox_line(&s).await;
        println!(
            "{at_s:>6} {:>9.1} {requests:>11} {rate:>8} {:>6} | {outbox}",
            rss as f64 / 1024.0,
            s.stats.server_error_total()
        );
        samples.push(Sample { at_s, rss_kib: rss, requests });
        if !server.alive() {
            died = true;
            println!("recmock is no longer running");
            break;
        }
        if t0.elapsed() >= Duration::from_secs(seconds) {
            break;
        }
        let next =
            SAMPLE_EVERY.saturating_sub(Duration::from_millis(t0.elapsed().as_millis() as u64 % 10_000));
        tokio::time::sleep(
            next.min(Duration::from_secs(seconds).saturating_sub(t0.elapsed()) + Duration::from_millis(1)),
        )
        .await;
    }
    s.stop.store(true, Ordering::Relaxed);
    let elapsed = t0.elapsed().as_secs_f64();
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(30), t).await;
    }
    let dump = if died {
        Value::Null
    } else {
        match s.client.get(s.url("/__admin/state")).timeout(Duration::from_secs(120)).send().await {
            Ok(r) => r.json::<Value>().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        }
    };
    let exit = if died { None } else { server.stop() };
    let log = server.log.lock().map(|l| l.clone()).unwrap_or_default();
    let panics: Vec<&String> = log.iter().filter(|l| l.contains("panicked")).collect();
    let warnings: Vec<&String> = log.iter().filter(|l| l.contains("WARN")).collect();

    // ----- the report -----
    let st = &s.stats;
    let total = st.requests.load(Ordering::Relaxed);
    println!();
    println!(
        "{total} requests in {elapsed:.0} s ({:.0}/s), {} flows: {} 2xx/3xx, {} 4xx, {} 5xx, {} without an answer; \
         {} resets; {:.1} MB downloaded; WebSockets: {} opened, {} frames read, {} closed by the server",
        total as f64 / elapsed.max(1.0),
        st.flows.load(Ordering::Relaxed),
        st.ok.load(Ordering::Relaxed),
        st.client_errors.load(Ordering::Relaxed),
        st.server_error_total(),
        st.transport.load(Ordering::Relaxed),
        st.resets.load(Ordering::Relaxed),
        st.download_bytes.load(Ordering::Relaxed) as f64 / 1e6,
        st.ws_opened.load(Ordering::Relaxed),
        st.ws_frames.load(Ordering::Relaxed),
        st.ws_closed_by_server.load(Ordering::Relaxed),
    );
    if let Ok(m) = st.server_errors.lock() {
        for (k, v) in m.iter() {
            println!("  5xx: {k} × {v}");
        }
    }
    if let Ok(seen) = st.transport_seen.lock() {
        for e in seen.iter() {
            println!("  no answer: {e}");
        }
    }
    if s.verbose {
        if let Ok(m) = st.refusals.lock() {
            for (k, v) in m.iter() {
                println!("  refused: {k} × {v}");
            }
        }
    }
    if !dump.is_null() {
        let outbox = &dump["outbox"];
        println!(
            "final dump: {} callbacks, evicted {}, {} jobs, {} files",
            outbox["callbacks"].as_array().map_or(0, Vec::len),
            outbox.get("evicted").map_or("(not in the dump)".to_string(), Value::to_string),
            dump["scheduler"]["jobs"].as_array().map_or(0, Vec::len),
            dump["files"].as_array().map_or(0, Vec::len),
        );
    }
    println!("recmock's warnings ({}):", warnings.len());
    let mut shown = std::collections::BTreeSet::new();
    for w in &warnings {
        let key: String = w.split("WARN").nth(1).unwrap_or(w).chars().take(60).collect();
        if shown.insert(key) && shown.len() <= 20 {
            println!("  {w}");
        }
    }
    for p in &panics {
        println!("  PANIC: {p}");
    }
    println!(
        "recmock exited: {}",
        exit.map_or("killed (no exit in 20 s) or died".to_string(), |e| e.to_string())
    );

    let peak = samples.iter().map(|x| x.rss_kib).max().unwrap_or(0);
    let half: Vec<&Sample> = samples.iter().filter(|x| x.at_s * 2 >= seconds).collect();
    let median = |xs: &[&Sample]| {
        let mut v: Vec<u64> = xs.iter().map(|x| x.rss_kib).collect();
        v.sort_unstable();
        v.get(v.len() / 2).copied().unwrap_or(0)
    };
    let (first, last) = if half.len() >= 6 {
        (median(&half[..3]), median(&half[half.len() - 3..]))
    } else {
        (half.first().map_or(0, |x| x.rss_kib), half.last().map_or(0, |x| x.rss_kib))
    };
    let growth = if first > 0 { (last as f64 - first as f64) / first as f64 * 100.0 } else { 0.0 };
    let fivexx = st.server_error_total();
    let mut pass = fivexx == 0 && panics.is_empty() && !died;
    println!();
    println!("{:<56} {:>16}  {:<14} verdict", "", "measured", "target");
    let line = |what: &str, value: String, target: &str, ok: bool| {
        println!("{what:<56} {value:>16}  {target:<14} {}", if ok { "PASS" } else { "FAIL" });
    };
    line("answers 5xx", fivexx.to_string(), "0", fivexx == 0);
    line(
        "panics (recmock's stderr), crashes",
        (panics.len() + usize::from(died)).to_string(),
        "0",
        panics.is_empty() && !died,
    );
    if ci {
        let cap = env_u64("SOAK_RSS_CAP_MB", 512) * 1024;
        let ok = peak <= cap;
        pass &= ok;
        line("peak RSS", format!("{:.1} MB", peak as f64 / 1024.0), &format!("≤ {} MB", cap / 1024), ok);
    } else {
        let ok = growth < 5.0;
        pass &= ok;
        line(
            "RSS growth over the second half",
            format!("{growth:+.1} % ({:.1} → {:.1} MB)", first as f64 / 1024.0, last as f64 / 1024.0),
            "< 5 %",
            ok,
        );
        println!("{:<56} {:>16}", "peak RSS", format!("{:.1} MB", peak as f64 / 1024.0));
        let _ = samples.last().map(|x| x.requests);
    }
    println!("{}", if pass { "PASS" } else { "FAIL" });
    pass
}
