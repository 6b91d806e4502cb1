//! Callbacks to the user's URLs: sign, deliver, retry, log.
//!
//! Vendor modules hand the outbox a [`NewCallback`]: the unsigned body, the URL registered for the account,
//! how the vendor signs ([`Signer`]), how it decides success ([`SuccessRule`]), its retry policy, and the
//! resources the event concerns. The outbox signs each attempt afresh (so a retry carries a valid
//! `expire_time`), posts it, records the attempt, and schedules a retry on the virtual clock.
//!
//! Ordering: a callback is sent only when no earlier callback that shares one of its resources is still
//! pending, so events about one classroom arrive in the order they happened, while other resources (and
//! other receivers) are never held up. A callback ends `delivered` or `failed` (and `redeliver` can send it
//! again); with no URL registered it waits as `held` until one is set.
//!
//! The log is bounded (docs/decisions.md, "Bounded memory"): the newest `--callbacks-delivered` delivered
//! callbacks and the newest `--callbacks-undelivered` others (held, pending, failed) are kept — the oldest
//! beyond either are evicted and counted ([`Evicted`]) — and each keeps its latest `--callback-attempts`
//! attempts with a count of the older ones.

use crate::clock::{AuthClock, AuthNow};
use crate::codec::md5_hex;
use crate::faults::{FaultTarget, Faults, Probe};
use crate::feed::{Change, Feed};
use crate::ids::IdSource;
use crate::journal::body_text;
use crate::limits::{Cap, Caps};
use crate::scheduler::{Job, Scheduler};
use crate::VendorKind;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Seconds a signature stays valid after an attempt (`expire_time = attempt time + this`).
pub const SIGN_VALIDITY_S: i64 = 300;
/// Longest response body kept per attempt.
const RESPONSE_KEPT: usize = 4096;
/// Longest answer read from a receiver; a longer one fails the attempt (the connection is dropped).
pub const ANSWER_LIMIT: usize = 64 * 1024;
/// Most deliveries in flight at once; the others wait for a slot. A burst of thousands of callbacks due at
/// one instant then reuses this many connections instead of opening one each (and running out of ports).
pub const MAX_IN_FLIGHT: usize = 64;
/// How long an idle connection to a receiver is kept for the next callback.
pub const POOL_IDLE: std::time::Duration = std::time::Duration::from_secs(2);

/// How a vendor signs its callbacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signer {
    /// No signature.
    None,
    /// 000: `expire_time` and `sign` = MD5(key + expire_time) in the body.
    BodyMd5 {
        /// the app key
        key: String,
    },
    /// 004: `sdkappid`, `random`, `expire_time` and `sign` = MD5(key + expire_time) on the URL, and
    /// `expire_time` in the body too (the seed's revision reads it there, the later one and its clients on
    /// the URL).
    UrlMd5 {
        /// the tic_key
        key: String,
        /// the app
        sdkappid: u64,
    },
}

/// How a vendor decides that a delivery succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuccessRule {
    /// HTTP 2xx, and if the reply is JSON with an `error_code`, it is 0.
    Http2xxNoErrorCode,
    /// HTTP 2xx and a JSON reply with `error_code` 0 (004: "must answer `{"error_code":0}`").
    Http2xxErrorCodeZero,
}

/// Retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// retries after the first attempt
    pub retries: u32,
    /// seconds between attempts
    pub interval_s: f64,
}

impl RetryPolicy {
    /// Why this policy is out of range, if it is (at most 1000 retries, 0..=86400 s apart).
    pub fn check(&self) -> Result<(), String> {
        if self.retries > 1000 {
            return Err(format!("retries must be at most 1000, got {}", self.retries));
        }
        if !(self.interval_s.is_finite() && (0.0..=86_400.0).contains(&self.interval_s)) {
            return Err(format!("interval_s must be between 0 and 86400 seconds, got {}", self.interval_s));
        }
        Ok(())
    }
}

impl Default for RetryPolicy {
    /// The documented default of both vendors that send callbacks: 10 retries, 1 minute apart.
    fn default() -> Self {
        RetryPolicy { retries: 10, interval_s: 60.0 }
    }
}

/// Where a callback is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackState {
    /// no callback URL registered for the account yet
    Held,
    /// waiting for its (next) attempt
    Pending,
    /// the receiver accepted it
    Delivered,
    /// every attempt failed
    Failed,
}

impl CallbackState {
    /// Every state, in the order a callback goes through them.
    pub const ALL: [CallbackState; 4] =
        [CallbackState::Held, CallbackState::Pending, CallbackState::Delivered, CallbackState::Failed];

    /// The state's name, as dumps and `/__admin/callbacks` show it.
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackState::Held => "held",
            CallbackState::Pending => "pending",
            CallbackState::Delivered => "delivered",
            CallbackState::Failed => "failed",
        }
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// accepted
    Delivered,
    /// refused; another attempt is scheduled
    Retry,
    /// refused; no attempts left
    Failed,
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1-based
    pub n: u32,
    /// virtual unix seconds
    pub virtual_time: i64,
    /// virtual unix milliseconds
    pub virtual_ms: i64,
    /// wall unix milliseconds
    pub wall_ms: i64,
    /// the URL posted to (with the query the signer added)
    pub url: String,
    /// the body posted
    pub body: Value,
    /// HTTP status answered
    pub http_status: Option<u16>,
    /// response body (truncated)
    pub response: Option<String>,
    /// network error, timeout or fault, when there was no answer
    pub error: Option<String>,
    /// id of the fault rule that shaped it
    pub fault: Option<u64>,
    /// wall milliseconds the attempt took, plus a fault rule's latency (up to the delivery timeout)
    pub duration_ms: u64,
    /// what it came to
    pub outcome: Outcome,
}

