//! The small text codecs recmock shares, each over the crate that does the work: query strings and form
//! bodies (`form_urlencoded`), percent-encoding (`percent-encoding`), a URL's host and path (`url`), MD5 as
//! hex (`md-5`) and HTML escaping (a few lines, no crate).
//!
//! A leaf: nothing here uses another recmock module.

use md5::{Digest, Md5};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::borrow::Cow;

// ----- query strings and form bodies ---------------------------------------------------------------------

/// The pairs of `a=b&c=d`, decoded as `application/x-www-form-urlencoded` (query strings too): `+` is a
/// space, `%XX` a byte (a `%` without two hex digits after it stays as it is), bytes that are not UTF-8
/// after decoding become U+FFFD; empty pieces (`a=1&&b`) are skipped, a piece without `=` has an empty
/// value, and a value may contain `=` (`a==b` is `a` = `=b`).
pub fn form_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// [`form_pairs`] borrowing from `query` wherever a name or value needs no decoding (the usual case).
pub fn form_pairs_borrowed(query: &str) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    form_urlencoded::parse(query.as_bytes()).collect()
}

// ----- percent-encoding ----------------------------------------------------------------------------------

/// What [`percent_encode`] encodes: every byte but RFC 3986's unreserved characters `A-Z a-z 0-9 - . _ ~`
/// (bytes of non-ASCII characters always are). This is what Tencent's VOD API v2 SDKs send, so signed
/// queries stay byte-identical; note `form_urlencoded`'s serialiser differs (a space is `+`, `*` is kept,
/// `~` is encoded).
pub const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `s` percent-encoded, everything but the unreserved characters (see [`NOT_UNRESERVED`]), upper-case hex.
pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, NOT_UNRESERVED).to_string()
}

/// [`percent_encode`] appended to `out`.
pub fn push_percent_encoded(out: &mut String, s: &str) {
    out.extend(utf8_percent_encode(s, NOT_UNRESERVED));
}

// ----- URLs ----------------------------------------------------------------------------------------------

fn parse_url(url: &str) -> Option<url::Url> {
    url::Url::parse(url).ok()
}

/// The host of an absolute URL as URLs write it: a name lower-cased (an international one in punycode), an
/// IPv6 address in brackets (`[::1]`); without userinfo or port. `None` for text the `url` crate does not
/// parse as an absolute URL (`localhost:8080`, `http://`, `http://a b/`) or one without a host.
pub fn url_host(url: &str) -> Option<String> {
    parse_url(url)?.host_str().map(str::to_string)
}

