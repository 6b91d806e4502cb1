//! The cloud-recording error table (seed 001), plus the access-service codes of vendor-facts.md.

use crate::http::Reply;
use crate::vendors::kit::{worded, CodeTable};
use serde_json::{json, Map, Value};

/// 异常失败: generic failure.
pub const EXCEPTION: i64 = 6_050_030_000;
/// 上下文不存在: no such task (or its context has ended).
pub const CONTEXT_NOT_FOUND: i64 = 6_050_030_001;
/// 参数错误: bad parameter.
pub const BAD_PARAMS: i64 = 6_050_030_003;
/// 链接已经存在: the same stream link twice.
pub const LINK_EXISTS: i64 = 6_050_030_004;
/// json解析错误: unparsable body.
pub const JSON_PARSE: i64 = 6_050_030_005;
/// 未登录: no Authorization header.
pub const NOT_LOGGED_IN: i64 = 6_050_030_006;
/// 鉴权失败: bad credentials.
pub const AUTH_FAILED: i64 = 6_050_030_007;
/// 剩余空间不足: storage quota used up.
pub const NO_SPACE: i64 = 6_050_030_008;
/// 服务器上下文已达负载上限: the account's concurrent-task limit.
pub const LOAD_LIMIT_ACCOUNT: i64 = 6_050_030_009;
/// 服务器上下文已达负载上限: the group's concurrent-task limit.
pub const LOAD_LIMIT_GROUP: i64 = 6_050_030_010;
/// 服务器上下文已达负载上限: the mixer's input limit for one layout.
pub const LOAD_LIMIT_INPUTS: i64 = 6_050_030_011;
/// 上下文已经存在: an active task already records this group into this file name.
pub const CONTEXT_EXISTS: i64 = 6_050_030_012;
/// 移除输入通道失败，不存在指定的输入通道: removing an input (no request here removes one: a fault rule only).
pub const INPUT_MISSING: i64 = 6_050_030_022;
/// 设置输出参数失败，不存在指定的输入通道或者输入同道类型不对: a layout's audio or video input missing or of the
/// wrong type.
pub const OUTPUT_INPUT_MISSING: i64 = 6_050_030_024;
/// 设置了幕布大小却没有设置布局: a video task's layout without video.
pub const CANVAS_WITHOUT_LAYOUT: i64 = 6_050_030_025;
/// 没有设置幕布大小却设置布局: video layout on an audio-only task.
pub const LAYOUT_WITHOUT_CANVAS: i64 = 6_050_030_026;
/// 录制任务暂停，设置输出失败: layout while suspended.
pub const PAUSED_LAYOUT: i64 = 6_050_030_033;
/// 自动录制不支持 手动设置布局: manual layout on an auto task.
pub const AUTO_NO_MANUAL_LAYOUT: i64 = 6_050_030_035;
/// 自动录制 该房间存在一个自动录制任务: a second auto task in a group.
pub const AUTO_EXISTS: i64 = 6_050_030_038;
/// 不能暂停 录制中才可以: suspend when not recording.
pub const CANNOT_SUSPEND: i64 = 6_050_030_039;
/// Access service: bad dev_id/token.
pub const TOKEN_AUTH_FAILED: i64 = 606_000_000;
/// Access service: access token expired.
pub const TOKEN_TIMEOUT: i64 = 606_000_001;

/// Every documented code with the vendor's own description.
pub const TABLE: CodeTable = CodeTable::new(
    &[
        (EXCEPTION, "异常失败"),
        (CONTEXT_NOT_FOUND, "上下文不存在"),
        (BAD_PARAMS, "参数错误"),
        (LINK_EXISTS, "链接已经存在"),
        (JSON_PARSE, "json解析错误"),
        (NOT_LOGGED_IN, "未登录"),
        (AUTH_FAILED, "鉴权失败"),
        (NO_SPACE, "剩余空间不足"),
        (LOAD_LIMIT_ACCOUNT, "服务器上下文已达负载上限"),
        (LOAD_LIMIT_GROUP, "服务器上下文已达负载上限"),
        (LOAD_LIMIT_INPUTS, "服务器上下文已达负载上限"),
        (CONTEXT_EXISTS, "上下文已经存在"),
        (6_050_030_013, "虚拟用户登录失败"),
        (6_050_030_016, "给资源平台发送命令失败"),
        (6_050_030_017, "解析资源平台消息错误"),
        (6_050_030_018, "资源平台record 响应返回失败"),
        (6_050_030_020, "创建输入通道失败，没有Parameter参数"),
        (6_050_030_021, "创建输入通道失败，输入通道已经存在"),
        (INPUT_MISSING, "移除输入通道失败，不存在指定的输入通道"),
        (6_050_030_023, "设置输出参数失败，媒体服务器内部原因"),
        (OUTPUT_INPUT_MISSING, "设置输出参数失败，不存在指定的输入通道或者输入同道类型不对"),
        (CANVAS_WITHOUT_LAYOUT, "设置输出参数失败，设置了幕布大小却没有设置布局"),
        (LAYOUT_WITHOUT_CANVAS, "设置输出参数失败，没有设置幕布大小却设置布局"),
        (6_050_030_027, "设置输出叠加台标字幕失败，媒体服务器内部原因"),
        (6_050_030_028, "认证失败"),
        (6_050_030_029, "心跳异常"),
        (6_050_030_031, "文件读取异常"),
        (6_050_030_032, "媒体服务返回超时"),
        (PAUSED_LAYOUT, "录制任务暂停，设置输出失败"),
        (6_050_030_034, "下载中间文件失败"),
        (AUTO_NO_MANUAL_LAYOUT, "自动录制不支持 手动设置布局"),
        (6_050_030_036, "自动录制 登陆事件网关失败"),
        (AUTO_EXISTS, "自动录制 该房间存在一个自动录制任务"),
        (CANNOT_SUSPEND, "不能暂停  录制中才可以"),
        (TOKEN_AUTH_FAILED, "Authentication failed"),
        (TOKEN_TIMEOUT, "access_token timeout"),
    ],
    "其他错误",
);

/// The vendor's description of `code`.
pub fn describe(code: i64) -> &'static str {
    TABLE.describe(code)
}

/// A refused request: a documented code and what exactly was wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudError {
    /// documented code
    pub code: i64,
    /// the specific reason, in English
    pub detail: String,
}

impl CloudError {
    /// A refusal with `code`.
    pub fn new(code: i64, detail: impl Into<String>) -> Self {
        CloudError { code, detail: detail.into() }
    }

    /// Shorthand for a bad parameter.
    pub fn params(detail: impl Into<String>) -> Self {
        CloudError::new(BAD_PARAMS, detail)
    }

    /// The `msg`: the vendor's description, then the detail.
    pub fn msg(&self) -> String {
        worded(describe(self.code), &self.detail)
    }

    /// The error envelope `{code, msg}` plus echoed fields (`record_id`, `seq`) when the request had them.
    pub fn reply(&self, echo: &[(&str, Option<&str>)]) -> Reply {
        let mut m = Map::new();
        m.insert("code".into(), json!(self.code));
        m.insert("msg".into(), json!(self.msg()));
        for (k, v) in echo {
            if let Some(v) = v {
                m.insert((*k).into(), json!(v));
            }
        }
        Reply::json(&Value::Object(m))
    }
}
