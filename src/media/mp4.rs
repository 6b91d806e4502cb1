//! MP4 (ISO/IEC 14496-12/-14/-15) files: `ftyp`, `moov` (fast start), `mdat` [, `free`].
//!
//! Sample sizes are uniform per track, so `stsz` holds one value. The media data is cut into
//! periods of one second: period `k` holds the video frames whose time is in `[k, k+1)` s (one
//! chunk), then the audio frames of that second (one chunk). The offset of period `k` is
//! `frames_before(k) * video_size + aac_frames_before(k) * audio_size`, so any byte is found by
//! a binary search over periods and a division — nothing per sample is stored.
//!
//! Durations: the movie timescale is 1000 (`mvhd` duration = `duration_ms` exactly); the video
//! timescale is `1000 * fps`, each frame lasting 1000 ticks but the last, shortened so the track
//! lasts exactly `duration_ms`; the audio timescale is the sample rate, the last AAC frame
//! shortened so the track lasts `round(duration_ms * rate / 1000)` samples. (A video shorter
//! than one frame has one frame of full length, and the movie lasts that frame.)
//!
//! Size: the target is reached by growing the audio samples (AAC fill elements, a tenth of the
//! extra bytes when there is video, up to the AAC maximum of 768 bytes per channel), then the
//! video samples (filler NAL units), then the remainder (less than one byte per sample, or
//! beyond the audio maximum for audio-only files) goes to a trailing `free` box, or, when it is
//! under 8 bytes, to unreferenced bytes at the end of `mdat`.

use super::aac;
use super::h264::{self, H264Stream};
use super::piece::Template;
use super::{Audio, MediaError, Region, Summary, Video};

/// Validate a video track's geometry and rate.
pub(crate) fn validate_video(v: &Video) -> Result<(), MediaError> {
    let (w, h) = v.effective_size();
    if w == 0 || h == 0 {
        return Err(MediaError::UnsupportedVideo(format!("{w}x{h}")));
    }
    let mb_w = u64::from(w.div_ceil(16));
    let mb_h = u64::from(h.div_ceil(16));
    if mb_w > h264::MAX_SIDE_MBS || mb_h > h264::MAX_SIDE_MBS || mb_w * mb_h > h264::MAX_FRAME_MBS {
        return Err(MediaError::UnsupportedVideo(format!("{w}x{h} is larger than H.264 level 6.2 allows")));
    }
    if v.fps == 0 || v.fps > 240 {
        return Err(MediaError::UnsupportedVideo(format!("{} frames per second (1..=240)", v.fps)));
    }
    Ok(())
}

/// Video track plan.
#[derive(Debug, Clone)]
struct VideoPlan {
    stream: H264Stream,
    /// length-prefixed slice NAL units per GOP position
    units: Vec<Vec<u8>>,
    fps: u64,
    frames: u64,
    /// duration of the last frame in 1/(1000*fps) s ticks (1..=1000)
    last_delta: u64,
    min_size: u64,
}

/// Audio track plan.
#[derive(Debug, Clone, Copy)]
struct AudioPlan {
    rate: u64,
    channels: u8,
    frames: u64,
    /// duration of the last frame in samples (1..=1024)
    last_delta: u64,
    min_size: u64,
    max_size: u64,
}

impl VideoPlan {
    fn new(v: &Video, duration_ms: u64, seed: u64, gop_secs: u64) -> Result<Self, MediaError> {
        let gop_secs = u32::try_from(gop_secs).map_err(|_| MediaError::TooLarge)?;
        let stream = H264Stream::new(v.width, v.height, v.fps, gop_secs, seed);
        let units = stream.slice_units();
        let fps = u64::from(v.fps);
        let ticks = duration_ms.checked_mul(fps).ok_or(MediaError::TooLarge)?; // in 1/(1000 fps) s
        let frames = ticks.div_ceil(1000);
        // The last frame ends at the duration; a lone frame keeps its full length (its
        // duration is what players take as the frame rate).
        let last_delta = if frames == 1 { 1000 } else { ticks - (frames - 1) * 1000 };
        let min_size = h264::min_uniform_size(&units);
        Ok(Self { stream, units, fps, frames, last_delta, min_size })
    }

    fn timescale(&self) -> u64 {
        self.fps * 1000
    }

    fn duration_ticks(&self) -> u64 {
        (self.frames - 1) * 1000 + self.last_delta
    }

    /// Track duration in milliseconds (exact but for a lone frame).
    fn duration_ms(&self) -> u64 {
        self.duration_ticks().div_ceil(self.fps)
    }
}

