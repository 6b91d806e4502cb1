//! Paths into JSON answers and the matchers a scenario's expectations use.
//!
//! A path is dotted keys and bracketed indexes: `data.records[0].id`, `record_list[-1].status` (a negative
//! index counts from the end), `["key.with.dots"]`; the empty path is the whole document.
//!
//! An expected value is either a plain JSON value (deep equality; numbers compare by value, so `1` equals
//! `1.0`) or a matcher: an object whose keys all start with `$`, every one of which must hold:
//! `$exists` (bool), `$gt` `$gte` `$lt` `$lte` (numbers), `$ne` (any value), `$len` (a number or a
//! matcher, on the length of a string, array or object), `$type` (`string`, `number`, `integer`,
//! `boolean`, `array`, `object`, `null`), `$contains` (a substring of a string, or an element of an
//! array), `$prefix` (a string prefix).

use serde_json::Value;

/// One step of a [`parse_path`] path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// an object key
    Key(String),
    /// an array index (negative: from the end)
    Index(i64),
}

/// Parse a path (`data.records[0].id`); `Err` says what is wrong with it.
pub fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = path.chars().collect();
    let mut i = 0;
    let mut key = String::new();
    let mut after_bracket = false;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                if key.is_empty() && !after_bracket {
                    return Err(format!("empty key at character {i} of `{path}`"));
                }
                if !key.is_empty() {
                    out.push(Segment::Key(std::mem::take(&mut key)));
                }
                after_bracket = false;
                i += 1;
                if i == chars.len() {
                    return Err(format!("`{path}` ends with `.`"));
                }
            }
            '[' => {
                if !key.is_empty() {
                    out.push(Segment::Key(std::mem::take(&mut key)));
                }
                let close = chars[i..]
                    .iter()
                    .position(|c| *c == ']')
                    .map(|p| p + i)
                    .ok_or_else(|| format!("unclosed `[` in `{path}`"))?;
                let inner: String = chars[i + 1..close].iter().collect();
                if let Some(quoted) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    out.push(Segment::Key(quoted.to_string()));
                } else {
                    let n: i64 = inner.trim().parse().map_err(|_| {
                        format!("`[{inner}]` in `{path}` is neither an index nor a \"quoted key\"")
                    })?;
                    out.push(Segment::Index(n));
                }
                after_bracket = true;
                i = close + 1;
            }
            c => {
                if after_bracket {
                    return Err(format!("expected `.` or `[` after `]` in `{path}`"));
                }
                key.push(c);
                i += 1;
            }
        }
    }
    if !key.is_empty() {
        out.push(Segment::Key(key));
    }
    Ok(out)
}

/// The value at `path` in `doc`, if there is one.
pub fn lookup<'a>(doc: &'a Value, path: &[Segment]) -> Option<&'a Value> {
    let mut cur = doc;
    for seg in path {
        cur = match (seg, cur) {
            (Segment::Key(k), Value::Object(m)) => m.get(k)?,
            (Segment::Index(n), Value::Array(a)) => {
                let i = if *n < 0 { a.len().checked_sub(n.unsigned_abs() as usize)? } else { *n as usize };
                a.get(i)?
            }
            _ => return None,
        };
    }
    Some(cur)
}

/// The value at the textual `path` in `doc` (`Err` for a malformed path).
pub fn get<'a>(doc: &'a Value, path: &str) -> Result<Option<&'a Value>, String> {
    Ok(lookup(doc, &parse_path(path)?))
}

/// Is `v` a matcher (a non-empty object whose keys all start with `$`)?
pub fn is_matcher(v: &Value) -> bool {
    matches!(v, Value::Object(m) if !m.is_empty() && m.keys().all(|k| k.starts_with('$')))
}

/// The matcher operators.
pub const OPERATORS: [&str; 11] =
    ["$exists", "$gt", "$gte", "$lt", "$lte", "$ne", "$len", "$type", "$contains", "$prefix", "$eq"];

/// The JSON type names `$type` knows.
pub const TYPES: [&str; 7] = ["string", "number", "integer", "boolean", "array", "object", "null"];

/// Check the shape of an expected value (its matchers' operands); `Err` names the problem.
pub fn check_expected(v: &Value) -> Result<(), String> {
    if !is_matcher(v) {
        return Ok(());
    }
    let Value::Object(m) = v else { return Ok(()) };
    for (op, arg) in m {
        let bad = |want: &str| Err(format!("`{op}` takes {want}, got {arg}"));
        match op.as_str() {
            "$exists" if !arg.is_boolean() => return bad("true or false"),
            "$gt" | "$gte" | "$lt" | "$lte" if !arg.is_number() && !is_template(arg) => {
                return bad("a number")
            }
            "$prefix" if !arg.is_string() => return bad("a string"),
            "$type" if !arg.as_str().is_some_and(|t| TYPES.contains(&t)) => {
                return bad(&format!("one of {}", TYPES.join(", ")))
            }
            "$len" => {
                if !(arg.is_u64() || is_matcher(arg) || is_template(arg)) {
                    return bad("a length or a matcher");
                }
                check_expected(arg)?;
            }
            "$exists" | "$gt" | "$gte" | "$lt" | "$lte" | "$prefix" | "$type" | "$ne" | "$contains"
            | "$eq" => {}
            _ => return Err(format!("unknown matcher `{op}` (known: {})", OPERATORS.join(", "))),
        }
    }
    Ok(())
}

