//! Tenant state of the live-SDK recording service: apps, their users' recordings and the VOD files those
//! recordings produced.

use crate::files::{Picture, Shape, DEFAULT_PICTURE};
use crate::recording::Recording;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Longest recorded file: the document cuts a file every 90 minutes of recording.
pub const SEGMENT_S: i64 = 90 * 60;

/// How long a client may send nothing before its recording is closed (the document: 1 分钟没收到数据).
pub const NO_DATA_CLOSE_S: i64 = 60;

pub use crate::vendors::kit::UsersigCheck;

/// An app as a fixture declares it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// the app
    pub sdkappid: u64,
    /// the app key: user signatures (the SDK login) are made with it
    pub key: String,
    /// `strict` (default) or `any`
    #[serde(default)]
    pub usersig_check: UsersigCheck,
    /// the account has the VOD service (without it recording is refused with code 1)
    #[serde(default = "yes")]
    pub vod_enabled: bool,
    /// the account's VOD balance; at or below 0 recording is refused with code 2
    #[serde(default = "default_balance")]
    pub vod_balance: f64,
    /// the VOD API v2 `SecretId` of the account
    #[serde(default)]
    pub vod_secret_id: Option<String>,
    /// the VOD API v2 `SecretKey` that signs requests made with `vod_secret_id`
    #[serde(default)]
    pub vod_secret_key: Option<String>,
    /// recordings the flow-control server lets the app run at once (30000401 beyond)
    #[serde(default = "default_max_recordings")]
    pub max_recordings: u32,
}

fn yes() -> bool {
    true
}
fn default_balance() -> f64 {
    100.0
}
fn default_max_recordings() -> u32 {
    100
}

/// The client SDK a request stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// `TIMAvManager.requestMultiVideoRecorderStart`
    Android,
    /// `requestMultiVideoRecorderStart:recordInfo:okBlock:errBlock:`
    Ios,
    /// `RequestMultiVideoRecorderStart`
    Windows,
    /// `StartRecordVideo(videotype, ...)`: camera only, and its transcode/snapshot/watermark flags have no
    /// effect (暂没有作用)
    Web,
}

impl Platform {
    /// Parse the wire name (case-insensitive).
    pub fn parse(s: &str) -> Option<Platform> {
        match s.trim().to_ascii_lowercase().as_str() {
            "android" => Some(Platform::Android),
            "ios" => Some(Platform::Ios),
            "windows" => Some(Platform::Windows),
            "web" => Some(Platform::Web),
            _ => None,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Android => "android",
            Platform::Ios => "ios",
            Platform::Windows => "windows",
            Platform::Web => "web",
        }
    }
}

/// The original's picture (VOD definition 0): 1280×720 at 25 frames per second.
pub const ORIGINAL: Picture = DEFAULT_PICTURE;

/// What a piece's files hold: the camera with its sound, or the auxiliary stream (the screen), which
/// carries no sound.
pub fn piece_shape(record_data_type: u8) -> Shape {
    if record_data_type == DATA_AUX {
        Shape::silent_video(ORIGINAL)
    } else {
        Shape::video(ORIGINAL)
    }
}

/// `record_data_type` 0: the camera.
pub const DATA_CAMERA: u8 = 0;
/// `record_data_type` 1: the auxiliary stream (辅流: the screen).
pub const DATA_AUX: u8 = 1;

/// What the client asked for when it started recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordParams {
    /// the SDK the request came from
    pub platform: Platform,
    /// 录制生成的文件名 (no extension); the VOD `fileName` of every file of the recording
    pub file_name: String,
    /// 视频分类ID
    pub class_id: u32,
    /// 视频标签
    pub tags: Vec<String>,
    /// 是否转码
    pub is_transcode: bool,
    /// 是否截图
    pub is_screenshot: bool,
    /// 是否打水印
    pub is_watermark: bool,
    /// SDK业务类型 (passed through)
    pub sdk_type: u32,
    /// 0 camera, 1 auxiliary stream
    pub record_data_type: u8,
}

