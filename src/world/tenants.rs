//! One lock per tenant.
//!
//! Every check-then-act of a vendor (is this room already recording? is this user id taken?) runs under
//! its tenant's lock, held exclusively, in one short synchronous critical section, so concurrent duplicates
//! yield exactly one success. Answers that only read (lists, info, authentication) hold it shared, so they
//! run side by side instead of queueing behind each other's serialisation. Handlers never `.await` while
//! holding it: they are synchronous functions.

use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use serde::{de::DeserializeOwned, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Parse a vendor's dump section `{"<key>": {<tenant id>: <state>}}` (null: no tenants); anything else is
/// an error naming its path.
pub fn parse_dump<S: DeserializeOwned>(
    state: &serde_json::Value,
    key: &str,
) -> Result<BTreeMap<String, S>, String> {
    let map = match state {
        serde_json::Value::Null => return Ok(BTreeMap::new()),
        serde_json::Value::Object(m) => m,
        _ => return Err("expected an object".into()),
    };
    if let Some(k) = map.keys().find(|k| k.as_str() != key) {
        return Err(format!("unknown key `{k}` (expected `{key}`)"));
    }
    match map.get(key) {
        None => Ok(BTreeMap::new()),
        Some(v) => {
            serde_path_to_error::deserialize(v).map_err(|e| format!("{} (at {key}.{})", e.inner(), e.path()))
        }
    }
}

/// A tenant's state behind its one lock.
#[derive(Debug, Default)]
pub struct TenantLock<S>(RwLock<S>);

impl<S> TenantLock<S> {
    /// `state` behind a lock.
    pub fn new(state: S) -> Self {
        TenantLock(RwLock::new(state))
    }

    /// Exclusive access: for anything that changes the tenant (or must not interleave with a change).
    pub fn lock(&self) -> RwLockWriteGuard<'_, S> {
        self.0.write()
    }

    /// Shared access: for answers that only read.
    pub fn read(&self) -> RwLockReadGuard<'_, S> {
        self.0.read()
    }
}

/// A vendor's tenants (accounts), each behind its own lock.
#[derive(Debug)]
pub struct Tenants<S> {
    map: RwLock<BTreeMap<String, Arc<TenantLock<S>>>>,
}

impl<S> Default for Tenants<S> {
    fn default() -> Self {
        Tenants { map: RwLock::new(BTreeMap::new()) }
    }
}

impl<S: Clone + Serialize + DeserializeOwned> Tenants<S> {
    /// The tenant named `id`.
    pub fn get(&self, id: &str) -> Option<Arc<TenantLock<S>>> {
        self.map.read().get(id).cloned()
    }

    /// Run `f` under the tenant's lock, exclusively.
    pub fn with<R>(&self, id: &str, f: impl FnOnce(&mut S) -> R) -> Option<R> {
        // The map stays read-locked (recursively: `f` may look up another tenant even while a writer
        // waits) instead of cloning the tenant's `Arc`: two fewer atomic writes to a line every worker
        // thread shares, per call.
        let map = self.map.read_recursive();
        let mut guard = map.get(id)?.lock();
        Some(f(&mut guard))
    }

    /// Run `f` under the tenant's lock, shared with other readers.
    pub fn read<R>(&self, id: &str, f: impl FnOnce(&S) -> R) -> Option<R> {
        let map = self.map.read_recursive();
        let guard = map.get(id)?.read();
        Some(f(&guard))
    }

    /// Add a tenant; false if the id is taken.
    pub fn insert(&self, id: &str, state: S) -> bool {
        let mut m = self.map.write();
        if m.contains_key(id) {
            return false;
        }
        m.insert(id.to_string(), Arc::new(TenantLock::new(state)));
        true
    }

    /// Remove a tenant.
    pub fn remove(&self, id: &str) -> bool {
        self.map.write().remove(id).is_some()
    }

    /// Every tenant id, sorted.
    pub fn ids(&self) -> Vec<String> {
        self.map.read().keys().cloned().collect()
    }

    /// Every tenant handle, sorted by id.
    pub fn all(&self) -> Vec<(String, Arc<TenantLock<S>>)> {
        self.map.read().iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// Remove every tenant, or only `tenant`.
    pub fn reset(&self, tenant: Option<&str>) {
        match tenant {
            None => self.clear(),
            Some(t) => {
                self.remove(t);
            }
        }
    }

    /// Remove every tenant.
    pub fn clear(&self) {
        self.map.write().clear();
    }

    /// A copy of every tenant's state, for a dump.
    pub fn snapshot(&self) -> BTreeMap<String, S> {
        self.all().into_iter().map(|(k, v)| (k, v.read().clone())).collect()
    }

    /// Replace every tenant with a dump's.
    pub fn restore(&self, states: BTreeMap<String, S>) {
        *self.map.write() = states.into_iter().map(|(k, v)| (k, Arc::new(TenantLock::new(v)))).collect();
    }
}
