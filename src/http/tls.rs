//! HTTPS for real vendor clients: recmock's local certificate authority and the TLS listener's certificate.
//!
//! Vendor SDKs and consoles of this generation hard-code `https://<vendor host>`. To run them unchanged, a
//! user points the vendor's hostnames at recmock (hosts file, a resolver rule, a container's `extra_hosts`)
//! and trusts one local CA. [`init`] creates that CA once (or reuses it) and issues a server certificate
//! whose names cover every vendor host (each vendor folder lists its own), `localhost` and the
//! loopback addresses, plus whatever names the user adds. [`server_config`] turns a certificate and key
//! (these, or the user's own PEM files) into the TLS listener's configuration.
//!
//! Files in the CA directory: `ca.pem` (the certificate to trust), `ca-key.pem`, `server.pem`,
//! `server-key.pem` and `server.json` (which names the server certificate covers, until when, and which CA
//! signed it, so a later run knows whether it can be reused).

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Local names always covered.
pub const LOCAL_NAMES: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// The CA's subject common name (also how users find it in a trust store).
pub const CA_COMMON_NAME: &str = "recmock local CA";

/// Days a server certificate is valid, counted from the day before it is issued: under the 398 days
/// browsers and Apple platforms accept for a leaf certificate.
const SERVER_DAYS: i64 = 396;
/// Days the CA is valid.
const CA_DAYS: i64 = 3650;
/// A server certificate this close to its end is issued anew.
const RENEW_DAYS: i64 = 30;

/// The start of the (UTC) day of `unix_s`, as a certificate validity bound.
macro_rules! date {
    ($unix_s:expr) => {{
        let (y, m, d, ..) = crate::clock::calendar::parts($unix_s, 0);
        rcgen::date_time_ymd(y as i32, m as u8, d as u8)
    }};
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// a file could not be read or written
    #[error("{path}: {source}")]
    Io {
        /// the file
        path: String,
        /// cause
        source: std::io::Error,
    },
    /// a file is not what it should be
    #[error("{path}: {message}")]
    Bad {
        /// the file
        path: String,
        /// what is wrong
        message: String,
    },
    /// a name cannot go into a certificate
    #[error("`{0}` is not a host name or IP address a certificate can name")]
    BadName(String),
    /// certificate generation failed
    #[error("certificate generation failed: {0}")]
    Generate(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io { path: path.display().to_string(), source }
}

fn bad(path: &Path, message: impl Into<String>) -> TlsError {
    TlsError::Bad { path: path.display().to_string(), message: message.into() }
}

fn gen_err(e: rcgen::Error) -> TlsError {
    TlsError::Generate(e.to_string())
}

/// The CA directory used when none is given: `$HOME/.recmock/tls` (else `.recmock/tls` here).
pub fn default_dir() -> PathBuf {
    let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE")).filter(|h| !h.is_empty());
    home.map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")).join(".recmock").join("tls")
}

/// The names a server certificate covers: the vendor `hosts`, the local names, then `extra` (lower-cased,
/// without duplicates, in that order).
pub fn names_with(hosts: &[&str], extra: &[String]) -> Result<Vec<String>, TlsError> {
    let mut names: Vec<String> = Vec::new();
    let all = hosts.iter().map(|h| h.to_string()).chain(LOCAL_NAMES.iter().map(|s| s.to_string()));
    for n in all.chain(extra.iter().map(|s| s.trim().to_ascii_lowercase())) {
        if n.is_empty() {
            continue;
        }
        if !valid_name(&n) {
            return Err(TlsError::BadName(n));
        }
        if !names.contains(&n) {
            names.push(n);
        }
    }
    Ok(names)
}

/// A DNS name (optionally with one leading `*.` label) or an IP address.
fn valid_name(n: &str) -> bool {
    if n.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let host = n.strip_prefix("*.").unwrap_or(n);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// What [`init`] left in the directory.
#[derive(Debug, Clone)]
pub struct Issued {
    /// the directory
    pub dir: PathBuf,
    /// the CA certificate: the one file clients must trust
    pub ca_cert: PathBuf,
    /// the server certificate
    pub cert: PathBuf,
    /// the server key
    pub key: PathBuf,
    /// the names the server certificate covers
    pub names: Vec<String>,
    /// the CA was made now (not found in the directory)
    pub ca_created: bool,
    /// the server certificate was issued now (none was there, or it did not fit)
    pub cert_issued: bool,
    /// base64 SHA-256 of the server key's SubjectPublicKeyInfo: what Chromium's
    /// `--ignore-certificate-errors-spki-list` takes
    pub spki_sha256: String,
}

/// What `server.json` records about the server certificate.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct ServerMeta {
    names: Vec<String>,
    not_after: i64,
    ca_md5: String,
}

fn ca_params(now_s: i64) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = ca_name();
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p.not_before = date!(now_s - 86_400);
    p.not_after = date!(now_s + CA_DAYS * 86_400);
    p
}

