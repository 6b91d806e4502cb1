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
        self.draws(1).next().unwrap_or_default()
    }

    /// `n` consecutive draws, taken from the stream at once (one atomic step on a counter every thread
    /// shares, not one per draw); the same values `n` calls of [`IdSource::next_u64`] give in a row.
    fn draws(&self, n: usize) -> impl Iterator<Item = u64> {
        let first = self.counter.fetch_add(n as u64, Ordering::Relaxed);
        let seed = self.seed.load(Ordering::Relaxed);
        (first..first.wrapping_add(n as u64)).map(move |i| splitmix64(seed ^ splitmix64(i)))
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
        self.digit_values(len).map(|d| (b'0' + d) as char).collect()
    }

    /// The number [`IdSource::digits`] would write (`len` ≤ 19), without the text.
    pub fn number(&self, len: usize) -> u64 {
        self.digit_values(len.min(19)).fold(0, |n, d| n * 10 + u64::from(d))
    }

    fn digit_values(&self, len: usize) -> impl Iterator<Item = u8> {
        self.draws(len).enumerate().map(|(i, r)| (r % if i == 0 { 9 } else { 10 }) as u8 + u8::from(i == 0))
    }

    /// A random-looking UUID (version 4 layout) from the stream.
    pub fn uuid(&self) -> uuid::Uuid {
        let mut bytes = [0u8; 16];
        let mut d = self.draws(2);
        bytes[..8].copy_from_slice(&d.next().unwrap_or_default().to_le_bytes());
        bytes[8..].copy_from_slice(&d.next().unwrap_or_default().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    fn pick_from(&self, alphabet: &[u8], len: usize) -> String {
        let mut s = String::with_capacity(len);
        let mut words = self.draws(len.div_ceil(8));
        let mut word = 0u64;
        let mut left = 0;
        for _ in 0..len {
            if left == 0 {
                word = words.next().unwrap_or_default();
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
    fn a_number_is_its_digits() {
        let (a, b) = (IdSource::new(7), IdSource::new(7));
        for _ in 0..50 {
            assert_eq!(a.digits(9), b.number(9).to_string());
        }
        assert_eq!(a.state(), b.state());
    }

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
