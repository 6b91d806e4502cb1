//! Wire types of the education recording admin API (seed 000).

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Accept a non-negative integer, or a string of digits (`"3003"`), as a room id.
pub fn room_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!("room id must be a non-negative integer, got {n}"))
        }),
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().map(Some).map_err(|_| serde::de::Error::custom(format!("room id `{s}` is too large")))
        }
        Some(other) => Err(serde::de::Error::custom(format!("room id must be an integer, got {other}"))),
    }
}

/// The body of every `open_record_svc` request.
#[derive(Debug, Deserialize)]
pub struct RecordRequest {
    /// fixed `open_record_svc`
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub cmd: Option<String>,
    /// `req_record`, `query_record_result` or `report_group`
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub sub_cmd: Option<String>,
    /// the room (req_record, query_record_result)
    #[serde(default, deserialize_with = "room_id")]
    pub class_roomid: Option<u64>,
    /// whiteboard group of req_record (default: the room id as a string)
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub groupid: Option<String>,
    /// the group of report_group (real clients send `group_id`)
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub group_id: Option<String>,
}
