//! Seed 004, the TIC PaaS API (`/paas/v1/*`), over HTTP against a real server on a frozen virtual clock.
use crate::common::*;
use serde_json::{json, Value};

const APP: u64 = 1_400_127_140;
const KEY: &str = "DzXpbluRsmo1JkoFxzKMNg5ifrA4GRlU";
/// A signature expiry far enough ahead for every test's virtual time.
const EXPIRE: i64 = T0 + 30 * 86_400;

fn sign(key: &str, expire: i64) -> String {
    md5_hex(format!("{key}{expire}").as_bytes())
}

fn signed_path(api: &str) -> String {
    format!("/paas/v1/{api}?sdkappid={APP}&random=7&sign={}", sign(KEY, EXPIRE))
}

/// An app with a teacher and three students (and whatever `extra` adds at the top level).
fn world(extra: Value) -> Value {
    let mut f = json!({
        "iclass": {
            "apps": [{ "sdkappid": APP, "tic_key": KEY }],
            "users": [
                { "sdkappid": APP, "user_id": "t1", "role": "teacher", "regist_time": T0 - 100 },
                { "sdkappid": APP, "user_id": "s1", "role": "student", "regist_time": T0 - 100 },
                { "sdkappid": APP, "user_id": "s2", "role": "student", "regist_time": T0 - 100 },
                { "sdkappid": APP, "user_id": "s3", "role": "student", "regist_time": T0 - 100 }
            ]
        }
    });
    if let Value::Object(m) = extra {
        for (k, v) in m {
            if k == "app" {
                for (ak, av) in v.as_object().unwrap() {
                    f["iclass"]["apps"][0][ak] = av.clone();
                }
            } else {
                f[k] = v;
            }
        }
    }
    f
}

/// Call an endpoint with valid common parameters; the answer must be HTTP 200 JSON.
async fn tic(app: &TestApp, api: &str, mut body: Value) -> Value {
    body["expire_time"] = json!(EXPIRE);
    let (s, v) = app.post(&signed_path(api), body).await;
    assert_eq!(s, 200, "{api}: {v}");
    v
}

/// Call an endpoint and insist on success.
async fn ok(app: &TestApp, api: &str, body: Value) -> Value {
    let v = tic(app, api, body.clone()).await;
    assert_eq!(v["error_code"], 0, "{api} {body}: {v}");
    assert_eq!(v["error_msg"], "", "{v}");
    v
}

/// Call an endpoint and insist on the refusal `code`; returns the answer.
async fn refused(app: &TestApp, api: &str, body: Value, code: i64) -> Value {
    let v = tic(app, api, body.clone()).await;
    assert_eq!(v["error_code"], code, "{api} {body}: {v}");
    assert!(!v["error_msg"].as_str().unwrap().is_empty(), "{v}");
    v
}

async fn raw(app: &TestApp, query: &str, body: &[u8]) -> (u16, Value) {
    app.post_raw(&format!("/paas/v1/user/list?{query}"), body, &[("content-type", "application/json")]).await
}

async fn create_class(app: &TestApp, body: Value) -> u64 {
    ok(app, "class/create", body).await["class_id"].as_u64().unwrap()
}

async fn class_info(app: &TestApp, class_id: u64) -> Value {
    ok(app, "class/info", json!({ "class_id": class_id })).await
}

/// Run what is due now (with the clock frozen nothing runs by itself) and return the callback log.
async fn settle(app: &TestApp) -> Vec<Value> {
    app.advance(0.0).await;
    app.get("/__admin/callbacks?vendor=iclass").await.1["callbacks"].as_array().unwrap().clone()
}

/// Advance the virtual clock, then settle the deliveries that fell due.
async fn advance(app: &TestApp, seconds: f64) -> Value {
    let v = app.advance(seconds).await;
    settle(app).await;
    v
}

// ----- common parameters --------------------------------------------------------------------------

#[tokio::test]
async fn every_call_checks_sdkappid_random_sign_and_expiry_in_that_order() {
    let app = spawn(world(json!({}))).await;
    let body = json!({ "expire_time": EXPIRE }).to_string();
    let good = sign(KEY, EXPIRE);
    let cases: Vec<(String, String, i64)> = vec![
        (format!("random=1&sign={good}"), body.clone(), 10000),
        (format!("sdkappid=abc&random=1&sign={good}"), body.clone(), 10000),
        (format!("sdkappid={APP}&sign={good}"), body.clone(), 10000),
        // `random` is any string of 1 to 32 characters (PHP's `uniqid()` sends hex): empty or longer is 10000.
        (format!("sdkappid={APP}&random=&sign={good}"), body.clone(), 10000),
        (format!("sdkappid={APP}&random={}&sign={good}", "x".repeat(33)), body.clone(), 10000),
        (format!("sdkappid={APP}&random=1&expire_time=soon&sign={good}"), body.clone(), 10000),
        (format!("sdkappid=1400000000&random=1&sign={good}"), body.clone(), 10270),
        (format!("sdkappid={APP}&random=1"), body.clone(), 10217),
        (format!("sdkappid={APP}&random=1&sign="), body.clone(), 10217),
        (format!("sdkappid={APP}&random=1&sign={}", sign("wrong-key", EXPIRE)), body.clone(), 10217),
        (format!("sdkappid={APP}&random=1&sign={}", sign(KEY, EXPIRE + 1)), body.clone(), 10217),
        (format!("sdkappid={APP}&random=1&sign={good}"), "{}".into(), 10217),
        (format!("sdkappid={APP}&random=1&sign={good}"), json!({"expire_time": "soon"}).to_string(), 10000),
        (format!("sdkappid={APP}&random=1&sign={good}"), "".into(), 10002),
        (format!("sdkappid={APP}&random=1&sign={good}"), "{\"expire_time\":".into(), 10002),
        (format!("sdkappid={APP}&random=1&sign={good}"), "[1,2]".into(), 10002),
        (
            format!("sdkappid={APP}&random=1&sign={good}"),
            json!({"expire_time": EXPIRE, "size": "ten"}).to_string(),
            10000,
        ),
        (
            format!("sdkappid={APP}&random=1&sign={}", sign(KEY, T0)),
            json!({ "expire_time": T0 }).to_string(),
            10216,
        ),
        (
            format!("sdkappid={APP}&random=1&sign={}", sign(KEY, T0 - 1)),
            json!({ "expire_time": T0 - 1 }).to_string(),
            10216,
        ),
    ];
    for (query, body, code) in cases {
        let (s, v) = raw(&app, &query, body.as_bytes()).await;
        assert_eq!(s, 200, "{query} {body}: {v}");
        assert_eq!(v["error_code"], code, "{query} {body}: {v}");
        assert!(v["error_msg"].as_str().unwrap().len() > 5, "{v}");
    }
    // The field of the wrong type is named.
    let (_, v) = raw(
        &app,
        &format!("sdkappid={APP}&random=1&sign={good}"),
        json!({"expire_time": EXPIRE, "size": "ten"}).to_string().as_bytes(),
    )
    .await;
    assert!(v["error_msg"].as_str().unwrap().contains("size"), "{v}");
    // Good: lowercase or uppercase hex, and the document's trailing commas are tolerated.
    let (_, v) = raw(&app, &format!("sdkappid={APP}&random=1&sign={good}"), body.as_bytes()).await;
    assert_eq!(v["error_code"], 0, "{v}");
    let (_, v) =
        raw(&app, &format!("sdkappid={APP}&random=1&sign={}", good.to_uppercase()), body.as_bytes()).await;
    assert_eq!(v["error_code"], 0, "{v}");
    let trailing = format!("{{\"expire_time\": {EXPIRE}, \"roles\": [\"student\",],\n}}");
    let (_, v) = raw(&app, &format!("sdkappid={APP}&random=1&sign={good}"), trailing.as_bytes()).await;
    assert_eq!(v["error_code"], 0, "{v}");
    assert_eq!(v["total"], 3, "{v}");
    // A signature that was valid expires when virtual time passes it.
    let soon = T0 + 60;
    let q = format!("sdkappid={APP}&random=1&sign={}", sign(KEY, soon));
    let b = json!({ "expire_time": soon }).to_string();
    assert_eq!(raw(&app, &q, b.as_bytes()).await.1["error_code"], 0);
    app.advance(60.0).await;
    assert_eq!(raw(&app, &q, b.as_bytes()).await.1["error_code"], 10216);
    // The seed's worked example: sign 28374bd8... of expire_time 1548247837 is right, but long expired.
    let (_, v) = raw(
        &app,
        &format!("sdkappid={APP}&random=37926&sign=28374bd8cff400ac4906414780fbe387"),
        b"{\"expire_time\":1548247837}",
    )
    .await;
    assert_eq!(v["error_code"], 10216, "{v}");
    // Wrong method: JSON 405.
    let (s, _) = app.get(&signed_path("class/list")).await;
    assert_eq!(s, 405);
    app.stop().await;
}

#[tokio::test]
async fn an_oversize_body_is_refused_with_10005() {
    let app = spawn_with(Spawn {
        fixtures: vec![with_clock(world(json!({}))).to_string()],
        max_body_bytes: 256,
        ..Spawn::default()
    })
    .await;
    let big = json!({ "expire_time": EXPIRE, "prefix": "x".repeat(400) }).to_string();
    let (s, v) = app.post_raw(&signed_path("user/list"), big.as_bytes(), &[]).await;
    assert_eq!(s, 413);
    assert_eq!(v["error_code"], 10005, "{v}");
    app.stop().await;
}

