//! Integration tests of the HST cloud-recording emulation (seed 001, module `cloud_record`).
//!
//! Every test starts the real server on an ephemeral port with the clock frozen at `T0`
//! (2026-01-01 08:00:00 Beijing time) and talks HTTP to it; time only moves through
//! `POST /__admin/clock/advance`. The behaviours asserted are those of the seed document as settled by
//! `docs/decisions.md` (section 001).
use crate::common::*;
use serde_json::{json, Value};

// ----- the account every test uses ----------------------------------------------------------------

const APP: &str = "demo_app_0001";
const DEV: &str = "demo_dev_0001";
const DEV_TOKEN: &str = "demo-token-0001";
const SECRET: &str = "0123456789abcdef";

/// Developer token made by the vendor's TokenGenerator (test-vectors.md, vector 1: `et` = 1798761600).
const V1: &str = "001ennk2+zw2Yw7RKFIShiNcyS4MvqHOVRFTZT9bRXMvd5f2zwdw60Pxi3Q3RCl7TEJ9IbnJozp/wXK\nGp0WMHeJB3itjFgcX5N+BkQx46FgP6yZl8p22ycapFUYyuJnb3aggnr04fgCyLde/3UsX0Of5g==";
/// Vector 2: no expiry, empty group and user.
const V2: &str = "001ennk2+zw2Yw7RKFIShiNc2EP8ZUPMaQZSTxW+OVvFwL2cNGKmff5nsffyvoADWNayf5yod5MkkQ3\ngkfWqgie4/OLTNPvHYN3mMD0FY4THTE=";
/// `et` of vector 1.
const V1_ET: i64 = 1_798_761_600;

// ----- the codes ----------------------------------------------------------------------------------

const CONTEXT_NOT_FOUND: i64 = 6_050_030_001;
const BAD_PARAMS: i64 = 6_050_030_003;
const LINK_EXISTS: i64 = 6_050_030_004;
const JSON_PARSE: i64 = 6_050_030_005;
const NOT_LOGGED_IN: i64 = 6_050_030_006;
const AUTH_FAILED: i64 = 6_050_030_007;
const NO_SPACE: i64 = 6_050_030_008;
const LIMIT_ACCOUNT: i64 = 6_050_030_009;
const LIMIT_GROUP: i64 = 6_050_030_010;
const LIMIT_INPUTS: i64 = 6_050_030_011;
const CONTEXT_EXISTS: i64 = 6_050_030_012;
const OUTPUT_INPUT_MISSING: i64 = 6_050_030_024;
const CANVAS_WITHOUT_LAYOUT: i64 = 6_050_030_025;
const LAYOUT_WITHOUT_CANVAS: i64 = 6_050_030_026;
const PAUSED_LAYOUT: i64 = 6_050_030_033;
const AUTO_NO_MANUAL_LAYOUT: i64 = 6_050_030_035;
const AUTO_EXISTS: i64 = 6_050_030_038;
const CANNOT_SUSPEND: i64 = 6_050_030_039;
const TOKEN_AUTH_FAILED: i64 = 606_000_000;
const TOKEN_TIMEOUT: i64 = 606_000_001;

// ----- fixture builders ---------------------------------------------------------------------------

/// `base` with the keys of `extra` set (a `null` in `extra` removes the key).
fn merge(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        for (k, v) in e {
            if v.is_null() {
                b.remove(&k);
            } else {
                b.insert(k, v);
            }
        }
    }
    base
}

/// The test account (the demo account's credentials) with some settings changed.
fn account(over: Value) -> Value {
    merge(
        json!({
            "dev_id": DEV, "token": DEV_TOKEN, "app_id": APP, "app_secret": SECRET,
            "token_timeout_s": 7200, "max_tasks": 100, "max_group_tasks": 50, "quota_bytes": 1_073_741_824u64
        }),
        over,
    )
}

/// A fixture with these accounts and groups.
fn fixture(accounts: Vec<Value>, groups: Value) -> Value {
    json!({ "cloud_record": { "accounts": accounts, "groups": groups } })
}

/// A fixture with the test account (changed by `over`) and no groups.
fn one_account(over: Value) -> Value {
    fixture(vec![account(over)], json!([]))
}

/// Bytes per second of video in [`small`] worlds: above the smallest valid 320×240 picture at 15 fps with
/// sound (about 4,500), so files have exactly `seconds × SMALL_BPS` bytes.
const SMALL_BPS: u64 = 6000;

/// `fixture` recording small files ([`SMALL_BPS`]): with [`small_canvas`] inits, tests that download or hash
/// whole files stay quick in debug builds (the default 1920×1080 canvas needs at least 185 kB a second).
fn small(mut fixture: Value) -> Value {
    fixture["timings"] = json!({ "video_bytes_per_s": SMALL_BPS });
    fixture
}

/// `init` fields for a 320×240 canvas at 15 frames per second, merged with `extra`.
fn small_canvas(extra: Value) -> Value {
    merge(json!({ "width": 320, "height": 240, "frame_rate": 15 }), extra)
}

/// A camera (`0`) and a microphone (`1`), as the issue's join event publishes them.
fn cam_mic() -> Value {
    json!([{ "media_type": 2, "media_id": "0" }, { "media_type": 1, "media_id": "1" }])
}

/// Group `room`: `u1` with camera `0`, audio `1` and screen share `s`; `u2` with camera `0` only.
fn room_groups() -> Value {
    json!([{ "app_id": APP, "group_id": "room", "users": [
        { "user_id": "u1", "streams": [
            { "media_type": 2, "media_id": "0" }, { "media_type": 1, "media_id": "1" },
            { "media_type": 0, "media_id": "s" } ] },
        { "user_id": "u2", "streams": [ { "media_type": 2, "media_id": "0" } ] }
    ] }])
}

// ----- small helpers ------------------------------------------------------------------------------

/// The `code` of an answer.
fn code(v: &Value) -> i64 {
    v["code"].as_i64().unwrap_or_else(|| panic!("no numeric code in {v}"))
}

/// Assert an answer carries `expected` and a `msg` starting with the vendor's description.
#[track_caller]
fn assert_code(v: &Value, expected: i64) {
    assert_eq!(code(v), expected, "{v}");
    if expected != 0 {
        assert!(v["msg"].as_str().is_some_and(|m| !m.is_empty()), "error without msg: {v}");
    }
}

/// Beijing calendar time of `T0 + off` (same day).
fn bj(off: i64) -> String {
    let t = 8 * 3600 + off;
    format!("2026-01-01 {:02}:{:02}:{:02}", t / 3600, t % 3600 / 60, t % 60)
}

/// A record id made at `T0 + off` as the `n`-th task of the account.
fn rid_at(off: i64, n: u32) -> String {
    let t = 8 * 3600 + off;
    format!("20260101{:02}{:02}{:02}_{}", t / 3600, t % 3600 / 60, t % 60, 10_000 + n)
}

/// `GET /access/token` with the fixture's developer token; the fresh access token.
async fn access_token(app: &TestApp) -> String {
    let (s, v) = app.get(&format!("/access/token?dev_id={DEV}&token={DEV_TOKEN}")).await;
    assert_eq!(s, 200, "{v}");
    assert_code(&v, 0);
    v["result"]["access_token"].as_str().expect("access_token").to_string()
}

/// A user joins a group publishing a camera and a microphone.
async fn join(app: &TestApp, group: &str, user: &str) {
    app.event(json!({ "type": "cloud_record.join", "app_id": APP, "group_id": group, "user_id": user,
                      "streams": cam_mic() }))
        .await;
}

/// A user leaves a group.
async fn leave(app: &TestApp, group: &str, user: &str) {
    app.event(json!({ "type": "cloud_record.leave", "app_id": APP, "group_id": group, "user_id": user }))
        .await;
}

/// An authenticated client of the vendor API.
struct Api<'a> {
    app: &'a TestApp,
    auth: String,
}

impl<'a> Api<'a> {
    /// Log in with an access token from `/access/token`.
    async fn login(app: &'a TestApp) -> Api<'a> {
        let auth = access_token(app).await;
        Api { app, auth }
    }

    /// A client sending `auth` as its `Authorization` header.
    fn with_auth(app: &'a TestApp, auth: &str) -> Api<'a> {
        Api { app, auth: auth.to_string() }
    }

    /// POST; vendor answers are HTTP 200.
    async fn post(&self, path: &str, body: Value) -> Value {
        let (s, v) = self.app.post_h(path, body, &[("Authorization", &self.auth)]).await;
        assert_eq!(s, 200, "POST {path}: {v}");
        v
    }

    /// GET with query parameters; vendor answers are HTTP 200.
    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let rb = self
            .app
            .client
            .get(format!("{}{path}", self.app.url))
            .query(query)
            .header("Authorization", &self.auth);
        let (s, v) = self.app.send(rb).await;
        assert_eq!(s, 200, "GET {path} {query:?}: {v}");
        v
    }

    /// `init` with `app_id`, `group_id` = `room` and `seq` filled in (overridable); the raw answer.
    async fn init_raw(&self, extra: Value) -> Value {
        self.post(
            "/v1/record/init",
            merge(json!({ "app_id": APP, "group_id": "room", "seq": "seq-1" }), extra),
        )
        .await
    }

    /// `init` that must succeed; the record id.
    async fn init(&self, extra: Value) -> String {
        let v = self.init_raw(extra).await;
        assert_code(&v, 0);
        v["record_id"].as_str().expect("record_id").to_string()
    }

    /// `suspend`, `resume` or `finish`.
    async fn cmd(&self, what: &str, rid: &str) -> Value {
        self.post(&format!("/v1/record/{what}"), json!({ "app_id": APP, "record_id": rid })).await
    }

    /// `set/layout` with `app_id`, `record_id` and `seq` filled in.
    async fn layout(&self, rid: &str, extra: Value) -> Value {
        self.post(
            "/v1/record/set/layout",
            merge(json!({ "app_id": APP, "record_id": rid, "seq": "L" }), extra),
        )
        .await
    }

    /// A layout of `u1`'s camera (with `extra` fields on the video entry) and microphone.
    async fn layout_u1(&self, rid: &str, video_extra: Value) -> Value {
        let video = merge(json!({ "user_id": "u1", "media_id": "0", "media_type": 2 }), video_extra);
        self.layout(
            rid,
            json!({ "audio_list": [{ "user_id": "u1", "media_id": "1", "media_type": 1 }], "video_list": [video] }),
        )
        .await
    }

    /// `task/list` with `app_id` and these filters.
    async fn list(&self, query: &[(&str, &str)]) -> Value {
        let mut q = vec![("app_id", APP)];
        q.extend_from_slice(query);
        self.get("/v1/record/task/list", &q).await
    }

    /// The record ids of a `task/list` answer, in order.
    async fn list_ids(&self, query: &[(&str, &str)]) -> Vec<String> {
        let v = self.list(query).await;
        assert_code(&v, 0);
        ids(&v["record_list"], "record_id")
    }

    /// A task's status as `task/list` shows it.
    async fn status(&self, rid: &str) -> i64 {
        let v = self.list(&[("record_id", rid)]).await;
        assert_eq!(v["total_num"], 1, "{v}");
        v["record_list"][0]["status"].as_i64().expect("status")
    }

    /// `file/download/url` of a task with extra query parameters.
    async fn files(&self, rid: &str, query: &[(&str, &str)]) -> Value {
        let mut q = vec![("app_id", APP), ("record_id", rid)];
        q.extend_from_slice(query);
        self.get("/v1/record/file/download/url", &q).await
    }

    /// `POST /v1/record/file`.
    async fn delete(&self, body: Value) -> Value {
        self.post("/v1/record/file", merge(json!({ "app_id": APP }), body)).await
    }
}

/// The `key` field of every element of a JSON array.
fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|r| r[key].as_str().expect("string field").to_string())
        .collect()
}

/// The parsed `extent` of a `data_list` entry.
fn extent(entry: &Value) -> Value {
    serde_json::from_str(entry["extent"].as_str().expect("extent is a string")).expect("extent is JSON")
}

