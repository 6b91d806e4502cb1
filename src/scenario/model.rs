//! The scenario format: what a step may say, checked structurally (the Rust mirror of
//! `docs/scenario.schema.json`), and `${name}` substitution.

use super::matchers;
use crate::fixture::{parse_at, FixtureError};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Variables every scenario has without capturing them: the callback receiver's URL, the server's base
/// URL, and the virtual time (unix seconds) when the step runs.
pub const BUILTIN_VARS: [&str; 3] = ["receiver", "base", "now"];

/// The kinds of step; each step object has exactly one of these keys.
pub const STEP_KINDS: [&str; 5] = ["request", "advance", "event", "expect_callbacks", "receiver"];

/// The keys a step object may have.
pub const STEP_KEYS: [&str; 8] =
    ["name", "request", "advance", "event", "expect_callbacks", "receiver", "expect", "capture"];

/// `request`: one HTTP call.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// which vendor's auth to add (`ilvb_edu`, `cloud_record`, `iclass`, ...; default: from the path)
    pub vendor: Option<String>,
    /// HTTP method (default GET, or POST when there is a body)
    pub method: Option<String>,
    /// path on the server (`/v1/record/init`), or an absolute URL (a captured download URL)
    pub path: String,
    /// query parameters (values may be strings, numbers or booleans)
    #[serde(default)]
    pub query: Map<String, Value>,
    /// extra headers
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// a JSON body
    pub body: Option<Value>,
    /// a form body (`application/x-www-form-urlencoded`)
    pub form: Option<Map<String, Value>>,
    /// a body sent exactly as written
    pub raw: Option<String>,
    /// `"none"`, or overrides of what the runner takes from the fixture (each vendor's client side names its keys)
    pub auth: Option<Value>,
}

/// `expect` on a step's answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// HTTP status
    pub status: Option<u16>,
    /// `path → value or matcher` on the JSON answer
    #[serde(default)]
    pub json: Map<String, Value>,
    /// size of the answer's body in bytes (downloads): a number or a matcher
    pub body_size: Option<Value>,
    /// MD5 (lowercase hex) of the answer's body (downloads)
    pub body_md5: Option<String>,
}

/// `expect_callbacks`: what the runner's receiver has got.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackExpect {
    /// `path → value or matcher` selecting callbacks (paths into a received callback:
    /// `vendor`, `path`, `query.<name>`, `headers.<name>`, `body.<field>`)
    #[serde(default, rename = "where")]
    pub filter: Map<String, Value>,
    /// how many are selected: a number or a matcher
    pub count: Option<Value>,
    /// `{ "<path>": [v1, v2, ...] }`: the selected callbacks' values at the path, in arrival order
    #[serde(default)]
    pub order: Map<String, Value>,
    /// `path → value or matcher` that every selected callback satisfies
    #[serde(default)]
    pub each: Map<String, Value>,
    /// ... that the first selected callback satisfies
    #[serde(default)]
    pub first: Map<String, Value>,
    /// ... that the last selected callback satisfies
    #[serde(default)]
    pub last: Map<String, Value>,
    /// every selected callback carries a valid signature, checked as the vendor's receiver would
    #[serde(default)]
    pub signed: bool,
    /// only callbacks received since the previous `expect_callbacks` step
    #[serde(default)]
    pub since_last: bool,
    /// longest wall time to wait for the expectations to hold (default 2000 ms)
    pub wait_ms: Option<u64>,
}

/// `receiver`: how the callback receiver answers from now on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverSpec {
    /// HTTP status (default 200)
    pub status: Option<u16>,
    /// the body: a string sent as is, or JSON (default `{"error_code":0}`)
    pub body: Option<Value>,
    /// answer so only the next N callbacks (default: every one from now on)
    pub times: Option<u32>,
}

/// `advance`: a number of seconds, or `{"seconds": N}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum AdvanceSpec {
    /// `"advance": 60`
    Seconds(f64),
    /// `"advance": {"seconds": 60}`
    Object {
        /// virtual seconds
        seconds: f64,
    },
}

