//! Recorded files whose bytes really exist.
//!
//! A file is stored as its size and a seed; its bytes are generated on demand from the seed (a short
//! container header, then a deterministic pseudo-random stream), so a 100 MB recording costs a few dozen
//! bytes of memory yet downloads with exactly the size and MD5 the API reported.

use crate::ids::IdSource;
use dashmap::DashMap;
use serde::{Deserialize, Serialize};

/// The smallest file the engine produces (room for the container header).
pub const MIN_FILE_SIZE: u64 = 64;

const CHUNK: usize = 64 * 1024;

/// A stored file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    /// unique key; the download path is `/files/{key}/{name}`
    pub key: String,
    /// file name with extension
    pub name: String,
    /// `<vendor>:<tenant>` that owns it (a tenant reset removes its files)
    pub owner: String,
    /// format: `mp4`, `mp3`, ...
    pub format: String,
    /// length in bytes
    pub size: u64,
    /// MD5 of the bytes, 32 lowercase hex digits
    pub md5: String,
    /// seed of the byte stream
    pub seed: u64,
    /// creation time, virtual unix milliseconds
    pub created_ms: i64,
}

impl StoredFile {
    /// MIME type of the bytes.
    pub fn content_type(&self) -> &'static str {
        match self.format.as_str() {
            "mp4" => "video/mp4",
            "mp3" => "audio/mpeg",
            "json" => "application/json",
            "html" => "text/html; charset=utf-8",
            "jpg" => "image/jpeg",
            _ => "application/octet-stream",
        }
    }

    /// Fill `buf` with the bytes at `offset..offset+buf.len()`.
    pub fn fill(&self, offset: u64, buf: &mut [u8]) {
        let header = header(&self.format, self.size);
        let is_html = self.format == "html";
        let tail_from = self.size.saturating_sub(HTML_TAIL.len() as u64);
        let mut i = 0;
        while i < buf.len() {
            let pos = offset + i as u64;
            if (pos as usize) < header.len() {
                buf[i] = header[pos as usize];
                i += 1;
                continue;
            }
            if is_html {
                // A real page: readable filler inside a comment, then the closing tags.
                buf[i] = if pos >= tail_from {
                    HTML_TAIL[(pos - tail_from) as usize]
                } else {
                    b'a' + (stream_word(self.seed, pos / 8).to_le_bytes()[(pos % 8) as usize] % 26)
                };
                i += 1;
                continue;
            }
            let word = stream_word(self.seed, pos / 8).to_le_bytes();
            let start = (pos % 8) as usize;
            let n = (8 - start).min(buf.len() - i);
            buf[i..i + n].copy_from_slice(&word[start..start + n]);
            i += n;
        }
    }

    /// The bytes of `range` as chunks of at most 64 KiB.
    pub fn chunks(&self, start: u64, end_exclusive: u64) -> impl Iterator<Item = Vec<u8>> + '_ {
        let mut pos = start;
        std::iter::from_fn(move || {
            if pos >= end_exclusive {
                return None;
            }
            let n = ((end_exclusive - pos) as usize).min(CHUNK);
            let mut buf = vec![0u8; n];
            self.fill(pos, &mut buf);
            pos += n as u64;
            Some(buf)
        })
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

/// A short, plausible container header so players, browsers and `file(1)` recognise the type.
fn header(format: &str, size: u64) -> Vec<u8> {
    match format {
        "mp4" => {
            let mut h = Vec::with_capacity(32);
            h.extend_from_slice(&24u32.to_be_bytes());
            h.extend_from_slice(b"ftypisom\x00\x00\x02\x00isommp41");
            h.extend_from_slice(&(size.saturating_sub(24).min(u32::MAX as u64) as u32).to_be_bytes());
            h.extend_from_slice(b"mdat");
            h
        }
        "mp3" => b"ID3\x03\x00\x00\x00\x00\x00\x00".to_vec(),
        // JPEG start of image and a JFIF APP0 segment (cover screenshots).
        "jpg" => b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00".to_vec(),
        "html" => b"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>recmock H5 transcode</title></head><body><div class=\"slides\"><!--".to_vec(),
        _ => Vec::new(),
    }
}

/// MD5 of a file's bytes, as 32 lowercase hex digits.
pub fn md5_of(f: &StoredFile) -> String {
    crate::codec::md5_hex_of(f.chunks(0, f.size))
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

/// Every stored file.
#[derive(Debug, Default)]
pub struct FileStore {
    files: DashMap<String, StoredFile>,
}

impl FileStore {
    /// Create a file of `size` bytes; its MD5 is computed here, once.
    pub fn create(
        &self,
        ids: &IdSource,
        owner: &str,
        name: &str,
        format: &str,
        size: u64,
        now_ms: i64,
    ) -> StoredFile {
        let mut f = StoredFile {
            key: ids.alnum(24),
            name: name.to_string(),
            owner: owner.to_string(),
            format: format.to_string(),
            size: size.max(MIN_FILE_SIZE),
            md5: String::new(),
            seed: ids.next_u64(),
            created_ms: now_ms,
        };
        f.md5 = md5_of(&f);
        self.files.insert(f.key.clone(), f.clone());
        f
    }

    /// The file with `key`.
    pub fn get(&self, key: &str) -> Option<StoredFile> {
        self.files.get(key).map(|f| f.clone())
    }

    /// Delete one file; true if it existed.
    pub fn remove(&self, key: &str) -> bool {
        self.files.remove(key).is_some()
    }

    /// Delete every file of an owner.
    pub fn remove_owner(&self, owner: &str) {
        self.files.retain(|_, f| f.owner != owner);
    }

    /// Delete everything.
    pub fn clear(&self) {
        self.files.clear();
    }

    /// Every file, sorted by key, for a dump.
    pub fn state(&self) -> Vec<StoredFile> {
        let mut v: Vec<StoredFile> = self.files.iter().map(|f| f.clone()).collect();
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    }

    /// Replace every file with a dump's.
    pub fn restore(&self, files: Vec<StoredFile>) {
        self.files.clear();
        for f in files {
            self.files.insert(f.key.clone(), f);
        }
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_deterministic_and_match_md5() {
        let store = FileStore::default();
        let ids = IdSource::new(9);
        let f = store.create(&ids, "t", "a.mp4", "mp4", 200_000, 0);
        assert_eq!(f.md5.len(), 32);
        let all: Vec<u8> = f.chunks(0, f.size).flatten().collect();
        assert_eq!(all.len(), 200_000);
        assert_eq!(&all[4..8], b"ftyp");
        assert_eq!(crate::codec::md5_hex(&all), f.md5);
        // a range equals the same slice of the whole
        let part: Vec<u8> = f.chunks(70_000, 140_001).flatten().collect();
        assert_eq!(&part[..], &all[70_000..140_001]);
        let page = store.create(&ids, "t", "index.html", "html", 4096, 0);
        let text =
            String::from_utf8(page.chunks(0, page.size).flatten().collect()).expect("an HTML page is text");
        assert!(text.starts_with("<!DOCTYPE html>") && text.ends_with("</html>\n") && text.len() == 4096);
    }
}
