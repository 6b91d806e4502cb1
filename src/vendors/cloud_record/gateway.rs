//! The HST event gateway: the WebSocket at the address `GET /server/address?appType=8` hands out
//! (`ws(s)://<host>/`), answered at `/` on every listener, in JSON text frames, as the vendor's web console
//! uses it (vendor-facts.md, section 001). Every answer echoes the request's `seq_id` as it was sent.
//!
//! | frame in | answer |
//! |---|---|
//! | `{id: 20000, dev_id, token}` log in | `{id: 20001, result, msg}` |
//! | `{id: 20008, app_list: [{app_id, group_list: [group_id]}]}` group snapshot | `{id: 20009, result, msg, group_list: [{app_id, group_id, user_list: [{user_id, media_info: [{media_type, media_id}]}]}]}` |
//! | `{id: 20004, app_list: ...}` subscribe (same shape) | `{id: 20005, result, msg}` |
//! | anything else | `{id: 20999, result, msg, request_id?}` (an error frame) |
//!
//! Then, for each subscribed group, one push per stream that appears (`{id: 20102, app_id, group_id,
//! user_id, media_type, media_id}`) or disappears (`20103`): a `join` with N new streams gives N × 20102, a
//! `leave` one 20103 per stream the user held, `stream_open` / `stream_close` one each.
//!
//! The login takes what `/access/token` takes (a developer id with its developer token, or one made by
//! the TokenGenerator) or the access token `/access/token` hands out (what the console sends, with the
//! app id as `dev_id`); [`CloudRecord::gateway_login`] is the one place that says which apps a login owns.
//! A socket stays logged in when its token later expires or is replaced.
//!
//! Built on the change feed: the gateway taps `world.feed` ([`crate::feed::Feed::tap`]) while it has a
//! socket, and turns each applied `cloud_record` world event into frames in the subscribed sockets'
//! bounded queues before the event's `apply` returns. So a `POST /__admin/clock/advance` that runs a
//! timeline has queued every push, in virtual-clock order, before it answers; a socket that falls a whole
//! queue behind is closed with 1013 instead of holding anything up. A reset or restore of the world, or of
//! one of its tenants, closes the sockets logged in to it with 1012 and a reason.

use super::errors::*;
use super::{CloudRecord, KIND};
use crate::feed::{Change, Feed, Tap};
use crate::http::ws::{Conversation, Opened, Socket};
use crate::limits::{Cap, Caps};
use bytestring::ByteString;
use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Log in.
pub const LOGIN: i64 = 20000;
/// Subscribe to groups.
pub const SUBSCRIBE: i64 = 20004;
/// Ask for groups as they are now.
pub const SNAPSHOT: i64 = 20008;
/// A stream appeared in a subscribed group.
pub const STREAM_OPENED: i64 = 20102;
/// A stream disappeared from a subscribed group.
pub const STREAM_CLOSED: i64 = 20103;
/// recmock's error frame: a frame that is not JSON, not an object, without `id`, or with an id the
/// gateway does not know.
pub const ERROR_FRAME: i64 = 20999;

/// Most `(app, group)` pairs one request names, and most subscriptions one socket holds.
pub const MAX_SUBSCRIPTIONS: usize = 256;
/// The close code of a reset or restore (RFC 6455 1012: service restart).
const RESTART: u16 = 1012;

/// What a login grants.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    /// the id it logged in with (the developer id, or the app id as the console sends it)
    pub dev_id: String,
    /// the apps it owns
    pub apps: Vec<String>,
    /// `access token` or `developer token`
    pub via: &'static str,
    /// virtual unix milliseconds it logged in at
    pub at_ms: i64,
}

impl Grant {
    fn owns(&self, app: &str) -> bool {
        self.apps.iter().any(|a| a == app)
    }
}

/// A subscription: an app's group, or (`None`) every group of the app.
type Topic = (String, Option<String>);

/// One live socket.
struct Live {
    socket: Arc<Socket>,
    login: Option<Grant>,
    /// its subscriptions, each once (a few at most: a vector, not a tree node per socket)
    topics: Vec<Topic>,
}

/// Who listens to an app.
#[derive(Default)]
struct AppListeners {
    every_group: BTreeSet<u64>,
    groups: HashMap<String, BTreeSet<u64>>,
}

#[derive(Default)]
struct Hub {
    live: HashMap<u64, Live>,
    apps: HashMap<String, AppListeners>,
}