impl AudioPlan {
    fn new(a: &Audio, duration_ms: u64) -> Result<Self, MediaError> {
        let rate = u64::from(a.sample_rate);
        let samples = duration_ms.checked_mul(rate).ok_or(MediaError::TooLarge)?.saturating_add(500) / 1000;
        let samples = samples.max(1);
        let frames = samples.div_ceil(aac::SAMPLES_PER_FRAME);
        let last_delta = samples - (frames - 1) * aac::SAMPLES_PER_FRAME;
        Ok(Self {
            rate,
            channels: a.channels,
            frames,
            last_delta,
            min_size: aac::min_frame_size(a.channels),
            max_size: aac::max_frame_size(a.channels),
        })
    }

    fn duration_samples(&self) -> u64 {
        (self.frames - 1) * aac::SAMPLES_PER_FRAME + self.last_delta
    }

    /// Track duration in milliseconds, rounded (within 1/16 ms of the spec's).
    fn duration_ms(&self) -> u64 {
        (self.duration_samples() * 1000 + self.rate / 2) / self.rate
    }
}

/// The interleaved samples of `mdat`.
#[derive(Debug, Clone)]
pub(crate) struct Interleave {
    periods: u64,
    video: Option<TrackData>,
    audio: Option<TrackData>,
    /// video frames per period
    frames_per_period: u64,
    /// audio samples per period
    samples_per_period: u64,
    len: u64,
}

/// Uniform samples of one track.
#[derive(Debug, Clone)]
struct TrackData {
    frames: u64,
    size: u64,
    /// sample `i` uses `templates[i % templates.len()]`
    templates: Vec<Template>,
}

impl Interleave {
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn stored_bytes(&self) -> usize {
        [&self.video, &self.audio]
            .iter()
            .filter_map(|t| t.as_ref())
            .flat_map(|t| t.templates.iter())
            .map(Template::stored_bytes)
            .sum()
    }

    /// Video frames in periods before `k`.
    fn video_before(&self, k: u64) -> u64 {
        match &self.video {
            Some(v) => k.saturating_mul(self.frames_per_period).min(v.frames),
            None => 0,
        }
    }

    /// AAC frames starting in periods before `k`: ceil(k * samples_per_period / 1024).
    fn audio_before(&self, k: u64) -> u64 {
        match &self.audio {
            Some(a) => {
                k.saturating_mul(self.samples_per_period).div_ceil(aac::SAMPLES_PER_FRAME).min(a.frames)
            }
            None => 0,
        }
    }

    /// Periods holding video frames (video chunks).
    fn video_chunks(&self) -> u64 {
        self.video.as_ref().map_or(0, |v| v.frames.div_ceil(self.frames_per_period))
    }

    /// Periods holding audio frames (audio chunks): up to the one where the last frame starts.
    fn audio_chunks(&self) -> u64 {
        self.audio
            .as_ref()
            .map_or(0, |a| (a.frames - 1) * aac::SAMPLES_PER_FRAME / self.samples_per_period + 1)
    }

    /// Offset of period `k` (0..=periods) from the start of the samples.
    fn period_start(&self, k: u64) -> u64 {
        let v = self.video.as_ref().map_or(0, |v| v.size) * self.video_before(k);
        let a = self.audio.as_ref().map_or(0, |a| a.size) * self.audio_before(k);
        v + a
    }

