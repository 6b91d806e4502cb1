//! A minimal H.264 (ITU-T H.264 | ISO/IEC 14496-10) bitstream generator.
//!
//! Constrained Baseline profile, CAVLC, one slice per picture, 4:2:0 8-bit:
//!
//! * an IDR picture of `I_16x16` macroblocks showing vertical luma bars tinted with a colour
//!   derived from the seed. Only the macroblocks where a bar starts (top row) carry one DC
//!   coefficient; every other macroblock is predicted from its neighbour (horizontal prediction on
//!   the top row, vertical below) with no residual: 6 bits per macroblock;
//! * P pictures made of one `mb_skip_run` covering every macroblock (a copy of the reference);
//! * filler-data NAL units (type 12) to pad every access unit to one uniform size.
//!
//! QP 28 and `chroma_qp_index_offset` -6 make one DC level step exactly one sample value, so the
//! reconstructed picture is exact (see `tests::dc_dequantisation_is_exact`).

use super::bits::{escape_rbsp, BitWriter};
use super::piece::{SplitMix64, Template};

/// Luma QP of every slice (pic_init_qp_minus26 = 2, slice_qp_delta = 0).
const QP: i32 = 28;
/// PPS chroma_qp_index_offset: chroma QP 22.
const CHROMA_QP_OFFSET: i32 = -6;
/// NAL length prefix in the MP4 samples (avcC lengthSizeMinusOne = 3).
pub(crate) const NAL_LENGTH_SIZE: u64 = 4;
/// Bytes of an empty filler NAL unit with its length prefix: length, header 0x0C, trailing 0x80.
pub(crate) const FILLER_OVERHEAD: u64 = NAL_LENGTH_SIZE + 2;
/// Largest frame size in macroblocks (level 6.2's MaxFS).
pub(crate) const MAX_FRAME_MBS: u64 = 139_264;
/// Largest width or height in macroblocks (sqrt(8 * MaxFS) for level 6.2).
pub(crate) const MAX_SIDE_MBS: u64 = 1055;

/// Levels of Table A-1: (level_idc, MaxMBPS, MaxFS, MaxBR in 1000 bit/s for Baseline/Main).
const LEVELS: [(u8, u64, u64, u64); 19] = [
    (10, 1_485, 99, 64),
    (11, 3_000, 396, 192),
    (12, 6_000, 396, 384),
    (13, 11_880, 396, 768),
    (20, 11_880, 396, 2_000),
    (21, 19_800, 792, 4_000),
    (22, 20_250, 1_620, 4_000),
    (30, 40_500, 1_620, 10_000),
    (31, 108_000, 3_600, 14_000),
    (32, 216_000, 5_120, 20_000),
    (40, 245_760, 8_192, 20_000),
    (41, 245_760, 8_192, 50_000),
    (42, 522_240, 8_704, 50_000),
    (50, 589_824, 22_080, 135_000),
    (51, 983_040, 36_864, 240_000),
    (52, 2_073_600, 36_864, 240_000),
    (60, 4_177_920, 139_264, 240_000),
    (61, 8_355_840, 139_264, 480_000),
    (62, 16_711_680, 139_264, 800_000),
];

/// Geometry and picture of a generated H.264 stream.
#[derive(Debug, Clone)]
pub(crate) struct H264Stream {
    /// displayed width (even)
    pub(crate) width: u32,
    /// displayed height (even)
    pub(crate) height: u32,
    pub(crate) fps: u32,
    mb_w: u32,
    mb_h: u32,
    /// frames per GOP: an IDR picture, then `gop - 1` P pictures
    pub(crate) gop: u32,
    log2_max_frame_num: u32,
    /// luma of each bar (left to right)
    bars: Vec<u8>,
    cb: u8,
    cr: u8,
}

