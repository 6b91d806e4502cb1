//! Shared test harness: start the real server on an ephemeral port with a frozen clock, talk HTTP to it.
#![allow(dead_code)]

use recmock::{Application, Config, FixtureSource};
use serde_json::{json, Value};
use std::path::PathBuf;

/// How long the test clients keep an idle connection for reuse: well short of the server's keep-alive.
pub const POOL_IDLE: std::time::Duration = std::time::Duration::from_secs(2);

/// How long a test client waits for one answer: only a bound on a server that hangs, never a test of speed.
/// An advance that makes hours of recorded files computes their MD5s in the unoptimised test build, which
/// takes over 20 s on a 2-core machine busy with a release build: the bound is far above that.
pub const CLIENT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(180);

/// 2026-01-01 00:00:00 UTC (08:00 Beijing): the start of every test world.
pub const T0: i64 = 1_767_225_600;

/// A running test server.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    /// a client with a short timeout
    pub client: reqwest::Client,
    /// stops the server (its WebSockets closed first)
    pub handle: recmock::server::Stopper,
    /// finishes when the server has stopped (and written its state file)
    pub join: tokio::task::JoinHandle<std::io::Result<()>>,
    /// the HTTPS listener, when [`Spawn::tls`] asked for one
    pub tls: Option<recmock::TlsInfo>,
}

/// Options for [`spawn_with`].
pub struct Spawn {
    /// fixture documents (JSON text)
    pub fixtures: Vec<String>,
    /// state file
    pub state_file: Option<PathBuf>,
    /// seed
    pub seed: u64,
    /// journal size (`--journal-size`: wins over `limits.journal_entries`)
    pub journal_size: usize,
    /// the memory caps (`--journal-bytes`, `--callbacks-undelivered`, ...)
    pub limits: recmock::Limits,
    /// body limit
    pub max_body_bytes: usize,
    /// also listen with TLS on an ephemeral port, with a certificate from a fresh local CA (see
    /// [`TestApp::tls`] and [`TestApp::https_client`])
    pub tls: bool,
    /// `--auth-clock`: `virtual` unless a test asks otherwise, so answers are byte-deterministic and
    /// expiry is tested on the virtual clock (`None`: the server's default, or the fixture's)
    pub auth_clock: Option<recmock::clock::AuthClock>,
}

impl Default for Spawn {
    fn default() -> Self {
        Spawn {
            fixtures: vec![],
            state_file: None,
            seed: 42,
            journal_size: 10_000,
            limits: recmock::Limits::default(),
            max_body_bytes: 1024 * 1024,
            tls: false,
            auth_clock: Some(recmock::clock::AuthClock::Virtual),
        }
    }
}

/// A server frozen at [`T0`] with the given fixture (plus `"clock": {"start": T0, "frozen": true}`).
pub async fn spawn(fixture: Value) -> TestApp {
    spawn_with(Spawn { fixtures: vec![with_clock(fixture).to_string()], ..Spawn::default() }).await
}

/// Add a frozen clock at [`T0`] to a fixture that has none.
pub fn with_clock(mut fixture: Value) -> Value {
    if fixture.get("clock").is_none() {
        fixture["clock"] = json!({ "start": T0, "frozen": true });
    }
    fixture
}

/// A server with full control over its configuration.
pub async fn spawn_with(opts: Spawn) -> TestApp {
    spawn_config(config_of(opts)).await
}

/// The configuration [`spawn_with`] starts a server with (port 0, two workers, no signal handling).
pub fn config_of(opts: Spawn) -> Config {
    Config {
        port: 0,
        fixtures: opts
            .fixtures
            .into_iter()
            .enumerate()
            .map(|(i, json)| FixtureSource::Inline { name: format!("test fixture {i}"), json })
            .collect(),
        seed: Some(opts.seed),
        frozen_clock: true,
        auth_clock: opts.auth_clock,
        state_file: opts.state_file,
        limits: recmock::Limits { journal_entries: opts.journal_size, ..opts.limits },
        max_body_bytes: opts.max_body_bytes,
        workers: Some(2),
        handle_signals: false,
        tls: opts.tls.then(|| recmock::TlsConfig {
            port: 0,
            certificate: recmock::TlsCertificate::LocalCa { dir: fresh_dir("ca"), extra_names: vec![] },
        }),
        ..Config::default()
    }
}

