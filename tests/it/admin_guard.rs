//! Who may drive `/__admin`: tools that send no `Origin` (curl as the README uses it, SDKs, the scenario
//! runner) and pages of the server's own origin, under loopback names and recmock's own host names; not
//! other web sites (simple cross-site POSTs included), not DNS rebinding, and with `--admin-token` nobody
//! without the token but for `GET /__admin/health`.
use crate::common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The demo world, frozen at T0.
fn demo() -> Value {
    with_clock(serde_json::from_str(recmock::fixture::DEMO_JSON).unwrap())
}

async fn spawn_admin(admin: recmock::AdminConfig, public_url: Option<&str>) -> TestApp {
    let mut config = config_of(Spawn { fixtures: vec![demo().to_string()], ..Spawn::default() });
    config.admin = admin;
    config.public_url = public_url.map(str::to_string);
    spawn_config(config).await
}

/// Status and JSON body of a request.
async fn answer(rb: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = rb.send().await.expect("request sent");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")))
}

/// What a reset would undo: a fault rule, a journaled request, a moved clock.
async fn world_marks(app: &TestApp) -> (usize, usize, i64) {
    let faults = app.get("/__admin/faults").await.1["faults"].as_array().unwrap().len();
    let requests = app.get("/__admin/requests").await.1["held"].as_u64().unwrap() as usize;
    (faults, requests, app.now().await)
}

