//! The dashboard under `/__admin/ui`: server-rendered pages of the world (vendors and their entities,
//! callbacks, the request journal, fault rules, fixtures and state, the event gateway's sessions), one
//! small script and one style sheet compiled into the binary — no library, no build step, nothing fetched
//! from elsewhere.
//!
//! Pages are plain HTML; every value from the world goes through [`crate::codec::html_escape`]. The parts
//! of a page that change carry `data-region`: the script follows the change feed through
//! `GET /__admin/ui/events` (server-sent events: which kinds of change happened, at most four batches a
//! second) and redraws those parts by fetching the page again, while the tab is visible. Buttons and
//! forms call the control plane's JSON API, so the dashboard can do nothing a client of `/__admin`
//! cannot. Lists are paged and filtered here, from the vendors' indexes, the outbox and the journal.
//!
//! The control plane's guard applies to every page; with `--admin-token`, `GET /__admin/ui/login` asks
//! for the token once and sets the `HttpOnly`, `SameSite=Strict` cookie the guard accepts.

mod pages;

use super::guard::{AdminAccess, COOKIE, LOGIN_PATH};
use crate::app::Emulator;
use crate::codec::{form_pairs, html_escape as e};
use crate::feed::Change;
use crate::http::routes::noted_resource;
use crate::http::RouteBook;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

/// The script, compiled in.
pub const APP_JS: &str = include_str!("app.js");
/// The style sheet, compiled in.
pub const APP_CSS: &str = include_str!("app.css");

/// Rows on one page of a list.
pub const PAGE_ROWS: usize = 50;

/// How long the event stream gathers changes into one batch.
const BATCH: Duration = Duration::from_millis(250);
/// How often an idle event stream says it is alive (so proxies and the browser keep it open).
const KEEPALIVE: Duration = Duration::from_secs(15);

/// The dashboard's pages, under the `/__admin` scope (so the control plane's guard covers them), each
/// noted in `book`.
pub fn routes(
    scope: actix_web::Scope,
    book: &RouteBook,
    access: &std::sync::Arc<AdminAccess>,
) -> actix_web::Scope {
    let resource = |path: &str, allowed: &'static str| noted_resource(book, "/__admin", path, allowed);
    let get = |path: &str| resource(path, "GET");
    scope
        .app_data(web::Data::from(access.clone()))
        .service(get("/ui").route(web::get().to(to_overview)))
        .service(get("/ui/").route(web::get().to(pages::overview)))
        .service(get("/ui/vendors/{vendor}").route(web::get().to(pages::vendor)))
        .service(get("/ui/vendors/{vendor}/{tenant}/{kind}/{id}").route(web::get().to(pages::entity)))
        .service(get("/ui/callbacks").route(web::get().to(pages::callbacks)))
        .service(get("/ui/callbacks/{id}").route(web::get().to(pages::callback)))
        .service(get("/ui/requests").route(web::get().to(pages::requests)))
        .service(get("/ui/requests/{id}").route(web::get().to(pages::request)))
        .service(get("/ui/faults").route(web::get().to(pages::faults)))
        .service(get("/ui/state").route(web::get().to(pages::state)))
        .service(get("/ui/gateway").route(web::get().to(pages::gateway)))
        .service(get("/ui/events").route(web::get().to(events)))
        .service(get("/ui/app.js").route(web::get().to(|| asset(APP_JS, "text/javascript; charset=utf-8"))))
        .service(get("/ui/app.css").route(web::get().to(|| asset(APP_CSS, "text/css; charset=utf-8"))))
        .service(
            resource("/ui/login", "GET, POST").route(web::get().to(login_page)).route(web::post().to(login)),
        )
}

async fn to_overview() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/__admin/ui/")).finish()
}

async fn asset(body: &'static str, content_type: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-content-type-options", "nosniff"))
        .body(body)
}

/// The first value of query parameter `name`, when it is not empty.
fn param(req: &HttpRequest, name: &str) -> Option<String> {
    form_pairs(req.query_string()).into_iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v)
}

