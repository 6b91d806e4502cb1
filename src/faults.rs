//! Fault injection: rules that make a request or a callback delivery misbehave on purpose.
//!
//! A rule matches (target, vendor, method, path, body/query fields) and acts: answer a documented error
//! code in the vendor's own envelope, answer a bare HTTP status, add latency, or drop the connection; for
//! the next N matches (`times`) or always. The first matching rule in creation order wins.

use crate::codec::form_pairs;
use crate::limits::{Cap, Caps};
use crate::VendorKind;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Longest `latency_ms` a rule may add: a minute. A request rule holds its request (and its connection)
/// that long in real time, and a client's own timeout is rarely longer.
pub const MAX_LATENCY_MS: u64 = 60_000;

/// What a rule applies to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultTarget {
    /// requests the emulator receives
    #[default]
    Request,
    /// callbacks the emulator delivers
    Callback,
}

/// Which requests (or deliveries) a rule matches; every given field must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultMatch {
    /// requests (default) or callback deliveries
    #[serde(default)]
    pub target: FaultTarget,
    /// only this vendor
    pub vendor: Option<VendorKind>,
    /// only this HTTP method (case-insensitive)
    pub method: Option<String>,
    /// only this path; a trailing `*` matches a prefix. For callbacks: the callback URL's path.
    pub path: Option<String>,
    /// only bodies whose top-level JSON fields equal these
    pub body: Option<Map<String, Value>>,
    /// only requests whose query parameters equal these
    pub query: Option<Map<String, Value>>,
}

/// What a matching rule does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultAction {
    /// answer this error code in the vendor's own envelope (requests only)
    pub error_code: Option<i64>,
    /// message to go with `error_code` (default: the vendor's description of the code)
    pub error_msg: Option<String>,
    /// answer (or, for callbacks, pretend the receiver answered) this HTTP status
    pub http_status: Option<u16>,
    /// body to go with `http_status`
    pub body: Option<String>,
    /// a request: wait this many real milliseconds before answering (a client's timeout is its own, real);
    /// a callback: the receiver takes this long to answer, counted without waiting — at or over the
    /// delivery timeout the attempt is "no answer". Alone, the request or delivery then proceeds normally.
    pub latency_ms: Option<u64>,
    /// drop the connection without a valid answer (for callbacks: the delivery fails as unreachable)
    #[serde(default)]
    pub drop: bool,
}

/// A rule as posted to `POST /__admin/faults`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// what it matches
    #[serde(rename = "match", default)]
    pub when: FaultMatch,
    /// what it does
    pub action: FaultAction,
    /// how many matches it applies to; absent means always
    pub times: Option<u64>,
}

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// id, for `DELETE /__admin/faults/{id}`
    pub id: u64,
    /// what it matches
    #[serde(rename = "match")]
    pub when: FaultMatch,
    /// what it does
    pub action: FaultAction,
    /// matches left; absent means always
    pub times: Option<u64>,
    /// how often it has applied
    pub hits: u64,
}

/// A request (or delivery) as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Probe<'a> {
    /// request or callback
    pub target: FaultTarget,
    /// vendor
    pub vendor: Option<VendorKind>,
    /// HTTP method
    pub method: &'a str,
    /// path
    pub path: &'a str,
    /// raw query string
    pub query: &'a str,
    /// body bytes
    pub body: &'a [u8],
}

