//! Unit tests over the public API: exact sizes, random access, determinism, box structure.

use super::piece::SplitMix64;
use super::*;

fn mp4(video: Option<(u32, u32, u32)>, audio: Option<(u32, u8)>, ms: u64, size: u64) -> MediaSpec {
    MediaSpec {
        kind: MediaKind::Mp4 {
            video: video.map(|(width, height, fps)| Video { width, height, fps }),
            audio: audio.map(|(sample_rate, channels)| Audio { sample_rate, channels }),
        },
        duration_ms: ms,
        target_size: size,
        seed: 3,
    }
}

fn mp3(rate: u32, channels: u8, ms: u64, size: u64) -> MediaSpec {
    MediaSpec {
        kind: MediaKind::Mp3 { audio: Audio { sample_rate: rate, channels } },
        duration_ms: ms,
        target_size: size,
        seed: 0,
    }
}

fn jpeg(width: u32, height: u32, size: u64) -> MediaSpec {
    MediaSpec { kind: MediaKind::Jpeg { width, height }, duration_ms: 0, target_size: size, seed: 9 }
}

fn all_bytes(l: &Layout) -> Vec<u8> {
    let mut v = vec![0u8; l.len() as usize];
    l.fill(0, &mut v);
    v
}

/// Top-level MP4 boxes: (type, offset, size).
fn top_boxes(b: &[u8]) -> Vec<([u8; 4], usize, u64)> {
    let mut out = Vec::new();
    let mut i = 0usize;
    while i + 8 <= b.len() {
        let mut size = u64::from(u32::from_be_bytes(b[i..i + 4].try_into().unwrap()));
        let typ: [u8; 4] = b[i + 4..i + 8].try_into().unwrap();
        if size == 1 {
            size = u64::from_be_bytes(b[i + 8..i + 16].try_into().unwrap());
        }
        assert!(size >= 8, "box {:?} at {i}", String::from_utf8_lossy(&typ));
        out.push((typ, i, size));
        i += size as usize;
    }
    assert_eq!(i, b.len(), "boxes must tile the file");
    out
}

/// Find a box path (e.g. `moov/trak/mdia/minf/stbl/stsz`) under `b`, the first match.
fn find_box<'a>(b: &'a [u8], path: &[&[u8; 4]]) -> Option<&'a [u8]> {
    let mut i = 0usize;
    while i + 8 <= b.len() {
        let size = u32::from_be_bytes(b[i..i + 4].try_into().unwrap()) as usize;
        if size < 8 || i + size > b.len() {
            return None;
        }
        if &b[i + 4..i + 8] == path[0] {
            let body = &b[i + 8..i + size];
            if path.len() == 1 {
                return Some(body);
            }
            // containers; stsd has 8 bytes of header before its entries
            let skip = if path[0] == b"stsd" { 8 } else { 0 };
            return find_box(&body[skip..], &path[1..]);
        }
        i += size;
    }
    None
}

#[test]
fn sizes_are_exact_for_many_targets() {
    let specs = [
        mp4(Some((1280, 720, 25)), Some((48_000, 2)), 5_000, 0),
        mp4(Some((1280, 720, 25)), Some((44_100, 2)), 1_001, 0),
        mp4(Some((320, 240, 30)), None, 1_234, 0),
        mp4(None, Some((44_100, 1)), 777, 0),
        mp4(Some((17, 9, 7)), Some((8_000, 1)), 1, 0),
        mp3(44_100, 2, 5_000, 0),
        mp3(24_000, 1, 1_001, 0),
        mp3(8_000, 2, 40, 0),
        jpeg(640, 480, 0),
        jpeg(1, 1, 0),
    ];
    let mut rng = SplitMix64::new(1);
    for spec in specs {
        let min = spec.min_size().unwrap();
        let mut targets: Vec<u64> = (0..24).map(|d| min + d).collect();
        targets.extend([0, 1, min - 1, min + 100, min + 65_536, min * 2, min * 3 + 7]);
        targets.extend((0..40).map(|_| min + rng.below(min * 4)));
        for t in targets {
            let s = MediaSpec { target_size: t, ..spec.clone() };
            let l = s.layout().unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(l.len(), t.max(min), "{s:?}");
        }
    }
}

