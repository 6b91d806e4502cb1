//! HST developer tokens, as the vendor's TokenGenerator makes them.
//!
//! `"001"` + base64(AES-128-CBC(key = the 16-character app secret, IV = 0x00..0x0f, no padding)) over the
//! JSON `{"aid","gid","uid","et"?,"ts","r"}` right-padded with spaces to a multiple of 16 bytes. The base64
//! may carry line breaks (the Android encoder adds them); a `+` that travelled unencoded in a query string
//! arrives as a space, so spaces are read back as `+`.

use crate::clock::{AuthNow, ClientTime};
use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine;
use serde::{Deserialize, Serialize};

type Dec = cbc::Decryptor<aes::Aes128>;
type Enc = cbc::Encryptor<aes::Aes128>;

const IV: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/// The claims inside a developer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevToken {
    /// app id
    pub aid: String,
    /// group id (may be empty)
    #[serde(default)]
    pub gid: String,
    /// user id (may be empty)
    #[serde(default)]
    pub uid: String,
    /// expiry, unix seconds
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub et: Option<i64>,
    /// issue time, unix milliseconds
    #[serde(default)]
    pub ts: i64,
    /// random
    #[serde(default)]
    pub r: i64,
}

/// Why a developer token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// not `001` + base64
    #[error("token is not a developer token (`001` + base64)")]
    Malformed,
    /// the secret is not 16 bytes
    #[error("the account's app_secret must be 16 characters")]
    BadSecret,
    /// decryption gave no JSON: another secret made it
    #[error("token was not made with this account's app secret")]
    WrongSecret,
    /// it names another app
    #[error("token is for app `{0}`, not this account's")]
    WrongApp(String),
    /// `et` has passed, or `ts` lies ahead of the clock that judges it (beyond the allowed skew)
    #[error("token expired or not yet valid: {0}")]
    Expired(String),
}

/// Decrypt a developer token with `secret`.
pub fn decode(token: &str, secret: &str) -> Result<DevToken, TokenError> {
    let body = token.trim().strip_prefix("001").ok_or(TokenError::Malformed)?;
    let b64: String = body
        .chars()
        .filter(|c| !matches!(c, '\n' | '\r' | '\t'))
        .map(|c| if c == ' ' { '+' } else { c })
        .collect();
    let mut data = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|_| TokenError::Malformed)?;
    if data.is_empty() || data.len() % 16 != 0 {
        return Err(TokenError::Malformed);
    }
    let key: [u8; 16] = secret.as_bytes().try_into().map_err(|_| TokenError::BadSecret)?;
    let plain = Dec::new(&key.into(), &IV.into())
        .decrypt_padded_mut::<NoPadding>(&mut data)
        .map_err(|_| TokenError::Malformed)?;
    let text = std::str::from_utf8(plain).map_err(|_| TokenError::WrongSecret)?;
    serde_json::from_str(text.trim_end_matches([' ', '\0'])).map_err(|_| TokenError::WrongSecret)
}

/// When a developer token counts: from its making time `ts` (less the allowed clock skew; a token without
/// one, any time) until `et` (when it has one).
pub fn validity(t: &DevToken) -> ClientTime<'static> {
    let mut v = ClientTime::default();
    if let Some(et) = t.et {
        v = ClientTime::expiring("et", et);
    }
    if t.ts > 0 {
        v = v.made_at("ts", t.ts.div_euclid(1000));
    }
    v
}

/// Check a developer token for `app_id`, its times judged by `now` (the virtual clock, the wall clock or
/// either: [`crate::clock::AuthClock`]).
pub fn verify(token: &str, secret: &str, app_id: &str, now: &AuthNow) -> Result<DevToken, TokenError> {
    let t = decode(token, secret)?;
    if t.aid != app_id {
        return Err(TokenError::WrongApp(t.aid));
    }
    now.judge(&validity(&t)).map_err(TokenError::Expired)?;
    Ok(t)
}

