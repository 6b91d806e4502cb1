//! The control plane under `/__admin` (WireMock's convention): health, reset, state dump and restore,
//! fixtures, the virtual clock, world events, the request journal, fault rules, callbacks and the live
//! WebSocket sessions.
//! Paths and shapes are a contract (DESIGN.md): add fields freely, never rename. Who may call it is
//! [`guard`]'s business.

pub mod guard;
pub mod metrics;
pub mod ui;

use crate::app::Emulator;
use crate::clock::{MAX_SCALE, MAX_TIME_MS};
use crate::codec::form_pairs;
use crate::cors::{AllowOrigin, Cors};
use crate::faults::FaultSpec;
use crate::fixture::FixtureDoc;
use crate::http::routes::{method_or_not_found, noted_resource};
use crate::http::RouteBook;
use crate::journal::JournalFilter;
use crate::outbox::CallbackFilter;
use actix_web::middleware::{from_fn, Condition, Next};
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::BytesMut;
use futures_util::StreamExt;
use guard::AdminAccess;
use serde::Deserialize;
use serde_json::{json, Value};

/// Largest control-plane body but a state dump's: fixtures (a fixture of 16 MiB declares some 50,000
/// entities; larger worlds are seeded with `POST /__admin/seed`), events, fault rules, clock changes.
pub const MAX_ADMIN_BODY: usize = 16 * 1024 * 1024;

/// Largest state dump `PUT /__admin/state` takes (a larger world is restored from `--state-file`).
pub const MAX_STATE_BODY: usize = 256 * 1024 * 1024;

/// Register the control-plane routes, noting each in `book`. Each path is one resource whose other
/// methods get a JSON 405. `access` guards every one of them; the origins it allows (`--admin-cors`) get
/// CORS answers, nobody else does.
pub fn routes(cfg: &mut web::ServiceConfig, book: &RouteBook, access: &std::sync::Arc<AdminAccess>) {
    let resource = |path: &str, allowed: &'static str| noted_resource(book, "/__admin", path, allowed);
    let cors = access.origins().to_vec();
    let access = access.clone();
    let guarded = access.clone();
    cfg.service(
        ui::routes(web::scope("/__admin"), book, &access)
            .service(resource("/health", "GET").route(web::get().to(health)))
            .service(resource("/metrics", "GET").route(web::get().to(get_metrics)))
            .service(resource("/routes", "GET").route(web::get().to(list_routes)))
            .service(resource("/openapi.yaml", "GET").route(web::get().to(openapi_yaml)))
            .service(resource("/openapi.json", "GET").route(web::get().to(openapi_json)))
            .service(resource("/reset", "POST").route(web::post().to(reset)))
            .service(
                resource("/state", "GET, PUT")
                    .route(web::get().to(get_state))
                    .route(web::put().to(put_state)),
            )
            .service(resource("/fixtures", "POST").route(web::post().to(post_fixture)))
            .service(resource("/tenants", "GET").route(web::get().to(tenants)))
            .service(
                resource("/clock", "GET, POST")
                    .route(web::get().to(get_clock))
                    .route(web::post().to(post_clock)),
            )
            .service(resource("/clock/advance", "POST").route(web::post().to(advance)))
            .service(resource("/events", "POST").route(web::post().to(events)))
            .service(resource("/seed", "POST").route(web::post().to(seed)))
            .service(
                resource("/requests", "GET, DELETE")
                    .route(web::get().to(get_requests))
                    .route(web::delete().to(delete_requests)),
            )
            .service(
                resource("/faults", "GET, POST, DELETE")
                    .route(web::get().to(get_faults))
                    .route(web::post().to(post_fault))
                    .route(web::delete().to(delete_faults)),
            )
            .service(resource("/faults/{id}", "DELETE").route(web::delete().to(delete_fault)))
            .service(resource("/callbacks", "GET").route(web::get().to(get_callbacks)))
            .service(resource("/callbacks/url", "POST").route(web::post().to(set_callback_url)))
            .service(resource("/callbacks/{id}", "GET").route(web::get().to(get_callback)))
            .service(resource("/callbacks/{id}/redeliver", "POST").route(web::post().to(redeliver)))
            .service(resource("/gateway/sessions", "GET").route(web::get().to(gateway_sessions)))
            .default_service(web::to(method_or_not_found))
            .wrap(from_fn(move |req, next: Next<_>| {
                let access = guarded.clone();
                async move { guard::guard(&access, req, next).await }
            }))
            // Outside the guard, so a page of an allowed origin can read a refusal (a wrong token).
            .wrap(Condition::new(!cors.is_empty(), Cors::new(AllowOrigin::List(cors)))),
    );
}

