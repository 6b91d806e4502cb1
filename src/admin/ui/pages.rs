//! The dashboard's pages. Each is rendered whole on the server from the emulator's state (locks are held
//! only while a page's rows are copied out, never across an `.await`); the regions the change feed
//! redraws carry `data-region`.

use super::{not_found, param, time_at, Nav, Page, PAGE_ROWS};
use crate::app::Emulator;
use crate::codec::{html_escape as e, percent_encode};
use crate::outbox::{Callback, CallbackState};
use crate::scheduler::Job;
use crate::vendors::{EntityQuery, Vendor};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;
use std::fmt::Write as _;
use std::sync::Arc;

/// Jobs shown under "scheduled next".
const NEXT_JOBS: usize = 12;

/// A link to `path` with the query `pairs` (empty values left out).
fn href(path: &str, pairs: &[(&str, &str)]) -> String {
    let q: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", q.join("&"))
    }
}

/// JSON as a person reads it.
fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// A body as a person reads it: pretty JSON when it is JSON, else as it is.
fn pretty_text(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(v) if !text.trim().is_empty() => pretty(&v),
        _ => text.to_string(),
    }
}

/// A `<select>` labelled `label` named `name` with `options` (value, shown), `current` selected; the
/// first option is "any".
fn select(h: &mut String, label: &str, name: &str, options: &[(String, String)], current: &str) {
    let _ = write!(h, "<label>{}<select name=\"{name}\"><option value=\"\">any</option>", e(label));
    for (v, shown) in options {
        let sel = if v == current { " selected" } else { "" };
        let _ = write!(h, "<option value=\"{}\"{sel}>{}</option>", e(v), e(shown));
    }
    h.push_str("</select></label>");
}

/// A text `<input>` labelled `label`.
fn text_input(h: &mut String, label: &str, name: &str, current: &str, hint: &str) {
    let _ = write!(
        h,
        "<label>{}<input name=\"{name}\" value=\"{}\" placeholder=\"{}\"></label>",
        e(label),
        e(current),
        e(hint)
    );
}

/// The plural of an entity kind (`class` → `classes`).
fn plural(kind: &str) -> String {
    if kind.ends_with('s') {
        format!("{kind}es")
    } else {
        format!("{kind}s")
    }
}

/// A state badge.
fn badge(text: &str) -> String {
    let class = match text {
        "delivered" | "done" | "6" | "6 done" | "finished" | "end" | "ended" => "ok",
        "failed" | "-1" | "-1 failed" | "retry" => "bad",
        "pending" | "held" => "warn",
        _ => "muted",
    };
    format!("<span class=\"badge {class}\">{}</span>", e(text))
}

fn vendor_options(app: &Emulator) -> Vec<(String, String)> {
    app.vendors()
        .iter()
        .map(|v| (v.kind().as_str().to_string(), format!("{:03} {}", v.kind().seed(), v.kind())))
        .collect()
}

// ----- overview ------------------------------------------------------------------------------------------

/// `GET /__admin/ui/`: the clock and its controls, what is scheduled next, vendors and tenants.
pub async fn overview(app: web::Data<Emulator>) -> HttpResponse {
    let mut h = String::with_capacity(8192);
    h.push_str("<div class=\"cards\"><section class=\"card\" aria-labelledby=\"clock-h\"><h2 id=\"clock-h\">Virtual clock</h2>");
    h.push_str("<div id=\"r-clock\" data-region>");
    clock_card(&app, &mut h);
    h.push_str("</div>");
    advance_form(&mut h);
    h.push_str(
        "<form class=\"inline\" data-do=\"scale\" aria-label=\"Clock scale\"><label>Scale (virtual s per wall s)\
         <input type=\"number\" name=\"scale\" min=\"0.001\" step=\"any\" required></label><button type=\"submit\">Set scale</button></form>",
    );
    h.push_str("</section><section class=\"card\" aria-labelledby=\"next-h\"><h2 id=\"next-h\">Scheduled next</h2><div id=\"r-next\" data-region>");
    scheduled_next(&app, &mut h);
    h.push_str("</div></section><section class=\"card\" aria-labelledby=\"reset-h\"><h2 id=\"reset-h\">Reset</h2>\
        <p class=\"muted\">Empties the world (tenants, jobs, files, callbacks, journal, fault rules) and reloads the start fixtures.</p>\
        <button class=\"danger\" type=\"button\" data-do=\"reset\">Reset everything</button></section></div>");
    h.push_str("<h2>Vendors and tenants</h2><div id=\"r-vendors\" class=\"stack\" data-region>");
    vendors_table(&app, &mut h);
    h.push_str("</div>");
    Page { title: "Overview", nav: Nav::Overview, live: "tenant,world_event,callback,clock,reset", body: h }
        .render(&app)
}

/// The form that advances the virtual clock by N seconds, minutes or hours.
fn advance_form(h: &mut String) {
    h.push_str(
        "<form class=\"inline\" data-do=\"advance\" aria-label=\"Advance the clock\">\
         <label>Advance the clock by<input type=\"number\" name=\"amount\" min=\"0\" step=\"any\" value=\"10\" required></label>\
         <label>Unit<select name=\"unit\"><option value=\"s\">seconds</option><option value=\"min\" selected>minutes</option>\
         <option value=\"h\">hours</option></select></label><button class=\"primary\" type=\"submit\">Advance</button></form>",
    );
}

