//! Real vendor clients unchanged: HTTPS under the vendors' own host names with recmock's local CA as the
//! only trusted root, URLs handed out on the host the client addressed, CORS for browser consoles, and the
//! HST developer-token flow with tokens made here exactly as vendor-facts.md describes.
use crate::common::*;
use aes::cipher::{block_padding::NoPadding, BlockEncryptMut, KeyIvInit};
use base64::Engine;
use serde_json::{json, Value};

const APP: &str = "demo_app_0001";
const DEV: &str = "demo_dev_0001";
const DEV_TOKEN: &str = "demo-token-0001";
const SECRET: &str = "0123456789abcdef";
const TIC_APP: u64 = 1_400_127_140;
const TIC_KEY: &str = "DzXpbluRsmo1JkoFxzKMNg5ifrA4GRlU";

/// The HST business gateway's public host.
const GW: &str = "fsp-store-gw.hst.com";
/// The HST access service's public host.
const ACCESS: &str = "access.paas.hst.com";

/// A 001 account (with its app secret, so generator tokens work), a second one, and a TIC PaaS app.
fn world() -> Value {
    json!({
        "cloud_record": {
            "accounts": [
                { "dev_id": DEV, "token": DEV_TOKEN, "app_id": APP, "app_secret": SECRET },
                { "dev_id": "dev_b", "token": "tok-b", "app_id": "app_b", "app_secret": "fedcba9876543210" }
            ],
            "groups": [{ "app_id": APP, "group_id": "room", "users": [
                { "user_id": "u1", "streams": [{ "media_type": 2, "media_id": "0" }, { "media_type": 1, "media_id": "1" }] }
            ] }]
        },
        "iclass": {
            "apps": [{ "sdkappid": TIC_APP, "tic_key": TIC_KEY }],
            "users": [{ "sdkappid": TIC_APP, "user_id": "t1", "role": "teacher", "regist_time": T0 - 100 }]
        }
    })
}

async fn spawn_tls() -> TestApp {
    spawn_with(Spawn { fixtures: vec![with_clock(world()).to_string()], tls: true, ..Spawn::default() }).await
}

