//! MP3 files: silent MPEG audio Layer III frames (ISO/IEC 11172-3, 13818-3, and the MPEG-2.5
//! extension for 8–12 kHz).
//!
//! The file is an optional ID3v2.3 tag (one `TSSE` frame, then zero padding), a Xing/Info frame
//! carrying the frame count and byte count (so players know the exact duration without a
//! scan), then `n` audio frames of `spf` samples (`n = ceil(duration * rate / spf)`, at least 6:
//! FFmpeg needs 7 frames in a row to detect MP3 without a warning), each with a zero side info
//! (`main_data_begin` 0, `part2_3_length` 0: silence) and zero main data. The duration is
//! therefore `n * spf / rate`: at most one frame (26 ms at 44.1 kHz, 72 ms at 8 kHz) longer than
//! asked, or 6 frames for shorter durations.
//!
//! Size: the audio frames use one or two frame sizes (two bitrates, or one bitrate with and
//! without the padding slot), the first `k` frames the larger; what is left goes to the ID3 tag's
//! padding. Frame `i` starts at `i * small + min(i, k) * (large - small)`: any offset is found by
//! a division.

use super::piece::Template;
use super::{Audio, MediaError, Region, Summary};

/// Smallest ID3v2 tag written: 10-byte header + a `TSSE` frame of 18 bytes.
const ID3_MIN: u64 = 28;
/// Largest ID3v2 tag: the 28-bit syncsafe size plus the header.
const ID3_MAX: u64 = (1 << 28) - 1 + 10;
const ENCODER: &[u8] = b"recmock";
/// Fewest audio frames written: FFmpeg detects an MP3 reliably (without a "low score" warning)
/// from 7 consecutive frames, the Xing frame included.
const MIN_FRAMES: u64 = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    Mpeg1,
    Mpeg2,
    Mpeg25,
}

const MPEG1_KBPS: [u32; 14] = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MPEG2_KBPS: [u32; 14] = [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

/// The MPEG version and sampling_frequency index of a sample rate.
fn version(rate: u32) -> Option<(Version, u32)> {
    Some(match rate {
        44_100 => (Version::Mpeg1, 0),
        48_000 => (Version::Mpeg1, 1),
        32_000 => (Version::Mpeg1, 2),
        22_050 => (Version::Mpeg2, 0),
        24_000 => (Version::Mpeg2, 1),
        16_000 => (Version::Mpeg2, 2),
        11_025 => (Version::Mpeg25, 0),
        12_000 => (Version::Mpeg25, 1),
        8_000 => (Version::Mpeg25, 2),
        _ => return None,
    })
}

/// Validate an MP3 audio spec (channels are checked by the caller).
pub(crate) fn validate(a: &Audio) -> Result<(), MediaError> {
    version(a.sample_rate)
        .map(|_| ())
        .ok_or_else(|| MediaError::UnsupportedAudio(format!("MP3 sample rate {}", a.sample_rate)))
}

/// Stream parameters.
#[derive(Debug, Clone, Copy)]
struct Stream {
    version: Version,
    rate_index: u32,
    rate: u64,
    channels: u8,
}

/// One frame shape: bitrate index (1..=14) and padding slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    bitrate_index: u32,
    padding: bool,
    size: u64,
}

impl Stream {
    fn new(a: &Audio) -> Result<Self, MediaError> {
        let (version, rate_index) = version(a.sample_rate)
            .ok_or_else(|| MediaError::UnsupportedAudio(format!("MP3 sample rate {}", a.sample_rate)))?;
        Ok(Self { version, rate_index, rate: u64::from(a.sample_rate), channels: a.channels })
    }

    fn samples_per_frame(&self) -> u64 {
        if self.version == Version::Mpeg1 {
            1152
        } else {
            576
        }
    }

    fn side_info_len(&self) -> u64 {
        match (self.version, self.channels) {
            (Version::Mpeg1, 1) => 17,
            (Version::Mpeg1, _) => 32,
            (_, 1) => 9,
            (_, _) => 17,
        }
    }

