//! Every number checked (issue 19): i64/u64 extremes and negative values in every numeric field of every
//! operation the OpenAPI description lists (query, path and body fields of every vendor endpoint and every
//! `/__admin` operation, the `Range` of downloads), and in every number of a state dump, against the
//! `recmock` binary built for the tests — a debug build, where an arithmetic overflow panics. Each answer
//! must be the vendor's own (JSON, below 500) or a JSON 4xx of the control plane; the server's standard
//! error must never say `panicked`, no connection may drop, and the server must keep answering.
//!
//! Requests to vendors are signed with the demo world's keys by the vendors' own client sides (what
//! `recmock scenario run` uses), so the extremes reach the handlers' logic, not only their sign checks.

use futures_util::future::BoxFuture;
use recmock::vendors::{
    self, AuthRequest, ClientAnswer, ClientSession, KeptCredentials, OutgoingRequest, ScenarioClient,
};
use recmock::VendorKind;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// The values each numeric body field gets in turn.
fn extremes() -> Vec<Value> {
    vec![json!(i64::MIN), json!(i64::MAX), json!(u64::MAX), json!(-1), json!(1e300), json!(-1e300)]
}

/// The values each numeric query, path or header field gets in turn.
const TEXT_EXTREMES: [&str; 6] = [
    "-9223372036854775808",
    "9223372036854775807",
    "18446744073709551615",
    "-1",
    "1e300",
    "99999999999999999999999",
];

/// The `recmock` binary (debug build) serving the demo world, frozen, its standard error collected.
struct Server {
    child: Child,
    url: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_recmock"))
            .args(["--port", "0", "--frozen-clock", "--seed", "1", "--auth-clock", "virtual"])
            .args(["--log-level", "warn", "--callback-timeout-ms", "300"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("recmock starts");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .expect("URL in the banner")
            .to_string();
        std::thread::spawn(move || for _ in out.lines() {});
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Server { child, url, stderr }
    }

    fn panics(&self) -> Option<String> {
        let s = self.stderr.lock().unwrap();
        s.contains("panicked").then(|| s.chars().take(4000).collect())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the vendors' client sides need of a run: the demo world's keys, the server's clock, its answers.
struct Session {
    base: String,
    client: reqwest::Client,
    fixture: Value,
    random: u64,
    kept: KeptCredentials,
}

impl ClientSession for Session {
    fn fixture(&self) -> &Value {
        &self.fixture
    }

    fn now(&mut self) -> BoxFuture<'_, Result<i64, String>> {
        Box::pin(async move {
            let a = self.get("/__admin/clock".into(), Vec::new()).await?;
            a.json.as_ref().and_then(|v| v["now"].as_i64()).ok_or(a.shown)
        })
    }

    fn next_random(&mut self) -> u64 {
        self.random += 1;
        self.random
    }

    fn get(
        &mut self,
        path: String,
        query: Vec<(String, String)>,
    ) -> BoxFuture<'_, Result<ClientAnswer, String>> {
        Box::pin(async move {
            let resp = self
                .client
                .get(format!("{}{path}", self.base))
                .query(&query)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = resp.status().as_u16();
            let text = resp.text().await.map_err(|e| e.to_string())?;
            Ok(ClientAnswer { status, json: serde_json::from_str(&text).ok(), shown: text })
        })
    }

    fn credentials(&mut self) -> &mut KeptCredentials {
        &mut self.kept
    }
}

/// With `EXTREMES_LOG=<file>`, every case and its answer is appended there (to see what the cases reach).
fn log(line: std::fmt::Arguments) {
    if let Ok(path) = std::env::var("EXTREMES_LOG") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new().append(true).create(true).open(path) {
            let _ = writeln!(f, "{line}");
        }
    }
}

/// One step into a JSON document: an object key or the first array element.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Seg {
    Key(String),
    First,
}