    /// Copy sample bytes from `pos` (< len) into `out`.
    pub(crate) fn read_at(&self, pos: u64, out: &mut [u8]) -> usize {
        // the last period starting at or before pos
        let (mut lo, mut hi) = (0u64, self.periods);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.period_start(mid) <= pos {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let mut k = lo;
        let mut pos = pos;
        let mut written = 0usize;
        let vsize = self.video.as_ref().map_or(0, |v| v.size);
        let asize = self.audio.as_ref().map_or(0, |a| a.size);
        while written < out.len() && k < self.periods {
            let start = self.period_start(k);
            let (v0, v1) = (self.video_before(k), self.video_before(k + 1));
            let (a0, a1) = (self.audio_before(k), self.audio_before(k + 1));
            let video_end = start + vsize * (v1 - v0);
            let audio_end = video_end + asize * (a1 - a0);
            let dst = &mut out[written..];
            let n = match (&self.video, &self.audio) {
                (Some(v), _) if pos < video_end => read_samples(v, v0, pos - start, video_end - pos, dst),
                (_, Some(a)) if pos < audio_end => read_samples(a, a0, pos - video_end, audio_end - pos, dst),
                _ => {
                    k += 1;
                    continue;
                }
            };
            if n == 0 {
                break;
            }
            written += n;
            pos += n as u64;
        }
        written
    }
}

/// Copy consecutive samples of `track` starting at byte `rel` of the run that begins with
/// sample `first`, at most `run_left` bytes. Returns the bytes copied.
fn read_samples(track: &TrackData, first: u64, rel: u64, run_left: u64, out: &mut [u8]) -> usize {
    let max = usize::try_from(run_left).unwrap_or(usize::MAX).min(out.len());
    let mut written = 0usize;
    let mut sample = first + rel / track.size;
    let mut within = rel % track.size;
    let n_templates = track.templates.len() as u64;
    while written < max {
        let t = &track.templates[(sample % n_templates) as usize];
        let n = t.read_at(within, &mut out[written..max]);
        if n == 0 {
            break;
        }
        written += n;
        sample += 1;
        within = 0;
    }
    written
}

/// Seconds per interleaving period (chunk) and per GOP for a duration: 1 s chunks and 2 s GOPs
/// up to 4 hours, longer beyond so that `moov` stays below ~300 KB (at most 14,400 chunks per
/// track and 7,200 sync samples).
fn chunk_and_gop_secs(duration_ms: u64) -> (u64, u64) {
    let secs = duration_ms.div_ceil(1000);
    let chunk = secs.div_ceil(14_400).max(1);
    (chunk, chunk * 2)
}

/// A big-endian box writer.
#[derive(Debug, Default)]
struct BoxBuf {
    b: Vec<u8>,
}

impl BoxBuf {
    fn open(&mut self, typ: &[u8; 4]) -> usize {
        let at = self.b.len();
        self.u32(0);
        self.b.extend_from_slice(typ);
        at
    }

    fn open_full(&mut self, typ: &[u8; 4], version: u8, flags: u32) -> usize {
        let at = self.open(typ);
        self.u32((u32::from(version) << 24) | (flags & 0x00FF_FFFF));
        at
    }

    fn close(&mut self, at: usize) -> Result<(), MediaError> {
        let size = u32::try_from(self.b.len() - at).map_err(|_| MediaError::TooLarge)?;
        self.b[at..at + 4].copy_from_slice(&size.to_be_bytes());
        Ok(())
    }

    fn u8(&mut self, v: u8) {
        self.b.push(v);
    }

    fn u16(&mut self, v: u16) {
        self.b.extend_from_slice(&v.to_be_bytes());
    }

    fn u32(&mut self, v: u32) {
        self.b.extend_from_slice(&v.to_be_bytes());
    }

    fn u64(&mut self, v: u64) {
        self.b.extend_from_slice(&v.to_be_bytes());
    }

    fn bytes(&mut self, v: &[u8]) {
        self.b.extend_from_slice(v);
    }

    fn zeros(&mut self, n: usize) {
        self.b.resize(self.b.len() + n, 0);
    }

    /// A 32-bit field, or an error when the value does not fit.
    fn u32_of(&mut self, v: u64) -> Result<(), MediaError> {
        self.u32(u32::try_from(v).map_err(|_| MediaError::TooLarge)?);
        Ok(())
    }

    /// The unity matrix of `mvhd` and `tkhd`.
    fn matrix(&mut self) {
        for v in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
            self.u32(v);
        }
    }
}

/// What `moov` describes.
struct MoovInput<'a> {
    video: Option<VideoInput<'a>>,
    audio: Option<AudioInput<'a>>,
    data: &'a Interleave,
    /// absolute offset of the first sample; `None` only measures the size (offsets written as 0)
    data_start: Option<u64>,
    co64: bool,
}

struct VideoInput<'a> {
    plan: &'a VideoPlan,
    sps: &'a [u8],
    pps: &'a [u8],
    sample_size: u64,
}

struct AudioInput<'a> {
    plan: &'a AudioPlan,
    sample_size: u64,
}

fn ftyp(has_video: bool) -> Vec<u8> {
    let mut b = BoxBuf::default();
    let at = b.open(b"ftyp");
    b.bytes(b"isom");
    b.u32(0x200);
    b.bytes(b"isomiso2");
    if has_video {
        b.bytes(b"avc1");
    }
    b.bytes(b"mp41");
    // a few bytes: cannot fail
    let _ = b.close(at);
    b.b
}

