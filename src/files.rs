//! Recorded files whose bytes really exist.
//!
//! A file is stored as what it holds — its [`Media`]: container, tracks and duration — its size and a
//! seed; its bytes are produced on demand by [`crate::media`] (an MP4 with H.264 and AAC tracks, an MP3, a
//! JPEG), any byte range directly, so a two-hour recording costs a few hundred bytes of memory yet
//! downloads as a file `ffprobe` reads with the size, duration and MD5 the API reported. Files that are
//! not media (004's H5 pages) are a deterministic text stream.
//!
//! The MD5 of a new file is computed off the caller's thread, on a small pool of background threads
//! ([`FileStore`]), and remembered; what reports it waits for it ([`FileStore::md5_ready`]) or has it
//! computed on the spot.

use crate::ids::IdSource;
use crate::limits::{Cap, Caps};
use crate::media::{self, Layout, MediaSpec};
use crate::recording::Timings;
use dashmap::DashMap;
use md5::{Digest, Md5};
use parking_lot::{Condvar, Mutex};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

/// The smallest file that is not media (room for its header).
pub const MIN_FILE_SIZE: u64 = 64;

/// Bytes produced at a time when a file is hashed or downloaded.
pub const CHUNK: usize = 256 * 1024;

// ----- what a file holds --------------------------------------------------------------------------------

/// A video track's picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Picture {
    /// pixels (an odd number is shown one larger: 4:2:0 video has even sizes)
    pub width: u32,
    /// pixels (likewise)
    pub height: u32,
    /// frames per second
    pub fps: u32,
}

/// An audio track's sound (silence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sound {
    /// samples per second
    pub sample_rate: u32,
    /// 1 or 2
    pub channels: u8,
}

/// The picture of a recording that does not say what it is: 1280×720 at 25 frames per second.
pub const DEFAULT_PICTURE: Picture = Picture { width: 1280, height: 720, fps: 25 };
/// The sound of an MP4 recording: AAC-LC, 48 kHz stereo.
pub const MP4_SOUND: Sound = Sound { sample_rate: 48_000, channels: 2 };
/// The sound of an MP3 recording: 44.1 kHz stereo (MPEG-1 Layer III).
pub const MP3_SOUND: Sound = Sound { sample_rate: 44_100, channels: 2 };

/// What a media file holds, apart from its duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "container", rename_all = "snake_case", deny_unknown_fields)]
pub enum Shape {
    /// an MP4 file with an H.264 video track and/or an AAC-LC audio track
    Mp4 {
        /// the video track
        #[serde(default)]
        video: Option<Picture>,
        /// the audio track
        #[serde(default)]
        audio: Option<Sound>,
    },
    /// an MP3 file (MPEG audio Layer III)
    Mp3 {
        /// its sound
        audio: Sound,
    },
    /// a baseline JPEG image (no duration)
    Jpeg {
        /// pixels
        width: u32,
        /// pixels
        height: u32,
    },
}

impl Shape {
    /// An MP4 of `picture` with the usual sound.
    pub const fn video(picture: Picture) -> Shape {
        Shape::Mp4 { video: Some(picture), audio: Some(MP4_SOUND) }
    }

    /// An MP4 of `picture` without sound.
    pub const fn silent_video(picture: Picture) -> Shape {
        Shape::Mp4 { video: Some(picture), audio: None }
    }

    /// An MP3 with the usual sound.
    pub const fn mp3() -> Shape {
        Shape::Mp3 { audio: MP3_SOUND }
    }

