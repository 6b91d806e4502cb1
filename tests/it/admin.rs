//! The control plane (`/__admin`), the request pipeline every vendor call goes through (body limit,
//! faults, journal), the `/files` route and start-up from fixtures and state files, over HTTP against
//! the real server. The cloud-recording module (001) is the vendor the control plane acts on.
use crate::common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

// ----- fixture builders and a small 001 client ------------------------------------------------------

/// A cloud_record account in tests: app id `name`, dev id `name_dev`, developer token `name_tok`.
#[derive(Clone, Copy, Debug)]
struct Acct(&'static str);

const A: Acct = Acct("app_a");
const B: Acct = Acct("app_b");
const C: Acct = Acct("app_c");
/// The group every test account has, where `u1` publishes camera `0`.
const G: &str = "g1";
/// The base of download URLs when a test needs them identical across servers.
const PUBLIC: &str = "http://recmock.test";

impl Acct {
    fn app(self) -> &'static str {
        self.0
    }
    fn dev(self) -> String {
        format!("{}_dev", self.0)
    }
    fn token(self) -> String {
        format!("{}_tok", self.0)
    }
    /// `Authorization: <dev_id>.<token>`.
    fn auth(self) -> String {
        format!("{}.{}", self.dev(), self.token())
    }
    /// The account as a fixture declares it.
    fn account(self) -> Value {
        json!({ "dev_id": self.dev(), "token": self.token(), "app_id": self.0 })
    }
    /// A group of this account where `user` publishes camera `0`.
    fn group(self, group_id: &str, user: &str) -> Value {
        json!({ "app_id": self.0, "group_id": group_id,
                "users": [{ "user_id": user, "streams": [{ "media_type": 2, "media_id": "0" }] }] })
    }
}

/// A fixture with these accounts, each with group [`G`] where `u1` publishes a camera.
/// Files of these worlds are small (tasks record a 320×240 canvas at 15 fps, [`SMALL_BPS`] bytes a second),
/// so state dumps and downloads, which hash or read whole files, stay quick in debug builds.
fn world(accts: &[Acct]) -> Value {
    json!({ "cloud_record": {
        "accounts": accts.iter().map(|a| a.account()).collect::<Vec<_>>(),
        "groups": accts.iter().map(|a| a.group(G, "u1")).collect::<Vec<_>>(),
    }, "timings": { "video_bytes_per_s": SMALL_BPS } })
}

/// Bytes per second of video in [`world`]s: above the smallest valid small canvas with sound.
const SMALL_BPS: u64 = 2000 * 3;

/// The small canvas of `init` (see [`world`]).
fn small_canvas(mut body: Value) -> Value {
    body["width"] = json!(320);
    body["height"] = json!(240);
    body["frame_rate"] = json!(15);
    body
}

/// `cloud_record.join`: `user` enters `group` with camera `0`.
fn join(a: Acct, group: &str, user: &str) -> Value {
    json!({ "type": "cloud_record.join", "app_id": a.app(), "group_id": group, "user_id": user,
            "streams": [{ "media_type": 2, "media_id": "0" }] })
}

/// `cloud_record.leave`.
fn leave(a: Acct, group: &str, user: &str) -> Value {
    json!({ "type": "cloud_record.leave", "app_id": a.app(), "group_id": group, "user_id": user })
}

/// A server with accounts A and B (frozen at T0, seed 42).
async fn two_accounts() -> TestApp {
    spawn(world(&[A, B])).await
}

/// A server whose download URLs start with [`PUBLIC`] (so they compare equal across servers): its
/// `--public-url`, which the client also addresses it as (`Host`), since answers follow the request's host.
async fn spawn_public(fixture: Value, seed: u64) -> TestApp {
    let mut config =
        config_of(Spawn { fixtures: vec![with_clock(fixture).to_string()], seed, ..Spawn::default() });
    config.public_url = Some(PUBLIC.into());
    let mut app = spawn_config(config).await;
    let host = PUBLIC.trim_start_matches("http://");
    let headers = reqwest::header::HeaderMap::from_iter([(
        reqwest::header::HOST,
        reqwest::header::HeaderValue::from_static(host),
    )]);
    app.client = reqwest::Client::builder().timeout(CLIENT_TIMEOUT).default_headers(headers).build().unwrap();
    app
}

/// POST a 001 endpoint as `a` (its `app_id` is added to the body); HTTP must be 200.
async fn cr_post(app: &TestApp, a: Acct, path: &str, mut body: Value) -> Value {
    body["app_id"] = json!(a.app());
    let (s, v) = app.post_h(path, body, &[("authorization", &a.auth())]).await;
    assert_eq!(s, 200, "{path}: {v}");
    v
}

/// GET a 001 endpoint as `a` (`app_id` is added to the query); HTTP must be 200.
async fn cr_get(app: &TestApp, a: Acct, path: &str, query: &str) -> Value {
    let (s, v) =
        app.get_h(&format!("{path}?app_id={}&{query}", a.app()), &[("authorization", &a.auth())]).await;
    assert_eq!(s, 200, "{path}: {v}");
    v
}

/// Start an automatic task in `group` (it records at once: status 2).
async fn start_task(app: &TestApp, a: Acct, group: &str) -> String {
    let v = cr_post(
        app,
        a,
        "/v1/record/init",
        small_canvas(json!({ "group_id": group, "seq": "1", "auto": {} })),
    )
    .await;
    assert_eq!(v["code"], 0, "init: {v}");
    v["record_id"].as_str().unwrap().to_string()
}

/// Start a manual task in `group` (status 1 until its first layout).
async fn manual_task(app: &TestApp, a: Acct, group: &str) -> String {
    let v = cr_post(app, a, "/v1/record/init", small_canvas(json!({ "group_id": group, "seq": "1" }))).await;
    assert_eq!(v["code"], 0, "init: {v}");
    v["record_id"].as_str().unwrap().to_string()
}

/// Set a layout showing `user`'s camera `0`; returns the vendor's code.
async fn layout(app: &TestApp, a: Acct, record_id: &str, user: &str) -> i64 {
    let body = json!({ "record_id": record_id, "seq": "2",
                       "video_list": [{ "user_id": user, "media_id": "0", "media_type": 2 }] });
    cr_post(app, a, "/v1/record/set/layout", body).await["code"].as_i64().unwrap()
}

/// Finish a task (status 3: processing is pending on the clock).
async fn finish(app: &TestApp, a: Acct, record_id: &str) -> Value {
    let v = cr_post(app, a, "/v1/record/finish", json!({ "record_id": record_id })).await;
    assert_eq!(v["code"], 0, "finish: {v}");
    v
}

/// A task in [`G`] that recorded `secs` seconds and was finished just now (status 3).
async fn finished_task(app: &TestApp, a: Acct, secs: f64) -> String {
    let id = start_task(app, a, G).await;
    app.advance(secs).await;
    finish(app, a, &id).await;
    id
}

/// The 001 task list of `a` (every row).
async fn task_list(app: &TestApp, a: Acct) -> Value {
    let v = cr_get(app, a, "/v1/record/task/list", "page_size=500").await;
    assert_eq!(v["code"], 0, "task/list: {v}");
    v["record_list"].clone()
}

/// The 001 status of one task.
async fn status(app: &TestApp, a: Acct, record_id: &str) -> i64 {
    let v = cr_get(app, a, "/v1/record/task/list", &format!("record_id={record_id}")).await;
    assert_eq!(v["record_list"].as_array().map(Vec::len), Some(1), "{v}");
    v["record_list"][0]["status"].as_i64().unwrap()
}

/// The 001 download list of one task (the whole answer).
async fn downloads(app: &TestApp, a: Acct, record_id: &str) -> Value {
    let v = cr_get(app, a, "/v1/record/file/download/url", &format!("record_id={record_id}")).await;
    assert_eq!(v["code"], 0, "download/url: {v}");
    v
}

/// The download URL of a finished task's first file.
async fn file_url(app: &TestApp, a: Acct, record_id: &str) -> String {
    downloads(app, a, record_id).await["data_list"][0]["url"].as_str().unwrap().to_string()
}

