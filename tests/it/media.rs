//! The media library (`recmock::media`) against FFmpeg: generated files are written to disk and checked
//! with `ffprobe` and `ffmpeg`. These tests need FFmpeg (`apt-get install -y ffmpeg`; `make test` installs
//! it) and FAIL without it, never skip. The tool helpers here serve `recordings` too.
//!
//! Every file must probe with no message at `-v warning`, show the specified codecs, sizes, rates
//! and durations (within one frame), and decode with no message at `-v error`.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use recmock::media::{self, Audio, Layout, MediaKind, MediaSpec, Video};

/// A file in the temp directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        let file = format!("media-test-{}-{name}", std::process::id());
        TempFile(std::env::temp_dir().join(file))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Run a tool; fail (never skip) when it is missing, saying how to install it.
pub fn run(tool: &str, args: &[&str]) -> (String, String, bool) {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| missing(tool, &e));
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

/// The failure of a test whose tool is not installed.
fn missing(tool: &str, e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::NotFound {
        panic!("{tool} not found: run `apt-get install -y ffmpeg` (make test installs it)");
    }
    panic!("{tool} could not run: {e}");
}

/// Write the layout to `name` in the temp directory.
fn write(layout: &Layout, name: &str) -> TempFile {
    let f = TempFile::new(name);
    let mut out = std::io::BufWriter::with_capacity(1 << 20, File::create(f.path()).unwrap());
    let mut buf = vec![0u8; 1 << 20];
    let mut pos = 0u64;
    while pos < layout.len() {
        let n = layout.read_at(pos, &mut buf);
        assert!(n > 0);
        out.write_all(&buf[..n]).unwrap();
        pos += n as u64;
    }
    out.flush().unwrap();
    drop(out);
    assert_eq!(std::fs::metadata(f.path()).unwrap().len(), layout.len());
    f
}

/// `ffprobe -v warning` facts as `section.key` (e.g. `stream.0.codec_name`, `format.duration`).
/// Asserts that ffprobe printed nothing on stderr.
fn probe(path: &Path, extra: &[&str]) -> HashMap<String, String> {
    probe_at(path.to_str().unwrap(), extra)
}

/// `ffprobe -v warning` facts of a file or URL (see [`probe`]).
pub fn probe_at(p: &str, extra: &[&str]) -> HashMap<String, String> {
    let mut args = vec!["-v", "warning"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[
        "-show_entries",
        "format=format_name,duration,size:stream=codec_name,profile,width,height,r_frame_rate,\
         duration,sample_rate,channels,nb_frames,nb_read_frames,nb_read_packets",
        "-of",
        "flat",
        p,
    ]);
    let (stdout, stderr, ok) = run("ffprobe", &args);
    assert!(ok, "ffprobe failed on {p}: {stderr}");
    assert_eq!(stderr, "", "ffprobe -v warning printed messages for {p}");
    let mut m = HashMap::new();
    for line in stdout.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let k = k.trim_start_matches("streams.").to_string();
        m.insert(k, v.trim_matches('"').to_string());
    }
    m
}

pub fn get<'a>(m: &'a HashMap<String, String>, k: &str) -> &'a str {
    m.get(k).map(String::as_str).unwrap_or_else(|| panic!("no {k} in {m:?}"))
}

pub fn num(m: &HashMap<String, String>, k: &str) -> f64 {
    get(m, k).parse().unwrap_or_else(|_| panic!("{k} = {} is not a number", get(m, k)))
}

/// Decode with `ffmpeg -v error` (extra input options before `-i`) and assert silence.
fn decode(path: &Path, input_opts: &[&str], output_opts: &[&str]) {
    decode_at(path.to_str().unwrap(), input_opts, output_opts)
}

/// [`decode`] of a file or URL.
pub fn decode_at(p: &str, input_opts: &[&str], output_opts: &[&str]) {
    let mut args = vec!["-nostdin", "-v", "error"];
    args.extend_from_slice(input_opts);
    args.extend_from_slice(&["-i", p]);
    args.extend_from_slice(output_opts);
    args.extend_from_slice(&["-f", "null", "-"]);
    let (_, stderr, ok) = run("ffmpeg", &args);
    assert!(ok, "ffmpeg failed on {p}: {stderr}");
    assert_eq!(stderr, "", "ffmpeg -v error printed messages for {p}");
}

