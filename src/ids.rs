//! Reproducible identifiers.
//!
//! Every generated id, token and file seed comes from one stream: draw `n` is `splitmix64(seed, n)`.
//! With `--seed` the stream is the same on every run; the whole state is two integers, so a state
//! dump restores it exactly and a restarted server goes on producing the same ids it would have.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};

/// The id stream.
#[derive(Debug)]
pub struct IdSource {
    seed: AtomicU64,
    counter: AtomicU64,
}

/// The serialisable state of an [`IdSource`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct IdState {
    /// the seed given with `--seed` (or drawn at start)
    pub seed: u64,
    /// how many draws were made
    pub counter: u64,
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const HEX: &[u8; 16] = b"0123456789abcdef";
const ALNUM: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl IdSource {
    /// A stream for `seed`.
    pub fn new(seed: u64) -> Self {
        IdSource { seed: AtomicU64::new(seed), counter: AtomicU64::new(0) }
    }

    /// One 64-bit draw.
    pub fn next_u64(&self) -> u64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        splitmix64(self.seed.load(Ordering::Relaxed) ^ splitmix64(n))
    }

    /// `len` lowercase hex digits (a 32-digit one looks like the vendors' access tokens).
    pub fn hex(&self, len: usize) -> String {
        self.pick_from(HEX, len)
    }

    /// `len` letters and digits.
    pub fn alnum(&self, len: usize) -> String {
        self.pick_from(ALNUM, len)
    }

    /// `len` decimal digits, never starting with 0.
    pub fn digits(&self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        for i in 0..len {
            let d = (self.next_u64() % if i == 0 { 9 } else { 10 }) as u8 + u8::from(i == 0);
            s.push((b'0' + d) as char);
        }
        s
    }

    /// A random-looking UUID (version 4 layout) from the stream.
    pub fn uuid(&self) -> uuid::Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    fn pick_from(&self, alphabet: &[u8], len: usize) -> String {
        let mut s = String::with_capacity(len);
        let mut word = 0u64;
        let mut left = 0;
        for _ in 0..len {
            if left == 0 {
                word = self.next_u64();
                left = 8;
            }
            s.push(alphabet[(word & 0xff) as usize % alphabet.len()] as char);
            word >>= 8;
            left -= 1;
        }
        s
    }

    /// The state to put in a dump.
    pub fn state(&self) -> IdState {
        IdState { seed: self.seed.load(Ordering::Relaxed), counter: self.counter.load(Ordering::Relaxed) }
    }

    /// Continue exactly where a dump left off.
    pub fn restore(&self, s: IdState) {
        self.seed.store(s.seed, Ordering::Relaxed);
        self.counter.store(s.counter, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_ids_and_restore_continues() {
        let a = IdSource::new(42);
        let b = IdSource::new(42);
        assert_eq!(a.hex(32), b.hex(32));
        let saved = a.state();
        let next = a.digits(19);
        let c = IdSource::new(7);
        c.restore(saved);
        assert_eq!(c.digits(19), next);
        assert_eq!(next.len(), 19);
        assert!(!next.starts_with('0'));
        assert_ne!(IdSource::new(1).hex(32), IdSource::new(2).hex(32));
    }
}
