//! Silent AAC-LC raw data blocks (ISO/IEC 14496-3) and their AudioSpecificConfig.
//!
//! A frame is one `single_channel_element` (mono) or one `channel_pair_element` with a common
//! window (stereo) whose `max_sfb` is 0 — no spectral data, so the decoded output is silence —
//! then optional `fill_element`s to reach an exact frame size, then `ID_END`.

use super::bits::BitWriter;

/// PCM samples per AAC-LC frame.
pub(crate) const SAMPLES_PER_FRAME: u64 = 1024;

const ID_SCE: u32 = 0;
const ID_CPE: u32 = 1;
const ID_FIL: u32 = 6;
const ID_END: u32 = 7;

/// Sampling frequencies with an index in Table 1.18 that this generator accepts.
const RATES: [(u32, u32); 9] = [
    (48_000, 3),
    (44_100, 4),
    (32_000, 5),
    (24_000, 6),
    (22_050, 7),
    (16_000, 8),
    (12_000, 9),
    (11_025, 10),
    (8_000, 11),
];

/// The samplingFrequencyIndex of `rate`, if supported.
pub(crate) fn rate_index(rate: u32) -> Option<u32> {
    RATES.iter().find(|(r, _)| *r == rate).map(|(_, i)| *i)
}

/// The 2-byte AudioSpecificConfig: AAC LC, the rate's index, 1 or 2 channels, 1024-sample frames.
pub(crate) fn audio_specific_config(rate: u32, channels: u8) -> Option<[u8; 2]> {
    let idx = rate_index(rate)?;
    let mut w = BitWriter::new();
    w.put_bits(2, 5); // audioObjectType: AAC LC
    w.put_bits(idx, 4);
    w.put_bits(u32::from(channels), 4); // channelConfiguration
    w.put_bit(false); // frameLengthFlag: 1024
    w.put_bit(false); // dependsOnCoreCoder
    w.put_bit(false); // extensionFlag
    let b = w.into_bytes();
    Some([b[0], b[1]])
}

/// Bits of the silent channel element(s) for `channels` (1 or 2).
fn write_silent_elements(w: &mut BitWriter, channels: u8) {
    if channels == 1 {
        w.put_bits(ID_SCE, 3);
        w.put_bits(0, 4); // element_instance_tag
        write_ics(w, true);
    } else {
        w.put_bits(ID_CPE, 3);
        w.put_bits(0, 4); // element_instance_tag
        w.put_bit(true); // common_window
        write_ics_info(w);
        w.put_bits(0, 2); // ms_mask_present: none
        write_ics(w, false);
        write_ics(w, false);
    }
}

/// ics_info for one long window with no scale factor bands.
fn write_ics_info(w: &mut BitWriter) {
    w.put_bit(false); // ics_reserved_bit
    w.put_bits(0, 2); // window_sequence: ONLY_LONG_SEQUENCE
    w.put_bit(false); // window_shape
    w.put_bits(0, 6); // max_sfb: no bands, no spectral data
    w.put_bit(false); // predictor_data_present
}

/// individual_channel_stream with no bands: silence.
fn write_ics(w: &mut BitWriter, with_info: bool) {
    w.put_bits(100, 8); // global_gain (unused: there are no bands)
    if with_info {
        write_ics_info(w);
    }
    // section_data and scale_factor_data are empty for max_sfb 0
    w.put_bit(false); // pulse_data_present
    w.put_bit(false); // tns_data_present
    w.put_bit(false); // gain_control_data_present
}

/// Size in bytes of the smallest silent frame.
pub(crate) fn min_frame_size(channels: u8) -> u64 {
    let mut w = BitWriter::new();
    write_silent_elements(&mut w, channels);
    (w.bit_len() + 3).div_ceil(8)
}

/// Largest frame size: 6144 bits per channel (the decoder input buffer, 4.5.3.1).
pub(crate) fn max_frame_size(channels: u8) -> u64 {
    768 * u64::from(channels)
}

/// A silent frame of exactly `size` bytes (`min_frame_size(channels)..`), padded with
/// `fill_element`s whose extension payload is `EXT_FILL` (0) and `fill_byte`s `10100101`.
pub(crate) fn silent_frame(channels: u8, size: u64) -> Option<Vec<u8>> {
    if size < min_frame_size(channels) {
        return None;
    }
    let target_bits = size.checked_mul(8)?;
    let mut w = BitWriter::new();
    write_silent_elements(&mut w, channels);
    loop {
        // room left for fill elements before ID_END
        let avail = target_bits.checked_sub(w.bit_len() + 3)?;
        if avail < 7 {
            break;
        }
        // a fill element of `cnt` payload bytes costs 7 bits (+8 when cnt >= 15) + 8 * cnt
        let cnt =
            if avail >= 15 + 8 * 15 { ((avail - 15) / 8).min(15 + 254) } else { ((avail - 7) / 8).min(14) };
        w.put_bits(ID_FIL, 3);
        if cnt >= 15 {
            w.put_bits(15, 4);
            w.put_bits((cnt - 14) as u32, 8); // esc_count: cnt = 15 + esc_count - 1
        } else {
            w.put_bits(cnt as u32, 4);
        }
        for i in 0..cnt {
            // extension_payload: extension_type EXT_FILL and fill_nibble 0000, then fill_bytes
            w.put_bits(if i == 0 { 0x00 } else { 0xA5 }, 8);
        }
    }
    w.put_bits(ID_END, 3);
    let bytes = w.into_bytes();
    (bytes.len() as u64 == size).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asc_bytes() {
        // AAC LC (2), 44100 (4), stereo: 00010 0100 0010 000 = 0x12 0x10
        assert_eq!(audio_specific_config(44_100, 2), Some([0x12, 0x10]));
        // 48000 (3), mono: 00010 0011 0001 000 = 0x11 0x88
        assert_eq!(audio_specific_config(48_000, 1), Some([0x11, 0x88]));
        assert_eq!(audio_specific_config(44_000, 1), None);
    }

    #[test]
    fn min_sizes() {
        // SCE: 3+4+8+11+3 = 29 bits + ID_END 3 = 4 bytes
        assert_eq!(min_frame_size(1), 4);
        // CPE common window: 3+4+1+11+2+2*(8+3) = 43 + 3 = 46 bits: 6 bytes
        assert_eq!(min_frame_size(2), 6);
    }

    #[test]
    fn every_size_is_reachable() {
        for ch in [1u8, 2] {
            let min = min_frame_size(ch);
            assert!(silent_frame(ch, min - 1).is_none());
            for size in min..=max_frame_size(ch) {
                let f = silent_frame(ch, size).unwrap_or_else(|| panic!("{ch} ch, {size} B"));
                assert_eq!(f.len() as u64, size);
            }
        }
    }
}