impl H264Stream {
    /// A stream for a `width` x `height` picture (rounded up to even sizes, as 4:2:0 cropping
    /// needs) at `fps` frames per second, with a picture derived from `seed`.
    ///
    /// The caller validates sizes: 1..=MAX_SIDE_MBS*16, at most MAX_FRAME_MBS macroblocks.
    pub(crate) fn new(width: u32, height: u32, fps: u32, gop_secs: u32, seed: u64) -> Self {
        let width = width.saturating_add(width & 1);
        let height = height.saturating_add(height & 1);
        let mb_w = width.div_ceil(16);
        let mb_h = height.div_ceil(16);
        // at most 65536 frames, so frame_num fits 16 bits without wrapping
        let gop = fps.saturating_mul(gop_secs).clamp(2, 1 << 16);
        // frame_num counts 0..gop-1 inside a GOP: no wrap
        let log2_max_frame_num = (32 - (gop - 1).leading_zeros()).clamp(4, 16);
        let mut rng = SplitMix64::new(seed ^ 0x6832_3634_6261_7273);
        let nbars = mb_w.min(8) as usize;
        // a staircase from light to dark, rotated by the seed
        let rot = rng.below(nbars as u64) as usize;
        let bars = (0..nbars)
            .map(|i| {
                let step = (i + rot) % nbars;
                // 16..=235 (video range); nbars >= 1
                (235 - (219 * step) / nbars.max(2).saturating_sub(1).max(1)).clamp(16, 235) as u8
            })
            .collect();
        let cb = (88 + rng.below(81)) as u8;
        let cr = (88 + rng.below(81)) as u8;
        Self { width, height, fps, mb_w, mb_h, gop, log2_max_frame_num, bars, cb, cr }
    }

    /// Macroblocks per picture.
    pub(crate) fn mbs(&self) -> u64 {
        u64::from(self.mb_w) * u64::from(self.mb_h)
    }

    /// Luma value of the bar covering macroblock column `mb_x`.
    fn bar_luma(&self, mb_x: u32) -> u8 {
        let n = self.bars.len() as u64;
        let i = (u64::from(mb_x) * n / u64::from(self.mb_w.max(1))) as usize;
        self.bars.get(i).copied().unwrap_or(128)
    }

    /// The expected decoded picture (tests): luma of pixel column `x`, and the (Cb, Cr) tint.
    #[cfg(test)]
    pub(crate) fn expected_luma(&self, x: u32) -> u8 {
        self.bar_luma(x / 16)
    }

    /// The (Cb, Cr) of every pixel (tests).
    #[cfg(test)]
    pub(crate) fn expected_chroma(&self) -> (u8, u8) {
        (self.cb, self.cr)
    }

    /// The lowest level (Table A-1) that allows this stream at `bits_per_second` (filler
    /// data included, as NAL HRD counts it). Level 6.2 when none does.
    pub(crate) fn level_idc(&self, bits_per_second: u64) -> u8 {
        let fs = self.mbs();
        let mbps = fs.saturating_mul(u64::from(self.fps));
        for &(idc, max_mbps, max_fs, max_br) in &LEVELS {
            let side_limit = isqrt(max_fs * 8);
            if mbps <= max_mbps
                && fs <= max_fs
                && u64::from(self.mb_w) <= side_limit
                && u64::from(self.mb_h) <= side_limit
                && bits_per_second <= max_br.saturating_mul(1200)
            {
                return idc;
            }
        }
        62
    }