    /// The format name and file extension: `mp4`, `mp3` or `jpg`.
    pub fn format(&self) -> &'static str {
        match self {
            Shape::Mp4 { .. } => "mp4",
            Shape::Mp3 { .. } => "mp3",
            Shape::Jpeg { .. } => "jpg",
        }
    }

    /// Whether it has a video track (its bytes per second are the timing table's video ones).
    pub fn has_video(&self) -> bool {
        matches!(self, Shape::Mp4 { video: Some(_), .. })
    }

    /// The timing table's bytes per second for this shape: video ones when it has a picture.
    pub fn bytes_per_s(&self, t: &Timings) -> u64 {
        if self.has_video() {
            t.video_bytes_per_s
        } else {
            t.audio_bytes_per_s
        }
    }

    fn kind(&self) -> media::MediaKind {
        let audio = |s: &Sound| media::Audio { sample_rate: s.sample_rate, channels: s.channels };
        match self {
            Shape::Mp4 { video, audio: a } => media::MediaKind::Mp4 {
                video: video.map(|p| media::Video { width: p.width, height: p.height, fps: p.fps }),
                audio: a.as_ref().map(audio),
            },
            Shape::Mp3 { audio: a } => media::MediaKind::Mp3 { audio: audio(a) },
            Shape::Jpeg { width, height } => media::MediaKind::Jpeg { width: *width, height: *height },
        }
    }

    /// The exact size of a file of this shape lasting `duration_ms`, aimed at `target` bytes:
    /// `max(target, the smallest valid file)`. `None` when no such file can be made (an unsupported
    /// picture or sound; a duration outside 1 ms..7 days).
    pub fn size(&self, duration_ms: u64, target: u64, seed: u64) -> Option<u64> {
        let spec = Media { shape: *self, duration_ms }.spec(target, seed);
        let min = spec.min_size().ok()?;
        let size = target.max(min);
        match spec.kind {
            // An MP3 has a largest size (320 kbit/s and a full ID3 tag): beyond it, the smallest.
            media::MediaKind::Mp3 { .. } if size > min => {
                MediaSpec { target_size: size, ..spec }.layout().map(|l| l.len()).ok().or(Some(min))
            }
            _ => Some(size),
        }
    }
}

/// What a media file holds: its shape and its duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Media {
    /// container and tracks
    pub shape: Shape,
    /// milliseconds (0 for an image)
    pub duration_ms: u64,
}

impl Media {
    fn spec(&self, target: u64, seed: u64) -> MediaSpec {
        MediaSpec {
            kind: self.shape.kind(),
            duration_ms: self.duration_ms.min(media::MAX_DURATION_MS),
            target_size: target,
            seed,
        }
    }
}

// ----- a stored file ------------------------------------------------------------------------------------

/// A stored file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    /// unique key; the download path is `/files/{key}/{name}`
    pub key: String,
    /// file name with extension
    pub name: String,
    /// `<vendor>:<tenant>` that owns it (a tenant reset removes its files)
    pub owner: String,
    /// format: `mp4`, `mp3`, `jpg`, `html`
    pub format: String,
    /// length in bytes
    pub size: u64,
    /// MD5 of the bytes, 32 lowercase hex digits, once computed (a state dump always has it)
    #[serde(default)]
    pub md5: Option<String>,
    /// seed of the bytes (the picture's colours; the text of a page)
    pub seed: u64,
    /// creation time, virtual unix milliseconds
    pub created_ms: i64,
    /// what a media file holds (absent: not media, or a dump written before files were media)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
}

