//! Running a scenario: start (or reset) a server, start the callback receiver, run the steps in order, and
//! report each step's outcome with what differed.

use super::matchers::{self, check, check_all};
use super::model::{self, Action, CallbackExpect, Expect, RequestSpec};
use super::receiver::Receiver;
use super::Scenario;
use crate::vendors::{self, AuthRequest, ClientAnswer, ClientSession, KeptCredentials, OutgoingRequest};
use crate::{Application, Config, FixtureSource, VendorKind};
use futures_util::future::BoxFuture;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

/// Where a scenario runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// a server started in this process on a free port, with the scenario as its only fixture
    Embedded,
    /// a running server: reset, then the scenario's fixture loaded into it
    Against {
        /// its base URL
        url: String,
        /// its `--admin-token`, sent as `Authorization: Bearer` on its `/__admin` calls
        admin_token: Option<String>,
    },
}

/// How one step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    /// every expectation held
    Passed,
    /// something differed (see the details)
    Failed,
    /// not run, because an earlier step failed
    Skipped,
}

/// One step's outcome.
#[derive(Debug, Clone)]
pub struct StepOutcome {
    /// 1-based position in `steps`
    pub number: usize,
    /// the step's name and what it did (`init a task — POST /v1/record/init`)
    pub label: String,
    /// how it ended
    pub status: StepStatus,
    /// on failure: each difference, then the answer
    pub details: Vec<String>,
}

/// What running one scenario came to.
#[derive(Debug, Clone)]
pub struct Report {
    /// the scenario's name
    pub name: String,
    /// where it came from (a file path)
    pub source: String,
    /// the run could not start (server, receiver, fixture refused)
    pub setup_error: Option<String>,
    /// every step, in order
    pub steps: Vec<StepOutcome>,
}

impl Report {
    /// Did every step pass (and the run start)?
    pub fn passed(&self) -> bool {
        self.setup_error.is_none() && self.steps.iter().all(|s| s.status == StepStatus::Passed)
    }

    /// The number of steps that passed.
    pub fn passed_steps(&self) -> usize {
        self.steps.iter().filter(|s| s.status == StepStatus::Passed).count()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "▶ {} ({})", self.name, self.source)?;
        if let Some(e) = &self.setup_error {
            writeln!(f, "  ✗ could not start: {e}")?;
        }
        for s in &self.steps {
            let mark = match s.status {
                StepStatus::Passed => "✓",
                StepStatus::Failed => "✗",
                StepStatus::Skipped => "-",
            };
            let skipped = if s.status == StepStatus::Skipped { " (skipped)" } else { "" };
            writeln!(f, "  {mark} {:>2}. {}{skipped}", s.number, s.label)?;
            for d in &s.details {
                for line in d.lines() {
                    writeln!(f, "        {line}")?;
                }
            }
        }
        let verdict = if self.passed() { "PASS" } else { "FAIL" };
        writeln!(f, "  {verdict}: {}/{} steps passed", self.passed_steps(), self.steps.len())
    }
}

/// An answer of the server.
struct Answer {
    status: u16,
    bytes: Vec<u8>,
    json: Option<Value>,
}

impl Answer {
    fn shown(&self) -> String {
        const MAX: usize = 4000;
        let text = match &self.json {
            Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
            None if self.bytes.len() > 200 && std::str::from_utf8(&self.bytes).is_err() => {
                format!("<{} bytes of binary>", self.bytes.len())
            }
            None => String::from_utf8_lossy(&self.bytes).into_owned(),
        };
        let cut: String = text.chars().take(MAX).collect();
        let more = if cut.len() < text.len() { "\n…(cut)" } else { "" };
        format!("answer (HTTP {}):\n{cut}{more}", self.status)
    }
}

struct Server {
    handle: actix_web::dev::ServerHandle,
    join: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// The state of one run.
struct Run<'a> {
    scenario: &'a Scenario,
    client: reqwest::Client,
    base: String,
    /// the server's `--admin-token`
    admin_token: Option<String>,
    fixture: Value,
    vars: BTreeMap<String, Value>,
    receiver: &'a Receiver,
    /// credentials vendors issued, kept for their client sides: (value, virtual expiry in unix seconds)
    kept: KeptCredentials,
    /// the server's routes (path segments) and the vendor of each, from `GET /__admin/routes`
    routes: Vec<(Vec<String>, VendorKind)>,
    /// callbacks already looked at by an `expect_callbacks` step
    mark: usize,
    random: u64,
}