impl FaultSpec {
    /// Why this rule makes no sense, if it does not.
    pub fn problem(&self) -> Option<String> {
        let a = &self.action;
        let outcomes =
            usize::from(a.error_code.is_some()) + usize::from(a.http_status.is_some()) + usize::from(a.drop);
        if outcomes > 1 {
            return Some("action: give at most one of error_code, http_status, drop".into());
        }
        if outcomes == 0 && a.latency_ms.is_none() {
            return Some("action: give one of error_code, http_status, drop, latency_ms".into());
        }
        if let Some(s) = a.http_status {
            if !(100..=599).contains(&s) {
                return Some(format!("action.http_status must be 100..599, got {s}"));
            }
        }
        if a.error_code.is_some() && self.when.target == FaultTarget::Callback {
            return Some(
                "action.error_code applies to requests; for callbacks use http_status, body or drop".into(),
            );
        }
        if a.error_code.is_some() && self.when.vendor.is_none() {
            return Some(
                "action.error_code needs match.vendor (the code is answered in that vendor's envelope)"
                    .into(),
            );
        }
        if let Some(ms) = a.latency_ms.filter(|ms| *ms > MAX_LATENCY_MS) {
            return Some(format!("action.latency_ms must be at most {MAX_LATENCY_MS} (a minute), got {ms}"));
        }
        if let Some(0) = self.times {
            return Some("times must be at least 1 (omit it for always)".into());
        }
        None
    }
}

fn loosely_equal(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::String(w), Value::Number(g)) => w == &g.to_string(),
        (Value::Number(w), Value::String(g)) => &w.to_string() == g,
        _ => want == got,
    }
}

impl FaultMatch {
    fn matches(&self, p: &Probe) -> bool {
        if self.target != p.target {
            return false;
        }
        if self.vendor.is_some_and(|v| Some(v) != p.vendor) {
            return false;
        }
        if self.method.as_deref().is_some_and(|m| !m.eq_ignore_ascii_case(p.method)) {
            return false;
        }
        if let Some(path) = self.path.as_deref() {
            let ok = match path.strip_suffix('*') {
                Some(prefix) => p.path.starts_with(prefix),
                None => p.path == path,
            };
            if !ok {
                return false;
            }
        }
        if let Some(want) = &self.body {
            let Ok(Value::Object(got)) = serde_json::from_slice::<Value>(p.body) else {
                return false;
            };
            if !want.iter().all(|(k, v)| got.get(k).is_some_and(|g| loosely_equal(v, g))) {
                return false;
            }
        }
        if let Some(want) = &self.query {
            let got: Vec<(String, String)> = form_pairs(p.query);
            let ok = want.iter().all(|(k, v)| {
                got.iter().any(|(gk, gv)| gk == k && loosely_equal(v, &Value::String(gv.clone())))
            });
            if !ok {
                return false;
            }
        }
        true
    }
}

/// The rule set.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<(Vec<FaultRule>, u64)>,
    /// number of rules, readable without the lock: with none (the usual case) a request does not take it
    held: std::sync::atomic::AtomicUsize,
    /// how many rules it may hold (`--max-fault-rules`)
    caps: std::sync::Arc<Caps>,
}

impl Faults {
    /// No rules yet; at most `caps.limits.fault_rules` at once.
    pub fn new(caps: std::sync::Arc<Caps>) -> Self {
        Faults { caps, ..Faults::default() }
    }

    /// Publish the rule count (called with the lock held, after any change).
    fn count(&self, n: usize) {
        self.held.store(n, std::sync::atomic::Ordering::Release);
    }

    /// Add a rule; returns it with its id, or why it was refused (as many rules as `--max-fault-rules`).
    pub fn add(&self, spec: FaultSpec) -> Result<FaultRule, String> {
        let mut g = self.rules.lock();
        let cap = self.caps.limits.fault_rules;
        if g.0.len() >= cap {
            drop(g);
            let why = format!("there are {cap} fault rules already (--max-fault-rules): delete some first");
            self.caps.reached(Cap::FaultRules, || "new fault rules are refused".into());
            return Err(why);
        }
        g.1 = g.1.saturating_add(1);
        let rule = FaultRule { id: g.1, when: spec.when, action: spec.action, times: spec.times, hits: 0 };
        g.0.push(rule.clone());
        self.count(g.0.len());
        Ok(rule)
    }

