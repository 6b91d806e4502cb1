//! How the scenario runner calls 000 and checks its callbacks: a usersig of an admin in the URL; callbacks
//! signed with md5(key + expire_time) in the body.

use super::KIND;
use crate::outbox::Signer;
use crate::vendors::{kit, parse_override, AuthRequest, ClientSession, OutgoingRequest, ScenarioClient};
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// A step's `auth` overrides for 000.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Override {
    /// the app (default: the query's `sdkappid`, else the fixture's first)
    sdkappid: Option<u64>,
    /// the admin the usersig is made for (default: the query's, else the app's first admin)
    identifier: Option<String>,
    /// the app key (default: the fixture's)
    key: Option<String>,
    /// a usersig to send as is
    usersig: Option<String>,
}

/// The client side of 000.
pub struct IlvbEduClient;

impl ScenarioClient for IlvbEduClient {
    fn auth_keys(&self) -> &'static [&'static str] {
        &["sdkappid", "identifier", "key", "usersig"]
    }

    fn authorize<'a>(
        &'a self,
        session: &'a mut dyn ClientSession,
        req: &'a mut OutgoingRequest,
        auth: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            if matches!(auth, AuthRequest::None) || !req.path.starts_with("/v4/") {
                return Ok(());
            }
            let over: Override = parse_override(auth)?;
            let wanted = over.sdkappid.or_else(|| req.query_value("sdkappid").and_then(|q| q.parse().ok()));
            let (sdkappid, app) = kit::fixture_app(session.fixture(), KIND, wanted)?;
            let identifier = over
                .identifier
                .clone()
                .or_else(|| req.query_value("identifier"))
                .or_else(|| app.pointer("/admins/0").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| "admin".into());
            let now = session.now().await?;
            let usersig = kit::client_usersig(
                KIND,
                over.usersig.as_deref(),
                over.key.as_deref(),
                sdkappid,
                &app,
                &identifier,
                now,
            )?;
            req.add_query([
                ("sdkappid", sdkappid.to_string()),
                ("identifier", identifier),
                ("usersig", usersig),
                ("contenttype", "json".to_string()),
            ]);
            Ok(())
        })
    }

    /// A flat body with `event_type` and `sign`.
    fn sent_callback(&self, _query: &BTreeMap<String, String>, body: &Value) -> bool {
        body.get("event_type").is_some()
    }

    fn verify_callback(
        &self,
        fixture: &Value,
        query: &BTreeMap<String, String>,
        body: &Value,
    ) -> Result<(), String> {
        let (_, key) = kit::fixture_app_key(fixture, KIND, "key", body["sdkappid"].as_u64())?;
        Signer::BodyMd5 { key }.verify(query, body)
    }
}
