//! Tenant state of the cloud-recording vendor: accounts, their groups and streams, their record tasks.

use crate::world::{Phase, Recording};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many superseded access tokens an account remembers (to answer "timeout" rather than "auth failed").
pub const RETIRED_TOKENS_KEPT: usize = 32;

/// An account as a fixture declares it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// developer id
    pub dev_id: String,
    /// developer token accepted as is by `/access/token`
    pub token: String,
    /// application id
    pub app_id: String,
    /// 16-character app secret: when set, tokens made by the vendor's TokenGenerator are accepted too
    #[serde(default)]
    pub app_secret: Option<String>,
    /// access-token lifetime in seconds
    #[serde(default = "default_token_timeout")]
    pub token_timeout_s: i64,
    /// most active tasks (statuses 1, 2, 7) at once → 6050030009
    #[serde(default = "default_max_tasks")]
    pub max_tasks: usize,
    /// most active tasks in one group at once → 6050030010
    #[serde(default = "default_max_group_tasks")]
    pub max_group_tasks: usize,
    /// most inputs (audio + video) in one layout → 6050030011
    #[serde(default = "default_max_layout_inputs")]
    pub max_layout_inputs: usize,
    /// bytes of stored files; a new task is refused when it is used up → 6050030008
    #[serde(default = "default_quota")]
    pub quota_bytes: u64,
}

fn default_token_timeout() -> i64 {
    7200
}
fn default_max_tasks() -> usize {
    100
}
fn default_max_group_tasks() -> usize {
    5
}
fn default_max_layout_inputs() -> usize {
    16
}
fn default_quota() -> u64 {
    1 << 30
}

/// A stream a user publishes in a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stream {
    /// 0 screen share, 1 audio, 2 camera
    pub media_type: u8,
    /// the stream's id
    #[serde(deserialize_with = "crate::wire::lenient_string_required")]
    pub media_id: String,
}

/// A group (room) and who publishes what in it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// user id → streams
    pub users: BTreeMap<String, Vec<Stream>>,
}

impl Group {
    /// Whether `user` publishes a stream of `media_type` with `media_id`.
    pub fn has_stream(&self, user: &str, media_type: u8, media_id: &str) -> bool {
        self.users
            .get(user)
            .is_some_and(|s| s.iter().any(|x| x.media_type == media_type && x.media_id == media_id))
    }

    /// Whether anyone publishes anything.
    pub fn any_stream(&self) -> bool {
        self.users.values().any(|s| !s.is_empty())
    }
}

/// `init.auto`, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoSpec {
    /// 1 equal split, 2 main + others
    #[serde(rename = "type")]
    pub kind: u8,
    /// main user
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// media priority
    pub media_type: u8,
    /// most videos
    pub media_count: u8,
    /// crop mode
    pub crop_mode: u8,
}

/// One audio input of a layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioInput {
    /// owner
    pub user_id: String,
    /// stream
    pub media_id: String,
}

/// One video input of a layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoInput {
    /// owner
    pub user_id: String,
    /// stream
    pub media_id: String,
    /// 0 screen share, 2 camera
    pub media_type: u8,
    /// x
    pub x: u32,
    /// y
    pub y: u32,
    /// width
    pub w: u32,
    /// height
    pub h: u32,
    /// crop mode
    pub crop_mode: u8,
}

/// A manual task's composition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    /// audio inputs
    pub audio: Vec<AudioInput>,
    /// video inputs
    pub video: Vec<VideoInput>,
}

/// A record task: the engine's recording plus what 001 says about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordTask {
    /// creation order within the account
    pub no: u64,
    /// the engine's recording (its id is the record_id)
    pub recording: Recording,
    /// group recorded
    pub group_id: String,
    /// file name without extension
    pub file_name: String,
    /// 0 mp4, 1 mp3
    pub file_type: u8,
    /// canvas width
    pub width: u32,
    /// canvas height
    pub height: u32,
    /// 0 mixed
    pub record_mode: u8,
    /// frames per second
    pub frame_rate: u32,
    /// idle seconds before the task stops itself
    pub timeout_s: i64,
    /// automatic recording settings
    pub auto: Option<AutoSpec>,
    /// manual composition
    pub layout: Option<Layout>,
    /// `seq` of the init request
    pub seq: String,
    /// last command (init, layout, suspend, resume), virtual ms
    pub last_command_ms: i64,
    /// since when nothing recordable has been in the group, virtual ms
    pub idle_since_ms: Option<i64>,
    /// why it stopped: `finish`, `timeout`, or a failure
    pub stop_reason: Option<String>,
    /// files were deleted through `POST /v1/record/file`
    pub files_deleted: bool,
}

impl RecordTask {
    /// The vendor's status: 1 initialised, 2 recording, 3 queued for encoding, 4 encoding, 5 uploading,
    /// 6 done, -1 failed; 7 suspended (as the vendor's console shows it).
    pub fn status(&self) -> i64 {
        match self.recording.phase {
            Phase::Initialised => 1,
            Phase::Recording => 2,
            Phase::Paused => 7,
            Phase::Queued => 3,
            Phase::Encoding => 4,
            Phase::Uploading => 5,
            Phase::Done => 6,
            Phase::Failed => -1,
        }
    }