fn moov(m: &MoovInput<'_>) -> Result<Vec<u8>, MediaError> {
    let mut b = BoxBuf::default();
    let moov = b.open(b"moov");
    // the longest track (the spec's duration, or one frame for a video shorter than a frame)
    let duration_ms = m
        .video
        .as_ref()
        .map_or(0, |v| v.plan.duration_ms())
        .max(m.audio.as_ref().map_or(0, |a| a.plan.duration_ms()));
    let long = duration_ms > u64::from(u32::MAX);
    let mvhd = b.open_full(b"mvhd", u8::from(long), 0);
    if long {
        b.u64(0);
        b.u64(0);
        b.u32(1000);
        b.u64(duration_ms);
    } else {
        b.u32(0);
        b.u32(0);
        b.u32(1000);
        b.u32_of(duration_ms)?;
    }
    b.u32(0x0001_0000); // rate 1.0
    b.u16(0x0100); // volume 1.0
    b.zeros(2 + 8);
    b.matrix();
    b.zeros(24); // pre_defined
    let tracks = u32::from(m.video.is_some()) + u32::from(m.audio.is_some());
    b.u32(tracks + 1); // next_track_ID
    b.close(mvhd)?;
    let mut track_id = 1;
    if let Some(v) = &m.video {
        video_trak(&mut b, m, v, track_id)?;
        track_id += 1;
    }
    if let Some(a) = &m.audio {
        audio_trak(&mut b, m, a, track_id)?;
    }
    b.close(moov)?;
    Ok(b.b)
}

fn tkhd(
    b: &mut BoxBuf,
    track_id: u32,
    duration_ms: u64,
    audio: bool,
    size: (u32, u32),
) -> Result<(), MediaError> {
    let long = duration_ms > u64::from(u32::MAX);
    let at = b.open_full(b"tkhd", u8::from(long), 0x3); // enabled, in movie
    if long {
        b.u64(0);
        b.u64(0);
        b.u32(track_id);
        b.u32(0);
        b.u64(duration_ms);
    } else {
        b.u32(0);
        b.u32(0);
        b.u32(track_id);
        b.u32(0);
        b.u32_of(duration_ms)?;
    }
    b.zeros(8);
    b.u16(0); // layer
    b.u16(u16::from(audio)); // alternate_group
    b.u16(if audio { 0x0100 } else { 0 }); // volume
    b.u16(0);
    b.matrix();
    b.u32(size.0 << 16);
    b.u32(size.1 << 16);
    b.close(at)
}

fn mdhd(b: &mut BoxBuf, timescale: u64, duration: u64) -> Result<(), MediaError> {
    let long = duration > u64::from(u32::MAX);
    let at = b.open_full(b"mdhd", u8::from(long), 0);
    if long {
        b.u64(0);
        b.u64(0);
        b.u32_of(timescale)?;
        b.u64(duration);
    } else {
        b.u32(0);
        b.u32(0);
        b.u32_of(timescale)?;
        b.u32_of(duration)?;
    }
    b.u16(0x55C4); // language "und"
    b.u16(0);
    b.close(at)
}

fn hdlr(b: &mut BoxBuf, handler: &[u8; 4], name: &str) -> Result<(), MediaError> {
    let at = b.open_full(b"hdlr", 0, 0);
    b.u32(0);
    b.bytes(handler);
    b.zeros(12);
    b.bytes(name.as_bytes());
    b.u8(0);
    b.close(at)
}

fn dinf(b: &mut BoxBuf) -> Result<(), MediaError> {
    let dinf = b.open(b"dinf");
    let dref = b.open_full(b"dref", 0, 0);
    b.u32(1);
    let url = b.open_full(b"url ", 0, 1); // media in this file
    b.close(url)?;
    b.close(dref)?;
    b.close(dinf)
}

/// `stts` for `count` samples of `delta` ticks, the last one lasting `last` ticks.
fn stts(b: &mut BoxBuf, count: u64, delta: u64, last: u64) -> Result<(), MediaError> {
    let at = b.open_full(b"stts", 0, 0);
    if count > 1 && last != delta {
        b.u32(2);
        b.u32_of(count - 1)?;
        b.u32_of(delta)?;
        b.u32(1);
        b.u32_of(last)?;
    } else {
        b.u32(1);
        b.u32_of(count)?;
        b.u32_of(if count == 1 { last } else { delta })?;
    }
    b.close(at)
}

/// `stsc` from the per-chunk sample counts, run-length encoded.
fn stsc(b: &mut BoxBuf, counts: impl Iterator<Item = u64>) -> Result<(), MediaError> {
    let mut runs: Vec<(u64, u64)> = Vec::new(); // (first chunk, samples per chunk)
    for (i, c) in counts.enumerate() {
        if runs.last().map(|r| r.1) != Some(c) {
            runs.push((i as u64 + 1, c));
        }
    }
    let at = b.open_full(b"stsc", 0, 0);
    b.u32_of(runs.len() as u64)?;
    for (first, count) in runs {
        b.u32_of(first)?;
        b.u32_of(count)?;
        b.u32(1); // sample_description_index
    }
    b.close(at)
}

