//! WebSocket endpoints: the handshake, one task per socket, a bounded queue of frames going out, and the
//! journal. Vendor-neutral: what the frames mean is the vendor's ([`Conversation`]); a vendor registers its
//! endpoint with [`websocket`] (the HST event gateway is the one today).
//!
//! - A plain `GET` (no `Upgrade: websocket`) is answered `426 Upgrade Required` with a JSON hint, and
//!   journaled like any request. A handshake whose `Origin` `--cors-origin` does not allow gets `403`.
//! - Text frames go to the conversation, which answers each with zero or more frames, sent in order.
//!   Binary frames, frames over [`MAX_FRAME_BYTES`] (a close with 1009) and protocol errors (1002) are the
//!   plumbing's. Pings are answered with pongs and not journaled; idle sockets stay open.
//! - Frames pushed from elsewhere ([`Socket::push`], e.g. from a change-feed tap) never wait: they go into
//!   the socket's queue of at most [`QUEUE_FRAMES`]; a socket whose queue is full is closed with 1013
//!   (try again later), and the closing is journaled.
//! - Journal entries: method `WS`, the endpoint's path, query `socket=<id>`; status 101 for the opening
//!   and for frames (body: the frame in, response: the frame(s) out), the close code for the closing
//!   (response: the reason).

use super::cors::AllowOrigin;
use super::FrontDoor;
use crate::journal::NewEntry;
use crate::VendorKind;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, ProtocolError};
use bytestring::ByteString;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::Notify;

/// Largest frame (or message of continuation frames) a socket takes; a larger one closes it with 1009.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Frames one socket may have waiting to go out; one more closes it with 1013.
pub const QUEUE_FRAMES: usize = 1024;
/// How long a closing socket waits for its close frame (and, unless it was too slow, the frames queued
/// before it) to be taken by the client before it is dropped.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// The close code of a socket that fell [`QUEUE_FRAMES`] behind (RFC 6455: try again later).
pub const TOO_SLOW: u16 = 1013;

/// Socket ids, unique in the process.
static NEXT_SOCKET: AtomicU64 = AtomicU64::new(1);

/// Every open socket of one server (the front door's), so that stopping the server can close them: an
/// open WebSocket would otherwise hold a graceful stop for its whole timeout.
#[derive(Debug, Default)]
pub struct Sockets {
    open: parking_lot::Mutex<std::collections::HashMap<u64, std::sync::Weak<Socket>>>,
    /// set by [`Sockets::close_all`]: other long-lived answers (the dashboard's event stream) end too
    stopping: std::sync::atomic::AtomicBool,
    stop: Notify,
}

impl Sockets {
    /// Wait until the server is stopping ([`Sockets::close_all`]): a long-lived answer that is not a
    /// socket (an event stream) ends then, so it does not hold a graceful stop either.
    pub async fn stopping(&self) {
        let stop = self.stop.notified();
        tokio::pin!(stop);
        stop.as_mut().enable();
        if !self.stopping.load(Ordering::Acquire) {
            stop.await;
        }
    }

    /// Close every open socket with `code` and `reason`; how many there were.
    pub fn close_all(&self, code: u16, reason: &str) -> usize {
        self.stopping.store(true, Ordering::Release);
        self.stop.notify_waiters();
        let open: Vec<Arc<Socket>> = self.open.lock().values().filter_map(std::sync::Weak::upgrade).collect();
        for s in &open {
            s.close(code, reason);
        }
        open.len()
    }

    /// How many sockets are open.
    pub fn count(&self) -> usize {
        self.open.lock().len()
    }
}

/// What a vendor does with one socket's frames (made by the endpoint's `open` for each socket; runs on
/// the socket's task, so it needs no locking of its own).
pub trait Conversation {
    /// A text frame arrived: the frames that answer it, in order.
    fn text(&mut self, frame: &str) -> Vec<String>;
    /// A frame the plumbing does not take (binary): the error frame that answers it, if any.
    fn refused(&mut self, problem: &str) -> Option<String>;
    /// The socket is closed, whoever closed it: forget it.
    fn closed(&mut self);
}

/// Why a socket closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closing {
    /// the close code (1000 normal, 1009 too big, 1012 restart, 1013 too slow, ...)
    pub code: u16,
    /// the reason, as the close frame carries it (cut to 123 bytes there)
    pub reason: String,
    /// the client closed (or dropped) it, rather than the server
    pub by_client: bool,
}