/// The query's parameters that have a value (a filter form sends its empty fields too).
fn given(req: &HttpRequest) -> Vec<(String, String)> {
    form_pairs(req.query_string()).into_iter().filter(|(_, v)| !v.is_empty()).collect()
}

/// Which page of the navigation a page is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Nav<'a> {
    Overview,
    Vendor(&'a str),
    Callbacks,
    Requests,
    Faults,
    State,
    Gateway,
    None,
}

/// A page: its title, where it is in the navigation, the kinds of change that redraw its regions
/// (`tenant`, `world_event`, `request`, `callback`, `clock`, `reset`), and its body.
struct Page<'a> {
    title: &'a str,
    nav: Nav<'a>,
    live: &'a str,
    body: String,
}

impl Page<'_> {
    /// The whole document.
    fn render(&self, app: &Emulator) -> HttpResponse {
        let mut h = String::with_capacity(self.body.len() + 4096);
        let r = app.world.clock.reading();
        let _ = write!(
            h,
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <meta name=\"color-scheme\" content=\"light dark\"><title>{} · recmock</title>\
             <link rel=\"stylesheet\" href=\"/__admin/ui/app.css\"><script src=\"/__admin/ui/app.js\" defer></script>\
             </head><body data-live=\"{}\"><header>\
             <a class=\"brand\" href=\"/__admin/ui/\">recmock</a><nav aria-label=\"Pages\">",
            e(self.title),
            e(self.live)
        );
        let mut link = |href: String, label: &str, here: bool| {
            let current = if here { " aria-current=\"page\"" } else { "" };
            let _ = write!(h, "<a href=\"{}\"{current}>{}</a>", e(&href), e(label));
        };
        link("/__admin/ui/".into(), "Overview", self.nav == Nav::Overview);
        for v in app.vendors() {
            let name = v.kind().as_str();
            let label = format!("{:03} {name}", v.kind().seed());
            link(format!("/__admin/ui/vendors/{name}"), &label, self.nav == Nav::Vendor(name));
        }
        link("/__admin/ui/callbacks".into(), "Callbacks", self.nav == Nav::Callbacks);
        link("/__admin/ui/requests".into(), "Requests", self.nav == Nav::Requests);
        link("/__admin/ui/faults".into(), "Faults", self.nav == Nav::Faults);
        link("/__admin/ui/state".into(), "Fixtures & state", self.nav == Nav::State);
        link("/__admin/ui/gateway".into(), "Gateway", self.nav == Nav::Gateway);
        let _ = write!(
            h,
            "</nav><span id=\"clock\" data-now-ms=\"{}\" data-frozen=\"{}\" data-scale=\"{}\" aria-live=\"off\">{} Beijing · {}</span>\
             <span id=\"live-dot\" title=\"live updates\" aria-hidden=\"true\"></span></header>\
             <main id=\"main\"><h1>{}</h1><div id=\"flash\" role=\"status\" aria-live=\"polite\"></div>{}</main></body></html>",
            r.now_ms,
            r.frozen,
            r.scale,
            time_at(r.now_ms),
            if r.frozen { "frozen".to_string() } else { format!("running ×{}", r.scale) },
            e(self.title),
            self.body
        );
        html(HttpResponse::Ok(), h)
    }
}

