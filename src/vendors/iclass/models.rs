//! Tenant state of the TIC PaaS vendor: one app (sdkappid) with its users, classes, documents and the
//! cloud recordings of its classes.

use crate::files::{Picture, Shape};
use crate::index::{Chunked, FastMap, RankedSet};
use crate::recording::Recording;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many superseded user tokens a user remembers (to tell "replaced" from "never issued").
pub const RETIRED_TOKENS_KEPT: usize = 8;

/// Prefix every `record_user_id` must carry (seed 1.1).
pub const RECORD_USER_PREFIX: &str = "tic_recorduser";

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in the document's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The vendor's word for it.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parse the vendor's word.
            pub fn parse(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// The accepted words, for messages: `a, b, c`.
            pub fn words() -> String {
                [$($text),+].join(", ")
            }
        }
    };
}

vocabulary!(
    /// 附录3.1 角色 role.
    Role {
        /// set when the enterprise was created; never through the API
        Superadmin = "superadmin",
        /// console administrator
        Admin = "admin",
        /// teacher
        Teacher = "teacher",
        /// teaching assistant
        Assistant = "assistant",
        /// student
        Student = "student",
        /// class supervisor
        Supervisor = "supervisor",
        /// visitor
        Visitor = "visitor",
    }
);

vocabulary!(
    /// 附录3.8 性别 gender.
    Gender {
        /// 男 (the default)
        Male = "male",
        /// 女
        Female = "female",
    }
);

vocabulary!(
    /// 附录3.4 课堂状态 class_status.
    ClassStatus {
        /// not begun
        Will = "will",
        /// in progress
        Ing = "ing",
        /// ended
        End = "end",
    }
);

vocabulary!(
    /// 附录3.5 课堂类型 class_type.
    ClassType {
        /// anyone may enter
        Public = "public",
        /// one teacher, one student; members only
        OneToOne = "1v1",
        /// small class; members only
        OneToMany = "1vN",
    }
);

vocabulary!(
    /// 附录3.2 录制类型 record_type.
    RecordType {
        /// recorded by the client
        Local = "local",
        /// cloud recording, started when the class begins
        Remote = "remote",
    }
);

vocabulary!(
    /// Document permission.
    Permission {
        /// everyone may see it
        Public = "public",
        /// only its owner may see it
        Private = "private",
    }
);

vocabulary!(
    /// H5 transcode status (the words of the `transport_progress` callback, plus `failed`).
    TranscodeStatus {
        /// waiting for a transcoder
        Queued = "queued",
        /// being transcoded
        Processing = "processing",
        /// done; `h5_url` is set
        Finished = "finished",
        /// failed; `transcode_code`/`transcode_msg` say why
        Failed = "failed",
    }
);

vocabulary!(
    /// 视频流类型 video_type of `online_record_stop`.
    VideoType {
        /// camera
        Camera = "camera",
        /// screen share
        Screen = "screen",
        /// whiteboard
        Whiteboard = "whiteboard",
    }
);

impl VideoType {
    /// The number the callback carries: 0 camera, 1 screen share, 2 whiteboard.
    pub fn code(self) -> u8 {
        match self {
            VideoType::Camera => 0,
            VideoType::Screen => 1,
            VideoType::Whiteboard => 2,
        }
    }

    /// What its recorded files hold: the class's picture (`settings`: 1024×768 at 20 frames per second),
    /// with sound for a camera; a screen share and the whiteboard are silent.
    pub fn shape(self) -> Shape {
        match self {
            VideoType::Camera => Shape::video(RECORDED_PICTURE),
            VideoType::Screen | VideoType::Whiteboard => Shape::silent_video(RECORDED_PICTURE),
        }
    }

    /// The stream a user can publish with this number (0 camera, 1 screen share).
    pub fn published(code: i64) -> Option<VideoType> {
        match code {
            0 => Some(VideoType::Camera),
            1 => Some(VideoType::Screen),
            _ => None,
        }
    }
}