    /// The sequence parameter set NAL unit (header included, escaped).
    pub(crate) fn sps(&self, level_idc: u8) -> Vec<u8> {
        let mut w = BitWriter::new();
        w.put_bits(66, 8); // profile_idc: Baseline
        w.put_bits(0b1100_0000, 8); // constraint_set0 + set1: Constrained Baseline
        w.put_bits(u32::from(level_idc), 8);
        w.put_ue(0); // seq_parameter_set_id
        w.put_ue(u64::from(self.log2_max_frame_num - 4));
        w.put_ue(2); // pic_order_cnt_type 2: output order = decoding order
        w.put_ue(1); // max_num_ref_frames
        w.put_bit(false); // gaps_in_frame_num_value_allowed_flag
        w.put_ue(u64::from(self.mb_w - 1));
        w.put_ue(u64::from(self.mb_h - 1));
        w.put_bit(true); // frame_mbs_only_flag
        w.put_bit(true); // direct_8x8_inference_flag
        let crop_right = (self.mb_w * 16 - self.width) / 2;
        let crop_bottom = (self.mb_h * 16 - self.height) / 2;
        let cropping = crop_right > 0 || crop_bottom > 0;
        w.put_bit(cropping);
        if cropping {
            w.put_ue(0);
            w.put_ue(u64::from(crop_right));
            w.put_ue(0);
            w.put_ue(u64::from(crop_bottom));
        }
        w.put_bit(true); // vui_parameters_present_flag
        w.put_bit(true); // aspect_ratio_info_present_flag
        w.put_bits(1, 8); // aspect_ratio_idc 1: square samples
        w.put_bit(false); // overscan_info_present_flag
        w.put_bit(false); // video_signal_type_present_flag
        w.put_bit(false); // chroma_loc_info_present_flag
        w.put_bit(true); // timing_info_present_flag
        w.put_bits(1, 32); // num_units_in_tick
        w.put_bits(self.fps.saturating_mul(2), 32); // time_scale: two ticks per frame
        w.put_bit(true); // fixed_frame_rate_flag
        w.put_bit(false); // nal_hrd_parameters_present_flag
        w.put_bit(false); // vcl_hrd_parameters_present_flag
        w.put_bit(false); // pic_struct_present_flag
        w.put_bit(true); // bitstream_restriction_flag
        w.put_bit(true); // motion_vectors_over_pic_boundaries_flag
        w.put_ue(0); // max_bytes_per_pic_denom: no limit
        w.put_ue(0); // max_bits_per_mb_denom: no limit
        w.put_ue(15); // log2_max_mv_length_horizontal
        w.put_ue(15); // log2_max_mv_length_vertical
        w.put_ue(0); // max_num_reorder_frames
        w.put_ue(1); // max_dec_frame_buffering
        w.rbsp_trailing_bits();
        nal(3, 7, w)
    }

    /// The picture parameter set NAL unit.
    pub(crate) fn pps(&self) -> Vec<u8> {
        let mut w = BitWriter::new();
        w.put_ue(0); // pic_parameter_set_id
        w.put_ue(0); // seq_parameter_set_id
        w.put_bit(false); // entropy_coding_mode_flag: CAVLC
        w.put_bit(false); // bottom_field_pic_order_in_frame_present_flag
        w.put_ue(0); // num_slice_groups_minus1
        w.put_ue(0); // num_ref_idx_l0_default_active_minus1
        w.put_ue(0); // num_ref_idx_l1_default_active_minus1
        w.put_bit(false); // weighted_pred_flag
        w.put_bits(0, 2); // weighted_bipred_idc
        w.put_se(QP - 26); // pic_init_qp_minus26
        w.put_se(0); // pic_init_qs_minus26
        w.put_se(CHROMA_QP_OFFSET);
        w.put_bit(true); // deblocking_filter_control_present_flag
        w.put_bit(false); // constrained_intra_pred_flag
        w.put_bit(false); // redundant_pic_cnt_present_flag
        w.rbsp_trailing_bits();
        nal(3, 8, w)
    }

    /// The IDR picture's slice NAL unit.
    pub(crate) fn idr_slice(&self) -> Vec<u8> {
        let mut w = BitWriter::new();
        w.put_ue(0); // first_mb_in_slice
        w.put_ue(7); // slice_type: I (all slices)
        w.put_ue(0); // pic_parameter_set_id
        w.put_bits(0, self.log2_max_frame_num); // frame_num
        w.put_ue(0); // idr_pic_id
        w.put_bit(false); // no_output_of_prior_pics_flag
        w.put_bit(false); // long_term_reference_flag
        w.put_se(0); // slice_qp_delta
        w.put_ue(1); // disable_deblocking_filter_idc: off (a flat picture needs none)
        for y in 0..self.mb_h {
            for x in 0..self.mb_w {
                self.write_intra_mb(&mut w, x, y);
            }
        }
        w.rbsp_trailing_bits();
        nal(3, 5, w)
    }

