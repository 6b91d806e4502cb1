//! Recordings are real media (issue 18). For one file from each vendor's flow: FFmpeg reads it without a
//! warning and decodes it without an error; its codecs, its dimensions and frame rate where the API set
//! them, and its durations (the container's and each stream's) agree with what the API reported, within one
//! frame; the MD5 of its download equals the reported MD5 and the MD5 of its ranges; two servers with the
//! same seed give the same bytes. Long files (a 2-hour 001 task, a 90-minute 002 recording) are read over
//! HTTP by ffprobe and ffmpeg (with ranges), their first and last 10 seconds decoded. Needs FFmpeg, like
//! `media` (the tests fail without it, saying how to install it).

use crate::common::*;
use crate::media::{decode_at, get, num, probe_at};
use serde_json::{json, Value};
use std::collections::HashMap;

/// What a vendor said about one of its files, and what the file must hold.
#[derive(Debug, Clone)]
struct Reported {
    /// for messages
    what: String,
    url: String,
    /// the duration the API reported, in milliseconds
    duration_ms: u64,
    /// the size the API reported
    size: u64,
    /// the MD5 the API reported (001), else the one the state dump has
    md5: Option<String>,
    tracks: Tracks,
}

impl Reported {
    /// A file of the picture of vendors that name none (1280×720 at 25 fps, with sound), at `url`, lasting
    /// `secs` and of `size` bytes as the API reported.
    fn default_picture(what: &str, url: &Value, secs: u64, size: &Value) -> Reported {
        Reported {
            what: what.into(),
            url: url.as_str().unwrap_or_else(|| panic!("{what}: no URL")).to_string(),
            duration_ms: secs * 1000,
            size: size.as_u64().unwrap_or_else(|| panic!("{what}: no size")),
            md5: None,
            tracks: Tracks::Mp4 { width: 1280, height: 720, fps: 25, sound: true },
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Tracks {
    /// H.264 of this width, height and frame rate, with AAC sound or without
    Mp4 { width: u32, height: u32, fps: u32, sound: bool },
    /// MP3, 44.1 kHz stereo
    Mp3,
    /// a JPEG of this width and height
    Jpeg { width: u32, height: u32 },
}

// ----- tools, off the async threads ------------------------------------------------------------------

async fn probe(url: &str) -> HashMap<String, String> {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || probe_at(&url, &[])).await.expect("ffprobe ran")
}

async fn decode(url: &str, input: &[&str], output: &[&str]) {
    let (url, input, output) = (url.to_string(), owned(input), owned(output));
    tokio::task::spawn_blocking(move || {
        decode_at(&url, &borrowed(&input), &borrowed(&output));
    })
    .await
    .expect("ffmpeg ran");
}

fn owned(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn borrowed(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// A client without the test client's 20-second limit (long downloads in debug builds).
fn patient_client() -> reqwest::Client {
    reqwest::Client::builder().pool_idle_timeout(POOL_IDLE).build().expect("client")
}

/// MD5 of a download, hashed as it arrives (never held whole).
async fn streamed_md5(url: &str, range: Option<&str>) -> (u16, u64, String) {
    use md5::{Digest, Md5};
    let mut rb = patient_client().get(url);
    if let Some(r) = range {
        rb = rb.header("range", r);
    }
    let mut resp = rb.send().await.expect("download");
    let status = resp.status().as_u16();
    let mut h = Md5::new();
    let mut n = 0u64;
    while let Some(chunk) = resp.chunk().await.expect("body") {
        n += chunk.len() as u64;
        h.update(&chunk);
    }
    (status, n, format!("{:x}", h.finalize()))
}

/// Every stored file's MD5 by key, from the state dump (which waits for them).
async fn dumped_md5s(app: &TestApp) -> HashMap<String, String> {
    let resp = patient_client().get(format!("{}/__admin/state", app.url)).send().await.expect("state");
    let v: Value = resp.json().await.expect("state JSON");
    v["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| (f["key"].as_str().unwrap().to_string(), f["md5"].as_str().unwrap().to_string()))
        .collect()
}

/// The file key of a download URL (`…/files/<key>/<name>`).
fn key_of(url: &str) -> String {
    url.split("/files/").nth(1).and_then(|r| r.split('/').next()).expect("a /files/ URL").to_string()
}

// ----- the checks -----------------------------------------------------------------------------------

/// FFmpeg's view of the file agrees with what the API said. `long`: decode only the first and the last
/// 10 seconds (over HTTP, with ranges) instead of the whole file.
async fn check_media(f: &Reported, long: bool) {
    let what = &f.what;
    let head = app_head(&f.url).await;
    assert_eq!(head.0, 200, "{what}");
    assert_eq!(head.1, f.size, "{what}: the size the API reported");
    let m = probe(&f.url).await;
    let secs = f.duration_ms as f64 / 1000.0;
    assert_eq!(num(&m, "format.size") as u64, f.size, "{what}");
    match f.tracks {
        Tracks::Mp4 { width, height, fps, sound } => {
            assert!(get(&m, "format.format_name").contains("mp4"), "{what}: {m:?}");
            let frame = 1.0 / f64::from(fps);
            let d = num(&m, "format.duration");
            assert!((d - secs).abs() <= frame, "{what}: format duration {d} vs the API's {secs}");
            assert_eq!(get(&m, "stream.0.codec_name"), "h264", "{what}");
            assert_eq!(get(&m, "stream.0.profile"), "Constrained Baseline", "{what}");
            assert_eq!(num(&m, "stream.0.width") as u32, width, "{what}");
            assert_eq!(num(&m, "stream.0.height") as u32, height, "{what}");
            assert_eq!(get(&m, "stream.0.r_frame_rate"), format!("{fps}/1"), "{what}");
            let d = num(&m, "stream.0.duration");
            assert!((d - secs).abs() <= frame, "{what}: video duration {d} vs the API's {secs}");
            if sound {
                assert_eq!(get(&m, "stream.1.codec_name"), "aac", "{what}");
                assert_eq!(get(&m, "stream.1.profile"), "LC", "{what}");
                let d = num(&m, "stream.1.duration");
                let frame = 1024.0 / num(&m, "stream.1.sample_rate");
                assert!((d - secs).abs() <= frame, "{what}: audio duration {d} vs the API's {secs}");
            } else {
                assert!(!m.contains_key("stream.1.codec_name"), "{what}: a silent file has one track: {m:?}");
            }
        }
        Tracks::Jpeg { width, height } => {
            assert_eq!(get(&m, "stream.0.codec_name"), "mjpeg", "{what}");
            assert_eq!(num(&m, "stream.0.width") as u32, width, "{what}");
            assert_eq!(num(&m, "stream.0.height") as u32, height, "{what}");
        }
        Tracks::Mp3 => {
            assert_eq!(get(&m, "format.format_name"), "mp3", "{what}");
            assert_eq!(get(&m, "stream.0.codec_name"), "mp3", "{what}");
            assert_eq!(num(&m, "stream.0.sample_rate") as u32, 44_100, "{what}");
            let frame = 1152.0 / 44_100.0;
            for k in ["format.duration", "stream.0.duration"] {
                let d = num(&m, k);
                assert!(d >= secs - 1e-6 && d < secs + frame, "{what}: {k} {d} vs the API's {secs}");
            }
        }
    }
    if long {
        decode(&f.url, &[], &["-t", "10"]).await;
        decode(&f.url, &["-sseof", "-10"], &[]).await;
    } else {
        decode(&f.url, &[], &[]).await;
    }
}

async fn app_head(url: &str) -> (u16, u64) {
    let resp = patient_client().head(url).send().await.expect("HEAD");
    let len = resp.headers()["content-length"].to_str().unwrap().parse().unwrap();
    (resp.status().as_u16(), len)
}

/// The MD5 of the download equals the reported MD5 (the API's, else the state dump's) and, unless `long`,
/// the MD5 of the file read as three ranges, and the bytes of a `multipart/byteranges` answer.
async fn check_md5(app: &TestApp, f: &Reported, long: bool) -> String {
    let what = &f.what;
    let dumped = dumped_md5s(app).await;
    let stored = dumped.get(&key_of(&f.url)).unwrap_or_else(|| panic!("{what}: not in the state dump"));
    if let Some(reported) = &f.md5 {
        assert_eq!(reported, stored, "{what}: the API's MD5 is the stored file's");
    }
    let (s, n, whole) = streamed_md5(&f.url, None).await;
    assert_eq!((s, n), (200, f.size), "{what}");
    assert_eq!(&whole, stored, "{what}: the download's MD5");
    if long {
        return whole;
    }
    let (a, b) = (f.size / 3, f.size * 2 / 3);
    let mut all = Vec::with_capacity(f.size as usize);
    for r in [format!("bytes=0-{}", a - 1), format!("bytes={a}-{}", b - 1), format!("bytes={b}-")] {
        let resp = app.client.get(&f.url).header("range", &r).send().await.unwrap();
        assert_eq!(resp.status(), 206, "{what} {r}");
        all.extend_from_slice(&resp.bytes().await.unwrap());
    }
    assert_eq!(all.len() as u64, f.size, "{what}");
    assert_eq!(md5_hex(&all), whole, "{what}: the MD5 of its ranges");
    // Two ranges at once: a multipart/byteranges answer with exactly those bytes.
    let (x, y) = (10u64, f.size - 100);
    let resp = app.client.get(&f.url).header("range", format!("bytes=0-{x},{y}-")).send().await.unwrap();
    assert_eq!(resp.status(), 206, "{what}");
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    let boundary = ct.strip_prefix("multipart/byteranges; boundary=").unwrap_or_else(|| panic!("{ct}"));
    let body = resp.bytes().await.unwrap();
    let parts = multipart_parts(&body, boundary);
    assert_eq!(parts.len(), 2, "{what}");
    assert_eq!(parts[0], ((0, x, f.size), all[..=x as usize].to_vec()), "{what}");
    assert_eq!(parts[1], ((y, f.size - 1, f.size), all[y as usize..].to_vec()), "{what}");
    whole
}

/// The parts of a `multipart/byteranges` body: each `Content-Range` (first, last, size) and its bytes.
type Part = ((u64, u64, u64), Vec<u8>);

fn multipart_parts(body: &[u8], boundary: &str) -> Vec<Part> {
    let delim = format!("--{boundary}");
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(i) = find(&body[pos..], delim.as_bytes()) {
        let start = pos + i + delim.len();
        if body[start..].starts_with(b"--") {
            break;
        }
        let head_end = start + find(&body[start..], b"\r\n\r\n").expect("part head") + 4;
        let head = String::from_utf8_lossy(&body[start..head_end]).to_string();
        let range = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Range: bytes "))
            .expect("a Content-Range per part");
        let (span, size) = range.trim().split_once('/').unwrap();
        let (first, last) = span.split_once('-').unwrap();
        let (first, last, size): (u64, u64, u64) =
            (first.parse().unwrap(), last.parse().unwrap(), size.parse().unwrap());
        let len = (last - first + 1) as usize;
        out.push(((first, last, size), body[head_end..head_end + len].to_vec()));
        pos = head_end + len;
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Check every file (media and MD5); their MD5s, in order.
async fn check_all(app: &TestApp, files: &[Reported], long: bool) -> Vec<String> {
    let mut md5s = Vec::new();
    for f in files {
        check_media(f, long).await;
        md5s.push(check_md5(app, f, long).await);
    }
    md5s
}

/// Two servers with the same seed, the same fixture and the same requests serve the same bytes.
async fn same_bytes_on_two_servers<F, Fut>(fixture: Value, flow: F) -> (TestApp, Vec<Reported>)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = (TestApp, Vec<Reported>)>,
{
    let (a, files_a) = flow(spawn(fixture.clone()).await).await;
    let (b, files_b) = flow(spawn(fixture).await).await;
    let (ma, mb) = (dumped_md5s(&a).await, dumped_md5s(&b).await);
    assert_eq!(files_a.len(), files_b.len());
    for (fa, fb) in files_a.iter().zip(&files_b) {
        assert_eq!(
            ma[&key_of(&fa.url)],
            mb[&key_of(&fb.url)],
            "{}: the same seed and requests give the same bytes",
            fa.what
        );
        assert_eq!(fa.size, fb.size);
    }
    b.stop().await;
    (a, files_a)
}

// ----- 000 ------------------------------------------------------------------------------------------

const EDU_APP: u64 = 1_400_000_001;

/// Room 3003 held a one-minute class that ended 10 s ago.
fn edu_world() -> Value {
    json!({ "ilvb_edu": {
        "apps": [{ "sdkappid": EDU_APP, "key": "k", "usersig_check": "any" }],
        "classrooms": [{ "sdkappid": EDU_APP, "roomid": 3003, "start": -70, "end": -10 }]
    } })
}

async fn edu_flow(app: TestApp) -> (TestApp, Vec<Reported>) {
    let path = format!("/v4/ilvb_edu/record?sdkappid={EDU_APP}&identifier=admin&usersig=x&contenttype=json");
    let (_, v) = app
        .post(&path, json!({ "cmd": "open_record_svc", "sub_cmd": "req_record", "class_roomid": 3003 }))
        .await;
    assert_eq!(v["error_code"], 0, "{v}");
    app.advance(30.0).await;
    let (_, v) = app
        .post(
            &path,
            json!({ "cmd": "open_record_svc", "sub_cmd": "query_record_result", "class_roomid": 3003 }),
        )
        .await;
    let f = &v["record_files"][0];
    assert_eq!(f["file_duration"], 60, "{v}");
    let secs = f["file_duration"].as_u64().unwrap();
    let files = vec![Reported::default_picture("000 file", &f["file_url"], secs, &f["file_size"])];
    (app, files)
}

#[tokio::test]
async fn ilvb_edu_files_are_real_media() {
    let (app, files) = same_bytes_on_two_servers(edu_world(), edu_flow).await;
    assert_eq!(files[0].size, 60 * 250_000, "the default 2 Mbit/s");
    check_all(&app, &files, false).await;
    app.stop().await;
}

// ----- 001 ------------------------------------------------------------------------------------------

const CR_APP: &str = "media_app";

fn cr_world(timings: Value) -> Value {
    json!({
        "timings": timings,
        "cloud_record": {
            "accounts": [{ "dev_id": "media_dev", "token": "media-token", "app_id": CR_APP }],
            "groups": [{ "app_id": CR_APP, "group_id": "room", "users": [{ "user_id": "u1", "streams": [
                { "media_type": 2, "media_id": "0" }, { "media_type": 1, "media_id": "1" } ] }] }]
        }
    })
}

async fn cr_token(app: &TestApp) -> String {
    let (_, v) = app.get("/access/token?dev_id=media_dev&token=media-token").await;
    v["result"]["access_token"].as_str().expect("access token").to_string()
}

async fn cr_post(app: &TestApp, token: &str, path: &str, mut body: Value) -> Value {
    body["app_id"] = json!(CR_APP);
    let (s, v) = app.post_h(path, body, &[("Authorization", token)]).await;
    assert_eq!((s, v["code"].as_i64()), (200, Some(0)), "{path}: {v}");
    v
}

/// `GET /v1/record/file/download/url` of task `rid`: the answer.
async fn cr_files(app: &TestApp, token: &str, rid: &str) -> Value {
    let rb = app
        .client
        .get(format!("{}/v1/record/file/download/url", app.url))
        .query(&[("app_id", CR_APP), ("record_id", rid)])
        .header("Authorization", token);
    app.send(rb).await.1
}

/// Record `init` (a task of `group`) for `secs` seconds, finish, process; its files as `download/url`
/// reports them.
async fn cr_task(
    app: &TestApp,
    init: Value,
    layout: Option<Value>,
    secs: f64,
    tracks: Tracks,
) -> Vec<Reported> {
    let token = cr_token(app).await;
    let rid = cr_post(app, &token, "/v1/record/init", init).await["record_id"].as_str().unwrap().to_string();
    if let Some(mut l) = layout {
        l["record_id"] = json!(rid);
        cr_post(app, &token, "/v1/record/set/layout", l).await;
    }
    app.advance(secs).await;
    // (a token lasts two hours)
    let token = cr_token(app).await;
    cr_post(app, &token, "/v1/record/finish", json!({ "record_id": rid })).await;
    app.advance(20.0).await;
    let v = cr_files(app, &token, &rid).await;
    assert_eq!(v["status"], 6, "{v}");
    v["data_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let extent: Value = serde_json::from_str(e["extent"].as_str().unwrap()).unwrap();
            Reported {
                what: format!("001 file {}", e["file_name"]),
                url: e["url"].as_str().unwrap().to_string(),
                duration_ms: extent["duration"].as_u64().unwrap() * 1000,
                size: extent["size"].as_u64().unwrap(),
                md5: Some(e["md5"].as_str().unwrap().to_string()),
                tracks,
            }
        })
        .collect()
}

/// A 5-second automatic task on the default canvas (1920×1080 at 30 fps, with sound), and a 10-second
/// audio-only task (an MP3).
async fn cr_flow(app: TestApp) -> (TestApp, Vec<Reported>) {
    let mp4 = Tracks::Mp4 { width: 1920, height: 1080, fps: 30, sound: true };
    let mut files = cr_task(&app, json!({ "group_id": "room", "auto": {} }), None, 5.0, mp4).await;
    let audio = json!({ "audio_list": [{ "user_id": "u1", "media_id": "1", "media_type": 1 }] });
    files.extend(
        cr_task(&app, json!({ "group_id": "room", "file_type": 1 }), Some(audio), 10.0, Tracks::Mp3).await,
    );
    (app, files)
}

#[tokio::test]
async fn cloud_record_files_are_real_media() {
    let (app, files) = same_bytes_on_two_servers(cr_world(json!({})), cr_flow).await;
    assert_eq!(files.len(), 2);
    assert_eq!((files[0].duration_ms, files[0].size), (5_000, 5 * 250_000), "the default 2 Mbit/s");
    assert_eq!((files[1].duration_ms, files[1].size), (10_000, 10 * 16_000), "the default 128 kbit/s");
    check_all(&app, &files, false).await;
    app.stop().await;
}

/// A 2-hour task of a 320×240 canvas at 15 fps (what `init` set), at 6,000 bytes a second: one file that
/// ffprobe reads over HTTP and whose first and last 10 seconds decode; its MD5 is the download's.
#[tokio::test]
async fn a_two_hour_cloud_record_task_is_one_real_two_hour_file() {
    let app = spawn(cr_world(json!({ "video_bytes_per_s": 6000 }))).await;
    let init = json!({ "group_id": "room", "auto": {}, "file_duration": 120, "width": 320, "height": 240,
                       "frame_rate": 15 });
    let tracks = Tracks::Mp4 { width: 320, height: 240, fps: 15, sound: true };
    let files = cr_task(&app, init, None, 7200.0, tracks).await;
    assert_eq!(files.len(), 1);
    assert_eq!((files[0].duration_ms, files[0].size), (7_200_000, 7200 * 6000));
    check_media(&files[0], true).await;
    check_md5(&app, &files[0], false).await;
    app.stop().await;
}

/// HTTP as a media host answers it: `If-None-Match` with the ETag is 304; `If-Range` with the ETag honours
/// the range, with anything else answers the whole file; the ETag does not wait for the MD5.
#[tokio::test]
async fn downloads_answer_conditional_requests() {
    let app = spawn(cr_world(json!({}))).await;
    let mp4 = Tracks::Mp4 { width: 1920, height: 1080, fps: 30, sound: true };
    let f = cr_task(&app, json!({ "group_id": "room", "auto": {} }), None, 5.0, mp4).await.remove(0);
    let resp = app.client.get(&f.url).header("range", "bytes=0-99").send().await.unwrap();
    assert_eq!(resp.status(), 206);
    let etag = resp.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && etag.contains(&key_of(&f.url)), "{etag}");
    let first = resp.bytes().await.unwrap();
    let resp = app.client.get(&f.url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(resp.status(), 304);
    assert_eq!(resp.headers()["etag"], etag.as_str());
    assert!(resp.bytes().await.unwrap().is_empty());
    let resp =
        app.client.get(&f.url).header("if-none-match", "\"other\", W/".to_string() + &etag).send().await;
    assert_eq!(resp.unwrap().status(), 304, "a list, weakly compared");
    let resp = app.client.get(&f.url).header("if-none-match", "\"other\"").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let resp =
        app.client.get(&f.url).header("range", "bytes=0-99").header("if-range", &etag).send().await.unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.bytes().await.unwrap(), first);
    for stale in ["\"other\"", "Wed, 21 Oct 2015 07:28:00 GMT"] {
        let resp = app
            .client
            .get(&f.url)
            .header("range", "bytes=0-99")
            .header("if-range", stale)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "If-Range {stale}: the whole file");
        assert_eq!(resp.headers()["content-length"], f.size.to_string().as_str());
    }
    // Ranges past the end are dropped from a set; none satisfiable is 416.
    let resp =
        app.client.get(&f.url).header("range", format!("bytes=0-1,{}-", f.size + 5)).send().await.unwrap();
    assert_eq!(
        (resp.status().as_u16(), resp.headers()["content-range"].to_str().unwrap()),
        (206, &*format!("bytes 0-1/{}", f.size))
    );
    let resp = app.client.get(&f.url).header("range", format!("bytes={}-", f.size)).send().await.unwrap();
    assert_eq!(resp.status(), 416);
    // Once known, the MD5 comes with the bytes.
    let resp = app.client.get(&f.url).send().await.unwrap();
    assert_eq!(resp.headers()["x-recmock-md5"], f.md5.as_deref().unwrap());
    app.stop().await;
}

// ----- 002 ------------------------------------------------------------------------------------------

const LIVE_APP: u64 = 1_400_000_002;
const SECRET_ID: &str = "AKIDmedia000000000000000000000000000";
const SECRET_KEY: &str = "mediaSecretKey00000000000000000";

fn live_world(timings: Value) -> Value {
    json!({ "timings": timings, "live_sdk": { "apps": [{ "sdkappid": LIVE_APP, "key": "k", "usersig_check": "any",
        "vod_secret_id": SECRET_ID, "vod_secret_key": SECRET_KEY }] } })
}

async fn live_call(app: &TestApp, what: &str, body: Value) -> Value {
    let q = format!("sdkappid={LIVE_APP}&identifier=alice&usersig=x");
    let (_, v) = app.post(&format!("/live_sdk/v1/record/{what}?{q}"), body).await;
    assert_eq!(v["code"], 0, "{what}: {v}");
    v
}

/// `DescribeRecordPlayInfo` of `vid`, signed as the SDKs sign.
async fn play_info(app: &TestApp, vid: &str) -> Value {
    use recmock::vendors::live_sdk::vod::{signed_query, SignatureMethod};
    let host = app.url.trim_start_matches("http://").to_string();
    let params: Vec<(String, String)> = [
        ("Action", "DescribeRecordPlayInfo".to_string()),
        ("Timestamp", app.now().await.to_string()),
        ("Nonce", "4242".to_string()),
        ("SecretId", SECRET_ID.to_string()),
        ("vid", vid.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let q = signed_query(SECRET_KEY, SignatureMethod::HmacSha1, "GET", &host, &params);
    let (_, v) = app.get(&format!("/v2/index.php?{q}")).await;
    assert_eq!(v["code"], 0, "{v}");
    v["fileSet"][0].clone()
}

/// Record `secs` seconds (transcoded and with a cover when `extras`); the file's outputs.
async fn live_recording(app: &TestApp, secs: f64, extras: bool) -> (Value, Vec<Reported>) {
    let room = json!({ "platform": "android", "relation_id": 15000, "room_id": 7, "file_name": "lesson",
                       "is_transcode": extras, "is_screenshot": extras });
    live_call(app, "start", room.clone()).await;
    app.advance(secs).await;
    let v = live_call(app, "stop", room).await;
    let vid = v["file_ids"][0].as_str().unwrap().to_string();
    app.advance(20.0).await;
    let entry = play_info(app, &vid).await;
    let duration = entry["duration"].as_u64().unwrap();
    let mut files = Vec::new();
    for p in entry["playSet"].as_array().unwrap() {
        // The VOD API reports a bit rate, not a size: the size is the file's, and the bit rate its own.
        let url = p["url"].as_str().unwrap().to_string();
        let size = app_head(&url).await.1;
        assert_eq!(p["vbitrate"].as_u64().unwrap(), size * 8 / duration, "{p}");
        files.push(Reported {
            what: format!("002 definition {}", p["definition"]),
            url,
            duration_ms: duration * 1000,
            size,
            md5: None,
            tracks: Tracks::Mp4 {
                width: p["vwidth"].as_u64().unwrap() as u32,
                height: p["vheight"].as_u64().unwrap() as u32,
                fps: 25,
                sound: true,
            },
        });
    }
    (entry, files)
}

async fn live_flow(app: TestApp) -> (TestApp, Vec<Reported>) {
    let (entry, files) = live_recording(&app, 60.0, true).await;
    assert_eq!(entry["duration"], 60);
    let defs: Vec<u64> =
        entry["playSet"].as_array().unwrap().iter().map(|p| p["definition"].as_u64().unwrap()).collect();
    assert_eq!(defs, vec![0, 10, 20, 30]);
    let cover = entry["image_url"].as_str().unwrap().to_string();
    let size = app_head(&cover).await.1;
    let mut files = files;
    files.push(Reported {
        what: "002 cover".into(),
        url: cover,
        duration_ms: 0,
        size,
        md5: None,
        tracks: Tracks::Jpeg { width: 1280, height: 720 },
    });
    (app, files)
}

/// A one-minute recording with transcoding and a cover: the original (1280×720) and each definition
/// (320×180, 640×360, 1280×720, at a quarter, half and three quarters of its bytes: `vbitrate`) are real
/// MP4s of the VOD `duration`; the cover (`image_url`) is a JPEG that decodes.
#[tokio::test]
async fn live_sdk_files_and_covers_are_real_media() {
    let (app, files) = same_bytes_on_two_servers(live_world(json!({})), live_flow).await;
    assert_eq!(files[0].size, 60 * 250_000, "the original at the default 2 Mbit/s");
    for (f, quarters) in files[1..4].iter().zip([1, 2, 3]) {
        assert_eq!(f.size, files[0].size / 4 * quarters, "{}", f.what);
    }
    check_all(&app, &files, false).await;
    let resp = app.client.get(&files[4].url).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    app.stop().await;
}

/// A 90-minute recording: one 5400-second file (1280×720 at 25 fps, the smallest valid one at 1,000
/// bytes a second) that ffprobe reads over HTTP, whose first and last 10 seconds decode and whose MD5 is the
/// download's.
#[tokio::test]
async fn a_ninety_minute_live_sdk_recording_is_real_media() {
    let app = spawn(live_world(json!({ "video_bytes_per_s": 1000 }))).await;
    let (entry, files) = live_recording(&app, 5400.0, false).await;
    assert_eq!(entry["duration"], 5400);
    assert_eq!(files.len(), 1);
    assert!(files[0].size > 5400 * 1000, "below the smallest valid file: the smallest");
    check_media(&files[0], true).await;
    check_md5(&app, &files[0], true).await;
    app.stop().await;
}

// ----- 003 ------------------------------------------------------------------------------------------

const MEET_AUTH: &str = "mediaid:mediakey";

fn meeting_world() -> Value {
    json!({ "meeting": {
        "tenants": [{ "auth": MEET_AUTH, "ent_id": 61, "cloud": "public" }],
        "conferences": [{ "ent_id": 61, "conference_key": "7001", "started": true }]
    } })
}

async fn meeting_call(app: &TestApp, api: &str, body: Value) -> Value {
    let (_, v) = app.post_h(&format!("/meeting/{api}"), body, &[("auth", MEET_AUTH)]).await;
    assert_eq!(v["code"], "200", "{api}: {v}");
    v["data"].clone()
}

/// Seconds of `HH:MM:SS` in a `YYYY-MM-DD HH:MM:SS` time (the test's times are on one day).
fn clock_s(t: &str) -> u64 {
    let hms: Vec<u64> = t.split(' ').nth(1).unwrap().split(':').map(|x| x.parse().unwrap()).collect();
    hms[0] * 3600 + hms[1] * 60 + hms[2]
}

async fn meeting_flow(app: TestApp) -> (TestApp, Vec<Reported>) {
    let id = meeting_call(&app, "openRecord", json!({ "conferenceKey": "7001" })).await["recordId"]
        .as_str()
        .unwrap()
        .to_string();
    app.advance(60.0).await;
    meeting_call(&app, "closeRecord", json!({ "conferenceKey": "7001" })).await;
    app.advance(20.0).await;
    let rows = meeting_call(&app, "getRecords", json!({ "recordId": id })).await;
    let row = &rows[0];
    let secs = clock_s(row["stopTime"].as_str().unwrap()) - clock_s(row["startTime"].as_str().unwrap());
    let files = vec![Reported::default_picture("003 file", &row["downUrl"], secs, &row["fileSize"])];
    (app, files)
}

#[tokio::test]
async fn meeting_files_are_real_media() {
    let (app, files) = same_bytes_on_two_servers(meeting_world(), meeting_flow).await;
    assert_eq!((files[0].duration_ms, files[0].size), (60_000, 60 * 250_000));
    check_all(&app, &files, false).await;
    app.stop().await;
}

// ----- 004 ------------------------------------------------------------------------------------------

const TIC_APP: u64 = 1_400_127_140;
const TIC_KEY: &str = "DzXpbluRsmo1JkoFxzKMNg5ifrA4GRlU";
const EXPIRE: i64 = T0 + 30 * 86_400;

fn tic_world() -> Value {
    json!({ "iclass": {
        "apps": [{ "sdkappid": TIC_APP, "tic_key": TIC_KEY }],
        "users": [{ "sdkappid": TIC_APP, "user_id": "t1", "role": "teacher", "regist_time": T0 - 100 }]
    } })
}

async fn tic_flow(app: TestApp) -> (TestApp, Vec<Reported>) {
    let sign = md5_hex(format!("{TIC_KEY}{EXPIRE}").as_bytes());
    let path = format!("/paas/v1/class/create?sdkappid={TIC_APP}&random=7&sign={sign}");
    let body = json!({ "expire_time": EXPIRE, "teacher_id": "t1", "settings": { "record_types": ["remote"] },
                       "record_user_id": "tic_recorduser_1", "record_user_sig": "sig" });
    let (_, v) = app.post(&path, body).await;
    let class_id = v["class_id"].as_u64().unwrap_or_else(|| panic!("{v}"));
    app.event(json!({ "type": "iclass.class_begin", "sdkappid": TIC_APP, "class_id": class_id,
                      "streams": [{ "user_id": "t1", "video_type": 0 }] }))
        .await;
    app.advance(60.0).await;
    app.event(json!({ "type": "iclass.class_over", "sdkappid": TIC_APP, "class_id": class_id })).await;
    app.advance(20.0).await;
    let (_, log) = app.get("/__admin/callbacks?vendor=iclass").await;
    let stop = log["callbacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["event"] == "online_record_stop")
        .unwrap_or_else(|| panic!("{log}"))
        .clone();
    let files = stop["payload"]["data"]["video_info"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| Reported {
            what: format!("004 video_type {}", v["video_type"]),
            url: v["video_url"].as_str().unwrap().to_string(),
            duration_ms: v["video_duration"].as_u64().unwrap() * 1000,
            size: v["video_size"].as_u64().unwrap(),
            md5: None,
            // a camera has sound; the whiteboard (2) is silent
            tracks: Tracks::Mp4 { width: 1024, height: 768, fps: 20, sound: v["video_type"] == 0 },
        })
        .collect();
    (app, files)
}

#[tokio::test]
async fn iclass_videos_are_real_media() {
    let (app, files) = same_bytes_on_two_servers(tic_world(), tic_flow).await;
    assert_eq!(files.len(), 2, "the teacher's camera and the whiteboard");
    for f in &files {
        assert_eq!((f.duration_ms, f.size), (60_000, 60 * 250_000), "{}", f.what);
    }
    check_all(&app, &files, false).await;
    app.stop().await;
}

// ----- older state dumps ----------------------------------------------------------------------------

/// Make a state dump look like one written before files were media: no `media` on files, no `shape` on
/// recordings, no `seed` on segments; sizes at the former 2,000 bytes a second; MD5s of other bytes.
fn as_older_dump(v: &mut Value, secs: u64) {
    fn strip(v: &mut Value, secs: u64) {
        match v {
            Value::Object(m) => {
                m.remove("shape");
                if m.contains_key("file_key") {
                    m.remove("seed");
                    m.insert("size".into(), json!(secs * 2000));
                }
                m.values_mut().for_each(|x| strip(x, secs));
            }
            Value::Array(a) => a.iter_mut().for_each(|x| strip(x, secs)),
            _ => {}
        }
    }
    strip(&mut v["vendors"], secs);
    v["timings"]["video_bytes_per_s"] = json!(2000);
    v["timings"]["audio_bytes_per_s"] = json!(500);
    for f in v["files"].as_array_mut().unwrap() {
        let f = f.as_object_mut().unwrap();
        f.remove("media");
        f.insert("size".into(), json!(secs * 2000));
        f.insert("md5".into(), json!("0".repeat(32)));
    }
}

/// A dump written before files were media is restored with its files regenerated: media of their format
/// lasting what their size stood for (size ÷ that dump's 2,000 bytes a second), in the largest picture that
/// fits that size (160×120 at 5 fps, with sound), and their MD5s computed afresh.
#[tokio::test]
async fn files_of_an_older_dump_are_regenerated_as_media() {
    let app = spawn(cr_world(json!({}))).await;
    let mp4 = Tracks::Mp4 { width: 1920, height: 1080, fps: 30, sound: true };
    let before = cr_task(&app, json!({ "group_id": "room", "auto": {} }), None, 30.0, mp4).await.remove(0);
    let (_, mut dump) = app.get("/__admin/state").await;
    as_older_dump(&mut dump, 30);
    let (s, v) = app.send(app.client.put(format!("{}/__admin/state", app.url)).json(&dump)).await;
    assert_eq!(s, 200, "{v}");
    let token = cr_token(&app).await;
    let list = app.client.get(format!("{}/v1/record/task/list", app.url)).query(&[("app_id", CR_APP)]);
    let (_, tasks) = app.send(list.header("Authorization", &token)).await;
    let rid = tasks["record_list"][0]["record_id"].as_str().unwrap_or_else(|| panic!("{tasks}")).to_string();
    let v = cr_files(&app, &token, &rid).await;
    let e = &v["data_list"][0];
    let extent: Value = serde_json::from_str(e["extent"].as_str().unwrap_or("{}")).unwrap();
    assert_eq!((extent["duration"].as_u64(), extent["size"].as_u64()), (Some(30), Some(60_000)), "{v}");
    assert_eq!(e["url"].as_str(), Some(before.url.as_str()));
    assert_ne!(e["md5"], json!("0".repeat(32)), "the MD5 is computed afresh");
    let f = Reported {
        what: "a file of an older dump".into(),
        url: before.url,
        duration_ms: 30_000,
        size: 60_000,
        md5: e["md5"].as_str().map(str::to_string),
        tracks: Tracks::Mp4 { width: 160, height: 120, fps: 5, sound: true },
    };
    check_all(&app, &[f], false).await;
    app.stop().await;
}
