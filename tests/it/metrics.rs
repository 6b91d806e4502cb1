//! `GET /__admin/metrics`: the Prometheus text format, counted by route pattern (never the raw path),
//! with callbacks, entities, files, the bounded stores and the process; readable without the admin token
//! only with `--metrics-public`.
use crate::common::*;
use serde_json::json;
use std::collections::BTreeMap;

const MEETING_AUTH: &str = "demo-meeting-api-id:demo-meeting-api-key-0001";

async fn demo() -> TestApp {
    spawn_with(Spawn { fixtures: vec![recmock::fixture::DEMO_JSON.to_string()], ..Spawn::default() }).await
}

/// The exposition as `series → value`, after checking every line's shape: `# HELP`/`# TYPE` comments,
/// and `name{label="value",...} number` samples of families that were declared.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut declared = std::collections::BTreeSet::new();
    let mut samples = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(declared.insert(name.to_string()), "{name} declared twice");
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number: {line}"));
        let name = series.split('{').next().unwrap();
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| declared.contains(*f)))
            .unwrap_or(name);
        assert!(declared.contains(family), "{name} sampled before its # TYPE");
        if let Some(labels) = series.strip_prefix(name) {
            if !labels.is_empty() {
                assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
            }
        }
        assert!(samples.insert(series.to_string(), value).is_none(), "{series} twice");
    }
    samples
}