impl AdvanceSpec {
    /// The virtual seconds.
    pub fn seconds(&self) -> f64 {
        match self {
            AdvanceSpec::Seconds(s) | AdvanceSpec::Object { seconds: s } => *s,
        }
    }
}

/// What one step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// an HTTP call
    Request(Box<RequestSpec>),
    /// `POST /__admin/clock/advance`
    Advance(f64),
    /// `POST /__admin/events` (one event or an array)
    Event(Value),
    /// check what the receiver got
    Callbacks(Box<CallbackExpect>),
    /// change how the receiver answers
    Receiver(ReceiverSpec),
}

/// One parsed step (after substitution).
#[derive(Debug, Clone)]
pub struct Step {
    /// its name, if given
    pub name: Option<String>,
    /// what it does
    pub action: Action,
    /// expectations on the answer (not for `expect_callbacks`)
    pub expect: Option<Expect>,
    /// `variable → path` captured from the answer (for `expect_callbacks`: from the array of selected
    /// callbacks, e.g. `[-1].body.data.h5_url`)
    pub capture: BTreeMap<String, String>,
}

impl Step {
    /// The step's kind: one of [`STEP_KINDS`].
    pub fn kind(&self) -> &'static str {
        match self.action {
            Action::Request(_) => "request",
            Action::Advance(_) => "advance",
            Action::Event(_) => "event",
            Action::Callbacks(_) => "expect_callbacks",
            Action::Receiver(_) => "receiver",
        }
    }
}

/// Parse one step object at `path` (`steps[3]`), reporting every problem.
pub fn parse_step(v: &Value, path: &str, errors: &mut Vec<FixtureError>) -> Option<Step> {
    let Value::Object(m) = v else {
        errors.push(FixtureError::new(path, "a step must be an object"));
        return None;
    };
    let before = errors.len();
    crate::fixture::unknown_keys(v, path, &STEP_KEYS, errors);
    let kinds: Vec<&str> = STEP_KINDS.iter().copied().filter(|k| m.contains_key(*k)).collect();
    if kinds.len() != 1 {
        errors.push(FixtureError::new(
            path,
            format!("a step needs exactly one of {} (found {})", STEP_KINDS.join(", "), kinds.len()),
        ));
        return None;
    }
    let at = |k: &str| format!("{path}.{k}");
    let name = match m.get("name") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            errors.push(FixtureError::new(at("name"), "expected a string"));
            None
        }
    };
    let action = match kinds[0] {
        "request" => {
            let r = parse_at::<RequestSpec>(&m["request"], &at("request"), errors);
            if let Some(r) = &r {
                check_request(r, &at("request"), errors);
            }
            r.map(|r| Action::Request(Box::new(r)))
        }
        "advance" => parse_at::<AdvanceSpec>(&m["advance"], &at("advance"), errors).and_then(|a| {
            let s = a.seconds();
            if s.is_finite() && s >= 0.0 {
                Some(Action::Advance(s))
            } else {
                errors.push(FixtureError::new(at("advance"), "seconds must be a number >= 0"));
                None
            }
        }),
        "event" => {
            let e = &m["event"];
            let ok = match e {
                Value::Object(_) => true,
                Value::Array(items) => items.iter().all(Value::is_object),
                _ => false,
            };
            if ok {
                Some(Action::Event(e.clone()))
            } else {
                errors.push(FixtureError::new(at("event"), "expected an event object or an array of them"));
                None
            }
        }
        "receiver" => parse_at::<ReceiverSpec>(&m["receiver"], &at("receiver"), errors).and_then(|r| {
            if r.status.is_some_and(|s| !(100..=599).contains(&s)) {
                errors.push(FixtureError::new(at("receiver.status"), "must be an HTTP status, 100 to 599"));
                return None;
            }
            Some(Action::Receiver(r))
        }),
        _ => {
            let c = parse_at::<CallbackExpect>(&m["expect_callbacks"], &at("expect_callbacks"), errors);
            if let Some(c) = &c {
                check_callbacks(c, &at("expect_callbacks"), errors);
            }
            c.map(|c| Action::Callbacks(Box::new(c)))
        }
    };
    let expect = match m.get("expect") {
        None => None,
        Some(_) if kinds[0] == "expect_callbacks" || kinds[0] == "receiver" => {
            errors.push(FixtureError::new(at("expect"), format!("{} steps have no `expect`", kinds[0])));
            None
        }
        Some(e) => {
            let x = parse_at::<Expect>(e, &at("expect"), errors);
            if let Some(x) = &x {
                check_map(&x.json, &at("expect.json"), errors);
                if let Some(n) = &x.body_size {
                    let ok = n.is_u64()
                        || matchers::is_matcher(n)
                        || n.as_str().is_some_and(|s| s.starts_with("${"));
                    if !ok {
                        errors
                            .push(FixtureError::new(at("expect.body_size"), "expected a size or a matcher"));
                    } else if let Err(e) = matchers::check_expected(n) {
                        errors.push(FixtureError::new(at("expect.body_size"), e));
                    }
                }
            }
            x
        }
    };
    let capture = match m.get("capture") {
        Some(_) if kinds[0] == "receiver" => {
            errors.push(FixtureError::new(at("capture"), "receiver steps have no answer to capture from"));
            BTreeMap::new()
        }
        None => BTreeMap::new(),
        Some(c) => parse_at::<BTreeMap<String, String>>(c, &at("capture"), errors).unwrap_or_default(),
    };
    for (name, p) in &capture {
        if !is_var_name(name) {
            errors.push(FixtureError::new(
                format!("{}.{name}", at("capture")),
                "a variable name is letters, digits and `_`, not starting with a digit",
            ));
        }
        if BUILTIN_VARS.contains(&name.as_str()) {
            errors.push(FixtureError::new(format!("{}.{name}", at("capture")), "a built-in variable's name"));
        }
        if let Err(e) = matchers::parse_path(p) {
            errors.push(FixtureError::new(format!("{}.{name}", at("capture")), e));
        }
    }
    if errors.len() > before {
        return None;
    }
    Some(Step { name, action: action?, expect, capture })
}

