//! Who may drive the control plane. `/__admin` can reset the world, read every key and point callbacks
//! anywhere, so it answers the tools a developer runs — curl, SDKs, the scenario runner, which send no
//! `Origin` — and refuses, before anything changes or is revealed:
//!
//! - **other web sites**: a request whose `Origin` is neither the request's own (`scheme://Host`) nor one
//!   of `--admin-cors`, or that the browser marks `Sec-Fetch-Site: cross-site` (unless its `Origin` is
//!   one of `--admin-cors`). Simple requests a browser sends without a preflight (`text/plain` or form
//!   POSTs) are refused here like any other;
//! - **DNS rebinding**, when recmock listens on loopback: a `Host` that is not a loopback name
//!   (`localhost`, `*.localhost`, `127.0.0.0/8`, `::1`), a vendor host name, a `--tls-name`, or the host of
//!   `--public-url` — the names recmock's own certificate covers (a request without `Host`, which no
//!   browser sends, is let through);
//! - **calls without the token**, when `--admin-token` is set: every call but `GET /__admin/health` (and
//!   `GET /__admin/metrics` with `--metrics-public`) needs
//!   `Authorization: Bearer <token>` (compared in constant time), or the dashboard's cookie
//!   ([`COOKIE`]: `HttpOnly`, `SameSite=Strict`, set by `POST /__admin/ui/login` for the right token; its
//!   value is derived from the token, never the token itself). A CORS preflight carries no credentials
//!   and needs none, and the dashboard's login page needs none either; a browser asking for a dashboard
//!   page without the token is sent to it.
//!
//! Refusals are JSON (`{"error": ...}`): 403 for the first two, 401 with `WWW-Authenticate` for the token.
//! Vendor paths and `/files` are not guarded: real clients reach them under any name and from any page.

use super::AdminError;
use crate::config::Config;
use crate::cors::AllowOrigin;
use crate::http::request_base;
use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use subtle::ConstantTimeEq;

/// The dashboard's cookie: proof that the browser was given the `--admin-token` once.
pub const COOKIE: &str = "recmock_admin";

/// The dashboard's login page, which answers without the token.
pub const LOGIN_PATH: &str = "/__admin/ui/login";

/// What the control plane lets through.
#[derive(Clone)]
pub struct AdminAccess {
    /// origins allowed to call from a browser (`--admin-cors`), normalised
    origins: Vec<String>,
    /// the host names (beyond loopback names) `/__admin` answers under; `None`: any (not bound to loopback)
    hosts: Option<Vec<String>>,
    /// SHA-256 of `--admin-token`
    token: Option<[u8; 32]>,
    /// `GET /__admin/metrics` needs no token (`--metrics-public`)
    metrics_public: bool,
}

impl std::fmt::Debug for AdminAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminAccess")
            .field("origins", &self.origins)
            .field("hosts", &self.hosts)
            .field("token", &self.token.map(|_| "<hidden>"))
            .field("metrics_public", &self.metrics_public)
            .finish()
    }
}

/// Parse `--admin-cors`: a comma-separated list of origins (`https://console.example`). `*` is refused:
/// it would let every web page drive the control plane.
pub fn parse_admin_cors(text: &str) -> Result<Vec<String>, String> {
    match AllowOrigin::parse(text)? {
        AllowOrigin::Any => {
            Err("name the origins (`*` would let any web page drive the control plane)".into())
        }
        AllowOrigin::List(list) => Ok(list),
    }
}