/// One open socket, shared between its task and whatever pushes frames to it.
pub struct Socket {
    /// unique in the process
    pub id: u64,
    /// the vendor whose endpoint it is
    pub vendor: VendorKind,
    /// the endpoint's path
    pub path: Box<str>,
    /// the handshake's `Origin`, if any
    pub origin: Option<Box<str>>,
    /// the client's address
    pub peer: Option<Box<str>>,
    /// wall unix milliseconds it opened
    pub opened_wall_ms: i64,
    door: Arc<FrontDoor>,
    /// frames waiting to go out: a plain deque, allocated only when a frame waits (an idle socket holds
    /// none; a channel would keep a block of slots per socket)
    queue: parking_lot::Mutex<VecDeque<ByteString>>,
    /// woken when a frame is queued
    queued_one: Notify,
    closing: OnceLock<Closing>,
    wake: Notify,
    frames_in: AtomicU64,
    frames_out: AtomicU64,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket").field("id", &self.id).field("path", &self.path).finish()
    }
}

impl Socket {
    /// Queue `frame` to go out, without waiting: false if the socket is closing or its queue was full (it
    /// is then closed with [`TOO_SLOW`]). Journaled as it is queued.
    pub fn push(&self, frame: &ByteString) -> bool {
        if self.closing.get().is_some() {
            return false;
        }
        let accepted = {
            let mut q = self.queue.lock();
            if q.len() >= QUEUE_FRAMES {
                false
            } else {
                q.push_back(frame.clone());
                true
            }
        };
        if !accepted {
            self.close(
                TOO_SLOW,
                &format!("too slow: {QUEUE_FRAMES} frames were waiting; reconnect and take a new snapshot"),
            );
            return false;
        }
        self.queued_one.notify_one();
        self.frames_out.fetch_add(1, Ordering::Relaxed);
        self.journal(b"", 101, frame.as_bytes());
        true
    }

    /// The next queued frame, if one waits.
    fn next_queued(&self) -> Option<ByteString> {
        let mut q = self.queue.lock();
        let frame = q.pop_front();
        if q.is_empty() && q.capacity() > 64 {
            // A burst is over: an idle socket goes back to holding nothing.
            *q = VecDeque::new();
        }
        frame
    }

    /// Close the socket with `code` and `reason` (the first close wins; journaled). Frames already queued
    /// go out first, unless the socket was too slow.
    pub fn close(&self, code: u16, reason: &str) {
        if self.closing.set(Closing { code, reason: reason.to_string(), by_client: false }).is_ok() {
            self.journal(b"", code, reason.as_bytes());
            self.wake.notify_one();
        }
    }

    /// Why it closes, once it does.
    pub fn closing(&self) -> Option<&Closing> {
        self.closing.get()
    }

    /// Frames received.
    pub fn frames_in(&self) -> u64 {
        self.frames_in.load(Ordering::Relaxed)
    }

    /// Frames sent (answers) or queued (pushes).
    pub fn frames_out(&self) -> u64 {
        self.frames_out.load(Ordering::Relaxed)
    }

    /// Frames waiting in the queue.
    pub fn queued(&self) -> usize {
        self.queue.lock().len()
    }

    fn journal(&self, body: &[u8], status: u16, response: &[u8]) {
        let query = format!("socket={}", self.id);
        self.door.record(&NewEntry {
            vendor: Some(self.vendor),
            method: "WS",
            path: &self.path,
            query: &query,
            body,
            status,
            response,
            fault: None,
            virtual_ms: self.door.world.clock.now_ms(),
            wall_ms: crate::clock::wall_now_ms(),
        });
    }

    /// The client closed (or dropped) the socket.
    fn closed_by_client(&self, code: u16, reason: &str) {
        if self.closing.set(Closing { code, reason: reason.to_string(), by_client: true }).is_ok() {
            self.journal(b"", code, format!("closed by the client: {reason}").as_bytes());
        }
    }

    /// Send one frame, unless the socket starts closing meanwhile; false when it should stop.
    async fn write(&self, session: &mut actix_ws::Session, frame: ByteString) -> bool {
        if self.closing.get().is_some() {
            return false;
        }
        tokio::select! {
            biased;
            sent = session.text(frame) => sent.is_ok() && self.closing.get().is_none(),
            () = self.wake.notified() => false,
        }
    }
}

