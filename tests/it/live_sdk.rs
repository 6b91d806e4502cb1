//! Seed 002 — the live-SDK recording calls as REST and the VOD API v2 look-ups of their files, over HTTP
//! with a frozen clock. VOD requests are signed here, by a signer written from the reference
//! (`vendor-facts.md`), independently of the server's code.
use crate::common::*;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

const APP: u64 = 1_400_000_002;
const KEY: &str = "live-key-for-tests";
const SECRET_ID: &str = "AKIDdemo0000000000000000000000000000";
const SECRET_KEY: &str = "demoSecretKey0000000000000000000";
/// Without VOD (code 1), without balance (code 2), `usersig_check: any` with two recordings at most.
const NO_VOD: u64 = 1_400_000_003;
const BROKE: u64 = 1_400_000_004;
const SMALL: u64 = 1_400_000_005;
const MIN: f64 = 60.0;

fn world() -> Value {
    json!({
        "live_sdk": { "apps": [
            { "sdkappid": APP, "key": KEY, "vod_secret_id": SECRET_ID, "vod_secret_key": SECRET_KEY },
            { "sdkappid": NO_VOD, "key": "k3", "vod_enabled": false },
            { "sdkappid": BROKE, "key": "k4", "vod_balance": 0 },
            { "sdkappid": SMALL, "key": "k5", "usersig_check": "any", "max_recordings": 2 }
        ]}
    })
}

fn key_of(sdkappid: u64) -> &'static str {
    match sdkappid {
        APP => KEY,
        NO_VOD => "k3",
        BROKE => "k4",
        _ => "k5",
    }
}

/// The SDK login of `user` as URL parameters (a usersig made at T0, valid 30 days).
fn login(sdkappid: u64, user: &str) -> String {
    let sig = recmock::tlssig::sign(sdkappid, key_of(sdkappid), user, T0, 30 * 86_400);
    format!("sdkappid={sdkappid}&identifier={user}&usersig={sig}")
}

fn room(file_name: &str) -> Value {
    json!({ "platform": "android", "relation_id": 15000, "room_id": 7, "file_name": file_name })
}

async fn call(app: &TestApp, what: &str, query: &str, body: Value) -> Value {
    let (s, v) = app.post(&format!("/live_sdk/v1/record/{what}?{query}"), body).await;
    assert_eq!(s, 200, "{v}");
    v
}

async fn start_in(app: &TestApp, sdkappid: u64, user: &str, body: Value) -> Value {
    call(app, "start", &login(sdkappid, user), body).await
}

async fn stop_in(app: &TestApp, sdkappid: u64, user: &str, body: Value) -> Value {
    call(app, "stop", &login(sdkappid, user), body).await
}

async fn start(app: &TestApp, user: &str, file_name: &str) -> Value {
    start_in(app, APP, user, room(file_name)).await
}

async fn stop(app: &TestApp, user: &str) -> Value {
    stop_in(app, APP, user, room("")).await
}

fn file_ids(v: &Value) -> Vec<String> {
    assert_eq!(v["code"], 0, "{v}");
    v["file_ids"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect()
}

// ----- an independent VOD API v2 signer ----------------------------------------------------------------

static NONCE: AtomicU64 = AtomicU64::new(1000);

/// base64(HMAC(key, METHOD + host + "/v2/index.php?" + sorted `k=v`)), keys with `_` → `.`.
fn test_sign(method: &str, host: &str, params: &[(String, String)], key: &str, sha256: bool) -> String {
    let mut kv: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| (k.replace('_', "."), v.clone()))
        .collect();
    kv.sort();
    let joined = kv.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let text = format!("{method}{host}/v2/index.php?{joined}");
    let digest = if sha256 {
        let mut m = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
        m.update(text.as_bytes());
        m.finalize().into_bytes().to_vec()
    } else {
        let mut m = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).unwrap();
        m.update(text.as_bytes());
        m.finalize().into_bytes().to_vec()
    };
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// One VOD request, every knob exposed.
struct VodCall<'a> {
    method: &'a str,
    sha256: bool,
    action: &'a str,
    params: Vec<(&'a str, String)>,
    /// default: the server's virtual now
    timestamp: Option<i64>,
    nonce: u64,
    secret_id: &'a str,
    secret_key: &'a str,
    /// the host signed (default: the one addressed)
    sign_host: Option<&'a str>,
    /// leave these common parameters out
    omit: Vec<&'a str>,
    /// replace the signature
    signature: Option<String>,
    /// send to this base URL with this client (default: the plain listener)
    via: Option<(&'a reqwest::Client, String)>,
}

impl<'a> VodCall<'a> {
    fn new(action: &'a str, params: &[(&'a str, &str)]) -> Self {
        VodCall {
            method: "GET",
            sha256: false,
            action,
            params: params.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            timestamp: None,
            nonce: NONCE.fetch_add(1, Ordering::Relaxed),
            secret_id: SECRET_ID,
            secret_key: SECRET_KEY,
            sign_host: None,
            omit: vec![],
            signature: None,
            via: None,
        }
    }

    fn via(mut self, client: &'a reqwest::Client, base: &str) -> Self {
        self.via = Some((client, base.to_string()));
        self
    }

    fn post(mut self) -> Self {
        self.method = "POST";
        self
    }

    fn sha256(mut self) -> Self {
        self.sha256 = true;
        self
    }

    async fn send(&self, app: &TestApp) -> Value {
        let base = self.via.as_ref().map_or(app.url.clone(), |(_, b)| b.clone());
        let client = self.via.as_ref().map_or(&app.client, |(c, _)| *c);
        let host = base.split_once("://").map_or(base.as_str(), |(_, h)| h).to_string();
        let mut p: Vec<(String, String)> = vec![
            ("Action".into(), self.action.into()),
            ("Region".into(), "gz".into()),
            ("Timestamp".into(), self.timestamp.unwrap_or(app.now().await).to_string()),
            ("Nonce".into(), self.nonce.to_string()),
            ("SecretId".into(), self.secret_id.into()),
            ("SignatureMethod".into(), if self.sha256 { "HmacSHA256" } else { "HmacSHA1" }.into()),
        ];
        p.retain(|(k, _)| !self.omit.contains(&k.as_str()));
        p.extend(self.params.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let sig = test_sign(self.method, self.sign_host.unwrap_or(&host), &p, self.secret_key, self.sha256);
        if !self.omit.contains(&"Signature") {
            p.push(("Signature".into(), self.signature.clone().unwrap_or(sig)));
        }
        let url = format!("{base}/v2/index.php");
        let rb = if self.method == "GET" { client.get(url).query(&p) } else { client.post(url).form(&p) };
        let (s, v) = app.send(rb).await;
        assert_eq!(s, 200, "VOD errors are HTTP 200 too: {v}");
        v
    }
}

