//! Wire types of the meeting REST API (seed 003), in the document's field names and order.

use serde::{Deserialize, Serialize};

/// The body of `openRecord`, `closeRecord`, `openLive`, `closeLive` and `getLiveRecStatus`.
#[derive(Debug, Deserialize)]
pub struct ConferenceRequest {
    /// 会议短号 (a string; a number is accepted, short numbers are digits)
    #[serde(default, rename = "conferenceKey", deserialize_with = "crate::wire::lenient_string")]
    pub conference_key: Option<String>,
    /// the same short number under the name real clients send to `getLiveRecStatus`
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub sipkey: Option<String>,
}

/// The body of `getRecords` and `delRecordFile`.
#[derive(Debug, Deserialize)]
pub struct RecordRequest {
    /// 录制产生的唯一ID: a recording's id (from `openRecord`) or one file row's id
    #[serde(default, rename = "recordId", deserialize_with = "crate::wire::lenient_string")]
    pub record_id: Option<String>,
    /// `getRecords`: base URL for `downUrl` (`https://apiServer`); default recmock's public URL
    #[serde(default)]
    pub origin: Option<String>,
    /// `getRecords` extension: every file of this conference, when `recordId` is absent
    #[serde(default, rename = "conferenceKey", deserialize_with = "crate::wire::lenient_string")]
    pub conference_key: Option<String>,
}

/// `data` of `openRecord`, `closeRecord`, `delRecordFile`.
#[derive(Debug, Serialize)]
pub struct RecordIdData {
    /// 本次录制的唯一ID
    #[serde(rename = "recordId")]
    pub record_id: String,
}

/// `data` of `openLive`.
#[derive(Debug, Serialize)]
pub struct LiveData {
    /// 直播观看地址
    pub liveurl: String,
}

/// One row of `getRecords`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordRow {
    /// the file row's own id (32 hex digits)
    pub record_id: String,
    /// 会议号
    pub conference_key: String,
    /// 企业ID或租户ID
    pub ent_id: u64,
    /// the recording (`openRecord`'s `recordId`) this file belongs to
    pub cid: String,
    /// `YYYY-MM-DD HH:MM:SS`
    pub start_time: String,
    /// bytes
    pub file_size: u64,
    /// `YYYY-MM-DD HH:MM:SS`
    pub stop_time: String,
    /// where the bytes download
    pub down_url: String,
}

/// `data` of `getLiveRecStatus`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveRecStatus {
    /// 会议短号
    pub conference_key: String,
    /// 直播是否开启
    pub live: bool,
    /// the live stream while live, `""` otherwise
    pub rtmp_url: String,
    /// 录制是否开启
    pub record: bool,
    /// the recording in progress, `""` otherwise
    pub record_id: String,
    /// why the latest recording failed; absent unless it did
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_reason: Option<String>,
}