/// A callback and its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Callback {
    /// `cb-000001`, in creation order
    pub id: String,
    /// sending vendor
    pub vendor: VendorKind,
    /// `<vendor>:<tenant>`
    pub owner: String,
    /// resources it concerns (`room:3003`, `class:100012345`); ordering holds per resource
    pub resources: Vec<String>,
    /// the vendor's event name (`1000`, `class_begin`, ...)
    pub event: String,
    /// the registered URL (before the signer's query)
    pub url: Option<String>,
    /// unsigned body
    pub payload: Value,
    /// how it is signed
    pub signer: Signer,
    /// how success is decided
    pub success: SuccessRule,
    /// retries and interval
    pub policy: RetryPolicy,
    /// when the vendor produced it, virtual ms
    pub created_ms: i64,
    /// where it is
    pub state: CallbackState,
    /// signed body of the latest attempt (what the receiver got)
    pub body: Option<Value>,
    /// URL of the latest attempt
    pub signed_url: Option<String>,
    /// `sign` of the latest attempt
    pub signature: Option<String>,
    /// the latest attempts (at most `--callback-attempts`), oldest first
    pub attempts: Vec<Attempt>,
    /// older attempts no longer kept
    #[serde(default)]
    pub attempts_dropped: u64,
    /// attempts made in the current cycle (a redelivery starts a new cycle)
    pub cycle_attempts: u32,
    /// when the next attempt is due, virtual ms
    pub next_attempt_ms: Option<i64>,
    /// an attempt is under way (not persisted)
    #[serde(skip)]
    pub in_flight: bool,
}

/// What a vendor hands the outbox.
#[derive(Debug, Clone)]
pub struct NewCallback {
    /// sending vendor
    pub vendor: VendorKind,
    /// tenant id
    pub tenant: String,
    /// resources it concerns
    pub resources: Vec<String>,
    /// event name
    pub event: String,
    /// the account's callback URL, if registered
    pub url: Option<String>,
    /// the body without signature fields
    pub payload: Value,
    /// signing scheme
    pub signer: Signer,
    /// success rule
    pub success: SuccessRule,
}

/// Filters of `GET /__admin/callbacks`.
#[derive(Debug, Clone, Default)]
pub struct CallbackFilter {
    /// only this vendor
    pub vendor: Option<VendorKind>,
    /// only callbacks concerning this resource
    pub resource: Option<String>,
    /// only this state
    pub state: Option<CallbackState>,
    /// only this event
    pub event: Option<String>,
    /// only this owner (`<vendor>:<tenant>`)
    pub owner: Option<String>,
}

/// Callbacks evicted from the log since the last reset, by the state they were in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evicted {
    /// held (no URL) when evicted
    #[serde(default)]
    pub held: u64,
    /// pending (waiting for an attempt) when evicted
    #[serde(default)]
    pub pending: u64,
    /// failed when evicted
    #[serde(default)]
    pub failed: u64,
    /// delivered, forgotten beyond `--callbacks-delivered`
    #[serde(default)]
    pub delivered: u64,
}

impl Evicted {
    fn count(&mut self, state: CallbackState) {
        let n = match state {
            CallbackState::Held => &mut self.held,
            CallbackState::Pending => &mut self.pending,
            CallbackState::Failed => &mut self.failed,
            CallbackState::Delivered => &mut self.delivered,
        };
        *n = n.saturating_add(1);
    }
}

impl CallbackFilter {
    /// Whether `c` passes every filter.
    pub fn accepts(&self, c: &Callback) -> bool {
        self.vendor.is_none_or(|v| c.vendor == v)
            && self.resource.as_ref().is_none_or(|r| c.resources.contains(r))
            && self.state.is_none_or(|s| c.state == s)
            && self.event.as_ref().is_none_or(|e| &c.event == e)
            && self.owner.as_ref().is_none_or(|o| &c.owner == o)
    }
}

#[derive(Debug, Default)]
struct Book {
    callbacks: BTreeMap<u64, Callback>,
    next: u64,
    /// per resource, the numbers of its unfinished (pending or held) callbacks: the first one is the head
    open: HashMap<String, BTreeSet<u64>>,
    /// numbers of delivered callbacks, oldest first (the ones `prune` forgets first)
    delivered: BTreeSet<u64>,
    /// numbers of the others (held, pending, failed), oldest first (the ones `prune` evicts first)
    undelivered: BTreeSet<u64>,
    /// what `prune` evicted
    evicted: Evicted,
}

fn unfinished(state: CallbackState) -> bool {
    matches!(state, CallbackState::Pending | CallbackState::Held)
}

impl Book {
    /// File callback `n` under its current state in `open` and `delivered`; call it after every change of
    /// state (and after adding one). Both indexes keep ordering checks and pruning independent of how many
    /// callbacks the log holds.
    fn refile(&mut self, n: u64) {
        let Some(c) = self.callbacks.get(&n) else { return };
        let (open, delivered) = (unfinished(c.state), c.state == CallbackState::Delivered);
        for r in &c.resources {
            if open {
                self.open.entry(r.clone()).or_default().insert(n);
            } else if let Some(set) = self.open.get_mut(r) {
                set.remove(&n);
                if set.is_empty() {
                    self.open.remove(r);
                }
            }
        }
        if delivered {
            self.delivered.insert(n);
            self.undelivered.remove(&n);
        } else {
            self.delivered.remove(&n);
            self.undelivered.insert(n);
        }
    }

    /// Forget callback `n` and its index entries.
    fn forget(&mut self, n: u64) {
        if let Some(c) = self.callbacks.remove(&n) {
            for r in &c.resources {
                if let Some(set) = self.open.get_mut(r) {
                    set.remove(&n);
                    if set.is_empty() {
                        self.open.remove(r);
                    }
                }
            }
            self.delivered.remove(&n);
            self.undelivered.remove(&n);
        }
    }