impl Hub {
    fn unsubscribe(&mut self, id: u64, topics: &[Topic]) {
        for (app, group) in topics {
            let Some(l) = self.apps.get_mut(app) else { continue };
            match group {
                None => {
                    l.every_group.remove(&id);
                }
                Some(g) => {
                    if let Some(set) = l.groups.get_mut(g) {
                        set.remove(&id);
                        if set.is_empty() {
                            l.groups.remove(g);
                        }
                    }
                }
            }
            if l.every_group.is_empty() && l.groups.is_empty() {
                self.apps.remove(app);
            }
        }
    }
}

/// The gateway's sockets, their logins and subscriptions.
pub struct Gateway {
    feed: Arc<Feed>,
    /// most sockets at once (`--max-gateway-sockets`); another handshake gets HTTP 503
    caps: Arc<Caps>,
    hub: Mutex<Hub>,
    tap: Mutex<Option<Tap>>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").field("sockets", &self.hub.lock().live.len()).finish()
    }
}

impl Gateway {
    /// A gateway with no sockets, following `feed` once it has one; at most `caps.limits.gateway_sockets`
    /// of them at once.
    pub fn new(feed: Arc<Feed>, caps: Arc<Caps>) -> Self {
        Gateway { feed, caps, hub: Mutex::new(Hub::default()), tap: Mutex::new(None) }
    }

    fn open(self: &Arc<Self>, socket: &Arc<Socket>) -> Result<(), String> {
        let mut hub = self.hub.lock();
        let cap = self.caps.limits.gateway_sockets;
        if hub.live.len() >= cap {
            drop(hub);
            self.caps.reached(Cap::GatewaySockets, || {
                "new event-gateway sockets are refused with HTTP 503".into()
            });
            return Err(format!("the event gateway holds {cap} sockets already (--max-gateway-sockets)"));
        }
        hub.live.insert(socket.id, Live { socket: socket.clone(), login: None, topics: Vec::new() });
        let mut tap = self.tap.lock();
        if tap.is_none() {
            let gateway = Arc::downgrade(self);
            *tap = Some(self.feed.tap(move |change| {
                if let Some(g) = gateway.upgrade() {
                    g.on_change(change);
                }
            }));
        }
        Ok(())
    }

    fn forget(&self, id: u64) {
        let untapped = {
            let mut hub = self.hub.lock();
            if let Some(live) = hub.live.remove(&id) {
                hub.unsubscribe(id, &live.topics);
            }
            if hub.live.is_empty() {
                self.tap.lock().take()
            } else {
                None
            }
        };
        drop(untapped);
    }

    /// Log socket `id` in (`Some`) or out: a new login keeps only the subscriptions it still owns.
    fn set_login(&self, id: u64, grant: Option<Grant>) {
        let mut hub = self.hub.lock();
        let Some(live) = hub.live.get_mut(&id) else { return };
        let dropped: Vec<Topic> = live
            .topics
            .iter()
            .filter(|(app, _)| !grant.as_ref().is_some_and(|g| g.owns(app)))
            .cloned()
            .collect();
        live.topics.retain(|t| !dropped.contains(t));
        live.login = grant;
        hub.unsubscribe(id, &dropped);
    }

    fn login_of(&self, id: u64) -> Option<Grant> {
        self.hub.lock().live.get(&id).and_then(|l| l.login.clone())
    }

    fn subscribe(&self, id: u64, topics: Vec<Topic>) -> Result<usize, CloudError> {
        let mut hub = self.hub.lock();
        let Some(live) = hub.live.get_mut(&id) else {
            return Err(CloudError::new(EXCEPTION, "socket is gone"));
        };
        let mut new: Vec<Topic> = Vec::new();
        for t in topics {
            if !live.topics.contains(&t) && !new.contains(&t) {
                new.push(t);
            }
        }
        if live.topics.len() + new.len() > MAX_SUBSCRIPTIONS {
            return Err(CloudError::params(format!(
                "a socket holds at most {MAX_SUBSCRIPTIONS} subscriptions ({} held, {} new asked)",
                live.topics.len(),
                new.len()
            )));
        }
        live.topics.extend(new.iter().cloned());
        let held = live.topics.len();
        for (app, group) in new {
            let l = hub.apps.entry(app).or_default();
            match group {
                None => l.every_group.insert(id),
                Some(g) => l.groups.entry(g).or_default().insert(id),
            };
        }
        Ok(held)
    }