/// Advance and assert a task's status after each step: `steps` = [(seconds, status)].
async fn expect_statuses(api: &Api<'_>, rid: &str, steps: &[(f64, i64)]) {
    for (i, (secs, want)) in steps.iter().enumerate() {
        api.app.advance(*secs).await;
        assert_eq!(api.status(rid).await, *want, "step {i}: after {secs} more seconds");
    }
}

// ===== authentication ==============================================================================

/// `GET /access/token` answers the seed's envelope with a 32-hex-digit token living `token_timeout_s`,
/// and refuses missing or wrong credentials with 606000000.
#[tokio::test]
async fn access_token_is_issued_and_bad_credentials_are_refused() {
    let app = spawn(one_account(json!({}))).await;
    let (s, v) = app.get(&format!("/access/token?dev_id={DEV}&token={DEV_TOKEN}")).await;
    assert_eq!(s, 200);
    assert_eq!(v["code"], 0);
    assert_eq!(v["msg"], "OK");
    assert_eq!(v["result"]["timeout"], 7200);
    let tok = v["result"]["access_token"].as_str().unwrap();
    assert_eq!(tok.len(), 32, "{tok}");
    assert!(tok.chars().all(|c| c.is_ascii_hexdigit()), "{tok}");

    for q in [
        format!("dev_id={DEV}"),
        format!("token={DEV_TOKEN}"),
        String::new(),
        format!("dev_id={DEV}&token=wrong"),
        format!("dev_id=nobody&token={DEV_TOKEN}"),
        format!("dev_id={DEV}&token={DEV_TOKEN}x"),
    ] {
        let (s, v) = app.get(&format!("/access/token?{q}")).await;
        assert_eq!(s, 200, "{q}: {v}");
        assert_eq!(code(&v), TOKEN_AUTH_FAILED, "{q}: {v}");
        assert!(v["msg"].as_str().unwrap().starts_with("Authentication failed"), "{v}");
        assert!(v.get("result").is_none(), "{v}");
    }
    app.stop().await;
}

/// Developer tokens made by the vendor's TokenGenerator (test-vectors.md) are accepted at `/access/token`
/// and in the `<dev_id>.<token>` header, with or without the generator's line break, and with a `+` that
/// travelled unencoded; a token for another app, made with another secret, changed by one character, or
/// past its `et` is refused.
#[tokio::test]
async fn token_generator_vectors_are_accepted_and_forgeries_refused() {
    let accounts = vec![
        account(json!({})),
        account(json!({ "dev_id": "dev_b", "token": "tok-b", "app_id": "other_app_b" })),
        account(
            json!({ "dev_id": "dev_c", "token": "tok-c", "app_id": "other_app_c", "app_secret": "fedcba9876543210" }),
        ),
        account(json!({ "dev_id": "dev_d", "token": "tok-d", "app_id": "other_app_d", "app_secret": null })),
    ];
    let app = spawn(fixture(accounts, json!([]))).await;
    let get_token = |dev: &'static str, tok: String| {
        let rb =
            app.client.get(format!("{}/access/token", app.url)).query(&[("dev_id", dev), ("token", &tok)]);
        async { app.send(rb).await.1 }
    };
    // As the generator prints them (line break included, properly encoded) and without the line break.
    for t in [V1.to_string(), V2.to_string(), V1.replace('\n', ""), V2.replace('\n', "")] {
        let v = get_token(DEV, t.clone()).await;
        assert_code(&v, 0);
        assert_eq!(v["result"]["access_token"].as_str().unwrap().len(), 32);
    }
    // A `+` sent unencoded arrives as a space and is read back as `+`.
    let raw = V2.replace('\n', "");
    assert!(raw.contains('+'));
    let (_, v) = app.get(&format!("/access/token?dev_id={DEV}&token={raw}")).await;
    assert_code(&v, 0);

    // One character changed, in the cipher text and in the prefix.
    let mut changed = V1.replace('\n', "");
    let c = if &changed[20..21] == "A" { "B" } else { "A" };
    changed.replace_range(20..21, c);
    assert_code(&get_token(DEV, changed.clone()).await, TOKEN_AUTH_FAILED);
    assert_code(&get_token(DEV, format!("002{}", &V1[3..])).await, TOKEN_AUTH_FAILED);
    // Made for demo_app_0001: refused by an account with the same secret but another app id,
    // by one with another secret, and by one without a secret (only its literal token counts).
    for dev in ["dev_b", "dev_c", "dev_d"] {
        assert_code(&get_token(dev, V1.to_string()).await, TOKEN_AUTH_FAILED);
    }

    // The header form `<dev_id>.<developer token>` with a generator token.
    let header = format!("{DEV}.{}", V1.replace('\n', ""));
    let api = Api::with_auth(&app, &header);
    let rid = api.init(json!({})).await;
    assert_eq!(rid, rid_at(0, 1));
    assert_code(&Api::with_auth(&app, &format!("{DEV}.{changed}")).init_raw(json!({})).await, AUTH_FAILED);
    assert_code(
        &Api::with_auth(&app, &format!("dev_c.{}", V1.replace('\n', ""))).init_raw(json!({})).await,
        AUTH_FAILED,
    );

    // Past its `et` vector 1 is refused; vector 2 has no expiry and still works.
    app.advance((V1_ET - T0) as f64).await;
    assert_code(&get_token(DEV, V1.to_string()).await, TOKEN_AUTH_FAILED);
    assert_code(&api.init_raw(json!({ "group_id": "later" })).await, AUTH_FAILED);
    assert_code(&get_token(DEV, V2.to_string()).await, 0);
    app.stop().await;
}

/// `Authorization` may be the bare access token, `Bearer <token>`, or `<dev_id>.<token>`; a missing or
/// empty header is 6050030006, an unknown token or dev id 6050030007, and an `app_id` in the body or query
/// that is not the token's account 6050030007 (missing: 6050030003).
#[tokio::test]
async fn authorization_header_forms() {
    let accounts =
        vec![account(json!({})), account(json!({ "dev_id": "dev_b", "token": "tok-b", "app_id": "app_b" }))];
    let app = spawn(fixture(accounts, json!([]))).await;
    let tok = access_token(&app).await;
    let body = json!({ "app_id": APP, "group_id": "g", "seq": "1" });

    let mut n = 0;
    for auth in [tok.clone(), format!("Bearer {tok}"), format!("{DEV}.{DEV_TOKEN}"), format!("  {tok}  ")] {
        n += 1;
        let v = Api::with_auth(&app, &auth).init_raw(json!({ "group_id": format!("g{n}") })).await;
        assert_code(&v, 0);
        assert_eq!(v["record_id"], rid_at(0, n), "{auth}: {v}");
    }

    // No header at all, and an empty one.
    let (s, v) = app.post("/v1/record/init", body.clone()).await;
    assert_eq!(s, 200);
    assert_code(&v, NOT_LOGGED_IN);
    assert!(v["msg"].as_str().unwrap().starts_with("未登录"), "{v}");
    let (_, v) = app.post_h("/v1/record/init", body.clone(), &[("Authorization", "")]).await;
    assert_code(&v, NOT_LOGGED_IN);
    let (_, v) = app.get(&format!("/v1/record/task/list?app_id={APP}")).await;
    assert_code(&v, NOT_LOGGED_IN);

    // Unknown token, unknown dev id, wrong developer token.
    for bad in ["0123456789abcdef0123456789abcdef", "nobody.demo-token-0001", "demo_dev_0001.wrong"] {
        let v = Api::with_auth(&app, bad).init_raw(json!({})).await;
        assert_code(&v, AUTH_FAILED);
        assert!(v["msg"].as_str().unwrap().starts_with("鉴权失败"), "{v}");
    }

    // The token is good, but the app_id belongs to another account (or is missing).
    let api = Api::with_auth(&app, &tok);
    assert_code(&api.init_raw(json!({ "app_id": "app_b" })).await, AUTH_FAILED);
    assert_code(&api.init_raw(json!({ "app_id": null })).await, BAD_PARAMS);
    assert_code(&api.get("/v1/record/task/list", &[("app_id", "app_b")]).await, AUTH_FAILED);
    assert_code(&api.get("/v1/record/task/list", &[]).await, BAD_PARAMS);
    let rid = rid_at(0, 1);
    assert_code(
        &api.post("/v1/record/finish", json!({ "app_id": "app_b", "record_id": rid })).await,
        AUTH_FAILED,
    );
    // app_b's own credentials do not reach demo_app_0001's tasks.
    let b = Api::with_auth(&app, "dev_b.tok-b");
    assert_code(&b.post("/v1/record/finish", json!({ "app_id": APP, "record_id": rid })).await, AUTH_FAILED);
    let v = b.post("/v1/record/finish", json!({ "app_id": "app_b", "record_id": rid })).await;
    assert_code(&v, CONTEXT_NOT_FOUND);
    assert_eq!(api.status(&rid).await, 1);
    app.stop().await;
}

/// An access token expires exactly `token_timeout_s` after it was issued (606000001), and getting a new
/// token supersedes the old one (606000001 too); the new one works.
#[tokio::test]
async fn access_token_expiry_and_supersession() {
    let app = spawn(one_account(json!({ "token_timeout_s": 100 }))).await;
    let (_, v) = app.get(&format!("/access/token?dev_id={DEV}&token={DEV_TOKEN}")).await;
    assert_eq!(v["result"]["timeout"], 100);
    let first = Api::with_auth(&app, v["result"]["access_token"].as_str().unwrap());
    app.advance(99.0).await;
    assert_code(&first.list(&[]).await, 0);
    app.advance(1.0).await;
    let v = first.list(&[]).await;
    assert_code(&v, TOKEN_TIMEOUT);
    assert!(v["msg"].as_str().unwrap().starts_with("access_token timeout"), "{v}");
    assert_code(&first.init_raw(json!({})).await, TOKEN_TIMEOUT);

    let second = Api::login(&app).await;
    assert_code(&second.list(&[]).await, 0);
    let third = Api::login(&app).await;
    assert_ne!(second.auth, third.auth);
    assert_code(&second.list(&[]).await, TOKEN_TIMEOUT);
    assert_code(&second.init_raw(json!({})).await, TOKEN_TIMEOUT);
    assert_code(&third.list(&[]).await, 0);
    // The developer-token header form does not expire.
    app.advance(1000.0).await;
    assert_code(&third.list(&[]).await, TOKEN_TIMEOUT);
    assert_code(&Api::with_auth(&app, &format!("{DEV}.{DEV_TOKEN}")).list(&[]).await, 0);
    app.stop().await;
}

/// `GET /server/address?appType=10` answers recmock's own URL, appType 8 the same host as `ws://` (the
/// event-gateway WebSocket itself is not emulated: its handshake gets 501); another type or none answer
/// 6050030003. `POST /generate/token` makes a developer token that `/access/token` accepts, and refuses a
/// wrong secret or app id with 606000000.
#[tokio::test]
async fn server_address_and_generate_token() {
    let app = spawn(one_account(json!({}))).await;
    let (s, v) = app.get("/server/address?appType=10").await;
    assert_eq!(s, 200);
    assert_eq!(v, json!({ "code": 0, "message": "OK", "result": app.url }));
    let (s, v) = app.get("/server/address?appType=8").await;
    assert_eq!(s, 200);
    let ws = app.url.replace("http://", "ws://");
    assert_eq!(v, json!({ "code": 0, "message": "OK", "result": ws }));
    // The event gateway takes the handshake at `/` (tests/it/gateway.rs); anywhere else it is refused plainly.
    let handshake = |path: &str| {
        app.client
            .get(format!("{}{path}", app.url))
            .header("Connection", "Upgrade")
            .header("Upgrade", "websocket")
            .header("Sec-WebSocket-Version", "13")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
    };
    assert_eq!(handshake("/").send().await.unwrap().status(), 101);
    let (s, v) = app.send(handshake("/ws")).await;
    assert_eq!(s, 501, "{v}");
    assert!(v["error"].as_str().unwrap().contains("WebSocket"), "{v}");
    for q in ["?appType=9", ""] {
        let (s, v) = app.get(&format!("/server/address{q}")).await;
        assert_eq!(s, 200);
        assert_eq!(code(&v), BAD_PARAMS, "{q}: {v}");
        assert!(v.get("result").is_none(), "{v}");
    }

    let (s, v) = app.post("/generate/token", json!({ "appId": APP, "appSecret": SECRET })).await;
    assert_eq!(s, 200);
    assert_code(&v, 0);
    let dev_token = v["result"].as_str().unwrap().to_string();
    assert!(dev_token.starts_with("001"), "{dev_token}");
    let rb =
        app.client.get(format!("{}/access/token", app.url)).query(&[("dev_id", DEV), ("token", &dev_token)]);
    assert_code(&app.send(rb).await.1, 0);
    // The made token also works directly in the header form.
    assert_code(&Api::with_auth(&app, &format!("{DEV}.{dev_token}")).list(&[]).await, 0);

    for body in [
        json!({ "appId": APP, "appSecret": "0123456789abcdeX" }),
        json!({ "appId": "nope", "appSecret": SECRET }),
        json!({ "appId": APP }),
    ] {
        let (_, v) = app.post("/generate/token", body.clone()).await;
        assert_eq!(code(&v), TOKEN_AUTH_FAILED, "{body}: {v}");
    }
    let (_, v) = app.post_raw("/generate/token", b"{nope", &[("content-type", "application/json")]).await;
    assert_code(&v, JSON_PARSE);
    app.stop().await;
}

