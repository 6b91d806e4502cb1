//! The one recording engine behind all five vendors.
//!
//! A recording is initialised → recording ⇄ paused → (stopped) queued for encoding → encoding →
//! uploading → done, or failed from any unfinished phase. While recording, time accumulates; paused time
//! does not. When it stops, the recorded time is cut into segments of at most `segment_s` seconds, and
//! each segment will become one file once the recording is done. Each vendor module maps these phases
//! onto its own words (001's statuses 1..6/-1, 000's callbacks 1000/1001, ...).

use crate::files::{Shape, DEFAULT_PICTURE};
use serde::{Deserialize, Serialize};

/// The scheduler task name of "advance this recording's processing if due".
pub const STEP_TASK: &str = "recording_step";

/// Where a recording is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// created, not yet recording (001: a manual task before its first layout)
    Initialised,
    /// media is being recorded
    Recording,
    /// recording suspended; paused time is not recorded
    Paused,
    /// stopped, waiting for an encoder
    Queued,
    /// being encoded
    Encoding,
    /// encoded files being uploaded
    Uploading,
    /// files available
    Done,
    /// failed; no files
    Failed,
}

impl Phase {
    /// The phase's name, as dumps show it (`queued`, `encoding`).
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Initialised => "initialised",
            Phase::Recording => "recording",
            Phase::Paused => "paused",
            Phase::Queued => "queued",
            Phase::Encoding => "encoding",
            Phase::Uploading => "uploading",
            Phase::Done => "done",
            Phase::Failed => "failed",
        }
    }
}

/// What a recording produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// audio and video, mp4 files
    Video,
    /// audio only, mp3 files
    Audio,
}

impl MediaKind {
    /// File extension / format name.
    pub fn format(self) -> &'static str {
        match self {
            MediaKind::Video => "mp4",
            MediaKind::Audio => "mp3",
        }
    }

    /// What its files hold when the recording does not say: an MP4 of the default picture with sound, or
    /// an MP3.
    pub fn default_shape(self) -> Shape {
        match self {
            MediaKind::Video => Shape::video(DEFAULT_PICTURE),
            MediaKind::Audio => Shape::mp3(),
        }
    }
}

/// Why the engine refused a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// the operation needs a recording in progress
    #[error("the recording is not in progress")]
    NotRecording,
    /// the operation needs a paused recording
    #[error("the recording is not paused")]
    NotPaused,
    /// the recording already started
    #[error("the recording has already started")]
    AlreadyStarted,
    /// the recording was stopped (or failed) already
    #[error("the recording has already stopped")]
    Stopped,
}

/// One cut of a stopped recording; becomes one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// 1-based position
    pub index: u32,
    /// seconds of recorded time before this segment
    pub offset_s: i64,
    /// seconds of recorded media in it
    pub duration_s: i64,
    /// size of its file in bytes (known when it is cut: the file is made with exactly this size)
    pub size: u64,
    /// seed of its file's bytes, fixed when it is cut (its size may depend on it)
    #[serde(default)]
    pub seed: u64,
    /// key of its file in the file store, once produced
    pub file_key: Option<String>,
}

impl Segment {
    /// Milliseconds of media in it: the duration its file has.
    pub fn duration_ms(&self) -> u64 {
        (self.duration_s.max(0) as u64).saturating_mul(1000)
    }
}

/// A recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// vendor-visible id
    pub id: String,
    /// the room / group / classroom it records
    pub room: String,
    /// where it is
    pub phase: Phase,
    /// what it produces
    pub media: MediaKind,
    /// what its files hold (tracks, picture, sound); absent: `media`'s default shape
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<Shape>,
    /// maximum segment length in seconds
    pub segment_s: i64,
    /// when it was created (ms)
    pub created_ms: i64,
    /// when it first started recording (ms)
    pub started_ms: Option<i64>,
    /// when it stopped (ms)
    pub stopped_ms: Option<i64>,
    /// when it entered its current phase (ms)
    pub phase_since_ms: i64,
    /// recorded milliseconds in closed spans
    pub recorded_ms: i64,
    /// start of the open recording span (ms), while recording
    pub span_start_ms: Option<i64>,
    /// the cuts, known once stopped
    pub segments: Vec<Segment>,
    /// why it failed
    pub failure: Option<String>,
}