#[tokio::test]
async fn internal_failures_come_from_fault_rules_in_the_vendor_envelope() {
    let app = spawn(world(json!({}))).await;
    let (s, v) = app
        .post(
            "/__admin/faults",
            json!({ "match": { "vendor": "iclass", "path": "/paas/v1/class/create" }, "action": { "error_code": 10222 }, "times": 1 }),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let v = refused(&app, "class/create", json!({ "teacher_id": "t1" }), 10222).await;
    assert_eq!(v["error_msg"], "failed to generate a class id");
    ok(&app, "class/create", json!({ "teacher_id": "t1" })).await;
    app.post("/__admin/faults", json!({ "match": { "vendor": "iclass" }, "action": { "error_code": 10280, "error_msg": "IM down" }, "times": 1 })).await;
    let v = refused(&app, "user/list", json!({}), 10280).await;
    assert_eq!(v["error_msg"], "failed to create the IM group: IM down");
    app.stop().await;
}

// ----- classes ------------------------------------------------------------------------------------

#[tokio::test]
async fn class_create_applies_the_documented_defaults() {
    let app = spawn(world(json!({}))).await;
    let v = ok(&app, "class/create", json!({ "teacher_id": "t1" })).await;
    let id = v["class_id"].as_u64().unwrap();
    assert_eq!(id.to_string().len(), 9, "{v}");
    // The vendor's classroom path, under the address the request came in on; recmock serves the page.
    assert_eq!(v["teacher_url"], format!("{}/{APP}/{id}/0", app.url));
    assert_eq!(v["student_url"], format!("{}/{APP}/{id}/1", app.url));
    for (url, role) in [(&v["teacher_url"], "teacher"), (&v["student_url"], "student")] {
        let resp = app.client.get(url.as_str().unwrap()).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let page = resp.text().await.unwrap();
        assert!(page.contains(&format!("the {role} view of class {id}")) && page.contains("t1"), "{page}");
    }
    let (s, v) = app.get(&format!("/{APP}/999999999/0")).await;
    assert_eq!((s, &v["error_code"]), (404, &json!(10230)), "{v}");
    let (s, _) = app.get(&format!("/1/{id}/1")).await;
    assert_eq!(s, 404);
    let info = class_info(&app, id).await;
    let expected = json!({
        "error_code": 0, "error_msg": "",
        "class_id": id, "class_topic": id.to_string(), "class_type": "public", "class_status": "will",
        "teacher_id": "t1", "create_time": T0, "start_time": T0, "stop_time": T0 + 7200,
        "real_start_time": 0, "real_stop_time": 0, "member_count": 1,
        "chat_group_id": format!("{id}_chat"), "cmd_group_id": id.to_string(),
        "settings": { "resolution": "1024x768", "fps": 20, "layout": 1, "record_types": ["local"] },
        "members": [{ "role": "teacher", "user_id": "t1" }]
    });
    assert_eq!(info, expected);
    // Everything given: the seed's own example (start == stop, settings.record_types).
    let id = create_class(
        &app,
        json!({
            "teacher_id": "t1", "class_topic": "课堂主题", "class_type": "1vN",
            "start_time": 1558350988, "stop_time": 1558350988,
            "members": [{ "role": "student", "user_id": "s1" }, { "role": "student", "user_id": "s2" }],
            "settings": { "record_types": ["local", "remote"] },
            "record_user_id": "tic_recorduser_1234_01", "record_user_sig": "user_sig"
        }),
    )
    .await;
    let info = class_info(&app, id).await;
    assert_eq!(info["class_topic"], "课堂主题");
    assert_eq!(info["class_type"], "1vN");
    assert_eq!(info["start_time"], 1558350988);
    assert_eq!(info["stop_time"], 1558350988);
    assert_eq!(info["member_count"], 3);
    assert_eq!(info["settings"]["record_types"], json!(["local", "remote"]));
    assert_eq!(
        info["members"],
        json!([{ "role": "teacher", "user_id": "t1" }, { "role": "student", "user_id": "s1" }, { "role": "student", "user_id": "s2" }])
    );
    // The top-level record_types of the request table works as well; start alone sets stop = start + 2 h.
    let id =
        create_class(&app, json!({ "teacher_id": "t1", "record_types": ["local"], "start_time": T0 + 600 }))
            .await;
    let info = class_info(&app, id).await;
    assert_eq!(info["stop_time"], T0 + 600 + 7200);
    assert_eq!(info["settings"]["record_types"], json!(["local"]));
    app.stop().await;
}

#[tokio::test]
async fn class_create_refuses_bad_parameters_with_the_vendor_codes() {
    let app = spawn(world(json!({}))).await;
    let cases = [
        (json!({}), 10003),
        (json!({ "teacher_id": "" }), 10003),
        (json!({ "teacher_id": 5 }), 10000),
        (json!({ "teacher_id": "nobody" }), 10215),
        (json!({ "teacher_id": "t1", "class_type": "private" }), 10003),
        (json!({ "teacher_id": "t1", "start_time": T0, "stop_time": T0 - 1 }), 10003),
        (json!({ "teacher_id": "t1", "start_time": -5 }), 10003),
        (json!({ "teacher_id": "t1", "start_time": "now" }), 10000),
        (json!({ "teacher_id": "t1", "members": [{ "role": "student", "user_id": "ghost" }] }), 10215),
        (json!({ "teacher_id": "t1", "members": [{ "role": "assistant", "user_id": "s1" }] }), 10003),
        (json!({ "teacher_id": "t1", "members": [{ "user_id": "s1" }] }), 10003),
        (json!({ "teacher_id": "t1", "members": [{ "role": "student" }] }), 10003),
        (json!({ "teacher_id": "t1", "members": [{ "role": "student", "user_id": "t1" }] }), 10003),
        (
            json!({ "teacher_id": "t1", "members": [{ "role": "student", "user_id": "s1" }, { "role": "student", "user_id": "s1" }] }),
            10003,
        ),
        (json!({ "teacher_id": "t1", "members": "s1" }), 10000),
        (
            json!({ "teacher_id": "t1", "class_type": "1v1", "members": [{ "role": "student", "user_id": "s1" }, { "role": "student", "user_id": "s2" }] }),
            10003,
        ),
        (json!({ "teacher_id": "t1", "record_types": ["cloud"] }), 10003),
        (
            json!({ "teacher_id": "t1", "record_types": ["remote"], "settings": { "record_types": ["local"] } }),
            10003,
        ),
        (json!({ "teacher_id": "t1", "record_types": ["remote"] }), 10003),
        (
            json!({ "teacher_id": "t1", "record_types": ["remote"], "record_user_id": "tic_recorduser9_1" }),
            10003,
        ),
        (json!({ "teacher_id": "t1", "record_types": ["remote"], "record_user_sig": "sig" }), 10003),
        (
            json!({ "teacher_id": "t1", "record_types": ["remote"], "record_user_id": "recorder_1", "record_user_sig": "sig" }),
            10003,
        ),
        (
            json!({ "teacher_id": "t1", "record_types": ["remote"], "record_user_id": "tic_recorduser", "record_user_sig": "sig" }),
            10003,
        ),
        (
            json!({ "teacher_id": "t1", "record_types": ["remote"], "record_user_id": "tic_recorduser_1", "record_user_sig": "" }),
            10003,
        ),
    ];
    for (body, code) in cases {
        refused(&app, "class/create", body, code).await;
    }
    // A member listed as the teacher (as class/info lists it) is accepted.
    let id = create_class(
        &app,
        json!({ "teacher_id": "t1", "class_type": "1v1", "members": [{ "role": "teacher", "user_id": "t1" }, { "role": "student", "user_id": "s1" }] }),
    )
    .await;
    assert_eq!(class_info(&app, id).await["member_count"], 2);
    // The recorder's user id must not repeat among classes that have not ended.
    let rec = json!({ "teacher_id": "t1", "record_types": ["remote"], "record_user_id": "tic_recorduser_a", "record_user_sig": "sig" });
    create_class(&app, rec.clone()).await;
    refused(&app, "class/create", rec, 10214).await;
    refused(
        &app,
        "class/create",
        json!({ "teacher_id": "t1", "members": [{ "role": "student", "user_id": "s1" }], "record_user_id": "s1" }),
        10003,
    )
    .await;
    // Nothing was created by the refusals: 2 classes exist.
    assert_eq!(ok(&app, "class/list", json!({})).await["total"], 2);
    app.stop().await;
}

#[tokio::test]
async fn record_user_sig_is_a_real_tls_signature_when_the_app_has_a_key() {
    let sdk_key = "demo-tic-sdk-key-000000000000000000000000000000000000000000000000";
    let app =
        spawn(world(json!({ "app": { "sdk_key": sdk_key }, "timings": { "video_bytes_per_s": 100 } }))).await;
    let r = Receiver::start().await;
    app.post("/__admin/callbacks/url", json!({ "tenant": format!("iclass:{APP}"), "url": r.url })).await;
    let rid = "tic_recorduser_77";
    let body = |sig: &str| json!({ "teacher_id": "t1", "record_types": ["remote"], "record_user_id": rid, "record_user_sig": sig });
    let v = refused(&app, "class/create", body("garbage"), 10003).await;
    assert!(v["error_msg"].as_str().unwrap().contains("malformed"), "{v}");
    let other = recmock::tlssig::sign(APP, sdk_key, "someone_else", T0, 3600);
    let v = refused(&app, "class/create", body(&other), 10003).await;
    assert!(v["error_msg"].as_str().unwrap().contains("identifier"), "{v}");
    let wrong_key = recmock::tlssig::sign(APP, "another-key", rid, T0, 3600);
    refused(&app, "class/create", body(&wrong_key), 10003).await;
    let expired = recmock::tlssig::sign(APP, sdk_key, rid, T0 - 7200, 3600);
    let v = refused(&app, "class/create", body(&expired), 10003).await;
    assert!(v["error_msg"].as_str().unwrap().contains("expired"), "{v}");
    // Valid for one hour: the class is created; begun two hours later the recorder cannot log in.
    let short = recmock::tlssig::sign(APP, sdk_key, rid, T0, 3600);
    let id = create_class(&app, body(&short)).await;
    app.advance(7200.0).await;
    app.event(json!({ "type": "iclass.class_begin", "sdkappid": APP, "class_id": id })).await;
    settle(&app).await;
    let got = r.received();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1].body["event"], "online_record_start");
    assert_eq!(got[1].body["data"]["error_code"], 10211, "{:?}", got[1].body);
    assert!(got[1].body["data"]["error_msg"].as_str().unwrap().contains("expired"));
    // No recording, so ending the class sends class_over and nothing else.
    app.event(json!({ "type": "iclass.class_over", "sdkappid": APP, "class_id": id })).await;
    advance(&app, 600.0).await;
    let events: Vec<Value> = r.received().iter().map(|x| x.body["event"].clone()).collect();
    assert_eq!(events, vec![json!("class_begin"), json!("online_record_start"), json!("class_over")]);
    r.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn class_modify_changes_only_the_fields_present_and_never_a_class_in_progress() {
    let app = spawn(world(json!({}))).await;
    let id = create_class(
        &app,
        json!({ "teacher_id": "t1", "class_topic": "old", "members": [{ "role": "student", "user_id": "s1" }, { "role": "student", "user_id": "s2" }] }),
    )
    .await;
    ok(
        &app,
        "class/modify",
        json!({ "class_id": id, "class_topic": "新的课堂主题", "stop_time": T0 + 9000 }),
    )
    .await;
    let info = class_info(&app, id).await;
    assert_eq!(info["class_topic"], "新的课堂主题");
    assert_eq!(info["stop_time"], T0 + 9000);
    assert_eq!(info["start_time"], T0);
    assert_eq!(info["member_count"], 3);
    // members are replaced whole.
    ok(&app, "class/modify", json!({ "class_id": id, "members": [{ "role": "student", "user_id": "s3" }] }))
        .await;
    let info = class_info(&app, id).await;
    assert_eq!(
        info["members"],
        json!([{ "role": "teacher", "user_id": "t1" }, { "role": "student", "user_id": "s3" }])
    );
    // A new teacher: the old one is no longer a member; a student who becomes the teacher is one once.
    ok(&app, "class/modify", json!({ "class_id": id, "teacher_id": "s3" })).await;
    let info = class_info(&app, id).await;
    assert_eq!(info["teacher_id"], "s3");
    assert_eq!(info["members"], json!([{ "role": "teacher", "user_id": "s3" }]));
    // An empty change changes nothing; an empty topic goes back to the default.
    ok(&app, "class/modify", json!({ "class_id": id })).await;
    ok(&app, "class/modify", json!({ "class_id": id, "class_topic": "" })).await;
    assert_eq!(class_info(&app, id).await["class_topic"], id.to_string());
    // Refusals.
    refused(&app, "class/modify", json!({}), 10003).await;
    refused(&app, "class/modify", json!({ "class_id": "abc" }), 10000).await;
    refused(&app, "class/modify", json!({ "class_id": 123456789 }), 10230).await;
    refused(&app, "class/modify", json!({ "class_id": id, "teacher_id": "ghost" }), 10215).await;
    refused(&app, "class/modify", json!({ "class_id": id, "stop_time": T0 - 10 }), 10003).await;
    refused(&app, "class/modify", json!({ "class_id": id, "record_types": ["remote"] }), 10003).await;
    refused(&app, "class/modify", json!({ "class_id": id, "class_type": "2v2" }), 10003).await;
    ok(
        &app,
        "class/modify",
        json!({ "class_id": id, "record_types": ["remote"], "record_user_id": format!("tic_recorduser{id}_1"), "record_user_sig": "s" }),
    )
    .await;
    assert_eq!(class_info(&app, id).await["settings"]["record_types"], json!(["remote"]));
    // In progress: no modify, no delete (10223); after the end both are allowed again.
    app.event(json!({ "type": "iclass.class_begin", "sdkappid": APP, "class_id": id })).await;
    refused(&app, "class/modify", json!({ "class_id": id, "class_topic": "x" }), 10223).await;
    refused(&app, "class/delete", json!({ "class_id": id }), 10223).await;
    app.event(json!({ "type": "iclass.class_over", "sdkappid": APP, "class_id": id })).await;
    ok(&app, "class/modify", json!({ "class_id": id, "class_topic": "after" })).await;
    assert_eq!(class_info(&app, id).await["class_topic"], "after");
    ok(&app, "class/delete", json!({ "class_id": id })).await;
    refused(&app, "class/info", json!({ "class_id": id }), 10230).await;
    refused(&app, "class/delete", json!({ "class_id": id }), 10230).await;
    refused(&app, "class/delete", json!({}), 10003).await;
    refused(&app, "class/info", json!({}), 10003).await;
    refused(&app, "class/info", json!({ "class_id": -3 }), 10003).await;
    app.stop().await;
}