/// What opening a socket gives: its conversation, or why it is refused (HTTP 503).
pub type Opened = Result<Box<dyn Conversation>, String>;

/// Register a WebSocket endpoint at `GET path`: each handshake makes a [`Socket`] and asks `open` for its
/// conversation. Noted in the route table as `GET path`; other methods get a JSON 405.
pub fn websocket<V>(
    cfg: &mut web::ServiceConfig,
    vendor: &Arc<V>,
    door: Arc<FrontDoor>,
    path: &str,
    open: fn(&Arc<V>, &Arc<Socket>) -> Opened,
) where
    V: super::Doorway + Send + Sync + 'static,
{
    let stats = door.routes.note("GET", path, Some(vendor.kind()));
    let v = vendor.clone();
    cfg.service(
        web::resource(path)
            .route(web::get().to(move |req: HttpRequest, body: web::Payload| {
                let (v, door, stats) = (v.clone(), door.clone(), stats.clone());
                async move {
                    let start = std::time::Instant::now();
                    let resp = handshake(&v, door, &req, body, open);
                    stats.observe(resp.status().as_u16(), start.elapsed());
                    resp
                }
            }))
            .default_service(super::routes::method_not_allowed("GET")),
    );
}

fn is_upgrade(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

fn handshake<V>(
    vendor: &Arc<V>,
    door: Arc<FrontDoor>,
    req: &HttpRequest,
    body: web::Payload,
    open: fn(&Arc<V>, &Arc<Socket>) -> Opened,
) -> HttpResponse
where
    V: super::Doorway + Send + Sync + 'static,
{
    let refuse = |status: u16, error: String, hint: &str| {
        let body = serde_json::json!({ "error": error, "hint": hint }).to_string();
        let (now_ms, wall_ms) = (door.world.clock.now_ms(), crate::clock::wall_now_ms());
        super::exchange::record(
            &door,
            vendor.kind(),
            req,
            b"",
            status,
            body.as_bytes(),
            None,
            now_ms,
            wall_ms,
        );
        let mut r = HttpResponse::build(
            actix_web::http::StatusCode::from_u16(status)
                .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
        );
        if status == 426 {
            r.insert_header((header::UPGRADE, "websocket")).insert_header((header::CONNECTION, "Upgrade"));
        }
        r.content_type("application/json; charset=utf-8").body(body)
    };
    if !is_upgrade(req) {
        return refuse(
            426,
            format!("{} is a WebSocket endpoint: open it with a WebSocket handshake", req.path()),
            "connect with ws:// (or wss:// on the TLS listener); frames are JSON text (README, docs/real-clients.md)",
        );
    }
    let origin = req.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_string);
    if let (Some(o), Some(allow)) = (&origin, req.app_data::<web::Data<AllowOrigin>>()) {
        if !allow.allows(o) {
            return refuse(
                403,
                format!("origin `{o}` is not allowed"),
                "start recmock with --cors-origin naming this origin (or `*`)",
            );
        }
    }
    let (response, session, stream) = match actix_ws::handle(req, body) {
        Ok(parts) => parts,
        Err(e) => return refuse(400, format!("WebSocket handshake refused: {e}"), "RFC 6455 section 4.1"),
    };
    let socket = Arc::new(Socket {
        id: NEXT_SOCKET.fetch_add(1, Ordering::Relaxed),
        vendor: vendor.kind(),
        path: req.path().into(),
        origin: origin.map(Into::into),
        peer: req.peer_addr().map(|a| a.to_string().into()),
        opened_wall_ms: crate::clock::wall_now_ms(),
        door: door.clone(),
        queue: parking_lot::Mutex::new(VecDeque::new()),
        queued_one: Notify::new(),
        closing: OnceLock::new(),
        wake: Notify::new(),
        frames_in: AtomicU64::new(0),
        frames_out: AtomicU64::new(0),
    });
    let conversation = match open(vendor, &socket) {
        Ok(c) => c,
        Err(e) => return refuse(503, e, "close some sockets first"),
    };
    door.sockets.open.lock().insert(socket.id, Arc::downgrade(&socket));
    let opened = serde_json::json!({ "socket": socket.id, "origin": socket.origin, "peer": socket.peer });
    socket.journal(req.query_string().as_bytes(), 101, opened.to_string().as_bytes());
    let stream = stream
        .max_frame_size(MAX_FRAME_BYTES)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME_BYTES);
    // The payload is the worker's (not `Send`): the socket's task runs on the worker that took it.
    actix_web::rt::spawn(run(socket, session, stream, conversation));
    response
}

