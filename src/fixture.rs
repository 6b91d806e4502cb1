//! Fixture documents: the world to start from.
//!
//! A fixture is one JSON document with per-vendor sections (accounts and keys, callback URLs, rooms,
//! users, classes, ...), an optional `clock`, optional `timings` and an optional `timeline` of world
//! events. Unknown keys are errors, and every error names its JSON path (`cloud_record.accounts[0].dev_id`).
//! Several documents merge: their sections add up; a later `clock` or `timings` key wins.

pub use crate::checks::{join, parse_at, parse_list, unknown_keys, FixtureError};
use crate::outbox::RetryPolicy;
use crate::world::TimingsPatch;
use crate::VendorKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The optional `clock` key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSpec {
    /// virtual unix seconds to start at
    pub start: Option<i64>,
    /// start frozen
    pub frozen: Option<bool>,
    /// virtual seconds per wall second
    pub scale: Option<f64>,
}

/// One `timeline` step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineStep {
    /// seconds after the fixture was loaded, or an absolute unix time when larger than 10^9
    pub at: f64,
    /// the world event, as `POST /__admin/events` takes it
    pub event: Value,
}

/// The optional `callbacks` key: delivery timeout and per-vendor retry policies (`"<vendor>": {...}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallbacksSpec {
    /// milliseconds one delivery attempt may take before it counts as "no answer"
    pub timeout_ms: Option<u64>,
    /// the policy of each vendor named
    #[serde(flatten)]
    pub vendors: std::collections::BTreeMap<VendorKind, RetryPolicy>,
}

impl CallbacksSpec {
    /// The per-vendor policies given.
    pub fn policies(&self) -> Vec<(VendorKind, RetryPolicy)> {
        self.vendors.iter().map(|(k, p)| (*k, *p)).collect()
    }
}

/// The top-level keys of a fixture besides the vendors' sections (each registered vendor's name is one
/// too). `name` and `steps` make it a scenario (see [`crate::scenario`]); a server loading the document as
/// a fixture ignores them.
pub const COMMON_KEYS: [&str; 8] =
    ["description", "name", "steps", "clock", "auth_clock", "timings", "callbacks", "timeline"];

/// Every top-level key a fixture may have: [`COMMON_KEYS`], then each registered vendor's name.
pub fn top_keys() -> Vec<&'static str> {
    COMMON_KEYS.iter().copied().chain(VendorKind::all().iter().map(|v| v.as_str())).collect()
}

/// The parsed non-vendor parts of a fixture.
#[derive(Debug, Clone, Default)]
pub struct Common {
    /// `clock`
    pub clock: Option<ClockSpec>,
    /// `auth_clock`: which clock judges client-made times (`--auth-clock` wins over it)
    pub auth_clock: Option<crate::clock::AuthClock>,
    /// `timings`
    pub timings: Option<TimingsPatch>,
    /// `callbacks`
    pub callbacks: Option<CallbacksSpec>,
    /// `timeline`
    pub timeline: Vec<TimelineStep>,
}

/// Check the document's shape and parse its non-vendor parts. Vendor sections are checked by the vendors.
pub fn parse_common(doc: &Value, errors: &mut Vec<FixtureError>) -> Common {
    let mut c = Common::default();
    if !doc.is_object() {
        errors.push(FixtureError::new("", "a fixture must be a JSON object"));
        return c;
    }
    unknown_keys(doc, "", &top_keys(), errors);
    if let Some(d) = doc.get("description") {
        if !d.is_string() {
            errors.push(FixtureError::new("description", "expected a string"));
        }
    }
    if let Some(v) = doc.get("clock") {
        c.clock = parse_at::<ClockSpec>(v, "clock", errors);
        if let Some(cs) = &c.clock {
            if let Some(s) = cs.scale {
                if !(s.is_finite() && s > 0.0 && s <= crate::clock::MAX_SCALE) {
                    errors.push(FixtureError::new(
                        "clock.scale",
                        format!("must be a number > 0 and <= {}, got {s}", crate::clock::MAX_SCALE),
                    ));
                }
            }
            if let Some(start) = cs.start {
                if !(0..=crate::clock::MAX_TIME_S).contains(&start) {
                    errors.push(FixtureError::new(
                        "clock.start",
                        format!(
                            "must be unix seconds between 0 and {} (year 9999)",
                            crate::clock::MAX_TIME_S
                        ),
                    ));
                }
            }
        }
    }
    if let Some(v) = doc.get("auth_clock") {
        c.auth_clock = parse_at(v, "auth_clock", errors);
    }
    if let Some(v) = doc.get("timings") {
        c.timings = parse_at::<TimingsPatch>(v, "timings", errors);
        if let Some(t) = &c.timings {
            for (k, m) in t.problems() {
                errors.push(FixtureError::new(format!("timings.{k}"), m));
            }
        }
    }
    if let Some(v) = doc.get("callbacks") {
        c.callbacks = parse_at::<CallbacksSpec>(v, "callbacks", errors);
        if let Some(cb) = &c.callbacks {
            if cb.timeout_ms.is_some_and(|t| !(1..=600_000).contains(&t)) {
                errors.push(FixtureError::new("callbacks.timeout_ms", "must be between 1 and 600000"));
            }
            for (k, p) in cb.policies() {
                if p.retries > 1000 {
                    errors.push(FixtureError::new(format!("callbacks.{k}.retries"), "must be at most 1000"));
                }
                if !(p.interval_s.is_finite() && (0.0..=86_400.0).contains(&p.interval_s)) {
                    errors.push(FixtureError::new(
                        format!("callbacks.{k}.interval_s"),
                        "must be between 0 and 86400 seconds",
                    ));
                }
            }
        }
    }
    for (p, step) in parse_list::<TimelineStep>(doc, "", "timeline", errors) {
        if !(step.at.is_finite() && (0.0..=crate::clock::MAX_TIME_S as f64).contains(&step.at)) {
            errors.push(FixtureError::new(
                format!("{p}.at"),
                "must be seconds >= 0 (and before the year 9999)",
            ));
        }
        match step.event.get("type").and_then(Value::as_str) {
            None => errors.push(FixtureError::new(format!("{p}.event.type"), "missing: `<vendor>.<event>`")),
            Some(t) => match t.split_once('.').map(|(v, _)| v.parse::<VendorKind>()) {
                Some(Ok(_)) => {}
                Some(Err(e)) => errors.push(FixtureError::new(format!("{p}.event.type"), e)),
                None => errors.push(FixtureError::new(
                    format!("{p}.event.type"),
                    format!("`{t}` is not `<vendor>.<event>`"),
                )),
            },
        }
        c.timeline.push(step);
    }
    c
}