/// A control-plane refusal: an HTTP status and a message naming the problem.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct AdminError {
    status: u16,
    message: String,
}

impl actix_web::ResponseError for AdminError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::from_u16(self.status).unwrap_or_default()
    }
    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(json!({ "error": self.message }))
    }
}

type AdminResult = Result<HttpResponse, AdminError>;

/// A control-plane error.
fn error(status: u16, message: impl Into<String>) -> AdminError {
    AdminError { status, message: message.into() }
}

async fn read_json(payload: web::Payload, allow_empty: bool) -> Result<Value, AdminError> {
    read_json_up_to(payload, allow_empty, MAX_ADMIN_BODY).await
}

/// The body as JSON, refused (413) past `limit` bytes, before it is all read.
async fn read_json_up_to(
    mut payload: web::Payload,
    allow_empty: bool,
    limit: usize,
) -> Result<Value, AdminError> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| error(400, format!("request body could not be read: {e}")))?;
        if buf.len().saturating_add(chunk.len()) > limit {
            return Err(error(413, format!("body larger than {limit} bytes")));
        }
        buf.extend_from_slice(&chunk);
    }
    if buf.iter().all(u8::is_ascii_whitespace) {
        return if allow_empty { Ok(json!({})) } else { Err(error(400, "a JSON body is required")) };
    }
    serde_json::from_slice(&buf).map_err(|e| error(400, format!("body is not valid JSON: {e}")))
}

fn parse<T: serde::de::DeserializeOwned>(v: Value, what: &str) -> Result<T, AdminError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        error(400, format!("{what}: {} (at {path})", e.into_inner()))
    })
}

fn query(req: &HttpRequest, name: &str) -> Option<String> {
    form_pairs(req.query_string()).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

async fn health(app: web::Data<Emulator>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "status": "ok",
        "version": crate::VERSION,
        "vendors": app.vendors().iter().map(|v| v.kind()).collect::<Vec<_>>(),
        "now": app.world.clock.now_s(),
        "dashboard": "/__admin/ui/",
    }))
}

/// `GET /__admin/metrics`: the Prometheus text format ([`metrics`]).
async fn get_metrics(app: web::Data<Emulator>) -> HttpResponse {
    HttpResponse::Ok().content_type(metrics::CONTENT_TYPE).body(metrics::render(&app))
}

async fn reset(app: web::Data<Emulator>, req: HttpRequest, body: web::Payload) -> AdminResult {
    read_json(body, true).await?;
    match app.reset(query(&req, "tenant").as_deref()) {
        Ok(v) => Ok(HttpResponse::Ok().json(v)),
        Err(e) if e.starts_with("no tenant") => Err(error(404, e)),
        Err(e) => Err(error(400, e)),
    }
}

/// `GET /__admin/gateway/sessions`: every vendor's live WebSocket sessions (the HST event gateway's).
async fn gateway_sessions(app: web::Data<Emulator>) -> HttpResponse {
    let sessions: Vec<Value> = app.vendors().iter().flat_map(|v| v.live_sessions()).collect();
    HttpResponse::Ok().json(json!({ "count": sessions.len(), "sessions": sessions }))
}

