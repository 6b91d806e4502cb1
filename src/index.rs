//! An ordered set that can also answer "the k-th element" quickly: the index behind paged lists.
//!
//! A vendor list answers page `p` of the entities matching a filter, in a fixed order (creation order,
//! creation time). Sorting and filtering every entity per request makes a list of an account with a
//! million tasks a million times slower than one with a single task; skipping through an ordered map is
//! still a scan from the start. [`RankedSet`] keeps its keys sorted in blocks of at most
//! [`BLOCK`]·2 keys: finding the k-th key walks the block lengths (a few thousand integers for ten
//! million keys) and then indexes into one block, inserting appends to or shifts within one block, so
//! both stay flat as the set grows. Keys are small (`u64` creation numbers, `(time, number)` pairs), so an
//! index costs a few bytes per entity.

/// Target block length; a block is split when it holds twice as many keys.
pub const BLOCK: usize = 512;

/// A sorted set of keys with positional access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankedSet<K> {
    blocks: Vec<Vec<K>>,
    len: usize,
}

impl<K> Default for RankedSet<K> {
    fn default() -> Self {
        RankedSet { blocks: Vec::new(), len: 0 }
    }
}

impl<K: Ord> RankedSet<K> {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The block that holds `key` or would hold it: the first whose last key is not below it (the last
    /// block for keys above every key).
    fn block_for(&self, key: &K) -> usize {
        let i = self.blocks.partition_point(|b| b.last().is_some_and(|l| l < key));
        i.min(self.blocks.len().saturating_sub(1))
    }

    /// Add `key`; false if it was there already.
    pub fn insert(&mut self, key: K) -> bool {
        // Keys mostly arrive in order (creation order): past the last key, append without searching, and
        // start a new block when the last is full (so appended blocks are full, never split in half).
        if let Some(last) = self.blocks.last_mut() {
            if last.last().is_some_and(|l| *l < key) {
                if last.len() >= BLOCK {
                    let mut block = Vec::with_capacity(BLOCK);
                    block.push(key);
                    self.blocks.push(block);
                } else {
                    last.push(key);
                }
                self.len += 1;
                return true;
            }
        }
        if self.blocks.is_empty() {
            // Grown as needed: most sets (one group's tasks) hold a handful of keys.
            self.blocks.push(Vec::new());
        }
        let b = self.block_for(&key);
        let block = &mut self.blocks[b];
        match block.binary_search(&key) {
            Ok(_) => return false,
            Err(at) => block.insert(at, key),
        }
        if block.len() >= 2 * BLOCK {
            let tail = block.split_off(BLOCK);
            self.blocks.insert(b + 1, tail);
        }
        self.len += 1;
        true
    }

    /// Remove `key`; false if it was not there.
    pub fn remove(&mut self, key: &K) -> bool {
        if self.blocks.is_empty() {
            return false;
        }
        let b = self.block_for(key);
        let block = &mut self.blocks[b];
        let Ok(at) = block.binary_search(key) else { return false };
        block.remove(at);
        if block.is_empty() {
            self.blocks.remove(b);
        }
        self.len -= 1;
        true
    }

    /// The largest key.
    pub fn last(&self) -> Option<&K> {
        self.blocks.last().and_then(|b| b.last())
    }

    /// Whether `key` is in the set.
    pub fn contains(&self, key: &K) -> bool {
        !self.blocks.is_empty() && self.blocks[self.block_for(key)].binary_search(key).is_ok()
    }

    /// (block, offset) of the `k`-th key (0-based, ascending).
    fn locate(&self, mut k: usize) -> Option<(usize, usize)> {
        if k >= self.len {
            return None;
        }
        for (i, b) in self.blocks.iter().enumerate() {
            if k < b.len() {
                return Some((i, k));
            }
            k -= b.len();
        }
        None
    }

    /// The `k`-th key in ascending order (0-based).
    pub fn nth(&self, k: usize) -> Option<&K> {
        self.locate(k).map(|(b, o)| &self.blocks[b][o])
    }

    /// Keys in ascending order, starting with the `k`-th.
    pub fn iter_from(&self, k: usize) -> impl Iterator<Item = &K> + '_ {
        let (b, o) = self.locate(k).unwrap_or((self.blocks.len(), 0));
        self.blocks
            .iter()
            .skip(b)
            .enumerate()
            .flat_map(move |(i, blk)| blk[if i == 0 { o } else { 0 }..].iter())
    }