impl StoredFile {
    /// MIME type of the bytes.
    pub fn content_type(&self) -> &'static str {
        match self.format.as_str() {
            "mp4" if self.media.is_some_and(|m| !m.shape.has_video()) => "audio/mp4",
            "mp4" => "video/mp4",
            "mp3" => "audio/mpeg",
            "json" => "application/json",
            "html" => "text/html; charset=utf-8",
            "jpg" => "image/jpeg",
            _ => "application/octet-stream",
        }
    }

    /// The entity tag of its bytes: made of its key, seed and size (the bytes are a function of them and
    /// of what it holds, which never changes under one key), so it needs no hash of the bytes.
    pub fn etag(&self) -> String {
        format!("\"{}-{:x}-{:x}\"", self.key, self.seed, self.size)
    }

    /// Its bytes, ready to be read at any offset.
    pub fn content(&self) -> Content {
        let layout = self.media.and_then(|m| m.spec(self.size, self.seed).layout().ok());
        match layout {
            Some(l) if l.len() == self.size => Content::Media(Box::new(l)),
            _ => Content::Plain { format: self.format.clone(), seed: self.seed, size: self.size },
        }
    }

    /// The whole file's MD5, computed now (64 KiB-ish chunks; `stop` is asked between chunks and ends it
    /// early with `None`).
    pub fn compute_md5(&self, stop: impl Fn() -> bool) -> Option<String> {
        let content = self.content();
        let mut h = Md5::new();
        let mut buf = vec![0u8; CHUNK];
        let mut pos = 0u64;
        while pos < content.len() {
            if stop() {
                return None;
            }
            let n = content.read_at(pos, &mut buf);
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            pos = pos.saturating_add(n as u64);
        }
        Some(format!("{:x}", h.finalize()))
    }
}

/// A file's bytes: read any range of them.
#[derive(Debug, Clone)]
pub enum Content {
    /// a media file
    Media(Box<Layout>),
    /// a file that is not media (an HTML page, or anything else: a header and a deterministic stream)
    Plain {
        /// its format
        format: String,
        /// seed of the stream
        seed: u64,
        /// its length
        size: u64,
    },
}

impl Content {
    /// Length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Content::Media(l) => l.len(),
            Content::Plain { size, .. } => *size,
        }
    }

    /// Whether it has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copy the bytes from `offset` into `buf`, stopping at the end; the number copied.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> usize {
        match self {
            Content::Media(l) => l.read_at(offset, buf),
            Content::Plain { format, seed, size } => {
                let n = usize::try_from(size.saturating_sub(offset)).unwrap_or(usize::MAX).min(buf.len());
                plain_fill(format, *seed, *size, offset, &mut buf[..n]);
                n
            }
        }
    }

    /// The bytes of `start..end` in chunks of at most [`CHUNK`] bytes.
    pub fn chunks(&self, start: u64, end: u64) -> impl Iterator<Item = Vec<u8>> + '_ {
        let end = end.min(self.len());
        let mut pos = start;
        std::iter::from_fn(move || {
            if pos >= end {
                return None;
            }
            let n = usize::try_from(end - pos).unwrap_or(CHUNK).min(CHUNK);
            let mut buf = vec![0u8; n];
            let got = self.read_at(pos, &mut buf);
            if got == 0 {
                return None;
            }
            buf.truncate(got);
            pos = pos.saturating_add(got as u64);
            Some(buf)
        })
    }
}

/// The bytes of a file that is not media, at `offset..offset + buf.len()` (within `size`).
fn plain_fill(format: &str, seed: u64, size: u64, offset: u64, buf: &mut [u8]) {
    let header = plain_header(format);
    let is_html = format == "html";
    let tail_from = size.saturating_sub(HTML_TAIL.len() as u64);
    let mut i = 0;
    while i < buf.len() {
        let pos = offset.saturating_add(i as u64);
        if let Some(b) = usize::try_from(pos).ok().and_then(|p| header.get(p)) {
            buf[i] = *b;
            i += 1;
            continue;
        }
        if is_html {
            // A real page: readable filler inside a comment, then the closing tags.
            buf[i] = if pos >= tail_from {
                HTML_TAIL.get((pos - tail_from) as usize).copied().unwrap_or(b'\n')
            } else {
                b'a' + (stream_word(seed, pos / 8).to_le_bytes()[(pos % 8) as usize] % 26)
            };
            i += 1;
            continue;
        }
        let word = stream_word(seed, pos / 8).to_le_bytes();
        let start = (pos % 8) as usize;
        let n = (8 - start).min(buf.len() - i);
        buf[i..i + n].copy_from_slice(&word[start..start + n]);
        i += n;
    }
}