/// Make a developer token (no line breaks) as the TokenGenerator does.
pub fn encode(claims: &DevToken, secret: &str) -> Result<String, TokenError> {
    let key: [u8; 16] = secret.as_bytes().try_into().map_err(|_| TokenError::BadSecret)?;
    let mut json = serde_json::to_vec(claims).map_err(|_| TokenError::Malformed)?;
    while json.len() % 16 != 0 {
        json.push(b' ');
    }
    let len = json.len();
    let cipher = Enc::new(&key.into(), &IV.into())
        .encrypt_padded_mut::<NoPadding>(&mut json, len)
        .map_err(|_| TokenError::Malformed)?;
    Ok(format!("001{}", base64::engine::general_purpose::STANDARD.encode(cipher)))
}

#[cfg(test)]
mod tests {
    use super::*;

    // From ../shared/reference/test-vectors.md, made by the vendor's own TokenGenerator.
    const V1: &str = "001ennk2+zw2Yw7RKFIShiNcyS4MvqHOVRFTZT9bRXMvd5f2zwdw60Pxi3Q3RCl7TEJ9IbnJozp/wXK\nGp0WMHeJB3itjFgcX5N+BkQx46FgP6yZl8p22ycapFUYyuJnb3aggnr04fgCyLde/3UsX0Of5g==";
    const V2: &str = "001ennk2+zw2Yw7RKFIShiNc2EP8ZUPMaQZSTxW+OVvFwL2cNGKmff5nsffyvoADWNayf5yod5MkkQ3\ngkfWqgie4/OLTNPvHYN3mMD0FY4THTE=";
    const SECRET: &str = "0123456789abcdef";

    #[test]
    fn vendor_vectors_decode() {
        let t = decode(V1, SECRET).unwrap();
        assert_eq!(
            t,
            DevToken {
                aid: "demo_app_0001".into(),
                gid: "group_1".into(),
                uid: "user_1".into(),
                et: Some(1_798_761_600),
                ts: 1_767_225_600_123,
                r: 424_242
            }
        );
        let t2 = decode(V2, SECRET).unwrap();
        assert_eq!(t2.et, None);
        assert_eq!(t2.gid, "");
        let at = |s: i64| AuthNow::new(crate::clock::AuthClock::Virtual, s * 1000, 0);
        assert!(verify(V1, SECRET, "demo_app_0001", &at(1_767_225_600)).is_ok());
        assert_eq!(
            verify(V1, SECRET, "demo_app_0001", &at(1_798_761_600)),
            Err(TokenError::Expired("et 1798761600 is at virtual time 1798761600".into()))
        );
        // Made at 1767225600.123: not valid more than 300 s before.
        assert_eq!(
            verify(V1, SECRET, "demo_app_0001", &at(1_767_225_299)),
            Err(TokenError::Expired("ts 1767225600 is 301 s ahead of virtual time 1767225299".into()))
        );
        assert!(verify(V1, SECRET, "demo_app_0001", &at(1_767_225_300)).is_ok());
        assert!(matches!(verify(V1, SECRET, "other", &at(0)), Err(TokenError::WrongApp(_))));
    }

    #[test]
    fn one_character_changes_are_refused() {
        assert!(decode(V1, "0123456789abcdeX").is_err());
        let mut bad = V2.to_string();
        bad.replace_range(10..11, if &V2[10..11] == "A" { "B" } else { "A" });
        assert!(decode(&bad, SECRET).is_err());
        // A `+` turned into a space by form decoding still works.
        assert!(decode(&V1.replace('+', " "), SECRET).is_ok());
    }

    #[test]
    fn encode_matches_the_generator() {
        let claims = decode(V2, SECRET).unwrap();
        let again = encode(&claims, SECRET).unwrap();
        assert_eq!(again, V2.replace('\n', ""));
    }
}
