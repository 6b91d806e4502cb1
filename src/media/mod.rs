//! Synthetic media files generated on demand: deterministic, exact in size and duration, and
//! readable at any offset without producing the whole file.
//!
//! A [`MediaSpec`] (kind, duration, target size, seed) gives a [`Layout`]: the file's exact
//! length and a random-access byte producer. Only the small header (an MP4 `ftyp` + `moov`, an
//! MP3 Xing frame, the JPEG markers) and a few sample templates are held in memory; the body is
//! produced by arithmetic from the offset, at `memcpy` speed.
//!
//! * **MP4** — `ftyp`, `moov` first (fast start), `mdat`. H.264 Constrained Baseline video (an
//!   IDR picture of vertical bars every 2 s, all-skip P pictures between) and/or silent AAC-LC
//!   audio. Every video sample has one size (padded with filler-data NAL units), every audio
//!   sample one size (padded with AAC fill elements), so `stsz` is a single value and `moov`
//!   stays small. Chunks hold one second of each track (longer beyond 4 hours), interleaved.
//! * **MP3** — an optional ID3v2 tag (padding), a Xing/Info frame with the frame count, then
//!   silent MPEG audio Layer III frames (at least 6). MPEG-1 for 32/44.1/48 kHz, MPEG-2 for
//!   16/22.05/24 kHz, MPEG-2.5 for 8/11.025/12 kHz. One or two bitrates (and the padding slot)
//!   are mixed to approach the target; the remainder goes to the ID3 tag's padding.
//! * **JPEG** — a baseline JFIF image of colour bars, padded with COM segments to the target.
//!   The duration is ignored.
//!
//! Durations: MP4 tracks last exactly `duration_ms` (audio to the nearest sample); a video
//! shorter than one frame lasts one frame. MP3 lasts a whole number of frames, less than one
//! frame longer than asked (at least 6 frames).
//!
//! Sizes: the file is exactly `max(target_size, min_size())` bytes. Smallest rates (bytes per
//! second, from `examples/rates.rs`): H.264 about `macroblocks * fps * 6 / 8` (1280x720@25:
//! 68,806; 1920x1080@25: 154,306), since every video sample is as large as the IDR picture;
//! AAC 39–288; MP3 about 1,000 (8–24 kHz) or 4,000 (32–48 kHz).
//!
//! ```
//! use recmock::media::{Audio, MediaKind, MediaSpec, Video};
//!
//! let spec = MediaSpec {
//!     kind: MediaKind::Mp4 {
//!         video: Some(Video { width: 1280, height: 720, fps: 25 }),
//!         audio: Some(Audio { sample_rate: 48_000, channels: 2 }),
//!     },
//!     duration_ms: 5_000,
//!     target_size: 1_000_000,
//!     seed: 42,
//! };
//! let layout = spec.layout().unwrap();
//! assert_eq!(layout.len(), 1_000_000);
//! let mut head = [0u8; 8];
//! layout.fill(0, &mut head);
//! assert_eq!(&head[4..8], b"ftyp");
//! ```

mod aac;
mod bits;
mod h264;
mod jpeg;
mod mp3;
mod mp4;
mod piece;

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};

use md5::{Digest, Md5};

use self::piece::Template;

/// Longest supported duration: 7 days.
pub const MAX_DURATION_MS: u64 = 7 * 24 * 3600 * 1000;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// An MP4 file with an H.264 video track and/or an AAC-LC audio track (at least one).
    Mp4 {
        /// the video track, if any
        video: Option<Video>,
        /// the audio track, if any
        audio: Option<Audio>,
    },
    /// An MP3 file (MPEG-1, -2 or -2.5 audio Layer III, chosen by the sample rate).
    Mp3 {
        /// sample rate and channels
        audio: Audio,
    },
    /// A baseline JPEG image (the duration is ignored).
    Jpeg {
        /// width in pixels, 1..=65535
        width: u32,
        /// height in pixels, 1..=65535
        height: u32,
    },
}