/// An app (enterprise) as a fixture declares it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// the TRTC app id; the tenant id
    pub sdkappid: u64,
    /// the API key: sign = md5(tic_key + expire_time)
    pub tic_key: String,
    /// where callbacks go (settable later with `POST /__admin/callbacks/url`)
    #[serde(default)]
    pub callback_url: Option<String>,
    /// the app's TLS-sig v2 key: when set, `record_user_sig` must be a valid signature for
    /// `record_user_id`; when absent, any non-empty value is accepted
    #[serde(default)]
    pub sdk_key: Option<String>,
    /// the app is on the H5-transcode whitelist (`is_transcode` is refused with 10203 otherwise)
    #[serde(default = "yes")]
    pub transcode_whitelisted: bool,
    /// virtual seconds between two steps of an H5 transcode (queued → 30 → 60 → 90 → finished)
    #[serde(default = "default_transcode_step_s")]
    pub transcode_step_s: f64,
}

fn yes() -> bool {
    true
}

/// Default seconds between two transcode steps.
pub fn default_transcode_step_s() -> f64 {
    5.0
}

/// A registered user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// registration order within the app
    pub no: u64,
    /// 用户ID
    pub user_id: String,
    /// 角色
    pub role: Role,
    /// 昵称 (default: the user id)
    pub nickname: String,
    /// 性别 (default male)
    pub gender: Gender,
    /// 头像 URL (default: one of the back end's avatars)
    pub avatar: String,
    /// 手机号
    pub phone_no: String,
    /// 邮箱
    pub e_mail: String,
    /// registration time, unix seconds
    pub regist_time: i64,
    /// last profile change, unix seconds
    pub update_time: i64,
    /// the one valid user ticket
    pub user_token: String,
    /// tickets replaced by `user/token/update` (newest last); no longer valid
    pub retired_tokens: Vec<String>,
}

/// A class member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// `teacher` for the class's teacher, else `student`
    pub role: Role,
    /// the user
    pub user_id: String,
}

/// `settings` of a class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// video resolution (not settable through the API, appendix 3.3)
    pub resolution: String,
    /// frame rate
    pub fps: u32,
    /// client component layout
    pub layout: u32,
    /// recording types
    pub record_types: Vec<RecordType>,
}

/// The picture of every class (`settings.resolution` and `fps`, which the API cannot change): what its
/// recordings show.
pub const RECORDED_PICTURE: Picture = Picture { width: 1024, height: 768, fps: 20 };

impl Default for Settings {
    fn default() -> Self {
        let p = RECORDED_PICTURE;
        Settings {
            resolution: format!("{}x{}", p.width, p.height),
            fps: p.fps,
            layout: 1,
            record_types: vec![RecordType::Local],
        }
    }
}

impl Settings {
    /// Cloud recording starts when the class begins.
    pub fn remote(&self) -> bool {
        self.record_types.contains(&RecordType::Remote)
    }
}

/// A class (课堂).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Class {
    /// creation order within the app
    pub no: u64,
    /// 课堂ID (also the TRTC room id)
    pub class_id: u64,
    /// 课堂主题
    pub class_topic: String,
    /// 课堂类型
    pub class_type: ClassType,
    /// 课堂状态
    pub class_status: ClassStatus,
    /// 教师ID
    pub teacher_id: String,
    /// creation, unix seconds
    pub create_time: i64,
    /// planned start, unix seconds
    pub start_time: i64,
    /// planned end, unix seconds
    pub stop_time: i64,
    /// when the teacher began the class (0 before)
    pub real_start_time: i64,
    /// when the teacher ended the class (0 before)
    pub real_stop_time: i64,
    /// members, the teacher first
    pub members: Vec<Member>,
    /// settings
    pub settings: Settings,
    /// the user the cloud recorder enters the room as
    pub record_user_id: Option<String>,
    /// its signature
    pub record_user_sig: Option<String>,
    /// users in the room now and the streams each publishes (video_type → since, virtual ms)
    pub present: BTreeMap<String, BTreeMap<VideoType, i64>>,
}

