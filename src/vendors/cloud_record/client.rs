//! How the scenario runner calls 001: `/v1/` calls carry an access token in `Authorization`, fetched with
//! the account's developer id and token from `GET /access/token` and kept until it expires (or something
//! supersedes it).

use super::KIND;
use crate::vendors::{parse_override, AuthRequest, ClientSession, OutgoingRequest, ScenarioClient};
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::Value;

/// A step's `auth` overrides for 001.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Override {
    /// the account (default: the one whose `app_id` the request names, else the first)
    dev_id: Option<String>,
    /// its developer token (default: the fixture's)
    token: Option<String>,
}

/// The client side of 001.
pub struct CloudRecordClient;

impl ScenarioClient for CloudRecordClient {
    fn auth_keys(&self) -> &'static [&'static str] {
        &["dev_id", "token"]
    }

    fn authorize<'a>(
        &'a self,
        session: &'a mut dyn ClientSession,
        req: &'a mut OutgoingRequest,
        auth: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            // A new access token supersedes the kept ones, whoever asks for it.
            if req.path == "/access/token" {
                session.forget_kept();
            }
            if matches!(auth, AuthRequest::None)
                || !req.path.starts_with("/v1/")
                || req.has_header("authorization")
            {
                return Ok(());
            }
            let over: Override = parse_override(auth)?;
            let named_app = req
                .body
                .as_ref()
                .and_then(|b| b.get("app_id"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| req.query_value("app_id"));
            let accounts = session.fixture().pointer(&format!("/{KIND}/accounts")).and_then(Value::as_array);
            let account = accounts.and_then(|list| {
                list.iter()
                    .find(|a| over.dev_id.as_deref().is_some_and(|d| a["dev_id"] == d || a["app_id"] == d))
                    .or_else(|| list.iter().find(|a| named_app.as_deref().is_some_and(|n| a["app_id"] == n)))
                    .or_else(|| if over.dev_id.is_none() { list.first() } else { None })
            });
            let dev_id = over
                .dev_id
                .clone()
                .or_else(|| {
                    // A fixture account without `dev_id` is reached by its app id.
                    account.and_then(|a| a["dev_id"].as_str().or(a["app_id"].as_str())).map(str::to_string)
                })
                .ok_or("no cloud_record account in the fixture: give auth.dev_id and auth.token")?;
            let token = over
                .token
                .clone()
                .or_else(|| account.and_then(|a| a["token"].as_str()).map(str::to_string))
                .ok_or_else(|| format!("no developer token for dev_id {dev_id}: give auth.token"))?;
            let now = session.now().await?;
            let access = match session.kept(&dev_id, now) {
                Some(t) => t,
                None => {
                    let query = vec![("dev_id".to_string(), dev_id.clone()), ("token".to_string(), token)];
                    let a = session.get("/access/token".into(), query).await?;
                    let result = a.json.as_ref().map(|v| &v["result"]);
                    let Some(t) = result.and_then(|r| r["access_token"].as_str()) else {
                        return Err(format!(
                            "GET /access/token for dev_id {dev_id} gave no token: {}",
                            a.shown
                        ));
                    };
                    let timeout = result.and_then(|r| r["timeout"].as_i64()).unwrap_or(7200);
                    session.keep(&dev_id, t.to_string(), now + timeout - 1);
                    t.to_string()
                }
            };
            req.headers.push(("Authorization".into(), access));
            Ok(())
        })
    }
}
