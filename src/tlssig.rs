//! TLS-sig v2 user signatures (Tencent's `tls-sig-api-v2`), as seeds 000, 002 and 004 use them.
//!
//! Content: `TLS.identifier:<id>\nTLS.sdkappid:<n>\nTLS.time:<t>\nTLS.expire:<e>\n` (plus
//! `TLS.userbuf:<b>\n` when a userbuf is present); `TLS.sig` = base64(HMAC-SHA256(key, content)). The
//! signature document is JSON, zlib-compressed, base64-encoded with `+`→`*`, `/`→`-`, `=`→`_`.
//! [`verify`] says precisely why a signature is refused.

use crate::clock::{AuthNow, ClientTime};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;
use std::io::{Read, Write};

/// What a valid signature says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSig {
    /// identifier it was made for
    pub identifier: String,
    /// app it was made for
    pub sdkappid: u64,
    /// signing time, unix seconds
    pub time: i64,
    /// lifetime in seconds
    pub expire: i64,
}

impl UserSig {
    /// Unix second at which it stops being valid.
    pub fn expires_at(&self) -> i64 {
        self.time.saturating_add(self.expire)
    }
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    /// empty
    #[error("usersig is empty")]
    Empty,
    /// not base64 / zlib / the expected JSON
    #[error("usersig is malformed: {0}")]
    Malformed(String),
    /// made for another identifier
    #[error("usersig was made for identifier `{sig}`, not `{request}`")]
    WrongIdentifier {
        /// in the signature
        sig: String,
        /// in the request
        request: String,
    },
    /// made for another app
    #[error("usersig was made for sdkappid {sig}, not {request}")]
    WrongSdkappid {
        /// in the signature
        sig: u64,
        /// in the request
        request: u64,
    },
    /// the HMAC does not verify with the app's key
    #[error("usersig was not made with this app's key (signature mismatch)")]
    WrongKey,
    /// lifetime over, or not begun (made later than the clock that judges it, beyond the allowed skew)
    #[error("usersig expired or not yet valid (made at {time} for {expire} s): {detail}")]
    Expired {
        /// signing time
        time: i64,
        /// lifetime
        expire: i64,
        /// which reading of which clock refused it ([`crate::clock::AuthNow::judge`])
        detail: String,
    },
}

fn content(identifier: &str, sdkappid: u64, time: i64, expire: i64, userbuf: Option<&str>) -> String {
    let mut c = format!(
        "TLS.identifier:{identifier}\nTLS.sdkappid:{sdkappid}\nTLS.time:{time}\nTLS.expire:{expire}\n"
    );
    if let Some(b) = userbuf {
        c.push_str(&format!("TLS.userbuf:{b}\n"));
    }
    c
}

fn hmac(key: &str, content: &str) -> Option<Hmac<Sha256>> {
    // HMAC accepts keys of any length, so this never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).ok()?;
    mac.update(content.as_bytes());
    Some(mac)
}