/// Cross-site requests a browser sends without a preflight — a `text/plain` POST and a form POST from
/// another origin, an `Origin: null` page, a request marked `Sec-Fetch-Site: cross-site` — are refused
/// with a JSON 403 naming the problem, and change nothing; a state read from another origin reveals
/// nothing. The server's own origin (`Origin` = its scheme and Host) resets the world.
#[tokio::test]
async fn cross_site_requests_change_nothing_same_origin_ones_work() {
    let app = spawn(demo()).await;
    let (s, _) = app
        .post("/__admin/faults", json!({ "match": { "path": "/nowhere" }, "action": { "http_status": 500 } }))
        .await;
    assert_eq!(s, 201);
    app.get("/access/token?dev_id=demo_dev_0001&token=demo-token-0001").await;
    app.advance(100.0).await;
    let before = world_marks(&app).await;
    assert_eq!((before.0, before.1, before.2), (1, 1, T0 + 100));

    let reset = format!("{}/__admin/reset", app.url);
    let refused = [
        (
            "text/plain",
            app.client
                .post(&reset)
                .header("Origin", "https://evil.example")
                .header("Content-Type", "text/plain")
                .body("{}"),
        ),
        ("form", app.client.post(&reset).header("Origin", "https://evil.example").form(&[("a", "b")])),
        (
            "null origin",
            app.client.post(&reset).header("Origin", "null").header("Content-Type", "text/plain"),
        ),
        ("same site, other port", app.client.post(&reset).header("Origin", "http://127.0.0.1:1").body("")),
        (
            "sec-fetch-site",
            app.client
                .post(&reset)
                .header("Sec-Fetch-Site", "cross-site")
                .header("Content-Type", "text/plain"),
        ),
        (
            "state read",
            app.client.get(format!("{}/__admin/state", app.url)).header("Origin", "https://evil.example"),
        ),
        (
            "clock",
            app.client
                .post(format!("{}/__admin/clock/advance", app.url))
                .header("Origin", "https://evil.example")
                .header("Content-Type", "text/plain")
                .body(r#"{"seconds":60}"#),
        ),
    ];
    for (what, rb) in refused {
        let resp = rb.send().await.unwrap();
        assert_eq!(resp.status(), 403, "{what}");
        assert_eq!(header(&resp, "content-type"), "application/json", "{what}");
        assert_eq!(header(&resp, "access-control-allow-origin"), "", "{what}: no CORS on /__admin");
        let text = resp.text().await.unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        let error = v["error"].as_str().unwrap();
        assert!(error.starts_with("/__admin refuses"), "{what}: {error}");
        assert!(error.contains("--admin-cors"), "{what}: {error}");
        assert!(!text.contains("demo-token-0001"), "{what}: a refusal reveals nothing: {text}");
    }
    assert_eq!(world_marks(&app).await, before, "nothing changed");

    // The page's own origin may: the same reset, from the server's own origin, empties the world.
    let (s, v) = answer(
        app.client
            .post(&reset)
            .header("Origin", &app.url)
            .header("Sec-Fetch-Site", "same-origin")
            .header("Content-Type", "text/plain")
            .body(""),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (faults, requests, _) = world_marks(&app).await;
    assert_eq!((faults, requests), (0, 0), "reset");
    app.stop().await;
}

/// `--admin-cors`: a named origin's preflight is answered (with the Private-Network permission it asks
/// for) and its requests — `Sec-Fetch-Site: cross-site` as a browser marks them — work and carry CORS
/// headers; another origin's preflight and requests are refused. Without `--admin-cors` no preflight on
/// `/__admin` is answered, while vendor paths keep answering every origin.
#[tokio::test]
async fn admin_cors_allows_a_named_origin() {
    let console = "https://console.example";
    let admin = recmock::AdminConfig { cors: vec![console.into()], ..Default::default() };
    let app = spawn_admin(admin, None).await;
    let url = format!("{}/__admin/clock/advance", app.url);
    let preflight = |origin: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, &url)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .header("Access-Control-Request-Private-Network", "true")
    };
    let resp = preflight(console).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(header(&resp, "access-control-allow-origin"), console);
    assert_eq!(header(&resp, "access-control-allow-credentials"), "true");
    assert_eq!(header(&resp, "access-control-allow-private-network"), "true");
    assert!(header(&resp, "access-control-allow-methods").contains("POST"));
    let resp = app
        .client
        .post(&url)
        .header("Origin", console)
        .header("Sec-Fetch-Site", "cross-site")
        .json(&json!({ "seconds": 5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "access-control-allow-origin"), console);
    assert!(header(&resp, "vary").contains("Origin"));
    assert_eq!(app.now().await, T0 + 5);

    let resp = preflight("https://evil.example").send().await.unwrap();
    assert_eq!(header(&resp, "access-control-allow-origin"), "");
    assert_eq!(header(&resp, "access-control-allow-private-network"), "");
    let (s, _) =
        answer(app.client.post(&url).header("Origin", "https://evil.example").json(&json!({ "seconds": 5 })))
            .await;
    assert_eq!(s, 403);
    assert_eq!(app.now().await, T0 + 5);
    app.stop().await;

    let app = spawn(demo()).await;
    let resp = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/__admin/reset", app.url))
        .header("Origin", console)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Private-Network", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(header(&resp, "access-control-allow-origin"), "");
    assert_eq!(header(&resp, "access-control-allow-private-network"), "");
    let resp = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/v1/record/init", app.url))
        .header("Origin", console)
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!((resp.status().as_u16(), header(&resp, "access-control-allow-origin")), (204, "*".into()));
    app.stop().await;
}

/// Bound to loopback, `/__admin` answers loopback names, the vendors' hosts, `--tls-name` names and
/// `--public-url`'s host, and refuses any other `Host` (DNS rebinding) — while the vendor paths and
/// downloads answer that same foreign `Host`.
#[tokio::test]
async fn a_foreign_host_is_refused_on_admin_and_answered_on_vendor_paths() {
    let admin = recmock::AdminConfig { names: vec!["recmock.test".into()], ..Default::default() };
    let app = spawn_admin(admin, Some("http://public.example:9000")).await;
    let port = app.url.rsplit(':').next().unwrap().to_string();
    let with_host = |path: &str, host: &str| {
        app.client.get(format!("{}{path}", app.url)).header("Host", format!("{host}:{port}"))
    };
    for host in ["evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "0.0.0.0"] {
        let (s, v) = answer(with_host("/__admin/state", host)).await;
        assert_eq!(s, 403, "{host}: {v}");
        let error = v["error"].as_str().unwrap();
        assert!(error.contains(&format!("Host `{host}:{port}`")) && error.contains("rebinding"), "{error}");
        assert!(!v.to_string().contains("demo-token-0001"), "{v}");
        // The vendor path answers the same Host.
        let (s, v) =
            answer(with_host("/access/token?dev_id=demo_dev_0001&token=demo-token-0001", host)).await;
        assert_eq!((s, &v["code"]), (200, &json!(0)), "{host}: {v}");
    }
    for host in [
        "localhost",
        "LOCALHOST",
        "dev.localhost",
        "127.0.0.1",
        "127.0.0.2",
        "[::1]",
        "vod.api.qcloud.com",
        "fsp-store-gw.hst.com",
        "recmock.test",
        "public.example",
    ] {
        let (s, v) = answer(with_host("/__admin/clock", host)).await;
        assert_eq!(s, 200, "{host}: {v}");
    }
    app.stop().await;
}

/// Every `(method, path)` under `/__admin` the server registers, path parameters filled in.
async fn admin_routes(app: &TestApp, token: &str) -> Vec<(reqwest::Method, String)> {
    let (s, v) = answer(app.client.get(format!("{}/__admin/routes", app.url)).bearer_auth(token)).await;
    assert_eq!(s, 200, "{v}");
    let mut out = Vec::new();
    for r in v["routes"].as_array().unwrap() {
        let path = r["path"].as_str().unwrap();
        if !path.starts_with("/__admin") {
            continue;
        }
        for m in r["method"].as_str().unwrap().split(',').map(str::trim) {
            let concrete: Vec<&str> =
                path.split('/').map(|seg| if seg.starts_with('{') { "1" } else { seg }).collect();
            out.push((reqwest::Method::from_bytes(m.as_bytes()).unwrap(), concrete.join("/")));
        }
    }
    assert!(out.len() >= 20, "{out:?}");
    out
}

/// `--admin-token`: every control-plane call but `GET /__admin/health` answers 401 (with
/// `WWW-Authenticate`) without `Authorization: Bearer <token>` or with a wrong one, and goes through with
/// it; vendor paths never need it.
#[tokio::test]
async fn the_admin_token_is_needed_everywhere_but_health() {
    let token = "t0ken-with-some-length";
    let admin = recmock::AdminConfig { token: Some(token.into()), ..Default::default() };
    let app = spawn_admin(admin, None).await;
    let routes = admin_routes(&app, token).await;
    for (method, path) in &routes {
        let url = format!("{}{path}", app.url);
        let health = method == reqwest::Method::GET && path == "/__admin/health";
        let resp = app.client.request(method.clone(), &url).send().await.unwrap();
        if health {
            assert_eq!(resp.status(), 200, "{method} {path}");
            continue;
        }
        // The dashboard's sign-in needs no token; its pages send a browser without one there (303).
        if path == "/__admin/ui/login" {
            assert_ne!(resp.status(), 401, "{method} {path}");
            continue;
        }
        if method == reqwest::Method::GET && path.starts_with("/__admin/ui") {
            let plain =
                reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
            for wrong in [None, Some("Bearer t0ken"), Some(token)] {
                let mut rb = plain.get(&url);
                if let Some(w) = wrong {
                    rb = rb.header("Authorization", w);
                }
                let r = rb.send().await.unwrap();
                assert_eq!(r.status(), 303, "{method} {path} with {wrong:?}");
                assert!(header(&r, "location").starts_with("/__admin/ui/login?next="), "{path}");
            }
            let resp = plain.get(&url).bearer_auth(token).send().await.unwrap();
            assert!(![401, 403, 303].contains(&resp.status().as_u16()), "{method} {path} with the token");
            continue;
        }
        assert_eq!(resp.status(), 401, "{method} {path}");
        assert!(header(&resp, "www-authenticate").starts_with("Bearer"), "{method} {path}");
        let v: Value = resp.json().await.unwrap();
        assert!(v["error"].as_str().unwrap().contains("Authorization: Bearer"), "{v}");
        for wrong in ["Bearer t0ken-with-some-lengtH", "Bearer t0ken", "Basic dDBrZW4=", token] {
            let (s, v) =
                answer(app.client.request(method.clone(), &url).header("Authorization", wrong)).await;
            assert_eq!(s, 401, "{method} {path} with `{wrong}`: {v}");
        }
        let resp = app.client.request(method.clone(), &url).bearer_auth(token).send().await.unwrap();
        assert_ne!(resp.status(), 401, "{method} {path} with the token");
        assert_ne!(resp.status(), 403, "{method} {path} with the token");
    }
    // The vendors are not behind it.
    let (s, v) = app.get("/access/token?dev_id=demo_dev_0001&token=demo-token-0001").await;
    assert_eq!((s, &v["code"]), (200, &json!(0)), "{v}");
    let (s, _) = app.get("/__admin/health").await;
    assert_eq!(s, 200);
    app.stop().await;
}

// ===== the README's control-plane calls, exactly as curl sends them ================================

/// Split one shell command line into words: quotes joined with what touches them, `$NAME` and `${NAME}`
/// expanded from `vars`; stops at an unquoted `|`, `)`, `>`, `;`, `#` or a backtick (the end of inline code).
fn shell_words(line: &str, vars: &BTreeMap<&str, String>) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (_, '$') => {
                let braced = chars.peek() == Some(&'{');
                if braced {
                    chars.next();
                }
                let mut name = String::new();
                while let Some(&n) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        name.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if braced {
                    chars.next();
                }
                let value = vars.get(name.as_str()).unwrap_or_else(|| panic!("${name} in: {line}"));
                word.get_or_insert_with(String::new).push_str(value);
            }
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '|' | ')' | '>' | ';' | '#' | '`') => break,
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// One curl command's request: (method, URL, `-d` body).
fn curl_request(words: &[String]) -> (String, String, Option<String>) {
    let (mut method, mut url, mut data) = (None, None, None);
    let mut i = 0;
    while i < words.len() {
        match words[i].as_str() {
            "-X" => {
                method = words.get(i + 1).cloned();
                i += 1;
            }
            "-d" | "--data" => {
                data = words.get(i + 1).cloned();
                i += 1;
            }
            "-H" => i += 1,
            w if w.starts_with("-X") => method = Some(w[2..].to_string()),
            w if w.starts_with("http") => url = Some(w.to_string()),
            _ => {}
        }
        i += 1;
    }
    let method = method.unwrap_or_else(|| if data.is_some() { "POST" } else { "GET" }.into());
    (method, url.expect("a URL"), data)
}