fn is_var_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

fn check_request(r: &RequestSpec, path: &str, errors: &mut Vec<FixtureError>) {
    if let Some(v) = &r.vendor {
        if v.parse::<crate::VendorKind>().is_err() && v != "admin" && v != "none" && !v.starts_with("${") {
            errors.push(FixtureError::new(format!("{path}.vendor"), {
                let names: Vec<&str> = crate::VendorKind::all().iter().map(|k| k.as_str()).collect();
                format!("unknown vendor `{v}` ({}, admin, none)", names.join(", "))
            }));
        }
    }
    if let Some(m) = &r.method {
        if !["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"]
            .contains(&m.to_ascii_uppercase().as_str())
        {
            errors.push(FixtureError::new(format!("{path}.method"), format!("unknown method `{m}`")));
        }
    }
    if !(r.path.starts_with('/')
        || r.path.starts_with("http://")
        || r.path.starts_with("https://")
        || r.path.starts_with("${"))
    {
        errors.push(FixtureError::new(
            format!("{path}.path"),
            "must start with `/` or be an absolute http(s) URL",
        ));
    }
    let bodies = [r.body.is_some(), r.form.is_some(), r.raw.is_some()].iter().filter(|b| **b).count();
    if bodies > 1 {
        errors.push(FixtureError::new(path, "give at most one of `body`, `form`, `raw`"));
    }
    for (k, v) in &r.query {
        if v.is_object() || v.is_array() {
            errors.push(FixtureError::new(
                format!("{path}.query.{k}"),
                "a query value is a string, number or boolean",
            ));
        }
    }
    match &r.auth {
        None => {}
        Some(Value::String(s)) if s == "none" => {}
        Some(Value::Object(m)) => {
            // Each vendor's client side reads its own keys (and refuses others) when the step runs; here a
            // key no vendor knows is refused.
            let clients = crate::vendors::clients();
            for k in m.keys() {
                if !clients.iter().any(|(_, c)| c.auth_keys().contains(&k.as_str())) {
                    let known: std::collections::BTreeSet<&str> =
                        clients.iter().flat_map(|(_, c)| c.auth_keys().iter().copied()).collect();
                    let known: Vec<&str> = known.into_iter().collect();
                    errors.push(FixtureError::new(
                        format!("{path}.auth.{k}"),
                        format!("unknown key `{k}` (expected one of: {})", known.join(", ")),
                    ));
                }
            }
        }
        Some(_) => errors
            .push(FixtureError::new(format!("{path}.auth"), "expected \"none\" or an object of overrides")),
    }
}

