//! `make bench`: is recmock fast and light? Measured side by side with a bare actix-web baseline.
//!
//! Everything runs on loopback, against release builds started as separate processes:
//! - the recmock binary (`CARGO_BIN_EXE_recmock`), one fresh process per phase;
//! - the baseline: this same executable started again with `RECMOCK_BENCH_ROLE=bare`, serving two bare
//!   actix-web handlers (parse a small JSON body, store the typed struct in a DashMap, answer small JSON;
//!   serialise a page of 50 typed items);
//! - load from `wrk` (Debian's package; `make bench` installs it), driven by a Lua script generated per
//!   row, each run bounded in time (`RECMOCK_BENCH_SECONDS`, default 4).
//!
//! Phases: throughput table (rows are data: add one with a few lines in `rows()`), start-up time and
//! idle memory, memory per entity (100,000 record tasks, 100,000 users), list latency with 1,000 vs
//! 1,000,000 entities in one account, callback throughput into a local receiver, a 2-hour 1080p recording
//! (first byte, download rate, memory while it downloads, its MD5 against `md5sum`), and the HST event
//! gateway (1,000 WebSockets: event → last push, memory per socket), the dashboard (a page of a world
//! with 100,000 record tasks and 10,000 callbacks, rendered by the server), and the memory a state dump of
//! a large world takes while it is written. Every target is printed PASS or FAIL;
//! throughput is judged as a ratio to the baseline measured in the same run, because absolute numbers
//! depend on the machine (and on what else it is doing). `RECMOCK_BENCH_ONLY=table,startup,memory,scale,
//! callbacks,media,gateway,dashboard,dump` (any of them, comma-separated) runs only those phases.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RECMOCK: &str = env!("CARGO_BIN_EXE_recmock");

/// The allocator recmock's binary uses (src/main.rs), so the bare baseline is compared like for like.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
/// wrk threads and connections of the throughput rows.
const THREADS: usize = 2;
const CONNECTIONS: usize = 32;
/// Rounds of a row alternating with its baseline (each `RECMOCK_BENCH_SECONDS / ROUNDS` long, at least 1 s).
const ROUNDS: usize = 4;
/// The bench tenants (fixture written by `bench_fixture`).
const CR_APP: &str = "bench";
const IC_APP: u64 = 1_400_000_099;
const IC_KEY: &str = "bench-tic-key-0123456789abcdef01";
const IC_CLASS: u64 = 100_000_001;
/// Virtual start of the bench world (frozen) and an `expire_time` comfortably after it.
const START_S: i64 = 1_767_225_600;
const EXPIRE_S: i64 = START_S + 30 * 86_400;

fn main() {
    if std::env::var("RECMOCK_BENCH_ROLE").as_deref() == Ok("bare") {
        bare::serve();
        return;
    }
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let code = rt.block_on(orchestrate());
    std::process::exit(code);
}

// ----- results --------------------------------------------------------------------------------------

struct Verdict {
    what: String,
    value: String,
    target: String,
    pass: bool,
}

#[derive(Default)]
struct Report {
    verdicts: Vec<Verdict>,
    notes: Vec<String>,
}

impl Report {
    fn judge(
        &mut self,
        what: impl Into<String>,
        value: impl Into<String>,
        target: impl Into<String>,
        pass: bool,
    ) {
        let v = Verdict { what: what.into(), value: value.into(), target: target.into(), pass };
        println!(
            "  {:<58} {:>18}  {:<22} {}",
            v.what,
            v.value,
            v.target,
            if v.pass { "PASS" } else { "FAIL" }
        );
        self.verdicts.push(v);
    }
}

// ----- processes ------------------------------------------------------------------------------------

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    fn rss_kib(&self) -> u64 {
        rss_kib(self.child.id())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// A `/proc/<pid>/status` line in KiB (`VmRSS:` now, `VmHWM:` the peak so far).
fn status_kib(pid: u32, line: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(line)).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// One `GET /__admin/health` over a fresh connection: did it answer 200?
fn health_ok(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(n) if n >= 12 && &buf[9..12] == b"200")
}

/// Start recmock and wait for its first successful health answer; returns the server and that time.
fn start_recmock(args: &[&str]) -> (Server, Duration) {
    let port = free_port();
    let t0 = Instant::now();
    let child = Command::new(RECMOCK)
        .args(["--port", &port.to_string(), "--log-level", "warn"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("recmock starts");
    let server = Server { child, port };
    while !health_ok(port) {
        assert!(t0.elapsed() < Duration::from_secs(20), "recmock did not answer within 20 s");
        std::thread::sleep(Duration::from_micros(200));
    }
    (server, t0.elapsed())
}

fn start_bare() -> Server {
    let port = free_port();
    let child = Command::new(std::env::current_exe().expect("own path"))
        .env("RECMOCK_BENCH_ROLE", "bare")
        .env("RECMOCK_BENCH_PORT", port.to_string())
        .stdout(Stdio::null())
        .spawn()
        .expect("bare server starts");
    let server = Server { child, port };
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(20), "bare server did not start");
        std::thread::sleep(Duration::from_millis(2));
    }
    server
}

fn bench_fixture() -> std::path::PathBuf {
    let doc = json!({
        "clock": {"start": START_S, "frozen": true},
        "cloud_record": {"accounts": [{
            "dev_id": "bench", "token": "bench-token", "app_id": CR_APP,
            "max_tasks": 100_000_000u64, "max_group_tasks": 100_000_000u64, "quota_bytes": 1u64 << 50
        }]},
        "iclass": {
            "apps": [{"sdkappid": IC_APP, "tic_key": IC_KEY}],
            "users": [{"sdkappid": IC_APP, "user_id": "bench_teacher", "role": "teacher"}],
            "classes": [{"sdkappid": IC_APP, "class_id": IC_CLASS, "teacher_id": "bench_teacher"}]
        }
    });
    let path = std::env::temp_dir().join(format!("recmock-bench-{}.json", std::process::id()));
    std::fs::write(&path, doc.to_string()).expect("fixture written");
    path
}

// ----- HTTP control calls ---------------------------------------------------------------------------

async fn call(
    client: &reqwest::Client,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&str>,
) -> (u16, Value) {
    let mut r = client.request(method.parse().expect("method"), url);
    for (k, v) in headers {
        r = r.header(k, v);
    }
    if let Some(b) = body {
        r = r.header("content-type", "application/json").body(b.to_string());
    }
    match r.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let v = resp.json().await.unwrap_or(Value::Null);
            (status, v)
        }
        Err(e) => (0, json!({ "transport_error": e.to_string() })),
    }
}

fn sign() -> String {
    recmock::outbox::md5_sign(IC_KEY, EXPIRE_S)
}

fn iclass_path(endpoint: &str) -> String {
    format!("/paas/v1/{endpoint}?sdkappid={IC_APP}&random=7&sign={}", sign())
}

// ----- load generation (wrk) ------------------------------------------------------------------------