    /// One `I_16x16` macroblock of the IDR picture.
    fn write_intra_mb(&self, w: &mut BitWriter, x: u32, y: u32) {
        let luma = i32::from(self.bar_luma(x));
        if x == 0 && y == 0 {
            // DC prediction from nothing (128), plus the first bar and the tint as DC levels
            w.put_ue(7); // mb_type I_16x16_2_1_0: DC prediction, chroma DC coded, no luma AC
            w.put_ue(0); // intra_chroma_pred_mode: DC
            w.put_se(0); // mb_qp_delta
            write_dc_block(w, luma - 128, false);
            write_dc_block(w, i32::from(self.cb) - 128, true);
            write_dc_block(w, i32::from(self.cr) - 128, true);
        } else if y == 0 {
            // horizontal prediction from the left macroblock, plus the step to this bar
            let left = i32::from(self.bar_luma(x - 1));
            w.put_ue(2); // mb_type I_16x16_1_0_0: horizontal prediction, no coded chroma
            w.put_ue(0); // intra_chroma_pred_mode: DC (flat chroma)
            w.put_se(0);
            write_dc_block(w, luma - left, false);
        } else {
            // vertical prediction: a copy of the macroblock above
            w.put_ue(1); // mb_type I_16x16_0_0_0
            w.put_ue(0);
            w.put_se(0);
            write_dc_block(w, 0, false);
        }
    }

    /// The slice NAL unit of the P picture at position `index` (1..gop) of its GOP.
    pub(crate) fn p_slice(&self, index: u32) -> Vec<u8> {
        let mut w = BitWriter::new();
        w.put_ue(0); // first_mb_in_slice
        w.put_ue(5); // slice_type: P (all slices)
        w.put_ue(0); // pic_parameter_set_id
        let max_frame_num = 1u32 << self.log2_max_frame_num;
        w.put_bits(index % max_frame_num, self.log2_max_frame_num); // frame_num
        w.put_bit(false); // num_ref_idx_active_override_flag
        w.put_bit(false); // ref_pic_list_modification_flag_l0
        w.put_bit(false); // adaptive_ref_pic_marking_mode_flag
        w.put_se(0); // slice_qp_delta
        w.put_ue(1); // disable_deblocking_filter_idc
        w.put_ue(self.mbs()); // mb_skip_run: every macroblock is P_Skip
        w.rbsp_trailing_bits();
        nal(2, 1, w)
    }

    /// The slice NAL units of the GOP positions `0..gop` (IDR first), each with its 4-byte
    /// length prefix.
    pub(crate) fn slice_units(&self) -> Vec<Vec<u8>> {
        (0..self.gop)
            .map(|i| {
                let n = if i == 0 { self.idr_slice() } else { self.p_slice(i) };
                length_prefixed(&n)
            })
            .collect()
    }
}

/// A video sample of exactly `size` bytes: the length-prefixed slice `unit`, then a filler NAL
/// unit for the rest. `size` must be `unit.len()` or at least `unit.len() + FILLER_OVERHEAD`.
pub(crate) fn padded_sample(unit: &[u8], size: u64) -> Option<Template> {
    let used = unit.len() as u64;
    let mut t = Template::from_bytes(unit.to_vec());
    if size == used {
        return Some(t);
    }
    let ff = size.checked_sub(used)?.checked_sub(FILLER_OVERHEAD)?;
    // NAL length: header byte + ff bytes + trailing byte
    let nal_len = u32::try_from(ff.checked_add(2)?).ok()?;
    let mut head = nal_len.to_be_bytes().to_vec();
    head.push(0x0C); // nal_ref_idc 0, nal_unit_type 12: filler data
    t.push_bytes(head);
    t.push_run(0xFF, ff);
    t.push_bytes(vec![0x80]); // rbsp_trailing_bits
    Some(t)
}

/// Whether every unit can be padded to `size` bytes (exactly, or with room for a filler unit).
pub(crate) fn size_fits_all(units: &[Vec<u8>], size: u64) -> bool {
    units.iter().all(|u| {
        let l = u.len() as u64;
        size == l || size >= l.saturating_add(FILLER_OVERHEAD)
    })
}

/// The smallest uniform sample size that every unit can be padded to.
pub(crate) fn min_uniform_size(units: &[Vec<u8>]) -> u64 {
    let max = units.iter().map(|u| u.len() as u64).max().unwrap_or(0);
    (max..=max + FILLER_OVERHEAD).find(|&s| size_fits_all(units, s)).unwrap_or(max + FILLER_OVERHEAD)
}

/// The largest valid uniform sample size <= `at_most` (>= `min_uniform_size`).
pub(crate) fn largest_fitting_size(units: &[Vec<u8>], at_most: u64) -> u64 {
    let min = min_uniform_size(units);
    let mut s = at_most.max(min);
    while s > min && !size_fits_all(units, s) {
        s -= 1;
    }
    s
}

