//! Baseline JPEG (ITU T.81, JFIF) images of colour bars, written by hand.
//!
//! 4:2:0 YCbCr, one quantisation table (8 everywhere: a flat 8x8 block's DC level is its sample
//! value minus 128), the standard DC Huffman tables of Annex K.3 and a two-symbol AC table (only
//! end-of-block is used: every block is flat). Bars are whole MCU columns and a restart interval
//! of one MCU row resets the DC predictors, so every MCU row is the same bytes: the scan is one
//! stored row repeated, with `RSTm` markers between rows — a 65535x65535 image costs a few KB.
//!
//! Size: an image is padded to the target with COM segments after the APP0 segment (and, for a
//! remainder of 1–3 bytes, with `0xFF` fill bytes before the next marker, B.1.1.2).
//!
//! The EOI marker is preceded by two `0xFF` fill bytes (B.1.1.2 allows any number): FFmpeg 5.1's
//! stream probing skips the scan one byte too far and would otherwise miss EOI, printing
//! "EOI missing, emulating" even for its own JPEGs.

use super::bits::JpegBitWriter;
use super::piece::{SplitMix64, Template};
use super::{MediaError, Region, Summary};

/// Annex K.3 Table K.3: luminance DC code lengths (counts per length 1..=16), symbols 0..=11.
const DC_LUMA_BITS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
/// Annex K.3 Table K.4: chrominance DC.
const DC_CHROMA_BITS: [u8; 16] = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
/// AC table: EOB (0x00) on 1 bit, ZRL (0xF0) on 2 bits.
const AC_BITS: [u8; 16] = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const AC_SYMBOLS: [u8; 2] = [0x00, 0xF0];
/// Largest COM segment: marker (2) + length field (2) + 65533 bytes.
const COM_MAX: u64 = 65_537;
const COM_MIN: u64 = 4;

/// 75% colour bars (R, G, B).
const BARS: [(i32, i32, i32); 7] =
    [(191, 191, 191), (191, 191, 0), (0, 191, 191), (0, 191, 0), (191, 0, 191), (191, 0, 0), (0, 0, 191)];

/// Validate an image size.
pub(crate) fn validate(width: u32, height: u32) -> Result<(), MediaError> {
    if width == 0 || height == 0 || width > 65_535 || height > 65_535 {
        return Err(MediaError::UnsupportedImage(format!("{width}x{height} (1..=65535 each)")));
    }
    Ok(())
}

/// Canonical Huffman codes (Annex C) for symbols `0..` with these length counts: (code, length).
fn huffman_codes(bits: &[u8; 16]) -> Vec<(u32, u32)> {
    let mut codes = Vec::new();
    let mut code = 0u32;
    for (i, &count) in bits.iter().enumerate() {
        for _ in 0..count {
            codes.push((code, i as u32 + 1));
            code += 1;
        }
        code <<= 1;
    }
    codes
}

/// JFIF YCbCr (full range) of an RGB colour.
fn ycbcr(r: i32, g: i32, b: i32) -> (i32, i32, i32) {
    let y = (77 * r + 150 * g + 29 * b + 128) >> 8;
    let cb = ((-43 * r - 85 * g + 128 * b + 128) >> 8) + 128;
    let cr = ((128 * r - 107 * g - 21 * b + 128) >> 8) + 128;
    (y.clamp(0, 255), cb.clamp(0, 255), cr.clamp(0, 255))
}

/// The picture: per MCU column, the (Y, Cb, Cr) of its bar.
struct Picture {
    mcu_w: u32,
    mcu_h: u32,
    columns: Vec<(i32, i32, i32)>,
}

impl Picture {
    fn new(width: u32, height: u32, seed: u64) -> Self {
        let mcu_w = width.div_ceil(16);
        let mcu_h = height.div_ceil(16);
        let rot = SplitMix64::new(seed ^ 0x6A70_6567).below(BARS.len() as u64) as usize;
        let columns = (0..mcu_w)
            .map(|x| {
                let i = (u64::from(x) * BARS.len() as u64 / u64::from(mcu_w)) as usize;
                let (r, g, b) = BARS[(i + rot) % BARS.len()];
                ycbcr(r, g, b)
            })
            .collect();
        Self { mcu_w, mcu_h, columns }
    }

    /// The entropy-coded bytes of one MCU row (one restart interval).
    fn row(&self) -> Vec<u8> {
        let dc_luma = huffman_codes(&DC_LUMA_BITS);
        let dc_chroma = huffman_codes(&DC_CHROMA_BITS);
        let ac = huffman_codes(&AC_BITS);
        let eob = ac[0];
        let mut w = JpegBitWriter::new();
        let mut pred = [0i32; 3];
        for &(y, cb, cr) in &self.columns {
            for (comp, value, blocks) in [(0usize, y, 4), (1, cb, 1), (2, cr, 1)] {
                let table = if comp == 0 { &dc_luma } else { &dc_chroma };
                for _ in 0..blocks {
                    let dc = value - 128;
                    let diff = dc - pred[comp];
                    pred[comp] = dc;
                    let cat = 32 - diff.unsigned_abs().leading_zeros();
                    let (code, len) = table[cat as usize];
                    w.put_bits(code, len);
                    if cat > 0 {
                        // negative differences are sent as diff - 1 in `cat` bits (F.1.2.1)
                        let bits = if diff < 0 { diff - 1 } else { diff };
                        w.put_bits(bits as u32, cat);
                    }
                    w.put_bits(eob.0, eob.1);
                }
            }
        }
        w.finish()
    }