    /// How many rules there are (without the lock).
    pub fn len(&self) -> usize {
        self.held.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every rule.
    pub fn list(&self) -> Vec<FaultRule> {
        self.rules.lock().0.clone()
    }

    /// Remove one rule; true if it existed.
    pub fn remove(&self, id: u64) -> bool {
        let mut g = self.rules.lock();
        let before = g.0.len();
        g.0.retain(|r| r.id != id);
        self.count(g.0.len());
        g.0.len() != before
    }

    /// Remove every rule.
    pub fn clear(&self) {
        let mut g = self.rules.lock();
        g.0.clear();
        self.count(0);
    }

    /// The first rule matching `p`, counted as a hit (a rule with no matches left is removed).
    pub fn take(&self, p: &Probe) -> Option<(u64, FaultAction)> {
        if self.held.load(std::sync::atomic::Ordering::Acquire) == 0 {
            return None;
        }
        let mut g = self.rules.lock();
        let idx = g.0.iter().position(|r| r.when.matches(p))?;
        let r = &mut g.0[idx];
        r.hits = r.hits.saturating_add(1);
        let out = (r.id, r.action.clone());
        if let Some(t) = r.times.as_mut() {
            *t = t.saturating_sub(1);
            if *t == 0 {
                g.0.remove(idx);
                self.count(g.0.len());
            }
        }
        Some(out)
    }

    /// Rules and the next id, for a dump.
    pub fn state(&self) -> (Vec<FaultRule>, u64) {
        self.rules.lock().clone()
    }

    /// Replace the rules with a dump's.
    pub fn restore(&self, rules: Vec<FaultRule>, next: u64) {
        let next = next.max(rules.iter().map(|r| r.id).max().unwrap_or(0));
        let mut g = self.rules.lock();
        *g = (rules, next);
        self.count(g.0.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn probe<'a>(path: &'a str, body: &'a [u8]) -> Probe<'a> {
        Probe {
            target: FaultTarget::Request,
            vendor: Some(VendorKind::new(1, "cloud_record")),
            method: "POST",
            path,
            query: "app_id=a%20b&x=1",
            body,
        }
    }

    #[test]
    fn matches_and_counts_down() {
        let f = Faults::default();
        let spec: FaultSpec = serde_json::from_value(json!({
            "match": {"vendor": "cloud_record", "path": "/v1/record/*", "body": {"group_id": "g1"}, "query": {"x": 1}},
            "action": {"error_code": 6_050_030_016_i64}, "times": 2
        }))
        .unwrap();
        assert!(spec.problem().is_none());
        assert!(f.add(spec).is_ok());
        assert!(f.take(&probe("/v1/record/init", br#"{"group_id":"g2"}"#)).is_none());
        assert!(f.take(&probe("/v2/x", br#"{"group_id":"g1"}"#)).is_none());
        assert!(f.take(&probe("/v1/record/init", br#"{"group_id":"g1"}"#)).is_some());
        assert!(f.take(&probe("/v1/record/init", br#"{"group_id":"g1"}"#)).is_some());
        assert!(f.take(&probe("/v1/record/init", br#"{"group_id":"g1"}"#)).is_none());
        assert!(f.list().is_empty());
    }

    #[test]
    fn nonsense_rules_are_named() {
        let bad: FaultSpec =
            serde_json::from_value(json!({"action": {"error_code": 1, "drop": true}})).unwrap();
        assert!(bad.problem().is_some());
        let bad: FaultSpec = serde_json::from_value(json!({"action": {}})).unwrap();
        assert!(bad.problem().is_some());
    }

    #[test]
    fn rules_beyond_the_cap_are_refused() {
        let caps = crate::limits::Limits { fault_rules: 2, ..Default::default() };
        let f = Faults::new(std::sync::Arc::new(Caps::new(caps)));
        let spec: FaultSpec = serde_json::from_value(json!({"action": {"drop": true}})).unwrap();
        assert!(f.add(spec.clone()).is_ok() && f.add(spec.clone()).is_ok());
        let refused = f.add(spec.clone()).unwrap_err();
        assert!(refused.contains("--max-fault-rules"), "{refused}");
        assert_eq!(f.list().len(), 2);
        assert!(f.remove(1));
        assert_eq!(f.add(spec).map(|r| r.id), Ok(3));
    }
}