/// `doc` with `value` at `path` (objects and arrays made on the way).
fn set(doc: &mut Value, path: &[Seg], value: Value) {
    let Some((head, rest)) = path.split_first() else {
        *doc = value;
        return;
    };
    match head {
        Seg::Key(k) => {
            if !doc.is_object() {
                *doc = Value::Object(Map::new());
            }
            let slot = doc.as_object_mut().unwrap().entry(k.clone()).or_insert(Value::Null);
            set(slot, rest, value);
        }
        Seg::First => {
            if doc.as_array().is_none_or(|a| a.is_empty()) {
                *doc = json!([Value::Null]);
            }
            set(&mut doc.as_array_mut().unwrap()[0], rest, value);
        }
    }
}

/// The OpenAPI description, with `$ref`s resolved on demand.
struct Spec(Value);

impl Spec {
    fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let pointer = r.trim_start_matches('#');
                self.resolve(self.0.pointer(pointer).unwrap_or_else(|| panic!("no {r}")))
            }
            None => v,
        }
    }

    fn is_numeric(&self, schema: &Value) -> bool {
        let s = self.resolve(schema);
        let numeric = |t: &Value| matches!(t.as_str(), Some("integer" | "number"));
        match s.get("type") {
            Some(Value::Array(ts)) => ts.iter().any(numeric),
            Some(t) => numeric(t),
            None => ["oneOf", "anyOf", "allOf"]
                .iter()
                .filter_map(|k| s.get(*k).and_then(Value::as_array))
                .flatten()
                .any(|x| self.is_numeric(x)),
        }
    }

    /// Paths of every numeric field under `schema`.
    fn numeric_paths(&self, schema: &Value, at: Vec<Seg>, depth: usize, out: &mut BTreeSet<Vec<Seg>>) {
        if depth > 8 {
            return;
        }
        let s = self.resolve(schema);
        if self.is_numeric(s) && !at.is_empty() {
            out.insert(at.clone());
        }
        for k in ["oneOf", "anyOf", "allOf"] {
            for x in s.get(k).and_then(Value::as_array).into_iter().flatten() {
                self.numeric_paths(x, at.clone(), depth + 1, out);
            }
        }
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            for (k, sub) in props {
                let mut p = at.clone();
                p.push(Seg::Key(k.clone()));
                self.numeric_paths(sub, p, depth + 1, out);
            }
        }
        if let Some(items) = s.get("items") {
            let mut p = at;
            p.push(Seg::First);
            self.numeric_paths(items, p, depth + 1, out);
        }
    }

    /// The example bodies of an operation's request (each named example; else one made from the schema).
    fn example_bodies(&self, content: &Value) -> Vec<Value> {
        let mut out: Vec<Value> = content
            .get("examples")
            .and_then(Value::as_object)
            .map(|m| m.values().filter_map(|e| self.resolve(e).get("value").cloned()).collect())
            .unwrap_or_default();
        out.extend(content.get("example").cloned());
        if out.is_empty() {
            out.push(self.sample(&content["schema"], 0));
        }
        out
    }

    /// A value of `schema`: its example, default or first enum value, else something of its type.
    fn sample(&self, schema: &Value, depth: usize) -> Value {
        let s = self.resolve(schema);
        for k in ["example", "default"] {
            if let Some(v) = s.get(k) {
                return v.clone();
            }
        }
        if let Some(e) = s.get("enum").and_then(|e| e.get(0)) {
            return e.clone();
        }
        if let Some(first) = ["oneOf", "anyOf", "allOf"].iter().find_map(|k| s.get(*k).and_then(|x| x.get(0)))
        {
            return self.sample(first, depth + 1);
        }
        let ty = match s.get("type") {
            Some(Value::Array(ts)) => {
                ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null")
            }
            Some(t) => t.as_str().unwrap_or("null"),
            None if s.get("properties").is_some() => "object",
            None => "null",
        };
        match ty {
            "object" if depth < 6 => Value::Object(
                s.get("properties")
                    .and_then(Value::as_object)
                    .map(|p| p.iter().map(|(k, v)| (k.clone(), self.sample(v, depth + 1))).collect())
                    .unwrap_or_default(),
            ),
            "array" if depth < 6 => json!([self.sample(&s["items"], depth + 1)]),
            "string" => json!("x"),
            "integer" => json!(1),
            "number" => json!(1.5),
            "boolean" => json!(false),
            _ => Value::Null,
        }
    }
}