/// An HTML answer with the dashboard's headers: never cached, never framed by another page, scripts and
/// styles only from here.
fn html(mut builder: actix_web::HttpResponseBuilder, body: String) -> HttpResponse {
    builder
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header((
            "content-security-policy",
            "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; \
             script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ))
        .body(body)
}

/// A page that says what was not found.
fn not_found(app: &Emulator, what: &str) -> HttpResponse {
    let page = Page { title: "Not found", nav: Nav::None, live: "", body: format!("<p>{}</p>", e(what)) };
    let mut resp = page.render(app);
    *resp.status_mut() = actix_web::http::StatusCode::NOT_FOUND;
    resp
}

/// Virtual (or wall) milliseconds as Beijing time, `2026-01-01 08:00:00.250`.
fn time_at(ms: i64) -> String {
    let s = crate::clock::calendar::beijing_datetime(ms.div_euclid(1000));
    match ms.rem_euclid(1000) {
        0 => s,
        frac => format!("{s}.{frac:03}"),
    }
}

// ----- sign-in with the admin token -----------------------------------------------------------------------

fn login_form(next: &str, problem: Option<&str>, needed: bool) -> String {
    let mut h = String::new();
    if !needed {
        h.push_str("<p>This recmock was started without <code>--admin-token</code>: the dashboard needs no sign-in.</p>");
    }
    if let Some(p) = problem {
        let _ = write!(h, "<p class=\"bad\" role=\"alert\">{}</p>", e(p));
    }
    let _ = write!(
        h,
        "<form method=\"post\" action=\"{LOGIN_PATH}\" class=\"inline\"><input type=\"hidden\" name=\"next\" value=\"{}\">\
         <label>Admin token (--admin-token)<input type=\"password\" name=\"token\" autocomplete=\"current-password\" required autofocus></label>\
         <button class=\"primary\" type=\"submit\">Sign in</button></form>\
         <p class=\"muted\">The browser keeps a cookie for this server's control plane only (HttpOnly, SameSite=Strict); \
         it proves the token without holding it.</p>",
        e(next)
    );
    h
}

/// Where to go after signing in: a dashboard page, nothing else.
fn next_page(next: Option<String>) -> String {
    next.filter(|n| n.starts_with("/__admin/ui") && !n.contains("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/__admin/ui/".into())
}

async fn login_page(
    app: web::Data<Emulator>,
    access: web::Data<AdminAccess>,
    req: HttpRequest,
) -> HttpResponse {
    let next = next_page(param(&req, "next"));
    let body = login_form(&next, None, access.needs_token());
    Page { title: "Sign in", nav: Nav::None, live: "", body }.render(&app)
}

async fn login(
    app: web::Data<Emulator>,
    access: web::Data<AdminAccess>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let fields = form_pairs(&String::from_utf8_lossy(&body));
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let next = next_page(field("next"));
    let (Some(cookie), Some(token)) = (access.cookie_value(), field("token")) else {
        return HttpResponse::SeeOther().insert_header((header::LOCATION, next)).finish();
    };
    if !access.is_token(&token) {
        let body = login_form(&next, Some("That is not the admin token."), true);
        let mut resp = Page { title: "Sign in", nav: Nav::None, live: "", body }.render(&app);
        *resp.status_mut() = actix_web::http::StatusCode::UNAUTHORIZED;
        return resp;
    }
    let secure = if req.connection_info().scheme() == "https" { "; Secure" } else { "" };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, next))
        .insert_header((
            header::SET_COOKIE,
            format!("{COOKIE}={cookie}; Path=/__admin; HttpOnly; SameSite=Strict{secure}"),
        ))
        .finish()
}

// ----- live updates ---------------------------------------------------------------------------------------

/// The topic of a change, as pages name what redraws them.
fn topic(c: &Change) -> &'static str {
    match c {
        Change::Tenant { .. } => "tenant",
        Change::WorldEvent { .. } => "world_event",
        Change::Request { .. } => "request",
        Change::Callback { .. } => "callback",
        Change::Clock { .. } => "clock",
        Change::Reset { .. } => "reset",
    }
}

/// One batch of the event stream: `event: change` with the topics that changed, the clock when it
/// moved, and how many changes this listener missed when it fell behind the feed.
fn batch(app: &Emulator, topics: &BTreeSet<&'static str>, missed: u64) -> web::Bytes {
    let mut data = serde_json::json!({ "topics": topics, "missed": missed });
    if missed > 0 || topics.contains("clock") || topics.contains("reset") {
        let r = app.world.clock.reading();
        data["clock"] = serde_json::json!({ "now_ms": r.now_ms, "frozen": r.frozen, "scale": r.scale });
    }
    web::Bytes::from(format!("event: change\ndata: {data}\n\n"))
}

