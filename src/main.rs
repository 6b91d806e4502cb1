//! The `recmock` command: serve the emulator, check fixtures, print signatures.

use clap::{Args, Parser, Subcommand};
use recmock::clock::{calendar, AuthClock};
use recmock::cors::AllowOrigin;
use recmock::{AdminConfig, Application, Config, FixtureSource, Limits, TlsCertificate, TlsConfig};
use std::path::PathBuf;
use std::process::ExitCode;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

/// mimalloc rather than glibc's malloc: a request makes and frees dozens of small buffers, and the journal
/// keeps the last 10,000 exchanges' buffers alive, which glibc's arenas handle at several times the cost
/// (docs/performance.md). `make bench`'s bare baseline uses the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// recmock: a local emulator of five vendors' cloud-recording and live-classroom APIs.
///
/// With no subcommand it serves the embedded demo world (or the fixtures given) on one port:
/// point every vendor base URL at it. The control plane lives under /__admin.
#[derive(Parser, Debug)]
#[command(name = "recmock", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the emulator (the default when no subcommand is given).
    Serve(Box<ServeArgs>),
    /// Validate fixture files; every error is printed with its JSON path. Exit status 1 if any is wrong.
    Check {
        /// fixture files to check
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print signatures and tokens the vendors' own tools would make.
    #[command(subcommand)]
    Sig(SigCommand),
    /// Run scripted scenarios (fixtures with `steps`).
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// recmock's local certificate authority, for HTTPS under the vendors' own host names.
    #[command(subcommand)]
    Tls(TlsCommand),
    /// Wait until a recmock server answers GET /__admin/health (no admin token needed), for scripts, CI
    /// steps and a container's HEALTHCHECK. Exit status 0 as soon as it answers, 1 when --timeout passes
    /// first (saying what the last try got), 2 for a URL that cannot be used.
    Wait(WaitArgs),
}

#[derive(Args, Debug)]
struct WaitArgs {
    /// The server: its base URL (`/__admin/health` is added) or the health URL itself. Default:
    /// http://127.0.0.1:<RECMOCK_PORT, else 8080>.
    #[arg(long, value_name = "URL", env = "RECMOCK_URL")]
    url: Option<String>,
    /// Seconds to keep trying (fractions allowed).
    #[arg(long, value_name = "SECONDS", env = "RECMOCK_WAIT_TIMEOUT", default_value_t = 30.0, value_parser = wait_seconds)]
    timeout: f64,
}

