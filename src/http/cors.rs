//! CORS for browser clients (the HST web console, a team's own front end): every answer of the paths it
//! covers — vendor endpoints, file downloads, errors included — carries `Access-Control-Allow-Origin`,
//! and preflights (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) are answered here, before
//! routing.
//!
//! Preflights never reach a vendor endpoint, so they are neither journaled nor matched by fault rules. Any
//! other `OPTIONS` is not a preflight and is routed like every method: a known path answers 405 with
//! `Allow`, as for any method it does not serve.
//!
//! A path prefix can be left alone ([`Cors::leaving`]): the control plane (`/__admin`) has its own policy
//! (none unless `--admin-cors`; see the control plane's guard, `admin::guard`), which the server's CORS
//! does not touch.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::{Error, HttpResponse};
use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// Methods a preflight is told are allowed.
pub const ALLOW_METHODS: &str = "GET, POST, PUT, DELETE, HEAD, OPTIONS";
/// Request headers a preflight always allows (the vendors' auth headers among them); the headers the
/// browser asks for are allowed too.
pub const ALLOW_HEADERS: &str = "auth, authorization, content-type, range, x-requested-with";
/// Response headers a browser script may read (ranges and checksums of downloads, `Allow` of a 405).
pub const EXPOSE_HEADERS: &str = "content-range, accept-ranges, content-length, etag, x-recmock-md5, allow";
/// How long a browser may cache a preflight, in seconds.
pub const MAX_AGE: &str = "86400";

/// Which origins get an `Access-Control-Allow-Origin`.
#[derive(Debug, Clone, PartialEq)]
pub enum AllowOrigin {
    /// `*`: any origin (no credentials; none of the vendors uses cookies)
    Any,
    /// only these origins, each echoed back when it asks (with `Vary: Origin`)
    List(Vec<String>),
}

impl AllowOrigin {
    /// Parse `--cors-origin`: `*`, or a comma-separated list of origins such as `https://console.example`.
    pub fn parse(text: &str) -> Result<AllowOrigin, String> {
        let text = text.trim();
        if text == "*" {
            return Ok(AllowOrigin::Any);
        }
        let list: Vec<String> = text
            .split(',')
            .map(|s| s.trim().trim_end_matches('/').to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if list.is_empty() {
            return Err(
                "give `*` or a comma-separated list of origins such as https://console.example".into()
            );
        }
        for o in &list {
            let ok = (o.starts_with("http://") || o.starts_with("https://") || o == "null")
                && HeaderValue::from_str(o).is_ok()
                && !o.contains(['*', ' ']);
            if !ok {
                return Err(format!("`{o}` is not an origin (scheme://host[:port], no path)"));
            }
        }
        Ok(AllowOrigin::List(list))
    }

    /// Whether requests from `origin` are allowed: a WebSocket handshake's `Origin` is checked with this
    /// (a browser opens sockets to any origin, so the server must refuse the ones it does not allow).
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            AllowOrigin::Any => true,
            AllowOrigin::List(list) => list.iter().any(|x| x == origin),
        }
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if it gets one.
    fn value_for(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        match self {
            AllowOrigin::Any => Some(HeaderValue::from_static("*")),
            AllowOrigin::List(list) => {
                let o = origin?;
                let text = o.to_str().ok()?;
                list.iter().any(|x| x == text).then(|| o.clone())
            }
        }
    }
}

/// The middleware; `wrap` the App with it.
#[derive(Debug, Clone)]
pub struct Cors {
    allow: Rc<AllowOrigin>,
    leave: Option<&'static str>,
}

impl Cors {
    /// CORS answering `allow`.
    pub fn new(allow: AllowOrigin) -> Cors {
        Cors { allow: Rc::new(allow), leave: None }
    }

    /// Leave requests under the path `prefix` (the prefix itself and `prefix/...`) alone: no preflight
    /// answered, no header added. They are told apart by the path the router matches (percent-decoded as
    /// routing decodes it), so an encoded spelling of the prefix is left alone too.
    pub fn leaving(self, prefix: &'static str) -> Cors {
        Cors { leave: Some(prefix), ..self }
    }
}

/// Is `path` the path `prefix` or below it?
pub fn is_under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

impl<S, B> Transform<S, ServiceRequest> for Cors
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = CorsService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(CorsService { service, allow: self.allow.clone(), leave: self.leave }))
    }
}

/// The middleware's service.
#[derive(Debug)]
pub struct CorsService<S> {
    service: S,
    allow: Rc<AllowOrigin>,
    leave: Option<&'static str>,
}

