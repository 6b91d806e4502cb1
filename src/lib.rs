//! recmock: a local emulator of five vendors' cloud-recording and live-classroom APIs.
//!
//! One server answers all five vendors on one port, keeps a faithful in-memory world behind them, runs
//! it on a virtual clock the user controls, and calls the user's callback URLs as the vendors would.
//! `docs/architecture.md` draws the layers these modules form.
//!
//! Tests start it on an ephemeral port and talk HTTP to it:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use recmock::{Application, Config};
//! let app = Application::build(Config { port: 0, frozen_clock: true, ..Config::default() })?;
//! let url = app.url().to_string();
//! tokio::spawn(app.run_until_stopped());
//! let health = reqwest::get(format!("{url}/__admin/health")).await?.text().await?;
//! assert!(health.contains("ok"));
//! # Ok(()) }
//! ```

// leaves
pub mod checks;
pub mod clock;
pub mod codec;
pub mod durable;
pub mod ids;
pub mod limits;
pub mod media;
pub mod tlssig;
pub mod vendor_kind;
pub mod wire;
// platform
pub mod faults;
pub mod feed;
pub mod files;
pub mod index;
pub mod journal;
pub mod recording;
pub mod scheduler;
pub mod tenants;
// the outbox, the kernel, the front door
pub mod http;
pub mod outbox;
pub mod world;
// the vendors
pub mod vendors;
// the application
pub mod app;
pub mod config;
pub mod fixture;
// the control plane, the scenario runner, the server
pub mod admin;
pub mod scenario;
pub mod server;

pub use app::{Emulator, StartError};
pub use config::{AdminConfig, Config, TlsCertificate, TlsConfig};
pub use fixture::{FixtureError, FixtureSource};
pub use http::{cors, tls};
pub use limits::Limits;
pub use server::{Application, TlsInfo};
pub use vendor_kind::VendorKind;

/// The crate version, as `/__admin/health` reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