    /// Whether anything this task would record is in `group` now.
    pub fn has_input(&self, group: Option<&Group>) -> bool {
        let Some(g) = group else { return false };
        match (&self.auto, &self.layout) {
            (None, Some(l)) if !(l.audio.is_empty() && l.video.is_empty()) => {
                l.audio.iter().any(|a| g.has_stream(&a.user_id, 1, &a.media_id))
                    || l.video.iter().any(|v| g.has_stream(&v.user_id, v.media_type, &v.media_id))
            }
            _ => g.any_stream(),
        }
    }
}

/// An access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessToken {
    /// 32 hex digits
    pub token: String,
    /// expiry, virtual ms
    pub expires_ms: i64,
}

/// A tenant: one account and everything it owns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// as the fixture declared it
    pub config: AccountConfig,
    /// the one valid access token
    pub access_token: Option<AccessToken>,
    /// recently superseded access tokens
    pub retired_tokens: Vec<String>,
    /// groups by id
    pub groups: BTreeMap<String, Group>,
    /// tasks by record_id
    pub tasks: BTreeMap<String, RecordTask>,
    /// tasks created so far (record ids count from 10001)
    pub tasks_created: u64,
    /// record ids of active tasks, by group (derived: kept exact by `refresh_active`, rebuilt on restore)
    #[serde(skip)]
    pub active: BTreeMap<String, std::collections::BTreeSet<String>>,
    /// number of active tasks (derived, with `active`)
    #[serde(skip)]
    pub active_count: usize,
    /// bytes of the files that exist (derived; kept up to date where files appear and go, rebuilt on restore)
    #[serde(skip)]
    pub stored: u64,
}

impl Account {
    /// A fresh account.
    pub fn new(config: AccountConfig) -> Self {
        Account {
            config,
            access_token: None,
            retired_tokens: Vec::new(),
            groups: BTreeMap::new(),
            tasks: BTreeMap::new(),
            tasks_created: 0,
            active: Default::default(),
            active_count: 0,
            stored: 0,
        }
    }

    /// Recompute the derived indexes from the tasks (after a restore).
    pub fn rebuild(&mut self) {
        self.active.clear();
        self.active_count = 0;
        let ids: Vec<String> = self.tasks.keys().cloned().collect();
        for id in ids {
            self.refresh_active(&id);
        }
        self.stored = self
            .tasks
            .values()
            .flat_map(|t| t.recording.segments.iter())
            .filter(|s| s.file_key.is_some())
            .map(|s| s.size)
            .sum();
    }

    /// Bring the active index up to date for one task; call it after anything that may change whether
    /// the task is active (created, finished, stopped itself, failed). Only finished tasks are removed from
    /// `tasks`, and those are not in the index.
    pub fn refresh_active(&mut self, record_id: &str) {
        let Some(t) = self.tasks.get(record_id) else { return };
        let (group, active) = (t.group_id.clone(), t.recording.is_active());
        let set = self.active.entry(group.clone()).or_default();
        let was = set.remove(record_id);
        if active {
            set.insert(record_id.to_string());
        }
        if set.is_empty() {
            self.active.remove(&group);
        }
        self.active_count = self.active_count + usize::from(active) - usize::from(was);
    }

    /// Active tasks (statuses 1, 2 or 7) of one group.
    pub fn active_in_group<'a>(&'a self, group: &str) -> impl Iterator<Item = &'a RecordTask> + 'a {
        self.active.get(group).into_iter().flatten().filter_map(|r| self.tasks.get(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{MediaKind, Timings};

    fn task(id: &str, group: &str) -> RecordTask {
        RecordTask {
            no: 0,
            recording: Recording::new(id.into(), group.into(), MediaKind::Video, 900, 0),
            group_id: group.into(),
            file_name: id.into(),
            file_type: 0,
            width: 1920,
            height: 1080,
            record_mode: 0,
            frame_rate: 30,
            timeout_s: 600,
            auto: None,
            layout: None,
            seq: String::new(),
            last_command_ms: 0,
            idle_since_ms: None,
            stop_reason: None,
            files_deleted: false,
        }
    }

    /// The incrementally kept indexes always equal a full rebuild.
    #[test]
    fn derived_indexes_match_a_rebuild() {
        let cfg: AccountConfig =
            serde_json::from_value(serde_json::json!({"dev_id":"d","token":"t","app_id":"a"})).unwrap();
        let mut acc = Account::new(cfg);
        let t = Timings::default();
        for (i, g) in ["g1", "g1", "g2", "g3"].iter().enumerate() {
            let id = format!("r{i}");
            acc.tasks.insert(id.clone(), task(&id, g));
            acc.refresh_active(&id);
        }
        assert_eq!((acc.active_count, acc.active_in_group("g1").count()), (4, 2));
        acc.tasks.get_mut("r1").unwrap().recording.stop(10, &t).unwrap();
        acc.refresh_active("r1");
        acc.refresh_active("r1");
        acc.tasks.get_mut("r2").unwrap().recording.fail(10, "x").unwrap();
        acc.refresh_active("r2");
        let mut rebuilt = acc.clone();
        rebuilt.rebuild();
        assert_eq!((acc.active_count, &acc.active), (rebuilt.active_count, &rebuilt.active));
        assert_eq!(acc.active_count, 2);
        assert_eq!(acc.active_in_group("g2").count(), 0);
    }
}
