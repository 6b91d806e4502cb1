//! Tenant state of the meeting service: enterprises (tenants), their conferences, recordings and lives.

use crate::recording::Recording;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Which cloud a tenant lives on. The document authenticates both, but offers live only on the public one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cloud {
    /// 公有云: `auth` is built from the enterprise's API ID and API KEY (`<API ID>:<API KEY>`)
    #[default]
    Public,
    /// 专属云: `auth` is the tenant's key field (the document's example: `auth=800`)
    Dedicated,
}

impl Cloud {
    /// The fixture word.
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Public => "public",
            Cloud::Dedicated => "dedicated",
        }
    }
}

/// The zone `startTime`/`stopTime` are written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeZone {
    /// UTC: what the document's own example shows (see docs/decisions.md, 003)
    #[default]
    Utc,
    /// Beijing time, UTC+8
    Beijing,
}

impl TimeZone {
    /// Seconds east of UTC.
    pub fn offset_s(self) -> i64 {
        match self {
            TimeZone::Utc => 0,
            TimeZone::Beijing => crate::clock::calendar::BEIJING_OFFSET_S,
        }
    }
}

/// A tenant as a fixture declares it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// the `auth` header value that authenticates this tenant
    pub auth: String,
    /// 企业ID或租户ID
    pub ent_id: u64,
    /// `public` (default) or `dedicated`
    #[serde(default)]
    pub cloud: Cloud,
    /// longest recorded file, seconds (the document's example file lasts exactly one hour)
    #[serde(default = "default_segment_s")]
    pub segment_s: i64,
    /// zone of `startTime`/`stopTime`: `utc` (default) or `beijing`
    #[serde(default)]
    pub timezone: TimeZone,
}

fn default_segment_s() -> i64 {
    3600
}

impl TenantConfig {
    /// The API ID part of a public-cloud `auth` (`<API ID>:<API KEY>`).
    pub fn api_id(&self) -> Option<&str> {
        match self.cloud {
            Cloud::Public => self.auth.split_once(':').map(|(id, _)| id),
            Cloud::Dedicated => None,
        }
    }
}

/// A live broadcast of a conference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Live {
    /// the id in its watch URL and stream name
    pub live_id: String,
    /// when it was opened, virtual ms
    pub started_ms: i64,
}

/// A conference (会议室), known by its short number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conference {
    /// 会议短号
    pub conference_key: String,
    /// may it be recorded (200004 otherwise)
    pub allow_record: bool,
    /// may it go live (200005 otherwise)
    pub allow_live: bool,
    /// since when the meeting is on, virtual ms; none while it is not (200006)
    pub started_ms: Option<i64>,
    /// `recordId` of the recording in progress
    pub recording: Option<String>,
    /// the live in progress
    pub live: Option<Live>,
    /// why its latest recording failed (`getLiveRecStatus.failedReason`), until the next one starts
    pub failed_reason: Option<String>,
}

impl Conference {
    /// A conference as declared.
    pub fn new(key: String, allow_record: bool, allow_live: bool, started_ms: Option<i64>) -> Self {
        Conference {
            conference_key: key,
            allow_record,
            allow_live,
            started_ms,
            recording: None,
            live: None,
            failed_reason: None,
        }
    }
}

/// One recorded file of a recording (one row of `getRecords`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordFile {
    /// the row's own `recordId` (32 hex digits, like the document's rows)
    pub file_id: String,
    /// key in the file store
    pub file_key: String,
    /// file name (`<conferenceKey>_<HHMMSS Beijing>.mp4`, the document's shape)
    pub name: String,
    /// start of the recorded span, virtual ms
    pub start_ms: i64,
    /// end of the recorded span, virtual ms
    pub stop_ms: i64,
    /// bytes
    pub size: u64,
}

/// One recording: from `openRecord` to `closeRecord` (or the conference's end).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeetingRecord {
    /// the `recordId` `openRecord` answered (a UUID, like the document's)
    pub record_id: String,
    /// the conference recorded
    pub conference_key: String,
    /// the engine's recording
    pub recording: Recording,
    /// its files, once processed (deleted ones are gone from here)
    pub files: Vec<RecordFile>,
    /// what closed it: `closeRecord`, `conference_end`
    pub closed_by: Option<String>,
}

/// A tenant: one enterprise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    /// as configured
    pub config: TenantConfig,
    /// conferences by short number
    pub conferences: BTreeMap<String, Conference>,
    /// recordings by `recordId` (a hash map: ids are random UUIDs, one more per `openRecord`; written to a
    /// dump in id order)
    #[serde(serialize_with = "in_id_order")]
    pub records: HashMap<String, MeetingRecord>,
}

/// A map written with its keys in order, so dumps do not depend on hashing.
fn in_id_order<S: serde::Serializer, V: Serialize>(m: &HashMap<String, V>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(m.iter().collect::<BTreeMap<&String, &V>>())
}

impl Tenant {
    /// A tenant with no conferences.
    pub fn new(config: TenantConfig) -> Self {
        Tenant { config, conferences: BTreeMap::new(), records: HashMap::new() }
    }

    /// The recording that owns the file row `file_id`.
    pub fn record_of_file(&self, file_id: &str) -> Option<&MeetingRecord> {
        self.records.values().find(|r| r.files.iter().any(|f| f.file_id == file_id))
    }
}