/// A new, empty directory under the system's temp directory.
pub fn fresh_dir(what: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("recmock-test-{what}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A server started from a complete configuration (e.g. [`config_of`] with a `public_url`).
pub async fn spawn_config(config: Config) -> TestApp {
    let app = Application::build(config).expect("server builds");
    let url = app.url().to_string();
    let handle = app.stopper();
    let tls = app.tls().cloned();
    let join = tokio::spawn(app.run_until_stopped());
    let client =
        reqwest::Client::builder().timeout(CLIENT_TIMEOUT).pool_idle_timeout(POOL_IDLE).build().unwrap();
    TestApp { url, client, handle, join, tls }
}

impl TestApp {
    /// The HTTPS port (panics unless the server was spawned with [`Spawn::tls`]).
    pub fn tls_port(&self) -> u16 {
        self.tls.as_ref().expect("spawned with tls").port
    }

    /// A client that trusts only recmock's local CA and reaches each of `hosts` at 127.0.0.1 on the HTTPS
    /// port, as a vendor SDK does once the vendor's host names point at recmock.
    pub fn https_client(&self, hosts: &[&str]) -> reqwest::Client {
        let tls = self.tls.as_ref().expect("spawned with tls");
        let ca = tls.ca_cert.as_ref().expect("a local-CA certificate");
        https_client(&std::fs::read(ca).unwrap(), hosts, tls.port)
    }

    /// Stop gracefully and wait until the server (and its state-file write) is done.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        self.join.await.expect("server task").expect("server stopped cleanly");
        // The fresh CA directory of a `Spawn { tls: true }` server goes with it.
        let ca_dir = self.tls.and_then(|t| t.ca_cert).and_then(|c| c.parent().map(PathBuf::from));
        if let Some(dir) = ca_dir.filter(|d| d.starts_with(std::env::temp_dir())) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// GET a path, returning (status, JSON body).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.client.get(format!("{}{path}", self.url))).await
    }

    /// GET with headers.
    pub async fn get_h(&self, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut rb = self.client.get(format!("{}{path}", self.url));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        self.send(rb).await
    }

    /// POST a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.client.post(format!("{}{path}", self.url)).json(&body)).await
    }

    /// POST a JSON body with headers.
    pub async fn post_h(&self, path: &str, body: Value, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut rb = self.client.post(format!("{}{path}", self.url)).json(&body);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        self.send(rb).await
    }

    /// POST raw bytes with headers.
    pub async fn post_raw(&self, path: &str, body: &[u8], headers: &[(&str, &str)]) -> (u16, Value) {
        let mut rb = self.client.post(format!("{}{path}", self.url)).body(body.to_vec());
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        self.send(rb).await
    }

    /// Send any request; the body must be JSON.
    pub async fn send(&self, rb: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = rb.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body read");
        let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON (status {status}): {text}"));
        (status, v)
    }

    /// Send any request; returns the status and the body as text, exactly as received.
    pub async fn text(&self, rb: reqwest::RequestBuilder) -> (u16, String) {
        let resp = rb.send().await.expect("request sent");
        let status = resp.status().as_u16();
        (status, resp.text().await.expect("body read"))
    }

    /// Download raw bytes.
    pub async fn bytes(&self, url: &str) -> (u16, Vec<u8>) {
        let resp = self.client.get(url).send().await.expect("request sent");
        let status = resp.status().as_u16();
        (status, resp.bytes().await.expect("body").to_vec())
    }

    /// Advance the virtual clock; returns the control plane's answer (with `ran`).
    pub async fn advance(&self, seconds: f64) -> Value {
        let (s, v) = self.post("/__admin/clock/advance", json!({ "seconds": seconds })).await;
        assert_eq!(s, 200, "advance: {v}");
        v
    }

    /// Apply one world event; panics unless it was applied.
    pub async fn event(&self, event: Value) -> Value {
        let (s, v) = self.post("/__admin/events", event.clone()).await;
        assert_eq!(s, 200, "event {event}: {v}");
        v
    }

    /// Current virtual unix seconds.
    pub async fn now(&self) -> i64 {
        self.get("/__admin/clock").await.1["now"].as_i64().unwrap()
    }
}

/// A client whose only trusted root is the PEM certificate `root`, reaching each of `hosts` at
/// 127.0.0.1:`port`.
pub fn https_client(root: &[u8], hosts: &[&str], port: u16) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(root).unwrap())
        .timeout(CLIENT_TIMEOUT)
        .pool_idle_timeout(POOL_IDLE);
    for h in hosts {
        b = b.resolve(h, std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    b.build().unwrap()
}

/// A response header as text (empty when absent).
pub fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

/// Add a fault rule; panics unless it was stored. Returns the stored rule (with its `id`).
pub async fn add_fault(app: &TestApp, rule: Value) -> Value {
    let (s, v) = app.post("/__admin/faults", rule.clone()).await;
    assert_eq!(s, 201, "{rule}: {v}");
    v
}

/// MD5 of bytes as lowercase hex, computed independently of recmock.
pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// One request a [`Receiver`] got.
#[derive(Debug, Clone)]
pub struct Received {
    /// path
    pub path: String,
    /// raw query string
    pub query: String,
    /// decoded query parameters
    pub params: std::collections::BTreeMap<String, String>,
    /// body as JSON (Null if it was not JSON)
    pub body: Value,
    /// body as text
    pub raw: String,
}

/// What a [`Receiver`] answers to one request.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status
    pub status: u16,
    /// body
    pub body: String,
}
// No answer is ever late in real time: a test makes a receiver slow with a callback fault rule's
// `latency_ms`, which recmock counts without waiting, so no test races the delivery timeout.