async fn get_state(app: web::Data<Emulator>) -> HttpResponse {
    // Every file's MD5 is in the dump: wait for the ones still being computed (off this thread).
    app.world.files.settle().await;
    // Written on a blocking thread and streamed in chunks as it is written: a large world's dump neither
    // holds up this worker nor sits whole in memory.
    let emulator = app.into_inner();
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<web::Bytes>>(4);
    tokio::task::spawn_blocking(move || {
        let mut w = std::io::BufWriter::with_capacity(DUMP_CHUNK, ChunkSender(tx.clone()));
        let written = emulator.write_dump(&mut w).and_then(|()| std::io::Write::flush(&mut w));
        if let Err(e) = written {
            // The answer's head is out: a cut body tells the client (unless it is the one that left).
            let _ = tx.blocking_send(Err(e));
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    HttpResponse::Ok().content_type("application/json").streaming(body)
}

/// Bytes of a state dump sent at a time.
const DUMP_CHUNK: usize = 256 * 1024;

/// Hands what a writer writes to a response body, a chunk at a time (blocking while the client reads).
struct ChunkSender(tokio::sync::mpsc::Sender<std::io::Result<web::Bytes>>);

impl std::io::Write for ChunkSender {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(web::Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn put_state(app: web::Data<Emulator>, body: web::Payload) -> AdminResult {
    let dump = parse(read_json_up_to(body, false, MAX_STATE_BODY).await?, "state dump")?;
    app.restore(dump).map_err(|e| error(400, e))?;
    Ok(HttpResponse::Ok().json(json!({ "restored": true, "now": app.world.clock.now_s() })))
}

async fn post_fixture(app: web::Data<Emulator>, req: HttpRequest, body: web::Payload) -> AdminResult {
    let v = read_json(body, false).await?;
    let name = query(&req, "name").unwrap_or_else(|| "POST /__admin/fixtures".into());
    if query(&req, "dry_run").is_some_and(|d| d == "true" || d == "1") {
        let mut errors = app.check(&v);
        if errors.is_empty() {
            // What a real load would also refuse: conflicts with the running world (an existing account).
            for vendor in app.vendors() {
                if let Some(section) = v.get(vendor.kind().as_str()) {
                    if let Err(mut e) = vendor.load_section(section, vendor.kind().as_str(), None, true) {
                        errors.append(&mut e);
                    }
                }
            }
        }
        return Ok(if errors.is_empty() {
            HttpResponse::Ok().json(json!({ "valid": true }))
        } else {
            HttpResponse::BadRequest().json(json!({
                "valid": false, "error": format!("fixture has {} error(s)", errors.len()), "errors": errors
            }))
        });
    }
    Ok(match app.load_runtime(&FixtureDoc { name, value: v }) {
        Ok(report) => {
            // A clock moved forward by the fixture, or a timeline step at 0, falls due now: run it before
            // answering, as an advance would, so nothing waits for the background pump.
            let ran = app.run_due(app.world.clock.now_ms(), true).await;
            HttpResponse::Ok().json(json!({ "loaded": report, "ran": ran }))
        }
        Err(errors) => HttpResponse::BadRequest().json(json!({
            "error": format!("fixture has {} error(s); nothing was loaded", errors.len()), "errors": errors
        })),
    })
}

async fn tenants(app: web::Data<Emulator>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "tenants": app.tenant_list() }))
}

fn clock_json(app: &Emulator) -> Value {
    let r = app.world.clock.reading();
    json!({
        "now": r.now_ms.div_euclid(1000),
        "now_ms": r.now_ms,
        "frozen": r.frozen,
        "scale": r.scale,
        "pending_jobs": app.world.scheduler.len(),
        "next_due": app.world.scheduler.next_due().map(|d| d.div_euclid(1000)),
    })
}

async fn get_clock(app: web::Data<Emulator>) -> HttpResponse {
    HttpResponse::Ok().json(clock_json(&app))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    frozen: Option<bool>,
    scale: Option<f64>,
    now: Option<f64>,
}

async fn post_clock(app: web::Data<Emulator>, body: web::Payload) -> AdminResult {
    let change: ClockChange = parse(read_json(body, false).await?, "clock")?;
    if let Some(s) = change.scale {
        if !(s.is_finite() && s > 0.0 && s <= MAX_SCALE) {
            return Err(error(400, format!("scale must be a number > 0 and <= {MAX_SCALE}, got {s}")));
        }
    }
    let mut ran = Vec::new();
    if let Some(now) = change.now {
        let target = (now * 1000.0).round() as i64;
        let current = app.world.clock.now_ms();
        if !now.is_finite() || target < current {
            return Err(error(
                400,
                format!("time never goes back: now is {}, asked for {now}", current.div_euclid(1000)),
            ));
        }
        if target > MAX_TIME_MS {
            return Err(error(
                400,
                format!("now must be at most {} (year 9999), got {now}", MAX_TIME_MS / 1000),
            ));
        }
        // Jumping forward runs what falls due on the way, exactly like an advance.
        ran = app.run_due(target, true).await;
    }
    app.world.clock.set(change.frozen, change.scale, None).map_err(|e| error(400, e.to_string()))?;
    app.world.clock_changed();
    let mut v = clock_json(&app);
    v["ran"] = json!(ran);
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: f64,
}

async fn advance(app: web::Data<Emulator>, body: web::Payload) -> AdminResult {
    let a: Advance = parse(read_json(body, false).await?, "advance")?;
    if !(a.seconds.is_finite() && a.seconds >= 0.0) {
        return Err(error(400, format!("seconds must be a number >= 0, got {}", a.seconds)));
    }
    let now = app.world.clock.now_ms();
    if now as f64 + a.seconds * 1000.0 > MAX_TIME_MS as f64 {
        return Err(error(400, format!("seconds would take the clock past year 9999, got {}", a.seconds)));
    }
    let target = now + (a.seconds * 1000.0).round() as i64;
    let ran = app.run_due(target, true).await;
    let mut v = clock_json(&app);
    v["ran"] = json!(ran);
    Ok(HttpResponse::Ok().json(v))
}

async fn events(app: web::Data<Emulator>, body: web::Payload) -> AdminResult {
    let list = match read_json(body, false).await? {
        Value::Array(items) => items,
        v @ Value::Object(_) => vec![v],
        _ => return Err(error(400, "expected an event object or an array of events")),
    };
    // Check all before applying any, so a malformed batch changes nothing.
    for (i, e) in list.iter().enumerate() {
        app.check_event(e).map_err(|msg| error(400, format!("event {i}: {msg}")))?;
    }
    let now = app.world.clock.now_ms();
    let mut applied = Vec::new();
    for (i, e) in list.iter().enumerate() {
        match app.apply_event(e, now) {
            Ok(d) => applied.push(d),
            Err(msg) => {
                // The state refused it (unknown id, wrong state): 404 or 409, with what was applied before it.
                let status = if msg.starts_with("no such") { 404 } else { 409 };
                return Ok(HttpResponse::build(
                    actix_web::http::StatusCode::from_u16(status).unwrap_or_default(),
                )
                .json(json!({ "error": format!("event {i}: {msg}"), "applied": applied })));
            }
        }
    }
    Ok(HttpResponse::Ok().json(json!({ "applied": applied, "now": now.div_euclid(1000) })))
}

/// `POST /__admin/seed`: `{"tenant": "<vendor>:<id>", ...}` bulk-creates entities in an existing tenant;
/// the other keys say what and how many, per vendor (docs/fixtures.md).
async fn seed(app: web::Data<Emulator>, body: web::Payload) -> AdminResult {
    let spec = read_json(body, false).await?;
    let tenant = spec
        .get("tenant")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| error(400, "`tenant` (`<vendor>:<id>`) is required"))?;
    let (kind, id) = tenant
        .split_once(':')
        .ok_or_else(|| error(400, format!("tenant `{tenant}` is not `<vendor>:<id>`")))?;
    let kind: crate::VendorKind = kind.parse().map_err(|e: String| error(400, e))?;
    let v = app.vendor(kind).ok_or_else(|| error(400, format!("vendor {kind} is not emulated yet")))?;
    if !v.tenant_ids().iter().any(|t| t == id) {
        return Err(error(404, format!("no tenant `{tenant}`")));
    }
    let started = std::time::Instant::now();
    // Millions of entities take seconds: made on a blocking thread, a chunk at a time under the tenant's
    // lock, so neither an HTTP worker nor the tenant's other requests wait for the whole of it.
    let (vendor, id, now) = (v.clone(), id.to_string(), app.world.clock.now_ms());
    let seeded = web::block(move || vendor.seed(&id, &spec, now))
        .await
        .map_err(|e| error(500, format!("seeding stopped: {e}")))?;
    let mut created = seeded.map_err(|e| error(400, e))?;
    created["tenant"] = json!(tenant);
    created["took_ms"] = json!(started.elapsed().as_millis() as u64);
    Ok(HttpResponse::Ok().json(created))
}

async fn get_requests(app: web::Data<Emulator>, req: HttpRequest) -> AdminResult {
    let f = journal_filter(form_pairs(req.query_string()))?;
    let list = app.door.journal.list(&f);
    let mut v = json!({
        "count": list.len(),
        "held": app.door.journal.len(),
        "capacity": app.door.journal.capacity(),
    });
    // A full page of a paged read (`limit`) goes on below its oldest entry.
    if f.limit.is_some_and(|n| n > 0 && list.len() == n) {
        v["next_cursor"] = json!(list.first().map(|e| e.id));
    }
    v["requests"] = json!(list);
    Ok(HttpResponse::Ok().json(v))
}

/// The journal filters of a query string's `pairs` (`GET /__admin/requests`, the dashboard's journal).
pub(crate) fn journal_filter(pairs: Vec<(String, String)>) -> Result<JournalFilter, AdminError> {
    let mut f = JournalFilter::default();
    fn count<T: std::str::FromStr>(v: &str, what: &str) -> Result<T, AdminError> {
        v.parse().map_err(|_| error(400, format!("{what} must be a count, got `{v}`")))
    }
    for (k, v) in pairs {
        match k.as_str() {
            "vendor" => f.vendor = Some(v.parse().map_err(|e: String| error(400, e))?),
            "path" => f.path = Some(v),
            "method" => f.method = Some(v),
            "status" => f.status = Some(count(&v, "status")?),
            "since" => {
                f.since = Some(
                    v.parse().map_err(|_| error(400, format!("since must be unix seconds, got `{v}`")))?,
                )
            }
            "limit" => f.limit = Some(count(&v, "limit")?),
            "cursor" => f.before = Some(count(&v, "cursor")?),
            other => {
                return Err(error(
                    400,
                    format!("unknown filter `{other}` (vendor, path, method, status, since, limit, cursor)"),
                ))
            }
        }
    }
    Ok(f)
}

async fn delete_requests(app: web::Data<Emulator>) -> HttpResponse {
    app.door.journal.clear();
    HttpResponse::Ok().json(json!({ "cleared": true }))
}

async fn get_faults(app: web::Data<Emulator>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "faults": app.faults.list() }))
}

