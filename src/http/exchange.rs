//! One request/answer exchange with a vendor endpoint.
//!
//! Every vendor handler goes through [`serve`]: it reads the whole body (even one the handler ignores:
//! actix-web closes a keep-alive connection whose body was left unread), refuses bodies over the size
//! limit in the vendor's own words, applies fault rules, runs the handler synchronously (so no handler can
//! hold a lock across an `.await`), and records the exchange in the journal.

use super::metrics::RouteStats;
use super::FrontDoor;
use crate::codec::form_pairs_borrowed;
use crate::faults::{FaultTarget, Probe};
use crate::journal::NewEntry;
use crate::VendorKind;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde::Serialize;
use std::borrow::Cow;

/// A vendor's answer, before it becomes an HTTP response (so the journal can keep its body).
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status
    pub status: u16,
    /// `Content-Type`
    pub content_type: &'static str,
    /// body bytes (shared with the journal, not copied)
    pub body: Bytes,
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Reply {
        Reply::json_status(200, value)
    }

    /// `status` with a JSON body.
    pub fn json_status<T: Serialize + ?Sized>(status: u16, value: &T) -> Reply {
        thread_local! {
            // Answers are written here first and copied out at their exact size: one allocation per
            // answer, never grown or shrunk (the journal keeps the copy, so it must not carry spare room).
            static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(4096));
        }
        let body = SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buf) => {
                buf.clear();
                let body = json_bytes(&mut buf, value);
                // A very large answer (a long list) does not keep its buffer on the thread for good.
                if buf.capacity() > 1 << 20 {
                    *buf = Vec::with_capacity(4096);
                }
                body
            }
            // Only if serialising reentered here (it does not): a buffer of its own.
            Err(_) => json_bytes(&mut Vec::new(), value),
        });
        Reply { status, content_type: "application/json; charset=utf-8", body }
    }

    /// Turn into an actix response.
    pub fn into_response(self) -> HttpResponse {
        HttpResponse::build(StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .content_type(self.content_type)
            .body(self.body)
    }
}

/// `value` as JSON, written into `buf` and copied out at its exact size.
fn json_bytes<T: Serialize + ?Sized>(buf: &mut Vec<u8>, value: &T) -> Bytes {
    match serde_json::to_writer(&mut *buf, value) {
        Ok(()) => Bytes::copy_from_slice(buf),
        Err(e) => Bytes::from(format!("{{\"error\":\"{e}\"}}")),
    }
}

/// Which vendor answers, and the front door it is reached through.
pub trait Doorway {
    /// Which vendor this is.
    fn kind(&self) -> VendorKind;
    /// The front door it is reached through.
    fn door(&self) -> &FrontDoor;
}

/// How a vendor wraps a refusal: its error shape, for the errors the front door itself detects (a body
/// over the limit, a fault rule's error code) as much as for the vendor's own.
pub trait Envelope: Doorway {
    /// A refusal with the documented `code`: the code's description, then `detail` when there is one.
    fn refusal(&self, code: i64, detail: &str) -> Reply;
    /// The documented code a body over the size limit is refused with.
    fn too_large_code(&self) -> i64;
    /// A fault rule's error answer: `msg` as the detail (the code's description alone when none).
    fn fault_reply(&self, code: i64, msg: Option<&str>) -> Reply {
        self.refusal(code, msg.unwrap_or(""))
    }
    /// A body larger than `limit` bytes: the vendor's code for it, with HTTP 413.
    fn body_too_large(&self, limit: usize) -> Reply {
        let mut r = self.refusal(self.too_large_code(), &format!("the body is larger than {limit} bytes"));
        r.status = 413;
        r
    }
}

/// A request as a vendor handler sees it.
#[derive(Debug)]
pub struct Exchange<'a> {
    /// the actix request (headers, path, query)
    pub req: &'a HttpRequest,
    /// the whole body
    pub body: Bytes,
    /// virtual time at arrival, unix milliseconds
    pub now_ms: i64,
    /// wall time at arrival, unix milliseconds
    pub wall_ms: i64,
    /// which clock judges the times the client made (`--auth-clock`)
    pub auth_clock: crate::clock::AuthClock,
    /// `--public-url`, when given (the base for a request that names no host)
    pub(crate) public_url: Option<&'a str>,
    /// the decoded query, parsed on first use (a handler reads several parameters)
    pairs: std::cell::OnceCell<Vec<(Cow<'a, str>, Cow<'a, str>)>>,
    /// files whose MD5 the answer reports but which is not computed yet (see [`Exchange::md5`])
    awaiting: std::cell::RefCell<Vec<String>>,
}

