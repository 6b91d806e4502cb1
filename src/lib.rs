//! recmock: a local emulator of five vendors' cloud-recording and live-classroom APIs.
//!
//! One server answers all five vendors on one port, keeps a faithful in-memory world behind them, runs
//! it on a virtual clock the user controls, and calls the user's callback URLs as the vendors would.
//!
//! Tests start it on an ephemeral port and talk HTTP to it:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use recmock::{Application, Config};
//! let app = Application::build(Config { port: 0, frozen_clock: true, ..Config::default() })?;
//! let url = app.url().to_string();
//! tokio::spawn(app.run_until_stopped());
//! let health = reqwest::get(format!("{url}/__admin/health")).await?.text().await?;
//! assert!(health.contains("ok"));
//! # Ok(()) }
//! ```

pub mod admin;
pub mod app;
pub mod clock;
pub mod codec;
pub mod config;
pub mod cors;
pub mod faults;
pub mod fixture;
pub mod http;
pub mod ids;
pub mod journal;
pub mod outbox;
pub mod scenario;
pub mod scheduler;
pub mod tls;
pub mod tlssig;
pub mod vendors;
pub mod wire;
pub mod world;

pub use app::{App, StartError};
pub use config::{Config, TlsCertificate, TlsConfig};
pub use fixture::{FixtureError, FixtureSource};
pub use world::VendorKind;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, HttpRequest, HttpResponse, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;

/// The crate version, as `/__admin/health` reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A built, listening server that has not started answering yet.
pub struct Application {
    port: u16,
    url: String,
    server: Server,
    app: Arc<App>,
    state_file: Option<std::path::PathBuf>,
    tls: Option<TlsInfo>,
}

/// The HTTPS listener of a running server.
#[derive(Debug, Clone)]
pub struct TlsInfo {
    /// the port it listens on
    pub port: u16,
    /// `https://host:port`
    pub url: String,
    /// the certificate it serves
    pub cert: std::path::PathBuf,
    /// the CA that signed it, when it is recmock's local CA (the file clients must trust)
    pub ca_cert: Option<std::path::PathBuf>,
    /// the names the certificate covers, when recmock made it
    pub names: Vec<String>,
    /// the local CA was created at this start
    pub ca_created: bool,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("url", &self.url).finish()
    }
}

impl Application {
    /// Open the listener (port 0 picks a free one), build the world, load fixtures and any state file.
    pub fn build(config: Config) -> Result<Application, StartError> {
        let addr = format!("{}:{}", config.bind, config.port);
        let listener =
            TcpListener::bind(&addr).map_err(|source| StartError::Listen { addr: addr.clone(), source })?;
        let local =
            listener.local_addr().map_err(|source| StartError::Listen { addr: addr.clone(), source })?;
        let host = match config.bind.as_str() {
            "0.0.0.0" | "::" | "[::]" => "127.0.0.1".to_string(),
            h if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
            h => h.to_string(),
        };
        let url = format!("http://{host}:{}", local.port());
        let public = config.public_url.clone().unwrap_or_else(|| url.clone());
        // TLS is prepared before the world, so a bad certificate stops the start before anything loads.
        let tls = match &config.tls {
            Some(t) => Some(prepare_tls(&config, t, &host)?),
            None => None,
        };
        let app = App::new(&config, public)?;
        if let Some(path) = &config.state_file {
            if path.exists() {
                let state_err =
                    |message: String| StartError::State { path: path.display().to_string(), message };
                let text = std::fs::read_to_string(path).map_err(|e| state_err(e.to_string()))?;
                let dump = serde_json::from_str(&text).map_err(|e| state_err(e.to_string()))?;
                app.restore(dump).map_err(state_err)?;
            }
        }
        let factory_app = app.clone();
        let cors = config.cors_origin.clone();
        let mut server = HttpServer::new(move || {
            let app = factory_app.clone();
            actix_web::App::new().wrap(cors::Cors::new(cors.clone())).configure(move |cfg| routes(app, cfg))
        })
        .shutdown_timeout(10);
        if let Some(n) = config.workers {
            server = server.workers(n.max(1));
        }
        if !config.handle_signals {
            server = server.disable_signals();
        }
        let mut server =
            server.listen(listener).map_err(|source| StartError::Listen { addr: addr.clone(), source })?;
        let mut tls_info = None;
        if let Some((listener, rustls_config, info)) = tls {
            server = server
                .listen_rustls_0_23(listener, rustls_config)
                .map_err(|source| StartError::Listen { addr: info.url.clone(), source })?;
            tls_info = Some(info);
        }
        let server = server.run();
        Ok(Application { port: local.port(), url, server, app, state_file: config.state_file, tls: tls_info })
    }

