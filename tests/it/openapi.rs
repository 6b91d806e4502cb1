//! `openapi/recmock.yaml` and the server agree: every route the server registers is described, and every
//! operation described is served. The route table comes from `GET /__admin/routes`, which is filled by
//! the very calls that register routes; the document comes from `GET /__admin/openapi.json`, the copy
//! compiled into the binary. `openapi/recmock.json` is the YAML converted (`make openapi-json` writes it).

use crate::common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "head"];

async fn get_json(app: &TestApp, path: &str) -> Value {
    let r = app.client.get(format!("{}{path}", app.url)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

#[tokio::test]
async fn every_route_is_described_and_every_described_operation_is_served() {
    let app = spawn(json!({})).await;
    let routes = get_json(&app, "/__admin/routes").await;
    let served: BTreeSet<(String, String)> = routes["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["path"].as_str().unwrap().to_string(), r["method"].as_str().unwrap().to_string()))
        .collect();
    assert!(served.len() > 40, "suspiciously few routes: {served:?}");

    let spec = get_json(&app, "/__admin/openapi.json").await;
    assert_eq!(spec["openapi"], "3.1.0");
    let mut described = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for m in METHODS {
            if item.get(m).is_some() {
                described.insert((path.clone(), m.to_ascii_uppercase()));
            }
        }
    }
    let missing_in_spec: Vec<_> = served.difference(&described).collect();
    let missing_in_server: Vec<_> = described.difference(&served).collect();
    assert!(missing_in_spec.is_empty(), "served but not in openapi/recmock.yaml: {missing_in_spec:?}");
    assert!(missing_in_server.is_empty(), "in openapi/recmock.yaml but not served: {missing_in_server:?}");
}

#[tokio::test]
async fn the_described_operations_really_answer_on_their_paths() {
    // The route table could in principle disagree with the router; probe each described operation with
    // its path parameters filled in and check the router found it (no "no such endpoint" 404, no 405).
    let app = spawn(json!({})).await;
    let spec = get_json(&app, "/__admin/openapi.json").await;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let named = path.replace("{key}", "k").replace("{name}", "n");
        // Any other parameter gets `1`, which every pattern accepts (digits, the role `[01]`).
        let concrete: String = named
            .split('/')
            .map(|seg| if seg.starts_with('{') && seg.ends_with('}') { "1" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for m in METHODS {
            if item.get(m).is_none() {
                continue;
            }
            let method = reqwest::Method::from_bytes(m.to_ascii_uppercase().as_bytes()).unwrap();
            let r = app.client.request(method, format!("{}{concrete}", app.url)).send().await.unwrap();
            let status = r.status().as_u16();
            if header(&r, "content-type").starts_with("text/event-stream") {
                // A stream that never ends (the dashboard's change feed): its answering is enough.
                assert_eq!(status, 200, "{m} {path}");
                continue;
            }
            let text = r.text().await.unwrap_or_default();
            assert_ne!(status, 405, "{m} {path}: {text}");
            let error =
                serde_json::from_str::<Value>(&text).ok().and_then(|v| v["error"].as_str().map(String::from));
            let unrouted = error.is_some_and(|e| e.starts_with("no such endpoint"));
            assert!(!unrouted, "{m} {path} is not routed: {text}");
        }
    }
}

#[tokio::test]
async fn the_yaml_is_served_verbatim() {
    let app = spawn(json!({})).await;
    let r = app.client.get(format!("{}/__admin/openapi.yaml", app.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/yaml"));
    let text = r.text().await.unwrap();
    assert_eq!(text, std::fs::read_to_string("openapi/recmock.yaml").unwrap());
}

#[tokio::test]
async fn the_json_is_served_verbatim() {
    let app = spawn(json!({})).await;
    let r = app.client.get(format!("{}/__admin/openapi.json", app.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let text = r.text().await.unwrap();
    assert_eq!(text, std::fs::read_to_string("openapi/recmock.json").unwrap());
}

/// `openapi/recmock.json` (served at `/__admin/openapi.json`) is `openapi/recmock.yaml` converted, byte for
/// byte as `serde_json::to_string` writes it. With `RECMOCK_WRITE_OPENAPI_JSON=1` (`make openapi-json`)
/// the test writes the file instead.
#[test]
fn the_json_is_the_yaml_converted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let yaml = std::fs::read_to_string(root.join("openapi/recmock.yaml")).expect("openapi/recmock.yaml");
    let value: Value = serde_norway::from_str(&yaml).unwrap_or_else(|e| panic!("openapi/recmock.yaml: {e}"));
    let converted = serde_json::to_string(&value).expect("JSON");
    let path = root.join("openapi/recmock.json");
    if std::env::var("RECMOCK_WRITE_OPENAPI_JSON").as_deref() == Ok("1") {
        std::fs::write(&path, &converted).expect("openapi/recmock.json written");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == converted,
        "openapi/recmock.json is stale: run make openapi-json (it differs from openapi/recmock.yaml converted)"
    );
}
