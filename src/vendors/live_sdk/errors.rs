//! Error codes of seed 002: the SDK's recording codes (1, 2 and the ranges 30000000..30000499, of which
//! recmock answers the concrete codes below), and the VOD API v2 common codes of the look-ups.

use crate::http::Reply;
use crate::vendors::kit::worded;
use serde_json::{json, Map, Value};

/// 用户没有录制权限: the account has not enabled the VOD service.
pub const NO_PERMISSION: i64 = 1;
/// 用户点播余额不足: the account's VOD balance is used up.
pub const NO_BALANCE: i64 = 2;
/// The request packet cannot be parsed: an empty body, not JSON, not a JSON object.
pub const BAD_PACKET: i64 = 30_000_001;
/// A required field is missing.
pub const MISSING_FIELD: i64 = 30_000_002;
/// A field has the wrong type or a value out of range.
pub const BAD_FIELD: i64 = 30_000_003;
/// The platform cannot record that data type (Web: 辅流 not supported).
pub const UNSUPPORTED_DATA_TYPE: i64 = 30_000_004;
/// The login information (`sdkappid`, `identifier`, `usersig`) is missing or `sdkappid` is not a number.
pub const LOGIN_MISSING: i64 = 30_000_010;
/// `sdkappid` names no app.
pub const UNKNOWN_APP: i64 = 30_000_011;
/// `usersig` is malformed, or made for another user, another app, or with another key.
pub const USERSIG_REFUSED: i64 = 30_000_012;
/// `usersig` has expired.
pub const USERSIG_EXPIRED: i64 = 30_000_013;
/// The user already has a recording in progress (one per user at a time).
pub const ALREADY_RECORDING: i64 = 30_000_201;
/// Stop, but the user has no recording in progress.
pub const NOT_RECORDING: i64 = 30_000_202;
/// Stop names another room or data type than the user's recording.
pub const OTHER_RECORDING: i64 = 30_000_203;
/// The recording server failed the user's recording (reported to the next stop).
pub const RECORDING_FAILED: i64 = 30_000_204;
/// The recording server's answer could not be parsed (fault rules only).
pub const BAD_SERVER_REPLY: i64 = 30_000_300;
/// The flow-control server refuses: the app runs as many recordings as it may (`max_recordings`).
pub const FLOW_CONTROL: i64 = 30_000_401;

/// Every code recmock answers on the SDK endpoints, with its own meaning.
pub const TABLE: &[(i64, &str)] = &[
    (0, "成功"),
    (NO_PERMISSION, "用户没有录制权限"),
    (NO_BALANCE, "用户点播余额不足"),
    (BAD_PACKET, "request packet is not a JSON object"),
    (MISSING_FIELD, "a required field is missing"),
    (BAD_FIELD, "a field has a wrong type or value"),
    (UNSUPPORTED_DATA_TYPE, "data type not supported on this platform"),
    (LOGIN_MISSING, "login information missing"),
    (UNKNOWN_APP, "unknown sdkappid"),
    (USERSIG_REFUSED, "usersig refused"),
    (USERSIG_EXPIRED, "usersig expired"),
    (ALREADY_RECORDING, "the user is already recording"),
    (NOT_RECORDING, "the user is not recording"),
    (OTHER_RECORDING, "the user records another room or data type"),
    (RECORDING_FAILED, "the recording failed"),
    (BAD_SERVER_REPLY, "the recording server's reply could not be parsed"),
    (FLOW_CONTROL, "too many recordings at once"),
];

/// The document's description of `code`: its own line for 1 and 2, its range's line otherwise.
pub fn describe(code: i64) -> &'static str {
    match code {
        0 => "成功",
        NO_PERMISSION => "用户没有录制权限",
        NO_BALANCE => "用户点播余额不足",
        30_000_000..=30_000_099 => "解析客户端录制请求包错误",
        30_000_200..=30_000_299 => "请求录制服务器错误",
        30_000_300..=30_000_399 => "解析录制服务器回包错误",
        30_000_400..=30_000_499 => "请求流控服务器错误",
        _ => "未知错误",
    }
}

