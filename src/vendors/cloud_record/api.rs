//! Wire types of the cloud-recording API (seed 001): request bodies as clients send them.
//!
//! Unknown fields are ignored (real clients send `white_board`, `auto.main_media_type`). Fields the
//! document types as String but shows as numbers in its own examples (`media_id`, `user_id`, `mode`,
//! `auto.user_id`) accept both; other wrong types are refused as bad parameters.

use serde::Deserialize;
use serde_json::Value;

/// `POST /v1/record/init`.
#[derive(Debug, Deserialize)]
pub struct InitRequest {
    /// 应用ID
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub app_id: Option<String>,
    /// 分组
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub group_id: Option<String>,
    /// file name without extension
    pub file_name: Option<String>,
    /// 0 mp4, 1 mp3
    pub file_type: Option<i64>,
    /// segment length in minutes, [15,300]
    pub file_duration: Option<i64>,
    /// canvas width [1,1920]
    pub width: Option<i64>,
    /// canvas height [1,1080]
    pub height: Option<i64>,
    /// 0: mixed
    pub record_mode: Option<i64>,
    /// [1,30]
    pub frame_rate: Option<i64>,
    /// seconds without streams or commands before the task stops itself, [5,1800]
    pub timeout: Option<i64>,
    /// automatic recording when present
    pub auto: Option<AutoRequest>,
    /// echoed back
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub seq: Option<String>,
}

/// `init.auto`.
#[derive(Debug, Deserialize)]
pub struct AutoRequest {
    /// 1 equal split, 2 main + others
    #[serde(rename = "type")]
    pub kind: Option<i64>,
    /// main user for type 2
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub user_id: Option<String>,
    /// media priority; 2: screen share > camera > whiteboard
    pub media_type: Option<i64>,
    /// at most this many videos, [1,9]
    pub media_count: Option<i64>,
    /// 1 tile, 2 crop, 3 fill
    pub crop_mode: Option<i64>,
}

/// `suspend`, `resume`, `finish`.
#[derive(Debug, Deserialize)]
pub struct TaskRequest {
    /// 应用ID
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub app_id: Option<String>,
    /// 录制任务的ID
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub record_id: Option<String>,
}

/// `set/layout`.
#[derive(Debug, Deserialize)]
pub struct LayoutRequest {
    /// 应用ID
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub app_id: Option<String>,
    /// 录制任务的ID
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub record_id: Option<String>,
    /// audio inputs
    pub audio_list: Option<Vec<AudioItem>>,
    /// video inputs
    pub video_list: Option<Vec<VideoItem>>,
    /// echoed back
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub seq: Option<String>,
}

/// One `audio_list` entry.
#[derive(Debug, Deserialize)]
pub struct AudioItem {
    /// owner of the stream
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub user_id: Option<String>,
    /// the stream
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub media_id: Option<String>,
    /// must be 1
    pub media_type: Option<i64>,
}

/// One `video_list` entry.
#[derive(Debug, Deserialize)]
pub struct VideoItem {
    /// owner of the stream
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub user_id: Option<String>,
    /// the stream
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub media_id: Option<String>,
    /// 0 screen share, 2 camera
    pub media_type: Option<i64>,
    /// [0,1920], default 0
    pub x: Option<i64>,
    /// [0,1080], default 0
    pub y: Option<i64>,
    /// [1,1920], default 320
    pub w: Option<i64>,
    /// [1,1080], default 240
    pub h: Option<i64>,
    /// 1..3, default 1
    pub crop_mode: Option<i64>,
}

/// `POST /v1/record/file`.
#[derive(Debug, Deserialize)]
pub struct DeleteFilesRequest {
    /// 1 files and records, 2 files only (default)
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub mode: Option<String>,
    /// 应用ID
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub app_id: Option<String>,
    /// record ids
    pub record_list: Option<Vec<Value>>,
}

/// `POST /generate/token` (the vendor console's token service).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateTokenRequest {
    /// app id
    pub app_id: Option<String>,
    /// app secret
    pub app_secret: Option<String>,
}