    /// The HTTPS listener, when there is one.
    pub fn tls(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://host:port`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The application behind the server.
    pub fn app(&self) -> Arc<App> {
        self.app.clone()
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Answer requests (and run due jobs in real time) until stopped; then write the state file if any.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let pump = tokio::spawn(self.app.clone().pump());
        let result = self.server.await;
        pump.abort();
        if let Some(path) = &self.state_file {
            let dump = self.app.dump();
            let text = serde_json::to_vec_pretty(&dump).map_err(std::io::Error::other)?;
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, text)?;
            std::fs::rename(&tmp, path)?;
            tracing::info!("world written to {}", path.display());
        }
        result
    }
}

/// Open the HTTPS listener and load (or make) its certificate.
fn prepare_tls(
    config: &Config,
    t: &TlsConfig,
    host: &str,
) -> Result<(TcpListener, rustls::ServerConfig, TlsInfo), StartError> {
    let tls_err = |e: tls::TlsError| StartError::Tls(e.to_string());
    let (cert, key, ca_cert, names, ca_created) = match &t.certificate {
        TlsCertificate::Files { cert, key } => (cert.clone(), key.clone(), None, Vec::new(), false),
        TlsCertificate::LocalCa { dir, extra_names } => {
            // The address users reach recmock by is covered too: the bind address and the public URL's host.
            let mut extra = extra_names.clone();
            let bare = |h: &str| h.trim_start_matches('[').trim_end_matches(']').to_string();
            extra.extend(config.public_url.as_deref().and_then(codec::url_host).map(|h| bare(&h)));
            extra.push(bare(host));
            let issued = tls::init(dir, &extra).map_err(tls_err)?;
            (issued.cert, issued.key, Some(issued.ca_cert), issued.names, issued.ca_created)
        }
    };
    let rustls_config = tls::server_config(&cert, &key).map_err(tls_err)?;
    let addr = format!("{}:{}", config.bind, t.port);
    let listener =
        TcpListener::bind(&addr).map_err(|source| StartError::Listen { addr: addr.clone(), source })?;
    let port =
        listener.local_addr().map_err(|source| StartError::Listen { addr: addr.clone(), source })?.port();
    let url = format!("https://{host}:{port}");
    Ok((listener, rustls_config, TlsInfo { port, url, cert, ca_cert, names, ca_created }))
}

/// Every route: the vendors, `/files`, `/__admin`, and a JSON 404 for anything else.
pub fn routes(app: Arc<App>, cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::from(app.clone()));
    // Vendor paths are static and checked in order: they go first, so a vendor call is not first tried
    // against the `/files/{key}/{name}` pattern (no path of one collides with the other).
    for v in app.vendors() {
        v.clone().routes(cfg);
    }
    admin::routes(cfg, &app.world.routes);
    cfg.service(
        noted_resource(&app.world.routes, "", "/files/{key}/{name}", "GET, HEAD")
            .route(web::get().to(download))
            .route(web::head().to(download)),
    );
    cfg.default_service(web::to(not_found));
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    let websocket = req
        .headers()
        .get("upgrade")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if websocket {
        // The HST console opens the event gateway that `/server/address?appType=8` names: say plainly why
        // the handshake fails.
        return HttpResponse::NotImplemented().json(serde_json::json!({
            "error": format!("WebSocket upgrade on {} refused: recmock does not emulate the vendors' WebSocket gateways (e.g. the HST event gateway)", req.path()),
            "hint": "stream and member changes are world events: POST /__admin/events (docs/fixtures.md)",
        }));
    }
    HttpResponse::NotFound().json(serde_json::json!({
        "error": format!("no such endpoint: {} {}", req.method(), req.path()),
        "hint": "see openapi/recmock.yaml for every endpoint recmock serves",
    }))
}