/// A refused SDK call: `{code, desc}`, as the SDKs' `onError(code, desc)` receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct SdkError {
    /// documented code
    pub code: i64,
    /// the precise reason, in English
    pub detail: String,
}

impl SdkError {
    /// A refusal with `code`.
    pub fn new(code: i64, detail: impl Into<String>) -> Self {
        SdkError { code, detail: detail.into() }
    }

    /// `{code, desc}`; `desc` is the document's description, a colon and the precise reason.
    pub fn reply(&self) -> Reply {
        let desc = worded(describe(self.code), &self.detail);
        let mut m = Map::new();
        m.insert("code".into(), json!(self.code));
        m.insert("desc".into(), json!(desc));
        Reply::json(&Value::Object(m))
    }
}

/// VOD API v2 4000 请求参数非法: a parameter is missing, malformed or out of range; unknown `Action`.
pub const VOD_BAD_PARAMETER: i64 = 4000;
/// VOD API v2 4100 鉴权失败: unknown `SecretId`, or the signature does not verify.
pub const VOD_AUTH_FAILURE: i64 = 4100;
/// VOD API v2 4200 请求过期: `Timestamp` too far from now.
pub const VOD_EXPIRED: i64 = 4200;
/// VOD API v2 4500 重放攻击: `Nonce` (with its `Timestamp`) seen before.
pub const VOD_REPLAY: i64 = 4500;
/// VOD API v2 5000 资源不存在: no such file.
pub const VOD_NOT_FOUND: i64 = 5000;
/// VOD API v2 6000 服务器内部错误 (fault rules only).
pub const VOD_INTERNAL: i64 = 6000;

/// The VOD API v2 common codes recmock answers: (code, 描述, codeDesc).
pub const VOD_TABLE: &[(i64, &str, &str)] = &[
    (VOD_BAD_PARAMETER, "请求参数非法", "InvalidParameter"),
    (VOD_AUTH_FAILURE, "鉴权失败", "AuthFailure"),
    (VOD_EXPIRED, "请求过期", "RequestExpired"),
    (VOD_REPLAY, "重放攻击", "ReplayAttack"),
    (VOD_NOT_FOUND, "资源不存在", "ResourceNotFound"),
    (VOD_INTERNAL, "服务器内部错误", "InternalError"),
];

/// A refused VOD API request: HTTP 200 with `{code, message, codeDesc}`.
#[derive(Debug, Clone, PartialEq)]
pub struct VodError {
    /// common code
    pub code: i64,
    /// the precise reason, in English
    pub detail: String,
}

impl VodError {
    /// A refusal with `code`.
    pub fn new(code: i64, detail: impl Into<String>) -> Self {
        VodError { code, detail: detail.into() }
    }

    /// Shorthand for 4000.
    pub fn param(detail: impl Into<String>) -> Self {
        VodError::new(VOD_BAD_PARAMETER, detail)
    }

    /// `{code, message, codeDesc}`.
    pub fn reply(&self) -> Reply {
        let (desc, code_desc) = VOD_TABLE
            .iter()
            .find(|(c, ..)| *c == self.code)
            .map_or(("未知错误", "UnknownError"), |(_, d, cd)| (*d, *cd));
        let message =
            if self.detail.is_empty() { desc.to_string() } else { format!("{desc}: {}", self.detail) };
        let mut m = Map::new();
        m.insert("code".into(), json!(self.code));
        m.insert("message".into(), json!(message));
        m.insert("codeDesc".into(), json!(code_desc));
        Reply::json(&Value::Object(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_in_its_documented_range() {
        for (code, _) in TABLE.iter().filter(|(c, _)| *c > 2) {
            assert!((30_000_000..=30_000_499).contains(code), "{code}");
            assert!(!matches!(describe(*code), "未知错误"), "{code}");
        }
        assert_eq!(describe(30_000_150), "未知错误");
    }
}
