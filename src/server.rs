//! The server: the listeners (plain and TLS) in front of one emulator, with every route mounted — the
//! vendors, recorded files, the control plane — and the state file, written every `--state-interval` and
//! when it stops.

use crate::admin::{self, guard, guard::AdminAccess};
use crate::app::{Emulator, StartError};
use crate::codec;
use crate::config::{Config, TlsCertificate, TlsConfig};
use crate::http::cors::Cors;
use crate::http::download::download;
use crate::http::routes::{not_found, noted_resource};
use crate::http::tls;
use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;

/// How long an idle keep-alive connection is kept open.
pub const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(75);

/// A built, listening server that has not started answering yet.
pub struct Application {
    port: u16,
    url: String,
    server: Server,
    emulator: Arc<Emulator>,
    state_file: Option<StateFile>,
    tls: Option<TlsInfo>,
    handle_signals: bool,
}

/// Stops a server, closing its open WebSockets first (1001, going away): a graceful stop would otherwise
/// wait its whole timeout (10 s) for them.
#[derive(Clone)]
pub struct Stopper {
    server: ServerHandle,
    emulator: Arc<Emulator>,
}

impl std::fmt::Debug for Stopper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stopper").finish()
    }
}

impl Stopper {
    /// Close the sockets, then stop the server (`graceful`: let requests in flight finish).
    pub async fn stop(&self, graceful: bool) {
        close_sockets(&self.emulator);
        self.server.stop(graceful).await;
    }
}

fn close_sockets(emulator: &Emulator) {
    let n = emulator.door.sockets.close_all(1001, "recmock is stopping");
    if n > 0 {
        tracing::info!("closed {n} WebSocket(s)");
    }
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
    /// the DNS names the certificate covers (for a local-CA certificate, its IP addresses too)
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
        let emulator = Emulator::new(&config, public)?;
        if let Some(path) = &config.state_file {
            if path.exists() {
                let state_err =
                    |message: String| StartError::State { path: path.display().to_string(), message };
                let text = std::fs::read_to_string(path).map_err(|e| state_err(e.to_string()))?;
                let dump = serde_json::from_str(&text).map_err(|e| state_err(e.to_string()))?;
                emulator.restore(dump).map_err(state_err)?;
            }
        }
        let cert_names = tls.as_ref().map(|(_, _, info)| info.names.clone()).unwrap_or_default();
        let access = Arc::new(AdminAccess::from_config(&config, &cert_names));
        if !guard::is_loopback_bind(&config.bind) && config.admin.token.is_none() {
            tracing::warn!(
                "listening on {} (beyond loopback) without --admin-token: anyone who can reach this port \
                 can drive /__admin (reset the world, read every key, add faults, redirect callbacks); \
                 set --admin-token (RECMOCK_ADMIN_TOKEN)",
                config.bind
            );
        }
        let factory = emulator.clone();
        let cors = config.cors_origin.clone();
        let mut server = HttpServer::new(move || {
            let (emulator, access) = (factory.clone(), access.clone());
            actix_web::App::new()
                .wrap(Cors::new(cors.clone()).leaving("/__admin"))
                // WebSocket handshakes check their `Origin` against it (src/http/ws.rs).
                .app_data(web::Data::new(cors.clone()))
                .configure(move |cfg| routes(emulator, cfg, &access))
        })
        .shutdown_timeout(10)
        // Longer than the idle time of most clients' connection pools' reuse (actix's default is 5 s): a
        // client that reuses a connection the server is closing at that very moment gets an incomplete answer,
        // and busy CI machines made that happen between two calls of one test (docs/decisions.md).
        .keep_alive(KEEP_ALIVE);
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
        Ok(Application {
            port: local.port(),
            url,
            server,
            emulator,
            state_file: config.state_file.map(|path| StateFile {
                path,
                interval_s: config.state_interval_s,
                writing: Arc::default(),
            }),
            tls: tls_info,
            handle_signals: config.handle_signals,
        })
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

    /// The emulator behind the server.
    pub fn emulator(&self) -> Arc<Emulator> {
        self.emulator.clone()
    }

    /// A handle to stop the server gracefully.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// A handle that closes the server's WebSockets before it stops it.
    pub fn stopper(&self) -> Stopper {
        Stopper { server: self.server.handle(), emulator: self.emulator.clone() }
    }

    /// Answer requests (and run due jobs in real time) until stopped; then write the state file if any
    /// (with a state file, also every `state_interval_s` meanwhile). When the server handles signals,
    /// SIGINT and SIGTERM also close its WebSockets (the listeners stop on them by themselves).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let pump = tokio::spawn(self.emulator.clone().pump());
        let closer =
            self.handle_signals.then(|| tokio::spawn(close_sockets_on_signal(self.emulator.clone())));
        let snapshots = self.state_file.clone().filter(|f| f.interval_s > 0).map(|f| {
            let emulator = self.emulator.clone();
            tokio::spawn(async move { f.keep_writing(emulator).await })
        });
        let result = self.server.await;
        pump.abort();
        if let Some(c) = closer {
            c.abort();
        }
        if let Some(s) = snapshots {
            s.abort();
        }
        if let Some(f) = &self.state_file {
            f.write(&self.emulator).await?;
            tracing::info!("world written to {}", f.path.display());
        }
        result
    }
}