    /// Every frame shape, by increasing size (distinct sizes only).
    fn shapes(&self) -> Vec<Shape> {
        let kbps = if self.version == Version::Mpeg1 { &MPEG1_KBPS } else { &MPEG2_KBPS };
        let coef = if self.version == Version::Mpeg1 { 144_000 } else { 72_000 };
        let mut v: Vec<Shape> = Vec::with_capacity(28);
        for (i, &k) in kbps.iter().enumerate() {
            let base = coef * u64::from(k) / self.rate;
            for padding in [false, true] {
                let size = base + u64::from(padding);
                if size >= 4 + self.side_info_len() && v.last().is_none_or(|l| l.size < size) {
                    v.push(Shape { bitrate_index: i as u32 + 1, padding, size });
                }
            }
        }
        v
    }

    fn header(&self, shape: Shape) -> [u8; 4] {
        let version_bits = match self.version {
            Version::Mpeg1 => 0b11,
            Version::Mpeg2 => 0b10,
            Version::Mpeg25 => 0b00,
        };
        let mode = if self.channels == 1 { 0b11 } else { 0b00 };
        let h: u32 = (0x7FF << 21)
            | (version_bits << 19)
            | (0b01 << 17) // Layer III
            | (1 << 16) // no CRC
            | (shape.bitrate_index << 12)
            | (self.rate_index << 10)
            | (u32::from(shape.padding) << 9)
            | (mode << 6);
        h.to_be_bytes()
    }

    /// A silent frame: header, zero side info, zero main data.
    fn frame(&self, shape: Shape) -> Vec<u8> {
        let mut f = vec![0u8; usize::try_from(shape.size).unwrap_or(0)];
        f[..4].copy_from_slice(&self.header(shape));
        f
    }

    /// The Xing/Info frame's shape: the smallest that holds the tag.
    fn xing_shape(&self) -> Option<Shape> {
        let need = 4 + self.side_info_len() + 16;
        self.shapes().into_iter().find(|s| s.size >= need && !s.padding)
    }
}

/// A plan for the frame sizes.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    small: Shape,
    large: Shape,
    /// frames of the large shape (the first ones)
    large_count: u64,
    id3: u64,
}

/// Split `avail` bytes into `frames` frames and an ID3 tag (0 or `ID3_MIN..=ID3_MAX`).
fn solve(shapes: &[Shape], frames: u64, avail: u64) -> Option<Sizes> {
    let per_frame = avail / frames;
    for (i, &small) in shapes.iter().enumerate().rev() {
        if small.size > per_frame {
            continue;
        }
        let r0 = avail - frames * small.size;
        let large = shapes.get(i + 1).copied().unwrap_or(small);
        let gap = large.size - small.size;
        let mut k = r0.checked_div(gap).map_or(0, |k| k.min(frames));
        // lower k until the remainder fits an ID3 tag (0, or at least ID3_MIN)
        loop {
            let r = r0 - k * gap;
            if r == 0 || (ID3_MIN..=ID3_MAX).contains(&r) {
                return Some(Sizes { small, large, large_count: k, id3: r });
            }
            if k == 0 || r > ID3_MAX {
                break;
            }
            k -= 1;
        }
    }
    None
}

/// Everything decided but the bytes.
struct Plan {
    stream: Stream,
    frames: u64,
    xing: Shape,
    shapes: Vec<Shape>,
}

impl Plan {
    fn new(a: &Audio, duration_ms: u64) -> Result<Self, MediaError> {
        let stream = Stream::new(a)?;
        let samples = duration_ms.checked_mul(stream.rate).ok_or(MediaError::TooLarge)?.div_ceil(1000);
        let frames = samples.div_ceil(stream.samples_per_frame()).max(MIN_FRAMES);
        let xing = stream.xing_shape().ok_or(MediaError::Internal("no frame holds the Xing tag"))?;
        Ok(Self { stream, frames, xing, shapes: stream.shapes() })
    }

    fn true_min(&self) -> Result<u64, MediaError> {
        let smallest = self.shapes.first().ok_or(MediaError::Internal("no MP3 frame size"))?;
        self.frames
            .checked_mul(smallest.size)
            .and_then(|d| d.checked_add(self.xing.size))
            .ok_or(MediaError::TooLarge)
    }

    fn solve(&self, total: u64) -> Option<Sizes> {
        let avail = total.checked_sub(self.xing.size)?;
        solve(&self.shapes, self.frames, avail)
    }