    #[cfg(test)]
    fn expected(&self, mcu_x: u32) -> (i32, i32, i32) {
        self.columns[mcu_x as usize]
    }
}

/// The scan: `rows` copies of `row`, separated by RSTm markers.
#[derive(Debug, Clone)]
pub(crate) struct Scan {
    row: Vec<u8>,
    rows: u64,
}

impl Scan {
    fn stride(&self) -> u64 {
        self.row.len() as u64 + 2
    }

    pub(crate) fn len(&self) -> u64 {
        self.rows * self.stride() - 2
    }

    pub(crate) fn stored_bytes(&self) -> usize {
        self.row.len()
    }

    pub(crate) fn read_at(&self, pos: u64, out: &mut [u8]) -> usize {
        let len = self.len();
        let row_len = self.row.len() as u64;
        let mut pos = pos;
        let mut written = 0;
        while written < out.len() && pos < len {
            let r = pos / self.stride();
            let within = pos % self.stride();
            let dst = &mut out[written..];
            let n = if within < row_len {
                // within < row.len(), a usize
                let src = &self.row[within as usize..];
                let n = src.len().min(dst.len());
                dst[..n].copy_from_slice(&src[..n]);
                n
            } else {
                let marker = [0xFF, 0xD0 + (r % 8) as u8];
                let src = &marker[(within - row_len) as usize..];
                let n = src.len().min(dst.len());
                dst[..n].copy_from_slice(&src[..n]);
                n
            };
            written += n;
            pos += n as u64;
        }
        written
    }
}

/// Padding: `full` COM segments of the largest size, then the `tail` segments, then `fill`
/// bytes 0xFF.
#[derive(Debug, Clone)]
pub(crate) struct Padding {
    full: u64,
    tail: Vec<u64>,
    fill: u64,
}

impl Padding {
    fn new(total: u64) -> Self {
        if total < COM_MIN {
            return Self { full: 0, tail: Vec::new(), fill: total };
        }
        let q = total / COM_MAX;
        let r = total % COM_MAX;
        let (full, tail) = match (r, q) {
            (0, _) => (q, Vec::new()),
            (r, _) if r >= COM_MIN => (q, vec![r]),
            // 1..=3 left over: split the last full segment and the rest into two
            (r, q) => (q - 1, vec![COM_MAX - COM_MIN + r, COM_MIN]),
        };
        Self { full, tail, fill: 0 }
    }

    pub(crate) fn len(&self) -> u64 {
        self.full * COM_MAX + self.tail.iter().sum::<u64>() + self.fill
    }

    /// Byte `i` of a COM segment of `size` bytes.
    fn segment_byte(size: u64, i: u64) -> u8 {
        let len = size - 2;
        match i {
            0 => 0xFF,
            1 => 0xFE,
            2 => (len >> 8) as u8,
            3 => len as u8,
            _ => 0,
        }
    }

    pub(crate) fn read_at(&self, pos: u64, out: &mut [u8]) -> usize {
        let mut pos = pos;
        let mut written = 0;
        let len = self.len();
        while written < out.len() && pos < len {
            // locate the segment
            let (size, start) = if pos < self.full * COM_MAX {
                (COM_MAX, pos / COM_MAX * COM_MAX)
            } else {
                let mut start = self.full * COM_MAX;
                let mut found = None;
                for &s in &self.tail {
                    if pos < start + s {
                        found = Some((s, start));
                        break;
                    }
                    start += s;
                }
                match found {
                    Some(f) => f,
                    None => {
                        // fill bytes
                        let n = usize::try_from(len - pos).unwrap_or(usize::MAX);
                        let n = n.min(out.len() - written);
                        out[written..written + n].fill(0xFF);
                        written += n;
                        pos += n as u64;
                        continue;
                    }
                }
            };
            let i = pos - start;
            if i < 4 {
                out[written] = Self::segment_byte(size, i);
                written += 1;
                pos += 1;
            } else {
                let n = usize::try_from(size - i).unwrap_or(usize::MAX);
                let n = n.min(out.len() - written);
                out[written..written + n].fill(0);
                written += n;
                pos += n as u64;
            }
        }
        written
    }
}

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xFF, marker];
    // bodies here are far below 64 KB
    v.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// The header parts before and after the padding, and the scan.
