//! Seed 003, the meeting REST API, over HTTP: authentication, every status code from real state, the
//! recording and live state machines, files that download, world events, dumps and fixtures.
use crate::common::*;
use serde_json::{json, Value};

/// A public-cloud tenant (`<API ID>:<API KEY>`).
const AUTH: &str = "apiid0001:apikey0001";
/// Another public-cloud tenant.
const OTHER: &str = "apiid0002:apikey0002";
/// A dedicated-cloud tenant.
const DEDICATED: &str = "900";

/// Three tenants: 52 (public) with conferences 1866 (on), 1867 (not on), 1868 (on, may not record),
/// 1869 (on, may not go live); 53 (public) with 2001 (on); 900 (dedicated) with 9000 (on).
fn world() -> Value {
    json!({
        "meeting": {
            "tenants": [
                { "auth": AUTH, "ent_id": 52, "cloud": "public" },
                { "auth": OTHER, "ent_id": 53 },
                { "auth": DEDICATED, "ent_id": 900, "cloud": "dedicated" }
            ],
            "conferences": [
                { "ent_id": 52, "conference_key": "1866", "started": true },
                { "ent_id": 52, "conference_key": 1867 },
                { "ent_id": 52, "conference_key": "1868", "allow_record": false, "started": true },
                { "ent_id": 52, "conference_key": "1869", "allow_live": false, "started": true },
                { "ent_id": 53, "conference_key": "2001", "started": true },
                { "ent_id": 900, "conference_key": "9000", "started": true }
            ]
        }
    })
}

/// POST a meeting call with `auth`; the HTTP status is always 200 (docs/decisions.md, 003).
async fn call(app: &TestApp, api: &str, auth: &str, body: Value) -> Value {
    let (s, v) = app.post_h(&format!("/meeting/{api}"), body, &[("auth", auth)]).await;
    assert_eq!(s, 200, "{api}: {v}");
    v
}

/// A successful call's `data`.
async fn ok(app: &TestApp, api: &str, auth: &str, body: Value) -> Value {
    let v = call(app, api, auth, body).await;
    assert_eq!(
        (v["code"].clone(), v["state"].clone(), v["message"].clone()),
        (json!("200"), json!(1), Value::Null),
        "{api}: {v}"
    );
    v["data"].clone()
}

/// A refused call: `{code: "<code>", data: null, message, state: 0}`; returns the message.
async fn refused(app: &TestApp, api: &str, auth: &str, body: Value, code: i64) -> String {
    let v = call(app, api, auth, body).await;
    assert_eq!(v["code"], json!(code.to_string()), "{api}: {v}");
    assert_eq!((v["state"].clone(), v["data"].clone()), (json!(0), Value::Null), "{api}: {v}");
    assert_eq!(v.as_object().unwrap().len(), 4, "{v}");
    v["message"].as_str().unwrap().to_string()
}

