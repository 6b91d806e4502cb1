//! The education recording service's error table (seed 000, 后台错误码).

use crate::http::Reply;
use crate::vendors::kit::{worded, CodeTable};
use serde_json::{json, Map, Value};

/// 通用的失败错误码: generic failure; the reason is in `error_msg`.
pub const GENERIC: i64 = -1;
/// 数据解析错误: the body could not be parsed at all.
pub const DATA_PARSE: i64 = -9000;
/// 序列化失败: the back end failed to serialise (fault rules only).
pub const SERIALIZE: i64 = -9001;
/// 反序列化失败: the body is not standard JSON.
pub const DESERIALIZE: i64 = -9002;
/// 参数无效: a field is missing or has a wrong value.
pub const INVALID_PARAM: i64 = -9003;
/// 权限不足: the identifier is not an admin.
pub const NO_PERMISSION: i64 = -9004;
/// 重复操作: the room is already in the recording list.
pub const DUPLICATE: i64 = -12011;

/// Every documented code with the document's description.
pub const TABLE: CodeTable = CodeTable::new(
    &[
        (0, "成功"),
        (GENERIC, "通用的失败错误码"),
        (DATA_PARSE, "数据解析错误"),
        (SERIALIZE, "序列化失败"),
        (DESERIALIZE, "反序列化失败"),
        (INVALID_PARAM, "参数无效"),
        (NO_PERMISSION, "权限不足"),
        (DUPLICATE, "重复操作"),
    ],
    "未知错误",
);

/// The document's description of `code`.
pub fn describe(code: i64) -> &'static str {
    TABLE.describe(code)
}

/// A refused request.
#[derive(Debug, Clone, PartialEq)]
pub struct EduError {
    /// documented code
    pub code: i64,
    /// the precise reason, in English
    pub detail: String,
}

impl EduError {
    /// A refusal with `code`.
    pub fn new(code: i64, detail: impl Into<String>) -> Self {
        EduError { code, detail: detail.into() }
    }

    /// Shorthand for -9003.
    pub fn param(detail: impl Into<String>) -> Self {
        EduError::new(INVALID_PARAM, detail)
    }

    /// `{error_code, error_msg}`.
    pub fn reply(&self) -> Reply {
        let msg = worded(describe(self.code), &self.detail);
        let mut m = Map::new();
        m.insert("error_code".into(), json!(self.code));
        m.insert("error_msg".into(), json!(msg));
        Reply::json(&Value::Object(m))
    }
}