/// The CA's name; fixed, so that a CA found on disk can sign again without parsing its certificate.
fn ca_name() -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "recmock");
    dn.push(DnType::CommonName, CA_COMMON_NAME);
    dn
}

/// Write `text` to `path` whole or not at all (`crate::durable`); keys are private from the start.
fn write_file(path: &Path, text: &str, secret: bool) -> Result<(), TlsError> {
    let mode = if secret { crate::durable::PRIVATE } else { crate::durable::PUBLIC };
    crate::durable::write(path, text.as_bytes(), mode).map_err(io_err(path))
}

fn read(path: &Path) -> Result<String, TlsError> {
    std::fs::read_to_string(path).map_err(io_err(path))
}

/// Create (or reuse) the CA in `dir` and a server certificate for the vendor `hosts` plus `extra` names.
///
/// A CA found in `dir` is reused, so a client that trusts it once keeps trusting it. The server certificate
/// is reused when it covers at least these names, was signed by this CA and is valid for 30 more days
/// (so a server started without `--tls-name` keeps the names an earlier `tls init --name` added);
/// otherwise a new one is issued.
pub fn init(dir: &Path, hosts: &[&str], extra: &[String]) -> Result<Issued, TlsError> {
    let names = names_with(hosts, extra)?;
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let now_s = crate::clock::wall_now_ms() / 1000;
    let (ca_cert, ca_key) = (dir.join("ca.pem"), dir.join("ca-key.pem"));
    let (cert, key, meta_path) =
        (dir.join("server.pem"), dir.join("server-key.pem"), dir.join("server.json"));

    let ca_created = match (ca_cert.exists(), ca_key.exists()) {
        (true, true) => false,
        (false, false) => {
            let k = KeyPair::generate().map_err(gen_err)?;
            let c = ca_params(now_s).self_signed(&k).map_err(gen_err)?;
            write_file(&ca_key, &k.serialize_pem(), true)?;
            write_file(&ca_cert, &c.pem(), false)?;
            true
        }
        (true, false) => {
            return Err(bad(&ca_key, "missing, but ca.pem is there: remove ca.pem to make a new CA"))
        }
        (false, true) => {
            return Err(bad(&ca_cert, "missing, but ca-key.pem is there: remove ca-key.pem to make a new CA"))
        }
    };
    let ca_pem = read(&ca_cert)?;
    let ca_der = CertificateDer::from_pem_slice(ca_pem.as_bytes())
        .map_err(|e| bad(&ca_cert, format!("not a PEM certificate: {e}")))?;
    let ca_keypair =
        KeyPair::from_pem(&read(&ca_key)?).map_err(|e| bad(&ca_key, format!("not a PEM key: {e}")))?;
    // The certificate must carry this key: a mismatched pair would issue certificates nobody can verify.
    if !contains(ca_der.as_ref(), rcgen::PublicKeyData::der_bytes(&ca_keypair)) {
        return Err(bad(&ca_cert, "does not belong to ca-key.pem"));
    }
    let ca_md5 = crate::codec::md5_hex(ca_der.as_ref());

    let existing = if cert.exists() && key.exists() {
        read(&meta_path).ok().and_then(|t| serde_json::from_str::<ServerMeta>(&t).ok()).filter(|m| {
            m.ca_md5 == ca_md5
                && m.not_after > now_s + RENEW_DAYS * 86_400
                && names.iter().all(|n| m.names.contains(n))
        })
    } else {
        None
    };
    let cert_issued = existing.is_none();
    let names = match existing {
        Some(m) => m.names,
        None => {
            let mut p = CertificateParams::new(names.clone()).map_err(gen_err)?;
            let mut dn = DistinguishedName::new();
            dn.push(DnType::OrganizationName, "recmock");
            dn.push(DnType::CommonName, "recmock vendor hosts");
            p.distinguished_name = dn;
            p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            p.use_authority_key_identifier_extension = true;
            // A fresh positive serial per certificate (clients may refuse a reused issuer + serial).
            let mut serial = rand::random::<[u8; 16]>();
            serial[0] = (serial[0] & 0x7f) | 0x01;
            p.serial_number = Some(SerialNumber::from_slice(&serial));
            let not_before = now_s - 86_400;
            let not_after = not_before + SERVER_DAYS * 86_400;
            p.not_before = date!(not_before);
            p.not_after = date!(not_after);
            let k = KeyPair::generate().map_err(gen_err)?;
            let issuer = Issuer::new(ca_params(now_s), &ca_keypair);
            let c = p.signed_by(&k, &issuer).map_err(gen_err)?;
            write_file(&key, &k.serialize_pem(), true)?;
            write_file(&cert, &c.pem(), false)?;
            let meta = ServerMeta { names, not_after, ca_md5 };
            let meta_text =
                serde_json::to_string_pretty(&meta).map_err(|e| bad(&meta_path, e.to_string()))?;
            write_file(&meta_path, &meta_text, false)?;
            meta.names
        }
    };
    let server_key = KeyPair::from_pem(&read(&key)?).map_err(|e| bad(&key, format!("not a PEM key: {e}")))?;
    let spki_sha256 = {
        use base64::Engine;
        use sha2::Digest;
        let digest = sha2::Sha256::digest(rcgen::PublicKeyData::subject_public_key_info(&server_key));
        base64::engine::general_purpose::STANDARD.encode(digest)
    };
    Ok(Issued { dir: dir.to_path_buf(), ca_cert, cert, key, names, ca_created, cert_issued, spki_sha256 })
}