fn stream_word(seed: u64, block: u64) -> u64 {
    let mut z = seed ^ block.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The end of a generated HTML page.
const HTML_TAIL: &[u8] = b"--></div></body></html>\n";

/// The start of a file that is not media.
fn plain_header(format: &str) -> &'static [u8] {
    match format {
        "html" => b"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>recmock H5 transcode</title></head><body><div class=\"slides\"><!--",
        _ => b"",
    }
}

/// The download URL of a stored file under `base` (the name percent-encoded: users choose file names).
pub fn file_url_at(base: &str, f: &StoredFile) -> String {
    file_key_url(base, &f.key, &f.name)
}

/// The download URL of the stored file `key` named `name`, under `base`.
pub fn file_key_url(base: &str, key: &str, name: &str) -> String {
    let mut url = String::with_capacity(base.len() + key.len() + name.len() + 8);
    url.push_str(base);
    url.push_str("/files/");
    url.push_str(key);
    url.push('/');
    crate::codec::push_percent_encoded(&mut url, name);
    url
}

// ----- files from a dump written before files were media ------------------------------------------------

/// Pictures tried, largest first, for a file of a dump written before files were media: the largest
/// whose smallest file fits the size the dump gives.
const LEGACY_PICTURES: [Picture; 4] = [
    DEFAULT_PICTURE,
    Picture { width: 640, height: 360, fps: 25 },
    Picture { width: 320, height: 240, fps: 15 },
    Picture { width: 160, height: 120, fps: 5 },
];

/// What a file of an older dump (format and size, no media) becomes: media of its format lasting what
/// its size stood for in that dump's timing table (size / bytes per second), in the largest shape whose
/// smallest file fits that size; when none fits, the smallest shape (the file then grows to its minimum).
fn legacy_media(format: &str, size: u64, t: &Timings) -> Option<Media> {
    let seconds = |bps: u64| (size / bps.max(1)).max(1);
    let fits = |shape: Shape, duration_ms: u64| shape.size(duration_ms, 0, 0).is_some_and(|min| min <= size);
    let pick = |shapes: &[Shape], duration_ms: u64| {
        shapes.iter().copied().find(|s| fits(*s, duration_ms)).or(shapes.last().copied())
    };
    match format {
        "mp4" => {
            let duration_ms = seconds(t.video_bytes_per_s).saturating_mul(1000);
            let mut shapes: Vec<Shape> = LEGACY_PICTURES.iter().map(|p| Shape::video(*p)).collect();
            shapes.push(Shape::Mp4 { video: None, audio: Some(MP4_SOUND) });
            shapes.push(Shape::Mp4 { video: None, audio: Some(Sound { sample_rate: 8_000, channels: 1 }) });
            pick(&shapes, duration_ms).map(|shape| Media { shape, duration_ms })
        }
        "mp3" => {
            let duration_ms = seconds(t.audio_bytes_per_s).saturating_mul(1000);
            let shapes = [Shape::mp3(), Shape::Mp3 { audio: Sound { sample_rate: 16_000, channels: 1 } }];
            pick(&shapes, duration_ms).map(|shape| Media { shape, duration_ms })
        }
        "jpg" => {
            let shapes = [
                Shape::Jpeg { width: 1280, height: 720 },
                Shape::Jpeg { width: 320, height: 180 },
                Shape::Jpeg { width: 16, height: 16 },
            ];
            pick(&shapes, 0).map(|shape| Media { shape, duration_ms: 0 })
        }
        _ => None,
    }
}

// ----- the store ----------------------------------------------------------------------------------------

const QUEUED: u8 = 0;
const HASHING: u8 = 1;
const DONE: u8 = 2;
const GONE: u8 = 3;