impl Recording {
    /// A new recording, initialised at `at_ms`.
    pub fn new(id: String, room: String, media: MediaKind, segment_s: i64, at_ms: i64) -> Self {
        Recording {
            id,
            room,
            phase: Phase::Initialised,
            media,
            shape: None,
            segment_s: segment_s.max(1),
            created_ms: at_ms,
            started_ms: None,
            stopped_ms: None,
            phase_since_ms: at_ms,
            recorded_ms: 0,
            span_start_ms: None,
            segments: Vec::new(),
            failure: None,
        }
    }

    /// What its files hold.
    pub fn shape(&self) -> Shape {
        self.shape.unwrap_or_else(|| self.media.default_shape())
    }

    fn enter(&mut self, phase: Phase, at_ms: i64) {
        self.phase = phase;
        self.phase_since_ms = at_ms;
    }

    /// Still accepting commands (initialised, recording or paused).
    pub fn is_active(&self) -> bool {
        matches!(self.phase, Phase::Initialised | Phase::Recording | Phase::Paused)
    }

    /// Done or failed.
    pub fn is_final(&self) -> bool {
        matches!(self.phase, Phase::Done | Phase::Failed)
    }

    /// Initialised → recording.
    pub fn start(&mut self, at_ms: i64) -> Result<(), Refusal> {
        match self.phase {
            Phase::Initialised => {
                self.started_ms = Some(at_ms);
                self.span_start_ms = Some(at_ms);
                self.enter(Phase::Recording, at_ms);
                Ok(())
            }
            Phase::Recording | Phase::Paused => Err(Refusal::AlreadyStarted),
            _ => Err(Refusal::Stopped),
        }
    }

    /// Recording → paused.
    pub fn pause(&mut self, at_ms: i64) -> Result<(), Refusal> {
        match self.phase {
            Phase::Recording => {
                self.close_span(at_ms);
                self.enter(Phase::Paused, at_ms);
                Ok(())
            }
            Phase::Initialised | Phase::Paused => Err(Refusal::NotRecording),
            _ => Err(Refusal::Stopped),
        }
    }

    /// Paused → recording.
    pub fn resume(&mut self, at_ms: i64) -> Result<(), Refusal> {
        match self.phase {
            Phase::Paused => {
                self.span_start_ms = Some(at_ms);
                self.enter(Phase::Recording, at_ms);
                Ok(())
            }
            Phase::Initialised | Phase::Recording => Err(Refusal::NotPaused),
            _ => Err(Refusal::Stopped),
        }
    }

    fn close_span(&mut self, at_ms: i64) {
        if let Some(s) = self.span_start_ms.take() {
            self.recorded_ms += (at_ms - s).max(0);
        }
    }

    /// Recorded milliseconds up to `at_ms`.
    pub fn recorded_ms_at(&self, at_ms: i64) -> i64 {
        self.recorded_ms + self.span_start_ms.map_or(0, |s| (at_ms - s).max(0))
    }

    /// Stop: close the open span, cut the recorded time into segments and queue for encoding.
    /// A recording that never recorded anything still stops; it has no segments.
    pub fn stop(&mut self, at_ms: i64, timings: &Timings) -> Result<(), Refusal> {
        if !self.is_active() {
            return Err(Refusal::Stopped);
        }
        self.close_span(at_ms);
        self.finish_stop(at_ms, timings);
        Ok(())
    }

    /// Stop a recording of media captured elsewhere (a class already held, re-recorded by a back end):
    /// its recorded time is `media_ms`, whatever time passed while it was active.
    pub fn stop_with_media(&mut self, at_ms: i64, media_ms: i64, timings: &Timings) -> Result<(), Refusal> {
        if !self.is_active() {
            return Err(Refusal::Stopped);
        }
        self.span_start_ms = None;
        self.recorded_ms = media_ms.max(0);
        self.started_ms.get_or_insert(at_ms);
        self.finish_stop(at_ms, timings);
        Ok(())
    }