/// A video track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Video {
    /// width in pixels; an odd width is rounded up to even (4:2:0 cropping works in 2-pixel units)
    pub width: u32,
    /// height in pixels; an odd height is rounded up to even
    pub height: u32,
    /// frames per second, 1..=240
    pub fps: u32,
}

impl Video {
    /// The size the file shows (width and height rounded up to even numbers).
    pub fn effective_size(&self) -> (u32, u32) {
        (self.width.saturating_add(self.width & 1), self.height.saturating_add(self.height & 1))
    }
}

/// An audio track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Audio {
    /// 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100 or 48000
    pub sample_rate: u32,
    /// 1 or 2
    pub channels: u8,
}

/// A file to generate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaSpec {
    /// container and tracks
    pub kind: MediaKind,
    /// duration in milliseconds, 1..=[`MAX_DURATION_MS`] (ignored for JPEG)
    pub duration_ms: u64,
    /// wanted length in bytes; the file is `max(target_size, min_size())` bytes long
    pub target_size: u64,
    /// picks the picture's colours; same spec and seed, same bytes
    pub seed: u64,
}

/// Why a spec cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaError {
    /// An MP4 spec without video and without audio.
    NoTracks,
    /// `duration_ms` is 0 or above [`MAX_DURATION_MS`].
    BadDuration(u64),
    /// Unsupported video geometry or frame rate.
    UnsupportedVideo(String),
    /// Unsupported sample rate or channel count.
    UnsupportedAudio(String),
    /// Unsupported image size.
    UnsupportedImage(String),
    /// The target size cannot be reached (MP3 above its largest frames plus a 256 MiB ID3 tag),
    /// or a size computation overflowed.
    TooLarge,
    /// A bug: an internal consistency check failed.
    Internal(&'static str),
}

impl fmt::Display for MediaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MediaError::NoTracks => write!(f, "an MP4 file needs a video or an audio track"),
            MediaError::BadDuration(d) => {
                write!(f, "duration {d} ms is outside 1..={MAX_DURATION_MS} ms")
            }
            MediaError::UnsupportedVideo(s) => write!(f, "unsupported video: {s}"),
            MediaError::UnsupportedAudio(s) => write!(f, "unsupported audio: {s}"),
            MediaError::UnsupportedImage(s) => write!(f, "unsupported image: {s}"),
            MediaError::TooLarge => write!(f, "the requested size cannot be produced"),
            MediaError::Internal(s) => write!(f, "internal error: {s}"),
        }
    }
}

impl std::error::Error for MediaError {}

/// Facts about a generated file (for logs, tests and API answers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// `video/mp4`, `audio/mp4`, `audio/mpeg` or `image/jpeg`
    pub content_type: &'static str,
    /// `mp4`, `m4a`, `mp3` or `jpg`
    pub extension: &'static str,
    /// bytes before the media data: MP4 `ftyp` + `moov` + `mdat` header; MP3 ID3 tag + Xing
    /// frame; JPEG markers before the scan
    pub header_len: u64,
    /// size of the MP4 `moov` box (0 for other kinds)
    pub moov_len: u64,
    /// video frames (MP4)
    pub video_frames: u64,
    /// size of every video sample in bytes (MP4)
    pub video_sample_size: u64,
    /// displayed video size (MP4), width and height rounded up to even
    pub video_size: (u32, u32),
    /// H.264 level_idc (MP4)
    pub video_level: u8,
    /// audio frames (MP4: AAC frames of 1024 samples; MP3: frames of 1152 or 576 samples,
    /// excluding the Xing frame)
    pub audio_frames: u64,
    /// size of every AAC frame (MP4); size of the smaller MP3 frames
    pub audio_sample_size: u64,
    /// bytes of padding outside the samples (`free` box, unreferenced `mdat` tail, ID3 padding,
    /// JPEG COM segments)
    pub padding: u64,
}

/// A part of a file.
#[derive(Debug, Clone)]
enum Region {
    /// stored bytes
    Bytes(Vec<u8>),
    /// a template (stored bytes and runs)
    Template(Template),
    /// interleaved MP4 samples
    Mp4Data(mp4::Interleave),
    /// MP3 frames
    Mp3Frames(mp3::Frames),
    /// repeated JPEG scan rows
    JpegScan(jpeg::Scan),
    /// JPEG COM padding segments
    JpegPadding(jpeg::Padding),
}

