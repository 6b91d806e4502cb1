//! Bit-level writers: an MSB-first [`BitWriter`] with Exp-Golomb codes (H.264, AAC, MP3 side
//! data), H.264 emulation prevention, and a JPEG entropy-coded-segment writer with byte stuffing.

/// An MSB-first bit writer.
///
/// Bits are appended most-significant first, as H.264, AAC and MPEG audio bitstreams expect.
#[derive(Debug, Default, Clone)]
pub(crate) struct BitWriter {
    buf: Vec<u8>,
    /// pending bits, right-aligned
    acc: u64,
    /// number of pending bits in `acc` (always < 8 between calls)
    pending: u32,
}

impl BitWriter {
    /// An empty writer.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Append the low `n` bits of `value`, most significant first. `n` may be 0..=32.
    pub(crate) fn put_bits(&mut self, value: u32, n: u32) {
        debug_assert!(n <= 32);
        if n == 0 {
            return;
        }
        let mask = if n == 32 { u32::MAX } else { (1u32 << n) - 1 };
        self.acc = (self.acc << n) | u64::from(value & mask);
        self.pending += n;
        while self.pending >= 8 {
            self.pending -= 8;
            // Truncation intended: the byte is the top 8 pending bits.
            self.buf.push((self.acc >> self.pending) as u8);
        }
        self.acc &= (1u64 << self.pending) - 1;
    }

    /// Append one bit.
    pub(crate) fn put_bit(&mut self, bit: bool) {
        self.put_bits(u32::from(bit), 1);
    }

    /// Append an unsigned Exp-Golomb code `ue(v)` (H.264 9.1). `value` must be < `u64::MAX`.
    pub(crate) fn put_ue(&mut self, value: u64) {
        let v = value.saturating_add(1);
        let len = 64 - v.leading_zeros(); // significant bits of v, 1..=64
        let mut zeros = len - 1;
        while zeros > 0 {
            let n = zeros.min(32);
            self.put_bits(0, n);
            zeros -= n;
        }
        // v in `len` bits (its top bit is the marker 1), in pieces of at most 32 bits
        let mut left = len;
        while left > 0 {
            let n = left.min(32);
            left -= n;
            // Truncation intended: the `n` bits below position `left`.
            self.put_bits((v >> left) as u32, n);
        }
    }

    /// Append a signed Exp-Golomb code `se(v)` (H.264 9.1.1).
    pub(crate) fn put_se(&mut self, value: i32) {
        let v = i64::from(value);
        let mapped = if v > 0 { v * 2 - 1 } else { -v * 2 };
        // mapped is in 0..=2^32, never negative
        self.put_ue(mapped.unsigned_abs());
    }

    /// Number of bits written so far.
    pub(crate) fn bit_len(&self) -> u64 {
        self.buf.len() as u64 * 8 + u64::from(self.pending)
    }

    /// Whether the writer is at a byte boundary.
    #[cfg(test)]
    pub(crate) fn is_aligned(&self) -> bool {
        self.pending == 0
    }

    /// Pad with `bit` up to the next byte boundary.
    pub(crate) fn align_with(&mut self, bit: bool) {
        if self.pending > 0 {
            let n = 8 - self.pending;
            let v = if bit { (1u32 << n) - 1 } else { 0 };
            self.put_bits(v, n);
        }
    }

    /// H.264 `rbsp_trailing_bits()`: a stop bit 1, then zeros to the byte boundary.
    pub(crate) fn rbsp_trailing_bits(&mut self) {
        self.put_bit(true);
        self.align_with(false);
    }

    /// The bytes written, zero-padding a partial last byte.
    pub(crate) fn into_bytes(mut self) -> Vec<u8> {
        self.align_with(false);
        self.buf
    }
}

/// Number of bits of `ue(value)`.
#[cfg(test)]
pub(crate) fn ue_len(value: u64) -> u32 {
    let v = value.saturating_add(1);
    2 * (64 - v.leading_zeros()) - 1
}

/// H.264 emulation prevention (7.4.1): insert `0x03` after any two zero bytes that are followed by
/// a byte `<= 0x03`, and after a trailing pair of zero bytes.
pub(crate) fn escape_rbsp(rbsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rbsp.len() + rbsp.len() / 64 + 2);
    let mut zeros = 0usize;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        if b == 0 {
            zeros += 1;
        } else {
            zeros = 0;
        }
    }
    if zeros >= 2 {
        out.push(3);
    }
    out
}

/// A JPEG entropy-coded segment writer: MSB-first bits, a `0x00` stuffed after every `0xFF`,
/// and padding with 1-bits (ITU T.81 F.1.2.3, B.1.1.5).
#[derive(Debug, Default, Clone)]
pub(crate) struct JpegBitWriter {
    inner: BitWriter,
    stuffed_upto: usize,
    out: Vec<u8>,
}

