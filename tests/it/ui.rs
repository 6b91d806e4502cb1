//! The dashboard (`/__admin/ui`) in a real browser: Debian's `chromium`, headless, driven over WebDriver
//! by its `chromedriver` (the `fantoccini` crate). `tests/tools/ensure.sh chromium` installs both (and a
//! CJK font); a missing browser fails these tests, never skips them. Screenshots of every page go to
//! `target/ui-screenshots/` for a person to look at after a run.

use crate::common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a page may take to show what a test waits for (a live update, a redraw): far above the
/// quarter second the event stream batches changes for.
const WAIT: Duration = Duration::from_secs(20);

const APP: &str = "demo_app_0001";
const DEV: &str = "demo_dev_0001";
const DEV_TOKEN: &str = "demo-token-0001";
const TIC_APP: u64 = 1_400_127_140;
const TIC_KEY: &str = "DzXpbluRsmo1JkoFxzKMNg5ifrA4GRlU";

/// A headless Chromium and the chromedriver that drives it (both ended on drop).
struct Browser {
    client: Client,
    driver: std::process::Child,
    profile: std::path::PathBuf,
}

impl Browser {
    async fn start() -> Browser {
        Browser::start_with(&[]).await
    }

    /// A browser started with `extra` command-line flags too.
    async fn start_with(extra: &[&str]) -> Browser {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(tool).exists(),
                "{tool} is missing: run `tests/tools/ensure.sh chromium` (make test does; the dashboard's tests \
                 need Debian's chromium and chromium-driver and never skip)"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = std::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = fresh_dir("chromium");
        let caps = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1366,768", "--lang=en-US",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        let mut caps = caps;
        for flag in extra {
            caps["goog:chromeOptions"]["args"].as_array_mut().unwrap().push(json!(flag));
        }
        let caps: serde_json::Map<String, Value> = serde_json::from_value(caps).unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let mut last = String::new();
        for _ in 0..100 {
            let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
            match builder.capabilities(caps.clone()).connect(&url).await {
                Ok(client) => return Browser { client, driver, profile },
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver at {url} did not start a session: {last}");
    }

    async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// Save a screenshot of the whole page as `target/ui-screenshots/<name>.png` (the window is made as
    /// tall as the page for it, up to 4,000 pixels, then given back its size).
    async fn shot(&self, name: &str) {
        let (w, h) = self.client.get_window_size().await.expect("window size");
        let tall = self.eval("return document.documentElement.scrollHeight").await.as_u64().unwrap_or(0);
        let chrome = self.eval("return window.outerHeight - window.innerHeight").await.as_u64().unwrap_or(0);
        let full = (tall + chrome).clamp(h, 4000) as u32;
        self.client.set_window_size(w as u32, full).await.expect("resize");
        let png = self.client.screenshot().await.expect("screenshot");
        self.client.set_window_size(w as u32, h as u32).await.expect("resize back");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ui-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// The text of the first element matching `css`, if there is one.
    async fn text(&self, css: &str) -> Option<String> {
        let el = self.client.find(Locator::Css(css)).await.ok()?;
        el.text().await.ok()
    }

    /// Wait until the text of `css` satisfies `ok`; the last text seen.
    async fn wait_text(&self, css: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut seen = None;
        while tokio::time::Instant::now() < deadline {
            seen = self.text(css).await;
            if seen.as_deref().is_some_and(&ok) {
                return seen.unwrap_or_default();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{what}: `{css}` never did (last seen: {seen:?})");
    }

    /// Wait until `script` returns true.
    async fn wait_for(&self, what: &str, script: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::time::Instant::now() < deadline {
            if self.eval(script).await == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{what}: `{script}` never held");
    }

    async fn click(&self, css: &str) {
        let el = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no `{css}`: {e}"));
        el.click().await.unwrap_or_else(|e| panic!("click `{css}`: {e}"));
    }

    async fn fill(&self, css: &str, text: &str) {
        let el = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no `{css}`: {e}"));
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    /// The value `script` returns.
    async fn eval(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// An 001 account with a group whose users publish (an auto task records at once; the group's name is
/// Chinese), small files; a 004 app whose callbacks go to `callback_url` and are not retried.
fn world(callback_url: &str) -> Value {
    json!({
        "timings": { "video_bytes_per_s": 6000 },
        "callbacks": { "iclass": { "retries": 0, "interval_s": 60 } },
        "cloud_record": {
            "accounts": [{ "dev_id": DEV, "token": DEV_TOKEN, "app_id": APP }],
            "groups": [{ "app_id": APP, "group_id": "数学课", "users": [
                { "user_id": "王老师", "streams": [{ "media_type": 2, "media_id": "0" }, { "media_type": 1, "media_id": "1" }] }
            ] }]
        },
        "iclass": {
            "apps": [{ "sdkappid": TIC_APP, "tic_key": TIC_KEY, "callback_url": callback_url }],
            "users": [{ "sdkappid": TIC_APP, "user_id": "t1", "role": "teacher", "nickname": "王老师", "regist_time": T0 - 100 }]
        }
    })
}

async fn access_token(app: &TestApp) -> String {
    let (s, v) = app.get(&format!("/access/token?dev_id={DEV}&token={DEV_TOKEN}")).await;
    assert_eq!(s, 200, "{v}");
    v["result"]["access_token"].as_str().expect("access_token").to_string()
}

/// An 004 class begins: its `class_begin` callback goes out.
async fn class_begins(app: &TestApp) {
    let expire = T0 + 30 * 86_400;
    let sign = md5_hex(format!("{TIC_KEY}{expire}").as_bytes());
    let path = format!("/paas/v1/class/create?sdkappid={TIC_APP}&random=7&sign={sign}");
    let (s, v) =
        app.post(&path, json!({ "teacher_id": "t1", "class_topic": "物理", "expire_time": expire })).await;
    assert_eq!((s, &v["error_code"]), (200, &json!(0)), "{v}");
    let class_id = v["class_id"].as_u64().unwrap();
    app.event(json!({ "type": "iclass.class_begin", "sdkappid": TIC_APP, "class_id": class_id })).await;
}

#[tokio::test]
async fn the_dashboard_shows_the_world_live_and_drives_it() {
    let receiver_url = dead_url();
    let app = spawn(world(&receiver_url)).await;
    let ui = format!("{}/__admin/ui", app.url);
    let b = Browser::start().await;

    // The overview: clock, vendors and their tenants (Chinese renders: the test browser has a CJK font).
    b.goto(&format!("{ui}/")).await;
    assert_eq!(b.client.title().await.unwrap(), "Overview · recmock");
    b.wait_text("#clock", "the header shows the virtual clock", |t| t.contains("2026-01-01 08:00:00")).await;
    b.wait_text("#r-vendors", "the overview lists the tenants", |t| {
        t.contains(APP) && t.contains("1400127140")
    })
    .await;
    b.wait_for(
        "the live updates connect",
        "return document.getElementById('live-dot').classList.contains('on')",
    )
    .await;

    // A task created through the vendor API appears on the vendor's page without a reload.
    b.goto(&format!("{ui}/vendors/cloud_record")).await;
    b.wait_text("#r-list", "the task list is there", |t| t.contains("0 tasks match")).await;
    b.eval("window.__same_page = true").await;
    let token = access_token(&app).await;
    let (s, v) = app
        .post_h(
            "/v1/record/init",
            json!({ "app_id": APP, "group_id": "数学课", "auto": {}, "width": 320, "height": 240, "frame_rate": 15 }),
            &[("Authorization", &token)],
        )
        .await;
    assert_eq!((s, &v["code"]), (200, &json!(0)), "{v}");
    let rid = v["record_id"].as_str().unwrap().to_string();
    let row = format!("tr[data-id='{rid}'] td.status");
    b.wait_text(&row, "the new task appears", |t| t == "2 recording").await;
    assert_eq!(b.eval("return window.__same_page === true").await, json!(true), "the page was not reloaded");
    b.shot("vendor-cloud_record").await;

    // It records for a minute, then is finished: queued for encoding (3).
    app.advance(60.0).await;
    let (_, v) = app
        .post_h("/v1/record/finish", json!({ "app_id": APP, "record_id": rid }), &[("Authorization", &token)])
        .await;
    assert_eq!(v["code"], 0, "{v}");
    b.wait_text(&row, "the task is queued", |t| t == "3 queued for encoding").await;

    // Its page: the timeline from its own times; the UI's clock control moves it through 4, 5 and 6.
    b.click(&format!("tr[data-id='{rid}'] a")).await;
    b.wait_text("#entity-status", "the task's page shows status 3", |t| t == "3 queued for encoding").await;
    let timeline = b.text("ol.timeline").await.unwrap_or_default();
    assert!(timeline.contains("4 encoding") && timeline.contains("(expected)"), "{timeline}");
    for (seconds, status) in [("5", "4 encoding"), ("10", "5 uploading"), ("5", "6 done")] {
        b.fill("form[data-do=advance] input[name=amount]", seconds).await;
        b.click("form[data-do=advance] select[name=unit] option[value=s]").await;
        b.click("form[data-do=advance] button[type=submit]").await;
        b.wait_text("#entity-status", "the status moves on", |t| t == status).await;
    }
    let files = b.wait_text("#r-entity", "the files are listed", |t| t.contains(".mp4")).await;
    assert!(files.contains("360,000 bytes"), "60 s at 6000 B/s: {files}");
    assert_eq!(b.eval("return document.querySelectorAll('#r-entity video').length").await, json!(1));
    b.shot("task-timeline").await;

    // A callback that failed against a receiver that was down; the receiver comes up; redelivered from
    // the UI, the new attempt succeeds.
    class_begins(&app).await;
    app.advance(0.0).await;
    b.goto(&format!("{ui}/callbacks?state=failed")).await;
    b.wait_text("#r-list", "the failed callback is listed", |t| t.contains("class_begin")).await;
    b.shot("callbacks").await;
    b.click("#r-list tbody tr a").await;
    b.wait_text("#callback-state", "the callback failed", |t| t == "failed").await;
    let attempt = b.text("#attempts").await.unwrap_or_default();
    assert!(attempt.contains("failed"), "{attempt}");
    let receiver = Receiver::start_at(&receiver_url).await;
    b.click("button[data-do=redeliver]").await;
    b.wait_text("#callback-state", "the redelivered callback is delivered", |t| t == "delivered").await;
    let rows = b.eval("return [...document.querySelectorAll('#attempts tr.attempt td.outcome')].map(td => td.textContent)").await;
    assert_eq!(rows, json!(["failed", "delivered"]));
    assert_eq!(receiver.received().len(), 1);
    b.shot("callback-redelivered").await;

    // The journal, filtered by path.
    b.goto(&format!("{ui}/requests")).await;
    b.wait_text("#r-list", "the journal lists requests", |t| t.contains("/access/token")).await;
    b.fill("input[name=path]", "/v1/record/init").await;
    b.click("form[aria-label=Filter] button[type=submit]").await;
    b.wait_text("#r-list", "the journal is filtered", |t| !t.contains("/access/token")).await;
    let paths =
        b.eval("return [...document.querySelectorAll('#r-list td.path')].map(td => td.textContent)").await;
    assert_eq!(paths, json!(["/v1/record/init"]));
    assert!(b.client.current_url().await.unwrap().as_str().contains("path=%2Fv1%2Frecord%2Finit"));
    b.shot("requests-filtered").await;
    b.click("#r-list td a").await;
    let curl = b.wait_text("#as-curl", "the entry offers curl", |t| t.starts_with("curl -X POST")).await;
    assert!(curl.contains("/v1/record/init") && curl.contains("数学课"), "{curl}");
    let step: Value = serde_json::from_str(&b.text("#as-step").await.unwrap()).unwrap();
    assert_eq!(step["request"]["path"], "/v1/record/init");
    assert_eq!(step["expect"]["status"], 200);
    b.shot("request").await;

    // A bad fixture: the checker's errors with their JSON paths.
    b.goto(&format!("{ui}/state")).await;
    b.fill("#fixture-text", r#"{"cloud_record": {"accounts": [{"app_id": "x", "dev_id": 7}]}}"#).await;
    b.click("button[value=check]").await;
    let errors =
        b.wait_text("#fixture-result", "the checker's errors are shown", |t| t.contains("error")).await;
    let paths = b
        .eval("return [...document.querySelectorAll('#fixture-result code.path')].map(c => c.textContent)")
        .await;
    assert!(
        paths.as_array().unwrap().iter().any(|p| p.as_str().unwrap().starts_with("cloud_record.accounts[0]")),
        "{paths} in {errors}"
    );
    b.shot("fixtures-and-state").await;

    // The other pages, for the record; then the overview at phone width.
    b.goto(&format!("{ui}/faults")).await;
    b.fill("input[name=path]", "/v1/record/init").await;
    b.fill("input[name=http_status]", "503").await;
    b.click("form[data-do=fault-add] button[type=submit]").await;
    b.wait_text("main", "the rule is listed", |t| t.contains("Remove")).await;
    b.shot("faults").await;
    b.goto(&format!("{ui}/gateway")).await;
    b.shot("gateway").await;
    b.goto(&format!("{ui}/vendors/iclass?kind=user")).await;
    b.wait_text("#r-list", "Chinese names are shown", |t| t.contains("王老师")).await;
    b.shot("vendor-iclass-users").await;
    b.goto(&format!("{ui}/")).await;
    b.wait_text("#r-next", "", |_| true).await;
    b.shot("overview").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&format!("{ui}/")).await;
    let overflow =
        b.eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth").await;
    assert_eq!(overflow, json!(0), "the overview fits a phone's width");
    b.shot("overview-phone").await;
    b.goto(&format!("{ui}/callbacks")).await;
    b.shot("callbacks-phone").await;

    b.close().await;
    receiver.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn with_an_admin_token_the_browser_signs_in_once_and_keeps_a_strict_http_only_cookie() {
    let mut config =
        config_of(Spawn { fixtures: vec![with_clock(json!({})).to_string()], ..Spawn::default() });
    config.admin.token = Some("s3cret".into());
    let app = spawn_config(config).await;
    let b = Browser::start().await;
    b.goto(&format!("{}/__admin/ui/callbacks", app.url)).await;
    assert!(b.client.current_url().await.unwrap().path().ends_with("/__admin/ui/login"));
    b.fill("input[name=token]", "wrong").await;
    b.click("button[type=submit]").await;
    b.wait_text("main", "a wrong token is refused", |t| t.contains("not the admin token")).await;
    b.fill("input[name=token]", "s3cret").await;
    b.click("button[type=submit]").await;
    b.wait_text("h1", "signed in, the page asked for", |t| t == "Callbacks").await;
    let cookies = b.client.get_all_cookies().await.unwrap();
    let c = cookies.iter().find(|c| c.name() == "recmock_admin").expect("the dashboard's cookie");
    assert_eq!(c.http_only(), Some(true));
    assert_eq!(format!("{:?}", c.same_site()), "Some(Strict)");
    assert_ne!(c.value(), "s3cret", "the cookie does not carry the token itself");
    assert_eq!(b.eval("return document.cookie").await, json!(""), "scripts cannot read it");
    // The page's own calls to the control plane go through with the cookie.
    b.goto(&format!("{}/__admin/ui/", app.url)).await;
    b.fill("form[data-do=advance] input[name=amount]", "2").await;
    b.click("form[data-do=advance] button[type=submit]").await;
    b.wait_text("#clock-now", "the advance went through", |t| t.contains("08:02:00")).await;
    b.shot("signed-in").await;
    b.close().await;
    // Without the cookie or the token, the control plane still refuses: a page sends the browser to sign
    // in, the API answers 401.
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = plain.get(format!("{}/__admin/ui/events", app.url)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(header(&r, "location"), "/__admin/ui/login?next=%2F__admin%2Fui%2Fevents");
    let r = plain.get(format!("{}/__admin/requests", app.url)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn pages_escape_the_world_lists_page_on_request_and_the_event_stream_names_what_changed() {
    let mut fixture = world(&dead_url());
    fixture["cloud_record"]["groups"][0]["group_id"] = json!("<script>alert(1)</script>");
    let app = spawn(fixture).await;
    // Whatever the world holds is text on a page, never markup.
    let (s, page) =
        app.text(app.client.get(format!("{}/__admin/ui/vendors/cloud_record?kind=group", app.url))).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<script>alert"),
        "{page}"
    );
    let (s, page) = app.text(app.client.get(format!("{}/__admin/ui/vendors/nope", app.url))).await;
    assert_eq!(s, 404, "{page}");

    // The event stream: a hello, then a batch naming the change (a tenant's token was issued).
    let mut stream = app.client.get(format!("{}/__admin/ui/events", app.url)).send().await.unwrap();
    assert_eq!(header(&stream, "content-type"), "text/event-stream");
    let hello = stream.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&hello).starts_with("retry: "));
    access_token(&app).await;
    let batch = tokio::time::timeout(WAIT, stream.chunk()).await.unwrap().unwrap().unwrap();
    let batch = String::from_utf8_lossy(&batch).into_owned();
    assert!(batch.starts_with("event: change\ndata: "), "{batch}");
    let data: Value = serde_json::from_str(batch.trim_start_matches("event: change\ndata: ").trim()).unwrap();
    assert!(data["topics"].as_array().unwrap().contains(&json!("tenant")), "{data}");
    drop(stream);

    // The JSON lists answer everything unless asked for a page.
    for _ in 0..3 {
        class_begins(&app).await;
    }
    let (_, all) = app.get("/__admin/callbacks").await;
    assert_eq!((all["count"].clone(), all.get("next_cursor")), (json!(3), None));
    let (_, first) = app.get("/__admin/callbacks?limit=2").await;
    assert_eq!(first["count"], 2);
    assert_eq!(first["next_cursor"], "cb-000002");
    let (_, rest) = app.get("/__admin/callbacks?limit=2&cursor=cb-000002").await;
    assert_eq!((rest["count"].clone(), rest["callbacks"][0]["id"].clone()), (json!(1), json!("cb-000003")));
    assert_eq!(rest["next_cursor"], Value::Null);
    let (_, journal) = app.get("/__admin/requests").await;
    let n = journal["count"].as_u64().unwrap();
    assert!(n >= 4 && journal.get("next_cursor").is_none(), "{journal}");
    let (_, newest) = app.get("/__admin/requests?limit=1&method=POST&status=200").await;
    let id = newest["next_cursor"].as_u64().unwrap();
    assert_eq!(newest["requests"][0]["id"], id);
    let (_, older) = app.get(&format!("/__admin/requests?limit=1&method=POST&cursor={id}")).await;
    assert!(older["requests"][0]["id"].as_u64().unwrap() < id, "{older}");
    let (s, v) = app.get("/__admin/requests?cursor=x").await;
    assert_eq!(s, 400, "{v}");
    app.stop().await;
}

#[tokio::test]
async fn the_dashboard_follows_the_systems_dark_preference() {
    let app = spawn(world(&dead_url())).await;
    // What an OS set to dark tells the page (`prefers-color-scheme: dark`).
    let b = Browser::start_with(&["--force-dark-mode", "--blink-settings=preferredColorScheme=0"]).await;
    b.goto(&format!("{}/__admin/ui/", app.url)).await;
    assert_eq!(b.eval("return matchMedia('(prefers-color-scheme: dark)').matches").await, json!(true));
    let bg = b.eval("return getComputedStyle(document.body).backgroundColor").await;
    assert_eq!(bg, json!("rgb(13, 17, 23)"));
    b.wait_for(
        "the live updates connect",
        "return document.getElementById('live-dot').classList.contains('on')",
    )
    .await;
    b.shot("overview-dark").await;
    b.goto(&format!("{}/__admin/ui/vendors/iclass?kind=user", app.url)).await;
    b.shot("vendor-iclass-users-dark").await;
    b.close().await;
    app.stop().await;
}

/// `--max-ui-streams`: event streams beyond it get 503 (with the flag named) until one closes.
#[tokio::test]
async fn event_streams_beyond_the_cap_wait_for_one_to_close() {
    let limits = recmock::Limits { ui_streams: 1, ..recmock::Limits::default() };
    let app = spawn_with(Spawn {
        fixtures: vec![with_clock(world(&dead_url())).to_string()],
        limits,
        ..Spawn::default()
    })
    .await;
    let events = format!("{}/__admin/ui/events", app.url);
    let mut first = app.client.get(&events).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(first.chunk().await.unwrap().is_some());
    let second = app.client.get(&events).send().await.unwrap();
    assert_eq!(second.status(), 503);
    assert!(second.text().await.unwrap().contains("--max-ui-streams"));
    drop(first);
    // The server notices the closed stream at its next write (a keep-alive comment at the latest).
    let mut open = false;
    for _ in 0..100 {
        access_token(&app).await;
        let r = app.client.get(&events).send().await.unwrap();
        if r.status() == 200 {
            open = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(open, "a closed stream's place was never given back");
    app.stop().await;
}