// ===== init ======================================================================================

/// `init` answers `{code 0, msg OK, id 8194, seq, record_id}` with record ids `YYYYMMDDHHMMSS_<n>`
/// (Beijing time, n from 10001); a manual task is listed with status 1, an `auto` one with 2 and its
/// `auto` settings (defaults filled in); unknown fields are ignored and trailing commas tolerated.
#[tokio::test]
async fn init_manual_and_auto() {
    let app = spawn(one_account(json!({}))).await;
    let api = Api::login(&app).await;
    let v = api.init_raw(json!({ "seq": "abc", "white_board": true })).await;
    assert_eq!(v, json!({ "code": 0, "msg": "OK", "id": 8194, "seq": "abc", "record_id": rid_at(0, 1) }));
    app.advance(65.0).await;
    let v = api
        .init_raw(json!({ "group_id": "other", "seq": 7, "auto": { "type": 2, "user_id": 2, "main_media_type": 2 } }))
        .await;
    assert_code(&v, 0);
    assert_eq!(v["seq"], "7");
    assert_eq!(v["record_id"], rid_at(65, 2));
    let auto_id = rid_at(65, 2);

    let list = api.list(&[]).await;
    assert_eq!(list["total_num"], 2);
    let manual = &list["record_list"][0];
    assert_eq!(manual["record_id"], rid_at(0, 1));
    assert_eq!(manual["status"], 1);
    assert_eq!(manual["group_id"], "room");
    assert_eq!(manual["record_mode"], 0);
    assert_eq!(manual["start_time"], bj(0));
    assert_eq!(manual["stop_time"], "");
    assert!(manual.get("auto").is_none(), "{manual}");
    let auto = &list["record_list"][1];
    assert_eq!(auto["record_id"], auto_id);
    assert_eq!(auto["status"], 2);
    assert_eq!(auto["start_time"], bj(65));
    assert_eq!(
        auto["auto"],
        json!({ "type": 2, "user_id": "2", "media_type": 2, "media_count": 9, "crop_mode": 2 })
    );

    // `auto: {}` is an automatic task with all defaults; `auto: null` is a manual one.
    let rid = api.init(json!({ "group_id": "g3", "auto": {} })).await;
    assert_eq!(api.status(&rid).await, 2);
    let rid = api.init(json!({ "group_id": "g4", "auto": null })).await;
    assert_eq!(api.status(&rid).await, 1);

    // The seed's own example style: a trailing comma before `}`.
    let body = format!("{{\"app_id\":\"{APP}\",\"group_id\":\"g5\",\"seq\":\"x\",\n}}");
    let (s, v) = app
        .post_raw(
            "/v1/record/init",
            body.as_bytes(),
            &[("Authorization", &api.auth), ("content-type", "application/json")],
        )
        .await;
    assert_eq!(s, 200);
    assert_code(&v, 0);
    assert_eq!(v["record_id"], rid_at(65, 5));
    app.stop().await;
}

/// Every documented range of `init` at and just past its edges: accepted values create a task, refused
/// ones answer 6050030003 naming the field, echo `seq`, and create nothing.
#[tokio::test]
async fn init_range_edges() {
    let app = spawn(one_account(json!({ "max_tasks": 1000 }))).await;
    let api = Api::login(&app).await;
    let cases: Vec<(Value, bool)> = vec![
        (json!({ "file_duration": 14 }), false),
        (json!({ "file_duration": 15 }), true),
        (json!({ "file_duration": 300 }), true),
        (json!({ "file_duration": 301 }), false),
        (json!({ "width": 0 }), false),
        (json!({ "width": 1 }), true),
        (json!({ "width": 1920 }), true),
        (json!({ "width": 1921 }), false),
        (json!({ "height": 0 }), false),
        (json!({ "height": 1 }), true),
        (json!({ "height": 1080 }), true),
        (json!({ "height": 1081 }), false),
        (json!({ "frame_rate": 0 }), false),
        (json!({ "frame_rate": 1 }), true),
        (json!({ "frame_rate": 30 }), true),
        (json!({ "frame_rate": 31 }), false),
        (json!({ "timeout": 4 }), false),
        (json!({ "timeout": 5 }), true),
        (json!({ "timeout": 1800 }), true),
        (json!({ "timeout": 1801 }), false),
        (json!({ "file_type": -1 }), false),
        (json!({ "file_type": 0 }), true),
        (json!({ "file_type": 1 }), true),
        (json!({ "file_type": 2 }), false),
        (json!({ "record_mode": 0 }), true),
        (json!({ "record_mode": 1 }), false),
        (json!({ "auto": { "media_count": 0 } }), false),
        (json!({ "auto": { "media_count": 1 } }), true),
        (json!({ "auto": { "media_count": 9 } }), true),
        (json!({ "auto": { "media_count": 10 } }), false),
        (json!({ "auto": { "crop_mode": 0 } }), false),
        (json!({ "auto": { "crop_mode": 1 } }), true),
        (json!({ "auto": { "crop_mode": 3 } }), true),
        (json!({ "auto": { "crop_mode": 4 } }), false),
        (json!({ "auto": { "type": 0 } }), false),
        (json!({ "auto": { "type": 1 } }), true),
        (json!({ "auto": { "type": 2 } }), true),
        (json!({ "auto": { "type": 3 } }), false),
        (json!({ "auto": { "media_type": 1 } }), false),
        (json!({ "auto": { "media_type": 2 } }), true),
    ];
    let mut created = 0;
    for (i, (extra, accepted)) in cases.iter().enumerate() {
        // A group per case, so auto tasks never meet (6050030038).
        let body = merge(extra.clone(), json!({ "group_id": format!("edge{i}"), "seq": format!("s{i}") }));
        let v = api.init_raw(body).await;
        if *accepted {
            assert_code(&v, 0);
            created += 1;
        } else {
            assert_eq!(code(&v), BAD_PARAMS, "{extra} should be refused: {v}");
            let field = extra.as_object().unwrap().keys().next().unwrap().clone();
            let msg = v["msg"].as_str().unwrap();
            assert!(msg.starts_with("参数错误") && msg.contains(&field), "{msg}");
            assert_eq!(v["seq"], format!("s{i}"), "seq is echoed on errors: {v}");
            assert!(v.get("record_id").is_none(), "{v}");
        }
    }
    assert_eq!(created, cases.iter().filter(|c| c.1).count());
    let list = api.list(&[]).await;
    assert_eq!(list["total_num"], created);

    // The accepted settings are the task's: file_type 1 gives mp3, recorded as such in the list.
    let mp3 = api.list(&[("group_id", "edge22")]).await;
    assert_eq!(mp3["record_list"][0]["file_type"], 1);
    app.stop().await;
}

/// Unparsable bodies are 6050030005 (syntax errors, empty body, not an object, oversize with HTTP 413);
/// wrong types and missing required fields are 6050030003 naming the field.
#[tokio::test]
async fn malformed_requests() {
    let app = spawn_with(Spawn {
        fixtures: vec![with_clock(one_account(json!({}))).to_string()],
        max_body_bytes: 2048,
        ..Spawn::default()
    })
    .await;
    let api = Api::login(&app).await;
    let h = [("Authorization", api.auth.as_str()), ("content-type", "application/json")];
    for body in [&b"{\"app_id\":"[..], b"", b"   ", b"[1,2]", b"\"text\"", b"not json"] {
        let (s, v) = app.post_raw("/v1/record/init", body, &h).await;
        assert_eq!(s, 200);
        assert_eq!(code(&v), JSON_PARSE, "{:?}: {v}", String::from_utf8_lossy(body));
        assert!(v["msg"].as_str().unwrap().starts_with("json解析错误"), "{v}");
    }
    // The seed's layout example writes arrays with `{ }`: not JSON.
    let seed_layout = format!(
        "{{\"app_id\":\"{APP}\",\"record_id\":\"x\",\"seq\":\"1\",\"audio_list\":{{ {{\"user_id\":\"a\",\"media_id\":1,\"media_type\":1}} }} }}"
    );
    let (_, v) = app.post_raw("/v1/record/set/layout", seed_layout.as_bytes(), &h).await;
    assert_code(&v, JSON_PARSE);

    let big = json!({ "app_id": APP, "group_id": "g", "seq": "1", "pad": "x".repeat(4096) });
    let (s, v) = app.post_h("/v1/record/init", big, &[("Authorization", &api.auth)]).await;
    assert_eq!(s, 413);
    assert_code(&v, JSON_PARSE);

    for (extra, field) in [
        (json!({ "width": "wide" }), "width"),
        (json!({ "timeout": 1.5 }), "timeout"),
        (json!({ "auto": 5 }), "auto"),
        (json!({ "auto": { "media_count": "9" } }), "media_count"),
        (json!({ "group_id": null }), "group_id"),
        (json!({ "group_id": "" }), "group_id"),
        (json!({ "file_name": "a/b" }), "file_name"),
        (json!({ "file_name": "" }), "file_name"),
        (json!({ "group_id": [1] }), "group_id"),
    ] {
        let v = api.init_raw(extra.clone()).await;
        assert_eq!(code(&v), BAD_PARAMS, "{extra}: {v}");
        assert!(v["msg"].as_str().unwrap().contains(field), "{extra}: {v}");
    }
    for (path, body) in [
        ("/v1/record/suspend", json!({ "app_id": APP })),
        ("/v1/record/finish", json!({ "app_id": APP, "record_id": {} })),
        ("/v1/record/set/layout", json!({ "app_id": APP, "record_id": "r", "seq": "1", "video_list": "x" })),
        ("/v1/record/file", json!({ "app_id": APP, "mode": 1, "record_list": "x" })),
    ] {
        let v = api.post(path, body.clone()).await;
        assert_eq!(code(&v), BAD_PARAMS, "{path} {body}: {v}");
    }
    assert_eq!(api.list(&[]).await["total_num"], 0);
    // Wrong methods answer a JSON 405, never HTML.
    for (method, path) in [
        ("GET", "/v1/record/suspend"),
        ("POST", "/v1/record/task/list"),
        ("POST", "/access/token"),
        ("GET", "/v1/record/file"),
    ] {
        let rb = app.client.request(method.parse().unwrap(), format!("{}{path}", app.url));
        let (s, v) = app.send(rb).await;
        assert_eq!(s, 405, "{method} {path}: {v}");
        assert!(v["error"].is_string(), "{v}");
    }
    app.stop().await;
}

