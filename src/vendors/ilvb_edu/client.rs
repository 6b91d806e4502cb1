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
            let login = kit::UsersigLogin {
                sdkappid: over.sdkappid,
                identifier: over.identifier.as_deref(),
                key: over.key.as_deref(),
                usersig: over.usersig.as_deref(),
            };
            // The default user is the app's first admin (the interface is for admins only).
            let first_admin = |app: &Value| {
                Ok(app.pointer("/admins/0").and_then(Value::as_str).unwrap_or("admin").to_string())
            };
            kit::add_usersig_login(session, req, KIND, login, first_admin).await?;
            req.add_query([("contenttype", "json".to_string())]);
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