    fn finish_stop(&mut self, at_ms: i64, timings: &Timings) {
        self.stopped_ms = Some(at_ms);
        let shape = self.shape();
        let bytes_per_s = shape.bytes_per_s(timings);
        self.segments = cut_segments(self.recorded_s(), self.segment_s);
        for seg in &mut self.segments {
            seg.seed = media_seed(&self.id, &self.room, self.created_ms, seg.index);
            let target = (seg.duration_s.max(0) as u64).saturating_mul(bytes_per_s);
            seg.size = shape.size(seg.duration_ms(), target, seg.seed).unwrap_or(target);
        }
        self.enter(Phase::Queued, at_ms);
    }

    /// Recorded whole seconds (rounded; at least 1 when anything at all was recorded).
    pub fn recorded_s(&self) -> i64 {
        let ms = self.recorded_ms;
        if ms <= 0 {
            0
        } else {
            ((ms + 500) / 1000).max(1)
        }
    }

    /// Fail from any unfinished phase.
    pub fn fail(&mut self, at_ms: i64, reason: &str) -> Result<(), Refusal> {
        if self.is_final() {
            return Err(Refusal::Stopped);
        }
        self.close_span(at_ms);
        if self.stopped_ms.is_none() {
            self.stopped_ms = Some(at_ms);
        }
        self.failure = Some(reason.to_string());
        self.enter(Phase::Failed, at_ms);
        Ok(())
    }

    /// When the current processing phase ends, if the recording is being processed.
    pub fn next_step_due(&self, t: &Timings) -> Option<i64> {
        let secs = match self.phase {
            Phase::Queued => t.encode_queue_s,
            Phase::Encoding => t.encode_s,
            Phase::Uploading => t.upload_s,
            _ => return None,
        };
        Some(self.phase_since_ms + (secs * 1000.0).round() as i64)
    }

    /// If the current processing phase has ended by `at_ms`, move to the next one and return it.
    /// The new phase starts when the old one was due, not when the job happened to run.
    pub fn step(&mut self, at_ms: i64, t: &Timings) -> Option<Phase> {
        let due = self.next_step_due(t)?;
        if due > at_ms {
            return None;
        }
        let next = match self.phase {
            Phase::Queued => Phase::Encoding,
            Phase::Encoding => Phase::Uploading,
            _ => Phase::Done,
        };
        self.enter(next, due);
        Some(next)
    }

    /// Total bytes of all segments.
    pub fn total_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.size).sum()
    }

    /// The phases this recording went through and will go through, with when each began or will begin
    /// (ms), derived from its own timestamps and the timing table `t` — no history is kept: created and
    /// started are its own, each processing phase follows the stop by the table's durations, the current
    /// phase began at `phase_since_ms`, and the phases still ahead follow it (`reached` false).
    pub fn timeline(&self, t: &Timings) -> Vec<TimelineStep> {
        let step = |phase, at_ms, reached| TimelineStep { phase, at_ms, reached };
        let mut out = vec![step(Phase::Initialised, self.created_ms, true)];
        if let Some(s) = self.started_ms {
            out.push(step(Phase::Recording, s, true));
        }
        if self.phase == Phase::Paused {
            out.push(step(Phase::Paused, self.phase_since_ms, true));
        }
        let Some(stopped) = self.stopped_ms else { return out };
        if self.phase == Phase::Failed && self.segments.is_empty() && self.started_ms.is_none() {
            out.push(step(Phase::Failed, self.phase_since_ms, true));
            return out;
        }
        let ms = |s: f64| (s * 1000.0).round() as i64;
        let processing = [
            (Phase::Queued, 0),
            (Phase::Encoding, ms(t.encode_queue_s)),
            (Phase::Uploading, ms(t.encode_s)),
            (Phase::Done, ms(t.upload_s)),
        ];
        let current = processing.iter().position(|(p, _)| *p == self.phase);
        let mut at = stopped;
        for (i, (phase, after)) in processing.iter().enumerate() {
            at += after;
            if current == Some(i) {
                at = self.phase_since_ms;
            }
            if self.phase == Phase::Failed && at >= self.phase_since_ms && i > 0 {
                break;
            }
            let reached = current.is_some_and(|c| i <= c) || self.phase == Phase::Failed;
            out.push(step(*phase, at, reached));
        }
        if self.phase == Phase::Failed {
            out.push(step(Phase::Failed, self.phase_since_ms, true));
        }
        out
    }
}