    /// Rebuild the indexes from the callbacks.
    fn reindex(&mut self) {
        self.open.clear();
        self.delivered.clear();
        self.undelivered.clear();
        let all: Vec<u64> = self.callbacks.keys().copied().collect();
        for n in all {
            self.refile(n);
        }
    }

    /// Is `n` the earliest unfinished callback on each of its resources?
    fn is_head(&self, n: u64) -> bool {
        let Some(cb) = self.callbacks.get(&n) else { return false };
        cb.resources.iter().all(|r| self.open.get(r).is_none_or(|set| set.range(..n).next().is_none()))
    }

    /// Pending callbacks that just became heads because `n` finished, with no attempt scheduled.
    fn next_heads(&self, n: u64) -> Vec<u64> {
        let Some(done) = self.callbacks.get(&n) else { return Vec::new() };
        let mut heads: Vec<u64> = done
            .resources
            .iter()
            .filter_map(|r| self.open.get(r).and_then(|set| set.range(n + 1..).next().copied()))
            .filter(|k| self.callbacks.get(k).is_some_and(|c| c.state == CallbackState::Pending))
            .filter(|k| self.is_head(*k))
            .collect();
        heads.sort_unstable();
        heads.dedup();
        heads
    }

    /// Forget the oldest delivered callbacks beyond `caps`' `--callbacks-delivered`, and evict the oldest
    /// others beyond `--callbacks-undelivered` (at least one is kept: the newest). An evicted callback
    /// that held up others on its resources lets the next one go (due at `now_ms`).
    fn prune(&mut self, caps: &Caps, scheduler: &Scheduler, now_ms: i64) {
        let (delivered_cap, undelivered_cap) =
            (caps.limits.delivered_callbacks, caps.limits.undelivered_callbacks.max(1));
        if self.delivered.len() > delivered_cap {
            caps.reached(Cap::DeliveredCallbacks, || "the oldest delivered callbacks are forgotten".into());
        }
        while self.delivered.len() > delivered_cap {
            let Some(oldest) = self.delivered.first().copied() else { break };
            self.forget(oldest);
            self.evicted.delivered = self.evicted.delivered.saturating_add(1);
        }
        if self.undelivered.len() > undelivered_cap {
            caps.reached(Cap::UndeliveredCallbacks, || {
                "the oldest callbacks not delivered (held, pending or failed) are evicted".into()
            });
        }
        while self.undelivered.len() > undelivered_cap {
            let Some(oldest) = self.undelivered.first().copied() else { break };
            let Some(c) = self.callbacks.get(&oldest) else {
                self.undelivered.remove(&oldest);
                continue;
            };
            let (state, resources) = (c.state, c.resources.clone());
            self.forget(oldest);
            self.evicted.count(state);
            if unfinished(state) {
                self.release(&resources, scheduler, now_ms);
            }
        }
    }

    /// The first unfinished callback of each of `resources`, now at their head after an eviction: when it
    /// is pending with no attempt scheduled, its attempt is due at `now_ms`.
    fn release(&mut self, resources: &[String], scheduler: &Scheduler, now_ms: i64) {
        let firsts: Vec<u64> =
            resources.iter().filter_map(|r| self.open.get(r).and_then(|set| set.first().copied())).collect();
        for k in firsts {
            if !self.is_head(k) {
                continue;
            }
            if let Some(c) = self.callbacks.get_mut(&k) {
                if c.state == CallbackState::Pending && c.next_attempt_ms.is_none() && !c.in_flight {
                    c.next_attempt_ms = Some(now_ms);
                    scheduler.schedule(now_ms, Job::Delivery { callback_id: c.id.clone() });
                }
            }
        }
    }
}

fn number_of(id: &str) -> Option<u64> {
    id.strip_prefix("cb-").and_then(|n| n.parse().ok())
}

/// The serialisable outbox.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutboxState {
    next: u64,
    callbacks: Vec<Callback>,
    /// callbacks evicted since the last reset (absent in dumps older than the caps)
    #[serde(default)]
    evicted: Evicted,
}

/// The callback outbox.
#[derive(Debug)]
pub struct Outbox {
    book: Mutex<Book>,
    /// how much of the log is kept (`--callbacks-delivered`, `--callbacks-undelivered`,
    /// `--callback-attempts`)
    caps: Arc<Caps>,
    timeout_ms: AtomicU64,
    client: reqwest::Client,
    /// deliveries spawned by the real-time pump and not yet finished
    flights: std::sync::atomic::AtomicUsize,
    landed: tokio::sync::Notify,
    /// slots for deliveries in flight ([`MAX_IN_FLIGHT`])
    slots: tokio::sync::Semaphore,
    /// fault rules (those with target `callback` shape deliveries)
    faults: Arc<Faults>,
    /// where accepted callbacks and attempts are announced
    feed: Arc<Feed>,
}