async fn play_info(app: &TestApp, vid: &str) -> Value {
    let v = VodCall::new("DescribeRecordPlayInfo", &[("vid", vid)]).send(app).await;
    assert_eq!(v["code"], 0, "{v}");
    v
}

async fn by_file_name(app: &TestApp, name: &str, page_no: i64, page_size: i64) -> Value {
    let v = VodCall::new(
        "DescribeVodPlayInfo",
        &[("fileName", name), ("pageNo", &page_no.to_string()), ("pageSize", &page_size.to_string())],
    )
    .post()
    .sha256()
    .send(app)
    .await;
    assert_eq!(v["code"], 0, "{v}");
    v
}

/// Every play URL of `entry` downloads exactly `duration × vbitrate / 8` bytes.
async fn assert_downloads(app: &TestApp, entry: &Value) {
    let duration = entry["duration"].as_u64().unwrap();
    let play = entry["playSet"].as_array().unwrap();
    assert!(!play.is_empty(), "{entry}");
    for p in play {
        // Files of 90 minutes at 2 Mbit/s: their length and their first bytes (tests/it/media.rs reads
        // whole files).
        let url = p["url"].as_str().unwrap();
        let head = app.client.head(url).send().await.unwrap();
        assert_eq!(head.status(), 200);
        let len: u64 = head.headers()["content-length"].to_str().unwrap().parse().unwrap();
        assert_eq!(len, duration * p["vbitrate"].as_u64().unwrap() / 8, "{p}");
        let start = app.client.get(url).header("range", "bytes=0-7").send().await.unwrap();
        assert_eq!(&start.bytes().await.unwrap()[4..8], b"ftyp");
    }
}

// ----- recording ---------------------------------------------------------------------------------------

/// Start, ten minutes, stop: one file id; once processed, both look-ups (GET/HmacSHA1 and
/// POST/HmacSHA256) describe it with a play URL that downloads.
#[tokio::test]
async fn a_recording_yields_a_file_the_vod_api_describes() {
    let app = spawn(world()).await;
    assert_eq!(start(&app, "alice", "lesson").await, json!({"code": 0, "desc": ""}));
    app.advance(10.0 * MIN).await;
    let ids = file_ids(&stop(&app, "alice").await);
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0].len(), 19);
    // processing: queued (10) → encoding (4) → uploading (5) → done (2)
    let v = play_info(&app, &ids[0]).await;
    assert_eq!((v["totalCount"].clone(), v["fileSet"][0]["status"].clone()), (json!(1), json!(10)), "{v}");
    assert_eq!(v["fileSet"][0]["playSet"], json!([]));
    app.advance(5.0).await;
    assert_eq!(play_info(&app, &ids[0]).await["fileSet"][0]["status"], 4);
    app.advance(10.0).await;
    assert_eq!(play_info(&app, &ids[0]).await["fileSet"][0]["status"], 5);
    app.advance(5.0).await;
    let v = play_info(&app, &ids[0]).await;
    assert_eq!(v["codeDesc"], "Success");
    assert_eq!(v["message"], "");
    let f = &v["fileSet"][0];
    assert_eq!(
        (
            f["fileId"].as_str().unwrap(),
            f["fileName"].as_str().unwrap(),
            f["duration"].as_i64().unwrap(),
            f["status"].as_i64().unwrap()
        ),
        (ids[0].as_str(), "lesson", 600, 2)
    );
    assert_eq!(f["image_url"], "");
    assert_eq!(f["playSet"].as_array().unwrap().len(), 1, "no transcodes asked for");
    assert_eq!(
        (f["playSet"][0]["definition"].clone(), f["playSet"][0]["vwidth"].clone()),
        (json!(0), json!(1280))
    );
    assert_downloads(&app, f).await;
    let list = by_file_name(&app, "lesson", 1, 10).await;
    assert_eq!(list["totalCount"], 1);
    assert_eq!(&list["fileSet"][0], f);
    app.stop().await;
}

/// A 200-minute recording is cut every 90 minutes: the first file exists in VOD while the recording
/// goes on, and stop returns three file ids (5400 s, 5400 s, 1200 s), in order, that the look-ups agree on.
#[tokio::test]
async fn a_200_minute_recording_yields_three_files() {
    let app = spawn(world()).await;
    assert_eq!(start(&app, "bob", "long_class").await["code"], 0);
    app.advance(90.0 * MIN + 30.0).await;
    let early = by_file_name(&app, "long_class", 1, 10).await;
    assert_eq!(early["totalCount"], 1, "the first 90 minutes are a file already: {early}");
    assert_eq!(
        (early["fileSet"][0]["duration"].clone(), early["fileSet"][0]["status"].clone()),
        (json!(5400), json!(2))
    );
    app.advance(110.0 * MIN - 30.0).await;
    let ids = file_ids(&stop(&app, "bob").await);
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(ids[0], early["fileSet"][0]["fileId"].as_str().unwrap());
    app.advance(30.0).await;
    let mut durations = vec![];
    for id in &ids {
        let f = play_info(&app, id).await["fileSet"][0].clone();
        assert_eq!(f["fileId"], json!(id));
        assert_eq!(f["fileName"], "long_class");
        assert_downloads(&app, &f).await;
        durations.push(f["duration"].as_i64().unwrap());
    }
    assert_eq!(durations, vec![5400, 5400, 1200]);
    // DescribeVodPlayInfo lists the same files in the same order, paged
    let p1 = by_file_name(&app, "long_class", 1, 2).await;
    let p2 = by_file_name(&app, "long_class", 2, 2).await;
    let p3 = by_file_name(&app, "long_class", 3, 2).await;
    assert_eq!(
        (p1["totalCount"].clone(), p2["totalCount"].clone(), p3["totalCount"].clone()),
        (json!(3), json!(3), json!(3))
    );
    let listed: Vec<_> = p1["fileSet"]
        .as_array()
        .unwrap()
        .iter()
        .chain(p2["fileSet"].as_array().unwrap())
        .map(|f| f["fileId"].clone())
        .collect();
    assert_eq!(listed, ids.iter().map(|i| json!(i)).collect::<Vec<_>>());
    assert_eq!(p3["fileSet"], json!([]));
    // fileName matches by prefix; another name matches nothing (an empty list, not an error)
    assert_eq!(by_file_name(&app, "long", 1, 10).await["totalCount"], 3);
    assert_eq!(
        by_file_name(&app, "short", 1, 10).await,
        json!({"code": 0, "message": "", "codeDesc": "Success", "totalCount": 0, "fileSet": []})
    );
    app.stop().await;
}