/// Query parameters a vendor's client side adds itself (its signature and what it signs): left out of the
/// base request, so the client signs afresh; given only when they are the field under test.
const SIGNED_QUERY: [&str; 11] = [
    "sdkappid",
    "usersig",
    "random",
    "sign",
    "expire_time",
    "Timestamp",
    "Nonce",
    "Signature",
    "SecretId",
    "SignatureMethod",
    "RequestClient",
];

/// One request to send.
#[derive(Debug, Clone)]
struct Case {
    what: String,
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<Value>,
    form: bool,
    vendor: Option<VendorKind>,
}

/// Every case the description yields.
fn cases(spec: &Spec, routes: &[(String, Option<VendorKind>)], file: &str) -> Vec<Case> {
    let shape = |p: &str| {
        p.split('/').map(|s| if s.starts_with('{') { "{}" } else { s }).collect::<Vec<_>>().join("/")
    };
    let vendor_of = |path: &str| routes.iter().find(|(r, _)| shape(r) == shape(path)).and_then(|(_, v)| *v);
    let mut out = Vec::new();
    let paths = spec.0["paths"].as_object().unwrap();
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            if !["get", "post", "put", "delete", "head"].contains(&method.as_str()) {
                continue;
            }
            let method = method.to_ascii_uppercase();
            let vendor = vendor_of(path);
            let params: Vec<&Value> = ops
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .chain(op.get("parameters").and_then(Value::as_array).into_iter().flatten())
                .map(|p| spec.resolve(p))
                .collect();
            // The base request: path parameters and query parameters from their examples.
            let mut base_path = path.clone();
            let mut base_query = Vec::new();
            for p in &params {
                let name = p["name"].as_str().unwrap_or_default();
                let example = p.get("example").cloned().unwrap_or_else(|| spec.sample(&p["schema"], 0));
                let text = match &example {
                    Value::String(s) => s.clone(),
                    v => v.to_string(),
                };
                match p["in"].as_str() {
                    Some("path") => {
                        let text = if path.starts_with("/files/") && name == "key" {
                            file.to_string()
                        } else {
                            text
                        };
                        base_path = base_path.replace(&format!("{{{name}}}"), &text);
                    }
                    Some("query")
                        if !SIGNED_QUERY.contains(&name)
                            && (p["required"] == true || name == "identifier") =>
                    {
                        base_query.push((name.to_string(), text))
                    }
                    _ => {}
                }
            }
            let content = op.pointer("/requestBody/content");
            let form = content.is_some_and(|c| c.get("application/x-www-form-urlencoded").is_some());
            let body_spec = content.and_then(|c| c.get("application/json"));
            let mut bodies: Vec<Option<Value>> = match body_spec {
                Some(c) => spec.example_bodies(c).into_iter().map(Some).collect(),
                None => vec![None],
            };
            for b in bodies.iter_mut().flatten() {
                // The client signs with a fresh expire_time unless the body gives one (004).
                if let Some(m) = b.as_object_mut() {
                    if vendor.is_some() {
                        m.remove("expire_time");
                    }
                }
            }
            let case = |what: String, path: String, query: Vec<(String, String)>, headers, body| Case {
                what: format!("{method} {path}: {what}"),
                method: method.clone(),
                path,
                query,
                headers,
                body,
                form,
                vendor,
            };
            // The operation as its (first) example asks it.
            out.push(case("base".into(), base_path.clone(), base_query.clone(), vec![], bodies[0].clone()));
            // Path and query parameters.
            for p in &params {
                let name = p["name"].as_str().unwrap_or_default();
                let numeric = spec.is_numeric(&p["schema"]);
                match p["in"].as_str() {
                    Some("path") if numeric => {
                        for v in TEXT_EXTREMES {
                            let mut at = path.clone();
                            for q in &params {
                                let n = q["name"].as_str().unwrap_or_default();
                                if q["in"] == "path" && n != name {
                                    let e = q
                                        .get("example")
                                        .cloned()
                                        .unwrap_or_else(|| spec.sample(&q["schema"], 0));
                                    let t = e.as_str().map(str::to_string).unwrap_or_else(|| e.to_string());
                                    at = at.replace(&format!("{{{n}}}"), &t);
                                }
                            }
                            let at = at.replace(&format!("{{{name}}}"), v);
                            out.push(case(
                                format!("path {name}={v}"),
                                at,
                                base_query.clone(),
                                vec![],
                                bodies[0].clone(),
                            ));
                        }
                    }
                    Some("query") if numeric => {
                        for v in TEXT_EXTREMES {
                            let mut q: Vec<(String, String)> =
                                base_query.iter().filter(|(k, _)| k != name).cloned().collect();
                            q.push((name.to_string(), v.to_string()));
                            out.push(case(
                                format!("query {name}={v}"),
                                base_path.clone(),
                                q,
                                vec![],
                                bodies[0].clone(),
                            ));
                        }
                    }
                    Some("header") if name.eq_ignore_ascii_case("range") => {
                        let ranges = [
                            "bytes=0-18446744073709551615",
                            "bytes=18446744073709551615-",
                            "bytes=-18446744073709551615",
                            "bytes=-9223372036854775808",
                            "bytes=9223372036854775807-9223372036854775808",
                            "bytes=18446744073709551614-18446744073709551615, 0-0, -1",
                            "bytes=99999999999999999999999-",
                        ];
                        for r in ranges {
                            out.push(case(
                                format!("Range: {r}"),
                                base_path.clone(),
                                base_query.clone(),
                                vec![("range".to_string(), r.to_string())],
                                None,
                            ));
                        }
                    }
                    _ => {}
                }
            }
            // Body fields: every numeric field of the schema, in each example body.
            if let Some(c) =
                body_spec.or_else(|| content.and_then(|c| c.get("application/x-www-form-urlencoded")))
            {
                let mut fields = BTreeSet::new();
                spec.numeric_paths(&c["schema"], Vec::new(), 0, &mut fields);
                if form {
                    bodies = vec![Some(json!({}))];
                }
                for (i, b) in bodies.iter().enumerate() {
                    for f in &fields {
                        let values: Vec<Value> =
                            if form { TEXT_EXTREMES.iter().map(|t| json!(t)).collect() } else { extremes() };
                        for v in values {
                            let mut body = b.clone().unwrap_or_else(|| json!({}));
                            set(&mut body, f, v.clone());
                            out.push(case(
                                format!("body[{i}] {f:?} = {v}"),
                                base_path.clone(),
                                base_query.clone(),
                                vec![],
                                Some(body),
                            ));
                        }
                    }
                }
            }
        }
    }
    out
}