/// Run a scenario and report every step. Never panics on what the scenario or the server says.
pub async fn run(scenario: &Scenario, target: &Target) -> Report {
    let mut report = Report {
        name: scenario.name.clone(),
        source: scenario.source.clone(),
        setup_error: None,
        steps: Vec::new(),
    };
    let receiver = match Receiver::start() {
        Ok(r) => r,
        Err(e) => {
            report.setup_error = Some(format!("cannot start the callback receiver: {e}"));
            return report;
        }
    };
    let fixture = match scenario.fixture(receiver.url()) {
        Ok(f) => f,
        Err(e) => {
            report.setup_error = Some(e);
            receiver.stop().await;
            return report;
        }
    };
    // Idle connections are not kept longer than a few seconds: never reused as the server closes them.
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            report.setup_error = Some(format!("cannot build an HTTP client: {e}"));
            receiver.stop().await;
            return report;
        }
    };
    let mut run = Run {
        scenario,
        client,
        base: String::new(),
        admin_token: None,
        fixture,
        vars: BTreeMap::new(),
        receiver: &receiver,
        kept: KeptCredentials::default(),
        routes: Vec::new(),
        mark: 0,
        random: 0,
    };
    let server = match run.start(target).await {
        Ok(s) => s,
        Err(e) => {
            report.setup_error = Some(e);
            receiver.stop().await;
            return report;
        }
    };
    let mut failed = false;
    for (i, raw) in scenario.steps().iter().enumerate() {
        let number = i + 1;
        if failed {
            report.steps.push(StepOutcome {
                number,
                label: label_of_raw(raw),
                status: StepStatus::Skipped,
                details: vec![],
            });
            continue;
        }
        let outcome = run.step(i, raw).await;
        failed = outcome.status == StepStatus::Failed;
        report.steps.push(outcome);
    }
    if let Some(s) = server {
        s.handle.stop(true).await;
        let _ = s.join.await;
    }
    receiver.stop().await;
    report
}

