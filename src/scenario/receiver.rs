//! The callback receiver a scenario run starts: an HTTP server on `127.0.0.1:<free port>` that records
//! every request and answers `200 {"error_code":0}` (what 000 and 004 count as accepted), unless a
//! `receiver` step told it to answer otherwise.

use actix_web::{web, HttpRequest, HttpResponse};
use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// One answer of the receiver: HTTP status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status
    pub status: u16,
    /// body (sent as `application/json`)
    pub body: String,
}

impl Default for Answer {
    /// `200 {"error_code":0}`.
    fn default() -> Self {
        Answer { status: 200, body: r#"{"error_code":0}"#.into() }
    }
}

#[derive(Debug, Default)]
struct Script {
    /// answers for the next requests, in order, each with how many requests it answers (a `times` of four
    /// billion is one entry, not four billion)
    next: VecDeque<(Answer, u32)>,
    /// the answer once `next` is empty
    otherwise: Answer,
}

impl Script {
    /// The answer to the next request.
    fn take(&mut self) -> Answer {
        match self.next.front_mut() {
            Some((a, n)) if *n > 1 => {
                *n -= 1;
                a.clone()
            }
            Some(_) => self.next.pop_front().map_or_else(|| self.otherwise.clone(), |(a, _)| a),
            None => self.otherwise.clone(),
        }
    }
}

/// A running receiver.
pub struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Value>>>,
    script: Arc<Mutex<Script>>,
    handle: actix_web::dev::ServerHandle,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver").field("url", &self.url).finish()
    }
}

/// Which vendor sent a callback, from its shape (each vendor's client side knows its own).
fn vendor_of(query: &BTreeMap<String, String>, body: &Value) -> &'static str {
    crate::vendors::clients()
        .into_iter()
        .find(|(_, c)| c.sent_callback(query, body))
        .map_or("unknown", |(k, _)| k.as_str())
}

/// One received request as the JSON a scenario matches on:
/// `{vendor, method, path, query: {..}, headers: {..}, body, raw}`.
fn record(req: &HttpRequest, body: &[u8]) -> Value {
    let query: BTreeMap<String, String> =
        web::Query::<BTreeMap<String, String>>::from_query(req.query_string())
            .map(|q| q.0)
            .unwrap_or_default();
    let raw = String::from_utf8_lossy(body).into_owned();
    let parsed = serde_json::from_str::<Value>(&raw).unwrap_or(Value::Null);
    let mut headers = Map::new();
    for (k, v) in req.headers() {
        headers.insert(k.as_str().to_ascii_lowercase(), json!(String::from_utf8_lossy(v.as_bytes())));
    }
    json!({
        "vendor": vendor_of(&query, &parsed),
        "method": req.method().as_str(),
        "path": req.path(),
        "query": query,
        "headers": headers,
        "body": parsed,
        "raw": raw,
    })
}

impl Receiver {
    /// Start one; it answers until [`Receiver::stop`].
    pub fn start() -> std::io::Result<Receiver> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let got: Arc<Mutex<Vec<Value>>> = Arc::default();
        let script: Arc<Mutex<Script>> = Arc::default();
        let (sink, plan) = (got.clone(), script.clone());
        let server = actix_web::HttpServer::new(move || {
            let (sink, plan) = (sink.clone(), plan.clone());
            actix_web::App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (sink, plan) = (sink.clone(), plan.clone());
                async move {
                    let r = record(&req, &body);
                    sink.lock().push(r);
                    let answer = { plan.lock().take() };
                    let status = actix_web::http::StatusCode::from_u16(answer.status)
                        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
                    HttpResponse::build(status).content_type("application/json").body(answer.body)
                }
            }))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Receiver { url: format!("http://127.0.0.1:{port}/cb"), got, script, handle })
    }

    /// Answer the next `times` requests with `answer`, or every request from now on when `times` is `None`
    /// (this also drops answers scripted before).
    pub fn answer(&self, answer: Answer, times: Option<u32>) {
        let mut p = self.script.lock();
        match times {
            Some(0) => {}
            Some(n) => p.next.push_back((answer, n)),
            None => {
                p.next.clear();
                p.otherwise = answer;
            }
        }
    }

    /// `http://127.0.0.1:<port>/cb`: what `${receiver}` stands for.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Everything received so far, in arrival order.
    pub fn received(&self) -> Vec<Value> {
        self.got.lock().clone()
    }

    /// Stop answering.
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scripted_answer_answers_its_times_then_the_default_takes_over() {
        let mut s = Script::default();
        let busy = Answer { status: 503, body: "busy".into() };
        s.next.push_back((busy.clone(), u32::MAX));
        assert_eq!(s.next.len(), 1, "four billion answers take one entry");
        assert_eq!(s.take(), busy);
        assert_eq!(s.next.front().map(|(_, n)| *n), Some(u32::MAX - 1));
        s.next.clear();
        s.next.push_back((busy.clone(), 2));
        assert_eq!((s.take(), s.take(), s.take()), (busy.clone(), busy, Answer::default()));
    }
}
