//! Real clients keep working while a test drives virtual time (`--auth-clock`): credentials a client stamps
//! with the machine's clock (`SystemTime::now()`, never the server's), callbacks checked by a receiver against
//! its own clock, the HST console's login, and 004 as its clients send it.
use crate::common::*;
use recmock::clock::AuthClock;
use recmock::vendors::cloud_record::token::{encode, DevToken};
use recmock::vendors::live_sdk::vod::{signed_query, SignatureMethod};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const LIVE_APP: u64 = 1_400_000_002;
const LIVE_KEY: &str = "live-key-0000000000000000000000000000000000000000000000000000000";
const SECRET_ID: &str = "AKIDdemo0000000000000000000000000000";
const SECRET_KEY: &str = "demoSecretKey0000000000000000000";
const EDU_APP: u64 = 1_400_000_001;
const EDU_KEY: &str = "edu-key-00000000000000000000000000000000000000000000000000000000";
const IC_APP: u64 = 1_400_127_140;
const TIC_KEY: &str = "DzXpbluRsmo1JkoFxzKMNg5ifrA4GRlU";
const SDK_KEY: &str = "tic-sdk-key-000000000000000000000000000000000000000000000000000";
/// An HST account whose developer id differs from its app id, and one whose fixture names none.
const HST_A: (&str, &str, &str) = ("dev_a", "app_a", "aaaaaaaaaaaaaaaa");
const HST_B: (&str, &str) = ("app_b", "bbbbbbbbbbbbbbbb");
const HOUR: i64 = 3600;

static NONCE: AtomicU64 = AtomicU64::new(1);

/// The machine's clock, as a client reads it.
fn wall_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

fn wall_s() -> i64 {
    wall_ms() / 1000
}

/// Every vendor whose clients make times, the clock frozen at `start`; callbacks go to `callback_url`.
fn world(start: i64, callback_url: Option<&str>) -> Value {
    let mut edu = json!({ "sdkappid": EDU_APP, "key": EDU_KEY, "admins": ["admin"] });
    let mut ic = json!({ "sdkappid": IC_APP, "tic_key": TIC_KEY, "sdk_key": SDK_KEY });
    if let Some(u) = callback_url {
        edu["callback_url"] = json!(u);
        ic["callback_url"] = json!(u);
    }
    json!({
        "clock": { "start": start, "frozen": true },
        "callbacks": { "timeout_ms": 2000 },
        "live_sdk": { "apps": [{ "sdkappid": LIVE_APP, "key": LIVE_KEY,
                                 "vod_secret_id": SECRET_ID, "vod_secret_key": SECRET_KEY }] },
        "ilvb_edu": {
            "apps": [edu],
            "classrooms": [{ "sdkappid": EDU_APP, "roomid": 3003, "start": -5400, "end": -60, "members": ["t"] }]
        },
        "iclass": {
            "apps": [ic],
            "users": [{ "sdkappid": IC_APP, "user_id": "t1", "role": "teacher" }]
        },
        "cloud_record": { "accounts": [
            { "dev_id": HST_A.0, "token": "tok-a", "app_id": HST_A.1, "app_secret": HST_A.2 },
            { "token": "tok-b", "app_id": HST_B.0, "app_secret": HST_B.1 }
        ] }
    })
}

async fn serve(mode: Option<AuthClock>, fixture: Value) -> TestApp {
    spawn_with(Spawn { fixtures: vec![fixture.to_string()], auth_clock: mode, ..Spawn::default() }).await
}