async fn post_fault(app: web::Data<Emulator>, body: web::Payload) -> AdminResult {
    let spec: FaultSpec = parse(read_json(body, false).await?, "fault rule")?;
    if let Some(p) = spec.problem() {
        return Err(error(400, p));
    }
    if let Some(v) = spec.when.vendor {
        if app.vendor(v).is_none() {
            return Err(error(400, format!("vendor {v} is not emulated yet")));
        }
    }
    let rule = app.faults.add(spec).map_err(|e| error(409, e))?;
    Ok(HttpResponse::Created().json(rule))
}

async fn delete_faults(app: web::Data<Emulator>) -> HttpResponse {
    app.faults.clear();
    HttpResponse::Ok().json(json!({ "cleared": true }))
}

async fn delete_fault(app: web::Data<Emulator>, path: web::Path<String>) -> AdminResult {
    let id: u64 = path.parse().map_err(|_| error(400, format!("fault id must be a number, got `{path}`")))?;
    if app.faults.remove(id) {
        Ok(HttpResponse::Ok().json(json!({ "deleted": id })))
    } else {
        Err(error(404, format!("no fault rule {id}")))
    }
}

async fn get_callbacks(app: web::Data<Emulator>, req: HttpRequest) -> AdminResult {
    let (f, paging) = callback_filter(form_pairs(req.query_string()))?;
    let Some((cursor, limit)) = paging else {
        let list = app.world.outbox.list(&f);
        let evicted = app.world.outbox.evicted();
        return Ok(
            HttpResponse::Ok().json(json!({ "count": list.len(), "callbacks": list, "evicted": evicted }))
        );
    };
    let (list, next) = app.world.outbox.page(&f, cursor.as_deref(), limit.unwrap_or(100), false);
    let evicted = app.world.outbox.evicted();
    Ok(HttpResponse::Ok()
        .json(json!({ "count": list.len(), "callbacks": list, "next_cursor": next, "evicted": evicted })))
}

