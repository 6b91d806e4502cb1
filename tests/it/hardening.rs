//! Bad input on every vendor route, found from the server's own route table (so routes added later are
//! covered without touching this file): malformed, truncated, non-UTF-8, wrongly typed, deeply nested,
//! wrongly labelled and oversized bodies, odd query strings. The server must answer every one promptly,
//! as JSON, below 500 — in the vendor's own envelope — and keep serving afterwards. These are the classes
//! of failure the schemathesis contract run (`make contract`) looks for, kept here so they stay fixed
//! without it.

use crate::common::*;
use serde_json::Value;

/// The demo world, with a small body limit so the oversize case is cheap.
async fn demo() -> TestApp {
    spawn_with(Spawn {
        fixtures: vec![recmock::fixture::DEMO_JSON.to_string()],
        max_body_bytes: 4096,
        ..Spawn::default()
    })
    .await
}

/// `(method, path)` of every vendor route (path parameters filled in).
async fn vendor_routes(app: &TestApp) -> Vec<(String, String)> {
    let (s, v) = app.get("/__admin/routes").await;
    assert_eq!(s, 200, "{v}");
    let routes: Vec<(String, String)> = v["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["vendor"].is_null())
        .map(|r| {
            let path = r["path"].as_str().unwrap().replace(['{', '}'], "");
            (r["method"].as_str().unwrap().to_string(), path)
        })
        .collect();
    assert!(routes.len() >= 25, "{routes:?}");
    routes
}

/// Status, `Content-Type` and body text of an answer.
async fn read(resp: reqwest::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    let ctype =
        resp.headers().get("content-type").map(|v| v.to_str().unwrap_or("").to_string()).unwrap_or_default();
    (status, ctype, resp.text().await.unwrap())
}

/// The answer is JSON, not a server error, and not an HTML page.
fn assert_vendor_answer(what: &str, status: u16, content_type: &str, body: &str) {
    assert!(status < 500, "{what}: HTTP {status}: {body}");
    assert!(content_type.starts_with("application/json"), "{what}: content-type {content_type:?}: {body}");
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {body:?}"));
    assert!(v.is_object(), "{what}: {body}");
}

#[tokio::test]
async fn malformed_bodies_get_the_vendors_answer_never_a_server_error() {
    let app = demo().await;
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let bodies: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "application/json"),
        ("truncated", b"{\"app_id\":".to_vec(), "application/json"),
        ("not UTF-8", vec![0xff, 0xfe, b'{', 0xc3, 0x28, b'}'], "application/json"),
        ("array", b"[1,2,3]".to_vec(), "application/json"),
        ("string", b"\"hello\"".to_vec(), "application/json"),
        ("null", b"null".to_vec(), "application/json"),
        (
            "wrong types",
            br#"{"app_id":[],"group_id":{},"expire_time":"x","cmd":7,"conferenceKey":true}"#.to_vec(),
            "application/json",
        ),
        (
            "huge numbers",
            br#"{"expire_time":1e400,"class_id":-99999999999999999999999,"seq":18446744073709551616}"#
                .to_vec(),
            "application/json",
        ),
        ("deep nesting", deep.into_bytes(), "application/json"),
        ("form body", b"app_id=1&group_id=2".to_vec(), "application/x-www-form-urlencoded"),
        ("json labelled text", b"{}".to_vec(), "text/plain"),
        ("no content type", b"{}".to_vec(), ""),
        ("NUL bytes", b"{\"a\":\"\0\0\"}".to_vec(), "application/json"),
    ];
    for (method, path) in vendor_routes(&app).await {
        for (what, body, ct) in &bodies {
            let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let mut rb = app.client.request(m, format!("{}{path}?sdkappid=%ZZ&random=-1&&=&x", app.url));
            if !ct.is_empty() {
                rb = rb.header("content-type", *ct);
            }
            let resp =
                rb.body(body.clone()).send().await.unwrap_or_else(|e| panic!("{method} {path} {what}: {e}"));
            let (status, ctype, text) = read(resp).await;
            if method == "HEAD" {
                assert!(status < 500, "{method} {path} {what}: {status}");
                continue;
            }
            // A file download of a key that does not exist is a JSON 404 as well.
            assert_vendor_answer(&format!("{method} {path} [{what}]"), status, &ctype, &text);
        }
    }
    let (s, _) = app.get("/__admin/health").await;
    assert_eq!(s, 200, "the server still answers");
    app.stop().await;
}

#[tokio::test]
async fn oversized_bodies_get_413_in_the_vendors_envelope_on_every_route() {
    let app = demo().await;
    let big = vec![b' '; 5000];
    for (method, path) in vendor_routes(&app).await {
        if method == "GET" || method == "HEAD" {
            continue;
        }
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let resp = app
            .client
            .request(m, format!("{}{path}", app.url))
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        let (status, ctype, text) = read(resp).await;
        assert_eq!(status, 413, "{method} {path}: {text}");
        assert_vendor_answer(&format!("{method} {path} [oversize]"), status, &ctype, &text);
        let v: Value = serde_json::from_str(&text).unwrap();
        // Each vendor says it in its own envelope: a code field, never the control plane's bare `error`.
        let has_code = ["code", "error_code", "state"].iter().any(|k| v.get(*k).is_some());
        assert!(has_code, "{method} {path}: not the vendor's envelope: {v}");
    }
    app.stop().await;
}