/// A recording of exactly 180 minutes is two files, not two and an empty third.
#[tokio::test]
async fn a_cut_at_the_stop_instant_makes_no_empty_file() {
    let app = spawn(world()).await;
    start(&app, "bob", "exact").await;
    app.advance(180.0 * MIN).await;
    assert_eq!(file_ids(&stop(&app, "bob").await).len(), 2);
    app.stop().await;
}

/// A client that sends no data for a minute has its recording closed one minute later, keeping what was
/// recorded before it went silent; a stop then says so; the user can record again.
#[tokio::test]
async fn a_silent_client_is_closed_after_one_minute_keeping_its_media() {
    let mut fixture = world();
    fixture["timeline"] = json!([{ "at": 600, "event": { "type": "live_sdk.client_gone", "sdkappid": APP, "identifier": "carol" } }]);
    let app = spawn(fixture).await;
    start(&app, "carol", "crashy").await;
    app.advance(600.0 + 59.0).await;
    let v = start(&app, "carol", "again").await;
    assert_eq!(v["code"], 30_000_201, "still open 59 s after the client went silent: {v}");
    assert!(v["desc"].as_str().unwrap().contains("closes at"), "{v}");
    let ran = app.advance(1.0).await;
    assert!(ran.to_string().contains("closed, no data from the client"), "{ran}");
    app.advance(30.0).await;
    let list = by_file_name(&app, "crashy", 1, 10).await;
    assert_eq!(list["totalCount"], 1);
    assert_eq!(list["fileSet"][0]["duration"], 600, "the silent minute is not recorded: {list}");
    assert_downloads(&app, &list["fileSet"][0]).await;
    let v = stop(&app, "carol").await;
    assert_eq!(v["code"], 30_000_202, "{v}");
    let desc = v["desc"].as_str().unwrap();
    assert!(desc.starts_with("请求录制服务器错误: ") && desc.contains("no data"), "{v}");
    assert!(desc.contains(list["fileSet"][0]["fileId"].as_str().unwrap()), "{v}");
    assert_eq!(start(&app, "carol", "again").await["code"], 0);
    app.stop().await;
}

/// Data that comes back within the minute keeps the recording; the silent gap is not recorded.
#[tokio::test]
async fn data_resumed_within_the_minute_keeps_the_recording() {
    let app = spawn(world()).await;
    start(&app, "dan", "flaky").await;
    app.advance(600.0).await;
    app.event(json!({"type": "live_sdk.client_gone", "sdkappid": APP, "identifier": "dan"})).await;
    app.advance(30.0).await;
    app.event(json!({"type": "live_sdk.data_resumed", "sdkappid": APP, "identifier": "dan"})).await;
    app.advance(570.0).await;
    let ids = file_ids(&stop(&app, "dan").await);
    app.advance(30.0).await;
    assert_eq!(play_info(&app, &ids[0]).await["fileSet"][0]["duration"], 1170);
    // events that do not fit the state are refused
    for (event, status, why) in [
        (json!({"type": "live_sdk.client_gone", "sdkappid": APP, "identifier": "dan"}), 409, "no recording"),
        (
            json!({"type": "live_sdk.data_resumed", "sdkappid": APP, "identifier": "nobody"}),
            409,
            "no recording",
        ),
        (json!({"type": "live_sdk.client_gone", "sdkappid": 1, "identifier": "dan"}), 404, "no such app"),
        (json!({"type": "live_sdk.client_gone", "sdkappid": APP}), 400, "identifier"),
        (json!({"type": "live_sdk.dance", "sdkappid": APP}), 400, "unknown event"),
        (json!({"type": "live_sdk.vod_account", "sdkappid": APP}), 400, "vod_enabled"),
        (
            json!({"type": "live_sdk.recording_fail", "sdkappid": APP, "identifier": "dan"}),
            409,
            "no recording",
        ),
    ] {
        let (s, v) = app.post("/__admin/events", event.clone()).await;
        assert_eq!(s, status, "{event}: {v}");
        assert!(v.to_string().contains(why), "{event}: {v}");
    }
    start(&app, "dan", "x").await;
    app.event(json!({"type": "live_sdk.client_gone", "sdkappid": APP, "identifier": "dan"})).await;
    let (s, v) = app
        .post(
            "/__admin/events",
            json!({"type": "live_sdk.client_gone", "sdkappid": APP, "identifier": "dan"}),
        )
        .await;
    assert_eq!(s, 409, "gone twice: {v}");
    app.advance(61.0).await;
    let (s, v) = app
        .post(
            "/__admin/events",
            json!({"type": "live_sdk.data_resumed", "sdkappid": APP, "identifier": "dan"}),
        )
        .await;
    assert_eq!(s, 409, "too late: {v}");
    assert!(v.to_string().contains("was closed"), "{v}");
    app.stop().await;
}

/// One recording per user at a time: a second start (any room) is refused with 30000201, other users
/// record meanwhile, and after stop the user may start again. 50 concurrent starts: exactly one succeeds.
#[tokio::test]
async fn one_recording_per_user_at_a_time() {
    let app = spawn(world()).await;
    assert_eq!(start(&app, "erin", "a").await["code"], 0);
    let mut other_room = room("b");
    other_room["room_id"] = json!(8);
    let v = start_in(&app, APP, "erin", other_room).await;
    assert_eq!(v["code"], 30_000_201, "{v}");
    assert!(
        v["desc"].as_str().unwrap().starts_with("请求录制服务器错误: user `erin` is already recording"),
        "{v}"
    );
    assert_eq!(start(&app, "frank", "a").await["code"], 0, "another user, same room");
    assert_eq!(file_ids(&stop(&app, "erin").await).len(), 0, "nothing recorded yet: no files");
    assert_eq!(start(&app, "erin", "c").await["code"], 0);

    let futures = (0..50).map(|i| {
        let app = &app;
        async move { start(app, "gina", &format!("race{i}")).await["code"].as_i64().unwrap() }
    });
    let codes = futures_util::future::join_all(futures).await;
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 30_000_201).count(), 49, "{codes:?}");
    app.stop().await;
}