fn hmac_b64(key: &str, content: &str) -> String {
    hmac(key, content)
        .map(|mac| base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
        .unwrap_or_default()
}

/// Whether `sig` (base64) is the HMAC of `content` with `key`, compared in constant time.
fn hmac_matches(key: &str, content: &str, sig: &str) -> bool {
    // Standard base64 with its padding decodes one way only, so this accepts what comparing the base64
    // texts accepted.
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(sig) else { return false };
    hmac(key, content).is_some_and(|mac| mac.verify_slice(&given).is_ok())
}

/// The base64 of the HMAC over the content (exposed for tests against vendor vectors).
pub fn signature(key: &str, identifier: &str, sdkappid: u64, time: i64, expire: i64) -> String {
    hmac_b64(key, &content(identifier, sdkappid, time, expire, None))
}

/// Make a user signature, as the vendor's libraries do.
pub fn sign(sdkappid: u64, key: &str, identifier: &str, time: i64, expire: i64) -> String {
    let doc = serde_json::json!({
        "TLS.ver": "2.0",
        "TLS.identifier": identifier,
        "TLS.sdkappid": sdkappid,
        "TLS.expire": expire,
        "TLS.time": time,
        "TLS.sig": signature(key, identifier, sdkappid, time, expire),
    });
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = z.write_all(doc.to_string().as_bytes());
    let compressed = z.finish().unwrap_or_default();
    base64::engine::general_purpose::STANDARD
        .encode(compressed)
        .chars()
        .map(|c| match c {
            '+' => '*',
            '/' => '-',
            '=' => '_',
            c => c,
        })
        .collect()
}

/// Decode a user signature without checking it.
pub fn decode(usersig: &str) -> Result<(UserSig, String, Option<String>), SigError> {
    let s = usersig.trim();
    if s.is_empty() {
        return Err(SigError::Empty);
    }
    let b64: String = s
        .chars()
        .map(|c| match c {
            '*' => '+',
            '-' => '/',
            '_' => '=',
            ' ' => '+',
            c => c,
        })
        .collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|e| SigError::Malformed(format!("not base64: {e}")))?;
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(&raw[..])
        .take(64 * 1024)
        .read_to_end(&mut json)
        .map_err(|e| SigError::Malformed(format!("not zlib data: {e}")))?;
    let v: Value =
        serde_json::from_slice(&json).map_err(|e| SigError::Malformed(format!("not JSON: {e}")))?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let int = |k: &str| match v.get(k) {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let missing = |k: &str| SigError::Malformed(format!("`{k}` missing or of the wrong type"));
    let identifier = text("TLS.identifier").ok_or_else(|| missing("TLS.identifier"))?;
    let sdkappid = int("TLS.sdkappid").filter(|n| *n >= 0).ok_or_else(|| missing("TLS.sdkappid"))? as u64;
    let time = int("TLS.time").ok_or_else(|| missing("TLS.time"))?;
    let expire = int("TLS.expire").ok_or_else(|| missing("TLS.expire"))?;
    let sig = text("TLS.sig").ok_or_else(|| missing("TLS.sig"))?;
    let userbuf = text("TLS.userbuf");
    Ok((UserSig { identifier, sdkappid, time, expire }, sig, userbuf))
}

/// When a usersig counts: from its making time (less the allowed clock skew) until `TLS.time +
/// TLS.expire`.
pub fn validity(info: &UserSig) -> ClientTime<'static> {
    ClientTime::expiring("TLS.time + TLS.expire", info.expires_at()).made_at("TLS.time", info.time)
}

