//! Server configuration (the CLI maps its flags onto this; tests build it directly).

use crate::clock::AuthClock;
use crate::cors::AllowOrigin;
use crate::fixture::FixtureSource;
use crate::limits::Limits;
use std::path::PathBuf;

/// Everything `recmock serve` can be told.
#[derive(Debug, Clone)]
pub struct Config {
    /// address to listen on
    pub bind: String,
    /// port to listen on (0: any free port)
    pub port: u16,
    /// fixture documents to load, in order
    pub fixtures: Vec<FixtureSource>,
    /// seed of every generated id (random when absent)
    pub seed: Option<u64>,
    /// base of handed-out URLs (default `http://<bind>:<port>`)
    pub public_url: Option<String>,
    /// start with the clock frozen (overrides the fixtures)
    pub frozen_clock: bool,
    /// virtual seconds per wall second (overrides the fixtures)
    pub time_scale: Option<f64>,
    /// which clock judges client-made times (`--auth-clock`); given, it wins over fixtures and state dumps
    pub auth_clock: Option<AuthClock>,
    /// the mode when neither `auth_clock` nor a fixture names one: `either` for the server, `virtual` for
    /// the servers `recmock scenario run` embeds
    pub default_auth_clock: AuthClock,
    /// restore from this file at start if it exists; write the world to it every `state_interval_s` and
    /// on clean shutdown
    pub state_file: Option<PathBuf>,
    /// every memory cap (`--journal-size`, `--journal-bytes`, `--callbacks-undelivered`, ...)
    pub limits: Limits,
    /// seconds between snapshots of the world into `state_file` (0: only on clean shutdown)
    pub state_interval_s: u64,
    /// largest request body accepted
    pub max_body_bytes: usize,
    /// HTTP worker threads (default: one per core)
    pub workers: Option<usize>,
    /// milliseconds one callback delivery may take before it counts as "no answer"
    pub callback_timeout_ms: u64,
    /// stop gracefully on SIGINT/SIGTERM (off in tests that run many servers in one process)
    pub handle_signals: bool,
    /// an HTTPS listener beside the plain one, serving the same world (none: plain HTTP only)
    pub tls: Option<TlsConfig>,
    /// recmock's local CA directory (`--tls-dir`), when it may be used: callback receivers over HTTPS
    /// whose certificate it signed are trusted (beside the system's roots)
    pub tls_dir: Option<PathBuf>,
    /// which origins get `Access-Control-Allow-Origin` on vendor paths and downloads (default `*`)
    pub cors_origin: AllowOrigin,
    /// who may drive the control plane (`/__admin`)
    pub admin: AdminConfig,
}

/// Who may drive the control plane (`/__admin`) beyond tools that send no `Origin` from a loopback name.
#[derive(Clone, Default, PartialEq)]
pub struct AdminConfig {
    /// web origins allowed to call `/__admin` from a browser (`--admin-cors`; none by default)
    pub cors: Vec<String>,
    /// the bearer token every `/__admin` call but `GET /__admin/health` (and `GET /__admin/metrics` with
    /// `metrics_public`) needs (`--admin-token`)
    pub token: Option<String>,
    /// more host names `/__admin` answers under when bound to loopback (`--tls-name`)
    pub names: Vec<String>,
    /// `GET /__admin/metrics` answers without the token (`--metrics-public`)
    pub metrics_public: bool,
}

impl std::fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminConfig")
            .field("cors", &self.cors)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("names", &self.names)
            .field("metrics_public", &self.metrics_public)
            .finish()
    }
}

/// The HTTPS listener.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// port to listen on, on the same address as the plain listener (0: any free port)
    pub port: u16,
    /// where its certificate comes from
    pub certificate: TlsCertificate,
}

/// Where the HTTPS listener's certificate comes from.
#[derive(Debug, Clone)]
pub enum TlsCertificate {
    /// the user's own PEM files (`--tls-cert`, `--tls-key`)
    Files {
        /// certificate chain, leaf first
        cert: PathBuf,
        /// private key
        key: PathBuf,
    },
    /// a certificate signed by recmock's local CA in `dir`, made on first use (`recmock tls init`)
    LocalCa {
        /// the CA directory
        dir: PathBuf,
        /// names the certificate covers beyond the vendor hosts and localhost
        extra_names: Vec<String>,
    },
}

impl Config {
    /// The local CA directory callback receivers are trusted with: `tls_dir`, else the HTTPS listener's.
    pub fn ca_dir(&self) -> Option<&std::path::Path> {
        self.tls_dir.as_deref().or(match &self.tls {
            Some(TlsConfig { certificate: TlsCertificate::LocalCa { dir, .. }, .. }) => Some(dir.as_path()),
            _ => None,
        })
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1".into(),
            port: 8080,
            fixtures: vec![FixtureSource::Demo],
            seed: None,
            public_url: None,
            frozen_clock: false,
            time_scale: None,
            auth_clock: None,
            default_auth_clock: AuthClock::Either,
            state_file: None,
            limits: Limits::default(),
            state_interval_s: 30,
            max_body_bytes: 1024 * 1024,
            workers: None,
            callback_timeout_ms: 5000,
            handle_signals: true,
            tls: None,
            tls_dir: None,
            cors_origin: AllowOrigin::Any,
            admin: AdminConfig::default(),
        }
    }
}
