//! The route table: every endpoint the server registers, noted as it is registered (for
//! `GET /__admin/routes` and the OpenAPI coverage test), with JSON answers for unknown paths and methods.

use super::exchange::{method_name, serve, Envelope, Exchange, Reply};
use super::metrics::RouteStats;
use super::FrontDoor;
use crate::VendorKind;
use actix_web::{web, HttpRequest, HttpResponse};
use std::sync::Arc;

/// Every `(path, method)` the server registered, with the vendor that owns it (`None`: the control plane
/// and file downloads) and its request counts. Filled by [`endpoint`] and the control plane as they
/// register routes, so `GET /__admin/routes` (and the OpenAPI coverage test built on it) lists what really
/// exists, and `GET /__admin/metrics` counts by route pattern.
#[derive(Debug)]
pub struct RouteBook {
    routes: parking_lot::Mutex<std::collections::BTreeMap<(String, String), Arc<RouteStats>>>,
    /// requests no route serves (their paths are not kept: any client can make up any number of them)
    unmatched: Arc<RouteStats>,
}

impl Default for RouteBook {
    fn default() -> Self {
        RouteBook { routes: Default::default(), unmatched: Arc::new(RouteStats::new(None, "", UNMATCHED)) }
    }
}

/// The route pattern requests no route serves are counted under.
pub const UNMATCHED: &str = "(unmatched)";

impl RouteBook {
    /// Note that `method path` is served (registering twice, once per worker, is harmless), and return its
    /// counts. A segment's pattern (`{role:[01]}`) is left out: the table names paths as OpenAPI does
    /// (`{role}`).
    pub fn note(&self, method: &str, path: &str, vendor: Option<VendorKind>) -> Arc<RouteStats> {
        let (path, method) = (openapi_template(path), method.to_ascii_uppercase());
        let mut routes = self.routes.lock();
        routes
            .entry((path, method))
            .or_insert_with_key(|(p, m)| Arc::new(RouteStats::new(vendor, m, p)))
            .clone()
    }

    /// Every route, sorted by path then method.
    pub fn list(&self) -> Vec<(String, String, Option<VendorKind>)> {
        self.routes.lock().iter().map(|((p, m), s)| (p.clone(), m.clone(), s.vendor)).collect()
    }

    /// Every route's counts, sorted by path then method, then those of requests no route serves.
    pub fn stats(&self) -> Vec<Arc<RouteStats>> {
        let mut all: Vec<Arc<RouteStats>> = self.routes.lock().values().cloned().collect();
        all.push(self.unmatched.clone());
        all
    }
}

/// An actix-web path template without the segment patterns: `/{id:\\d+}/x` → `/{id}/x`.
fn openapi_template(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_pattern = false;
    let mut depth = 0usize;
    for c in path.chars() {
        match c {
            '{' => {
                depth += 1;
                if !in_pattern {
                    out.push(c);
                }
            }
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    in_pattern = false;
                    out.push(c);
                }
            }
            ':' if depth == 1 => in_pattern = true,
            _ if !in_pattern => out.push(c),
            _ => {}
        }
    }
    out
}

/// Register one vendor endpoint: `method path` runs `handler` through [`serve`]; other methods get a JSON 405.
pub fn endpoint<V>(
    cfg: &mut web::ServiceConfig,
    vendor: &std::sync::Arc<V>,
    method: actix_web::http::Method,
    path: &str,
    handler: fn(&V, &Exchange) -> Reply,
) where
    V: Envelope + Send + Sync + 'static,
{
    let v = vendor.clone();
    let allowed = method_name(&method);
    let stats = vendor.door().routes.note(allowed, path, Some(vendor.kind()));
    cfg.service(
        web::resource(path)
            .route(web::method(method).to(move |req: HttpRequest, body: web::Payload| {
                let (v, stats) = (v.clone(), stats.clone());
                async move { serve(&*v, &stats, &req, body, |ex| handler(&v, ex)).await }
            }))
            .default_service(method_not_allowed(allowed)),
    );
}

/// The JSON 404 of anything no route serves (counted under [`UNMATCHED`]).
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let start = std::time::Instant::now();
    let resp = unmatched(&req);
    if let Some(door) = req.app_data::<web::Data<FrontDoor>>() {
        door.routes.unmatched.observe(resp.status().as_u16(), start.elapsed());
    }
    resp
}

fn unmatched(req: &HttpRequest) -> HttpResponse {
    let websocket = req
        .headers()
        .get("upgrade")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if websocket {
        // A handshake where no WebSocket endpoint is: say plainly why it fails.
        return HttpResponse::NotImplemented().json(serde_json::json!({
            "error": format!("WebSocket upgrade on {} refused: no WebSocket endpoint here", req.path()),
            "hint": "GET /__admin/routes lists every endpoint; the HST event gateway (what /server/address?appType=8 names) is at /",
        }));
    }
    HttpResponse::NotFound().json(serde_json::json!({
        "error": format!("no such endpoint: {} {}", req.method(), req.path()),
        "hint": "see openapi/recmock.yaml for every endpoint recmock serves",
    }))
}

/// JSON 404 inside a scope (e.g. an unknown `/__admin/...` path).
pub async fn method_or_not_found(req: HttpRequest) -> HttpResponse {
    unmatched(&req)
}

/// A resource at `path` (inside the scope `prefix`) whose methods other than `allowed` get a JSON 405,
/// noted in the route table under `prefix + path` for each method of `allowed` (`"GET, HEAD"`).
pub(crate) fn noted_resource(
    book: &RouteBook,
    prefix: &str,
    path: &str,
    allowed: &'static str,
) -> actix_web::Resource {
    for method in allowed.split(", ") {
        book.note(method, &format!("{prefix}{path}"), None);
    }
    web::resource(path).default_service(method_not_allowed(allowed))
}

/// The default service of a resource: JSON 405 with the `Allow` header (RFC 9110) naming `allowed`.
pub fn method_not_allowed(allowed: &'static str) -> actix_web::Route {
    web::to(move |req: HttpRequest| async move {
        HttpResponse::MethodNotAllowed().insert_header(("allow", allowed)).json(serde_json::json!({
            "error": format!("method {} is not allowed on {} (allowed: {allowed})", req.method(), req.path()),
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::openapi_template;

    #[test]
    fn segment_patterns_are_left_out_of_route_names() {
        assert_eq!(
            openapi_template("/{sdkappid:\\d+}/{class_id:\\d+}/{role:[01]}"),
            "/{sdkappid}/{class_id}/{role}"
        );
        assert_eq!(openapi_template("/x/{id:\\d{2,3}}/y"), "/x/{id}/y");
        assert_eq!(openapi_template("/files/{key}/{name}"), "/files/{key}/{name}");
    }
}