impl Class {
    /// `chat_group_id`: `<class_id>_chat`.
    pub fn chat_group_id(&self) -> String {
        format!("{}_chat", self.class_id)
    }

    /// `cmd_group_id`: the class id as a string.
    pub fn cmd_group_id(&self) -> String {
        self.class_id.to_string()
    }

    /// Whether `user` is the teacher or a member.
    pub fn has_member(&self, user: &str) -> bool {
        self.members.iter().any(|m| m.user_id == user)
    }
}

/// One stream the cloud recorder recorded: from `start_ms` until `stop_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamSpan {
    /// publisher
    pub user_id: String,
    /// camera or screen share
    pub video_type: VideoType,
    /// virtual ms it started being recorded
    pub start_ms: i64,
    /// virtual ms it stopped (open while recording)
    pub stop_ms: Option<i64>,
}

/// One file of `video_info`, once the recording is processed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoFile {
    /// milliseconds after the recording started at which this video starts
    pub video_play_time: i64,
    /// bytes
    pub video_size: u64,
    /// `mp4`
    pub video_format: String,
    /// seconds
    pub video_duration: i64,
    /// VOD file id
    pub video_id: String,
    /// 0 camera, 1 screen share, 2 whiteboard
    pub video_type: u8,
    /// publisher; empty for the whiteboard
    pub user_id: String,
    /// key of the file in the file store
    pub file_key: String,
}

/// The cloud recording of a class (`remote` in record_types): the engine's recording plus the streams.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassRecording {
    /// the class recorded
    pub class_id: u64,
    /// the engine's recording (its id is the class id); its recorded time is the whiteboard video
    pub recording: Recording,
    /// the recorder's user id
    pub record_user_id: String,
    /// every camera / screen-share span recorded
    pub streams: Vec<StreamSpan>,
    /// the files, once processed
    pub files: Vec<VideoFile>,
}

/// H5 transcode state of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcode {
    /// where it is
    pub status: TranscodeStatus,
    /// 0..100
    pub progress: u8,
    /// 0, or why it failed
    pub code: i64,
    /// failure message
    pub msg: String,
    /// H5 URL once finished
    pub h5_url: String,
    /// PPT page count
    pub pages: u32,
    /// PPT resolution
    pub resolution: String,
    /// PPT file name
    pub title: String,
    /// the H5 file in the file store, once finished
    pub file_key: Option<String>,
}

/// A document (课件).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// upload order within the app
    pub no: u64,
    /// 课件ID
    pub doc_id: String,
    /// where the original lies (COS)
    pub doc_url: String,
    /// name without extension
    pub doc_name: String,
    /// extension
    pub doc_ext: String,
    /// bytes
    pub doc_size: u64,
    /// MD5 as given
    pub doc_md5: String,
    /// public or private
    pub permission: Permission,
    /// owner user id; empty means public
    pub owner: String,
    /// unix seconds
    pub upload_time: i64,
    /// H5 transcode asked for
    pub is_transcode: bool,
    /// transcode state, when asked for
    pub transcode: Option<Transcode>,
}

/// A tenant: one app and everything it owns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// as the fixture declared it (the callback URL may have been changed since)
    pub config: AppConfig,
    /// users by id
    pub users: BTreeMap<String, User>,
    /// classes by id, with the indexes of the class list
    pub classes: ClassTable,
    /// documents by id
    pub documents: BTreeMap<String, Document>,
    /// cloud recordings by class id (they outlive a deleted class until processed)
    pub recordings: BTreeMap<u64, ClassRecording>,
    /// creation counter (ordering of users, classes and documents)
    pub seq: u64,
}

impl Account {
    /// A fresh app.
    pub fn new(config: AppConfig) -> Self {
        Account {
            config,
            users: BTreeMap::new(),
            classes: ClassTable::default(),
            documents: BTreeMap::new(),
            recordings: BTreeMap::new(),
            seq: 0,
        }
    }