/// One stored file and its MD5 once known.
#[derive(Debug)]
struct Entry {
    /// the file (its `md5` is `None` here: the answer comes from `md5`)
    file: StoredFile,
    md5: OnceLock<String>,
    /// QUEUED, HASHING, DONE or GONE (deleted: hashing it stops)
    state: AtomicU8,
}

impl Entry {
    fn new(mut file: StoredFile) -> Arc<Entry> {
        let md5 = OnceLock::new();
        let state = match file.md5.take() {
            Some(h) => {
                let _ = md5.set(h);
                DONE
            }
            None => QUEUED,
        };
        Arc::new(Entry { file, md5, state: AtomicU8::new(state) })
    }

    fn file(&self) -> StoredFile {
        StoredFile { md5: self.md5.get().cloned(), ..self.file.clone() }
    }

    fn claim(&self) -> bool {
        self.state.compare_exchange(QUEUED, HASHING, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Hash it (it was claimed); false when stopped before the end.
    fn hash(&self, pool: &Pool) -> bool {
        let stopped = || pool.stop.load(Ordering::Relaxed) || self.state.load(Ordering::Relaxed) == GONE;
        let done = match self.file.compute_md5(stopped) {
            Some(h) => {
                let _ = self.md5.set(h);
                let _ = self.state.compare_exchange(HASHING, DONE, Ordering::AcqRel, Ordering::Acquire);
                true
            }
            None => {
                // Stopped: back in line unless it was deleted (a later request may compute it).
                let _ = self.state.compare_exchange(HASHING, QUEUED, Ordering::AcqRel, Ordering::Acquire);
                false
            }
        };
        pool.finished.notify_waiters();
        done
    }

    fn drop_it(&self) {
        self.state.store(GONE, Ordering::Release);
    }
}

/// The background threads that hash new files.
#[derive(Debug, Default)]
struct Pool {
    queue: Mutex<PoolQueue>,
    wake: Condvar,
    /// a hash finished (or stopped)
    finished: tokio::sync::Notify,
    /// the store is gone: the threads end
    stop: AtomicBool,
}

#[derive(Debug, Default)]
struct PoolQueue {
    jobs: VecDeque<Arc<Entry>>,
    threads: usize,
}

/// How many threads hash files: one on a machine of two cores or fewer, else two. Hashing never takes
/// every core from the server.
fn hash_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores <= 2 {
        1
    } else {
        2
    }
}

impl Pool {
    /// Queue `entry` for a background hash; false when `backlog` files wait already (it is then hashed when
    /// its MD5 is first asked for).
    fn push(self: &Arc<Self>, entry: Arc<Entry>, backlog: usize) -> bool {
        let mut q = self.queue.lock();
        if q.jobs.len() >= backlog {
            // Deleted files (and files hashed on demand meanwhile) leave the line before anything is refused.
            q.jobs.retain(|e| e.state.load(Ordering::Relaxed) == QUEUED);
            if q.jobs.len() >= backlog {
                return false;
            }
        }
        q.jobs.push_back(entry);
        if q.threads < hash_threads() {
            let pool = self.clone();
            let spawned =
                std::thread::Builder::new().name("recmock-md5".into()).spawn(move || pool.work()).is_ok();
            // Without a thread the file is hashed when something asks for its MD5.
            if spawned {
                q.threads += 1;
            }
        }
        drop(q);
        self.wake.notify_one();
        true
    }