impl Region {
    fn len(&self) -> u64 {
        match self {
            Region::Bytes(b) => b.len() as u64,
            Region::Template(t) => t.len(),
            Region::Mp4Data(d) => d.len(),
            Region::Mp3Frames(f) => f.len(),
            Region::JpegScan(s) => s.len(),
            Region::JpegPadding(p) => p.len(),
        }
    }

    /// Copy bytes from `pos` (< len) into `out`; returns the count (> 0 unless `out` is empty).
    fn read_at(&self, pos: u64, out: &mut [u8]) -> usize {
        match self {
            Region::Bytes(b) => {
                let start = usize::try_from(pos).unwrap_or(usize::MAX).min(b.len());
                let n = (b.len() - start).min(out.len());
                out[..n].copy_from_slice(&b[start..start + n]);
                n
            }
            Region::Template(t) => t.read_at(pos, out),
            Region::Mp4Data(d) => d.read_at(pos, out),
            Region::Mp3Frames(f) => f.read_at(pos, out),
            Region::JpegScan(s) => s.read_at(pos, out),
            Region::JpegPadding(p) => p.read_at(pos, out),
        }
    }

    fn stored_bytes(&self) -> usize {
        match self {
            Region::Bytes(b) => b.len(),
            Region::Template(t) => t.stored_bytes(),
            Region::Mp4Data(d) => d.stored_bytes(),
            Region::Mp3Frames(f) => f.stored_bytes(),
            Region::JpegScan(s) => s.stored_bytes(),
            Region::JpegPadding(_) => 0,
        }
    }
}

/// A generated file: its exact length and a random-access byte producer.
///
/// Cheap to share between threads (`Send + Sync`); memory is the header plus a few templates.
#[derive(Debug, Clone)]
pub struct Layout {
    /// (start offset, region), contiguous, in order
    regions: Vec<(u64, Region)>,
    len: u64,
    summary: Summary,
}

impl Layout {
    fn from_regions(parts: Vec<Region>, summary: Summary) -> Result<Self, MediaError> {
        let mut regions = Vec::with_capacity(parts.len());
        let mut len = 0u64;
        for r in parts {
            let l = r.len();
            if l == 0 {
                continue;
            }
            regions.push((len, r));
            len = len.checked_add(l).ok_or(MediaError::TooLarge)?;
        }
        Ok(Self { regions, len, summary })
    }

    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty (never, for a valid spec).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Facts about the file.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// MIME type.
    pub fn content_type(&self) -> &'static str {
        self.summary.content_type
    }

    /// Bytes of memory held by this layout (headers and templates).
    pub fn memory_bytes(&self) -> usize {
        self.regions.iter().map(|(_, r)| r.stored_bytes()).sum()
    }

    /// Copy bytes `[offset, offset + buf.len())` of the file into `buf`, stopping at the end of
    /// the file; returns the number of bytes copied (0 when `offset >= len()`).
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize {
        if offset >= self.len || buf.is_empty() {
            return 0;
        }
        // the region holding `offset`
        let mut idx = self.regions.partition_point(|(start, _)| *start <= offset).saturating_sub(1);
        let mut pos = offset;
        let mut written = 0usize;
        while written < buf.len() && idx < self.regions.len() {
            let (start, region) = &self.regions[idx];
            let rel = pos - start;
            if rel >= region.len() {
                idx += 1;
                continue;
            }
            let n = region.read_at(rel, &mut buf[written..]);
            if n == 0 {
                break;
            }
            written += n;
            pos += n as u64;
        }
        written
    }

    /// Fill `buf` with bytes `[offset, offset + buf.len())` of the file. Positions at or past
    /// the end of the file are set to 0.
    pub fn fill(&self, offset: u64, buf: &mut [u8]) {
        let n = self.read_at(offset, buf);
        buf[n..].fill(0);
    }

    /// A reader over the file (`Read + Seek`), for streaming or copying.
    pub fn reader(&self) -> LayoutReader<'_> {
        LayoutReader { layout: self, pos: 0 }
    }

    /// MD5 of the whole file (reads it in 64 KiB chunks).
    pub fn md5(&self) -> [u8; 16] {
        let mut h = Md5::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut pos = 0u64;
        while pos < self.len {
            let n = self.read_at(pos, &mut buf);
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            pos += n as u64;
        }
        h.finalize().into()
    }
}