    /// The smallest total from which every total can be produced.
    fn min_size(&self) -> Result<u64, MediaError> {
        let min = self.true_min()?;
        // Totals from min + ID3_MIN on are always reachable (smallest frames, the rest as
        // padding slots or ID3); below that, find the last gap.
        let mut from = min;
        for t in min..min + ID3_MIN {
            if self.solve(t).is_none() {
                from = t + 1;
            }
        }
        Ok(from)
    }
}

/// The smallest MP3 for this audio and duration.
pub(crate) fn min_size(a: &Audio, duration_ms: u64) -> Result<u64, MediaError> {
    Plan::new(a, duration_ms)?.min_size()
}

/// The audio frames of an MP3 file.
#[derive(Debug, Clone)]
pub(crate) struct Frames {
    count: u64,
    large_count: u64,
    small_size: u64,
    large_size: u64,
    small: Template,
    large: Template,
}

impl Frames {
    pub(crate) fn len(&self) -> u64 {
        self.large_count * self.large_size + (self.count - self.large_count) * self.small_size
    }

    pub(crate) fn stored_bytes(&self) -> usize {
        self.small.stored_bytes() + self.large.stored_bytes()
    }

    pub(crate) fn read_at(&self, pos: u64, out: &mut [u8]) -> usize {
        let large_end = self.large_count * self.large_size;
        let (mut frame, mut within) = if pos < large_end {
            (pos / self.large_size, pos % self.large_size)
        } else {
            let rel = pos - large_end;
            (self.large_count + rel / self.small_size, rel % self.small_size)
        };
        let mut written = 0;
        while written < out.len() && frame < self.count {
            let t = if frame < self.large_count { &self.large } else { &self.small };
            let n = t.read_at(within, &mut out[written..]);
            if n == 0 {
                break;
            }
            written += n;
            within = 0;
            frame += 1;
        }
        written
    }
}

fn id3_tag(size: u64) -> Option<Template> {
    let body = size.checked_sub(10)?;
    if !(ID3_MIN..=ID3_MAX).contains(&size) {
        return None;
    }
    let mut h = b"ID3\x03\x00\x00".to_vec();
    // syncsafe size: 4 x 7 bits
    let b = u32::try_from(body).ok()?;
    h.extend_from_slice(&[
        ((b >> 21) & 0x7F) as u8,
        ((b >> 14) & 0x7F) as u8,
        ((b >> 7) & 0x7F) as u8,
        (b & 0x7F) as u8,
    ]);
    // TSSE (software/encoder) text frame: ISO-8859-1 "recmock"
    h.extend_from_slice(b"TSSE");
    h.extend_from_slice(&(ENCODER.len() as u32 + 1).to_be_bytes());
    h.extend_from_slice(&[0, 0, 0]);
    h.extend_from_slice(ENCODER);
    let mut t = Template::from_bytes(h);
    t.push_run(0, size - t.len()); // padding
    Some(t)
}