/// A VOD API v2 look-up signed like Tencent's SDK, its `Timestamp` given.
async fn vod(app: &TestApp, method: &str, sha256: bool, timestamp: i64, nonce: u64) -> Value {
    let sig = if sha256 { SignatureMethod::HmacSha256 } else { SignatureMethod::HmacSha1 };
    let params: Vec<(String, String)> = [
        ("Action", "DescribeVodPlayInfo".to_string()),
        ("Region", "gz".into()),
        ("Timestamp", timestamp.to_string()),
        ("Nonce", nonce.to_string()),
        ("SecretId", SECRET_ID.into()),
        ("SignatureMethod", sig.as_str().into()),
        ("fileName", "lesson".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let host = app.url.trim_start_matches("http://");
    let q = signed_query(SECRET_KEY, sig, method, host, &params);
    let url = format!("{}/v2/index.php", app.url);
    let rb = if method == "GET" {
        app.client.get(format!("{url}?{q}"))
    } else {
        app.client.post(url).header("content-type", "application/x-www-form-urlencoded").body(q)
    };
    app.send(rb).await.1
}

fn md5(text: &str) -> String {
    md5_hex(text.as_bytes())
}

/// A 004 call with `expire_time` in the body, signed for it.
async fn classroom(app: &TestApp, api: &str, mut body: Value, expire: i64) -> Value {
    body["expire_time"] = json!(expire);
    let path =
        format!("/paas/v1/{api}?sdkappid={IC_APP}&random=7&sign={}", md5(&format!("{TIC_KEY}{expire}")));
    app.post(&path, body).await.1
}

/// What each kind of client-made credential got when the client stamped it with its own clock, now.
struct Answers {
    vod: Vec<Value>,
    classroom: Value,
    record_user: Value,
    edu: Value,
    sdk: Value,
    hst: Value,
}

async fn sign_with_the_wall_clock(app: &TestApp, user: &str) -> Answers {
    let now = wall_s();
    let mut answers = Vec::new();
    for method in ["GET", "POST"] {
        for sha256 in [false, true] {
            answers.push(vod(app, method, sha256, now, NONCE.fetch_add(1, Ordering::Relaxed)).await);
        }
    }
    // 004: a request signed to expire in five minutes; and a recorder whose usersig was made now, sent with
    // an expire_time valid on the server's own clock (so only the usersig is judged).
    let classroom = classroom(app, "user/list", json!({}), now + 300).await;
    let rid = format!("tic_recorduser_{user}");
    let record_sig = recmock::tlssig::sign(IC_APP, SDK_KEY, &rid, now, HOUR);
    let create = json!({ "teacher_id": "t1", "record_types": ["remote"], "record_user_id": rid,
                         "record_user_sig": record_sig });
    let record_user = classroom_at_server_time(app, "class/create", create).await;
    // 000: the admin API with a usersig made now for an hour.
    let sig = recmock::tlssig::sign(EDU_APP, EDU_KEY, "admin", now, HOUR);
    let edu = app
        .post(
            &format!(
                "/v4/ilvb_edu/record?sdkappid={EDU_APP}&identifier=admin&usersig={sig}&contenttype=json"
            ),
            json!({ "cmd": "open_record_svc", "sub_cmd": "report_group", "group_id": "g1" }),
        )
        .await
        .1;
    // 002: the SDK's login.
    let sig = recmock::tlssig::sign(LIVE_APP, LIVE_KEY, user, now, HOUR);
    let sdk = app
        .post(
            &format!("/live_sdk/v1/record/start?sdkappid={LIVE_APP}&identifier={user}&usersig={sig}"),
            json!({ "platform": "android", "relation_id": 15000, "room_id": 1, "file_name": user }),
        )
        .await
        .1;
    // 001: a TokenGenerator token made here with AES, valid for an hour from now.
    let claims = DevToken {
        aid: HST_A.1.into(),
        gid: "g".into(),
        uid: "u".into(),
        et: Some(now + HOUR),
        ts: wall_ms(),
        r: 7,
    };
    let token = encode(&claims, HST_A.2).unwrap();
    let hst = app
        .send(
            app.client
                .get(format!("{}/access/token", app.url))
                .query(&[("dev_id", HST_A.0), ("token", &token)]),
        )
        .await
        .1;
    Answers { vod: answers, classroom, record_user, edu, sdk, hst }
}

/// A 004 call signed to expire 300 s after the server's virtual time.
async fn classroom_at_server_time(app: &TestApp, api: &str, body: Value) -> Value {
    let expire = app.now().await + 300;
    classroom(app, api, body, expire).await
}

/// (a) the virtual clock frozen an hour in the past, (b) advanced twelve hours: a client stamping with its own
/// clock is accepted under `either` and refused under `virtual` with each vendor's expiry code.
#[tokio::test]
async fn clients_signing_with_the_wall_clock_pass_under_either_and_not_under_virtual() {
    for (case, start, advance) in
        [("an hour in the past", wall_s() - HOUR, 0), ("12 hours ahead", wall_s(), 12 * HOUR)]
    {
        for mode in [AuthClock::Either, AuthClock::Virtual] {
            let app = serve(Some(mode), world(start, None)).await;
            if advance > 0 {
                app.advance(advance as f64).await;
            }
            let a = sign_with_the_wall_clock(&app, "kim").await;
            let what = format!("{case}, {mode}");
            if mode == AuthClock::Either {
                for v in &a.vod {
                    assert_eq!(v["code"], 0, "{what}: {v}");
                }
                assert_eq!(a.classroom["error_code"], 0, "{what}: {}", a.classroom);
                assert_eq!(a.record_user["error_code"], 0, "{what}: {}", a.record_user);
                assert_eq!(a.edu["error_code"], 0, "{what}: {}", a.edu);
                assert_eq!(a.sdk["code"], 0, "{what}: {}", a.sdk);
                assert_eq!(a.hst["code"], 0, "{what}: {}", a.hst);
                // The recorder's usersig is checked again when the class begins: it still logs in.
                let id = a.record_user["class_id"].clone();
                app.event(json!({ "type": "iclass.class_begin", "sdkappid": IC_APP, "class_id": id })).await;
                let (_, cbs) = app.get("/__admin/callbacks?vendor=iclass&event=online_record_start").await;
                assert_eq!(cbs["callbacks"][0]["payload"]["data"]["error_code"], 0, "{what}: {cbs}");
            } else {
                for v in &a.vod {
                    assert_eq!(v["code"], 4200, "{what}: {v}");
                    assert_eq!(v["codeDesc"], "RequestExpired", "{what}: {v}");
                    let m = v["message"].as_str().unwrap();
                    assert!(m.contains("virtual time") && !m.contains("wall time"), "{what}: {v}");
                }
                assert_eq!(a.record_user["error_code"], 10003, "{what}: {}", a.record_user);
                assert!(a.record_user["error_msg"].as_str().unwrap().contains("expired or not yet valid"));
                assert_eq!(a.edu["error_code"], -1, "{what}: {}", a.edu);
                assert!(
                    a.edu["error_msg"].as_str().unwrap().contains("expired or not yet valid"),
                    "{}",
                    a.edu
                );
                assert_eq!(a.sdk["code"], 30_000_013, "{what}: {}", a.sdk);
                assert_eq!(a.hst["code"], 606_000_000, "{what}: {}", a.hst);
                assert!(a.hst["msg"].as_str().unwrap().contains("expired or not yet valid"), "{}", a.hst);
                if advance > 0 {
                    assert_eq!(a.classroom["error_code"], 10216, "{what}: {}", a.classroom);
                } else {
                    // An expire_time alone carries no making time: five minutes after the client's now is
                    // in the future of a clock an hour behind, and a client signing for a day (the PHP
                    // client's default) must pass. docs/decisions.md, "Time".
                    assert_eq!(a.classroom["error_code"], 0, "{what}: {}", a.classroom);
                }
            }
            app.stop().await;
        }
    }
}

/// Under `either` a time stale on both clocks is refused, naming both readings; a replayed nonce is
/// refused whichever clock its Timestamp counts on.
#[tokio::test]
async fn stale_on_both_clocks_is_refused_and_a_replay_is_refused_under_either() {
    let app = serve(Some(AuthClock::Either), world(wall_s(), None)).await;
    app.advance(24.0 * HOUR as f64).await;
    let hour_old = wall_s() - HOUR;
    let v = vod(&app, "GET", false, hour_old, NONCE.fetch_add(1, Ordering::Relaxed)).await;
    assert_eq!(v["code"], 4200, "{v}");
    let m = v["message"].as_str().unwrap();
    assert!(m.contains(&format!("Timestamp {hour_old} is ")), "{m}");
    assert!(m.contains("behind virtual time") && m.contains("behind wall time"), "{m}");
    let v = classroom(&app, "user/list", json!({}), hour_old).await;
    assert_eq!(v["error_code"], 10216, "{v}");
    assert!(v["error_msg"].as_str().unwrap().contains("behind wall time"), "{v}");
    // A wall-time pair is remembered although virtual time is a day ahead of it; a virtual-time pair with
    // the same nonce is another pair.
    let nonce = NONCE.fetch_add(1, Ordering::Relaxed);
    let now = wall_s();
    assert_eq!(vod(&app, "GET", false, now, nonce).await["code"], 0);
    let v = vod(&app, "GET", false, now, nonce).await;
    assert_eq!(v["code"], 4500, "{v}");
    let virtual_now = app.now().await;
    assert_eq!(vod(&app, "POST", true, virtual_now, nonce).await["code"], 0);
    assert_eq!(vod(&app, "POST", true, virtual_now, nonce).await["code"], 4500);
    app.stop().await;
}

/// What a receiver made of one callback: its vendor and event, and whether it verified.
type Verdict = (String, Result<(), String>);

/// How a receiver that checks what it gets judges one callback (see [`strict_receiver`]).
fn check_callback(query: &BTreeMap<String, String>, body: &Value) -> Verdict {
    let now = wall_s();
    let fresh =
        |e: i64| if e > now { Ok(()) } else { Err(format!("expire_time {e} is not after my clock's {now}")) };
    if let Some(ev) = body.get("event_type") {
        // 000: expire_time and sign in the body.
        let e = body["expire_time"].as_i64().unwrap_or_default();
        let ok = (body["sign"] == json!(md5(&format!("{EDU_KEY}{e}"))))
            .then_some(())
            .ok_or_else(|| format!("000 sign does not verify: {body}"))
            .and_then(|()| fresh(e));
        return (format!("000 {ev}"), ok);
    }
    let event = body["event"].as_str().unwrap_or("?").to_string();
    let sign = query.get("sign").cloned().unwrap_or_default();
    // The later revision's receiver (the PHP library's): sign and expire_time from the URL.
    let from_url = query.get("expire_time").and_then(|e| e.parse::<i64>().ok());
    // The seed's revision: expire_time from the body.
    let from_body = body["expire_time"].as_i64();
    let ok = match (from_url, from_body) {
        (Some(u), Some(b))
            if sign == md5(&format!("{TIC_KEY}{u}")) && sign == md5(&format!("{TIC_KEY}{b}")) =>
        {
            fresh(u).and_then(|()| fresh(b))
        }
        _ => Err(format!("004 does not verify for both readers: {query:?} {body}")),
    };
    (format!("004 {event}"), ok)
}

/// A receiver that checks every callback as its owner would: the signature, read as a receiver of the
/// seed's revision (004: `expire_time` from the body) and of the later one (004: `sign` and `expire_time`
/// from the URL's query) would read it, and `expire_time` against its own wall clock. It accepts
/// (`{"error_code":0}`) only what passes every check, and keeps each verdict.
async fn strict_receiver() -> (Receiver, Arc<Mutex<Vec<Verdict>>>) {
    let rx = Receiver::start().await;
    let verdicts: Arc<Mutex<Vec<Verdict>>> = Arc::default();
    let kept = verdicts.clone();
    rx.judge_with(move |got| {
        let query: BTreeMap<String, String> = recmock::codec::form_pairs(&got.query).into_iter().collect();
        let verdict = check_callback(&query, &got.body);
        let answer = if verdict.1.is_ok() { Answer::ok() } else { Answer::with(200, r#"{"error_code":-1}"#) };
        kept.lock().unwrap().push(verdict);
        answer
    });
    (rx, verdicts)
}

/// Make 000 and 004 send callbacks: a recording of room 3003 (1000, then its files' 1001) and a class that
/// begins and ends (class_begin, class_over).
async fn make_callbacks(app: &TestApp) {
    let now = app.now().await;
    let sig = recmock::tlssig::sign(EDU_APP, EDU_KEY, "admin", now, HOUR);
    let (_, v) = app
        .post(
            &format!(
                "/v4/ilvb_edu/record?sdkappid={EDU_APP}&identifier=admin&usersig={sig}&contenttype=json"
            ),
            json!({ "cmd": "open_record_svc", "sub_cmd": "req_record", "class_roomid": 3003 }),
        )
        .await;
    assert_eq!(v["error_code"], 0, "{v}");
    let v = classroom_at_server_time(app, "class/create", json!({ "teacher_id": "t1" })).await;
    assert_eq!(v["error_code"], 0, "{v}");
    let id = v["class_id"].clone();
    app.event(json!({ "type": "iclass.class_begin", "sdkappid": IC_APP, "class_id": id })).await;
    app.event(json!({ "type": "iclass.class_over", "sdkappid": IC_APP, "class_id": id })).await;
    app.advance(120.0).await;
    app.advance(0.0).await;
}

/// Under `either`, a receiver checking `expire_time` against its own clock accepts every 000 and 004
/// callback after virtual time moved 12 hours back or forth; under `virtual`, with virtual time 12 hours
/// behind, it refuses them (what `either` is for). Receivers of both 004 revisions verify every callback.
#[tokio::test]
async fn receivers_checking_their_own_clock_accept_callbacks_under_either() {
    for (shift, mode) in
        [(-12 * HOUR, AuthClock::Either), (12 * HOUR, AuthClock::Either), (-12 * HOUR, AuthClock::Virtual)]
    {
        let (rx, verdicts) = strict_receiver().await;
        let start = wall_s() + shift.min(0);
        let app = serve(Some(mode), world(start, Some(&rx.url))).await;
        if shift > 0 {
            app.advance(shift as f64).await;
        }
        make_callbacks(&app).await;
        let verdicts = verdicts.lock().unwrap().clone();
        let events: Vec<&str> = verdicts.iter().map(|(e, _)| e.as_str()).collect();
        // Under `virtual` the first of each is refused and retried, holding back the rest (ordering).
        let wanted: &[&str] = if mode == AuthClock::Either {
            &["000 1000", "000 1001", "004 class_begin", "004 class_over"]
        } else {
            &["000 1000", "004 class_begin"]
        };
        for want in wanted {
            assert!(events.contains(want), "{mode} {shift}: no {want} in {events:?}");
        }
        if mode == AuthClock::Either {
            for (event, verdict) in &verdicts {
                assert_eq!(verdict, &Ok(()), "{mode} {shift}: {event}");
            }
            let (_, cbs) = app.get("/__admin/callbacks").await;
            for c in cbs["callbacks"].as_array().unwrap() {
                assert_eq!(c["state"], "delivered", "{mode} {shift}: {c}");
            }
        } else {
            for (event, verdict) in &verdicts {
                let why = verdict.as_ref().expect_err(event);
                assert!(why.contains("is not after my clock's"), "{event}: {why}");
            }
        }
        rx.stop().await;
        app.stop().await;
    }
}

/// The console's login, over HTTP: App ID + App Secret to the token service, the two gateway addresses,
/// `/access/token` with `Authorization: <appId>.<token>` and no query, then the task list; for an account
/// whose developer id differs from its app id and for one whose fixture names no developer id.
#[tokio::test]
async fn the_hst_console_logs_in_with_the_app_id_and_secret() {
    let app = serve(None, world(T0, None)).await;
    for (app_id, secret) in [(HST_A.1, HST_A.2), (HST_B.0, HST_B.1)] {
        console_login(&app.client, &app.url, app_id, secret).await;
    }
    // The developer id may be the app id wherever one is expected: the token service's appId, the query
    // form, and `Authorization: <dev_id>.<token>` on the record API.
    let (_, v) = app.post("/generate/token", json!({ "appId": HST_A.0, "appSecret": HST_A.2 })).await;
    let token = v["result"].as_str().unwrap().to_string();
    let (_, v) = app.get(&format!("/access/token?dev_id={}&token={}", HST_A.1, urlencode(&token))).await;
    assert_eq!(v["code"], 0, "{v}");
    let list = |app_id: &str| format!("/v1/record/task/list?app_id={app_id}");
    let (_, v) = app.get_h(&list(HST_A.1), &[("authorization", &format!("{}.{token}", HST_A.1))]).await;
    assert_eq!(v["code"], 0, "{v}");
    let (_, v) = app.get_h(&list(HST_B.0), &[("authorization", &format!("{}.tok-b", HST_B.0))]).await;
    assert_eq!(v["code"], 0, "{v}");
    // The query wins when both forms are given; a header that is not `<dev_id>.<token>` is refused.
    let good_header = format!("{}.tok-a", HST_A.0);
    let (_, v) = app.get_h("/access/token?dev_id=dev_a&token=tok-a", &[("authorization", "x.y")]).await;
    assert_eq!(v["code"], 0, "{v}");
    let (_, v) =
        app.get_h("/access/token?dev_id=dev_a&token=wrong", &[("authorization", &good_header)]).await;
    assert_eq!(v["code"], 606_000_000, "{v}");
    let (_, v) = app.get_h("/access/token?dev_id=dev_a", &[("authorization", &good_header)]).await;
    assert_eq!(v["code"], 606_000_000, "{v}");
    for header in ["no-dot", ".tok-a", "nobody.tok-a"] {
        let (_, v) = app.get_h("/access/token", &[("authorization", header)]).await;
        assert_eq!(v["code"], 606_000_000, "{header}: {v}");
    }
    let (_, v) = app.get("/access/token").await;
    assert_eq!(v["code"], 606_000_000, "{v}");
    assert!(v["msg"].as_str().unwrap().contains("Authorization: <dev_id>.<token>"), "{v}");
    // One id names one account: an app id with `.`, a dev_id that is another account's app id (in the same
    // fixture or the running world), an app id that is a running account's dev_id.
    for (fixture, path) in [
        (json!([{ "token": "t", "app_id": "a.b" }]), "cloud_record.accounts[0].app_id"),
        (
            json!([{ "dev_id": "x2", "token": "t", "app_id": "x1" }, { "dev_id": "x1", "token": "t", "app_id": "x3" }]),
            "cloud_record.accounts[1].dev_id",
        ),
        (json!([{ "dev_id": HST_B.0, "token": "t", "app_id": "x4" }]), "cloud_record.accounts[0].dev_id"),
        (json!([{ "token": "t", "app_id": HST_A.0 }]), "cloud_record.accounts[0].app_id"),
    ] {
        let (s, v) = app
            .post("/__admin/fixtures?dry_run=true", json!({ "cloud_record": { "accounts": fixture } }))
            .await;
        assert_eq!(s, 400, "{fixture}: {v}");
        assert!(v.to_string().contains(path), "{path}: {v}");
    }
    app.stop().await;
}

fn urlencode(s: &str) -> String {
    recmock::codec::percent_encode(s)
}

/// The console's sequence against `base` for `app_id` / `secret`.
async fn console_login(c: &reqwest::Client, base: &str, app_id: &str, secret: &str) {
    let json = |r: reqwest::Response| async move { r.json::<Value>().await.unwrap() };
    let v = json(
        c.post(format!("{base}/generate/token"))
            .json(&json!({ "appId": app_id, "appSecret": secret }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["code"], 0, "{app_id}: {v}");
    let token = v["result"].as_str().unwrap().to_string();
    let v = json(c.get(format!("{base}/server/address?appType=10")).send().await.unwrap()).await;
    let gateway = v["result"].as_str().unwrap().to_string();
    assert_eq!(gateway, base, "{v}");
    let v = json(c.get(format!("{base}/server/address?appType=8")).send().await.unwrap()).await;
    assert!(v["result"].as_str().unwrap().starts_with("ws://"), "{v}");
    let r = c
        .get(format!("{gateway}/access/token"))
        .header("Authorization", format!("{app_id}.{token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.url().query(), None);
    let v = json(r).await;
    assert_eq!(v["code"], 0, "{app_id}: {v}");
    let access = v["result"]["access_token"].as_str().unwrap().to_string();
    let v = json(
        c.get(format!("{gateway}/v1/record/task/list?app_id={app_id}"))
            .header("Authorization", access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["code"], 0, "{app_id}: {v}");
    assert!(v["total_num"].is_number(), "{v}");
}

/// `recmock` as `make run` starts it: the banner's console login works, and the auth clock is `either`.
#[tokio::test]
async fn the_demo_banner_prints_a_console_login_that_works() {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_recmock"))
        .args(["--port", "0", "--seed", "7", "--log-level", "error"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("recmock starts");
    let mut lines = Vec::new();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || line.contains("control plane") {
            break;
        }
        lines.push(line);
    }
    let banner = lines.concat();
    let url = banner.split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_string();
    let login = lines.iter().find(|l| l.contains("console login")).unwrap_or_else(|| panic!("{banner}"));
    let words: Vec<&str> = login.split_whitespace().collect();
    let after = |w: &str| words.iter().position(|x| *x == w).map(|i| words[i + 1].to_string());
    let (app_id, secret) = (after("ID").unwrap(), after("Secret").unwrap());
    console_login(&reqwest::Client::new(), &url, &app_id, &secret).await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(banner.contains("--auth-clock either"), "{banner}");
}

/// 004 as the vendor's later document and its PHP client send it: `random` a hex string, `expire_time`
/// only in the URL (the URL's wins over the body's), an empty body read as `{}`.
#[tokio::test]
async fn classroom_calls_as_the_php_client_sends_them() {
    let app = serve(None, world(T0, None)).await;
    let expire = wall_s() + 86_400;
    let q = |e: i64, signed: i64| {
        format!(
            "/paas/v1/user/list?sdkappid={IC_APP}&sign={}&expire_time={e}&random=5f3c1e2a9b7d4",
            md5(&format!("{TIC_KEY}{signed}"))
        )
    };
    let (_, v) = app.post(&q(expire, expire), json!({ "size": 10 })).await;
    assert_eq!(v["error_code"], 0, "{v}");
    assert_eq!(v["total"], 1, "{v}");
    let (_, v) = app.post_raw(&q(expire, expire), b"", &[]).await;
    assert_eq!(v["error_code"], 0, "an empty body: {v}");
    let (_, v) = app.post(&q(expire, expire), json!({ "expire_time": expire + 1 })).await;
    assert_eq!(v["error_code"], 0, "the URL's expire_time is the one signed: {v}");
    let (_, v) = app.post(&q(expire + 1, expire), json!({ "expire_time": expire })).await;
    assert_eq!(v["error_code"], 10217, "{v}");
    let soon = q(expire, expire).replace(&format!("expire_time={expire}"), "expire_time=soon");
    let (_, v) = app.post(&soon, json!({})).await;
    assert_eq!(v["error_code"], 10000, "{v}");
    let (_, v) = app.post(&q(expire, expire), json!({ "size": "ten" })).await;
    assert_eq!(v["error_code"], 10000, "{v}");
    app.stop().await;
}

/// The code of a VOD look-up stamped with the wall clock now.
async fn wall_vod(app: &TestApp) -> Value {
    vod(app, "GET", false, wall_s(), NONCE.fetch_add(1, Ordering::Relaxed)).await["code"].clone()
}

/// The mode: `either` by default, a fixture's `auth_clock` unless `--auth-clock` was given, kept in the state
/// dump, restored from one and kept across a reset.
#[tokio::test]
async fn the_mode_comes_from_the_flag_then_the_fixture_and_lives_in_the_state() {
    let ahead = |mode: Option<AuthClock>, fixture_mode: Option<&str>| {
        let mut w = world(wall_s(), None);
        if let Some(m) = fixture_mode {
            w["auth_clock"] = json!(m);
        }
        async move {
            let app = serve(mode, w).await;
            app.advance(12.0 * HOUR as f64).await;
            app
        }
    };
    let app = ahead(None, None).await;
    assert_eq!(wall_vod(&app).await, 0, "the server's default is either");
    assert_eq!(app.get("/__admin/state").await.1["auth_clock"], "either");
    app.stop().await;
    let app = ahead(None, Some("virtual")).await;
    assert_eq!(wall_vod(&app).await, 4200, "the fixture says virtual");
    // A dump carries the mode; restoring one with another mode changes it, and a reset keeps it.
    let (_, mut state) = app.get("/__admin/state").await;
    assert_eq!(state["auth_clock"], "virtual");
    state["auth_clock"] = json!("wall");
    let (s, v) = app.send(app.client.put(format!("{}/__admin/state", app.url)).json(&state)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(wall_vod(&app).await, 0, "wall");
    let (s, _) = app.post("/__admin/reset", json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(app.get("/__admin/state").await.1["auth_clock"], "virtual", "the start fixture's, reloaded");
    app.stop().await;
    let app = ahead(Some(AuthClock::Either), Some("virtual")).await;
    assert_eq!(wall_vod(&app).await, 0, "--auth-clock wins over the fixture");
    let (_, mut state) = app.get("/__admin/state").await;
    state["auth_clock"] = json!("virtual");
    app.send(app.client.put(format!("{}/__admin/state", app.url)).json(&state)).await;
    assert_eq!(app.get("/__admin/state").await.1["auth_clock"], "either", "and over a dump");
    app.stop().await;
    // Without a start fixture naming one, a mode a dump set survives a reset.
    let app = ahead(None, None).await;
    let (_, mut state) = app.get("/__admin/state").await;
    state["auth_clock"] = json!("wall");
    app.send(app.client.put(format!("{}/__admin/state", app.url)).json(&state)).await;
    app.post("/__admin/reset", json!({})).await;
    assert_eq!(app.get("/__admin/state").await.1["auth_clock"], "wall");
    // A fixture naming a mode that does not exist is refused with its path.
    let (s, v) = app.post("/__admin/fixtures?dry_run=true", json!({ "auth_clock": "both" })).await;
    assert_eq!(s, 400);
    assert!(v.to_string().contains("auth_clock"), "{v}");
    app.stop().await;
}

/// Under `virtual`, a refusal names virtual time only and the same requests on the same seed and frozen
/// clock give the same bytes.
#[tokio::test]
async fn under_virtual_refusals_are_byte_deterministic() {
    let mut bodies = Vec::new();
    for _ in 0..2 {
        let app = serve(Some(AuthClock::Virtual), world(T0, None)).await;
        let mut got = String::new();
        for (ts, nonce) in [(T0 - 301, 1), (T0 + 301, 2), (T0, 3), (T0, 3)] {
            let q = signed_query(
                SECRET_KEY,
                SignatureMethod::HmacSha1,
                "GET",
                "vod.api.qcloud.com",
                &[
                    ("Action".into(), "DescribeVodPlayInfo".into()),
                    ("Timestamp".into(), ts.to_string()),
                    ("Nonce".into(), nonce.to_string()),
                    ("SecretId".into(), SECRET_ID.into()),
                    ("fileName".into(), "x".into()),
                ],
            );
            let rb =
                app.client.get(format!("{}/v2/index.php?{q}", app.url)).header("host", "vod.api.qcloud.com");
            got.push_str(&app.text(rb).await.1);
        }
        let (_, v) = app.post("/generate/token", json!({ "appId": HST_A.1, "appSecret": HST_A.2 })).await;
        got.push_str(&v.to_string());
        bodies.push(got);
        app.stop().await;
    }
    assert_eq!(bodies[0], bodies[1]);
    assert!(
        bodies[0].contains("Timestamp 1767225299 is 301 s behind virtual time 1767225600"),
        "{}",
        bodies[0]
    );
    assert!(!bodies[0].contains("wall time"), "{}", bodies[0]);
}

/// 6050030024 for a layout input the group does not have (audio or video); 6050030022 (removing an input)
/// through a fault rule.
#[tokio::test]
async fn a_missing_layout_input_answers_24_and_22_comes_from_a_fault_rule() {
    let app = serve(None, world(T0, None)).await;
    let (_, v) = app.get("/access/token?dev_id=dev_a&token=tok-a").await;
    let access = v["result"]["access_token"].as_str().unwrap().to_string();
    let h = [("authorization", access.as_str())];
    let (_, v) = app.post_h("/v1/record/init", json!({ "app_id": HST_A.1, "group_id": "g" }), &h).await;
    let rid = v["record_id"].as_str().unwrap().to_string();
    let layout = json!({ "app_id": HST_A.1, "record_id": rid,
        "video_list": [{ "user_id": "u", "media_id": "0", "media_type": 2 }],
        "audio_list": [{ "user_id": "u", "media_id": "1", "media_type": 1 }] });
    let (_, v) = app.post_h("/v1/record/set/layout", layout.clone(), &h).await;
    assert_eq!(v["code"], 6_050_030_024i64, "{v}");
    app.event(json!({ "type": "cloud_record.join", "app_id": HST_A.1, "group_id": "g", "user_id": "u",
                      "streams": [{ "media_type": 2, "media_id": "0" }] }))
        .await;
    let (_, v) = app.post_h("/v1/record/set/layout", layout.clone(), &h).await;
    assert_eq!(v["code"], 6_050_030_024i64, "the audio input is missing: {v}");
    assert!(v["msg"].as_str().unwrap().starts_with("设置输出参数失败，不存在指定的输入通道"), "{v}");
    let (s, v) = app
        .post(
            "/__admin/faults",
            json!({ "match": { "vendor": "cloud_record", "path": "/v1/record/set/layout" },
                    "action": { "error_code": 6_050_030_022i64 }, "times": 1 }),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (_, v) = app.post_h("/v1/record/set/layout", layout, &h).await;
    assert_eq!(v, json!({ "code": 6_050_030_022i64, "msg": "移除输入通道失败，不存在指定的输入通道" }));
    app.stop().await;
}
