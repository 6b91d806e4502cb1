//! How the scenario runner calls 002: the SDK calls carry a user's usersig in the URL; the VOD API v2
//! look-ups are signed with the app's SecretId/SecretKey (HmacSHA1 or HmacSHA256), as the query (`GET`)
//! or a form body (`POST`).

use super::{vod, KIND};
use crate::vendors::{kit, parse_override, AuthRequest, ClientSession, OutgoingRequest, ScenarioClient};
use futures_util::future::BoxFuture;
use serde::Deserialize;

/// A step's `auth` overrides for 002.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Override {
    /// the app (default: the query's `sdkappid`, else the fixture's first)
    sdkappid: Option<u64>,
    /// the user the usersig is made for (default: the query's `identifier`)
    identifier: Option<String>,
    /// the app key (default: the fixture's)
    key: Option<String>,
    /// a usersig to send as is
    usersig: Option<String>,
    /// VOD look-ups: the SecretId (default: the app's `vod_secret_id`)
    secret_id: Option<String>,
    /// VOD look-ups: the SecretKey (default: the app's `vod_secret_key`)
    secret_key: Option<String>,
    /// VOD look-ups: `HmacSHA1` (default) or `HmacSHA256`
    signature_method: Option<String>,
}

/// The client side of 002.
pub struct LiveSdkClient;

impl ScenarioClient for LiveSdkClient {
    fn auth_keys(&self) -> &'static [&'static str] {
        &["sdkappid", "identifier", "key", "usersig", "secret_id", "secret_key", "signature_method"]
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
            if req.path == vod::PATH {
                return sign_vod(session, req, &over).await;
            }
            let login = kit::UsersigLogin {
                sdkappid: over.sdkappid,
                identifier: over.identifier.as_deref(),
                key: over.key.as_deref(),
                usersig: over.usersig.as_deref(),
            };
            let no_user = |_: &serde_json::Value| {
                Err("a live_sdk call is made by a user: give auth.identifier (or `identifier` in query)"
                    .to_string())
            };
            kit::add_usersig_login(session, req, KIND, login, no_user).await?;
            Ok(())
        })
    }
}

/// Sign a VOD API v2 look-up with the app's SecretId/SecretKey at the server's virtual time.
async fn sign_vod(
    session: &mut dyn ClientSession,
    req: &mut OutgoingRequest,
    over: &Override,
) -> Result<(), String> {
    let (sdkappid, app) = kit::fixture_app(session.fixture(), KIND, over.sdkappid)?;
    let field = |o: &Option<String>, k: &str| {
        o.clone().or_else(|| app[k].as_str().map(str::to_string)).ok_or_else(|| {
            format!("live_sdk app {sdkappid} has no `{k}` in the fixture: give auth.{}", &k[4..])
        })
    };
    let secret_id = field(&over.secret_id, "vod_secret_id")?;
    let secret_key = field(&over.secret_key, "vod_secret_key")?;
    let sig_method = vod::SignatureMethod::parse(over.signature_method.as_deref())
        .ok_or("auth.signature_method must be HmacSHA1 or HmacSHA256")?;
    let now = session.now().await?;
    let nonce = session.next_random();
    let method = req.method.clone();
    let host = req.host.clone();
    // POST sends the parameters as a form body, GET as the query.
    let params: &mut Vec<(String, String)> =
        if method == "POST" { req.form.get_or_insert_with(Vec::new) } else { &mut req.query };
    for (k, v) in [
        ("Region", "gz".to_string()),
        ("SecretId", secret_id),
        ("SignatureMethod", sig_method.as_str().to_string()),
        ("Timestamp", now.to_string()),
        ("Nonce", nonce.to_string()),
    ] {
        if !params.iter().any(|(n, _)| n == k) {
            params.push((k.into(), v));
        }
    }
    if !params.iter().any(|(n, _)| n == "Signature") {
        let text = vod::string_to_sign(&method, &host, params, true);
        params.push(("Signature".into(), vod::sign(&secret_key, sig_method, &text)));
    }
    Ok(())
}
