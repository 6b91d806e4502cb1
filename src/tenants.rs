//! One lock per tenant.
//!
//! Every check-then-act of a vendor (is this room already recording? is this user id taken?) runs under
//! its tenant's lock, held exclusively, in one short synchronous critical section, so concurrent duplicates
//! yield exactly one success. Answers that only read (lists, info, authentication) hold it shared, so they
//! run side by side instead of queueing behind each other's serialisation. Handlers never `.await` while
//! holding it: they are synchronous functions.
//!
//! Neither lock starves a writer. A tenant's lock spins a bounded number of failed attempts, then blocks
//! in `parking_lot`'s task-fair lock (readers then queue behind a waiting writer). The map of tenants is
//! read only for the look-up itself (the tenant's `Arc` is cloned out), never while a tenant's lock is
//! awaited or held, so adding, removing, resetting or restoring tenants (its writers) gets in between
//! readers however steady they are.

use crate::feed::{Change, Feed};
use crate::VendorKind;
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
    /// where a change of this tenant is announced, once its exclusive access ends
    announce: Option<Arc<Announce>>,
}

/// Who to tell that a tenant changed.
#[derive(Debug)]
struct Announce {
    feed: Arc<Feed>,
    vendor: VendorKind,
    tenant: Arc<str>,
}

/// Exclusive access to a tenant's state; when it ends, the change feed hears that the tenant changed.
pub struct TenantWrite<'a, S> {
    guard: RwLockWriteGuard<'a, S>,
    announce: Option<&'a Announce>,
}

impl<S> std::ops::Deref for TenantWrite<'_, S> {
    type Target = S;
    fn deref(&self) -> &S {
        &self.guard
    }
}

impl<S> std::ops::DerefMut for TenantWrite<'_, S> {
    fn deref_mut(&mut self) -> &mut S {
        &mut self.guard
    }
}

impl<S> Drop for TenantWrite<'_, S> {
    fn drop(&mut self) {
        if let Some(a) = self.announce {
            a.feed.publish(|| Change::Tenant { vendor: a.vendor, tenant: a.tenant.clone() });
        }
    }
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
        TenantLock { state: RwLock::new(state), fixed: Box::default(), announce: None }
    }

    /// Exclusive access: for anything that changes the tenant (or must not interleave with a change).
    pub fn lock(&self) -> TenantWrite<'_, S> {
        let guard =
            spin_then_block(|| self.state.try_write(), || self.state.is_locked(), || self.state.write());
        TenantWrite { guard, announce: self.announce.as_deref() }
    }

    /// Shared access: for answers that only read.
    pub fn read(&self) -> RwLockReadGuard<'_, S> {
        spin_then_block(|| self.state.try_read(), || self.state.is_locked_exclusive(), || self.state.read())
    }
}

/// Take a lock: `try_take` it; while it is `busy`, watch it with plain loads (no writes to the lock's line)
/// and try again when it looks free; after [`SPINS_BEFORE_BLOCKING`] checks and failed attempts together,
/// `block` for it. Every failed attempt counts, also when the lock reads as free: one with parked waiters
/// reads free after an unlock yet cannot be taken until a waiter has it, and must not be spun on forever.
fn spin_then_block<G>(
    try_take: impl Fn() -> Option<G>,
    busy: impl Fn() -> bool,
    block: impl FnOnce() -> G,
) -> G {
    let mut spins: u32 = 0;
    loop {
        if let Some(guard) = try_take() {
            return guard;
        }
        spins += 1;
        while busy() && spins < SPINS_BEFORE_BLOCKING {
            std::hint::spin_loop();
            spins += 1;
        }
        if spins >= SPINS_BEFORE_BLOCKING {
            return block();
        }
        std::hint::spin_loop();
    }
}

