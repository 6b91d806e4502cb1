//! Scenarios: every file in fixtures/scenarios runs green; a failing one exits non-zero with a diff;
//! `recmock check` names a malformed step by its path; a scenario runs against a running server too.
use crate::common::*;
use recmock::scenario::{run, Scenario, StepStatus, Target};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixtures/scenarios")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("recmock-{}-{name}", std::process::id()));
    std::fs::write(&p, text).expect("temp file");
    p
}

fn recmock(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_recmock")).args(args).output().expect("recmock runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// Every shipped scenario passes on an embedded server; all failures are reported at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shipped_scenario_passes() {
    let files = scenario_files();
    assert!(files.len() >= 8, "{files:?}");
    let mut failed = Vec::new();
    for f in &files {
        let s = Scenario::load(f).unwrap_or_else(|e| panic!("{}: {e:?}", f.display()));
        let report = run(&s, &Target::Embedded).await;
        if !report.passed() {
            failed.push(report.to_string());
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// A scenario file is still a plain fixture: a server given it loads its world and ignores `steps`.
#[tokio::test]
async fn every_scenario_file_is_a_valid_fixture() {
    for f in scenario_files() {
        let text = std::fs::read_to_string(&f).unwrap().replace("${receiver}", "http://127.0.0.1:9/cb");
        let app = spawn_with(Spawn { fixtures: vec![text], ..Spawn::default() }).await;
        let (s, v) = app.get("/__admin/tenants").await;
        assert_eq!(s, 200);
        assert!(!v["tenants"].as_array().unwrap().is_empty(), "{}: {v}", f.display());
        app.stop().await;
    }
}

/// `recmock check` accepts every shipped scenario.
#[test]
fn check_accepts_the_shipped_scenarios() {
    let files: Vec<String> = scenario_files().iter().map(|p| p.display().to_string()).collect();
    let mut args = vec!["check"];
    args.extend(files.iter().map(String::as_str));
    let (code, out) = recmock(&args);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("scenario of"), "{out}");
}

const FAILING: &str = r#"{
  "name": "a scenario that fails",
  "clock": { "start": 1767225600, "frozen": true },
  "cloud_record": { "accounts": [ { "dev_id": "d", "token": "t", "app_id": "a" } ] },
  "steps": [
    { "name": "init", "request": { "method": "POST", "path": "/v1/record/init", "body": { "app_id": "a", "group_id": "g" } },
      "expect": { "json": { "code": 0 } }, "capture": { "rid": "record_id" } },
    { "name": "wrong status", "request": { "path": "/v1/record/task/list", "query": { "app_id": "a", "record_id": "${rid}" } },
      "expect": { "json": { "record_list[0].status": 5, "total_num": { "$gte": 1 } } } },
    { "name": "never runs", "advance": 1 }
  ]
}"#;

/// A failing step prints ✗ with the expected and actual values and the answer; later steps are skipped;
/// the exit status is 1.
#[test]
fn a_failing_scenario_exits_1_with_a_diff() {
    let f = temp_file("failing.json", FAILING);
    let (code, out) = recmock(&["scenario", "run", f.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("✓  1. init — POST /v1/record/init"), "{out}");
    assert!(out.contains("✗  2. wrong status"), "{out}");
    assert!(out.contains("record_list[0].status: expected 5, got 1"), "{out}");
    assert!(out.contains("answer (HTTP 200)"), "{out}");
    assert!(out.contains("\"record_list\""), "the full answer is shown: {out}");
    assert!(out.contains("3. never runs — advance (skipped)"), "{out}");
    assert!(out.contains("0 passed, 1 failed"), "{out}");
    let _ = std::fs::remove_file(f);
}

/// The library reports the same outcome step by step.
#[tokio::test]
async fn the_report_tells_each_step() {
    let s = Scenario::parse("inline", FAILING).unwrap();
    let r = run(&s, &Target::Embedded).await;
    let st: Vec<StepStatus> = r.steps.iter().map(|s| s.status).collect();
    assert_eq!(st, vec![StepStatus::Passed, StepStatus::Failed, StepStatus::Skipped]);
    assert!(!r.passed());
}

/// `recmock check` and `scenario run` reject a malformed step (and a bad fixture part), naming each path
/// (exit 1 and 2).
#[test]
fn malformed_steps_are_named_by_path() {
    let doc = json!({
        "name": "bad",
        "cloud_record": { "accounts": [ { "dev_id": "d", "token": "t", "app_id": "a", "max_tasks": "lots" } ] },
        "steps": [
            { "advance": 5 },
            { "request": { "path": "/v1/record/init", "bdy": {} } },
            { "expect_callbacks": { "count": 1, "order": { "body.event": "x" } } },
            { "request": { "path": "/x/${rid}" } }
        ]
    });
    let f = temp_file("malformed.json", &doc.to_string());
    let (code, out) = recmock(&["check", f.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("steps[1].request.bdy: unknown field `bdy`"), "{out}");
    assert!(out.contains("steps[2].expect_callbacks.order.body.event: expected an array"), "{out}");
    assert!(out.contains("steps[3]: ${rid} is used before any step captures it"), "{out}");
    assert!(out.contains("cloud_record.accounts[0].max_tasks: invalid type"), "the fixture part too: {out}");
    assert!(out.contains("4 error(s)"), "{out}");
    let (code, out) = recmock(&["scenario", "run", f.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("steps[1].request.bdy"), "{out}");
    assert!(out.contains("cloud_record.accounts[0].max_tasks"), "{out}");
    let _ = std::fs::remove_file(f);
}

/// `--against`: the running server is reset, loaded with the scenario's fixture and driven over HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_runs_against_a_running_server() {
    let app = spawn(json!({ "cloud_record": { "accounts": [ { "dev_id": "other", "token": "t", "app_id": "other_app" } ] } }))
        .await;
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios/001_manual_layout.json");
    let s = Scenario::load(&f).unwrap();
    let r = run(&s, &Target::Against { url: app.url.clone(), admin_token: None }).await;
    assert!(r.passed(), "{r}");
    // The scenario's account was loaded next to the start fixture's.
    let (_, v) = app.get("/__admin/tenants").await;
    let tenants = v["tenants"].to_string();
    assert!(tenants.contains("cloud_record:scn_app") && tenants.contains("cloud_record:other_app"), "{v}");
    app.stop().await;
}

/// `--against` a server started with `--admin-token`: the runner sends the token on its `/__admin` calls
/// (and on a step's own `/__admin` request), from the library and from `recmock scenario run --admin-token`;
/// without it the run cannot start and says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_runs_against_a_server_with_an_admin_token() {
    let mut config =
        config_of(Spawn { fixtures: vec![with_clock(json!({})).to_string()], ..Spawn::default() });
    config.admin.token = Some("scenario-token".into());
    let app = spawn_config(config).await;
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios/004_callback_retries.json");
    let s = Scenario::load(&f).unwrap();
    let against =
        |token: Option<&str>| Target::Against { url: app.url.clone(), admin_token: token.map(String::from) };
    let r = run(&s, &against(Some("scenario-token"))).await;
    assert!(r.passed(), "{r}");
    let r = run(&s, &against(None)).await;
    let setup = r.setup_error.clone().unwrap_or_default();
    assert!(setup.contains("HTTP 401") && setup.contains("Authorization: Bearer"), "{r}");
    let r = run(&s, &against(Some("wrong"))).await;
    assert!(r.setup_error.as_deref().is_some_and(|e| e.contains("wrong admin token")), "{r}");

    // A step's own control-plane request gets the token too, unless it brings its own Authorization.
    let doc = json!({
        "name": "admin calls",
        "steps": [
            { "request": { "path": "/__admin/tenants" }, "expect": { "status": 200 } },
            { "request": { "path": "/__admin/tenants", "headers": { "Authorization": "Bearer nope" } },
              "expect": { "status": 401 } }
        ]
    });
    let own = temp_file("admin-token.json", &doc.to_string());
    let r = run(&Scenario::load(&own).unwrap(), &against(Some("scenario-token"))).await;
    assert!(r.passed(), "{r}");

    let cli = |token: Option<&'static str>| {
        let (file, url) = (f.clone(), app.url.clone());
        tokio::task::spawn_blocking(move || {
            let mut c = Command::new(env!("CARGO_BIN_EXE_recmock"));
            c.env_remove("RECMOCK_ADMIN_TOKEN")
                .arg("scenario")
                .arg("run")
                .arg(&file)
                .args(["--against", &url]);
            if let Some(t) = token {
                c.args(["--admin-token", t]);
            }
            let out = c.output().expect("recmock runs");
            let text =
                format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            (out.status.code().unwrap_or(-1), text)
        })
    };
    let (code, out) = cli(Some("scenario-token")).await.unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 passed, 0 failed"), "{out}");
    let (code, out) = cli(None).await.unwrap();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("could not start") && out.contains("401"), "{out}");
    let _ = std::fs::remove_file(own);
    app.stop().await;
}