/// The account and group load limits (6050030009, 6050030010), a duplicate file name in a group's active
/// task (6050030012) and a second auto task in a group (6050030038); all count only active tasks.
#[tokio::test]
async fn load_limits_and_duplicates() {
    let app = spawn(one_account(json!({ "max_tasks": 3, "max_group_tasks": 2 }))).await;
    let api = Api::login(&app).await;
    let a = api.init(json!({ "group_id": "g1", "file_name": "lesson" })).await;
    // Same file name in the same group: 12; in another group: fine.
    let v = api.init_raw(json!({ "group_id": "g1", "file_name": "lesson", "seq": "dup" })).await;
    assert_code(&v, CONTEXT_EXISTS);
    assert_eq!(v["seq"], "dup");
    let b = api.init(json!({ "group_id": "g1", "auto": {} })).await;
    // Group g1 has 2 active tasks.
    assert_code(&api.init_raw(json!({ "group_id": "g1" })).await, LIMIT_GROUP);
    let c = api.init(json!({ "group_id": "g2", "file_name": "lesson" })).await;
    // The account has 3 active tasks.
    let v = api.init_raw(json!({ "group_id": "g3" })).await;
    assert_code(&v, LIMIT_ACCOUNT);
    assert!(v["msg"].as_str().unwrap().starts_with("服务器上下文已达负载上限"), "{v}");

    // Finishing frees the account and the group, and the file name.
    assert_code(&api.cmd("finish", &c).await, 0);
    assert_code(&api.init_raw(json!({ "group_id": "g1" })).await, LIMIT_GROUP);
    assert_code(&api.cmd("finish", &a).await, 0);
    // g1 still has its auto task: a second auto one is refused, a manual one reuses the file name.
    assert_code(&api.init_raw(json!({ "group_id": "g1", "auto": { "type": 1 } })).await, AUTO_EXISTS);
    api.init(json!({ "group_id": "g1", "file_name": "lesson" })).await;
    assert_code(&api.cmd("finish", &b).await, 0);
    // The auto task ended: a new auto task in g1 is allowed again.
    api.init(json!({ "group_id": "g1", "auto": {} })).await;
    assert_eq!(api.list(&[("group_id", "g1")]).await["total_num"], 4);
    app.stop().await;
}

/// `init` is refused with 6050030008 once the account's stored files fill `quota_bytes`; a task whose
/// upload would overrun the quota fails (-1) instead of finishing; deleting files frees the space.
#[tokio::test]
async fn storage_quota() {
    // One second of video (at the default 250,000 bytes per second).
    let app = spawn(one_account(json!({ "quota_bytes": 250_000 }))).await;
    join(&app, "room", "u1").await;
    let api = Api::login(&app).await;

    let too_big = api.init(json!({ "auto": {} })).await;
    app.advance(2.0).await;
    let v = api.cmd("finish", &too_big).await;
    assert_eq!(v["media_duration"], 2);
    app.advance(20.0).await;
    assert_eq!(api.status(&too_big).await, -1);
    assert_eq!(api.files(&too_big, &[]).await["total_num"], 0);

    let fits = api.init(json!({ "auto": {} })).await;
    app.advance(1.0).await;
    assert_code(&api.cmd("finish", &fits).await, 0);
    app.advance(20.0).await;
    assert_eq!(api.status(&fits).await, 6);
    let f = api.files(&fits, &[]).await;
    assert_eq!(extent(&f["data_list"][0])["size"], 250_000);

    let v = api.init_raw(json!({ "group_id": "next", "seq": "q" })).await;
    assert_code(&v, NO_SPACE);
    assert!(v["msg"].as_str().unwrap().starts_with("剩余空间不足"), "{v}");
    assert_eq!(v["seq"], "q");

    assert_eq!(
        api.delete(json!({ "mode": 2, "record_list": [fits] })).await,
        json!({ "code": 0, "msg": "ok" })
    );
    api.init(json!({ "group_id": "next" })).await;
    app.stop().await;
}

/// A fault rule answers a code only the vendor's media servers produce (6050030016) in the vendor's own
/// envelope with the seed's description, for as many requests as it says; then `init` works again.
#[tokio::test]
async fn fault_rule_code_in_vendor_envelope() {
    let app = spawn(one_account(json!({}))).await;
    let api = Api::login(&app).await;
    let (s, v) = app
        .post(
            "/__admin/faults",
            json!({ "match": { "vendor": "cloud_record", "path": "/v1/record/init" },
                    "action": { "error_code": 6_050_030_016i64 }, "times": 1 }),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    // Other paths are not affected.
    assert_code(&api.list(&[]).await, 0);
    let v = api.init_raw(json!({})).await;
    assert_eq!(v, json!({ "code": 6_050_030_016i64, "msg": "给资源平台发送命令失败" }));
    assert_eq!(api.list(&[]).await["total_num"], 0, "the faulted request created nothing");
    let rid = api.init(json!({})).await;
    assert_eq!(rid, rid_at(0, 1));
    app.stop().await;
}

// ===== layout ====================================================================================

/// `set/layout` starts a manual task (1 → 2), may be repeated, and refuses: a repeated stream (04), too many
/// inputs (11), a missing audio input (22), a missing or wrongly typed video input (24), an mp4 task without
/// video (25), an mp3 task with video (26), both lists empty (03), a suspended task (33), an auto task (35),
/// and an unknown or ended task (01). Refusals echo `record_id` and `seq`.
#[tokio::test]
async fn layout_rules_and_errors() {
    let app = spawn(fixture(vec![account(json!({ "max_layout_inputs": 3 }))], room_groups())).await;
    let api = Api::login(&app).await;
    let rid = api.init(json!({})).await;
    assert_eq!(api.status(&rid).await, 1);
    let v = api
        .layout(
            &rid,
            json!({ "seq": "L1",
                    "audio_list": [{ "user_id": "u1", "media_id": 1, "media_type": 1 }],
                    "video_list": [{ "user_id": "u1", "media_id": 0, "media_type": 2, "crop_mode": 3, "w": 530, "h": 380 },
                                   { "user_id": "u2", "media_id": "0", "media_type": 2, "crop_mode": 3, "x": 531, "w": 530, "h": 380 }] }),
        )
        .await;
    assert_eq!(v, json!({ "code": 0, "msg": "OK", "seq": "L1", "record_id": rid }));
    assert_eq!(api.status(&rid).await, 2);

    let a1 = json!({ "user_id": "u1", "media_id": "1", "media_type": 1 });
    let cam = |u: &str, m: &str, t: i64| json!({ "user_id": u, "media_id": m, "media_type": t });
    let cases: Vec<(Value, i64)> = vec![
        (json!({ "video_list": [cam("u1", "0", 2), cam("u1", "0", 2)] }), LINK_EXISTS),
        (json!({ "audio_list": [a1.clone(), a1.clone()], "video_list": [cam("u1", "0", 2)] }), LINK_EXISTS),
        (
            json!({ "audio_list": [a1.clone()], "video_list": [cam("u1", "0", 2), cam("u2", "0", 2), cam("u1", "s", 0)] }),
            LIMIT_INPUTS,
        ),
        (
            json!({ "audio_list": [{ "user_id": "u2", "media_id": "1", "media_type": 1 }], "video_list": [cam("u1", "0", 2)] }),
            OUTPUT_INPUT_MISSING,
        ),
        (json!({ "video_list": [cam("u9", "0", 2)] }), OUTPUT_INPUT_MISSING),
        (json!({ "video_list": [cam("u1", "1", 2)] }), OUTPUT_INPUT_MISSING),
        (json!({ "video_list": [cam("u1", "s", 2)] }), OUTPUT_INPUT_MISSING),
        (json!({ "video_list": [cam("u1", "0", 0)] }), OUTPUT_INPUT_MISSING),
        (json!({ "audio_list": [a1.clone()] }), CANVAS_WITHOUT_LAYOUT),
        (json!({ "audio_list": [], "video_list": [] }), BAD_PARAMS),
        (json!({}), BAD_PARAMS),
        (json!({ "audio_list": [{ "user_id": "u1", "media_id": "1", "media_type": 2 }] }), BAD_PARAMS),
        (json!({ "video_list": [cam("u1", "0", 1)] }), BAD_PARAMS),
        (json!({ "video_list": [{ "user_id": "u1", "media_id": "0" }] }), BAD_PARAMS),
    ];
    for (body, want) in &cases {
        let v = api.layout(&rid, body.clone()).await;
        assert_eq!(code(&v), *want, "{body}: {v}");
        assert_eq!(v["record_id"], rid, "{v}");
        if body.get("seq").is_none() {
            assert_eq!(v["seq"], "L", "{v}");
        }
    }
    // Exactly max_layout_inputs inputs, screen share included: fine.
    let v = api
        .layout(
            &rid,
            json!({ "audio_list": [a1.clone()], "video_list": [cam("u1", "s", 0), cam("u2", "0", 2)] }),
        )
        .await;
    assert_code(&v, 0);

    // Audio-only task: video is refused (26), audio alone is fine.
    let mp3 = api.init(json!({ "file_type": 1 })).await;
    assert_code(
        &api.layout(&mp3, json!({ "audio_list": [a1.clone()], "video_list": [cam("u1", "0", 2)] })).await,
        LAYOUT_WITHOUT_CANVAS,
    );
    assert_eq!(api.status(&mp3).await, 1);
    assert_code(&api.layout(&mp3, json!({ "audio_list": [a1.clone()] })).await, 0);
    assert_eq!(api.status(&mp3).await, 2);

    // Suspended: 33; resumed: fine again.
    assert_code(&api.cmd("suspend", &rid).await, 0);
    let v = api.layout_u1(&rid, json!({})).await;
    assert_code(&v, PAUSED_LAYOUT);
    assert_eq!(v["seq"], "L");
    assert_code(&api.cmd("resume", &rid).await, 0);
    assert_code(&api.layout_u1(&rid, json!({})).await, 0);

    // Auto task: 35.
    let auto = api.init(json!({ "auto": {} })).await;
    assert_code(&api.layout_u1(&auto, json!({})).await, AUTO_NO_MANUAL_LAYOUT);

    // Unknown task, ended task: 01.
    let v = api.layout_u1("20260101080000_99999", json!({})).await;
    assert_code(&v, CONTEXT_NOT_FOUND);
    assert_eq!(v["record_id"], "20260101080000_99999");
    assert_code(&api.cmd("finish", &rid).await, 0);
    assert_code(&api.layout_u1(&rid, json!({})).await, CONTEXT_NOT_FOUND);
    app.stop().await;
}

/// The ranges of a video entry at and past their edges: x [0,1920], y [0,1080], w [1,1920], h [1,1080],
/// crop_mode [1,3].
#[tokio::test]
async fn layout_range_edges() {
    let app = spawn(fixture(vec![account(json!({}))], room_groups())).await;
    let api = Api::login(&app).await;
    let rid = api.init(json!({})).await;
    let cases = [
        ("x", -1, false),
        ("x", 0, true),
        ("x", 1920, true),
        ("x", 1921, false),
        ("y", -1, false),
        ("y", 0, true),
        ("y", 1080, true),
        ("y", 1081, false),
        ("w", 0, false),
        ("w", 1, true),
        ("w", 1920, true),
        ("w", 1921, false),
        ("h", 0, false),
        ("h", 1, true),
        ("h", 1080, true),
        ("h", 1081, false),
        ("crop_mode", 0, false),
        ("crop_mode", 1, true),
        ("crop_mode", 3, true),
        ("crop_mode", 4, false),
    ];
    for (field, value, accepted) in cases {
        let v = api.layout_u1(&rid, json!({ field: value })).await;
        if accepted {
            assert_code(&v, 0);
        } else {
            assert_eq!(code(&v), BAD_PARAMS, "{field}={value}: {v}");
            assert!(v["msg"].as_str().unwrap().contains(&format!("video_list[0].{field}")), "{v}");
        }
    }
    app.stop().await;
}

// ===== suspend / resume / finish =================================================================

/// The state rules of the task commands: suspend only while recording (39 otherwise), resume of a
/// recording task is harmless and of a never-started one is 03, finish of a status-1 task is allowed and
/// produces nothing, and every command on an ended or unknown task is 01 (echoing `record_id`).
#[tokio::test]
async fn task_command_state_rules() {
    let app = spawn(fixture(vec![account(json!({}))], room_groups())).await;
    let api = Api::login(&app).await;
    let rid = api.init(json!({})).await;
    let v = api.cmd("suspend", &rid).await;
    assert_code(&v, CANNOT_SUSPEND);
    assert!(v["msg"].as_str().unwrap().starts_with("不能暂停"), "{v}");
    assert_eq!(v["record_id"], rid);
    assert_code(&api.cmd("resume", &rid).await, BAD_PARAMS);
    assert_code(&api.layout_u1(&rid, json!({})).await, 0);
    assert_eq!(api.cmd("resume", &rid).await, json!({ "code": 0, "msg": "OK", "record_id": rid }));
    assert_eq!(api.cmd("suspend", &rid).await, json!({ "code": 0, "msg": "OK", "record_id": rid }));
    assert_eq!(api.status(&rid).await, 7);
    assert_code(&api.cmd("suspend", &rid).await, CANNOT_SUSPEND);
    assert_code(&api.cmd("resume", &rid).await, 0);
    assert_eq!(api.status(&rid).await, 2);
    // Finishing a suspended task is allowed too.
    assert_code(&api.cmd("suspend", &rid).await, 0);
    app.advance(30.0).await;
    let v = api.cmd("finish", &rid).await;
    assert_eq!(
        v,
        json!({ "code": 0, "msg": "OK", "record_id": rid, "media_duration": 0, "record_duration": 30, "flow": 0 })
    );
    for what in ["suspend", "resume", "finish"] {
        let v = api.cmd(what, &rid).await;
        assert_code(&v, CONTEXT_NOT_FOUND);
        assert_eq!(v["record_id"], rid);
        let v = api.cmd(what, "no-such-task").await;
        assert_code(&v, CONTEXT_NOT_FOUND);
        assert_eq!(v["record_id"], "no-such-task");
    }

    // A manual task finished before any layout: 3 → 4 → 5 → 6 with no files.
    let idle = api.init(json!({ "group_id": "g2" })).await;
    let v = api.cmd("finish", &idle).await;
    assert_eq!((v["media_duration"].as_i64(), v["flow"].as_i64()), (Some(0), Some(0)));
    expect_statuses(&api, &idle, &[(0.0, 3), (5.0, 4), (10.0, 5), (5.0, 6)]).await;
    let f = api.files(&idle, &[]).await;
    assert_eq!((f["total_num"].as_i64(), f["status"].as_i64()), (Some(0), Some(6)));
    assert_eq!(f["data_list"], json!([]));
    app.stop().await;
}

// ===== the whole lifecycle and the files ==========================================================

/// Join streams, init with 15-minute segments, layout, record 10 min, suspend 5 min (listed as 7),
/// resume, record 30 min, finish: media 2400 s, task 2700 s, flow in KiB; then 3 → 4 → 5 → 6 exactly at
/// +5, +15, +20 s; three files of 900, 900 and 600 s whose downloaded bytes have the reported size and MD5.
#[tokio::test]
async fn full_lifecycle_produces_downloadable_segments() {
    let app = spawn(small(one_account(json!({})))).await;
    join(&app, "room", "u1").await;
    let api = Api::login(&app).await;
    let rid =
        api.init(small_canvas(json!({ "file_name": "lesson", "file_duration": 15, "timeout": 60 }))).await;
    assert_eq!(api.status(&rid).await, 1);
    assert_code(&api.layout_u1(&rid, json!({})).await, 0);
    assert_eq!(api.status(&rid).await, 2);
    app.advance(600.0).await;
    assert_code(&api.cmd("suspend", &rid).await, 0);
    assert_eq!(api.list_ids(&[("status", "7")]).await, vec![rid.clone()]);
    assert!(api.list_ids(&[("status", "2")]).await.is_empty());
    app.advance(300.0).await;
    assert_eq!(api.status(&rid).await, 7, "a suspended task with streams present is not idle");
    assert_code(&api.cmd("resume", &rid).await, 0);
    app.advance(1800.0).await;
    let v = api.cmd("finish", &rid).await;
    let total_bytes: u64 = 2400 * SMALL_BPS;
    assert_eq!(
        v,
        json!({ "code": 0, "msg": "OK", "record_id": rid, "media_duration": 2400, "record_duration": 2700,
                "flow": total_bytes.div_ceil(1024) })
    );
    // Default timings: 5 s queued, 10 s encoding, 5 s uploading.
    assert_eq!(api.status(&rid).await, 3);
    assert_eq!(api.files(&rid, &[]).await["total_num"], 0, "no files before status 6");
    expect_statuses(&api, &rid, &[(4.0, 3), (1.0, 4), (9.0, 4), (1.0, 5), (4.0, 5), (1.0, 6)]).await;
    let row = &api.list(&[("record_id", &rid)]).await["record_list"][0];
    assert_eq!(row["start_time"], bj(0));
    assert_eq!(row["stop_time"], bj(2700));
    assert_eq!(row["file_name"], "lesson");

    let f = api.files(&rid, &[]).await;
    assert_code(&f, 0);
    assert_eq!(f["total_num"], 3);
    assert_eq!(f["status"], 6);
    let list = f["data_list"].as_array().unwrap();
    assert_eq!(ids(&f["data_list"], "file_name"), vec!["lesson_1.mp4", "lesson_2.mp4", "lesson_3.mp4"]);
    let mut sum = 0;
    for (i, (entry, secs)) in list.iter().zip([900u64, 900, 600]).enumerate() {
        let e = extent(entry);
        assert_eq!(e["index"], i + 1);
        assert_eq!(e["duration"], secs);
        assert_eq!(e["size"], secs * SMALL_BPS);
        assert_eq!(e["format"], "mp4");
        let url = entry["url"].as_str().unwrap();
        assert!(url.starts_with(&format!("{}/files/", app.url)), "{url}");
        assert!(url.ends_with(&format!("/lesson_{}.mp4", i + 1)), "{url}");
        let (s, bytes) = app.bytes(url).await;
        assert_eq!(s, 200);
        assert_eq!(bytes.len() as u64, secs * SMALL_BPS);
        let md5 = entry["md5"].as_str().unwrap();
        assert_eq!(md5.len(), 32);
        assert_eq!(md5_hex(&bytes), md5, "file {}", i + 1);
        assert_eq!(&bytes[4..8], b"ftyp", "an mp4 container header");
        sum += bytes.len() as u64;
    }
    assert_eq!(sum, total_bytes);
    // Distinct files have distinct bytes.
    assert_ne!(list[0]["md5"], list[1]["md5"]);
    app.stop().await;
}

/// File downloads honour `Range`: a slice answers 206 with `Content-Range` and exactly those bytes, a
/// suffix and an open range too; a range past the end answers 416.
#[tokio::test]
async fn range_downloads() {
    let app = spawn(small(one_account(json!({})))).await;
    join(&app, "room", "u1").await;
    let api = Api::login(&app).await;
    let rid = api.init(small_canvas(json!({ "auto": {} }))).await;
    app.advance(100.0).await;
    api.cmd("finish", &rid).await;
    app.advance(20.0).await;
    let f = api.files(&rid, &[]).await;
    let entry = &f["data_list"][0];
    assert_eq!(
        entry["file_name"],
        format!("{rid}.mp4"),
        "one segment: <file_name>.mp4, file_name defaults to the record id"
    );
    let url = entry["url"].as_str().unwrap();
    let (_, all) = app.bytes(url).await;
    assert_eq!(all.len(), 600_000);
    assert_eq!(md5_hex(&all), entry["md5"]);

    let ranged = |r: &'static str| {
        let rb = app.client.get(url).header("Range", r);
        async move {
            let resp = rb.send().await.expect("sent");
            let status = resp.status().as_u16();
            let cr = resp.headers().get("content-range").map(|h| h.to_str().unwrap().to_string());
            (status, cr, resp.bytes().await.expect("body").to_vec())
        }
    };
    let (s, cr, b) = ranged("bytes=100-199").await;
    assert_eq!((s, cr.as_deref()), (206, Some("bytes 100-199/600000")));
    assert_eq!(b, &all[100..200]);
    let (s, cr, b) = ranged("bytes=-16").await;
    assert_eq!((s, cr.as_deref()), (206, Some("bytes 599984-599999/600000")));
    assert_eq!(b, &all[599_984..]);
    let (s, _, b) = ranged("bytes=599990-").await;
    assert_eq!(s, 206);
    assert_eq!(b, &all[599_990..]);
    let (s, cr, _) = ranged("bytes=600000-").await;
    assert_eq!((s, cr.as_deref()), (416, Some("bytes */600000")));
    app.stop().await;
}