/// The callback filters of a query string, and the paging (`cursor`, `limit`) when either is given.
#[allow(clippy::type_complexity)]
pub(crate) fn callback_filter(
    pairs: Vec<(String, String)>,
) -> Result<(CallbackFilter, Option<(Option<String>, Option<usize>)>), AdminError> {
    let mut f = CallbackFilter::default();
    let (mut cursor, mut limit, mut paged) = (None, None, false);
    for (k, v) in pairs {
        match k.as_str() {
            "vendor" => f.vendor = Some(v.parse().map_err(|e: String| error(400, e))?),
            "resource" => f.resource = Some(v),
            "event" => f.event = Some(v),
            "tenant" => f.owner = Some(v),
            "state" => {
                f.state = Some(serde_json::from_value(json!(v)).map_err(|_| {
                    error(400, format!("state must be held, pending, delivered or failed, got `{v}`"))
                })?)
            }
            "cursor" => {
                paged = true;
                cursor = Some(v);
            }
            "limit" => {
                paged = true;
                limit = Some(v.parse().map_err(|_| error(400, format!("limit must be a count, got `{v}`")))?);
            }
            other => {
                return Err(error(
                    400,
                    format!(
                        "unknown filter `{other}` (vendor, resource, event, tenant, state, limit, cursor)"
                    ),
                ))
            }
        }
    }
    Ok((f, paged.then_some((cursor, limit))))
}