fn clock_card(app: &Emulator, h: &mut String) {
    let r = app.world.clock.reading();
    let _ = write!(
        h,
        "<dl class=\"kv\"><dt>Now</dt><dd id=\"clock-now\">{} Beijing <span class=\"muted\">({} unix s)</span></dd>\
         <dt>State</dt><dd id=\"clock-state\">{}</dd><dt>Scale</dt><dd>{}</dd><dt>Pending jobs</dt><dd>{}</dd></dl>",
        time_at(r.now_ms),
        r.now_ms.div_euclid(1000),
        if r.frozen { "frozen" } else { "running" },
        r.scale,
        app.world.scheduler.len()
    );
    let (label, to) = if r.frozen { ("Unfreeze", "false") } else { ("Freeze", "true") };
    let _ = write!(h, "<button type=\"button\" data-do=\"freeze\" data-frozen=\"{to}\">{label}</button>");
}

fn scheduled_next(app: &Emulator, h: &mut String) {
    let now = app.world.clock.now_ms();
    let jobs = app.world.scheduler.next(NEXT_JOBS);
    if jobs.is_empty() {
        h.push_str("<p class=\"muted\">Nothing is scheduled.</p>");
        return;
    }
    let _ = write!(
        h,
        "<button class=\"primary\" type=\"button\" data-do=\"next\" data-at=\"{}\">Advance to the next one</button>",
        jobs[0].due_ms.max(now)
    );
    h.push_str(
        "<div class=\"scroll\"><table><thead><tr><th>Due</th><th>In</th><th>What</th></tr></thead><tbody>",
    );
    for j in &jobs {
        let what = match &j.job {
            Job::Vendor { vendor, tenant, task, target } => {
                format!("{vendor} {task} of {target} <span class=\"muted\">({})</span>", e(tenant))
            }
            Job::Timeline { event } => {
                format!("timeline event {}", e(event.get("type").and_then(Value::as_str).unwrap_or("?")))
            }
            Job::Delivery { callback_id } => {
                let cb = app.world.outbox.get(callback_id);
                let event = cb.as_ref().map_or(String::new(), |c| format!(" ({} {})", c.vendor, e(&c.event)));
                format!(
                    "callback attempt <a href=\"/__admin/ui/callbacks/{id}\">{id}</a>{event}",
                    id = e(callback_id)
                )
            }
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{} s</td><td>{what}</td></tr>",
            time_at(j.due_ms),
            (j.due_ms - now).max(0) as f64 / 1000.0
        );
    }
    h.push_str("</tbody></table></div>");
}

fn vendors_table(app: &Emulator, h: &mut String) {
    let tally = app.world.outbox.tally_by_owner();
    for v in app.vendors() {
        let kind = v.kind();
        let kinds = v.entity_kinds();
        let _ = write!(
            h,
            "<section class=\"card\"><h3><a href=\"/__admin/ui/vendors/{kind}\">{:03} {kind}</a></h3>",
            kind.seed()
        );
        let tenants = v.tenant_ids();
        if tenants.is_empty() {
            h.push_str("<p class=\"muted\">No tenants.</p></section>");
            continue;
        }
        h.push_str("<div class=\"scroll\"><table><thead><tr><th>Tenant</th>");
        for k in kinds {
            let _ = write!(h, "<th class=\"num\">{}</th>", plural(k));
        }
        h.push_str("<th>Callbacks</th><th><span class=\"hide-narrow\">Reset</span></th></tr></thead><tbody>");
        for t in &tenants {
            let owner = format!("{kind}:{t}");
            let _ = write!(
                h,
                "<tr><td><a href=\"{}\">{}</a></td>",
                e(&href(&format!("/__admin/ui/vendors/{kind}"), &[("tenant", t)])),
                e(t)
            );
            for k in kinds {
                let q = EntityQuery { tenant: Some(t), kind: Some(k), limit: 0, ..EntityQuery::default() };
                let n = v.entities(&q).total;
                let link = href(&format!("/__admin/ui/vendors/{kind}"), &[("tenant", t), ("kind", k)]);
                let _ = write!(h, "<td class=\"num\"><a href=\"{}\">{n}</a></td>", e(&link));
            }
            let counts: Vec<String> = ["delivered", "pending", "held", "failed"]
                .iter()
                .filter_map(|s| tally.get(&(owner.clone(), *s)).map(|n| format!("{n} {s}")))
                .collect();
            let link = href("/__admin/ui/callbacks", &[("tenant", &owner)]);
            let _ = write!(
                h,
                "<td><a href=\"{}\">{}</a></td><td><button type=\"button\" class=\"danger\" data-do=\"reset\" \
                 data-tenant=\"{}\" aria-label=\"Reset tenant {}\">Reset</button></td></tr>",
                e(&link),
                if counts.is_empty() { "none".to_string() } else { counts.join(", ") },
                e(&owner),
                e(&owner)
            );
        }
        h.push_str("</tbody></table></div></section>");
    }
}

// ----- a vendor's entities ----------------------------------------------------------------------------------