/// A label for a step that did not run (no substitution).
fn label_of_raw(raw: &Value) -> String {
    let kind = model::STEP_KINDS.iter().find(|k| raw.get(**k).is_some()).copied().unwrap_or("step");
    let what = match kind {
        "request" => format!(
            "{} {}",
            raw["request"]["method"].as_str().unwrap_or(""),
            raw["request"]["path"].as_str().unwrap_or("")
        )
        .trim()
        .to_string(),
        k => k.to_string(),
    };
    match raw.get("name").and_then(Value::as_str) {
        Some(n) => format!("{n} — {what}"),
        None => what,
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Run<'_> {
    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// Start the embedded server, or reset the running one and load the fixture into it.
    async fn start(&mut self, target: &Target) -> Result<Option<Server>, String> {
        let fixture_text = self.fixture.to_string();
        let server = match target {
            Target::Embedded => {
                let frozen = !matches!(self.fixture.pointer("/clock/frozen"), Some(Value::Bool(false)));
                let config = Config {
                    port: 0,
                    fixtures: vec![FixtureSource::Inline {
                        name: self.scenario.source.clone(),
                        json: fixture_text,
                    }],
                    seed: Some(1),
                    frozen_clock: frozen,
                    // Scenarios sign at virtual time and test expiry in it (a scenario's `auth_clock`
                    // may say otherwise).
                    default_auth_clock: crate::clock::AuthClock::Virtual,
                    workers: Some(2),
                    handle_signals: false,
                    ..Config::default()
                };
                let app = Application::build(config).map_err(|e| e.to_string())?;
                self.base = app.url().to_string();
                let handle = app.handle();
                let join = tokio::spawn(app.run_until_stopped());
                Some(Server { handle, join })
            }
            Target::Against { url, admin_token } => {
                self.base = url.trim_end_matches('/').to_string();
                self.admin_token = admin_token.clone();
                let a = self.send_json("POST", "/__admin/reset", None).await?;
                if a.status != 200 {
                    return Err(format!("POST /__admin/reset: {}", a.shown()));
                }
                let a = self.send_json("POST", "/__admin/fixtures", Some(self.fixture.clone())).await?;
                if a.status != 200 {
                    return Err(format!(
                        "POST /__admin/fixtures refused the scenario's fixture: {}",
                        a.shown()
                    ));
                }
                if !matches!(self.fixture.pointer("/clock/frozen"), Some(Value::Bool(false))) {
                    let mut c = json!({ "frozen": true });
                    if let Some(s) = self.fixture.pointer("/clock/scale") {
                        c["scale"] = s.clone();
                    }
                    let a = self.send_json("POST", "/__admin/clock", Some(c)).await?;
                    if a.status != 200 {
                        return Err(format!("POST /__admin/clock: {}", a.shown()));
                    }
                }
                None
            }
        };
        self.vars.insert("receiver".into(), json!(self.receiver.url()));
        self.vars.insert("base".into(), json!(self.base));
        self.routes = self.vendor_routes().await?;
        Ok(server)
    }

    async fn send(&self, rb: reqwest::RequestBuilder) -> Result<Answer, String> {
        let resp = rb.send().await.map_err(|e| format!("no answer: {e}"))?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| format!("reading the answer failed: {e}"))?.to_vec();
        let json = serde_json::from_slice(&bytes).ok();
        Ok(Answer { status, bytes, json })
    }

    async fn send_json(&self, method: &str, path: &str, body: Option<Value>) -> Result<Answer, String> {
        let m = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let url = self.url(path);
        let mut rb = admin_auth(self.client.request(m, &url), &self.base, &url, self.admin_token.as_deref());
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        self.send(rb).await
    }

    /// The server's virtual time, unix seconds.
    async fn now(&self) -> Result<i64, String> {
        let a = self.send_json("GET", "/__admin/clock", None).await?;
        a.json
            .as_ref()
            .and_then(|v| v["now"].as_i64())
            .ok_or_else(|| format!("GET /__admin/clock: no `now` in the {}", a.shown()))
    }

    async fn step(&mut self, i: usize, raw: &Value) -> StepOutcome {
        let number = i + 1;
        let mut outcome =
            StepOutcome { number, label: label_of_raw(raw), status: StepStatus::Failed, details: Vec::new() };
        let mut refs = Vec::new();
        model::references(raw, &mut refs);
        if refs.iter().any(|r| r == "now") {
            match self.now().await {
                Ok(n) => {
                    self.vars.insert("now".into(), json!(n));
                }
                Err(e) => {
                    outcome.details.push(e);
                    return outcome;
                }
            }
        }
        let concrete = match model::substitute(raw, &self.vars) {
            Ok(v) => v,
            Err(e) => {
                outcome.details.push(e);
                return outcome;
            }
        };
        let mut errors = Vec::new();
        let Some(step) = model::parse_step(&concrete, &format!("steps[{i}]"), &mut errors) else {
            outcome.details.extend(errors.iter().map(|e| e.to_string()));
            return outcome;
        };
        let what = match &step.action {
            Action::Request(r) => {
                let method =
                    r.method.clone().unwrap_or_else(|| default_method(r).into()).to_ascii_uppercase();
                format!("{method} {}", r.path.split('?').next().unwrap_or(&r.path))
            }
            Action::Advance(s) => format!("advance {s} s"),
            Action::Event(e) => match e {
                Value::Array(a) => format!("events ×{}", a.len()),
                e => format!("event {}", e["type"].as_str().unwrap_or("?")),
            },
            Action::Callbacks(_) => "expect_callbacks".to_string(),
            Action::Receiver(r) => format!(
                "receiver answers HTTP {}{}",
                r.status.unwrap_or(200),
                r.times.map(|n| format!(" to the next {n}")).unwrap_or_default()
            ),
        };
        outcome.label = match &step.name {
            Some(n) => format!("{n} — {what}"),
            None => what,
        };
        let result = match &step.action {
            Action::Callbacks(c) => self.callbacks(c, &step.capture).await,
            Action::Receiver(r) => {
                let body = match &r.body {
                    None => super::receiver::Answer::default().body,
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                };
                self.receiver
                    .answer(super::receiver::Answer { status: r.status.unwrap_or(200), body }, r.times);
                Ok(())
            }
            action => {
                let answer = match action {
                    Action::Request(r) => self.request(r).await,
                    Action::Advance(s) => {
                        self.send_json("POST", "/__admin/clock/advance", Some(json!({ "seconds": s }))).await
                    }
                    Action::Event(e) => self.send_json("POST", "/__admin/events", Some(e.clone())).await,
                    Action::Callbacks(_) | Action::Receiver(_) => unreachable_answer(),
                };
                match answer {
                    Err(e) => Err(vec![e]),
                    Ok(a) => {
                        let default_status =
                            if matches!(action, Action::Request(_)) { None } else { Some(200) };
                        let mut problems = expectations(step.expect.as_ref(), default_status, &a);
                        let doc = a.json.clone().unwrap_or(Value::Null);
                        if problems.is_empty() {
                            problems.extend(self.capture(&step.capture, &doc));
                        }
                        if problems.is_empty() {
                            Ok(())
                        } else {
                            problems.push(a.shown());
                            Err(problems)
                        }
                    }
                }
            }
        };
        match result {
            Ok(()) => outcome.status = StepStatus::Passed,
            Err(d) => outcome.details = d,
        }
        outcome
    }

    /// Set the step's captures from `doc`; the problems, if a path leads nowhere.
    fn capture(&mut self, capture: &BTreeMap<String, String>, doc: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, path) in capture {
            match matchers::get(doc, path) {
                Ok(Some(v)) => {
                    self.vars.insert(name.clone(), v.clone());
                }
                Ok(None) => problems.push(format!("capture {name}: nothing at `{path}`")),
                Err(e) => problems.push(format!("capture {name}: {e}")),
            }
        }
        problems
    }

    /// Which vendor serves `path`, by the server's own route table (a `{param}` segment matches any).
    fn vendor_of_path(&self, path: &str) -> Option<VendorKind> {
        let segments: Vec<&str> = path.split('/').collect();
        self.routes
            .iter()
            .find(|(route, _)| {
                route.len() == segments.len()
                    && route
                        .iter()
                        .zip(&segments)
                        .all(|(r, s)| (r.starts_with('{') && !s.is_empty()) || r == s)
            })
            .map(|(_, v)| *v)
    }

    /// Every vendor route of the server, as path segments.
    async fn vendor_routes(&self) -> Result<Vec<(Vec<String>, VendorKind)>, String> {
        let a = self.send_json("GET", "/__admin/routes", None).await?;
        let routes = a
            .json
            .as_ref()
            .and_then(|v| v["routes"].as_array())
            .ok_or_else(|| format!("GET /__admin/routes: no route table in the {}", a.shown()))?;
        Ok(routes
            .iter()
            .filter_map(|r| {
                let vendor = r["vendor"].as_str()?.parse().ok()?;
                let path = r["path"].as_str()?;
                Some((path.split('/').map(str::to_string).collect(), vendor))
            })
            .collect())
    }

    async fn request(&mut self, r: &RequestSpec) -> Result<Answer, String> {
        let method = r.method.clone().unwrap_or_else(|| default_method(r).into()).to_ascii_uppercase();
        let path_only = r.path.split('?').next().unwrap_or(&r.path).to_string();
        let mut out = OutgoingRequest {
            method: method.clone(),
            path: path_only.clone(),
            host: crate::codec::url_host_port(&self.base).unwrap_or_default(),
            query: r.query.iter().map(|(k, v)| (k.clone(), text_of(v))).collect(),
            headers: r.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            body: r.body.clone(),
            form: r.form.as_ref().map(|f| f.iter().map(|(k, v)| (k.clone(), text_of(v))).collect()),
        };
        let vendor = match r.vendor.as_deref() {
            Some(name) => name.parse::<VendorKind>().ok(),
            None => self.vendor_of_path(&path_only),
        };
        let auth = match &r.auth {
            Some(Value::String(s)) if s == "none" => AuthRequest::None,
            Some(a) => AuthRequest::Override(a),
            None => AuthRequest::Fixture,
        };
        if let Some((_, client)) = vendor.and_then(|v| vendors::clients().into_iter().find(|(k, _)| *k == v))
        {
            let mut session = Session {
                client: &self.client,
                base: &self.base,
                admin_token: self.admin_token.as_deref(),
                fixture: &self.fixture,
                random: &mut self.random,
                kept: &mut self.kept,
            };
            client.authorize(&mut session, &mut out, auth).await?;
        }
        let m = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let url = self.url(&r.path);
        let mut rb = self.client.request(m, &url);
        if !out.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("authorization")) {
            rb = admin_auth(rb, &self.base, &url, self.admin_token.as_deref());
        }
        if !out.query.is_empty() {
            rb = rb.query(&out.query);
        }
        for (k, v) in &out.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        if let Some(b) = &out.body {
            rb = rb.json(b);
        } else if let Some(pairs) = &out.form {
            rb = rb.form(pairs);
        } else if let Some(raw) = &r.raw {
            rb = rb.body(raw.clone());
        }
        // Whatever replaces the world makes the credentials kept for it stale.
        if ["/__admin/reset", "/__admin/state", "/__admin/fixtures"].contains(&path_only.as_str()) {
            self.kept = KeptCredentials::default();
        }
        self.send(rb).await
    }

    /// `expect_callbacks`: wait (bounded) until the receiver's callbacks satisfy `c`.
    async fn callbacks(
        &mut self,
        c: &CallbackExpect,
        capture: &BTreeMap<String, String>,
    ) -> Result<(), Vec<String>> {
        let wait = Duration::from_millis(c.wait_ms.unwrap_or(2000));
        let deadline = Instant::now() + wait;
        loop {
            // Deliveries due now run before the advance answers.
            if let Err(e) =
                self.send_json("POST", "/__admin/clock/advance", Some(json!({ "seconds": 0 }))).await
            {
                return Err(vec![format!("POST /__admin/clock/advance: {e}")]);
            }
            let all = self.receiver.received();
            let pool = if c.since_last { &all[self.mark.min(all.len())..] } else { &all[..] };
            let mut selected = Vec::new();
            for cb in pool {
                let mismatches = check_all(&c.filter, cb);
                if mismatches.is_empty() {
                    selected.push(cb.clone());
                }
            }
            let mut problems = self.judge(c, &selected);
            if problems.is_empty() {
                problems = self.capture(capture, &Value::Array(selected.clone()));
            }
            if problems.is_empty() {
                self.mark = all.len();
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.mark = all.len();
                problems.push(format!(
                    "(waited {} ms) selected {} of the {} callback(s) considered; received so far:",
                    wait.as_millis(),
                    selected.len(),
                    pool.len()
                ));
                for (n, cb) in all.iter().enumerate() {
                    problems.push(format!("  #{}: {}", n + 1, summary(cb)));
                }
                return Err(problems);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every way `selected` fails `c`.
    fn judge(&self, c: &CallbackExpect, selected: &[Value]) -> Vec<String> {
        let mut problems = Vec::new();
        let count = c.count.clone().unwrap_or_else(|| json!({ "$gte": 1 }));
        if let Err(e) = check(&count, Some(&json!(selected.len()))) {
            problems.push(format!("count: {e}"));
        }
        for (path, want) in &c.order {
            let got: Vec<Option<&Value>> =
                selected.iter().map(|cb| matchers::get(cb, path).ok().flatten()).collect();
            let want = want.as_array().map_or(&[][..], Vec::as_slice);
            let fits = want.len() == got.len() && want.iter().zip(&got).all(|(w, g)| check(w, *g).is_ok());
            if !fits {
                let shown: Vec<String> =
                    got.iter().map(|g| g.map_or_else(|| "(none)".to_string(), |v| v.to_string())).collect();
                problems.push(format!(
                    "order of {path}: expected {}, got [{}]",
                    Value::Array(want.to_vec()),
                    shown.join(",")
                ));
            }
        }
        for (n, cb) in selected.iter().enumerate() {
            for line in check_all(&c.each, cb) {
                problems.push(format!("each, callback {} ({}): {line}", n + 1, summary(cb)));
            }
            if c.signed {
                if let Err(e) = self.verify(cb) {
                    problems.push(format!("signed, callback {} ({}): {e}", n + 1, summary(cb)));
                }
            }
        }
        for (which, exp, cb) in [("first", &c.first, selected.first()), ("last", &c.last, selected.last())] {
            if exp.is_empty() {
                continue;
            }
            match cb {
                None => problems.push(format!("{which}: no callback selected")),
                Some(cb) => problems.extend(check_all(exp, cb).into_iter().map(|l| format!("{which}: {l}"))),
            }
        }
        problems
    }

    /// Check a received callback's signature as its vendor's receiver would, with the fixture's keys.
    fn verify(&self, cb: &Value) -> Result<(), String> {
        let query: BTreeMap<String, String> = cb["query"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), text_of(v))).collect())
            .unwrap_or_default();
        let vendor: Option<VendorKind> = cb["vendor"].as_str().and_then(|v| v.parse().ok());
        let client = vendor.and_then(|v| vendors::clients().into_iter().find(|(k, _)| *k == v));
        match client {
            Some((_, c)) => c.verify_callback(&self.fixture, &query, &cb["body"]),
            None => Err("cannot tell which vendor sent it, so not how it is signed".into()),
        }
    }
}