/// Why a recording ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// the client stopped it
    Stopped,
    /// the client sent no data for a minute (crashed or left)
    ClientGone,
    /// the recording server failed it (world event)
    Failed,
}

/// One start → stop of one user: a sequence of 90-minute pieces, each of which becomes one VOD file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SdkRecording {
    /// sequence number within the app
    pub seq: u64,
    /// the user recording
    pub identifier: String,
    /// 群组ID / 讨论组ID
    pub relation_id: u32,
    /// 房间ID
    pub room_id: u32,
    /// the start request's parameters
    pub params: RecordParams,
    /// when it started, virtual ms
    pub started_ms: i64,
    /// the piece being recorded now (the engine's recording; `segment_s` is 90 minutes)
    pub piece: Recording,
    /// VOD file ids of the pieces cut so far, in order
    pub file_ids: Vec<String>,
    /// since when the client has sent no data, virtual ms
    pub gone_since_ms: Option<i64>,
    /// when it ended, virtual ms
    pub closed_ms: Option<i64>,
    /// why it ended
    pub close_reason: Option<CloseReason>,
    /// the failure reason (world event `live_sdk.recording_fail`)
    pub failure: Option<String>,
    /// the failure was reported to the client's stop already
    pub failure_reported: bool,
}

impl SdkRecording {
    /// Still recording (possibly without data for less than a minute).
    pub fn is_open(&self) -> bool {
        self.closed_ms.is_none()
    }

    /// `relation_id:room_id`.
    pub fn room(&self) -> String {
        format!("{}:{}", self.relation_id, self.room_id)
    }
}

/// One playable output of a VOD file (`playSet` entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlayOutput {
    /// VOD definition: 0 the original, 10/20/30 transcodes
    pub definition: u32,
    /// key in the file store
    pub file_key: String,
    /// bits per second of video
    pub vbitrate: u64,
    /// pixels
    pub vwidth: u32,
    /// pixels
    pub vheight: u32,
    /// bytes
    pub size: u64,
}

/// A VOD file: one cut piece of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VodFile {
    /// the VOD file id (what stop returns, DescribeRecordPlayInfo's `vid`)
    pub file_id: String,
    /// the recording it belongs to
    pub recording_seq: u64,
    /// 1-based position in the recording
    pub index: u32,
    /// the `file_name` given at start
    pub file_name: String,
    /// transcodes were asked for (and the platform honours the flag)
    pub transcode: bool,
    /// a cover screenshot was asked for (and the platform honours the flag)
    pub screenshot: bool,
    /// the engine's recording of this piece: processing phases, its one segment
    pub recording: Recording,
    /// playable outputs, once processed
    pub outputs: Vec<PlayOutput>,
    /// the cover image in the file store, once processed
    pub image_key: Option<String>,
}

impl VodFile {
    /// Recorded seconds.
    pub fn duration_s(&self) -> i64 {
        self.recording.recorded_s()
    }
}

/// A tenant: one app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveApp {
    /// as configured (the VOD flags may change through `live_sdk.vod_account`)
    pub config: AppConfig,
    /// every recording, by sequence number
    pub recordings: BTreeMap<u64, SdkRecording>,
    /// VOD files by file id
    pub files: BTreeMap<String, VodFile>,
    /// recordings started so far
    pub recordings_created: u64,
    /// `(Timestamp, Nonce)` of VOD requests accepted within the freshness window (replay protection)
    pub nonces: BTreeSet<(i64, u64)>,
    /// the open recording of each user (derived from `recordings`, rebuilt on restore)
    #[serde(skip)]
    pub active: BTreeMap<String, u64>,
    /// the latest recording of each user (derived from `recordings`, rebuilt on restore)
    #[serde(skip)]
    pub latest: BTreeMap<String, u64>,
}

/// A time outside 0..=year 9999 among `times`.
fn out_of_range(times: &[Option<i64>]) -> Option<String> {
    times
        .iter()
        .flatten()
        .find(|t| !(0..=crate::clock::MAX_TIME_MS).contains(*t))
        .map(|t| format!("time {t} is not between 0 and the year 9999 (ms)"))
}

