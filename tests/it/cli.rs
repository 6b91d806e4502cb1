//! The `recmock` binary: `check`, `--help`, `sig`, and serving from the command line.
use crate::common::*;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn recmock() -> Command {
    Command::new(env!("CARGO_BIN_EXE_recmock"))
}

/// Run the binary with `args`; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let Output { status, stdout, stderr } = recmock().args(args).output().expect("recmock runs");
    (
        status.code().expect("exited normally"),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

/// A fresh temp directory for one test.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("recmock-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Write `text` to `dir/name`; returns its path as text.
fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn demo() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo.json").to_string()
}

/// A fixture with one error in each place a path can point to.
const BAD: &str = r#"{
  "extra": 1,
  "clock": {"start": "now"},
  "timeline": [{"at": 5, "event": {"type": "cloud_record.dance"}}],
  "cloud_record": {
    "accounts": [
      {"dev_id": "d1", "token": "t1", "app_id": "a1", "tokn": "x"},
      {"dev_id": "d2", "token": "t2", "app_id": "a2", "token_timeout_s": "long"}
    ],
    "groups": [{"app_id": "a2", "group_id": "g", "user": []}]
  }
}"#;

/// `recmock check` prints every error with its JSON path and exits 1.
#[test]
fn check_names_every_error_by_path_and_exits_1() {
    let dir = temp_dir("bad");
    let file = write(&dir, "bad.json", BAD);
    let (code, out, _) = run(&["check", &file]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("6 error(s)"), "{out}");
    for path in [
        "extra",
        "clock.start",
        "timeline[0].event",
        "cloud_record.accounts[0].tokn",
        "cloud_record.accounts[1].token_timeout_s",
        "cloud_record.groups[0].user",
    ] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(&format!("{path}:"))),
            "`{path}` missing:\n{out}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `recmock check fixtures/demo.json` passes with exit 0 and names what it would load.