/// `GET /__admin/ui/events`: the change feed as server-sent events, in batches (what changed, not the
/// changes), until the client goes or the server stops.
async fn events(app: web::Data<Emulator>) -> HttpResponse {
    let Some(slot) = StreamSlot::take(&app) else {
        return HttpResponse::ServiceUnavailable().insert_header((header::RETRY_AFTER, "5")).json(
            serde_json::json!({ "error": format!(
                "{} dashboard event streams are open already (--max-ui-streams): close a dashboard tab",
                app.world.caps.limits.ui_streams
            ) }),
        );
    };
    let sub = app.world.feed.subscribe();
    let hello = web::Bytes::from_static(b"retry: 2000\n: recmock change feed\n\n");
    let stream = futures_util::stream::unfold(
        (app, sub, Some(hello), slot),
        |(app, mut sub, hello, slot)| async move {
            if let Some(h) = hello {
                return Some((Ok::<_, actix_web::Error>(h), (app, sub, None, slot)));
            }
            let mut topics = BTreeSet::new();
            let mut missed = 0;
            tokio::select! {
                _ = app.door.sockets.stopping() => return None,
                first = tokio::time::timeout(KEEPALIVE, sub.next()) => match first {
                    Err(_) => return Some((Ok(web::Bytes::from_static(b": alive\n\n")), (app, sub, None, slot))),
                    Ok(Ok(c)) => { topics.insert(topic(&c)); }
                    Ok(Err(Ok(m))) => missed += m.0,
                    Ok(Err(Err(_))) => return None,
                },
            }
            // Gather what follows for a moment: a burst of changes is one redraw.
            let until = tokio::time::Instant::now() + BATCH;
            while let Ok(next) = tokio::time::timeout_at(until, sub.next()).await {
                match next {
                    Ok(c) => {
                        topics.insert(topic(&c));
                    }
                    Err(Ok(m)) => missed += m.0,
                    Err(Err(_)) => break,
                }
            }
            let bytes = batch(&app, &topics, missed);
            Some((Ok(bytes), (app, sub, None, slot)))
        },
    );
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(stream)
}

/// One open event stream, counted against `--max-ui-streams` until it is dropped (the client went, or the
/// server stopped).
struct StreamSlot(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl StreamSlot {
    fn take(app: &Emulator) -> Option<StreamSlot> {
        use std::sync::atomic::Ordering;
        let cap = app.world.caps.limits.ui_streams;
        let taken =
            app.ui_streams.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < cap).then_some(n + 1));
        if taken.is_err() {
            app.world.caps.reached(crate::limits::Cap::UiStreams, || {
                "new dashboard event streams are refused with HTTP 503".into()
            });
            return None;
        }
        Some(StreamSlot(app.ui_streams.clone()))
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn the_whole_ui_is_small_compressed() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(APP_JS.as_bytes()).unwrap();
        gz.write_all(APP_CSS.as_bytes()).unwrap();
        // The Rust that writes the pages is in the binary too: count its source as an upper bound of the
        // markup it can produce.
        gz.write_all(include_str!("pages.rs").as_bytes()).unwrap();
        gz.write_all(include_str!("mod.rs").as_bytes()).unwrap();
        let size = gz.finish().unwrap().len();
        assert!(size < 200 * 1024, "the dashboard is {size} bytes compressed");
    }

    #[test]
    fn sign_in_goes_back_only_to_a_dashboard_page() {
        assert_eq!(next_page(Some("/__admin/ui/callbacks".into())), "/__admin/ui/callbacks");
        for bad in ["https://evil.example/", "//evil.example", "/__admin/ui//evil.example", "/__admin/state"]
        {
            assert_eq!(next_page(Some(bad.into())), "/__admin/ui/", "{bad}");
        }
    }

    #[test]
    fn times_are_beijing() {
        assert_eq!(time_at(1_767_225_600_000), "2026-01-01 08:00:00");
        assert_eq!(time_at(1_767_225_600_250), "2026-01-01 08:00:00.250");
    }
}
