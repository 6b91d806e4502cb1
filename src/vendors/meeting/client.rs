//! How the scenario runner calls 003: every `/meeting/*` call (but the live watch page) carries the
//! tenant's key in the `auth` header.

use super::KIND;
use crate::vendors::{parse_override, AuthRequest, ClientSession, OutgoingRequest, ScenarioClient};
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::Value;

/// A step's `auth` overrides for 003.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Override {
    /// the tenant (default: the first of the fixture's `meeting.tenants`)
    ent_id: Option<u64>,
    /// the `auth` header value (default: the tenant's)
    auth: Option<String>,
}

/// The client side of 003.
pub struct MeetingClient;

impl ScenarioClient for MeetingClient {
    fn auth_keys(&self) -> &'static [&'static str] {
        &["ent_id", "auth"]
    }

    fn authorize<'a>(
        &'a self,
        session: &'a mut dyn ClientSession,
        req: &'a mut OutgoingRequest,
        auth: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            if matches!(auth, AuthRequest::None)
                || req.path.starts_with("/meeting/live/")
                || req.has_header("auth")
            {
                return Ok(());
            }
            let over: Override = parse_override(auth)?;
            let tenants = session.fixture().pointer(&format!("/{KIND}/tenants")).and_then(Value::as_array);
            let tenant = tenants.and_then(|t| match over.ent_id {
                Some(id) => t.iter().find(|x| x["ent_id"].as_u64() == Some(id)),
                None => t.first(),
            });
            let header = over
                .auth
                .clone()
                .or_else(|| tenant.and_then(|t| t["auth"].as_str()).map(str::to_string))
                .ok_or("no meeting tenant in the fixture: give auth.auth (the header value)")?;
            req.headers.push(("auth".into(), header));
            Ok(())
        })
    }
}