impl<'a> Exchange<'a> {
    /// An exchange of `req` with its whole `body`, arrived at virtual `now_ms` and wall `wall_ms`, its
    /// client-made times judged by `auth_clock`; `public_url` is `--public-url` when given (URLs handed out
    /// follow the request's host; it stands in only when the request names none).
    pub fn new(
        req: &'a HttpRequest,
        body: Bytes,
        (now_ms, wall_ms): (i64, i64),
        auth_clock: crate::clock::AuthClock,
        public_url: Option<&'a str>,
    ) -> Self {
        Exchange {
            req,
            body,
            now_ms,
            wall_ms,
            auth_clock,
            public_url,
            pairs: std::cell::OnceCell::new(),
            awaiting: std::cell::RefCell::new(Vec::new()),
        }
    }
}

impl<'a> Exchange<'a> {
    /// A header's value, if present and valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.req.headers().get(name).and_then(|v| v.to_str().ok())
    }

    /// The decoded query parameters, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.pairs().iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn pairs(&self) -> &[(Cow<'a, str>, Cow<'a, str>)] {
        self.pairs.get_or_init(|| form_pairs_borrowed(self.req.query_string()))
    }

    /// The first value of query parameter `name`.
    pub fn query(&self, name: &str) -> Option<String> {
        self.query_str(name).map(str::to_string)
    }

    /// The first value of query parameter `name`, borrowed.
    pub fn query_str(&self, name: &str) -> Option<&str> {
        self.pairs().iter().find(|(k, _)| k == name).map(|(_, v)| v.as_ref())
    }

    /// Virtual time at arrival, unix seconds.
    pub fn now_s(&self) -> i64 {
        self.now_ms.div_euclid(1000)
    }

    /// Both clocks at arrival, for judging the times the client made (timestamps, expiries, usersigs).
    pub fn auth(&self) -> crate::clock::AuthNow {
        crate::clock::AuthNow::new(self.auth_clock, self.now_ms, self.wall_ms)
    }

    /// The base of every URL this answer hands out: the scheme and host this request came in on, so a
    /// client that reached recmock as `https://vod.api.qcloud.com` is sent back there, one that came over
    /// plain HTTP on 127.0.0.1 stays there, and one that reached a container as `recmock:8080` (or through
    /// a mapped port) gets URLs that work where it is. `--public-url` only stands in for a request that
    /// names no host (it is the base of what no request asks for: callbacks, values jobs store).
    pub fn base_url(&self) -> String {
        request_base_or(self.req, self.public_url)
    }

    /// The MD5 of a stored file, for an answer that reports it. When it is not computed yet, the answer
    /// waits: the key is noted, [`serve`] waits for the hash (off this thread) and runs the handler again,
    /// so the handler must have no effect beyond its answer. Empty meanwhile.
    pub fn md5(&self, f: &crate::files::StoredFile) -> String {
        match &f.md5 {
            Some(h) => h.clone(),
            None => {
                self.awaiting.borrow_mut().push(f.key.clone());
                String::new()
            }
        }
    }

    /// The download URL of a stored file, under [`Exchange::base_url`].
    pub fn file_url(&self, f: &crate::files::StoredFile) -> String {
        crate::files::file_url_at(&self.base_url(), f)
    }
}

/// `scheme://host[:port]` of the address a request came in on: the listener's scheme (or a proxy's
/// `Forwarded`/`X-Forwarded-Proto`) and the `Host` the client addressed (the listener's address when the
/// client sent none, or one that is not a host).
pub fn request_base(req: &HttpRequest) -> String {
    request_base_or(req, None)
}

/// [`request_base`], with `fallback` (when given) instead of the listener's address for a request that
/// names no usable host.
pub fn request_base_or(req: &HttpRequest, fallback: Option<&str>) -> String {
    use actix_web::http::header;
    let h = req.headers();
    let proxied = h.contains_key(header::FORWARDED)
        || h.contains_key("x-forwarded-host")
        || h.contains_key("x-forwarded-proto")
        || req.uri().authority().is_some();
    if !proxied {
        // What actix's connection info would say without a proxy's headers or an absolute URI (the usual
        // request), read without building that info's strings: the listener's scheme, and `Host`.
        let scheme = if req.app_config().secure() { "https" } else { "http" };
        if let Some(host) = h.get(header::HOST).and_then(|v| v.to_str().ok()).filter(|v| plausible_host(v)) {
            return format!("{scheme}://{host}");
        }
    }
    let info = req.connection_info();
    if proxied || h.contains_key(header::HOST) {
        let host = info.host();
        if plausible_host(host) {
            return format!("{}://{host}", info.scheme());
        }
    }
    match fallback {
        Some(url) => url.to_string(),
        None => format!("{}://{}", info.scheme(), req.app_config().host()),
    }
}