    fn work(&self) {
        loop {
            let job = {
                let mut q = self.queue.lock();
                loop {
                    if self.stop.load(Ordering::Relaxed) {
                        return;
                    }
                    if let Some(j) = q.jobs.pop_front() {
                        break j;
                    }
                    self.wake.wait(&mut q);
                }
            };
            if job.claim() {
                job.hash(self);
            }
        }
    }
}

/// Every stored file, and the threads that hash new ones.
#[derive(Debug, Default)]
pub struct FileStore {
    files: DashMap<String, Arc<Entry>>,
    pool: Arc<Pool>,
    /// how many files may wait for their background hash (`--md5-backlog`)
    caps: Arc<Caps>,
}

impl Drop for FileStore {
    fn drop(&mut self) {
        self.pool.stop.store(true, Ordering::Relaxed);
        self.pool.wake.notify_all();
    }
}

/// A new file: who owns it, its name, and its bytes.
#[derive(Debug, Clone)]
pub struct NewFile<'a> {
    /// `<vendor>:<tenant>`
    pub owner: &'a str,
    /// file name with extension
    pub name: &'a str,
    /// what it holds; `None`: not media, of `format`
    pub media: Option<Media>,
    /// the format of a file that is not media (`html`); media files take their shape's
    pub format: &'a str,
    /// wanted size: a media file is at least its smallest valid size
    pub target_size: u64,
    /// the seed of its bytes; `None` draws one (a recording's segments bring theirs, drawn when it was
    /// cut, so the size known then is the size of the file)
    pub seed: Option<u64>,
}

impl FileStore {
    /// No files yet; at most `caps.limits.md5_backlog` of them wait for a background hash.
    pub fn new(caps: Arc<Caps>) -> Self {
        FileStore { files: DashMap::new(), pool: Arc::default(), caps }
    }

    /// Hash `entry` in the background, unless the backlog is full.
    fn hash_later(&self, entry: Arc<Entry>) {
        if !self.pool.push(entry, self.caps.limits.md5_backlog) {
            self.caps.reached(Cap::Md5Backlog, || {
                "more files wait for their MD5: the next ones are hashed when their MD5 is asked for".into()
            });
        }
    }

    /// Create a file that is not media (an HTML page): `size` bytes of `format`.
    pub fn create(
        &self,
        ids: &IdSource,
        owner: &str,
        name: &str,
        format: &str,
        size: u64,
        now_ms: i64,
    ) -> StoredFile {
        self.add(ids, NewFile { owner, name, media: None, format, target_size: size, seed: None }, now_ms)
    }

    /// Create a file; its MD5 is computed in the background. Every file draws a key and a seed from
    /// `ids` (a given seed replaces the drawn one).
    pub fn add(&self, ids: &IdSource, new: NewFile<'_>, now_ms: i64) -> StoredFile {
        let key = ids.alnum(24);
        let drawn = ids.next_u64();
        let seed = new.seed.unwrap_or(drawn);
        let sized =
            new.media.and_then(|m| m.shape.size(m.duration_ms, new.target_size, seed).map(|s| (m, s)));
        let (format, size, media) = match sized {
            Some((m, size)) => (m.shape.format().to_string(), size, Some(m)),
            None => (new.format.to_string(), new.target_size.max(MIN_FILE_SIZE), None),
        };
        let f = StoredFile {
            key,
            name: new.name.to_string(),
            owner: new.owner.to_string(),
            format,
            size,
            md5: None,
            seed,
            created_ms: now_ms,
            media,
        };
        let entry = Entry::new(f.clone());
        self.files.insert(f.key.clone(), entry.clone());
        self.hash_later(entry);
        f
    }

    /// The file with `key` (its `md5` once computed).
    pub fn get(&self, key: &str) -> Option<StoredFile> {
        self.files.get(key).map(|e| e.file())
    }

    /// The MD5 of `key` if it is known already.
    pub fn md5(&self, key: &str) -> Option<String> {
        self.files.get(key).and_then(|e| e.md5.get().cloned())
    }

    /// The MD5 of `key`: waits for the background hash, or computes it at once on a blocking thread when
    /// no background thread has started on it. `None` when there is no such file (or it was deleted).
    pub async fn md5_ready(&self, key: &str) -> Option<String> {
        let entry = self.files.get(key).map(|e| e.value().clone())?;
        loop {
            let finished = self.pool.finished.notified();
            tokio::pin!(finished);
            finished.as_mut().enable();
            if let Some(h) = entry.md5.get() {
                return Some(h.clone());
            }
            match entry.state.load(Ordering::Acquire) {
                GONE => return None,
                QUEUED if entry.claim() => {
                    let (e, pool) = (entry.clone(), self.pool.clone());
                    if tokio::task::spawn_blocking(move || e.hash(&pool)).await.is_err() {
                        return None;
                    }
                }
                _ => finished.await,
            }
        }
    }