/// A vendor's tenants (accounts), each behind its own lock.
pub struct Tenants<S> {
    map: RwLock<BTreeMap<String, Arc<TenantLock<S>>>>,
    /// what of a tenant's state never changes, kept beside its lock (see [`Tenants::with_fixed`])
    fixed_of: fn(&S) -> Box<str>,
    /// the vendor and the feed its tenants' changes are announced on
    feed: Option<(VendorKind, Arc<Feed>)>,
    /// the key its tenants stand under in the vendor's dump section (`apps`, `accounts`)
    dump_key: &'static str,
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
        Tenants {
            map: RwLock::new(BTreeMap::new()),
            fixed_of: |_| Box::default(),
            feed: None,
            dump_key: "tenants",
        }
    }
}

impl<S> Tenants<S> {
    /// No tenants of `vendor` yet; they stand under `dump_key` in its dump section, and every exclusive
    /// access to one of them ends with [`Change::Tenant`] on `feed`.
    pub fn new(vendor: VendorKind, dump_key: &'static str, feed: &Arc<Feed>) -> Self {
        Tenants { feed: Some((vendor, feed.clone())), dump_key, ..Tenants::default() }
    }

    /// Each tenant added keeps `fixed_of(state)` beside its lock, read by [`Tenants::fixed`] without
    /// taking the lock. For what never changes once a tenant exists (the key its requests are signed
    /// with): authentication then never waits behind another request's change.
    pub fn with_fixed(self, fixed_of: fn(&S) -> Box<str>) -> Self {
        Tenants { fixed_of, ..self }
    }

    fn lock_for(&self, id: &str, state: S) -> Arc<TenantLock<S>> {
        let announce = self.feed.as_ref().map(|(vendor, feed)| {
            Arc::new(Announce { feed: feed.clone(), vendor: *vendor, tenant: id.into() })
        });
        Arc::new(TenantLock { fixed: (self.fixed_of)(&state), state: RwLock::new(state), announce })
    }
}

impl<S: Clone + Serialize + DeserializeOwned> Tenants<S> {
    /// The tenant named `id`. The map is read only for the look-up (task-fair: behind a waiting writer),
    /// never while a tenant's lock is awaited or held, so its writers are never starved and a reader
    /// never waits for a writer that waits for it.
    pub fn get(&self, id: &str) -> Option<Arc<TenantLock<S>>> {
        self.map.read().get(id).cloned()
    }

    /// Run `f` under the tenant's lock, exclusively.
    pub fn write<R>(&self, id: &str, f: impl FnOnce(&mut S) -> R) -> Option<R> {
        let tenant = self.get(id)?;
        let mut guard = tenant.lock();
        Some(f(&mut guard))
    }

    /// Run `f` under the tenant's lock, shared with other readers.
    pub fn read<R>(&self, id: &str, f: impl FnOnce(&S) -> R) -> Option<R> {
        let tenant = self.get(id)?;
        let guard = tenant.read();
        Some(f(&guard))
    }

    /// Run `f` on what is fixed of the tenant (see [`Tenants::with_fixed`]), without its lock (`f` runs
    /// while the map is read: it must not look tenants up).
    pub fn fixed<R>(&self, id: &str, f: impl FnOnce(&str) -> R) -> Option<R> {
        let map = self.map.read();
        Some(f(&map.get(id)?.fixed))
    }

    /// Add a tenant; false if the id is taken.
    pub fn insert(&self, id: &str, state: S) -> bool {
        let mut m = self.map.write();
        if m.contains_key(id) {
            return false;
        }
        let lock = self.lock_for(id, state);
        m.insert(id.to_string(), lock);
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

    /// Replace every tenant with a dump's.
    pub fn restore(&self, states: BTreeMap<String, S>) {
        let locks = states.into_iter().map(|(k, v)| {
            let lock = self.lock_for(&k, v);
            (k, lock)
        });
        *self.map.write() = locks.collect();
    }
}

/// A tenant's state as dumps hold it.
pub trait TenantState: Clone + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The tenant's configuration as a fixture declares it: one item of the vendor's fixture list named
    /// like its dump key (`apps`, `accounts`, `tenants`). A dump's tenants go through the vendor's own
    /// fixture checks with it (`Vendor::check_state`), so a dump holds nothing a fixture could not.
    fn fixture_item(&self) -> serde_json::Value;