fn is_template(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.starts_with("${"))
}

/// Deep equality where numbers compare by value.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(i), Some(j)) = (x.as_i64(), y.as_i64()) {
                i == j
            } else if let (Some(i), Some(j)) = (x.as_u64(), y.as_u64()) {
                i == j
            } else {
                x.as_f64() == y.as_f64()
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn shown(actual: Option<&Value>) -> String {
    actual.map_or_else(|| "nothing (no such field)".to_string(), |v| v.to_string())
}

/// Does `actual` (`None`: the path leads nowhere) satisfy `expected`? `Err` says how it does not.
pub fn check(expected: &Value, actual: Option<&Value>) -> Result<(), String> {
    if !is_matcher(expected) {
        return match actual {
            Some(a) if json_eq(expected, a) => Ok(()),
            _ => Err(format!("expected {expected}, got {}", shown(actual))),
        };
    }
    let Value::Object(ops) = expected else { return Ok(()) };
    for (op, arg) in ops {
        let fail = |what: String| Err(format!("expected {op} {arg}{what}, got {}", shown(actual)));
        match op.as_str() {
            "$exists" => {
                if actual.is_some() != (arg == &Value::Bool(true)) {
                    return fail(String::new());
                }
            }
            "$eq" => {
                if !actual.is_some_and(|a| json_eq(arg, a)) {
                    return fail(String::new());
                }
            }
            "$ne" => {
                if actual.is_some_and(|a| json_eq(arg, a)) {
                    return fail(String::new());
                }
            }
            "$gt" | "$gte" | "$lt" | "$lte" => {
                let (Some(a), Some(b)) = (actual.and_then(Value::as_f64), arg.as_f64()) else {
                    return fail(" (numbers)".into());
                };
                let ok = match op.as_str() {
                    "$gt" => a > b,
                    "$gte" => a >= b,
                    "$lt" => a < b,
                    _ => a <= b,
                };
                if !ok {
                    return fail(String::new());
                }
            }
            "$len" => {
                let len = match actual {
                    Some(Value::String(s)) => s.chars().count(),
                    Some(Value::Array(a)) => a.len(),
                    Some(Value::Object(m)) => m.len(),
                    _ => return fail(" (a string, array or object)".into()),
                };
                if let Err(e) = check(arg, Some(&Value::from(len))) {
                    return Err(format!("length: {e} (value {})", shown(actual)));
                }
            }
            "$type" => {
                let t = actual.map(type_name);
                let want = arg.as_str().unwrap_or_default();
                let ok = t == Some(want) || (want == "number" && t == Some("integer"));
                if !ok {
                    return fail(String::new());
                }
            }
            "$contains" => {
                let ok = match (actual, arg) {
                    (Some(Value::String(s)), Value::String(needle)) => s.contains(needle.as_str()),
                    (Some(Value::Array(a)), _) => a.iter().any(|e| {
                        if is_matcher(arg) {
                            check(arg, Some(e)).is_ok()
                        } else {
                            json_eq(arg, e)
                        }
                    }),
                    _ => false,
                };
                if !ok {
                    return fail(String::new());
                }
            }
            "$prefix" => {
                let ok = matches!((actual, arg), (Some(Value::String(s)), Value::String(p)) if s.starts_with(p.as_str()));
                if !ok {
                    return fail(String::new());
                }
            }
            _ => return Err(format!("unknown matcher `{op}` (known: {})", OPERATORS.join(", "))),
        }
    }
    Ok(())
}

/// Check every `path → expected` of `expectations` against `doc`; one line per mismatch.
pub fn check_all(expectations: &serde_json::Map<String, Value>, doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (path, expected) in expectations {
        let shown_path = if path.is_empty() { "(whole answer)" } else { path };
        match get(doc, path) {
            Err(e) => out.push(format!("{shown_path}: {e}")),
            Ok(actual) => {
                if let Err(e) = check(expected, actual) {
                    out.push(format!("{shown_path}: {e}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        let doc = json!({"data": {"records": [{"id": 1}, {"id": 2}], "a.b": true}});
        assert_eq!(get(&doc, "data.records[0].id").unwrap(), Some(&json!(1)));
        assert_eq!(get(&doc, "data.records[-1].id").unwrap(), Some(&json!(2)));
        assert_eq!(get(&doc, "data.records[2]").unwrap(), None);
        assert_eq!(get(&doc, "data.records[-3]").unwrap(), None);
        assert_eq!(get(&doc, "data[\"a.b\"]").unwrap(), Some(&json!(true)));
        assert_eq!(get(&doc, "").unwrap(), Some(&doc));
        assert_eq!(get(&doc, "data.nope.x").unwrap(), None);
        assert_eq!(get(&json!([5, 6]), "[1]").unwrap(), Some(&json!(6)));
        for bad in ["a..b", "a[", "a[x]", "a.", "a[0]b", ".a"] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn equality_and_matchers() {
        assert!(check(&json!(1), Some(&json!(1.0))).is_ok());
        assert!(check(&json!({"a": [1, "x"]}), Some(&json!({"a": [1, "x"]}))).is_ok());
        assert!(check(&json!({"a": 1}), Some(&json!({"a": 1, "b": 2}))).is_err());
        assert!(check(&json!(1), None).unwrap_err().contains("no such field"));
        assert!(check(&json!({"$exists": true}), Some(&json!(null))).is_ok());
        assert!(check(&json!({"$exists": false}), None).is_ok());
        assert!(check(&json!({"$exists": false}), Some(&json!(0))).is_err());
        assert!(check(&json!({"$gt": 1, "$lte": 3}), Some(&json!(3))).is_ok());
        assert!(check(&json!({"$gt": 1, "$lte": 3}), Some(&json!(4))).is_err());
        assert!(check(&json!({"$lt": 1}), Some(&json!("0"))).is_err());
        assert!(check(&json!({"$gte": 2.5}), Some(&json!(2.5))).is_ok());
        assert!(check(&json!({"$ne": 0}), Some(&json!(1))).is_ok());
        assert!(check(&json!({"$ne": 0}), Some(&json!(0.0))).is_err());
        assert!(check(&json!({"$ne": 0}), None).is_ok());
        assert!(check(&json!({"$len": 2}), Some(&json!([1, 2]))).is_ok());
        assert!(check(&json!({"$len": {"$gte": 3}}), Some(&json!("ab"))).is_err());
        assert!(check(&json!({"$len": 1}), Some(&json!({"k": 1}))).is_ok());
        assert!(check(&json!({"$len": 1}), Some(&json!(5))).is_err());
        assert!(check(&json!({"$type": "string"}), Some(&json!("x"))).is_ok());
        assert!(check(&json!({"$type": "number"}), Some(&json!(3))).is_ok());
        assert!(check(&json!({"$type": "integer"}), Some(&json!(3.5))).is_err());
        assert!(check(&json!({"$type": "null"}), None).is_err());
        assert!(check(&json!({"$contains": "ell"}), Some(&json!("hello"))).is_ok());
        assert!(check(&json!({"$contains": 3}), Some(&json!([1, 3]))).is_ok());
        assert!(check(&json!({"$contains": {"$gt": 5}}), Some(&json!([1, 3]))).is_err());
        assert!(check(&json!({"$contains": "x"}), Some(&json!(7))).is_err());
        assert!(check(&json!({"$prefix": "http://"}), Some(&json!("http://a/b"))).is_ok());
        assert!(check(&json!({"$prefix": "https://"}), Some(&json!("http://a/b"))).is_err());
        assert!(check(&json!({"$eq": {"$x": 1}}), Some(&json!({"$x": 1}))).is_ok());
        let e = check(&json!({"$bogus": 1}), Some(&json!(1))).unwrap_err();
        assert!(e.contains("unknown matcher"), "{e}");
    }

    #[test]
    fn matcher_shapes_are_checked() {
        assert!(check_expected(&json!({"$gt": "x"})).is_err());
        assert!(check_expected(&json!({"$type": "str"})).is_err());
        assert!(check_expected(&json!({"$len": {"$nope": 1}})).is_err());
        assert!(check_expected(&json!({"$exists": 1})).is_err());
        assert!(check_expected(&json!({"$len": {"$gte": 1}, "$type": "array"})).is_ok());
        assert!(check_expected(&json!({"plain": {"$gt": "x"}})).is_ok(), "not a matcher: a plain value");
    }

    #[test]
    fn every_mismatch_is_reported_with_its_path() {
        let doc = json!({"code": 6, "list": [{"s": 2}]});
        let exp = json!({"code": 0, "list[0].s": {"$gte": 2}, "missing": {"$exists": true}});
        let lines = check_all(exp.as_object().unwrap(), &doc);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].starts_with("code: expected 0, got 6"), "{lines:?}");
        assert!(lines[1].starts_with("missing: "), "{lines:?}");
    }
}