/// The README's worked examples make these control-plane calls with curl: no `Origin`, `-d` bodies labelled
/// `application/x-www-form-urlencoded`, `Host: 127.0.0.1:<port>`. Each is sent so, in the README's order
/// against the demo world (the class its `$CID` names made first), and each is answered 200.
#[tokio::test]
async fn the_readmes_control_plane_calls_work_as_curl_sends_them() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let app = spawn(demo()).await;
    let tic_key = "DzXpbluRsmo1JkoFxzKMNg5ifrA4GRlU";
    let expire = T0 + 300;
    let sign = md5_hex(format!("{tic_key}{expire}").as_bytes());
    let (_, v) = app
        .post(
            &format!("/paas/v1/class/create?sdkappid=1400127140&random=1&sign={sign}"),
            json!({ "expire_time": expire, "teacher_id": "demo_teacher" }),
        )
        .await;
    let cid = v["class_id"].as_u64().unwrap_or_else(|| panic!("{v}")).to_string();
    let vars: BTreeMap<&str, String> = [("B", app.url.clone()), ("CID", cid)].into_iter().collect();
    let mut sent = 0;
    for line in readme.lines() {
        for (n, part) in line.split("curl ").enumerate().skip(1) {
            if !part.contains("$B/__admin/") || part.trim_start().starts_with("--cacert") {
                continue;
            }
            let words = shell_words(part, &vars);
            let (method, url, data) = curl_request(&words);
            let mut rb = app
                .client
                .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), &url)
                .header("User-Agent", "curl/8.5.0")
                .header("Accept", "*/*");
            if let Some(d) = &data {
                rb = rb.header("Content-Type", "application/x-www-form-urlencoded").body(d.clone());
            }
            let resp = rb.send().await.unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            assert_eq!(
                status, 200,
                "README: curl {part} (#{n} on its line)\n→ {method} {url} {data:?}\n{text}"
            );
            sent += 1;
        }
    }
    assert!(sent >= 15, "only {sent} control-plane calls found in the README");
    app.stop().await;
}