impl JpegBitWriter {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Append the low `n` bits of `value` (`n` <= 32).
    pub(crate) fn put_bits(&mut self, value: u32, n: u32) {
        self.inner.put_bits(value, n);
        self.flush_complete();
    }

    fn flush_complete(&mut self) {
        let bytes = &self.inner.buf;
        for &b in &bytes[self.stuffed_upto..] {
            self.out.push(b);
            if b == 0xFF {
                self.out.push(0x00);
            }
        }
        self.stuffed_upto = bytes.len();
    }

    /// Pad with 1-bits to a byte boundary and return the stuffed bytes.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.inner.align_with(true);
        self.flush_complete();
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits_of(w: BitWriter) -> String {
        let n = w.bit_len() as usize;
        let bytes = w.into_bytes();
        let s: String = bytes.iter().map(|b| format!("{b:08b}")).collect();
        s[..n].to_string()
    }

    #[test]
    fn put_bits_msb_first() {
        let mut w = BitWriter::new();
        w.put_bits(0b101, 3);
        w.put_bits(0b1, 1);
        w.put_bits(0xABCD, 16);
        w.put_bits(0xFFFF_FFFF, 32);
        assert_eq!(w.bit_len(), 52);
        let b = w.into_bytes();
        assert_eq!(b, vec![0b1011_1010, 0xBC, 0xDF, 0xFF, 0xFF, 0xFF, 0xF0]);
    }

    #[test]
    fn ue_codes_match_table_9_2() {
        let expect = [
            (0, "1"),
            (1, "010"),
            (2, "011"),
            (3, "00100"),
            (4, "00101"),
            (5, "00110"),
            (6, "00111"),
            (7, "0001000"),
            (8, "0001001"),
            (14, "0001111"),
            (15, "000010000"),
        ];
        for (v, code) in expect {
            let mut w = BitWriter::new();
            w.put_ue(v);
            assert_eq!(bits_of(w), code, "ue({v})");
            assert_eq!(ue_len(v) as usize, code.len());
        }
        // the largest value: 32 zeros, then 33 bits
        let mut w = BitWriter::new();
        w.put_ue(u64::from(u32::MAX));
        assert_eq!(w.bit_len(), 65);
        assert_eq!(ue_len(u64::from(u32::MAX)), 65);
        let s = bits_of(w);
        assert_eq!(&s[..33], &format!("{}1", "0".repeat(32)));
        assert!(s[33..].chars().all(|c| c == '0'));
    }

    #[test]
    fn se_codes_match_table_9_3() {
        let expect = [(0, "1"), (1, "010"), (-1, "011"), (2, "00100"), (-2, "00101"), (3, "00110")];
        for (v, code) in expect {
            let mut w = BitWriter::new();
            w.put_se(v);
            assert_eq!(bits_of(w), code, "se({v})");
        }
        let mut w = BitWriter::new();
        w.put_se(i32::MIN);
        assert_eq!(w.bit_len(), 65);
        let mut w = BitWriter::new();
        w.put_ue(u64::MAX - 1);
        assert_eq!(w.bit_len(), 127);
    }

    #[test]
    fn trailing_bits_and_alignment() {
        let mut w = BitWriter::new();
        w.put_bits(1, 1);
        assert!(!w.is_aligned());
        w.rbsp_trailing_bits();
        assert!(w.is_aligned());
        assert_eq!(w.into_bytes(), vec![0b1100_0000]);
        let mut w = BitWriter::new();
        w.put_bits(0, 8);
        w.rbsp_trailing_bits();
        assert_eq!(w.into_bytes(), vec![0, 0x80]);
    }

    #[test]
    fn emulation_prevention() {
        assert_eq!(escape_rbsp(&[0, 0, 0]), vec![0, 0, 3, 0]);
        assert_eq!(escape_rbsp(&[0, 0, 1, 0, 0, 2]), vec![0, 0, 3, 1, 0, 0, 3, 2]);
        assert_eq!(escape_rbsp(&[0, 0, 4]), vec![0, 0, 4]);
        assert_eq!(escape_rbsp(&[0, 0]), vec![0, 0, 3]);
        assert_eq!(escape_rbsp(&[0, 0, 0, 0]), vec![0, 0, 3, 0, 0, 3]);
        assert_eq!(escape_rbsp(&[1, 0, 3, 0, 0, 3]), vec![1, 0, 3, 0, 0, 3, 3]);
    }

    #[test]
    fn jpeg_stuffing_and_one_padding() {
        let mut w = JpegBitWriter::new();
        w.put_bits(0xFF, 8);
        w.put_bits(0b1, 1);
        assert_eq!(w.finish(), vec![0xFF, 0x00, 0xFF, 0x00]);
        let mut w = JpegBitWriter::new();
        w.put_bits(0b00, 2);
        assert_eq!(w.finish(), vec![0b0011_1111]);
    }
}