/// One request of a row; `{n}` in the path or body becomes a number unique per wrk thread and step.
#[derive(Clone)]
struct Req {
    method: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

impl Req {
    fn get(path: impl Into<String>) -> Req {
        Req { method: "GET", path: path.into(), headers: Vec::new(), body: None }
    }
    fn post(path: impl Into<String>, body: impl Into<String>) -> Req {
        Req { method: "POST", path: path.into(), headers: Vec::new(), body: Some(body.into()) }
    }
    fn header(mut self, k: &str, v: &str) -> Req {
        self.headers.push((k.into(), v.into()));
        self
    }
    fn at(&self, n: u64) -> Req {
        let fill = |s: &str| s.replace("{n}", &n.to_string());
        Req {
            method: self.method,
            path: fill(&self.path),
            headers: self.headers.clone(),
            body: self.body.as_deref().map(fill),
        }
    }
}

/// What one wrk run measured.
#[derive(Debug, Clone, Copy, Default)]
struct Load {
    requests: u64,
    rps: f64,
    p50_us: u64,
    p99_us: u64,
    http_errors: u64,
    socket_errors: u64,
}

impl Load {
    /// Several runs as one: requests and errors added up, rates over the total time, latencies averaged.
    fn sum(runs: &[Load]) -> Load {
        let n = runs.len().max(1) as u64;
        let requests: u64 = runs.iter().map(|l| l.requests).sum();
        let secs: f64 = runs.iter().map(|l| l.requests as f64 / l.rps.max(1e-9)).sum();
        Load {
            requests,
            rps: requests as f64 / secs.max(1e-9),
            p50_us: runs.iter().map(|l| l.p50_us).sum::<u64>() / n,
            p99_us: runs.iter().map(|l| l.p99_us).sum::<u64>() / n,
            http_errors: runs.iter().map(|l| l.http_errors).sum(),
            socket_errors: runs.iter().map(|l| l.socket_errors).sum(),
        }
    }
}

fn lua_str(s: &str) -> String {
    format!("[==[{s}]==]")
}

/// The wrk script: requests cycle through `reqs`; `{n}` runs through a window of `window` numbers per
/// thread (thread t uses t·window ..), each request template in turn for a whole window, so a sequence
/// like open/close touches each resource once per step. `limit` stops each thread after that many.
fn wrk_script(reqs: &[Req], window: u64, limit: Option<u64>) -> String {
    let mut templates = String::new();
    for r in reqs {
        let headers: String = r
            .headers
            .iter()
            .chain(
                r.body.as_ref().map(|_| ("Content-Type".to_string(), "application/json".to_string())).iter(),
            )
            .map(|(k, v)| format!("[ {} ]={},", lua_str(k), lua_str(v)))
            .collect();
        let dynamic = r.path.contains("{n}") || r.body.as_deref().is_some_and(|b| b.contains("{n}"));
        templates.push_str(&format!(
            "{{method={}, path={}, headers={{{headers}}}, body={}, dynamic={dynamic}}},\n",
            lua_str(r.method),
            lua_str(&r.path),
            r.body.as_deref().map_or("nil".to_string(), lua_str)
        ));
    }
    format!(
        r#"
local templates = {{
{templates}}}
local window = {window}
local limit = {limit}
local tid_counter = 0
function setup(thread)
  thread:set("tid", tid_counter)
  tid_counter = tid_counter + 1
end
local counter = 0
local base = 0
function init(args)
  base = (tid or 0) * window
  for _, t in ipairs(templates) do
    if not t.dynamic then t.static = wrk.format(t.method, t.path, t.headers, t.body) end
  end
end
function request()
  local i = counter
  counter = counter + 1
  if limit > 0 and counter > limit then wrk.thread:stop() end
  local t = templates[(math.floor(i / window) % #templates) + 1]
  if t.static then return t.static end
  local n = tostring(base + (i % window))
  local body = nil
  if t.body then body = t.body:gsub("{{n}}", n) end
  return wrk.format(t.method, (t.path:gsub("{{n}}", n)), t.headers, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"#,
        limit = limit.unwrap_or(0)
    )
}

fn wrk_bin() -> String {
    std::env::var("WRK").unwrap_or_else(|_| "wrk".into())
}

fn run_wrk(
    base: &str,
    reqs: &[Req],
    window: u64,
    threads: usize,
    conns: usize,
    secs: f64,
    limit: Option<u64>,
) -> Load {
    let script = std::env::temp_dir().join(format!(
        "recmock-bench-{}-{}.lua",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    std::fs::write(&script, wrk_script(reqs, window, limit)).expect("script written");
    let out = Command::new(wrk_bin())
        .args([
            "-t",
            &threads.to_string(),
            "-c",
            &conns.to_string(),
            "-d",
            &format!("{}s", secs.ceil().max(1.0) as u64),
        ])
        .args(["--timeout", "10s", "-s"])
        .arg(&script)
        .arg(base)
        .output()
        .expect("wrk runs (make bench installs it; or set WRK=/path/to/wrk)");
    let _ = std::fs::remove_file(&script);
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("RESULT ")).unwrap_or_else(|| {
        panic!("wrk printed no result:\n{text}\n{}", String::from_utf8_lossy(&out.stderr))
    });
    let f: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let (requests, dur_us) = (f[0], f[1].max(1));
    Load {
        requests,
        rps: requests as f64 * 1e6 / dur_us as f64,
        p50_us: f[2],
        p99_us: f[3],
        http_errors: f[4],
        socket_errors: f[5],
    }
}

// ----- the throughput table --------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Target {
    Bare,
    Recmock,
}

/// How a vendor says "success" in a JSON answer.
#[derive(Clone, Copy)]
enum Success {
    Code0,
    ErrorCode0,
    MeetingState1,
    StatusOk,
}

impl Success {
    fn ok(self, v: &Value) -> bool {
        match self {
            Success::Code0 => v["code"] == json!(0),
            Success::ErrorCode0 => v["error_code"] == json!(0),
            Success::MeetingState1 => v["state"] == json!(1),
            Success::StatusOk => v["status"] == json!("ok"),
        }
    }
}

/// A row of the table. Add one with a few lines in [`rows`].
struct Row {
    /// `a1`, `b2`, ...
    id: &'static str,
    name: &'static str,
    target: Target,
    /// cycled (see [`wrk_script`])
    reqs: Vec<Req>,
    window: u64,
    /// the answers count as success when
    success: Success,
    /// loaded into the running server first (`POST /__admin/fixtures`); refused → row skipped with `absent`
    fixture: Option<Value>,
    /// requests made once (with `{n}` = a number outside the load's window) that must succeed first;
    /// HTTP 404 → the row is skipped, printing `absent`
    probe: Vec<Req>,
    absent: &'static str,
    /// the row it is judged against (≥ 0.7× its requests/s)
    baseline: Option<&'static str>,
    /// a request whose JSON answer holds a count (at this pointer) that the load must raise by the number
    /// of requests it made (so a load of refusals cannot pass for a load of work)
    counter: Option<(Req, &'static str)>,
}

fn rows(access_token: &str) -> Vec<Row> {
    let auth = |r: Req| r.header("Authorization", access_token);
    let ic = |endpoint: &str, body: String| Req::post(iclass_path(endpoint), body);
    // 003: a public-cloud tenant (`auth` is `<API ID>:<API KEY>`) and meetings in progress, in the fixture
    // shape of docs/fixtures.md; conference keys 0.. are the row's `{n}`, each call carries the `auth` header.
    // A build without the meeting vendor refuses the fixture and the row says so.
    let conferences: Vec<Value> = (0..=(THREADS as u64 * 1024))
        .map(|n| json!({"ent_id": 52, "conference_key": n.to_string(), "allow_record": true, "allow_live": true, "started": true}))
        .collect();
    let meeting_fixture = json!({"meeting": {"tenants": [{"auth": "bench-api-id:bench-api-key", "ent_id": 52, "cloud": "public"}], "conferences": conferences}});
    let meeting = |path: &str| {
        Req::post(path.to_string(), r#"{"conferenceKey":"{n}"}"#.to_string())
            .header("auth", "bench-api-id:bench-api-key")
    };
    vec![
        Row {
            id: "a1",
            name: "bare: parse JSON, store typed struct in DashMap, answer",
            target: Target::Bare,
            reqs: vec![Req::post("/items", r#"{"app_id":"bench","group_id":"g{n}"}"#)],
            window: 1_000_000,
            success: Success::Code0,
            fixture: None,
            probe: vec![Req::post("/items", r#"{"app_id":"bench","group_id":"probe"}"#)],
            absent: "",
            baseline: None,
            counter: None,
        },
        Row {
            id: "a2",
            name: "bare: serialise a page of 50 typed items",
            target: Target::Bare,
            reqs: vec![Req::get("/page")],
            window: 1,
            success: Success::Code0,
            fixture: None,
            probe: vec![Req::get("/page")],
            absent: "",
            baseline: None,
            counter: None,
        },
        Row {
            id: "b1",
            name: "001 POST /v1/record/init (a new task each)",
            target: Target::Recmock,
            reqs: vec![auth(Req::post(
                "/v1/record/init",
                format!(r#"{{"app_id":"{CR_APP}","group_id":"g{{n}}"}}"#),
            ))],
            window: 1_000_000,
            success: Success::Code0,
            fixture: None,
            probe: vec![auth(Req::post(
                "/v1/record/init",
                format!(r#"{{"app_id":"{CR_APP}","group_id":"probe"}}"#),
            ))],
            absent: "",
            baseline: Some("a1"),
            counter: Some((
                auth(Req::get(format!("/v1/record/task/list?app_id={CR_APP}&page_size=1"))),
                "/total_num",
            )),
        },
        Row {
            id: "b2",
            name: "001 GET /v1/record/task/list (page of 50)",
            target: Target::Recmock,
            reqs: vec![auth(Req::get(format!("/v1/record/task/list?app_id={CR_APP}&page=2&page_size=50")))],
            window: 1,
            success: Success::Code0,
            fixture: None,
            probe: vec![auth(Req::get(format!("/v1/record/task/list?app_id={CR_APP}&page=2&page_size=50")))],
            absent: "",
            baseline: Some("a2"),
            counter: None,
        },
        Row {
            id: "c1",
            name: "004 POST /paas/v1/class/create (signed)",
            target: Target::Recmock,
            reqs: vec![ic(
                "class/create",
                format!(
                    r#"{{"expire_time":{EXPIRE_S},"teacher_id":"bench_teacher","class_topic":"t{{n}}"}}"#
                ),
            )],
            window: 1_000_000,
            success: Success::ErrorCode0,
            fixture: None,
            probe: vec![ic(
                "class/create",
                format!(r#"{{"expire_time":{EXPIRE_S},"teacher_id":"bench_teacher"}}"#),
            )],
            absent: "",
            baseline: Some("a1"),
            counter: Some((ic("class/list", format!(r#"{{"expire_time":{EXPIRE_S},"size":1}}"#)), "/total")),
        },
        Row {
            id: "c2",
            name: "004 POST /paas/v1/class/info (signed)",
            target: Target::Recmock,
            reqs: vec![ic("class/info", format!(r#"{{"expire_time":{EXPIRE_S},"class_id":{IC_CLASS}}}"#))],
            window: 1,
            success: Success::ErrorCode0,
            fixture: None,
            probe: vec![ic("class/info", format!(r#"{{"expire_time":{EXPIRE_S},"class_id":{IC_CLASS}}}"#))],
            absent: "",
            baseline: Some("a1"),
            counter: None,
        },
        Row {
            id: "d",
            name: "003 POST /meeting/openRecord + closeRecord",
            target: Target::Recmock,
            // 1024 conferences per wrk thread: 1024 opens, then the 1024 closes, and again.
            reqs: vec![meeting("/meeting/openRecord"), meeting("/meeting/closeRecord")],
            window: 1024,
            success: Success::MeetingState1,
            fixture: Some(meeting_fixture),
            probe: vec![meeting("/meeting/openRecord"), meeting("/meeting/closeRecord")],
            absent: "meeting vendor not present",
            baseline: Some("a1"),
            counter: None,
        },
        Row {
            id: "e",
            name: "GET /__admin/health",
            target: Target::Recmock,
            reqs: vec![Req::get("/__admin/health")],
            window: 1,
            success: Success::StatusOk,
            fixture: None,
            probe: vec![Req::get("/__admin/health")],
            absent: "",
            baseline: Some("a1"),
            counter: None,
        },
    ]
}

/// The throughput table: every row of [`rows`], against the bare baseline and recmock.
async fn table(client: &reqwest::Client, report: &mut Report, secs: f64) {
    let bare = start_bare();
    let fixture = bench_fixture();
    let (server, _) = start_recmock(&["--fixture", fixture.to_str().unwrap_or_default(), "--seed", "1"]);
    let (_, tok) = call(
        client,
        "GET",
        &format!("{}/access/token?dev_id=bench&token=bench-token", server.url()),
        &[],
        None,
    )
    .await;
    let access_token = tok["result"]["access_token"].as_str().unwrap_or_default().to_string();
    // Warm both servers up (connections, allocator, first pages), then measure.
    run_wrk(&bare.url(), &[Req::get("/page")], 1, THREADS, CONNECTIONS, 1.0, None);
    run_wrk(&server.url(), &[Req::get("/__admin/health")], 1, THREADS, CONNECTIONS, 1.0, None);
    println!("\nThroughput ({THREADS} wrk threads, {CONNECTIONS} connections, {secs} s per row; ratio to the baseline of the same run)");
    println!("      {:<52} {:>10} {:>9} {:>9} {:>7}  target", "row", "req/s", "p50", "p99", "ratio");
    let all = rows(&access_token);
    for row in &all {
        let base = match row.target {
            Target::Bare => bare.url(),
            Target::Recmock => server.url(),
        };
        if let Some(f) = &row.fixture {
            let (status, v) = call(
                client,
                "POST",
                &format!("{base}/__admin/fixtures?name=bench-{}", row.id),
                &[],
                Some(&f.to_string()),
            )
            .await;
            if status != 200 {
                let why = v["errors"].get(0).map(|e| e.to_string()).unwrap_or_else(|| v.to_string());
                println!("  {:<3} {:<52} skipped: {} (fixture refused: {why})", row.id, row.name, row.absent);
                report.notes.push(format!("row {} ({}) skipped: {}", row.id, row.name, row.absent));
                continue;
            }
        }
        let mut skip = None;
        for p in &row.probe {
            let p = p.at(row.window * THREADS as u64);
            let (status, v) =
                call(client, p.method, &format!("{base}{}", p.path), &p.headers, p.body.as_deref()).await;
            if status == 404 {
                skip = Some(row.absent.to_string());
                break;
            }
            if status != 200 || !row.success.ok(&v) {
                skip = Some(format!("probe {} {} answered {status} {v}", p.method, p.path));
                break;
            }
        }
        if let Some(why) = skip {
            println!("  {:<3} {:<52} skipped: {why}", row.id, row.name);
            report.notes.push(format!("row {} ({}) skipped: {why}", row.id, row.name));
            continue;
        }
        let count = |v: &Value, ptr: &str| v.pointer(ptr).and_then(Value::as_u64).unwrap_or(0);
        let before = match &row.counter {
            Some((r, ptr)) => count(
                &call(client, r.method, &format!("{base}{}", r.path), &r.headers, r.body.as_deref()).await.1,
                ptr,
            ),
            None => 0,
        };
        // A row is measured in rounds alternating with its baseline, so both see the same machine (which
        // may be busy with other work that comes and goes): the ratio is of the totals.
        let baseline = row.baseline.and_then(|b| all.iter().find(|r| r.id == b));
        let (load, ratio) = match baseline {
            None => (run_wrk(&base, &row.reqs, row.window, THREADS, CONNECTIONS, secs, None), None),
            Some(b) => {
                let slice = (secs / ROUNDS as f64).max(1.0);
                let (mut mine, mut theirs) = (Vec::new(), Vec::new());
                // Rounds in the order baseline, recmock, recmock, baseline, ... so a load that rises or
                // falls during the row weighs on both sides alike.
                for round in 0..ROUNDS {
                    let bare_first = round % 2 == 0;
                    if bare_first {
                        theirs.push(run_wrk(
                            &bare.url(),
                            &b.reqs,
                            b.window,
                            THREADS,
                            CONNECTIONS,
                            slice,
                            None,
                        ));
                    }
                    mine.push(run_wrk(&base, &row.reqs, row.window, THREADS, CONNECTIONS, slice, None));
                    if !bare_first {
                        theirs.push(run_wrk(
                            &bare.url(),
                            &b.reqs,
                            b.window,
                            THREADS,
                            CONNECTIONS,
                            slice,
                            None,
                        ));
                    }
                }
                let (m, t) = (Load::sum(&mine), Load::sum(&theirs));
                (m, Some(m.rps / t.rps))
            }
        };
        println!(
            "  {:<3} {:<52} {:>10.0} {:>7.2}ms {:>7.2}ms {:>7}  {}",
            row.id,
            row.name,
            load.rps,
            load.p50_us as f64 / 1000.0,
            load.p99_us as f64 / 1000.0,
            ratio.map_or("1.00".to_string(), |r| format!("{r:.2}")),
            row.baseline.map_or("baseline".to_string(), |b| format!("≥ 0.70 × {b}"))
        );
        let mut failed = Vec::new();
        if load.http_errors + load.socket_errors > 0 {
            failed.push(format!("{} HTTP errors, {} socket errors", load.http_errors, load.socket_errors));
        }
        if let Some((r, ptr)) = &row.counter {
            let after = count(
                &call(client, r.method, &format!("{base}{}", r.path), &r.headers, r.body.as_deref()).await.1,
                ptr,
            );
            let made = after.saturating_sub(before);
            // wrk counts answers it read; requests still in flight when it stopped may have been served too.
            if made < load.requests || made > load.requests + (ROUNDS * CONNECTIONS) as u64 {
                failed.push(format!("{made} entities created for {} answers", load.requests));
            }
        }
        if !failed.is_empty() {
            report.notes.push(format!("row {}: {}", row.id, failed.join("; ")));
            println!("      ! {}", failed.join("; "));
        }
        if let (Some(r), Some(b)) = (ratio, row.baseline) {
            report.verdicts.push(Verdict {
                what: format!("{} {} vs {b}", row.id, row.name),
                value: format!("{r:.2}×"),
                target: "≥ 0.70×".into(),
                pass: r >= 0.7 && failed.is_empty(),
            });
        }
    }
    let _ = std::fs::remove_file(fixture);
}

// ----- start-up and memory ---------------------------------------------------------------------------

async fn startup(report: &mut Report) {
    println!("\nStart-up (the embedded demo world, release binary; 7 starts)");
    let mut times = Vec::new();
    let mut idle = Vec::new();
    for _ in 0..7 {
        let (server, t) = start_recmock(&[]);
        times.push(t);
        std::thread::sleep(Duration::from_millis(300));
        idle.push(server.rss_kib());
    }
    times.sort();
    idle.sort();
    let (t, rss) = (times[times.len() / 2], idle[idle.len() / 2]);
    println!(
        "  process start → first 200 from /__admin/health: median {:.1} ms (min {:.1}, max {:.1})",
        ms(t),
        ms(times[0]),
        ms(times[times.len() - 1])
    );
    println!("  idle resident memory (VmRSS): median {:.1} MB", rss as f64 / 1024.0);
    report.judge(
        "start-up to first /__admin/health answer",
        format!("{:.1} ms", ms(t)),
        "< 20 ms",
        t < Duration::from_millis(20),
    );
    report.judge("idle RSS", format!("{:.1} MB", rss as f64 / 1024.0), "< 15 MB", rss < 15 * 1024);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn memory(client: &reqwest::Client, report: &mut Report) {
    const N: u64 = 100_000;
    println!(
        "\nMemory per entity (VmRSS growth of a fresh server; the request journal's 10,000 entries included)"
    );
    let fixture = bench_fixture();
    let (server, _) = start_recmock(&["--fixture", fixture.to_str().unwrap_or_default(), "--seed", "1"]);
    let base = server.url();
    let (_, tok) =
        call(client, "GET", &format!("{base}/access/token?dev_id=bench&token=bench-token"), &[], None).await;
    let at = tok["result"]["access_token"].as_str().unwrap_or_default().to_string();
    let list = format!("{base}/v1/record/task/list?app_id={CR_APP}&page_size=1");
    let auth = [("Authorization".to_string(), at.clone())];
    call(client, "GET", &list, &auth, None).await;
    std::thread::sleep(Duration::from_millis(200));
    let rss0 = server.rss_kib();
    let init = Req::post("/v1/record/init", format!(r#"{{"app_id":"{CR_APP}","group_id":"g{{n}}"}}"#))
        .header("Authorization", &at);
    run_wrk(&base, &[init], 10_000_000, THREADS, CONNECTIONS, 40.0, Some(N / THREADS as u64));
    let tasks = call(client, "GET", &list, &auth, None).await.1["total_num"].as_u64().unwrap_or(0).max(1);
    std::thread::sleep(Duration::from_millis(200));
    let rss1 = server.rss_kib();
    for batch in 0..N / 1000 {
        let users: Vec<Value> = (0..1000)
            .map(|i| json!({"user_id": format!("u{}", batch * 1000 + i), "role": "student"}))
            .collect();
        let body = json!({"expire_time": EXPIRE_S, "list": users}).to_string();
        call(client, "POST", &format!("{base}{}", iclass_path("user/register")), &[], Some(&body)).await;
    }
    let (_, v) = call(
        client,
        "POST",
        &format!("{base}{}", iclass_path("user/list")),
        &[],
        Some(&json!({"expire_time": EXPIRE_S, "size": 1}).to_string()),
    )
    .await;
    let users = v["total"].as_u64().unwrap_or(0).saturating_sub(1).max(1);
    std::thread::sleep(Duration::from_millis(200));
    let rss2 = server.rss_kib();
    let per_task = (rss1.saturating_sub(rss0)) * 1024 / tasks;
    let per_user = (rss2.saturating_sub(rss1)) * 1024 / users;
    println!("  start {:.1} MB; after {tasks} record tasks (001 init, each with its idle-timeout job) {:.1} MB; after {users} users (004 user/register) {:.1} MB", rss0 as f64 / 1024.0, rss1 as f64 / 1024.0, rss2 as f64 / 1024.0);
    report.judge("bytes per record task", format!("{per_task} B"), "≤ 1024 B", per_task <= 1024);
    println!("  {:<58} {:>18}  (no target)", "bytes per user", format!("{per_user} B"));
    report.notes.push(format!("memory: {per_task} B per record task, {per_user} B per user"));
    let _ = std::fs::remove_file(fixture);
}

// ----- scale -----------------------------------------------------------------------------------------

async fn scale(client: &reqwest::Client, report: &mut Report, secs: f64) {
    println!(
        "\nList latency with 1,000 vs 1,000,000 entities in one account (wrk, 1 connection; two servers, \
         4 pairs of 1 s rounds back to back; p50 = median of a side's rounds, ratio = median of the pairs' ratios)"
    );
    let fixture = bench_fixture();
    let start = || start_recmock(&["--fixture", fixture.to_str().unwrap_or_default(), "--seed", "1"]).0;
    // Two servers measured in alternation (as the table's rows): the machine may be busier during one
    // stretch than another, and the 1k and 1M figures must see the same machine.
    let (small, large) = (start(), start());
    let token = |base: String| async move {
        let (_, tok) =
            call(client, "GET", &format!("{base}/access/token?dev_id=bench&token=bench-token"), &[], None)
                .await;
        tok["result"]["access_token"].as_str().unwrap_or_default().to_string()
    };
    let seed = |base: String, body: Value| async move {
        let (status, v) =
            call(client, "POST", &format!("{base}/__admin/seed"), &[], Some(&body.to_string())).await;
        assert_eq!(status, 200, "seeding failed: {v}");
        v
    };
    let cases = |total: u64, at: &str| -> Vec<(&'static str, Req)> {
        let mid_page = (total / 50 / 2).max(1);
        let mid_index = total / 50 / 2;
        vec![
            (
                "001 task/list page 1 of 50",
                Req::get(format!("/v1/record/task/list?app_id={CR_APP}&page_size=50"))
                    .header("Authorization", at),
            ),
            (
                "001 task/list middle page",
                Req::get(format!("/v1/record/task/list?app_id={CR_APP}&page_size=50&page={mid_page}"))
                    .header("Authorization", at),
            ),
            (
                "001 task/list status=6, middle page",
                Req::get(format!(
                    "/v1/record/task/list?app_id={CR_APP}&page_size=50&status=6&page={mid_page}"
                ))
                .header("Authorization", at),
            ),
            (
                "004 class/list first 50",
                Req::post(iclass_path("class/list"), format!(r#"{{"expire_time":{EXPIRE_S},"size":50}}"#)),
            ),
            (
                "004 class/list middle page",
                Req::post(
                    iclass_path("class/list"),
                    format!(r#"{{"expire_time":{EXPIRE_S},"size":50,"index":{mid_index}}}"#),
                ),
            ),
            (
                "004 class/list status=will, middle page",
                Req::post(
                    iclass_path("class/list"),
                    format!(
                        r#"{{"expire_time":{EXPIRE_S},"size":50,"index":{mid_index},"class_status":["will"]}}"#
                    ),
                ),
            ),
        ]
    };
    seed(small.url(), json!({"tenant": format!("cloud_record:{CR_APP}"), "tasks": 1000})).await;
    seed(small.url(), json!({"tenant": format!("iclass:{IC_APP}"), "classes": 999})).await;
    let t = Instant::now();
    let a = seed(large.url(), json!({"tenant": format!("cloud_record:{CR_APP}"), "tasks": 1_000_000})).await;
    let b = seed(large.url(), json!({"tenant": format!("iclass:{IC_APP}"), "classes": 999_999})).await;
    println!(
        "  seeded to {} tasks and {} classes in {:.1} s (POST /__admin/seed); RSS now {:.0} MB (the 1k server: {:.0} MB)",
        a["total_tasks"],
        b["total_classes"],
        t.elapsed().as_secs_f64(),
        large.rss_kib() as f64 / 1024.0,
        small.rss_kib() as f64 / 1024.0
    );
    let (small_at, large_at) = (token(small.url()).await, token(large.url()).await);
    // Pairs of 1 s rounds, one on each server back to back (1k first, then 1M first, in turn); the
    // verdict is the median of the pairs' ratios. A pair sees one state of the machine, so a busy stretch
    // (seen: every request at ~350 µs for a minute, on both servers) slows both sides of a pair, and
    // the median drops a pair that a shorter hiccup split.
    const PAIRS: usize = 4;
    let round_secs = (secs / 2.0).max(1.0);
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n == 0 {
            0.0
        } else if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    };
    for ((name, req_1k), (_, req_1m)) in cases(1000, &small_at).into_iter().zip(cases(1_000_000, &large_at)) {
        let (mut at_1k, mut at_1m) = (Vec::new(), Vec::new());
        for pair in 0..PAIRS {
            let small_run =
                || run_wrk(&small.url(), std::slice::from_ref(&req_1k), 1, 1, 1, round_secs, None);
            let large_run =
                || run_wrk(&large.url(), std::slice::from_ref(&req_1m), 1, 1, 1, round_secs, None);
            if pair % 2 == 0 {
                at_1k.push(small_run());
                at_1m.push(large_run());
            } else {
                at_1m.push(large_run());
                at_1k.push(small_run());
            }
        }
        let p50 = |runs: &[Load]| median(runs.iter().map(|l| l.p50_us as f64).collect()) as u64;
        let p99 = |runs: &[Load]| runs.iter().map(|l| l.p99_us).max().unwrap_or(0);
        let errors = |runs: &[Load]| runs.iter().map(|l| l.http_errors).sum::<u64>();
        let ratio =
            median(at_1k.iter().zip(&at_1m).map(|(s, l)| l.p50_us as f64 / s.p50_us.max(1) as f64).collect());
        println!(
            "  {:<44} 1k: p50 {:>6} µs p99 {:>6} µs   1M: p50 {:>6} µs p99 {:>6} µs",
            name,
            p50(&at_1k),
            p99(&at_1k),
            p50(&at_1m),
            p99(&at_1m)
        );
        report.verdicts.push(Verdict {
            what: format!("{name}: p50 at 1M / at 1k"),
            value: format!("{ratio:.2}×"),
            target: "≤ 2×".into(),
            pass: ratio <= 2.0 && errors(&at_1m) == 0 && errors(&at_1k) == 0,
        });
    }
    let _ = std::fs::remove_file(fixture);
}

// ----- callbacks -------------------------------------------------------------------------------------

/// A minimal HTTP receiver: answers every POST `{"error_code":0}` and counts distinct class ids.
async fn receiver() -> (
    u16,
    std::sync::Arc<parking_lot::Mutex<std::collections::HashSet<u64>>>,
    std::sync::Arc<std::sync::atomic::AtomicU64>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("receiver binds");
    let port = listener.local_addr().expect("port").port();
    let seen = std::sync::Arc::new(parking_lot::Mutex::new(std::collections::HashSet::new()));
    let posts = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (seen2, posts2) = (seen.clone(), posts.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (seen, posts) = (seen2.clone(), posts2.clone());
            tokio::spawn(async move {
                let mut buf = Vec::with_capacity(8192);
                let mut chunk = [0u8; 8192];
                loop {
                    // One request: head, then Content-Length bytes of body.
                    let (head_end, len) = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                            let len = head
                                .lines()
                                .find_map(|l| {
                                    l.strip_prefix("content-length:")
                                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                                })
                                .unwrap_or(0);
                            break (i + 4, len);
                        }
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    while buf.len() < head_end + len {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body: Value =
                        serde_json::from_slice(&buf[head_end..head_end + len]).unwrap_or(Value::Null);
                    if let Some(id) = body["data"]["class_id"].as_u64() {
                        seen.lock().insert(id);
                    }
                    posts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    buf.drain(..head_end + len);
                    let answer = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 16\r\n\r\n{\"error_code\":0}";
                    if sock.write_all(answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, seen, posts)
}

async fn callbacks(client: &reqwest::Client, report: &mut Report) {
    const N: u64 = 10_000;
    println!("\nCallbacks: {N} class_begin events (004) into a local receiver");
    let fixture = bench_fixture();
    let (server, _) = start_recmock(&["--fixture", fixture.to_str().unwrap_or_default(), "--seed", "1"]);
    let base = server.url();
    let (port, seen, posts) = receiver().await;
    let (status, v) = call(
        client,
        "POST",
        &format!("{base}/__admin/seed"),
        &[],
        Some(&json!({"tenant": format!("iclass:{IC_APP}"), "classes": N}).to_string()),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (_, list) = call(
        client,
        "POST",
        &format!("{base}{}", iclass_path("class/list")),
        &[],
        Some(&json!({"expire_time": EXPIRE_S, "size": 100, "class_status": ["will"]}).to_string()),
    )
    .await;
    let _ = list;
    // Every seeded class id, from the state dump's iclass section.
    let (_, dump) = call(client, "GET", &format!("{base}/__admin/state"), &[], None).await;
    let ids: Vec<u64> = dump["vendors"]["iclass"]["apps"][IC_APP.to_string()]["classes"]
        .as_object()
        .map(|m| m.keys().filter_map(|k| k.parse().ok()).filter(|id| *id != IC_CLASS).collect())
        .unwrap_or_default();
    assert_eq!(ids.len() as u64, N, "seeded classes");
    let url = format!("http://127.0.0.1:{port}/cb");
    call(
        client,
        "POST",
        &format!("{base}/__admin/callbacks/url"),
        &[],
        Some(&json!({"tenant": format!("iclass:{IC_APP}"), "url": url}).to_string()),
    )
    .await;
    let events: Vec<Value> = ids
        .iter()
        .map(|id| json!({"type": "iclass.class_begin", "sdkappid": IC_APP, "class_id": id}))
        .collect();
    let t = Instant::now();
    let (status, v) =
        call(client, "POST", &format!("{base}/__admin/events"), &[], Some(&Value::Array(events).to_string()))
            .await;
    assert_eq!(status, 200, "{v}");
    let enqueued = t.elapsed();
    // The clock is frozen: nothing is sent until an advance runs what is due (all of it, awaited).
    let t = Instant::now();
    let (status, _) =
        call(client, "POST", &format!("{base}/__admin/clock/advance"), &[], Some(r#"{"seconds":0}"#)).await;
    let took = t.elapsed();
    assert_eq!(status, 200);
    let (_, delivered) =
        call(client, "GET", &format!("{base}/__admin/callbacks?state=delivered"), &[], None).await;
    let delivered = delivered["count"].as_u64().unwrap_or(0);
    let received = seen.lock().len() as u64;
    let rate = N as f64 / took.as_secs_f64();
    println!(
        "  {N} events accepted in {:.0} ms (POST /__admin/events); delivered in {:.0} ms: {rate:.0} events/s; receiver got {} POSTs, {received} distinct classes; log says {delivered} delivered",
        ms(enqueued),
        ms(took),
        posts.load(std::sync::atomic::Ordering::Relaxed)
    );
    report.judge(
        "outbox throughput into a local receiver",
        format!("{rate:.0} events/s"),
        "≥ 10,000/s",
        rate >= 10_000.0,
    );
    report.judge(
        "10,000 events delivered, none lost",
        format!("{received} received"),
        "= 10,000 (log agrees)",
        received == N && delivered == N,
    );
    let _ = std::fs::remove_file(fixture);
}

// ----- media: a 2-hour 1080p recording ----------------------------------------------------------------

/// `GET path` over a fresh connection, reading the whole answer into a reused buffer (and `sink`, when
/// given): (time to the first byte of the body, body bytes, total time).
fn raw_get(port: u16, path: &str, mut sink: Option<&mut dyn Write>) -> (Duration, u64, Duration) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n");
    let t0 = Instant::now();
    s.write_all(req.as_bytes()).expect("request sent");
    let mut buf = vec![0u8; 1 << 20];
    let mut head = Vec::new();
    let mut first = None;
    let mut body = 0u64;
    loop {
        let n = s.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        let mut data = &buf[..n];
        if first.is_none() {
            head.extend_from_slice(data);
            let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
            let skip = (end + 4).saturating_sub(head.len() - n);
            data = &buf[skip..n];
            if data.is_empty() {
                continue;
            }
            first = Some(t0.elapsed());
        }
        body += data.len() as u64;
        if let Some(w) = sink.as_mut() {
            w.write_all(data).expect("written");
        }
    }
    (first.unwrap_or_default(), body, t0.elapsed())
}

/// A 001 task recorded two hours at 1920×1080, 25 fps, 250,000 bytes a second (1.8 GB): the first byte of
/// its download, its download rate over loopback, the server's memory while it downloads, and how long the
/// server takes for its MD5 against `md5sum` over the same bytes.
async fn media(client: &reqwest::Client, report: &mut Report) {
    println!("\nMedia: a 2-hour 1920x1080 25 fps recording at 250,000 B/s (001)");
    let doc = json!({
        "clock": {"start": START_S, "frozen": true},
        "timings": {"video_bytes_per_s": 250_000},
        "cloud_record": {
            "accounts": [{"dev_id": "bench", "token": "bench-token", "app_id": CR_APP}],
            "groups": [{"app_id": CR_APP, "group_id": "g", "users": [{"user_id": "u", "streams": [
                {"media_type": 2, "media_id": "0"}, {"media_type": 1, "media_id": "1"}]}]}]
        }
    });
    let fixture = std::env::temp_dir().join(format!("recmock-bench-media-{}.json", std::process::id()));
    std::fs::write(&fixture, doc.to_string()).expect("fixture written");
    let (server, _) = start_recmock(&["--fixture", fixture.to_str().unwrap_or_default(), "--seed", "1"]);
    let base = server.url();
    let token = |client: &reqwest::Client| {
        let url = format!("{base}/access/token?dev_id=bench&token=bench-token");
        let client = client.clone();
        async move {
            call(&client, "GET", &url, &[], None).await.1["result"]["access_token"]
                .as_str()
                .unwrap_or("")
                .to_string()
        }
    };
    let auth = vec![("authorization".to_string(), token(client).await)];
    let init = json!({"app_id": CR_APP, "group_id": "g", "auto": {}, "file_duration": 120,
                      "width": 1920, "height": 1080, "frame_rate": 25});
    let (_, v) =
        call(client, "POST", &format!("{base}/v1/record/init"), &auth, Some(&init.to_string())).await;
    let rid = v["record_id"].as_str().unwrap_or_default().to_string();
    let advance = |secs: u64| format!(r#"{{"seconds":{secs}}}"#);
    call(client, "POST", &format!("{base}/__admin/clock/advance"), &[], Some(&advance(7200))).await;
    let auth = vec![("authorization".to_string(), token(client).await)];
    let finish = json!({"app_id": CR_APP, "record_id": rid}).to_string();
    call(client, "POST", &format!("{base}/v1/record/finish"), &auth, Some(&finish)).await;
    // The file is made when processing ends (this advance); its MD5 is hashed in the background from
    // then on, and `download/url` waits for it: the time from here to its answer bounds the hash's.
    let t = Instant::now();
    call(client, "POST", &format!("{base}/__admin/clock/advance"), &[], Some(&advance(20))).await;
    let files = format!("{base}/v1/record/file/download/url?app_id={CR_APP}&record_id={rid}");
    let (_, v) = call(client, "GET", &files, &auth, None).await;
    let hashed = t.elapsed();
    let entry = &v["data_list"][0];
    let (url, md5) = (entry["url"].as_str().unwrap_or_default(), entry["md5"].as_str().unwrap_or_default());
    let size: u64 = entry["extent"]
        .as_str()
        .and_then(|e| serde_json::from_str::<Value>(e).ok())
        .and_then(|e| e["size"].as_u64())
        .unwrap_or(0);
    println!("  file: {size} bytes, MD5 {md5}");
    let path = url.strip_prefix(&base).unwrap_or(url).to_string();
    // First byte: the median of 5 fresh connections, the whole file asked for (the rest is not read).
    let mut firsts = Vec::new();
    for _ in 0..5 {
        let mut s = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
        let t0 = Instant::now();
        let req =
            format!("GET {path} HTTP/1.1\r\nHost: bench\r\nRange: bytes=0-\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).expect("sent");
        let mut buf = vec![0u8; 64 * 1024];
        let mut head = Vec::new();
        loop {
            let n = s.read(&mut buf).expect("read");
            head.extend_from_slice(&buf[..n]);
            if n == 0 || head.windows(4).position(|w| w == b"\r\n\r\n").is_some_and(|e| head.len() > e + 4) {
                break;
            }
        }
        firsts.push(t0.elapsed());
    }
    firsts.sort();
    let first = firsts[firsts.len() / 2];
    report.judge(
        "media: first byte of a 2-hour 1080p file",
        format!("{:.1} ms", first.as_secs_f64() * 1e3),
        "< 50 ms",
        first < Duration::from_millis(50),
    );
    // The whole file over loopback, the server's memory sampled meanwhile.
    let rss_before = server.rss_kib();
    let pid = server.child.id();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(rss_before));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let (_, got, took) = raw_get(server.port, &path, None);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = sampler.join();
    let rate = got as f64 / took.as_secs_f64() / 1e6;
    report.judge(
        "media: full download over loopback",
        format!("{rate:.0} MB/s"),
        ">= 200 MB/s",
        got == size && rate >= 200.0,
    );
    let growth = peak.load(std::sync::atomic::Ordering::Relaxed).saturating_sub(rss_before);
    report.judge(
        "media: RSS growth while it downloads",
        format!("{:.1} MB", growth as f64 / 1024.0),
        "< 5 MB",
        growth < 5 * 1024,
    );
    // md5sum over the same bytes (written to a file, read back from the page cache).
    let copy = std::env::temp_dir().join(format!("recmock-bench-media-{}.mp4", std::process::id()));
    {
        let mut w =
            std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&copy).expect("temp file"));
        raw_get(server.port, &path, Some(&mut w));
        w.flush().expect("flushed");
    }
    let _ = Command::new("md5sum").arg(&copy).output(); // warm the page cache
    let t = Instant::now();
    let out =
        Command::new("md5sum").arg(&copy).output().map(|o| String::from_utf8_lossy(&o.stdout).to_string());
    let md5sum = t.elapsed();
    let _ = std::fs::remove_file(&copy);
    let same = out.as_deref().is_ok_and(|o| o.starts_with(md5));
    let ratio = hashed.as_secs_f64() / md5sum.as_secs_f64().max(1e-9);
    report.notes.push(format!(
        "media: the server's MD5 took at most {:.2} s (from the file's making to download/url's answer), md5sum {:.2} s",
        hashed.as_secs_f64(),
        md5sum.as_secs_f64()
    ));
    report.judge(
        "media: its MD5 vs md5sum over the same bytes",
        format!("{ratio:.2}x"),
        "<= 1.5x (same MD5)",
        same && ratio <= 1.5,
    );
    let _ = std::fs::remove_file(fixture);
}

// ----- the event gateway -----------------------------------------------------------------------------

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A socket on the gateway, logged in to the bench account and subscribed to its group `room`.
async fn gateway_socket(url: &str) -> Option<Socket> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.ok()?;
    let frames = [
        json!({"id": 20000, "dev_id": "bench", "token": "bench-token", "seq_id": 1}),
        json!({"id": 20004, "app_list": [{"app_id": CR_APP, "group_list": ["room"]}], "seq_id": 2}),
    ];
    for f in frames {
        ws.send(Message::text(f.to_string())).await.ok()?;
        let Some(Ok(Message::Text(answer))) = ws.next().await else { return None };
        let v: Value = serde_json::from_str(answer.as_str()).ok()?;
        if v["result"] != 0 {
            eprintln!("gateway refused {f}: {v}");
            return None;
        }
    }
    Some(ws)
}

async fn gateway(client: &reqwest::Client, report: &mut Report) {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    const SOCKETS: usize = 1000;
    const ROUNDS: usize = 100;
    // Journal entries that fill the default journal (10,000 shown, up to 4 shards of 10,000) to its bound.
    const JOURNAL_FILL: usize = 45_000;
    println!(
        "\nEvent gateway (001 WebSocket, plain ws): {SOCKETS} logged-in sockets subscribed to one group; \
         {ROUNDS} stream_open events (POST /__admin/events), each pushed to every socket"
    );
    // The recmock started below inherits the raised limit (and raises its own anyway).
    let limit = recmock::server::raise_open_files_limit();
    if limit < (2 * SOCKETS + 200) as u64 {
        report.judge("event gateway: open-file limit", format!("{limit}"), "≥ 2,200", false);
        return;
    }
    let fixture = bench_fixture();
    let (server, _) = start_recmock(&["--fixture", fixture.to_str().unwrap_or_default(), "--seed", "1"]);
    let url = format!("ws://127.0.0.1:{}/", server.port);
    // What the first socket makes once (the feed tap, the workers' buffers) is not counted per socket.
    drop(gateway_socket(&url).await);
    // Nor is the request journal's memory: it is bounded by --journal-size whatever the number of sockets
    // (each socket's opening, login and subscription are journaled), so it is filled to its bound first
    // with requests of about the same size, as in a server that has run for a while.
    let fill = format!("{}/server/address?appType=8", server.url());
    for _ in 0..JOURNAL_FILL / 50 {
        futures_util::future::join_all((0..50).map(|_| call(client, "GET", &fill, &[], None))).await;
    }
    std::thread::sleep(Duration::from_millis(300));
    let rss0 = server.rss_kib();
    let mut sockets = Vec::with_capacity(SOCKETS);
    let t = Instant::now();
    for _ in 0..SOCKETS / 50 {
        let batch = futures_util::future::join_all((0..50).map(|_| gateway_socket(&url))).await;
        sockets.extend(batch.into_iter().flatten());
    }
    let opened = t.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    let rss1 = server.rss_kib();
    let (_, sessions) =
        call(client, "GET", &format!("{}/__admin/gateway/sessions", server.url()), &[], None).await;
    println!(
        "  {} sockets opened, logged in and subscribed in {:.0} ms; the server lists {}; VmRSS {:.1} MB → {:.1} MB",
        sockets.len(),
        ms(opened),
        sessions["count"],
        rss0 as f64 / 1024.0,
        rss1 as f64 / 1024.0
    );
    if sockets.len() < SOCKETS {
        report.judge(
            "event gateway: sockets logged in and subscribed",
            format!("{}", sockets.len()),
            "= 1,000",
            false,
        );
        return;
    }
    let per_socket = rss1.saturating_sub(rss0) * 1024 / SOCKETS as u64;
    // One reader per socket reports when each push arrives (the push names its round in `media_id`).
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    for mut ws in sockets {
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(Ok(m)) = ws.next().await {
                let Message::Text(text) = m else { continue };
                let at = Instant::now();
                let v: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                if let Some(round) = v["media_id"].as_str().and_then(|r| r.parse().ok()) {
                    let _ = tx.send((round, at));
                }
            }
        });
    }
    drop(tx);
    let events = format!("{}/__admin/events", server.url());
    let mut lat = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let ev = json!({"type": "cloud_record.stream_open", "app_id": CR_APP, "group_id": "room",
                        "user_id": "speaker", "media_type": 2, "media_id": round.to_string()});
        let t0 = Instant::now();
        let (status, v) = call(client, "POST", &events, &[], Some(&ev.to_string())).await;
        if status != 200 {
            eprintln!("event refused: {v}");
            break;
        }
        let (mut got, mut last) = (0, t0);
        while got < SOCKETS {
            match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                Ok(Some((r, at))) if r == round => {
                    got += 1;
                    last = last.max(at);
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        if got < SOCKETS {
            eprintln!("round {round}: {got} of {SOCKETS} sockets got the push");
            break;
        }
        lat.push(last - t0);
    }
    if lat.len() < ROUNDS {
        report.judge(
            "event gateway: a join reaches every socket",
            format!("{} rounds", lat.len()),
            "100 rounds",
            false,
        );
        return;
    }
    lat.sort();
    let (p50, p99, max) = (lat[ROUNDS / 2], lat[(ROUNDS * 99).div_ceil(100) - 1], lat[ROUNDS - 1]);
    println!(
        "  event → last of {SOCKETS} pushes (the POST sent → the last socket read its frame): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(p50),
        ms(p99),
        ms(max)
    );
    println!(
        "  memory per idle socket: {per_socket} B (VmRSS growth / {SOCKETS}; its 3 journal entries included)"
    );
    report.judge(
        "event gateway: event → last of 1,000 pushes, p99",
        format!("{:.1} ms", ms(p99)),
        "< 50 ms",
        p99 < Duration::from_millis(50),
    );
    report.judge(
        "event gateway: memory per idle socket",
        format!("{:.1} KiB", per_socket as f64 / 1024.0),
        "< 16 KiB",
        per_socket < 16 * 1024,
    );
    report.notes.push(format!(
        "gateway: p50 {:.1} ms, p99 {:.1} ms event → last of {SOCKETS} pushes; {per_socket} B per socket",
        ms(p50),
        ms(p99)
    ));
    let _ = std::fs::remove_file(fixture);
}

// ----- the run ---------------------------------------------------------------------------------------

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "{cores} cores ({cpu}); load average at start: {}",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    )
}

async fn orchestrate() -> i32 {
    let secs: f64 = std::env::var("RECMOCK_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(4.0);
    let only = std::env::var("RECMOCK_BENCH_ONLY").unwrap_or_default();
    let wants = |phase: &str| only.is_empty() || only.split(',').any(|p| p == phase);
    let needs_wrk = ["table", "memory", "scale"].iter().any(|p| wants(p));
    if needs_wrk && Command::new(wrk_bin()).arg("--version").output().is_err() {
        eprintln!("wrk not found: `make bench` installs it (apt-get install wrk), or set WRK=/path/to/wrk");
        return 2;
    }
    println!("recmock bench: {}", machine());
    let client = reqwest::Client::builder().pool_max_idle_per_host(4).build().expect("client");
    let mut report = Report::default();
    let started = Instant::now();
    if wants("table") {
        table(&client, &mut report, secs).await;
    }
    println!("\nTargets");
    if wants("startup") {
        startup(&mut report).await;
    }
    if wants("memory") {
        memory(&client, &mut report).await;
    }
    if wants("scale") {
        scale(&client, &mut report, secs.min(2.0)).await;
    }
    if wants("callbacks") {
        callbacks(&client, &mut report).await;
    }
    if wants("media") {
        media(&client, &mut report).await;
    }
    if wants("gateway") {
        gateway(&client, &mut report).await;
    }
    if wants("dashboard") {
        dashboard(&client, &mut report).await;
    }
    if wants("dump") {
        dump(&client, &mut report).await;
    }
    println!("\nSummary ({:.0} s)", started.elapsed().as_secs_f64());
    for v in &report.verdicts {
        println!("  {} {:<64} {:>12}  {}", if v.pass { "PASS" } else { "FAIL" }, v.what, v.value, v.target);
    }
    for n in &report.notes {
        println!("  note: {n}");
    }
    let failed = report.verdicts.iter().filter(|v| !v.pass).count();
    println!("{} passed, {failed} failed", report.verdicts.len() - failed);
    i32::from(failed > 0)
}

// ----- the dashboard ---------------------------------------------------------------------------------

/// Pages of `/__admin/ui` in a world of 100,000 record tasks (001) and 10,000 callbacks (004 `class_begin`,
/// held: the app has no callback URL): each page fetched whole (the server's rendering and the transfer
/// over loopback; the browser's drawing is not counted), the median of 7 fetches after one to warm up.
async fn dashboard(client: &reqwest::Client, report: &mut Report) {
    const TASKS: u64 = 100_000;
    const CALLBACKS: u64 = 10_000;
    println!("\nDashboard: pages of a world with {TASKS} record tasks and {CALLBACKS} callbacks");
    let fixture = bench_fixture();
    let (server, _) = start_recmock(&["--fixture", fixture.to_str().unwrap_or_default(), "--seed", "1"]);
    let base = server.url();
    let seed = |body: Value| {
        let url = format!("{base}/__admin/seed");
        async move {
            let (status, v) = call(client, "POST", &url, &[], Some(&body.to_string())).await;
            assert_eq!(status, 200, "seeding failed: {v}");
        }
    };
    seed(json!({"tenant": format!("iclass:{IC_APP}"), "classes": CALLBACKS})).await;
    let (_, dump) = call(client, "GET", &format!("{base}/__admin/state"), &[], None).await;
    let ids: Vec<u64> = dump["vendors"]["iclass"]["apps"][IC_APP.to_string()]["classes"]
        .as_object()
        .map(|m| m.keys().filter_map(|k| k.parse().ok()).filter(|id| *id != IC_CLASS).collect())
        .unwrap_or_default();
    let events: Vec<Value> = ids
        .iter()
        .map(|id| json!({"type": "iclass.class_begin", "sdkappid": IC_APP, "class_id": id}))
        .collect();
    let (status, v) =
        call(client, "POST", &format!("{base}/__admin/events"), &[], Some(&Value::Array(events).to_string()))
            .await;
    assert_eq!(status, 200, "{v}");
    seed(json!({"tenant": format!("cloud_record:{CR_APP}"), "tasks": TASKS})).await;
    let (_, held) =
        call(client, "GET", &format!("{base}/__admin/callbacks?state=held&limit=1"), &[], None).await;
    assert!(held["next_cursor"].is_string(), "the callbacks are there: {held}");
    let pages = [
        "/__admin/ui/",
        "/__admin/ui/vendors/cloud_record",
        "/__admin/ui/vendors/cloud_record?page=1000",
        "/__admin/ui/vendors/cloud_record?status=6&page=20",
        "/__admin/ui/vendors/iclass",
        "/__admin/ui/callbacks",
        "/__admin/ui/callbacks?state=held&cursor=cb-005000",
        "/__admin/ui/requests",
    ];
    let mut worst = (0.0, "");
    for page in pages {
        let url = format!("{base}{page}");
        let mut times = Vec::new();
        let mut size = 0;
        for i in 0..8 {
            let t = Instant::now();
            let resp = client.get(&url).send().await.expect("page");
            assert_eq!(resp.status(), 200, "{page}");
            size = resp.bytes().await.expect("page body").len();
            if i > 0 {
                times.push(ms(t.elapsed()));
            }
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!("  {page:<52} {median:>7.1} ms  ({size} bytes)");
        if median > worst.0 {
            worst = (median, page);
        }
    }
    report.judge(
        "dashboard page, 100,000 tasks + 10,000 callbacks (slowest page)",
        format!("{:.1} ms", worst.0),
        "< 200 ms",
        worst.0 < 200.0,
    );
    report.notes.push(format!("the slowest dashboard page was {}", worst.1));
    drop(server);
    let _ = std::fs::remove_file(fixture);
}

// ----- the baseline ----------------------------------------------------------------------------------

/// Bare actix-web handlers: the ceiling of this machine for the same kind of work.
mod bare {
    use actix_web::{web, App, HttpResponse, HttpServer};
    use dashmap::DashMap;
    use serde::{Deserialize, Serialize};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    #[derive(Deserialize)]
    struct Item {
        app_id: String,
        group_id: String,
    }

    #[derive(Serialize, Clone)]
    struct Row {
        file_name: String,
        file_type: u8,
        group_id: String,
        record_id: String,
        record_mode: u8,
        start_time: String,
        status: i64,
        stop_time: String,
    }

    #[derive(Serialize)]
    struct Page<'a> {
        code: i64,
        msg: &'static str,
        page: i64,
        page_size: i64,
        record_list: &'a [Row],
        total_num: usize,
    }

    struct State {
        items: DashMap<u64, Item>,
        next: AtomicU64,
        rows: Vec<Row>,
    }

    async fn store(state: web::Data<State>, body: web::Bytes) -> HttpResponse {
        match serde_json::from_slice::<Item>(&body) {
            Ok(item) => {
                let id = state.next.fetch_add(1, Ordering::Relaxed) + 1;
                let answer = serde_json::json!({"code": 0, "msg": "OK", "id": id, "group_id": item.group_id});
                let _ = &item.app_id;
                state.items.insert(id, item);
                HttpResponse::Ok().json(answer)
            }
            Err(e) => HttpResponse::BadRequest().json(serde_json::json!({"code": 1, "msg": e.to_string()})),
        }
    }

    async fn page(state: web::Data<State>) -> HttpResponse {
        let rows = &state.rows[50..100];
        HttpResponse::Ok().json(Page {
            code: 0,
            msg: "OK",
            page: 2,
            page_size: 50,
            record_list: rows,
            total_num: state.rows.len(),
        })
    }

    pub fn serve() {
        let port: u16 = std::env::var("RECMOCK_BENCH_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(0);
        let rows = (0..1000)
            .map(|i| Row {
                file_name: format!("20260101080000_{}", 10_001 + i),
                file_type: 0,
                group_id: format!("g{i}"),
                record_id: format!("20260101080000_{}", 10_001 + i),
                record_mode: 0,
                start_time: "2026-01-01 08:00:00".into(),
                status: 1,
                stop_time: String::new(),
            })
            .collect();
        let state = web::Data::from(Arc::new(State { items: DashMap::new(), next: AtomicU64::new(0), rows }));
        let sys = actix_web::rt::System::new();
        sys.block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(state.clone())
                    .route("/items", web::post().to(store))
                    .route("/page", web::get().to(page))
            })
            .disable_signals()
            .bind(("127.0.0.1", port))
            .expect("bare server binds")
            .run();
            let _ = server.await;
        });
    }
}

// ----- a state dump of a large world -----------------------------------------------------------------

/// `GET /__admin/state` of a world of 300,000 record tasks and 100,000 classes: the server's peak resident
/// memory while it writes the dump, against the world's own. The dump is read as it streams (never held).
async fn dump(client: &reqwest::Client, report: &mut Report) {
    const TASKS: u64 = 300_000;
    const CLASSES: u64 = 100_000;
    println!("\nState dump: a world of {TASKS} record tasks and {CLASSES} classes");
    let fixture = bench_fixture();
    let (server, _) = start_recmock(&["--fixture", fixture.to_str().unwrap_or_default(), "--seed", "1"]);
    let base = server.url();
    for body in [
        json!({"tenant": format!("cloud_record:{CR_APP}"), "tasks": TASKS}),
        json!({"tenant": format!("iclass:{IC_APP}"), "classes": CLASSES}),
    ] {
        let (status, v) =
            call(client, "POST", &format!("{base}/__admin/seed"), &[], Some(&body.to_string())).await;
        assert_eq!(status, 200, "seeding failed: {v}");
    }
    let pid = server.child.id();
    let world = status_kib(pid, "VmRSS:");
    let peak_before = status_kib(pid, "VmHWM:");
    // The peak from here on only (`5` resets VmHWM to the current RSS; Linux 4.0 and later).
    let reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
    let t = Instant::now();
    let mut resp = client.get(format!("{base}/__admin/state")).send().await.expect("dump");
    assert_eq!(resp.status(), 200);
    let mut bytes = 0usize;
    while let Some(chunk) = resp.chunk().await.expect("dump body") {
        bytes += chunk.len();
    }
    let took = t.elapsed();
    // Without the reset, the peak may be the seeding's: the figure is then an upper bound.
    let peak = status_kib(pid, "VmHWM:");
    if !reset {
        report.notes.push("dump: VmHWM could not be reset; its peak includes the seeding's".into());
    }
    let mb = |kib: u64| kib as f64 / 1024.0;
    println!(
        "  world {:.0} MB resident (peak {:.0} MB while seeding); dump {:.0} MB in {:.1} s; peak resident {:.0} MB while it was written",
        mb(world),
        mb(peak_before),
        bytes as f64 / 1_048_576.0,
        took.as_secs_f64(),
        mb(peak)
    );
    let extra = peak.saturating_sub(world);
    report.judge(
        "state dump of 300,000 tasks + 100,000 classes: peak memory beyond the world's",
        format!("{:.0} MB", mb(extra)),
        "< the world's own",
        extra < world,
    );
    drop(server);
    let _ = std::fs::remove_file(fixture);
}