/// JSON 404 inside a scope (e.g. an unknown `/__admin/...` path).
pub async fn method_or_not_found(req: HttpRequest) -> HttpResponse {
    not_found(req).await
}

/// A resource at `path` (inside the scope `prefix`) whose methods other than `allowed` get a JSON 405,
/// noted in the route table under `prefix + path` for each method of `allowed` (`"GET, HEAD"`).
pub(crate) fn noted_resource(
    book: &http::RouteBook,
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

/// `GET /files/{key}/{name}`: the bytes of a recorded file, with `Range` support.
async fn download(app: web::Data<App>, req: HttpRequest, path: web::Path<(String, String)>) -> HttpResponse {
    let (key, name) = path.into_inner();
    let Some(f) = app.world.files.get(&key).filter(|f| f.name == name) else {
        return HttpResponse::NotFound().json(serde_json::json!({
            "error": format!("no file {key}/{name}: it was never recorded, or it was deleted")
        }));
    };
    let range = req.headers().get("range").and_then(|v| v.to_str().ok()).and_then(|r| parse_range(r, f.size));
    let (start, end, status) = match range {
        Some(Ok((s, e))) => (s, e, actix_web::http::StatusCode::PARTIAL_CONTENT),
        Some(Err(())) => {
            return HttpResponse::RangeNotSatisfiable()
                .insert_header(("content-range", format!("bytes */{}", f.size)))
                .finish()
        }
        None => (0, f.size, actix_web::http::StatusCode::OK),
    };
    let mut resp = HttpResponse::build(status);
    resp.content_type(f.content_type())
        .insert_header(("accept-ranges", "bytes"))
        .insert_header(("etag", format!("\"{}\"", f.md5)))
        .insert_header(("x-recmock-md5", f.md5.clone()));
    if status == actix_web::http::StatusCode::PARTIAL_CONTENT {
        resp.insert_header(("content-range", format!("bytes {start}-{}/{}", end - 1, f.size)));
    }
    let stream = futures_util::stream::iter(
        FileChunks { file: f, pos: start, end }.map(|c| Ok::<_, std::io::Error>(bytes::Bytes::from(c))),
    );
    resp.no_chunking(end - start).streaming(stream)
}

struct FileChunks {
    file: world::StoredFile,
    pos: u64,
    end: u64,
}

impl Iterator for FileChunks {
    type Item = Vec<u8>;
    fn next(&mut self) -> Option<Vec<u8>> {
        if self.pos >= self.end {
            return None;
        }
        let n = ((self.end - self.pos) as usize).min(64 * 1024);
        let mut buf = vec![0u8; n];
        self.file.fill(self.pos, &mut buf);
        self.pos += n as u64;
        Some(buf)
    }
}

/// Parse a single `bytes=a-b` range against `size`: `Ok((start, end_exclusive))`, or `Err` if unsatisfiable.
fn parse_range(header: &str, size: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None; // multiple ranges: answer the whole file
    }
    let (a, b) = spec.split_once('-')?;
    let r = match (a.trim(), b.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            if n == 0 {
                return Some(Err(()));
            }
            Ok((size.saturating_sub(n), size))
        }
        (start, "") => {
            let s: u64 = start.parse().ok()?;
            if s >= size {
                Err(())
            } else {
                Ok((s, size))
            }
        }
        (start, end) => {
            let s: u64 = start.parse().ok()?;
            let e: u64 = end.parse().ok()?;
            if s > e || s >= size {
                Err(())
            } else {
                Ok((s, (e + 1).min(size)))
            }
        }
    };
    Some(r)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ranges() {
        assert_eq!(super::parse_range("bytes=0-9", 100), Some(Ok((0, 10))));
        assert_eq!(super::parse_range("bytes=90-", 100), Some(Ok((90, 100))));
        assert_eq!(super::parse_range("bytes=-5", 100), Some(Ok((95, 100))));
        assert_eq!(super::parse_range("bytes=100-", 100), Some(Err(())));
        assert_eq!(super::parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(super::parse_range("items=1-2", 100), None);
    }
}