#[tokio::test]
async fn class_status_follows_the_client_component_events() {
    let app = spawn(world(json!({}))).await;
    let id = create_class(&app, json!({ "teacher_id": "t1", "class_type": "1vN", "members": [{ "role": "student", "user_id": "s1" }] })).await;
    assert_eq!(class_info(&app, id).await["class_status"], "will");
    // Ending a class that has not begun is refused.
    let (s, _) = app
        .post("/__admin/events", json!({ "type": "iclass.class_over", "sdkappid": APP, "class_id": id }))
        .await;
    assert_eq!(s, 409);
    app.advance(90.0).await;
    app.event(json!({ "type": "iclass.class_begin", "sdkappid": APP, "class_id": id })).await;
    let info = class_info(&app, id).await;
    assert_eq!(info["class_status"], "ing");
    assert_eq!(info["real_start_time"], T0 + 90);
    // Only members enter a 1vN class.
    let (s, v) = app
        .post(
            "/__admin/events",
            json!({ "type": "iclass.join_class", "sdkappid": APP, "class_id": id, "user_id": "s2" }),
        )
        .await;
    assert_eq!(s, 409, "{v}");
    assert!(v["error"].as_str().unwrap().contains("10203"), "{v}");
    app.event(json!({ "type": "iclass.join_class", "sdkappid": APP, "class_id": id, "user_id": "s1", "video_types": [0] })).await;
    let (s, _) = app
        .post("/__admin/events", json!({ "type": "iclass.class_begin", "sdkappid": APP, "class_id": id }))
        .await;
    assert_eq!(s, 409);
    let close = json!({ "type": "iclass.stream_close", "sdkappid": APP, "class_id": id, "user_id": "s1", "video_type": 1 });
    assert_eq!(app.post("/__admin/events", close).await.0, 404);
    let quit = json!({ "type": "iclass.quit_class", "sdkappid": APP, "class_id": id, "user_id": "t1" });
    assert_eq!(app.post("/__admin/events", quit.clone()).await.0, 404);
    let v = app.event(json!({ "type": "iclass.stream_open", "sdkappid": APP, "class_id": id, "user_id": "t1", "video_type": 1 })).await;
    assert_eq!(v["applied"][0]["already_open"], false, "{v}");
    app.event(quit).await;
    app.advance(3000.0).await;
    app.event(json!({ "type": "iclass.class_over", "sdkappid": APP, "class_id": id })).await;
    let info = class_info(&app, id).await;
    assert_eq!(info["class_status"], "end");
    assert_eq!(info["real_stop_time"], T0 + 3090);
    // Joining an ended class: 10224.
    let (s, v) = app
        .post(
            "/__admin/events",
            json!({ "type": "iclass.join_class", "sdkappid": APP, "class_id": id, "user_id": "s1" }),
        )
        .await;
    assert_eq!(s, 409);
    assert!(v["error"].as_str().unwrap().contains("10224"), "{v}");
    let (s, _) = app
        .post("/__admin/events", json!({ "type": "iclass.class_begin", "sdkappid": APP, "class_id": id }))
        .await;
    assert_eq!(s, 409);
    // Unknown ids and malformed events.
    let (s, _) = app
        .post("/__admin/events", json!({ "type": "iclass.class_begin", "sdkappid": APP, "class_id": 1 }))
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .post("/__admin/events", json!({ "type": "iclass.class_begin", "sdkappid": 99, "class_id": id }))
        .await;
    assert_eq!(s, 404);
    let (s, _) = app.post("/__admin/events", json!({ "type": "iclass.stream_open", "sdkappid": APP, "class_id": id, "user_id": "s1", "video_type": 2 })).await;
    assert_eq!(s, 400);
    let (s, _) = app
        .post(
            "/__admin/events",
            json!({ "type": "iclass.class_begin", "sdkappid": APP, "class_id": id, "extra": 1 }),
        )
        .await;
    assert_eq!(s, 400);
    app.stop().await;
}