/// Where a fixture document comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum FixtureSource {
    /// the embedded `fixtures/demo.json`
    Demo,
    /// a file on disk
    File(std::path::PathBuf),
    /// text given directly (tests, `POST /__admin/fixtures`)
    Inline {
        /// a name for messages
        name: String,
        /// the JSON text
        json: String,
    },
}

/// The embedded demo world.
pub const DEMO_JSON: &str = include_str!("../fixtures/demo.json");

/// A fixture document read from its source.
#[derive(Debug, Clone)]
pub struct FixtureDoc {
    /// where it came from, for messages
    pub name: String,
    /// the parsed JSON
    pub value: Value,
}

impl FixtureSource {
    /// Read and parse the source as JSON (shape is checked later).
    pub fn read(&self) -> Result<FixtureDoc, FixtureError> {
        let (name, text) = match self {
            FixtureSource::Demo => ("embedded fixtures/demo.json".to_string(), DEMO_JSON.to_string()),
            FixtureSource::File(p) => (
                p.display().to_string(),
                std::fs::read_to_string(p)
                    .map_err(|e| FixtureError::new("", format!("cannot read {}: {e}", p.display())))?,
            ),
            FixtureSource::Inline { name, json } => (name.clone(), json.clone()),
        };
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            FixtureError::new(
                "",
                format!("{name} is not valid JSON: {e} (line {}, column {})", e.line(), e.column()),
            )
        })?;
        Ok(FixtureDoc { name, value })
    }
}

/// The fixtures of a fixture directory (`--fixture-dir`, `/fixtures` in the container image): every
/// `*.json` file directly in `dir`, in name order (byte order of the names, so `10-b.json` comes before
/// `2-a.json`: number them with leading zeros). A directory that does not exist holds none; one that
/// cannot be read is an error.
pub fn dir_fixtures(dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read the fixture directory {}: {e}", dir.display())),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read the fixture directory {}: {e}", dir.display()))?;
        let path = entry.path();
        // A link to a file counts (a Kubernetes ConfigMap mounts its keys as links).
        if path.extension().is_some_and(|x| x == "json") && path.is_file() {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Acc {
        id: String,
        n: Option<u32>,
    }

    #[test]
    fn a_fixture_directory_gives_its_json_files_in_name_order() {
        let dir = std::env::temp_dir().join(format!("recmock-fixture-dir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(dir_fixtures(&dir), Ok(vec![]), "a missing directory holds none");
        std::fs::create_dir_all(dir.join("sub.json")).unwrap();
        for name in ["20-b.json", "03-a.json", "notes.txt", "10-c.json"] {
            std::fs::write(dir.join(name), "{}").unwrap();
        }
        let names: Vec<String> = dir_fixtures(&dir)
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["03-a.json", "10-c.json", "20-b.json"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_bad_element_is_named_by_path() {
        let doc = json!({"cloud_record": {"accounts": [{"id": "a"}, {"id": "b", "nn": 1}, {"id": 3}]}, "extra": 1,
                         "clock": {"start": 5, "scale": 0}, "timeline": [{"at": 1, "event": {"type": "nope.x"}}]});
        let mut errs = Vec::new();
        let list = parse_list::<Acc>(&doc["cloud_record"], "cloud_record", "accounts", &mut errs);
        assert_eq!(list.len(), 1);
        let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, vec!["cloud_record.accounts[1].nn", "cloud_record.accounts[2].id"]);
        let mut errs = Vec::new();
        parse_common(&doc, &mut errs);
        let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, vec!["extra", "clock.scale", "timeline[0].event.type"]);
    }
}