    /// Keys in descending order, starting with the `k`-th largest (0-based).
    pub fn iter_rev_from(&self, k: usize) -> impl Iterator<Item = &K> + '_ {
        // The k-th largest is the (len-1-k)-th smallest; when k is past the end nothing is yielded.
        let located = k.checked_add(1).and_then(|n| self.len.checked_sub(n)).and_then(|asc| self.locate(asc));
        let (b, o, any) = match located {
            Some((b, o)) => (b, o, true),
            None => (0, 0, false),
        };
        let take = if any { b + 1 } else { 0 };
        self.blocks[..take].iter().rev().enumerate().flat_map(move |(i, blk)| {
            let end = if i == 0 { o + 1 } else { blk.len() };
            blk[..end].iter().rev()
        })
    }

    /// Every key in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = &K> + '_ {
        self.blocks.iter().flatten()
    }

    /// Remove every key.
    pub fn clear(&mut self) {
        self.blocks.clear();
        self.len = 0;
    }
}

impl<K: Ord> FromIterator<K> for RankedSet<K> {
    /// Build from keys in any order (sorted once, then cut into blocks).
    fn from_iter<I: IntoIterator<Item = K>>(iter: I) -> Self {
        let mut keys: Vec<K> = iter.into_iter().collect();
        keys.sort();
        keys.dedup();
        let len = keys.len();
        let mut blocks = Vec::with_capacity(len.div_ceil(BLOCK));
        let mut rest = keys.into_iter().peekable();
        while rest.peek().is_some() {
            blocks.push(rest.by_ref().take(BLOCK).collect());
        }
        RankedSet { blocks, len }
    }
}

/// Slots per chunk of a [`Chunked`] array (its first chunk grows up to this by doubling).
pub const CHUNK: usize = 4096;

/// A growable array stored in chunks of [`CHUNK`] elements: growing never moves what is already stored.
///
/// A plain `Vec` of a million tasks doubles by copying hundreds of megabytes into freshly zeroed pages,
/// which stalls the request that happens to add the element (tens of milliseconds); here an addition costs
/// at most one new chunk.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked { chunks: Vec::new(), len: 0 }
    }
}

impl<T> Chunked<T> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Add `v` at the end (index `len()`).
    pub fn push(&mut self, v: T) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => c.push(v),
            _ => {
                // The first chunk starts small (most accounts hold a few entities); later ones are whole.
                let mut c = if self.chunks.is_empty() { Vec::new() } else { Vec::with_capacity(CHUNK) };
                c.push(v);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    /// The element at `i`.
    pub fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK).and_then(|c| c.get(i % CHUNK))
    }

    /// The element at `i`, to change.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.chunks.get_mut(i / CHUNK).and_then(|c| c.get_mut(i % CHUNK))
    }

    /// Every element, in index order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.chunks.iter().flatten()
    }

    /// Take every element out, in index order, leaving the array empty.
    pub fn take_all(&mut self) -> impl Iterator<Item = T> {
        self.len = 0;
        std::mem::take(&mut self.chunks).into_iter().flatten()
    }
}

impl<T> std::ops::Index<usize> for Chunked<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

impl<T> std::ops::IndexMut<usize> for Chunked<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i / CHUNK][i % CHUNK]
    }
}