fn find_vendor<'a>(app: &'a Emulator, name: &str) -> Option<&'a Arc<dyn Vendor>> {
    app.vendors().iter().find(|v| v.kind().as_str() == name)
}

/// `GET /__admin/ui/vendors/{vendor}`: a page of its entities of one kind, filtered by tenant, status
/// and id.
pub async fn vendor(app: web::Data<Emulator>, path: web::Path<String>, req: HttpRequest) -> HttpResponse {
    let Some(v) = find_vendor(&app, &path) else { return not_found(&app, &format!("no vendor `{path}`")) };
    let kinds = v.entity_kinds();
    let tenant = param(&req, "tenant").unwrap_or_default();
    let kind = param(&req, "kind")
        .filter(|k| kinds.contains(&k.as_str()))
        .unwrap_or_else(|| kinds.first().map(|k| k.to_string()).unwrap_or_default());
    let status = param(&req, "status").unwrap_or_default();
    let id = param(&req, "id").unwrap_or_default();
    let page: usize = param(&req, "page").and_then(|p| p.parse().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let base = format!("/__admin/ui/vendors/{}", v.kind());
    let mut h = String::with_capacity(16 * 1024);
    h.push_str("<form class=\"inline\" method=\"get\" aria-label=\"Filter\">");
    let tenants: Vec<(String, String)> = v.tenant_ids().into_iter().map(|t| (t.clone(), t)).collect();
    select(&mut h, "Tenant", "tenant", &tenants, &tenant);
    let _ = write!(h, "<label>Kind<select name=\"kind\">");
    for k in kinds {
        let sel = if *k == kind { " selected" } else { "" };
        let _ = write!(h, "<option value=\"{k}\"{sel}>{k}</option>");
    }
    h.push_str("</select></label>");
    text_input(&mut h, "Status", "status", &status, "e.g. 6, ing, done");
    text_input(&mut h, "Id contains", "id", &id, "");
    h.push_str("<button type=\"submit\">Filter</button></form>");
    advance_form(&mut h);
    h.push_str("<div id=\"r-list\" data-region>");
    let q = EntityQuery {
        tenant: Some(tenant.as_str()).filter(|t| !t.is_empty()),
        kind: Some(kind.as_str()),
        status: Some(status.as_str()).filter(|s| !s.is_empty()),
        id: Some(id.as_str()).filter(|s| !s.is_empty()),
        skip: (page - 1) * PAGE_ROWS,
        limit: PAGE_ROWS,
    };
    let result = v.entities(&q);
    let _ = write!(
        h,
        "<p class=\"muted\">{} {} match.</p>",
        result.total,
        if result.total == 1 { kind.clone() } else { plural(&kind) }
    );
    h.push_str(
        "<div class=\"scroll\"><table><thead><tr><th>Id</th><th>Tenant</th><th>Status</th>\
         <th class=\"hide-narrow\">Created</th><th>About</th></tr></thead><tbody>",
    );
    for r in &result.rows {
        let link = format!("{base}/{}/{}/{}", percent_encode(&r.tenant), r.kind, percent_encode(&r.id));
        let _ = write!(
            h,
            "<tr data-id=\"{id}\"><td><a href=\"{}\">{id}</a></td><td>{}</td><td class=\"status\">{}</td>\
             <td class=\"hide-narrow\">{}</td><td>{}</td></tr>",
            e(&link),
            e(&r.tenant),
            badge(&r.status),
            r.created_ms.map(time_at).unwrap_or_default(),
            e(&r.summary),
            id = e(&r.id),
        );
    }
    h.push_str("</tbody></table></div>");
    let pages = result.total.div_ceil(PAGE_ROWS).max(1);
    let at = |p: usize| {
        let p = p.to_string();
        href(&base, &[("tenant", &tenant), ("kind", &kind), ("status", &status), ("id", &id), ("page", &p)])
    };
    h.push_str("<nav class=\"pager\" aria-label=\"Pages\">");
    if page > 1 {
        let _ = write!(h, "<a href=\"{}\" rel=\"prev\">← newer</a>", e(&at(page - 1)));
    }
    let _ = write!(h, "<span>page {page} of {pages}</span>");
    if page < pages {
        let _ = write!(h, "<a href=\"{}\" rel=\"next\">older →</a>", e(&at(page + 1)));
    }
    h.push_str("</nav></div>");
    let title = format!("{:03} {}", v.kind().seed(), v.kind());
    Page { title: &title, nav: Nav::Vendor(v.kind().as_str()), live: "tenant,world_event,reset", body: h }
        .render(&app)
}

/// `GET /__admin/ui/vendors/{vendor}/{tenant}/{kind}/{id}`: one entity, its recording's timeline and its
/// files (size, MD5, download, a player).
pub async fn entity(
    app: web::Data<Emulator>,
    path: web::Path<(String, String, String, String)>,
) -> HttpResponse {
    let (vendor, tenant, kind, id) = path.into_inner();
    let Some(v) = find_vendor(&app, &vendor) else {
        return not_found(&app, &format!("no vendor `{vendor}`"));
    };
    let Some(d) = v.entity(&tenant, &kind, &id) else {
        return not_found(&app, &format!("no {kind} `{id}` in {vendor}:{tenant}"));
    };
    let mut h = String::with_capacity(16 * 1024);
    let back = href(&format!("/__admin/ui/vendors/{vendor}"), &[("tenant", &tenant), ("kind", &kind)]);
    let _ = write!(h, "<p><a href=\"{}\">← {} {}s of {}</a></p>", e(&back), e(&vendor), e(&kind), e(&tenant));
    advance_form(&mut h);
    h.push_str("<div id=\"r-entity\" data-region>");
    let _ = write!(
        h,
        "<dl class=\"kv\"><dt>Status</dt><dd id=\"entity-status\">{}</dd><dt>Tenant</dt><dd>{}</dd><dt>Created</dt><dd>{}</dd>\
         <dt>About</dt><dd>{}</dd></dl>",
        badge(&d.row.status),
        e(&d.row.tenant),
        d.row.created_ms.map(time_at).unwrap_or_default(),
        e(&d.row.summary)
    );
    if !d.timeline.is_empty() {
        h.push_str("<h2>Timeline</h2><p class=\"muted\">From the recording's own times and the timing table; grey steps are still ahead.</p><ol class=\"timeline\">");
        for s in &d.timeline {
            let _ = write!(
                h,
                "<li class=\"{}\"><strong>{}</strong> · {}{}</li>",
                if s.reached { "reached" } else { "ahead" },
                e(&s.status),
                time_at(s.at_ms),
                if s.reached { "" } else { " (expected)" }
            );
        }
        h.push_str("</ol>");
    }
    if !d.files.is_empty() {
        h.push_str("<h2>Files</h2><div class=\"scroll\"><table><thead><tr><th>File</th><th>Size</th><th>MD5</th><th>Play</th></tr></thead><tbody>");
        for key in &d.files {
            let Some(f) = app.world.files.get(key) else {
                let _ = write!(h, "<tr><td colspan=\"4\" class=\"muted\">{} (deleted)</td></tr>", e(key));
                continue;
            };
            let url = crate::files::file_url_at("", &f);
            let md5 = app.world.files.md5(key).unwrap_or_else(|| "being computed…".into());
            let player = match f.format.as_str() {
                "mp4" => format!("<video controls preload=\"none\" src=\"{}\"></video>", e(&url)),
                "mp3" => format!("<audio controls preload=\"none\" src=\"{}\"></audio>", e(&url)),
                "jpg" | "jpeg" | "png" => {
                    format!("<img alt=\"{}\" src=\"{}\" loading=\"lazy\" width=\"160\">", e(&f.name), e(&url))
                }
                _ => String::new(),
            };
            let _ = write!(
                h,
                "<tr><td><a href=\"{}\" download>{}</a></td><td class=\"num\">{} bytes</td><td><code>{}</code></td><td>{player}</td></tr>",
                e(&url),
                e(&f.name),
                crate::clock::thousands(f.size as i64),
                e(&md5)
            );
        }
        h.push_str("</tbody></table></div>");
    }
    let _ = write!(h, "<h2>State</h2><pre>{}</pre></div>", e(&pretty(&d.state)));
    let title = format!("{kind} {id}");
    Page { title: &title, nav: Nav::Vendor(v.kind().as_str()), live: "tenant,clock,reset", body: h }
        .render(&app)
}

// ----- callbacks ---------------------------------------------------------------------------------------------

/// `GET /__admin/ui/callbacks`: newest first, filtered by vendor, tenant, state and event, paged by cursor.
pub async fn callbacks(app: web::Data<Emulator>, req: HttpRequest) -> HttpResponse {
    let (f, paging) = match crate::admin::callback_filter(super::given(&req)) {
        Ok(x) => x,
        Err(err) => return not_found(&app, &err.to_string()),
    };
    let cursor = paging.and_then(|p| p.0);
    let value = |name: &str| param(&req, name).unwrap_or_default();
    let (vendor, tenant, state, event) = (value("vendor"), value("tenant"), value("state"), value("event"));
    let mut h = String::with_capacity(16 * 1024);
    h.push_str("<form class=\"inline\" method=\"get\" aria-label=\"Filter\">");
    select(&mut h, "Vendor", "vendor", &vendor_options(&app), &vendor);
    let tenants: Vec<(String, String)> = app.tenant_list().into_iter().map(|t| (t.clone(), t)).collect();
    select(&mut h, "Tenant", "tenant", &tenants, &tenant);
    let states: Vec<(String, String)> =
        ["held", "pending", "delivered", "failed"].iter().map(|s| (s.to_string(), s.to_string())).collect();
    select(&mut h, "State", "state", &states, &state);
    text_input(&mut h, "Event", "event", &event, "e.g. 1000, class_begin");
    h.push_str("<button type=\"submit\">Filter</button></form><div id=\"r-list\" data-region>");
    let (list, next) = app.world.outbox.page(&f, cursor.as_deref(), PAGE_ROWS, true);
    if list.is_empty() {
        h.push_str("<p class=\"muted\">No callbacks match.</p>");
    } else {
        h.push_str(
            "<div class=\"scroll\"><table><thead><tr><th>Id</th><th>Event</th><th>State</th><th>Tenant</th>\
             <th class=\"num\">Attempts</th><th>Last answer</th><th class=\"hide-narrow\">Created</th></tr></thead><tbody>",
        );
        for c in &list {
            let last = c.attempts.last().map_or(String::new(), |a| {
                a.http_status.map_or_else(|| a.error.clone().unwrap_or_default(), |s| format!("HTTP {s}"))
            });
            let _ = write!(
                h,
                "<tr data-id=\"{id}\"><td><a href=\"/__admin/ui/callbacks/{id}\">{id}</a></td><td>{} {}</td><td class=\"state\">{}</td>\
                 <td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"hide-narrow\">{}</td></tr>",
                c.vendor,
                e(&c.event),
                badge(c.state.as_str()),
                e(&c.owner),
                c.attempts.len(),
                e(&last),
                time_at(c.created_ms),
                id = e(&c.id),
            );
        }
        h.push_str("</tbody></table></div>");
    }
    h.push_str("<nav class=\"pager\" aria-label=\"Pages\">");
    let keep = [("vendor", vendor.as_str()), ("tenant", &tenant), ("state", &state), ("event", &event)];
    if cursor.is_some() {
        let _ = write!(h, "<a href=\"{}\">← newest</a>", e(&href("/__admin/ui/callbacks", &keep)));
    }
    if let Some(n) = next {
        let mut more = keep.to_vec();
        more.push(("cursor", &n));
        let _ =
            write!(h, "<a href=\"{}\" rel=\"next\">older →</a>", e(&href("/__admin/ui/callbacks", &more)));
    }
    h.push_str("</nav></div>");
    Page { title: "Callbacks", nav: Nav::Callbacks, live: "callback,reset", body: h }.render(&app)
}

/// `GET /__admin/ui/callbacks/{id}`: one callback, every kept attempt, and a redeliver button.
pub async fn callback(app: web::Data<Emulator>, path: web::Path<String>) -> HttpResponse {
    let Some(c) = app.world.outbox.get(&path) else {
        return not_found(&app, &format!("no callback `{path}`"));
    };
    let mut h = String::with_capacity(16 * 1024);
    h.push_str("<p><a href=\"/__admin/ui/callbacks\">← callbacks</a></p><div id=\"r-callback\" data-region>");
    callback_detail(&c, &mut h);
    h.push_str("</div>");
    let title = format!("Callback {}", c.id);
    Page { title: &title, nav: Nav::Callbacks, live: "callback,reset", body: h }.render(&app)
}

fn callback_detail(c: &Callback, h: &mut String) {
    let opt = |v: &Option<String>| v.as_deref().map(|s| e(s).into_owned()).unwrap_or_else(|| "—".into());
    let _ = write!(
        h,
        "<dl class=\"kv\"><dt>State</dt><dd id=\"callback-state\">{}</dd><dt>Event</dt><dd>{} {}</dd><dt>Tenant</dt><dd>{}</dd>\
         <dt>Resources</dt><dd>{}</dd><dt>URL</dt><dd>{}</dd><dt>Signed URL</dt><dd>{}</dd><dt>Signature</dt><dd><code>{}</code></dd>\
         <dt>Created</dt><dd>{}</dd><dt>Retries</dt><dd>{} every {} s</dd><dt>Next attempt</dt><dd>{}</dd></dl>",
        badge(c.state.as_str()),
        c.vendor,
        e(&c.event),
        e(&c.owner),
        e(&c.resources.join(", ")),
        opt(&c.url),
        opt(&c.signed_url),
        opt(&c.signature),
        time_at(c.created_ms),
        c.policy.retries,
        c.policy.interval_s,
        c.next_attempt_ms.map(time_at).unwrap_or_else(|| "—".into()),
    );
    let can = c.state == CallbackState::Failed || c.state == CallbackState::Delivered;
    let _ = write!(
        h,
        "<p><button class=\"primary\" type=\"button\" data-do=\"redeliver\" data-id=\"{}\"{}>Redeliver</button> \
         <span class=\"muted\">sends it again now (a new cycle of attempts); with a frozen clock the attempt runs at once</span></p>",
        e(&c.id),
        if can { "" } else { " disabled" }
    );
    let body = c.body.as_ref().unwrap_or(&c.payload);
    let _ = write!(h, "<h2>Body</h2><pre>{}</pre>", e(&pretty(body)));
    let _ = write!(h, "<h2>Attempts ({})</h2>", c.attempts.len());
    if c.attempts.is_empty() {
        h.push_str("<p class=\"muted\">None yet.</p>");
        return;
    }
    h.push_str(
        "<div class=\"scroll\"><table id=\"attempts\"><thead><tr><th>#</th><th>Virtual time</th><th>Wall time</th><th>Outcome</th>\
         <th>HTTP</th><th class=\"num\">Latency</th><th>Receiver's answer</th></tr></thead><tbody>",
    );
    for a in &c.attempts {
        let outcome = serde_json::to_value(a.outcome).ok().and_then(|v| v.as_str().map(String::from));
        let answer = match (&a.response, &a.error) {
            (Some(r), _) => format!("<pre>{}</pre>", e(&pretty_text(r))),
            (None, Some(err)) => format!("<span class=\"bad\">{}</span>", e(err)),
            _ => String::new(),
        };
        let _ = write!(
            h,
            "<tr class=\"attempt\"><td>{}</td><td>{}</td><td>{}</td><td class=\"outcome\">{}</td><td>{}</td><td class=\"num\">{} ms</td><td>{answer}</td></tr>",
            a.n,
            time_at(a.virtual_ms),
            time_at(a.wall_ms),
            badge(outcome.as_deref().unwrap_or("?")),
            a.http_status.map(|s| s.to_string()).unwrap_or_else(|| "—".into()),
            a.duration_ms,
        );
    }
    h.push_str("</tbody></table></div>");
}

// ----- the request journal -----------------------------------------------------------------------------------

/// `GET /__admin/ui/requests`: the journal newest first, filtered, with a live tail.
pub async fn requests(app: web::Data<Emulator>, req: HttpRequest) -> HttpResponse {
    let mut f = match crate::admin::journal_filter(super::given(&req)) {
        Ok(f) => f,
        Err(err) => return not_found(&app, &err.to_string()),
    };
    f.limit = Some(PAGE_ROWS);
    let value = |name: &str| param(&req, name).unwrap_or_default();
    let (vendor, method, path, status) = (value("vendor"), value("method"), value("path"), value("status"));
    let cursor = value("cursor");
    let mut h = String::with_capacity(16 * 1024);
    h.push_str("<form class=\"inline\" method=\"get\" aria-label=\"Filter\">");
    select(&mut h, "Vendor", "vendor", &vendor_options(&app), &vendor);
    let methods: Vec<(String, String)> = ["GET", "POST", "PUT", "DELETE", "HEAD", "WS"]
        .iter()
        .map(|m| (m.to_string(), m.to_string()))
        .collect();
    select(&mut h, "Method", "method", &methods, &method);
    text_input(&mut h, "Path starts with", "path", &path, "/v1/record");
    text_input(&mut h, "Status", "status", &status, "200");
    h.push_str("<button type=\"submit\">Filter</button>");
    if cursor.is_empty() {
        h.push_str(
            "<label class=\"check\"><input type=\"checkbox\" id=\"live-tail\" checked> Live tail</label>",
        );
    }
    h.push_str("<button type=\"button\" class=\"danger\" data-do=\"journal-clear\">Empty the journal</button></form>");
    h.push_str("<div id=\"r-list\" data-region>");
    let list = app.door.journal.list(&f);
    let _ = write!(
        h,
        "<p class=\"muted\">{} of {} kept (the journal keeps the newest {}).</p>",
        list.len(),
        app.door.journal.len(),
        app.door.journal.capacity()
    );
    h.push_str(
        "<div class=\"scroll\"><table><thead><tr><th>Id</th><th>Time (virtual)</th><th>Method</th><th>Path</th>\
         <th>Status</th><th class=\"hide-narrow\">Vendor</th></tr></thead><tbody>",
    );
    for x in list.iter().rev() {
        let vendor = x.vendor.map(|v| v.as_str()).unwrap_or("—");
        let fault =
            x.fault.map(|f| format!(" <span class=\"badge warn\">fault {f}</span>")).unwrap_or_default();
        let _ = write!(
            h,
            "<tr><td><a href=\"/__admin/ui/requests/{id}\">{id}</a></td><td>{}</td><td>{}</td><td class=\"path\">{}</td>\
             <td>{}{fault}</td><td class=\"hide-narrow\">{vendor}</td></tr>",
            time_at(x.virtual_ms),
            e(&x.method),
            e(&x.path),
            x.status,
            id = x.id,
        );
    }
    h.push_str("</tbody></table></div><nav class=\"pager\" aria-label=\"Pages\">");
    let keep = [("vendor", vendor.as_str()), ("method", &method), ("path", &path), ("status", &status)];
    if !cursor.is_empty() {
        let _ = write!(h, "<a href=\"{}\">← newest</a>", e(&href("/__admin/ui/requests", &keep)));
    }
    if list.len() == PAGE_ROWS {
        let oldest = list.first().map(|x| x.id.to_string()).unwrap_or_default();
        let mut more = keep.to_vec();
        more.push(("cursor", &oldest));
        let _ = write!(h, "<a href=\"{}\" rel=\"next\">older →</a>", e(&href("/__admin/ui/requests", &more)));
    }
    h.push_str("</nav></div>");
    let live = if cursor.is_empty() { "request,reset" } else { "" };
    Page { title: "Request journal", nav: Nav::Requests, live, body: h }.render(&app)
}

/// `GET /__admin/ui/requests/{id}`: one exchange, bodies pretty-printed, as curl and as a scenario step.
pub async fn request(app: web::Data<Emulator>, path: web::Path<String>, req: HttpRequest) -> HttpResponse {
    let id: Option<u64> = path.parse().ok();
    let f = crate::journal::JournalFilter { before: id.map(|i| i + 1), limit: Some(1), ..Default::default() };
    let Some(x) = id.and_then(|id| app.door.journal.list(&f).into_iter().find(|x| x.id == id)) else {
        return not_found(&app, &format!("no journal entry `{path}` (the journal keeps only the newest)"));
    };
    let target = if x.query.is_empty() { x.path.clone() } else { format!("{}?{}", x.path, x.query) };
    let is_json = serde_json::from_str::<Value>(&x.body).is_ok();
    let mut curl = format!(
        "curl -X {} '{}{}'",
        x.method,
        crate::http::request_base(&req),
        target.replace('\'', "'\\''")
    );
    if !x.body.is_empty() {
        let kind = if is_json { "application/json" } else { "application/x-www-form-urlencoded" };
        let _ = write!(curl, " -H 'content-type: {kind}' --data-raw '{}'", x.body.replace('\'', "'\\''"));
    }
    let mut request = serde_json::json!({ "method": x.method, "path": x.path });
    if !x.query.is_empty() {
        let query: serde_json::Map<String, Value> =
            crate::codec::form_pairs(&x.query).into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        request["query"] = Value::Object(query);
    }
    if !x.body.is_empty() {
        match serde_json::from_str::<Value>(&x.body) {
            Ok(v) => request["body"] = v,
            Err(_) => request["raw"] = Value::String(x.body.clone()),
        }
    }
    if let Some(v) = x.vendor {
        request["vendor"] = Value::String(v.as_str().into());
    }
    let step = serde_json::json!({
        "name": format!("{} {}", x.method, x.path),
        "request": request,
        "expect": { "status": x.status },
    });
    let mut h = String::with_capacity(8192);
    h.push_str("<p><a href=\"/__admin/ui/requests\">← request journal</a></p>");
    let _ = write!(
        h,
        "<dl class=\"kv\"><dt>Method</dt><dd>{}</dd><dt>Path</dt><dd>{}</dd><dt>Query</dt><dd>{}</dd><dt>Status</dt><dd>{}</dd>\
         <dt>Vendor</dt><dd>{}</dd><dt>Fault rule</dt><dd>{}</dd><dt>Virtual time</dt><dd>{}</dd><dt>Wall time</dt><dd>{}</dd></dl>",
        e(&x.method),
        e(&x.path),
        e(&x.query),
        x.status,
        x.vendor.map(|v| v.as_str()).unwrap_or("—"),
        x.fault.map(|f| f.to_string()).unwrap_or_else(|| "—".into()),
        time_at(x.virtual_ms),
        time_at(x.wall_ms),
    );
    let _ = write!(
        h,
        "<h2>Request body</h2><pre>{}</pre><h2>Response</h2><pre>{}</pre>\
         <h2>Copy</h2><div class=\"row\"><button type=\"button\" data-copy=\"as-curl\">Copy as curl</button>\
         <button type=\"button\" data-copy=\"as-step\">Copy as scenario step</button></div>\
         <pre id=\"as-curl\">{}</pre><pre id=\"as-step\">{}</pre>",
        e(&pretty_text(&x.body)),
        e(&pretty_text(&x.response)),
        e(&curl),
        e(&pretty(&step)),
    );
    let title = format!("Request {}", x.id);
    Page { title: &title, nav: Nav::Requests, live: "", body: h }.render(&app)
}

// ----- fault rules ------------------------------------------------------------------------------------------

/// `GET /__admin/ui/faults`: the rules, a form to add one, a button to remove each.
pub async fn faults(app: web::Data<Emulator>) -> HttpResponse {
    let mut h = String::with_capacity(8192);
    let rules = app.faults.list();
    if rules.is_empty() {
        h.push_str("<p class=\"muted\">No fault rules: every request and callback behaves.</p>");
    } else {
        h.push_str(
            "<div class=\"scroll\"><table><thead><tr><th>Id</th><th>Matches</th><th>Does</th><th>Left</th><th class=\"num\">Hits</th><th></th></tr></thead><tbody>",
        );
        for r in &rules {
            let when = serde_json::to_value(&r.when).unwrap_or_default();
            let action = serde_json::to_value(&r.action).unwrap_or_default();
            let compact = |v: &Value| {
                let Value::Object(m) = v else { return String::new() };
                m.iter()
                    .filter(|(_, v)| !v.is_null() && *v != &Value::Bool(false))
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = write!(
                h,
                "<tr><td>{id}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td>\
                 <td><button type=\"button\" class=\"danger\" data-do=\"fault-remove\" data-id=\"{id}\" aria-label=\"Remove rule {id}\">Remove</button></td></tr>",
                e(&compact(&when)),
                e(&compact(&action)),
                r.times.map(|t| t.to_string()).unwrap_or_else(|| "always".into()),
                r.hits,
                id = r.id,
            );
        }
        h.push_str("</tbody></table></div><p><button type=\"button\" class=\"danger\" data-do=\"faults-clear\">Remove every rule</button></p>");
    }
    h.push_str(
        "<h2>Add a rule</h2><form data-do=\"fault-add\" aria-label=\"Add a fault rule\"><div class=\"row\">",
    );
    h.push_str("<label>Applies to<select name=\"target\"><option value=\"request\">requests</option><option value=\"callback\">callbacks</option></select></label>");
    select(&mut h, "Vendor", "vendor", &vendor_options(&app), "");
    text_input(&mut h, "Method", "method", "", "POST");
    text_input(&mut h, "Path (* at the end: prefix)", "path", "", "/v1/record/init");
    h.push_str("</div><div class=\"row\">");
    h.push_str("<label>Error code<input type=\"number\" name=\"error_code\"></label>");
    text_input(&mut h, "Error message", "error_msg", "", "");
    h.push_str(
        "<label>HTTP status<input type=\"number\" name=\"http_status\" min=\"100\" max=\"599\"></label>",
    );
    text_input(&mut h, "Body (with the status)", "body", "", "");
    h.push_str("<label>Latency (ms)<input type=\"number\" name=\"latency_ms\" min=\"0\"></label>");
    h.push_str("<label class=\"check\"><input type=\"checkbox\" name=\"drop\"> Drop the connection</label>");
    h.push_str("<label>Times (empty: always)<input type=\"number\" name=\"times\" min=\"1\"></label></div>");
    h.push_str("<label>Or the whole rule as JSON (as POST /__admin/faults takes it)<textarea name=\"raw\" rows=\"4\" placeholder='{\"match\": {\"vendor\": \"cloud_record\"}, \"action\": {\"http_status\": 503}, \"times\": 1}'></textarea></label>");
    h.push_str("<p><button class=\"primary\" type=\"submit\">Add the rule</button></p></form>");
    Page { title: "Fault rules", nav: Nav::Faults, live: "reset", body: h }.render(&app)
}

// ----- fixtures and state -----------------------------------------------------------------------------------

/// `GET /__admin/ui/state`: load a fixture (checked first, errors with their JSON paths), download a dump,
/// restore one.
pub async fn state(app: web::Data<Emulator>) -> HttpResponse {
    let mut h = String::with_capacity(4096);
    let names = app.start_fixture_names();
    let _ = write!(
        h,
        "<p class=\"muted\">Started from: {}.</p>",
        if names.is_empty() { "no fixture".to_string() } else { e(&names.join(", ")).into_owned() }
    );
    h.push_str(
        "<section class=\"card\"><h2>Load a fixture</h2><form data-do=\"fixture\" aria-label=\"Load a fixture\">\
         <label>Fixture JSON<textarea name=\"text\" id=\"fixture-text\" rows=\"12\" spellcheck=\"false\" \
         placeholder='{\"cloud_record\": {\"accounts\": [...]}}'></textarea></label>\
         <div class=\"row\"><label>…or a file<input type=\"file\" name=\"file\" accept=\".json,application/json\"></label>\
         <button type=\"submit\" name=\"do\" value=\"check\">Check</button>\
         <button class=\"primary\" type=\"submit\" name=\"do\" value=\"load\">Load</button></div></form>\
         <div id=\"fixture-result\" role=\"status\" aria-live=\"polite\"></div></section>",
    );
    h.push_str(
        "<section class=\"card\"><h2>State</h2><p><a href=\"/__admin/state\" download=\"recmock-state.json\">Download a state dump</a> \
         <span class=\"muted\">(the whole world: clock, tenants, jobs, files, callbacks, fault rules)</span></p>\
         <form data-do=\"restore\" aria-label=\"Restore a state dump\"><label>Restore a dump<input type=\"file\" name=\"file\" accept=\".json,application/json\"></label>\
         <label>…or paste it<textarea name=\"text\" rows=\"4\" spellcheck=\"false\"></textarea></label>\
         <p><button class=\"danger\" type=\"submit\">Restore</button></p></form><div id=\"restore-result\" role=\"status\" aria-live=\"polite\"></div></section>",
    );
    Page { title: "Fixtures and state", nav: Nav::State, live: "", body: h }.render(&app)
}

// ----- the event gateway ------------------------------------------------------------------------------------

/// `GET /__admin/ui/gateway`: the live WebSocket sessions (the HST event gateway's).
pub async fn gateway(app: web::Data<Emulator>) -> HttpResponse {
    let mut h = String::with_capacity(4096);
    h.push_str("<div id=\"r-sessions\" data-region>");
    let sessions: Vec<Value> = app.vendors().iter().flat_map(|v| v.live_sessions()).collect();
    if sessions.is_empty() {
        h.push_str("<p class=\"muted\">No open sessions. The HST event gateway is the WebSocket at <code>/</code>.</p>");
    } else {
        h.push_str(
            "<div class=\"scroll\"><table><thead><tr><th>Socket</th><th>Vendor</th><th>Login</th><th>Subscriptions</th>\
             <th class=\"num\">In</th><th class=\"num\">Out</th><th>Peer</th></tr></thead><tbody>",
        );
        for s in &sessions {
            let text = |k: &str| match &s[k] {
                Value::Null => String::from("—"),
                Value::String(t) => t.clone(),
                v => v.to_string(),
            };
            let subs: Vec<String> = s["subscriptions"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| {
                            format!(
                                "{}/{}",
                                x["app_id"].as_str().unwrap_or("?"),
                                x["group_id"].as_str().unwrap_or("?")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                e(&text("socket")),
                e(&text("vendor")),
                e(&text("login")),
                e(&subs.join(", ")),
                e(&text("frames_in")),
                e(&text("frames_out")),
                e(&text("peer")),
            );
        }
        h.push_str("</tbody></table></div>");
    }
    h.push_str("</div>");
    Page { title: "Event gateway sessions", nav: Nav::Gateway, live: "request,reset", body: h }.render(&app)
}
