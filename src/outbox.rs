//! Callbacks to the user's URLs. (Filled in by the outbox work of issue #3; this holds its place in the
//! world and in state dumps.)

use crate::world::{VendorKind, World};
use serde_json::Value;

/// The callback outbox.
#[derive(Debug, Default)]
pub struct Outbox {}

impl Outbox {
    /// Forget every callback.
    pub fn clear(&self) {}

    /// Forget every callback of an owner (`<vendor>:<tenant>`).
    pub fn remove_owner(&self, _owner: &str) {}

    /// The outbox, for a dump.
    pub fn state(&self) -> Value {
        serde_json::json!({ "callbacks": [] })
    }

    /// Check a dump's outbox part.
    pub fn check_state(&self, _v: &Value) -> Result<(), String> {
        Ok(())
    }

    /// Replace the outbox with a dump's.
    pub fn restore(&self, _v: &Value) -> Result<(), String> {
        Ok(())
    }

    /// Make one delivery attempt of callback `id`.
    pub async fn deliver(
        &self,
        _world: &World,
        _id: &str,
        _at_ms: i64,
    ) -> Option<(Option<VendorKind>, String)> {
        None
    }
}