/// Send one case (signed by its vendor's client side when it has one); `Err` names what went wrong.
async fn send(session: &mut Session, c: &Case) -> Result<(), String> {
    let mut req = OutgoingRequest {
        method: c.method.clone(),
        path: c.path.clone(),
        host: session.base.trim_start_matches("http://").to_string(),
        query: c.query.clone(),
        headers: c.headers.clone(),
        body: if c.form { None } else { c.body.clone() },
        form: c.form.then(|| {
            c.body
                .as_ref()
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                        .collect()
                })
                .unwrap_or_default()
        }),
    };
    if let Some(kind) = c.vendor {
        let clients = vendors::clients();
        let client: &dyn ScenarioClient = clients.iter().find(|(k, _)| *k == kind).map(|(_, c)| *c).unwrap();
        // A request its client cannot sign (an app id no fixture has) goes as it is: refused as the vendor
        // refuses it.
        if let Err(e) = client.authorize(session, &mut req, AuthRequest::Fixture).await {
            log(format_args!("{}: unsigned: {e}", c.what));
        }
    }
    let url = format!("{}{}", session.base, req.path);
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap();
    let mut rb = session.client.request(method.clone(), &url).query(&req.query);
    for (k, v) in &req.headers {
        rb = rb.header(k.as_str(), v.as_str());
    }
    if let Some(f) = &req.form {
        rb = rb.form(f);
    } else if let Some(b) = &req.body {
        rb = rb.header("content-type", "application/json").body(b.to_string());
    }
    let resp = rb.send().await.map_err(|e| format!("no answer (connection dropped?): {e}"))?;
    let status = resp.status().as_u16();
    let ctype = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    // A download's bytes and the dashboard's event stream (it never ends) are not read.
    let stream = ctype.starts_with("text/event-stream");
    let text = if method == reqwest::Method::HEAD || req.path.starts_with("/files/") || stream {
        String::new()
    } else {
        resp.text().await.map_err(|e| format!("answer cut: {e}"))?
    };
    log(format_args!("{} -> {status} {}", c.what, text.chars().take(160).collect::<String>()));
    if status >= 500 {
        return Err(format!("HTTP {status}: {text}"));
    }
    let json_expected = !(req.path.starts_with("/files/")
        || req.path.ends_with(".yaml")
        || req.path == "/"
        || stream
        || ["text/html", "text/css", "text/javascript", "text/plain"].iter().any(|t| ctype.starts_with(t)));
    if json_expected && serde_json::from_str::<Value>(&text).map(|v| !v.is_object()).unwrap_or(true) {
        return Err(format!(
            "HTTP {status} {ctype}: not a JSON object: {}",
            text.chars().take(300).collect::<String>()
        ));
    }
    if c.vendor.is_none() && req.path.starts_with("/__admin") && !(200..500).contains(&status) {
        return Err(format!("HTTP {status}: {text}"));
    }
    Ok(())
}