fn stsz(b: &mut BoxBuf, size: u64, count: u64) -> Result<(), MediaError> {
    let at = b.open_full(b"stsz", 0, 0);
    b.u32_of(size)?;
    b.u32_of(count)?;
    b.close(at)
}

fn chunk_offsets(
    b: &mut BoxBuf,
    co64: bool,
    count: u64,
    offsets: impl Iterator<Item = u64>,
) -> Result<(), MediaError> {
    let at = b.open_full(if co64 { b"co64" } else { b"stco" }, 0, 0);
    b.u32_of(count)?;
    for o in offsets {
        if co64 {
            b.u64(o);
        } else {
            b.u32_of(o)?;
        }
    }
    b.close(at)
}

fn video_trak(
    b: &mut BoxBuf,
    m: &MoovInput<'_>,
    v: &VideoInput<'_>,
    track_id: u32,
) -> Result<(), MediaError> {
    let p = v.plan;
    let (w, h) = (p.stream.width, p.stream.height);
    let trak = b.open(b"trak");
    tkhd(b, track_id, p.duration_ms(), false, (w, h))?;
    let mdia = b.open(b"mdia");
    mdhd(b, p.timescale(), p.duration_ticks())?;
    hdlr(b, b"vide", "VideoHandler")?;
    let minf = b.open(b"minf");
    let vmhd = b.open_full(b"vmhd", 0, 1);
    b.zeros(8);
    b.close(vmhd)?;
    dinf(b)?;
    let stbl = b.open(b"stbl");
    let stsd = b.open_full(b"stsd", 0, 0);
    b.u32(1);
    let avc1 = b.open(b"avc1");
    b.zeros(6);
    b.u16(1); // data_reference_index
    b.zeros(16);
    b.u16(u16::try_from(w).map_err(|_| MediaError::TooLarge)?);
    b.u16(u16::try_from(h).map_err(|_| MediaError::TooLarge)?);
    b.u32(0x0048_0000); // 72 dpi
    b.u32(0x0048_0000);
    b.u32(0);
    b.u16(1); // frame_count
    let mut name = [0u8; 32];
    let label = b"recmock";
    name[0] = label.len() as u8;
    name[1..=label.len()].copy_from_slice(label);
    b.bytes(&name);
    b.u16(0x0018); // depth
    b.u16(0xFFFF); // pre_defined -1
    let avcc = b.open(b"avcC");
    b.u8(1); // configurationVersion
    b.bytes(&v.sps[1..4]); // profile, constraints, level
    b.u8(0xFF); // lengthSizeMinusOne 3
    b.u8(0xE1); // one SPS
    b.u16(u16::try_from(v.sps.len()).map_err(|_| MediaError::TooLarge)?);
    b.bytes(v.sps);
    b.u8(1); // one PPS
    b.u16(u16::try_from(v.pps.len()).map_err(|_| MediaError::TooLarge)?);
    b.bytes(v.pps);
    b.close(avcc)?;
    let pasp = b.open(b"pasp");
    b.u32(1);
    b.u32(1);
    b.close(pasp)?;
    b.close(avc1)?;
    b.close(stsd)?;
    stts(b, p.frames, 1000, p.last_delta)?;
    let gop = u64::from(p.stream.gop);
    let syncs = p.frames.div_ceil(gop);
    let stss = b.open_full(b"stss", 0, 0);
    b.u32_of(syncs)?;
    for i in 0..syncs {
        b.u32_of(i * gop + 1)?;
    }
    b.close(stss)?;
    let d = m.data;
    let chunks = d.video_chunks();
    stsc(b, (0..chunks).map(|k| d.video_before(k + 1) - d.video_before(k)))?;
    stsz(b, v.sample_size, p.frames)?;
    chunk_offsets(b, m.co64, chunks, (0..chunks).map(|k| m.data_start.map_or(0, |s| s + d.period_start(k))))?;
    b.close(stbl)?;
    b.close(minf)?;
    b.close(mdia)?;
    b.close(trak)
}

/// An MPEG-4 descriptor header with a one-byte length.
fn descriptor(b: &mut BoxBuf, tag: u8, len: usize) -> Result<(), MediaError> {
    b.u8(tag);
    b.u8(u8::try_from(len).ok().filter(|l| *l < 0x80).ok_or(MediaError::Internal("descriptor too long"))?);
    Ok(())
}

