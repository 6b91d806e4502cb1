//! The server starts, answers health, and refuses unknown paths in JSON.
use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn health_and_unknown_paths_answer_json() {
    let app = spawn(json!({})).await;
    let (s, v) = app.get("/__admin/health").await;
    assert_eq!(s, 200);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["now"], T0);
    let (s, v) = app.get("/no/such/thing").await;
    assert_eq!(s, 404);
    assert!(v["error"].as_str().unwrap().contains("/no/such/thing"));
    let (s, v) = app.get("/v1/record/init").await;
    assert_eq!(s, 405, "{v}");
    app.stop().await;
}

#[tokio::test]
async fn embedded_demo_world_loads() {
    let app =
        spawn_with(Spawn { fixtures: vec![recmock::fixture::DEMO_JSON.to_string()], ..Spawn::default() })
            .await;
    let (_, v) = app.get("/__admin/tenants").await;
    assert!(v["tenants"].as_array().unwrap().iter().any(|t| t == "cloud_record:demo_app_0001"), "{v}");
    app.stop().await;
}

#[tokio::test]
async fn the_test_receiver_records_and_answers_from_its_script() {
    let r = Receiver::start().await;
    r.script([Answer::with(500, "no")]);
    let c = reqwest::Client::new();
    let a = c.post(format!("{}?x=1", r.url)).body(r#"{"a":1}"#).send().await.unwrap();
    assert_eq!(a.status().as_u16(), 500);
    let b = c.post(&r.url).body("{}").send().await.unwrap();
    assert_eq!(b.text().await.unwrap(), r#"{"error_code":0}"#);
    let got = r.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].params["x"], "1");
    assert_eq!(got[0].body["a"], 1);
    assert!(c.post(dead_url()).send().await.is_err());
    r.stop().await;
}