#[test]
fn min_size_is_the_smallest_layout() {
    let s = mp4(Some((1280, 720, 25)), Some((48_000, 2)), 5_000, 0);
    let l = s.layout().unwrap();
    assert_eq!(l.len(), s.min_size().unwrap());
    assert_eq!(l.summary().padding, 0);
    // 5 s at 25 fps, 2 s GOPs: the IDR (3600 macroblocks * 6 bits) sets the uniform size
    assert_eq!(l.summary().video_frames, 125);
    assert!(l.summary().video_sample_size > 2_700 && l.summary().video_sample_size < 2_800);
    // 240000 samples: 235 frames of 1024 (the last one 384 long)
    assert_eq!(l.summary().audio_frames, 235);
    assert_eq!(l.summary().audio_sample_size, 6);
}

#[test]
fn random_access_matches_sequential() {
    let specs = [
        mp4(Some((640, 360, 30)), Some((44_100, 2)), 3_500, 2_000_000),
        mp4(Some((64, 64, 5)), None, 10_001, 0),
        mp4(None, Some((22_050, 1)), 9_999, 123_457),
        mp3(48_000, 2, 3_000, 100_000),
        mp3(16_000, 1, 2_500, 0),
        jpeg(333, 222, 200_000),
        jpeg(48, 48, 0),
    ];
    for spec in specs {
        let l = spec.layout().unwrap();
        let whole = all_bytes(&l);
        let mut rng = SplitMix64::new(spec.seed ^ l.len());
        for _ in 0..300 {
            let off = rng.below(l.len() + 10);
            let len = match rng.below(4) {
                0 => rng.below(8),
                1 => rng.below(300),
                2 => rng.below(70_000),
                _ => rng.below(l.len() + 1),
            } as usize;
            let mut buf = vec![0xAAu8; len];
            l.fill(off, &mut buf);
            for (i, &b) in buf.iter().enumerate() {
                let p = off as usize + i;
                let want = whole.get(p).copied().unwrap_or(0);
                assert_eq!(b, want, "{spec:?} byte {p} (fill at {off}, len {len})");
            }
        }
        // concatenated chunked fills equal one fill
        let mut pos = 0u64;
        let mut joined = Vec::with_capacity(whole.len());
        while pos < l.len() {
            let mut buf = vec![0u8; 1 + rng.below(5_000) as usize];
            let n = l.read_at(pos, &mut buf);
            assert!(n > 0);
            joined.extend_from_slice(&buf[..n]);
            pos += n as u64;
        }
        assert_eq!(joined, whole, "{spec:?}");
    }
}

#[test]
fn output_is_deterministic_and_seed_dependent() {
    let a = mp4(Some((320, 240, 25)), Some((48_000, 2)), 2_000, 300_000);
    let x = all_bytes(&a.layout().unwrap());
    let y = all_bytes(&a.layout().unwrap());
    assert_eq!(x, y);
    let b = MediaSpec { seed: 4, ..a.clone() };
    assert_ne!(all_bytes(&b.layout().unwrap()), x);
    let l = a.layout().unwrap();
    assert_eq!(l.md5(), <[u8; 16]>::from(Md5::digest(&x)));
    let j = jpeg(100, 100, 0);
    assert_eq!(all_bytes(&j.layout().unwrap()), all_bytes(&j.layout().unwrap()));
}

