//! The five vendor modules: each owns its dialect (paths, wire types, auth, error table, fixture section,
//! world events) and nothing else. They share behaviour only through [`crate::world`].

pub mod cloud_record;
pub mod iclass;
pub mod ilvb_edu;
pub mod live_sdk;
pub mod meeting;

use crate::fixture::FixtureError;
use crate::http::Dialect;
use crate::world::World;
use actix_web::web;
use serde_json::Value;
use std::sync::Arc;

/// What one run of a scheduled vendor job did, for the `clock/advance` report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JobReport {
    /// a short description in the vendor's words (`record 2026..._10001: status 3 → 4`)
    pub description: String,
}

/// A vendor module, as the application and the control plane see it.
pub trait Vendor: Dialect + Send + Sync + 'static {
    /// Register the vendor's routes.
    fn routes(self: Arc<Self>, cfg: &mut web::ServiceConfig);

    /// Check a fixture section on its own (shape, ranges, references inside the section).
    fn check_section(&self, section: &Value, path: &str, errors: &mut Vec<FixtureError>);

    /// Load a checked fixture section into the world, or only the part for tenant `only`.
    /// With `dry_run`, only report conflicts with the current world (e.g. an account that exists).
    /// Returns the tenant ids it loaded.
    fn load_section(
        &self,
        section: &Value,
        path: &str,
        only: Option<&str>,
        dry_run: bool,
    ) -> Result<Vec<String>, Vec<FixtureError>>;

    /// Check a world event of this vendor (`name` is the part after `<vendor>.`), without applying it.
    fn check_event(&self, name: &str, event: &Value) -> Result<(), String>;

    /// Apply a world event at `at_ms`; returns a description of what changed.
    fn apply_event(&self, name: &str, event: &Value, at_ms: i64) -> Result<Value, String>;

    /// Run a scheduled job of this vendor.
    fn run_job(&self, tenant: &str, task: &str, target: &str, due_ms: i64) -> Option<JobReport>;

    /// Ids of every tenant (account) of this vendor.
    fn tenant_ids(&self) -> Vec<String>;

    /// Forget every tenant, or only `tenant`.
    fn reset(&self, tenant: Option<&str>);

    /// The vendor's whole state, for a dump.
    fn dump(&self) -> Value;

    /// Check a dump's section of this vendor without changing anything.
    fn check_state(&self, state: &Value) -> Result<(), String>;

    /// Replace the vendor's state with a dump's (checked with [`Vendor::check_state`] first).
    fn restore(&self, state: &Value) -> Result<(), String>;

    /// Register the callback URL of tenant `tenant` (`POST /__admin/callbacks/url`).
    fn set_callback_url(&self, tenant: &str, _url: &str) -> Result<(), String> {
        Err(format!("{}:{tenant}: this vendor sends no callbacks", self.kind()))
    }

    /// Bulk-create entities in tenant `tenant` at `at_ms` (`POST /__admin/seed`): a large account for load
    /// and scale tests without a million API calls. `spec` is the request body (its `tenant` key included);
    /// each vendor documents what it seeds. Returns what was created.
    fn seed(&self, tenant: &str, _spec: &Value, _at_ms: i64) -> Result<Value, String> {
        Err(format!("{}:{tenant}: this vendor has no bulk seeding", self.kind()))
    }

    /// Lines for the startup banner: credentials of each tenant.
    fn banner(&self) -> Vec<String>;

    /// A ready-to-paste curl against this vendor, if it has a tenant.
    fn example_curl(&self, base_url: &str) -> Option<String>;
}

/// Most entities one `POST /__admin/seed` call creates.
pub const MAX_SEED: u64 = 2_000_000;

/// Every implemented vendor module, built on one world.
pub fn all(world: &Arc<World>) -> Vec<Arc<dyn Vendor>> {
    vec![
        Arc::new(ilvb_edu::IlvbEdu::new(world.clone())),
        Arc::new(cloud_record::CloudRecord::new(world.clone())),
        Arc::new(live_sdk::LiveSdk::new(world.clone())),
        Arc::new(meeting::Meeting::new(world.clone())),
        Arc::new(iclass::Iclass::new(world.clone())),
    ]
}