    /// The next creation number.
    pub fn next_no(&mut self) -> u64 {
        self.seq = self.seq.saturating_add(1);
        self.seq
    }

    /// The class (not ended) that already uses `record_user_id`, other than `except`.
    pub fn record_user_in_use(&self, record_user_id: &str, except: Option<u64>) -> Option<u64> {
        // The lowest id, as when the classes were kept in id order.
        self.classes
            .values()
            .filter(|c| Some(c.class_id) != except && c.class_status != ClassStatus::End)
            .filter(|c| c.record_user_id.as_deref() == Some(record_user_id))
            .map(|c| c.class_id)
            .min()
    }
}

/// Where a class stands in the class list: creation time, then creation number (the id breaks ties of
/// hand-made fixtures); last, where it is stored.
pub type ClassKey = (i64, u64, u64, u32);

fn status_slot(s: ClassStatus) -> usize {
    match s {
        ClassStatus::Will => 0,
        ClassStatus::Ing => 1,
        ClassStatus::End => 2,
    }
}

fn type_slot(t: ClassType) -> usize {
    match t {
        ClassType::Public => 0,
        ClassType::OneToOne => 1,
        ClassType::OneToMany => 2,
    }
}

/// What `class/list` filters on (empty sets: no filter).
#[derive(Debug, Clone, Default)]
pub struct ClassFilter {
    /// any of these statuses
    pub statuses: std::collections::BTreeSet<ClassStatus>,
    /// any of these types
    pub types: std::collections::BTreeSet<ClassType>,
    /// classes this user teaches or attends
    pub user: Option<String>,
}

impl ClassFilter {
    fn accepts(&self, c: &Class) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&c.class_status))
            && (self.types.is_empty() || self.types.contains(&c.class_type))
            && self.user.as_ref().is_none_or(|u| c.has_member(u))
    }
}

/// An app's classes by id, with the indexes that keep `class/list` flat as the app grows: the list order
/// (creation time, creation number) of all classes, of each status and of each type, so a page is found
/// by position, never by sorting or filtering every class. Serialised as the map `class_id → class` it
/// always was.
///
/// A class's status changes through [`ClassTable::set_status`] and anything else that is indexed (type,
/// creation time) through [`ClassTable::insert`], so the indexes never go stale.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClassTable {
    /// classes where they are stored; a page reads its rows straight from here, one memory access each,
    /// however many classes there are. A changed class keeps its slot; a removed one's slot is reused by
    /// the next class, so the table is as large as its most classes at once.
    slots: Chunked<Option<Class>>,
    /// slots whose class was removed, to be reused
    free: Vec<u32>,
    ids: FastMap<u64, u32>,
    all: RankedSet<ClassKey>,
    by_status: [RankedSet<ClassKey>; 3],
    by_type: [RankedSet<ClassKey>; 3],
}

impl ClassTable {
    fn key(id: u64, slot: u32, c: &Class) -> ClassKey {
        (c.create_time, c.no, id, slot)
    }

    fn file(&mut self, k: ClassKey, c: &Class) {
        self.all.insert(k);
        self.by_status[status_slot(c.class_status)].insert(k);
        self.by_type[type_slot(c.class_type)].insert(k);
    }

    fn unfile(&mut self, k: ClassKey, c: &Class) {
        self.all.remove(&k);
        self.by_status[status_slot(c.class_status)].remove(&k);
        self.by_type[type_slot(c.class_type)].remove(&k);
    }

    /// The class `id`.
    pub fn get(&self, id: &u64) -> Option<&Class> {
        self.ids.get(id).and_then(|s| self.slots[*s as usize].as_ref())
    }

    /// The class `id`, to change anything but its status, type and creation time (see the type's doc).
    pub fn get_mut(&mut self, id: &u64) -> Option<&mut Class> {
        let s = *self.ids.get(id)?;
        self.slots[s as usize].as_mut()
    }

