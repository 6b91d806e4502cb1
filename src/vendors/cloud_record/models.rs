//! Tenant state of the cloud-recording vendor: accounts, their groups and streams, their record tasks.

use crate::files::{Picture, Shape, MP4_SOUND};
use crate::index::{Chunked, FastMap, RankedSet};
use crate::recording::{Phase, Recording};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many superseded access tokens an account remembers (to answer "timeout" rather than "auth failed").
pub const RETIRED_TOKENS_KEPT: usize = 32;

/// An account as a fixture declares it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// developer id (absent: the app id, as the vendor's console uses it)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev_id: Option<String>,
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

impl AccountConfig {
    /// The developer id: the one declared, else the app id.
    pub fn dev_id(&self) -> &str {
        self.dev_id.as_deref().unwrap_or(&self.app_id)
    }
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
/// 100 GiB: some 110 hours of recordings at the default 2 Mbit/s.
fn default_quota() -> u64 {
    100 << 30
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

/// The vendor's status of a recording in `phase` (see [`RecordTask::status`]).
pub fn phase_status(phase: Phase) -> i64 {
    match phase {
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

/// The status as a person reads it: `3 queued for encoding`.
pub fn status_words(status: i64) -> String {
    let word = match status {
        1 => "initialised",
        2 => "recording",
        3 => "queued for encoding",
        4 => "encoding",
        5 => "uploading",
        6 => "done",
        7 => "suspended",
        _ => "failed",
    };
    format!("{status} {word}")
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
    /// automatic recording settings (boxed: most tasks have none, and a task's size counts a million times)
    pub auto: Option<Box<AutoSpec>>,
    /// manual composition (boxed, as `auto`)
    pub layout: Option<Box<Layout>>,
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
    /// when its one pending idle-timeout job is due, virtual ms (none pending; not in dumps: a restored
    /// task adopts the dump's job when it runs)
    #[serde(skip)]
    pub timeout_job_ms: Option<i64>,
}

impl RecordTask {
    /// The vendor's status: 1 initialised, 2 recording, 3 queued for encoding, 4 encoding, 5 uploading,
    /// 6 done, -1 failed; 7 suspended (as the vendor's console shows it).
    pub fn status(&self) -> i64 {
        phase_status(self.recording.phase)
    }

    /// What its files hold: an MP3 (`file_type` 1), or an MP4 of the init's canvas and frame rate, with
    /// sound when it records some (an automatic task mixes the group's audio; a manual one has sound when
    /// its layout has an audio input).
    pub fn file_shape(&self) -> Shape {
        if self.file_type == 1 {
            return Shape::mp3();
        }
        let picture = Picture { width: self.width, height: self.height, fps: self.frame_rate };
        let sound = match (&self.auto, &self.layout) {
            (None, Some(l)) => !l.audio.is_empty(),
            _ => true,
        };
        Shape::Mp4 { video: Some(picture), audio: sound.then_some(MP4_SOUND) }
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
    /// tasks by record_id, with the indexes of the task list
    pub tasks: TaskTable,
    /// tasks created so far (record ids count from 10001)
    pub tasks_created: u64,
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
            tasks: TaskTable::default(),
            tasks_created: 0,
            stored: 0,
        }
    }

    /// Recompute the derived figures from the tasks (after a restore). The task indexes are rebuilt by
    /// the table itself when it is read; the creation counter is moved past every task's number, so a new
    /// task never reuses a record id and always sorts after the existing ones.
    pub fn rebuild(&mut self) {
        self.tasks_created = self.tasks_created.max(self.tasks.max_no());
        self.stored = self
            .tasks
            .values()
            .flat_map(|t| t.recording.segments.iter())
            .filter(|s| s.file_key.is_some())
            .map(|s| s.size)
            .sum();
    }

    /// Bring the indexes up to date for one task; call it after anything that may change its status
    /// (created, layout set, suspended, resumed, finished, stopped itself, processed, failed).
    pub fn refresh(&mut self, record_id: &str) {
        self.tasks.reindex(record_id);
    }

    /// Number of active tasks (statuses 1, 2 or 7).
    pub fn active_count(&self) -> usize {
        self.tasks.active_count()
    }

    /// Active tasks (statuses 1, 2 or 7) of one group.
    pub fn active_in_group<'a>(&'a self, group: &str) -> impl Iterator<Item = &'a RecordTask> + 'a {
        self.tasks.active_in_group(group)
    }
}

/// Where a task is stored in its account's table (a freed slot is reused by the next task).
type Slot = u32;

/// A task's place in the indexes: its rank in creation order (high half) and its slot (low half). Ranks
/// only grow, so a new task's key is past every other and is appended; a task's key never changes.
type Key = u64;

fn key_of(rank: u32, slot: Slot) -> Key {
    (u64::from(rank) << 32) | u64::from(slot)
}

fn slot_of(key: Key) -> usize {
    (key & u64::from(u32::MAX)) as usize
}

/// The tasks of one group, and its active ones (statuses 1, 2, 7), as sorted keys. Plain vectors: a
/// group usually holds a handful of tasks (an account can have a group per class), and new tasks append.
#[derive(Debug, Clone, Default, PartialEq)]
struct GroupSlots {
    all: Vec<Key>,
    active: Vec<Key>,
}

/// Put `key` into the sorted `v`; false if it was there.
fn file_slot(v: &mut Vec<Key>, key: Key) -> bool {
    match v.last() {
        Some(&last) if last < key => {
            v.push(key);
            true
        }
        None => {
            v.push(key);
            true
        }
        _ => match v.binary_search(&key) {
            Ok(_) => false,
            Err(at) => {
                v.insert(at, key);
                true
            }
        },
    }
}

/// Take `key` out of the sorted `v`; false if it was not there.
fn unfile_slot(v: &mut Vec<Key>, key: Key) -> bool {
    match v.binary_search(&key) {
        Ok(at) => {
            v.remove(at);
            true
        }
        Err(_) => false,
    }
}

/// `status()` as an index into the per-status sets: -1 → 0, 1..=7 → 1..=7.
fn status_slot(status: i64) -> usize {
    status.clamp(0, 7) as usize
}

/// What `GET /v1/record/task/list` filters on.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// one record id
    pub record_id: Option<String>,
    /// one group
    pub group_id: Option<String>,
    /// one status (-1, 1..=7)
    pub status: Option<i64>,
    /// created at or after, virtual ms
    pub start_ms: Option<i64>,
    /// stopped at or before, virtual ms
    pub stop_ms: Option<i64>,
}

impl TaskFilter {
    fn accepts(&self, t: &RecordTask) -> bool {
        self.record_id.as_ref().is_none_or(|r| &t.recording.id == r)
            && self.group_id.as_ref().is_none_or(|g| &t.group_id == g)
            && self.status.is_none_or(|s| t.status() == s)
            && self.start_ms.is_none_or(|s| t.recording.created_ms >= s)
            && self.stop_ms.is_none_or(|s| t.recording.stopped_ms.is_some_and(|x| x <= s))
    }
}

/// An account's record tasks in creation order, with the indexes that keep the task list flat as the
/// account grows: a page is found by position in the set of tasks matching the filter (all tasks, one
/// status, one group), never by sorting or filtering every task.
///
/// Tasks live in `slots`; a removed task's slot is reused by the next task, so deletes and creates in any
/// number leave the table as large as its most tasks at once. The record id maps to its slot; each index
/// is a [`RankedSet`] of keys (creation rank, slot), so order never depends on where a task is stored, and
/// every insert is O(log n) however many tasks came and went. Serialised as the map `record_id → task` it
/// always was.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskTable {
    slots: Chunked<Option<RecordTask>>,
    /// slots whose task was removed, to be reused
    free: Vec<Slot>,
    ids: FastMap<Box<str>, Slot>,
    /// per slot: the key its task is filed under, and the status it is filed under (so a refresh knows
    /// which set to move it out of; `u8::MAX`: none)
    filed: Vec<(Key, u8)>,
    /// the next task's rank
    next_rank: u32,
    live: RankedSet<Key>,
    by_status: [RankedSet<Key>; 8],
    /// each group's tasks, and its active ones
    groups: FastMap<Box<str>, GroupSlots>,
    active_count: usize,
}