/// Codes 1 and 2 come from the account's VOD state, which `live_sdk.vod_account` changes; 30000401 from
/// the app's `max_recordings`.
#[tokio::test]
async fn vod_account_and_flow_control_codes() {
    let app = spawn(world()).await;
    let v = start_in(&app, NO_VOD, "u", room("x")).await;
    assert_eq!(v["code"], 1, "{v}");
    assert!(v["desc"].as_str().unwrap().starts_with("用户没有录制权限: "), "{v}");
    let v = start_in(&app, BROKE, "u", room("x")).await;
    assert_eq!(v["code"], 2, "{v}");
    assert!(v["desc"].as_str().unwrap().starts_with("用户点播余额不足: "), "{v}");
    app.event(json!({"type": "live_sdk.vod_account", "sdkappid": NO_VOD, "vod_enabled": true})).await;
    assert_eq!(start_in(&app, NO_VOD, "u", room("x")).await["code"], 0);
    app.event(json!({"type": "live_sdk.vod_account", "sdkappid": BROKE, "vod_balance": 12.5})).await;
    assert_eq!(start_in(&app, BROKE, "u", room("x")).await["code"], 0);
    app.event(json!({"type": "live_sdk.vod_account", "sdkappid": BROKE, "vod_balance": -1})).await;
    assert_eq!(start_in(&app, BROKE, "w", room("x")).await["code"], 2);
    // a stop still works without balance: what was recorded is kept
    app.advance(60.0).await;
    assert_eq!(file_ids(&stop_in(&app, BROKE, "u", room("x")).await).len(), 1);

    // usersig_check "any" and two recordings at most
    let any = |user: &str| format!("sdkappid={SMALL}&identifier={user}&usersig=whatever");
    assert_eq!(call(&app, "start", &any("a"), room("x")).await["code"], 0);
    assert_eq!(call(&app, "start", &any("b"), room("x")).await["code"], 0);
    let v = call(&app, "start", &any("c"), room("x")).await;
    assert_eq!(v["code"], 30_000_401, "{v}");
    assert!(v["desc"].as_str().unwrap().starts_with("请求流控服务器错误: "), "{v}");
    assert_eq!(call(&app, "stop", &any("a"), room("x")).await["code"], 0);
    assert_eq!(call(&app, "start", &any("c"), room("x")).await["code"], 0);
    app.stop().await;
}

/// The Web SDK records the camera only; other platforms may record the auxiliary stream. Web's
/// transcode/snapshot flags have no effect; on other platforms they add transcoded play URLs and a cover.
#[tokio::test]
async fn platforms_data_types_and_flags() {
    let app = spawn(world()).await;
    let web_screen = json!({"platform": "web", "relation_id": 1, "room_id": 1, "filename": "web_video_desktop_1", "videotype": 1});
    let v = start_in(&app, APP, "w", web_screen).await;
    assert_eq!(v["code"], 30_000_004, "{v}");
    assert!(v["desc"].as_str().unwrap().starts_with("解析客户端录制请求包错误: "), "{v}");
    // the Web SDK's own call, spelled as it spells it: flags 1/0 with no effect
    let web = json!({"platform": "web", "relation_id": 1, "room_id": 1, "filename": "web_video_camera_1",
                     "videotype": 0, "classid": 42, "transcode": 1, "snapshot": 1, "watermark": 0});
    assert_eq!(start_in(&app, APP, "w", web).await["code"], 0);
    // Windows records the auxiliary stream (record_data_type 1), with transcodes and a screenshot
    let windows = json!({"platform": "windows", "relation_id": 15000, "room_id": 0, "filename": "win_screen",
        "class_id": 3, "tags": ["math", "grade 7"], "is_transcode": true, "is_screenshot": true, "is_watermark": true,
        "sdk_type": 1, "record_data_type": 1});
    assert_eq!(start_in(&app, APP, "x", windows).await["code"], 0);
    // iOS spelling
    let ios = json!({"platform": "ios", "relationId": 2, "roomId": 3, "fileName": "ios_rec", "isTransCode": false,
                     "isScreenShot": false, "isWaterMark": false, "avSdkType": 0, "tags": []});
    assert_eq!(start_in(&app, APP, "y", ios).await["code"], 0);
    app.advance(300.0).await;
    let v =
        stop_in(&app, APP, "w", json!({"platform": "web", "relation_id": 1, "room_id": 1, "videotype": 0}))
            .await;
    let web_id = file_ids(&v)[0].clone();
    // stop with another data type than recorded
    let v = stop_in(
        &app,
        APP,
        "x",
        json!({"platform": "windows", "relation_id": 15000, "room_id": 0, "record_data_type": 0}),
    )
    .await;
    assert_eq!(v["code"], 30_000_203, "{v}");
    let v = stop_in(
        &app,
        APP,
        "x",
        json!({"platform": "windows", "relation_id": 15000, "room_id": 0, "record_data_type": 1}),
    )
    .await;
    let win_id = file_ids(&v)[0].clone();
    let ios_id =
        file_ids(&stop_in(&app, APP, "y", json!({"platform": "ios", "relationId": 2, "roomId": 3})).await)[0]
            .clone();
    app.advance(30.0).await;
    let web_file = play_info(&app, &web_id).await["fileSet"][0].clone();
    assert_eq!(web_file["playSet"].as_array().unwrap().len(), 1, "{web_file}");
    assert_eq!(web_file["image_url"], "");
    let win_file = play_info(&app, &win_id).await["fileSet"][0].clone();
    let defs: Vec<_> =
        win_file["playSet"].as_array().unwrap().iter().map(|p| p["definition"].as_i64().unwrap()).collect();
    assert_eq!(defs, vec![0, 10, 20, 30]);
    assert_downloads(&app, &win_file).await;
    let (s, jpg) = app.bytes(win_file["image_url"].as_str().unwrap()).await;
    assert_eq!((s, &jpg[..3]), (200, &b"\xFF\xD8\xFF"[..]));
    assert_eq!(play_info(&app, &ios_id).await["fileSet"][0]["playSet"].as_array().unwrap().len(), 1);
    app.stop().await;
}

