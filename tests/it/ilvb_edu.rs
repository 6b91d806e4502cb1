//! Seed 000 — the education recording admin API and its callbacks, over HTTP with a frozen clock and a
//! real in-test callback receiver.
use crate::common::*;
use serde_json::{json, Value};

const SDKAPPID: u64 = 1_400_000_001;
const KEY: &str = "demo-ilvb-key-0000000000000000000000000000000000000000000000000";
/// Made by the vendor's construction outside recmock (test-vectors.md): admin, T0, 180 days.
const VENDOR_SIG: &str = "eJyrVgrxCdYrSy1SslJQMtIzUNJRAItkpqTmlWSmZUIkElNyM-NgUsUp2YkFBZkpQAlDEwMIMITKpVYUZBalgmRMTU2NgBJQ8ZLMXLCouZm5kZGpGVy8ODMdZL5fdqSZe3KhdlBVaaZTVlmiWbJRiYt2VplfuoVHgFteuUdBQXFKhaVJlIWjrVItAI37Mvw_";
const DAY: f64 = 86_400.0;

/// An app with admin `admin`, room 3003 whose class ran from T0-2h30 to T0 (so 3 one-hour files), and
/// room 3004 that never held a class.
fn world(callback_url: Option<&str>) -> Value {
    let mut app = json!({ "sdkappid": SDKAPPID, "key": KEY, "admins": ["admin", "ops"] });
    if let Some(u) = callback_url {
        app["callback_url"] = json!(u);
    }
    json!({
        "ilvb_edu": {
            "apps": [app, { "sdkappid": 1_400_000_009u64, "key": "other-key", "usersig_check": "any" }],
            "classrooms": [
                { "sdkappid": SDKAPPID, "roomid": 3003, "start": -9000, "end": 0, "members": ["t", "s1"] },
                { "sdkappid": SDKAPPID, "roomid": 3005, "start": -600, "end": -60 },
                { "sdkappid": SDKAPPID, "roomid": 3004 }
            ]
        }
    })
}

fn record_path(sig: &str) -> String {
    format!("/v4/ilvb_edu/record?sdkappid={SDKAPPID}&identifier=admin&usersig={sig}&contenttype=json")
}

async fn call(app: &TestApp, body: Value) -> Value {
    let (s, v) = app.post(&record_path(VENDOR_SIG), body).await;
    assert_eq!(s, 200, "{v}");
    v
}

async fn req_record(app: &TestApp, room: u64) -> Value {
    call(app, json!({"cmd": "open_record_svc", "sub_cmd": "req_record", "class_roomid": room})).await
}

async fn query(app: &TestApp, room: u64) -> Value {
    call(app, json!({"cmd": "open_record_svc", "sub_cmd": "query_record_result", "class_roomid": room})).await
}

/// md5(key + expire_time), recomputed here, must equal the body's `sign`.
fn assert_signed(body: &Value) {
    let expire = body["expire_time"].as_i64().expect("expire_time");
    assert_eq!(body["sign"], json!(md5_hex(format!("{KEY}{expire}").as_bytes())), "{body}");
    assert_eq!(body["sign"].as_str().unwrap().len(), 32);
}

async fn callbacks(app: &TestApp, query: &str) -> Vec<Value> {
    let (s, v) = app.get(&format!("/__admin/callbacks?{query}")).await;
    assert_eq!(s, 200, "{v}");
    v["callbacks"].as_array().unwrap().clone()
}

