//! The HST event gateway (001): the WebSocket at the address `/server/address?appType=8` hands out, as the
//! vendor's web console uses it (vendor-facts.md): login 20000/20001, group snapshot 20008/20009,
//! subscribe 20004/20005, pushes 20102/20103; over plain `ws://` and over `wss://` as the vendor's host
//! with recmock's local CA as the only root. The clock is frozen: pushes come from world events and
//! timelines run by `advance`, never from waiting.
use crate::common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

const APP: &str = "gw_app";
const DEV: &str = "gw_dev";
const DEV_TOKEN: &str = "gw-token";
const SECRET: &str = "0123456789abcdef";
const OTHER_APP: &str = "other_app";
/// The event gateway's public host.
const EP: &str = "fsp-ep.hst.com";

/// Two accounts; `room` has a teacher publishing camera and audio, the other app has a group of its own.
fn world() -> Value {
    json!({
        "cloud_record": {
            "accounts": [
                { "dev_id": DEV, "token": DEV_TOKEN, "app_id": APP, "app_secret": SECRET, "token_timeout_s": 600 },
                { "dev_id": "other_dev", "token": "other-token", "app_id": OTHER_APP }
            ],
            "groups": [
                { "app_id": APP, "group_id": "room", "users": [
                    { "user_id": "t1", "streams": [{ "media_type": 2, "media_id": "0" }, { "media_type": 1, "media_id": "1" }] }
                ] },
                { "app_id": APP, "group_id": "hall", "users": [{ "user_id": "s9", "streams": [] }] },
                { "app_id": OTHER_APP, "group_id": "secret", "users": [
                    { "user_id": "x", "streams": [{ "media_type": 2, "media_id": "7" }] }
                ] }
            ]
        }
    })
}