    /// A change on the feed: pushes for a stream change, closings for a reset.
    fn on_change(&self, change: &Change) {
        match change {
            Change::WorldEvent { vendor, event, outcome, .. } if *vendor == KIND => {
                let Some((app, group, frames)) = pushes(event, outcome) else { return };
                if frames.is_empty() {
                    return;
                }
                let targets: Vec<Arc<Socket>> = {
                    let hub = self.hub.lock();
                    let Some(l) = hub.apps.get(&app) else { return };
                    let ids: BTreeSet<u64> = l
                        .every_group
                        .iter()
                        .chain(l.groups.get(&group).into_iter().flatten())
                        .copied()
                        .collect();
                    ids.iter().filter_map(|id| hub.live.get(id)).map(|l| l.socket.clone()).collect()
                };
                for socket in targets {
                    for f in &frames {
                        if !socket.push(f) {
                            break;
                        }
                    }
                }
            }
            Change::Reset { tenant } => {
                let app = match tenant {
                    None => None,
                    Some(t) => match t.strip_prefix(KIND.as_str()).and_then(|r| r.strip_prefix(':')) {
                        Some(app) => Some(app),
                        None => return,
                    },
                };
                let targets: Vec<Arc<Socket>> = self
                    .hub
                    .lock()
                    .live
                    .values()
                    .filter(|l| {
                        app.is_none_or(|a| {
                            l.login.as_ref().is_some_and(|g| g.owns(a))
                                || l.topics.iter().any(|(t, _)| t == a)
                        })
                    })
                    .map(|l| l.socket.clone())
                    .collect();
                let reason = match app {
                    None => "the world was reset or restored: log in again".to_string(),
                    Some(a) => format!("app {a} was reset: log in again"),
                };
                for s in targets {
                    s.close(RESTART, &reason);
                }
            }
            _ => {}
        }
    }

    /// The live sockets, for `GET /__admin/gateway/sessions`.
    pub fn sessions(&self) -> Vec<Value> {
        let hub = self.hub.lock();
        let mut live: Vec<&Live> = hub.live.values().collect();
        live.sort_by_key(|l| l.socket.id);
        live.into_iter()
            .map(|l| {
                let s = &l.socket;
                json!({
                    "vendor": KIND,
                    "socket": s.id,
                    "path": &*s.path,
                    "origin": s.origin.as_deref(),
                    "peer": s.peer.as_deref(),
                    "opened_wall_ms": s.opened_wall_ms,
                    "login": l.login.as_ref().map(|g| json!({
                        "dev_id": g.dev_id, "apps": g.apps, "via": g.via, "at_ms": g.at_ms,
                    })),
                    "subscriptions": l.topics.iter().map(|(app, group)| json!({"app_id": app, "group_id": group})).collect::<Vec<_>>(),
                    "frames_in": s.frames_in(),
                    "frames_out": s.frames_out(),
                    "queued": s.queued(),
                })
            })
            .collect()
    }
}

/// The frames a `cloud_record` world event makes, with the app and group they are about.
fn pushes(event: &Value, outcome: &Value) -> Option<(String, String, Vec<ByteString>)> {
    let name = event.get("type")?.as_str()?.strip_prefix(KIND.as_str())?.strip_prefix('.')?;
    let app = event.get("app_id")?.as_str()?.to_string();
    let group = outcome.get("group_id")?.as_str()?.to_string();
    let frame = |id: i64, user: &Value, stream: &Value| {
        ByteString::from(
            json!({
                "id": id,
                "app_id": app,
                "group_id": group,
                "user_id": user,
                "media_type": stream.get("media_type"),
                "media_id": stream.get("media_id"),
            })
            .to_string(),
        )
    };
    let user = event.get("user_id").cloned().unwrap_or(Value::Null);
    let each = |id: i64, list: Option<&Value>| -> Vec<ByteString> {
        list.and_then(Value::as_array)
            .map(|l| l.iter().map(|s| frame(id, &user, s)).collect())
            .unwrap_or_default()
    };
    let frames = match name {
        "join" => each(STREAM_OPENED, outcome.get("opened")),
        "leave" => each(STREAM_CLOSED, outcome.get("closed")),
        "stream_open" => {
            outcome.get("stream_open").map(|s| vec![frame(STREAM_OPENED, &user, s)]).unwrap_or_default()
        }
        "stream_close" => {
            outcome.get("stream_close").map(|s| vec![frame(STREAM_CLOSED, &user, s)]).unwrap_or_default()
        }
        _ => return None,
    };
    Some((app, group, frames))
}