/// An audio-only task (file_type 1) records mp3 files sized at 16,000 bytes per second (128 kbit/s).
#[tokio::test]
async fn audio_task_produces_mp3() {
    let app = spawn(one_account(json!({}))).await;
    join(&app, "room", "u1").await;
    let api = Api::login(&app).await;
    let rid = api.init(json!({ "file_type": 1, "file_name": "talk" })).await;
    assert_code(
        &api.layout(&rid, json!({ "audio_list": [{ "user_id": "u1", "media_id": "1", "media_type": 1 }] }))
            .await,
        0,
    );
    app.advance(100.0).await;
    let v = api.cmd("finish", &rid).await;
    assert_eq!((v["media_duration"].as_i64(), v["flow"].as_i64()), (Some(100), Some(1563)));
    app.advance(20.0).await;
    let f = api.files(&rid, &[]).await;
    assert_eq!(f["total_num"], 1);
    let entry = &f["data_list"][0];
    assert_eq!(entry["file_name"], "talk.mp3");
    assert_eq!(extent(entry)["format"], "mp3");
    let resp = app.client.get(entry["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "audio/mpeg");
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(bytes.len(), 1_600_000);
    assert_eq!(md5_hex(&bytes), entry["md5"]);
    app.stop().await;
}

// ===== idle auto-stop and failures ================================================================

/// A task whose group has nothing to record stops itself exactly `timeout` seconds after its init or
/// last command (status 3), not a second earlier; a task with streams present never does.
#[tokio::test]
async fn idle_task_stops_itself_at_timeout() {
    let app = spawn(one_account(json!({}))).await;
    join(&app, "busy", "u1").await;
    let api = Api::login(&app).await;
    let manual = api.init(json!({ "group_id": "empty1", "timeout": 5 })).await;
    let auto = api.init(json!({ "group_id": "empty2", "timeout": 60, "auto": {} })).await;
    let busy = api.init(json!({ "group_id": "busy", "timeout": 5, "auto": {} })).await;

    app.advance(4.0).await;
    assert_eq!(api.status(&manual).await, 1);
    app.advance(1.0).await;
    assert_eq!(api.status(&manual).await, 3);
    assert_eq!(api.list(&[("record_id", &manual)]).await["record_list"][0]["stop_time"], bj(5));

    // A command (suspend at +50) restarts the countdown: the task stops at +110, not at +60.
    app.advance(45.0).await;
    assert_code(&api.cmd("suspend", &auto).await, 0);
    app.advance(10.0).await;
    assert_eq!(api.status(&auto).await, 7);
    app.advance(49.0).await;
    assert_eq!(api.status(&auto).await, 7, "one second before last command + timeout");
    app.advance(1.0).await;
    assert_eq!(api.status(&auto).await, 3);
    assert_eq!(api.list(&[("record_id", &auto)]).await["record_list"][0]["stop_time"], bj(110));
    // It then processes like a finished task.
    app.advance(20.0).await;
    assert_eq!(api.status(&auto).await, 6);

    app.advance(5000.0).await;
    assert_eq!(api.status(&busy).await, 2);
    app.stop().await;
}

/// An idle task has one pending idle check however many commands it gets (issue 19: each command used to
/// add a job), and the deadline still follows the last command.
#[tokio::test]
async fn commands_on_an_idle_task_keep_one_pending_check() {
    let app = spawn(one_account(json!({}))).await;
    let api = Api::login(&app).await;
    let rid = api.init(json!({ "group_id": "empty", "timeout": 60, "auto": {} })).await;
    let jobs = |v: Value| v["pending_jobs"].as_u64().unwrap();
    let before = jobs(app.get("/__admin/clock").await.1);
    for i in 0..100 {
        let what = if i % 2 == 0 { "suspend" } else { "resume" };
        assert_code(&api.cmd(what, &rid).await, 0);
        app.advance(0.5).await;
    }
    let after = jobs(app.get("/__admin/clock").await.1);
    assert!(after <= before + 1, "{before} pending jobs before 100 commands, {after} after");
    // The last command was at +49.5 (a resume): the task stops 60 s later, not 60 s after its init.
    app.advance(59.0).await;
    assert_eq!(api.status(&rid).await, 2);
    app.advance(1.0).await;
    assert_eq!(api.status(&rid).await, 3);
    app.stop().await;
}

/// Streams leaving (`cloud_record.leave`) start the countdown, streams coming back cancel it; for a manual
/// task with a layout only its layout's streams count.
#[tokio::test]
async fn leaving_streams_start_the_countdown() {
    let app = spawn(one_account(json!({}))).await;
    for (g, u) in [("g1", "u1"), ("g2", "u1"), ("g3", "u1"), ("g3", "u2")] {
        join(&app, g, u).await;
    }
    let api = Api::login(&app).await;
    let a = api.init(json!({ "group_id": "g1", "timeout": 60, "auto": {} })).await;
    let b = api.init(json!({ "group_id": "g2", "timeout": 60, "auto": {} })).await;
    let c = api.init(json!({ "group_id": "g3", "timeout": 60 })).await;
    assert_code(&api.layout_u1(&c, json!({})).await, 0);

    app.advance(500.0).await;
    leave(&app, "g1", "u1").await;
    leave(&app, "g2", "u1").await;
    leave(&app, "g3", "u1").await; // u2 stays in g3, but c's layout shows only u1
    app.advance(30.0).await;
    join(&app, "g2", "u1").await;
    app.advance(29.0).await;
    for r in [&a, &b, &c] {
        assert_eq!(api.status(r).await, 2, "{r} one second before leave + timeout");
    }
    app.advance(1.0).await;
    assert_eq!(api.status(&a).await, 3);
    assert_eq!(api.status(&c).await, 3);
    assert_eq!(api.status(&b).await, 2, "the stream came back");
    assert_eq!(api.list(&[("record_id", &a)]).await["record_list"][0]["stop_time"], bj(560));
    app.advance(1000.0).await;
    assert_eq!(api.status(&b).await, 2);

    // Leaving a group one is not in is refused by the control plane.
    let (s, v) = app
        .post(
            "/__admin/events",
            json!({ "type": "cloud_record.leave", "app_id": APP, "group_id": "g1", "user_id": "u1" }),
        )
        .await;
    assert_eq!(s, 404, "{v}");
    app.stop().await;
}

/// A `cloud_record.recording_fail` world event puts a task at -1 (listed, no files, commands answer 01);
/// failing it again or an unknown task is refused by the control plane.
#[tokio::test]
async fn recording_fail_event() {
    let app = spawn(one_account(json!({}))).await;
    join(&app, "room", "u1").await;
    let api = Api::login(&app).await;
    let rid = api.init(json!({ "auto": {} })).await;
    app.advance(10.0).await;
    let v =
        app.event(json!({ "type": "cloud_record.recording_fail", "app_id": APP, "record_id": rid })).await;
    assert_eq!(v["applied"][0], json!({ "failed": rid, "status": -1 }));
    assert_eq!(api.status(&rid).await, -1);
    assert_eq!(api.list_ids(&[("status", "-1")]).await, vec![rid.clone()]);
    assert_eq!(api.list(&[("record_id", &rid)]).await["record_list"][0]["stop_time"], bj(10));
    let f = api.files(&rid, &[]).await;
    assert_eq!((f["total_num"].as_i64(), f["status"].as_i64()), (Some(0), Some(-1)));
    assert_code(&api.cmd("finish", &rid).await, CONTEXT_NOT_FOUND);
    app.advance(100.0).await;
    assert_eq!(api.status(&rid).await, -1);

    let fail = json!({ "type": "cloud_record.recording_fail", "app_id": APP, "record_id": rid });
    let (s, _) = app.post("/__admin/events", fail).await;
    assert_eq!(s, 409);
    let (s, _) = app
        .post(
            "/__admin/events",
            json!({ "type": "cloud_record.recording_fail", "app_id": APP, "record_id": "nope" }),
        )
        .await;
    assert_eq!(s, 404);
    // A new auto task in the group is allowed: the failed one is not active.
    let second = api.init(json!({ "auto": {} })).await;
    // A task may also fail while it is being processed (here: encoding); it stays at -1.
    app.advance(10.0).await;
    api.cmd("finish", &second).await;
    app.advance(7.0).await;
    assert_eq!(api.status(&second).await, 4);
    app.event(json!({ "type": "cloud_record.recording_fail", "app_id": APP, "record_id": second })).await;
    app.advance(100.0).await;
    assert_eq!(api.status(&second).await, -1);
    assert_eq!(api.files(&second, &[]).await["total_num"], 0);
    app.stop().await;
}

// ===== task/list =================================================================================

/// `task/list` filters by record_id, group_id, status (incl. 7 and -1), start_time (created at or after)
/// and stop_time (stopped at or before), each time in both formats; bad filters are 03.
#[tokio::test]
async fn task_list_filters() {
    let app = spawn(one_account(json!({}))).await;
    join(&app, "g2", "u1").await;
    let api = Api::login(&app).await;
    let a = api.init(json!({ "group_id": "g1" })).await; // T0, stays 1
    app.advance(100.0).await;
    let b = api.init(json!({ "group_id": "g2", "auto": {} })).await; // T0+100, stays 2
    let c = api.init(json!({ "group_id": "g3", "auto": {} })).await; // T0+100, suspended → 7
    api.cmd("suspend", &c).await;
    app.advance(100.0).await;
    let d = api.init(json!({ "group_id": "g1" })).await; // T0+200, finished → 6 at T0+220
    api.cmd("finish", &d).await;
    app.advance(30.0).await;
    let e = api.init(json!({ "group_id": "g4", "auto": {} })).await; // T0+230, failed → -1
    app.event(json!({ "type": "cloud_record.recording_fail", "app_id": APP, "record_id": e })).await;

    assert_eq!(api.list_ids(&[]).await, vec![a.clone(), b.clone(), c.clone(), d.clone(), e.clone()]);
    assert_eq!(api.list_ids(&[("record_id", &c)]).await, vec![c.clone()]);
    assert!(api.list_ids(&[("record_id", "nope")]).await.is_empty());
    assert_eq!(api.list_ids(&[("group_id", "g1")]).await, vec![a.clone(), d.clone()]);
    for (st, want) in [("1", &a), ("2", &b), ("7", &c), ("6", &d), ("-1", &e)] {
        assert_eq!(api.list_ids(&[("status", st)]).await, vec![want.clone()], "status {st}");
    }
    for st in ["3", "4", "5"] {
        assert!(api.list_ids(&[("status", st)]).await.is_empty());
    }
    assert_eq!(api.list_ids(&[("status", "1"), ("group_id", "g1")]).await, vec![a.clone()]);

    let later = [b.clone(), c.clone(), d.clone(), e.clone()];
    assert_eq!(api.list_ids(&[("start_time", &bj(100))]).await, later);
    assert_eq!(api.list_ids(&[("start_time", &(T0 + 100).to_string())]).await, later);
    assert_eq!(api.list_ids(&[("start_time", &bj(101))]).await, vec![d.clone(), e.clone()]);
    assert_eq!(api.list_ids(&[("stop_time", &bj(200))]).await, vec![d.clone()]);
    assert_eq!(api.list_ids(&[("stop_time", &(T0 + 230).to_string())]).await, vec![d.clone(), e.clone()]);
    assert!(api.list_ids(&[("stop_time", &bj(199))]).await.is_empty());
    assert_eq!(
        api.list_ids(&[("start_time", &bj(100)), ("stop_time", &bj(300)), ("group_id", "g1")]).await,
        vec![d.clone()]
    );

    let rows = api.list(&[("record_id", &b)]).await;
    assert_eq!(
        rows["record_list"][0],
        json!({ "record_id": b, "record_mode": 0, "group_id": "g2", "file_name": b, "file_type": 0,
                "start_time": bj(100), "stop_time": "", "status": 2,
                "auto": { "type": 1, "media_type": 2, "media_count": 9, "crop_mode": 2 } })
    );
    assert_eq!(api.list(&[("record_id", &d)]).await["record_list"][0]["stop_time"], bj(200));

    for (k, v) in [
        ("status", "0"),
        ("status", "8"),
        ("status", "-2"),
        ("status", "two"),
        ("start_time", "yesterday"),
        ("stop_time", "2026-13-01 00:00:00"),
        ("start_time", "2026-01-01 25:00:00"),
    ] {
        let r = api.list(&[(k, v)]).await;
        assert_eq!(code(&r), BAD_PARAMS, "{k}={v}: {r}");
        assert!(r["msg"].as_str().unwrap().contains(k), "{r}");
    }
    app.stop().await;
}

/// `task/list` paging: empty list, an exact multiple of the page size, a last partial page, a page past the
/// end (empty, right total), page_size edges 0/1/500/501 and page 0.
#[tokio::test]
async fn task_list_paging() {
    let app = spawn(one_account(json!({}))).await;
    let api = Api::login(&app).await;
    let v = api.list(&[]).await;
    assert_eq!(
        v,
        json!({ "code": 0, "msg": "OK", "total_num": 0, "page": 1, "page_size": 50, "record_list": [] })
    );

    let mut all = Vec::new();
    for i in 0..6 {
        all.push(api.init(json!({ "group_id": format!("g{i}") })).await);
    }
    let page = |p: &'static str, size: &'static str| {
        let api = &api;
        async move {
            let v = api.list(&[("page", p), ("page_size", size)]).await;
            assert_code(&v, 0);
            assert_eq!(v["page"].as_i64().unwrap().to_string(), p);
            (v["total_num"].as_i64().unwrap(), ids(&v["record_list"], "record_id"))
        }
    };
    assert_eq!(page("1", "3").await, (6, all[0..3].to_vec()));
    assert_eq!(page("2", "3").await, (6, all[3..6].to_vec()));
    assert_eq!(page("3", "3").await, (6, vec![]));
    all.push(api.init(json!({ "group_id": "g6" })).await);
    assert_eq!(page("3", "3").await, (7, all[6..7].to_vec()));
    assert_eq!(page("4", "3").await, (7, vec![]));
    assert_eq!(page("1", "1").await, (7, all[0..1].to_vec()));
    assert_eq!(page("7", "1").await, (7, all[6..7].to_vec()));
    assert_eq!(page("1", "500").await, (7, all.clone()));
    assert_eq!(page("99999", "500").await, (7, vec![]));
    // Default page is 1.
    assert_eq!(ids(&api.list(&[("page_size", "2")]).await["record_list"], "record_id"), all[0..2].to_vec());

    for (k, v) in [
        ("page_size", "0"),
        ("page_size", "501"),
        ("page_size", "-1"),
        ("page", "0"),
        ("page", "-1"),
        ("page", "x"),
    ] {
        let r = api.list(&[(k, v)]).await;
        assert_eq!(code(&r), BAD_PARAMS, "{k}={v}: {r}");
    }
    app.stop().await;
}

/// Absurdly large numbers in the query are answered, never a crash: a page far past the end is empty, and
/// unix-second filters out of range simply match nothing (or everything).
#[tokio::test]
async fn huge_query_numbers_are_answered() {
    let app = spawn(one_account(json!({}))).await;
    let api = Api::login(&app).await;
    let rid = api.init(json!({})).await;
    let max = i64::MAX.to_string();
    let v = api.list(&[("page", &max)]).await;
    assert_code(&v, 0);
    assert_eq!((v["total_num"].as_i64(), v["record_list"].as_array().map(Vec::len)), (Some(1), Some(0)));
    let v = api.list(&[("page", &max), ("page_size", "500")]).await;
    assert_eq!(v["record_list"], json!([]));
    let v = api.files(&rid, &[("page", &max)]).await;
    assert_code(&v, 0);
    assert!(api.list_ids(&[("start_time", &max)]).await.is_empty());
    assert_eq!(api.list_ids(&[("start_time", &i64::MIN.to_string())]).await, vec![rid.clone()]);
    assert!(api.list_ids(&[("stop_time", &i64::MIN.to_string())]).await.is_empty());
    // The server is still up.
    assert_eq!(api.status(&rid).await, 1);
    app.stop().await;
}

// ===== download/url ==============================================================================

/// `download/url` paging over a task's four segment files: empty before status 6, exact multiple, last
/// partial page, page past the end, page_size edges; missing record_id is 03, an unknown one 01.
#[tokio::test]
async fn download_url_paging() {
    let app = spawn(small(one_account(json!({})))).await;
    join(&app, "room", "u1").await;
    let api = Api::login(&app).await;
    let rid = api.init(small_canvas(json!({ "auto": {}, "file_duration": 15, "file_name": "part" }))).await;
    app.advance(3600.0).await;
    let v = api.files(&rid, &[]).await;
    assert_eq!(
        v,
        json!({ "code": 0, "msg": "OK", "record_id": rid, "status": 2, "total_num": 0, "page": 1, "page_size": 50, "data_list": [] })
    );
    api.cmd("finish", &rid).await;
    app.advance(20.0).await;
    let names: Vec<String> = (1..=4).map(|i| format!("part_{i}.mp4")).collect();
    let page = |p: &'static str, size: &'static str| {
        let (api, rid) = (&api, &rid);
        async move {
            let v = api.files(rid, &[("page", p), ("page_size", size)]).await;
            assert_code(&v, 0);
            (v["total_num"].as_i64().unwrap(), ids(&v["data_list"], "file_name"))
        }
    };
    assert_eq!(page("1", "2").await, (4, names[0..2].to_vec()));
    assert_eq!(page("2", "2").await, (4, names[2..4].to_vec()));
    assert_eq!(page("3", "2").await, (4, vec![]));
    assert_eq!(page("2", "3").await, (4, names[3..4].to_vec()));
    assert_eq!(page("1", "1").await, (4, names[0..1].to_vec()));
    assert_eq!(page("1", "500").await, (4, names.clone()));
    let all = api.files(&rid, &[]).await;
    assert_eq!(ids(&all["data_list"], "file_name"), names);
    let durations: Vec<i64> = all["data_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| extent(e)["duration"].as_i64().unwrap())
        .collect();
    assert_eq!(durations, vec![900, 900, 900, 900]);

    for (k, v) in [("page_size", "0"), ("page_size", "501"), ("page", "0")] {
        let r = api.files(&rid, &[(k, v)]).await;
        assert_eq!(code(&r), BAD_PARAMS, "{k}={v}: {r}");
        assert_eq!(r["record_id"], rid);
    }
    let r = api.get("/v1/record/file/download/url", &[("app_id", APP)]).await;
    assert_code(&r, BAD_PARAMS);
    let r = api.files("20260101080000_99999", &[]).await;
    assert_code(&r, CONTEXT_NOT_FOUND);
    assert_eq!(r["record_id"], "20260101080000_99999");
    app.stop().await;
}

// ===== file deletion =============================================================================

/// `POST /v1/record/file`: mode 1 removes files and records, mode 2 (the default) files only; unknown ids
/// are fine; a list naming a task still in progress is refused with 03 and deletes nothing.
#[tokio::test]
async fn delete_files_modes() {
    let app = spawn(one_account(json!({}))).await;
    join(&app, "room", "u1").await;
    let api = Api::login(&app).await;
    let mut done = Vec::new();
    for g in ["a", "b", "c"] {
        join(&app, g, "u1").await;
        let r = api.init(json!({ "group_id": g, "auto": {} })).await;
        done.push(r);
    }
    app.advance(10.0).await;
    for r in &done {
        api.cmd("finish", r).await;
    }
    app.advance(20.0).await;
    let running = api.init(json!({ "auto": {} })).await;
    let url_of = |rid: String| {
        let api = &api;
        async move { api.files(&rid, &[]).await["data_list"][0]["url"].as_str().unwrap().to_string() }
    };
    let (url_a, url_b, url_c) =
        (url_of(done[0].clone()).await, url_of(done[1].clone()).await, url_of(done[2].clone()).await);

    // All or nothing: a task in progress refuses the whole request.
    let v = api.delete(json!({ "mode": 1, "record_list": [done[0], running] })).await;
    assert_code(&v, BAD_PARAMS);
    assert!(v["msg"].as_str().unwrap().contains(&running), "{v}");
    assert_eq!(app.bytes(&url_a).await.0, 200);
    assert_eq!(api.status(&done[0]).await, 6);

    let ok = json!({ "code": 0, "msg": "ok" });
    // Mode 1 (as a string), with an unknown id in the list.
    assert_eq!(
        api.delete(json!({ "mode": "1", "record_list": [done[0], "20200220115205_10001"] })).await,
        ok
    );
    assert!(api.list_ids(&[("record_id", &done[0])]).await.is_empty());
    assert_code(&api.files(&done[0], &[]).await, CONTEXT_NOT_FOUND);
    assert_eq!(app.bytes(&url_a).await.0, 404);
    // Deleting it again: still ok.
    assert_eq!(api.delete(json!({ "mode": 1, "record_list": [done[0]] })).await, ok);

    // Mode 2: the record stays (status 6) without files.
    assert_eq!(api.delete(json!({ "mode": 2, "record_list": [done[1]] })).await, ok);
    assert_eq!(api.status(&done[1]).await, 6);
    let f = api.files(&done[1], &[]).await;
    assert_eq!((f["total_num"].as_i64(), f["status"].as_i64()), (Some(0), Some(6)));
    assert_eq!(app.bytes(&url_b).await.0, 404);
    // No mode: mode 2.
    assert_eq!(api.delete(json!({ "record_list": [done[2]] })).await, ok);
    assert_eq!(api.status(&done[2]).await, 6);
    assert_eq!(app.bytes(&url_c).await.0, 404);

    // A failed task may be deleted; the running one is untouched throughout.
    app.event(json!({ "type": "cloud_record.recording_fail", "app_id": APP, "record_id": running })).await;
    assert_eq!(api.delete(json!({ "mode": 1, "record_list": [running] })).await, ok);
    assert_eq!(api.list(&[]).await["total_num"], 2);

    for body in [
        json!({ "mode": 3, "record_list": [] }),
        json!({ "mode": 1 }),
        json!({ "mode": 1, "record_list": [true] }),
    ] {
        assert_code(&api.delete(body).await, BAD_PARAMS);
    }
    assert_eq!(api.delete(json!({ "mode": 1, "record_list": [] })).await, ok);
    app.stop().await;
}

// ===== concurrency and determinism ================================================================

/// 100 concurrent `init` calls with `auto` for one group: exactly one task, 99 × 6050030038. And 100
/// concurrent manual `init`s with one file name in another group: exactly one, 99 × 6050030012.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicate_inits_yield_exactly_one_task() {
    let app = spawn(one_account(json!({ "max_tasks": 1000, "max_group_tasks": 1000 }))).await;
    let auth = access_token(&app).await;
    for (group, extra, dup_code) in [
        ("race", json!({ "auto": {} }), AUTO_EXISTS),
        ("race2", json!({ "file_name": "same" }), CONTEXT_EXISTS),
    ] {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..100 {
            let (client, url, auth) =
                (app.client.clone(), format!("{}/v1/record/init", app.url), auth.clone());
            let body =
                merge(json!({ "app_id": APP, "group_id": group, "seq": format!("s{i}") }), extra.clone());
            set.spawn(async move {
                let resp =
                    client.post(url).header("Authorization", auth).json(&body).send().await.expect("sent");
                assert_eq!(resp.status().as_u16(), 200);
                resp.json::<Value>().await.expect("JSON answer")
            });
        }
        let mut codes = Vec::new();
        while let Some(r) = set.join_next().await {
            codes.push(code(&r.expect("request task")));
        }
        assert_eq!(codes.len(), 100);
        assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{group}: {codes:?}");
        assert_eq!(codes.iter().filter(|c| **c == dup_code).count(), 99, "{group}: {codes:?}");
        let api = Api::with_auth(&app, &auth);
        assert_eq!(api.list(&[("group_id", group)]).await["total_num"], 1);
    }
    app.stop().await;
}

/// What one scripted session sees: access token, record id, file md5s and file paths.
async fn scripted_session(app: &TestApp) -> Vec<String> {
    join(app, "room", "u1").await;
    let api = Api::login(app).await;
    let rid = api.init(small_canvas(json!({ "file_duration": 15 }))).await;
    api.layout_u1(&rid, json!({})).await;
    app.advance(1000.0).await;
    api.cmd("finish", &rid).await;
    app.advance(20.0).await;
    let f = api.files(&rid, &[]).await;
    let mut out = vec![api.auth.clone(), rid];
    for e in f["data_list"].as_array().unwrap() {
        out.push(e["md5"].as_str().unwrap().to_string());
        let url = e["url"].as_str().unwrap();
        out.push(url.strip_prefix(&app.url).unwrap().to_string());
    }
    out
}

/// Two servers with the same seed answer the same requests with the same access tokens, record ids and
/// files; another seed gives other tokens.
#[tokio::test]
async fn same_seed_same_answers() {
    let spawn_seed = |seed| {
        spawn_with(Spawn {
            fixtures: vec![with_clock(small(one_account(json!({})))).to_string()],
            seed,
            ..Spawn::default()
        })
    };
    let (a, b, c) = (spawn_seed(7).await, spawn_seed(7).await, spawn_seed(8).await);
    let (sa, sb, sc) = (scripted_session(&a).await, scripted_session(&b).await, scripted_session(&c).await);
    assert_eq!(sa.len(), 2 + 2 * 2, "{sa:?}");
    assert_eq!(sa, sb);
    assert_ne!(sa[0], sc[0], "the access token depends on the seed");
    assert_eq!(sa[1], sc[1], "record ids depend only on time and order");
    for app in [a, b, c] {
        app.stop().await;
    }
}

/// The vendor console is a cross-origin web app: answers carry `Access-Control-Allow-Origin` and
/// preflights are answered.
#[tokio::test]
async fn cors_for_the_vendor_console() {
    let app = spawn(one_account(json!({}))).await;
    let resp = app
        .client
        .get(format!("{}/access/token?dev_id={DEV}&token={DEV_TOKEN}", app.url))
        .header("Origin", "http://console.example")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().contains_key("access-control-allow-origin"));
    let resp = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/v1/record/init", app.url))
        .header("Origin", "http://console.example")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization,content-type")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert!(resp.headers().contains_key("access-control-allow-origin"));
    app.stop().await;
}

/// A calendar filter with an absurd year is answered (03 or an empty match), never a crash.
#[tokio::test]
async fn absurd_calendar_year_is_answered() {
    let app = spawn(one_account(json!({}))).await;
    let api = Api::login(&app).await;
    let rid = api.init(json!({})).await;
    for t in ["300000000000-01-01 00:00:00", "99999999999999999-01-01"] {
        let v = api.list(&[("start_time", t)]).await;
        assert!([0, BAD_PARAMS].contains(&code(&v)), "{t}: {v}");
        assert_eq!(v["record_list"].as_array().map_or(0, Vec::len), 0, "{t}: {v}");
    }
    assert_eq!(api.status(&rid).await, 1);
    app.stop().await;
}

/// Record tasks with these file names, finish them, and download each file through its reported URL.
async fn download_named_files(names: &[&str]) {
    let app = spawn(one_account(json!({}))).await;
    let api = Api::login(&app).await;
    let mut tasks = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let g = format!("g{i}");
        join(&app, &g, "u1").await;
        tasks.push((name, api.init(json!({ "group_id": g, "auto": {}, "file_name": name })).await));
    }
    app.advance(10.0).await;
    for (_, rid) in &tasks {
        api.cmd("finish", rid).await;
    }
    app.advance(20.0).await;
    for (name, rid) in &tasks {
        let f = api.files(rid, &[]).await;
        let entry = &f["data_list"][0];
        assert_eq!(entry["file_name"], format!("{name}.mp4"));
        let (s, bytes) = app.bytes(entry["url"].as_str().unwrap()).await;
        assert_eq!(s, 200, "{name}: {}", entry["url"]);
        assert_eq!(md5_hex(&bytes), entry["md5"], "{name}");
    }
    app.stop().await;
}