impl<S, B> Service<ServiceRequest> for CorsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = CorsFuture<S::Future>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if self.leave.is_some_and(|p| is_under(req.match_info().as_str(), p)) {
            return CorsFuture::Left { fut: self.service.call(req) };
        }
        let origin = req.headers().get(header::ORIGIN).cloned();
        let preflight_request = req.method() == Method::OPTIONS
            && origin.is_some()
            && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        if preflight_request {
            let resp = preflight(&self.allow, origin.as_ref(), req.headers());
            return CorsFuture::Done { response: Some(req.into_response(resp)) };
        }
        CorsFuture::Inner { fut: self.service.call(req), allow: self.allow.clone(), origin }
    }
}

pin_project_lite::pin_project! {
    /// The answer of [`CorsService`]: a preflight answered at once, or the inner answer with CORS headers.
    #[project = CorsProj]
    pub enum CorsFuture<F> {
        /// answered without routing
        Done { response: Option<ServiceResponse> },
        /// waiting for the inner service
        Inner { #[pin] fut: F, allow: Rc<AllowOrigin>, origin: Option<HeaderValue> },
        /// a path left alone: the inner answer as it is
        Left { #[pin] fut: F },
    }
}

impl<F, B> Future for CorsFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
    B: MessageBody,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            CorsProj::Done { response } => match response.take() {
                Some(r) => Poll::Ready(Ok(r.map_into_right_body())),
                None => Poll::Pending,
            },
            CorsProj::Inner { fut, allow, origin } => match fut.poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Ready(Ok(mut res)) => {
                    decorate(allow, origin.as_ref(), res.headers_mut());
                    Poll::Ready(Ok(res.map_into_left_body()))
                }
            },
            CorsProj::Left { fut } => match fut.poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(r) => Poll::Ready(r.map(ServiceResponse::map_into_left_body)),
            },
        }
    }
}

/// Add the CORS headers of an actual (non-preflight) answer.
fn decorate(allow: &AllowOrigin, origin: Option<&HeaderValue>, h: &mut HeaderMap) {
    if let Some(v) = allow.value_for(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    if let AllowOrigin::List(_) = allow {
        h.append(header::VARY, HeaderValue::from_static("Origin"));
        if h.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
            h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        }
    }
    if origin.is_some() {
        h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSE_HEADERS));
    }
}

/// `204 No Content` for a preflight: the allowed methods and headers (the asked-for headers echoed), how
/// long to cache that, and — for Chromium's private-network preflight from a public page of an allowed
/// origin — the permission.
fn preflight(allow: &AllowOrigin, origin: Option<&HeaderValue>, req: &HeaderMap) -> HttpResponse {
    let mut resp = HttpResponse::NoContent();
    resp.insert_header((header::ALLOW, ALLOW_METHODS))
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, MAX_AGE));
    let asked = req
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    let headers = match asked {
        Some(a) => format!("{ALLOW_HEADERS}, {a}"),
        None => ALLOW_HEADERS.to_string(),
    };
    if let Ok(v) = HeaderValue::from_str(&headers) {
        resp.insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, v));
    }
    let allowed = allow.value_for(origin);
    if allowed.is_some() && req.contains_key("access-control-request-private-network") {
        resp.insert_header((HeaderName::from_static("access-control-allow-private-network"), "true"));
    }
    resp.insert_header((
        header::VARY,
        "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    ));
    let mut resp = resp.finish();
    if let Some(v) = allowed {
        resp.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        if let AllowOrigin::List(_) = allow {
            resp.headers_mut()
                .insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse() {
        assert_eq!(AllowOrigin::parse(" * ").unwrap(), AllowOrigin::Any);
        assert_eq!(
            AllowOrigin::parse("https://a.example/, http://localhost:3000").unwrap(),
            AllowOrigin::List(vec!["https://a.example".into(), "http://localhost:3000".into()])
        );
        for bad in ["", " , ", "a.example", "https://*.example", "ftp://x"] {
            assert!(AllowOrigin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn listed_origins_are_echoed_others_get_nothing() {
        let list = AllowOrigin::List(vec!["https://a.example".into()]);
        let a = HeaderValue::from_static("https://a.example");
        let b = HeaderValue::from_static("https://b.example");
        assert_eq!(list.value_for(Some(&a)), Some(a.clone()));
        assert_eq!(list.value_for(Some(&b)), None);
        assert_eq!(list.value_for(None), None);
        assert_eq!(AllowOrigin::Any.value_for(None), Some(HeaderValue::from_static("*")));
    }

    #[test]
    fn paths_under_a_prefix() {
        for p in ["/__admin", "/__admin/", "/__admin/state", "/__admin/faults/1"] {
            assert!(is_under(p, "/__admin"), "{p}");
        }
        for p in ["/__adminx", "/__admi", "/", "/x/__admin", ""] {
            assert!(!is_under(p, "/__admin"), "{p}");
        }
    }
}