fn check_map(m: &Map<String, Value>, path: &str, errors: &mut Vec<FixtureError>) {
    for (k, v) in m {
        if let Err(e) = matchers::parse_path(k) {
            errors.push(FixtureError::new(format!("{path}.{k}"), e));
        }
        if let Err(e) = matchers::check_expected(v) {
            errors.push(FixtureError::new(format!("{path}.{k}"), e));
        }
    }
}

fn check_callbacks(c: &CallbackExpect, path: &str, errors: &mut Vec<FixtureError>) {
    check_map(&c.filter, &format!("{path}.where"), errors);
    check_map(&c.each, &format!("{path}.each"), errors);
    check_map(&c.first, &format!("{path}.first"), errors);
    check_map(&c.last, &format!("{path}.last"), errors);
    if let Some(n) = &c.count {
        if !(n.is_u64() || matchers::is_matcher(n)) {
            errors.push(FixtureError::new(format!("{path}.count"), "expected a count or a matcher"));
        } else if let Err(e) = matchers::check_expected(n) {
            errors.push(FixtureError::new(format!("{path}.count"), e));
        }
    }
    for (k, v) in &c.order {
        if let Err(e) = matchers::parse_path(k) {
            errors.push(FixtureError::new(format!("{path}.order.{k}"), e));
        }
        if !v.is_array() {
            errors.push(FixtureError::new(format!("{path}.order.{k}"), "expected an array of values"));
        }
    }
    if c.wait_ms.is_some_and(|w| w > 60_000) {
        errors.push(FixtureError::new(format!("{path}.wait_ms"), "must be at most 60000"));
    }
}

/// Every `${name}` in the strings of `v` (`$${` is a literal `${`).
pub fn references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            let mut rest = s.as_str();
            while let Some(i) = rest.find("${") {
                if i > 0 && rest[..i].ends_with('$') {
                    rest = &rest[i + 2..];
                    continue;
                }
                let after = &rest[i + 2..];
                match after.find('}') {
                    Some(j) => {
                        out.push(after[..j].to_string());
                        rest = &after[j + 1..];
                    }
                    None => break,
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| references(x, out)),
        Value::Object(m) => m.iter().for_each(|(k, x)| {
            references(&Value::String(k.clone()), out);
            references(x, out);
        }),
        _ => {}
    }
}