/// Send and read a JSON answer (any status).
async fn json_of(rb: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = rb.send().await.expect("request sent");
    let s = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (s, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({s}): {text}")))
}

// ===== HST developer tokens, made here as vendor-facts.md describes (independently of the server) ====

/// `"001"` + base64(AES-128-CBC(key = secret, IV = 0x00..0x0f, no padding)) of `json` right-padded with
/// spaces to a multiple of 16 bytes.
fn hst_token(secret: &str, json: &str) -> String {
    let iv: [u8; 16] = std::array::from_fn(|i| i as u8);
    let key: [u8; 16] = secret.as_bytes().try_into().unwrap();
    let mut buf = json.as_bytes().to_vec();
    while !buf.len().is_multiple_of(16) {
        buf.push(b' ');
    }
    let n = buf.len();
    let enc = cbc::Encryptor::<aes::Aes128>::new(&key.into(), &iv.into())
        .encrypt_padded_mut::<NoPadding>(&mut buf, n)
        .unwrap()
        .to_vec();
    format!("001{}", base64::engine::general_purpose::STANDARD.encode(enc))
}

/// The claims JSON in the generator's field order; `et` only when given.
fn claims(aid: &str, gid: &str, uid: &str, et: Option<i64>, ts: i64, r: i64) -> String {
    let et = et.map(|e| format!("\"et\":{e},")).unwrap_or_default();
    format!("{{\"aid\":\"{aid}\",\"gid\":\"{gid}\",\"uid\":\"{uid}\",{et}\"ts\":{ts},\"r\":{r}}}")
}

/// A line break after every 76 characters of base64, as the Android encoder writes it.
fn wrap76(token: &str) -> String {
    let (prefix, b64) = token.split_at(3);
    let lines: Vec<String> =
        b64.as_bytes().chunks(76).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
    format!("{prefix}{}", lines.join("\n"))
}

/// The test's own encoder reproduces the vendor's TokenGenerator vectors (test-vectors.md) byte for byte,
/// so the tokens below are the vendor's own.
#[test]
fn the_test_encoder_reproduces_the_vendor_vectors() {
    let v1 = "001ennk2+zw2Yw7RKFIShiNcyS4MvqHOVRFTZT9bRXMvd5f2zwdw60Pxi3Q3RCl7TEJ9IbnJozp/wXK\nGp0WMHeJB3itjFgcX5N+BkQx46FgP6yZl8p22ycapFUYyuJnb3aggnr04fgCyLde/3UsX0Of5g==";
    let v2 = "001ennk2+zw2Yw7RKFIShiNc2EP8ZUPMaQZSTxW+OVvFwL2cNGKmff5nsffyvoADWNayf5yod5MkkQ3\ngkfWqgie4/OLTNPvHYN3mMD0FY4THTE=";
    let t1 =
        hst_token(SECRET, &claims(APP, "group_1", "user_1", Some(1_798_761_600), 1_767_225_600_123, 424_242));
    let t2 = hst_token(SECRET, &claims(APP, "", "", None, 1_767_225_600_123, 424_242));
    assert_eq!(wrap76(&t1), v1);
    assert_eq!(wrap76(&t2), v2);
}

/// `/access/token` over HTTPS on the gateway's host: generator tokens (with and without `et`, with the
/// Android line breaks) are accepted; one past its `et` on the virtual clock, one naming another app, one
/// made with another secret, and one with a changed cipher byte are refused with 606000000 — and the
/// fixture's static token keeps working.
#[tokio::test]
async fn generator_tokens_accepted_forgeries_and_expired_refused_over_https() {
    let app = spawn_tls().await;
    let port = app.tls_port();
    let c = app.https_client(&[GW]);
    let access = |tok: String| {
        let rb =
            c.get(format!("https://{GW}:{port}/access/token")).query(&[("dev_id", DEV), ("token", &tok)]);
        json_of(rb)
    };
    let soon = T0 + 60;
    let good = [
        hst_token(SECRET, &claims(APP, "room", "u1", Some(soon), T0 * 1000, 7)),
        wrap76(&hst_token(SECRET, &claims(APP, "room", "u1", Some(soon), T0 * 1000, 8))),
        hst_token(SECRET, &claims(APP, "", "", None, T0 * 1000, 9)),
        DEV_TOKEN.to_string(),
    ];
    for t in &good {
        let (s, v) = access(t.clone()).await;
        assert_eq!((s, &v["code"]), (200, &json!(0)), "{t}: {v}");
        assert_eq!(v["result"]["access_token"].as_str().unwrap().len(), 32, "{v}");
    }
    let mut tampered = base64::engine::general_purpose::STANDARD.decode(&good[2][3..]).unwrap();
    tampered[20] ^= 0x01;
    let tampered = format!("001{}", base64::engine::general_purpose::STANDARD.encode(tampered));
    let bad = [
        ("another app", hst_token(SECRET, &claims("app_b", "", "", None, T0 * 1000, 1))),
        ("another secret", hst_token("fedcba9876543210", &claims(APP, "", "", None, T0 * 1000, 1))),
        ("expired", hst_token(SECRET, &claims(APP, "", "", Some(T0), T0 * 1000, 1))),
        ("tampered", tampered),
        ("not a token", "001!!!".to_string()),
    ];
    for (why, t) in &bad {
        let (s, v) = access(t.clone()).await;
        assert_eq!((s, &v["code"]), (200, &json!(606_000_000)), "{why}: {v}");
        assert!(v.get("result").is_none(), "{why}: {v}");
    }
    // The same good tokens are refused once their `et` has passed on the virtual clock.
    app.advance(60.0).await;
    for t in &good[..2] {
        assert_eq!(access(t.clone()).await.1["code"], 606_000_000, "{t}");
    }
    assert_eq!(access(good[2].clone()).await.1["code"], 0, "no `et`: no expiry");
    assert_eq!(access(DEV_TOKEN.into()).await.1["code"], 0);
    app.stop().await;
}

/// The vendor console's own flow over HTTPS, each call on the host the console uses: the token service
/// makes a developer token from `{appId, appSecret}` (a wrong secret gets 606000000), the access service
/// names the business gateway (`appType=10`) and the event gateway (`appType=8`, `wss://` behind HTTPS)
/// on the host it was asked on, and the token buys an access token that lists tasks.
#[tokio::test]
async fn the_console_flow_over_https() {
    let app = spawn_tls().await;
    let port = app.tls_port();
    let token_host = "paas-token-gen.haoshitong.com";
    let c = app.https_client(&[token_host, ACCESS, GW]);
    let (s, v) = json_of(
        c.post(format!("https://{token_host}:{port}/generate/token"))
            .json(&json!({ "appId": APP, "appSecret": SECRET })),
    )
    .await;
    assert_eq!((s, &v["code"]), (200, &json!(0)), "{v}");
    let dev_token = v["result"].as_str().unwrap().to_string();
    let (_, v) = json_of(
        c.post(format!("https://{token_host}:{port}/generate/token"))
            .json(&json!({ "appId": APP, "appSecret": "0123456789abcdeX" })),
    )
    .await;
    assert_eq!(v["code"], 606_000_000, "{v}");

    let (_, v) = json_of(c.get(format!("https://{ACCESS}:{port}/server/address?appType=10"))).await;
    assert_eq!(v, json!({ "code": 0, "message": "OK", "result": format!("https://{ACCESS}:{port}") }));
    let (_, v) = json_of(c.get(format!("https://{ACCESS}:{port}/server/address?appType=8"))).await;
    assert_eq!(v, json!({ "code": 0, "message": "OK", "result": format!("wss://{ACCESS}:{port}") }));

    let (_, v) = json_of(
        c.get(format!("https://{GW}:{port}/access/token")).query(&[("dev_id", DEV), ("token", &dev_token)]),
    )
    .await;
    let access = v["result"]["access_token"].as_str().unwrap().to_string();
    let (_, v) = json_of(
        c.get(format!("https://{GW}:{port}/v1/record/task/list?app_id={APP}"))
            .header("Authorization", &access),
    )
    .await;
    assert_eq!((v["code"].clone(), v["total_num"].clone()), (json!(0), json!(0)), "{v}");
    app.stop().await;
}

// ===== one world, URLs on the addressed host ======================================================

/// Run a 001 task to completion through `c` at `base`; the download list.
async fn record_and_list(app: &TestApp, c: &reqwest::Client, base: &str) -> Value {
    let (_, v) = json_of(c.get(format!("{base}/access/token?dev_id={DEV}&token={DEV_TOKEN}"))).await;
    let auth = v["result"]["access_token"].as_str().unwrap().to_string();
    let (_, v) = json_of(
        c.post(format!("{base}/v1/record/init"))
            .header("Authorization", &auth)
            .json(&json!({ "app_id": APP, "group_id": "room", "file_name": "tls", "auto": { "type": 1 } })),
    )
    .await;
    let rid = v["record_id"].as_str().unwrap_or_else(|| panic!("{v}")).to_string();
    app.advance(120.0).await;
    let (_, v) = json_of(
        c.post(format!("{base}/v1/record/finish"))
            .header("Authorization", &auth)
            .json(&json!({ "app_id": APP, "record_id": rid })),
    )
    .await;
    assert_eq!(v["code"], 0, "{v}");
    app.advance(60.0).await;
    let (_, v) = json_of(
        c.get(format!("{base}/v1/record/file/download/url?app_id={APP}&record_id={rid}"))
            .header("Authorization", &auth),
    )
    .await;
    assert_eq!((v["code"].clone(), v["total_num"].clone()), (json!(0), json!(1)), "{v}");
    v
}

/// Over HTTPS as `fsp-store-gw.hst.com` (and as `vod.api.qcloud.com`: every path answers any Host), with
/// the local CA as the only trusted root, the download URL names that host and port and downloads there
/// with the reported MD5; the plain listener serves the same world, and its answers name the plain address.
#[tokio::test]
async fn https_under_vendor_hosts_hands_out_urls_on_the_addressed_host() {
    let app = spawn_tls().await;
    let port = app.tls_port();
    let c = app.https_client(&[GW, "vod.api.qcloud.com"]);
    let v = record_and_list(&app, &c, &format!("https://{GW}:{port}")).await;
    let entry = &v["data_list"][0];
    let url = entry["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("https://{GW}:{port}/files/")), "{url}");
    let resp = c.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(md5_hex(&resp.bytes().await.unwrap()), entry["md5"].as_str().unwrap());

    // One world behind every host and both listeners.
    let key = url.split("/files/").nth(1).unwrap().split('/').next().unwrap();
    let (_, v) = json_of(c.get(format!("https://vod.api.qcloud.com:{port}/__admin/state"))).await;
    assert!(v["files"].as_array().unwrap().iter().any(|f| f["key"] == key), "one world: {v}");
    let (_, v) = json_of(app.client.get(format!("{}/server/address?appType=10", app.url))).await;
    assert_eq!(v["result"], app.url);
    let (_, v) = json_of(c.get(format!("https://vod.api.qcloud.com:{port}/server/address?appType=10"))).await;
    assert_eq!(v["result"], format!("https://vod.api.qcloud.com:{port}"));
    // Both listeners' requests are in the one journal.
    let (_, j) = json_of(app.client.get(format!("{}/__admin/requests?path=/server/address", app.url))).await;
    assert_eq!(j["requests"].as_array().map(Vec::len), Some(2), "{j}");
    // A client that does not trust the CA is refused at the handshake.
    let untrusting = reqwest::Client::builder()
        .use_rustls_tls()
        .resolve(GW, std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .build()
        .unwrap();
    assert!(untrusting.get(format!("https://{GW}:{port}/__admin/health")).send().await.is_err());
    app.stop().await;
}

/// 004 over HTTPS as `iclass.api.qcloud.com`: `teacher_url`/`student_url` keep the vendor's path on the
/// addressed host, and open recmock's classroom page there.
#[tokio::test]
async fn classroom_urls_follow_the_addressed_host() {
    let app = spawn_tls().await;
    let port = app.tls_port();
    let host = "iclass.api.qcloud.com";
    let c = app.https_client(&[host]);
    let expire = T0 + 3600;
    let sign = md5_hex(format!("{TIC_KEY}{expire}").as_bytes());
    let (_, v) = json_of(
        c.post(format!("https://{host}:{port}/paas/v1/class/create?sdkappid={TIC_APP}&random=1&sign={sign}"))
            .json(&json!({ "expire_time": expire, "teacher_id": "t1", "class_topic": "<b>Maths</b>" })),
    )
    .await;
    assert_eq!(v["error_code"], 0, "{v}");
    let id = v["class_id"].as_u64().unwrap();
    assert_eq!(v["teacher_url"], format!("https://{host}:{port}/{TIC_APP}/{id}/0"));
    assert_eq!(v["student_url"], format!("https://{host}:{port}/{TIC_APP}/{id}/1"));
    let page = c.get(v["student_url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("&lt;b&gt;Maths&lt;/b&gt;") && page.contains("student view"), "{page}");
    app.stop().await;
}

/// Answers follow the addressed host even with `--public-url` (a client reaching a container under its
/// service name or a mapped port gets URLs that work where it is); the local CA's certificate covers the
/// public URL's host too.
#[tokio::test]
async fn answers_follow_the_addressed_host_even_with_a_public_url() {
    let mut config =
        config_of(Spawn { fixtures: vec![with_clock(world()).to_string()], tls: true, ..Spawn::default() });
    config.public_url = Some("https://recmock.example:9443/".into());
    let app = spawn_config(config).await;
    let port = app.tls_port();
    let c = app.https_client(&[GW]);
    let v = record_and_list(&app, &c, &format!("https://{GW}:{port}")).await;
    let url = v["data_list"][0]["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("https://{GW}:{port}/files/")), "{url}");
    let (_, v) = json_of(c.get(format!("https://{GW}:{port}/server/address?appType=8"))).await;
    assert_eq!(v["result"], format!("wss://{GW}:{port}"));
    let names = &app.tls.as_ref().unwrap().names;
    assert!(names.iter().any(|n| n == "recmock.example"), "{names:?}");
    app.stop().await;
}

/// `--tls-cert`/`--tls-key`: the given files are served (a client trusting only that certificate gets
/// through under its name), and no local CA is involved.
#[tokio::test]
async fn given_certificate_files_are_served() {
    let dir = fresh_dir("own-cert");
    let key = rcgen::KeyPair::generate().unwrap();
    let cert =
        rcgen::CertificateParams::new(vec!["own.example".to_string()]).unwrap().self_signed(&key).unwrap();
    let (cert_path, key_path) = (dir.join("own.pem"), dir.join("own-key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let mut config = config_of(Spawn { fixtures: vec![with_clock(world()).to_string()], ..Spawn::default() });
    config.tls = Some(recmock::TlsConfig {
        port: 0,
        certificate: recmock::TlsCertificate::Files { cert: cert_path.clone(), key: key_path.clone() },
    });
    let app = spawn_config(config).await;
    let tls = app.tls.clone().unwrap();
    assert_eq!((tls.ca_cert.as_ref(), &tls.cert), (None, &cert_path));
    let c = https_client(cert.pem().as_bytes(), &["own.example"], tls.port);
    let (s, v) = json_of(c.get(format!("https://own.example:{}/__admin/health", tls.port))).await;
    assert_eq!((s, &v["status"]), (200, &json!("ok")));
    app.stop().await;

    // A key that is not the certificate's, and a file that is no certificate, stop the start.
    let other = rcgen::KeyPair::generate().unwrap();
    std::fs::write(&key_path, other.serialize_pem()).unwrap();
    let mut config = config_of(Spawn::default());
    config.tls = Some(recmock::TlsConfig {
        port: 0,
        certificate: recmock::TlsCertificate::Files { cert: cert_path.clone(), key: key_path.clone() },
    });
    let err = recmock::Application::build(config.clone()).unwrap_err().to_string();
    assert!(err.starts_with("TLS:") && err.contains("own-key.pem"), "{err}");
    std::fs::write(&cert_path, "not a certificate").unwrap();
    let err = recmock::Application::build(config).unwrap_err().to_string();
    assert!(err.starts_with("TLS:") && err.contains("own.pem"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

// ===== CORS ========================================================================================

/// A preflight as a browser on `https://console.example` sends it.
fn preflight(c: &reqwest::Client, url: &str, method: &str, headers: &str) -> reqwest::RequestBuilder {
    preflight_from(c, "https://console.example", url, method, headers)
}

/// A preflight from the page at `origin`.
fn preflight_from(
    c: &reqwest::Client,
    origin: &str,
    url: &str,
    method: &str,
    headers: &str,
) -> reqwest::RequestBuilder {
    c.request(reqwest::Method::OPTIONS, url)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", headers)
}

/// Preflights on vendor endpoints and file downloads (over HTTP and HTTPS) are answered 204 with the
/// methods, the vendors' auth headers and the asked-for headers; they are not journaled, and a real
/// non-OPTIONS wrong method still gets 405 with `Allow`. The control plane answers no preflight (without
/// `--admin-cors`): it refuses other web pages (tests/it/admin_guard.rs).
#[tokio::test]
async fn preflights_are_answered_everywhere_and_not_journaled() {
    let app = spawn_tls().await;
    let port = app.tls_port();
    let c = app.https_client(&[GW]);
    let https = format!("https://{GW}:{port}");
    for base in [app.url.as_str(), https.as_str()] {
        let client = if base.starts_with("https") { &c } else { &app.client };
        for path in ["/v1/record/init", "/files/abc/x.mp4", "/meeting/openRecord"] {
            let resp = preflight(client, &format!("{base}{path}"), "POST", "auth, x-custom-thing")
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 204, "{base}{path}");
            assert_eq!(header(&resp, "access-control-allow-origin"), "*", "{path}");
            let methods = header(&resp, "access-control-allow-methods");
            for m in ["GET", "POST", "PUT", "DELETE"] {
                assert!(methods.contains(m), "{path}: {methods}");
            }
            let allowed = header(&resp, "access-control-allow-headers").to_ascii_lowercase();
            for h in ["auth", "authorization", "content-type", "x-custom-thing"] {
                assert!(allowed.split(',').any(|x| x.trim() == h), "{path}: {h} not in {allowed}");
            }
            assert!(header(&resp, "access-control-max-age").parse::<u64>().unwrap() > 0);
        }
        let resp = preflight(client, &format!("{base}/__admin/clock/advance"), "POST", "content-type")
            .header("Access-Control-Request-Private-Network", "true")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{base}");
        assert_eq!(header(&resp, "access-control-allow-origin"), "", "{base}");
        assert_eq!(header(&resp, "access-control-allow-private-network"), "", "{base}");
    }
    // Chromium's private-network preflight from a public page.
    let resp = preflight(&app.client, &format!("{}/v1/record/init", app.url), "POST", "authorization")
        .header("Access-Control-Request-Private-Network", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&resp, "access-control-allow-private-network"), "true");

    let (_, j) = json_of(app.client.get(format!("{}/__admin/requests", app.url))).await;
    assert_eq!(j["requests"], json!([]), "preflights are not journaled: {j}");
    // A wrong real method is still 405 with Allow (and the CORS header).
    let resp = app.client.put(format!("{}/v1/record/init", app.url)).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(header(&resp, "allow"), "POST");
    assert_eq!(header(&resp, "access-control-allow-origin"), "*");
    app.stop().await;
}

/// Every answer of the vendor paths and downloads carries `Access-Control-Allow-Origin`: successes, vendor
/// errors, 404s, 405s, downloads (whose range and checksum headers a page may read). The control plane's
/// answers carry none: a page of another origin is refused, a tool without `Origin` is answered.
#[tokio::test]
async fn every_answer_carries_the_allowed_origin() {
    let app = spawn_tls().await;
    let port = app.tls_port();
    let c = app.https_client(&[GW]);
    let v = record_and_list(&app, &c, &format!("https://{GW}:{port}")).await;
    let file = v["data_list"][0]["url"].as_str().unwrap().to_string();
    let get = |url: String| c.get(url).header("Origin", "https://console.example").send();
    let urls = [
        (format!("https://{GW}:{port}/access/token?dev_id=x&token=y"), 200),
        (format!("https://{GW}:{port}/no/such/path"), 404),
        (format!("https://{GW}:{port}/v1/record/init"), 405),
        (format!("https://{GW}:{port}/files/nope/x.mp4"), 404),
        (file.clone(), 200),
    ];
    for (url, status) in urls {
        let resp = get(url.clone()).await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{url}");
        assert_eq!(header(&resp, "access-control-allow-origin"), "*", "{url}");
    }
    let resp = get(file).await.unwrap();
    let exposed = header(&resp, "access-control-expose-headers");
    assert!(exposed.contains("x-recmock-md5") && exposed.contains("content-range"), "{exposed}");
    let health = format!("https://{GW}:{port}/__admin/health");
    let resp = get(health.clone()).await.unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(header(&resp, "access-control-allow-origin"), "");
    let resp = c.get(&health).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "access-control-allow-origin"), "");
    app.stop().await;
}

/// `--cors-origin` with a list: a listed origin is echoed (with `Vary: Origin` and credentials), another
/// origin gets no `Access-Control-Allow-Origin`, in preflights and answers alike.
#[tokio::test]
async fn configured_origins_are_echoed_others_refused() {
    let mut config = config_of(Spawn { fixtures: vec![with_clock(world()).to_string()], ..Spawn::default() });
    config.cors_origin =
        recmock::cors::AllowOrigin::parse("https://console.example, http://localhost:3000").unwrap();
    let app = spawn_config(config).await;
    let url = format!("{}/server/address?appType=10", app.url);
    let resp = app.client.get(&url).header("Origin", "http://localhost:3000").send().await.unwrap();
    assert_eq!(header(&resp, "access-control-allow-origin"), "http://localhost:3000");
    assert_eq!(header(&resp, "access-control-allow-credentials"), "true");
    assert!(header(&resp, "vary").contains("Origin"));
    let resp = app.client.get(&url).header("Origin", "https://evil.example").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "access-control-allow-origin"), "");
    let resp = preflight(&app.client, &url, "GET", "auth").send().await.unwrap();
    assert_eq!(header(&resp, "access-control-allow-origin"), "https://console.example");
    let resp = preflight_from(&app.client, "https://evil.example", &url, "GET", "auth").send().await.unwrap();
    assert_eq!(header(&resp, "access-control-allow-origin"), "");
    app.stop().await;
}

/// docs/examples/python_requests.py, the guide's Python example, runs unchanged against recmock with the
/// CA in REQUESTS_CA_BUNDLE. It needs Python with `requests`, which `make test` installs first
/// (`tests/tools/ensure.sh python`): without it this test fails, saying so — it never skips.
#[tokio::test]
async fn the_python_requests_example_runs() {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/.venv-contract/bin/python3");
    let python = if std::path::Path::new(venv).exists() { venv } else { "python3" };
    let has_requests = std::process::Command::new(python)
        .args(["-c", "import requests"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        has_requests,
        "{python} with `requests` is needed: run `tests/tools/ensure.sh python` (`make test` runs it first)"
    );
    let app = spawn_with(Spawn {
        fixtures: vec![with_clock(serde_json::from_str(recmock::fixture::DEMO_JSON).unwrap()).to_string()],
        tls: true,
        ..Spawn::default()
    })
    .await;
    let tls = app.tls.clone().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/examples/python_requests.py");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .env("REQUESTS_CA_BUNDLE", tls.ca_cert.unwrap())
            .env("RECMOCK_TLS_PORT", tls.port.to_string())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("gateway https://access.paas.hst.com\n"), "{stdout}");
    assert!(stdout.contains("event gateway wss://access.paas.hst.com\n"), "{stdout}");
    assert!(stdout.contains("tasks 0"), "{stdout}");
    app.stop().await;
}

/// An `OPTIONS` without the CORS request headers is no preflight: a known path answers 405 with `Allow`
/// as for any method it does not serve, an unknown one 404 — both with the CORS header.
#[tokio::test]
async fn plain_options_is_routed_like_any_method() {
    let app = spawn(world()).await;
    let resp = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/v1/record/init", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(header(&resp, "allow"), "POST");
    assert_eq!(header(&resp, "access-control-allow-origin"), "*");
    let resp =
        app.client.request(reqwest::Method::OPTIONS, format!("{}/nowhere", app.url)).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    app.stop().await;
}