/// `host[:port]` of an absolute URL, as an HTTP client's `Host` header says it: [`url_host`], and the port
/// only when it is not the scheme's default (`http://h:80` is `h`).
pub fn url_host_port(url: &str) -> Option<String> {
    let u = parse_url(url)?;
    let host = u.host_str()?;
    Some(match u.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

/// The path of an absolute URL, as an HTTP client requests it: `/` when it has none, without query or
/// fragment, dot segments resolved and characters a path may not hold percent-encoded (`/a b` is
/// `/a%20b`). `None` when the `url` crate does not parse it.
pub fn url_path(url: &str) -> Option<String> {
    parse_url(url).map(|u| u.path().to_string())
}

// ----- MD5 -----------------------------------------------------------------------------------------------

/// MD5 of `data` as 32 lower-case hex digits (file checksums, the vendors' `sign`).
pub fn md5_hex(data: impl AsRef<[u8]>) -> String {
    md5_hex_of([data])
}

/// [`md5_hex`] of the concatenation of `parts` (a file's chunks), without joining them.
pub fn md5_hex_of<B: AsRef<[u8]>>(parts: impl IntoIterator<Item = B>) -> String {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    format!("{:x}", h.finalize())
}

// ----- HTML ----------------------------------------------------------------------------------------------

/// Text made safe for HTML content and quoted attributes: `&`, `<`, `>`, `"` and `'` as entities.
pub fn html_escape(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn form_pairs_decode_plus_percent_and_odd_pieces() {
        assert_eq!(form_pairs("app_id=a%20b&x=1"), owned(&[("app_id", "a b"), ("x", "1")]));
        // `+` is a space in queries and forms alike; an encoded plus is a plus.
        assert_eq!(form_pairs("s=a+b%2Bc"), owned(&[("s", "a b+c")]));
        // A `%` without two hex digits stays; `%%41` is `%` then `A`; a trailing `%4` stays.
        assert_eq!(
            form_pairs("a=%zz&b=%%41&c=%4&d=100%"),
            owned(&[("a", "%zz"), ("b", "%A"), ("c", "%4"), ("d", "100%")])
        );
        assert_eq!(form_pairs("k=a%20b+c%zz"), owned(&[("k", "a b c%zz")]));
        // Empty pieces are skipped; no `=` is an empty value; the first `=` splits.
        assert_eq!(form_pairs("&a=1&&b=&c&d==e&"), owned(&[("a", "1"), ("b", ""), ("c", ""), ("d", "=e")]));
        assert_eq!(form_pairs(""), owned(&[]));
        assert_eq!(form_pairs("=v"), owned(&[("", "v")]));
        // Names are decoded too.
        assert_eq!(form_pairs("a%5Bb%5D=1"), owned(&[("a[b]", "1")]));
        // UTF-8 in percent escapes, either case of hex; bytes that are not UTF-8 become U+FFFD.
        assert_eq!(form_pairs("t=%E4%b8%AD"), owned(&[("t", "中")]));
        assert_eq!(form_pairs("t=%FF%41"), owned(&[("t", "\u{FFFD}A")]));
        assert_eq!(form_pairs("t=%E4%B8"), owned(&[("t", "\u{FFFD}")]));
        // Raw non-ASCII text passes through.
        assert_eq!(form_pairs("t=中文"), owned(&[("t", "中文")]));
    }

    #[test]
    fn form_pairs_borrow_what_needs_no_decoding() {
        let q = "a=1&b=x%20y&c=p+q&d=%zz";
        let pairs = form_pairs_borrowed(q);
        let borrowed: Vec<(bool, bool)> = pairs
            .iter()
            .map(|(k, v)| (matches!(k, Cow::Borrowed(_)), matches!(v, Cow::Borrowed(_))))
            .collect();
        assert_eq!(borrowed, [(true, true), (true, false), (true, false), (true, true)]);
        let values: Vec<&str> = pairs.iter().map(|(_, v)| v.as_ref()).collect();
        assert_eq!(values, ["1", "x y", "p q", "%zz"]);
    }

    /// The hand-written encoder this replaces, kept as the reference.
    fn before(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    #[test]
    fn percent_encoding_is_byte_identical_to_the_unreserved_rule() {
        let ascii: String = (0u8..128).map(char::from).collect();
        let samples = [
            ascii.as_str(),
            "",
            "a b+c/d?e=f&g#h",
            "Iy/etg/suCiOEdh9Y9RoxG97TEI=",
            "~*'()!",
            "中文 ü é 😀",
            "\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}",
        ];
        for s in samples {
            assert_eq!(percent_encode(s), before(s), "{s:?}");
            let mut out = String::from("x/");
            push_percent_encoded(&mut out, s);
            assert_eq!(out, format!("x/{}", before(s)));
        }
        assert_eq!(percent_encode("a b+~*"), "a%20b%2B~%2A");
        assert_eq!(percent_encode("中"), "%E4%B8%AD");
    }

    #[test]
    fn url_hosts_ports_and_paths() {
        assert_eq!(url_host("http://127.0.0.1:8080/x").as_deref(), Some("127.0.0.1"));
        assert_eq!(url_host("http://[::1]:8080/x").as_deref(), Some("[::1]"));
        assert_eq!(url_host("https://[2001:DB8::1]").as_deref(), Some("[2001:db8::1]"));
        assert_eq!(url_host("https://user:pw@Example.COM:8443/p?q=1#f").as_deref(), Some("example.com"));
        assert_eq!(url_host("https://a@b@c.example/").as_deref(), Some("c.example"));
        assert_eq!(url_host("http://host.example?x=a/b").as_deref(), Some("host.example"));
        assert_eq!(url_host("http://bücher.example").as_deref(), Some("xn--bcher-kva.example"));
        for bad in ["localhost:8080", "host.example/x", "http://", "http://a b/", "", "http://[::1/"] {
            assert_eq!(url_host(bad), None, "{bad}");
        }

        assert_eq!(url_host_port("http://127.0.0.1:8080").as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(url_host_port("http://h:80/x").as_deref(), Some("h"));
        assert_eq!(url_host_port("https://h:443").as_deref(), Some("h"));
        assert_eq!(url_host_port("https://h:80").as_deref(), Some("h:80"));
        assert_eq!(url_host_port("https://[::1]:8443/p").as_deref(), Some("[::1]:8443"));
        assert_eq!(
            url_host_port("http://u:p@vod.api.qcloud.com:8443").as_deref(),
            Some("vod.api.qcloud.com:8443")
        );
        assert_eq!(url_host_port("127.0.0.1:8080"), None);

        assert_eq!(url_path("http://h:1/cb/x?a=1").as_deref(), Some("/cb/x"));
        assert_eq!(url_path("http://h:1").as_deref(), Some("/"));
        assert_eq!(url_path("http://h:1?a=1").as_deref(), Some("/"));
        assert_eq!(url_path("http://h/cb#frag").as_deref(), Some("/cb"));
        assert_eq!(url_path("http://u@[::1]:9/cb/").as_deref(), Some("/cb/"));
        assert_eq!(url_path("http://h/a/../b/./c").as_deref(), Some("/b/c"));
        assert_eq!(url_path("http://h/a b/%7Ex").as_deref(), Some("/a%20b/%7Ex"));
        assert_eq!(url_path("/cb"), None);
    }

    #[test]
    fn md5_as_lower_case_hex() {
        // RFC 1321's test suite, and 004's example sign (tic_key + expire_time).
        assert_eq!(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(md5_hex(b"message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
        assert_eq!(md5_hex("DzXpbluRsmo1JkoFxzKMNg5ifrA4GRlU1548247837"), "28374bd8cff400ac4906414780fbe387");
        assert_eq!(
            md5_hex_of(["DzXpbluRsmo1JkoFxzKMNg5ifrA4GRlU", "", "1548247837"]),
            md5_hex("DzXpbluRsmo1JkoFxzKMNg5ifrA4GRlU1548247837")
        );
        assert_eq!(md5_hex_of(Vec::<Vec<u8>>::new()), md5_hex(""));
        assert_eq!(md5_hex([0xffu8, 0x00]), md5_hex(vec![0xffu8, 0x00]));
    }

    #[test]
    fn html_escaping() {
        assert_eq!(
            html_escape(r#"<a href="x">'Tom & Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;Tom &amp; Jerry&#39;&lt;/a&gt;"
        );
        assert_eq!(html_escape("&amp;"), "&amp;amp;");
        assert!(matches!(html_escape("plain 中文 text"), Cow::Borrowed("plain 中文 text")));
        assert_eq!(html_escape(""), "");
    }
}