/// The whole flow: req_record → 1000 (batched) → 1001 per file, signed; query_record_result agrees and the
/// files download with the reported sizes.
#[tokio::test]
async fn recording_flow_sends_signed_1000_then_one_1001_per_file() {
    let rx = Receiver::start().await;
    let app = spawn(world(Some(&rx.url))).await;
    assert_eq!(req_record(&app, 3003).await["error_code"], 0);
    assert_eq!(req_record(&app, 3005).await["error_code"], 0);
    let q = query(&app, 3003).await;
    assert_eq!(q["record_status"], "queued");
    assert_eq!(q["record_files"], json!([]));
    app.advance(60.0).await;

    let got = rx.received();
    let bodies: Vec<&Value> = got.iter().map(|r| &r.body).collect();
    assert_eq!(bodies[0]["event_type"], 1000);
    assert_eq!(bodies[0]["roomid_list"], json!([3003, 3005]), "rooms queued together start together");
    assert_eq!(bodies[0]["sdkappid"], SDKAPPID);
    assert_eq!(bodies[0]["error_code"], 0);
    for b in &bodies {
        assert_signed(b);
    }
    let files_3003: Vec<&&Value> =
        bodies.iter().filter(|b| b["event_type"] == 1001 && b["class_roomid"] == 3003).collect();
    assert_eq!(files_3003.len(), 3, "2 h 30 min in one-hour files");
    assert_eq!(files_3003.iter().map(|b| b["file_id"].as_i64().unwrap()).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(
        files_3003.iter().map(|b| b["is_finish"].as_bool().unwrap()).collect::<Vec<_>>(),
        vec![false, false, true]
    );
    assert_eq!(
        files_3003.iter().map(|b| b["file_duration"].as_i64().unwrap()).collect::<Vec<_>>(),
        vec![3600, 3600, 1800]
    );
    assert_eq!(files_3003[0]["class_starttime"], T0 - 9000);
    assert_eq!(files_3003[0]["class_endtime"], T0);
    assert_eq!(files_3003[0]["video_id"].as_str().unwrap().len(), 19);

    let q = query(&app, 3003).await;
    assert_eq!(q["record_status"], "done");
    assert_eq!(q["class_roomid"], 3003);
    let listed = q["record_files"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    for (l, cb) in listed.iter().zip(&files_3003) {
        for k in ["file_id", "is_finish", "file_size", "file_duration", "file_url", "video_id"] {
            assert_eq!(l[k], cb[k], "query_record_result and callback disagree on {k}");
        }
        // Hour-long files at the default rate (250,000 bytes a second): their length and first bytes.
        let url = l["file_url"].as_str().unwrap();
        let head = app.client.head(url).send().await.unwrap();
        assert_eq!(head.status(), 200);
        assert_eq!(head.headers()["content-length"], l["file_size"].as_u64().unwrap().to_string().as_str());
        let start = app.client.get(url).header("range", "bytes=0-7").send().await.unwrap();
        assert_eq!(&start.bytes().await.unwrap()[4..8], b"ftyp");
    }
    // A recorded class is not recorded twice.
    assert_eq!(req_record(&app, 3003).await["error_code"], -12011);
    rx.stop().await;
    app.stop().await;
}

/// Each sub_cmd and each error code of the document's table, from real input.
#[tokio::test]
async fn every_documented_error_code() {
    let app = spawn(world(None)).await;
    let ok = |v: &Value| v["error_code"] == 0;
    // report_group (real clients send it when a class starts)
    assert!(ok(
        &call(&app, json!({"cmd":"open_record_svc","sub_cmd":"report_group","group_id":"3003"})).await
    ));
    // -9000: nothing to parse / not an object
    let (_, v) = app.post_raw(&record_path(VENDOR_SIG), b"", &[]).await;
    assert_eq!(v["error_code"], -9000, "{v}");
    let (_, v) = app.post_raw(&record_path(VENDOR_SIG), b"[1,2]", &[]).await;
    assert_eq!(v["error_code"], -9000, "{v}");
    // -9002: not standard JSON
    let (_, v) = app.post_raw(&record_path(VENDOR_SIG), b"{cmd: open_record_svc}", &[]).await;
    assert_eq!(v["error_code"], -9002, "{v}");
    // ... though the document's own example, with its `//change` comment, is accepted
    let (_, v) = app
        .post_raw(&record_path(VENDOR_SIG), b"{\n\"cmd\":\"open_record_svc\",\n\"sub_cmd\":\"query_record_result\",\n\"class_roomid\":3003//change\n}", &[])
        .await;
    assert_eq!(v["error_code"], 0, "{v}");
    // -9003: missing, wrong and unknown values
    for body in [
        json!({"sub_cmd": "req_record", "class_roomid": 3003}),
        json!({"cmd": "other", "sub_cmd": "req_record", "class_roomid": 3003}),
        json!({"cmd": "open_record_svc", "sub_cmd": "nope", "class_roomid": 3003}),
        json!({"cmd": "open_record_svc", "sub_cmd": "req_record"}),
        json!({"cmd": "open_record_svc", "sub_cmd": "req_record", "class_roomid": "abc"}),
        json!({"cmd": "open_record_svc", "sub_cmd": "req_record", "class_roomid": 3004}),
        json!({"cmd": "open_record_svc", "sub_cmd": "req_record", "class_roomid": 9999}),
        json!({"cmd": "open_record_svc", "sub_cmd": "query_record_result", "class_roomid": 9999}),
        json!({"cmd": "open_record_svc", "sub_cmd": "report_group"}),
    ] {
        assert_eq!(call(&app, body.clone()).await["error_code"], -9003, "{body}");
    }
    for path in [
        format!("/v4/ilvb_edu/record?identifier=admin&usersig={VENDOR_SIG}&contenttype=json"),
        format!("/v4/ilvb_edu/record?sdkappid=42&identifier=admin&usersig={VENDOR_SIG}&contenttype=json"),
        format!("/v4/ilvb_edu/record?sdkappid={SDKAPPID}&identifier=admin&usersig={VENDOR_SIG}"),
        format!(
            "/v4/ilvb_edu/record?sdkappid={SDKAPPID}&identifier=admin&usersig={VENDOR_SIG}&contenttype=xml"
        ),
        format!("/v4/ilvb_edu/record?sdkappid={SDKAPPID}&identifier=admin&contenttype=json"),
    ] {
        let (_, v) = app
            .post(&path, json!({"cmd":"open_record_svc","sub_cmd":"query_record_result","class_roomid":3003}))
            .await;
        assert_eq!(v["error_code"], -9003, "{path}: {v}");
    }
    // -9004: not an admin
    let (_, v) = app
        .post(
            &format!("/v4/ilvb_edu/record?sdkappid={SDKAPPID}&identifier=student&usersig={VENDOR_SIG}&contenttype=json"),
            json!({"cmd":"open_record_svc","sub_cmd":"query_record_result","class_roomid":3003}),
        )
        .await;
    assert_eq!(v["error_code"], -9004, "{v}");
    // -12011: twice in a row
    assert!(ok(&req_record(&app, 3003).await));
    let v = req_record(&app, 3003).await;
    assert_eq!(v["error_code"], -12011);
    assert!(v["error_msg"].as_str().unwrap().contains("重复操作"));
    // -1: a class still on cannot be recorded yet is -9003; a usersig made with another key is -1
    let bad_sig = recmock::tlssig::sign(SDKAPPID, "another-key", "admin", T0, 86_400);
    let (_, v) = app
        .post(
            &record_path(&bad_sig),
            json!({"cmd":"open_record_svc","sub_cmd":"req_record","class_roomid":3005}),
        )
        .await;
    assert_eq!(v["error_code"], -1, "{v}");
    assert!(v["error_msg"].as_str().unwrap().contains("key"), "{v}");
    // -9001 (a back-end serialisation failure) only through a fault rule, in the vendor's envelope
    let (s, _) = app
        .post(
            "/__admin/faults",
            json!({"match": {"vendor": "ilvb_edu"}, "action": {"error_code": -9001}, "times": 1}),
        )
        .await;
    assert_eq!(s, 201);
    let v = query(&app, 3003).await;
    assert_eq!(v["error_code"], -9001);
    assert_eq!(v["error_msg"], "序列化失败");
    assert_eq!(query(&app, 3003).await["error_code"], 0);
    app.stop().await;
}

/// usersig: the vendor's own vector passes; wrong identifier, wrong app, expired, malformed are refused
/// with the reason; an app set to `any` takes any non-empty signature.
#[tokio::test]
async fn usersig_is_checked_for_real() {
    let app = spawn(world(None)).await;
    let q = json!({"cmd":"open_record_svc","sub_cmd":"query_record_result","class_roomid":3003});
    let sig_for = |id: &str, appid: u64, t: i64| recmock::tlssig::sign(appid, KEY, id, t, 3600);
    let path = |id: &str, sig: &str| {
        format!("/v4/ilvb_edu/record?sdkappid={SDKAPPID}&identifier={id}&usersig={sig}&contenttype=json")
    };
    let (_, v) = app.post(&path("ops", &sig_for("admin", SDKAPPID, T0)), q.clone()).await;
    assert_eq!(v["error_code"], -1);
    assert!(v["error_msg"].as_str().unwrap().contains("identifier"), "{v}");
    let (_, v) = app.post(&path("admin", &sig_for("admin", 1_400_000_002, T0)), q.clone()).await;
    assert!(v["error_msg"].as_str().unwrap().contains("sdkappid"), "{v}");
    let (_, v) = app.post(&path("admin", "garbage"), q.clone()).await;
    assert!(v["error_msg"].as_str().unwrap().contains("malformed"), "{v}");
    let (_, v) = app.post(&path("ops", &sig_for("ops", SDKAPPID, T0)), q.clone()).await;
    assert_eq!(v["error_code"], 0, "{v}");
    app.advance(3600.0).await;
    let (_, v) = app.post(&path("ops", &sig_for("ops", SDKAPPID, T0)), q.clone()).await;
    assert!(v["error_msg"].as_str().unwrap().contains("expired"), "{v}");
    let (_, v) = app
        .post(
            "/v4/ilvb_edu/record?sdkappid=1400000009&identifier=admin&usersig=anything&contenttype=json",
            json!({"cmd":"open_record_svc","sub_cmd":"report_group","group_id":"g"}),
        )
        .await;
    assert_eq!(v["error_code"], 0, "usersig_check any: {v}");
    app.stop().await;
}

/// A failed recording sends a 1001 with a non-zero error_code and empty file fields; the class may be
/// requested again until 7 days after it ended, and not a second later.
#[tokio::test]
async fn failure_and_the_seven_day_window_on_both_sides_of_its_edge() {
    let rx = Receiver::start().await;
    let app = spawn(world(Some(&rx.url))).await;
    assert_eq!(req_record(&app, 3003).await["error_code"], 0);
    app.event(json!({"type": "ilvb_edu.recording_fail", "sdkappid": SDKAPPID, "roomid": 3003, "error_code": 70001, "error_msg": "media lost"}))
        .await;
    app.advance(0.0).await;
    let got = rx.received();
    assert_eq!(got.len(), 1, "never started: no 1000, one failed 1001");
    let b = &got[0].body;
    assert_signed(b);
    assert_eq!((b["event_type"].clone(), b["error_code"].clone()), (json!(1001), json!(70001)));
    assert_eq!(
        (b["file_size"].clone(), b["file_duration"].clone(), b["file_url"].clone()),
        (json!(0), json!(0), json!(""))
    );
    let q = query(&app, 3003).await;
    assert_eq!(q["record_status"], "failed");
    assert_eq!(q["record_files"][0]["error_code"], 70001);
    // The class ended at T0: 7 days minus a second later it can be requested again ...
    app.advance(7.0 * DAY - 1.0).await;
    assert_eq!(req_record(&app, 3003).await["error_code"], 0);
    app.event(json!({"type": "ilvb_edu.recording_fail", "sdkappid": SDKAPPID, "roomid": 3003})).await;
    // ... and at 7 days it is refused.
    app.advance(1.0).await;
    let v = req_record(&app, 3003).await;
    assert_eq!(v["error_code"], -1, "{v}");
    assert!(v["error_msg"].as_str().unwrap().contains("no longer"), "{v}");
    rx.stop().await;
    app.stop().await;
}

/// 200 concurrent req_record for one room: exactly one success, 199 × -12011.
#[tokio::test]
async fn two_hundred_concurrent_requests_one_success() {
    let app = spawn(world(None)).await;
    let body = json!({"cmd": "open_record_svc", "sub_cmd": "req_record", "class_roomid": 3003});
    let path = record_path(VENDOR_SIG);
    let futs = (0..200).map(|_| app.post(&path, body.clone()));
    let results = futures_util::future::join_all(futs).await;
    let codes: Vec<i64> = results.iter().map(|(_, v)| v["error_code"].as_i64().unwrap()).collect();
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1);
    assert_eq!(codes.iter().filter(|c| **c == -12011).count(), 199);
    app.stop().await;
}

/// The receiver fails (500), answers too late, is refused, then accepts: attempts one minute apart, all
/// logged; later callbacks about the same room wait, so the room's events arrive in order. The late answer
/// is a fault rule's latency, counted on recmock's side without waiting: no real time races the delivery
/// timeout, however loaded the machine.
#[tokio::test]
async fn retries_on_500_timeout_and_refusal_then_success_in_order() {
    let rx = Receiver::start().await;
    rx.script([Answer::with(500, "oops"), Answer::ok(), Answer::with(200, r#"{"error_code":1}"#)]);
    let app = spawn(world(Some(&rx.url))).await;
    req_record(&app, 3003).await;
    app.advance(60.0).await;
    let first = &callbacks(&app, "vendor=ilvb_edu&resource=room:3003").await[0];
    assert_eq!(first["attempts"].as_array().map(Vec::len), Some(1), "{first}");
    // The second attempt's answer comes 10 s late: past the delivery timeout (5 s).
    let v = add_fault(
        &app,
        json!({ "match": { "target": "callback", "vendor": "ilvb_edu" }, "action": { "latency_ms": 10_000 }, "times": 1 }),
    )
    .await;
    app.advance(3.0 * 60.0).await;
    let cbs = callbacks(&app, "vendor=ilvb_edu&resource=room:3003").await;
    let first = &cbs[0];
    assert_eq!(first["event"], "1000");
    assert_eq!(first["state"], "delivered");
    let attempts = first["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 4, "{first}");
    assert_eq!(attempts[0]["http_status"], 500);
    assert_eq!(attempts[0]["outcome"], "retry");
    assert!(
        attempts[1]["error"].as_str().unwrap().starts_with("no answer within 5000 ms"),
        "{}",
        attempts[1]
    );
    assert_eq!(attempts[1]["fault"], v["id"], "{}", attempts[1]);
    assert!(attempts[1]["http_status"].is_null(), "{}", attempts[1]);
    assert_eq!(attempts[2]["response"], r#"{"error_code":1}"#);
    assert_eq!(attempts[3]["outcome"], "delivered");
    let times: Vec<i64> = attempts.iter().map(|a| a["virtual_time"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[1] - w[0] == 60), "one minute apart: {times:?}");
    // every 1001 of the room was delivered after the 1000 that preceded it
    let events: Vec<i64> = rx.received().iter().map(|r| r.body["event_type"].as_i64().unwrap()).collect();
    let first_1001 = events.iter().position(|e| *e == 1001).unwrap();
    assert!(events[..first_1001].iter().all(|e| *e == 1000));
    assert!(first_1001 >= 4, "every attempt reached the receiver, the late one too: {events:?}");
    assert_eq!(events.iter().filter(|e| **e == 1001).count(), 3);
    assert!(cbs.iter().all(|c| c["state"] == "delivered"));
    rx.stop().await;
    app.stop().await;
}

/// A callback fault rule's latency under the delivery timeout: the receiver is slow but in time, so the
/// callback is delivered at its first attempt, whose duration counts the latency — and recmock did not
/// wait for it (an advance that had slept a minute would show it).
#[tokio::test]
async fn a_slow_receiver_within_the_timeout_is_delivered_without_waiting() {
    let rx = Receiver::start().await;
    let mut w = world(Some(&rx.url));
    w["callbacks"] = json!({ "timeout_ms": 120_000 });
    let app = spawn(w).await;
    let v = add_fault(
        &app,
        json!({ "match": { "target": "callback", "body": { "event_type": 1000 } }, "action": { "latency_ms": 60_000 } }),
    )
    .await;
    req_record(&app, 3003).await;
    let started = std::time::Instant::now();
    app.advance(60.0).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "{:?}", started.elapsed());
    let cb = &callbacks(&app, "event=1000").await[0];
    let attempts = cb["attempts"].as_array().unwrap();
    assert_eq!((cb["state"].clone(), attempts.len()), (json!("delivered"), 1), "{cb}");
    assert!(attempts[0]["duration_ms"].as_u64().unwrap() >= 60_000, "{}", attempts[0]);
    assert_eq!(attempts[0]["fault"], v["id"]);
    assert_eq!(attempts[0]["http_status"], 200);
    rx.stop().await;
    app.stop().await;
}

/// A receiver that is down: 1 + 10 retries, one minute apart, then `failed`; redeliver sends it again once
/// it is up. Nothing is lost.
#[tokio::test]
async fn dead_receiver_fails_after_eleven_attempts_and_redeliver_recovers() {
    let dead = dead_url();
    let app = spawn(world(Some(&dead))).await;
    req_record(&app, 3005).await;
    app.advance(20.0 * 60.0).await;
    let cbs = callbacks(&app, "event=1000").await;
    assert_eq!(cbs[0]["state"], "failed");
    assert_eq!(cbs[0]["attempts"].as_array().unwrap().len(), 11);
    // the 1001 waited behind it, then was tried on its own
    let all = callbacks(&app, "resource=room:3005").await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[1]["state"], "pending");
    let rx = Receiver::start().await;
    let (s, _) = app
        .post("/__admin/callbacks/url", json!({"tenant": format!("ilvb_edu:{SDKAPPID}"), "url": rx.url}))
        .await;
    assert_eq!(s, 200);
    let id = cbs[0]["id"].as_str().unwrap();
    let (s, v) = app.post(&format!("/__admin/callbacks/{id}/redeliver"), json!({})).await;
    assert_eq!(s, 200, "{v}");
    app.advance(61.0).await;
    let got: Vec<i64> = rx.received().iter().map(|r| r.body["event_type"].as_i64().unwrap()).collect();
    assert!(got.contains(&1000) && got.contains(&1001), "{got:?}");
    assert!(callbacks(&app, "resource=room:3005").await.iter().all(|c| c["state"] == "delivered"));
    let (s, _) = app.post("/__admin/callbacks/cb-999999/redeliver", json!({})).await;
    assert_eq!(s, 404);
    app.stop().await;
}

/// Without a callback URL, callbacks are held (not lost) and go out, in order, once one is registered.
#[tokio::test]
async fn callbacks_wait_for_a_url() {
    let app = spawn(world(None)).await;
    req_record(&app, 3005).await;
    app.advance(60.0).await;
    let held = callbacks(&app, "state=held").await;
    assert_eq!(held.len(), 2);
    let rx = Receiver::start().await;
    let (_, v) = app
        .post("/__admin/callbacks/url", json!({"tenant": format!("ilvb_edu:{SDKAPPID}"), "url": rx.url}))
        .await;
    assert_eq!(v["released"], 2);
    app.advance(0.0).await;
    let got: Vec<i64> = rx.received().iter().map(|r| r.body["event_type"].as_i64().unwrap()).collect();
    assert_eq!(got, vec![1000, 1001]);
    rx.stop().await;
    app.stop().await;
}

/// Fault rules on deliveries: a faked 503 and a dropped connection are retried like real failures.
#[tokio::test]
async fn fault_rules_make_deliveries_fail() {
    let rx = Receiver::start().await;
    let app = spawn(world(Some(&rx.url))).await;
    for action in [json!({"http_status": 503, "body": "busy"}), json!({"drop": true})] {
        let (s, v) = app
            .post(
                "/__admin/faults",
                json!({"match": {"target": "callback", "vendor": "ilvb_edu"}, "action": action, "times": 1}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
    }
    req_record(&app, 3005).await;
    app.advance(200.0).await;
    let cb = &callbacks(&app, "event=1000").await[0];
    let attempts = cb["attempts"].as_array().unwrap();
    assert_eq!(attempts[0]["http_status"], 503);
    assert!(attempts[0]["fault"].is_u64());
    assert!(attempts[1]["error"].as_str().unwrap().contains("dropped"));
    assert_eq!(attempts[2]["outcome"], "delivered");
    assert_eq!(
        rx.received().iter().filter(|r| r.body["event_type"] == 1000).count(),
        1,
        "faked attempts never reached it"
    );
    rx.stop().await;
    app.stop().await;
}

/// Rooms recorded concurrently: each room's callbacks arrive in order (1000 before its 1001s, file ids
/// rising), even while another room's receiver answers fail.
#[tokio::test]
async fn ordering_per_room_under_concurrency() {
    let rx = Receiver::start().await;
    let mut fixture = world(Some(&rx.url));
    let rooms: Vec<Value> = (1..=8)
        .map(|i| json!({"sdkappid": SDKAPPID, "roomid": 5000 + i, "start": -7200 - i * 600, "end": -60}))
        .collect();
    fixture["ilvb_edu"]["classrooms"] = json!(rooms);
    let app = spawn(fixture).await;
    let futs = (1..=8).map(|i| req_record(&app, 5000 + i));
    for v in futures_util::future::join_all(futs).await {
        assert_eq!(v["error_code"], 0);
    }
    rx.script([Answer::with(500, ""), Answer::with(500, "")]);
    app.advance(600.0).await;
    let got = rx.received();
    for i in 1..=8u64 {
        let room = 5000 + i;
        let mine: Vec<&Value> = got
            .iter()
            .map(|r| &r.body)
            .filter(|b| {
                b["class_roomid"] == room
                    || b["roomid_list"].as_array().is_some_and(|l| l.contains(&json!(room)))
            })
            .collect();
        let first_1001 = mine.iter().position(|b| b["event_type"] == 1001).expect("files");
        assert!(mine[..first_1001].iter().all(|b| b["event_type"] == 1000));
        let ids: Vec<i64> = mine[first_1001..].iter().map(|b| b["file_id"].as_i64().unwrap()).collect();
        let mut sorted = ids.clone();
        sorted.dedup();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "room {room}: {ids:?}");
        assert!(mine.last().unwrap()["is_finish"].as_bool().unwrap());
    }
    rx.stop().await;
    app.stop().await;
}

/// Classes come from world events too: class_start / class_end, and the recording of the new class.
#[tokio::test]
async fn classes_from_world_events() {
    let app = spawn(world(None)).await;
    app.event(
        json!({"type": "ilvb_edu.class_start", "sdkappid": SDKAPPID, "roomid": 4001, "members": ["a", "b"]}),
    )
    .await;
    let v = req_record(&app, 4001).await;
    assert_eq!(v["error_code"], -9003, "a class still on: {v}");
    let (s, _) = app
        .post(
            "/__admin/events",
            json!({"type": "ilvb_edu.class_start", "sdkappid": SDKAPPID, "roomid": 4001}),
        )
        .await;
    assert_eq!(s, 409, "a class is already on");
    app.advance(1800.0).await;
    app.event(json!({"type": "ilvb_edu.class_end", "sdkappid": SDKAPPID, "roomid": 4001})).await;
    assert_eq!(req_record(&app, 4001).await["error_code"], 0);
    app.advance(60.0).await;
    let q = query(&app, 4001).await;
    assert_eq!(q["class_starttime"], T0);
    assert_eq!(q["class_endtime"], T0 + 1800);
    assert_eq!(q["record_files"][0]["file_duration"], 1800);
    let (s, _) = app
        .post("/__admin/events", json!({"type": "ilvb_edu.class_end", "sdkappid": SDKAPPID, "roomid": 4001}))
        .await;
    assert_eq!(s, 404);
    let (s, _) = app.post("/__admin/events", json!({"type": "ilvb_edu.nope", "sdkappid": SDKAPPID})).await;
    assert_eq!(s, 400);
    app.stop().await;
}

/// Pending deliveries survive a state-file restart: a callback mid-retry is still retried afterwards.
#[tokio::test]
async fn pending_deliveries_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("recmock-ilvb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state.json");
    let _ = std::fs::remove_file(&state);
    let rx = Receiver::start().await;
    rx.script([Answer::with(500, "")]);
    let fixture = with_clock(world(Some(&rx.url))).to_string();
    let app = spawn_with(Spawn {
        fixtures: vec![fixture.clone()],
        state_file: Some(state.clone()),
        ..Spawn::default()
    })
    .await;
    req_record(&app, 3005).await;
    app.advance(6.0).await; // picked up; the 1000 failed once and waits a minute
    assert_eq!(callbacks(&app, "state=pending").await.len(), 1);
    app.stop().await;
    let app =
        spawn_with(Spawn { fixtures: vec![fixture], state_file: Some(state.clone()), ..Spawn::default() })
            .await;
    let pending = callbacks(&app, "state=pending").await;
    assert_eq!(pending.len(), 1, "still pending after the restart");
    app.advance(120.0).await;
    let events: Vec<i64> = rx.received().iter().map(|r| r.body["event_type"].as_i64().unwrap()).collect();
    assert_eq!(events, vec![1000, 1000, 1001]);
    rx.stop().await;
    app.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A receiver that is down, then comes back up on the same URL: the next retry (one minute later) gets
/// through, and the room's later callbacks follow in order.
#[tokio::test]
async fn a_receiver_that_comes_back_gets_the_next_retry() {
    let url = dead_url();
    let app = spawn(world(Some(&url))).await;
    req_record(&app, 3005).await;
    app.advance(5.0 + 60.0).await; // picked up at +5 s: attempts at +5 and +65 fail
    let cb = &callbacks(&app, "event=1000").await[0];
    assert_eq!(cb["state"], "pending");
    assert_eq!(cb["attempts"].as_array().unwrap().len(), 2);
    assert!(cb["attempts"][0]["error"].as_str().unwrap().contains("refused"), "{cb}");
    let rx = Receiver::start_at(&url).await;
    app.advance(60.0).await;
    let cb = &callbacks(&app, "event=1000").await[0];
    assert_eq!(cb["state"], "delivered");
    let attempts = cb["attempts"].as_array().unwrap();
    assert_eq!((attempts.len(), attempts[2]["virtual_time"].clone()), (3, json!(T0 + 125)));
    let events: Vec<i64> = rx.received().iter().map(|r| r.body["event_type"].as_i64().unwrap()).collect();
    assert_eq!(events, vec![1000, 1001]);
    rx.stop().await;
    app.stop().await;
}

/// The callback log is bounded (issue 19): beyond `--callbacks-undelivered` the oldest held callbacks are
/// evicted and counted, each callback keeps its latest
/// `--callback-attempts` attempts and counts the rest, and evicting the head of a resource lets the next
/// callback of that resource go.
#[tokio::test]
async fn the_callback_log_stays_within_its_caps_and_counts_what_it_evicted() {
    let limits =
        recmock::Limits { undelivered_callbacks: 3, callback_attempts: 2, ..recmock::Limits::default() };
    let app =
        spawn_with(Spawn { fixtures: vec![with_clock(world(None)).to_string()], limits, ..Spawn::default() })
            .await;
    req_record(&app, 3003).await;
    req_record(&app, 3005).await;
    app.advance(60.0).await;
    // 1000 for both rooms, three 1001 for 3003 and one for 3005: five held, the two oldest evicted.
    let (s, v) = app.get("/__admin/callbacks").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["count"], 3, "{v}");
    assert_eq!(v["evicted"], json!({"held": 2, "pending": 0, "failed": 0, "delivered": 0}));
    assert!(v["callbacks"].as_array().unwrap().iter().all(|c| c["state"] == "held"), "{v}");
    // The dump carries the count.
    let (_, dump) = app.get("/__admin/state").await;
    assert_eq!(dump["outbox"]["evicted"]["held"], 2, "{}", dump["outbox"]);
    // A receiver that is down: eleven attempts, the latest two kept and nine counted.
    let (s, _) = app
        .post("/__admin/callbacks/url", json!({"tenant": format!("ilvb_edu:{SDKAPPID}"), "url": dead_url()}))
        .await;
    assert_eq!(s, 200);
    app.advance(40.0 * 60.0).await;
    let (_, v) = app.get("/__admin/callbacks?state=failed").await;
    let failed = v["callbacks"].as_array().unwrap();
    assert!(!failed.is_empty(), "{v}");
    for c in failed {
        assert_eq!(c["attempts"].as_array().unwrap().len(), 2, "{c}");
        assert_eq!(c["attempts_dropped"], 9, "{c}");
        assert_eq!(c["attempts"][1]["n"], 11, "{c}");
    }
    app.stop().await;
}

/// `--max-fault-rules`: a rule beyond it is refused with 409 and a message naming the flag.
#[tokio::test]
async fn fault_rules_beyond_the_cap_are_refused() {
    let limits = recmock::Limits { fault_rules: 1, ..recmock::Limits::default() };
    let app =
        spawn_with(Spawn { fixtures: vec![with_clock(world(None)).to_string()], limits, ..Spawn::default() })
            .await;
    let rule = json!({"action": {"latency_ms": 1}});
    add_fault(&app, rule.clone()).await;
    let (s, v) = app.post("/__admin/faults", rule.clone()).await;
    assert_eq!(s, 409, "{v}");
    assert!(v.to_string().contains("--max-fault-rules"), "{v}");
    let (s, _) = app.send(app.client.delete(format!("{}/__admin/faults/1", app.url))).await;
    assert_eq!(s, 200);
    add_fault(&app, rule).await;
    app.stop().await;
}