/// One phase of a recording's [`Recording::timeline`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimelineStep {
    /// the phase
    pub phase: Phase,
    /// when it began (or, not `reached`, will begin), virtual ms
    pub at_ms: i64,
    /// it has begun
    pub reached: bool,
}

/// The seed of a segment's file: a function of the recording and the segment's place in it, so the same
/// requests at the same virtual times give the same bytes (the id stream is not drawn from when cutting).
pub fn media_seed(id: &str, room: &str, created_ms: i64, index: u32) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in
        id.bytes().chain([0]).chain(room.bytes()).chain(created_ms.to_le_bytes()).chain(index.to_le_bytes())
    {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
    }
    h
}

/// Cut `recorded_s` seconds into segments of at most `segment_s` (their sizes and seeds still 0).
pub fn cut_segments(recorded_s: i64, segment_s: i64) -> Vec<Segment> {
    let segment_s = segment_s.max(1);
    let mut out = Vec::new();
    let mut offset = 0;
    while offset < recorded_s {
        let d = segment_s.min(recorded_s - offset);
        out.push(Segment {
            index: out.len() as u32 + 1,
            offset_s: offset,
            duration_s: d,
            size: 0,
            seed: 0,
            file_key: None,
        });
        offset += d;
    }
    out
}

/// Default bytes per second of a file with video: 2 Mbit/s, above the smallest valid 1920×1080 at 30
/// frames per second (185,166 B/s; 001's default canvas), a common bitrate of 1080p recordings.
pub const DEFAULT_VIDEO_BYTES_PER_S: u64 = 250_000;
/// Default bytes per second of an audio-only file: 128 kbit/s MP3.
pub const DEFAULT_AUDIO_BYTES_PER_S: u64 = 16_000;
/// Largest bytes per second of an audio-only file: an MP3 holds at most 320 kbit/s.
pub const MAX_AUDIO_BYTES_PER_S: u64 = 40_000;

/// How long the back end's processing steps take and how big generated media is. Fixture-settable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timings {
    /// seconds a stopped recording waits in the encoding queue
    pub encode_queue_s: f64,
    /// seconds encoding takes
    pub encode_s: f64,
    /// seconds uploading the encoded files takes
    pub upload_s: f64,
    /// bytes per recorded second of a file with video (mp4); a file is never smaller than the smallest
    /// valid file of its picture and duration
    pub video_bytes_per_s: u64,
    /// bytes per recorded second of an audio-only file (mp3); likewise at least the smallest valid one
    pub audio_bytes_per_s: u64,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            encode_queue_s: 5.0,
            encode_s: 10.0,
            upload_s: 5.0,
            video_bytes_per_s: DEFAULT_VIDEO_BYTES_PER_S,
            audio_bytes_per_s: DEFAULT_AUDIO_BYTES_PER_S,
        }
    }
}

/// A timing table with only the keys a fixture gave (merged over the current one).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingsPatch {
    /// see [`Timings::encode_queue_s`]
    pub encode_queue_s: Option<f64>,
    /// see [`Timings::encode_s`]
    pub encode_s: Option<f64>,
    /// see [`Timings::upload_s`]
    pub upload_s: Option<f64>,
    /// see [`Timings::video_bytes_per_s`]
    pub video_bytes_per_s: Option<u64>,
    /// see [`Timings::audio_bytes_per_s`]
    pub audio_bytes_per_s: Option<u64>,
}