#[test]
fn mp4_structure() {
    let s = mp4(Some((1920, 1080, 25)), Some((48_000, 2)), 10_000, 3_000_000);
    let l = s.layout().unwrap();
    let b = all_bytes(&l);
    let boxes = top_boxes(&b);
    let names: Vec<&[u8; 4]> = boxes.iter().map(|(t, _, _)| t).collect();
    assert_eq!(names[..3], [b"ftyp", b"moov", b"mdat"]);
    assert_eq!(boxes[1].2, l.summary().moov_len);
    // stsz: one uniform size per track
    let stsz = find_box(&b, &[b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsz"]).unwrap();
    assert_eq!(stsz.len(), 12);
    assert_eq!(u64::from(u32::from_be_bytes(stsz[4..8].try_into().unwrap())), l.summary().video_sample_size);
    assert_eq!(u32::from_be_bytes(stsz[8..12].try_into().unwrap()), 250);
    // the first chunk offset points at the first sample, just after the mdat header
    let stco = find_box(&b, &[b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stco"]).unwrap();
    let first = u32::from_be_bytes(stco[8..12].try_into().unwrap()) as usize;
    assert_eq!(first, boxes[2].1 + 8);
    // the first sample is an IDR slice NAL unit
    assert_eq!(b[first + 4], 0x65);
    // avcC holds the SPS and PPS
    let avcc = find_box(&b, &[b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd", b"avc1"]).unwrap();
    let avcc = find_box(&avcc[78..], &[b"avcC"]).unwrap();
    assert_eq!(avcc[0], 1);
    assert_eq!(avcc[1], 66);
    assert_eq!(avcc[3], l.summary().video_level);
    // mvhd duration is the spec's
    let mvhd = find_box(&b, &[b"moov", b"mvhd"]).unwrap();
    assert_eq!(u32::from_be_bytes(mvhd[12..16].try_into().unwrap()), 1000);
    assert_eq!(u32::from_be_bytes(mvhd[16..20].try_into().unwrap()), 10_000);
}

#[test]
fn padding_goes_to_free_box_or_mdat_tail() {
    let s = mp4(Some((160, 120, 10)), None, 1_000, 0);
    let min = s.min_size().unwrap();
    for extra in 0..40 {
        let l = MediaSpec { target_size: min + extra, ..s.clone() }.layout().unwrap();
        let b = all_bytes(&l);
        let boxes = top_boxes(&b);
        let last = boxes.last().unwrap();
        if &last.0 == b"free" {
            assert!(last.2 >= 8);
        } else {
            assert_eq!(&last.0, b"mdat");
        }
    }
}

#[test]
fn two_hour_1080p_moov_is_small() {
    let s = mp4(Some((1920, 1080, 25)), Some((48_000, 2)), 2 * 3600 * 1000, 250_000 * 7200);
    let l = s.layout().unwrap();
    assert_eq!(l.len(), 1_800_000_000);
    let moov = l.summary().moov_len;
    assert!(moov < 200_000, "moov {moov}");
    assert!(l.memory_bytes() < 300_000, "memory {}", l.memory_bytes());
    assert_eq!(l.summary().video_frames, 180_000);
}

#[test]
fn long_files_use_64_bit_offsets() {
    // 10 hours at 200 kB/s: 7.2 GB
    let s = mp4(Some((1280, 720, 25)), Some((44_100, 2)), 10 * 3600 * 1000, 7_200_000_000);
    let l = s.layout().unwrap();
    assert_eq!(l.len(), 7_200_000_000);
    let mut head = vec![0u8; l.summary().header_len as usize];
    l.fill(0, &mut head);
    let co64 = find_box(&head, &[b"moov", b"trak", b"mdia", b"minf", b"stbl", b"co64"]);
    assert!(co64.is_some());
    // mdat uses a 64-bit size
    let mdat_at = l.summary().header_len as usize - 16;
    assert_eq!(&head[mdat_at..mdat_at + 8], b"\x00\x00\x00\x01mdat");
    // the last bytes are readable
    let mut tail = [0u8; 100];
    assert_eq!(l.read_at(l.len() - 100, &mut tail), 100);
    // memory does not grow with the duration beyond the moov
    assert!(l.memory_bytes() < 400_000);
}

#[test]
fn bad_specs_are_errors() {
    assert_eq!(mp4(None, None, 1000, 0).layout().unwrap_err(), MediaError::NoTracks);
    assert!(matches!(mp4(Some((100, 100, 25)), None, 0, 0).layout(), Err(MediaError::BadDuration(0))));
    assert!(matches!(mp4(Some((0, 100, 25)), None, 10, 0).layout(), Err(MediaError::UnsupportedVideo(_))));
    assert!(matches!(mp4(Some((100, 100, 0)), None, 10, 0).layout(), Err(MediaError::UnsupportedVideo(_))));
    assert!(matches!(
        mp4(Some((20_000, 100, 25)), None, 10, 0).layout(),
        Err(MediaError::UnsupportedVideo(_))
    ));
    assert!(matches!(mp4(None, Some((44_000, 2)), 10, 0).layout(), Err(MediaError::UnsupportedAudio(_))));
    assert!(matches!(mp4(None, Some((44_100, 3)), 10, 0).layout(), Err(MediaError::UnsupportedAudio(_))));
    assert!(matches!(mp3(96_000, 2, 10, 0).layout(), Err(MediaError::UnsupportedAudio(_))));
    assert!(matches!(jpeg(0, 10, 0).layout(), Err(MediaError::UnsupportedImage(_))));
    assert!(matches!(jpeg(70_000, 10, 0).layout(), Err(MediaError::UnsupportedImage(_))));
    // MP3 beyond 320 kbps plus a 256 MiB ID3 tag
    assert_eq!(mp3(44_100, 2, 1_000, 1 << 40).layout().unwrap_err(), MediaError::TooLarge);
}

#[test]
fn reader_reads_and_seeks() {
    let l = mp3(44_100, 2, 2_000, 50_000).layout().unwrap();
    let whole = all_bytes(&l);
    let mut r = l.reader();
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    assert_eq!(v, whole);
    assert_eq!(r.seek(SeekFrom::End(-10)).unwrap(), l.len() - 10);
    let mut t = Vec::new();
    r.read_to_end(&mut t).unwrap();
    assert_eq!(t, &whole[whole.len() - 10..]);
    assert!(r.seek(SeekFrom::Current(-100_000)).is_err());
}

#[test]
fn min_bytes_per_second() {
    // the figures the README quotes
    let per_s = |s: MediaSpec| {
        let one = MediaSpec { duration_ms: 3_600_000, ..s };
        one.min_size().unwrap() / 3600
    };
    let v1080 = per_s(mp4(Some((1920, 1080, 25)), None, 0, 0));
    let v720 = per_s(mp4(Some((1280, 720, 25)), None, 0, 0));
    let a = per_s(mp4(None, Some((48_000, 2)), 0, 0));
    let m = per_s(mp3(24_000, 1, 0, 0));
    assert!((150_000..160_000).contains(&v1080), "{v1080}");
    assert!((65_000..72_000).contains(&v720), "{v720}");
    assert!(a < 400, "{a}");
    assert!((1_000..1_010).contains(&m), "{m}");
}

/// Decode with FFmpeg (required: the test fails without it) and compare every pixel with the
/// picture the generators meant to code.
mod decoded_pixels {
    use super::*;
    use std::process::Command;

    /// The first frame decoded from `at` seconds (`None`: no seeking, as for an image).
    fn decode_yuv(bytes: &[u8], name: &str, pix_fmt: &str, at: Option<&str>) -> Vec<u8> {
        let file = format!("media-unit-{}-{name}", std::process::id());
        let path = std::env::temp_dir().join(file);
        std::fs::write(&path, bytes).unwrap();
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-nostdin", "-v", "error"]);
        if let Some(at) = at {
            cmd.args(["-ss", at]);
        }
        let out = cmd
            .arg("-i")
            .arg(&path)
            .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"])
            .output()
            .expect("ffmpeg is required for this test (apt-get install -y ffmpeg)");
        let _ = std::fs::remove_file(&path);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }

    #[test]
    fn h264_pictures_are_exact() {
        for (w, h, seed) in [(320u32, 240u32, 1u64), (1279, 719, 2), (18, 34, 3), (1920, 1080, 4)] {
            let spec = MediaSpec { seed, ..mp4(Some((w, h, 25)), None, 3_000, 0) };
            let bytes = all_bytes(&spec.layout().unwrap());
            let stream = super::h264::H264Stream::new(w, h, 25, 2, seed);
            let (w, h) = (stream.width as usize, stream.height as usize);
            for at in ["0", "1.5", "2.96"] {
                let yuv = decode_yuv(&bytes, &format!("px{w}x{h}.mp4"), "yuv420p", Some(at));
                assert_eq!(yuv.len(), w * h * 3 / 2);
                for y in 0..h {
                    for x in 0..w {
                        assert_eq!(
                            yuv[y * w + x],
                            stream.expected_luma(x as u32),
                            "{w}x{h} luma at {x},{y}, {at} s"
                        );
                    }
                }
                let (cb, cr) = stream.expected_chroma();
                let c = w * h / 4;
                assert!(yuv[w * h..w * h + c].iter().all(|&v| v == cb));
                assert!(yuv[w * h + c..].iter().all(|&v| v == cr));
            }
        }
    }

    #[test]
    fn jpeg_pictures_match() {
        for (w, h, size) in [(64u32, 48u32, 0u64), (641, 479, 100_000), (1, 1, 0)] {
            let spec = jpeg(w, h, size);
            let bytes = all_bytes(&spec.layout().unwrap());
            let yuv = decode_yuv(&bytes, &format!("px{w}x{h}.jpg"), "yuvj420p", None);
            let (wu, hu) = (w as usize, h as usize);
            let (cw, ch) = (wu.div_ceil(2), hu.div_ceil(2));
            assert_eq!(yuv.len(), wu * hu + 2 * cw * ch);
            let close = |g: u8, e: i32, what: &str| {
                assert!((i32::from(g) - e).abs() <= 1, "{w}x{h} {what}: {g} vs {e}");
            };
            for y in 0..hu {
                for x in 0..wu {
                    let (ey, _, _) = super::jpeg::expected_colour(w, h, spec.seed, x as u32);
                    close(yuv[y * wu + x], ey, &format!("Y at {x},{y}"));
                }
            }
            for y in 0..ch {
                for x in 0..cw {
                    let (_, ecb, ecr) = super::jpeg::expected_colour(w, h, spec.seed, 2 * x as u32);
                    close(yuv[wu * hu + y * cw + x], ecb, &format!("Cb at {x},{y}"));
                    close(yuv[wu * hu + cw * ch + y * cw + x], ecr, &format!("Cr at {x},{y}"));
                }
            }
        }
    }
}

/// Top-level boxes read through `read_at` only (no full read): (type, offset, size).
fn walk_boxes(l: &Layout) -> Vec<([u8; 4], u64, u64)> {
    let mut out = Vec::new();
    let mut pos = 0u64;
    while pos < l.len() {
        let mut h = [0u8; 16];
        let n = l.read_at(pos, &mut h);
        assert!(n >= 8);
        let mut size = u64::from(u32::from_be_bytes(h[..4].try_into().unwrap()));
        if size == 1 {
            size = u64::from_be_bytes(h[8..16].try_into().unwrap());
        }
        assert!(size >= 8);
        out.push((h[4..8].try_into().unwrap(), pos, size));
        pos += size;
    }
    assert_eq!(pos, l.len(), "boxes must tile the file");
    out
}

#[test]
fn sizes_around_4_gib() {
    let base = mp4(Some((1280, 720, 25)), Some((48_000, 2)), 20 * 60 * 1000, 0);
    let four = u64::from(u32::MAX);
    for t in [four - 9, four - 1, four, four + 1, four + 7, four + 8, four + 1_000, 5 << 30] {
        let s = MediaSpec { target_size: t, ..base.clone() };
        let l = s.layout().unwrap();
        assert_eq!(l.len(), t);
        let boxes = walk_boxes(&l);
        assert_eq!(&boxes[0].0, b"ftyp");
        assert_eq!(&boxes[1].0, b"moov");
        assert_eq!(&boxes[2].0, b"mdat");
        // the last chunk offset is inside mdat
        let mut moov = vec![0u8; boxes[1].2 as usize];
        l.fill(boxes[1].1, &mut moov);
        let (mdat_start, mdat_end) = (boxes[2].1, boxes[2].1 + boxes[2].2);
        let offsets = |typ: &[u8; 4]| -> Vec<u64> {
            let mut v = Vec::new();
            let mut i = 0;
            while let Some(j) = moov[i..].windows(4).position(|w| w == typ) {
                let at = i + j + 8;
                let n = u32::from_be_bytes(moov[at..at + 4].try_into().unwrap()) as usize;
                let width = if typ == b"co64" { 8 } else { 4 };
                for k in 0..n {
                    let o = at + 4 + k * width;
                    v.push(if width == 8 {
                        u64::from_be_bytes(moov[o..o + 8].try_into().unwrap())
                    } else {
                        u64::from(u32::from_be_bytes(moov[o..o + 4].try_into().unwrap()))
                    });
                }
                i = at;
            }
            v
        };
        let all: Vec<u64> = offsets(b"stco").into_iter().chain(offsets(b"co64")).collect();
        assert_eq!(all.len(), 2 * 1200);
        assert!(all.iter().all(|&o| o > mdat_start && o < mdat_end), "{t}");
        // the first video sample is the IDR slice
        let mut nal = [0u8; 5];
        l.fill(all[0], &mut nal);
        assert_eq!(nal[4], 0x65);
    }
}

#[test]
fn minimum_above_4_gib_uses_wide_offsets() {
    // 4K at 60 fps for an hour: the smallest file is about 5.3 GB
    let s = mp4(Some((3840, 2160, 60)), Some((48_000, 2)), 3_600_000, 0);
    let min = s.min_size().unwrap();
    assert!(min > u64::from(u32::MAX));
    let l = s.layout().unwrap();
    assert_eq!(l.len(), min);
    let boxes = walk_boxes(&l);
    assert_eq!(&boxes[2].0, b"mdat");
    let mut head = vec![0u8; boxes[1].2 as usize];
    l.fill(boxes[1].1, &mut head);
    assert!(head.windows(4).any(|w| w == b"co64"));
}

#[test]
fn layout_is_send_and_sync() {
    fn check<T: Send + Sync + Clone>() {}
    check::<Layout>();
    check::<MediaSpec>();
    check::<MediaError>();
}