/// One socket's life: frames in and their answers, queued frames out, until either side closes.
async fn run(
    socket: Arc<Socket>,
    mut session: actix_ws::Session,
    mut stream: AggregatedMessageStream,
    mut conversation: Box<dyn Conversation>,
) {
    'life: loop {
        if socket.closing().is_some() {
            break;
        }
        tokio::select! {
            biased;
            () = socket.wake.notified() => break,
            () = socket.queued_one.notified() => {
                while let Some(frame) = socket.next_queued() {
                    if !socket.write(&mut session, frame).await {
                        break 'life;
                    }
                }
            },
            msg = stream.recv() => {
                let answers = match msg {
                    Some(Ok(AggregatedMessage::Text(text))) => {
                        socket.frames_in.fetch_add(1, Ordering::Relaxed);
                        let answers = conversation.text(&text);
                        socket.journal(text.as_bytes(), 101, answers.join("\n").as_bytes());
                        answers
                    }
                    Some(Ok(AggregatedMessage::Binary(b))) => {
                        socket.frames_in.fetch_add(1, Ordering::Relaxed);
                        let problem = format!("a binary frame ({} bytes): this endpoint takes JSON text frames", b.len());
                        let answers: Vec<String> = conversation.refused(&problem).into_iter().collect();
                        socket.journal(format!("<binary, {} bytes>", b.len()).as_bytes(), 101, answers.join("\n").as_bytes());
                        answers
                    }
                    Some(Ok(AggregatedMessage::Ping(b))) => {
                        if session.pong(&b).await.is_err() {
                            break;
                        }
                        continue;
                    }
                    Some(Ok(AggregatedMessage::Pong(_))) => continue,
                    Some(Ok(AggregatedMessage::Close(reason))) => {
                        let code = reason.as_ref().map_or(1005, |r| u16::from(r.code));
                        let text = reason.and_then(|r| r.description).unwrap_or_default();
                        socket.closed_by_client(code, &text);
                        break;
                    }
                    Some(Err(ProtocolError::Overflow)) => {
                        socket.close(1009, &format!("a frame is larger than {MAX_FRAME_BYTES} bytes"));
                        break;
                    }
                    Some(Err(ProtocolError::Io(e))) if e.to_string().contains("continuation size") => {
                        socket.close(1009, &format!("a message is larger than {MAX_FRAME_BYTES} bytes"));
                        break;
                    }
                    Some(Err(e)) => {
                        socket.close(1002, &format!("protocol error: {e}"));
                        break;
                    }
                    None => {
                        socket.closed_by_client(1006, "the connection was dropped");
                        break;
                    }
                };
                for a in answers {
                    if !socket.write(&mut session, a.into()).await {
                        break 'life;
                    }
                    socket.frames_out.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
    // Whatever ended the loop, the conversation forgets the socket first: nothing is pushed to it any more.
    conversation.closed();
    socket.door.sockets.open.lock().remove(&socket.id);
    match socket.closing().cloned() {
        Some(c) if c.by_client => {
            let code =
                if c.code == 1005 || c.code == 1006 { CloseCode::Normal } else { CloseCode::from(c.code) };
            let _ = tokio::time::timeout(CLOSE_WAIT, session.close(Some(code.into()))).await;
        }
        Some(c) => {
            let finish = async {
                if c.code != TOO_SLOW {
                    while let Some(frame) = socket.next_queued() {
                        if session.text(frame).await.is_err() {
                            return;
                        }
                    }
                }
                let reason =
                    CloseReason { code: CloseCode::from(c.code), description: Some(c.reason.clone()) };
                let _ = session.close(Some(reason)).await;
            };
            let _ = tokio::time::timeout(CLOSE_WAIT, finish).await;
        }
        None => {
            // The queue's sender is gone (cannot happen while the socket lives) or a write failed: the
            // connection is gone.
            socket.closed_by_client(1006, "the connection was dropped");
        }
    }
}