/// File names with spaces, non-ASCII letters, `%`, `+` and `&` give download URLs that fetch the file.
#[tokio::test]
async fn download_urls_of_unusual_file_names_work() {
    download_named_files(&["课堂 录制", "100%", "x+y&z"]).await;
}

/// File names with `?` or `#` (accepted by `init`) must give download URLs that fetch the file too.
#[tokio::test]
async fn download_urls_of_file_names_with_query_characters_work() {
    download_named_files(&["a?b=c", "a#b"]).await;
}

/// 50 concurrent `/access/token` calls: 50 distinct tokens of which exactly one is valid afterwards; the
/// account remembers the last 32 superseded ones (606000001), older ones are unknown (6050030007).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_token_requests_leave_one_valid_token() {
    let app = spawn(one_account(json!({}))).await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (client, url) =
            (app.client.clone(), format!("{}/access/token?dev_id={DEV}&token={DEV_TOKEN}", app.url));
        set.spawn(async move {
            let v: Value = client.get(url).send().await.expect("sent").json().await.expect("JSON");
            assert_eq!(v["code"], 0, "{v}");
            v["result"]["access_token"].as_str().expect("token").to_string()
        });
    }
    let mut tokens = Vec::new();
    while let Some(t) = set.join_next().await {
        tokens.push(t.expect("request task"));
    }
    let distinct: std::collections::BTreeSet<_> = tokens.iter().collect();
    assert_eq!(distinct.len(), 50);
    let mut codes = Vec::new();
    for t in &tokens {
        codes.push(code(&Api::with_auth(&app, t).list(&[]).await));
    }
    let count = |c: i64| codes.iter().filter(|x| **x == c).count();
    assert_eq!((count(0), count(TOKEN_TIMEOUT), count(AUTH_FAILED)), (1, 32, 17), "{codes:?}");
    app.stop().await;
}

