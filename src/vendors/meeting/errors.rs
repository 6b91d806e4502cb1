//! The meeting service's status codes (seed 003: 公共响应状态码 and 常见响应状态码, plus 200009 from the
//! vendor's fuller table) and its envelope `{code, data, message, state}`.

use crate::http::Reply;
use crate::vendors::kit::CodeTable;
use serde::Serialize;
use serde_json::Value;

/// 请求成功。
pub const OK: i64 = 200;
/// 请求的参数异常。
pub const BAD_PARAMS: i64 = 400;
/// auth认证失败（auth错误；冒用他人的auth）
pub const AUTH_FAILED: i64 = 403;
/// 服务器内部错误，无法完成请求。 (fault rules only)
pub const INTERNAL: i64 = 500;
/// 会议号和当前的认证的auth不匹配
pub const NOT_YOUR_CONFERENCE: i64 = 200_001;
/// 该会议已开启直播
pub const LIVE_ON: i64 = 200_002;
/// 该会议已开启录制
pub const RECORDING_ON: i64 = 200_003;
/// 该会议不允许录制
pub const RECORD_NOT_ALLOWED: i64 = 200_004;
/// 该会议不允许直播
pub const LIVE_NOT_ALLOWED: i64 = 200_005;
/// 该会议还未开启
pub const NOT_STARTED: i64 = 200_006;
/// 该会议未开启录制
pub const RECORDING_OFF: i64 = 200_007;
/// 该会议不存在
pub const NO_CONFERENCE: i64 = 200_008;
/// 当前时间段，此会议室已被预约 (a booking code; no endpoint of the seed books rooms: fault rules only)
pub const BOOKED: i64 = 200_009;

/// Every documented code with the vendor's description.
pub const TABLE: CodeTable = CodeTable::new(
    &[
        (OK, "请求成功。"),
        (BAD_PARAMS, "请求的参数异常。"),
        (AUTH_FAILED, "auth认证失败（auth错误；冒用他人的auth）"),
        (INTERNAL, "服务器内部错误，无法完成请求。"),
        (NOT_YOUR_CONFERENCE, "会议号和当前的认证的auth不匹配"),
        (LIVE_ON, "该会议已开启直播"),
        (RECORDING_ON, "该会议已开启录制"),
        (RECORD_NOT_ALLOWED, "该会议不允许录制"),
        (LIVE_NOT_ALLOWED, "该会议不允许直播"),
        (NOT_STARTED, "该会议还未开启"),
        (RECORDING_OFF, "该会议未开启录制"),
        (NO_CONFERENCE, "该会议不存在"),
        (BOOKED, "当前时间段，此会议室已被预约"),
    ],
    "未知错误",
);

/// What a real server says when the `auth` header is missing or empty (seen in a real client).
pub const AUTH_MISSING_MSG: &str = "auth码不能为空";
/// What a real server says when the body is missing (seen in a real client).
pub const BODY_MISSING_MSG: &str = "消息体缺失,请检查";

/// The vendor's description of `code`.
pub fn describe(code: i64) -> &'static str {
    TABLE.describe(code)
}

/// How an endpoint writes `code`: the document's endpoints a string (`"200"`), `getLiveRecStatus` a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeForm {
    /// `"code": "200003"`
    Text,
    /// `"code": 200003`
    Number,
}

impl CodeForm {
    /// `code` in this form.
    pub fn render(self, code: i64) -> Value {
        match self {
            CodeForm::Text => Value::String(code.to_string()),
            CodeForm::Number => Value::from(code),
        }
    }
}

/// The envelope, in the document's key order.
#[derive(Debug, Serialize)]
struct Envelope<'a, T: Serialize> {
    code: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a T>,
    message: Option<&'a str>,
    state: u8,
}

/// A success: `{code: "200", data, message: null, state: 1}`. Without `data` (closeLive) the key is left
/// out, as the document's example shows.
pub fn success<T: Serialize>(form: CodeForm, data: Option<&T>) -> Reply {
    Reply::json(&Envelope { code: form.render(OK), data, message: None, state: 1 })
}

/// A refused request.
#[derive(Debug, Clone, PartialEq)]
pub struct MeetingError {
    /// documented code
    pub code: i64,
    /// the whole `message`
    pub message: String,
}

impl MeetingError {
    /// The code with its description as the message, verbatim (clients compare these strings).
    pub fn new(code: i64) -> Self {
        MeetingError { code, message: describe(code).to_string() }
    }

    /// The code with an exact message.
    pub fn with_message(code: i64, message: impl Into<String>) -> Self {
        MeetingError { code, message: message.into() }
    }

    /// 400 naming what is wrong: `请求的参数异常: <detail>`.
    pub fn params(detail: impl std::fmt::Display) -> Self {
        MeetingError::with_message(BAD_PARAMS, format!("请求的参数异常: {detail}"))
    }

    /// 403 naming what is wrong: `auth认证失败: <detail>`.
    pub fn auth(detail: impl std::fmt::Display) -> Self {
        MeetingError::with_message(AUTH_FAILED, format!("auth认证失败: {detail}"))
    }

    /// `{code, data: null, message, state: 0}`, HTTP 200 (see docs/decisions.md, 003).
    pub fn reply(&self, form: CodeForm) -> Reply {
        Reply::json(&Envelope::<Value> {
            code: form.render(self.code),
            data: Some(&Value::Null),
            message: Some(&self.message),
            state: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The envelope's keys come in the document's order, with `code` as the endpoint writes it.
    #[test]
    fn envelopes_are_written_as_documented() {
        let text = |r: Reply| String::from_utf8(r.body.to_vec()).unwrap();
        assert_eq!(
            text(MeetingError::new(RECORDING_ON).reply(CodeForm::Text)),
            r#"{"code":"200003","data":null,"message":"该会议已开启录制","state":0}"#
        );
        assert_eq!(
            text(MeetingError::new(NOT_STARTED).reply(CodeForm::Number)),
            r#"{"code":200006,"data":null,"message":"该会议还未开启","state":0}"#
        );
        assert_eq!(text(success::<()>(CodeForm::Text, None)), r#"{"code":"200","message":null,"state":1}"#);
        assert_eq!(
            text(success(CodeForm::Text, Some(&serde_json::json!({"recordId": "r"})))),
            r#"{"code":"200","data":{"recordId":"r"},"message":null,"state":1}"#
        );
        assert_eq!(describe(BOOKED), "当前时间段，此会议室已被预约");
        assert_eq!(describe(1), "未知错误");
    }
}
