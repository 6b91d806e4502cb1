//! The HTTP front door: how requests reach the vendors and answers leave them.
//!
//! [`FrontDoor`] holds what belongs to the wire rather than to the simulation: the request journal, the
//! fault rules that shape answers, the route table, the body limit and the public URL. Every vendor
//! endpoint is registered with [`routes::endpoint`] and runs through [`exchange::serve`]; CORS ([`cors`])
//! and TLS ([`tls`]) wrap the listeners; [`download`] serves recorded files; [`ws`] runs WebSocket endpoints
//! (sockets, their bounded queues, their journal entries). [`metrics`] counts requests by route pattern
//! and status, with latencies, on the same path (atomics only).

pub mod cors;
pub mod download;
pub mod exchange;
pub mod metrics;
pub mod routes;
pub mod tls;
pub mod ws;

pub use exchange::{request_base, serve, Doorway, Envelope, Exchange, Reply};
pub use routes::{endpoint, RouteBook};

use crate::faults::Faults;
use crate::feed::Change;
use crate::files::StoredFile;
use crate::journal::{Journal, NewEntry};
use crate::world::World;
use parking_lot::RwLock;
use std::sync::Arc;

/// The front door's state, shared by every listener and worker.
#[derive(Debug)]
pub struct FrontDoor {
    /// the world behind the door (its clock stamps every request)
    pub world: Arc<World>,
    /// the request journal
    pub journal: Journal,
    /// fault rules (shared with the outbox, which applies the callback ones)
    pub faults: Arc<Faults>,
    /// every route the server registered (for `GET /__admin/routes`)
    pub routes: RouteBook,
    /// largest request body accepted, in bytes
    pub max_body_bytes: usize,
    /// the open WebSockets (closed when the server stops)
    pub sockets: ws::Sockets,
    public_url: RwLock<String>,
    given_public_url: std::sync::OnceLock<String>,
}

impl FrontDoor {
    /// A front door to `world` journaling requests within the world's caps (`--journal-size`,
    /// `--journal-bytes`), applying `faults`, refusing bodies over `max_body_bytes`, handing out URLs under
    /// `public_url` until requests say otherwise.
    pub fn new(world: Arc<World>, faults: Arc<Faults>, max_body_bytes: usize, public_url: String) -> Self {
        FrontDoor {
            journal: Journal::new(world.caps.clone()),
            world,
            faults,
            routes: RouteBook::default(),
            max_body_bytes,
            sockets: ws::Sockets::default(),
            public_url: RwLock::new(public_url.trim_end_matches('/').to_string()),
            given_public_url: std::sync::OnceLock::new(),
        }
    }

    /// Base URL of everything recmock hands out outside a request (callbacks, jobs).
    pub fn public_url(&self) -> String {
        self.public_url.read().clone()
    }

    /// Set the base URL (once the listening port is known).
    pub fn set_public_url(&self, url: &str) {
        *self.public_url.write() = url.trim_end_matches('/').to_string();
    }

    /// Fix the base of every URL made outside a request (`--public-url`): callbacks, values jobs store, and
    /// answers to a request that names no host (answers follow the host each request came in on). Only the
    /// first call counts.
    pub fn give_public_url(&self, url: &str) {
        let url = url.trim_end_matches('/').to_string();
        self.set_public_url(&url);
        let _ = self.given_public_url.set(url);
    }

    /// `--public-url`, when it was given.
    pub fn given_public_url(&self) -> Option<&str> {
        self.given_public_url.get().map(String::as_str)
    }

    /// The download URL of a stored file under the public URL: for what no request asked for (callbacks,
    /// state built by jobs). An answer to a request uses [`Exchange::file_url`] instead.
    pub fn file_url(&self, f: &StoredFile) -> String {
        crate::files::file_url_at(&self.public_url(), f)
    }

    /// Record an answered request in the journal and tell the change feed.
    pub fn record(&self, entry: &NewEntry<'_>) {
        if let Some(id) = self.journal.record(entry) {
            self.world.feed.publish(|| Change::Request { id, vendor: entry.vendor });
        }
    }
}
