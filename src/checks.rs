//! Checking JSON documents piece by piece, every problem named by its JSON path
//! (`cloud_record.accounts[0].dev_id`): what fixture sections, state dumps and scenario steps share.

use crate::VendorKind;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use std::fmt;

/// One problem in a document (a fixture, a dump, a scenario), at a JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixtureError {
    /// where: `cloud_record.accounts[0].token_timeout_s`
    pub path: String,
    /// what is wrong
    pub message: String,
}

impl fmt::Display for FixtureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", if self.path.is_empty() { "(document)" } else { &self.path }, self.message)
    }
}

impl FixtureError {
    /// An error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        FixtureError { path: path.into(), message: message.into() }
    }
}

/// Join a path and a key: `a` + `b` → `a.b`.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Deserialize `v` as `T`, reporting a failure at its exact path under `path`.
pub fn parse_at<T: DeserializeOwned>(v: &Value, path: &str, errors: &mut Vec<FixtureError>) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(v) {
        Ok(t) => Some(t),
        Err(e) => {
            let inner = e.path().to_string();
            let full = if inner == "." {
                path.to_string()
            } else if inner.starts_with('[') {
                format!("{path}{inner}")
            } else {
                join(path, &inner)
            };
            errors.push(FixtureError::new(full, e.into_inner().to_string()));
            None
        }
    }
}

/// Deserialize each element of the array `section[key]` on its own, so every bad element is reported.
/// A missing key is an empty list.
pub fn parse_list<T: DeserializeOwned>(
    section: &Value,
    path: &str,
    key: &str,
    errors: &mut Vec<FixtureError>,
) -> Vec<(String, T)> {
    let p = join(path, key);
    match section.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let ip = format!("{p}[{i}]");
                parse_at::<T>(item, &ip, errors).map(|t| (ip, t))
            })
            .collect(),
        Some(_) => {
            errors.push(FixtureError::new(p, "expected an array"));
            Vec::new()
        }
    }
}

/// Report keys of the object `section` that are not in `known`.
pub fn unknown_keys(section: &Value, path: &str, known: &[&str], errors: &mut Vec<FixtureError>) {
    match section {
        Value::Object(m) => {
            for k in m.keys() {
                if !known.contains(&k.as_str()) {
                    errors.push(FixtureError::new(
                        join(path, k),
                        format!("unknown key `{k}` (expected one of: {})", known.join(", ")),
                    ));
                }
            }
        }
        _ => errors.push(FixtureError::new(path, "expected an object")),
    }
}

/// Largest magnitude of an integer a state dump holds outside the configurations (counters, ids, sizes,
/// numbers a request gave): 2^53, the integers every JSON reader keeps exact. Anything counted up from it
/// or added to it stays far from overflowing.
pub const MAX_DUMP_INTEGER: u64 = 1 << 53;

/// Keys whose values [`dump_numbers`] leaves alone: configurations (checked like fixtures), seeds (any
/// 64 bits), and the documents callbacks carry (opaque bodies, signed as they are).
const UNCHECKED_DUMP_KEYS: [&str; 4] = ["config", "seed", "payload", "body"];

/// Check every integer of a dumped document `v` (at `path`): an instant or duration in milliseconds
/// (`*_ms`) lies within ±[`MAX_TIME_MS`](crate::clock::MAX_TIME_MS), one in seconds (`*_s`, `*_time`)
/// within ±[`MAX_TIME_S`](crate::clock::MAX_TIME_S), any other within ±[`MAX_DUMP_INTEGER`]. The one check
/// of the numbers of a state dump, every part and vendor alike: what passes it is safe to count and add
/// with (the configurations go through the fixtures' own range checks instead).
pub fn dump_numbers(v: &Value, path: &str) -> Result<(), String> {
    fn walk<'a>(v: &'a Value, key: &'a str, at: &mut Vec<&'a str>) -> Result<(), String> {
        match v {
            Value::Number(n) => {
                if n.is_f64() {
                    return Ok(());
                }
                let limit = if key.ends_with("_ms") {
                    crate::clock::MAX_TIME_MS.unsigned_abs()
                } else if key.ends_with("_s") || key.ends_with("_time") {
                    crate::clock::MAX_TIME_S.unsigned_abs()
                } else {
                    MAX_DUMP_INTEGER
                };
                let magnitude = n.as_i64().map(i64::unsigned_abs).or_else(|| n.as_u64()).unwrap_or(u64::MAX);
                if magnitude > limit {
                    return Err(format!("{}: {n} is out of range (at most ±{limit})", at.join(".")));
                }
                Ok(())
            }
            Value::Object(m) => {
                for (k, x) in m.iter().filter(|(k, _)| !UNCHECKED_DUMP_KEYS.contains(&k.as_str())) {
                    at.push(k);
                    walk(x, k, at)?;
                    at.pop();
                }
                Ok(())
            }
            Value::Array(items) => items.iter().try_for_each(|x| walk(x, key, at)),
            _ => Ok(()),
        }
    }
    walk(v, "", &mut vec![path])
}

/// The fields of the world event `<vendor>.<name>` read as `T`; an error names the event and the path of the
/// offending field. Every vendor's event vocabulary reads its events this way.
pub fn event_fields<T: DeserializeOwned>(vendor: VendorKind, name: &str, v: &Value) -> Result<T, String> {
    serde_path_to_error::deserialize(v)
        .map_err(|e| format!("{vendor}.{name}: {} (at {})", e.inner(), e.path()))
}