async fn session(server: &Server) -> Session {
    Session {
        base: server.url.clone(),
        client: reqwest::Client::builder().timeout(std::time::Duration::from_secs(60)).build().unwrap(),
        fixture: serde_json::from_str(recmock::fixture::DEMO_JSON).unwrap(),
        random: 0,
        kept: KeptCredentials::default(),
    }
}

/// A recorded file of the demo world (001's demo group recorded for a minute), for the downloads' cases.
async fn a_file(s: &mut Session) -> String {
    let init = Case {
        what: "init".into(),
        method: "POST".into(),
        path: "/v1/record/init".into(),
        query: vec![],
        headers: vec![],
        body: Some(json!({"app_id": "demo_app_0001", "group_id": "demo_group", "auto": {}})),
        form: false,
        vendor: Some(VendorKind::new(1, "cloud_record")),
    };
    send(s, &init).await.unwrap();
    let (c, base) = (s.client.clone(), s.base.clone());
    let post = |path: &str, body: Value| c.post(format!("{base}{path}")).json(&body).send();
    post("/__admin/clock/advance", json!({"seconds": 60})).await.unwrap();
    // Finish every task: its files are made.
    let dump = s.get("/__admin/state".into(), vec![]).await.unwrap().json.unwrap();
    let tasks: Vec<String> = dump["vendors"]["cloud_record"]["accounts"]["demo_app_0001"]["tasks"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    for id in tasks {
        let finish = Case {
            what: "finish".into(),
            method: "POST".into(),
            path: "/v1/record/finish".into(),
            query: vec![],
            headers: vec![],
            body: Some(json!({"app_id": "demo_app_0001", "record_id": id})),
            form: false,
            vendor: Some(VendorKind::new(1, "cloud_record")),
        };
        send(s, &finish).await.unwrap();
    }
    post("/__admin/clock/advance", json!({"seconds": 600})).await.unwrap();
    let dump = s.get("/__admin/state".into(), vec![]).await.unwrap().json.unwrap();
    dump["files"][0]["key"].as_str().expect("a recorded file").to_string()
}

/// Every route the server answers, with the vendor owning it.
async fn routes(s: &mut Session) -> Vec<(String, Option<VendorKind>)> {
    let v = s.get("/__admin/routes".into(), vec![]).await.unwrap().json.unwrap();
    v["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["path"].as_str().unwrap().to_string(), r["vendor"].as_str().and_then(|v| v.parse().ok())))
        .collect()
}

#[tokio::test]
async fn extremes_in_every_numeric_field_of_every_operation_never_panic() {
    let server = Server::start();
    let mut s = session(&server).await;
    let spec = Spec(serde_json::from_str(recmock::admin::OPENAPI_JSON).unwrap());
    let routes = routes(&mut s).await;
    let file = a_file(&mut s).await;
    let all = cases(&spec, &routes, &file);
    assert!(all.len() > 500, "only {} cases", all.len());
    let covered: BTreeSet<&str> = all.iter().map(|c| c.what.split(':').next().unwrap_or("")).collect();
    // The vendors' cases first, on the demo world; then the control plane's (fault rules, events and
    // fixtures change the world); resets and restores last (they undo it).
    let last =
        |c: &Case| c.path.starts_with("/__admin/reset") || (c.method == "PUT" && c.path == "/__admin/state");
    let order: Vec<&Case> = all
        .iter()
        .filter(|c| c.vendor.is_some())
        .chain(all.iter().filter(|c| c.vendor.is_none() && !last(c)))
        .chain(all.iter().filter(|c| c.vendor.is_none() && last(c)))
        .collect();
    let mut failures = Vec::new();
    for c in order {
        if let Err(e) = send(&mut s, c).await {
            failures.push(format!("{}: {e}", c.what));
        }
        if let Some(p) = server.panics() {
            panic!("the server panicked after {}:\n{p}", c.what);
        }
    }
    // Whatever the requests left in the world, its dump restores.
    let dump = s.get("/__admin/state".into(), vec![]).await.unwrap();
    assert_eq!(dump.status, 200, "{}", dump.shown);
    let put = s.client.put(format!("{}/__admin/state", s.base)).body(dump.shown).send().await.unwrap();
    let status = put.status();
    assert_eq!(
        status,
        200,
        "the world's own dump does not restore: {}",
        put.text().await.unwrap_or_default()
    );
    let health = s.get("/__admin/health".into(), vec![]).await;
    assert!(health.is_ok_and(|h| h.status == 200), "the server stopped answering");
    assert_eq!(server.panics(), None);
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
    eprintln!("{} cases over {} operations", all.len(), covered.len());
}

/// Every number of a state dump of a busy world, in turn, replaced by extremes: `PUT /__admin/state`
/// answers 200 or a JSON 400, and a world it took runs a day on and answers every vendor without a panic.
#[tokio::test]
async fn extremes_in_every_number_of_a_state_dump_never_panic() {
    let server = Server::start();
    let mut s = session(&server).await;
    let file = a_file(&mut s).await;
    let c = s.client.clone();
    let base = s.base.clone();
    // The base request of every vendor operation (its first example, signed), to run on each world taken.
    let spec = Spec(serde_json::from_str(recmock::admin::OPENAPI_JSON).unwrap());
    let routes = routes(&mut s).await;
    let mut seen = BTreeSet::new();
    let probes: Vec<Case> = cases(&spec, &routes, &file)
        .into_iter()
        .filter(|c| c.vendor.is_some() && c.what.ends_with(": base"))
        .filter(|c| seen.insert((c.method.clone(), c.path.clone())))
        .map(|mut c| {
            c.what = format!("{} {}", c.method, c.path);
            c
        })
        .collect();
    // A busy world: callbacks that cannot be delivered, every operation done once, jobs half-way.
    for tenant in ["ilvb_edu:1400000001", "iclass:1400127140"] {
        let url = "http://127.0.0.1:9/cb";
        let r = c
            .post(format!("{base}/__admin/callbacks/url"))
            .json(&json!({"tenant": tenant, "url": url}))
            .send();
        assert_eq!(r.await.unwrap().status(), 200);
    }
    for p in &probes {
        send(&mut s, p).await.unwrap();
    }
    let r =
        c.post(format!("{base}/__admin/clock/advance")).json(&json!({"seconds": 7})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let dump = s.get("/__admin/state".into(), vec![]).await.unwrap().json.unwrap();
    // Every numeric leaf, one per shape of path (map keys and array indexes are not told apart).
    let mut leaves: BTreeMap<String, Vec<Seg>> = BTreeMap::new();
    fn walk(v: &Value, at: Vec<Seg>, shown: String, out: &mut BTreeMap<String, Vec<Seg>>) {
        match v {
            Value::Number(_) => {
                out.entry(shown).or_insert(at);
            }
            Value::Object(m) => {
                // Map keys that are ids (digits, record ids) are one shape.
                for (k, x) in m {
                    let mut p = at.clone();
                    p.push(Seg::Key(k.clone()));
                    let name = if k.chars().any(|c| c.is_ascii_digit()) { "*" } else { k.as_str() };
                    walk(x, p, format!("{shown}.{name}"), out);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    let mut p = at.clone();
                    p.push(Seg::Key(i.to_string()));
                    walk(x, p, format!("{shown}[]"), out);
                }
            }
            _ => {}
        }
    }
    walk(&dump, Vec::new(), String::new(), &mut leaves);
    assert!(leaves.len() > 50, "{leaves:?}");
    fn set_at(doc: &mut Value, path: &[Seg], value: Value) {
        let Some((Seg::Key(k), rest)) = path.split_first() else {
            *doc = value;
            return;
        };
        let next = match doc {
            Value::Object(m) => m.get_mut(k),
            Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        };
        if let Some(n) = next {
            set_at(n, rest, value);
        }
    }
    let mut failures = Vec::new();
    for (shown, path) in &leaves {
        for v in [json!(i64::MIN), json!(u64::MAX), json!(-1)] {
            let mut d = dump.clone();
            set_at(&mut d, path, v.clone());
            let what = format!("{shown} = {v}");
            let resp = c.put(format!("{base}/__admin/state")).json(&d).send().await;
            let Ok(resp) = resp else {
                failures.push(format!("{what}: no answer"));
                continue;
            };
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            log(format_args!(
                "DUMP {what} -> {status} {}",
                body.to_string().chars().take(200).collect::<String>()
            ));
            if !(status == 200 || (status == 400 && body["error"].is_string())) {
                failures.push(format!("{what}: HTTP {status} {body}"));
            }
            if status == 200 {
                // Every vendor operation, as its example asks it, on the restored world.
                for c in &probes {
                    if let Err(e) = send(&mut s, c).await {
                        failures.push(format!("{what}: then {}: {e}", c.what));
                    }
                    if let Some(p) = server.panics() {
                        panic!("the server panicked after restoring {what}, at {}:\n{p}", c.what);
                    }
                }
                // Run the world on (every job due within a day) and read it back.
                for (path, body) in [("/__admin/clock/advance", json!({"seconds": 86_400}))] {
                    let r = c.post(format!("{base}{path}")).json(&body).send().await;
                    if !r.as_ref().is_ok_and(|r| r.status().as_u16() < 500) {
                        failures.push(format!("{what}: {path} answered {:?}", r.map(|r| r.status())));
                    }
                }
                let r = c.get(format!("{base}/__admin/state")).send().await;
                if !r.as_ref().is_ok_and(|r| r.status().as_u16() == 200) {
                    failures.push(format!("{what}: GET /__admin/state answered {:?}", r.map(|r| r.status())));
                }
            }
            if let Some(p) = server.panics() {
                panic!("the server panicked after restoring {what}:\n{p}");
            }
            // Back to the dump as it was, for the next field.
            let r = c.put(format!("{base}/__admin/state")).json(&dump).send().await.unwrap();
            assert_eq!(r.status(), 200, "{what}: the original dump no longer restores");
        }
    }
    assert_eq!(server.panics(), None);
    assert!(failures.is_empty(), "{} cases failed:\n{}", failures.len(), failures.join("\n"));
}