    /// Whether class `id` exists.
    pub fn contains_key(&self, id: &u64) -> bool {
        self.ids.contains_key(id)
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Every class, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &Class> + '_ {
        self.slots.iter().flatten()
    }

    /// Every class with its id, by id.
    fn sorted(&self) -> Vec<(u64, &Class)> {
        let mut all: Vec<(u64, &Class)> = self
            .ids
            .iter()
            .filter_map(|(id, s)| self.slots[*s as usize].as_ref().map(|c| (*id, c)))
            .collect();
        all.sort_unstable_by_key(|(id, _)| *id);
        all
    }

    /// Slots the table holds, classes or free (what its memory is proportional to).
    pub fn slots(&self) -> usize {
        self.slots.len()
    }

    /// Add a class, or replace the one with its id where it is stored (`class/modify`).
    pub fn insert(&mut self, id: u64, class: Class) -> Option<Class> {
        if let Some(&slot) = self.ids.get(&id) {
            let old = self.slots.get_mut(slot as usize).and_then(Option::take);
            if let Some(old) = &old {
                self.unfile(Self::key(id, slot, old), old);
            }
            self.file(Self::key(id, slot, &class), &class);
            self.slots[slot as usize] = Some(class);
            return old;
        }
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                let Ok(s) = u32::try_from(self.slots.len()) else { return None };
                self.slots.push(None);
                s
            }
        };
        self.file(Self::key(id, slot, &class), &class);
        self.slots[slot as usize] = Some(class);
        self.ids.insert(id, slot);
        None
    }

    /// Remove a class (its slot is reused by the next one).
    pub fn remove(&mut self, id: &u64) -> Option<Class> {
        let slot = self.ids.remove(id)?;
        let old = self.slots.get_mut(slot as usize)?.take()?;
        self.unfile(Self::key(*id, slot, &old), &old);
        self.free.push(slot);
        Some(old)
    }

    /// Change a class's status; false if there is no such class.
    pub fn set_status(&mut self, id: u64, status: ClassStatus) -> bool {
        let Some(&slot) = self.ids.get(&id) else { return false };
        let Some(c) = self.slots[slot as usize].as_mut() else { return false };
        let k = Self::key(id, slot, c);
        self.by_status[status_slot(c.class_status)].remove(&k);
        c.class_status = status;
        self.by_status[status_slot(status)].insert(k);
        true
    }

    /// The classes matching `f` in list order (newest first with `desc`): how many there are, and `size` of
    /// them from position `skip`. The narrowest index (one status, one type, or all) gives the candidates;
    /// only a filter it does not answer (a user, or both a status and a type set) is checked class by class.
    pub fn page(&self, f: &ClassFilter, desc: bool, skip: usize, size: usize) -> (usize, Vec<&Class>) {
        // A filter naming every value filters nothing.
        let statuses: Vec<usize> = if f.statuses.len() == ClassStatus::ALL.len() {
            Vec::new()
        } else {
            f.statuses.iter().map(|s| status_slot(*s)).collect()
        };
        let types: Vec<usize> = if f.types.len() == ClassType::ALL.len() {
            Vec::new()
        } else {
            f.types.iter().map(|t| type_slot(*t)).collect()
        };
        let (base, exact) = match (statuses.as_slice(), types.as_slice()) {
            ([], []) => (&self.all, true),
            ([s], []) => (&self.by_status[*s], true),
            ([], [t]) => (&self.by_type[*t], true),
            ([s], _) => (&self.by_status[*s], false),
            (_, [t]) => (&self.by_type[*t], false),
            _ => (&self.all, false),
        };
        let class = |k: &ClassKey| self.slots[k.3 as usize].as_ref();
        let ordered = |from: usize| -> Box<dyn Iterator<Item = &ClassKey> + '_> {
            if desc {
                Box::new(base.iter_rev_from(from))
            } else {
                Box::new(base.iter_from(from))
            }
        };
        if exact && f.user.is_none() {
            return (base.len(), ordered(skip).take(size).filter_map(class).collect());
        }
        let mut total = 0;
        let mut rows = Vec::new();
        for c in ordered(0).filter_map(class).filter(|c| f.accepts(c)) {
            if total >= skip && rows.len() < size {
                rows.push(c);
            }
            total += 1;
        }
        (total, rows)
    }
}