async fn open_record(app: &TestApp, key: &str) -> String {
    ok(app, "openRecord", AUTH, json!({ "conferenceKey": key })).await["recordId"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn records(app: &TestApp, body: Value) -> Vec<Value> {
    ok(app, "getRecords", AUTH, body).await.as_array().unwrap().clone()
}

async fn status(app: &TestApp, key: &str) -> Value {
    let v = call(app, "getLiveRecStatus", AUTH, json!({ "conferenceKey": key })).await;
    assert_eq!((v["code"].clone(), v["state"].clone()), (json!(200), json!(1)), "{v}");
    v["data"].clone()
}

#[tokio::test]
async fn the_auth_header_is_checked_first_and_answers_403() {
    let app = spawn(world()).await;
    let body = json!({ "conferenceKey": "1866" });
    // Missing or blank: the real server's words.
    let (s, v) = app.post("/meeting/openRecord", body.clone()).await;
    assert_eq!(
        (s, v),
        (200, json!({ "code": "403", "data": null, "message": "auth码不能为空", "state": 0 }))
    );
    assert_eq!(refused(&app, "openRecord", "  ", body.clone(), 403).await, "auth码不能为空");
    // Unknown: refused before the body is even read.
    let msg = refused(&app, "openRecord", "nobody:nothing", json!("not an object"), 403).await;
    assert!(msg.starts_with("auth认证失败"), "{msg}");
    // Bytes that are not text: refused as such, not taken for a missing header.
    let rb = app
        .client
        .post(format!("{}/meeting/openRecord", app.url))
        .header("auth", reqwest::header::HeaderValue::from_bytes(b"\xe4\xbd\xa0").unwrap())
        .json(&body);
    let (s, v) = app.send(rb).await;
    assert_eq!((s, v["code"].clone()), (200, json!("403")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("ASCII"), "{v}");
    // A tenant's API ID with another key: a borrowed auth.
    let msg = refused(&app, "openRecord", "apiid0001:apikey0002", body.clone(), 403).await;
    assert!(msg.contains("冒用"), "{msg}");
    for api in ["closeRecord", "getRecords", "delRecordFile", "openLive", "closeLive"] {
        refused(&app, api, "apiid0001:", body.clone(), 403).await;
    }
    // getLiveRecStatus writes its code as a number, errors included.
    let v = call(&app, "getLiveRecStatus", "wrong", body.clone()).await;
    assert_eq!((v["code"].clone(), v["state"].clone()), (json!(403), json!(0)), "{v}");
    // A dedicated-cloud auth is the tenant's key field.
    ok(&app, "openRecord", DEDICATED, json!({ "conferenceKey": "9000" })).await;
    app.stop().await;
}

#[tokio::test]
async fn bad_parameters_answer_400_naming_the_field() {
    let app = spawn(world()).await;
    let (s, v) = app
        .post_raw("/meeting/openRecord", b"", &[("auth", AUTH), ("content-type", "application/json")])
        .await;
    assert_eq!(
        (s, v),
        (200, json!({ "code": "400", "data": null, "message": "消息体缺失,请检查", "state": 0 }))
    );
    let cases: [(&[u8], &str); 8] = [
        (b"{\"conferenceKey\": ", "not JSON"),
        (b"[1866]", "JSON object"),
        (b"\xff\xfe", "UTF-8"),
        (b"{}", "conferenceKey is required"),
        (b"{\"conferenceKey\": {\"a\": 1}}", "conferenceKey"),
        (b"{\"conferenceKey\": 18.5}", "conferenceKey"),
        (b"{\"conferenceKey\": \"  \"}", "must not be empty"),
        (b"{\"conferenceKey\": \"1866\", \"sipkey\": \"1867\"}", "different conferences"),
    ];
    for (body, needle) in cases {
        let (s, v) = app.post_raw("/meeting/openRecord", body, &[("auth", AUTH)]).await;
        assert_eq!((s, v["code"].clone(), v["state"].clone()), (200, json!("400"), json!(0)), "{v}");
        let msg = v["message"].as_str().unwrap();
        assert!(msg.starts_with("请求的参数异常") && msg.contains(needle), "{needle}: {msg}");
    }
    let long = "1".repeat(51);
    refused(&app, "openLive", AUTH, json!({ "conferenceKey": long }), 400).await;
    refused(&app, "getRecords", AUTH, json!({}), 400).await;
    refused(&app, "getRecords", AUTH, json!({ "recordId": "" }), 400).await;
    refused(&app, "getRecords", AUTH, json!({ "recordId": "x", "origin": "ftp://host" }), 400).await;
    refused(&app, "getRecords", AUTH, json!({ "recordId": "no-such-record" }), 400).await;
    refused(&app, "delRecordFile", AUTH, json!({ "recordId": ["a"] }), 400).await;
    refused(&app, "delRecordFile", AUTH, json!({}), 400).await;
    refused(&app, "delRecordFile", AUTH, json!({ "recordId": "no-such-record" }), 400).await;
    // What real clients send is accepted: a number, `sipkey`, the document's trailing commas, extra fields.
    ok(&app, "openRecord", AUTH, json!({ "conferenceKey": 1866 })).await;
    ok(&app, "closeRecord", AUTH, json!({ "sipkey": "1866", "extra": true })).await;
    let (_, v) =
        app.post_raw("/meeting/openLive", b"{\n \"conferenceKey\": \"1866\",\n}", &[("auth", AUTH)]).await;
    assert_eq!(v["state"], 1, "{v}");
    app.stop().await;
}

#[tokio::test]
async fn conference_codes_come_from_real_state() {
    let app = spawn(world()).await;
    let k = |key: &str| json!({ "conferenceKey": key });
    // 200008: no tenant has it. 200001: another tenant's.
    for api in ["openRecord", "closeRecord", "openLive", "closeLive"] {
        assert_eq!(refused(&app, api, AUTH, k("4040"), 200_008).await, "该会议不存在");
        assert_eq!(refused(&app, api, AUTH, k("2001"), 200_001).await, "会议号和当前的认证的auth不匹配");
        refused(&app, api, OTHER, k("1866"), 200_001).await;
        // 200006: not on.
        assert_eq!(refused(&app, api, AUTH, k("1867"), 200_006).await, "该会议还未开启");
    }
    refused(&app, "getRecords", AUTH, json!({ "conferenceKey": "2001" }), 200_001).await;
    refused(&app, "getRecords", AUTH, json!({ "conferenceKey": "4040" }), 200_008).await;
    // 200004 / 200005: what the conference allows (before whether it is on).
    assert_eq!(refused(&app, "openRecord", AUTH, k("1868"), 200_004).await, "该会议不允许录制");
    assert_eq!(refused(&app, "openLive", AUTH, k("1869"), 200_005).await, "该会议不允许直播");
    refused(&app, "closeLive", AUTH, k("1869"), 200_005).await;
    // 200003 / 200007: the recording.
    refused(&app, "closeRecord", AUTH, k("1866"), 200_007).await;
    let id = open_record(&app, "1866").await;
    assert_eq!(refused(&app, "openRecord", AUTH, k("1866"), 200_003).await, "该会议已开启录制");
    assert_eq!(ok(&app, "closeRecord", AUTH, k("1866")).await, json!({ "recordId": id }));
    assert_eq!(refused(&app, "closeRecord", AUTH, k("1866"), 200_007).await, "该会议未开启录制");
    // 200002: the live.
    ok(&app, "openLive", AUTH, k("1866")).await;
    assert_eq!(refused(&app, "openLive", AUTH, k("1866"), 200_002).await, "该会议已开启直播");
    // getLiveRecStatus: numeric codes; a conference that is not on gets the real server's words.
    let v = call(&app, "getLiveRecStatus", AUTH, k("1867")).await;
    assert_eq!(v, json!({ "code": 200_006, "data": null, "message": "当前会议室没有开启会议", "state": 0 }));
    let v = call(&app, "getLiveRecStatus", AUTH, k("2001")).await;
    assert_eq!(v["code"], 200_001);
    app.stop().await;
}

#[tokio::test]
async fn live_is_public_cloud_only() {
    let app = spawn(world()).await;
    let k = json!({ "conferenceKey": "9000" });
    refused(&app, "openLive", DEDICATED, k.clone(), 200_005).await;
    refused(&app, "closeLive", DEDICATED, k.clone(), 200_005).await;
    // Recording works on the dedicated cloud.
    ok(&app, "openRecord", DEDICATED, k.clone()).await;
    let v = call(&app, "getLiveRecStatus", DEDICATED, k).await;
    assert_eq!((v["data"]["record"].clone(), v["data"]["live"].clone()), (json!(true), json!(false)));
    app.stop().await;
}

#[tokio::test]
async fn a_live_has_a_watch_page_while_it_is_on() {
    let app = spawn(world()).await;
    let k = json!({ "conferenceKey": "1866" });
    let st = status(&app, "1866").await;
    assert_eq!(
        st,
        json!({ "conferenceKey": "1866", "live": false, "rtmpUrl": "", "record": false, "recordId": "" })
    );
    let url = ok(&app, "openLive", AUTH, k.clone()).await["liveurl"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/meeting/live/", app.url)), "{url}");
    let (s, page) = app.text(app.client.get(&url)).await;
    assert_eq!(s, 200);
    assert!(page.contains("Conference 1866 is live"), "{page}");
    let st = status(&app, "1866").await;
    assert_eq!(st["live"], true);
    assert!(st["rtmpUrl"].as_str().unwrap().starts_with("rtmp://127.0.0.1:1935/live/"), "{st}");
    // closeLive answers without `data`, as documented; closing again is harmless.
    for _ in 0..2 {
        let v = call(&app, "closeLive", AUTH, k.clone()).await;
        assert_eq!(v, json!({ "code": "200", "message": null, "state": 1 }));
    }
    assert_eq!(app.text(app.client.get(&url)).await.0, 404);
    assert_eq!(status(&app, "1866").await["rtmpUrl"], "");
    app.stop().await;
}

/// 90 seconds of recording in a tenant that cuts files every minute: two files (60 + 30 seconds), times in
/// the documented form, sizes and MD5 of the downloads equal to what getRecords reports; then the files are
/// deleted one by one and as a recording.
#[tokio::test]
async fn a_recording_becomes_files_that_download_and_can_be_deleted() {
    let mut w = world();
    w["meeting"]["tenants"][0]["segment_s"] = json!(60);
    let app = spawn(w).await;
    app.advance(60.0).await;
    let id = open_record(&app, "1866").await;
    assert_eq!(id.len(), 36, "a UUID like the document's: {id}");
    let st = status(&app, "1866").await;
    assert_eq!((st["record"].clone(), st["recordId"].clone()), (json!(true), json!(id)));
    assert_eq!(records(&app, json!({ "recordId": id })).await, Vec::<Value>::new());
    refused(&app, "delRecordFile", AUTH, json!({ "recordId": id }), 200_003).await;
    app.advance(90.0).await;
    ok(&app, "closeRecord", AUTH, json!({ "conferenceKey": "1866" })).await;
    // Processing: 5 s queued, 10 s encoding, 5 s uploading.
    app.advance(19.0).await;
    assert_eq!(records(&app, json!({ "recordId": id })).await.len(), 0);
    refused(&app, "delRecordFile", AUTH, json!({ "recordId": id }), 400).await;
    app.advance(1.0).await;
    let rows = records(&app, json!({ "recordId": id })).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    // UTC, like the document's example (its file name carries the Beijing time).
    assert_eq!(
        (rows[0]["startTime"].clone(), rows[0]["stopTime"].clone(), rows[1]["stopTime"].clone()),
        (json!("2026-01-01 00:01:00"), json!("2026-01-01 00:02:00"), json!("2026-01-01 00:02:30"))
    );
    for (row, seconds) in rows.iter().zip([60u64, 30]) {
        assert_eq!(row.as_object().unwrap().len(), 8, "{row}");
        assert_eq!(
            (row["conferenceKey"].clone(), row["entId"].clone(), row["cid"].clone()),
            (json!("1866"), json!(52), json!(id))
        );
        assert_eq!(row["recordId"].as_str().unwrap().len(), 32);
        assert_eq!(row["fileSize"], json!(seconds * 250_000));
        let url = row["downUrl"].as_str().unwrap();
        assert!(url.starts_with(&format!("{}/files/", app.url)), "{url}");
        let (s, bytes) = app.bytes(url).await;
        assert_eq!((s, bytes.len() as u64), (200, seconds * 250_000));
        assert_eq!(&bytes[4..8], b"ftyp");
        let (_, state) = app.get("/__admin/state").await;
        let stored = state["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| url.contains(f["key"].as_str().unwrap()))
            .unwrap()
            .clone();
        assert_eq!(stored["md5"], json!(md5_hex(&bytes)));
    }
    assert!(rows[0]["downUrl"].as_str().unwrap().ends_with("/1866_080100.mp4"), "{}", rows[0]["downUrl"]);
    // One row by its own id; every row of the conference; another base URL with `origin`.
    let first = rows[0]["recordId"].as_str().unwrap().to_string();
    assert_eq!(records(&app, json!({ "recordId": first })).await, vec![rows[0].clone()]);
    assert_eq!(records(&app, json!({ "conferenceKey": "1866" })).await, rows);
    refused(&app, "getRecords", AUTH, json!({ "recordId": first, "conferenceKey": "1869" }), 400).await;
    let moved = records(&app, json!({ "recordId": id, "origin": "https://meet.example.com/" })).await;
    assert!(
        moved[0]["downUrl"].as_str().unwrap().starts_with("https://meet.example.com/files/"),
        "{moved:?}"
    );
    // Another tenant sees none of it.
    let v = call(&app, "getRecords", OTHER, json!({ "recordId": id })).await;
    assert_eq!(v["code"], "400");
    // Delete one file: its download is gone, the other stays.
    assert_eq!(
        ok(&app, "delRecordFile", AUTH, json!({ "recordId": first })).await,
        json!({ "recordId": first })
    );
    assert_eq!(app.bytes(rows[0]["downUrl"].as_str().unwrap()).await.0, 404);
    assert_eq!(records(&app, json!({ "recordId": id })).await, vec![rows[1].clone()]);
    refused(&app, "delRecordFile", AUTH, json!({ "recordId": first }), 400).await;
    // Delete the recording: everything is gone.
    ok(&app, "delRecordFile", AUTH, json!({ "recordId": id })).await;
    assert_eq!(app.bytes(rows[1]["downUrl"].as_str().unwrap()).await.0, 404);
    refused(&app, "getRecords", AUTH, json!({ "recordId": id }), 400).await;
    assert_eq!(records(&app, json!({ "conferenceKey": "1866" })).await, Vec::<Value>::new());
    app.stop().await;
}

#[tokio::test]
async fn one_hundred_concurrent_open_records_give_one_recording() {
    let app = spawn(world()).await;
    let calls = (0..100).map(|_| call(&app, "openRecord", AUTH, json!({ "conferenceKey": "1866" })));
    let answers = futures_util::future::join_all(calls).await;
    let codes: Vec<&str> = answers.iter().map(|v| v["code"].as_str().unwrap()).collect();
    assert_eq!(codes.iter().filter(|c| **c == "200").count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == "200003").count(), 99, "{codes:?}");
    let winner = answers.iter().find(|v| v["code"] == "200").unwrap()["data"]["recordId"].clone();
    assert_eq!(status(&app, "1866").await["recordId"], winner);
    let (_, state) = app.get("/__admin/state").await;
    assert_eq!(state["vendors"]["meeting"]["tenants"]["52"]["records"].as_object().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_conference_ending_closes_its_recording_and_live() {
    let app = spawn(world()).await;
    let k = json!({ "conferenceKey": "1866" });
    let id = open_record(&app, "1866").await;
    let url = ok(&app, "openLive", AUTH, k.clone()).await["liveurl"].as_str().unwrap().to_string();
    app.advance(600.0).await;
    let v = app.event(json!({ "type": "meeting.conference_end", "conference_key": "1866" })).await;
    let v = &v["applied"][0];
    assert_eq!((v["closed_recording"].clone(), v["closed_live"].clone()), (json!(id), json!(true)), "{v}");
    assert_eq!(app.text(app.client.get(&url)).await.0, 404);
    refused(&app, "closeRecord", AUTH, k.clone(), 200_006).await;
    refused(&app, "openRecord", AUTH, k.clone(), 200_006).await;
    app.advance(20.0).await;
    let rows = records(&app, json!({ "recordId": id })).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["fileSize"], 600 * 250_000);
    // Ending twice is refused; the conference starts again with nothing on.
    let (s, _) = app
        .post("/__admin/events", json!({ "type": "meeting.conference_end", "conference_key": "1866" }))
        .await;
    assert_eq!(s, 409);
    app.event(json!({ "type": "meeting.conference_start", "conference_key": "1866" })).await;
    let st = status(&app, "1866").await;
    assert_eq!((st["record"].clone(), st["live"].clone()), (json!(false), json!(false)));
    ok(&app, "openRecord", AUTH, k).await;
    app.stop().await;
}

#[tokio::test]
async fn conferences_start_end_and_appear_through_world_events() {
    let app = spawn(world()).await;
    let k = json!({ "conferenceKey": "1867" });
    refused(&app, "openRecord", AUTH, k.clone(), 200_006).await;
    app.event(json!({ "type": "meeting.conference_start", "conference_key": "1867", "ent_id": 52 })).await;
    ok(&app, "openRecord", AUTH, k).await;
    // A new short number is declared on the fly for a tenant, with its permissions.
    refused(&app, "openRecord", AUTH, json!({ "conferenceKey": "3003" }), 200_008).await;
    app.event(json!({ "type": "meeting.conference_start", "conference_key": "3003", "ent_id": 52, "allow_record": false })).await;
    refused(&app, "openRecord", AUTH, json!({ "conferenceKey": "3003" }), 200_004).await;
    refused(&app, "openRecord", OTHER, json!({ "conferenceKey": "3003" }), 200_001).await;
    // Events that make no sense are refused with a reason.
    for (event, status, needle) in [
        (json!({ "type": "meeting.conference_start", "conference_key": "1866" }), 409, "already started"),
        (json!({ "type": "meeting.conference_start", "conference_key": "4040" }), 404, "no such conference"),
        (
            json!({ "type": "meeting.conference_start", "conference_key": "4040", "ent_id": 7 }),
            404,
            "no such tenant",
        ),
        (
            json!({ "type": "meeting.conference_start", "conference_key": "1866", "ent_id": 53 }),
            409,
            "belongs to",
        ),
        (json!({ "type": "meeting.conference_end", "conference_key": "1867", "extra": 1 }), 400, "extra"),
        (json!({ "type": "meeting.conference_end", "conference_key": "" }), 400, "conference_key"),
        (json!({ "type": "meeting.recording_fail", "conference_key": "1866" }), 409, "not being recorded"),
        (
            json!({ "type": "meeting.recording_fail", "conference_key": "1866", "record_id": "x" }),
            404,
            "no such recording",
        ),
        (json!({ "type": "meeting.conference_pause", "conference_key": "1866" }), 400, "unknown event"),
    ] {
        let (s, v) = app.post("/__admin/events", event.clone()).await;
        assert_eq!(s, status, "{event}: {v}");
        assert!(v.to_string().contains(needle), "{needle}: {v}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_failed_recording_reports_its_reason_and_leaves_no_files() {
    let app = spawn(world()).await;
    let id = open_record(&app, "1866").await;
    app.advance(120.0).await;
    app.event(json!({ "type": "meeting.recording_fail", "conference_key": "1866", "reason": "disk full" }))
        .await;
    let st = status(&app, "1866").await;
    assert_eq!(
        st,
        json!({ "conferenceKey": "1866", "live": false, "rtmpUrl": "", "record": false, "recordId": "", "failedReason": "disk full" })
    );
    refused(&app, "closeRecord", AUTH, json!({ "conferenceKey": "1866" }), 200_007).await;
    app.advance(60.0).await;
    assert_eq!(records(&app, json!({ "recordId": id })).await, Vec::<Value>::new());
    // The next recording clears the reason; one that fails while it is processed leaves no files either.
    let id2 = open_record(&app, "1866").await;
    assert!(status(&app, "1866").await.get("failedReason").is_none());
    app.advance(30.0).await;
    ok(&app, "closeRecord", AUTH, json!({ "conferenceKey": "1866" })).await;
    app.event(json!({ "type": "meeting.recording_fail", "conference_key": "1866", "record_id": id2 })).await;
    app.advance(60.0).await;
    assert_eq!(records(&app, json!({ "recordId": id2 })).await, Vec::<Value>::new());
    // A failed recording can be deleted.
    ok(&app, "delRecordFile", AUTH, json!({ "recordId": id })).await;
    app.stop().await;
}

/// 500 ("服务器内部错误") and 200009 (a booking code: no endpoint of the seed books a room) come from fault
/// rules, in the vendor's envelope.
#[tokio::test]
async fn internal_errors_and_booking_conflicts_come_from_fault_rules() {
    let app = spawn(world()).await;
    for (code, msg) in [(500, "服务器内部错误，无法完成请求。"), (200_009, "当前时间段，此会议室已被预约")]
    {
        let (s, _) = app
            .post("/__admin/faults", json!({ "match": { "vendor": "meeting", "path": "/meeting/openRecord" }, "action": { "error_code": code }, "times": 1 }))
            .await;
        assert_eq!(s, 201);
        assert_eq!(refused(&app, "openRecord", AUTH, json!({ "conferenceKey": "1866" }), code).await, msg);
    }
    ok(&app, "openRecord", AUTH, json!({ "conferenceKey": "1866" })).await;
    app.stop().await;
}

#[tokio::test]
async fn oversize_bodies_and_wrong_methods() {
    let app = spawn_with(Spawn {
        fixtures: vec![with_clock(world()).to_string()],
        max_body_bytes: 256,
        ..Spawn::default()
    })
    .await;
    let big = format!("{{\"conferenceKey\":\"1866\",\"pad\":\"{}\"}}", "x".repeat(400));
    let (s, v) = app.post_raw("/meeting/openRecord", big.as_bytes(), &[("auth", AUTH)]).await;
    assert_eq!((s, v["code"].clone(), v["state"].clone()), (413, json!("400"), json!(0)), "{v}");
    let (s, v) = app.get_h("/meeting/openRecord", &[("auth", AUTH)]).await;
    assert_eq!(s, 405, "{v}");
    app.stop().await;
}

/// A dump taken mid-recording restores exactly, and the recording carries on to its files.
#[tokio::test]
async fn state_dump_and_restore_round_trip() {
    let app = spawn(world()).await;
    let id = open_record(&app, "1866").await;
    ok(&app, "openLive", AUTH, json!({ "conferenceKey": "1866" })).await;
    app.advance(300.0).await;
    let (_, dump) = app.get("/__admin/state").await;
    // The world moves on, then the dump puts it back.
    ok(&app, "closeRecord", AUTH, json!({ "conferenceKey": "1866" })).await;
    app.event(json!({ "type": "meeting.conference_end", "conference_key": "2001" })).await;
    let (s, v) = app.send(app.client.put(format!("{}/__admin/state", app.url)).json(&dump)).await;
    assert_eq!(s, 200, "{v}");
    let (_, again) = app.get("/__admin/state").await;
    assert_eq!(again["vendors"]["meeting"], dump["vendors"]["meeting"]);
    assert_eq!(status(&app, "1866").await["recordId"], json!(id));
    let st = call(&app, "getLiveRecStatus", OTHER, json!({ "conferenceKey": "2001" })).await;
    assert_eq!(st["data"]["live"], false, "2001 is on again: {st}");
    app.advance(300.0).await;
    ok(&app, "closeRecord", AUTH, json!({ "conferenceKey": "1866" })).await;
    app.advance(20.0).await;
    let rows = records(&app, json!({ "recordId": id })).await;
    assert_eq!(rows[0]["fileSize"], 600 * 250_000);
    // A dump whose meeting section is wrong changes nothing.
    let mut bad = dump.clone();
    bad["vendors"]["meeting"]["tenants"]["52"]["config"]["cloud"] = json!("private");
    let (s, v) = app.send(app.client.put(format!("{}/__admin/state", app.url)).json(&bad)).await;
    assert_eq!(s, 400, "{v}");
    assert!(v.to_string().contains("vendors.meeting"), "{v}");
    let mut bad = dump;
    bad["vendors"]["meeting"]["tenants"]["53"]["conferences"]["1866"] =
        bad["vendors"]["meeting"]["tenants"]["52"]["conferences"]["1866"].clone();
    let (s, v) = app.send(app.client.put(format!("{}/__admin/state", app.url)).json(&bad)).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(records(&app, json!({ "recordId": id })).await, rows);
    app.stop().await;
}

/// The state file keeps a recording in progress across a restart.
#[tokio::test]
async fn a_recording_survives_a_restart_with_the_state_file() {
    let dir = std::env::temp_dir().join(format!("recmock-meeting-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state.json");
    let _ = std::fs::remove_file(&file);
    let fixture = with_clock(world()).to_string();
    let app = spawn_with(Spawn {
        fixtures: vec![fixture.clone()],
        state_file: Some(file.clone()),
        ..Spawn::default()
    })
    .await;
    let id = open_record(&app, "1866").await;
    app.advance(100.0).await;
    app.stop().await;
    let app =
        spawn_with(Spawn { fixtures: vec![fixture], state_file: Some(file.clone()), ..Spawn::default() })
            .await;
    assert_eq!(status(&app, "1866").await["recordId"], json!(id));
    app.advance(100.0).await;
    ok(&app, "closeRecord", AUTH, json!({ "conferenceKey": "1866" })).await;
    app.advance(20.0).await;
    assert_eq!(records(&app, json!({ "recordId": id })).await[0]["fileSize"], 200 * 250_000);
    app.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_tenant_reset_removes_its_recordings_and_files_and_reloads_it() {
    let app = spawn(world()).await;
    let id = open_record(&app, "1866").await;
    app.advance(60.0).await;
    ok(&app, "closeRecord", AUTH, json!({ "conferenceKey": "1866" })).await;
    app.advance(20.0).await;
    let url = records(&app, json!({ "recordId": id })).await[0]["downUrl"].as_str().unwrap().to_string();
    ok(&app, "openRecord", OTHER, json!({ "conferenceKey": "2001" })).await;
    let (s, v) = app.post("/__admin/reset?tenant=meeting:52", json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(app.bytes(&url).await.0, 404);
    refused(&app, "getRecords", AUTH, json!({ "recordId": id }), 400).await;
    assert_eq!(status(&app, "1866").await["record"], false);
    // The other tenant is untouched.
    let st = call(&app, "getLiveRecStatus", OTHER, json!({ "conferenceKey": "2001" })).await;
    assert_eq!(st["data"]["record"], true);
    app.stop().await;
}

#[tokio::test]
async fn times_can_be_beijing_and_files_shorter() {
    let app = spawn(json!({
        "meeting": {
            "tenants": [{ "auth": AUTH, "ent_id": 52, "timezone": "beijing", "segment_s": 600 }],
            "conferences": [{ "ent_id": 52, "conference_key": "1866", "started": true }]
        }
    }))
    .await;
    let id = open_record(&app, "1866").await;
    app.advance(1500.0).await;
    ok(&app, "closeRecord", AUTH, json!({ "conferenceKey": "1866" })).await;
    app.advance(20.0).await;
    let rows = records(&app, json!({ "recordId": id })).await;
    let times: Vec<(&str, &str)> =
        rows.iter().map(|r| (r["startTime"].as_str().unwrap(), r["stopTime"].as_str().unwrap())).collect();
    assert_eq!(
        times,
        vec![
            ("2026-01-01 08:00:00", "2026-01-01 08:10:00"),
            ("2026-01-01 08:10:00", "2026-01-01 08:20:00"),
            ("2026-01-01 08:20:00", "2026-01-01 08:25:00")
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn fixture_errors_name_their_paths() {
    let app = spawn(json!({})).await;
    let (s, v) = app
        .post(
            "/__admin/fixtures",
            json!({
                "meeting": {
                    "tenants": [
                        { "auth": "no-colon", "ent_id": 52, "colour": 1 },
                        { "auth": "a:b", "ent_id": 0, "cloud": "private" },
                        { "auth": "c:d", "ent_id": 54, "segment_s": 5 },
                        { "auth": "c:e", "ent_id": 54 },
                        { "auth": " 800", "ent_id": 55, "cloud": "dedicated" }
                    ],
                    "conferences": [
                        { "ent_id": 54, "conference_key": "1866", "started": "yes" },
                        { "ent_id": 54, "conference_key": "" },
                        { "ent_id": 54, "conference_key": "7" },
                        { "ent_id": 54, "conference_key": "7" }
                    ],
                    "rooms": []
                }
            }),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let text = v.to_string();
    for path in [
        "meeting.tenants[0].colour",
        "meeting.tenants[1].cloud",
        "meeting.tenants[2].segment_s",
        "meeting.tenants[3].auth",
        "meeting.tenants[3].ent_id",
        "meeting.tenants[4].auth",
        "meeting.conferences[0].started",
        "meeting.conferences[1].conference_key",
        "meeting.conferences[3].conference_key",
        "meeting.rooms",
    ] {
        assert!(text.contains(&format!("\"{path}\"")), "{path} not reported: {text}");
    }
    let (s, v) = app
        .post(
            "/__admin/fixtures",
            json!({ "meeting": { "tenants": [{ "auth": "no-colon", "ent_id": 52 }] } }),
        )
        .await;
    assert_eq!(s, 400);
    assert!(v.to_string().contains("meeting.tenants[0].auth"), "{v}");
    // References are checked against the world.
    app.post("/__admin/fixtures", world()).await;
    for (doc, path) in [
        (
            json!({ "meeting": { "conferences": [{ "ent_id": 77, "conference_key": "5" }] } }),
            "meeting.conferences[0].ent_id",
        ),
        (
            json!({ "meeting": { "conferences": [{ "ent_id": 53, "conference_key": "1866" }] } }),
            "meeting.conferences[0].conference_key",
        ),
        (json!({ "meeting": { "tenants": [{ "auth": AUTH, "ent_id": 60 }] } }), "meeting.tenants[0].auth"),
        (
            json!({ "meeting": { "tenants": [{ "auth": "apiid0001:zzz", "ent_id": 61 }] } }),
            "meeting.tenants[0].auth",
        ),
        (json!({ "meeting": { "tenants": [{ "auth": "x:y", "ent_id": 52 }] } }), "meeting.tenants[0].ent_id"),
    ] {
        let (s, v) = app.post("/__admin/fixtures", doc).await;
        assert_eq!(s, 400, "{v}");
        assert!(v.to_string().contains(path), "{path}: {v}");
    }
    // A later fixture may add conferences to an existing tenant.
    let (s, v) = app.post("/__admin/fixtures", json!({ "meeting": { "conferences": [{ "ent_id": 53, "conference_key": "2002", "started": true }] } })).await;
    assert_eq!(s, 200, "{v}");
    ok_other(&app, "2002").await;
    app.stop().await;
}

async fn ok_other(app: &TestApp, key: &str) {
    let v = call(app, "openRecord", OTHER, json!({ "conferenceKey": key })).await;
    assert_eq!(v["code"], "200", "{v}");
}

/// `recmock check` names the path of every meeting error and exits 1.
#[test]
fn recmock_check_names_meeting_paths() {
    let dir = std::env::temp_dir().join(format!("recmock-meeting-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.json");
    let doc = json!({ "meeting": { "tenants": [{ "auth": "", "ent_id": 1, "cloud": "dedicated" }], "conferences": [{ "ent_id": 1, "conference_key": 1866, "allow_live": 1 }] } });
    std::fs::write(&file, doc.to_string()).unwrap();
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_recmock")).arg("check").arg(&file).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{text}");
    for path in ["meeting.tenants[0].auth", "meeting.conferences[0].allow_live"] {
        assert!(text.contains(path), "{path}: {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_demo_world_has_a_public_and_a_dedicated_tenant() {
    let app =
        spawn_with(Spawn { fixtures: vec![recmock::fixture::DEMO_JSON.to_string()], ..Spawn::default() })
            .await;
    let (_, v) = app.get("/__admin/tenants").await;
    for t in ["meeting:52", "meeting:800"] {
        assert!(v["tenants"].as_array().unwrap().iter().any(|x| x == t), "{t}: {v}");
    }
    let auth = "demo-meeting-api-id:demo-meeting-api-key-0001";
    let v = call(&app, "openRecord", auth, json!({ "conferenceKey": "1866" })).await;
    assert_eq!(v["code"], "200", "{v}");
    app.stop().await;
}

/// Over HTTPS as the vendor's API host, with recmock's local CA as the only trusted root: the whole
/// record-and-live lifecycle answers as over HTTP, and the URLs handed out (`liveurl`, `rtmpUrl`, `downUrl`)
/// are on the host the client addressed, where the file downloads.
#[tokio::test]
async fn the_lifecycle_over_https_hands_out_urls_on_the_addressed_host() {
    const HOST: &str = "vapi.myvmr.cn";
    let app =
        spawn_with(Spawn { fixtures: vec![with_clock(world()).to_string()], tls: true, ..Spawn::default() })
            .await;
    let port = app.tls_port();
    let c = app.https_client(&[HOST]);
    let base = format!("https://{HOST}:{port}");
    let post = |api: &str, body: Value| {
        c.post(format!("{base}/meeting/{api}")).header("auth", AUTH).json(&body).send()
    };
    let key = json!({ "conferenceKey": "1866" });
    let v: Value = post("openRecord", key.clone()).await.unwrap().json().await.unwrap();
    let rid = v["data"]["recordId"].as_str().unwrap_or_else(|| panic!("{v}")).to_string();
    let v: Value = post("openRecord", key.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(v["code"], "200003", "{v}");
    let v: Value = post("openLive", key.clone()).await.unwrap().json().await.unwrap();
    let live = v["data"]["liveurl"].as_str().unwrap_or_else(|| panic!("{v}")).to_string();
    assert!(live.starts_with(&format!("{base}/meeting/live/")), "{live}");
    let page = c.get(&live).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let v: Value = post("getLiveRecStatus", key.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(
        v["data"]["rtmpUrl"].as_str().unwrap().split('/').nth(2),
        Some(format!("{HOST}:1935").as_str())
    );
    app.advance(600.0).await;
    let v: Value = post("closeRecord", key.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(v["code"], "200", "{v}");
    app.advance(60.0).await;
    let v: Value = post("getRecords", json!({ "recordId": rid })).await.unwrap().json().await.unwrap();
    let row = &v["data"][0];
    let url = row["downUrl"].as_str().unwrap_or_else(|| panic!("{v}"));
    assert!(url.starts_with(&format!("{base}/files/")), "{url}");
    let resp = c.head(url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-length"], row["fileSize"].as_i64().unwrap().to_string().as_str());
    // The same call over plain HTTP names the plain address.
    let (_, v) = app.post_h("/meeting/getRecords", json!({ "recordId": rid }), &[("auth", AUTH)]).await;
    assert!(v["data"][0]["downUrl"].as_str().unwrap().starts_with(&format!("{}/files/", app.url)), "{v}");
    app.stop().await;
}