fn mp4_spec(
    video: Option<(u32, u32, u32)>,
    audio: Option<(u32, u8)>,
    ms: u64,
    size: u64,
    seed: u64,
) -> MediaSpec {
    MediaSpec {
        kind: MediaKind::Mp4 {
            video: video.map(|(width, height, fps)| Video { width, height, fps }),
            audio: audio.map(|(sample_rate, channels)| Audio { sample_rate, channels }),
        },
        duration_ms: ms,
        target_size: size,
        seed,
    }
}

/// Check an MP4's probe facts against its spec; returns them.
fn check_mp4(spec: &MediaSpec, path: &Path, count: bool) -> HashMap<String, String> {
    let MediaKind::Mp4 { video, audio } = &spec.kind else { panic!("not an MP4 spec") };
    let extra: &[&str] = if count { &["-count_packets"] } else { &[] };
    let m = probe(path, extra);
    let secs = spec.duration_ms as f64 / 1000.0;
    assert!(get(&m, "format.format_name").contains("mp4"));
    assert_eq!(num(&m, "format.size") as u64, spec.layout().unwrap().len());
    // exact to the millisecond, but for a video shorter than one frame (it lasts one frame)
    let tolerance = match video {
        Some(v) if spec.duration_ms * u64::from(v.fps) < 1000 => 1.0 / f64::from(v.fps),
        _ => 0.0015,
    };
    assert!(
        (num(&m, "format.duration") - secs).abs() <= tolerance,
        "format duration {} vs {secs}",
        get(&m, "format.duration")
    );
    let mut idx = 0;
    if let Some(v) = video {
        let s = format!("stream.{idx}.");
        assert_eq!(get(&m, &(s.clone() + "codec_name")), "h264");
        assert_eq!(get(&m, &(s.clone() + "profile")), "Constrained Baseline");
        let (w, h) = v.effective_size();
        assert_eq!(num(&m, &(s.clone() + "width")) as u32, w);
        assert_eq!(num(&m, &(s.clone() + "height")) as u32, h);
        assert_eq!(get(&m, &(s.clone() + "r_frame_rate")), format!("{}/1", v.fps));
        let d = num(&m, &(s.clone() + "duration"));
        assert!((d - secs).abs() <= 1.0 / f64::from(v.fps), "video duration {d} vs {secs}");
        let frames = (spec.duration_ms * u64::from(v.fps)).div_ceil(1000);
        assert_eq!(num(&m, &(s.clone() + "nb_frames")) as u64, frames);
        if count {
            assert_eq!(num(&m, &(s + "nb_read_packets")) as u64, frames);
        }
        idx += 1;
    }
    if let Some(a) = audio {
        let s = format!("stream.{idx}.");
        assert_eq!(get(&m, &(s.clone() + "codec_name")), "aac");
        assert_eq!(get(&m, &(s.clone() + "profile")), "LC");
        assert_eq!(num(&m, &(s.clone() + "sample_rate")) as u32, a.sample_rate);
        assert_eq!(num(&m, &(s.clone() + "channels")) as u8, a.channels);
        let d = num(&m, &(s.clone() + "duration"));
        assert!((d - secs).abs() <= 1024.0 / f64::from(a.sample_rate), "audio duration {d} vs {secs}");
        let samples = (spec.duration_ms * u64::from(a.sample_rate) + 500) / 1000;
        let frames = samples.max(1).div_ceil(1024);
        assert_eq!(num(&m, &(s.clone() + "nb_frames")) as u64, frames);
        if count {
            assert_eq!(num(&m, &(s + "nb_read_packets")) as u64, frames);
        }
    }
    m
}

/// Luma plane of the first decoded frame (`-ss` seconds in).
fn luma(path: &Path, at: &str, w: usize, h: usize) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-ss", at, "-i"])
        .arg(path)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
        .output()
        .unwrap_or_else(|e| missing("ffmpeg", &e));
    assert!(out.status.success());
    assert_eq!(out.stdout.len(), w * h * 3 / 2);
    out.stdout[..w * h].to_vec()
}

/// Every column of the picture is one value (vertical bars), within video range.
fn assert_bars(y: &[u8], w: usize, h: usize) {
    for x in 0..w {
        let v = y[x];
        assert!((16..=235).contains(&v), "luma {v}");
        for row in 0..h {
            assert_eq!(y[row * w + x], v, "column {x} row {row}");
        }
    }
    let distinct: std::collections::BTreeSet<u8> = y[..w].iter().copied().collect();
    assert!(distinct.len() >= 2.min(w / 16), "bars: {distinct:?}");
}