/// Every request error of the SDK calls, in its documented range, through real requests.
#[tokio::test]
async fn request_errors_map_into_the_documented_ranges() {
    let app = spawn(world()).await;
    let q = login(APP, "hank");
    let raw = |body: &'static [u8]| {
        let app = &app;
        let q = q.clone();
        async move { app.post_raw(&format!("/live_sdk/v1/record/start?{q}"), body, &[]).await.1 }
    };
    // 30000001: nothing parsable
    for body in [&b""[..], b"  ", b"[1]", b"{nope", b"\"x\""] {
        let v = raw(body).await;
        assert_eq!(v["code"], 30_000_001, "{}: {v}", String::from_utf8_lossy(body));
    }
    // ... though the documents' trailing commas and comments are tolerated
    let v =
        raw(b"{\"platform\":\"android\",\"relation_id\":1,\"room_id\":1,\"file_name\":\"ok\", // mine\n}")
            .await;
    assert_eq!(v["code"], 0, "{v}");
    // 30000002: a required field missing
    for missing in ["platform", "relation_id", "room_id", "file_name"] {
        let mut body = room("f");
        body.as_object_mut().unwrap().remove(missing);
        let v = start_in(&app, APP, "ivy", body).await;
        assert_eq!(v["code"], 30_000_002, "{missing}: {v}");
        assert!(v["desc"].as_str().unwrap().contains(missing), "{v}");
    }
    let v = start_in(
        &app,
        APP,
        "ivy",
        json!({"platform": "ios", "relation_id": 1, "room_id": 1, "file_name": "  "}),
    )
    .await;
    assert_eq!(v["code"], 30_000_002, "{v}");
    // 30000003: wrong types and values
    for (field, value) in [
        ("platform", json!("symbian")),
        ("platform", json!(3)),
        ("relation_id", json!(0)),
        ("relation_id", json!(-1)),
        ("relation_id", json!(4_294_967_296_u64)),
        ("room_id", json!("seven")),
        ("file_name", json!("a/b")),
        ("file_name", json!("x".repeat(129))),
        ("file_name", json!(["x"])),
        ("class_id", json!(1.5)),
        ("tags", json!("math")),
        ("tags", json!([1])),
        ("is_transcode", json!("yes")),
        ("is_screenshot", json!(2)),
        ("record_data_type", json!(2)),
        ("sdk_type", json!(-3)),
    ] {
        let mut body = room("f");
        body[field] = value.clone();
        let v = start_in(&app, APP, "ivy", body).await;
        assert_eq!(v["code"], 30_000_003, "{field}={value}: {v}");
    }
    // stop: no recording (30000202), another room (30000203)
    let v = stop(&app, "nobody").await;
    assert_eq!(v["code"], 30_000_202, "{v}");
    assert_eq!(start(&app, "jack", "j").await["code"], 0);
    let mut elsewhere = room("");
    elsewhere["relation_id"] = json!(15001);
    let v = stop_in(&app, APP, "jack", elsewhere).await;
    assert_eq!(v["code"], 30_000_203, "{v}");
    let v = stop_in(&app, APP, "jack", json!({"relation_id": 15000, "room_id": 7})).await;
    assert_eq!(v["code"], 30_000_002, "stop needs the platform too: {v}");
    app.stop().await;
}

/// The login: 30000010 (missing, sdkappid not a number), 30000011 (unknown app), 30000012 (refused:
/// another user's, another key, malformed), 30000013 (expired on the virtual clock).
#[tokio::test]
async fn login_errors() {
    let app = spawn(world()).await;
    let sig =
        |user: &str, key: &str, time: i64, expire: i64| recmock::tlssig::sign(APP, key, user, time, expire);
    let good = sig("kim", KEY, T0, 86_400);
    for (query, code) in [
        (format!("identifier=kim&usersig={good}"), 30_000_010),
        (format!("sdkappid=abc&identifier=kim&usersig={good}"), 30_000_010),
        (format!("sdkappid={APP}&usersig={good}"), 30_000_010),
        (format!("sdkappid={APP}&identifier=kim"), 30_000_010),
        (format!("sdkappid={APP}&identifier=kim&usersig="), 30_000_010),
        (format!("sdkappid=1400009999&identifier=kim&usersig={good}"), 30_000_011),
        (format!("sdkappid={APP}&identifier=lee&usersig={good}"), 30_000_012),
        (
            format!("sdkappid={APP}&identifier=kim&usersig={}", sig("kim", "other-key", T0, 86_400)),
            30_000_012,
        ),
        (format!("sdkappid={APP}&identifier=kim&usersig=not-a-sig"), 30_000_012),
        (format!("sdkappid={APP}&identifier=kim&usersig={}", sig("kim", KEY, T0 - 7200, 3600)), 30_000_013),
    ] {
        for what in ["start", "stop"] {
            let v = call(&app, what, &query, room("f")).await;
            assert_eq!(v["code"], code, "{what} {query}: {v}");
            assert!(v["desc"].as_str().unwrap().starts_with("解析客户端录制请求包错误: "), "{v}");
        }
    }
    // a usersig expires on the virtual clock: good at start, refused by the stop ten minutes later
    let short = format!("sdkappid={APP}&identifier=kim&usersig={}", sig("kim", KEY, T0, 600));
    assert_eq!(call(&app, "start", &short, room("f")).await["code"], 0);
    app.advance(600.0).await;
    let v = call(&app, "stop", &short, room("f")).await;
    assert_eq!(v["code"], 30_000_013, "{v}");
    assert_eq!(
        file_ids(
            &call(&app, "stop", &format!("sdkappid={APP}&identifier=kim&usersig={good}"), room("f")).await
        )
        .len(),
        1
    );
    app.stop().await;
}

/// `live_sdk.recording_fail` closes the user's recording; the next stop answers 30000204 once (with the
/// files cut before the failure), then the user is free to record again.
#[tokio::test]
async fn a_failed_recording_is_reported_to_the_next_stop() {
    let app = spawn(world()).await;
    start(&app, "lou", "doomed").await;
    app.advance(100.0 * MIN).await;
    app.event(json!({"type": "live_sdk.recording_fail", "sdkappid": APP, "identifier": "lou", "reason": "disk full"})).await;
    let v = stop(&app, "lou").await;
    assert_eq!(v["code"], 30_000_204, "{v}");
    assert!(v["desc"].as_str().unwrap().contains("disk full"), "{v}");
    app.advance(30.0).await;
    let list = by_file_name(&app, "doomed", 1, 10).await;
    assert_eq!(list["totalCount"], 1, "the first 90 minutes were cut before the failure: {list}");
    assert!(v["desc"].as_str().unwrap().contains(list["fileSet"][0]["fileId"].as_str().unwrap()));
    assert_eq!(stop(&app, "lou").await["code"], 30_000_202);
    assert_eq!(start(&app, "lou", "again").await["code"], 0);
    app.stop().await;
}