    /// Check a dump's tenants together (each under its own id, nothing shared between two), before any of
    /// them replaces the current ones.
    fn check_dump(_tenants: &BTreeMap<String, Self>) -> Result<(), String> {
        Ok(())
    }

    /// Rebuild what a dump leaves out (indexes derived from the state), after it was read.
    fn rebuild(&mut self) {}

    /// How many entities of each kind the tenant holds (`("task", 12)`), for `GET /__admin/metrics`: a
    /// fixed set of kinds per vendor.
    fn entities(&self) -> Vec<(&'static str, usize)> {
        Vec::new()
    }
}

/// A vendor's tenants as one table, whatever their state: what the state methods every vendor shares
/// (ids, reset, dump, check, restore) go through.
pub trait TenantTable: Send + Sync {
    /// Every tenant id, sorted.
    fn ids(&self) -> Vec<String>;
    /// Remove every tenant, or only `tenant`.
    fn reset(&self, tenant: Option<&str>);
    /// Write the vendor's dump section, `{"<key>": {<id>: <state>}}`, to `w`.
    fn write_dump(&self, w: &mut dyn std::io::Write) -> std::io::Result<()>;
    /// The key the tenants stand under in the dump section, and the name of the vendor's fixture list.
    fn dump_key(&self) -> &'static str;
    /// Check a dump section without changing anything; each tenant's [`TenantState::fixture_item`], by id
    /// (for the vendor's fixture checks).
    fn check_dump(&self, section: &serde_json::Value) -> Result<Vec<(String, serde_json::Value)>, String>;
    /// Replace every tenant with a dump section's (checked first: a bad one changes nothing).
    fn restore_dump(&self, section: &serde_json::Value) -> Result<(), String>;
    /// How many entities of each kind all tenants hold together, the tenants themselves as `tenant`.
    fn entities(&self) -> BTreeMap<&'static str, u64>;
}

impl<S: TenantState> Tenants<S> {
    fn parse_section(&self, section: &serde_json::Value) -> Result<BTreeMap<String, S>, String> {
        let tenants = parse_dump::<S>(section, self.dump_key)?;
        S::check_dump(&tenants)?;
        Ok(tenants)
    }
}

impl<S: TenantState> TenantTable for Tenants<S> {
    fn ids(&self) -> Vec<String> {
        Tenants::ids(self)
    }

    fn reset(&self, tenant: Option<&str>) {
        Tenants::reset(self, tenant);
    }