    /// Wait until every file's MD5 is known (before a state dump).
    pub async fn settle(&self) {
        let pending: Vec<String> =
            self.files.iter().filter(|e| e.md5.get().is_none()).map(|e| e.key().clone()).collect();
        for key in pending {
            self.md5_ready(&key).await;
        }
    }

    /// Delete one file; true if it existed.
    pub fn remove(&self, key: &str) -> bool {
        self.files.remove(key).map(|(_, e)| e.drop_it()).is_some()
    }

    /// Delete every file of an owner.
    pub fn remove_owner(&self, owner: &str) {
        self.files.retain(|_, e| {
            let keep = e.file.owner != owner;
            if !keep {
                e.drop_it();
            }
            keep
        });
    }

    /// Delete everything.
    pub fn clear(&self) {
        self.files.retain(|_, e| {
            e.drop_it();
            false
        });
    }

    /// Every file, sorted by key, with its MD5 (any not known yet is computed here: call
    /// [`FileStore::settle`] first where waiting is possible).
    pub fn state(&self) -> Vec<StoredFile> {
        let entries: Vec<Arc<Entry>> = self.files.iter().map(|e| e.value().clone()).collect();
        let mut v: Vec<StoredFile> = entries
            .iter()
            .map(|e| {
                let mut f = e.file();
                if f.md5.is_none() {
                    f.md5 = e.file.compute_md5(|| false);
                }
                f
            })
            .collect();
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    }