/// Replace every `${name}` in the strings of `v` (keys included) with `vars[name]`: a string that is
/// exactly `${name}` becomes the variable's JSON value (keeping its type); inside a longer string the value
/// is interpolated as text. `$${` is a literal `${`. `Err` names an unknown variable.
pub fn substitute(v: &Value, vars: &BTreeMap<String, Value>) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                if is_var_name(name) {
                    return vars.get(name).cloned().ok_or_else(|| unknown(name, vars));
                }
            }
            Value::String(interpolate(s, vars)?)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, vars)).collect::<Result<_, _>>()?),
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                out.insert(interpolate(k, vars)?, substitute(x, vars)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

fn unknown(name: &str, vars: &BTreeMap<String, Value>) -> String {
    let known: Vec<&str> = vars.keys().map(String::as_str).collect();
    format!("unknown variable ${{{name}}} (known here: {})", known.join(", "))
}

fn interpolate(s: &str, vars: &BTreeMap<String, Value>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(lit) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = lit;
        } else if let Some(body) = after.strip_prefix("${") {
            let Some(j) = body.find('}') else {
                out.push_str(after);
                rest = "";
                break;
            };
            let name = &body[..j];
            let val = vars.get(name).ok_or_else(|| unknown(name, vars))?;
            match val {
                Value::String(t) => out.push_str(t),
                other => out.push_str(&other.to_string()),
            }
            rest = &body[j + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Check the scenario parts of a document (`name`, `steps`, variables used before they are captured).
/// The fixture parts are checked by the fixture loader.
pub fn check_document(doc: &Value) -> Vec<FixtureError> {
    let mut errors = Vec::new();
    if let Some(n) = doc.get("name") {
        if !n.is_string() {
            errors.push(FixtureError::new("name", "expected a string"));
        }
    }
    // The fixture part may use only ${receiver}.
    let mut fixture_refs = Vec::new();
    if let Value::Object(m) = doc {
        for (k, v) in m.iter().filter(|(k, _)| *k != "steps") {
            let mut refs = Vec::new();
            references(v, &mut refs);
            fixture_refs.extend(refs.into_iter().filter(|r| r != "receiver").map(|r| (k.clone(), r)));
        }
    }
    for (k, r) in fixture_refs {
        errors.push(FixtureError::new(k, format!("${{{r}}}: the fixture part may use only ${{receiver}}")));
    }
    let steps = match doc.get("steps") {
        None => return errors,
        Some(Value::Array(s)) => s,
        Some(_) => {
            errors.push(FixtureError::new("steps", "expected an array of steps"));
            return errors;
        }
    };
    let mut known: BTreeSet<String> = BUILTIN_VARS.iter().map(|s| s.to_string()).collect();
    for (i, s) in steps.iter().enumerate() {
        let path = format!("steps[{i}]");
        let mut refs = Vec::new();
        references(s, &mut refs);
        // A step's own captures are set after it ran: they are not visible inside it.
        for r in refs {
            if !known.contains(&r) {
                errors.push(FixtureError::new(
                    path.clone(),
                    format!("${{{r}}} is used before any step captures it"),
                ));
            }
        }
        if let Some(step) = parse_step(s, &path, &mut errors) {
            known.extend(step.capture.keys().cloned());
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn substitution_keeps_types_or_interpolates() {
        let vars: BTreeMap<String, Value> =
            [("id".to_string(), json!(12)), ("rid".to_string(), json!("r-1"))].into_iter().collect();
        let v =
            json!({"a": "${id}", "b": "x=${id}&r=${rid}", "c": ["${rid}"], "${rid}": "$${id}", "d": "$5"});
        let out = substitute(&v, &vars).unwrap();
        assert_eq!(out, json!({"a": 12, "b": "x=12&r=r-1", "c": ["r-1"], "r-1": "${id}", "d": "$5"}));
        let e = substitute(&json!("${nope}"), &vars).unwrap_err();
        assert!(e.contains("unknown variable ${nope}") && e.contains("id, rid"), "{e}");
        let mut refs = Vec::new();
        references(&v, &mut refs);
        assert_eq!(refs, vec!["rid", "id", "id", "rid", "rid"], "keys in sorted order; `$${{` is literal");
    }

    #[test]
    fn malformed_steps_are_named_by_path() {
        let doc = json!({"name": "x", "steps": [
            {"advance": 5},
            {"request": {"path": "/a", "bogus": 1}},
            {"advance": 1, "event": {}},
            {"request": {"path": "v1"}, "expect": {"json": {"a": {"$gt": "z"}}}},
            {"request": {"path": "/x?${later}"}},
            {"request": {"path": "/y"}, "capture": {"later": "a..b"}},
            {"expect_callbacks": {"count": "x", "order": {"body.event": "a"}}},
            {"advance": -1},
            {"request": {"path": "/z", "auth": {"dev": 1}}},
            {"receiver": {"status": 700}},
            {"receiver": {}, "expect": {"status": 200}}
        ]});
        let errs = check_document(&doc);
        let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "steps[1].request.bogus",
                "steps[2]",
                "steps[3].request.path",
                "steps[3].expect.json.a",
                "steps[4]",
                "steps[5].capture.later",
                "steps[6].expect_callbacks.count",
                "steps[6].expect_callbacks.order.body.event",
                "steps[7].advance",
                "steps[8].request.auth.dev",
                "steps[9].receiver.status",
                "steps[10].expect",
            ],
            "{errs:?}"
        );
    }
}