async fn get_callback(app: web::Data<Emulator>, path: web::Path<String>) -> AdminResult {
    let cb = app.world.outbox.get(&path).ok_or_else(|| error(404, format!("no callback `{path}`")))?;
    Ok(HttpResponse::Ok().json(cb))
}

async fn redeliver(app: web::Data<Emulator>, path: web::Path<String>, body: web::Payload) -> AdminResult {
    read_json(body, true).await?;
    let now = app.world.clock.now_ms();
    match app.world.outbox.redeliver(&app.world.scheduler, &path, now) {
        Ok(cb) => Ok(HttpResponse::Ok().json(json!({ "redelivering": cb.id, "callback": cb }))),
        Err(e) if e.starts_with("no callback") => Err(error(404, e)),
        Err(e) => Err(error(409, e)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallbackUrl {
    tenant: String,
    url: String,
}

async fn set_callback_url(app: web::Data<Emulator>, body: web::Payload) -> AdminResult {
    let c: CallbackUrl = parse(read_json(body, false).await?, "callback url")?;
    if !(c.url.starts_with("http://") || c.url.starts_with("https://")) {
        return Err(error(400, format!("url must start with http:// or https://, got `{}`", c.url)));
    }
    let (kind, id) = c
        .tenant
        .split_once(':')
        .ok_or_else(|| error(400, format!("tenant `{}` is not `<vendor>:<id>`", c.tenant)))?;
    let kind: crate::VendorKind = kind.parse().map_err(|e: String| error(400, e))?;
    let v = app.vendor(kind).ok_or_else(|| error(400, format!("vendor {kind} is not emulated yet")))?;
    if !v.tenant_ids().iter().any(|t| t == id) {
        return Err(error(404, format!("no tenant `{}`", c.tenant)));
    }
    v.set_callback_url(id, &c.url).map_err(|e| error(400, e))?;
    let released =
        app.world.outbox.set_url(&app.world.scheduler, &c.tenant, &c.url, app.world.clock.now_ms());
    Ok(HttpResponse::Ok().json(json!({ "tenant": c.tenant, "url": c.url, "released": released })))
}

/// `GET /__admin/routes`: every `(method, path)` this server answers, with the vendor owning it.
async fn list_routes(app: web::Data<Emulator>) -> HttpResponse {
    let routes: Vec<Value> = app
        .door
        .routes
        .list()
        .into_iter()
        .map(|(path, method, vendor)| json!({"method": method, "path": path, "vendor": vendor}))
        .collect();
    HttpResponse::Ok().json(json!({"total": routes.len(), "routes": routes}))
}

/// The OpenAPI description, compiled into the binary so it always matches the server it describes.
pub const OPENAPI_YAML: &str = include_str!("../../openapi/recmock.yaml");

/// `GET /__admin/openapi.yaml`: the OpenAPI 3.1 description of every endpoint.
async fn openapi_yaml() -> HttpResponse {
    HttpResponse::Ok().content_type("application/yaml; charset=utf-8").body(OPENAPI_YAML)
}

/// The same description as JSON (`openapi/recmock.json`, generated from the YAML by `make openapi-json`;
/// `make test` fails while it is stale).
pub const OPENAPI_JSON: &str = include_str!("../../openapi/recmock.json");

/// `GET /__admin/openapi.json`: the same description as JSON (for Swagger UI, code generators).
async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(OPENAPI_JSON)
}