impl TaskTable {
    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// Slots the table holds, tasks or free (what its memory is proportional to).
    pub fn slots(&self) -> usize {
        self.slots.len()
    }

    fn at(&self, key: &Key) -> Option<&RecordTask> {
        self.slots.get(slot_of(*key)).and_then(Option::as_ref)
    }

    /// The task `record_id`.
    pub fn get(&self, record_id: &str) -> Option<&RecordTask> {
        self.ids.get(record_id).and_then(|s| self.slots.get(*s as usize)).and_then(Option::as_ref)
    }

    /// The task `record_id`, to change; call [`Account::refresh`] afterwards if its status may change.
    pub fn get_mut(&mut self, record_id: &str) -> Option<&mut RecordTask> {
        let s = *self.ids.get(record_id)?;
        self.slots.get_mut(s as usize).and_then(Option::as_mut)
    }

    /// Whether `record_id` exists.
    pub fn contains_key(&self, record_id: &str) -> bool {
        self.ids.contains_key(record_id)
    }

    /// Every task, in creation order.
    pub fn values(&self) -> impl Iterator<Item = &RecordTask> + '_ {
        self.live.iter().filter_map(|k| self.at(k))
    }

    /// The highest creation number.
    pub fn max_no(&self) -> u64 {
        self.values().map(|t| t.no).max().unwrap_or(0)
    }

    /// Add a task (or replace the one with its record id). A task numbered below the newest one (only a
    /// hand-made state dump has those) makes the table re-sort itself, so the order stays exact.
    pub fn insert(&mut self, task: RecordTask) {
        if let Some(&s) = self.ids.get(task.recording.id.as_str()) {
            let id = task.recording.id.clone();
            if let Some(slot) = self.slots.get_mut(s as usize) {
                *slot = Some(task);
            }
            self.reindex(&id);
            return;
        }
        // The newest task is the last key: no scan over removed tasks.
        let in_order = self
            .live
            .last()
            .and_then(|k| self.at(k))
            .is_none_or(|last| (last.no, &last.recording.id) < (task.no, &task.recording.id));
        if !in_order || self.next_rank == u32::MAX {
            // Out of order, or 4 billion tasks created since the table was last built: built afresh (ranks
            // from 0 again, slots compacted).
            let mut all: Vec<RecordTask> = self.slots.take_all().flatten().collect();
            all.push(task);
            *self = all.into_iter().collect();
            return;
        }
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                let Ok(s) = Slot::try_from(self.slots.len()) else { return };
                self.slots.push(None);
                self.filed.push((0, u8::MAX));
                s
            }
        };
        let key = key_of(self.next_rank, slot);
        self.next_rank += 1;
        // Filed as `reindex` would file it, without looking the new task and its group up again.
        let (status, active) = (status_slot(task.status()) as u8, task.recording.is_active());
        match self.groups.get_mut(task.group_id.as_str()) {
            Some(g) => {
                file_slot(&mut g.all, key);
                if active {
                    file_slot(&mut g.active, key);
                }
            }
            None => {
                let active = if active { vec![key] } else { Vec::new() };
                self.groups.insert(task.group_id.as_str().into(), GroupSlots { all: vec![key], active });
            }
        }
        self.active_count += usize::from(active);
        self.by_status[status as usize].insert(key);
        self.filed[slot as usize] = (key, status);
        self.live.insert(key);
        self.ids.insert(task.recording.id.as_str().into(), slot);
        self.slots[slot as usize] = Some(task);
    }

    /// Remove a task (its slot is reused by the next one).
    pub fn remove(&mut self, record_id: &str) -> Option<RecordTask> {
        let s = self.ids.remove(record_id)?;
        let t = self.slots.get_mut(s as usize)?.take()?;
        let (key, filed) = self.filed[s as usize];
        self.live.remove(&key);
        if let Some(set) = self.by_status.get_mut(filed as usize) {
            set.remove(&key);
        }
        if let Some(g) = self.groups.get_mut(t.group_id.as_str()) {
            unfile_slot(&mut g.all, key);
            if unfile_slot(&mut g.active, key) {
                self.active_count -= 1;
            }
            if g.all.is_empty() {
                self.groups.remove(t.group_id.as_str());
            }
        }
        self.filed[s as usize] = (0, u8::MAX);
        self.free.push(s);
        Some(t)
    }

    /// File one task under its current status (and in the active index if it is active).
    pub fn reindex(&mut self, record_id: &str) {
        let Some(&s) = self.ids.get(record_id) else { return };
        let Some(Some(t)) = self.slots.get(s as usize) else { return };
        let (status, active) = (status_slot(t.status()) as u8, t.recording.is_active());
        let (key, before) = self.filed[s as usize];
        if before != status {
            if let Some(set) = self.by_status.get_mut(before as usize) {
                set.remove(&key);
            }
            self.by_status[status as usize].insert(key);
            self.filed[s as usize] = (key, status);
        }
        // Every task's group is in `groups` (filed on insert).
        let Some(g) = self.groups.get_mut(t.group_id.as_str()) else { return };
        let was = if active { !file_slot(&mut g.active, key) } else { unfile_slot(&mut g.active, key) };
        self.active_count = self.active_count + usize::from(active) - usize::from(was);
    }

    /// Number of active tasks.
    pub fn active_count(&self) -> usize {
        self.active_count
    }

    /// Active tasks of one group, in creation order.
    pub fn active_in_group<'a>(&'a self, group: &str) -> impl Iterator<Item = &'a RecordTask> + 'a {
        self.groups.get(group).into_iter().flat_map(|g| g.active.iter()).filter_map(|k| self.at(k))
    }

    /// Number of active tasks in one group.
    pub fn active_in_group_count(&self, group: &str) -> usize {
        self.groups.get(group).map_or(0, |g| g.active.len())
    }

    /// Record ids of the active tasks of one group.
    pub fn active_ids_in_group(&self, group: &str) -> Vec<String> {
        self.active_in_group(group).map(|t| t.recording.id.clone()).collect()
    }

    /// The tasks matching `f`, in creation order: how many there are, and `size` of them from position
    /// `skip`. A record id is looked up; otherwise the narrowest index (one group, one status, or all)
    /// gives the candidates, and only when a filter is left that the index does not answer (a time range,
    /// or a status within a group) are the candidates checked one by one.
    pub fn page(&self, f: &TaskFilter, skip: usize, size: usize) -> (usize, Vec<&RecordTask>) {
        if let Some(r) = &f.record_id {
            let hit: Vec<&RecordTask> = self.get(r).filter(|t| f.accepts(t)).into_iter().collect();
            let total = hit.len();
            return (total, hit.into_iter().skip(skip).take(size).collect());
        }
        let slot = |k: &Key| self.at(k);
        let unfiltered = f.start_ms.is_none() && f.stop_ms.is_none();
        if let Some(g) = &f.group_id {
            let all: &[Key] = self.groups.get(g.as_str()).map_or(&[], |g| &g.all);
            if unfiltered && f.status.is_none() {
                return (all.len(), all.iter().skip(skip).take(size).filter_map(slot).collect());
            }
            let mut total = 0;
            let mut rows = Vec::new();
            for t in all.iter().filter_map(slot).filter(|t| f.accepts(t)) {
                if total >= skip && rows.len() < size {
                    rows.push(t);
                }
                total += 1;
            }
            return (total, rows);
        }
        let base = match f.status {
            Some(s) => &self.by_status[status_slot(s)],
            None => &self.live,
        };
        if unfiltered {
            let rows = base.iter_from(skip).take(size).filter_map(slot).collect();
            return (base.len(), rows);
        }
        let mut total = 0;
        let mut rows = Vec::new();
        for t in base.iter().filter_map(slot).filter(|t| f.accepts(t)) {
            if total >= skip && rows.len() < size {
                rows.push(t);
            }
            total += 1;
        }
        (total, rows)
    }
}

