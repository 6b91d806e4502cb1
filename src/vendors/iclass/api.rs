//! Wire types of the TIC PaaS API (seed 004): request bodies as clients send them.
//!
//! Every field is optional at this level so that a missing field is reported as an invalid parameter
//! (10003) naming it, while a field of the wrong type is a parse failure (10000) naming its path.
//! Unknown fields are ignored (vendors add fields; real clients send extras). `null` counts as absent.

use serde::Deserialize;

/// `class/create` and `class/modify` (modify takes the same fields, plus `class_id`).
#[derive(Debug, Default, Deserialize)]
pub struct ClassRequest {
    /// 课堂ID (modify only)
    pub class_id: Option<i64>,
    /// 教师ID
    pub teacher_id: Option<String>,
    /// 课堂主题 (default: the class id as a string)
    pub class_topic: Option<String>,
    /// public (default) / 1v1 / 1vN
    pub class_type: Option<String>,
    /// planned start (default: now)
    pub start_time: Option<i64>,
    /// planned end (default: start + 2 h)
    pub stop_time: Option<i64>,
    /// recording types, as the request table lists them
    pub record_types: Option<Vec<String>>,
    /// settings, as the request example shows them (`settings.record_types`)
    pub settings: Option<SettingsRequest>,
    /// members (the teacher is always one)
    pub members: Option<Vec<MemberRequest>>,
    /// the cloud recorder's user id (`tic_recorduser...`)
    pub record_user_id: Option<String>,
    /// its TLS-sig v2 signature
    pub record_user_sig: Option<String>,
}

/// `settings` in a class request.
#[derive(Debug, Default, Deserialize)]
pub struct SettingsRequest {
    /// recording types
    pub record_types: Option<Vec<String>>,
}

/// One `members` entry.
#[derive(Debug, Default, Deserialize)]
pub struct MemberRequest {
    /// `student`
    pub role: Option<String>,
    /// the user
    pub user_id: Option<String>,
}

/// `class/delete` and `class/info`.
#[derive(Debug, Default, Deserialize)]
pub struct ClassIdRequest {
    /// 课堂ID
    pub class_id: Option<i64>,
}

/// `class/list`.
#[derive(Debug, Default, Deserialize)]
pub struct ClassListRequest {
    /// page index from 0
    pub index: Option<i64>,
    /// page size, 1..=100 (default 100)
    pub size: Option<i64>,
    /// only classes this user belongs to
    pub user_id: Option<String>,
    /// newest first (default true)
    pub create_time_desc: Option<bool>,
    /// only these statuses (empty: all)
    pub class_status: Option<Vec<String>>,
    /// only these types (empty: all)
    pub class_type: Option<Vec<String>>,
}

/// `user/register`.
#[derive(Debug, Default, Deserialize)]
pub struct RegisterRequest {
    /// users to register
    pub list: Option<Vec<UserRequest>>,
}

/// One user in `user/register`, and the body of `user/profile/modify`.
#[derive(Debug, Default, Deserialize)]
pub struct UserRequest {
    /// 用户ID
    pub user_id: Option<String>,
    /// 角色
    pub role: Option<String>,
    /// 昵称
    pub nickname: Option<String>,
    /// male / female
    pub gender: Option<String>,
    /// avatar URL
    pub avatar: Option<String>,
    /// phone number
    pub phone_no: Option<String>,
    /// e-mail
    pub e_mail: Option<String>,
}

/// `user/token/update` and `user/info`.
#[derive(Debug, Default, Deserialize)]
pub struct UserIdRequest {
    /// 用户ID
    pub user_id: Option<String>,
}

/// `user/list`.
#[derive(Debug, Default, Deserialize)]
pub struct UserListRequest {
    /// page index from 0
    pub index: Option<i64>,
    /// page size, 1..=100 (default 100)
    pub size: Option<i64>,
    /// only these roles (empty: all)
    pub roles: Option<Vec<String>>,
    /// only user ids starting with this
    pub prefix: Option<String>,
}

/// `document/add`.
#[derive(Debug, Default, Deserialize)]
pub struct DocumentAddRequest {
    /// download URL of the original
    pub doc_url: Option<String>,
    /// name without extension
    pub doc_name: Option<String>,
    /// extension (`ppt`)
    pub doc_ext: Option<String>,
    /// bytes
    pub doc_size: Option<i64>,
    /// MD5 (the table says int; it is 32 hex digits in the example)
    pub doc_md5: Option<String>,
    /// public / private (default private; public when there is no owner)
    pub permission: Option<String>,
    /// H5 transcode
    pub is_transcode: Option<bool>,
    /// owner user id
    pub owner: Option<String>,
}

/// `document/delete`.
#[derive(Debug, Default, Deserialize)]
pub struct DocumentDeleteRequest {
    /// documents to delete
    pub doc_ids: Option<Vec<String>>,
}

/// `document/info`.
#[derive(Debug, Default, Deserialize)]
pub struct DocumentIdRequest {
    /// 课件ID
    pub doc_id: Option<String>,
}

/// `document/list`.
#[derive(Debug, Default, Deserialize)]
pub struct DocumentListRequest {
    /// page index from 0
    pub index: Option<i64>,
    /// page size, 1..=100 (default 100)
    pub size: Option<i64>,
    /// only document names starting with this
    pub prefix: Option<String>,
    /// only this owner's documents
    pub owner: Option<String>,
    /// only these permissions (empty: all)
    pub permissions: Option<Vec<String>>,
}