/// A `Host` worth handing back in URLs: a name or address with an optional port, nothing else.
fn plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']'))
}

async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Bytes, Option<usize>> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| None)?;
        if buf.len() + chunk.len() > limit {
            return Err(Some(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// A response that sends its head and then breaks the connection (a "dropped connection" fault).
pub fn dropped_response() -> HttpResponse {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("recmock fault rule: connection dropped"))
    });
    HttpResponse::Ok().content_type("application/json").streaming(failing)
}

/// How many times an answer waiting for MD5s is made again (each time after the ones it named are known; a
/// file made in between could name another).
const MD5_ROUNDS: usize = 4;

/// Run one exchange with a vendor endpoint: body, faults, handler, journal; counted in `stats` (the
/// route's, from [`super::RouteBook::note`]).
pub async fn serve<E, F>(
    envelope: &E,
    stats: &RouteStats,
    req: &HttpRequest,
    payload: web::Payload,
    handle: F,
) -> HttpResponse
where
    E: Envelope + ?Sized,
    F: Fn(&Exchange) -> Reply,
{
    let start = std::time::Instant::now();
    let door = envelope.door();
    let now_ms = door.world.clock.now_ms();
    let wall_ms = crate::clock::wall_now_ms();
    let (body, early) = match read_body(payload, door.max_body_bytes).await {
        Ok(b) => (b, None),
        Err(Some(limit)) => (Bytes::new(), Some(envelope.body_too_large(limit))),
        Err(None) => (
            Bytes::new(),
            Some(Reply::json_status(400, &serde_json::json!({"error": "request body could not be read"}))),
        ),
    };
    let probe = Probe {
        target: FaultTarget::Request,
        vendor: Some(envelope.kind()),
        method: req.method().as_str(),
        path: req.path(),
        query: req.query_string(),
        body: &body,
    };
    let fault = if early.is_none() { door.faults.take(&probe) } else { None };
    let mut fault_id = None;
    let mut reply = early;
    if let Some((id, action)) = fault {
        fault_id = Some(id);
        if let Some(ms) = action.latency_ms {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        if action.drop {
            record(door, envelope.kind(), req, &body, 0, b"", Some(id), now_ms, wall_ms);
            stats.observe(0, start.elapsed());
            return dropped_response();
        }
        if let Some(code) = action.error_code {
            reply = Some(envelope.fault_reply(code, action.error_msg.as_deref()));
        } else if let Some(status) = action.http_status {
            reply = Some(Reply {
                status,
                content_type: "application/json; charset=utf-8",
                body: action.body.unwrap_or_default().into(),
            });
        }
    }
    let (reply, body) = match reply {
        Some(r) => (r, body),
        None => {
            // Latency-only faults shift arrival; the handler sees the clock as it is now.
            let (now_ms, wall_ms) = if fault_id.is_some() {
                (door.world.clock.now_ms(), crate::clock::wall_now_ms())
            } else {
                (now_ms, wall_ms)
            };
            let ex =
                Exchange::new(req, body, (now_ms, wall_ms), door.world.auth_clock(), door.given_public_url());
            let mut reply = handle(&ex);
            // An answer that reports MD5s not computed yet waits for them (never on this thread's time: the
            // hash runs on the background pool or a blocking thread) and is made again.
            for _ in 0..MD5_ROUNDS {
                let keys = std::mem::take(&mut *ex.awaiting.borrow_mut());
                if keys.is_empty() {
                    break;
                }
                for key in keys {
                    door.world.files.md5_ready(&key).await;
                }
                reply = handle(&ex);
            }
            (reply, ex.body)
        }
    };
    record(door, envelope.kind(), req, &body, reply.status, &reply.body, fault_id, now_ms, wall_ms);
    stats.observe(reply.status, start.elapsed());
    reply.into_response()
}

/// Journal one answered request of `vendor` (also a WebSocket endpoint's refused handshake).
#[allow(clippy::too_many_arguments)]
pub(crate) fn record(
    door: &FrontDoor,
    vendor: VendorKind,
    req: &HttpRequest,
    body: &[u8],
    status: u16,
    response: &[u8],
    fault: Option<u64>,
    now_ms: i64,
    wall_ms: i64,
) {
    // Copied into the journal's own buffer (one allocation); text is made only when the journal is read.
    door.record(&NewEntry {
        vendor: Some(vendor),
        method: method_name(req.method()),
        path: req.path(),
        query: req.query_string(),
        body,
        status,
        response,
        fault,
        virtual_ms: now_ms,
        wall_ms,
    });
}

pub(crate) fn method_name(m: &actix_web::http::Method) -> &'static str {
    match m.as_str() {
        "GET" => "GET",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        _ => "POST",
    }
}