/// `cloud_record.stream_open` / `stream_close` events and fixture timeline joins drive the idle countdown:
/// a task keeps recording while any stream remains, starts counting when the last one closes, and a
/// stream opening (or a timeline join) cancels the countdown.
#[tokio::test]
async fn stream_events_and_timeline_joins_drive_the_idle_countdown() {
    let mut fx = one_account(json!({}));
    fx["timeline"] = json!([{ "at": 30, "event": { "type": "cloud_record.join", "app_id": APP,
                                                    "group_id": "late", "user_id": "u9", "streams": cam_mic() } }]);
    let app = spawn(fx).await;
    join(&app, "g1", "u1").await;
    let api = Api::login(&app).await;
    let a = api.init(json!({ "group_id": "g1", "timeout": 60, "auto": {} })).await;
    let late = api.init(json!({ "group_id": "late", "timeout": 60, "auto": {} })).await;
    let stream = |kind: &str, t: i64, id: &str| {
        json!({ "type": format!("cloud_record.{kind}"), "app_id": APP, "group_id": "g1", "user_id": "u1",
                "media_type": t, "media_id": id })
    };
    app.event(stream("stream_close", 2, "0")).await;
    app.advance(100.0).await;
    assert_eq!(api.status(&a).await, 2, "the microphone still publishes");
    assert_eq!(api.status(&late).await, 2, "the timeline join at +30 came before its timeout at +60");
    app.event(stream("stream_close", 1, "1")).await; // T0+100: nothing left
    app.advance(59.0).await;
    app.event(stream("stream_open", 2, "0")).await; // T0+159: back
    app.advance(100.0).await;
    assert_eq!(api.status(&a).await, 2);
    app.event(stream("stream_close", 2, "0")).await; // T0+259
    app.advance(59.0).await;
    assert_eq!(api.status(&a).await, 2);
    app.advance(1.0).await;
    assert_eq!(api.status(&a).await, 3);
    assert_eq!(api.list(&[("record_id", &a)]).await["record_list"][0]["stop_time"], bj(319));

    // Closing a stream nobody publishes: 404; a stream of an impossible type: 400, nothing applied.
    let (s, _) = app.post("/__admin/events", stream("stream_close", 2, "0")).await;
    assert_eq!(s, 404);
    let (s, v) = app.post("/__admin/events", stream("stream_open", 3, "0")).await;
    assert_eq!(s, 400, "{v}");
    let (s, _) = app
        .post(
            "/__admin/events",
            json!({ "type": "cloud_record.join", "app_id": "nobody", "group_id": "g", "user_id": "u" }),
        )
        .await;
    assert_eq!(s, 404);
    app.stop().await;
}