/// Is `bind` (`--bind`) a loopback address or name?
pub fn is_loopback_bind(bind: &str) -> bool {
    let b = bind.trim().trim_start_matches('[').trim_end_matches(']');
    b.eq_ignore_ascii_case("localhost") || b.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl AdminAccess {
    /// The control plane's rules for a server started with `config` whose TLS certificate covers
    /// `cert_names`: the origins of `--admin-cors`; when bound to loopback, recmock's own host names (the
    /// vendor hosts, the certificate's names, `--tls-name`s, `--public-url`'s host); `--admin-token`.
    pub fn from_config(config: &Config, cert_names: &[String]) -> AdminAccess {
        let hosts = is_loopback_bind(&config.bind).then(|| {
            let mut names: Vec<String> = crate::vendors::host_names().iter().map(|h| h.to_string()).collect();
            names.extend(cert_names.iter().cloned());
            names.extend(config.admin.names.iter().cloned());
            names.extend(config.public_url.as_deref().and_then(crate::codec::url_host));
            names.push(config.bind.clone());
            let mut names: Vec<String> =
                names.iter().map(|n| bare_host(n)).filter(|n| !n.is_empty()).collect();
            names.sort();
            names.dedup();
            names
        });
        AdminAccess::new(config.admin.cors.clone(), hosts, config.admin.token.as_deref())
            .with_public_metrics(config.admin.metrics_public)
    }

    /// Rules from their parts: allowed `origins`, allowed `hosts` beyond loopback names (`None`: any host),
    /// and the `token`.
    pub fn new(origins: Vec<String>, hosts: Option<Vec<String>>, token: Option<&str>) -> AdminAccess {
        AdminAccess {
            origins: origins.iter().map(|o| normal_origin(o)).collect(),
            hosts,
            token: token.map(|t| Sha256::digest(t.as_bytes()).into()),
            metrics_public: false,
        }
    }

    /// Let `GET /__admin/metrics` through without the token when `public` (`--metrics-public`): for a
    /// Prometheus that scrapes without credentials. Everything else still needs it.
    pub fn with_public_metrics(mut self, public: bool) -> AdminAccess {
        self.metrics_public = public;
        self
    }

    /// The origins allowed to call from a browser (`--admin-cors`).
    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// Whether calls need the token (`--admin-token` was given).
    pub fn needs_token(&self) -> bool {
        self.token.is_some()
    }

    /// Whether `given` is the token.
    pub fn is_token(&self, given: &str) -> bool {
        let got: [u8; 32] = Sha256::digest(given.trim().as_bytes()).into();
        self.token.is_some_and(|want| bool::from(got.ct_eq(&want)))
    }

    /// The value of the dashboard's cookie ([`COOKIE`]) under this token: an HMAC of a fixed text keyed
    /// with the token's hash, so the cookie proves the token without carrying it. None without a token.
    pub fn cookie_value(&self) -> Option<String> {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&self.token?).ok()?;
        mac.update(b"recmock dashboard cookie v1");
        Some(mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Whether `req` carries the dashboard's cookie with the right value.
    fn has_cookie(&self, req: &HttpRequest) -> bool {
        let Some(want) = self.cookie_value() else { return false };
        req.headers().get_all(header::COOKIE).filter_map(|v| v.to_str().ok()).any(|line| {
            line.split(';')
                .filter_map(|c| c.trim().split_once('='))
                .any(|(name, value)| name == COOKIE && bool::from(value.as_bytes().ct_eq(want.as_bytes())))
        })
    }

    /// Why `req` may not reach the control plane, if it may not.
    pub fn refusal(&self, req: &HttpRequest) -> Option<AdminError> {
        let h = req.headers();
        if let Some(hosts) = &self.hosts {
            if let Some(host) = h.get(header::HOST) {
                let name = host.to_str().map(bare_host).unwrap_or_default();
                if !host_allowed(&name, hosts) {
                    return Some(super::error(
                        403,
                        format!(
                            "/__admin refuses Host `{}`: recmock listens on loopback, and its control plane \
                             answers only loopback names (localhost, 127.0.0.1, ::1), the vendors' host names, \
                             --tls-name names and --public-url's host (another name can be DNS rebinding \
                             from a web page); vendor paths answer any Host",
                            shown(host)
                        ),
                    ));
                }
            }
        }
        let origin = h.get(header::ORIGIN);
        let listed =
            origin.is_some_and(|o| o.to_str().is_ok_and(|o| self.origins.contains(&normal_origin(o))));
        if !listed {
            if let Some(o) = origin {
                let own = normal_origin(&request_base(req));
                if !o.to_str().is_ok_and(|o| normal_origin(o) == own) {
                    return Some(super::error(
                        403,
                        format!(
                            "/__admin refuses requests from web pages of another origin (Origin `{}`, this \
                             server is `{own}`): a page must not drive the control plane; list trusted \
                             origins with --admin-cors",
                            shown(o)
                        ),
                    ));
                }
            }
            let cross_site = h
                .get("sec-fetch-site")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("cross-site"));
            if cross_site {
                return Some(super::error(
                    403,
                    "/__admin refuses cross-site requests (Sec-Fetch-Site: cross-site): a page of another \
                     site must not drive the control plane; list trusted origins with --admin-cors",
                ));
            }
        }
        if let Some(want) = &self.token {
            let preflight = req.method() == Method::OPTIONS
                && origin.is_some()
                && h.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
            let open = req.method() == Method::GET
                && match req.match_info().as_str() {
                    "/__admin/health" => true,
                    "/__admin/metrics" => self.metrics_public,
                    _ => false,
                };
            let login = req.path() == LOGIN_PATH;
            if !preflight && !open && !login && !self.has_cookie(req) {
                return token_refusal(want, h.get(header::AUTHORIZATION));
            }
        }
        None
    }
}

/// The refusal of a call whose `Authorization` does not carry the token, if it does not.
fn token_refusal(want: &[u8; 32], given: Option<&HeaderValue>) -> Option<AdminError> {
    let bearer = given.and_then(|v| v.to_str().ok()).and_then(|v| {
        let (scheme, token) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    let message = match bearer {
        None => {
            "the control plane needs `Authorization: Bearer <token>`: recmock was started with \
                 --admin-token (only GET /__admin/health answers without it)"
        }
        Some(t) => {
            let got: [u8; 32] = Sha256::digest(t.as_bytes()).into();
            if bool::from(got.ct_eq(want)) {
                return None;
            }
            "wrong admin token (the one given with --admin-token / RECMOCK_ADMIN_TOKEN is needed)"
        }
    };
    Some(super::error(401, message))
}

/// Run `next` unless `access` refuses the request; a refusal is answered here.
pub async fn guard(
    access: &AdminAccess,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    match access.refusal(req.request()) {
        Some(refusal) => {
            // A browser opening a dashboard page without the token is shown where to give it.
            let page = req.method() == Method::GET && req.path().starts_with("/__admin/ui");
            if refusal.status == 401 && page {
                let next = crate::codec::percent_encode(req.path());
                let resp = HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, format!("{LOGIN_PATH}?next={next}")))
                    .finish();
                return Ok(req.into_response(resp).map_into_right_body());
            }
            let mut resp: HttpResponse = refusal.error_response();
            if refusal.status == 401 {
                resp.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"recmock control plane\""),
                );
            }
            Ok(req.into_response(resp).map_into_right_body())
        }
        None => next.call(req).await.map(ServiceResponse::map_into_left_body),
    }
}