fn length_prefixed(nal: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(nal.len() + 4);
    // NAL units here are far below 4 GiB (at most ~140 KB)
    v.extend_from_slice(&u32::try_from(nal.len()).unwrap_or(u32::MAX).to_be_bytes());
    v.extend_from_slice(nal);
    v
}

/// A NAL unit: header byte, then the escaped RBSP.
fn nal(ref_idc: u8, unit_type: u8, rbsp: BitWriter) -> Vec<u8> {
    let body = rbsp.into_bytes();
    let mut v = Vec::with_capacity(body.len() + 8);
    v.push((ref_idc << 5) | unit_type);
    v.extend_from_slice(&escape_rbsp(&body));
    v
}

/// A CAVLC residual block holding at most one non-zero coefficient, the first in scan order:
/// an `Intra16x16DCLevel` block (nC = 0, 16 coefficients) or a chroma DC block (nC = -1, 4).
fn write_dc_block(w: &mut BitWriter, level: i32, chroma_dc: bool) {
    if level == 0 {
        // coeff_token TotalCoeff 0 (Table 9-5)
        if chroma_dc {
            w.put_bits(0b01, 2);
        } else {
            w.put_bits(0b1, 1);
        }
        return;
    }
    if level.abs() == 1 {
        // TrailingOnes 1, TotalCoeff 1, then trailing_ones_sign_flag
        if chroma_dc {
            w.put_bits(0b1, 1);
        } else {
            w.put_bits(0b01, 2);
        }
        w.put_bit(level < 0);
    } else {
        // TrailingOnes 0, TotalCoeff 1
        if chroma_dc {
            w.put_bits(0b000111, 6);
        } else {
            w.put_bits(0b000101, 6);
        }
        write_first_level(w, level);
    }
    // total_zeros 0 for TotalCoeff 1 (Tables 9-7 and 9-9a): "1"; no run_before
    w.put_bits(0b1, 1);
}

/// level_prefix / level_suffix of the first coefficient of a block without trailing ones
/// (suffixLength 0, levelCode offset by 2; 9.2.2.1). `|level|` >= 2 and < 2048.
fn write_first_level(w: &mut BitWriter, level: i32) {
    let code = if level > 0 { 2 * level - 2 } else { -2 * level - 1 } - 2;
    let code = code.max(0) as u32;
    if code < 14 {
        w.put_bits(0, code);
        w.put_bits(1, 1);
    } else if code < 30 {
        w.put_bits(0, 14);
        w.put_bits(1, 1);
        w.put_bits(code - 14, 4);
    } else {
        w.put_bits(0, 15);
        w.put_bits(1, 1);
        w.put_bits((code - 30).min(4095), 12);
    }
}

