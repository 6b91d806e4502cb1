//! How the scenario runner calls 004: `sdkappid`, `random` and `sign` = md5(tic_key + expire_time) on the
//! URL, `expire_time` in the body; callbacks carry the same on their URL.

use super::KIND;
use crate::outbox::{md5_sign, Signer, SIGN_VALIDITY_S};
use crate::vendors::{kit, parse_override, AuthRequest, ClientSession, OutgoingRequest, ScenarioClient};
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A step's `auth` overrides for 004.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Override {
    /// the app (default: the query's `sdkappid`, else the fixture's first)
    sdkappid: Option<u64>,
    /// the tic_key (default: the fixture's)
    tic_key: Option<String>,
    /// the `expire_time` to sign (default: the body's, else virtual now + 300)
    expire_time: Option<i64>,
}

/// The client side of 004.
pub struct IclassClient;

impl ScenarioClient for IclassClient {
    fn auth_keys(&self) -> &'static [&'static str] {
        &["sdkappid", "tic_key", "expire_time"]
    }

    fn authorize<'a>(
        &'a self,
        session: &'a mut dyn ClientSession,
        req: &'a mut OutgoingRequest,
        auth: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            if matches!(auth, AuthRequest::None) {
                return Ok(());
            }
            let over: Override = parse_override(auth)?;
            let wanted = over.sdkappid.or_else(|| req.query_value("sdkappid").and_then(|q| q.parse().ok()));
            let (sdkappid, app) = kit::fixture_app(session.fixture(), KIND, wanted)?;
            let key =
                over.tic_key.clone().or_else(|| app["tic_key"].as_str().map(str::to_string)).ok_or_else(
                    || format!("iclass app {sdkappid} has no `tic_key` in the fixture: give auth.tic_key"),
                )?;
            let in_body = req.body.as_ref().and_then(|b| b.get("expire_time")).and_then(Value::as_i64);
            let expire = match over.expire_time.or(in_body) {
                Some(e) => e,
                None => session.now().await? + SIGN_VALIDITY_S,
            };
            match &mut req.body {
                None => req.body = Some(json!({ "expire_time": expire })),
                Some(Value::Object(m)) if !m.contains_key("expire_time") => {
                    m.insert("expire_time".into(), json!(expire));
                }
                _ => {}
            }
            let random = session.next_random();
            req.add_query([
                ("sdkappid", sdkappid.to_string()),
                ("random", random.to_string()),
                ("sign", md5_sign(&key, expire)),
            ]);
            Ok(())
        })
    }

    /// `{expire_time, event, data}` with `sign` on the URL.
    fn sent_callback(&self, query: &BTreeMap<String, String>, body: &Value) -> bool {
        body.get("event").is_some() && body.get("data").is_some() && query.contains_key("sign")
    }

    fn verify_callback(
        &self,
        fixture: &Value,
        query: &BTreeMap<String, String>,
        body: &Value,
    ) -> Result<(), String> {
        let sdkappid = query.get("sdkappid").and_then(|s| s.parse().ok());
        let (sdkappid, key) = kit::fixture_app_key(fixture, KIND, "tic_key", sdkappid)?;
        Signer::UrlMd5 { key, sdkappid }.verify(query, body)
    }
}
