//! The TIC PaaS error table (seed 004; the vendor's own list in `reference/vendor-facts.md`).
//!
//! Every answer carries `error_code` and `error_msg`; the message is the vendor's description of the code
//! followed by what exactly was wrong, so a client developer can fix the request from the answer alone.

use crate::http::Reply;
use crate::vendors::kit::{worded, CodeTable};
use serde_json::{json, Map, Value};

/// Success.
pub const OK: i64 = 0;
/// Generic error.
pub const GENERIC: i64 = -1;
/// Parse failure: a URL parameter or a body field that cannot be parsed (wrong type, not a number).
pub const PARSE: i64 = 10_000;
/// Serialisation failure.
pub const SERIALIZE: i64 = 10_001;
/// Deserialisation failure: the body is not a JSON object.
pub const DESERIALIZE: i64 = 10_002;
/// Invalid parameter: missing, out of range, not one of the documented values.
pub const INVALID_PARAM: i64 = 10_003;
/// Failed to read the request body (recmock: a body over the size limit).
pub const READ_BODY: i64 = 10_005;
/// Encryption failure.
pub const ENCRYPT: i64 = 10_200;
/// Decryption failure.
pub const DECRYPT: i64 = 10_201;
/// Database operation failed.
pub const DATABASE: i64 = 10_202;
/// Insufficient permission.
pub const NO_PERMISSION: i64 = 10_203;
/// Register failed.
pub const REGISTER_FAILED: i64 = 10_210;
/// Login failed.
pub const LOGIN_FAILED: i64 = 10_211;
/// Logout failed.
pub const LOGOUT_FAILED: i64 = 10_212;
/// Visitor account unavailable.
pub const VISITOR_UNAVAILABLE: i64 = 10_213;
/// Duplicate user.
pub const DUPLICATE_USER: i64 = 10_214;
/// User does not exist.
pub const NO_SUCH_USER: i64 = 10_215;
/// Token expired (recmock: `expire_time` not in the future).
pub const TOKEN_EXPIRED: i64 = 10_216;
/// Sign authentication failed.
pub const SIGN_FAILED: i64 = 10_217;
/// Wrong login password.
pub const WRONG_PASSWORD: i64 = 10_218;
/// Failed to get the class schedule.
pub const SCHEDULE_FAILED: i64 = 10_220;
/// No classes at all.
pub const NO_CLASSES: i64 = 10_221;
/// Failed to generate a class id.
pub const CLASS_ID_FAILED: i64 = 10_222;
/// Cannot modify or delete: the class is in progress.
pub const CLASS_IN_PROGRESS: i64 = 10_223;
/// Cannot join: the class has ended.
pub const CLASS_ENDED: i64 = 10_224;
/// Wrong class password.
pub const WRONG_CLASS_PASSWORD: i64 = 10_225;
/// Class does not exist.
pub const NO_SUCH_CLASS: i64 = 10_230;
/// Failed to generate a document id.
pub const DOC_ID_FAILED: i64 = 10_240;
/// Failed to create the transcode task.
pub const TRANSCODE_FAILED: i64 = 10_250;
/// Enterprise (account) does not exist.
pub const NO_SUCH_ACCOUNT: i64 = 10_270;
/// Failed to create the IM group.
pub const IM_GROUP_FAILED: i64 = 10_280;

/// Every documented code with the vendor's description.
pub const TABLE: CodeTable = CodeTable::new(
    &[
        (OK, "success"),
        (GENERIC, "generic error"),
        (PARSE, "parse failure"),
        (SERIALIZE, "serialisation failure"),
        (DESERIALIZE, "deserialisation failure"),
        (INVALID_PARAM, "invalid parameter"),
        (READ_BODY, "failed to read the request body"),
        (ENCRYPT, "encryption failure"),
        (DECRYPT, "decryption failure"),
        (DATABASE, "database operation failed"),
        (NO_PERMISSION, "insufficient permission"),
        (REGISTER_FAILED, "register failed"),
        (LOGIN_FAILED, "login failed"),
        (LOGOUT_FAILED, "logout failed"),
        (VISITOR_UNAVAILABLE, "visitor account unavailable"),
        (DUPLICATE_USER, "duplicate user"),
        (NO_SUCH_USER, "user does not exist"),
        (TOKEN_EXPIRED, "token expired"),
        (SIGN_FAILED, "sign authentication failed"),
        (WRONG_PASSWORD, "wrong login password"),
        (SCHEDULE_FAILED, "failed to get the class schedule"),
        (NO_CLASSES, "no classes at all"),
        (CLASS_ID_FAILED, "failed to generate a class id"),
        (CLASS_IN_PROGRESS, "cannot modify or delete: the class is in progress"),
        (CLASS_ENDED, "cannot join: the class has ended"),
        (WRONG_CLASS_PASSWORD, "wrong class password"),
        (NO_SUCH_CLASS, "class does not exist"),
        (DOC_ID_FAILED, "failed to generate a document id"),
        (TRANSCODE_FAILED, "failed to create the transcode task"),
        (NO_SUCH_ACCOUNT, "enterprise (account) does not exist"),
        (IM_GROUP_FAILED, "failed to create the IM group"),
    ],
    "error",
);

/// The vendor's description of `code` (`error` for a code outside the table).
pub fn describe(code: i64) -> &'static str {
    TABLE.describe(code)
}

/// A refused request: a documented code, what exactly was wrong, and any fields the answer still carries
/// (`user/register` reports `user_list` and `repeats` along with 10214).
#[derive(Debug, Clone, PartialEq)]
pub struct IclassError {
    /// documented code
    pub code: i64,
    /// the specific reason
    pub detail: String,
    /// extra top-level fields of the answer
    pub fields: Option<Value>,
}

impl IclassError {
    /// A refusal with `code`.
    pub fn new(code: i64, detail: impl Into<String>) -> Self {
        IclassError { code, detail: detail.into(), fields: None }
    }

    /// Shorthand for 10003.
    pub fn invalid(detail: impl Into<String>) -> Self {
        IclassError::new(INVALID_PARAM, detail)
    }

    /// The same refusal, answered with extra fields.
    pub fn with_fields(mut self, fields: Value) -> Self {
        self.fields = Some(fields);
        self
    }

    /// `error_msg`: the vendor's description, then the detail.
    pub fn msg(&self) -> String {
        worded(describe(self.code), &self.detail)
    }

    /// The envelope `{error_code, error_msg, ...fields}` with HTTP 200.
    pub fn reply(&self) -> Reply {
        let mut m = Map::new();
        m.insert("error_code".into(), json!(self.code));
        m.insert("error_msg".into(), json!(self.msg()));
        if let Some(Value::Object(f)) = &self.fields {
            for (k, v) in f {
                m.insert(k.clone(), v.clone());
            }
        }
        Reply::json(&Value::Object(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_described_once() {
        for (i, (c, _)) in TABLE.entries().iter().enumerate() {
            assert!(!TABLE.entries()[..i].iter().any(|(d, _)| d == c), "code {c} twice");
        }
        assert_eq!(describe(NO_SUCH_CLASS), "class does not exist");
        assert_eq!(describe(12345), "error");
        let e = IclassError::new(DUPLICATE_USER, "u1").with_fields(json!({"repeats": ["u1"]}));
        let body: Value = serde_json::from_slice(&e.reply().body).unwrap();
        assert_eq!(body, json!({"error_code": 10214, "error_msg": "duplicate user: u1", "repeats": ["u1"]}));
    }
}