/// `Read + Seek` over a [`Layout`].
#[derive(Debug, Clone)]
pub struct LayoutReader<'a> {
    layout: &'a Layout,
    pos: u64,
}

impl Read for LayoutReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.layout.read_at(self.pos, buf);
        self.pos = self.pos.saturating_add(n as u64);
        Ok(n)
    }
}

impl Seek for LayoutReader<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let new = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.layout.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match new {
            Some(p) => {
                self.pos = p;
                Ok(p)
            }
            None => Err(io::Error::new(io::ErrorKind::InvalidInput, "seek before the start")),
        }
    }
}

impl MediaSpec {
    /// The smallest length (bytes) this spec can produce; every length from it upward can be
    /// produced exactly. For MP4 and JPEG it is the smallest valid file; for an MP3 of fewer
    /// than 28 frames it may be up to 27 bytes above it (an ID3 tag cannot be smaller).
    pub fn min_size(&self) -> Result<u64, MediaError> {
        self.validate()?;
        match &self.kind {
            MediaKind::Mp4 { video, audio } => {
                mp4::min_size(video.as_ref(), audio.as_ref(), self.duration_ms, self.seed)
            }
            MediaKind::Mp3 { audio } => mp3::min_size(audio, self.duration_ms),
            MediaKind::Jpeg { width, height } => jpeg::min_size(*width, *height, self.seed),
        }
    }

    /// The file: `max(target_size, min_size())` bytes, exactly.
    pub fn layout(&self) -> Result<Layout, MediaError> {
        self.validate()?;
        let (regions, summary) = match &self.kind {
            MediaKind::Mp4 { video, audio } => {
                mp4::build(video.as_ref(), audio.as_ref(), self.duration_ms, self.target_size, self.seed)?
            }
            MediaKind::Mp3 { audio } => mp3::build(audio, self.duration_ms, self.target_size)?,
            MediaKind::Jpeg { width, height } => jpeg::build(*width, *height, self.target_size, self.seed)?,
        };
        let layout = Layout::from_regions(regions, summary)?;
        let expect = self.target_size.max(self.min_size()?);
        if layout.len() != expect {
            return Err(MediaError::Internal("layout length differs from the target"));
        }
        Ok(layout)
    }

    fn validate(&self) -> Result<(), MediaError> {
        let check_duration = || {
            if self.duration_ms == 0 || self.duration_ms > MAX_DURATION_MS {
                Err(MediaError::BadDuration(self.duration_ms))
            } else {
                Ok(())
            }
        };
        match &self.kind {
            MediaKind::Mp4 { video, audio } => {
                check_duration()?;
                if video.is_none() && audio.is_none() {
                    return Err(MediaError::NoTracks);
                }
                if let Some(v) = video {
                    mp4::validate_video(v)?;
                }
                if let Some(a) = audio {
                    if aac::rate_index(a.sample_rate).is_none() {
                        return Err(MediaError::UnsupportedAudio(format!(
                            "AAC sample rate {}",
                            a.sample_rate
                        )));
                    }
                    validate_channels(a)?;
                }
                Ok(())
            }
            MediaKind::Mp3 { audio } => {
                check_duration()?;
                validate_channels(audio)?;
                mp3::validate(audio)
            }
            MediaKind::Jpeg { width, height } => jpeg::validate(*width, *height),
        }
    }
}

fn validate_channels(a: &Audio) -> Result<(), MediaError> {
    if a.channels == 1 || a.channels == 2 {
        Ok(())
    } else {
        Err(MediaError::UnsupportedAudio(format!("{} channels (1 or 2 are supported)", a.channels)))
    }
}

/// Lowercase hex of bytes (e.g. an MD5).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