/// A header value as text for a message (at most 200 characters; bytes that are not text escaped).
fn shown(v: &HeaderValue) -> String {
    let text: String = String::from_utf8_lossy(v.as_bytes()).chars().take(200).collect();
    text.escape_debug().to_string()
}

/// A host name as compared: lower case, without port, brackets or a trailing dot.
fn bare_host(host: &str) -> String {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        match host.rsplit_once(':') {
            // one colon: `name:port`; more: an IPv6 address without brackets
            Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        }
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Is `name` (bare) a loopback name, or one of `allowed` (a `*.` entry covers one more label)?
fn host_allowed(name: &str, allowed: &[String]) -> bool {
    if name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(|i| i.is_loopback())
    {
        return true;
    }
    allowed.iter().any(|a| match a.strip_prefix("*.") {
        Some(domain) => name
            .strip_suffix(domain)
            .and_then(|label| label.strip_suffix('.'))
            .is_some_and(|label| !label.is_empty() && !label.contains('.')),
        None => a == name,
    })
}

/// An origin as compared: lower case, no trailing `/`, no default port.
fn normal_origin(origin: &str) -> String {
    let o = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    if let Some(rest) = o.strip_suffix(":80").filter(|_| o.starts_with("http://")) {
        return rest.to_string();
    }
    if let Some(rest) = o.strip_suffix(":443").filter(|_| o.starts_with("https://")) {
        return rest.to_string();
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_compared_bare() {
        assert_eq!(bare_host("LocalHost:8080"), "localhost");
        assert_eq!(bare_host("[::1]:8080"), "::1");
        assert_eq!(bare_host("::1"), "::1");
        assert_eq!(bare_host("vod.api.qcloud.com."), "vod.api.qcloud.com");
        assert_eq!(bare_host("127.0.0.1"), "127.0.0.1");
    }

    #[test]
    fn loopback_names_vendor_hosts_and_wildcards_are_allowed_others_not() {
        let allowed = vec!["vod.api.qcloud.com".to_string(), "*.hst.com".to_string()];
        for ok in
            ["localhost", "app.localhost", "127.0.0.1", "127.1.2.3", "::1", "vod.api.qcloud.com", "x.hst.com"]
        {
            assert!(host_allowed(ok, &allowed), "{ok}");
        }
        for bad in
            ["evil.example", "hst.com", "a.b.hst.com", "evilhst.com", "localhost.evil.example", "0.0.0.0", ""]
        {
            assert!(!host_allowed(bad, &allowed), "{bad}");
        }
    }

    #[test]
    fn origins_are_normalised() {
        assert_eq!(normal_origin("HTTP://127.0.0.1:80/"), "http://127.0.0.1");
        assert_eq!(normal_origin("https://a.example:443"), "https://a.example");
        assert_eq!(normal_origin("http://a.example:443"), "http://a.example:443");
    }

    #[test]
    fn loopback_binds() {
        for b in ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"] {
            assert!(is_loopback_bind(b), "{b}");
        }
        for b in ["0.0.0.0", "::", "192.168.1.10", "example.com"] {
            assert!(!is_loopback_bind(b), "{b}");
        }
    }

    fn request(headers: &[(&str, &str)]) -> HttpRequest {
        let mut r = actix_web::test::TestRequest::default().uri("/__admin/state");
        for (k, v) in headers {
            r = r.insert_header((*k, *v));
        }
        r.to_http_request()
    }

    #[test]
    fn beyond_loopback_any_host_is_answered_but_other_origins_are_not() {
        let config = Config { bind: "0.0.0.0".into(), ..Config::default() };
        let access = AdminAccess::from_config(&config, &[]);
        assert!(access.refusal(&request(&[("host", "evil.example:8080")])).is_none());
        let r =
            access.refusal(&request(&[("host", "evil.example:8080"), ("origin", "https://evil.example")]));
        assert_eq!(r.map(|e| e.status), Some(403));
        let own = request(&[("host", "box.lan:8080"), ("origin", "http://box.lan:8080")]);
        assert!(access.refusal(&own).is_none());
    }

    #[test]
    fn on_loopback_the_certificate_names_and_public_url_host_count() {
        let config = Config { public_url: Some("https://pub.example:9443/x".into()), ..Config::default() };
        let access = AdminAccess::from_config(&config, &["own.example".into()]);
        for host in
            ["own.example:8443", "pub.example", "vod.api.qcloud.com", "a.vod2.myqcloud.com", "127.0.0.1:1"]
        {
            assert!(access.refusal(&request(&[("host", host)])).is_none(), "{host}");
        }
        let r = access.refusal(&request(&[("host", "other.example")]));
        assert_eq!(r.map(|e| e.status), Some(403));
        assert!(access.refusal(&request(&[])).is_none(), "no Host: no browser");
    }

    #[test]
    fn the_token_is_a_bearer_token() {
        let access = AdminAccess::new(vec![], None, Some("tok"));
        for ok in ["Bearer tok", "bearer tok", "BEARER  tok "] {
            assert!(access.refusal(&request(&[("authorization", ok)])).is_none(), "{ok}");
        }
        for bad in ["tok", "Bearer", "Bearer tok2", "Basic tok", "Bearer TOK"] {
            let r = access.refusal(&request(&[("authorization", bad)]));
            assert_eq!(r.map(|e| e.status), Some(401), "{bad}");
        }
        assert_eq!(access.refusal(&request(&[])).map(|e| e.status), Some(401));
        let health = actix_web::test::TestRequest::get().uri("/__admin/health").to_http_request();
        assert!(access.refusal(&health).is_none());
    }

    #[test]
    fn the_dashboard_cookie_stands_for_the_token_and_the_login_page_needs_none() {
        let access = AdminAccess::new(vec![], None, Some("tok"));
        let value = access.cookie_value().unwrap();
        assert!(!value.contains("tok") && value.len() == 64);
        let with = |c: &str| request(&[("cookie", c)]);
        assert!(access.refusal(&with(&format!("a=b; {COOKIE}={value}"))).is_none());
        assert_eq!(access.refusal(&with(&format!("{COOKIE}=x{value}"))).map(|e| e.status), Some(401));
        let other = AdminAccess::new(vec![], None, Some("tok2"));
        assert_ne!(other.cookie_value(), Some(value));
        assert!(AdminAccess::new(vec![], None, None).cookie_value().is_none());
        let login = actix_web::test::TestRequest::post().uri(LOGIN_PATH).to_http_request();
        assert!(access.refusal(&login).is_none());
        assert!(access.is_token(" tok") && !access.is_token("tok2"));
    }

    #[test]
    fn metrics_need_the_token_unless_public() {
        let metrics = || actix_web::test::TestRequest::get().uri("/__admin/metrics").to_http_request();
        let closed = AdminAccess::new(vec![], None, Some("tok"));
        assert_eq!(closed.refusal(&metrics()).map(|e| e.status), Some(401));
        let open = AdminAccess::new(vec![], None, Some("tok")).with_public_metrics(true);
        assert!(open.refusal(&metrics()).is_none());
        assert_eq!(open.refusal(&request(&[])).map(|e| e.status), Some(401), "only the metrics are public");
        let post = actix_web::test::TestRequest::post().uri("/__admin/metrics").to_http_request();
        assert_eq!(open.refusal(&post).map(|e| e.status), Some(401));
    }

    #[test]
    fn admin_cors_names_origins() {
        assert_eq!(parse_admin_cors("https://a.example/").unwrap(), vec!["https://a.example".to_string()]);
        assert!(parse_admin_cors("*").unwrap_err().contains("any web page"));
        assert!(parse_admin_cors("a.example").is_err());
    }
}