fn parts(width: u32, height: u32, seed: u64) -> (Vec<u8>, Vec<u8>, Scan) {
    let pic = Picture::new(width, height, seed);
    let mut head = vec![0xFF, 0xD8]; // SOI
    head.extend(segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")); // APP0
    let mut tables = Vec::new();
    let mut dqt = vec![0x00]; // 8-bit, table 0
    dqt.extend([8u8; 64]);
    tables.extend(segment(0xDB, &dqt));
    let mut sof = vec![8];
    sof.extend_from_slice(&(height as u16).to_be_bytes());
    sof.extend_from_slice(&(width as u16).to_be_bytes());
    sof.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0]);
    tables.extend(segment(0xC0, &sof)); // SOF0
    let mut dht = Vec::new();
    for (class_id, bits, symbols) in [
        (0x00u8, &DC_LUMA_BITS, &(0u8..12).collect::<Vec<_>>()),
        (0x01, &DC_CHROMA_BITS, &(0u8..12).collect::<Vec<_>>()),
        (0x10, &AC_BITS, &AC_SYMBOLS.to_vec()),
        (0x11, &AC_BITS, &AC_SYMBOLS.to_vec()),
    ] {
        dht.push(class_id);
        dht.extend_from_slice(bits);
        dht.extend_from_slice(symbols);
    }
    tables.extend(segment(0xC4, &dht));
    // restart interval: one MCU row (mcu_w <= 4096)
    tables.extend(segment(0xDD, &(pic.mcu_w as u16).to_be_bytes()));
    tables.extend(segment(0xDA, &[3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0])); // SOS
    let scan = Scan { row: pic.row(), rows: u64::from(pic.mcu_h) };
    (head, tables, scan)
}

/// The smallest JPEG for this size.
pub(crate) fn min_size(width: u32, height: u32, seed: u64) -> Result<u64, MediaError> {
    let (head, tables, scan) = parts(width, height, seed);
    Ok(head.len() as u64 + tables.len() as u64 + scan.len() + EOI.len() as u64)
}

/// Two fill bytes, then the EOI marker.
const EOI: [u8; 4] = [0xFF, 0xFF, 0xFF, 0xD9];

/// The regions of the file.
pub(crate) fn build(
    width: u32,
    height: u32,
    target: u64,
    seed: u64,
) -> Result<(Vec<Region>, Summary), MediaError> {
    let (head, tables, scan) = parts(width, height, seed);
    let min = head.len() as u64 + tables.len() as u64 + scan.len() + EOI.len() as u64;
    let padding = Padding::new(target.saturating_sub(min));
    let header_len = head.len() as u64 + padding.len() + tables.len() as u64;
    let summary = Summary {
        content_type: "image/jpeg",
        extension: "jpg",
        header_len,
        video_size: (width, height),
        padding: padding.len(),
        ..Summary::default()
    };
    let eoi = Template::from_bytes(EOI.to_vec());
    Ok((
        vec![
            Region::Bytes(head),
            Region::JpegPadding(padding),
            Region::Bytes(tables),
            Region::JpegScan(scan),
            Region::Template(eoi),
        ],
        summary,
    ))
}

#[cfg(test)]
pub(crate) fn expected_colour(width: u32, height: u32, seed: u64, x: u32) -> (i32, i32, i32) {
    Picture::new(width, height, seed).expected(x / 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_dc_codes() {
        let c = huffman_codes(&DC_LUMA_BITS);
        assert_eq!(c[0], (0b00, 2));
        assert_eq!(c[1], (0b010, 3));
        assert_eq!(c[5], (0b110, 3));
        assert_eq!(c[6], (0b1110, 4));
        assert_eq!(c[11], (0b1_1111_1110, 9));
        let c = huffman_codes(&DC_CHROMA_BITS);
        assert_eq!(c[2], (0b10, 2));
        assert_eq!(c[11], (0b111_1111_1110, 11));
        let c = huffman_codes(&AC_BITS);
        assert_eq!(c, vec![(0, 1), (0b10, 2)]);
    }

    #[test]
    fn padding_sizes() {
        for total in (0..20).chain([65_536, 65_537, 65_538, 65_540, 65_541, 131_074, 131_075, 1_000_000]) {
            let p = Padding::new(total);
            assert_eq!(p.len(), total, "{total}");
            assert!(p.tail.iter().all(|&s| (COM_MIN..=COM_MAX).contains(&s)));
            assert!(p.fill < 4);
            if total >= COM_MIN {
                assert_eq!(p.fill, 0);
            }
            // segments are well formed
            let mut buf = vec![0u8; total as usize];
            assert_eq!(p.read_at(0, &mut buf), buf.len());
            let mut i = 0usize;
            while i < buf.len() && buf[i] == 0xFF && buf.get(i + 1) == Some(&0xFE) {
                let len = u16::from_be_bytes([buf[i + 2], buf[i + 3]]) as usize;
                i += 2 + len;
            }
            assert!(buf[i..].iter().all(|&b| b == 0xFF), "{total}");
        }
    }

    #[test]
    fn full_range_colours() {
        assert_eq!(ycbcr(0, 0, 0), (0, 128, 128));
        assert_eq!(ycbcr(255, 255, 255), (255, 128, 128));
        let (y, cb, cr) = ycbcr(191, 0, 0);
        assert!((56..=58).contains(&y) && cb < 128 && cr > 200);
    }
}