async fn metrics(app: &TestApp) -> BTreeMap<String, f64> {
    let resp = app.client.get(format!("{}/__admin/metrics", app.url)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-type"), "text/plain; version=0.0.4; charset=utf-8");
    parse(&resp.text().await.unwrap())
}

fn requests(vendor: &str, method: &str, route: &str, status: &str) -> String {
    format!(
        r#"recmock_requests_total{{vendor="{vendor}",method="{method}",route="{route}",status="{status}"}}"#
    )
}

/// Requests count under their vendor, method, route pattern and status (a path with parameters under its
/// pattern, an unknown path under `(unmatched)`), with a histogram per route; a meeting recorded and
/// processed shows as entities and files; callbacks, stores and the process are there.
#[tokio::test]
async fn requests_callbacks_entities_files_stores_and_memory_are_exposed() {
    let app = demo().await;
    for _ in 0..3 {
        let (s, _) = app.get("/access/token?dev_id=demo_dev_0001&token=demo-token-0001").await;
        assert_eq!(s, 200);
    }
    for path in ["/no/such/thing", "/another/unknown/7"] {
        assert_eq!(app.get(path).await.0, 404);
    }
    // A route with parameters: counted under its pattern, whatever the values.
    for class in ["1", "2"] {
        app.client.get(format!("{}/1400127140/{class}/0", app.url)).send().await.unwrap();
    }
    let auth = [("auth", MEETING_AUTH)];
    let (s, v) = app.post_h("/meeting/openRecord", json!({"conferenceKey": "1866"}), &auth).await;
    assert_eq!(s, 200, "{v}");
    let rid = v["data"]["recordId"].as_str().unwrap().to_string();
    app.advance(60.0).await;
    app.event(json!({"type": "meeting.conference_end", "conference_key": "1866"})).await;
    app.advance(20.0).await;
    let (_, v) = app.post_h("/meeting/getRecords", json!({"recordId": rid}), &auth).await;
    let url = v["data"][0]["downUrl"].as_str().unwrap_or_else(|| panic!("{v}")).to_string();
    let resp = app.client.head(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);

    let m = metrics(&app).await;
    assert_eq!(m[&requests("cloud_record", "GET", "/access/token", "200")], 3.0);
    assert_eq!(m[&requests("", "", "(unmatched)", "404")], 2.0);
    assert_eq!(m[&requests("", "HEAD", "/files/{key}/{name}", "200")], 1.0);
    let pattern: f64 = m
        .iter()
        .filter(|(k, _)| k.starts_with(r#"recmock_requests_total{vendor="iclass",method="GET",route="/{sdkappid}/{class_id}/{role}""#))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(pattern, 2.0, "both class URLs under one pattern");
    assert!(!m.keys().any(|k| k.contains("/no/such") || k.contains("/1400127140/")), "raw paths leak");
    let h = r#"vendor="cloud_record",method="GET",route="/access/token""#;
    assert_eq!(m[&format!("recmock_request_duration_seconds_count{{{h}}}")], 3.0);
    assert_eq!(m[&format!(r#"recmock_request_duration_seconds_bucket{{{h},le="+Inf"}}"#)], 3.0);
    assert!(m[&format!(r#"recmock_request_duration_seconds_bucket{{{h},le="10"}}"#)] <= 3.0);
    assert!(m[&format!("recmock_request_duration_seconds_sum{{{h}}}")] > 0.0);

    assert_eq!(m[r#"recmock_entities{vendor="meeting",kind="tenant"}"#], 2.0);
    assert_eq!(m[r#"recmock_entities{vendor="meeting",kind="recording"}"#], 1.0);
    assert_eq!(m[r#"recmock_entities{vendor="cloud_record",kind="tenant"}"#], 1.0);
    assert!(m[r#"recmock_files{vendor="meeting"}"#] >= 1.0, "{m:?}");
    assert!(m[r#"recmock_file_bytes{vendor="meeting"}"#] > 0.0);
    assert_eq!(m[r#"recmock_files{vendor="cloud_record"}"#], 0.0);

    let (_, cbs) = app.get("/__admin/callbacks").await;
    let total: f64 = m.iter().filter(|(k, _)| k.starts_with("recmock_callbacks{")).map(|(_, v)| v).sum();
    assert_eq!(total, cbs["count"].as_f64().unwrap(), "{cbs}");
    assert!(m.contains_key(r#"recmock_callbacks{vendor="iclass",state="failed"}"#));
    assert_eq!(m[r#"recmock_outbox_callbacks"#], total);

    // The journal held as many before the metrics were asked (GET /__admin/requests is not journaled).
    let (_, journal) = app.get("/__admin/requests").await;
    assert_eq!(m[r#"recmock_store_size{store="journal_entries"}"#], journal["held"].as_f64().unwrap());
    assert_eq!(m[r#"recmock_store_limit{store="journal_entries"}"#], 10_000.0);
    assert_eq!(m[r#"recmock_store_limit{store="outbox_in_flight"}"#], 64.0);
    assert_eq!(m[r#"recmock_store_limit{store="outbox_undelivered"}"#], 10_000.0);
    assert_eq!(m[r#"recmock_store_limit{store="journal_bytes"}"#], (64u64 << 20) as f64);
    assert_eq!(m[r#"recmock_store_limit{store="fault_rules"}"#], 1_000.0);
    assert_eq!(m[r#"recmock_store_size{store="fault_rules"}"#], 0.0);
    assert!(m["process_resident_memory_bytes"] > 1e6);
    assert_eq!(m[&format!(r#"recmock_build_info{{version="{}"}}"#, recmock::VERSION)], 1.0);
    app.stop().await;
}

/// With `--admin-token`, the metrics need it like every other control-plane call; `--metrics-public`
/// opens them (only them) to a scraper without credentials.
#[tokio::test]
async fn metrics_need_the_admin_token_unless_public() {
    for public in [false, true] {
        let mut config = config_of(Spawn::default());
        config.admin.token = Some("s3cret".into());
        config.admin.metrics_public = public;
        let app = spawn_config(config).await;
        let get = |path: &str| app.client.get(format!("{}{path}", app.url));
        let plain = get("/__admin/metrics").send().await.unwrap().status().as_u16();
        assert_eq!(plain, if public { 200 } else { 401 }, "public: {public}");
        let with = get("/__admin/metrics").bearer_auth("s3cret").send().await.unwrap().status().as_u16();
        assert_eq!(with, 200);
        assert_eq!(get("/__admin/state").send().await.unwrap().status(), 401, "the rest stays closed");
        app.stop().await;
    }
}