/// A WebSocket client (any stream: plain TCP or TLS).
struct Ws<S> {
    inner: WebSocketStream<S>,
    seq: i64,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Ws<S> {
    async fn send(&mut self, v: &Value) {
        self.inner.send(Message::text(v.to_string())).await.expect("frame sent");
    }

    /// The next message (pongs included), failing after 20 s.
    async fn next(&mut self) -> Message {
        match tokio::time::timeout(Duration::from_secs(20), self.inner.next()).await {
            Ok(Some(Ok(m))) => m,
            Ok(other) => panic!("socket ended: {other:?}"),
            Err(_) => panic!("no frame within 20 s"),
        }
    }

    /// The next text frame as JSON.
    async fn recv(&mut self) -> Value {
        loop {
            match self.next().await {
                Message::Text(t) => return serde_json::from_str(t.as_str()).expect("a JSON frame"),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Send `v` with the next `seq_id` (a number, as the console sends it) and read the answer, which echoes it.
    async fn ask(&mut self, mut v: Value) -> Value {
        self.seq += 1;
        v["seq_id"] = json!(self.seq);
        self.send(&v).await;
        let a = self.recv().await;
        assert_eq!(a["seq_id"], json!(self.seq), "the answer echoes seq_id: {a}");
        a
    }

    async fn login(&mut self, dev_id: &str, token: &str) -> Value {
        self.ask(json!({ "id": 20000, "dev_id": dev_id, "token": token })).await
    }

    async fn groups(&mut self, id: i64, app: &str, groups: &[&str]) -> Value {
        self.ask(json!({ "id": id, "app_list": [{ "app_id": app, "group_list": groups }] })).await
    }

    /// Read until the server's close frame: (code, reason).
    async fn closed(&mut self) -> (u16, String) {
        loop {
            match tokio::time::timeout(Duration::from_secs(30), self.inner.next()).await {
                Ok(Some(Ok(Message::Close(Some(f))))) => return (u16::from(f.code), f.reason.to_string()),
                Ok(Some(Ok(Message::Close(None)))) => return (1005, String::new()),
                Ok(Some(Ok(_))) => continue,
                other => panic!("no close frame: {other:?}"),
            }
        }
    }
}

/// A plain `ws://` socket to `url` (`http://…` of the test server).
async fn connect(url: &str) -> Ws<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let ws = url.replacen("http://", "ws://", 1);
    let (inner, resp) = tokio_tungstenite::connect_async(ws).await.expect("handshake");
    assert_eq!(resp.status(), 101);
    Ws { inner, seq: 1_767_225_600_000 }
}

/// A `wss://<host>:<port>/` socket through recmock's TLS listener, trusting only its local CA.
async fn connect_tls(
    app: &TestApp,
    host: &str,
) -> Ws<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    use tokio_rustls::rustls::{
        self, pki_types::pem::PemObject, pki_types::CertificateDer, pki_types::ServerName,
    };
    let tls = app.tls.as_ref().expect("spawned with tls");
    let pem = std::fs::read(tls.ca_cert.as_ref().expect("local CA")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", tls.port)).await.unwrap();
    let name = ServerName::try_from(host.to_string()).unwrap();
    let stream =
        tokio_rustls::TlsConnector::from(std::sync::Arc::new(config)).connect(name, tcp).await.expect("TLS");
    let (inner, resp) = tokio_tungstenite::client_async(format!("wss://{host}:{}/", tls.port), stream)
        .await
        .expect("handshake");
    assert_eq!(resp.status(), 101);
    Ws { inner, seq: 1 }
}

/// A fresh access token of the gateway app.
async fn access_token(app: &TestApp) -> String {
    let (_, v) = app.get(&format!("/access/token?dev_id={DEV}&token={DEV_TOKEN}")).await;
    v["result"]["access_token"].as_str().unwrap_or_else(|| panic!("{v}")).to_string()
}

/// The journal's WebSocket entries.
async fn ws_journal(app: &TestApp) -> Vec<Value> {
    let (_, v) = app.get("/__admin/requests").await;
    v["requests"].as_array().unwrap().iter().filter(|r| r["method"] == "WS").cloned().collect()
}

/// Login before, with a bad token, with the access token (the app id as dev_id, as the console does), with
/// the developer token and with a TokenGenerator token; a login outlives its token.
async fn logins<S: AsyncRead + AsyncWrite + Unpin>(app: &TestApp, ws: &mut Ws<S>) {
    let a = ws.groups(20008, APP, &["room"]).await;
    assert_eq!((a["id"].clone(), a["result"].clone()), (json!(20009), json!(6_050_030_006i64)), "{a}");
    assert!(a.get("group_list").is_none(), "nothing answered before a login: {a}");
    let a = ws.groups(20004, APP, &["room"]).await;
    assert_eq!((a["id"].clone(), a["result"].clone()), (json!(20005), json!(6_050_030_006i64)), "{a}");

    let a = ws.login(APP, "not-a-token").await;
    assert_eq!(a["id"], 20001);
    assert_eq!(a["result"], 606_000_000, "{a}");
    assert!(a["msg"].as_str().unwrap().contains("neither"), "{a}");
    assert_eq!(ws.groups(20008, APP, &["room"]).await["result"], 6_050_030_006i64);

    let token = access_token(app).await;
    let a = ws.login(APP, &token).await;
    assert_eq!(
        (a["id"].clone(), a["result"].clone(), a["msg"].clone()),
        (json!(20001), json!(0), json!("OK"))
    );
    let a = ws.login(DEV, DEV_TOKEN).await;
    assert_eq!(a["result"], 0, "a developer token, as /access/token takes it: {a}");
    let a = ws.login(APP, DEV_TOKEN).await;
    assert_eq!(a["result"], 0, "the app id in the developer id's place, as /access/token takes it: {a}");
    let (_, g) = app.post("/generate/token", json!({ "appId": APP, "appSecret": SECRET })).await;
    let a = ws.login(DEV, g["result"].as_str().unwrap()).await;
    assert_eq!(a["result"], 0, "a TokenGenerator token: {a}");
    let a = ws.login("someone_else", &token).await;
    assert_eq!(a["result"], 6_050_030_007i64, "the access token of another id: {a}");

    // Logged in with the access token; it then expires (600 s) and is replaced: the socket stays logged in.
    assert_eq!(ws.login(APP, &token).await["result"], 0);
    app.advance(601.0).await;
    let a = ws.groups(20008, APP, &["room"]).await;
    assert_eq!(a["result"], 0, "a login outlives its token: {a}");
    let mut other = connect(&app.url).await;
    let a = other.login(APP, &token).await;
    assert_eq!(a["result"], 606_000_001, "an expired access token: {a}");
    let newer = access_token(app).await;
    assert_eq!(other.login(APP, &newer).await["result"], 0);
    let _ = access_token(app).await;
    let a = other.login(APP, &newer).await;
    assert_eq!(a["result"], 606_000_001, "a replaced access token: {a}");
    assert_eq!(ws.groups(20008, APP, &["room"]).await["result"], 0, "still logged in");
}

#[tokio::test]
async fn login_good_bad_and_before_login_over_plain_ws() {
    let app = spawn(world()).await;
    let mut ws = connect(&app.url).await;
    logins(&app, &mut ws).await;
    // Each connection, login and frame is in the journal, the frames as bodies.
    let journal = ws_journal(&app).await;
    assert!(journal
        .iter()
        .any(|r| r["status"] == 101 && r["response"].as_str().unwrap().contains("\"socket\"")));
    let login = journal.iter().find(|r| r["body"].as_str().unwrap().contains("\"id\":20000")).unwrap();
    assert_eq!((login["vendor"].clone(), login["path"].clone()), (json!("cloud_record"), json!("/")));
    assert!(login["response"].as_str().unwrap().contains("\"id\":20001"), "{login}");
    assert!(login["query"].as_str().unwrap().starts_with("socket="), "{login}");
    app.stop().await;
}

#[tokio::test]
async fn login_good_bad_and_before_login_over_wss_as_the_vendor_host() {
    let app =
        spawn_with(Spawn { fixtures: vec![with_clock(world()).to_string()], tls: true, ..Spawn::default() })
            .await;
    // The address the access service hands out over HTTPS is the gateway's.
    let c = app.https_client(&[EP]);
    let port = app.tls_port();
    let v: Value = c
        .get(format!("https://{EP}:{port}/server/address?appType=8"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["result"], format!("wss://{EP}:{port}"));
    let mut ws = connect_tls(&app, EP).await;
    logins(&app, &mut ws).await;
    let a = ws.groups(20008, APP, &["room"]).await;
    assert_eq!(a["group_list"][0]["user_list"][0]["user_id"], "t1", "{a}");
    app.stop().await;
}

/// The snapshot is the world's groups as they are now, as `/__admin/state` shows them; an empty
/// `group_list` asks for every group of the app.
#[tokio::test]
async fn the_snapshot_is_the_state() {
    let app = spawn(world()).await;
    app.event(json!({ "type": "cloud_record.join", "app_id": APP, "group_id": "room", "user_id": "s1",
                       "streams": [{ "media_type": 0, "media_id": "9" }] }))
        .await;
    let mut ws = connect(&app.url).await;
    assert_eq!(ws.login(DEV, DEV_TOKEN).await["result"], 0);
    let (_, state) = app.get("/__admin/state").await;
    let groups = &state["vendors"]["cloud_record"]["accounts"][APP]["groups"];
    let as_state = |list: &Value| -> Value {
        let mut out = serde_json::Map::new();
        for g in list.as_array().unwrap() {
            assert_eq!(g["app_id"], APP);
            let mut users = serde_json::Map::new();
            for u in g["user_list"].as_array().unwrap() {
                users.insert(u["user_id"].as_str().unwrap().into(), u["media_info"].clone());
            }
            out.insert(g["group_id"].as_str().unwrap().into(), json!({ "users": users }));
        }
        Value::Object(out)
    };
    let a = ws.groups(20008, APP, &["room"]).await;
    assert_eq!((a["id"].clone(), a["result"].clone()), (json!(20009), json!(0)), "{a}");
    assert_eq!(as_state(&a["group_list"]), json!({ "room": groups["room"] }));
    assert_eq!(
        a["group_list"][0]["user_list"][0],
        json!({ "user_id": "s1", "media_info": [{ "media_type": 0, "media_id": "9" }] })
    );
    let a = ws.groups(20008, APP, &[]).await;
    assert_eq!(as_state(&a["group_list"]), *groups, "every group of the app");
    // A group nobody joined yet is empty; group ids may come as numbers.
    let a = ws.ask(json!({ "id": 20008, "app_list": [{ "app_id": APP, "group_list": [42] }] })).await;
    assert_eq!(a["group_list"], json!([{ "app_id": APP, "group_id": "42", "user_list": [] }]), "{a}");
    app.stop().await;
}

/// A join with two streams gives two 20102, a leave two 20103 (the streams the user held), in virtual-clock
/// order, for a timeline run by one advance: written to the socket before the advance answers.
#[tokio::test]
async fn a_timeline_run_by_one_advance_pushes_in_order() {
    let mut fixture = world();
    fixture["timeline"] = json!([
        { "at": 10, "event": { "type": "cloud_record.join", "app_id": APP, "group_id": "room", "user_id": "u2",
                               "streams": [{ "media_type": 2, "media_id": "c2" }, { "media_type": 1, "media_id": "a2" }] } },
        { "at": 15, "event": { "type": "cloud_record.join", "app_id": APP, "group_id": "hall", "user_id": "h1",
                               "streams": [{ "media_type": 2, "media_id": "h" }] } },
        { "at": 20, "event": { "type": "cloud_record.leave", "app_id": APP, "group_id": "room", "user_id": "u2" } },
        { "at": 25, "event": { "type": "cloud_record.stream_close", "app_id": APP, "group_id": "room", "user_id": "t1",
                               "media_type": 1, "media_id": "1" } }
    ]);
    let app = spawn(fixture).await;
    let mut ws = connect(&app.url).await;
    assert_eq!(ws.login(APP, &access_token(&app).await).await["result"], 0);
    assert_eq!(ws.groups(20008, APP, &["room"]).await["result"], 0);
    let a = ws.groups(20004, APP, &["room"]).await;
    assert_eq!((a["id"].clone(), a["result"].clone()), (json!(20005), json!(0)), "{a}");
    let before = ws_journal(&app).await.len();
    app.advance(30.0).await;
    // Queued and journaled before the advance answered.
    let pushed: Vec<Value> = ws_journal(&app).await[before..]
        .iter()
        .map(|r| serde_json::from_str(r["response"].as_str().unwrap()).unwrap())
        .collect();
    let push = |id: i64, user: &str, t: i64, m: &str| json!({ "id": id, "app_id": APP, "group_id": "room", "user_id": user, "media_type": t, "media_id": m });
    let want = vec![
        push(20102, "u2", 2, "c2"),
        push(20102, "u2", 1, "a2"),
        push(20103, "u2", 2, "c2"),
        push(20103, "u2", 1, "a2"),
        push(20103, "t1", 1, "1"),
    ];
    assert_eq!(pushed, want, "the journal, in order (nothing for the unsubscribed hall)");
    for w in &want {
        assert_eq!(&ws.recv().await, w);
    }
    // Nothing else was queued: the next frame is the answer to this request.
    let a = ws.groups(20008, APP, &["room"]).await;
    assert_eq!(
        a["group_list"][0]["user_list"],
        json!([{ "user_id": "t1", "media_info": [{ "media_type": 2, "media_id": "0" }] }])
    );
    // A join of streams the user already publishes opens nothing; stream_open is one push.
    app.event(json!({ "type": "cloud_record.join", "app_id": APP, "group_id": "room", "user_id": "t1",
                       "streams": [{ "media_type": 2, "media_id": "0" }] }))
        .await;
    app.event(
        json!({ "type": "cloud_record.stream_open", "app_id": APP, "group_id": "room", "user_id": "t1",
                       "media_type": 0, "media_id": 5 }),
    )
    .await;
    assert_eq!(ws.recv().await, push(20102, "t1", 0, "5"));
    app.stop().await;
}

/// An app the login does not own is refused whole (no other tenant's data); so is subscribing to it.
#[tokio::test]
async fn another_tenants_app_is_refused() {
    let app = spawn(world()).await;
    let mut ws = connect(&app.url).await;
    assert_eq!(ws.login(DEV, DEV_TOKEN).await["result"], 0);
    let a = ws.groups(20008, OTHER_APP, &["secret"]).await;
    assert_eq!((a["id"].clone(), a["result"].clone()), (json!(20009), json!(6_050_030_007i64)), "{a}");
    assert!(a.get("group_list").is_none() && !a.to_string().contains("\"x\""), "{a}");
    let a = ws
        .ask(json!({ "id": 20008, "app_list": [{ "app_id": APP, "group_list": ["room"] }, { "app_id": OTHER_APP }] }))
        .await;
    assert_eq!(a["result"], 6_050_030_007i64, "{a}");
    assert!(a.get("group_list").is_none(), "{a}");
    let a = ws.groups(20004, OTHER_APP, &["secret"]).await;
    assert_eq!((a["id"].clone(), a["result"].clone()), (json!(20005), json!(6_050_030_007i64)), "{a}");
    // Nothing of the other app is pushed here.
    app.event(json!({ "type": "cloud_record.stream_open", "app_id": OTHER_APP, "group_id": "secret",
                       "user_id": "x", "media_type": 1, "media_id": "8" }))
        .await;
    let (_, v) = app.get("/__admin/gateway/sessions").await;
    assert_eq!(v["sessions"][0]["subscriptions"], json!([]), "{v}");
    assert_eq!(ws.groups(20008, APP, &["room"]).await["result"], 0, "the next frame is this answer");
    app.stop().await;
}

/// Malformed JSON, frames that are not objects, unknown ids, binary frames: error frames; an oversized
/// frame: a close with 1009 and a reason. The server answers on.
#[tokio::test]
async fn malformed_unknown_and_oversized_frames() {
    let app = spawn(world()).await;
    let mut ws = connect(&app.url).await;
    ws.inner.send(Message::text("{not json")).await.unwrap();
    let a = ws.recv().await;
    assert_eq!((a["id"].clone(), a["result"].clone()), (json!(20999), json!(6_050_030_005i64)), "{a}");
    ws.inner.send(Message::text("[1, 2]")).await.unwrap();
    assert_eq!(ws.recv().await["result"], 6_050_030_005i64);
    ws.send(&json!({ "seq_id": 5 })).await;
    let a = ws.recv().await;
    assert_eq!(
        (a["id"].clone(), a["seq_id"].clone(), a["result"].clone()),
        (json!(20999), json!(5), json!(6_050_030_003i64))
    );
    let a = ws.ask(json!({ "id": 12345 })).await;
    assert_eq!((a["id"].clone(), a["request_id"].clone()), (json!(20999), json!(12345)), "{a}");
    assert!(a["msg"].as_str().unwrap().contains("unknown message id"), "{a}");
    ws.inner.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    assert_eq!(ws.recv().await["result"], 6_050_030_005i64);
    let a = ws.ask(json!({ "id": 20000, "dev_id": DEV })).await;
    assert_eq!((a["id"].clone(), a["result"].clone()), (json!(20001), json!(606_000_000)), "{a}");
    assert_eq!(ws.login(DEV, DEV_TOKEN).await["result"], 0);
    let a = ws.ask(json!({ "id": 20004, "app_list": "room" })).await;
    assert_eq!(a["result"], 6_050_030_003i64, "{a}");
    // Pings are answered and not journaled.
    let before = ws_journal(&app).await.len();
    ws.inner.send(Message::Ping(b"hi".to_vec().into())).await.unwrap();
    assert_eq!(ws.next().await, Message::Pong(b"hi".to_vec().into()));
    assert_eq!(ws_journal(&app).await.len(), before, "pings are not journaled");
    // Over the frame limit: closed with 1009, journaled.
    ws.inner.send(Message::text("x".repeat(70_000))).await.unwrap();
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 1009, "{reason}");
    assert!(reason.contains("65536"), "{reason}");
    assert!(ws_journal(&app).await.iter().any(|r| r["status"] == 1009));
    // The server is fine.
    let mut again = connect(&app.url).await;
    assert_eq!(again.login(DEV, DEV_TOKEN).await["result"], 0);
    assert_eq!(app.get("/__admin/health").await.0, 200);
    app.stop().await;
}

/// A plain GET of the gateway is 426 with a hint; other methods 405; a handshake from an origin
/// `--cors-origin` does not allow is 403.
#[tokio::test]
async fn plain_get_is_426_and_origins_follow_cors() {
    let mut config = config_of(Spawn { fixtures: vec![with_clock(world()).to_string()], ..Spawn::default() });
    config.cors_origin = recmock::cors::AllowOrigin::parse("https://console.example").unwrap();
    let app = spawn_config(config).await;
    let resp = app.client.get(format!("{}/", app.url)).send().await.unwrap();
    assert_eq!(resp.status(), 426);
    assert_eq!(resp.headers()["upgrade"], "websocket");
    let v: Value = resp.json().await.unwrap();
    assert!(v["error"].as_str().unwrap().contains("WebSocket"), "{v}");
    let (s, _) = app.post("/", json!({})).await;
    assert_eq!(s, 405);

    let ws_url = app.url.replacen("http://", "ws://", 1);
    let with_origin = |o: &str| {
        let mut req = ws_url.as_str().into_client_request().unwrap();
        req.headers_mut().insert("origin", o.parse().unwrap());
        req
    };
    let (mut ok, _) = tokio_tungstenite::connect_async(with_origin("https://console.example")).await.unwrap();
    ok.close(None).await.unwrap();
    match tokio_tungstenite::connect_async(with_origin("https://evil.example")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 403),
        other => panic!("an unlisted origin was let in: {other:?}"),
    }
    app.stop().await;
}

/// 200 logged-in, subscribed sockets at once: one join reaches every one; the sessions resource lists
/// them, and closed sockets leave nothing behind.
#[tokio::test]
async fn two_hundred_sockets_at_once() {
    recmock::server::raise_open_files_limit();
    let app = spawn(world()).await;
    let token = access_token(&app).await;
    let mut sockets = futures_util::future::join_all((0..200).map(|_| async {
        let mut ws = connect(&app.url).await;
        assert_eq!(ws.login(APP, &token).await["result"], 0);
        assert_eq!(ws.groups(20004, APP, &["room"]).await["result"], 0);
        ws
    }))
    .await;
    let (_, v) = app.get("/__admin/gateway/sessions").await;
    assert_eq!(v["count"], 200);
    let s = &v["sessions"][0];
    assert_eq!(s["login"]["apps"], json!([APP]), "{s}");
    assert_eq!(s["login"]["via"], "access token");
    assert_eq!(s["subscriptions"], json!([{ "app_id": APP, "group_id": "room" }]));
    assert_eq!((s["frames_in"].clone(), s["frames_out"].clone()), (json!(2), json!(2)), "{s}");
    app.event(
        json!({ "type": "cloud_record.stream_open", "app_id": APP, "group_id": "room", "user_id": "t1",
                       "media_type": 0, "media_id": "share" }),
    )
    .await;
    for ws in &mut sockets {
        let p = ws.recv().await;
        assert_eq!((p["id"].clone(), p["media_id"].clone()), (json!(20102), json!("share")));
    }
    for mut ws in sockets {
        ws.inner.close(None).await.unwrap();
        let _ = ws.closed().await;
    }
    let mut left = -1;
    for _ in 0..200 {
        left = app.get("/__admin/gateway/sessions").await.1["count"].as_i64().unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(left, 0, "closed sockets leave nothing behind");
    app.stop().await;
}

/// A consumer that stops reading is closed with 1013 once its queue (1,024 frames) is full, and the
/// closing is journaled; the world never waits for it.
#[tokio::test]
async fn a_slow_consumer_is_closed_with_1013() {
    let app = spawn_with(Spawn {
        fixtures: vec![with_clock(world()).to_string()],
        journal_size: 2000,
        ..Spawn::default()
    })
    .await;
    // A small receive window, so the kernel holds little for the client that does not read.
    let addr: std::net::SocketAddr = app.url.trim_start_matches("http://").parse().unwrap();
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let tcp = sock.connect(addr).await.unwrap();
    let (inner, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), tcp).await.unwrap();
    let mut ws = Ws { inner, seq: 0 };
    assert_eq!(ws.login(DEV, DEV_TOKEN).await["result"], 0);
    assert_eq!(ws.groups(20004, APP, &["room"]).await["result"], 0);
    // The client reads nothing while joins push big frames (4 KB each), batch after batch.
    let big = "m".repeat(4000);
    let mut closed = false;
    for round in 0..40 {
        let events: Vec<Value> = (0..10)
            .map(|i| {
                let streams: Vec<Value> = (0..100)
                    .map(|k| json!({ "media_type": 2, "media_id": format!("{big}{round}_{i}_{k}") }))
                    .collect();
                json!({ "type": "cloud_record.join", "app_id": APP, "group_id": "room",
                        "user_id": format!("u{round}_{i}"), "streams": streams })
            })
            .collect();
        let (s, v) = app.post("/__admin/events", Value::Array(events)).await;
        assert_eq!(s, 200, "{v}");
        if ws_journal(&app).await.iter().any(|r| r["status"] == 1013) {
            closed = true;
            break;
        }
    }
    assert!(closed, "the socket was never found too slow");
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 1013, "{reason}");
    assert!(reason.contains("too slow"), "{reason}");
    assert_eq!(app.get("/__admin/health").await.0, 200);
    app.stop().await;
}

/// A reset of the tenant closes its sockets with 1012 and a reason; another tenant's socket stays.
#[tokio::test]
async fn a_reset_closes_the_tenants_sockets() {
    let app = spawn(world()).await;
    let mut mine = connect(&app.url).await;
    assert_eq!(mine.login(DEV, DEV_TOKEN).await["result"], 0);
    let mut theirs = connect(&app.url).await;
    assert_eq!(theirs.login("other_dev", "other-token").await["result"], 0);
    let (s, v) = app.post(&format!("/__admin/reset?tenant=cloud_record:{APP}"), json!({})).await;
    assert_eq!(s, 200, "{v}");
    let (code, reason) = mine.closed().await;
    assert_eq!(code, 1012);
    assert!(reason.contains("reset"), "{reason}");
    assert_eq!(theirs.groups(20008, OTHER_APP, &["secret"]).await["result"], 0);
    // A whole reset (or a restore) closes every socket.
    let (s, _) = app.post("/__admin/reset", json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(theirs.closed().await.0, 1012);
    app.stop().await;
}

/// The vendor console's whole sequence (vendor-facts.md): token service → access service (business and
/// event gateway) → access token → gateway login with it → snapshot of one group → subscribe after a
/// good snapshot → a stream joins → 20102 → set/layout with that stream.
#[tokio::test]
async fn the_consoles_whole_sequence() {
    let app = spawn(world()).await;
    let (_, v) = app.post("/generate/token", json!({ "appId": APP, "appSecret": SECRET })).await;
    assert_eq!(v["code"], 0, "{v}");
    let dev_token = v["result"].as_str().unwrap().to_string();
    let (_, business) = app.get("/server/address?appType=10").await;
    assert_eq!(business["result"], app.url);
    let (_, event) = app.get("/server/address?appType=8").await;
    // The console strips one trailing `;` and opens the address as is.
    let address = event["result"].as_str().unwrap().trim_end_matches(';').to_string();
    assert_eq!(address, app.url.replacen("http://", "ws://", 1));
    // The console calls `/access/token` with no query and `Authorization: <appId>.<token>`.
    let (_, v) = app.get_h("/access/token", &[("Authorization", &format!("{APP}.{dev_token}"))]).await;
    let access = v["result"]["access_token"].as_str().unwrap_or_else(|| panic!("{v}")).to_string();

    let (inner, _) = tokio_tungstenite::connect_async(address.as_str()).await.unwrap();
    let mut ws = Ws { inner, seq: 1_767_225_600_123 };
    let a = ws.login(APP, &access).await;
    assert_eq!((a["id"].clone(), a["result"].clone()), (json!(20001), json!(0)), "{a}");
    let a = ws.groups(20008, APP, &["room"]).await;
    assert_eq!((a["id"].clone(), a["result"].clone()), (json!(20009), json!(0)), "{a}");
    assert_eq!(a["group_list"][0]["group_id"], "room");
    let a = ws.groups(20004, APP, &["room"]).await;
    assert_eq!((a["id"].clone(), a["result"].clone()), (json!(20005), json!(0)), "{a}");

    // A manual task waits for its first layout; a student joins with a camera.
    let auth = [("Authorization", access.as_str())];
    let (_, t) = app.post_h("/v1/record/init", json!({ "app_id": APP, "group_id": "room" }), &auth).await;
    let record_id = t["record_id"].as_str().unwrap_or_else(|| panic!("{t}")).to_string();
    app.event(json!({ "type": "cloud_record.join", "app_id": APP, "group_id": "room", "user_id": "s1",
                       "streams": [{ "media_type": 2, "media_id": "cam" }] }))
        .await;
    let p = ws.recv().await;
    assert_eq!(p["id"], 20102);
    assert_eq!(p["group_id"], json!("room"), "compared strictly, as a string");
    let layout = json!({ "app_id": APP, "record_id": record_id, "seq": "1",
        "video_list": [{ "user_id": p["user_id"], "media_id": p["media_id"], "media_type": p["media_type"] }] });
    let (_, v) = app.post_h("/v1/record/set/layout", layout, &auth).await;
    assert_eq!(v["code"], 0, "set/layout with the pushed stream: {v}");
    let (_, list) = app.get_h(&format!("/v1/record/task/list?app_id={APP}"), &auth).await;
    assert_eq!(list["record_list"][0]["status"], 2, "recording: {list}");
    // Stopping the server closes its sockets (a graceful stop does not wait for them).
    app.stop().await;
    assert_eq!(ws.closed().await, (1001, "recmock is stopping".to_string()));
}