    /// Replace every file with a dump's. A file of a dump written before files were media becomes media
    /// of its format (see [`legacy_media`], with the dump's timing table `t`) and its MD5 is computed
    /// afresh; so is any MD5 the dump lacks.
    pub fn restore(&self, files: Vec<StoredFile>, t: &Timings) {
        self.clear();
        for mut f in files {
            if f.media.is_none() {
                if let Some(m) = legacy_media(&f.format, f.size, t) {
                    f.size = m.shape.size(m.duration_ms, f.size, f.seed).unwrap_or(f.size);
                    f.media = Some(m);
                    f.md5 = None;
                }
            }
            let entry = Entry::new(f);
            self.files.insert(entry.file.key.clone(), entry.clone());
            if entry.md5.get().is_none() {
                self.hash_later(entry);
            }
        }
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Files and their bytes by the part of their owner before `:` (`<vendor>:<tenant>`: the vendor).
    pub fn tally(&self) -> std::collections::BTreeMap<String, (u64, u64)> {
        let mut out: std::collections::BTreeMap<String, (u64, u64)> = std::collections::BTreeMap::new();
        for e in self.files.iter() {
            let owner = e.file.owner.split(':').next().unwrap_or_default();
            // Looked up before inserting: a new key is allocated once per vendor, not once per file.
            match out.get_mut(owner) {
                Some((n, bytes)) => {
                    *n += 1;
                    *bytes += e.file.size;
                }
                None => {
                    out.insert(owner.to_string(), (1, e.file.size));
                }
            }
        }
        out
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(f: &StoredFile) -> Vec<u8> {
        let c = f.content();
        c.chunks(0, c.len()).flatten().collect()
    }

    #[test]
    fn media_files_are_deterministic_exact_and_hashed() {
        let store = FileStore::default();
        let ids = IdSource::new(9);
        let media =
            Media { shape: Shape::video(Picture { width: 320, height: 240, fps: 15 }), duration_ms: 3000 };
        let new = NewFile {
            owner: "t",
            name: "a.mp4",
            media: Some(media),
            format: "",
            target_size: 200_000,
            seed: None,
        };
        let f = store.add(&ids, new.clone(), 0);
        assert_eq!((f.size, f.format.as_str()), (200_000, "mp4"));
        let bytes = all(&f);
        assert_eq!(bytes.len(), 200_000);
        assert_eq!(&bytes[4..8], b"ftyp");
        let md5 = f.compute_md5(|| false).expect("not stopped");
        assert_eq!(crate::codec::md5_hex(&bytes), md5);
        // a range equals the same slice of the whole
        let c = f.content();
        let part: Vec<u8> = c.chunks(70_000, 140_001).flatten().collect();
        assert_eq!(&part[..], &bytes[70_000..140_001]);
        // a target below the smallest valid file gives the smallest
        let small = store.add(&ids, NewFile { target_size: 10, ..new }, 0);
        assert!(small.size > 10 && all(&small).len() as u64 == small.size);
        // the background pool hashes them
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        assert_eq!(rt.block_on(store.md5_ready(&f.key)), Some(md5));
        rt.block_on(store.settle());
        assert!(store.state().iter().all(|f| f.md5.is_some()));
        let page = store.create(&ids, "t", "index.html", "html", 4096, 0);
        let text = String::from_utf8(all(&page)).expect("an HTML page is text");
        assert!(text.starts_with("<!DOCTYPE html>") && text.ends_with("</html>\n") && text.len() == 4096);
    }

    #[test]
    fn files_of_older_dumps_become_media_of_their_format() {
        let t = Timings { video_bytes_per_s: 2000, audio_bytes_per_s: 500, ..Timings::default() };
        let m = legacy_media("mp4", 60 * 2000, &t).expect("mp4");
        assert_eq!(m.duration_ms, 60_000);
        assert!(m.shape.size(m.duration_ms, 120_000, 1).is_some_and(|s| s == 120_000), "{m:?}");
        let m = legacy_media("mp3", 60 * 500, &t).expect("mp3");
        assert_eq!(m.duration_ms, 60_000);
        assert!(legacy_media("html", 4096, &t).is_none());
        let store = FileStore::default();
        let old = StoredFile {
            key: "k".into(),
            name: "a.mp4".into(),
            owner: "o".into(),
            format: "mp4".into(),
            size: 120_000,
            md5: Some("0".repeat(32)),
            seed: 5,
            created_ms: 0,
            media: None,
        };
        store.restore(vec![old], &t);
        let f = store.state().pop().expect("restored");
        assert!(f.media.is_some() && f.size == 120_000);
        assert_eq!(f.md5, f.compute_md5(|| false));
    }

    #[test]
    fn files_past_the_md5_backlog_are_hashed_when_asked() {
        let caps = crate::limits::Limits { md5_backlog: 2, ..Default::default() };
        let store = FileStore::new(Arc::new(Caps::new(caps)));
        // No background thread takes anything: what waits stays waiting.
        store.pool.stop.store(true, Ordering::Relaxed);
        let ids = IdSource::new(3);
        let files: Vec<StoredFile> =
            (0..4).map(|i| store.create(&ids, "o", &format!("{i}.html"), "html", 256, 0)).collect();
        assert_eq!(store.pool.queue.lock().jobs.len(), 2);
        assert!(store.caps.was_reached(Cap::Md5Backlog));
        // A deleted file leaves the line for the next one.
        assert!(store.remove(&files[0].key));
        store.create(&ids, "o", "4.html", "html", 256, 0);
        assert_eq!(store.pool.queue.lock().jobs.len(), 2);
        // One that never waited is hashed when its MD5 is asked for (hashing allowed again: `stop` also
        // halts a hash in progress).
        store.pool.stop.store(false, Ordering::Relaxed);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let want = files[3].compute_md5(|| false);
        assert_eq!(rt.block_on(store.md5_ready(&files[3].key)), want);
    }
}