#[tokio::test]
async fn class_list_filters_sorts_and_pages_exactly() {
    let app = spawn(world(json!({}))).await;
    // No classes at all: 10221, with an empty page so clients that ignore the code still work.
    let v = refused(&app, "class/list", json!({}), 10221).await;
    assert_eq!(
        (v["finish"].clone(), v["total"].clone(), v["list"].clone()),
        (json!(true), json!(0), json!([]))
    );
    let mut ids = Vec::new();
    let specs = [
        json!({ "teacher_id": "t1", "class_type": "public" }),
        json!({ "teacher_id": "t1", "class_type": "1v1", "members": [{ "role": "student", "user_id": "s1" }] }),
        json!({ "teacher_id": "t1", "class_type": "1vN", "members": [{ "role": "student", "user_id": "s1" }, { "role": "student", "user_id": "s2" }] }),
        json!({ "teacher_id": "s3", "class_type": "1vN" }),
        json!({ "teacher_id": "t1" }),
    ];
    for spec in specs {
        ids.push(create_class(&app, spec).await);
        app.advance(10.0).await;
    }
    app.event(json!({ "type": "iclass.class_begin", "sdkappid": APP, "class_id": ids[1] })).await;
    app.event(json!({ "type": "iclass.class_begin", "sdkappid": APP, "class_id": ids[2] })).await;
    app.event(json!({ "type": "iclass.class_over", "sdkappid": APP, "class_id": ids[2] })).await;
    let list_ids = |v: &Value| {
        v["list"].as_array().unwrap().iter().map(|c| c["class_id"].as_u64().unwrap()).collect::<Vec<_>>()
    };
    // Default: newest first, all, 100 a page.
    let v = ok(&app, "class/list", json!({})).await;
    assert_eq!((v["total"].clone(), v["finish"].clone()), (json!(5), json!(true)));
    assert_eq!(list_ids(&v), ids.iter().rev().copied().collect::<Vec<_>>());
    let row = &v["list"][4];
    assert_eq!(
        row,
        &json!({ "class_id": ids[0], "class_topic": ids[0].to_string(), "class_type": "public", "class_status": "will",
                 "teacher_id": "t1", "create_time": T0, "start_time": T0, "stop_time": T0 + 7200 })
    );
    let v = ok(&app, "class/list", json!({ "create_time_desc": false })).await;
    assert_eq!(list_ids(&v), ids);
    // Filters.
    let v = ok(&app, "class/list", json!({ "class_status": ["ing"] })).await;
    assert_eq!(list_ids(&v), vec![ids[1]]);
    let v =
        ok(&app, "class/list", json!({ "class_status": ["ing", "end"], "create_time_desc": false })).await;
    assert_eq!(list_ids(&v), vec![ids[1], ids[2]]);
    let v = ok(&app, "class/list", json!({ "class_type": ["1vN"], "create_time_desc": false })).await;
    assert_eq!(list_ids(&v), vec![ids[2], ids[3]]);
    let v = ok(&app, "class/list", json!({ "class_status": [], "class_type": [] })).await;
    assert_eq!(v["total"], 5);
    let v = ok(&app, "class/list", json!({ "user_id": "s1", "create_time_desc": false })).await;
    assert_eq!(list_ids(&v), vec![ids[1], ids[2]]);
    let v = ok(&app, "class/list", json!({ "user_id": "s3" })).await;
    assert_eq!(list_ids(&v), vec![ids[3]]);
    let v =
        ok(&app, "class/list", json!({ "user_id": "", "class_type": ["public"], "class_status": ["will"] }))
            .await;
    assert_eq!(list_ids(&v), vec![ids[4], ids[0]]);
    // A filter that matches nothing: an empty, finished page (not 10221: the app has classes).
    let v = ok(&app, "class/list", json!({ "class_type": ["1v1"], "class_status": ["end"] })).await;
    assert_eq!(
        (v["finish"].clone(), v["total"].clone(), v["list"].clone()),
        (json!(true), json!(0), json!([]))
    );
    // Paging: partial last page, exact multiple, beyond the end.
    let asc = |index: i64, size: i64| json!({ "index": index, "size": size, "create_time_desc": false });
    let v = ok(&app, "class/list", asc(0, 2)).await;
    assert_eq!(
        (list_ids(&v), v["finish"].clone(), v["total"].clone()),
        (ids[0..2].to_vec(), json!(false), json!(5))
    );
    let v = ok(&app, "class/list", asc(1, 2)).await;
    assert_eq!((list_ids(&v), v["finish"].clone()), (ids[2..4].to_vec(), json!(false)));
    let v = ok(&app, "class/list", asc(2, 2)).await;
    assert_eq!((list_ids(&v), v["finish"].clone()), (ids[4..5].to_vec(), json!(true)));
    let v = ok(&app, "class/list", asc(3, 2)).await;
    assert_eq!((list_ids(&v), v["finish"].clone(), v["total"].clone()), (vec![], json!(true), json!(5)));
    let v = ok(&app, "class/list", asc(0, 5)).await;
    assert_eq!((list_ids(&v).len(), v["finish"].clone()), (5, json!(true)));
    let v = ok(&app, "class/list", asc(4, 1)).await;
    assert_eq!((list_ids(&v), v["finish"].clone()), (vec![ids[4]], json!(true)));
    let v = ok(&app, "class/list", asc(0, 100)).await;
    assert_eq!(v["finish"], true);
    // Refusals.
    refused(&app, "class/list", json!({ "size": 101 }), 10003).await;
    refused(&app, "class/list", json!({ "size": 0 }), 10003).await;
    refused(&app, "class/list", json!({ "index": -1 }), 10003).await;
    refused(&app, "class/list", json!({ "index": "0" }), 10000).await;
    refused(&app, "class/list", json!({ "class_status": ["done"] }), 10003).await;
    refused(&app, "class/list", json!({ "class_type": ["1VN"] }), 10003).await;
    refused(&app, "class/list", json!({ "create_time_desc": "yes" }), 10000).await;
    refused(&app, "class/list", json!({ "user_id": "ghost" }), 10215).await;
    app.stop().await;
}

// ----- users --------------------------------------------------------------------------------------

#[tokio::test]
async fn user_register_creates_the_new_reports_repeats_and_applies_defaults() {
    let app = spawn(world(json!({}))).await;
    let v = ok(
        &app,
        "user/register",
        json!({ "list": [
            { "user_id": "u1", "role": "student" },
            { "user_id": "u2", "role": "teacher", "nickname": "小明", "gender": "female", "avatar": "https://x/a.png", "phone_no": "13033445566", "e_mail": "a@b.c" }
        ] }),
    )
    .await;
    assert_eq!(v["repeats"], json!([]));
    let list = v["user_list"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["user_id"], "u1");
    let token = list[0]["user_token"].as_str().unwrap();
    assert_eq!(token.len(), 32);
    assert_ne!(list[0]["user_token"], list[1]["user_token"]);
    let u1 = ok(&app, "user/info", json!({ "user_id": "u1" })).await["user_info"].clone();
    assert_eq!(u1["nickname"], "u1");
    assert_eq!(u1["gender"], "male");
    assert_eq!(u1["role"], "student");
    assert_eq!((u1["phone_no"].clone(), u1["e_mail"].clone()), (json!(""), json!("")));
    assert!(u1["avatar"].as_str().unwrap().starts_with("https://"), "{u1}");
    assert_eq!((u1["regist_time"].clone(), u1["update_time"].clone()), (json!(T0), json!(T0)));
    assert!(u1.get("user_token").is_none(), "user/info never shows the ticket: {u1}");
    let u2 = ok(&app, "user/info", json!({ "user_id": "u2" })).await["user_info"].clone();
    assert_eq!(
        u2,
        json!({ "user_id": "u2", "nickname": "小明", "gender": "female", "avatar": "https://x/a.png", "role": "teacher",
                "phone_no": "13033445566", "e_mail": "a@b.c", "regist_time": T0, "update_time": T0 })
    );
    // Repeats (already registered, or twice in one list) are reported with 10214; the others are created.
    let v = refused(
        &app,
        "user/register",
        json!({ "list": [
            { "user_id": "u1", "role": "student" }, { "user_id": "u3", "role": "student" },
            { "user_id": "u3", "role": "student" }, { "user_id": "t1", "role": "teacher" }
        ] }),
        10214,
    )
    .await;
    assert_eq!(v["repeats"], json!(["u1", "u3", "t1"]));
    assert_eq!(v["user_list"].as_array().unwrap().len(), 1);
    assert_eq!(v["user_list"][0]["user_id"], "u3");
    ok(&app, "user/info", json!({ "user_id": "u3" })).await;
    // Invalid entries refuse the whole request: nothing is created.
    for (list, code) in [
        (json!([{ "user_id": "n1", "role": "student" }, { "user_id": "n2", "role": "pupil" }]), 10003),
        (json!([{ "user_id": "n1", "role": "student" }, { "user_id": "n2" }]), 10003),
        (json!([{ "user_id": "", "role": "student" }]), 10003),
        (json!([{ "user_id": "n1", "role": "student", "gender": "x" }]), 10003),
        (json!([{ "user_id": "n1", "role": "student", "avatar": "head.png" }]), 10003),
        (json!([{ "user_id": "n1", "role": "superadmin" }]), 10203),
        (json!([{ "user_id": 7, "role": "student" }]), 10000),
        (json!([]), 10003),
        (json!("n1"), 10000),
    ] {
        refused(&app, "user/register", json!({ "list": list }), code).await;
    }
    refused(&app, "user/register", json!({}), 10003).await;
    refused(&app, "user/info", json!({ "user_id": "n1" }), 10215).await;
    refused(&app, "user/info", json!({}), 10003).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_hundred_concurrent_registrations_of_one_id_create_it_once() {
    let app = spawn(world(json!({}))).await;
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let client = app.client.clone();
            let url = format!("{}{}", app.url, signed_path("user/register"));
            tokio::spawn(async move {
                let body =
                    json!({ "expire_time": EXPIRE, "list": [{ "user_id": "same", "role": "student" }] });
                client.post(url).json(&body).send().await.unwrap().json::<Value>().await.unwrap()
            })
        })
        .collect();
    let mut created = 0;
    let mut repeated = 0;
    for t in tasks {
        let v = t.await.unwrap();
        match v["error_code"].as_i64().unwrap() {
            0 => {
                created += 1;
                assert_eq!(v["user_list"][0]["user_id"], "same");
                assert_eq!(v["repeats"], json!([]));
            }
            10214 => {
                repeated += 1;
                assert_eq!(v["repeats"], json!(["same"]));
                assert_eq!(v["user_list"], json!([]));
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert_eq!((created, repeated), (1, 99));
    let v = ok(&app, "user/list", json!({ "prefix": "same" })).await;
    assert_eq!(v["total"], 1);
    // The other duplicate rule: one recorder user id for one class that has not ended.
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let client = app.client.clone();
            let url = format!("{}{}", app.url, signed_path("class/create"));
            tokio::spawn(async move {
                let body = json!({ "expire_time": EXPIRE, "teacher_id": "t1", "record_types": ["remote"],
                                   "record_user_id": "tic_recorduser_shared", "record_user_sig": "sig" });
                client.post(url).json(&body).send().await.unwrap().json::<Value>().await.unwrap()
                    ["error_code"]
                    .as_i64()
                    .unwrap()
            })
        })
        .collect();
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 10214).count(), 29, "{codes:?}");
    app.stop().await;
}