#[derive(Subcommand, Debug)]
enum ScenarioCommand {
    /// Run scenario files: each step is printed with ✓ or ✗ (and what differed). Exit status 1 if any step
    /// fails, 2 if a file cannot be read or is not a valid scenario.
    Run {
        /// scenario files
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// run against this running server (reset, then loaded with each scenario) instead of an embedded one
        #[arg(long, value_name = "URL")]
        against: Option<String>,
        /// the running server's --admin-token (sent as `Authorization: Bearer TOKEN` on its /__admin calls)
        #[arg(long, value_name = "TOKEN", env = "RECMOCK_ADMIN_TOKEN", hide_env_values = true, value_parser = non_empty)]
        admin_token: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum TlsCommand {
    /// Create (or reuse) the CA and a server certificate covering every vendor host the documents name,
    /// localhost, 127.0.0.1 and ::1; print how to trust the CA. Run again to add names: the CA is kept.
    Init {
        /// Directory of the CA and certificate (created if missing).
        #[arg(long, value_name = "DIR", env = "RECMOCK_TLS_DIR", default_value_os_t = recmock::tls::default_dir())]
        dir: PathBuf,
        /// Another host name (or IP address, or `*.domain`) the server certificate covers; repeatable.
        #[arg(long = "name", value_name = "HOST", value_delimiter = ',')]
        names: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
enum SigCommand {
    /// An HST developer token (seed 001), as the vendor's TokenGenerator makes it.
    HstToken {
        /// the account's app id
        #[arg(long)]
        app_id: String,
        /// the account's 16-character app secret
        #[arg(long)]
        secret: String,
        /// expiry as unix seconds (default: none)
        #[arg(long)]
        expire: Option<i64>,
        /// group id claim
        #[arg(long, default_value = "")]
        group: String,
        /// user id claim
        #[arg(long, default_value = "")]
        user: String,
    },
    /// A TLS-sig v2 user signature (seeds 000, 002, 004), as Tencent's tls-sig-api-v2 makes it.
    Usersig {
        /// the app
        #[arg(long)]
        sdkappid: u64,
        /// the app's key
        #[arg(long)]
        key: String,
        /// the user (for the 000 admin API: one of the app's admins)
        #[arg(long)]
        identifier: String,
        /// lifetime in seconds
        #[arg(long, default_value_t = 180 * 86_400)]
        expire: i64,
        /// signing time, unix seconds (default: now; give the server's virtual time when its clock is not real)
        #[arg(long)]
        time: Option<i64>,
    },
    /// A signed Tencent VOD API v2 request (seed 002's look-ups): prints the URL-encoded parameters with
    /// their `Signature`, to append to `/v2/index.php?` (GET) or to send as the form body (POST).
    Vod {
        /// the account's VOD SecretId
        #[arg(long)]
        secret_id: String,
        /// the account's VOD SecretKey
        #[arg(long)]
        secret_key: String,
        /// `DescribeRecordPlayInfo` or `DescribeVodPlayInfo`
        #[arg(long)]
        action: String,
        /// action parameters as NAME=VALUE (repeatable): `vid=...`, `fileName=...`, `pageNo=1`, `pageSize=10`
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// the host (and port) the request is sent to, exactly as its Host header will say
        #[arg(long, default_value = "127.0.0.1:8080")]
        host: String,
        /// GET (parameters in the query) or POST (parameters as a form body)
        #[arg(long, default_value = "GET")]
        method: String,
        /// HmacSHA1 or HmacSHA256
        #[arg(long, default_value = "HmacSHA1")]
        signature_method: String,
        /// Timestamp, unix seconds (default: now; give the server's virtual time when its clock is not real)
        #[arg(long)]
        timestamp: Option<i64>,
        /// Nonce (default: random)
        #[arg(long)]
        nonce: Option<u64>,
        /// Region
        #[arg(long, default_value = "gz")]
        region: String,
    },
    /// An MD5 request or callback sign (seeds 000 and 004): md5(key + expire_time).
    Md5 {
        /// the app key (000) or tic_key (004)
        #[arg(long)]
        key: String,
        /// expire_time, unix seconds (default: now + 300)
        #[arg(long)]
        expire: Option<i64>,
    },
}

#[derive(Args, Debug, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "RECMOCK_BIND", default_value = "127.0.0.1")]
    bind: String,
    /// Port to listen on (0 picks a free port).
    #[arg(long, env = "RECMOCK_PORT", default_value_t = 8080)]
    port: u16,
    /// Fixture file to load (repeatable; they merge in order). Default: the embedded fixtures/demo.json.
    #[arg(long = "fixture", value_name = "FILE", env = "RECMOCK_FIXTURE", value_delimiter = ',')]
    fixtures: Vec<PathBuf>,
    /// Also load every DIR/*.json, in name order, after the --fixture files. The demo world is loaded only
    /// when neither gives a file (a missing or empty DIR gives none). The container image sets /fixtures.
    #[arg(long, value_name = "DIR", env = "RECMOCK_FIXTURE_DIR")]
    fixture_dir: Option<PathBuf>,
    /// Seed of every generated id, token and file, for reproducible runs (default: random).
    #[arg(long, env = "RECMOCK_SEED")]
    seed: Option<u64>,
    /// Base of the URLs recmock hands out (downloads, gateway address). Default: http://<bind>:<port>.
    #[arg(long, value_name = "URL", env = "RECMOCK_PUBLIC_URL")]
    public_url: Option<String>,
    /// Start with the virtual clock frozen (advance it with POST /__admin/clock/advance).
    #[arg(long, env = "RECMOCK_FROZEN_CLOCK")]
    frozen_clock: bool,
    /// Virtual seconds per wall second (e.g. 60: an hour-long class takes a minute).
    #[arg(long, value_name = "X", env = "RECMOCK_TIME_SCALE")]
    time_scale: Option<f64>,
    /// Which clock judges the times clients make (VOD Timestamps, 004 expire_time, usersigs, HST developer
    /// tokens): `either` (valid at virtual or at wall time), `virtual` (virtual time only: byte-deterministic
    /// answers) or `wall`. Wins over a fixture's `auth_clock`. Default: either.
    #[arg(long, value_name = "MODE", env = "RECMOCK_AUTH_CLOCK", value_parser = parse_auth_clock)]
    auth_clock: Option<AuthClock>,
    /// Restore the world from FILE at start if it exists; write it there every --state-interval seconds
    /// and on clean shutdown (SIGINT/SIGTERM). Written whole or not at all, readable by its owner only.
    #[arg(long, value_name = "FILE", env = "RECMOCK_STATE_FILE")]
    state_file: Option<PathBuf>,
    /// Seconds between snapshots of the world into --state-file (taken without stalling requests), so a
    /// crash or SIGKILL loses at most that much; 0 writes it only on clean shutdown.
    #[arg(long, value_name = "SECONDS", env = "RECMOCK_STATE_INTERVAL", default_value_t = 30)]
    state_interval: u64,
    /// Log level: error, warn, info, debug, trace (or a tracing filter such as `recmock=debug`).
    #[arg(long, env = "RECMOCK_LOG_LEVEL", default_value = "info")]
    log_level: String,
    /// Most requests kept in the journal (GET /__admin/requests); older ones are dropped.
    #[arg(long, env = "RECMOCK_JOURNAL_SIZE", default_value_t = Limits::default().journal_entries)]
    journal_size: usize,
    /// Most bytes the journal's entries take (a plain number, or with KiB, MiB, GiB); older ones are dropped.
    #[arg(long, value_name = "BYTES", env = "RECMOCK_JOURNAL_BYTES", default_value = "64MiB", value_parser = parse_bytes)]
    journal_bytes: usize,
    /// Delivered callbacks kept in the log (GET /__admin/callbacks); older ones are forgotten.
    #[arg(long, value_name = "N", env = "RECMOCK_CALLBACKS_DELIVERED", default_value_t = Limits::default().delivered_callbacks, value_parser = at_least_one)]
    callbacks_delivered: usize,
    /// Callbacks kept that are not delivered (held without a URL, pending, failed); beyond it the oldest are
    /// evicted, and counted in GET /__admin/callbacks and the state dump.
    #[arg(long, value_name = "N", env = "RECMOCK_CALLBACKS_UNDELIVERED", default_value_t = Limits::default().undelivered_callbacks, value_parser = at_least_one)]
    callbacks_undelivered: usize,
    /// Delivery attempts kept per callback: the latest N, and a count of the older ones.
    #[arg(long, value_name = "N", env = "RECMOCK_CALLBACK_ATTEMPTS", default_value_t = Limits::default().callback_attempts, value_parser = at_least_one)]
    callback_attempts: usize,
    /// Most fault rules at once; POST /__admin/faults beyond it is refused (409).
    #[arg(long, value_name = "N", env = "RECMOCK_MAX_FAULT_RULES", default_value_t = Limits::default().fault_rules)]
    max_fault_rules: usize,
    /// Whiteboard groups one 000 app keeps from report_group; beyond it the longest-reported are forgotten.
    #[arg(long, value_name = "N", env = "RECMOCK_MAX_GROUPS", default_value_t = Limits::default().groups, value_parser = at_least_one)]
    max_groups: usize,
    /// Most event-gateway WebSockets at once; another handshake gets HTTP 503.
    #[arg(long, value_name = "N", env = "RECMOCK_MAX_GATEWAY_SOCKETS", default_value_t = Limits::default().gateway_sockets)]
    max_gateway_sockets: usize,
    /// Files waiting for their MD5 to be computed in the background; a file beyond it is hashed when its MD5
    /// is first asked for.
    #[arg(long, value_name = "N", env = "RECMOCK_MD5_BACKLOG", default_value_t = Limits::default().md5_backlog)]
    md5_backlog: usize,
    /// Dashboard event streams (open dashboard tabs) at once; another gets HTTP 503 until one closes.
    #[arg(long, value_name = "N", env = "RECMOCK_MAX_UI_STREAMS", default_value_t = Limits::default().ui_streams)]
    max_ui_streams: usize,
    /// Largest request body accepted, in bytes; larger ones get the vendor's error.
    #[arg(long, env = "RECMOCK_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,
    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "RECMOCK_WORKERS")]
    workers: Option<usize>,
    /// Milliseconds one callback delivery may take before it counts as "no answer" (and is retried).
    #[arg(long, env = "RECMOCK_CALLBACK_TIMEOUT_MS", default_value_t = 5000)]
    callback_timeout_ms: u64,
    /// Also serve HTTPS on this port (0 picks a free port): the same world as the plain port, for vendor
    /// SDKs that only speak HTTPS. The certificate is --tls-cert/--tls-key, or else one signed by
    /// recmock's local CA in --tls-dir (made on first use; see `recmock tls init`).
    #[arg(long, value_name = "PORT", env = "RECMOCK_TLS_PORT")]
    tls_port: Option<u16>,
    /// PEM certificate (chain, leaf first) for the HTTPS listener instead of the local CA's; needs --tls-key.
    #[arg(long, value_name = "FILE", env = "RECMOCK_TLS_CERT", requires_all = ["tls_key", "tls_port"])]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", env = "RECMOCK_TLS_KEY", requires_all = ["tls_cert", "tls_port"])]
    tls_key: Option<PathBuf>,
    /// Directory of recmock's local CA, used when --tls-port is given without --tls-cert (created on first use);
    /// callback receivers over HTTPS whose certificate it signed are trusted too.
    #[arg(long, value_name = "DIR", env = "RECMOCK_TLS_DIR", default_value_os_t = recmock::tls::default_dir())]
    tls_dir: PathBuf,
    /// Another host name the local CA's certificate covers, beyond the vendor hosts and localhost (repeatable);
    /// /__admin answers under it too.
    #[arg(long = "tls-name", value_name = "HOST", env = "RECMOCK_TLS_NAMES", value_delimiter = ',')]
    tls_names: Vec<String>,
    /// Access-Control-Allow-Origin on the vendor paths and downloads: `*`, or a comma-separated list of
    /// origins (each echoed back when it asks, with credentials allowed). CORS preflights are answered there.
    #[arg(long, value_name = "ORIGINS", env = "RECMOCK_CORS_ORIGIN", default_value = "*", value_parser = AllowOrigin::parse)]
    cors_origin: AllowOrigin,
    /// Web origins (comma-separated, e.g. https://console.example) whose pages may call /__admin from a
    /// browser, with CORS. Default none: /__admin refuses requests from other web pages.
    #[arg(long, value_name = "ORIGINS", env = "RECMOCK_ADMIN_CORS", value_parser = admin_origins)]
    admin_cors: Option<AdminOrigins>,
    /// Every /__admin call but GET /__admin/health then needs `Authorization: Bearer TOKEN`. Set it when
    /// --bind reaches beyond loopback.
    #[arg(long, value_name = "TOKEN", env = "RECMOCK_ADMIN_TOKEN", hide_env_values = true, value_parser = non_empty)]
    admin_token: Option<String>,
    /// GET /__admin/metrics (Prometheus) answers without --admin-token, for a scraper without credentials;
    /// every other /__admin call still needs the token.
    #[arg(long, env = "RECMOCK_METRICS_PUBLIC")]
    metrics_public: bool,
}

/// The origins of `--admin-cors` (one value: clap would read a bare `Vec` as a repeated flag).
#[derive(Debug, Clone)]
struct AdminOrigins(Vec<String>);

fn admin_origins(text: &str) -> Result<AdminOrigins, String> {
    recmock::admin::guard::parse_admin_cors(text).map(AdminOrigins)
}

/// A value that is not empty or blank.
fn non_empty(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(text.trim().to_string())
    }
}