/// A suspended task that stops itself keeps only the time it recorded before the suspension.
#[tokio::test]
async fn idle_stop_of_a_suspended_task_keeps_what_was_recorded() {
    let app = spawn(one_account(json!({}))).await;
    let api = Api::login(&app).await;
    let rid = api.init(json!({ "group_id": "empty", "timeout": 60, "auto": {} })).await;
    app.advance(50.0).await;
    assert_code(&api.cmd("suspend", &rid).await, 0);
    app.advance(60.0 + 20.0).await;
    assert_eq!(api.status(&rid).await, 6);
    let f = api.files(&rid, &[]).await;
    assert_eq!(f["total_num"], 1);
    let e = extent(&f["data_list"][0]);
    assert_eq!((e["duration"].as_i64(), e["size"].as_i64()), (Some(50), Some(50 * 250_000)));
    app.stop().await;
}

/// `GET /__admin/state` and `PUT /__admin/state` round-trip the module's accounts, tokens, groups and tasks:
/// after a restore the old access token works and the task is back where it was.
#[tokio::test]
async fn state_dump_and_restore_round_trip() {
    let app = spawn(one_account(json!({}))).await;
    join(&app, "room", "u1").await;
    let api = Api::login(&app).await;
    let rid = api.init(json!({})).await;
    api.layout_u1(&rid, json!({})).await;
    app.advance(100.0).await;
    let (s, dump) = app.get("/__admin/state").await;
    assert_eq!(s, 200);

    api.cmd("finish", &rid).await;
    app.advance(20.0).await;
    assert_eq!(api.status(&rid).await, 6);
    let newer = Api::login(&app).await;
    assert_code(&api.list(&[]).await, TOKEN_TIMEOUT);

    let (s, v) = app.send(app.client.put(format!("{}/__admin/state", app.url)).json(&dump)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(app.now().await, T0 + 100);
    assert_eq!(api.status(&rid).await, 2, "the old token is the current one again");
    assert_code(&newer.list(&[]).await, AUTH_FAILED);
    let v = api.cmd("finish", &rid).await;
    assert_eq!(v["media_duration"], 100);
    // The group's streams came back too: the next task records them without going idle.
    let auto = api.init(json!({ "auto": {}, "timeout": 5 })).await;
    app.advance(100.0).await;
    assert_eq!(api.status(&auto).await, 2);
    app.stop().await;
}

/// `POST /__admin/reset?tenant=cloud_record:<app_id>` empties the account (tasks, tokens, files) and
/// reloads it from the start fixture; a full reset does the same for everything.
#[tokio::test]
async fn tenant_reset_reloads_the_account() {
    let app = spawn(fixture(vec![account(json!({}))], room_groups())).await;
    let api = Api::login(&app).await;
    let rid = api.init(json!({ "auto": {} })).await;
    app.advance(10.0).await;
    api.cmd("finish", &rid).await;
    app.advance(20.0).await;
    let url = api.files(&rid, &[]).await["data_list"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(app.bytes(&url).await.0, 200);

    let (s, v) = app.post(&format!("/__admin/reset?tenant=cloud_record:{APP}"), json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_code(&api.list(&[]).await, AUTH_FAILED);
    assert_eq!(app.bytes(&url).await.0, 404);
    let api = Api::login(&app).await;
    assert_eq!(api.list(&[]).await["total_num"], 0);
    // The fixture's groups are back: a layout on u1 works at once.
    let rid = api.init(json!({})).await;
    assert_eq!(rid, rid_at(30, 1), "record ids count from 10001 again");
    assert_code(&api.layout_u1(&rid, json!({})).await, 0);

    let (s, _) = app.post("/__admin/reset", json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(app.now().await, T0, "a full reset returns to the fixture's clock start");
    let api = Api::login(&app).await;
    assert_eq!(api.list(&[]).await["total_num"], 0);
    app.stop().await;
}

/// The fixture section is validated with the exact path of each problem, and nothing is loaded; a valid
/// account added at run time works at once.
#[tokio::test]
async fn fixture_section_validation() {
    let app = spawn(one_account(json!({}))).await;
    let bad = json!({ "cloud_record": {
        "accounts": [
            { "dev_id": "a.b", "token": "", "app_id": "x", "app_secret": "short", "token_timeout_s": 0, "max_tasks": 0 },
            { "dev_id": "a.b", "token": "t", "app_id": "x", "extra": 1 },
            { "dev_id": DEV, "token": "t", "app_id": APP }
        ],
        "groups": [{ "app_id": "x", "group_id": "", "users": [{ "user_id": "", "streams": [{ "media_type": 5, "media_id": "1" }] }] }],
        "bogus": 1
    } });
    let (s, v) = app.post("/__admin/fixtures", bad).await;
    assert_eq!(s, 400, "{v}");
    let paths: Vec<&str> =
        v["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    for p in [
        "cloud_record.bogus",
        "cloud_record.accounts[0].dev_id",
        "cloud_record.accounts[0].token",
        "cloud_record.accounts[0].app_secret",
        "cloud_record.accounts[0].token_timeout_s",
        "cloud_record.accounts[0].max_tasks",
        "cloud_record.accounts[1]",
        "cloud_record.groups[0].group_id",
        "cloud_record.groups[0].users[0].user_id",
        "cloud_record.groups[0].users[0]",
    ] {
        assert!(paths.iter().any(|x| x.starts_with(p)), "no error at {p}: {v}");
    }
    assert_eq!(app.get("/__admin/tenants").await.1["tenants"], json!([format!("cloud_record:{APP}")]));

    // The existing account cannot be loaded twice; a new one can, and works.
    let (s, v) = app.post("/__admin/fixtures", one_account(json!({}))).await;
    assert_eq!(s, 400, "{v}");
    let new = account(json!({ "dev_id": "dev_n", "token": "tok-n", "app_id": "app_n", "app_secret": null }));
    let (s, v) = app.post("/__admin/fixtures", fixture(vec![new], json!([]))).await;
    assert_eq!(s, 200, "{v}");
    let v = Api::with_auth(&app, "dev_n.tok-n").get("/v1/record/task/list", &[("app_id", "app_n")]).await;
    assert_code(&v, 0);
    app.stop().await;
}

/// The seed's own examples work as written: `init` (manual and auto, with `auto.user_id` a number and no
/// `seq`) and `set/layout` without `seq`; answers carry no `seq` then.
#[tokio::test]
async fn the_seeds_own_examples_work_without_seq() {
    let app = spawn(fixture(vec![account(json!({}))], room_groups())).await;
    let api = Api::login(&app).await;
    let manual = api
        .post(
            "/v1/record/init",
            json!({ "app_id": APP, "group_id": "room", "file_name": "XXXXXXXX", "file_type": 0, "file_duration": 15,
                    "width": 1280, "height": 720, "record_mode": 0, "frame_rate": 30, "timeout": 10 }),
        )
        .await;
    assert_code(&manual, 0);
    assert!(manual.get("seq").is_none(), "{manual}");
    let auto = api
        .post(
            "/v1/record/init",
            json!({ "app_id": APP, "group_id": "room", "file_name": "YYYYYYYY", "file_type": 0, "file_duration": 15,
                    "width": 10, "height": 10, "record_mode": 0, "frame_rate": 30, "timeout": 10,
                    "auto": {"type": 1, "user_id": 2, "media_type": 2, "media_count": 9, "crop_mode": 3} }),
        )
        .await;
    assert_code(&auto, 0);
    let rid = manual["record_id"].as_str().unwrap();
    let v = api
        .post(
            "/v1/record/set/layout",
            json!({ "app_id": APP, "record_id": rid,
                    "audio_list": [{"user_id": "u1", "media_id": 1, "media_type": 1}],
                    "video_list": [{"user_id": "u1", "media_id": 0, "media_type": 2, "crop_mode": 3, "w": 530, "h": 380},
                                   {"user_id": "u2", "media_id": 0, "media_type": 2, "crop_mode": 3, "x": 531, "w": 530, "h": 380}] }),
        )
        .await;
    assert_code(&v, 0);
    assert!(v.get("seq").is_none(), "{v}");
    assert_eq!(api.status(rid).await, 2);
    app.stop().await;
}