#[tokio::test]
async fn user_profile_modify_and_token_update() {
    let app = spawn(world(json!({}))).await;
    let token = ok(&app, "user/register", json!({ "list": [{ "user_id": "u1", "role": "student" }] })).await
        ["user_list"][0]["user_token"]
        .as_str()
        .unwrap()
        .to_string();
    app.advance(100.0).await;
    ok(&app, "user/profile/modify", json!({ "user_id": "u1", "nickname": "新昵称" })).await;
    let u = ok(&app, "user/info", json!({ "user_id": "u1" })).await["user_info"].clone();
    assert_eq!(u["nickname"], "新昵称");
    assert_eq!(u["gender"], "male");
    assert_eq!(u["role"], "student");
    assert_eq!((u["regist_time"].clone(), u["update_time"].clone()), (json!(T0), json!(T0 + 100)));
    ok(
        &app,
        "user/profile/modify",
        json!({ "user_id": "u1", "role": "assistant", "gender": "female", "avatar": "http://x/y.jpg", "phone_no": "1", "e_mail": "e@x" }),
    )
    .await;
    let u = ok(&app, "user/info", json!({ "user_id": "u1" })).await["user_info"].clone();
    assert_eq!(
        (
            u["role"].clone(),
            u["gender"].clone(),
            u["avatar"].clone(),
            u["phone_no"].clone(),
            u["e_mail"].clone(),
            u["nickname"].clone()
        ),
        (
            json!("assistant"),
            json!("female"),
            json!("http://x/y.jpg"),
            json!("1"),
            json!("e@x"),
            json!("新昵称")
        )
    );
    refused(&app, "user/profile/modify", json!({ "user_id": "ghost", "nickname": "x" }), 10215).await;
    refused(&app, "user/profile/modify", json!({ "nickname": "x" }), 10003).await;
    refused(&app, "user/profile/modify", json!({ "user_id": "u1", "role": "king" }), 10003).await;
    refused(&app, "user/profile/modify", json!({ "user_id": "u1", "role": 3 }), 10000).await;
    refused(&app, "user/profile/modify", json!({ "user_id": "u1", "role": "superadmin" }), 10203).await;
    refused(&app, "user/profile/modify", json!({ "user_id": "u1", "gender": "m" }), 10003).await;
    // Token update: a new ticket; the old one is no longer valid.
    let v = ok(&app, "user/token/update", json!({ "user_id": "u1" })).await;
    let new = v["user_token"].as_str().unwrap().to_string();
    assert_eq!(new.len(), 32);
    assert_ne!(new, token);
    refused(&app, "user/token/update", json!({ "user_id": "ghost" }), 10215).await;
    refused(&app, "user/token/update", json!({}), 10003).await;
    // Observable in the state dump ...
    let (_, state) = app.get("/__admin/state").await;
    let user = &state["vendors"]["iclass"]["apps"][APP.to_string()]["users"]["u1"];
    assert_eq!(user["user_token"], new);
    assert_eq!(user["retired_tokens"], json!([token]));
    // ... and when the client component logs in with it.
    let id = create_class(&app, json!({ "teacher_id": "t1" })).await;
    let join = |t: &str| json!({ "type": "iclass.join_class", "sdkappid": APP, "class_id": id, "user_id": "u1", "user_token": t });
    let (s, v) = app.post("/__admin/events", join(&token)).await;
    assert_eq!(s, 409, "{v}");
    assert!(v["error"].as_str().unwrap().contains("replaced by user/token/update"), "{v}");
    let (s, v) = app.post("/__admin/events", join("not-a-ticket")).await;
    assert_eq!(s, 409, "{v}");
    app.event(join(&new)).await;
    app.stop().await;
}