/// A count that is at least 1.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("must be a whole number of at least 1, got `{text}`")),
    }
}

/// A number of bytes: `1048576`, `512KiB`, `64MiB`, `1GiB` (K, M, G alone mean the same).
fn parse_bytes(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let n: usize =
        number.parse().map_err(|_| format!("expected a number of bytes such as 64MiB, got `{text}`"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" | "kb" => 10,
        "m" | "mib" | "mb" => 20,
        "g" | "gib" | "gb" => 30,
        _ => return Err(format!("unknown unit in `{text}` (use KiB, MiB or GiB)")),
    };
    n.checked_mul(1usize << shift).ok_or_else(|| format!("`{text}` is too large"))
}

fn parse_auth_clock(s: &str) -> Result<AuthClock, String> {
    s.parse()
}

/// `--timeout` of `recmock wait`: a number of seconds, 0 or more.
fn wait_seconds(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && (0.0..=86_400.0).contains(&s) => Ok(s),
        _ => Err(format!("must be a number of seconds from 0 to 86400, got `{text}`")),
    }
}

/// The fixtures to start from: the --fixture files, then those of --fixture-dir; the demo world when
/// neither gives one.
fn start_fixtures(a: &ServeArgs) -> Result<Vec<FixtureSource>, String> {
    let mut files = a.fixtures.clone();
    if let Some(dir) = &a.fixture_dir {
        files.extend(recmock::fixture::dir_fixtures(dir)?);
    }
    Ok(if files.is_empty() {
        vec![FixtureSource::Demo]
    } else {
        files.into_iter().map(FixtureSource::File).collect()
    })
}