#[test]
fn mp4_video_and_audio_5s() {
    let spec = mp4_spec(Some((1280, 720, 25)), Some((48_000, 2)), 5_000, 2_000_000, 1);
    let layout = spec.layout().unwrap();
    let f = write(&layout, "av5.mp4");
    check_mp4(&spec, f.path(), true);
    decode(f.path(), &[], &[]);
    // the picture: vertical bars, the same in the first frame and the last
    let first = luma(f.path(), "0", 1280, 720);
    assert_bars(&first, 1280, 720);
    assert_eq!(luma(f.path(), "4.9", 1280, 720), first);
    // the file's MD5 equals the layout's
    let (out, _, ok) = run("md5sum", &[f.path().to_str().unwrap()]);
    assert!(ok);
    assert_eq!(&out[..32], media::hex(&layout.md5()));
}

#[test]
fn mp4_durations_not_multiple_of_frame() {
    for (ms, fps, rate, ch) in [
        (1_001u64, 25u32, 44_100u32, 2u8),
        (1, 30, 48_000, 1),
        (2_345, 24, 22_050, 2),
        (10_007, 60, 8_000, 1),
        (3_333, 1, 16_000, 2),
    ] {
        let spec = mp4_spec(Some((640, 360, fps)), Some((rate, ch)), ms, 0, ms);
        let f = write(&spec.layout().unwrap(), &format!("dur{ms}.mp4"));
        check_mp4(&spec, f.path(), true);
        decode(f.path(), &[], &[]);
    }
}

#[test]
fn mp4_video_only_odd_size() {
    let spec = mp4_spec(Some((1279, 719, 30)), None, 1_001, 300_000, 2);
    let f = write(&spec.layout().unwrap(), "vonly.mp4");
    check_mp4(&spec, f.path(), true);
    decode(f.path(), &[], &[]);
    assert_bars(&luma(f.path(), "0", 1280, 720), 1280, 720);
    // sizes that need cropping on both axes, and tiny ones
    for (w, h) in [(1920, 1080), (854, 480), (2, 2), (17, 33)] {
        let spec = mp4_spec(Some((w, h, 25)), None, 2_000, 0, 3);
        let f = write(&spec.layout().unwrap(), &format!("v{w}x{h}.mp4"));
        check_mp4(&spec, f.path(), false);
        decode(f.path(), &[], &[]);
    }
}

#[test]
fn mp4_audio_only() {
    for (rate, ch, ms, size) in [
        (44_100u32, 1u8, 1_001u64, 100_000u64),
        (48_000, 2, 5_000, 0),
        (8_000, 2, 777, 5_000_000),
        (32_000, 1, 60_000, 1_000_000),
    ] {
        let spec = mp4_spec(None, Some((rate, ch)), ms, size, 4);
        let f = write(&spec.layout().unwrap(), &format!("a{rate}.m4a"));
        check_mp4(&spec, f.path(), true);
        decode(f.path(), &[], &[]);
    }
}

#[test]
fn mp3_files() {
    for (rate, ch, ms, size) in [
        (44_100u32, 2u8, 5_000u64, 0u64),
        (44_100, 2, 5_000, 80_000),
        (48_000, 1, 1_001, 100_000),
        (32_000, 2, 2_500, 0),
        (24_000, 1, 1_001, 5_000),
        (22_050, 2, 5_000, 0),
        (16_000, 1, 90_000, 2_000_000),
        (12_000, 1, 3_000, 0),
        (11_025, 2, 3_000, 30_000),
        (8_000, 2, 1_001, 500_000),
    ] {
        let spec = MediaSpec {
            kind: MediaKind::Mp3 { audio: Audio { sample_rate: rate, channels: ch } },
            duration_ms: ms,
            target_size: size,
            seed: 0,
        };
        let layout = spec.layout().unwrap();
        let f = write(&layout, &format!("m{rate}_{ch}_{size}.mp3"));
        let m = probe(f.path(), &["-count_packets"]);
        assert_eq!(get(&m, "format.format_name"), "mp3");
        assert_eq!(get(&m, "stream.0.codec_name"), "mp3");
        assert_eq!(num(&m, "stream.0.sample_rate") as u32, rate);
        assert_eq!(num(&m, "stream.0.channels") as u8, ch);
        let spf = if rate >= 32_000 { 1152.0 } else { 576.0 };
        let frame = spf / f64::from(rate);
        let secs = ms as f64 / 1000.0;
        for k in ["format.duration", "stream.0.duration"] {
            let d = num(&m, k);
            assert!(d >= secs - 1e-6 && d < secs + frame, "{k} {d} vs {secs}");
        }
        assert_eq!(num(&m, "stream.0.nb_read_packets") as u64, layout.summary().audio_frames);
        decode(f.path(), &[], &[]);
    }
}