/// An answer: `{id, result, msg, seq_id?}` plus `fields` on success.
fn answer(id: i64, seq: &Value, result: Result<Map<String, Value>, CloudError>) -> String {
    answer_fields(id, seq, result).to_string()
}

fn answer_fields(id: i64, seq: &Value, result: Result<Map<String, Value>, CloudError>) -> Value {
    let (mut m, code, msg) = match result {
        Ok(fields) => (fields, 0, "OK".to_string()),
        Err(e) => (Map::new(), e.code, e.msg()),
    };
    m.insert("id".into(), json!(id));
    m.insert("result".into(), json!(code));
    m.insert("msg".into(), json!(msg));
    if !seq.is_null() {
        m.insert("seq_id".into(), seq.clone());
    }
    Value::Object(m)
}

/// recmock's error frame ([`ERROR_FRAME`]), naming the request's id when it had one.
fn error_frame(request_id: Option<&Value>, seq: &Value, code: i64, detail: &str) -> String {
    let mut out = answer_fields(ERROR_FRAME, seq, Err(CloudError::new(code, detail)));
    if let (Some(r), Value::Object(m)) = (request_id, &mut out) {
        m.insert("request_id".into(), r.clone());
    }
    out.to_string()
}

/// An id the console may send as a number or a string.
fn id_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `app_list: [{app_id, group_list: [group_id]}]` as topics; an empty or absent `group_list` is every group
/// of the app.
fn topics(m: &Map<String, Value>) -> Result<Vec<Topic>, CloudError> {
    let list = m.get("app_list").and_then(Value::as_array).filter(|l| !l.is_empty()).ok_or_else(|| {
        CloudError::params("app_list (a non-empty array of {app_id, group_list}) is required")
    })?;
    let mut out = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let app = id_text(entry.get("app_id"))
            .ok_or_else(|| CloudError::params(format!("app_list[{i}].app_id (a string) is required")))?;
        match entry.get("group_list") {
            None | Some(Value::Null) => out.push((app, None)),
            Some(Value::Array(groups)) if groups.is_empty() => out.push((app, None)),
            Some(Value::Array(groups)) => {
                for (j, g) in groups.iter().enumerate() {
                    let group = id_text(Some(g)).ok_or_else(|| {
                        CloudError::params(format!("app_list[{i}].group_list[{j}] must be a group id string"))
                    })?;
                    out.push((app.clone(), Some(group)));
                }
            }
            Some(_) => {
                return Err(CloudError::params(format!(
                    "app_list[{i}].group_list must be an array of group ids"
                )))
            }
        }
        if out.len() > MAX_SUBSCRIPTIONS {
            return Err(CloudError::params(format!("at most {MAX_SUBSCRIPTIONS} groups in one request")));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// One socket's conversation with the gateway.
struct Talk {
    cloud: Arc<CloudRecord>,
    socket: Arc<Socket>,
}

impl Conversation for Talk {
    fn text(&mut self, frame: &str) -> Vec<String> {
        vec![self.cloud.gateway_answer(&self.socket, frame)]
    }

    fn refused(&mut self, problem: &str) -> Option<String> {
        Some(error_frame(None, &Value::Null, JSON_PARSE, problem))
    }

    fn closed(&mut self) {
        self.cloud.gateway.forget(self.socket.id);
    }
}

/// A new socket on the gateway (the endpoint's `open`).
pub(super) fn open(cloud: &Arc<CloudRecord>, socket: &Arc<Socket>) -> Opened {
    cloud.gateway.open(socket)?;
    Ok(Box::new(Talk { cloud: cloud.clone(), socket: socket.clone() }))
}

impl CloudRecord {
    /// Log in to the event gateway with `dev_id` and `token` at `now_ms`: the access token `/access/token`
    /// handed out (with the account's developer id or app id as `dev_id`: the console sends the app id),
    /// or what `/access/token` itself takes (a developer token, as given or made by the TokenGenerator).
    /// The one place that says which apps a login owns.
    pub(super) fn gateway_login(&self, dev_id: &str, token: &str, now_ms: i64) -> Result<Grant, CloudError> {
        let (app, via) = if self.app_of_access_token(token).is_some() {
            let app = self.access_token_app(token, now_ms)?;
            if self.app_of_dev(dev_id).as_deref() != Some(app.as_str()) {
                return Err(CloudError::new(
                    AUTH_FAILED,
                    format!("dev_id `{dev_id}` is neither the developer id nor the app id of the access token's account"),
                ));
            }
            (app, "access token")
        } else {
            let app = self.developer_login(dev_id, token, &self.world.auth_now(now_ms)).map_err(|e| {
                CloudError::new(
                    TOKEN_AUTH_FAILED,
                    format!(
                        "token is neither a current access token nor a developer token of `{dev_id}` ({e})"
                    ),
                )
            })?;
            (app, "developer token")
        };
        Ok(Grant { dev_id: dev_id.to_string(), apps: vec![app], via, at_ms: now_ms })
    }

    /// The answer to one text frame of socket `socket`.
    fn gateway_answer(&self, socket: &Socket, text: &str) -> String {
        let v: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                return error_frame(None, &Value::Null, JSON_PARSE, &format!("the frame is not JSON: {e}"))
            }
        };
        let Value::Object(m) = &v else {
            return error_frame(None, &Value::Null, JSON_PARSE, "a frame is a JSON object {id, seq_id, ...}");
        };
        let seq = m.get("seq_id").cloned().unwrap_or(Value::Null);
        let id = match m.get("id") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let (answer_id, result) = match id {
            Some(LOGIN) => (LOGIN + 1, self.gateway_login_frame(socket, m)),
            Some(asked @ (SNAPSHOT | SUBSCRIBE)) => (asked + 1, self.gateway_groups(socket, m, asked == SNAPSHOT)),
            _ => {
                return error_frame(
                    m.get("id"),
                    &seq,
                    BAD_PARAMS,
                    "unknown message id: the gateway answers 20000 (login), 20008 (group snapshot) and 20004 (subscribe)",
                )
            }
        };
        answer(answer_id, &seq, result)
    }

    /// `{id: 20000, dev_id, token}`. A refused login leaves the socket logged out.
    fn gateway_login_frame(
        &self,
        socket: &Socket,
        m: &Map<String, Value>,
    ) -> Result<Map<String, Value>, CloudError> {
        let (Some(dev_id), Some(token)) = (id_text(m.get("dev_id")), m.get("token").and_then(Value::as_str))
        else {
            self.gateway.set_login(socket.id, None);
            return Err(CloudError::new(TOKEN_AUTH_FAILED, "dev_id and token are required"));
        };
        match self.gateway_login(&dev_id, token, self.world.clock.now_ms()) {
            Ok(grant) => {
                self.gateway.set_login(socket.id, Some(grant));
                Ok(Map::new())
            }
            Err(e) => {
                self.gateway.set_login(socket.id, None);
                Err(e)
            }
        }
    }

    /// `{id: 20008 | 20004, app_list}`: the groups as they are now, or a subscription to them.
    fn gateway_groups(
        &self,
        socket: &Socket,
        m: &Map<String, Value>,
        snapshot: bool,
    ) -> Result<Map<String, Value>, CloudError> {
        let grant = self
            .gateway
            .login_of(socket.id)
            .ok_or_else(|| CloudError::new(NOT_LOGGED_IN, "log in first: {id: 20000, dev_id, token}"))?;
        let topics = topics(m)?;
        if let Some((app, _)) = topics.iter().find(|(app, _)| !grant.owns(app)) {
            return Err(CloudError::new(
                AUTH_FAILED,
                format!("app_id `{app}` does not belong to this login"),
            ));
        }
        let mut out = Map::new();
        if snapshot {
            out.insert("group_list".into(), Value::Array(self.snapshot(&topics)));
        } else {
            self.gateway.subscribe(socket.id, topics)?;
        }
        Ok(out)
    }

    /// The groups `topics` name, as they are now: `{app_id, group_id, user_list: [{user_id, media_info}]}`.
    fn snapshot(&self, topics: &[Topic]) -> Vec<Value> {
        let mut out = Vec::new();
        for (app, group) in topics {
            self.accounts.read(app, |acc| {
                let users = |g: Option<&super::models::Group>| -> Vec<Value> {
                    g.map(|g| {
                        g.users
                            .iter()
                            .map(|(user, streams)| {
                                json!({
                                    "user_id": user,
                                    "media_info": streams.iter().map(|s| json!({"media_type": s.media_type, "media_id": s.media_id})).collect::<Vec<_>>(),
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default()
                };
                match group {
                    Some(g) => out.push(json!({"app_id": app, "group_id": g, "user_list": users(acc.groups.get(g))})),
                    None => out.extend(
                        acc.groups
                            .iter()
                            .map(|(g, grp)| json!({"app_id": app, "group_id": g, "user_list": users(Some(grp))})),
                    ),
                }
            });
        }
        out
    }
}