impl TimingsPatch {
    /// Problems with the values, as (field, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (name, v) in [
            ("encode_queue_s", self.encode_queue_s),
            ("encode_s", self.encode_s),
            ("upload_s", self.upload_s),
        ] {
            if let Some(v) = v {
                if !(v.is_finite() && (0.0..=86_400.0).contains(&v)) {
                    out.push((name, format!("must be between 0 and 86400 seconds, got {v}")));
                }
            }
        }
        for (name, v, max) in [
            ("video_bytes_per_s", self.video_bytes_per_s, 10_000_000),
            ("audio_bytes_per_s", self.audio_bytes_per_s, MAX_AUDIO_BYTES_PER_S),
        ] {
            if let Some(v) = v {
                if !(1..=max).contains(&v) {
                    out.push((name, format!("must be between 1 and {max}, got {v}")));
                }
            }
        }
        out
    }

    /// Apply the given keys over `t`.
    pub fn apply(&self, t: &mut Timings) {
        if let Some(v) = self.encode_queue_s {
            t.encode_queue_s = v;
        }
        if let Some(v) = self.encode_s {
            t.encode_s = v;
        }
        if let Some(v) = self.upload_s {
            t.upload_s = v;
        }
        if let Some(v) = self.video_bytes_per_s {
            t.video_bytes_per_s = v;
        }
        if let Some(v) = self.audio_bytes_per_s {
            t.audio_bytes_per_s = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_counts_only_unpaused_time_and_cuts_segments() {
        let t = Timings::default();
        let mut r = Recording::new("r".into(), "g".into(), MediaKind::Video, 900, 0);
        assert_eq!(r.pause(0), Err(Refusal::NotRecording));
        r.start(1_000).unwrap();
        r.pause(601_000).unwrap(); // 600 s recorded
        assert_eq!(r.pause(602_000), Err(Refusal::NotRecording));
        r.resume(700_000).unwrap();
        r.stop(1_900_000, &t).unwrap(); // + 1200 s
        assert_eq!(r.recorded_s(), 1800);
        assert_eq!(r.segments.iter().map(|s| s.duration_s).collect::<Vec<_>>(), vec![900, 900]);
        assert_eq!(r.phase, Phase::Queued);
        assert_eq!(r.step(1_900_000, &t), None);
        assert_eq!(r.step(1_905_000, &t), Some(Phase::Encoding));
        assert_eq!(r.step(2_000_000, &t), Some(Phase::Uploading));
        assert_eq!(r.step(2_000_000, &t), Some(Phase::Done));
        assert_eq!(r.phase_since_ms, 1_920_000);
        assert_eq!(r.stop(2_000_000, &t), Err(Refusal::Stopped));
    }

    #[test]
    fn the_timeline_comes_from_the_timestamps_and_the_timing_table() {
        let t = Timings::default();
        let mut r = Recording::new("r".into(), "g".into(), MediaKind::Video, 900, 0);
        r.start(1_000).unwrap();
        r.stop(61_000, &t).unwrap();
        let seen =
            |r: &Recording| r.timeline(&t).iter().map(|s| (s.phase, s.at_ms, s.reached)).collect::<Vec<_>>();
        assert_eq!(
            seen(&r),
            [
                (Phase::Initialised, 0, true),
                (Phase::Recording, 1_000, true),
                (Phase::Queued, 61_000, true),
                (Phase::Encoding, 66_000, false),
                (Phase::Uploading, 76_000, false),
                (Phase::Done, 81_000, false),
            ]
        );
        r.step(70_000, &t); // encoding since 66 s
        assert_eq!(seen(&r)[3], (Phase::Encoding, 66_000, true));
        r.fail(70_000, "disk full").unwrap();
        assert_eq!(seen(&r).last(), Some(&(Phase::Failed, 70_000, true)));
        assert!(!seen(&r).iter().any(|s| s.0 == Phase::Uploading));
    }

    #[test]
    fn last_segment_is_partial() {
        let s = cut_segments(2000, 900);
        assert_eq!(s.len(), 3);
        assert_eq!(s[2].duration_s, 200);
        assert_eq!(s[2].offset_s, 1800);
        assert!(cut_segments(0, 900).is_empty());
    }
}