fn config_of(a: &ServeArgs, fixtures: Vec<FixtureSource>) -> Config {
    Config {
        bind: a.bind.clone(),
        port: a.port,
        fixtures,
        seed: a.seed,
        public_url: a.public_url.clone(),
        frozen_clock: a.frozen_clock,
        time_scale: a.time_scale,
        auth_clock: a.auth_clock,
        default_auth_clock: AuthClock::Either,
        state_file: a.state_file.clone(),
        limits: Limits {
            journal_entries: a.journal_size,
            journal_bytes: a.journal_bytes,
            delivered_callbacks: a.callbacks_delivered,
            undelivered_callbacks: a.callbacks_undelivered,
            callback_attempts: a.callback_attempts,
            fault_rules: a.max_fault_rules,
            groups: a.max_groups,
            gateway_sockets: a.max_gateway_sockets,
            md5_backlog: a.md5_backlog,
            ui_streams: a.max_ui_streams,
        },
        state_interval_s: a.state_interval,
        max_body_bytes: a.max_body_bytes,
        workers: a.workers,
        callback_timeout_ms: a.callback_timeout_ms,
        handle_signals: true,
        tls: a.tls_port.map(|port| TlsConfig {
            port,
            certificate: match (&a.tls_cert, &a.tls_key) {
                (Some(cert), Some(key)) => TlsCertificate::Files { cert: cert.clone(), key: key.clone() },
                _ => TlsCertificate::LocalCa { dir: a.tls_dir.clone(), extra_names: a.tls_names.clone() },
            },
        }),
        tls_dir: Some(a.tls_dir.clone()),
        cors_origin: a.cors_origin.clone(),
        admin: AdminConfig {
            cors: a.admin_cors.clone().map(|o| o.0).unwrap_or_default(),
            token: a.admin_token.clone(),
            names: a.tls_names.clone(),
            metrics_public: a.metrics_public,
        },
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => serve(cli.serve),
        Some(Command::Serve(a)) => serve(*a),
        Some(Command::Check { files }) => check(&files),
        Some(Command::Sig(s)) => sig(s),
        Some(Command::Scenario(ScenarioCommand::Run { files, against, admin_token })) => {
            scenario_run(&files, against, admin_token)
        }
        Some(Command::Tls(TlsCommand::Init { dir, names })) => tls_init(&dir, &names),
        Some(Command::Wait(w)) => wait(&w),
    }
}