impl Answer {
    /// `{"error_code":0}` with 200: what both vendors expect.
    pub fn ok() -> Answer {
        Answer { status: 200, body: r#"{"error_code":0}"#.into() }
    }
    /// Any status and body.
    pub fn with(status: u16, body: &str) -> Answer {
        Answer { status, body: body.into() }
    }
}

type Shared<T> = std::sync::Arc<std::sync::Mutex<T>>;

/// Decides a [`Receiver`]'s answer from the request itself (see [`Receiver::judge_with`]).
type Judge = std::sync::Arc<dyn Fn(&Received) -> Answer + Send + Sync>;

/// An in-test HTTP server that records the callbacks it receives and answers from a script.
pub struct Receiver {
    /// base URL, e.g. `http://127.0.0.1:PORT/cb`
    pub url: String,
    received: Shared<Vec<Received>>,
    script: Shared<std::collections::VecDeque<Answer>>,
    default: Shared<Answer>,
    judge: Shared<Option<Judge>>,
    handle: actix_web::dev::ServerHandle,
}

impl Receiver {
    /// Start one on an ephemeral port; it answers [`Answer::ok`] unless scripted otherwise.
    pub async fn start() -> Receiver {
        Receiver::start_on(std::net::TcpListener::bind("127.0.0.1:0").unwrap()).await
    }

    /// Start one on the port of `url` (e.g. a [`dead_url`] that should come back up).
    pub async fn start_at(url: &str) -> Receiver {
        let addr = url.trim_start_matches("http://").split('/').next().unwrap().to_string();
        Receiver::start_on(std::net::TcpListener::bind(addr).unwrap()).await
    }

    async fn start_on(listener: std::net::TcpListener) -> Receiver {
        use actix_web::{web, HttpRequest, HttpResponse};
        let received: Shared<Vec<Received>> = Default::default();
        let script: Shared<std::collections::VecDeque<Answer>> = Default::default();
        let default: Shared<Answer> = std::sync::Arc::new(std::sync::Mutex::new(Answer::ok()));
        let judge: Shared<Option<Judge>> = Default::default();
        let (r, s, d, j) = (received.clone(), script.clone(), default.clone(), judge.clone());
        let port = listener.local_addr().unwrap().port();
        let server = actix_web::HttpServer::new(move || {
            let (r, s, d, j) = (r.clone(), s.clone(), d.clone(), j.clone());
            actix_web::App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (r, s, d, j) = (r.clone(), s.clone(), d.clone(), j.clone());
                async move {
                    let raw = String::from_utf8_lossy(&body).into_owned();
                    let params = req
                        .query_string()
                        .split('&')
                        .filter(|p| !p.is_empty())
                        .map(|kv| {
                            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                            (k.to_string(), v.to_string())
                        })
                        .collect();
                    let got = Received {
                        path: req.path().to_string(),
                        query: req.query_string().to_string(),
                        params,
                        body: serde_json::from_str(&raw).unwrap_or(Value::Null),
                        raw,
                    };
                    let judged = j.lock().unwrap().clone().map(|judge| judge(&got));
                    r.lock().unwrap().push(got);
                    let answer = judged.unwrap_or_else(|| {
                        s.lock().unwrap().pop_front().unwrap_or_else(|| d.lock().unwrap().clone())
                    });
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(answer.status).unwrap())
                        .content_type("application/json")
                        .body(answer.body)
                }
            }))
        })
        .workers(2)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver { url: format!("http://127.0.0.1:{port}/cb"), received, script, default, judge, handle }
    }

    /// Answer every request with what `judge` makes of it (instead of the script), as a receiver that
    /// checks what it gets does.
    pub fn judge_with(&self, judge: impl Fn(&Received) -> Answer + Send + Sync + 'static) {
        *self.judge.lock().unwrap() = Some(std::sync::Arc::new(judge));
    }

    /// Answer the next request(s) with these, in order.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.script.lock().unwrap().extend(answers);
    }

    /// Answer this whenever the script is empty.
    pub fn set_default(&self, a: Answer) {
        *self.default.lock().unwrap() = a;
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Stop answering (the port closes).
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// A URL on which nothing listens (a receiver that is down).
pub fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}/cb")
}