/// The trust bundles Linux distributions and macOS keep (the first one found is read), as OpenSSL and
/// Go look for them.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The certificates callback receivers over HTTPS are trusted with beyond the public web roots (DER): the
/// system's trust store (`SSL_CERT_FILE` and `SSL_CERT_DIR` when set, else the distribution's bundle), so
/// a receiver behind a company CA works, and recmock's local CA in `ca_dir` when there is one, so a
/// receiver serving a certificate `recmock tls init` made works. Certificates rustls cannot use are left
/// out.
pub fn receiver_roots(ca_dir: Option<&Path>) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = Vec::new();
    match std::env::var_os("SSL_CERT_FILE").filter(|f| !f.is_empty()) {
        Some(f) => files.push(f.into()),
        None => files.extend(SYSTEM_BUNDLES.iter().map(PathBuf::from).find(|p| p.is_file())),
    }
    if let Some(dir) = std::env::var_os("SSL_CERT_DIR").filter(|d| !d.is_empty()) {
        for d in std::env::split_paths(&dir) {
            let Ok(entries) = std::fs::read_dir(&d) else { continue };
            let mut found: Vec<PathBuf> =
                entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
            found.sort();
            files.extend(found);
        }
    }
    files.extend(ca_dir.map(|d| d.join("ca.pem")).filter(|p| p.is_file()));
    let mut store = rustls::RootCertStore::empty();
    let mut roots = Vec::new();
    for f in files {
        let Ok(iter) = CertificateDer::pem_file_iter(&f) else { continue };
        for der in iter.flatten() {
            if store.add(der.clone()).is_ok() {
                roots.push(der.as_ref().to_vec());
            }
        }
    }
    roots
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The DNS names (subject alternative names) of the first certificate in the PEM file `cert`.
pub fn certificate_names(cert: &Path) -> Result<Vec<String>, TlsError> {
    let first = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(cert, format!("cannot read certificates: {e}")))?
        .next()
        .ok_or_else(|| bad(cert, "no certificate in the file (expected -----BEGIN CERTIFICATE-----)"))?
        .map_err(|e| bad(cert, format!("not a PEM certificate file: {e}")))?;
    let parsed =
        webpki::EndEntityCert::try_from(&first).map_err(|e| bad(cert, format!("not a certificate: {e}")))?;
    Ok(parsed.valid_dns_names().map(|n| n.to_ascii_lowercase()).collect())
}

/// The TLS listener's configuration from a PEM certificate chain and a PEM private key (PKCS#8, PKCS#1 or
/// SEC1). HTTP/1.1 only: actix-web is built without HTTP/2 here.
pub fn server_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(cert, format!("cannot read certificates: {e}")))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(cert, format!("not a PEM certificate file: {e}")))?;
    if chain.is_empty() {
        return Err(bad(cert, "no certificate in the file (expected -----BEGIN CERTIFICATE-----)"));
    }
    let private =
        PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, format!("no PEM private key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(cert, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| bad(key, format!("does not fit the certificate: {e}")))
}