impl Serialize for ClassTable {
    /// As the map `class_id → class`, by id (as state dumps always had it).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let all = self.sorted();
        let mut m = serializer.serialize_map(Some(all.len()))?;
        for (id, c) in all {
            m.serialize_entry(&id, c)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for ClassTable {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map: BTreeMap<u64, Class> = BTreeMap::deserialize(deserializer)?;
        let mut t = ClassTable::default();
        for (id, c) in map {
            t.insert(id, c);
        }
        Ok(t)
    }
}

/// Keep a file name to letters, digits, `_`, `-` and `.` (it becomes part of a download URL).
pub fn file_safe(text: &str) -> String {
    let s: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' { c } else { '_' })
        .collect();
    if s.is_empty() {
        "_".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
        }
        assert_eq!(ClassType::parse("1vN"), Some(ClassType::OneToMany));
        assert_eq!(ClassType::parse("1vn"), None);
        assert_eq!(serde_json::to_string(&ClassType::OneToOne).unwrap(), "\"1v1\"");
        assert_eq!(VideoType::published(1), Some(VideoType::Screen));
        assert_eq!(VideoType::published(2), None);
        assert_eq!(file_safe("a/b c.mp4"), "a_b_c.mp4");
        assert_eq!(ClassStatus::words(), "will, ing, end");
    }

    fn class(id: u64, no: u64) -> Class {
        Class {
            no,
            class_id: id,
            class_topic: format!("c{id}"),
            class_type: ClassType::Public,
            class_status: ClassStatus::Will,
            teacher_id: "t".into(),
            create_time: 1_000 + (no as i64 % 5),
            start_time: 0,
            stop_time: 0,
            real_start_time: 0,
            real_stop_time: 0,
            members: vec![],
            settings: Settings::default(),
            record_user_id: None,
            record_user_sig: None,
            present: BTreeMap::new(),
        }
    }

    /// `class/modify` changes a class where it is stored; deletes free slots the next classes take: the
    /// table never grows past its most classes at once, and pages agree with a table built afresh.
    #[test]
    fn modified_classes_stay_put_and_freed_slots_are_reused() {
        let mut t = ClassTable::default();
        let mut alive = std::collections::VecDeque::new();
        let mut no = 0;
        for _ in 0..30 {
            for _ in 0..50 {
                no += 1;
                let id = 100_000 + no;
                t.insert(id, class(id, no));
                alive.push_back(id);
            }
            for &id in alive.iter().take(20) {
                let mut c = t.get(&id).cloned().unwrap();
                c.class_topic = "moved".into();
                c.class_type = ClassType::OneToMany;
                assert!(t.insert(id, c).is_some());
            }
            for _ in 0..45 {
                let id = alive.pop_front().unwrap();
                assert!(t.remove(&id).is_some());
            }
        }
        assert_eq!(t.len(), alive.len());
        assert!(t.slots() <= alive.len() + 50, "{} slots for {} classes", t.slots(), alive.len());
        let rebuilt: ClassTable = serde_json::from_value(serde_json::to_value(&t).unwrap()).unwrap();
        for f in [
            ClassFilter::default(),
            ClassFilter { types: [ClassType::OneToMany].into(), ..Default::default() },
            ClassFilter { types: [ClassType::Public].into(), ..Default::default() },
        ] {
            for desc in [false, true] {
                let (a, b) = (t.page(&f, desc, 3, 40), rebuilt.page(&f, desc, 3, 40));
                assert_eq!(a, b, "{f:?} {desc}");
            }
        }
    }
}