#[test]
fn check_accepts_the_demo_fixture() {
    let (code, out, err) = run(&["check", &demo()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("ok") && out.contains("cloud_record:demo_app_0001"), "{out}");
}

/// Several files are checked one by one: a missing file and a file that is not JSON are reported (with
/// the line), a good one still says ok, and the exit status is 1. With no file, usage is an error.
#[test]
fn check_reports_each_file() {
    let dir = temp_dir("files");
    let broken = write(&dir, "broken.json", "{\n  \"cloud_record\": ,\n}");
    let missing = dir.join("missing.json").display().to_string();
    let (code, out, _) = run(&["check", &demo(), &broken, &missing]);
    assert_eq!(code, 1, "{out}");
    let line_of =
        |f: &str| out.lines().find(|l| l.starts_with(f)).unwrap_or_else(|| panic!("{f}:\n{out}")).to_string();
    assert!(line_of(&demo()).contains(": ok"), "{out}");
    assert!(line_of(&broken).contains("line 2"), "{out}");
    assert!(line_of(&missing).contains("cannot read"), "{out}");
    let (code, _, err) = run(&["check"]);
    assert_eq!(code, 2, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `recmock --help` mentions every serve flag.
#[test]
fn help_mentions_every_flag() {
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    for flag in [
        "--bind",
        "--port",
        "--fixture",
        "--seed",
        "--public-url",
        "--frozen-clock",
        "--time-scale",
        "--state-file",
        "--state-interval",
        "--log-level",
        "--journal-size",
        "--max-body-bytes",
        "--workers",
        "--tls-port",
        "--tls-cert",
        "--tls-key",
        "--tls-dir",
        "--tls-name",
        "--cors-origin",
        "--admin-cors",
        "--admin-token",
        "--fixture-dir",
        "--metrics-public",
        "--journal-bytes",
        "--callbacks-delivered",
        "--callbacks-undelivered",
        "--callback-attempts",
        "--max-fault-rules",
        "--max-groups",
        "--max-gateway-sockets",
        "--md5-backlog",
        "--max-ui-streams",
    ] {
        assert!(out.contains(flag), "{flag} missing from --help:\n{out}");
    }
    for env in [
        "RECMOCK_TLS_PORT",
        "RECMOCK_CORS_ORIGIN",
        "RECMOCK_ADMIN_CORS",
        "RECMOCK_ADMIN_TOKEN",
        "RECMOCK_STATE_INTERVAL",
        "RECMOCK_FIXTURE_DIR",
        "RECMOCK_METRICS_PUBLIC",
        "RECMOCK_JOURNAL_BYTES",
        "RECMOCK_CALLBACKS_UNDELIVERED",
        "RECMOCK_MAX_UI_STREAMS",
    ] {
        assert!(out.contains(env), "{env} missing from --help:\n{out}");
    }
    let (code, tls_help, _) = run(&["tls", "init", "--help"]);
    assert_eq!(code, 0);
    assert!(tls_help.contains("--dir") && tls_help.contains("--name"), "{tls_help}");
    for sub in ["check", "sig", "serve", "tls", "wait"] {
        assert!(out.contains(sub), "{sub} missing from --help:\n{out}");
    }
    // A cap given wrongly is refused before anything starts, naming the problem.
    let (code, _, err) = run(&["serve", "--journal-bytes", "12XB"]);
    assert_ne!(code, 0);
    assert!(err.contains("--journal-bytes") && err.contains("unknown unit"), "{err}");
    let (code, _, err) = run(&["serve", "--callback-attempts", "0"]);
    assert_ne!(code, 0);
    assert!(err.contains("at least 1"), "{err}");
    let (code, wait_help, _) = run(&["wait", "--help"]);
    assert_eq!(code, 0);
    for s in ["--url", "--timeout", "RECMOCK_URL", "RECMOCK_WAIT_TIMEOUT"] {
        assert!(wait_help.contains(s), "{s} missing from wait --help:\n{wait_help}");
    }
}

/// `recmock sig hst-token` prints a `001…` developer token that the server's `/access/token` accepts
/// for the demo account; a secret of the wrong length is refused.
#[tokio::test]
async fn sig_hst_token_is_accepted_by_the_server() {
    let (code, out, err) =
        run(&["sig", "hst-token", "--app-id", "demo_app_0001", "--secret", "0123456789abcdef"]);
    assert_eq!(code, 0, "{err}");
    let token = out.trim();
    assert!(token.starts_with("001"), "{out}");
    let app =
        spawn_with(Spawn { fixtures: vec![recmock::fixture::DEMO_JSON.to_string()], ..Spawn::default() })
            .await;
    let rb = app
        .client
        .get(format!("{}/access/token", app.url))
        .query(&[("dev_id", "demo_dev_0001"), ("token", token)]);
    let (s, v) = app.send(rb).await;
    assert_eq!((s, &v["code"]), (200, &Value::from(0)), "{v}");
    // Another app's token is not the demo account's.
    let (_, other, _) = run(&["sig", "hst-token", "--app-id", "other_app", "--secret", "0123456789abcdef"]);
    let rb = app
        .client
        .get(format!("{}/access/token", app.url))
        .query(&[("dev_id", "demo_dev_0001"), ("token", other.trim())]);
    assert_ne!(app.send(rb).await.1["code"], 0);
    app.stop().await;
    let (code, _, err) = run(&["sig", "hst-token", "--app-id", "demo_app_0001", "--secret", "short"]);
    assert_eq!(code, 2, "{err}");
}

/// `recmock sig md5` prints `expire_time` and md5(key + expire_time).
#[test]
fn sig_md5_signs_key_and_expire() {
    let (code, out, _) = run(&["sig", "md5", "--key", "k3y", "--expire", "1767225600"]);
    assert_eq!(code, 0);
    assert_eq!(out, format!("expire_time=1767225600\nsign={}\n", md5_hex(b"k3y1767225600")));
}

/// `recmock sig vod` signs a VOD API v2 request exactly as Tencent's SDK does (test-vectors.md, vector 3).
#[test]
fn sig_vod_matches_the_vendor_sdk() {
    let (code, out, err) = run(&[
        "sig",
        "vod",
        "--secret-id",
        "AKIDdemo0000000000000000000000000000",
        "--secret-key",
        "demoSecretKey0000000000000000000",
        "--host",
        "vod.api.qcloud.com",
        "--timestamp",
        "1767225600",
        "--nonce",
        "777",
        "--action",
        "DescribeVodPlayInfo",
        "--param",
        "fileName=web_video_camera_1",
        "--param",
        "pageNo=1",
        "--param",
        "pageSize=10",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Action=DescribeVodPlayInfo&Region=gz&"), "{out}");
    assert!(out.trim_end().ends_with("&Signature=Iy%2Fetg%2FsuCiOEdh9Y9RoxG97TEI%3D"), "{out}");
    let (code, _, _) =
        run(&["sig", "vod", "--secret-id", "a", "--secret-key", "b", "--action", "X", "--param", "novalue"]);
    assert_eq!(code, 2);
}

/// `recmock --port 0` serves the demo world: the banner's first line names the URL, and the control
/// plane answers there with the frozen clock, even though the reader of stdout went away after that
/// line (as with `recmock | head -1`).
#[tokio::test]
async fn serve_starts_and_answers() {
    // (`serve` drops its reader after the first line: the rest of the banner goes to a closed pipe)
    let s = serve(&["--seed", "7"]);
    let get = |path: &'static str| {
        let url = s.url.clone();
        async move {
            if url.is_empty() {
                return Err("no URL in the banner".to_string());
            }
            let resp = reqwest::get(format!("{url}{path}")).await.map_err(|e| format!("{e:?}"))?;
            resp.json::<Value>().await.map_err(|e| format!("{e:?}"))
        }
    };
    let (health, clock) = (get("/__admin/health").await, get("/__admin/clock").await);
    drop(s);
    let (health, clock) = (health.unwrap(), clock.unwrap());
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(clock["frozen"], true, "{clock}");
}

/// Serve refuses a bad `--time-scale` (exit 2) and a bad `--fixture` (exit 1, naming the path).
#[test]
fn serve_refuses_bad_options() {
    for scale in ["0", "-1", "1e12"] {
        let (code, _, err) = run(&["--port", "0", &format!("--time-scale={scale}")]);
        assert_eq!(code, 2, "--time-scale {scale}: {err}");
        assert!(err.contains("--time-scale"), "{err}");
    }
    let dir = temp_dir("serve");
    let file = write(&dir, "bad.json", BAD);
    let (code, _, err) = run(&["--port", "0", "--fixture", &file]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cloud_record.accounts[0].tokn"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `recmock tls init` makes a CA and a server certificate and prints how to trust the CA; run again it
/// reuses both; with another `--name` it keeps the CA and issues a certificate covering the new name too.
#[test]
fn tls_init_creates_then_reuses_the_ca() {
    let dir = temp_dir("tls-init");
    let d = dir.join("ca").display().to_string();
    let (code, out, err) = run(&["tls", "init", "--dir", &d]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("CA                 created"), "{out}");
    assert!(out.contains("server certificate issued"), "{out}");
    for hint in [
        "SSL_CERT_FILE",
        "REQUESTS_CA_BUNDLE",
        "NODE_EXTRA_CA_CERTS",
        "keytool",
        "update-ca-certificates",
        "--host-resolver-rules",
        "--ignore-certificate-errors-spki-list=",
        "--resolve",
    ] {
        assert!(out.contains(hint), "{hint} missing:\n{out}");
    }
    for host in [
        "console.tim.qq.com",
        "iclass.api.qcloud.com",
        "vod.api.qcloud.com",
        "fsp-store-gw.hst.com",
        "127.0.0.1",
    ] {
        assert!(out.lines().any(|l| l.starts_with("names") && l.contains(host)), "{host} missing:\n{out}");
    }
    let ca = std::fs::read(dir.join("ca/ca.pem")).unwrap();
    let cert = std::fs::read(dir.join("ca/server.pem")).unwrap();

    let (code, out, _) = run(&["tls", "init", "--dir", &d]);
    assert_eq!(code, 0);
    assert!(out.contains("CA                 reused") && out.contains("server certificate reused"), "{out}");
    assert_eq!(std::fs::read(dir.join("ca/server.pem")).unwrap(), cert);

    let (code, out, _) = run(&["tls", "init", "--dir", &d, "--name", "recmock.internal,10.1.2.3"]);
    assert_eq!(code, 0);
    assert!(out.contains("CA                 reused") && out.contains("server certificate issued"), "{out}");
    assert!(out.contains("recmock.internal") && out.contains("10.1.2.3"), "{out}");
    assert_eq!(std::fs::read(dir.join("ca/ca.pem")).unwrap(), ca, "the CA is kept");
    assert_ne!(std::fs::read(dir.join("ca/server.pem")).unwrap(), cert);

    let (code, _, err) = run(&["tls", "init", "--dir", &d, "--name", "not a host"]);
    assert_eq!(code, 1);
    assert!(err.contains("not a host"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `recmock --port 0 --tls-port 0 --tls-dir D` serves HTTPS with a certificate from the local CA it makes
/// in D; the banner names the HTTPS URL and the CA file, and a client trusting only that CA gets through
/// under a vendor host name.
#[tokio::test]
async fn serve_with_tls_from_the_local_ca() {
    let dir = temp_dir("tls-serve");
    let d = dir.join("ca").display().to_string();
    let mut child = recmock()
        .args(["--port", "0", "--tls-port", "0", "--tls-dir", &d, "--frozen-clock", "--log-level", "error"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("recmock starts");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    for _ in 0..4 {
        reader.read_line(&mut banner).unwrap();
    }
    let port = banner
        .lines()
        .find(|l| l.trim_start().starts_with("https"))
        .and_then(|l| l.split_whitespace().find(|w| w.starts_with("https://")))
        .and_then(|u| u.rsplit(':').next())
        .and_then(|p| p.parse::<u16>().ok());
    let ca_line = banner.lines().any(|l| l.contains("TLS CA") && l.contains(&format!("{d}/ca.pem")));
    let result = async {
        let port = port.ok_or("no https URL in the banner")?;
        let ca = std::fs::read(dir.join("ca/ca.pem")).map_err(|e| e.to_string())?;
        let c = https_client(&ca, &["console.tim.qq.com"], port);
        let resp = c
            .get(format!("https://console.tim.qq.com:{port}/__admin/health"))
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        resp.json::<Value>().await.map_err(|e| format!("{e:?}"))
    }
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(ca_line, "{banner}");
    assert_eq!(result.unwrap()["status"], "ok", "{banner}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// TLS and CORS flags are checked: a certificate without its key (or without --tls-port) is a usage error
/// (exit 2), an unreadable certificate stops the start (exit 1, naming the file), and so does a
/// `--cors-origin` that is not an origin (exit 2).
#[test]
fn serve_refuses_bad_tls_and_cors_options() {
    let dir = temp_dir("tls-bad");
    let cert = write(&dir, "cert.pem", "not a certificate");
    let key = write(&dir, "key.pem", "not a key");
    let (code, _, err) = run(&["--port", "0", "--tls-port", "0", "--tls-cert", &cert]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&["--port", "0", "--tls-cert", &cert, "--tls-key", &key]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&["--port", "0", "--tls-port", "0", "--tls-cert", &cert, "--tls-key", &key]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("TLS") && err.contains("cert.pem"), "{err}");
    let (code, _, err) = run(&["--port", "0", "--cors-origin", "console.example"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--cors-origin"), "{err}");
    let (code, _, err) = run(&["--port", "0", "--admin-cors", "*"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--admin-cors") && err.contains("any web page"), "{err}");
    let (code, _, err) = run(&["--port", "0", "--admin-token", " "]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--admin-token") && err.contains("empty"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// What `recmock` logs while it starts, up to actix's "starting" line (then it is stopped).
fn start_log(args: &[&str]) -> String {
    let mut child = recmock()
        .env_remove("RECMOCK_ADMIN_TOKEN")
        .args(["--port", "0", "--log-level", "info"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("recmock starts");
    let mut log = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        log.push_str(&line);
        log.push('\n');
        if line.contains("starting") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    log
}

/// Bound beyond loopback without `--admin-token`, recmock warns that anyone who reaches the port can drive
/// `/__admin`; with a token, or on loopback, it does not.
#[test]
fn serve_warns_when_the_control_plane_is_open_beyond_loopback() {
    let open = start_log(&["--bind", "0.0.0.0"]);
    assert!(
        open.contains("WARN") && open.contains("beyond loopback") && open.contains("--admin-token"),
        "{open}"
    );
    let closed = start_log(&["--bind", "0.0.0.0", "--admin-token", "t"]);
    assert!(closed.contains("starting") && !closed.contains("beyond loopback"), "{closed}");
    let local = start_log(&["--bind", "127.0.0.1"]);
    assert!(local.contains("starting") && !local.contains("beyond loopback"), "{local}");
}

/// A served process whose banner has been read up to its first line: the URL in it, and the process.
struct Served {
    child: std::process::Child,
    first_line: String,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `recmock --port 0 ARGS` and read its banner's first line.
fn serve(args: &[&str]) -> Served {
    let mut child = recmock()
        .env_remove("RECMOCK_ADMIN_TOKEN")
        .args(["--port", "0", "--frozen-clock", "--log-level", "error"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("recmock starts");
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first_line).unwrap();
    let url =
        first_line.split_whitespace().find(|w| w.starts_with("http://")).unwrap_or_default().to_string();
    Served { child, first_line, url }
}

/// `recmock wait` exits 0 once the server answers `/__admin/health` (the base URL or the health URL
/// itself, and without the admin token), and 1 with a message naming the URL, the timeout and the last
/// error when nothing answers in time.
#[test]
fn wait_exits_0_when_health_answers_and_1_on_timeout() {
    let s = serve(&["--admin-token", "secret"]);
    for url in [s.url.clone(), format!("{}/__admin/health", s.url), s.url.replace("http://", "")] {
        let (code, out, err) = run(&["wait", "--url", &url, "--timeout", "20"]);
        assert_eq!(code, 0, "{url}: {out}{err}");
        assert!(out.contains("ready (ok, recmock "), "{out}");
    }
    drop(s);
    // A port nobody listens on: bind one, note it, let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    let (code, _, err) = run(&["wait", "--url", &url, "--timeout", "0.5"]);
    assert_eq!(code, 1, "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "it gives up");
    assert!(
        err.contains(&format!("{url}/__admin/health did not answer within 0.5 s"))
            && err.contains("last try"),
        "{err}"
    );
    let (code, _, err) = run(&["wait", "--timeout", "-1"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&["wait", "--url", "http://[::1", "--timeout", "1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a URL"), "{err}");
}

/// `--fixture-dir` loads every `*.json` of the directory in name order after the `--fixture` files; an
/// empty or missing directory leaves the demo world (unless a `--fixture` is given).
#[tokio::test]
async fn fixture_dir_loads_its_json_files_in_name_order() {
    let dir = temp_dir("fixture-dir");
    let account = |app: &str| {
        format!(
            r#"{{"cloud_record": {{"accounts": [{{"dev_id": "d-{app}", "token": "t", "app_id": "{app}"}}]}}}}"#
        )
    };
    // `10-…` after `02-…`: the clock of the later file wins, so the order shows in the clock.
    write(&dir, "02-first.json", &format!(r#"{{"clock": {{"start": 1700000000}}, {}"#, &account("a1")[1..]));
    write(&dir, "10-second.json", &format!(r#"{{"clock": {{"start": 1800000000}}, {}"#, &account("a2")[1..]));
    write(&dir, "notes.txt", "not a fixture");
    let tenants = |url: String| async move {
        let v: Value = reqwest::get(format!("{url}/__admin/tenants")).await.unwrap().json().await.unwrap();
        let clock: Value = reqwest::get(format!("{url}/__admin/clock")).await.unwrap().json().await.unwrap();
        (v["tenants"].to_string(), clock["now"].as_i64().unwrap())
    };
    let s = serve(&["--fixture-dir", &dir.display().to_string()]);
    let (list, now) = tenants(s.url.clone()).await;
    assert_eq!(list, r#"["cloud_record:a1","cloud_record:a2"]"#);
    assert_eq!(now, 1_800_000_000, "10-second.json loaded last");
    drop(s);
    let extra = write(&temp_dir("fixture-dir-extra"), "x.json", &account("a0"));
    let s = serve(&["--fixture", &extra, "--fixture-dir", &dir.display().to_string()]);
    assert_eq!(tenants(s.url.clone()).await.0, r#"["cloud_record:a0","cloud_record:a1","cloud_record:a2"]"#);
    drop(s);
    let empty = temp_dir("fixture-dir-empty");
    for d in [empty.clone(), empty.join("missing")] {
        let s = serve(&["--fixture-dir", &d.display().to_string()]);
        assert!(tenants(s.url.clone()).await.0.contains("cloud_record:demo_app_0001"), "the demo world");
    }
    let s = serve(&["--fixture", &extra, "--fixture-dir", &empty.display().to_string()]);
    assert_eq!(tenants(s.url.clone()).await.0, r#"["cloud_record:a0"]"#, "no demo beside a --fixture");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Bound beyond loopback (as in the container image), the banner's first line says so; on loopback it
/// does not.
#[test]
fn the_banner_says_when_every_interface_is_bound() {
    let s = serve(&["--bind", "0.0.0.0"]);
    assert!(
        s.first_line.contains("bound to 0.0.0.0:") && s.first_line.contains("every interface"),
        "{}",
        s.first_line
    );
    assert!(s.url.starts_with("http://127.0.0.1:"), "{}", s.first_line);
    let s = serve(&[]);
    assert!(!s.first_line.contains("bound to"), "{}", s.first_line);
}