impl Outbox {
    /// An empty outbox whose deliveries obey the callback rules of `faults` and are announced on `feed`,
    /// keeping a log within `caps`.
    /// Receivers over HTTPS are trusted when their certificate chains to the public web roots or to one of
    /// `roots` (DER certificates: the system's trust store and recmock's local CA, see
    /// `http::tls::receiver_roots`).
    pub fn new(faults: Arc<Faults>, feed: Arc<Feed>, caps: Arc<Caps>, roots: &[Vec<u8>]) -> Self {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("recmock/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(MAX_IN_FLIGHT)
            // Shorter than the keep-alive of common receivers (5 s in Node.js and actix-web), so a
            // connection the receiver is about to close is not picked for the next callback.
            .pool_idle_timeout(POOL_IDLE)
            // A callback goes to the URL the account registered, never elsewhere: a 3xx is the answer.
            .redirect(reqwest::redirect::Policy::none());
        for der in roots {
            match reqwest::Certificate::from_der(der) {
                Ok(c) => builder = builder.add_root_certificate(c),
                Err(e) => tracing::debug!("a trusted root certificate was skipped: {e}"),
            }
        }
        let client = builder.build().unwrap_or_else(|e| {
            tracing::warn!("callback client with extra roots failed ({e}); using the public web roots only");
            reqwest::Client::builder()
                .user_agent(concat!("recmock/", env!("CARGO_PKG_VERSION")))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default()
        });
        Outbox {
            book: Mutex::new(Book::default()),
            caps,
            timeout_ms: AtomicU64::new(5000),
            client,
            flights: std::sync::atomic::AtomicUsize::new(0),
            landed: tokio::sync::Notify::new(),
            slots: tokio::sync::Semaphore::new(MAX_IN_FLIGHT),
            faults,
            feed,
        }
    }

    fn announce(&self, c: &Callback) {
        self.feed.publish(|| Change::Callback {
            id: c.id.as_str().into(),
            vendor: c.vendor,
            state: c.state.as_str(),
        });
    }
}

/// The MD5 sign both signing vendors use: md5(key + expire_time), lowercase hex.
pub fn md5_sign(key: &str, expire: i64) -> String {
    md5_hex(format!("{key}{expire}"))
}

impl Signer {
    /// Check a received callback the way its receiver should: `query` is the decoded query string of the
    /// URL it was posted to, `body` its JSON body. `Err` says what does not verify. A 004 callback verifies
    /// for a receiver of either revision: `expire_time` is read from the URL when it is there, else from the
    /// body (when both are there they must agree). No time is checked: the receiver's clock is its own.
    pub fn verify(&self, query: &BTreeMap<String, String>, body: &Value) -> Result<(), String> {
        let in_body = || {
            body.get("expire_time")
                .and_then(Value::as_i64)
                .ok_or_else(|| "no integer `expire_time` in the body".to_string())
        };
        match self {
            Signer::None => Ok(()),
            Signer::BodyMd5 { key } => {
                let want = md5_sign(key, in_body()?);
                match body.get("sign").and_then(Value::as_str) {
                    Some(s) if s == want => Ok(()),
                    Some(s) => Err(format!("body `sign` is {s}, md5(key + expire_time) is {want}")),
                    None => Err("no string `sign` in the body".into()),
                }
            }
            Signer::UrlMd5 { key, sdkappid } => {
                let expire = match query.get("expire_time") {
                    None => in_body()?,
                    Some(q) => {
                        let e = q
                            .parse::<i64>()
                            .map_err(|_| format!("URL `expire_time` is {q:?}, expected an integer"))?;
                        match body.get("expire_time") {
                            Some(b) if b.as_i64() != Some(e) => {
                                return Err(format!("URL `expire_time` is {e}, the body's is {b}"))
                            }
                            _ => e,
                        }
                    }
                };
                let want = md5_sign(key, expire);
                if query.get("sdkappid").map(String::as_str) != Some(sdkappid.to_string().as_str()) {
                    return Err(format!(
                        "URL `sdkappid` is {:?}, expected {sdkappid}",
                        query.get("sdkappid")
                    ));
                }
                if query.get("random").is_none_or(|r| r.is_empty() || r.chars().count() > 32) {
                    return Err(format!(
                        "URL `random` is {:?}, expected 1 to 32 characters",
                        query.get("random")
                    ));
                }
                match query.get("sign") {
                    Some(s) if *s == want => Ok(()),
                    Some(s) => Err(format!("URL `sign` is {s}, md5(tic_key + expire_time) is {want}")),
                    None => Err("no `sign` on the URL".into()),
                }
            }
        }
    }
}

/// The signed URL and body of an attempt whose signature expires at `expire` (unix seconds), and the `sign`.
fn sign(cb: &Callback, url: &str, expire: i64, ids: &IdSource) -> (String, Value, Option<String>) {
    let mut body = cb.payload.clone();
    match &cb.signer {
        Signer::None => (url.to_string(), body, None),
        Signer::BodyMd5 { key } => {
            let s = md5_sign(key, expire);
            if let Value::Object(m) = &mut body {
                m.insert("expire_time".into(), json!(expire));
                m.insert("sign".into(), json!(s));
            }
            (url.to_string(), body, Some(s))
        }
        Signer::UrlMd5 { key, sdkappid } => {
            let s = md5_sign(key, expire);
            if let Value::Object(m) = &mut body {
                m.insert("expire_time".into(), json!(expire));
            }
            let random = ids.next_u64() % 1_000_000;
            let sep = if url.contains('?') { '&' } else { '?' };
            (
                format!("{url}{sep}sdkappid={sdkappid}&random={random}&expire_time={expire}&sign={s}"),
                body,
                Some(s),
            )
        }
    }
}

/// What an attempt came to: the answer (status, body), or why there was none that counts (with the status
/// when one came: a redirect, an answer too long).
type AttemptResult = Result<(u16, String), (Option<u16>, String)>;

/// A receiver's answer body, read up to [`ANSWER_LIMIT`] bytes: a receiver that answers more (or never
/// stops) fails the attempt instead of filling memory.
async fn read_answer(mut resp: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut got = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if got.len().saturating_add(chunk.len()) > ANSWER_LIMIT {
                    return Err(format!("the answer is longer than {ANSWER_LIMIT} bytes: not read further"));
                }
                got.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(got),
            Err(e) => return Err(format!("reading the answer failed: {e}")),
        }
    }
}

fn succeeded(rule: SuccessRule, status: u16, body: &str) -> bool {
    if !(200..300).contains(&status) {
        return false;
    }
    let code = serde_json::from_str::<Value>(body).ok().and_then(|v| v.get("error_code").cloned());
    match rule {
        SuccessRule::Http2xxNoErrorCode => code.is_none_or(|c| c == json!(0)),
        SuccessRule::Http2xxErrorCodeZero => code == Some(json!(0)),
    }
}