fn isqrt(v: u64) -> u64 {
    let mut r = (v as f64).sqrt() as u64;
    while r * r > v {
        r -= 1;
    }
    while (r + 1) * (r + 1) <= v {
        r += 1;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dc_dequantisation_is_exact() {
        // 8.5.10: luma DC at qP 28 (>= 36 is the other branch): (f * LevelScale(4,0,0) + 2) >> 2,
        // then the 4x4 inverse transform of a DC-only block: (d + 32) >> 6.
        let level_scale = 16 * 16; // weightScale 16 * normAdjust(4,0,0) 16
        let qp = QP as u32;
        assert_eq!(qp % 6, 4);
        for f in -255i32..=255 {
            let dcy = (f * level_scale + (1 << (5 - qp / 6))) >> (6 - qp / 6);
            assert_eq!((dcy + 32) >> 6, f);
        }
        // 8.5.11.2: chroma DC at QPc 22: ((f * LevelScale(4,0,0)) << (22/6)) >> 5
        let qpc = (QP + CHROMA_QP_OFFSET) as u32;
        assert_eq!(qpc, 22);
        for f in -255i32..=255 {
            let dcc = ((f * level_scale) << (qpc / 6)) >> 5;
            assert_eq!((dcc + 32) >> 6, f);
        }
    }

    /// Decode a CAVLC level written by `write_first_level` (9.2.2.1) as a check.
    fn decode_first_level(bits: &str) -> i32 {
        let prefix = bits.find('1').unwrap() as u32;
        let rest = &bits[prefix as usize + 1..];
        let suffix_size = if prefix == 14 {
            4
        } else if prefix >= 15 {
            prefix - 3
        } else {
            0
        };
        let suffix =
            if suffix_size > 0 { u32::from_str_radix(&rest[..suffix_size as usize], 2).unwrap() } else { 0 };
        let mut code = (prefix.min(15) + suffix) as i32;
        if prefix >= 15 {
            code += 15;
        }
        code += 2;
        if code % 2 == 0 {
            (code + 2) >> 1
        } else {
            (-code - 1) >> 1
        }
    }

    #[test]
    fn cavlc_levels_round_trip() {
        for level in (-300i32..=300).filter(|l| l.abs() >= 2) {
            let mut w = BitWriter::new();
            write_first_level(&mut w, level);
            let n = w.bit_len() as usize;
            let s: String = w.into_bytes().iter().map(|b| format!("{b:08b}")).collect();
            assert_eq!(decode_first_level(&s[..n]), level, "level {level}");
        }
    }

    #[test]
    fn intra_macroblocks_cost_six_bits() {
        let s = H264Stream::new(1920, 1080, 25, 2, 7);
        assert_eq!(s.mbs(), 120 * 68);
        let idr = s.idr_slice();
        // 6 bits per macroblock, plus a few bytes of header and bar steps
        let body = s.mbs() * 6 / 8;
        assert!(idr.len() as u64 >= body && (idr.len() as u64) < body + 64, "{}", idr.len());
        assert_eq!(idr[0], 0x65);
        let p = s.p_slice(1);
        assert_eq!(p[0], 0x41);
        assert!(p.len() < 16);
    }

    #[test]
    fn geometry_and_cropping() {
        let s = H264Stream::new(1279, 719, 30, 2, 1);
        assert_eq!((s.width, s.height), (1280, 720));
        assert_eq!((s.mb_w, s.mb_h), (80, 45));
        let s = H264Stream::new(1920, 1080, 25, 2, 1);
        assert_eq!((s.mb_w, s.mb_h), (120, 68));
        let s = H264Stream::new(1, 1, 1, 2, 1);
        assert_eq!((s.width, s.height, s.mb_w, s.mb_h, s.gop), (2, 2, 1, 1, 2));
        assert_eq!(s.bars.len(), 1);
    }

    #[test]
    fn levels() {
        let s = H264Stream::new(1920, 1080, 25, 2, 1);
        assert_eq!(s.level_idc(2_000_000), 40);
        assert_eq!(s.level_idc(30_000_000), 41);
        let s = H264Stream::new(1280, 720, 25, 2, 1);
        assert_eq!(s.level_idc(1_000_000), 31);
        let s = H264Stream::new(176, 144, 15, 2, 1);
        assert_eq!(s.level_idc(50_000), 10);
        let s = H264Stream::new(3840, 2160, 60, 2, 1);
        assert_eq!(s.level_idc(10_000_000), 52);
    }

    #[test]
    fn uniform_sizes_respect_filler_minimum() {
        let units = vec![vec![0u8; 10], vec![0u8; 8], vec![0u8; 3]];
        // 10 fits unit 0 exactly but leaves 2 bytes (< 6) for unit 1; 11..=15 leave 1..=5 for
        // unit 0
        assert_eq!(min_uniform_size(&units), 16);
        assert!(size_fits_all(&units, 16));
        assert!(!size_fits_all(&units, 15));
        assert_eq!(largest_fitting_size(&units, 15), 16);
        assert_eq!(largest_fitting_size(&units, 21), 21);
        assert_eq!(largest_fitting_size(&units, 100), 100);
        let t = padded_sample(&units[1], 14).unwrap();
        assert_eq!(t.len(), 14);
        let v = t.to_vec();
        assert_eq!(&v[8..], &[0, 0, 0, 2, 0x0C, 0x80]);
        assert!(padded_sample(&units[1], 9).is_none());
        assert_eq!(padded_sample(&units[0], 10).unwrap().len(), 10);
    }

    #[test]
    fn bars_are_video_range() {
        for seed in 0..50 {
            let s = H264Stream::new(640, 360, 25, 2, seed);
            assert!(s.bars.iter().all(|&b| (16..=235).contains(&b)));
            assert!((88..=168).contains(&s.cb) && (88..=168).contains(&s.cr));
        }
    }
}