/// A fresh, empty directory under the system temp dir, unique to this process and `tag`.
fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("recmock-admin-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The `ran` descriptions of an advance answer.
fn ran(v: &Value) -> Vec<String> {
    v["ran"].as_array().unwrap().iter().map(|r| r["description"].as_str().unwrap().to_string()).collect()
}

/// The tenant list.
async fn tenants(app: &TestApp) -> Vec<String> {
    let (s, v) = app.get("/__admin/tenants").await;
    assert_eq!(s, 200);
    v["tenants"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect()
}

/// POST a fixture document at run time.
async fn load_fixture(app: &TestApp, query: &str, doc: Value) -> (u16, Value) {
    app.post(&format!("/__admin/fixtures{query}"), doc).await
}

/// The JSON paths of a refusal's `errors`.
fn paths(v: &Value) -> Vec<String> {
    v["errors"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_string())
        .collect()
}

/// Assert every `want` path is among `v`'s errors.
fn assert_paths(v: &Value, want: &[&str]) {
    let got = paths(v);
    for w in want {
        assert!(got.iter().any(|g| g == w), "missing error at `{w}`; got {got:?} in {v}");
    }
}

/// The pending jobs of the world, as a dump shows them.
async fn pending_jobs(app: &TestApp) -> Value {
    app.get("/__admin/state").await.1["scheduler"]["jobs"].clone()
}

/// The 400 answer to an admin call, with its message.
async fn refused(app: &TestApp, path: &str, body: Value) -> String {
    let (s, v) = app.post(path, body.clone()).await;
    assert_eq!(s, 400, "{path} {body}: {v}");
    v["error"].as_str().unwrap_or_else(|| panic!("no error message: {v}")).to_string()
}

// ----- health and tenants ---------------------------------------------------------------------------

/// Health answers `status`, the crate version, the emulated vendors and the virtual now.
#[tokio::test]
async fn health_has_its_documented_shape() {
    let app = spawn(world(&[A])).await;
    let (s, v) = app.get("/__admin/health").await;
    assert_eq!(s, 200);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert!(v["vendors"].as_array().unwrap().contains(&json!("cloud_record")), "{v}");
    assert_eq!(v["now"], T0);
    app.advance(90.0).await;
    assert_eq!(app.get("/__admin/health").await.1["now"], T0 + 90);
    app.stop().await;
}

/// Tenants lists each account as `<vendor>:<app_id>`, sorted, and grows with run-time fixtures.
#[tokio::test]
async fn tenants_lists_every_account() {
    let app = spawn(world(&[B, A])).await;
    assert_eq!(tenants(&app).await, vec!["cloud_record:app_a", "cloud_record:app_b"]);
    let (s, v) = load_fixture(&app, "", world(&[C])).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(tenants(&app).await, vec!["cloud_record:app_a", "cloud_record:app_b", "cloud_record:app_c"]);
    app.stop().await;
}

// ----- reset ---------------------------------------------------------------------------------------

/// A full reset drops tasks, run-time accounts, files, jobs, journal and faults, restores the start
/// accounts (as the fixture declares them) and puts the clock back at the fixture's start.
#[tokio::test]
async fn reset_all_returns_to_the_start_world() {
    let app = spawn(world(&[A])).await;
    let token_q = format!("/access/token?dev_id={}&token={}", A.dev(), A.token());
    let access = app.get(&token_q).await.1["result"]["access_token"].as_str().unwrap().to_string();
    let done = finished_task(&app, A, 60.0).await;
    app.advance(30.0).await;
    let url = file_url(&app, A, &done).await;
    finished_task(&app, A, 10.0).await; // leaves jobs pending
    assert_eq!(load_fixture(&app, "", world(&[C])).await.0, 200);
    app.event(leave(A, G, "u1")).await;
    let (s, _) = app.post("/__admin/faults", json!({ "action": { "latency_ms": 1 } })).await;
    assert_eq!(s, 201);
    assert!(!pending_jobs(&app).await.as_array().unwrap().is_empty());

    let (s, v) = app.post("/__admin/reset", json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["reset"], "all");

    assert_eq!(tenants(&app).await, vec!["cloud_record:app_a"]);
    let clock = app.get("/__admin/clock").await.1;
    assert_eq!(clock["now"], T0, "{clock}");
    assert_eq!(clock["pending_jobs"], 0, "{clock}");
    let (_, j) = app.get("/__admin/requests").await;
    assert_eq!(j["held"], 0, "journal cleared: {j}");
    assert_eq!(app.get("/__admin/faults").await.1["faults"], json!([]));
    let (s, _) = app.bytes(&url).await;
    assert_eq!(s, 404, "files are gone");
    assert_eq!(task_list(&app, A).await, json!([]));
    // The fixture's group is back: u1 publishes again (leave succeeds once more).
    app.event(leave(A, G, "u1")).await;
    // The account is as the fixture declares it: the access token issued before is unknown now.
    let (_, v) =
        app.get_h(&format!("/v1/record/task/list?app_id={}", A.app()), &[("authorization", &access)]).await;
    assert_eq!(v["code"], 6_050_030_007_i64, "{v}");
    app.stop().await;
}

/// A reset world answers the same requests exactly as a fresh server started with the same seed does
/// (ids, tokens and record ids start over), so scripted runs can reset between tests.
#[tokio::test]
async fn reset_replays_like_a_fresh_start() {
    async fn run(app: &TestApp) -> Vec<String> {
        let q = format!("/access/token?dev_id={}&token={}", A.dev(), A.token());
        let (_, token) = app.text(app.client.get(format!("{}{q}", app.url))).await;
        let init = cr_post(app, A, "/v1/record/init", json!({ "group_id": G, "seq": "1", "auto": {} })).await;
        vec![token, init.to_string()]
    }
    let fresh = spawn(world(&[A])).await;
    let expected = run(&fresh).await;
    let used = spawn(world(&[A])).await;
    run(&used).await;
    run(&used).await;
    assert_eq!(used.post("/__admin/reset", json!({})).await.0, 200);
    assert_eq!(run(&used).await, expected);
    fresh.stop().await;
    used.stop().await;
}

/// `?tenant=cloud_record:<app_id>` resets that account only: its tasks, files and pending jobs go, its
/// fixture groups come back; the other account's tasks, files and pending jobs survive. A tenant that
/// came from a run-time fixture is simply removed.
#[tokio::test]
async fn reset_one_tenant_keeps_the_others() {
    let app = two_accounts().await;
    let a_done = finished_task(&app, A, 30.0).await;
    let b_done = finished_task(&app, B, 30.0).await;
    app.advance(30.0).await;
    let (a_file, b_file) = (file_url(&app, A, &a_done).await, file_url(&app, B, &b_done).await);
    let a_pending = finished_task(&app, A, 10.0).await;
    let b_pending = finished_task(&app, B, 10.0).await;
    app.event(leave(A, G, "u1")).await;
    let now = app.now().await;

    let (s, v) = app.post("/__admin/reset?tenant=cloud_record:app_a", json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["reset"], "cloud_record:app_a");
    assert_eq!(v["reloaded_from_fixtures"], true);
    assert_eq!(task_list(&app, A).await, json!([]), "A's tasks are gone");
    assert_eq!(task_list(&app, B).await.as_array().unwrap().len(), 2, "B's tasks survive");
    assert_eq!(app.bytes(&a_file).await.0, 404, "A's files are gone");
    assert_eq!(app.bytes(&b_file).await.0, 200, "B's files survive");
    assert_eq!(app.now().await, now, "a tenant reset does not move the clock");
    // A's group is reloaded from the start fixture.
    app.event(leave(A, G, "u1")).await;
    // Only B's pending jobs remain, and they still run.
    let v = app.advance(30.0).await;
    let descriptions = ran(&v);
    assert_eq!(descriptions.len(), 3, "{v}");
    assert!(descriptions.iter().all(|d| d.contains(&b_pending) && !d.contains(&a_pending)), "{v}");
    assert_eq!(status(&app, B, &b_pending).await, 6);

    assert_eq!(load_fixture(&app, "", world(&[C])).await.0, 200);
    let (s, v) = app.post("/__admin/reset?tenant=cloud_record:app_c", json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["reloaded_from_fixtures"], false);
    assert_eq!(tenants(&app).await, vec!["cloud_record:app_a", "cloud_record:app_b"]);
    app.stop().await;
}

/// A full reset reloads the start fixtures' timings and timeline too: run-time timings are undone and
/// the start timeline runs again from the start.
#[tokio::test]
async fn reset_restores_start_timings_and_timeline() {
    let mut doc = world(&[A]);
    doc["timings"]["encode_queue_s"] = json!(100);
    doc["timeline"] = json!([{ "at": 60, "event": join(A, G, "u2") }]);
    let app = spawn(doc).await;
    let v = app.advance(60.0).await;
    assert_eq!(v["ran"][0]["kind"], "timeline", "{v}");
    assert_eq!(load_fixture(&app, "", json!({ "timings": { "encode_queue_s": 1 } })).await.0, 200);
    assert_eq!(app.post("/__admin/reset", json!({})).await.0, 200);
    assert_eq!(app.get("/__admin/clock").await.1["next_due"], T0 + 60, "the timeline is pending again");
    let v = app.advance(60.0).await;
    assert_eq!(v["ran"][0]["at"], T0 + 60, "{v}");
    finish(&app, A, &start_task(&app, A, G).await).await;
    assert_eq!(app.get("/__admin/clock").await.1["next_due"], T0 + 160, "encode_queue_s is 100 again");
    app.stop().await;
}

/// A tenant reset of an unknown account is 404; a malformed tenant is 400; nothing changes.
#[tokio::test]
async fn reset_of_unknown_or_malformed_tenant_is_refused() {
    let app = spawn(world(&[A])).await;
    let id = start_task(&app, A, G).await;
    let (s, v) = app.post("/__admin/reset?tenant=cloud_record:nope", json!({})).await;
    assert_eq!(s, 404, "{v}");
    assert!(v["error"].as_str().unwrap().contains("cloud_record:nope"), "{v}");
    for bad in ["app_a", "zoom:app_a", "cloud_record", ""] {
        let (s, v) = app.post(&format!("/__admin/reset?tenant={bad}"), json!({})).await;
        assert_eq!(s, 400, "tenant={bad}: {v}");
    }
    assert_eq!(task_list(&app, A).await[0]["record_id"], id.as_str());
    app.stop().await;
}

// ----- state dump and restore ----------------------------------------------------------------------

/// A world with one finished task with files, one mid-processing (status 3) and one recording.
async fn busy_world(app: &TestApp) -> (String, String, String) {
    let done = finished_task(app, A, 120.0).await;
    app.advance(30.0).await;
    let processing = finished_task(app, A, 45.0).await;
    let recording = start_task(app, A, G).await;
    app.advance(2.0).await;
    assert_eq!(status(app, A, &processing).await, 3);
    (done, processing, recording)
}

/// Everything a client of the restored world can observe: task list, download lists, clock.
async fn observable(app: &TestApp, ids: &[&str]) -> Value {
    let mut files = Vec::new();
    for id in ids {
        files.push(downloads(app, A, id).await);
    }
    let mut clock = app.get("/__admin/clock").await.1;
    clock.as_object_mut().unwrap().remove("ran");
    json!({ "tasks": task_list(app, A).await, "files": files, "clock": clock })
}

/// `GET /__admin/state` then `PUT /__admin/state` on a fresh server gives identical answers (tasks,
/// download URLs and MD5s, clock, pending jobs), the files download, and both worlds go on identically.
#[tokio::test]
async fn state_dump_restores_into_a_fresh_server() {
    let one = spawn_public(world(&[A]), 42).await;
    let (done, processing, recording) = busy_world(&one).await;
    let ids = [done.as_str(), processing.as_str(), recording.as_str()];
    add_fault(&one, json!({ "match": { "path": "/never" }, "action": { "http_status": 500 }, "times": 3 }))
        .await;
    let (s, dump) = one.get("/__admin/state").await;
    assert_eq!(s, 200);
    assert_eq!(dump["recmock_state"], 1);

    let two = spawn_public(json!({}), 7).await;
    let (s, v) = two.send(two.client.put(format!("{}/__admin/state", two.url)).json(&dump)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["now"], one.now().await);
    assert_eq!(observable(&two, &ids).await, observable(&one, &ids).await);
    assert_eq!(pending_jobs(&two).await, pending_jobs(&one).await);
    assert_eq!(two.get("/__admin/state").await.1, dump, "a restored world dumps as it was dumped");
    assert_eq!(two.get("/__admin/faults").await.1, one.get("/__admin/faults").await.1);

    // The restored files serve the bytes the API reports.
    let entry = &downloads(&two, A, &done).await["data_list"][0];
    let url = entry["url"].as_str().unwrap().replace(PUBLIC, &two.url);
    let (s, bytes) = two.bytes(&url).await;
    assert_eq!(s, 200);
    assert_eq!(md5_hex(&bytes), entry["md5"].as_str().unwrap());

    // Both worlds go on the same way: the pending job finishes, ids continue identically.
    let (a, b) = (one.advance(30.0).await, two.advance(30.0).await);
    assert_eq!(a["ran"], b["ran"]);
    assert_eq!(ran(&a).len(), 3, "{a}");
    assert_eq!(status(&two, A, &processing).await, 6);
    assert_eq!(observable(&two, &ids).await, observable(&one, &ids).await);
    let (x, y) = (start_task(&one, A, "g9").await, start_task(&two, A, "g9").await);
    assert_eq!(x, y);
    one.stop().await;
    two.stop().await;
}

/// A malformed dump is refused with 400 and the world is left exactly as it was.
#[tokio::test]
async fn malformed_state_dump_changes_nothing() {
    let app = spawn(world(&[A])).await;
    busy_world(&app).await;
    let (_, before) = app.get("/__admin/state").await;
    let mut bad_version = before.clone();
    bad_version["recmock_state"] = json!(99);
    let mut unknown_key = before.clone();
    unknown_key["extra"] = json!(1);
    let mut bad_vendor = before.clone();
    bad_vendor["vendors"]["zoom"] = json!({});
    let mut bad_account = before.clone();
    bad_account["vendors"]["cloud_record"]["accounts"]["app_a"]["tasks"] = json!("not a map");
    let mut bad_faults = before.clone();
    bad_faults["faults"] = json!({ "rules": 3, "next_id": 1 });
    let mut bad_job = before.clone();
    bad_job["scheduler"]["jobs"] = json!([{ "due_ms": 1, "seq": 1, "job": { "kind": "teleport" } }]);
    let put = |body: reqwest::Body| app.client.put(format!("{}/__admin/state", app.url)).body(body);
    for (what, body) in [
        ("not JSON", "{ nope".to_string()),
        ("empty", String::new()),
        ("empty object", "{}".to_string()),
        ("array", "[]".to_string()),
        ("version", bad_version.to_string()),
        ("unknown key", unknown_key.to_string()),
        ("unknown vendor", bad_vendor.to_string()),
        ("bad account", bad_account.to_string()),
        ("bad faults", bad_faults.to_string()),
        ("bad job", bad_job.to_string()),
    ] {
        let (s, v) = app.send(put(body.into()).header("content-type", "application/json")).await;
        assert_eq!(s, 400, "{what}: {v}");
        assert!(v["error"].is_string(), "{what}: {v}");
    }
    assert_eq!(app.get("/__admin/state").await.1, before);
    app.stop().await;
}

/// With `--state-file`, a stopped server writes its world and a new one resumes it: same tasks, same
/// clock, and a job that was pending (a task mid-processing) still runs when the clock is advanced.
#[tokio::test]
async fn state_file_survives_a_restart_with_pending_jobs() {
    let dir = temp_dir("state-file");
    let file = dir.join("world.json");
    let opts = || Spawn {
        fixtures: vec![with_clock(world(&[A])).to_string()],
        state_file: Some(file.clone()),
        ..Spawn::default()
    };
    let one = spawn_with(opts()).await;
    let (done, processing, recording) = busy_world(&one).await;
    let tasks = task_list(&one, A).await;
    let now = one.now().await;
    one.stop().await;
    assert!(file.exists(), "the state file was written on stop");

    let two = spawn_with(opts()).await;
    assert_eq!(task_list(&two, A).await, tasks);
    assert_eq!(two.now().await, now);
    assert_eq!(status(&two, A, &done).await, 6);
    assert_eq!(status(&two, A, &recording).await, 2);
    assert_eq!(status(&two, A, &processing).await, 3);
    let v = two.advance(30.0).await;
    assert_eq!(ran(&v).len(), 3, "{v}");
    assert_eq!(status(&two, A, &processing).await, 6);
    assert_eq!(downloads(&two, A, &processing).await["data_list"].as_array().unwrap().len(), 1);
    two.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A state file that is not a dump stops the start with a `StartError::State` naming the file.
#[tokio::test]
async fn unreadable_state_file_fails_the_start() {
    let dir = temp_dir("bad-state-file");
    let file = dir.join("world.json");
    std::fs::write(&file, "{\"recmock_state\": 1}").unwrap();
    let config = config_of(Spawn { state_file: Some(file.clone()), ..Spawn::default() });
    match recmock::Application::build(config) {
        Err(e @ recmock::StartError::State { .. }) => {
            assert!(e.to_string().contains(&file.display().to_string()), "{e}")
        }
        other => panic!("expected a state error, got {other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

// ----- fixtures ------------------------------------------------------------------------------------

/// A fixture posted at run time adds an account that works at once.
#[tokio::test]
async fn runtime_fixture_adds_an_account() {
    let app = spawn(world(&[A])).await;
    let (s, v) = load_fixture(&app, "?name=second", world(&[B])).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["loaded"]["name"], "second");
    assert_eq!(v["loaded"]["tenants"], json!(["cloud_record:app_b"]));
    let id = start_task(&app, B, G).await;
    assert_eq!(task_list(&app, B).await[0]["record_id"], id.as_str());
    app.stop().await;
}

/// Several start fixtures merge: a later one may add groups to an account an earlier one declared.
#[tokio::test]
async fn start_fixtures_merge() {
    let a = with_clock(world(&[A]));
    let b = json!({ "cloud_record": { "groups": [A.group("g2", "u2")] } });
    let app = spawn_with(Spawn { fixtures: vec![a.to_string(), b.to_string()], ..Spawn::default() }).await;
    let id = manual_task(&app, A, "g2").await;
    assert_eq!(layout(&app, A, &id, "u2").await, 0, "u2 publishes in g2, declared by the second fixture");
    assert_eq!(app.now().await, T0, "the first fixture's clock applies");
    app.stop().await;
}

/// An account that already exists is refused with its JSON path, and nothing of the document loads.
#[tokio::test]
async fn duplicate_account_is_refused_and_nothing_loads() {
    let app = spawn(world(&[A])).await;
    let doc = world(&[A, C]);
    let (s, v) = load_fixture(&app, "", doc).await;
    assert_eq!(s, 400, "{v}");
    assert_paths(&v, &["cloud_record.accounts[0].app_id", "cloud_record.accounts[0].dev_id"]);
    assert!(!paths(&v).iter().any(|p| p.starts_with("cloud_record.accounts[1]")), "{v}");
    assert_eq!(tenants(&app).await, vec!["cloud_record:app_a"], "C was not loaded either");
    // A duplicate inside one document is named too.
    let (s, v) = load_fixture(&app, "", world(&[C, C])).await;
    assert_eq!(s, 400, "{v}");
    assert_paths(&v, &["cloud_record.accounts[1].app_id"]);
    assert_eq!(tenants(&app).await, vec!["cloud_record:app_a"]);
    app.stop().await;
}

/// Unknown keys are errors named by path: at the top, in the vendor section, in accounts, in groups,
/// in users, in streams, in `clock`, `timings` and timeline steps.
#[tokio::test]
async fn unknown_keys_are_named_by_path() {
    let app = spawn(world(&[A])).await;
    let mut acc = C.account();
    acc["tokn"] = json!("x");
    let mut group = C.group(G, "u1");
    group["user"] = json!("x");
    group["users"][0]["stream"] = json!([]);
    group["users"][0]["streams"][0]["kind"] = json!(1);
    let doc = json!({
        "extar": 1,
        "clock": { "start": T0, "speed": 2 },
        "timings": { "encode_s": 1, "decode_s": 1 },
        "timeline": [{ "at": 1, "event": join(C, G, "u2"), "when": 2 }],
        "cloud_record": { "accounts": [acc], "groups": [group], "rooms": [] },
    });
    let (s, v) = load_fixture(&app, "", doc).await;
    assert_eq!(s, 400, "{v}");
    assert_paths(
        &v,
        &[
            "extar",
            "clock.speed",
            "timings.decode_s",
            "timeline[0].when",
            "cloud_record.rooms",
            "cloud_record.accounts[0].tokn",
            "cloud_record.groups[0].user",
        ],
    );
    assert_eq!(tenants(&app).await, vec!["cloud_record:app_a"]);

    // Inside users and streams, once the group itself is fine.
    let mut group = C.group(G, "u1");
    group["users"][0]["stream"] = json!([]);
    let (s, v) =
        load_fixture(&app, "", json!({ "cloud_record": { "accounts": [C.account()], "groups": [group] } }))
            .await;
    assert_eq!(s, 400, "{v}");
    assert_paths(&v, &["cloud_record.groups[0].users[0].stream"]);
    let mut group = C.group(G, "u1");
    group["users"][0]["streams"][0]["kind"] = json!(1);
    let (s, v) =
        load_fixture(&app, "", json!({ "cloud_record": { "accounts": [C.account()], "groups": [group] } }))
            .await;
    assert_eq!(s, 400, "{v}");
    assert_paths(&v, &["cloud_record.groups[0].users[0].streams[0].kind"]);
    assert_eq!(tenants(&app).await, vec!["cloud_record:app_a"]);
    app.stop().await;
}

/// Wrong types and out-of-range values are named by path.
#[tokio::test]
async fn wrong_types_are_named_by_path() {
    let app = spawn(world(&[A])).await;
    let mut acc = C.account();
    acc["token_timeout_s"] = json!("two hours");
    let mut acc2 = Acct("app_d").account();
    acc2["max_tasks"] = json!(0);
    let mut group = C.group(G, "u1");
    group["users"][0]["streams"][0]["media_type"] = json!("camera");
    let doc = json!({
        "description": 5,
        "clock": { "start": "now" },
        "timings": { "encode_s": -1 },
        "timeline": [{ "at": "soon", "event": join(C, G, "u2") }, { "at": 1, "event": { "type": "cloud_record.dance" } }],
        "cloud_record": { "accounts": [acc, acc2], "groups": [group] },
    });
    let (s, v) = load_fixture(&app, "", doc).await;
    assert_eq!(s, 400, "{v}");
    assert_paths(
        &v,
        &[
            "description",
            "clock.start",
            "timings.encode_s",
            "timeline[0].at",
            "timeline[1].event",
            "cloud_record.accounts[0].token_timeout_s",
            "cloud_record.accounts[1].max_tasks",
            "cloud_record.groups[0].users[0].streams[0].media_type",
        ],
    );
    let (s, v) = load_fixture(&app, "", json!({ "cloud_record": { "accounts": {} } })).await;
    assert_eq!(s, 400, "{v}");
    assert_paths(&v, &["cloud_record.accounts"]);
    let (s, v) = load_fixture(&app, "", json!([1, 2])).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(tenants(&app).await, vec!["cloud_record:app_a"]);
    app.stop().await;
}

/// `?dry_run=true` reports what a real load would (including conflicts with the running world) and
/// loads nothing.
#[tokio::test]
async fn dry_run_checks_without_loading() {
    let app = spawn(world(&[A])).await;
    let (s, v) = load_fixture(&app, "?dry_run=true", world(&[C])).await;
    assert_eq!((s, &v["valid"]), (200, &json!(true)), "{v}");
    assert_eq!(tenants(&app).await, vec!["cloud_record:app_a"], "a dry run loads nothing");
    let (s, v) = load_fixture(&app, "?dry_run=true", json!({ "cloud_record": { "acounts": [] } })).await;
    assert_eq!((s, &v["valid"]), (400, &json!(false)), "{v}");
    assert_paths(&v, &["cloud_record.acounts"]);
    let (s, v) = load_fixture(&app, "?dry_run=true", world(&[A])).await;
    assert_eq!(s, 400, "an existing account fails the real load, so the dry run must say so: {v}");
    assert_paths(&v, &["cloud_record.accounts[0].app_id"]);
    let (s, v) = load_fixture(
        &app,
        "?dry_run=true",
        json!({ "cloud_record": { "groups": [Acct("ghost").group(G, "u")] } }),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert_paths(&v, &["cloud_record.groups[0].app_id"]);
    app.stop().await;
}

/// A timeline step runs at its virtual time on advance, not before: a relative `at` counts from the
/// load, an absolute one (> 10^9) is a unix time. Their effect is visible through the vendor API.
#[tokio::test]
async fn timeline_steps_run_at_their_virtual_time() {
    let mut doc = world(&[A]);
    doc["timeline"] = json!([
        { "at": 60, "event": join(A, G, "u2") },
        { "at": T0 + 120, "event": leave(A, G, "u2") },
    ]);
    let app = spawn(doc).await;
    let first = manual_task(&app, A, G).await;
    assert_eq!(layout(&app, A, &first, "u2").await, 6_050_030_024, "u2 has not joined yet");
    let v = app.advance(59.0).await;
    assert!(ran(&v).is_empty(), "{v}");
    assert_eq!(layout(&app, A, &first, "u2").await, 6_050_030_024);
    let v = app.advance(1.0).await;
    assert_eq!(v["ran"][0]["kind"], "timeline", "{v}");
    assert_eq!(v["ran"][0]["at"], T0 + 60, "{v}");
    assert_eq!(layout(&app, A, &first, "u2").await, 0, "u2 joined at T0+60");
    let v = app.advance(100.0).await;
    let steps: Vec<&Value> =
        v["ran"].as_array().unwrap().iter().filter(|r| r["kind"] == "timeline").collect();
    assert_eq!(steps.len(), 1, "{v}");
    assert_eq!(steps[0]["at"], T0 + 120, "{v}");
    let second = manual_task(&app, A, G).await;
    assert_eq!(layout(&app, A, &second, "u2").await, 6_050_030_024, "u2 left at T0+120");
    app.stop().await;
}

/// A timeline loaded at run time counts from the moment it is loaded.
#[tokio::test]
async fn runtime_timeline_counts_from_the_load() {
    let app = spawn(world(&[A])).await;
    app.advance(100.0).await;
    let (s, v) =
        load_fixture(&app, "", json!({ "timeline": [{ "at": 60, "event": join(A, G, "u2") }] })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["loaded"]["timeline_steps"], 1);
    assert_eq!(app.get("/__admin/clock").await.1["next_due"], T0 + 160);
    let v = app.advance(60.0).await;
    assert_eq!(v["ran"][0]["at"], T0 + 160, "{v}");
    app.event(leave(A, G, "u2")).await;
    // An absolute time already past runs at once, before the load answers.
    let (s, v) =
        load_fixture(&app, "", json!({ "timeline": [{ "at": T0 + 10, "event": join(A, G, "u3") }] })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["ran"][0]["kind"], "timeline", "{v}");
    app.event(leave(A, G, "u3")).await;
    app.stop().await;
}

/// At run time a `clock.start` in the past is ignored with a note (time never goes back); one in the
/// future moves the clock there and runs every job that fell due on the way, as an advance would.
#[tokio::test]
async fn runtime_clock_start_never_goes_back() {
    let app = spawn(world(&[A])).await;
    let id = finished_task(&app, A, 60.0).await;
    let (s, v) = load_fixture(&app, "", json!({ "clock": { "start": T0 } })).await;
    assert_eq!(s, 200, "{v}");
    let notes = v["loaded"]["notes"].to_string();
    assert!(notes.contains("clock.start ignored"), "{v}");
    assert_eq!(app.now().await, T0 + 60);
    assert_eq!(status(&app, A, &id).await, 3);

    let (s, v) = load_fixture(&app, "", json!({ "clock": { "start": T0 + 3600 } })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(app.now().await, T0 + 3600);
    assert_eq!(status(&app, A, &id).await, 6, "processing fell due on the way");
    app.stop().await;
}

/// Bad start fixtures stop `Application::build` with a `StartError::Fixture` naming every bad path.
#[tokio::test]
async fn bad_start_fixtures_fail_the_build_naming_every_path() {
    let build = |docs: Vec<String>| {
        recmock::Application::build(config_of(Spawn { fixtures: docs, ..Spawn::default() }))
    };
    let mut acc = A.account();
    acc["tokn"] = json!(1);
    let mut acc2 = B.account();
    acc2["token_timeout_s"] = json!(0);
    let bad = json!({ "extra": true, "cloud_record": { "accounts": [acc, acc2] } });
    match build(vec![bad.to_string()]) {
        Err(e @ recmock::StartError::Fixture { .. }) => {
            let text = e.to_string();
            for p in ["extra", "cloud_record.accounts[0].tokn", "cloud_record.accounts[1].token_timeout_s"] {
                assert!(text.contains(p), "`{p}` not named in: {text}");
            }
            let recmock::StartError::Fixture { errors, .. } = e else { unreachable!() };
            assert_eq!(errors.len(), 3, "{errors:?}");
        }
        other => panic!("expected a fixture error, got {other:?}"),
    }
    // A duplicate across two start fixtures names the second one's path.
    match build(vec![world(&[A]).to_string(), world(&[A]).to_string()]) {
        Err(recmock::StartError::Fixture { name, errors }) => {
            assert_eq!(name, "test fixture 1");
            assert!(errors.iter().any(|e| e.path == "cloud_record.accounts[0].app_id"), "{errors:?}");
        }
        other => panic!("expected a fixture error, got {other:?}"),
    }
    // Text that is not JSON names where it broke.
    match build(vec!["{\n  \"cloud_record\": ,\n}".into()]) {
        Err(e @ recmock::StartError::Fixture { .. }) => assert!(e.to_string().contains("line 2"), "{e}"),
        other => panic!("expected a fixture error, got {other:?}"),
    }
}

// ----- clock ---------------------------------------------------------------------------------------

/// `GET /__admin/clock` answers now, frozen, scale (and pending jobs with the next due time).
#[tokio::test]
async fn clock_has_its_documented_shape() {
    let app = spawn(world(&[A])).await;
    let (s, v) = app.get("/__admin/clock").await;
    assert_eq!(s, 200);
    assert_eq!(v["now"], T0);
    assert_eq!(v["now_ms"], T0 * 1000);
    assert_eq!(v["frozen"], true);
    assert_eq!(v["scale"], 1.0);
    assert_eq!(v["pending_jobs"], 0);
    assert_eq!(v["next_due"], Value::Null);
    finished_task(&app, A, 10.0).await;
    let v = app.get("/__admin/clock").await.1;
    assert_eq!((v["pending_jobs"].as_i64(), v["next_due"].as_i64()), (Some(1), Some(T0 + 15)), "{v}");
    app.stop().await;
}

/// `POST /__admin/clock` sets frozen, scale and now, each on its own.
#[tokio::test]
async fn clock_post_changes_each_setting() {
    let app = spawn(world(&[A])).await;
    let (s, v) = app.post("/__admin/clock", json!({ "scale": 60.0 })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["scale"].as_f64(), v["frozen"].as_bool(), v["now"].as_i64()),
        (Some(60.0), Some(true), Some(T0))
    );
    let (s, v) = app.post("/__admin/clock", json!({ "now": T0 + 100 })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["now"], T0 + 100);
    let (s, v) = app.post("/__admin/clock", json!({ "frozen": false })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["frozen"], false);
    let (_, v) = app.post("/__admin/clock", json!({ "frozen": true })).await;
    assert_eq!(v["frozen"], true);
    let stopped = v["now_ms"].as_i64().unwrap();
    assert!(stopped >= (T0 + 100) * 1000, "{v}");
    assert_eq!(app.get("/__admin/clock").await.1["now_ms"], stopped, "frozen again");
    app.stop().await;
}

/// Time never goes back; a scale must be > 0; unknown fields and non-objects are refused; the clock is
/// unchanged by a refused change.
#[tokio::test]
async fn clock_post_refuses_bad_changes() {
    let app = spawn(world(&[A])).await;
    app.advance(10.0).await;
    for (body, word) in [
        (json!({ "now": T0 }), "back"),
        (json!({ "now": T0 + 100, "scale": 0 }), "scale"),
        (json!({ "scale": -2.5 }), "scale"),
        (json!({ "scale": 0.0, "frozen": false }), "scale"),
        (json!({ "scale": 1e300, "frozen": false }), "scale"),
        (json!({ "frozen": "yes" }), "frozen"),
        (json!({ "speed": 2 }), "speed"),
        (json!("now"), "clock"),
    ] {
        let msg = refused(&app, "/__admin/clock", body.clone()).await;
        assert!(msg.contains(word), "{body}: {msg}");
    }
    let v = app.get("/__admin/clock").await.1;
    assert_eq!(
        (v["now"].as_i64(), v["scale"].as_f64(), v["frozen"].as_bool()),
        (Some(T0 + 10), Some(1.0), Some(true))
    );
    app.stop().await;
}

/// `POST /__admin/clock` with `now` runs the jobs due on the way, like an advance.
#[tokio::test]
async fn clock_now_runs_what_falls_due() {
    let app = spawn(world(&[A])).await;
    let id = finished_task(&app, A, 60.0).await;
    let (s, v) = app.post("/__admin/clock", json!({ "now": T0 + 1000 })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(ran(&v).len(), 3, "{v}");
    assert_eq!(status(&app, A, &id).await, 6);
    app.stop().await;
}

/// An advance runs every due job in due order before it answers: a finished task goes 3→4, 4→5, 5→6
/// at the times of the timing table, and the clock ends where it was asked to.
#[tokio::test]
async fn advance_runs_due_jobs_in_order() {
    let app = spawn(world(&[A])).await;
    let id = finished_task(&app, A, 60.0).await;
    let v = app.advance(4.999).await;
    assert!(ran(&v).is_empty(), "nothing is due before T0+65: {v}");
    let v = app.advance(25.001).await;
    let steps = v["ran"].as_array().unwrap();
    let want = [(3, 4, T0 + 65), (4, 5, T0 + 75), (5, 6, T0 + 80)];
    assert_eq!(steps.len(), want.len(), "{v}");
    for (step, (from, to, at)) in steps.iter().zip(want) {
        assert_eq!(step["kind"], "vendor", "{step}");
        assert_eq!(step["vendor"], "cloud_record", "{step}");
        assert_eq!(step["at"], at, "{step}");
        assert_eq!(step["at_ms"], at * 1000, "{step}");
        let d = step["description"].as_str().unwrap();
        assert!(d.contains(&id) && d.contains(&format!("status {from} → {to}")), "{d}");
    }
    assert_eq!(v["now"], T0 + 90);
    assert_eq!(v["pending_jobs"], 0);
    assert_eq!(status(&app, A, &id).await, 6);
    app.stop().await;
}

/// An advance refuses negative, non-numeric, unrepresentably large and unknown-field bodies; the clock
/// does not move.
#[tokio::test]
async fn advance_refuses_bad_bodies() {
    let app = spawn(world(&[A])).await;
    for body in [
        json!({ "seconds": -1 }),
        json!({ "seconds": "10" }),
        json!({ "seconds": 10, "jobs": true }),
        json!({ "secs": 10 }),
        json!({}),
        json!({ "seconds": 1e300 }),
    ] {
        refused(&app, "/__admin/clock/advance", body).await;
    }
    refused(&app, "/__admin/clock", json!({ "now": 1e300 })).await;
    assert_eq!(app.now().await, T0);
    // The server is still healthy.
    assert_eq!(app.advance(1.0).await["now"], T0 + 1);
    app.stop().await;
}

// ----- events --------------------------------------------------------------------------------------

/// Events apply one at a time or as an array, in order.
#[tokio::test]
async fn events_apply_singly_and_in_arrays() {
    let app = spawn(world(&[A])).await;
    let v = app.event(join(A, G, "u2")).await;
    assert_eq!(v["applied"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["now"], T0);
    let v = app.event(json!([join(A, G, "u3"), leave(A, G, "u2")])).await;
    assert_eq!(v["applied"].as_array().unwrap().len(), 2, "{v}");
    let id = manual_task(&app, A, G).await;
    assert_eq!(layout(&app, A, &id, "u3").await, 0, "u3 joined");
    assert_eq!(layout(&app, A, &id, "u2").await, 6_050_030_024, "u2 left");
    app.stop().await;
}

/// A malformed event is 400; in an array, one malformed event means none is applied.
#[tokio::test]
async fn malformed_events_apply_nothing() {
    let app = spawn(world(&[A])).await;
    for bad in [
        json!({ "type": "cloud_record.dance", "app_id": "app_a" }),
        json!({ "app_id": "app_a" }),
        json!({ "type": "zoom.join" }),
        json!({ "type": "nodot" }),
        json!({ "type": "cloud_record.join", "app_id": "app_a", "group_id": G }),
        json!({ "type": "cloud_record.join", "app_id": "app_a", "group_id": G, "user_id": "u9", "mood": 1 }),
        json!(42),
        json!([join(A, G, "u5"), { "type": "cloud_record.dance" }]),
    ] {
        refused(&app, "/__admin/events", bad).await;
    }
    let id = manual_task(&app, A, G).await;
    assert_eq!(layout(&app, A, &id, "u5").await, 6_050_030_024, "u5's join was not applied");
    app.stop().await;
}

/// An event the world's state refuses is 409: failing a task that already ended. Failing a recording
/// task ends it with status -1, as the vendor API then shows.
#[tokio::test]
async fn event_in_the_wrong_state_is_409() {
    let app = spawn(world(&[A])).await;
    let done = finished_task(&app, A, 10.0).await;
    app.advance(30.0).await;
    let fail =
        |id: &str| json!({ "type": "cloud_record.recording_fail", "app_id": A.app(), "record_id": id });
    let (s, v) = app.post("/__admin/events", fail(&done)).await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(status(&app, A, &done).await, 6);
    let live = start_task(&app, A, G).await;
    app.event(fail(&live)).await;
    assert_eq!(status(&app, A, &live).await, -1);
    let (s, v) = app.post("/__admin/events", fail("20260101080000_99999")).await;
    assert_eq!(s, 404, "{v}");
    app.stop().await;
}

/// An event for an account that does not exist is 404.
#[tokio::test]
async fn event_for_unknown_account_is_404() {
    let app = spawn(world(&[A])).await;
    let (s, v) = app.post("/__admin/events", join(Acct("ghost"), G, "u1")).await;
    assert_eq!(s, 404, "{v}");
    assert!(v["error"].as_str().unwrap().contains("ghost"), "{v}");
    app.stop().await;
}

// ----- journal -------------------------------------------------------------------------------------

/// The journal records each vendor request with method, path, query, body, status, response, vendor
/// and virtual and wall time; control-plane calls are not recorded.
#[tokio::test]
async fn journal_records_vendor_requests() {
    let app = spawn(world(&[A])).await;
    let wall_before =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let (s, _) = app.get(&format!("/access/token?dev_id={}&token={}", A.dev(), A.token())).await;
    assert_eq!(s, 200);
    app.advance(10.0).await;
    let id = start_task(&app, A, G).await;
    let (s, v) = app.get("/__admin/requests").await;
    assert_eq!(s, 200);
    assert_eq!(
        (v["count"].as_u64(), v["held"].as_u64(), v["capacity"].as_u64()),
        (Some(2), Some(2), Some(10_000)),
        "{v}"
    );
    let token = &v["requests"][0];
    assert_eq!(token["method"], "GET");
    assert_eq!(token["path"], "/access/token");
    assert_eq!(token["query"], format!("dev_id={}&token={}", A.dev(), A.token()));
    assert_eq!(token["vendor"], "cloud_record");
    assert_eq!(token["status"], 200);
    assert_eq!(token["virtual_time"], T0);
    assert!(token["response"].as_str().unwrap().contains("access_token"), "{token}");
    let wall = token["wall_ms"].as_i64().unwrap();
    assert!(wall >= wall_before && wall < wall_before + 60_000, "{token}");
    let init = &v["requests"][1];
    assert_eq!(init["method"], "POST");
    assert_eq!(init["path"], "/v1/record/init");
    assert_eq!(init["virtual_time"], T0 + 10);
    assert_eq!(init["virtual_ms"], (T0 + 10) * 1000);
    let body: Value = serde_json::from_str(init["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["group_id"], G);
    let response: Value = serde_json::from_str(init["response"].as_str().unwrap()).unwrap();
    assert_eq!(response["record_id"], id.as_str());
    assert!(init["id"].as_u64() > token["id"].as_u64());
    app.stop().await;
}

/// Long bodies are kept truncated (16 KiB and a note of the full length).
#[tokio::test]
async fn journal_truncates_long_bodies() {
    let app = spawn(world(&[A])).await;
    let body = json!({ "group_id": G, "seq": "1", "pad": "x".repeat(40_000) });
    cr_post(&app, A, "/v1/record/init", body).await;
    let j = app.get("/__admin/requests").await.1;
    let kept = j["requests"][0]["body"].as_str().unwrap();
    assert!(kept.starts_with("{\"app_id\""), "{}", &kept[..40]);
    assert!(kept.len() < 17_000 && kept.ends_with("bytes]"), "{}", &kept[kept.len() - 40..]);
    app.stop().await;
}

/// Journal filters: vendor, path prefix, since (virtual seconds), limit (the latest N); bad filters 400.
#[tokio::test]
async fn journal_filters() {
    let app = spawn(world(&[A])).await;
    app.get("/server/address?appType=10").await;
    app.advance(10.0).await;
    start_task(&app, A, G).await;
    app.advance(10.0).await;
    task_list(&app, A).await;
    let paths_of = |v: &Value| -> Vec<String> {
        v["requests"].as_array().unwrap().iter().map(|r| r["path"].as_str().unwrap().to_string()).collect()
    };
    let get = |q: &'static str| {
        let app = &app;
        async move {
            let (s, v) = app.get(&format!("/__admin/requests?{q}")).await;
            assert_eq!(s, 200, "{q}: {v}");
            v
        }
    };
    assert_eq!(paths_of(&get("vendor=cloud_record").await).len(), 3);
    assert_eq!(paths_of(&get("path=/v1/record").await), vec!["/v1/record/init", "/v1/record/task/list"]);
    assert_eq!(paths_of(&get("path=/v1/record/task").await), vec!["/v1/record/task/list"]);
    assert_eq!(paths_of(&get("since=1767225610").await), vec!["/v1/record/init", "/v1/record/task/list"]);
    assert_eq!(paths_of(&get("limit=1").await), vec!["/v1/record/task/list"]);
    assert_eq!(paths_of(&get("path=/v1&since=1767225620&limit=5").await), vec!["/v1/record/task/list"]);
    assert_eq!(paths_of(&get("path=/nothing").await), Vec::<String>::new());
    for bad in ["vendor=zoom", "since=yesterday", "limit=-1", "limit=x", "verb=GET"] {
        let (s, v) = app.get(&format!("/__admin/requests?{bad}")).await;
        assert_eq!(s, 400, "{bad}: {v}");
    }
    app.stop().await;
}

/// `DELETE /__admin/requests` empties the journal; recording goes on afterwards.
#[tokio::test]
async fn journal_delete_clears() {
    let app = spawn(world(&[A])).await;
    task_list(&app, A).await;
    let (s, v) = app.send(app.client.delete(format!("{}/__admin/requests", app.url))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(app.get("/__admin/requests").await.1["held"], 0);
    task_list(&app, A).await;
    let v = app.get("/__admin/requests").await.1;
    assert_eq!(v["held"], 1, "{v}");
    app.stop().await;
}

/// The journal is a bounded ring: with room for 5, ten requests leave the last five.
#[tokio::test]
async fn journal_is_a_bounded_ring() {
    let app = spawn_with(Spawn {
        fixtures: vec![with_clock(world(&[A])).to_string()],
        journal_size: 5,
        ..Spawn::default()
    })
    .await;
    for i in 0..10 {
        app.get(&format!("/server/address?appType=10&n={i}")).await;
    }
    let v = app.get("/__admin/requests").await.1;
    assert_eq!((v["held"].as_u64(), v["capacity"].as_u64()), (Some(5), Some(5)), "{v}");
    let queries: Vec<&str> =
        v["requests"].as_array().unwrap().iter().map(|r| r["query"].as_str().unwrap()).collect();
    assert_eq!(queries, (5..10).map(|i| format!("appType=10&n={i}")).collect::<Vec<_>>());
    app.stop().await;
}

// ----- faults --------------------------------------------------------------------------------------

/// The HTTP status of a GET (whatever the body).
async fn http_status(app: &TestApp, path: &str) -> u16 {
    app.client.get(format!("{}{path}", app.url)).send().await.unwrap().status().as_u16()
}

/// Add a fault rule; returns it.
/// `error_code` answers the code in 001's `{code, msg}` envelope with the seed's description, and the
/// request does nothing else; the journal names the rule.
#[tokio::test]
async fn fault_error_code_answers_in_the_vendor_envelope() {
    let app = spawn(world(&[A])).await;
    let rule = add_fault(
        &app,
        json!({ "match": { "vendor": "cloud_record", "path": "/v1/record/init" },
                                        "action": { "error_code": 6_050_030_016_i64 } }),
    )
    .await;
    let v = cr_post(&app, A, "/v1/record/init", json!({ "group_id": G, "seq": "1", "auto": {} })).await;
    assert_eq!(v["code"], 6_050_030_016_i64, "{v}");
    assert_eq!(v["msg"], "给资源平台发送命令失败", "{v}");
    assert_eq!(task_list(&app, A).await, json!([]), "no task was created");
    let j = app.get("/__admin/requests?path=/v1/record/init").await.1;
    assert_eq!(j["requests"][0]["fault"], rule["id"]);
    let faults = app.get("/__admin/faults").await.1;
    assert_eq!(faults["faults"][0]["hits"], 1, "{faults}");
    // A custom message goes with the code.
    add_fault(&app, json!({ "match": { "vendor": "cloud_record", "path": "/v1/record/task/list" },
                            "action": { "error_code": 6_050_030_032_i64, "error_msg": "media server slow" } })).await;
    let v = cr_get(&app, A, "/v1/record/task/list", "").await;
    assert_eq!(v["code"], 6_050_030_032_i64);
    assert!(v["msg"].as_str().unwrap().contains("media server slow"), "{v}");
    app.stop().await;
}

/// `http_status` answers that status with the given body.
#[tokio::test]
async fn fault_http_status_answers_the_body() {
    let app = spawn(world(&[A])).await;
    add_fault(
        &app,
        json!({ "match": { "path": "/v1/record/*", "method": "get" },
                            "action": { "http_status": 503, "body": "{\"down\":true}" } }),
    )
    .await;
    let (s, v) =
        app.get_h(&format!("/v1/record/task/list?app_id={}", A.app()), &[("authorization", &A.auth())]).await;
    assert_eq!((s, v), (503, json!({ "down": true })));
    // POSTs under the same prefix are untouched (method match).
    start_task(&app, A, G).await;
    app.stop().await;
}

/// `latency_ms` alone delays the answer, which is still the normal one.
#[tokio::test]
async fn fault_latency_delays_a_normal_answer() {
    let app = spawn(world(&[A])).await;
    add_fault(&app, json!({ "match": { "path": "/v1/record/init" }, "action": { "latency_ms": 150 } })).await;
    let t = Instant::now();
    let id = start_task(&app, A, G).await;
    assert!(t.elapsed() >= Duration::from_millis(100), "{:?}", t.elapsed());
    assert_eq!(status(&app, A, &id).await, 2);
    app.stop().await;
}

/// `drop` breaks the connection: the client gets no valid answer. The journal records status 0.
#[tokio::test]
async fn fault_drop_breaks_the_connection() {
    let app = spawn(world(&[A])).await;
    add_fault(
        &app,
        json!({ "match": { "path": "/server/address" }, "action": { "drop": true }, "times": 1 }),
    )
    .await;
    let outcome = match app.client.get(format!("{}/server/address?appType=10", app.url)).send().await {
        Err(e) => Err(e.to_string()),
        Ok(r) => r.bytes().await.map(|b| b.to_vec()).map_err(|e| e.to_string()),
    };
    assert!(outcome.is_err(), "a dropped connection still delivered a body: {outcome:?}");
    let (s, v) = app.get("/server/address?appType=10").await;
    assert_eq!((s, &v["code"]), (200, &json!(0)), "{v}");
    let j = app.get("/__admin/requests").await.1;
    assert_eq!(j["requests"][0]["status"], 0, "{j}");
    app.stop().await;
}

/// `times` counts down: the next N matches misbehave, then the rule is gone and answers are normal.
#[tokio::test]
async fn fault_times_counts_down() {
    let app = spawn(world(&[A])).await;
    add_fault(
        &app,
        json!({ "match": { "vendor": "cloud_record", "path": "/v1/record/task/list" },
                            "action": { "error_code": 6_050_030_000_i64 }, "times": 2 }),
    )
    .await;
    let first = cr_get(&app, A, "/v1/record/task/list", "").await["code"].clone();
    let listed = app.get("/__admin/faults").await.1;
    assert_eq!(
        (listed["faults"][0]["hits"].as_u64(), listed["faults"][0]["times"].as_u64()),
        (Some(1), Some(1)),
        "{listed}"
    );
    let second = cr_get(&app, A, "/v1/record/task/list", "").await["code"].clone();
    let third = cr_get(&app, A, "/v1/record/task/list", "").await["code"].clone();
    assert_eq!([first, second, third], [json!(6_050_030_000_i64), json!(6_050_030_000_i64), json!(0)]);
    assert_eq!(app.get("/__admin/faults").await.1["faults"], json!([]));
    app.stop().await;
}

/// Rules can match top-level body fields and query parameters (numbers and strings alike).
#[tokio::test]
async fn fault_matches_body_fields_and_query() {
    let app = spawn(world(&[A])).await;
    add_fault(
        &app,
        json!({ "match": { "vendor": "cloud_record", "body": { "group_id": "g2" } },
                            "action": { "error_code": 6_050_030_013_i64 } }),
    )
    .await;
    add_fault(&app, json!({ "match": { "query": { "appType": 8 } }, "action": { "http_status": 418 } }))
        .await;
    let v = cr_post(&app, A, "/v1/record/init", json!({ "group_id": "g2", "seq": "1", "auto": {} })).await;
    assert_eq!(v["code"], 6_050_030_013_i64, "{v}");
    start_task(&app, A, G).await;
    assert_eq!(http_status(&app, "/server/address?appType=8").await, 418);
    assert_eq!(http_status(&app, "/server/address?appType=10").await, 200);
    let hits: Vec<u64> = app.get("/__admin/faults").await.1["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["hits"].as_u64().unwrap())
        .collect();
    assert_eq!(hits, vec![1, 1]);
    app.stop().await;
}

/// Rules are deleted one by one (404 for an unknown id, 400 for a non-number) or all at once.
#[tokio::test]
async fn fault_rules_are_deleted_one_or_all() {
    let app = spawn(world(&[A])).await;
    let first =
        add_fault(&app, json!({ "match": { "path": "/server/address" }, "action": { "http_status": 500 } }))
            .await;
    let second =
        add_fault(&app, json!({ "match": { "path": "/access/token" }, "action": { "http_status": 500 } }))
            .await;
    assert_ne!(first["id"], second["id"]);
    let del = |p: String| app.client.delete(format!("{}/__admin/faults{p}", app.url));
    let (s, v) = app.send(del(format!("/{}", first["id"]))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(http_status(&app, "/server/address?appType=10").await, 200, "the first rule is gone");
    assert_eq!(http_status(&app, "/access/token").await, 500, "the second is not");
    assert_eq!(app.send(del(format!("/{}", first["id"]))).await.0, 404);
    assert_eq!(app.send(del("/abc".into())).await.0, 400);
    let (s, _) = app.send(del(String::new())).await;
    assert_eq!(s, 200);
    assert_eq!(app.get("/__admin/faults").await.1["faults"], json!([]));
    assert_eq!(http_status(&app, "/access/token").await, 200);
    app.stop().await;
}

/// Rules that make no sense are refused: two actions, none, an error code without a vendor (or for an
/// unknown vendor), an impossible status, `times: 0`, unknown fields.
#[tokio::test]
async fn invalid_fault_rules_are_refused() {
    let app = spawn(world(&[A])).await;
    for rule in [
        json!({ "match": { "vendor": "cloud_record" }, "action": { "error_code": 6_050_030_000_i64, "http_status": 500 } }),
        json!({ "action": { "http_status": 500, "drop": true } }),
        json!({ "action": {} }),
        json!({ "match": { "path": "/x" } }),
        json!({ "action": { "error_code": 6_050_030_000_i64 } }),
        json!({ "match": { "vendor": "zoom" }, "action": { "http_status": 500 } }),
        json!({ "action": { "http_status": 99 } }),
        json!({ "action": { "http_status": 500 }, "times": 0 }),
        json!({ "match": { "verb": "GET" }, "action": { "http_status": 500 } }),
        json!({ "action": { "http_status": 500, "delay": 1 } }),
        json!({ "action": { "http_status": 500 }, "forever": true }),
    ] {
        refused(&app, "/__admin/faults", rule).await;
    }
    assert_eq!(app.get("/__admin/faults").await.1["faults"], json!([]));
    app.stop().await;
}

// ----- body limit, routing -------------------------------------------------------------------------

/// A vendor request over `max_body_bytes` gets 413 with 001's "could not parse" code; one at the
/// limit is read normally.
#[tokio::test]
async fn oversize_vendor_body_gets_413_in_the_vendor_envelope() {
    let app = spawn_with(Spawn {
        fixtures: vec![with_clock(world(&[A])).to_string()],
        max_body_bytes: 1024,
        ..Spawn::default()
    })
    .await;
    let auth = A.auth();
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
    let big = format!(
        "{{\"app_id\":\"app_a\",\"group_id\":\"g1\",\"seq\":\"1\",\"pad\":\"{}\"}}",
        "x".repeat(2000)
    );
    let (s, v) = app.post_raw("/v1/record/init", big.as_bytes(), &headers).await;
    assert_eq!(s, 413, "{v}");
    assert_eq!(v["code"], 6_050_030_005_i64, "{v}");
    assert!(v["msg"].as_str().unwrap().starts_with("json解析错误"), "{v}");
    let head = "{\"app_id\":\"app_a\",\"group_id\":\"g1\",\"seq\":\"1\",\"pad\":\"";
    let fits = format!("{head}{}\"}}", "x".repeat(1024 - head.len() - 2));
    assert_eq!(fits.len(), 1024);
    let (s, v) = app.post_raw("/v1/record/init", fits.as_bytes(), &headers).await;
    assert_eq!((s, &v["code"]), (200, &json!(0)), "{v}");
    let j = app.get("/__admin/requests").await.1;
    assert_eq!(j["requests"][0]["status"], 413, "{j}");
    app.stop().await;
}

/// Unknown paths answer a JSON 404, inside `/__admin` too.
#[tokio::test]
async fn unknown_paths_answer_json_404() {
    let app = spawn(world(&[A])).await;
    for path in ["/nope", "/__admin/x", "/__admin/", "/__admin/clock/rewind", "/v1/record/bogus", "/files/k"]
    {
        let (s, v) = app.get(path).await;
        assert_eq!(s, 404, "{path}: {v}");
        assert!(v["error"].as_str().unwrap().contains(path), "{path}: {v}");
    }
    let (s, v) = app.post("/__admin/nope", json!({})).await;
    assert_eq!(s, 404, "{v}");
    app.stop().await;
}

/// A known path asked with the wrong method answers a JSON 405: vendor endpoints, `/files`, and every
/// control-plane resource.
#[tokio::test]
async fn wrong_methods_answer_json_405() {
    let app = spawn(world(&[A])).await;
    let u = |p: &str| format!("{}{p}", app.url);
    let c = &app.client;
    for (what, rb) in [
        ("GET init", c.get(u("/v1/record/init"))),
        ("POST task/list", c.post(u("/v1/record/task/list"))),
        ("POST files", c.post(u("/files/k/n.mp4"))),
        ("POST health", c.post(u("/__admin/health"))),
        ("GET reset", c.get(u("/__admin/reset"))),
        ("DELETE state", c.delete(u("/__admin/state"))),
        ("GET fixtures", c.get(u("/__admin/fixtures"))),
        ("PUT clock", c.put(u("/__admin/clock"))),
        ("GET advance", c.get(u("/__admin/clock/advance"))),
        ("GET events", c.get(u("/__admin/events"))),
        ("POST requests", c.post(u("/__admin/requests"))),
        ("PUT faults", c.put(u("/__admin/faults"))),
        ("GET faults/1", c.get(u("/__admin/faults/1"))),
    ] {
        let resp = rb.send().await.unwrap();
        let s = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        assert_eq!(s, 405, "{what}: {text}");
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: not JSON: {text:?}"));
        assert!(v["error"].is_string(), "{what}: {v}");
    }
    app.stop().await;
}

/// Control-plane bodies that are not JSON are 400, not 500 or HTML.
#[tokio::test]
async fn admin_bodies_that_are_not_json_are_400() {
    let app = spawn(world(&[A])).await;
    for path in [
        "/__admin/fixtures",
        "/__admin/clock",
        "/__admin/clock/advance",
        "/__admin/events",
        "/__admin/faults",
    ] {
        let (s, v) = app.post_raw(path, b"{ nope", &[("content-type", "application/json")]).await;
        assert_eq!(s, 400, "{path}: {v}");
        let (s, v) = app.post_raw(path, b"", &[]).await;
        assert_eq!(s, 400, "{path} (empty): {v}");
    }
    app.stop().await;
}

// ----- determinism ---------------------------------------------------------------------------------

/// The same request script, as raw response bodies.
async fn script(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    let get = |p: String| app.client.get(format!("{}{p}", app.url)).header("authorization", A.auth());
    let post = |p: &str, b: Value| {
        let mut b = b;
        b["app_id"] = json!(A.app());
        app.client.post(format!("{}{p}", app.url)).header("authorization", A.auth()).json(&b)
    };
    out.push(app.text(get(format!("/access/token?dev_id={}&token={}", A.dev(), A.token()))).await.1);
    out.push(
        app.text(post("/v1/record/init", small_canvas(json!({ "group_id": G, "seq": "1", "auto": {} }))))
            .await
            .1,
    );
    let first: Value = serde_json::from_str(&out[1]).unwrap();
    let rid = first["record_id"].as_str().unwrap().to_string();
    out.push(app.text(post("/v1/record/init", json!({ "group_id": "g2", "seq": "2" }))).await.1);
    out.push(app.advance(600.0).await.to_string());
    out.push(app.text(post("/v1/record/finish", json!({ "record_id": rid }))).await.1);
    out.push(app.advance(60.0).await.to_string());
    out.push(app.text(get(format!("/v1/record/task/list?app_id={}", A.app()))).await.1);
    let files =
        app.text(get(format!("/v1/record/file/download/url?app_id={}&record_id={rid}", A.app()))).await.1;
    let url = serde_json::from_str::<Value>(&files).unwrap()["data_list"][0]["url"]
        .as_str()
        .unwrap()
        .replace(PUBLIC, &app.url);
    out.push(files);
    out.push(md5_hex(&app.bytes(&url).await.1));
    out.push(app.text(get("/access/token?dev_id=x&token=y".into())).await.1);
    out
}

/// With the same seed, fixture and frozen clock, the same requests give byte-identical answers;
/// another seed gives other ids (so the comparison can fail).
#[tokio::test]
async fn same_seed_same_requests_same_bytes() {
    let (one, two, other) = (
        spawn_public(world(&[A]), 1234).await,
        spawn_public(world(&[A]), 1234).await,
        spawn_public(world(&[A]), 99).await,
    );
    let (a, b, c) = (script(&one).await, script(&two).await, script(&other).await);
    assert_eq!(a, b);
    assert_ne!(a[0], c[0], "another seed, another access token");
    for app in [one, two, other] {
        app.stop().await;
    }
}

// ----- files ---------------------------------------------------------------------------------------

/// `/files/{key}/{name}`: JSON 404 for unknown files (or a known key with the wrong name); the whole
/// file matches size and MD5; HEAD gives the length; ranges give 206 with Content-Range; an
/// unsatisfiable range gives 416.
#[tokio::test]
async fn files_route_serves_ranges() {
    let app = spawn(world(&[A])).await;
    let id = finished_task(&app, A, 30.0).await;
    app.advance(30.0).await;
    let entry = downloads(&app, A, &id).await["data_list"][0].clone();
    let url = entry["url"].as_str().unwrap().to_string();
    let extent: Value = serde_json::from_str(entry["extent"].as_str().unwrap()).unwrap();
    let size = extent["size"].as_u64().unwrap();
    assert_eq!(size, 30 * SMALL_BPS);
    let sz = size as usize;

    let (s, v) = app.get("/files/nokey/none.mp4").await;
    assert_eq!(s, 404, "{v}");
    assert!(v["error"].is_string());
    let (s, _) = app.bytes(&format!("{}.bak", url)).await;
    assert_eq!(s, 404, "a known key with another name");

    let (s, all) = app.bytes(&url).await;
    assert_eq!(s, 200);
    assert_eq!(all.len() as u64, size);
    assert_eq!(md5_hex(&all), entry["md5"].as_str().unwrap());

    let head = app.client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], size.to_string().as_str());
    assert_eq!(head.headers()["accept-ranges"], "bytes");

    let range = |r: &str| app.client.get(&url).header("range", r.to_string()).send();
    for (r, from, to) in [
        ("bytes=0-9".to_string(), 0, 10),
        (format!("bytes={}-", sz - 10), sz - 10, sz),
        ("bytes=-5".to_string(), sz - 5, sz),
        ("bytes=100-99999999".to_string(), 100, sz),
    ] {
        let resp = range(&r).await.unwrap();
        assert_eq!(resp.status(), 206, "{r}");
        assert_eq!(
            resp.headers()["content-range"],
            format!("bytes {from}-{}/{size}", to - 1).as_str(),
            "{r}"
        );
        assert_eq!(resp.bytes().await.unwrap().as_ref(), &all[from..to], "{r}");
    }
    for r in [format!("bytes={sz}-"), format!("bytes={}-{}", sz + 10_000, sz + 10_010)] {
        let resp = range(&r).await.unwrap();
        assert_eq!(resp.status(), 416, "{r}");
        assert_eq!(resp.headers()["content-range"], format!("bytes */{size}").as_str(), "{r}");
    }
    app.stop().await;
}

/// A dump that is bad only in one vendor's section changes nothing, not even the other vendors' state.
#[tokio::test]
async fn restore_is_all_or_nothing_across_vendors() {
    let fixture = json!({
        "cloud_record": { "accounts": [{ "dev_id": "d1", "token": "t1", "app_id": "a1" }] },
        "ilvb_edu": { "apps": [{ "sdkappid": 1400000001u64, "key": "k" }] }
    });
    let app = spawn(fixture).await;
    let (_, v) = app.get("/access/token?dev_id=d1&token=t1").await;
    assert_eq!(v["code"], 0);
    let (_, good) = app.get("/__admin/state").await;
    let mut bad = good.clone();
    bad["vendors"]["cloud_record"]["accounts"] = json!({});
    bad["vendors"]["ilvb_edu"]["apps"] = json!("not a map");
    let (s, v) = app.send(app.client.put(format!("{}/__admin/state", app.url)).json(&bad)).await;
    assert_eq!(s, 400, "{v}");
    assert!(v["error"].as_str().unwrap().contains("vendors.ilvb_edu"), "{v}");
    let (_, after) = app.get("/__admin/state").await;
    assert_eq!(after["vendors"], good["vendors"], "cloud_record must not have been replaced");
    app.stop().await;
}

/// Times past the year 9999 (or absurd intervals) are refused where they enter — fixtures, state dumps —
/// instead of overflowing later: the server keeps answering.
#[tokio::test]
async fn unrepresentable_times_are_refused_at_the_boundary() {
    let app = spawn(json!({ "ilvb_edu": { "apps": [{ "sdkappid": 1400000001u64, "key": "k" }] } })).await;
    for (doc, path) in [
        (json!({ "clock": { "start": 9_300_000_000_000_000i64 } }), "clock.start"),
        (
            json!({ "timeline": [{ "at": 1e300, "event": { "type": "ilvb_edu.class_end", "sdkappid": 1, "roomid": 1 } }] }),
            "timeline[0].at",
        ),
        (
            json!({ "ilvb_edu": { "classrooms": [{ "sdkappid": 1400000001u64, "roomid": 7, "start": -9.2e15 }] } }),
            "ilvb_edu.classrooms[0].start",
        ),
        (
            json!({ "iclass": { "apps": [{ "sdkappid": 1400000002u64, "tic_key": "k" }],
                    "classes": [{ "sdkappid": 1400000002u64, "class_id": 5, "teacher_id": "t", "start_time": i64::MAX }] } }),
            "iclass.classes[0].start_time",
        ),
        (
            json!({ "callbacks": { "iclass": { "retries": 3, "interval_s": 1e17 } } }),
            "callbacks.iclass.interval_s",
        ),
    ] {
        let (s, v) = app.post("/__admin/fixtures", doc.clone()).await;
        assert_eq!(s, 400, "{doc}: {v}");
        assert!(v["errors"].as_array().unwrap().iter().any(|e| e["path"] == path), "{path}: {v}");
    }
    let (_, good) = app.get("/__admin/state").await;
    for (patch, what) in [
        (json!({ "clock": { "now_ms": i64::MAX - 5, "frozen": false, "scale": 1.0 } }), "clock.now_ms"),
        (
            json!({ "callback_settings": { "timeout_ms": 5000, "policies": { "iclass": { "retries": 1, "interval_s": 1e17 } } } }),
            "policies",
        ),
    ] {
        let mut dump = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            dump[k] = v.clone();
        }
        let (s, v) = app.send(app.client.put(format!("{}/__admin/state", app.url)).json(&dump)).await;
        assert_eq!(s, 400, "{what}: {v}");
        assert!(v["error"].as_str().unwrap().contains(what), "{what}: {v}");
    }
    assert_eq!(app.get("/__admin/health").await.0, 200);
    assert_eq!(app.now().await, T0);
    app.stop().await;
}

/// `POST /__admin/seed` fills a 001 account with finished tasks that list, page and filter like tasks
/// created through the API (and after them, in creation order); bad requests are refused by name.
#[tokio::test]
async fn seed_bulk_creates_finished_tasks_that_list_and_page() {
    let app = spawn(world(&[A])).await;
    let first = start_task(&app, A, G).await;
    let (s, v) = app
        .post("/__admin/seed", json!({ "tenant": format!("cloud_record:{}", A.app()), "tasks": 120 }))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["created"]["tasks"].as_u64(), v["total_tasks"].as_u64()), (Some(120), Some(121)), "{v}");
    assert_eq!(v["record_numbers"], json!([2, 121]));
    let all = cr_get(&app, A, "/v1/record/task/list", "page=1&page_size=50").await;
    assert_eq!(all["total_num"], 121);
    assert_eq!(all["record_list"][0]["record_id"], first.as_str());
    let done = cr_get(&app, A, "/v1/record/task/list", "status=6&page=3&page_size=50").await;
    assert_eq!(
        (done["total_num"].as_u64(), done["record_list"].as_array().map(Vec::len)),
        (Some(120), Some(20))
    );
    assert_eq!(done["record_list"][19]["group_id"], "seed");
    let grouped = cr_get(&app, A, "/v1/record/task/list", "group_id=seed&page=2&page_size=100").await;
    assert_eq!(
        (grouped["total_num"].as_u64(), grouped["record_list"].as_array().map(Vec::len)),
        (Some(120), Some(20))
    );
    let next = manual_task(&app, A, G).await;
    assert!(next.ends_with("_10122"), "{next}");
    for (body, status) in [
        (json!({ "tenant": "cloud_record:nope", "tasks": 1 }), 404),
        (json!({ "tenant": format!("cloud_record:{}", A.app()), "tasks": 0 }), 400),
        (json!({ "tenant": format!("cloud_record:{}", A.app()), "tasks": 1, "color": "red" }), 400),
        (json!({ "tenant": format!("cloud_record:{}", A.app()) }), 400),
        (json!({ "tasks": 1 }), 400),
        (json!({ "tenant": "cloud_record", "tasks": 1 }), 400),
    ] {
        let (s, v) = app.post("/__admin/seed", body.clone()).await;
        assert_eq!(s, status, "{body}: {v}");
        assert!(v["error"].is_string(), "{v}");
    }
}