/// What a vendor's client side may use while it signs a request: the run's client, server and keys.
struct Session<'r> {
    client: &'r reqwest::Client,
    base: &'r str,
    admin_token: Option<&'r str>,
    fixture: &'r Value,
    random: &'r mut u64,
    kept: &'r mut KeptCredentials,
}

impl ClientSession for Session<'_> {
    fn fixture(&self) -> &Value {
        self.fixture
    }

    fn now(&mut self) -> BoxFuture<'_, Result<i64, String>> {
        Box::pin(async move {
            let a = self.get("/__admin/clock".into(), Vec::new()).await?;
            a.json
                .as_ref()
                .and_then(|v| v["now"].as_i64())
                .ok_or_else(|| format!("GET /__admin/clock: no `now` in the {}", a.shown))
        })
    }

    fn next_random(&mut self) -> u64 {
        *self.random += 1;
        *self.random
    }

    fn get(
        &mut self,
        path: String,
        query: Vec<(String, String)>,
    ) -> BoxFuture<'_, Result<ClientAnswer, String>> {
        Box::pin(async move {
            let url = format!("{}{path}", self.base);
            let mut rb = admin_auth(self.client.get(&url), self.base, &url, self.admin_token);
            if !query.is_empty() {
                rb = rb.query(&query);
            }
            let resp = rb.send().await.map_err(|e| format!("no answer: {e}"))?;
            let status = resp.status().as_u16();
            let bytes = resp.bytes().await.map_err(|e| format!("reading the answer failed: {e}"))?.to_vec();
            let json = serde_json::from_slice(&bytes).ok();
            let a = Answer { status, bytes, json };
            Ok(ClientAnswer { status: a.status, shown: a.shown(), json: a.json })
        })
    }

    fn credentials(&mut self) -> &mut KeptCredentials {
        self.kept
    }
}