fn audio_trak(
    b: &mut BoxBuf,
    m: &MoovInput<'_>,
    a: &AudioInput<'_>,
    track_id: u32,
) -> Result<(), MediaError> {
    let p = a.plan;
    let trak = b.open(b"trak");
    tkhd(b, track_id, p.duration_ms(), true, (0, 0))?;
    let mdia = b.open(b"mdia");
    mdhd(b, p.rate, p.duration_samples())?;
    hdlr(b, b"soun", "SoundHandler")?;
    let minf = b.open(b"minf");
    let smhd = b.open_full(b"smhd", 0, 0);
    b.zeros(4);
    b.close(smhd)?;
    dinf(b)?;
    let stbl = b.open(b"stbl");
    let stsd = b.open_full(b"stsd", 0, 0);
    b.u32(1);
    let mp4a = b.open(b"mp4a");
    b.zeros(6);
    b.u16(1); // data_reference_index
    b.zeros(8);
    b.u16(u16::from(p.channels));
    b.u16(16); // samplesize
    b.zeros(4);
    b.u32_of(p.rate << 16)?;
    let esds = b.open_full(b"esds", 0, 0);
    let rate = u32::try_from(p.rate).map_err(|_| MediaError::TooLarge)?;
    let asc = aac::audio_specific_config(rate, p.channels).ok_or(MediaError::Internal("AAC sample rate"))?;
    let dsi_len = 2 + asc.len();
    let dcd_len = 13 + dsi_len;
    let sl_len = 3;
    descriptor(b, 0x03, 3 + 2 + dcd_len + sl_len)?; // ES_Descriptor
    b.u16(u16::try_from(track_id).unwrap_or(0)); // ES_ID
    b.u8(0); // flags
    descriptor(b, 0x04, dcd_len - 2)?; // DecoderConfigDescriptor
    b.u8(0x40); // objectTypeIndication: MPEG-4 Audio
    b.u8(0x15); // streamType audio (5) << 2 | upStream 0 | reserved 1
    let buffer = a.sample_size.min(0x00FF_FFFF) as u32;
    b.bytes(&buffer.to_be_bytes()[1..]); // bufferSizeDB
    let bitrate = a.sample_size * 8 * p.rate / aac::SAMPLES_PER_FRAME;
    let bitrate = u32::try_from(bitrate).unwrap_or(u32::MAX);
    b.u32(bitrate); // maxBitrate
    b.u32(bitrate); // avgBitrate
    descriptor(b, 0x05, asc.len())?; // DecoderSpecificInfo
    b.bytes(&asc);
    descriptor(b, 0x06, 1)?; // SLConfigDescriptor
    b.u8(0x02); // predefined: MP4
    b.close(esds)?;
    b.close(mp4a)?;
    b.close(stsd)?;
    stts(b, p.frames, aac::SAMPLES_PER_FRAME, p.last_delta)?;
    let d = m.data;
    let chunks = d.audio_chunks();
    stsc(b, (0..chunks).map(|k| d.audio_before(k + 1) - d.audio_before(k)))?;
    stsz(b, a.sample_size, p.frames)?;
    let vsize = m.video.as_ref().map_or(0, |v| v.sample_size);
    chunk_offsets(
        b,
        m.co64,
        chunks,
        (0..chunks).map(|k| {
            m.data_start
                .map_or(0, |s| s + d.period_start(k) + vsize * (d.video_before(k + 1) - d.video_before(k)))
        }),
    )?;
    b.close(stbl)?;
    b.close(minf)?;
    b.close(mdia)?;
    b.close(trak)
}

/// Sizes chosen for a target.
#[derive(Debug, Clone, Copy)]
struct Sizing {
    video_size: u64,
    audio_size: u64,
    /// 64-bit chunk offsets and `mdat` largesize
    wide: bool,
    header_len: u64,
    /// unreferenced bytes at the end of `mdat` (< 8)
    mdat_tail: u64,
    /// trailing `free` box size (0 or >= 8)
    free: u64,
}

/// Everything decided about a file but its bytes.
struct Plan {
    video: Option<VideoPlan>,
    audio: Option<AudioPlan>,
    chunk_secs: u64,
    ftyp: Vec<u8>,
    /// header length without and with 64-bit offsets
    header_narrow: u64,
    header_wide: u64,
    data_min: u64,
}