/// A `HashMap` with a fast hash for the tables' internal maps (ids and group names to slots): foldhash's
/// `fast` hasher, as SipHash's resistance to chosen collisions costs more than the look-up itself here and
/// these maps belong to a local test double whose keys are mostly ids it drew itself. Its fixed seed keeps
/// a run repeatable (nothing iterates these maps; they are only looked up). Ids with a common prefix
/// (`g1`, `g2`, ...) must spread over the table's low bits, which a hash without a final mix fails (a unit
/// test checks the spread).
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every operation agrees with a plain sorted set, across many block splits and removals.
    #[test]
    fn agrees_with_a_btreeset() {
        let mut r = RankedSet::new();
        let mut b = BTreeSet::new();
        let mut x: u64 = 12345;
        for i in 0..20_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let k = (x >> 33) % 5000;
            if i % 3 == 2 {
                assert_eq!(r.remove(&k), b.remove(&k));
            } else {
                assert_eq!(r.insert(k), b.insert(k));
            }
            assert_eq!(r.len(), b.len());
        }
        let sorted: Vec<u64> = b.iter().copied().collect();
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), sorted);
        for k in [0, 1, 511, 512, 1023, 1024, sorted.len() - 1, sorted.len(), sorted.len() + 7, usize::MAX] {
            assert_eq!(r.nth(k), sorted.get(k));
            assert_eq!(
                r.iter_from(k).take(30).copied().collect::<Vec<_>>(),
                sorted.iter().skip(k).take(30).copied().collect::<Vec<_>>()
            );
            assert_eq!(
                r.iter_rev_from(k).take(30).copied().collect::<Vec<_>>(),
                sorted.iter().rev().skip(k).take(30).copied().collect::<Vec<_>>()
            );
        }
        assert!(sorted.iter().all(|k| r.contains(k)));
        let rebuilt: RankedSet<u64> = sorted.iter().rev().copied().collect();
        assert_eq!(rebuilt.iter().copied().collect::<Vec<_>>(), sorted);
        assert_eq!(rebuilt.nth(777), sorted.get(777));
    }

    #[test]
    fn appending_increasing_keys_fills_blocks() {
        let mut r = RankedSet::new();
        for k in 0..10 * BLOCK as u64 {
            r.insert(k);
        }
        assert_eq!(r.len(), 10 * BLOCK);
        assert_eq!(r.nth(3 * BLOCK + 5), Some(&(3 * BLOCK as u64 + 5)));
        assert_eq!(r.iter_rev_from(0).next(), Some(&(10 * BLOCK as u64 - 1)));
        let empty: RankedSet<u64> = RankedSet::new();
        assert_eq!(empty.iter_rev_from(0).count(), 0);
        assert_eq!(empty.iter_from(0).count(), 0);
    }

    #[test]
    fn appends_mixed_with_inserts_and_removals_keep_the_order() {
        // Creation order appends past the last key (the fast path); restored or back-dated keys land in
        // the middle, and removals empty blocks: the set must agree with a BTreeSet throughout.
        let mut r = RankedSet::new();
        let mut b = std::collections::BTreeSet::new();
        let mut next = 0u64;
        for i in 0..20 * BLOCK as u64 {
            match i % 7 {
                0 => {
                    let k = (i * 7919) % (next + 1);
                    assert_eq!(r.insert(k), b.insert(k));
                }
                1 => {
                    let k = (i * 104_729) % (next + 1);
                    assert_eq!(r.remove(&k), b.remove(&k));
                }
                _ => {
                    next += 3;
                    assert_eq!(r.insert(next), b.insert(next));
                }
            }
            assert_eq!(r.len(), b.len());
        }
        let sorted: Vec<u64> = b.iter().copied().collect();
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), sorted);
        for k in [0, 1, BLOCK - 1, BLOCK, 5 * BLOCK + 3, sorted.len() - 1, sorted.len()] {
            assert_eq!(r.nth(k), sorted.get(k));
        }
        assert!(r.blocks.iter().all(|blk| !blk.is_empty() && blk.len() < 2 * BLOCK));
    }

    #[test]
    fn fast_hashes_of_ids_with_a_common_prefix_spread_over_low_bits() {
        use std::hash::BuildHasher;
        let map = FastMap::<(), ()>::default();
        let b = map.hasher();
        let buckets: std::collections::HashSet<u64> =
            (0..4096).map(|i| b.hash_one(format!("g{i}")) & 4095).collect();
        assert!(buckets.len() > 2000, "{} distinct low-bit buckets of 4096", buckets.len());
        // Consecutive numeric ids too (004's class ids are numbers).
        let buckets: std::collections::HashSet<u64> =
            (0..4096u64).map(|i| b.hash_one(100_000_000 + i) & 4095).collect();
        assert!(buckets.len() > 2000, "{} distinct low-bit buckets of 4096", buckets.len());
        // The seed is fixed: the same key hashes the same in every map (and every run).
        assert_eq!(b.hash_one("g1"), FastMap::<(), ()>::default().hasher().hash_one("g1"));
    }

    #[test]
    fn a_chunked_array_indexes_across_chunks() {
        let mut c = super::Chunked::default();
        let n = super::CHUNK * 2 + 7;
        for i in 0..n {
            c.push(i);
        }
        assert_eq!(c.len(), n);
        assert_eq!(c[super::CHUNK], super::CHUNK);
        assert_eq!(c.get(n - 1), Some(&(n - 1)));
        assert_eq!(c.get(n), None);
        c[3] = 30;
        assert_eq!(c.iter().next_back(), Some(&(n - 1)));
        let all: Vec<usize> = c.take_all().collect();
        assert_eq!((all.len(), all[3], c.len()), (n, 30, 0));
    }
}