#[test]
fn jpeg_files() {
    for (w, h, size) in [
        (641u32, 479u32, 300_000u64),
        (1920, 1080, 0),
        (1, 1, 0),
        (64, 64, 1_000),
        (320, 240, 65_537 * 3 + 2),
    ] {
        let spec = MediaSpec {
            kind: MediaKind::Jpeg { width: w, height: h },
            duration_ms: 0,
            target_size: size,
            seed: 5,
        };
        let layout = spec.layout().unwrap();
        assert_eq!(layout.len(), size.max(spec.min_size().unwrap()));
        let f = write(&layout, &format!("i{w}x{h}.jpg"));
        let m = probe(f.path(), &[]);
        assert_eq!(get(&m, "stream.0.codec_name"), "mjpeg");
        assert_eq!(num(&m, "stream.0.width") as u32, w);
        assert_eq!(num(&m, "stream.0.height") as u32, h);
        decode(f.path(), &[], &[]);
    }
}

/// A long file: probe (counting every packet), decode the first and the last 10 seconds.
fn long_file(spec: &MediaSpec, name: &str) {
    let layout = spec.layout().unwrap();
    assert_eq!(layout.len(), spec.target_size);
    let f = write(&layout, name);
    check_mp4(spec, f.path(), true);
    decode(f.path(), &[], &["-t", "10"]);
    let end = format!("{}", spec.duration_ms / 1000 - 10);
    decode(f.path(), &["-ss", &end], &[]);
}

#[test]
fn mp4_90_minutes_720p() {
    let spec = mp4_spec(Some((1280, 720, 25)), Some((44_100, 2)), 90 * 60 * 1000, 90 * 60 * 120_000, 6);
    long_file(&spec, "long90.mp4");
}

#[test]
fn mp4_2_hours_1080p() {
    let spec = mp4_spec(Some((1920, 1080, 25)), Some((48_000, 2)), 2 * 3600 * 1000, 2 * 3600 * 250_000, 7);
    long_file(&spec, "long120.mp4");
}

#[test]
fn mp4_5_hours_small_uses_longer_chunks() {
    // beyond 4 hours, chunks last several seconds and GOPs twice that
    let spec = mp4_spec(Some((160, 120, 10)), Some((8_000, 1)), 5 * 3600 * 1000 + 7, 0, 8);
    let layout = spec.layout().unwrap();
    let f = write(&layout, "long5h.mp4");
    check_mp4(&spec, f.path(), true);
    decode(f.path(), &[], &["-t", "10"]);
    decode(f.path(), &["-ss", "17990"], &[]);
}

#[test]
fn mp3_2_hours() {
    let spec = MediaSpec {
        kind: MediaKind::Mp3 { audio: Audio { sample_rate: 44_100, channels: 2 } },
        duration_ms: 2 * 3600 * 1000,
        target_size: 2 * 3600 * 16_000,
        seed: 0,
    };
    let layout = spec.layout().unwrap();
    assert_eq!(layout.len(), spec.target_size);
    let f = write(&layout, "long.mp3");
    let m = probe(f.path(), &[]);
    assert_eq!(get(&m, "stream.0.codec_name"), "mp3");
    let d = num(&m, "format.duration");
    assert!((7200.0..7200.0 + 1152.0 / 44_100.0).contains(&d), "{d}");
    decode(f.path(), &[], &["-t", "10"]);
    decode(f.path(), &["-ss", "7190"], &[]);
}

#[test]
fn mp4_every_small_padding() {
    // 0..=9 bytes over the minimum: unreferenced mdat bytes (1..=7) or a free box (8, 9)
    let base = mp4_spec(Some((64, 48, 10)), Some((16_000, 1)), 1_500, 0, 9);
    let min = base.min_size().unwrap();
    for extra in 0..10 {
        let spec = MediaSpec { target_size: min + extra, ..base.clone() };
        let f = write(&spec.layout().unwrap(), &format!("pad{extra}.mp4"));
        check_mp4(&spec, f.path(), true);
        decode(f.path(), &[], &[]);
    }
}