impl FromIterator<RecordTask> for TaskTable {
    /// A table of these tasks, in creation order (`no`, then record id); a later duplicate record id
    /// replaces an earlier one.
    fn from_iter<I: IntoIterator<Item = RecordTask>>(iter: I) -> Self {
        let mut by_id: BTreeMap<String, RecordTask> = BTreeMap::new();
        for t in iter {
            by_id.insert(t.recording.id.clone(), t);
        }
        let mut all: Vec<RecordTask> = by_id.into_values().collect();
        all.sort_by(|a, b| (a.no, &a.recording.id).cmp(&(b.no, &b.recording.id)));
        let mut table = TaskTable::default();
        for t in all {
            table.insert(t);
        }
        table
    }
}

impl Serialize for TaskTable {
    /// As the map `record_id → task`, in record-id order (as state dumps always had it).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut sorted: Vec<&RecordTask> = self.values().collect();
        sorted.sort_by(|a, b| a.recording.id.cmp(&b.recording.id));
        let mut m = serializer.serialize_map(Some(sorted.len()))?;
        for t in sorted {
            m.serialize_entry(&t.recording.id, t)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for TaskTable {
    /// From the map `record_id → task`; the key must be the task's own record id.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map: BTreeMap<String, RecordTask> = BTreeMap::deserialize(deserializer)?;
        if let Some((k, t)) = map.iter().find(|(k, t)| **k != t.recording.id) {
            return Err(serde::de::Error::custom(format!(
                "task `{k}` has recording.id `{}`: the key must be the record id",
                t.recording.id
            )));
        }
        Ok(map.into_values().collect())
    }
}

impl crate::tenants::TenantState for Account {
    fn fixture_item(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    /// Each account stands under its own app id.
    fn check_dump(accounts: &BTreeMap<String, Self>) -> Result<(), String> {
        match accounts.iter().find(|(id, a)| **id != a.config.app_id) {
            Some((id, a)) => Err(format!("accounts.{id}: holds the account {}", a.config.app_id)),
            None => Ok(()),
        }
    }

    fn rebuild(&mut self) {
        Account::rebuild(self);
    }

    fn entities(&self) -> Vec<(&'static str, usize)> {
        vec![("group", self.groups.len()), ("task", self.tasks.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{MediaKind, Timings};

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
            timeout_job_ms: None,
        }
    }

    /// The incrementally kept indexes always equal a table built afresh from the same tasks, and a page
    /// from the indexes equals filtering and sorting every task.
    #[test]
    fn derived_indexes_match_a_rebuild() {
        let cfg: AccountConfig =
            serde_json::from_value(serde_json::json!({"dev_id":"d","token":"t","app_id":"a"})).unwrap();
        let mut acc = Account::new(cfg);
        let t = Timings::default();
        for (i, g) in ["g1", "g1", "g2", "g3", "g1", "g2"].iter().enumerate() {
            let id = format!("r{i}");
            let mut task = task(&id, g);
            task.no = i as u64 + 1;
            acc.tasks.insert(task);
        }
        assert_eq!((acc.active_count(), acc.active_in_group("g1").count()), (6, 3));
        acc.tasks.get_mut("r1").unwrap().recording.stop(10, &t).unwrap();
        acc.refresh("r1");
        acc.refresh("r1");
        acc.tasks.get_mut("r2").unwrap().recording.fail(10, "x").unwrap();
        acc.refresh("r2");
        acc.tasks.get_mut("r4").unwrap().recording.start(10).unwrap();
        acc.refresh("r4");
        acc.tasks.remove("r5");
        let rebuilt: TaskTable = acc.tasks.values().cloned().collect();
        assert_eq!(acc.tasks.active_count(), rebuilt.active_count());
        assert_eq!(acc.tasks.groups, rebuilt.groups);
        assert_eq!(acc.tasks.by_status, rebuilt.by_status);
        assert_eq!(acc.active_count(), 3);
        assert_eq!(acc.active_in_group("g2").count(), 0);
        let filters = [
            TaskFilter::default(),
            TaskFilter { status: Some(1), ..Default::default() },
            TaskFilter { status: Some(3), ..Default::default() },
            TaskFilter { group_id: Some("g1".into()), ..Default::default() },
            TaskFilter { group_id: Some("g1".into()), status: Some(2), ..Default::default() },
            TaskFilter { record_id: Some("r3".into()), ..Default::default() },
            TaskFilter { start_ms: Some(0), stop_ms: Some(10), ..Default::default() },
        ];
        for f in &filters {
            let mut all: Vec<&RecordTask> = acc.tasks.values().filter(|t| f.accepts(t)).collect();
            all.sort_by_key(|t| t.no);
            for (skip, size) in [(0, 50), (1, 1), (2, 2), (9, 3)] {
                let (total, rows) = acc.tasks.page(f, skip, size);
                let want: Vec<&RecordTask> = all.iter().skip(skip).take(size).copied().collect();
                assert_eq!((total, rows), (all.len(), want), "{f:?} {skip} {size}");
            }
        }
        let dumped = serde_json::to_value(&acc.tasks).unwrap();
        assert_eq!(dumped.as_object().unwrap().keys().collect::<Vec<_>>(), ["r0", "r1", "r2", "r3", "r4"]);
        let back: TaskTable = serde_json::from_value(dumped).unwrap();
        assert_eq!(back, rebuilt);
    }

    /// Creates and deletes in any number leave the table as large as its most tasks at once, keep creation
    /// order and indexes exact, and an insert never looks at removed tasks.
    #[test]
    fn freed_slots_are_reused_and_the_order_survives_churn() {
        let mut table = TaskTable::default();
        let mut no = 0u64;
        let mut alive: std::collections::VecDeque<String> = Default::default();
        for round in 0..40 {
            for _ in 0..100 {
                no += 1;
                let id = format!("r{no:06}");
                let mut t = task(&id, &format!("g{}", no % 7));
                t.no = no;
                table.insert(t);
                alive.push_back(id);
            }
            // Delete the oldest 90 and a few in the middle.
            for _ in 0..90 {
                let id = alive.pop_front().unwrap();
                assert!(table.remove(&id).is_some());
            }
            if round % 3 == 0 {
                let mid = alive.remove(alive.len() / 2).unwrap();
                assert!(table.remove(&mid).is_some());
            }
        }
        assert_eq!(table.len(), alive.len());
        assert!(table.slots() <= alive.len() + 100, "{} slots for {} tasks", table.slots(), alive.len());
        let ids: Vec<&str> = table.values().map(|t| t.recording.id.as_str()).collect();
        assert_eq!(ids, alive.iter().map(String::as_str).collect::<Vec<_>>());
        let rebuilt: TaskTable = table.values().cloned().collect();
        for f in [
            TaskFilter::default(),
            TaskFilter { status: Some(1), ..Default::default() },
            TaskFilter { group_id: Some("g3".into()), ..Default::default() },
        ] {
            for (skip, size) in [(0, 50), (7, 13), (300, 50)] {
                let (a, b) = (table.page(&f, skip, size), rebuilt.page(&f, skip, size));
                assert_eq!(a, b, "{f:?} {skip} {size}");
            }
        }
        assert_eq!(table.active_count(), rebuilt.active_count());
        assert_eq!(table.active_in_group_count("g3"), rebuilt.active_in_group_count("g3"));
        // Ranks run out after 4 billion creates: the table is built afresh, in the same order.
        table.next_rank = u32::MAX - 1;
        for _ in 0..3 {
            no += 1;
            let mut t = task(&format!("r{no:06}"), "g1");
            t.no = no;
            table.insert(t);
        }
        assert!(table.next_rank < 10_000);
        let after: Vec<u64> = table.values().map(|t| t.no).collect();
        assert!(after.windows(2).all(|w| w[0] < w[1]) && after.len() == alive.len() + 3);
        assert_eq!(table.slots(), table.len());
    }
}