    fn write_dump(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        // One tenant at a time: copied under its lock (a copy, not the serialisation, so its requests go
        // on), written, dropped. The dump never holds more than the largest tenant twice.
        let mut all = self.all();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        w.write_all(b"{")?;
        serde_json::to_writer(&mut *w, self.dump_key)?;
        w.write_all(b":{")?;
        for (i, (id, tenant)) in all.into_iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            serde_json::to_writer(&mut *w, &id)?;
            w.write_all(b":")?;
            let copy = tenant.read().clone();
            serde_json::to_writer(&mut *w, &copy)?;
        }
        w.write_all(b"}}")
    }

    fn dump_key(&self) -> &'static str {
        self.dump_key
    }

    fn check_dump(&self, section: &serde_json::Value) -> Result<Vec<(String, serde_json::Value)>, String> {
        let tenants = self.parse_section(section)?;
        Ok(tenants.iter().map(|(id, t)| (id.clone(), t.fixture_item())).collect())
    }

    fn restore_dump(&self, section: &serde_json::Value) -> Result<(), String> {
        let mut tenants = self.parse_section(section)?;
        tenants.values_mut().for_each(S::rebuild);
        self.restore(tenants);
        Ok(())
    }

    fn entities(&self) -> BTreeMap<&'static str, u64> {
        let all = self.all();
        let mut counts = BTreeMap::from([("tenant", all.len() as u64)]);
        for (_, t) in all {
            // One tenant's read lock at a time, held only while it counts.
            for (kind, n) in t.read().entities() {
                *counts.entry(kind).or_default() += n as u64;
            }
        }
        counts
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
        let tenants: Tenants<String> = Tenants::default().with_fixed(|s| format!("key-of-{s}").into());
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

    #[test]
    fn the_spin_ends_in_blocking_after_a_bounded_number_of_attempts() {
        use std::cell::Cell;
        // A lock that reads as free yet cannot be taken (parked waiters, just after an unlock): every failed
        // attempt counts, so it blocks after at most SPINS_BEFORE_BLOCKING of them.
        let (tries, blocked) = (Cell::new(0u32), Cell::new(false));
        spin_then_block(
            || {
                tries.set(tries.get() + 1);
                None::<()>
            },
            || false,
            || blocked.set(true),
        );
        assert!(blocked.get() && tries.get() <= SPINS_BEFORE_BLOCKING, "{} attempts", tries.get());
        // Held all along: the checks and the attempts together stay within the bound.
        let (tries, checks) = (Cell::new(0u32), Cell::new(0u32));
        spin_then_block(
            || {
                tries.set(tries.get() + 1);
                None::<()>
            },
            || {
                checks.set(checks.get() + 1);
                true
            },
            || (),
        );
        assert!(tries.get() + checks.get() <= 2 * SPINS_BEFORE_BLOCKING + 2);
        // Free again in time: taken without blocking.
        let tries = Cell::new(0u32);
        let got = spin_then_block(
            || {
                tries.set(tries.get() + 1);
                (tries.get() == 5).then_some("taken")
            },
            || false,
            || "blocked",
        );
        assert_eq!(got, "taken");
    }

    /// Two readers hand the shared side to each other so that one of them always holds it: each takes it
    /// while the other still holds it, and lets go only once the other has it again (or after a bounded
    /// wait). A writer that waited for no reader at all would wait until they stop; `take` must get in
    /// while they are still at it. Returns the round at which it did.
    fn writer_gets_in_between_readers(read: impl Fn(&dyn Fn()) + Sync, write: impl Fn() + Sync) -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        const ROUNDS: u64 = 200_000;
        let turn = AtomicU64::new(0);
        let written_at = AtomicU64::new(u64::MAX);
        std::thread::scope(|scope| {
            for _ in 0..2 {
                scope.spawn(|| {
                    while turn.load(Ordering::SeqCst) < ROUNDS
                        && written_at.load(Ordering::SeqCst) == u64::MAX
                    {
                        read(&|| {
                            let mine = turn.fetch_add(1, Ordering::SeqCst) + 1;
                            let mut waited = 0u32;
                            while turn.load(Ordering::SeqCst) == mine && waited < 200_000 {
                                std::hint::spin_loop();
                                waited += 1;
                            }
                        });
                    }
                });
            }
            while turn.load(Ordering::SeqCst) < 100 {
                std::thread::yield_now();
            }
            write();
            written_at.store(turn.load(Ordering::SeqCst), Ordering::SeqCst);
        });
        let at = written_at.load(Ordering::SeqCst);
        assert!(at < ROUNDS, "the writer got in only after the readers stopped");
        at
    }

    #[test]
    fn writers_are_not_starved_by_steady_readers() {
        // A tenant's own lock.
        let lock = TenantLock::new(0u64);
        writer_gets_in_between_readers(
            |inside| {
                let _g = lock.read();
                inside();
            },
            || *lock.lock() += 1,
        );
        assert_eq!(*lock.read(), 1);
        // The map of tenants: readers inside a tenant's lock, a tenant added.
        let tenants: Tenants<u64> = Tenants::default();
        assert!(tenants.insert("a", 0));
        writer_gets_in_between_readers(
            |inside| {
                tenants.read("a", |_| inside());
            },
            || assert!(tenants.insert("b", 1)),
        );
        assert_eq!(tenants.ids(), ["a", "b"]);
    }
}