/// `rb` to `url`, with the server's admin token when `url` is its control plane (`base` + `/__admin`).
fn admin_auth(
    rb: reqwest::RequestBuilder,
    base: &str,
    url: &str,
    token: Option<&str>,
) -> reqwest::RequestBuilder {
    let admin = url.strip_prefix(base).is_some_and(|rest| {
        let path = rest.split(['?', '#']).next().unwrap_or("");
        crate::http::cors::is_under(path, "/__admin")
    });
    match token {
        Some(t) if admin => rb.bearer_auth(t),
        _ => rb,
    }
}

fn unreachable_answer() -> Result<Answer, String> {
    Err("internal: this step has no answer".into())
}

fn default_method(r: &RequestSpec) -> &'static str {
    if r.body.is_some() || r.form.is_some() || r.raw.is_some() {
        "POST"
    } else {
        "GET"
    }
}

/// A one-line summary of a received callback.
fn summary(cb: &Value) -> String {
    let b = &cb["body"];
    let event = b.get("event").or_else(|| b.get("event_type")).map(text_of).unwrap_or_else(|| "?".into());
    let status = b.pointer("/data/status").map(|s| format!(" status={}", text_of(s))).unwrap_or_default();
    format!("{} {}{status}", cb["vendor"].as_str().unwrap_or("?"), event)
}

/// Every way an answer fails `expect` (with `default_status` when `expect` gives none).
fn expectations(expect: Option<&Expect>, default_status: Option<u16>, a: &Answer) -> Vec<String> {
    let mut problems = Vec::new();
    let empty = Expect::default();
    let e = expect.unwrap_or(&empty);
    if let Some(s) = e.status.or(default_status) {
        if a.status != s {
            problems.push(format!("status: expected {s}, got {}", a.status));
        }
    }
    if !e.json.is_empty() {
        match &a.json {
            Some(doc) => problems.extend(check_all(&e.json, doc)),
            None => problems.push("json: the answer is not JSON".into()),
        }
    }
    if let Some(n) = &e.body_size {
        if let Err(e) = check(n, Some(&json!(a.bytes.len()))) {
            problems.push(format!("body_size: {e}"));
        }
    }
    if let Some(m) = &e.body_md5 {
        let got = crate::codec::md5_hex(&a.bytes);
        if !got.eq_ignore_ascii_case(m) {
            problems.push(format!("body_md5: expected {m}, got {got}"));
        }
    }
    problems
}
