//! Durable state (issue 19): with `--state-file`, the world is written every `--state-interval` seconds,
//! whole or not at all and readable by its owner only, so a SIGKILL loses at most that much. Run on the
//! real `recmock` binary, killed for real.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `recmock` on a free port with `args`, and its URL (from the banner's first line).
fn start(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_recmock"))
        .args(["--port", "0", "--frozen-clock", "--seed", "7", "--log-level", "warn"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("recmock starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let url = first.split_whitespace().find(|w| w.starts_with("http://")).expect("URL in the banner");
    (child, url.to_string())
}

async fn call(rb: reqwest::RequestBuilder) -> Value {
    let resp = rb.send().await.expect("an answer");
    assert!(resp.status().is_success(), "{}", resp.status());
    resp.json().await.unwrap()
}

/// The state file as JSON, once it is there and parses.
fn read_state(path: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

#[tokio::test]
async fn a_sigkill_loses_at_most_one_interval() {
    let dir = std::env::temp_dir().join(format!("recmock-state-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("world.json");
    let file_arg = file.to_str().unwrap().to_string();
    let args = ["--state-file", file_arg.as_str(), "--state-interval", "1"];
    let client = reqwest::Client::new();

    let (mut child, url) = start(&args);
    let now = call(client.get(format!("{url}/__admin/clock"))).await["now"].as_i64().unwrap();
    call(client.post(format!("{url}/__admin/clock/advance")).json(&json!({"seconds": 3600}))).await;
    let rule = json!({"match": {"vendor": "iclass"}, "action": {"error_code": 10001}});
    call(client.post(format!("{url}/__admin/faults")).json(&rule)).await;
    // A snapshot with both changes lands within an interval or two (real seconds: the interval is real
    // time by design; generous for a busy machine).
    let want_ms = (now + 3600) * 1000;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let written = read_state(&file);
        let done = written.as_ref().is_some_and(|s| {
            s["clock"]["now_ms"].as_i64().is_some_and(|t| t >= want_ms)
                && s["faults"]["rules"].as_array().is_some_and(|r| r.len() == 1)
        });
        if done {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no snapshot with the changes: {written:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    child.kill().unwrap(); // SIGKILL: no shutdown, no final write
    child.wait().unwrap();

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the state file holds every key: its owner's only");
    }
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["world.json".to_string()], "no temporary file is left behind");

    // A restart reads the snapshot: the clock and the rule are back.
    let (mut child, url) = start(&args);
    let clock = call(client.get(format!("{url}/__admin/clock"))).await;
    assert!(clock["now_ms"].as_i64().unwrap() >= want_ms, "{clock}");
    let faults = call(client.get(format!("{url}/__admin/faults"))).await;
    assert_eq!(faults["faults"][0]["action"]["error_code"], 10001, "{faults}");
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--state-interval 0`: nothing is written while the server runs (only a clean stop writes it).
#[tokio::test]
async fn interval_zero_writes_only_on_shutdown() {
    let dir = std::env::temp_dir().join(format!("recmock-state-zero-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("world.json");
    let file_arg = file.to_str().unwrap().to_string();
    let client = reqwest::Client::new();
    let (mut child, url) = start(&["--state-file", file_arg.as_str(), "--state-interval", "0"]);
    call(client.post(format!("{url}/__admin/clock/advance")).json(&json!({"seconds": 60}))).await;
    // Two seconds of a 1 s interval would have written it; with 0 nothing does.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(!file.exists());
    // SIGTERM: a clean stop writes it.
    // SAFETY: kill(2) on the pid of the child this test spawned.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    child.wait().unwrap();
    assert!(read_state(&file).is_some(), "written on a clean stop");
    std::fs::remove_dir_all(&dir).unwrap();
}
