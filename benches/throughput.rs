//! `make bench`: requests per second of representative endpoints, start-up time and resident memory.
//!
//! Starts the real server in-process on an ephemeral port (frozen clock, demo world) and drives it with
//! concurrent keep-alive clients for a few seconds per scenario. The load generator shares the machine's
//! cores with the server, as in DESIGN.md's reference figures (a bare actix-web handler: ~75k req/s on 2
//! cores; WireMock/Prism/Mockoon: 2k–11k req/s).

use recmock::{Application, Config, FixtureSource};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 32;
const SECONDS: u64 = 3;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

type Make = Arc<dyn Fn(&reqwest::Client, &str, u64) -> reqwest::RequestBuilder + Send + Sync>;

async fn run(name: &str, base: &str, make: Make) {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + Duration::from_secs(SECONDS);
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (done, errors, make, base) = (done.clone(), errors.clone(), make.clone(), base.to_string());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
            let mut i = 0u64;
            while Instant::now() < stop {
                let ok = match make(&client, &base, (c as u64) << 32 | i).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    done.fetch_add(1, Ordering::Relaxed)
                } else {
                    errors.fetch_add(1, Ordering::Relaxed)
                };
                i += 1;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let n = done.load(Ordering::Relaxed);
    println!(
        "{name:<44} {:>9.0} req/s   ({} errors, {CLIENTS} clients, {SECONDS} s)",
        n as f64 / SECONDS as f64,
        errors.load(Ordering::Relaxed)
    );
}

#[tokio::main]
async fn main() {
    let rss_before = rss_kib();
    let t = Instant::now();
    let config = Config {
        port: 0,
        fixtures: vec![
            FixtureSource::Demo,
            FixtureSource::Inline {
                name: "bench account".into(),
                json: r#"{"cloud_record":{"accounts":[{"dev_id":"bench","token":"bench","app_id":"bench",
                    "max_tasks":100000000,"max_group_tasks":100000000}]}}"#
                    .into(),
            },
        ],
        seed: Some(1),
        frozen_clock: true,
        journal_size: 10_000,
        handle_signals: false,
        ..Config::default()
    };
    let app = Application::build(config).expect("server builds");
    let base = app.url().to_string();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    while client.get(format!("{base}/__admin/health")).send().await.is_err() {}
    println!("start-up (build + first answer)                {:>6.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    println!(
        "resident memory after start                    {:>6} KiB (+{} KiB)",
        rss_kib(),
        rss_kib() - rss_before
    );

    let token: serde_json::Value = client
        .get(format!("{base}/access/token?dev_id=demo_dev_0001&token=demo-token-0001"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let at = token["result"]["access_token"].as_str().unwrap().to_string();
    let bench_token: serde_json::Value = client
        .get(format!("{base}/access/token?dev_id=bench&token=bench"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bench_at = bench_token["result"]["access_token"].as_str().unwrap().to_string();

    run("GET /__admin/health", &base, Arc::new(|c, b, _| c.get(format!("{b}/__admin/health")))).await;
    let a = at.clone();
    run(
        "GET /v1/record/task/list (001)",
        &base,
        Arc::new(move |c, b, _| {
            c.get(format!("{b}/v1/record/task/list?app_id=demo_app_0001&page_size=10"))
                .header("Authorization", &a)
        }),
    )
    .await;
    let a = bench_at.clone();
    let rss = rss_kib();
    run(
        "POST /v1/record/init (001, each a new task)",
        &base,
        Arc::new(move |c, b, i| {
            c.post(format!("{b}/v1/record/init"))
                .header("Authorization", &a)
                .body(format!(r#"{{"app_id":"bench","group_id":"g{i}","seq":"{i}"}}"#))
        }),
    )
    .await;
    let tasks: serde_json::Value = client
        .get(format!("{base}/v1/record/task/list?app_id=bench&page_size=1"))
        .header("Authorization", &bench_at)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let n = tasks["total_num"].as_u64().unwrap_or(0).max(1);
    println!("  {n} tasks created; ~{} bytes of resident memory per task", (rss_kib() - rss) * 1024 / n);
    let sig = recmock::tlssig::sign(
        1_400_000_001,
        "demo-ilvb-key-0000000000000000000000000000000000000000000000000",
        "admin",
        1_700_000_000,
        400_000_000,
    );
    run(
        "POST /v4/ilvb_edu/record query (000, TLS-sig)",
        &base,
        Arc::new(move |c, b, _| {
            c.post(format!(
                "{b}/v4/ilvb_edu/record?sdkappid=1400000001&identifier=admin&usersig={sig}&contenttype=json"
            ))
            .body(r#"{"cmd":"open_record_svc","sub_cmd":"query_record_result","class_roomid":3003}"#)
        }),
    )
    .await;
    println!("resident memory after the runs                 {:>6} KiB", rss_kib());
}