impl Plan {
    fn new(
        video: Option<&Video>,
        audio: Option<&Audio>,
        duration_ms: u64,
        seed: u64,
    ) -> Result<Self, MediaError> {
        let (chunk_secs, gop_secs) = chunk_and_gop_secs(duration_ms);
        let video = video.map(|v| VideoPlan::new(v, duration_ms, seed, gop_secs)).transpose()?;
        let audio = audio.map(|a| AudioPlan::new(a, duration_ms)).transpose()?;
        let vmin = match &video {
            Some(v) => v.frames.checked_mul(v.min_size).ok_or(MediaError::TooLarge)?,
            None => 0,
        };
        let amin = match &audio {
            Some(a) => a.frames.checked_mul(a.min_size).ok_or(MediaError::TooLarge)?,
            None => 0,
        };
        let data_min = vmin.checked_add(amin).ok_or(MediaError::TooLarge)?;
        let mut plan = Self {
            ftyp: ftyp(video.is_some()),
            video,
            audio,
            chunk_secs,
            header_narrow: 0,
            header_wide: 0,
            data_min,
        };
        let vmin = plan.video.as_ref().map_or(0, |v| v.min_size);
        let amin = plan.audio.as_ref().map_or(0, |a| a.min_size);
        // The moov size does not depend on sample sizes, offsets or the level.
        plan.header_narrow = plan.header_len(vmin, amin, false)?;
        plan.header_wide = plan.header_len(vmin, amin, true)?;
        Ok(plan)
    }

    fn interleave(&self, vsize: u64, asize: u64) -> Result<Interleave, MediaError> {
        let vperiod = self.video.as_ref().map_or(1, |v| v.fps) * self.chunk_secs;
        let arate = self.audio.as_ref().map_or(1, |a| a.rate) * self.chunk_secs;
        let video = match &self.video {
            Some(v) => Some(TrackData {
                frames: v.frames,
                size: vsize,
                templates: v
                    .units
                    .iter()
                    .map(|u| h264::padded_sample(u, vsize))
                    .collect::<Option<Vec<_>>>()
                    .ok_or(MediaError::Internal("video sample size"))?,
            }),
            None => None,
        };
        let audio = match &self.audio {
            Some(a) => Some(TrackData {
                frames: a.frames,
                size: asize,
                templates: vec![Template::from_bytes(
                    aac::silent_frame(a.channels, asize).ok_or(MediaError::Internal("audio sample size"))?,
                )],
            }),
            None => None,
        };
        let mut d = Interleave {
            periods: 0,
            video,
            audio,
            frames_per_period: vperiod,
            samples_per_period: arate,
            len: 0,
        };
        d.periods = d.video_chunks().max(d.audio_chunks());
        let vlen = d.video.as_ref().map_or(Some(0), |v| v.frames.checked_mul(v.size));
        let alen = d.audio.as_ref().map_or(Some(0), |a| a.frames.checked_mul(a.size));
        d.len = vlen.zip(alen).and_then(|(v, a)| v.checked_add(a)).ok_or(MediaError::TooLarge)?;
        Ok(d)
    }

    fn parameter_sets(&self, vsize: u64) -> Option<(Vec<u8>, Vec<u8>)> {
        self.video.as_ref().map(|v| {
            let bps = vsize.saturating_mul(8).saturating_mul(v.fps);
            let level = v.stream.level_idc(bps);
            (v.stream.sps(level), v.stream.pps())
        })
    }

    fn moov(
        &self,
        d: &Interleave,
        vsize: u64,
        asize: u64,
        data_start: Option<u64>,
        wide: bool,
    ) -> Result<Vec<u8>, MediaError> {
        let ps = self.parameter_sets(vsize);
        let video = match (&self.video, &ps) {
            (Some(plan), Some((sps, pps))) => Some(VideoInput { plan, sps, pps, sample_size: vsize }),
            _ => None,
        };
        let audio = self.audio.as_ref().map(|plan| AudioInput { plan, sample_size: asize });
        moov(&MoovInput { video, audio, data: d, data_start, co64: wide })
    }

    fn header_len(&self, vsize: u64, asize: u64, wide: bool) -> Result<u64, MediaError> {
        let d = self.interleave(vsize, asize)?;
        let moov = self.moov(&d, vsize, asize, None, wide)?;
        Ok(self.ftyp.len() as u64 + moov.len() as u64 + if wide { 16 } else { 8 })
    }

    fn min_size(&self) -> Result<u64, MediaError> {
        let narrow = self.header_narrow.checked_add(self.data_min).ok_or(MediaError::TooLarge)?;
        if narrow <= u64::from(u32::MAX) {
            Ok(narrow)
        } else {
            self.header_wide.checked_add(self.data_min).ok_or(MediaError::TooLarge)
        }
    }

