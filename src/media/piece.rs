//! Byte templates made of stored bytes and runs of one repeated byte, read at any offset.
//!
//! Every generated sample (a video access unit padded with filler data, an AAC or MP3 frame) and
//! every padding area is described by a [`Template`]: a few stored byte strings and long runs of a
//! repeated byte. Reading from a template is `memcpy`/`memset` work, whatever the offset.

/// One part of a [`Template`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Stored bytes.
    Bytes(Vec<u8>),
    /// `len` copies of `byte`.
    Run { byte: u8, len: u64 },
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::Bytes(b) => b.len() as u64,
            Piece::Run { len, .. } => *len,
        }
    }
}

/// A byte string made of [`Piece`]s.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Template {
    pieces: Vec<Piece>,
    len: u64,
}

impl Template {
    /// An empty template.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A template of stored bytes.
    pub(crate) fn from_bytes(bytes: Vec<u8>) -> Self {
        let mut t = Self::new();
        t.push_bytes(bytes);
        t
    }

    /// Append stored bytes.
    pub(crate) fn push_bytes(&mut self, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        self.len += bytes.len() as u64;
        if let Some(Piece::Bytes(last)) = self.pieces.last_mut() {
            last.extend_from_slice(&bytes);
        } else {
            self.pieces.push(Piece::Bytes(bytes));
        }
    }

    /// Append `len` copies of `byte`.
    pub(crate) fn push_run(&mut self, byte: u8, len: u64) {
        if len == 0 {
            return;
        }
        self.len += len;
        self.pieces.push(Piece::Run { byte, len });
    }

    /// Total length in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Bytes held in memory (stored pieces only).
    pub(crate) fn stored_bytes(&self) -> usize {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Bytes(b) => b.len(),
                Piece::Run { .. } => 0,
            })
            .sum()
    }

    /// Copy bytes `[pos, pos + out.len())` of the template into `out`, stopping at its end.
    /// Returns the number of bytes written.
    pub(crate) fn read_at(&self, mut pos: u64, out: &mut [u8]) -> usize {
        let mut written = 0usize;
        for piece in &self.pieces {
            if written == out.len() {
                break;
            }
            let plen = piece.len();
            if pos >= plen {
                pos -= plen;
                continue;
            }
            let avail = plen - pos;
            let want = out.len() - written;
            // `n` <= want, which is a usize
            let n = usize::try_from(avail.min(want as u64)).unwrap_or(want);
            let dst = &mut out[written..written + n];
            match piece {
                Piece::Bytes(b) => {
                    // pos < b.len() here, so it fits a usize
                    let start = pos as usize;
                    dst.copy_from_slice(&b[start..start + n]);
                }
                Piece::Run { byte, .. } => dst.fill(*byte),
            }
            written += n;
            pos = 0;
        }
        written
    }

    /// The whole template as bytes (tests and small templates only).
    #[cfg(test)]
    pub(crate) fn to_vec(&self) -> Vec<u8> {
        let mut v = vec![0u8; self.len as usize];
        let n = self.read_at(0, &mut v);
        assert_eq!(n, v.len());
        v
    }
}

/// SplitMix64: a tiny deterministic generator used to derive colours and patterns from a seed.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n` > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_reads_at_any_offset() {
        let mut t = Template::new();
        t.push_bytes(vec![1, 2, 3]);
        t.push_run(9, 4);
        t.push_bytes(vec![7]);
        t.push_bytes(vec![8]);
        assert_eq!(t.len(), 9);
        assert_eq!(t.stored_bytes(), 5);
        let all = t.to_vec();
        assert_eq!(all, vec![1, 2, 3, 9, 9, 9, 9, 7, 8]);
        for start in 0..=all.len() {
            for len in 0..=all.len() + 2 {
                let mut buf = vec![0xEEu8; len];
                let n = t.read_at(start as u64, &mut buf);
                let expect = &all[start.min(all.len())..(start + len).min(all.len())];
                assert_eq!(n, expect.len());
                assert_eq!(&buf[..n], expect);
                assert!(buf[n..].iter().all(|&b| b == 0xEE));
            }
        }
    }

    #[test]
    fn splitmix_is_deterministic() {
        let mut a = SplitMix64::new(42);
        let mut b = SplitMix64::new(42);
        for _ in 0..10 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert!(SplitMix64::new(1).below(10) < 10);
    }
}