/// Why an engine recording of a dump cannot be run on: times out of range, a piece longer than 90 minutes
/// (each piece is one file), or a file larger than its media at the highest byte rate.
fn recording_problem(r: &Recording) -> Option<String> {
    let times = [Some(r.created_ms), r.started_ms, r.stopped_ms, Some(r.phase_since_ms), r.span_start_ms];
    if let Some(p) = out_of_range(&times) {
        return Some(p);
    }
    if !(0..=SEGMENT_S * 1000).contains(&r.recorded_ms) || r.segments.len() > 1 {
        return Some(format!("a piece holds 0..{SEGMENT_S} s of media in at most one segment"));
    }
    if r.segments
        .iter()
        .any(|s| !(0..=SEGMENT_S).contains(&s.duration_s) || s.size > SEGMENT_S as u64 * 10_000_000)
    {
        return Some(format!("a segment lasts 0..{SEGMENT_S} s at most 10000000 bytes per second"));
    }
    None
}

impl LiveApp {
    /// A fresh app.
    pub fn new(config: AppConfig) -> Self {
        LiveApp {
            config,
            recordings: BTreeMap::new(),
            files: BTreeMap::new(),
            recordings_created: 0,
            nonces: BTreeSet::new(),
            active: BTreeMap::new(),
            latest: BTreeMap::new(),
        }
    }

    /// Recompute the derived indexes (after a restore).
    pub fn rebuild(&mut self) {
        self.active.clear();
        self.latest.clear();
        for (seq, r) in &self.recordings {
            self.latest.insert(r.identifier.clone(), *seq);
            if r.is_open() {
                self.active.insert(r.identifier.clone(), *seq);
            }
        }
    }

    /// Problems of a dumped app that would break its rules (two open recordings of one user, a file of an
    /// unknown recording).
    pub fn problems(&self) -> Option<String> {
        let mut open = BTreeSet::new();
        for (seq, r) in &self.recordings {
            if r.seq != *seq {
                return Some(format!("recording {seq} says it is {}", r.seq));
            }
            if r.is_open() && !open.insert(r.identifier.as_str()) {
                return Some(format!("user `{}` has two open recordings", r.identifier));
            }
            if r.is_open() && !r.piece.is_active() {
                return Some(format!("recording {seq} is open but its piece is not active"));
            }
        }
        for (seq, r) in &self.recordings {
            let times = [Some(r.started_ms), r.gone_since_ms, r.closed_ms];
            if let Some(p) = recording_problem(&r.piece).or_else(|| out_of_range(&times)) {
                return Some(format!("recording {seq}: {p}"));
            }
        }
        for (id, f) in &self.files {
            if let Some(p) = recording_problem(&f.recording) {
                return Some(format!("file {id}: {p}"));
            }
            if f.file_id != *id {
                return Some(format!("file {id} says it is {}", f.file_id));
            }
            if !self.recordings.contains_key(&f.recording_seq) {
                return Some(format!("file {id} belongs to no recording ({})", f.recording_seq));
            }
        }
        None
    }
}

impl crate::tenants::TenantState for LiveApp {
    fn entities(&self) -> Vec<(&'static str, usize)> {
        vec![("recording", self.recordings.len()), ("vod_file", self.files.len())]
    }

    fn fixture_item(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    /// Each app under its own sdkappid, with runnable recordings (its configuration, a VOD secret used
    /// twice included, is checked like a fixture's).
    fn check_dump(apps: &std::collections::BTreeMap<String, Self>) -> Result<(), String> {
        for (id, a) in apps {
            if *id != a.config.sdkappid.to_string() {
                return Err(format!("apps.{id}: holds app {}", a.config.sdkappid));
            }
            if let Some(p) = a.problems() {
                return Err(format!("apps.{id}: {p}"));
            }
        }
        Ok(())
    }

    fn rebuild(&mut self) {
        LiveApp::rebuild(self);
    }
}