/// 30000300 (the recording server's reply unparsable) only happens through a fault rule, answered in the
/// SDK envelope; 6000 on the VOD path in the VOD envelope.
#[tokio::test]
async fn fault_only_codes_answer_in_each_envelope() {
    let app = spawn(world()).await;
    for (path, code) in [("/live_sdk/v1/record/start", 30_000_300_i64), ("/v2/index.php", 6000)] {
        let (s, v) = app
            .post(
                "/__admin/faults",
                json!({"match": {"vendor": "live_sdk", "path": path}, "action": {"error_code": code}}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
    }
    let v = start(&app, "moe", "m").await;
    assert_eq!(v, json!({"code": 30_000_300, "desc": "解析录制服务器回包错误"}));
    let v = VodCall::new("DescribeRecordPlayInfo", &[("vid", "1")]).send(&app).await;
    assert_eq!(v, json!({"code": 6000, "message": "服务器内部错误", "codeDesc": "InternalError"}));
    app.stop().await;
}

// ----- VOD API v2 authentication -------------------------------------------------------------------------

/// Signatures made by Tencent's own SDK (test-vectors.md) are accepted as they are, for the host they
/// name (sent as the Host header); the same Nonce and Timestamp again is a replay.
#[tokio::test]
async fn vendor_sdk_signatures_are_accepted() {
    let app = spawn(world()).await;
    let v1 = [
        ("Action", "DescribeRecordPlayInfo"),
        ("Nonce", "12345"),
        ("Region", "gz"),
        ("RequestClient", "SDK_PYTHON_2.0.15"),
        ("SecretId", SECRET_ID),
        ("SignatureMethod", "HmacSHA1"),
        ("Timestamp", "1767225600"),
        ("vid", "5285890781652689073"),
        ("Signature", "qUkhl2F2qNppTeFwsYwbjx/Xd6A="),
    ];
    let url = format!("{}/v2/index.php", app.url);
    let (_, v) = app.send(app.client.get(&url).query(&v1).header("host", "127.0.0.1:8443")).await;
    assert_eq!(v["code"], 5000, "signature accepted, no such vid: {v}");
    let mut v2 = v1;
    v2[5].1 = "HmacSHA256";
    v2[8].1 = "5sEbrpIIYazVxgR6NYHRzgOwVqfx/TDOA2TXndPSr+I=";
    let (_, v) = app.send(app.client.post(&url).form(&v2).header("host", "vod.api.qcloud.com")).await;
    assert_eq!(v["code"], 4500, "same Nonce and Timestamp as the first: {v}");
    app.post("/__admin/reset", json!({})).await;
    let (_, v) = app.send(app.client.post(&url).form(&v2).header("host", "vod.api.qcloud.com")).await;
    assert_eq!(v["code"], 5000, "{v}");
    let v3 = [
        ("Action", "DescribeVodPlayInfo"),
        ("Nonce", "777"),
        ("Region", "gz"),
        ("SecretId", SECRET_ID),
        ("SignatureMethod", "HmacSHA1"),
        ("Timestamp", "1767225600"),
        ("fileName", "web_video_camera_1"),
        ("pageNo", "1"),
        ("pageSize", "10"),
        ("Signature", "Iy/etg/suCiOEdh9Y9RoxG97TEI="),
    ];
    let (_, v) = app.send(app.client.get(&url).query(&v3).header("host", "vod.api.qcloud.com")).await;
    assert_eq!(v, json!({"code": 0, "message": "", "codeDesc": "Success", "totalCount": 0, "fileSet": []}));
    // the vendor's vector for another host does not verify for this one
    let (_, v) = app.send(app.client.get(&url).query(&v1)).await;
    assert_eq!(v["code"], 4100, "{v}");
    app.stop().await;
}

/// GET and POST, HmacSHA1 and HmacSHA256, each signed by the test's own signer; every way to get the
/// common parameters wrong is refused with its v2 code and HTTP 200.
#[tokio::test]
async fn vod_requests_are_authenticated() {
    let app = spawn(world()).await;
    start(&app, "nat", "signed").await;
    app.advance(60.0).await;
    let id = file_ids(&stop(&app, "nat").await)[0].clone();
    app.advance(30.0).await;
    for (post, sha256) in [(false, false), (false, true), (true, false), (true, true)] {
        let mut c = VodCall::new("DescribeRecordPlayInfo", &[("vid", &id)]);
        if post {
            c = c.post();
        }
        if sha256 {
            c = c.sha256();
        }
        let v = c.send(&app).await;
        assert_eq!(
            (v["code"].clone(), v["fileSet"][0]["fileId"].clone()),
            (json!(0), json!(id)),
            "post={post} sha256={sha256}: {v}"
        );
    }
    let vid = [("vid", id.as_str())];
    let base = || VodCall::new("DescribeRecordPlayInfo", &vid);
    // 4100: tampered signature, wrong key, unknown SecretId, another host signed
    let mut c = base();
    let good = test_sign("GET", "x", &[], SECRET_KEY, false);
    c.signature = Some(format!("A{}", &good[1..]));
    assert_eq!(c.send(&app).await["code"], 4100);
    let mut c = base().post();
    c.secret_key = "not-the-key";
    assert_eq!(c.send(&app).await["code"], 4100);
    let mut c = base();
    c.secret_id = "AKIDunknown";
    let v = c.send(&app).await;
    assert_eq!((v["code"].clone(), v["codeDesc"].clone()), (json!(4100), json!("AuthFailure")), "{v}");
    let mut c = base();
    c.sign_host = Some("vod.api.qcloud.com");
    assert_eq!(c.send(&app).await["code"], 4100);
    // 4100 also when a signed parameter is changed after signing (here: the method)
    let mut c = base();
    c.signature = Some(test_sign("POST", app.url.trim_start_matches("http://"), &[], SECRET_KEY, false));
    assert_eq!(c.send(&app).await["code"], 4100);
    // 4200: stale or future Timestamp (300 s window on the virtual clock)
    let now = app.now().await;
    for ts in [now - 301, now + 301] {
        let mut c = base();
        c.timestamp = Some(ts);
        let v = c.send(&app).await;
        assert_eq!((v["code"].clone(), v["codeDesc"].clone()), (json!(4200), json!("RequestExpired")), "{v}");
    }
    for ts in [now - 300, now + 300] {
        let mut c = base();
        c.timestamp = Some(ts);
        assert_eq!(c.send(&app).await["code"], 0);
    }
    // 4500: the same Nonce and Timestamp twice, even with another method; a new Timestamp is fine
    let mut c = base();
    c.nonce = 42;
    c.timestamp = Some(now);
    assert_eq!(c.send(&app).await["code"], 0);
    let v = c.send(&app).await;
    assert_eq!((v["code"].clone(), v["codeDesc"].clone()), (json!(4500), json!("ReplayAttack")), "{v}");
    c.method = "POST";
    assert_eq!(c.send(&app).await["code"], 4500);
    c.timestamp = Some(now - 1);
    assert_eq!(c.send(&app).await["code"], 0);
    // a forged request does not use up a Nonce
    let mut forged = base();
    forged.nonce = 43;
    forged.secret_key = "bad";
    assert_eq!(forged.send(&app).await["code"], 4100);
    forged.secret_key = SECRET_KEY;
    assert_eq!(forged.send(&app).await["code"], 0);
    // 4000: each required common parameter missing, malformed values, unknown Action, bad action parameters
    for omit in ["Action", "SecretId", "Timestamp", "Nonce", "Signature"] {
        let mut c = base();
        c.omit = vec![omit];
        let v = c.send(&app).await;
        assert_eq!(
            (v["code"].clone(), v["codeDesc"].clone()),
            (json!(4000), json!("InvalidParameter")),
            "{omit}: {v}"
        );
        assert!(v["message"].as_str().unwrap().contains(omit), "{v}");
    }
    let mut c = base();
    c.omit = vec!["Region", "SignatureMethod"];
    assert_eq!(c.send(&app).await["code"], 0, "Region is optional, HmacSHA1 the default");
    let mut c = base();
    c.params.push(("Nonce", "7".into()));
    assert_eq!(c.send(&app).await["code"], 4000, "a parameter given twice");
    for (k, v) in [("Timestamp", "soon"), ("Nonce", "-5"), ("Nonce", "0"), ("SignatureMethod", "HmacMD5")] {
        let mut c = base();
        c.omit = vec![k];
        c.params.push((k, v.into()));
        let v = c.send(&app).await;
        assert_eq!(v["code"], 4000, "{k}: {v}");
        assert!(v["message"].as_str().unwrap().contains(k), "{v}");
    }
    assert_eq!(VodCall::new("DeleteVodFile", &vid).send(&app).await["code"], 4000);
    assert_eq!(VodCall::new("DescribeRecordPlayInfo", &[]).send(&app).await["code"], 4000);
    assert_eq!(VodCall::new("DescribeVodPlayInfo", &[]).send(&app).await["code"], 4000);
    for (k, v) in [("pageNo", "0"), ("pageSize", "0"), ("pageSize", "101"), ("pageNo", "one")] {
        let v = VodCall::new("DescribeVodPlayInfo", &[("fileName", "signed"), (k, v)]).send(&app).await;
        assert_eq!(v["code"], 4000, "{v}");
    }
    // 5000: no such vid
    let v = VodCall::new("DescribeRecordPlayInfo", &[("vid", "1234")]).send(&app).await;
    assert_eq!((v["code"].clone(), v["codeDesc"].clone()), (json!(5000), json!("ResourceNotFound")), "{v}");
    // files of another app are not visible with this SecretId (the other app has none)
    app.stop().await;
}

// ----- the rest of the surface ------------------------------------------------------------------------------

/// A dump taken mid-recording restores exactly: the recording goes on, its cut and its files come out the
/// same; a tenant reset forgets the app's recordings and files.
#[tokio::test]
async fn state_dump_restores_mid_recording_and_tenant_reset_forgets() {
    let app = spawn(world()).await;
    start(&app, "olga", "persist").await;
    app.advance(80.0 * MIN).await;
    let (_, dump) = app.get("/__admin/state").await;
    let other = spawn(world()).await;
    let (s, v) = other.send(other.client.put(format!("{}/__admin/state", other.url)).json(&dump)).await;
    assert_eq!(s, 200, "{v}");
    for a in [&app, &other] {
        a.advance(20.0 * MIN).await;
    }
    let ids_a = file_ids(&stop(&app, "olga").await);
    let ids_b = file_ids(&stop(&other, "olga").await);
    assert_eq!(ids_a, ids_b);
    assert_eq!(ids_a.len(), 2);
    // a dump with two open recordings of one user is refused, and nothing changes
    let mut bad = dump.clone();
    let recs = bad["vendors"]["live_sdk"]["apps"][APP.to_string()]["recordings"].as_object_mut().unwrap();
    let first = recs["1"].clone();
    let mut second = first.clone();
    second["seq"] = json!(2);
    recs.insert("2".into(), second);
    let (s, v) = other.send(other.client.put(format!("{}/__admin/state", other.url)).json(&bad)).await;
    assert_eq!(s, 400, "{v}");
    assert!(v.to_string().contains("two open recordings"), "{v}");
    // a dump whose times would overflow the cut arithmetic is refused too
    let mut bad = dump.clone();
    bad["vendors"]["live_sdk"]["apps"][APP.to_string()]["recordings"]["1"]["piece"]["span_start_ms"] =
        json!(i64::MAX);
    let (s, v) = other.send(other.client.put(format!("{}/__admin/state", other.url)).json(&bad)).await;
    assert_eq!(s, 400, "{v}");
    assert!(v.to_string().contains("span_start_ms: 9223372036854775807 is out of range"), "{v}");
    // tenant reset
    let (s, v) = app.post(&format!("/__admin/reset?tenant=live_sdk:{APP}"), json!({})).await;
    assert_eq!(s, 200, "{v}");
    app.advance(60.0).await;
    let v = VodCall::new("DescribeRecordPlayInfo", &[("vid", &ids_a[0])]).send(&app).await;
    assert_eq!(v["code"], 5000, "{v}");
    other.stop().await;
    app.stop().await;
}

/// Fixture sections are checked with exact paths; the demo world has a ready app whose banner curl works.
#[tokio::test]
async fn fixture_checks_and_the_demo_app() {
    let app = spawn(world()).await;
    let bad = json!({"live_sdk": {"apps": [
        {"sdkappid": 1, "key": ""},
        {"sdkappid": 1, "key": "k", "vod_secret_id": "S"},
        {"sdkappid": 2, "key": "k", "vod_secret_key": "K", "max_recordings": 0},
        {"sdkappid": 3, "key": "k", "vod_secret_id": SECRET_ID, "vod_secret_key": "x", "colour": "red"},
        {"sdkappid": 4, "key": "k", "vod_secret_id": "T", "vod_secret_key": "x"},
        {"sdkappid": 5, "key": "k", "vod_secret_id": "T", "vod_secret_key": "y"}
    ], "rooms": []}});
    let (s, v) = app.post("/__admin/fixtures?dry_run=true", bad).await;
    assert_eq!(s, 400, "{v}");
    let text = v.to_string();
    for path in [
        "live_sdk.apps[0].key",
        "live_sdk.apps[1].sdkappid",
        "live_sdk.apps[1].vod_secret_key",
        "live_sdk.apps[2].vod_secret_id",
        "live_sdk.apps[2].max_recordings",
        "live_sdk.apps[3].colour",
        "live_sdk.apps[5].vod_secret_id",
        "live_sdk.rooms",
    ] {
        assert!(text.contains(path), "{path} in {text}");
    }
    // an app whose SecretId another app already has cannot be loaded
    let (s, v) = app
        .post("/__admin/fixtures", json!({"live_sdk": {"apps": [{"sdkappid": 9, "key": "k", "vod_secret_id": SECRET_ID, "vod_secret_key": "z"}]}}))
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(v.to_string().contains("already used"), "{v}");
    app.stop().await;

    // the embedded demo world: its app records, and its VOD credentials are the reference's
    let demo = spawn_config(recmock::Config {
        fixtures: vec![recmock::FixtureSource::Demo],
        ..config_of(Spawn::default())
    })
    .await;
    let (_, tenants) = demo.get("/__admin/tenants").await;
    assert!(tenants.to_string().contains("live_sdk:1400000002"), "{tenants}");
    let demo_key = "demo-live-key-0000000000000000000000000000000000000000000000000";
    let now = demo.now().await;
    let sig = recmock::tlssig::sign(1_400_000_002, demo_key, "demo_user", now, 3600);
    let q = format!("sdkappid=1400000002&identifier=demo_user&usersig={sig}");
    assert_eq!(call(&demo, "start", &q, room("demo_recording")).await["code"], 0);
    let mut c = VodCall::new("DescribeVodPlayInfo", &[("fileName", "demo_recording")]);
    c.timestamp = Some(now);
    assert_eq!(c.send(&demo).await["totalCount"], 0);
    demo.stop().await;
}

/// Oversize bodies get 413 in each envelope; wrong methods 405 with `Allow`.
#[tokio::test]
async fn oversize_bodies_and_wrong_methods() {
    let app = spawn_with(Spawn {
        fixtures: vec![with_clock(world()).to_string()],
        max_body_bytes: 256,
        ..Spawn::default()
    })
    .await;
    let big = vec![b' '; 300];
    let (s, v) = app.post_raw(&format!("/live_sdk/v1/record/start?{}", login(APP, "p")), &big, &[]).await;
    assert_eq!((s, v["code"].clone()), (413, json!(30_000_001)), "{v}");
    let (s, v) = app.post_raw("/v2/index.php", &big, &[]).await;
    assert_eq!((s, v["code"].clone()), (413, json!(4000)), "{v}");
    for (method, path, allow) in [
        (reqwest::Method::GET, "/live_sdk/v1/record/start", "POST"),
        (reqwest::Method::PUT, "/live_sdk/v1/record/stop", "POST"),
        (reqwest::Method::DELETE, "/v2/index.php", "GET, POST"),
    ] {
        let resp = app.client.request(method, format!("{}{path}", app.url)).send().await.unwrap();
        assert_eq!(resp.status(), 405);
        assert_eq!(resp.headers()["allow"], allow);
    }
    app.stop().await;
}

/// Over HTTPS as `vod.api.qcloud.com`, with recmock's local CA as the only trusted root: the SDK calls,
/// the signed look-ups (the host signed is the one addressed, port included), play URLs on that host
/// that download; a request signed for another host is refused.
#[tokio::test]
async fn recording_and_vod_look_ups_over_https() {
    const HOST: &str = "vod.api.qcloud.com";
    let app =
        spawn_with(Spawn { fixtures: vec![with_clock(world()).to_string()], tls: true, ..Spawn::default() })
            .await;
    let port = app.tls_port();
    let c = app.https_client(&[HOST]);
    let base = format!("https://{HOST}:{port}");
    let sdk = |what: &str| {
        c.post(format!("{base}/live_sdk/v1/record/{what}?{}", login(APP, "alice")))
            .json(&room("secure"))
            .send()
    };
    let v: Value = sdk("start").await.unwrap().json().await.unwrap();
    assert_eq!(v, json!({"code": 0, "desc": ""}));
    app.advance(100.0 * MIN).await;
    let v: Value = sdk("stop").await.unwrap().json().await.unwrap();
    let ids = file_ids(&v);
    assert_eq!(ids.len(), 2, "90 + 10 minutes: {v}");
    app.advance(10.0 * MIN).await;
    for (i, vid) in ids.iter().enumerate() {
        let call = VodCall::new("DescribeRecordPlayInfo", &[("vid", vid)]).via(&c, &base);
        let v = if i == 0 { call.send(&app).await } else { call.post().sha256().send(&app).await };
        assert_eq!(v["code"], 0, "{v}");
        let entry = &v["fileSet"][0];
        assert_eq!(entry["fileId"].as_str(), Some(vid.as_str()), "{v}");
        for p in entry["playSet"].as_array().unwrap() {
            let url = p["url"].as_str().unwrap();
            assert!(url.starts_with(&format!("{base}/files/")), "{url}");
            let resp = c.head(url).send().await.unwrap();
            assert_eq!(resp.status(), 200);
            let len: u64 = resp.headers()["content-length"].to_str().unwrap().parse().unwrap();
            assert_eq!(len, entry["duration"].as_u64().unwrap() * p["vbitrate"].as_u64().unwrap() / 8);
        }
    }
    let v = VodCall::new("DescribeVodPlayInfo", &[("fileName", "secure")]).via(&c, &base).send(&app).await;
    assert_eq!(v["totalCount"], 2, "{v}");
    let mut wrong_host = VodCall::new("DescribeVodPlayInfo", &[("fileName", "secure")]).via(&c, &base);
    wrong_host.sign_host = Some(HOST);
    let v = wrong_host.send(&app).await;
    assert_eq!(v["code"], 4100, "signed without the port: {v}");
    app.stop().await;
}