/// The health URL of `base`: a server's base URL (`http://` added when no scheme is given), or the health
/// URL itself.
fn health_url(base: &str) -> String {
    let base = base.trim().trim_end_matches('/');
    let base = if base.contains("://") { base.to_string() } else { format!("http://{base}") };
    if base.ends_with("/__admin/health") {
        base
    } else {
        format!("{base}/__admin/health")
    }
}

/// A server that answered: what it said, and how long that took.
struct Ready {
    answer: String,
    after: std::time::Duration,
}

/// Ask `url` until it answers 200 or `timeout` passes (each try gets what is left, at most 2 s; tries are
/// 50 ms apart); the error is what the last try got.
async fn wait_for_health(url: &str, timeout: std::time::Duration) -> Result<Ready, String> {
    use std::time::{Duration, Instant};
    let start = Instant::now();
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
    loop {
        // At least one try, however short the timeout.
        let left = timeout.saturating_sub(start.elapsed());
        let attempt = client.get(url).timeout(left.clamp(Duration::from_millis(10), Duration::from_secs(2)));
        let last = match attempt.send().await {
            Ok(r) if r.status() == reqwest::StatusCode::OK => {
                let body: serde_json::Value = r.json().await.unwrap_or_default();
                let answer = match (body["status"].as_str(), body["version"].as_str()) {
                    (Some(s), Some(v)) => format!("{s}, recmock {v}"),
                    _ => "HTTP 200".to_string(),
                };
                return Ok(Ready { answer, after: start.elapsed() });
            }
            Ok(r) => format!("HTTP {}", r.status()),
            Err(e) => reqwest_error(&e),
        };
        let left = timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(last);
        }
        tokio::time::sleep(left.min(Duration::from_millis(50))).await;
    }
}