/// Check a user signature for `identifier` of app `sdkappid` with `key`, its times judged by `now` (the
/// virtual clock, the wall clock or either: [`crate::clock::AuthClock`]).
pub fn verify(
    usersig: &str,
    sdkappid: u64,
    key: &str,
    identifier: &str,
    now: &AuthNow,
) -> Result<UserSig, SigError> {
    let (info, sig, userbuf) = decode(usersig)?;
    if info.identifier != identifier {
        return Err(SigError::WrongIdentifier { sig: info.identifier, request: identifier.to_string() });
    }
    if info.sdkappid != sdkappid {
        return Err(SigError::WrongSdkappid { sig: info.sdkappid, request: sdkappid });
    }
    let content = content(&info.identifier, info.sdkappid, info.time, info.expire, userbuf.as_deref());
    if !hmac_matches(key, &content, &sig) {
        return Err(SigError::WrongKey);
    }
    now.judge(&validity(&info)).map_err(|detail| SigError::Expired {
        time: info.time,
        expire: info.expire,
        detail,
    })?;
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::AuthClock;

    /// Virtual second `s` judged alone.
    fn at(s: i64) -> AuthNow {
        AuthNow::new(AuthClock::Virtual, s * 1000, 0)
    }

    // ../shared/reference/test-vectors.md
    const KEY: &str = "demo-ilvb-key-0000000000000000000000000000000000000000000000000";
    const VECTOR: &str = "eJyrVgrxCdYrSy1SslJQMtIzUNJRAItkpqTmlWSmZUIkElNyM-NgUsUp2YkFBZkpQAlDEwMIMITKpVYUZBalgmRMTU2NgBJQ8ZLMXLCouZm5kZGpGVy8ODMdZL5fdqSZe3KhdlBVaaZTVlmiWbJRiYt2VplfuoVHgFteuUdBQXFKhaVJlIWjrVItAI37Mvw_";

    #[test]
    fn vendor_vector_verifies() {
        assert_eq!(
            signature(KEY, "admin", 1_400_000_001, 1_767_225_600, 15_552_000),
            "NkY6Gcq+RzuiBjva6c2tD+jvNg8HPFnwHppsdx94Z8A="
        );
        let info = verify(VECTOR, 1_400_000_001, KEY, "admin", &at(1_767_225_600)).unwrap();
        assert_eq!(info.expires_at(), 1_767_225_600 + 15_552_000);
    }

    #[test]
    fn refusals_say_why() {
        let now = 1_767_225_600;
        assert!(matches!(
            verify(VECTOR, 1_400_000_001, KEY, "bob", &at(now)),
            Err(SigError::WrongIdentifier { .. })
        ));
        assert!(matches!(
            verify(VECTOR, 1_400_000_002, KEY, "admin", &at(now)),
            Err(SigError::WrongSdkappid { .. })
        ));
        let mut other_key = KEY.to_string();
        other_key.replace_range(0..1, "D");
        assert_eq!(verify(VECTOR, 1_400_000_001, &other_key, "admin", &at(now)), Err(SigError::WrongKey));
        assert!(matches!(
            verify(VECTOR, 1_400_000_001, KEY, "admin", &at(now + 15_552_000)),
            Err(SigError::Expired { .. })
        ));
        // Made more than the allowed skew after the reading: not valid yet. Within it: fine.
        let later = sign(1_400_000_001, KEY, "admin", now + 3600, 86_400);
        assert!(matches!(
            verify(&later, 1_400_000_001, KEY, "admin", &at(now)),
            Err(SigError::Expired { ref detail, .. }) if detail == "TLS.time 1767229200 is 3,600 s ahead of virtual time 1767225600"
        ));
        let soon = sign(1_400_000_001, KEY, "admin", now + 300, 86_400);
        assert!(verify(&soon, 1_400_000_001, KEY, "admin", &at(now)).is_ok());
        // Either clock will do under `either`.
        let wall = AuthNow::new(AuthClock::Either, now * 1000, (now + 3600) * 1000);
        assert!(verify(&later, 1_400_000_001, KEY, "admin", &wall).is_ok());
        assert!(matches!(verify("not*a*sig", 1, KEY, "admin", &at(now)), Err(SigError::Malformed(_))));
        assert_eq!(verify("", 1, KEY, "admin", &at(now)), Err(SigError::Empty));
    }

    /// A usersig document carrying `sig` as its `TLS.sig`, encoded as [`sign`] encodes one.
    fn with_sig(sig: &str) -> String {
        let doc = serde_json::json!({
            "TLS.ver": "2.0", "TLS.identifier": "admin", "TLS.sdkappid": 1_400_000_001u64,
            "TLS.expire": 15_552_000, "TLS.time": 1_767_225_600, "TLS.sig": sig,
        });
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(doc.to_string().as_bytes()).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(z.finish().unwrap());
        b64.replace('+', "*").replace('/', "-").replace('=', "_")
    }

    #[test]
    fn the_hmac_is_compared_as_bytes_accepting_what_the_text_comparison_accepted() {
        let now = 1_767_225_600;
        let good = "NkY6Gcq+RzuiBjva6c2tD+jvNg8HPFnwHppsdx94Z8A=";
        assert!(verify(&with_sig(good), 1_400_000_001, KEY, "admin", &at(now)).is_ok());
        // Unpadded, not base64 at all, cut short, one more byte, another MAC: all refused as before.
        for bad in [
            "NkY6Gcq+RzuiBjva6c2tD+jvNg8HPFnwHppsdx94Z8A",
            "NkY6Gcq+RzuiBjva6c2tD+jvNg8HPFnwHppsdx94Z8B=",
            "not base64!",
            "",
            "NkY6Gcq+RzuiBjva6c2tD+jvNg8HPFnwHppsdx94",
            "NkY6Gcq+RzuiBjva6c2tD+jvNg8HPFnwHppsdx94Z8AA",
            "OkY6Gcq+RzuiBjva6c2tD+jvNg8HPFnwHppsdx94Z8A=",
        ] {
            assert_eq!(
                verify(&with_sig(bad), 1_400_000_001, KEY, "admin", &at(now)),
                Err(SigError::WrongKey),
                "{bad}"
            );
        }
    }

    #[test]
    fn own_signatures_round_trip() {
        let s = sign(1_400_000_001, KEY, "admin", 1_767_225_600, 86_400);
        assert!(!s.contains(['+', '/', '=']));
        let info = verify(&s, 1_400_000_001, KEY, "admin", &at(1_767_225_601)).unwrap();
        assert_eq!(info.identifier, "admin");
    }
}
