//! Every shipped fixture (the demo world and fixtures/scenarios/*) loads, and each scenario runs as its
//! description says.
mod common;
use common::*;
use serde_json::{json, Value};

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).expect("fixture file")
}

/// Each file in fixtures/scenarios is a valid fixture on its own.
#[tokio::test]
async fn every_scenario_file_loads() {
    let dir = format!("{}/fixtures/scenarios", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let app = spawn_with(Spawn { fixtures: vec![text], ..Spawn::default() }).await;
        let (s, v) = app.get("/__admin/tenants").await;
        assert_eq!(s, 200);
        assert!(!v["tenants"].as_array().unwrap().is_empty(), "{}: {v}", path.display());
        app.stop().await;
        n += 1;
    }
    assert!(n >= 2);
}

/// 001 scenario: a task recording the class; the teacher's screen share joins the group on the timeline; the
/// task nobody finishes stops itself `timeout` seconds after everyone left.
#[tokio::test]
async fn cloud_record_class_scenario() {
    let app = spawn_with(Spawn {
        fixtures: vec![read("fixtures/scenarios/cloud_record_class.json")],
        ..Spawn::default()
    })
    .await;
    let (_, v) = app.get("/access/token?dev_id=scn_dev&token=scn-token").await;
    let at = v["result"]["access_token"].as_str().unwrap().to_string();
    let h = [("Authorization", at.as_str())];
    app.advance(90.0).await; // the teacher is in
    let (_, v) = app
        .post_h(
            "/v1/record/init",
            json!({"app_id": "scn_app", "group_id": "math-101", "timeout": 60, "auto": {}}),
            &h,
        )
        .await;
    assert_eq!(v["code"], 0, "{v}");
    let rid = v["record_id"].as_str().unwrap().to_string();
    let v = app.advance(5460.0 - 90.0 + 59.0).await;
    let status = |v: &Value| v["record_list"][0]["status"].as_i64().unwrap();
    let list = format!("/v1/record/task/list?app_id=scn_app&record_id={rid}");
    assert_eq!(status(&app.get_h(&list, &h).await.1), 2, "{v}");
    app.advance(1.0).await; // 60 s after everyone left
    assert_eq!(status(&app.get_h(&list, &h).await.1), 3);
    app.advance(30.0).await;
    assert_eq!(status(&app.get_h(&list, &h).await.1), 6);
    let (_, files) =
        app.get_h(&format!("/v1/record/file/download/url?app_id=scn_app&record_id={rid}"), &h).await;
    assert_eq!(files["total_num"], 2, "90 minutes in 60-minute files: {files}");
    app.stop().await;
}

/// 000 scenario: the class runs on the timeline; once it has ended its recording gives one 1000 and three
/// 1001 callbacks.
#[tokio::test]
async fn ilvb_edu_class_scenario() {
    let rx = Receiver::start().await;
    let app = spawn_with(Spawn {
        fixtures: vec![read("fixtures/scenarios/ilvb_edu_class.json")],
        ..Spawn::default()
    })
    .await;
    app.post("/__admin/callbacks/url", json!({"tenant": "ilvb_edu:1400000002", "url": rx.url})).await;
    app.advance(9010.0).await;
    let sig = recmock::tlssig::sign(1_400_000_002, "scn-key", "admin", T0, 86_400);
    let path =
        format!("/v4/ilvb_edu/record?sdkappid=1400000002&identifier=admin&usersig={sig}&contenttype=json");
    let (_, v) = app
        .post(&path, json!({"cmd": "open_record_svc", "sub_cmd": "req_record", "class_roomid": 3003}))
        .await;
    assert_eq!(v["error_code"], 0, "{v}");
    app.advance(60.0).await;
    let events: Vec<i64> = rx.received().iter().map(|r| r.body["event_type"].as_i64().unwrap()).collect();
    assert_eq!(events, vec![1000, 1001, 1001, 1001]);
    rx.stop().await;
    app.stop().await;
}

/// 003 scenario: the meeting starts on the timeline; the recording and live opened during it are closed by
/// its end, and the recording becomes a 60-minute and a 10-minute file.
#[tokio::test]
async fn meeting_record_live_scenario() {
    let app = spawn_with(Spawn {
        fixtures: vec![read("fixtures/scenarios/meeting_record_live.json")],
        ..Spawn::default()
    })
    .await;
    let h = [("auth", "scn-api-id:scn-api-key")];
    let k = json!({ "conferenceKey": "1866" });
    let (_, v) = app.post_h("/meeting/openRecord", k.clone(), &h).await;
    assert_eq!(v["code"], "200006", "not on yet: {v}");
    app.advance(60.0).await;
    let (_, v) = app.post_h("/meeting/openRecord", k.clone(), &h).await;
    let rid = v["data"]["recordId"].as_str().unwrap().to_string();
    let (_, v) = app.post_h("/meeting/openLive", k.clone(), &h).await;
    assert_eq!(v["code"], "200", "{v}");
    app.advance(4200.0).await; // the meeting ends
    let (_, v) = app.post_h("/meeting/getLiveRecStatus", k.clone(), &h).await;
    assert_eq!(v["code"], 200_006, "{v}");
    app.advance(20.0).await;
    let (_, v) = app.post_h("/meeting/getRecords", json!({ "recordId": rid }), &h).await;
    let sizes: Vec<i64> =
        v["data"].as_array().unwrap().iter().map(|r| r["fileSize"].as_i64().unwrap()).collect();
    assert_eq!(sizes, vec![3600 * 2000, 600 * 2000], "{v}");
    let (_, v) =
        app.post_h("/meeting/openLive", json!({ "conferenceKey": "9000" }), &[("auth", "900")]).await;
    assert_eq!(v["code"], "200005", "{v}");
    app.stop().await;
}

/// 002 scenario: alice records, her app crashes 100 minutes in; the recording closes itself a minute later
/// with a 90-minute file and a 10-minute one.
#[tokio::test]
async fn live_sdk_crash_scenario() {
    let app = spawn_with(Spawn {
        fixtures: vec![read("fixtures/scenarios/live_sdk_crash.json")],
        ..Spawn::default()
    })
    .await;
    let q = "sdkappid=1400000003&identifier=alice&usersig=any";
    let body = json!({"platform": "ios", "relation_id": 1, "room_id": 1, "file_name": "alice_class"});
    let (_, v) = app.post(&format!("/live_sdk/v1/record/start?{q}"), body.clone()).await;
    assert_eq!(v["code"], 0, "{v}");
    let ran = app.advance(6060.0).await;
    let text = ran.to_string();
    assert!(text.contains("file") && text.contains("closed, no data from the client"), "{ran}");
    let (_, v) = app.post(&format!("/live_sdk/v1/record/stop?{q}"), body).await;
    assert_eq!(v["code"], 30_000_202, "{v}");
    let (_, state) = app.get("/__admin/state").await;
    let files = state["vendors"]["live_sdk"]["apps"]["1400000003"]["files"].as_object().unwrap().clone();
    let mut durations: Vec<i64> =
        files.values().map(|f| f["recording"]["recorded_ms"].as_i64().unwrap() / 1000).collect();
    durations.sort();
    assert_eq!(durations, vec![600, 5400]);
    app.stop().await;
}