/// A reqwest error with its causes (`error sending request` alone says nothing).
fn reqwest_error(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// `recmock wait`: poll GET /__admin/health until it answers 200 or the timeout passes.
fn wait(args: &WaitArgs) -> ExitCode {
    let base = args.url.clone().unwrap_or_else(|| {
        let port =
            std::env::var("RECMOCK_PORT").ok().and_then(|p| p.trim().parse::<u16>().ok()).unwrap_or(8080);
        format!("http://127.0.0.1:{port}")
    });
    let url = health_url(&base);
    if let Err(e) = reqwest::Url::parse(&url) {
        eprintln!("recmock wait: `{base}` is not a URL ({e})");
        return ExitCode::from(2);
    }
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("recmock wait: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let timeout = std::time::Duration::from_secs_f64(args.timeout);
    match rt.block_on(wait_for_health(&url, timeout)) {
        Ok(ready) => {
            println!("{url}: ready ({}) after {:.2} s", ready.answer, ready.after.as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(last) => {
            eprintln!("recmock wait: {url} did not answer within {} s (last try: {last})", args.timeout);
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    // A level, or `target=level,...`: EnvFilter's syntax without span and field filters (and without the
    // regex engine EnvFilter needs, which the build no longer compiles)
    let filter =
        args.log_level.parse::<Targets>().unwrap_or_else(|_| Targets::new().with_default(LevelFilter::INFO));
    tracing_subscriber::registry()
        // Colours only on a terminal: a container's log (docker logs) or a CI log gets plain text.
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
        )
        .with(filter)
        .init();
    if let Some(s) = args.time_scale {
        if !(s.is_finite() && s > 0.0 && s <= recmock::clock::MAX_SCALE) {
            eprintln!(
                "recmock: --time-scale must be a number > 0 and <= {}, got {s}",
                recmock::clock::MAX_SCALE
            );
            return ExitCode::from(2);
        }
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("recmock: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The event gateway's sockets are files: take every one the system allows.
    recmock::server::raise_open_files_limit();
    rt.block_on(async move {
        let fixtures = match start_fixtures(&args) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("recmock: {e}");
                return ExitCode::FAILURE;
            }
        };
        let app = match Application::build(config_of(&args, fixtures)) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("recmock: {e}");
                return ExitCode::FAILURE;
            }
        };
        print_banner(&app, &args);
        match app.run_until_stopped().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("recmock: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

fn print_banner(app: &Application, args: &ServeArgs) {
    // A closed stdout (`recmock | head -1`) must not take the server down: write errors are ignored.
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    macro_rules! say {
        ($($t:tt)*) => {{
            let _ = writeln!(out, $($t)*);
        }};
    }
    let a = app.emulator();
    let url = app.url();
    let clock = a.world.clock.reading();
    let mode = if clock.frozen {
        "frozen (advance with POST /__admin/clock/advance)".to_string()
    } else if (clock.scale - 1.0).abs() < f64::EPSILON {
        "real time".to_string()
    } else {
        format!("{}x real time", clock.scale)
    };
    if recmock::admin::guard::is_loopback_bind(&args.bind) {
        say!("recmock {} listening on {url}", recmock::VERSION);
    } else {
        // In a container (the image binds 0.0.0.0) the URL above is the one inside it: say how it is bound.
        say!(
            "recmock {} listening on {url} (bound to {}:{}: every interface, reachable from other hosts and containers)",
            recmock::VERSION,
            args.bind,
            app.port()
        );
    }
    if let Some(p) = &args.public_url {
        say!("  public   : {p} (base of callbacks' URLs and of anything made outside a request)");
    }
    if let Some(t) = app.tls() {
        say!("  https    : {}  (same world)", t.url);
        match &t.ca_cert {
            Some(ca) => {
                let made = if t.ca_created { "created now; " } else { "" };
                say!(
                    "  TLS CA   : {} ({made}trust it in clients: `recmock tls init` prints how)",
                    ca.display()
                );
                say!(
                    "  try      : curl --cacert {} --resolve vod.api.qcloud.com:{port}:127.0.0.1 https://vod.api.qcloud.com:{port}/__admin/health",
                    ca.display(),
                    port = t.port
                );
            }
            None => say!("  TLS cert : {}", t.cert.display()),
        }
    }
    say!("  fixtures : {}", a.start_fixture_names().join(", "));
    say!("  clock    : {} (Beijing time), {mode}", calendar::beijing_datetime(clock.now_ms.div_euclid(1000)));
    say!("  seed     : {}", a.world.ids.state().seed);
    let judged = match a.world.auth_clock() {
        AuthClock::Either => "client-made times count at virtual or wall time",
        AuthClock::Virtual => "client-made times count at virtual time only",
        AuthClock::Wall => "client-made times count at wall time only",
    };
    say!("  auth     : --auth-clock {} ({judged})", a.world.auth_clock());
    if let Some(p) = &args.state_file {
        match args.state_interval {
            0 => say!("  state    : {} (written on shutdown)", p.display()),
            n => say!("  state    : {} (written every {n} s and on shutdown)", p.display()),
        }
    }
    say!("  credentials:");
    for v in a.vendors() {
        for line in v.banner() {
            say!("    {line}");
        }
    }
    say!("  try:");
    for v in a.vendors() {
        if let Some(c) = v.example_curl(url) {
            say!("    {c}");
        }
    }
    say!("  dashboard    : {url}/__admin/ui/  (the world, callbacks, requests and the clock, in a browser)");
    say!("  control plane: {url}/__admin/health  (reset, state, clock, events, requests, faults)");
    if args.admin_token.is_some() {
        say!("                 every other /__admin call needs `Authorization: Bearer <--admin-token>`");
    }
    let _ = out.flush();
}

fn check(files: &[PathBuf]) -> ExitCode {
    let mut bad = false;
    for f in files {
        match check_file(f) {
            Ok(summary) => println!("{}: ok ({summary})", f.display()),
            Err(Unchecked::Unreadable(message)) => {
                bad = true;
                println!("{}: {message}", f.display());
            }
            Err(Unchecked::Invalid(errors)) => {
                bad = true;
                println!("{}: {} error(s)", f.display(), errors.len());
                for e in errors {
                    println!("  {e}");
                }
            }
        }
    }
    if bad {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Why a file did not pass [`check_file`].
enum Unchecked {
    /// it cannot be read, or is not JSON
    Unreadable(String),
    /// every error, with its path
    Invalid(Vec<String>),
}

impl Unchecked {
    fn errors(self) -> Vec<String> {
        match self {
            Unchecked::Unreadable(m) => vec![m],
            Unchecked::Invalid(e) => e,
        }
    }
}

/// Check one fixture or scenario file against an empty world: every error at once, or a summary.
fn check_file(f: &std::path::Path) -> Result<String, Unchecked> {
    let config = Config { fixtures: vec![], port: 0, ..Config::default() };
    let app = recmock::Emulator::new(&config, "http://127.0.0.1:0".into())
        .map_err(|e| Unchecked::Unreadable(e.to_string()))?;
    let mut doc =
        FixtureSource::File(f.to_path_buf()).read().map_err(|e| Unchecked::Unreadable(e.message))?;
    // A scenario (a fixture with `steps`): its steps are checked too, and `${receiver}` stands in for the
    // receiver the runner would start.
    let mut errors: Vec<String> =
        recmock::scenario::check_document(&doc.value).iter().map(ToString::to_string).collect();
    let steps = doc.value.get("steps").and_then(|s| s.as_array()).map(Vec::len);
    if let Ok(v) = recmock::scenario::fixture_part(&doc.value, recmock::scenario::RECEIVER_PLACEHOLDER) {
        doc.value = v;
    }
    match app.load_runtime(&doc) {
        Ok(r) if errors.is_empty() => Ok(format!(
            "{} tenant(s): {}; {} timeline step(s){}",
            r.tenants.len(),
            r.tenants.join(", "),
            r.timeline_steps,
            steps.map(|n| format!("; scenario of {n} step(s)")).unwrap_or_default()
        )),
        Ok(_) => Err(Unchecked::Invalid(errors)),
        Err(fixture_errors) => {
            errors.extend(fixture_errors.iter().map(ToString::to_string));
            Err(Unchecked::Invalid(errors))
        }
    }
}

fn scenario_run(files: &[PathBuf], against: Option<String>, admin_token: Option<String>) -> ExitCode {
    let mut scenarios = Vec::new();
    let mut unreadable = false;
    for f in files {
        // The fixture part as `recmock check` checks it, then the scenario parts.
        let checked = check_file(f).map_err(Unchecked::errors).and_then(|_| {
            recmock::scenario::Scenario::load(f).map_err(|e| e.iter().map(ToString::to_string).collect())
        });
        match checked {
            Ok(s) => scenarios.push(s),
            Err(errors) => {
                unreadable = true;
                println!("{}: not a valid scenario, {} error(s)", f.display(), errors.len());
                for e in errors {
                    println!("  {e}");
                }
            }
        }
    }
    if unreadable {
        return ExitCode::from(2);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("recmock: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let target = match against {
        Some(url) => recmock::scenario::Target::Against { url, admin_token },
        None => recmock::scenario::Target::Embedded,
    };
    let (mut passed, mut failed) = (0, 0);
    rt.block_on(async {
        for s in &scenarios {
            let report = recmock::scenario::run(s, &target).await;
            print!("{report}");
            if report.passed() {
                passed += 1;
            } else {
                failed += 1;
            }
        }
    });
    println!("{} scenario(s): {passed} passed, {failed} failed", scenarios.len());
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn tls_init(dir: &std::path::Path, names: &[String]) -> ExitCode {
    match recmock::tls::init(dir, &recmock::vendors::host_names(), names) {
        Ok(i) => {
            let ca = if i.ca_created { "created" } else { "reused " };
            let cert = if i.cert_issued { "issued" } else { "reused" };
            println!("CA                 {ca}  {}", i.ca_cert.display());
            println!("server certificate {cert}   {} (key {})", i.cert.display(), i.key.display());
            println!("names              {}", i.names.join(" "));
            println!();
            println!("{}", recmock::tls::trust_instructions(&i.ca_cert, &i.spki_sha256, None));
            println!();
            println!("Serve HTTPS with it: recmock --tls-port 8443 --tls-dir {}", i.dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("recmock: {e}");
            ExitCode::FAILURE
        }
    }
}

fn sig(s: SigCommand) -> ExitCode {
    match s {
        SigCommand::HstToken { app_id, secret, expire, group, user } => {
            let claims = recmock::vendors::cloud_record::token::DevToken {
                aid: app_id,
                gid: group,
                uid: user,
                et: expire,
                ts: recmock::clock::wall_now_ms(),
                r: rand::random::<u32>() as i64 % 1_000_000,
            };
            match recmock::vendors::cloud_record::token::encode(&claims, &secret) {
                Ok(t) => {
                    println!("{t}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("recmock: {e}");
                    ExitCode::from(2)
                }
            }
        }
        SigCommand::Usersig { sdkappid, key, identifier, expire, time } => {
            let time = time.unwrap_or_else(|| recmock::clock::wall_now_ms() / 1000);
            println!("{}", recmock::tlssig::sign(sdkappid, &key, &identifier, time, expire));
            ExitCode::SUCCESS
        }
        SigCommand::Vod {
            secret_id,
            secret_key,
            action,
            params,
            host,
            method,
            signature_method,
            timestamp,
            nonce,
            region,
        } => {
            use recmock::vendors::live_sdk::vod;
            let Some(sig_method) = vod::SignatureMethod::parse(Some(&signature_method)) else {
                eprintln!("recmock: --signature-method must be HmacSHA1 or HmacSHA256");
                return ExitCode::from(2);
            };
            let method = method.to_ascii_uppercase();
            if method != "GET" && method != "POST" {
                eprintln!("recmock: --method must be GET or POST");
                return ExitCode::from(2);
            }
            let mut pairs = vec![
                ("Action".to_string(), action),
                ("Region".to_string(), region),
                ("SecretId".to_string(), secret_id),
                ("SignatureMethod".to_string(), sig_method.as_str().to_string()),
                (
                    "Timestamp".to_string(),
                    timestamp.unwrap_or_else(|| recmock::clock::wall_now_ms() / 1000).to_string(),
                ),
                ("Nonce".to_string(), nonce.unwrap_or_else(|| rand::random::<u32>() as u64 + 1).to_string()),
            ];
            for p in params {
                let Some((k, v)) = p.split_once('=') else {
                    eprintln!("recmock: --param must be NAME=VALUE, got `{p}`");
                    return ExitCode::from(2);
                };
                pairs.push((k.to_string(), v.to_string()));
            }
            println!("{}", vod::signed_query(&secret_key, sig_method, &method, &host, &pairs));
            ExitCode::SUCCESS
        }
        SigCommand::Md5 { key, expire } => {
            let expire = expire.unwrap_or_else(|| recmock::clock::wall_now_ms() / 1000 + 300);
            println!("expire_time={expire}");
            println!("sign={}", recmock::outbox::md5_sign(&key, expire));
            ExitCode::SUCCESS
        }
    }
}
