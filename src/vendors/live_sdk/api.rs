//! Wire types of the live-SDK recording calls as REST (seed 002).
//!
//! One JSON body carries what the SDK calls take: `RoomInfo` (`relation_id`, `room_id`) and `RecordParam`
//! (file name, class id, tags, flags, SDK type, data type). Field names follow the Windows SDK's structs
//! (`TIMRoomInfo`, `TIMRecordParam`); the iOS (`relationId`, `fileName`, `isTransCode`, ...) and Web
//! (`videotype`, `classid`, `transcode`, ...) spellings are accepted as aliases.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A non-negative integer that fits `u32`, or a string of digits.
pub fn lenient_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            n.as_u64().and_then(|v| u32::try_from(v).ok()).map(Some).ok_or_else(|| {
                serde::de::Error::custom(format!("expected an integer 0..=4294967295, got {n}"))
            })
        }
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse()
                .map(Some)
                .map_err(|_| serde::de::Error::custom(format!("`{s}` is larger than 4294967295")))
        }
        Some(other) => Err(serde::de::Error::custom(format!("expected an integer, got {other}"))),
    }
}

/// `true`/`false`, or `1`/`0` as the Web SDK passes its flags.
pub fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::Number(n)) if n.as_u64() == Some(0) => Ok(Some(false)),
        Some(Value::Number(n)) if n.as_u64() == Some(1) => Ok(Some(true)),
        Some(other) => Err(serde::de::Error::custom(format!("expected true/false or 1/0, got {other}"))),
    }
}

/// The body of `POST /live_sdk/v1/record/start` and `/stop` (stop reads the platform, the room and,
/// optionally, the data type).
#[derive(Debug, Default, Deserialize)]
pub struct RecordRequest {
    /// `android`, `ios`, `windows` or `web`: the SDK whose call this is
    #[serde(default, deserialize_with = "crate::wire::lenient_string")]
    pub platform: Option<String>,
    /// 群组ID / 讨论组ID (`relationId`)
    #[serde(default, alias = "relationId", deserialize_with = "lenient_u32")]
    pub relation_id: Option<u32>,
    /// 房间ID (`roomId`)
    #[serde(default, alias = "roomId", deserialize_with = "lenient_u32")]
    pub room_id: Option<u32>,
    /// 录制生成的文件名, without extension (`filename`, `fileName`)
    #[serde(
        default,
        alias = "filename",
        alias = "fileName",
        deserialize_with = "crate::wire::lenient_string"
    )]
    pub file_name: Option<String>,
    /// 视频分类ID (`classId`, `classid`)
    #[serde(default, alias = "classId", alias = "classid", deserialize_with = "lenient_u32")]
    pub class_id: Option<u32>,
    /// 视频标签列表
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// 是否转码 (`isTransCode`, `transcode`)
    #[serde(default, alias = "isTransCode", alias = "transcode", deserialize_with = "lenient_bool")]
    pub is_transcode: Option<bool>,
    /// 是否截图 (`isScreenShot`, `snapshot`)
    #[serde(default, alias = "isScreenShot", alias = "snapshot", deserialize_with = "lenient_bool")]
    pub is_screenshot: Option<bool>,
    /// 是否打水印 (`isWaterMark`, `watermark`)
    #[serde(default, alias = "isWaterMark", alias = "watermark", deserialize_with = "lenient_bool")]
    pub is_watermark: Option<bool>,
    /// SDK业务类型 (`avSdkType`)
    #[serde(default, alias = "avSdkType", deserialize_with = "lenient_u32")]
    pub sdk_type: Option<u32>,
    /// 录制的数据类型: 0 摄像头视频, 1 辅流 (`videotype`)
    #[serde(default, alias = "videotype", deserialize_with = "lenient_u32")]
    pub record_data_type: Option<u32>,
}