/// How to make clients trust `ca_cert` and reach recmock under a vendor host name (`spki`: the server
/// key's hash, for Chromium's flag).
pub fn trust_instructions(ca_cert: &Path, spki: &str, tls_port: Option<u16>) -> String {
    let ca = ca_cert.display();
    let port = tls_port.map_or_else(|| "<tls-port>".to_string(), |p| p.to_string());
    format!(
        "Trust the CA {ca} in the client, then point the vendor host names at recmock:
  curl          curl --cacert {ca} --resolve vod.api.qcloud.com:{port}:127.0.0.1 https://vod.api.qcloud.com:{port}/__admin/health
  Python        export REQUESTS_CA_BUNDLE={ca} SSL_CERT_FILE={ca}   (requests, httpx, urllib, aiohttp)
  Node.js       export NODE_EXTRA_CA_CERTS={ca}
  Java          keytool -importcert -noprompt -alias recmock -file {ca} -keystore recmock.jks -storepass changeit
                java -Djavax.net.ssl.trustStore=recmock.jks -Djavax.net.ssl.trustStorePassword=changeit ...
  Go, OpenSSL   export SSL_CERT_FILE={ca}
  Debian/Ubuntu sudo cp {ca} /usr/local/share/ca-certificates/recmock.crt && sudo update-ca-certificates
  RHEL/Fedora   sudo cp {ca} /etc/pki/ca-trust/source/anchors/recmock.pem && sudo update-ca-trust
  macOS         sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {ca}
  Windows       certutil -addstore -f Root {ca}
  Chromium      chromium --user-data-dir=/tmp/recmock-chromium --ignore-certificate-errors-spki-list={spki} \\
                  --host-resolver-rules='MAP vod.api.qcloud.com 127.0.0.1:{port},MAP *.hst.com 127.0.0.1:{port}'
                (or import {ca} under Settings > Privacy and security > Security > Manage certificates >
                Authorities, or into the NSS database: certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n recmock -i {ca})
Host names: map them to 127.0.0.1 in /etc/hosts (or a container's extra_hosts); clients that cannot choose the
port need recmock on 443 (--tls-port 443, or a port forward). See docs/real-clients.md."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cover_the_vendors_and_refuse_junk() {
        let hosts = ["console.tim.qq.com", "*.hst.com"];
        let n = names_with(&hosts, &["Extra.Example".into(), "localhost".into(), " ".into()]).unwrap();
        for h in ["console.tim.qq.com", "*.hst.com", "127.0.0.1", "extra.example"] {
            assert!(n.iter().any(|x| x == h), "{h} missing from {n:?}");
        }
        assert_eq!(n.iter().filter(|x| *x == "localhost").count(), 1);
        for junk in ["a b", "http://x", "*.", "-a.com", "a..b"] {
            assert!(matches!(names_with(&[], &[junk.into()]), Err(TlsError::BadName(_))), "{junk}");
        }
        assert!(valid_name("*.hst.com") && valid_name("::1") && valid_name("10.0.0.1"));
    }

    #[test]
    fn init_makes_then_reuses_and_the_certificate_loads() {
        let dir = std::env::temp_dir().join(format!("recmock-tls-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = init(&dir, &["vod.api.qcloud.com"], &[]).unwrap();
        assert!(first.ca_created && first.cert_issued);
        #[cfg(unix)]
        for (file, mode) in [("ca-key.pem", 0o600), ("server-key.pem", 0o600), ("ca.pem", 0o644)] {
            use std::os::unix::fs::PermissionsExt;
            let got = std::fs::metadata(dir.join(file)).unwrap().permissions().mode() & 0o777;
            // The umask may narrow a certificate's mode; a key is never wider than 0600.
            assert!(got & !mode == 0, "{file}: {got:o}");
        }
        let ca = std::fs::read(&first.ca_cert).unwrap();
        let again = init(&dir, &["vod.api.qcloud.com"], &[]).unwrap();
        assert!(!again.ca_created && !again.cert_issued);
        let more = init(&dir, &["vod.api.qcloud.com"], &["extra.example".into()]).unwrap();
        assert!(!more.ca_created && more.cert_issued);
        // Fewer names than the certificate covers: it is kept.
        assert!(!init(&dir, &["vod.api.qcloud.com"], &[]).unwrap().cert_issued);
        assert_eq!(std::fs::read(&more.ca_cert).unwrap(), ca, "the CA is kept");
        server_config(&more.cert, &more.key).unwrap();
        // A CA certificate without its key is refused, not replaced.
        std::fs::remove_file(dir.join("ca-key.pem")).unwrap();
        assert!(init(&dir, &["vod.api.qcloud.com"], &[]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