#[tokio::test]
async fn user_list_filters_by_role_and_prefix_and_pages_exactly() {
    let app = spawn(json!({ "iclass": { "apps": [{ "sdkappid": APP, "tic_key": KEY }],
        "users": [{ "sdkappid": APP, "user_id": "boss", "role": "superadmin" }] } }))
    .await;
    let list: Vec<Value> =
        (1..=6).map(|i| json!({ "user_id": format!("stu_{i}"), "role": "student" })).collect();
    ok(&app, "user/register", json!({ "list": list })).await;
    ok(&app, "user/register", json!({ "list": [{ "user_id": "tea_1", "role": "teacher" }, { "user_id": "tea_2", "role": "teacher" }] })).await;
    let ids = |v: &Value| {
        v["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["user_id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let v = ok(&app, "user/list", json!({})).await;
    assert_eq!((v["total"].clone(), v["finish"].clone()), (json!(9), json!(true)));
    assert_eq!(ids(&v)[0], "boss");
    let first = &v["list"][1];
    for k in [
        "user_id",
        "role",
        "nickname",
        "gender",
        "avatar",
        "phone_no",
        "e_mail",
        "regist_time",
        "update_time",
    ] {
        assert!(first.get(k).is_some(), "{k} missing in {first}");
    }
    assert!(first.get("user_token").is_none());
    // The seed's example: every teacher.
    let v =
        ok(&app, "user/list", json!({ "index": 0, "size": 10, "roles": ["teacher"], "prefix": "" })).await;
    assert_eq!(
        (ids(&v), v["total"].clone(), v["finish"].clone()),
        (vec!["tea_1".to_string(), "tea_2".into()], json!(2), json!(true))
    );
    let v = ok(&app, "user/list", json!({ "roles": ["teacher", "superadmin"] })).await;
    assert_eq!(v["total"], 3);
    let v = ok(&app, "user/list", json!({ "roles": [] })).await;
    assert_eq!(v["total"], 9);
    let v = ok(&app, "user/list", json!({ "prefix": "stu_" })).await;
    assert_eq!(v["total"], 6);
    let v = ok(&app, "user/list", json!({ "prefix": "nobody" })).await;
    assert_eq!(
        (v["total"].clone(), v["finish"].clone(), v["list"].clone()),
        (json!(0), json!(true), json!([]))
    );
    let v = ok(&app, "user/list", json!({ "prefix": "stu_", "roles": ["teacher"] })).await;
    assert_eq!(v["total"], 0);
    // Paging over the six students: 4 + 2, 3 + 3 (exact), beyond the end.
    let page = |index: i64, size: i64| json!({ "prefix": "stu_", "index": index, "size": size });
    let v = ok(&app, "user/list", page(0, 4)).await;
    assert_eq!((ids(&v).len(), v["finish"].clone(), v["total"].clone()), (4, json!(false), json!(6)));
    let v = ok(&app, "user/list", page(1, 4)).await;
    assert_eq!((ids(&v), v["finish"].clone()), (vec!["stu_5".to_string(), "stu_6".into()], json!(true)));
    let v = ok(&app, "user/list", page(1, 3)).await;
    assert_eq!(
        (ids(&v), v["finish"].clone()),
        (vec!["stu_4".to_string(), "stu_5".into(), "stu_6".into()], json!(true))
    );
    let v = ok(&app, "user/list", page(0, 3)).await;
    assert_eq!(v["finish"], false);
    let v = ok(&app, "user/list", page(2, 3)).await;
    assert_eq!((ids(&v).len(), v["finish"].clone(), v["total"].clone()), (0, json!(true), json!(6)));
    refused(&app, "user/list", json!({ "size": 101 }), 10003).await;
    refused(&app, "user/list", json!({ "size": 0 }), 10003).await;
    refused(&app, "user/list", json!({ "index": -2 }), 10003).await;
    refused(&app, "user/list", json!({ "roles": ["pupil"] }), 10003).await;
    refused(&app, "user/list", json!({ "roles": "teacher" }), 10000).await;
    // The superadmin's role cannot be taken away through the API.
    refused(&app, "user/profile/modify", json!({ "user_id": "boss", "role": "admin" }), 10203).await;
    ok(&app, "user/profile/modify", json!({ "user_id": "boss", "nickname": "Boss" })).await;
    app.stop().await;
}

// ----- documents ----------------------------------------------------------------------------------

#[tokio::test]
async fn documents_add_info_list_and_delete() {
    let app = spawn(world(json!({}))).await;
    // The seed's example: a private document of its owner.
    let v = ok(
        &app,
        "document/add",
        json!({ "doc_url": "https://cos.example/lesson1.ppt", "doc_name": "量子计算导论", "doc_ext": "ppt", "doc_size": 1024,
                "doc_md5": "c4ca4238a0b923820dcc509a6f75849b", "permission": "private", "owner": "t1", "is_transcode": false }),
    )
    .await;
    let d1 = v["doc_id"].as_str().unwrap().to_string();
    assert!(!d1.is_empty());
    let info = ok(&app, "document/info", json!({ "doc_id": d1 })).await;
    assert_eq!(
        info,
        json!({ "error_code": 0, "error_msg": "", "doc_id": d1, "doc_name": "量子计算导论", "doc_url": "https://cos.example/lesson1.ppt",
                "doc_ext": "ppt", "doc_md5": "c4ca4238a0b923820dcc509a6f75849b", "doc_size": 1024, "permission": "private",
                "owner": "t1", "upload_time": T0, "is_transcode": false, "transcode_status": "", "transcode_code": 0,
                "transcode_msg": "", "transcode_result": "" })
    );
    // Defaults: an owner makes it private; without an owner it is public, whatever was asked.
    let d2 = ok(&app, "document/add", json!({ "doc_url": "https://cos.example/a.pdf", "owner": "s1" })).await
        ["doc_id"]
        .as_str()
        .unwrap()
        .to_string();
    let info = ok(&app, "document/info", json!({ "doc_id": d2 })).await;
    assert_eq!(
        (
            info["permission"].clone(),
            info["doc_name"].clone(),
            info["doc_ext"].clone(),
            info["doc_size"].clone(),
            info["doc_md5"].clone(),
            info["is_transcode"].clone()
        ),
        (json!("private"), json!(""), json!(""), json!(0), json!(""), json!(false))
    );
    let d3 = ok(
        &app,
        "document/add",
        json!({ "doc_url": "https://cos.example/b.pdf", "doc_name": "量子力学", "permission": "private" }),
    )
    .await["doc_id"]
        .as_str()
        .unwrap()
        .to_string();
    let info = ok(&app, "document/info", json!({ "doc_id": d3 })).await;
    assert_eq!((info["permission"].clone(), info["owner"].clone()), (json!("public"), json!("")));
    let d4 = ok(&app, "document/add", json!({ "doc_url": "https://cos.example/c.doc", "doc_name": "语文", "owner": "s1", "permission": "public" })).await["doc_id"]
        .as_str()
        .unwrap()
        .to_string();
    // Refusals.
    for (body, code) in [
        (json!({}), 10003),
        (json!({ "doc_url": "" }), 10003),
        (json!({ "doc_url": "ftp://x/y.ppt" }), 10003),
        (json!({ "doc_url": "https://x/y.ppt", "owner": "ghost" }), 10215),
        (json!({ "doc_url": "https://x/y.ppt", "permission": "secret" }), 10003),
        (json!({ "doc_url": "https://x/y.ppt", "doc_size": -1 }), 10003),
        (json!({ "doc_url": "https://x/y.ppt", "doc_size": "1k" }), 10000),
        (json!({ "doc_url": "https://x/y.ppt", "doc_md5": "xyz" }), 10003),
        (json!({ "doc_url": "https://x/y.ppt", "is_transcode": "yes" }), 10000),
        (json!({ "doc_url": "https://x/y.pdf", "is_transcode": true }), 10250),
        (json!({ "doc_url": "https://x/noext", "is_transcode": true }), 10250),
    ] {
        refused(&app, "document/add", body, code).await;
    }
    refused(&app, "document/info", json!({ "doc_id": "nope" }), 10003).await;
    refused(&app, "document/info", json!({}), 10003).await;
    // Lists: upload order, filters, paging.
    let ids = |v: &Value| {
        v["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["doc_id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let v = ok(&app, "document/list", json!({})).await;
    assert_eq!(
        (ids(&v), v["total"].clone(), v["finish"].clone()),
        (vec![d1.clone(), d2.clone(), d3.clone(), d4.clone()], json!(4), json!(true))
    );
    assert_eq!(v["list"][0]["transcode_status"], "");
    let v = ok(&app, "document/list", json!({ "index": 0, "size": 10, "owner": "", "prefix": "量子", "permissions": ["public", "private"] })).await;
    assert_eq!(ids(&v), vec![d1.clone(), d3.clone()]);
    let v = ok(&app, "document/list", json!({ "owner": "s1" })).await;
    assert_eq!(ids(&v), vec![d2.clone(), d4.clone()]);
    let v = ok(&app, "document/list", json!({ "permissions": ["public"] })).await;
    assert_eq!(ids(&v), vec![d3.clone(), d4.clone()]);
    let v = ok(&app, "document/list", json!({ "permissions": ["private"], "owner": "s1" })).await;
    assert_eq!(ids(&v), vec![d2.clone()]);
    let v = ok(&app, "document/list", json!({ "permissions": [] })).await;
    assert_eq!(v["total"], 4);
    let v = ok(&app, "document/list", json!({ "owner": "s2" })).await;
    assert_eq!(
        (v["total"].clone(), v["finish"].clone(), v["list"].clone()),
        (json!(0), json!(true), json!([]))
    );
    let v = ok(&app, "document/list", json!({ "size": 3 })).await;
    assert_eq!((ids(&v).len(), v["finish"].clone(), v["total"].clone()), (3, json!(false), json!(4)));
    let v = ok(&app, "document/list", json!({ "size": 3, "index": 1 })).await;
    assert_eq!((ids(&v), v["finish"].clone()), (vec![d4.clone()], json!(true)));
    let v = ok(&app, "document/list", json!({ "size": 2, "index": 1 })).await;
    assert_eq!((ids(&v), v["finish"].clone()), (vec![d3.clone(), d4.clone()], json!(true)));
    let v = ok(&app, "document/list", json!({ "size": 2, "index": 2 })).await;
    assert_eq!((ids(&v).len(), v["finish"].clone(), v["total"].clone()), (0, json!(true), json!(4)));
    refused(&app, "document/list", json!({ "size": 1000 }), 10003).await;
    refused(&app, "document/list", json!({ "permissions": ["shared"] }), 10003).await;
    refused(&app, "document/list", json!({ "owner": "ghost" }), 10215).await;
    // Delete: all-or-nothing batches.
    refused(&app, "document/delete", json!({ "doc_ids": [d1.clone(), "nope"] }), 10003).await;
    assert_eq!(ok(&app, "document/list", json!({})).await["total"], 4);
    refused(&app, "document/delete", json!({ "doc_ids": [] }), 10003).await;
    refused(&app, "document/delete", json!({}), 10003).await;
    refused(&app, "document/delete", json!({ "doc_ids": "x" }), 10000).await;
    ok(&app, "document/delete", json!({ "doc_ids": [d1.clone(), d3.clone(), d1.clone()] })).await;
    let v = ok(&app, "document/list", json!({})).await;
    assert_eq!(ids(&v), vec![d2.clone(), d4.clone()]);
    refused(&app, "document/info", json!({ "doc_id": d1 }), 10003).await;
    app.stop().await;
}

#[tokio::test]
async fn an_h5_transcode_goes_from_queued_to_finished_or_fails() {
    let r = Receiver::start().await;
    let app = spawn(world(json!({ "app": { "callback_url": r.url } }))).await;
    let v = ok(
        &app,
        "document/add",
        json!({ "doc_url": "https://cos.example/slides.pptx?sign=abc", "doc_name": "PPT名字", "doc_size": 2_000_000, "owner": "t1", "is_transcode": true }),
    )
    .await;
    let doc = v["doc_id"].as_str().unwrap().to_string();
    settle(&app).await;
    let info = ok(&app, "document/info", json!({ "doc_id": doc })).await;
    assert_eq!(
        (info["is_transcode"].clone(), info["transcode_status"].clone()),
        (json!(true), json!("queued"))
    );
    for _ in 0..4 {
        advance(&app, 5.0).await;
    }
    let got = r.received();
    let steps: Vec<(Value, Value)> =
        got.iter().map(|x| (x.body["data"]["status"].clone(), x.body["data"]["progress"].clone())).collect();
    assert_eq!(
        steps,
        vec![
            (json!("queued"), json!(0)),
            (json!("processing"), json!(30)),
            (json!("processing"), json!(60)),
            (json!("processing"), json!(90)),
            (json!("finished"), json!(100)),
        ]
    );
    for (i, x) in got.iter().enumerate() {
        assert_eq!(x.body["event"], "transport_progress");
        let d = &x.body["data"];
        assert_eq!((d["error_code"].clone(), d["error_msg"].clone()), (json!(0), json!("")));
        assert_eq!(d["timestamp"], T0 + 5 * i as i64);
        assert_eq!(d["doc_id"], doc);
        assert_eq!(
            (d["title"].clone(), d["resolution"].clone(), d["pages"].clone()),
            (json!("PPT名字"), json!("1024x768"), json!(20))
        );
        assert_eq!(x.params["sign"], sign(KEY, x.body["expire_time"].as_i64().unwrap()));
    }
    let last = &got[4].body["data"];
    let h5 = last["h5_url"].as_str().unwrap();
    let (s, bytes) = app.bytes(h5).await;
    assert_eq!((s, bytes.len()), (200, 20 * 4096));
    let info = ok(&app, "document/info", json!({ "doc_id": doc })).await;
    assert_eq!(
        (info["transcode_status"].clone(), info["transcode_code"].clone(), info["transcode_result"].clone()),
        (json!("finished"), json!(0), json!(h5))
    );
    // Nothing more happens, and a finished transcode cannot fail.
    advance(&app, 600.0).await;
    assert_eq!(r.received().len(), 5);
    let (s, _) = app
        .post("/__admin/events", json!({ "type": "iclass.transcode_fail", "sdkappid": APP, "doc_id": doc }))
        .await;
    assert_eq!(s, 409);
    // A failure mid-way.
    let doc2 = ok(
        &app,
        "document/add",
        json!({ "doc_url": "https://cos.example/broken.ppt", "is_transcode": true }),
    )
    .await["doc_id"]
        .as_str()
        .unwrap()
        .to_string();
    settle(&app).await;
    advance(&app, 5.0).await;
    app.event(json!({ "type": "iclass.transcode_fail", "sdkappid": APP, "doc_id": doc2, "error_msg": "unsupported animation" })).await;
    settle(&app).await;
    advance(&app, 60.0).await;
    let got: Vec<Value> = r.received().iter().skip(5).map(|x| x.body["data"].clone()).collect();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(
        (
            got[2]["status"].clone(),
            got[2]["error_code"].clone(),
            got[2]["error_msg"].clone(),
            got[2]["progress"].clone()
        ),
        (json!("failed"), json!(-1), json!("unsupported animation"), json!(30))
    );
    assert_eq!(got[2]["title"], "broken.ppt");
    let info = ok(&app, "document/info", json!({ "doc_id": doc2 })).await;
    assert_eq!(
        (
            info["transcode_status"].clone(),
            info["transcode_code"].clone(),
            info["transcode_msg"].clone(),
            info["transcode_result"].clone()
        ),
        (json!("failed"), json!(-1), json!("unsupported animation"), json!(""))
    );
    // Deleting a finished transcode's document removes its H5 file.
    ok(&app, "document/delete", json!({ "doc_ids": [doc] })).await;
    assert_eq!(app.bytes(h5).await.0, 404);
    r.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn transcoding_needs_the_whitelist() {
    let app = spawn(world(json!({ "app": { "transcode_whitelisted": false } }))).await;
    refused(&app, "document/add", json!({ "doc_url": "https://x/y.ppt", "is_transcode": true }), 10203).await;
    ok(&app, "document/add", json!({ "doc_url": "https://x/y.ppt" })).await;
    app.stop().await;
}

// ----- the full class with callbacks --------------------------------------------------------------

fn check_signed(x: &Received) {
    let expire = x.body["expire_time"].as_i64().expect("expire_time in the body");
    assert_eq!(x.params["sign"], sign(KEY, expire), "sign = md5(tic_key + expire_time)");
    assert_eq!(x.params["sdkappid"], APP.to_string());
    assert!(x.params["random"].parse::<u64>().is_ok(), "random: {:?}", x.params);
    assert!(x.body["event"].is_string() && x.body["data"].is_object(), "{}", x.body);
}

#[tokio::test]
async fn a_recorded_class_sends_its_four_signed_callbacks_in_order_with_downloadable_videos() {
    let r = Receiver::start().await;
    let app =
        spawn(world(json!({ "app": { "callback_url": r.url }, "timings": { "video_bytes_per_s": 100 } })))
            .await;
    let id = create_class(
        &app,
        json!({ "teacher_id": "t1", "class_type": "1vN", "members": [{ "role": "student", "user_id": "s1" }, { "role": "student", "user_id": "s2" }],
                "settings": { "record_types": ["local", "remote"] }, "record_user_id": "tic_recorduser_class_1", "record_user_sig": "sig" }),
    )
    .await;
    // s1 is in the room with a camera before the class begins; the teacher's camera comes with the begin.
    app.event(json!({ "type": "iclass.join_class", "sdkappid": APP, "class_id": id, "user_id": "s1", "video_types": [0] })).await;
    app.advance(60.0).await;
    app.event(json!({ "type": "iclass.class_begin", "sdkappid": APP, "class_id": id, "streams": [{ "user_id": "t1", "video_type": 0 }] })).await;
    settle(&app).await;
    app.advance(300.0).await;
    app.event(json!({ "type": "iclass.stream_open", "sdkappid": APP, "class_id": id, "user_id": "s1", "video_type": 1 })).await;
    app.advance(600.0).await;
    app.event(json!({ "type": "iclass.stream_close", "sdkappid": APP, "class_id": id, "user_id": "s1", "video_type": 1 })).await;
    // s2 joins late and publishes for a while, then leaves.
    app.advance(100.0).await;
    app.event(json!({ "type": "iclass.join_class", "sdkappid": APP, "class_id": id, "user_id": "s2", "video_types": [0, 1] })).await;
    app.advance(200.0).await;
    app.event(json!({ "type": "iclass.quit_class", "sdkappid": APP, "class_id": id, "user_id": "s2" })).await;
    // A state dump mid-class restores exactly.
    let (_, state) = app.get("/__admin/state").await;
    let (s, v) = app
        .client
        .put(format!("{}/__admin/state", app.url))
        .json(&state)
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(s, 200, "{:?}", v.text().await);
    assert_eq!(class_info(&app, id).await["class_status"], "ing");
    app.advance(2400.0).await; // T0 + 3660
    app.event(json!({ "type": "iclass.class_over", "sdkappid": APP, "class_id": id })).await;
    settle(&app).await;
    assert_eq!(r.received().len(), 3);
    let info = class_info(&app, id).await;
    assert_eq!(
        (info["real_start_time"].clone(), info["real_stop_time"].clone()),
        (json!(T0 + 60), json!(T0 + 3660))
    );
    // Processing: 5 s queued + 10 s encoding + 5 s uploading (the default timings).
    advance(&app, 19.0).await;
    assert_eq!(r.received().len(), 3);
    advance(&app, 1.0).await;
    let got = r.received();
    let events: Vec<&str> = got.iter().map(|x| x.body["event"].as_str().unwrap()).collect();
    assert_eq!(events, vec!["class_begin", "online_record_start", "class_over", "online_record_stop"]);
    for x in &got {
        check_signed(x);
        assert_eq!(x.body["data"]["class_id"], id);
    }
    assert_eq!(got[0].body["data"], json!({ "class_id": id, "real_start_time": T0 + 60 }));
    assert_eq!(
        got[1].body["data"],
        json!({ "error_code": 0, "error_msg": "", "class_id": id, "timestamp": T0 + 60 })
    );
    assert_eq!(got[2].body["data"], json!({ "class_id": id, "real_stop_time": T0 + 3660 }));
    let stop = &got[3].body["data"];
    assert_eq!((stop["error_code"].clone(), stop["error_msg"].clone()), (json!(0), json!("")));
    assert_eq!(
        (stop["start_time"].clone(), stop["stop_time"].clone(), stop["timestamp"].clone()),
        (json!(T0 + 60), json!(T0 + 3660), json!(T0 + 3680))
    );
    let videos = stop["video_info"].as_array().unwrap();
    let summary: Vec<(i64, i64, i64, &str)> = videos
        .iter()
        .map(|v| {
            (
                v["video_play_time"].as_i64().unwrap(),
                v["video_type"].as_i64().unwrap(),
                v["video_duration"].as_i64().unwrap(),
                v["user_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (0, 0, 3600, "s1"),
            (0, 0, 3600, "t1"),
            (0, 2, 3600, ""),
            (300_000, 1, 600, "s1"),
            (1_000_000, 0, 200, "s2"),
            (1_000_000, 1, 200, "s2"),
        ]
    );
    for v in videos {
        assert_eq!(v["video_format"], "mp4");
        assert_eq!(v["video_id"].as_str().unwrap().len(), 19);
        assert_eq!(v["video_size"].as_u64().unwrap(), v["video_duration"].as_u64().unwrap() * 100);
        let (s, bytes) = app.bytes(v["video_url"].as_str().unwrap()).await;
        assert_eq!(s, 200);
        assert_eq!(bytes.len() as u64, v["video_size"].as_u64().unwrap(), "{v}");
        assert_eq!(&bytes[4..8], b"ftyp");
    }
    // Every callback delivered once, one attempt each.
    let log = settle(&app).await;
    assert_eq!(log.len(), 4);
    assert!(
        log.iter().all(|c| c["state"] == "delivered" && c["attempts"].as_array().unwrap().len() == 1),
        "{log:?}"
    );
    assert!(log.iter().all(|c| c["resources"] == json!([format!("class:{id}")])));
    r.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn callbacks_are_retried_one_minute_apart_until_error_code_zero() {
    let r = Receiver::start().await;
    // The third answer comes after the delivery timeout (1.5 s; generous so a loaded machine never times
    // out the others).
    r.script([
        Answer::with(500, "oops"),
        Answer::with(200, r#"{"error_code":1}"#),
        Answer { status: 200, body: r#"{"error_code":0}"#.into(), delay_ms: 3000 },
        Answer::with(200, "not json"),
    ]);
    let app =
        spawn(world(json!({ "app": { "callback_url": r.url }, "callbacks": { "timeout_ms": 1500 } }))).await;
    let id = create_class(&app, json!({ "teacher_id": "t1", "record_types": ["remote"], "record_user_id": "tic_recorduser_r", "record_user_sig": "s" })).await;
    app.event(json!({ "type": "iclass.class_begin", "sdkappid": APP, "class_id": id })).await;
    settle(&app).await;
    for _ in 0..4 {
        advance(&app, 60.0).await;
    }
    let log = settle(&app).await;
    let begin = &log[0];
    assert_eq!(begin["event"], "class_begin");
    assert_eq!(begin["state"], "delivered");
    let attempts = begin["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 5, "{attempts:?}");
    let times: Vec<i64> = attempts.iter().map(|a| a["virtual_time"].as_i64().unwrap()).collect();
    assert_eq!(times, vec![T0, T0 + 60, T0 + 120, T0 + 180, T0 + 240]);
    assert_eq!(attempts[0]["http_status"], 500);
    assert_eq!(attempts[1]["response"], r#"{"error_code":1}"#);
    assert!(
        attempts[2]["http_status"].is_null() && attempts[2]["error"].as_str().unwrap().contains("within"),
        "{:?}",
        attempts[2]
    );
    assert_eq!(attempts[3]["response"], "not json");
    assert_eq!(attempts[4]["outcome"], "delivered");
    // Each attempt is signed afresh for its own time.
    for a in attempts {
        let expire = a["body"]["expire_time"].as_i64().unwrap();
        assert_eq!(expire, a["virtual_time"].as_i64().unwrap() + 300);
        assert!(a["url"].as_str().unwrap().ends_with(&format!("&sign={}", sign(KEY, expire))));
    }
    // online_record_start waited for class_begin (same class), then went through at once.
    let start = &log[1];
    assert_eq!(
        (start["event"].clone(), start["state"].clone()),
        (json!("online_record_start"), json!("delivered"))
    );
    assert_eq!(start["attempts"][0]["virtual_time"], T0 + 240);
    let events: Vec<Value> = r.received().iter().map(|x| x.body["event"].clone()).collect();
    assert_eq!(events.iter().filter(|e| *e == "class_begin").count(), 5);
    assert_eq!(events.last().unwrap(), "online_record_start");
    r.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_callback_that_fails_eleven_times_ends_failed_and_does_not_block_the_next() {
    let app = spawn(world(json!({ "app": { "callback_url": dead_url() } }))).await;
    let id = create_class(&app, json!({ "teacher_id": "t1" })).await;
    app.event(json!({ "type": "iclass.class_begin", "sdkappid": APP, "class_id": id })).await;
    settle(&app).await;
    app.advance(30.0).await;
    app.event(json!({ "type": "iclass.class_over", "sdkappid": APP, "class_id": id })).await;
    advance(&app, 600.0).await;
    let log = settle(&app).await;
    let begin = &log[0];
    assert_eq!(begin["state"], "failed", "{begin}");
    let attempts = begin["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 11);
    for (i, a) in attempts.iter().enumerate() {
        assert_eq!(a["virtual_time"], T0 + 60 * i as i64);
        assert_eq!(a["outcome"], if i == 10 { "failed" } else { "retry" });
    }
    // class_over was held behind it and starts its own ten retries once class_begin has failed.
    let over = &log[1];
    assert_eq!(over["event"], "class_over");
    assert_eq!(over["state"], "pending");
    assert_eq!(over["attempts"][0]["virtual_time"], T0 + 600);
    // A receiver that comes back on a new URL gets the pending class_over at its next retry.
    let r = Receiver::start().await;
    let (s, v) =
        app.post("/__admin/callbacks/url", json!({ "tenant": format!("iclass:{APP}"), "url": r.url })).await;
    assert_eq!(s, 200, "{v}");
    advance(&app, 60.0).await;
    let events: Vec<Value> = r.received().iter().map(|x| x.body["event"].clone()).collect();
    assert_eq!(events, vec![json!("class_over")]);
    let log = settle(&app).await;
    assert_eq!(
        (log[1]["state"].clone(), log[1]["attempts"].as_array().unwrap().len()),
        (json!("delivered"), 2)
    );
    // The failed one can be sent again: a new cycle of attempts starts now.
    let (s, _) =
        app.post(&format!("/__admin/callbacks/{}/redeliver", begin["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(s, 200);
    let log = settle(&app).await;
    let attempts = log[0]["attempts"].as_array().unwrap();
    assert_eq!((attempts.len(), attempts[11]["virtual_time"].clone()), (12, json!(T0 + 690)));
    // It went to the URL registered since, so the receiver that came back got it.
    assert_eq!(
        (log[0]["state"].clone(), attempts[11]["outcome"].clone()),
        (json!("delivered"), json!("delivered"))
    );
    let events: Vec<Value> = r.received().iter().map(|x| x.body["event"].clone()).collect();
    assert_eq!(events, vec![json!("class_over"), json!("class_begin")]);
    r.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn callbacks_wait_for_a_url_and_a_failed_recording_reports_an_error() {
    let app = spawn(world(json!({}))).await;
    let id = create_class(&app, json!({ "teacher_id": "t1", "record_types": ["remote"], "record_user_id": "tic_recorduser_f", "record_user_sig": "s" })).await;
    app.event(json!({ "type": "iclass.class_begin", "sdkappid": APP, "class_id": id })).await;
    app.advance(120.0).await;
    app.event(json!({ "type": "iclass.recording_fail", "sdkappid": APP, "class_id": id, "reason": "recorder crashed" })).await;
    let (s, _) = app
        .post("/__admin/events", json!({ "type": "iclass.recording_fail", "sdkappid": APP, "class_id": id }))
        .await;
    assert_eq!(s, 409);
    app.advance(60.0).await;
    app.event(json!({ "type": "iclass.class_over", "sdkappid": APP, "class_id": id })).await;
    advance(&app, 600.0).await;
    let log = settle(&app).await;
    assert_eq!(log.len(), 4);
    assert!(log.iter().all(|c| c["state"] == "held"), "{log:?}");
    let r = Receiver::start().await;
    app.post("/__admin/callbacks/url", json!({ "tenant": format!("iclass:{APP}"), "url": r.url })).await;
    settle(&app).await;
    let got = r.received();
    let events: Vec<&str> = got.iter().map(|x| x.body["event"].as_str().unwrap()).collect();
    assert_eq!(events, vec!["class_begin", "online_record_start", "online_record_stop", "class_over"]);
    let stop = &got[2].body["data"];
    assert_eq!(
        (
            stop["error_code"].clone(),
            stop["error_msg"].clone(),
            stop["video_info"].clone(),
            stop["start_time"].clone(),
            stop["stop_time"].clone()
        ),
        (json!(-1), json!("recorder crashed"), json!([]), json!(T0), json!(T0 + 120))
    );
    for x in &got {
        check_signed(x);
    }
    r.stop().await;
    app.stop().await;
}

// ----- fixtures -----------------------------------------------------------------------------------

#[tokio::test]
async fn a_fixture_world_with_a_timeline_runs_a_class() {
    let app = spawn(json!({
        "iclass": {
            "apps": [{ "sdkappid": APP, "tic_key": KEY }],
            "users": [{ "sdkappid": APP, "user_id": "t1", "role": "teacher", "user_token": "tok-t1" }],
            "classes": [{ "sdkappid": APP, "class_id": 100012345, "teacher_id": "t1", "class_topic": "职场培训", "class_type": "1vN",
                          "create_time": T0 - 60, "start_time": T0 + 60, "stop_time": T0 + 3600, "record_types": ["remote"],
                          "record_user_id": "tic_recorduser100012345_1", "record_user_sig": "sig" }],
            "documents": [{ "sdkappid": APP, "doc_id": "ywyzhohnx", "doc_url": "https://cos.example/x.ppt", "doc_name": "课件名字", "owner": "t1",
                            "is_transcode": true, "pages": 3, "upload_time": T0 - 30 }]
        },
        "timeline": [
            { "at": 60, "event": { "type": "iclass.class_begin", "sdkappid": APP, "class_id": 100012345, "streams": [{ "user_id": "t1", "video_type": 0 }] } },
            { "at": 120, "event": { "type": "iclass.class_over", "sdkappid": APP, "class_id": 100012345 } }
        ]
    }))
    .await;
    let info = class_info(&app, 100012345).await;
    assert_eq!(
        (info["class_status"].clone(), info["class_topic"].clone(), info["create_time"].clone()),
        (json!("will"), json!("职场培训"), json!(T0 - 60))
    );
    let doc = ok(&app, "document/info", json!({ "doc_id": "ywyzhohnx" })).await;
    assert_eq!(
        (doc["transcode_status"].clone(), doc["permission"].clone(), doc["upload_time"].clone()),
        (json!("finished"), json!("private"), json!(T0 - 30))
    );
    assert_eq!(app.bytes(doc["transcode_result"].as_str().unwrap()).await.1.len(), 3 * 4096);
    app.advance(200.0).await;
    let info = class_info(&app, 100012345).await;
    assert_eq!(
        (info["class_status"].clone(), info["real_start_time"].clone(), info["real_stop_time"].clone()),
        (json!("end"), json!(T0 + 60), json!(T0 + 120))
    );
    // No callback URL: the four events of the class wait, held, in order.
    let (_, v) = app.get("/__admin/callbacks?vendor=iclass").await;
    let events: Vec<Value> = v["callbacks"].as_array().unwrap().iter().map(|c| c["event"].clone()).collect();
    assert_eq!(
        events,
        vec![
            json!("class_begin"),
            json!("online_record_start"),
            json!("class_over"),
            json!("online_record_stop")
        ]
    );
    let (_, state) = app.get("/__admin/state").await;
    assert_eq!(state["vendors"]["iclass"]["apps"][APP.to_string()]["users"]["t1"]["user_token"], "tok-t1");
    // Resetting the tenant reloads it from the fixture: the class is back to `will`, the callbacks are gone.
    ok(&app, "class/create", json!({ "teacher_id": "t1" })).await;
    let (s, v) = app.post(&format!("/__admin/reset?tenant=iclass:{APP}"), json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(class_info(&app, 100012345).await["class_status"], "will");
    assert_eq!(ok(&app, "class/list", json!({})).await["total"], 1);
    let (_, v) = app.get("/__admin/callbacks?vendor=iclass").await;
    assert_eq!(v["count"], 0);
    let doc = ok(&app, "document/info", json!({ "doc_id": "ywyzhohnx" })).await;
    assert_eq!(app.bytes(doc["transcode_result"].as_str().unwrap()).await.0, 200);
    app.stop().await;
}

#[tokio::test]
async fn fixture_errors_name_their_paths() {
    let bad = json!({
        "iclass": {
            "apps": [{ "sdkappid": APP, "tic_key": "" , "colour": 1 }, { "sdkappid": 5, "tic_key": "k", "transcode_step_s": -1 }],
            "users": [{ "sdkappid": APP, "user_id": "u", "role": "pupil" }],
            "classes": [{ "sdkappid": 5, "class_id": 1, "teacher_id": "t", "class_type": "big", "record_types": ["remote"] }],
            "documents": [{ "sdkappid": 5, "doc_id": "d", "doc_url": "file:///x", "permission": "all" }],
            "rooms": []
        }
    });
    let (s, v) = app_check(bad).await;
    assert_eq!(s, 400, "{v}");
    let text = v.to_string();
    for path in [
        "iclass.apps[0].colour",
        "iclass.apps[1].transcode_step_s",
        "iclass.users[0].role",
        "iclass.classes[0].class_type",
        "iclass.classes[0]",
        "iclass.documents[0].doc_url",
        "iclass.documents[0].permission",
        "iclass.rooms",
    ] {
        assert!(text.contains(&format!("\"{path}\"")), "{path} not reported: {text}");
    }
    // References are checked against the world: unknown teacher, unknown app.
    let (s, v) =
        app_check(json!({ "iclass": { "classes": [{ "sdkappid": 77, "class_id": 1, "teacher_id": "t" }] } }))
            .await;
    assert_eq!(s, 400, "{v}");
    assert!(v.to_string().contains("iclass.classes[0].sdkappid"), "{v}");
}

/// Load a fixture at run time into an empty world; returns the control plane's answer.
async fn app_check(doc: Value) -> (u16, Value) {
    let app = spawn(json!({})).await;
    let r = app.post("/__admin/fixtures", doc).await;
    app.stop().await;
    r
}

#[tokio::test]
async fn the_demo_world_has_an_iclass_app() {
    let app =
        spawn_with(Spawn { fixtures: vec![recmock::fixture::DEMO_JSON.to_string()], ..Spawn::default() })
            .await;
    let (_, v) = app.get("/__admin/tenants").await;
    assert!(v["tenants"].as_array().unwrap().iter().any(|t| t == &json!(format!("iclass:{APP}"))), "{v}");
    app.stop().await;
}

/// Class times past the year 9999 are invalid parameters (10003), not an overflow.
#[tokio::test]
async fn class_times_must_be_representable() {
    let app = spawn(world(json!({}))).await;
    refused(&app, "class/create", json!({ "teacher_id": "t1", "start_time": i64::MAX }), 10003).await;
    let id = create_class(&app, json!({ "teacher_id": "t1" })).await;
    refused(&app, "class/modify", json!({ "class_id": id, "stop_time": 253_402_300_800i64 }), 10003).await;
    ok(&app, "class/modify", json!({ "class_id": id, "stop_time": 253_402_300_799i64 })).await;
    app.stop().await;
}

/// `POST /__admin/seed` adds students and `will` classes to an app; they list and page like any others,
/// and a seed of nothing is refused.
#[tokio::test]
async fn seed_bulk_creates_users_and_classes_that_list_and_page() {
    let app = spawn(world(json!({}))).await;
    let (s, v) = app
        .post("/__admin/seed", json!({ "tenant": format!("iclass:{APP}"), "users": 30, "classes": 250 }))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["created"], json!({ "users": 30, "classes": 250 }));
    assert_eq!(v["total_classes"], 250);
    let page = ok(&app, "class/list", json!({ "size": 100, "index": 2, "class_status": ["will"] })).await;
    assert_eq!(
        (page["total"].as_u64(), page["list"].as_array().map(Vec::len), &page["finish"]),
        (Some(250), Some(50), &json!(true))
    );
    let first = ok(&app, "class/list", json!({ "size": 1, "create_time_desc": false })).await;
    let last = ok(&app, "class/list", json!({ "size": 1, "index": 249 })).await;
    assert_eq!(
        first["list"][0]["class_id"], last["list"][0]["class_id"],
        "oldest first = last of newest first"
    );
    assert_eq!(first["list"][0]["teacher_id"], "seed_teacher");
    let users = ok(&app, "user/list", json!({ "size": 100, "prefix": "seed_user_" })).await;
    assert_eq!(users["total"], 30, "{users}");
    let (s, v) = app.post("/__admin/seed", json!({ "tenant": format!("iclass:{APP}"), "users": 0 })).await;
    assert_eq!(s, 400, "{v}");
}