/// docs/scenario.schema.json and the Rust checks name the same step keys, matchers, types and top-level
/// keys (recmock checks scenarios with a hand-written mirror of the schema).
#[test]
fn the_schema_and_the_checker_agree() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenario.schema.json"))
            .expect("docs/scenario.schema.json");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
        k.sort();
        k
    };
    let sorted = |list: &[&str]| -> Vec<String> {
        let mut k: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        k.sort();
        k
    };
    assert_eq!(keys(&schema["properties"]), sorted(&recmock::fixture::top_keys()));
    assert_eq!(keys(&schema["$defs"]["step"]["properties"]), sorted(&recmock::scenario::model::STEP_KEYS));
    assert_eq!(
        keys(&schema["$defs"]["matcher"]["properties"]),
        sorted(&recmock::scenario::matchers::OPERATORS)
    );
    let types: Vec<&str> = schema["$defs"]["matcher"]["properties"]["$type"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(types, recmock::scenario::matchers::TYPES);
    // Every property the schema allows in a request's `auth`, `expect` and `expect_callbacks` is accepted.
    let auth: serde_json::Map<String, serde_json::Value> = schema["$defs"]["request"]["properties"]["auth"]
        ["oneOf"][1]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| {
            (
                k.clone(),
                if ["sdkappid", "expire_time", "ent_id"].contains(&k.as_str()) {
                    json!(1)
                } else {
                    json!("HmacSHA1")
                },
            )
        })
        .collect();
    let doc = json!({ "steps": [
        { "request": { "path": "/x", "auth": auth } },
        { "expect_callbacks": { "where": {}, "count": 1, "order": {}, "each": {}, "first": {}, "last": {}, "signed": true,
                                "since_last": true, "wait_ms": 10 } },
        { "advance": 1, "expect": { "status": 200, "json": {}, "body_size": 1, "body_md5": "x" }, "capture": {} }
    ]});
    let errors = recmock::scenario::check_document(&doc);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(keys(&schema["$defs"]["expect_callbacks"]["properties"]).len(), 9);
    assert_eq!(keys(&schema["$defs"]["expect"]["properties"]).len(), 4);
}

/// The README's "Write your own scenario" example runs as shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_example_passes() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme.split("## Write your own scenario").nth(1).expect("the README section");
    let block = section.split("```json\n").nth(1).and_then(|b| b.split("```").next()).expect("a json block");
    let s = Scenario::parse("README.md", block).unwrap_or_else(|e| panic!("{e:?}"));
    let r = run(&s, &Target::Embedded).await;
    assert!(r.passed(), "{r}");
    assert_eq!(r.steps.len(), 5);
}
