//! Wire-format helpers every vendor module shares: JSON as vendors' clients really send it.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Accept a string or an integer as text; null or absent is `None`. For fields a document types as String
/// but shows as numbers in its own examples (ids, `media_id`, `mode`).
pub fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        Some(other) => Err(serde::de::Error::custom(format!("invalid type: {other}, expected a string"))),
    }
}

/// Like [`lenient_string`], for a required field.
pub fn lenient_string_required<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    lenient_string(d)?.ok_or_else(|| serde::de::Error::custom("expected a string"))
}

/// The next byte at or after `i` that is neither whitespace nor inside a `//` comment.
fn next_significant(text: &[u8], mut i: usize) -> Option<u8> {
    while i < text.len() {
        match text[i] {
            c if c.is_ascii_whitespace() => i += 1,
            b'/' if text.get(i + 1) == Some(&b'/') => {
                while i < text.len() && text[i] != b'\n' {
                    i += 1;
                }
            }
            c => return Some(c),
        }
    }
    None
}

/// Remove `//` line comments and commas that directly precede `}` or `]`, outside strings.
fn strip_comments_and_trailing_commas(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let (mut in_str, mut escaped) = (false, false);
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        if in_str {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'/' if text.get(i + 1) == Some(&b'/') => {
                while i < text.len() && text[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b',' if matches!(next_significant(text, i + 1), Some(b'}') | Some(b']')) => {
                i += 1;
                continue;
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Parse JSON as strictly as serde does; failing that, tolerate what the vendor documents' own examples
/// contain (trailing commas, `//` comments), which people paste into curl. The error is the strict one.
pub fn lenient_json(body: &[u8]) -> Result<serde_json::Value, serde_json::Error> {
    match serde_json::from_slice(body) {
        Ok(v) => Ok(v),
        Err(strict) => serde_json::from_slice(&strip_comments_and_trailing_commas(body)).map_err(|_| strict),
    }
}

#[cfg(test)]
mod tests {
    use super::lenient_json;

    #[test]
    fn the_document_examples_parse() {
        let v = lenient_json(b"{\"a\":\"x,} // y\",\n\"b\":[1,2,],\n \"c\":1234//change\n}").unwrap();
        assert_eq!(v, serde_json::json!({"a": "x,} // y", "b": [1, 2], "c": 1234}));
        assert!(lenient_json(b"{\"a\": {1, 2}}").is_err());
    }
}