    fn sizing(&self, target: u64) -> Result<Sizing, MediaError> {
        let total = target.max(self.min_size()?);
        let min_wide = self.header_wide.checked_add(self.data_min).ok_or(MediaError::TooLarge)?;
        let wide = total > u64::from(u32::MAX) && total >= min_wide;
        let header_len = if wide { self.header_wide } else { self.header_narrow };
        let overflow = MediaError::Internal("size arithmetic");
        let avail = total.checked_sub(header_len).ok_or(overflow.clone())?;
        let budget = if wide { avail } else { avail.min(u64::from(u32::MAX).saturating_sub(header_len)) };
        let extra = budget.checked_sub(self.data_min).ok_or(overflow.clone())?;
        let mut asize = 0;
        let mut adata = 0;
        if let Some(a) = &self.audio {
            let share = if self.video.is_some() { extra / 10 } else { extra };
            asize = a.min_size + (share / a.frames).min(a.max_size - a.min_size);
            adata = asize.checked_mul(a.frames).ok_or(overflow.clone())?;
        }
        let mut vsize = 0;
        let mut vdata = 0;
        if let Some(v) = &self.video {
            let left = budget.checked_sub(adata).ok_or(overflow.clone())?;
            vsize = h264::largest_fitting_size(&v.units, left / v.frames);
            vdata = vsize.checked_mul(v.frames).ok_or(overflow.clone())?;
        }
        let rest = vdata.checked_add(adata).and_then(|d| avail.checked_sub(d)).ok_or(overflow)?;
        let (mdat_tail, free) = if rest < 8 { (rest, 0) } else { (0, rest) };
        Ok(Sizing { video_size: vsize, audio_size: asize, wide, header_len, mdat_tail, free })
    }
}

/// The smallest file for these tracks and duration.
pub(crate) fn min_size(
    video: Option<&Video>,
    audio: Option<&Audio>,
    duration_ms: u64,
    seed: u64,
) -> Result<u64, MediaError> {
    Plan::new(video, audio, duration_ms, seed)?.min_size()
}

/// The regions of the file.
pub(crate) fn build(
    video: Option<&Video>,
    audio: Option<&Audio>,
    duration_ms: u64,
    target: u64,
    seed: u64,
) -> Result<(Vec<Region>, Summary), MediaError> {
    let plan = Plan::new(video, audio, duration_ms, seed)?;
    let s = plan.sizing(target)?;
    let data = plan.interleave(s.video_size, s.audio_size)?;
    let moov = plan.moov(&data, s.video_size, s.audio_size, Some(s.header_len), s.wide)?;
    let mut header = plan.ftyp.clone();
    header.extend_from_slice(&moov);
    let mdat_len = data
        .len()
        .checked_add(s.mdat_tail)
        .and_then(|l| l.checked_add(if s.wide { 16 } else { 8 }))
        .ok_or(MediaError::TooLarge)?;
    if s.wide {
        header.extend_from_slice(&1u32.to_be_bytes());
        header.extend_from_slice(b"mdat");
        header.extend_from_slice(&mdat_len.to_be_bytes());
    } else {
        let l = u32::try_from(mdat_len).map_err(|_| MediaError::Internal("mdat size"))?;
        header.extend_from_slice(&l.to_be_bytes());
        header.extend_from_slice(b"mdat");
    }
    if header.len() as u64 != s.header_len {
        return Err(MediaError::Internal("header length changed"));
    }
    let summary = Summary {
        content_type: if plan.video.is_some() { "video/mp4" } else { "audio/mp4" },
        extension: if plan.video.is_some() { "mp4" } else { "m4a" },
        header_len: s.header_len,
        moov_len: moov.len() as u64,
        video_frames: plan.video.as_ref().map_or(0, |v| v.frames),
        video_sample_size: s.video_size,
        video_size: plan.video.as_ref().map_or((0, 0), |v| (v.stream.width, v.stream.height)),
        video_level: plan.parameter_sets(s.video_size).map_or(0, |(sps, _)| sps[3]),
        audio_frames: plan.audio.as_ref().map_or(0, |a| a.frames),
        audio_sample_size: s.audio_size,
        padding: s.mdat_tail + s.free,
    };
    let mut regions = vec![Region::Bytes(header), Region::Mp4Data(data)];
    if s.mdat_tail > 0 {
        let mut t = Template::new();
        t.push_run(0, s.mdat_tail);
        regions.push(Region::Template(t));
    }
    if s.free > 0 {
        let mut t = Template::new();
        if let Ok(size) = u32::try_from(s.free) {
            let mut h = size.to_be_bytes().to_vec();
            h.extend_from_slice(b"free");
            t.push_bytes(h);
            t.push_run(0, s.free - 8);
        } else {
            let mut h = 1u32.to_be_bytes().to_vec();
            h.extend_from_slice(b"free");
            h.extend_from_slice(&s.free.to_be_bytes());
            t.push_bytes(h);
            t.push_run(0, s.free - 16);
        }
        regions.push(Region::Template(t));
    }
    Ok((regions, summary))
}