/// The state file (`--state-file`) and how often the world is written into it.
#[derive(Debug, Clone)]
struct StateFile {
    path: std::path::PathBuf,
    /// seconds between snapshots (0: only on shutdown)
    interval_s: u64,
    /// one write at a time, so an older snapshot never lands after a newer one
    writing: Arc<parking_lot::Mutex<()>>,
}

impl StateFile {
    /// Write the world into the file: whole or not at all, readable by its owner only
    /// ([`crate::durable`]). The state is copied tenant by tenant (each tenant's lock held only while it
    /// is copied), then serialised and written on a blocking thread: requests go on meanwhile.
    async fn write(&self, emulator: &Arc<Emulator>) -> std::io::Result<std::time::Duration> {
        // Every file's MD5 is in a dump: wait for those still being computed, off the blocking thread.
        emulator.world.files.settle().await;
        let (emulator, path, writing) = (emulator.clone(), self.path.clone(), self.writing.clone());
        tokio::task::spawn_blocking(move || {
            let _one = writing.lock();
            let started = std::time::Instant::now();
            crate::durable::write_with(&path, crate::durable::PRIVATE, |w| emulator.write_dump(w))?;
            Ok(started.elapsed())
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Write the world every `interval_s` (counted from the end of the previous write), until aborted.
    async fn keep_writing(self, emulator: Arc<Emulator>) {
        let period = std::time::Duration::from_secs(self.interval_s);
        let mut failing = false;
        loop {
            tokio::time::sleep(period).await;
            match self.write(&emulator).await {
                Ok(took) => {
                    if failing {
                        tracing::info!("state file {} written again", self.path.display());
                    }
                    failing = false;
                    tracing::debug!("world written to {} in {} ms", self.path.display(), took.as_millis());
                }
                // Said once until a write succeeds again (a full disk would otherwise log every period).
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!("state file {}: {e} (the previous snapshot is kept)", self.path.display());
                }
                Err(_) => {}
            }
        }
    }
}

/// Close the emulator's WebSockets when SIGINT or SIGTERM arrives (the listeners stop on their own).
async fn close_sockets_on_signal(emulator: Arc<Emulator>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    else {
        return;
    };
    loop {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        close_sockets(&emulator);
    }
}

/// Raise this process's limit of open files to its hard limit, and return the limit now in force: each
/// socket of the event gateway holds a file, and the usual soft limit (1,024) is far below what the server
/// holds. `recmock serve` calls it at start; the tests and the bench too (their servers, and their clients).
pub fn raise_open_files_limit() -> u64 {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct they are given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            return 0;
        }
        if r.rlim_cur < r.rlim_max {
            let raised = libc::rlimit { rlim_cur: r.rlim_max, rlim_max: r.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                r = raised;
            }
        }
    }
    r.rlim_cur
}

/// Open the HTTPS listener and load (or make) its certificate.
fn prepare_tls(
    config: &Config,
    t: &TlsConfig,
    host: &str,
) -> Result<(TcpListener, rustls::ServerConfig, TlsInfo), StartError> {
    let tls_err = |e: tls::TlsError| StartError::Tls(e.to_string());
    let (cert, key, ca_cert, names, ca_created) = match &t.certificate {
        TlsCertificate::Files { cert, key } => {
            let names = tls::certificate_names(cert).map_err(tls_err)?;
            (cert.clone(), key.clone(), None, names, false)
        }
        TlsCertificate::LocalCa { dir, extra_names } => {
            // The address users reach recmock by is covered too: the bind address and the public URL's host.
            let mut extra = extra_names.clone();
            let bare = |h: &str| h.trim_start_matches('[').trim_end_matches(']').to_string();
            extra.extend(config.public_url.as_deref().and_then(codec::url_host).map(|h| bare(&h)));
            extra.push(bare(host));
            let issued = tls::init(dir, &crate::vendors::host_names(), &extra).map_err(tls_err)?;
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

/// Every route: the vendors, `/files`, `/__admin` (guarded by `access`), and a JSON 404 for anything else.
pub fn routes(emulator: Arc<Emulator>, cfg: &mut web::ServiceConfig, access: &Arc<AdminAccess>) {
    cfg.app_data(web::Data::from(emulator.clone()));
    cfg.app_data(web::Data::from(emulator.door.clone()));
    // Vendor paths are static and checked in order: they go first, so a vendor call is not first tried
    // against the `/files/{key}/{name}` pattern (no path of one collides with the other).
    for v in emulator.vendors() {
        v.clone().routes(cfg);
    }
    admin::routes(cfg, &emulator.door.routes, access);
    // Downloads are counted like vendor requests (the time to the answer's head, not to its last byte).
    let counted = |method: &str| {
        let stats = emulator.door.routes.note(method, "/files/{key}/{name}", None);
        move |door, req, path| {
            let stats = stats.clone();
            async move {
                let start = std::time::Instant::now();
                let resp = download(door, req, path).await;
                stats.observe(resp.status().as_u16(), start.elapsed());
                resp
            }
        }
    };
    cfg.service(
        noted_resource(&emulator.door.routes, "", "/files/{key}/{name}", "GET, HEAD")
            .route(web::get().to(counted("GET")))
            .route(web::head().to(counted("HEAD"))),
    );
    cfg.default_service(web::to(not_found));
}
