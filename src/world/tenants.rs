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

/// A tenant's state behind its one lock, and what of it never changes (its key), readable without it.
#[derive(Debug, Default)]
pub struct TenantLock<S> {
    state: RwLock<S>,
    fixed: Box<str>,
}

/// How many times a thread that finds the tenant's lock taken checks again (a `pause` between checks)
/// before it blocks: about 10–20 µs, several times the longest usual critical section. Critical sections
/// never block and last a microsecond or two, so the holder is almost always running on another core and
/// lets go soon; `parking_lot` alone would spin a few hundred nanoseconds and then `sched_yield`, which on
/// a machine with as many busy threads as cores hands the core to another process and back (two context
/// switches per collision: with two workers creating in one account, ~10% of requests).
const SPINS_BEFORE_BLOCKING: u32 = 1_000;

impl<S> TenantLock<S> {
    /// `state` behind a lock (nothing fixed beside it).
    pub fn new(state: S) -> Self {
        TenantLock { state: RwLock::new(state), fixed: Box::default() }
    }

    fn with_fixed(state: S, fixed_of: fn(&S) -> Box<str>) -> Self {
        TenantLock { fixed: fixed_of(&state), state: RwLock::new(state) }
    }

    /// Exclusive access: for anything that changes the tenant (or must not interleave with a change).
    pub fn lock(&self) -> RwLockWriteGuard<'_, S> {
        spin_then_block(|| self.state.try_write(), || self.state.is_locked(), || self.state.write())
    }

    /// Shared access: for answers that only read.
    pub fn read(&self) -> RwLockReadGuard<'_, S> {
        spin_then_block(|| self.state.try_read(), || self.state.is_locked_exclusive(), || self.state.read())
    }
}

/// Take a lock: `try_take` it; while it is `busy`, watch it with plain loads (no writes to the lock's line)
/// and try again when it looks free; after [`SPINS_BEFORE_BLOCKING`] checks, `block` for it.
fn spin_then_block<G>(
    try_take: impl Fn() -> Option<G>,
    busy: impl Fn() -> bool,
    block: impl FnOnce() -> G,
) -> G {
    let mut spins = 0;
    loop {
        if let Some(guard) = try_take() {
            return guard;
        }
        while busy() && spins < SPINS_BEFORE_BLOCKING {
            std::hint::spin_loop();
            spins += 1;
        }
        if spins >= SPINS_BEFORE_BLOCKING {
            return block();
        }
    }
}

/// A vendor's tenants (accounts), each behind its own lock.
pub struct Tenants<S> {
    map: RwLock<BTreeMap<String, Arc<TenantLock<S>>>>,
    /// what of a tenant's state never changes, kept beside its lock (see [`Tenants::with_fixed`])
    fixed_of: fn(&S) -> Box<str>,
}

impl<S> std::fmt::Debug for Tenants<S>
where
    S: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenants").field("map", &self.map).finish_non_exhaustive()
    }
}

impl<S> Default for Tenants<S> {
    fn default() -> Self {
        Tenants { map: RwLock::new(BTreeMap::new()), fixed_of: |_| Box::default() }
    }
}

impl<S> Tenants<S> {
    /// No tenants yet; each tenant added keeps `fixed_of(state)` beside its lock, read by
    /// [`Tenants::fixed`] without taking the lock. For what never changes once a tenant exists (the key
    /// its requests are signed with): authentication then never waits behind another request's change.
    pub fn with_fixed(fixed_of: fn(&S) -> Box<str>) -> Self {
        Tenants { map: RwLock::new(BTreeMap::new()), fixed_of }
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

    /// Run `f` on what is fixed of the tenant (see [`Tenants::with_fixed`]), without its lock.
    pub fn fixed<R>(&self, id: &str, f: impl FnOnce(&str) -> R) -> Option<R> {
        let map = self.map.read_recursive();
        Some(f(&map.get(id)?.fixed))
    }

    /// Add a tenant; false if the id is taken.
    pub fn insert(&self, id: &str, state: S) -> bool {
        let mut m = self.map.write();
        if m.contains_key(id) {
            return false;
        }
        m.insert(id.to_string(), Arc::new(TenantLock::with_fixed(state, self.fixed_of)));
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
        let fixed_of = self.fixed_of;
        *self.map.write() =
            states.into_iter().map(|(k, v)| (k, Arc::new(TenantLock::with_fixed(v, fixed_of)))).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_serialises_writers_across_threads() {
        // Many short critical sections from several threads, as two workers creating in one account:
        // whether a thread spins or blocks, no increment is lost and readers never see a torn pair.
        let t = Arc::new(TenantLock::new((0u64, 0u64)));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let t = t.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        if i % 4 == 0 {
                            let g = t.read();
                            assert_eq!(g.0, g.1);
                        } else {
                            let mut g = t.lock();
                            g.0 += 1;
                            g.1 += 1;
                        }
                    }
                })
            })
            .collect();
        for th in threads {
            assert!(th.join().is_ok());
        }
        assert_eq!(*t.read(), (60_000, 60_000));
    }

    #[test]
    fn the_fixed_part_is_read_without_the_lock_and_follows_restores() {
        let tenants: Tenants<String> = Tenants::with_fixed(|s| format!("key-of-{s}").into());
        assert!(tenants.insert("a", "alpha".into()));
        let handle = tenants.get("a");
        let held = handle.as_ref().map(|t| t.lock());
        // The state is locked exclusively, and the fixed part is still there to read.
        assert_eq!(tenants.fixed("a", str::to_string).as_deref(), Some("key-of-alpha"));
        drop(held);
        assert_eq!(tenants.fixed("b", |_| ()), None);
        tenants.restore(BTreeMap::from([("b".to_string(), "beta".to_string())]));
        assert_eq!(tenants.fixed("b", str::to_string).as_deref(), Some("key-of-beta"));
        assert_eq!(tenants.fixed("a", |_| ()), None);
        let plain: Tenants<String> = Tenants::default();
        assert!(plain.insert("a", "alpha".into()));
        assert_eq!(plain.fixed("a", str::to_string).as_deref(), Some(""));
    }
}
