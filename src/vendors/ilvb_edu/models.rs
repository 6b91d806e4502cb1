//! Tenant state of the education recording service: apps, classrooms, their classes and recordings.

use crate::recording::Recording;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::vendors::kit::UsersigCheck;

/// An app as a fixture declares it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// the app
    pub sdkappid: u64,
    /// the app key: signs user signatures and callbacks
    pub key: String,
    /// identifiers allowed to call the admin API
    #[serde(default = "default_admins")]
    pub admins: Vec<String>,
    /// where callbacks go
    #[serde(default)]
    pub callback_url: Option<String>,
    /// `strict` (default) or `any`
    #[serde(default)]
    pub usersig_check: UsersigCheck,
    /// longest recorded file, seconds (the document's example file lasts 3600 s)
    #[serde(default = "default_segment_s")]
    pub segment_s: i64,
    /// how long after a class ends its recording may be requested (again, after a failure), seconds
    #[serde(default = "default_retention_s")]
    pub retention_s: i64,
}

fn default_admins() -> Vec<String> {
    vec!["admin".into()]
}
fn default_segment_s() -> i64 {
    3600
}
fn default_retention_s() -> i64 {
    7 * 86_400
}

/// A class held in a room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassSession {
    /// start, virtual ms
    pub start_ms: i64,
    /// end, virtual ms (none while the class is on)
    pub end_ms: Option<i64>,
    /// who took part
    pub members: Vec<String>,
    /// its whiteboard group
    pub groupid: String,
}

/// Where a room's recording request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordState {
    /// requested; waiting for the back end to pick it up
    Queued,
    /// the back end started (event 1000 sent); being recorded and processed
    Recording,
    /// files done (events 1001 sent)
    Done,
    /// failed (a 1001 with a non-zero error_code sent)
    Failed,
}

/// One recorded file, as callbacks and `query_record_result` report it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordFile {
    /// 1-based
    pub file_id: u32,
    /// the VOD video id
    pub video_id: String,
    /// last file of the class
    pub is_finish: bool,
    /// bytes
    pub file_size: u64,
    /// seconds
    pub file_duration: i64,
    /// key in the file store
    pub file_key: String,
}

/// A recording of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomRecording {
    /// the class recorded
    pub class: ClassSession,
    /// whiteboard group recorded
    pub groupid: String,
    /// where it is
    pub state: RecordState,
    /// the engine's recording
    pub recording: Recording,
    /// when it was requested, virtual ms
    pub requested_ms: i64,
    /// the files, once done
    pub files: Vec<RecordFile>,
    /// error code and message, once failed
    pub error: Option<(i64, String)>,
}

/// A classroom.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Classroom {
    /// the latest class held (or being held) in it
    pub class: Option<ClassSession>,
    /// the latest recording request
    pub recording: Option<RoomRecording>,
}

/// A tenant: one app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EduApp {
    /// as configured
    pub config: AppConfig,
    /// rooms by id
    pub rooms: BTreeMap<u64, Classroom>,
    /// whiteboard groups reported with `report_group`, with the time they were reported (virtual ms)
    pub groups: BTreeMap<String, i64>,
    /// rooms waiting for the back end's next pick-up, in request order
    pub pickup: Vec<u64>,
}

impl EduApp {
    /// A fresh app.
    pub fn new(config: AppConfig) -> Self {
        EduApp { config, rooms: BTreeMap::new(), groups: BTreeMap::new(), pickup: Vec::new() }
    }

    /// Note that `group` was reported at `now`, keeping at most `cap` groups: beyond it the tenth reported
    /// longest ago (at least one) is forgotten at once, so a report costs O(log n) on average. True when
    /// some were forgotten.
    pub fn report_group(&mut self, group: String, now: i64, cap: usize) -> bool {
        self.groups.insert(group, now);
        let cap = cap.max(1);
        if self.groups.len() <= cap {
            return false;
        }
        let excess = self.groups.len() - cap;
        let drop_n = excess.max(cap / 10).min(self.groups.len() - 1);
        let mut by_age: Vec<(i64, &String)> = self.groups.iter().map(|(g, t)| (*t, g)).collect();
        by_age.select_nth_unstable(drop_n - 1);
        let old: Vec<String> = by_age[..drop_n].iter().map(|(_, g)| (*g).clone()).collect();
        for g in old {
            self.groups.remove(&g);
        }
        true
    }
}

impl crate::tenants::TenantState for EduApp {
    fn fixture_item(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    /// Each app stands under its own sdkappid.
    fn check_dump(apps: &BTreeMap<String, Self>) -> Result<(), String> {
        match apps.iter().find(|(id, a)| **id != a.config.sdkappid.to_string()) {
            Some((id, a)) => Err(format!("apps.{id}: holds the app {}", a.config.sdkappid)),
            None => Ok(()),
        }
    }

    fn entities(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("room", self.rooms.len()),
            ("recording", self.rooms.values().filter(|r| r.recording.is_some()).count()),
            ("whiteboard_group", self.groups.len()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_groups_are_bounded_and_the_oldest_go() {
        let config: AppConfig =
            serde_json::from_value(serde_json::json!({"sdkappid": 1, "key": "k"})).unwrap();
        let mut app = EduApp::new(config);
        for i in 0..100 {
            assert!(!app.report_group(format!("g{i}"), i, 100));
        }
        // Reporting one again refreshes it; a new one over the cap forgets the tenth reported longest ago.
        assert!(!app.report_group("g0".into(), 1_000, 100));
        assert!(app.report_group("new".into(), 1_001, 100));
        assert_eq!(app.groups.len(), 91);
        assert!(
            app.groups.contains_key("g0") && app.groups.contains_key("new") && app.groups.contains_key("g11")
        );
        assert!(!app.groups.contains_key("g1") && !app.groups.contains_key("g10"));
        let mut tiny = EduApp::new(app.config.clone());
        assert!(!tiny.report_group("a".into(), 1, 1));
        assert!(tiny.report_group("b".into(), 2, 1));
        assert_eq!(tiny.groups.keys().collect::<Vec<_>>(), ["b"]);
    }
}
