//! Callback delivery hygiene (issue 19): redirects are answers, not detours; a receiver's answer is read
//! up to a limit; receivers over HTTPS are trusted with the system's roots and recmock's own local CA.
use crate::common::*;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

const SDKAPPID: u64 = 1_400_000_001;
const KEY: &str = "demo-ilvb-key-0000000000000000000000000000000000000000000000000";
/// Made by the vendor's construction outside recmock (test-vectors.md): admin, T0, 180 days.
const VENDOR_SIG: &str = "eJyrVgrxCdYrSy1SslJQMtIzUNJRAItkpqTmlWSmZUIkElNyM-NgUsUp2YkFBZkpQAlDEwMIMITKpVYUZBalgmRMTU2NgBJQ8ZLMXLCouZm5kZGpGVy8ODMdZL5fdqSZe3KhdlBVaaZTVlmiWbJRiYt2VplfuoVHgFteuUdBQXFKhaVJlIWjrVItAI37Mvw_";

/// A 000 app whose callbacks go to `url`, and a room whose class has ended.
fn world(url: &str) -> Value {
    json!({
        "ilvb_edu": {
            "apps": [{ "sdkappid": SDKAPPID, "key": KEY, "callback_url": url }],
            "classrooms": [{ "sdkappid": SDKAPPID, "roomid": 3005, "start": -600, "end": -60 }]
        },
        "callbacks": { "ilvb_edu": { "retries": 0, "interval_s": 60 } }
    })
}

/// Ask for room 3005's recording and let the back end pick it up: the 1000 callback's first attempt.
async fn first_attempt(app: &TestApp) -> Value {
    let path = format!(
        "/v4/ilvb_edu/record?sdkappid={SDKAPPID}&identifier=admin&usersig={VENDOR_SIG}&contenttype=json"
    );
    let (s, v) = app
        .post(&path, json!({"cmd": "open_record_svc", "sub_cmd": "req_record", "class_roomid": 3005}))
        .await;
    assert_eq!((s, &v["error_code"]), (200, &json!(0)), "{v}");
    app.advance(60.0).await;
    let (_, v) = app.get("/__admin/callbacks?event=1000").await;
    let cb = v["callbacks"][0].clone();
    assert_eq!(cb["attempts"].as_array().map(Vec::len), Some(1), "{cb}");
    cb
}

/// An HTTP server answering every request with `answer`, on an ephemeral port of 127.0.0.1.
fn serve(answer: fn() -> HttpResponse) -> (String, actix_web::dev::ServerHandle) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new().default_service(web::to(move |_body: web::Bytes| async move { answer() }))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}/cb"), handle)
}

/// A receiver that answers 302 to another URL: the redirect is not followed (the other receiver gets
/// nothing), and the attempt is a failed one, recorded with its status and where it pointed.
#[tokio::test]
async fn a_redirect_is_a_failed_attempt_not_a_detour() {
    let elsewhere = Receiver::start().await;
    static TARGET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TARGET.set(elsewhere.url.clone()).unwrap();
    let (url, handle) =
        serve(|| HttpResponse::Found().insert_header(("location", TARGET.get().unwrap().as_str())).finish());
    let app = spawn(world(&url)).await;
    let cb = first_attempt(&app).await;
    let a = &cb["attempts"][0];
    assert_eq!(a["http_status"], 302, "{a}");
    assert_eq!(a["outcome"], "failed", "{a}");
    let error = a["error"].as_str().unwrap_or_default();
    assert!(error.contains("not followed") && error.contains(&elsewhere.url), "{error}");
    assert_eq!(cb["state"], "failed");
    assert!(elsewhere.received().is_empty(), "the redirect was followed");
    handle.stop(false).await;
    app.stop().await;
}

/// A receiver whose answer never ends: recmock reads up to its limit, then gives up on the attempt at once
/// (long before the delivery timeout) and keeps no more than it would of any answer.
#[tokio::test]
async fn an_endless_answer_is_read_up_to_a_limit() {
    let (url, handle) = serve(|| {
        let chunk = web::Bytes::from(vec![b' '; 16 * 1024]);
        HttpResponse::Ok()
            .streaming(futures_util::stream::repeat_with(move || Ok::<_, actix_web::Error>(chunk.clone())))
    });
    let app = spawn(world(&url)).await;
    let started = std::time::Instant::now();
    let cb = first_attempt(&app).await;
    let a = &cb["attempts"][0];
    assert_eq!(a["http_status"], 200, "{a}");
    assert_eq!(a["outcome"], "failed", "{a}");
    assert!(a["error"].as_str().unwrap_or_default().contains("longer than 65536 bytes"), "{a}");
    assert!(a["response"].is_null(), "{a}");
    // Bounded by size, not by the 5 s delivery timeout (generous for a busy machine).
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "{:?}", started.elapsed());
    handle.stop(false).await;
    app.stop().await;
}

/// A receiver over HTTPS whose certificate recmock's local CA signed is trusted when the CA is in
/// `--tls-dir` (and not otherwise: the trust comes from the CA, not from skipping checks).
#[tokio::test]
async fn an_https_receiver_with_a_certificate_of_recmocks_ca_is_trusted() {
    let ca_dir = fresh_dir("receiver-ca");
    let issued = recmock::tls::init(&ca_dir, &[], &[]).unwrap();
    let tls = recmock::tls::server_config(&issued.cert, &issued.key).unwrap();
    let rx_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = rx_listener.local_addr().unwrap().port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    let server = actix_web::HttpServer::new(move || {
        let counted = counted.clone();
        actix_web::App::new().default_service(web::to(move |_body: web::Bytes| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { HttpResponse::Ok().content_type("application/json").body(r#"{"error_code":0}"#) }
        }))
    })
    .workers(1)
    .disable_signals()
    .listen_rustls_0_23(rx_listener, tls)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    let url = format!("https://localhost:{port}/cb");

    let mut config =
        config_of(Spawn { fixtures: vec![with_clock(world(&url)).to_string()], ..Spawn::default() });
    config.tls_dir = Some(ca_dir.clone());
    let app = spawn_config(config).await;
    let cb = first_attempt(&app).await;
    assert_eq!(cb["state"], "delivered", "{cb}");
    assert_eq!(cb["attempts"][0]["http_status"], 200);
    let delivered = hits.load(std::sync::atomic::Ordering::SeqCst);
    assert!(delivered >= 1);
    app.stop().await;

    // Without the CA the same receiver is not trusted.
    let app = spawn(world(&url)).await;
    let cb = first_attempt(&app).await;
    assert_eq!(cb["state"], "failed", "{cb}");
    assert!(cb["attempts"][0]["http_status"].is_null(), "{cb}");
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        delivered,
        "nothing got through the handshake"
    );
    app.stop().await;
    handle.stop(false).await;
    let _ = std::fs::remove_dir_all(&ca_dir);
}