impl Outbox {
    /// Set how long one delivery may take before it counts as "no answer".
    pub fn set_timeout_ms(&self, ms: u64) {
        self.timeout_ms.store(ms.max(1), Ordering::Relaxed);
    }

    /// Count a delivery the pump is about to spawn (called before spawning, under the runner lock).
    pub fn take_off(&self) {
        self.flights.fetch_add(1, Ordering::SeqCst);
    }

    /// A spawned delivery has finished.
    pub fn land(&self) {
        if self.flights.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.landed.notify_waiters();
        }
    }

    /// Wait until every spawned delivery has finished (each is bounded by the delivery timeout).
    pub async fn settle(&self) {
        loop {
            let landed = self.landed.notified();
            if self.flights.load(Ordering::SeqCst) == 0 {
                return;
            }
            landed.await;
        }
    }

    /// Milliseconds one delivery may take.
    pub fn timeout_ms(&self) -> u64 {
        self.timeout_ms.load(Ordering::Relaxed)
    }

    /// Accept a callback; it is attempted at once (when it heads its resources) or held without a URL.
    pub fn enqueue(
        &self,
        scheduler: &Scheduler,
        cb: NewCallback,
        policy: RetryPolicy,
        now_ms: i64,
    ) -> String {
        let mut book = self.book.lock();
        book.next += 1;
        let n = book.next;
        let id = format!("cb-{n:06}");
        let state = if cb.url.is_some() { CallbackState::Pending } else { CallbackState::Held };
        book.callbacks.insert(
            n,
            Callback {
                id: id.clone(),
                vendor: cb.vendor,
                owner: format!("{}:{}", cb.vendor, cb.tenant),
                resources: cb.resources,
                event: cb.event,
                url: cb.url,
                payload: cb.payload,
                signer: cb.signer,
                success: cb.success,
                policy,
                created_ms: now_ms,
                state,
                body: None,
                signed_url: None,
                signature: None,
                attempts: Vec::new(),
                attempts_dropped: 0,
                cycle_attempts: 0,
                next_attempt_ms: None,
                in_flight: false,
            },
        );
        book.refile(n);
        if let Some(c) = book.callbacks.get(&n) {
            self.announce(c);
        }
        if state == CallbackState::Pending && book.is_head(n) {
            if let Some(c) = book.callbacks.get_mut(&n) {
                c.next_attempt_ms = Some(now_ms);
            }
            scheduler.schedule(now_ms, Job::Delivery { callback_id: id.clone() });
        }
        book.prune(&self.caps, scheduler, now_ms);
        id
    }

    /// Make one delivery attempt of callback `id` due at `at_ms`; `None` if there was nothing to do. Its
    /// `expire_time` counts from `at_ms` under [`AuthClock::Virtual`], else from the later of `at_ms` and
    /// wall time, so a receiver that checks it against either clock accepts it.
    /// Returns the vendor and a description for the run report.
    pub async fn deliver(
        &self,
        scheduler: &Scheduler,
        ids: &IdSource,
        id: &str,
        at_ms: i64,
        auth_clock: AuthClock,
    ) -> Option<(Option<VendorKind>, String)> {
        let n = number_of(id)?;
        let wall_ms = crate::clock::wall_now_ms();
        let expire = AuthNow::new(auth_clock, at_ms, wall_ms).latest_s().saturating_add(SIGN_VALIDITY_S);
        let (vendor, success, url, body, signature) = {
            let mut book = self.book.lock();
            let head = book.is_head(n);
            let c = book.callbacks.get_mut(&n)?;
            if c.state != CallbackState::Pending || c.in_flight || c.next_attempt_ms.is_none_or(|t| t > at_ms)
            {
                return None;
            }
            if !head {
                // Blocked behind an earlier callback on a shared resource: it is scheduled again when that
                // one finishes (see `next_heads`).
                c.next_attempt_ms = None;
                return None;
            }
            let url = c.url.clone()?;
            c.in_flight = true;
            c.next_attempt_ms = None;
            let (signed_url, body, signature) = sign(c, &url, expire, ids);
            // Only what the attempt needs leaves the lock (not a copy of the whole callback and its history).
            (c.vendor, c.success, signed_url, body, signature)
        };
        let body_bytes = serde_json::to_vec(&body).unwrap_or_default();
        let started = std::time::Instant::now();
        // The path the request will ask for (`/` for a URL that does not parse: it cannot be delivered).
        let path = crate::codec::url_path(&url).unwrap_or_else(|| "/".into());
        let probe = Probe {
            target: FaultTarget::Callback,
            vendor: Some(vendor),
            method: "POST",
            path: &path,
            query: url.split_once('?').map_or("", |(_, q)| q),
            body: &body_bytes,
        };
        let fault = self.faults.take(&probe);
        let mut fault_id = None;
        // An answer (status, body), or why there was none that counts (with the status when one came).
        let mut result: Option<AttemptResult> = None;
        // A fault rule's latency is the receiver's, counted without waiting: an answer it delays to the
        // delivery timeout or later is no answer, whatever the machine's load (docs/decisions.md).
        let mut latency_ms = 0;
        if let Some((fid, action)) = fault {
            fault_id = Some(fid);
            latency_ms = action.latency_ms.unwrap_or(0);
            if action.drop {
                result = Some(Err((None, "connection dropped (fault rule)".into())));
            } else if let Some(status) = action.http_status {
                result = Some(Ok((status, action.body.clone().unwrap_or_default())));
            }
        }
        let result = match result {
            Some(r) => r,
            None => {
                // The semaphore is never closed; should it be, the delivery simply goes ahead.
                let _slot = self.slots.acquire().await.ok();
                let timeout = std::time::Duration::from_millis(self.timeout_ms.load(Ordering::Relaxed));
                let post = || {
                    self.client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body_bytes.clone())
                        .timeout(timeout)
                        .send()
                };
                let sent = match post().await {
                    // A kept-alive connection the receiver closed as this callback went out fails without
                    // an answer (neither a timeout nor a refused connection): it is sent again once, within
                    // the same attempt.
                    Err(e) if !e.is_timeout() && !e.is_connect() => {
                        tracing::debug!("callback {n}: {e}; sending it again");
                        post().await
                    }
                    other => other,
                };
                match sent {
                    Ok(resp) if resp.status().is_redirection() => {
                        // Redirects are not followed: a callback goes to the URL the account registered.
                        let status = resp.status().as_u16();
                        let to = resp
                            .headers()
                            .get(reqwest::header::LOCATION)
                            .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned())
                            .unwrap_or_default();
                        Err((Some(status), format!("HTTP {status}: redirect to `{to}` not followed")))
                    }
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        match tokio::time::timeout(timeout, read_answer(resp)).await {
                            Ok(Ok(b)) => Ok((status, body_text(&b[..b.len().min(RESPONSE_KEPT)]))),
                            Ok(Err(e)) => Err((Some(status), e)),
                            Err(_) => Err((
                                Some(status),
                                format!("no complete answer within {} ms", timeout.as_millis()),
                            )),
                        }
                    }
                    Err(e) if e.is_timeout() => {
                        Err((None, format!("no answer within {} ms", timeout.as_millis())))
                    }
                    Err(e) if e.is_connect() => {
                        Err((None, format!("connection refused or unreachable: {e}")))
                    }
                    Err(e) => Err((None, format!("request failed: {e}"))),
                }
            }
        };
        let timeout_ms = self.timeout_ms.load(Ordering::Relaxed);
        let result = match result {
            Ok(_) if latency_ms >= timeout_ms => Err((
                None,
                format!(
                    "no answer within {timeout_ms} ms (a fault rule delays the receiver's answer by {latency_ms} ms)"
                ),
            )),
            other => other,
        };
        let ok = matches!(&result, Ok((s, b)) if succeeded(success, *s, b));
        let mut book = self.book.lock();
        let c = book.callbacks.get_mut(&n)?;
        c.in_flight = false;
        c.cycle_attempts += 1;
        let made = c.attempts_dropped.saturating_add(c.attempts.len() as u64);
        let attempt_no = u32::try_from(made.saturating_add(1)).unwrap_or(u32::MAX);
        let outcome = if ok {
            Outcome::Delivered
        } else if c.cycle_attempts <= c.policy.retries {
            Outcome::Retry
        } else {
            Outcome::Failed
        };
        let (http_status, response, error) = match result {
            Ok((s, b)) => (Some(s), Some(b), None),
            Err((s, e)) => (s, None, Some(e)),
        };
        c.attempts.push(Attempt {
            n: attempt_no,
            virtual_time: at_ms.div_euclid(1000),
            virtual_ms: at_ms,
            wall_ms,
            url: url.clone(),
            body: body.clone(),
            http_status,
            response,
            error: error.clone(),
            fault: fault_id,
            // the real time taken, plus the fault's latency up to the timeout (where the vendor gives up)
            duration_ms: (started.elapsed().as_millis() as u64).saturating_add(latency_ms.min(timeout_ms)),
            outcome,
        });
        let kept = self.caps.limits.callback_attempts.max(1);
        if c.attempts.len() > kept {
            let extra = c.attempts.len() - kept;
            c.attempts.drain(..extra);
            c.attempts_dropped = c.attempts_dropped.saturating_add(extra as u64);
            self.caps.reached(Cap::CallbackAttempts, || {
                "the oldest attempts of a callback are dropped (and counted in attempts_dropped)".into()
            });
        }
        c.body = Some(body);
        c.signed_url = Some(url);
        c.signature = signature;
        let what = match (http_status, &error) {
            (_, Some(e)) => e.clone(),
            (Some(s), None) => format!("HTTP {s}"),
            (None, None) => String::new(),
        };
        let description =
            format!("callback {id} ({} {}) attempt {attempt_no}: {what} → {outcome:?}", c.vendor, c.event);
        let vendor = c.vendor;
        match outcome {
            Outcome::Retry => {
                let due = at_ms.saturating_add((c.policy.interval_s * 1000.0).round() as i64);
                c.next_attempt_ms = Some(due);
                scheduler.schedule(due, Job::Delivery { callback_id: id.to_string() });
            }
            Outcome::Delivered | Outcome::Failed => {
                c.state = if outcome == Outcome::Delivered {
                    CallbackState::Delivered
                } else {
                    CallbackState::Failed
                };
                book.refile(n);
                for next in book.next_heads(n) {
                    if let Some(nc) = book.callbacks.get_mut(&next) {
                        if nc.next_attempt_ms.is_none() && !nc.in_flight {
                            nc.next_attempt_ms = Some(at_ms);
                            scheduler.schedule(at_ms, Job::Delivery { callback_id: nc.id.clone() });
                        }
                    }
                }
            }
        }
        if let Some(c) = book.callbacks.get(&n) {
            self.announce(c);
        }
        if outcome == Outcome::Delivered {
            book.prune(&self.caps, scheduler, at_ms);
        }
        Some((Some(vendor), description))
    }

    /// Send a callback again: a new cycle of attempts, starting now.
    pub fn redeliver(&self, scheduler: &Scheduler, id: &str, now_ms: i64) -> Result<Callback, String> {
        let n = number_of(id).ok_or_else(|| format!("no callback `{id}`"))?;
        let mut book = self.book.lock();
        let c = book.callbacks.get_mut(&n).ok_or_else(|| format!("no callback `{id}`"))?;
        if c.url.is_none() {
            return Err(format!("callback {id} has no URL: register the account's callback URL first"));
        }
        if c.in_flight || (c.state == CallbackState::Pending && c.next_attempt_ms.is_some()) {
            return Err(format!("callback {id} is already being delivered"));
        }
        c.state = CallbackState::Pending;
        c.cycle_attempts = 0;
        book.refile(n);
        let head = book.is_head(n);
        let c = book.callbacks.get_mut(&n).ok_or_else(|| format!("no callback `{id}`"))?;
        if head {
            c.next_attempt_ms = Some(now_ms);
            scheduler.schedule(now_ms, Job::Delivery { callback_id: id.to_string() });
        }
        self.announce(c);
        Ok(c.clone())
    }

    /// Register (or change) the URL of an owner's callbacks: every undelivered one will go there, and held
    /// ones become pending and are sent.
    pub fn set_url(&self, scheduler: &Scheduler, owner: &str, url: &str, now_ms: i64) -> usize {
        let mut book = self.book.lock();
        let mut released = Vec::new();
        for (k, c) in book.callbacks.iter_mut() {
            // Every callback not yet delivered goes to the new URL (a failed one, when redelivered).
            if c.owner == owner && c.state != CallbackState::Delivered {
                c.url = Some(url.to_string());
                if c.state == CallbackState::Held {
                    c.state = CallbackState::Pending;
                    released.push(*k);
                }
            }
        }
        let heads: Vec<u64> = released.iter().copied().filter(|k| book.is_head(*k)).collect();
        for k in &heads {
            if let Some(c) = book.callbacks.get_mut(k) {
                c.next_attempt_ms = Some(now_ms);
                scheduler.schedule(now_ms, Job::Delivery { callback_id: c.id.clone() });
            }
        }
        released.len()
    }

    /// Callbacks matching `f`, oldest first (the log itself is bounded by the caps).
    pub fn list(&self, f: &CallbackFilter) -> Vec<Callback> {
        self.book.lock().callbacks.values().filter(|c| f.accepts(c)).cloned().collect()
    }

    /// A page of the callbacks matching `f`: at most `limit` of them past callback `cursor` (oldest
    /// first, or newest first), and the id to continue from when more may match. Costs the page and the
    /// callbacks passed over, not the whole log.
    pub fn page(
        &self,
        f: &CallbackFilter,
        cursor: Option<&str>,
        limit: usize,
        newest_first: bool,
    ) -> (Vec<Callback>, Option<String>) {
        let after = cursor.and_then(number_of);
        let b = self.book.lock();
        let range: Box<dyn Iterator<Item = &Callback>> = match (newest_first, after) {
            (false, Some(n)) => Box::new(
                b.callbacks.range((std::ops::Bound::Excluded(n), std::ops::Bound::Unbounded)).map(|(_, c)| c),
            ),
            (false, None) => Box::new(b.callbacks.values()),
            (true, Some(n)) => Box::new(b.callbacks.range(..n).rev().map(|(_, c)| c)),
            (true, None) => Box::new(b.callbacks.values().rev()),
        };
        let mut page: Vec<Callback> =
            range.filter(|c| f.accepts(c)).take(limit.saturating_add(1)).cloned().collect();
        let more = page.len() > limit;
        page.truncate(limit);
        let next = if more { page.last().map(|c| c.id.clone()) } else { None };
        (page, next)
    }

    /// How many callbacks each owner has in each state.
    pub fn tally_by_owner(&self) -> BTreeMap<(String, &'static str), usize> {
        let mut out = BTreeMap::new();
        for c in self.book.lock().callbacks.values() {
            *out.entry((c.owner.clone(), c.state.as_str())).or_insert(0) += 1;
        }
        out
    }

    /// Callbacks evicted from the log since the last reset.
    pub fn evicted(&self) -> Evicted {
        self.book.lock().evicted
    }

    /// One callback.
    pub fn get(&self, id: &str) -> Option<Callback> {
        self.book.lock().callbacks.get(&number_of(id)?).cloned()
    }

    /// Forget every callback (and the count of evicted ones).
    pub fn clear(&self) {
        let mut b = self.book.lock();
        let old = std::mem::take(&mut b.callbacks);
        b.evicted = Evicted::default();
        b.reindex();
        drop(b);
        drop(old);
    }

    /// Forget every callback of an owner (`<vendor>:<tenant>`).
    pub fn remove_owner(&self, owner: &str) {
        let mut b = self.book.lock();
        b.callbacks.retain(|_, c| c.owner != owner);
        b.reindex();
    }

    /// Write the outbox, for a dump (copied under the lock, written after it).
    pub fn write_state(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        let b = self.book.lock();
        let state = OutboxState {
            next: b.next,
            callbacks: b.callbacks.values().cloned().collect(),
            evicted: b.evicted,
        };
        drop(b);
        serde_json::to_writer(w, &state).map_err(std::io::Error::other)
    }

    fn parse_state(v: &Value) -> Result<OutboxState, String> {
        if v.is_null() {
            return Ok(OutboxState::default());
        }
        let s: OutboxState =
            serde_path_to_error::deserialize(v).map_err(|e| format!("{} (at {})", e.inner(), e.path()))?;
        for c in &s.callbacks {
            if number_of(&c.id).is_none() {
                return Err(format!("callback id `{}` is not `cb-<n>`", c.id));
            }
            c.policy.check().map_err(|e| format!("callback {}: policy {e}", c.id))?;
        }
        Ok(s)
    }

    /// Check a dump's outbox part.
    pub fn check_state(&self, v: &Value) -> Result<(), String> {
        Self::parse_state(v).map(|_| ())
    }

    /// Replace the outbox with a dump's. Attempts that were under way when the dump was taken are due
    /// again at once; every pending head gets a delivery job (duplicates of dumped jobs are harmless).
    pub fn restore(&self, v: &Value, scheduler: &Scheduler, now_ms: i64) -> Result<(), String> {
        let s = Self::parse_state(v)?;
        let kept = self.caps.limits.callback_attempts.max(1);
        let mut callbacks = s.callbacks;
        for c in &mut callbacks {
            if c.attempts.len() > kept {
                let extra = c.attempts.len() - kept;
                c.attempts.drain(..extra);
                c.attempts_dropped = c.attempts_dropped.saturating_add(extra as u64);
            }
        }
        let mut book = self.book.lock();
        book.callbacks = callbacks.into_iter().filter_map(|c| number_of(&c.id).map(|n| (n, c))).collect();
        book.next = s.next.max(book.callbacks.keys().next_back().copied().unwrap_or(0));
        book.evicted = s.evicted;
        book.reindex();
        // A dump of a server with larger caps is cut to this one's.
        book.prune(&self.caps, scheduler, now_ms);
        let heads: Vec<u64> = book
            .callbacks
            .iter()
            .filter(|(_, c)| c.state == CallbackState::Pending)
            .map(|(k, _)| *k)
            .filter(|k| book.is_head(*k))
            .collect();
        for k in heads {
            if let Some(c) = book.callbacks.get_mut(&k) {
                let due = *c.next_attempt_ms.get_or_insert(now_ms);
                scheduler.schedule(due, Job::Delivery { callback_id: c.id.clone() });
            }
        }
        Ok(())
    }

    /// Number of callbacks held.
    pub fn len(&self) -> usize {
        self.book.lock().callbacks.len()
    }

    /// How many callbacks each vendor has in each state (only pairs that occur), and how many delivered
    /// and how many other ones are kept (at most `--callbacks-delivered` and `--callbacks-undelivered`):
    /// one pass under the outbox's lock.
    pub fn tally(&self) -> (BTreeMap<(VendorKind, CallbackState), u64>, usize, usize) {
        let book = self.book.lock();
        let mut counts = BTreeMap::new();
        for c in book.callbacks.values() {
            *counts.entry((c.vendor, c.state)).or_default() += 1;
        }
        (counts, book.delivered.len(), book.undelivered.len())
    }

    /// Deliveries under way now (at most [`MAX_IN_FLIGHT`]).
    pub fn in_flight(&self) -> usize {
        MAX_IN_FLIGHT.saturating_sub(self.slots.available_permits())
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_rules() {
        assert!(succeeded(SuccessRule::Http2xxNoErrorCode, 200, ""));
        assert!(succeeded(SuccessRule::Http2xxNoErrorCode, 204, r#"{"error_code":0}"#));
        assert!(!succeeded(SuccessRule::Http2xxNoErrorCode, 200, r#"{"error_code":1}"#));
        assert!(!succeeded(SuccessRule::Http2xxNoErrorCode, 500, ""));
        assert!(!succeeded(SuccessRule::Http2xxErrorCodeZero, 200, ""));
        assert!(!succeeded(SuccessRule::Http2xxErrorCodeZero, 200, "garbage"));
        assert!(succeeded(SuccessRule::Http2xxErrorCodeZero, 200, r#"{"error_code":0}"#));
    }

    #[test]
    fn signs_as_the_vendors_document() {
        let ids = IdSource::new(1);
        let mut cb = Callback {
            id: "cb-000001".into(),
            vendor: VendorKind::new(4, "iclass"),
            owner: "iclass:1".into(),
            resources: vec![],
            event: "class_begin".into(),
            url: None,
            payload: json!({"event": "class_begin", "data": {}}),
            signer: Signer::UrlMd5 {
                key: "DzXpbluRsmo1JkoFxzKMNg5ifrA4GRlU".into(),
                sdkappid: 1_400_127_140,
            },
            success: SuccessRule::Http2xxErrorCodeZero,
            policy: RetryPolicy::default(),
            created_ms: 0,
            state: CallbackState::Pending,
            body: None,
            signed_url: None,
            signature: None,
            attempts: vec![],
            attempts_dropped: 0,
            cycle_attempts: 0,
            next_attempt_ms: None,
            in_flight: false,
        };
        // expire_time = 1548247537 + 300 = 1548247837, the seed's worked example.
        let expire = AuthNow::new(AuthClock::Virtual, 1_548_247_537_000, 0).latest_s() + SIGN_VALIDITY_S;
        let (url, body, s) = sign(&cb, "http://x/cb", expire, &ids);
        assert_eq!(s.as_deref(), Some("28374bd8cff400ac4906414780fbe387"));
        assert_eq!(body["expire_time"], 1_548_247_837);
        assert!(url.starts_with("http://x/cb?sdkappid=1400127140&random="), "{url}");
        assert!(url.ends_with("&expire_time=1548247837&sign=28374bd8cff400ac4906414780fbe387"), "{url}");
        // Receivers of either revision verify it: the URL's expire_time, or the body's.
        let query: BTreeMap<String, String> =
            crate::codec::form_pairs(url.split_once('?').unwrap().1).into_iter().collect();
        assert_eq!(cb.signer.verify(&query, &body), Ok(()));
        let mut url_only = body.clone();
        url_only.as_object_mut().unwrap().remove("expire_time");
        assert_eq!(cb.signer.verify(&query, &url_only), Ok(()));
        let mut body_only = query.clone();
        body_only.remove("expire_time");
        assert_eq!(cb.signer.verify(&body_only, &body), Ok(()));
        let mut differ = body.clone();
        differ["expire_time"] = json!(1);
        assert!(cb.signer.verify(&query, &differ).is_err());
        cb.signer = Signer::BodyMd5 { key: "DzXpbluRsmo1JkoFxzKMNg5ifrA4GRlU".into() };
        let (url, body, _) = sign(&cb, "http://x/cb", expire, &ids);
        assert_eq!(url, "http://x/cb");
        assert_eq!(body["sign"], "28374bd8cff400ac4906414780fbe387");
        // Under `either` the later clock counts.
        let either = AuthNow::new(AuthClock::Either, 1_000_000, 5_000_000);
        assert_eq!(either.latest_s() + SIGN_VALIDITY_S, 5_300);
    }
}
