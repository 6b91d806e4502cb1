//! Tencent VOD API v2 request signatures (`/v2/index.php`), as the vendor's SDKs make them.
//!
//! The string to sign is `METHOD + host + "/v2/index.php" + "?" + params`, where `params` is every
//! parameter but `Signature`, each key with `_` replaced by `.`, sorted by key, joined as `key=value` with
//! `&`, values as they are (not URL-encoded); `host` is the host (and port) the client addressed. The
//! signature is base64(HMAC-SHA1 or HMAC-SHA256(SecretKey, string)). `recmock sig vod` uses [`signed_query`].

use crate::codec::percent_encode;
use base64::Engine;
use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

/// The one path of the API.
pub const PATH: &str = "/v2/index.php";

/// `SignatureMethod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureMethod {
    /// `HmacSHA1`, the default
    HmacSha1,
    /// `HmacSHA256`
    HmacSha256,
}

impl SignatureMethod {
    /// Parse the parameter's value (absent: the default, HmacSHA1).
    pub fn parse(s: Option<&str>) -> Option<SignatureMethod> {
        match s {
            None | Some("HmacSHA1") => Some(SignatureMethod::HmacSha1),
            Some("HmacSHA256") => Some(SignatureMethod::HmacSha256),
            _ => None,
        }
    }

    /// The parameter's value.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureMethod::HmacSha1 => "HmacSHA1",
            SignatureMethod::HmacSha256 => "HmacSHA256",
        }
    }
}

/// The string to sign. `sdk_order`: sort by the keys as sent (what the vendor's Python SDK does);
/// otherwise by the keys after `_` → `.` (the order only differs for keys with `_`).
pub fn string_to_sign(method: &str, host: &str, params: &[(String, String)], sdk_order: bool) -> String {
    let mut kv: Vec<(String, &str, &str)> = params
        .iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| (k.replace('_', "."), k.as_str(), v.as_str()))
        .collect();
    if sdk_order {
        kv.sort_by(|a, b| a.1.cmp(b.1));
    } else {
        kv.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let joined: Vec<String> = kv.iter().map(|(k, _, v)| format!("{k}={v}")).collect();
    format!("{}{host}{PATH}?{}", method.to_ascii_uppercase(), joined.join("&"))
}

/// base64 of the HMAC of `text` keyed by `secret_key`.
pub fn sign(secret_key: &str, method: SignatureMethod, text: &str) -> String {
    let digest = match method {
        SignatureMethod::HmacSha1 => {
            // HMAC takes keys of any length: this never fails.
            let Ok(mut mac) = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret_key.as_bytes()) else {
                return String::new();
            };
            mac.update(text.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        SignatureMethod::HmacSha256 => {
            let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret_key.as_bytes()) else {
                return String::new();
            };
            mac.update(text.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// Whether `signature` is right for `params` sent with `method` to `host`. Either key order is accepted
/// (see [`string_to_sign`]); a signature whose `+` arrived as a space (an unencoded query) still counts.
pub fn verify(
    secret_key: &str,
    sig_method: SignatureMethod,
    method: &str,
    host: &str,
    params: &[(String, String)],
    signature: &str,
) -> bool {
    let given = signature.trim().replace(' ', "+");
    [true, false].into_iter().any(|sdk_order| {
        let expected = sign(secret_key, sig_method, &string_to_sign(method, host, params, sdk_order));
        !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
    })
}

/// `params` plus `Signature`, URL-encoded as a query string or form body, ready to send.
pub fn signed_query(
    secret_key: &str,
    sig_method: SignatureMethod,
    method: &str,
    host: &str,
    params: &[(String, String)],
) -> String {
    let signature = sign(secret_key, sig_method, &string_to_sign(method, host, params, true));
    params
        .iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(std::iter::once(("Signature", signature.as_str())))
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    // ../shared/reference/test-vectors.md, made by Tencent's own Python SDK.
    const KEY: &str = "demoSecretKey0000000000000000000";
    const ID: &str = "AKIDdemo0000000000000000000000000000";

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn record_play_info(method: &str) -> Vec<(String, String)> {
        params(&[
            ("vid", "5285890781652689073"),
            ("Action", "DescribeRecordPlayInfo"),
            ("Timestamp", "1767225600"),
            ("Nonce", "12345"),
            ("Region", "gz"),
            ("SecretId", ID),
            ("SignatureMethod", method),
            ("RequestClient", "SDK_PYTHON_2.0.15"),
        ])
    }

    #[test]
    fn vendor_vectors() {
        let p = record_play_info("HmacSHA1");
        let s = string_to_sign("GET", "127.0.0.1:8443", &p, true);
        assert_eq!(s, "GET127.0.0.1:8443/v2/index.php?Action=DescribeRecordPlayInfo&Nonce=12345&Region=gz&RequestClient=SDK_PYTHON_2.0.15&SecretId=AKIDdemo0000000000000000000000000000&SignatureMethod=HmacSHA1&Timestamp=1767225600&vid=5285890781652689073");
        assert_eq!(sign(KEY, SignatureMethod::HmacSha1, &s), "qUkhl2F2qNppTeFwsYwbjx/Xd6A=");

        let p = record_play_info("HmacSHA256");
        let s = string_to_sign("post", "vod.api.qcloud.com", &p, true);
        assert_eq!(
            sign(KEY, SignatureMethod::HmacSha256, &s),
            "5sEbrpIIYazVxgR6NYHRzgOwVqfx/TDOA2TXndPSr+I="
        );
        assert!(verify(
            KEY,
            SignatureMethod::HmacSha256,
            "POST",
            "vod.api.qcloud.com",
            &p,
            "5sEbrpIIYazVxgR6NYHRzgOwVqfx/TDOA2TXndPSr I="
        ));
        assert!(!verify(
            KEY,
            SignatureMethod::HmacSha256,
            "GET",
            "vod.api.qcloud.com",
            &p,
            "5sEbrpIIYazVxgR6NYHRzgOwVqfx/TDOA2TXndPSr+I="
        ));

        let p = params(&[
            ("Action", "DescribeVodPlayInfo"),
            ("Nonce", "777"),
            ("Region", "gz"),
            ("SecretId", ID),
            ("SignatureMethod", "HmacSHA1"),
            ("Timestamp", "1767225600"),
            ("fileName", "web_video_camera_1"),
            ("pageNo", "1"),
            ("pageSize", "10"),
            ("Signature", "ignored"),
        ]);
        let s = string_to_sign("GET", "vod.api.qcloud.com", &p, true);
        assert_eq!(sign(KEY, SignatureMethod::HmacSha1, &s), "Iy/etg/suCiOEdh9Y9RoxG97TEI=");
        let q = signed_query(KEY, SignatureMethod::HmacSha1, "GET", "vod.api.qcloud.com", &p);
        assert!(q.ends_with("&Signature=Iy%2Fetg%2FsuCiOEdh9Y9RoxG97TEI%3D"), "{q}");
    }

    #[test]
    fn underscored_keys_sign_as_dots_in_either_order() {
        let p = params(&[("a_b", "1"), ("aZ", "2")]);
        assert_eq!(string_to_sign("GET", "h", &p, true), "GETh/v2/index.php?aZ=2&a.b=1");
        assert_eq!(string_to_sign("GET", "h", &p, false), "GETh/v2/index.php?a.b=1&aZ=2");
        for order in [true, false] {
            let sig = sign(KEY, SignatureMethod::HmacSha1, &string_to_sign("GET", "h", &p, order));
            assert!(verify(KEY, SignatureMethod::HmacSha1, "GET", "h", &p, &sig));
        }
    }
}