/// The regions of the file.
pub(crate) fn build(a: &Audio, duration_ms: u64, target: u64) -> Result<(Vec<Region>, Summary), MediaError> {
    let plan = Plan::new(a, duration_ms)?;
    let total = target.max(plan.min_size()?);
    let sizes = plan.solve(total).ok_or(MediaError::TooLarge)?;
    let s = &plan.stream;
    let frames = Frames {
        count: plan.frames,
        large_count: sizes.large_count,
        small_size: sizes.small.size,
        large_size: sizes.large.size,
        small: Template::from_bytes(s.frame(sizes.small)),
        large: Template::from_bytes(s.frame(sizes.large)),
    };
    let audio_bytes = frames.len();
    // Xing/Info frame: "Info" when every frame has one bitrate (CBR)
    let cbr = sizes.large_count == 0 || sizes.large.bitrate_index == sizes.small.bitrate_index;
    let mut xing = s.frame(plan.xing);
    let at = usize::try_from(4 + s.side_info_len()).unwrap_or(0);
    xing[at..at + 4].copy_from_slice(if cbr { b"Info" } else { b"Xing" });
    let nframes = u32::try_from(plan.frames).map_err(|_| MediaError::TooLarge)?;
    xing[at + 8..at + 12].copy_from_slice(&nframes.to_be_bytes());
    // the byte count (Xing frame + audio frames) only when it fits 32 bits
    let nbytes = audio_bytes.checked_add(plan.xing.size).and_then(|b| u32::try_from(b).ok());
    let flags: u32 = if nbytes.is_some() { 3 } else { 1 }; // frames [+ bytes] present
    xing[at + 4..at + 8].copy_from_slice(&flags.to_be_bytes());
    xing[at + 12..at + 16].copy_from_slice(&nbytes.unwrap_or(0).to_be_bytes());
    let mut regions = Vec::with_capacity(3);
    if sizes.id3 > 0 {
        regions.push(Region::Template(id3_tag(sizes.id3).ok_or(MediaError::Internal("ID3 size"))?));
    }
    let header_len = sizes.id3 + plan.xing.size;
    regions.push(Region::Bytes(xing));
    regions.push(Region::Mp3Frames(frames));
    let summary = Summary {
        content_type: "audio/mpeg",
        extension: "mp3",
        header_len,
        audio_frames: plan.frames,
        audio_sample_size: sizes.small.size,
        padding: sizes.id3.saturating_sub(ID3_MIN),
        ..Summary::default()
    };
    Ok((regions, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audio(rate: u32, channels: u8) -> Audio {
        Audio { sample_rate: rate, channels }
    }

    #[test]
    fn frame_sizes() {
        let s = Stream::new(&audio(44_100, 2)).unwrap();
        let shapes = s.shapes();
        assert_eq!(shapes[0].size, 104); // 32 kbps
        assert!(shapes.iter().any(|x| x.size == 417)); // 128 kbps
        assert!(shapes.iter().any(|x| x.size == 418)); // 128 kbps + padding
        assert_eq!(shapes.last().unwrap().size, 1045); // 320 kbps + padding
        let s = Stream::new(&audio(24_000, 1)).unwrap();
        assert_eq!(s.shapes()[0].size, 24); // 8 kbps: 1000 B/s
        assert_eq!(s.samples_per_frame(), 576);
        let s = Stream::new(&audio(8_000, 2)).unwrap();
        assert_eq!(s.shapes()[0].size, 72);
    }

    #[test]
    fn header_bits() {
        let s = Stream::new(&audio(44_100, 2)).unwrap();
        let shape = Shape { bitrate_index: 9, padding: false, size: 417 };
        // FF FB 90 00: MPEG-1 Layer III, no CRC, 128 kbps, 44.1 kHz, stereo
        assert_eq!(s.header(shape), [0xFF, 0xFB, 0x90, 0x00]);
        let s = Stream::new(&audio(24_000, 1)).unwrap();
        let shape = Shape { bitrate_index: 1, padding: true, size: 25 };
        // FF F3 16 C0: MPEG-2 Layer III, 8 kbps, 24 kHz, padding, mono
        assert_eq!(s.header(shape), [0xFF, 0xF3, 0x16, 0xC0]);
    }

    #[test]
    fn every_total_from_min_is_reachable() {
        for (rate, ch, ms) in
            [(44_100, 2, 1u64), (24_000, 1, 30), (48_000, 1, 100), (8_000, 2, 1_000), (22_050, 2, 5_000)]
        {
            let p = Plan::new(&audio(rate, ch), ms).unwrap();
            let min = p.min_size().unwrap();
            assert!(min >= p.true_min().unwrap());
            if p.frames >= ID3_MIN {
                assert_eq!(min, p.true_min().unwrap());
            }
            for t in min..min + 5_000 {
                let s = p.solve(t).unwrap_or_else(|| panic!("{rate} {ch} {ms}: {t}"));
                let total = p.xing.size
                    + s.id3
                    + s.large_count * s.large.size
                    + (p.frames - s.large_count) * s.small.size;
                assert_eq!(total, t);
            }
        }
    }

    #[test]
    fn id3_layout() {
        let t = id3_tag(40).unwrap().to_vec();
        assert_eq!(t.len(), 40);
        assert_eq!(&t[..10], b"ID3\x03\x00\x00\x00\x00\x00\x1e");
        assert_eq!(&t[10..14], b"TSSE");
        assert!(id3_tag(ID3_MIN - 1).is_none());
        assert!(id3_tag(ID3_MAX + 1).is_none());
    }
}
