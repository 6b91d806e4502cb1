//! `GET /files/{key}/{name}`: recorded files, with `Range` support.

use crate::files::StoredFile;
use actix_web::{web, HttpRequest, HttpResponse};

/// `GET /files/{key}/{name}`: the bytes of a recorded file, with `Range` support.
pub async fn download(
    door: web::Data<super::FrontDoor>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (key, name) = path.into_inner();
    let Some(f) = door.world.files.get(&key).filter(|f| f.name == name) else {
        return HttpResponse::NotFound().json(serde_json::json!({
            "error": format!("no file {key}/{name}: it was never recorded, or it was deleted")
        }));
    };
    let range = req.headers().get("range").and_then(|v| v.to_str().ok()).and_then(|r| parse_range(r, f.size));
    let (start, end, status) = match range {
        Some(Ok((s, e))) => (s, e, actix_web::http::StatusCode::PARTIAL_CONTENT),
        Some(Err(())) => {
            return HttpResponse::RangeNotSatisfiable()
                .insert_header(("content-range", format!("bytes */{}", f.size)))
                .finish()
        }
        None => (0, f.size, actix_web::http::StatusCode::OK),
    };
    let mut resp = HttpResponse::build(status);
    resp.content_type(f.content_type())
        .insert_header(("accept-ranges", "bytes"))
        .insert_header(("etag", format!("\"{}\"", f.md5)))
        .insert_header(("x-recmock-md5", f.md5.clone()));
    if status == actix_web::http::StatusCode::PARTIAL_CONTENT {
        resp.insert_header(("content-range", format!("bytes {start}-{}/{}", end - 1, f.size)));
    }
    let stream = futures_util::stream::iter(
        FileChunks { file: f, pos: start, end }.map(|c| Ok::<_, std::io::Error>(bytes::Bytes::from(c))),
    );
    resp.no_chunking(end - start).streaming(stream)
}

struct FileChunks {
    file: StoredFile,
    pos: u64,
    end: u64,
}

impl Iterator for FileChunks {
    type Item = Vec<u8>;
    fn next(&mut self) -> Option<Vec<u8>> {
        if self.pos >= self.end {
            return None;
        }
        let n = ((self.end - self.pos) as usize).min(64 * 1024);
        let mut buf = vec![0u8; n];
        self.file.fill(self.pos, &mut buf);
        self.pos += n as u64;
        Some(buf)
    }
}

/// Parse a single `bytes=a-b` range against `size`: `Ok((start, end_exclusive))`, or `Err` if unsatisfiable.
fn parse_range(header: &str, size: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None; // multiple ranges: answer the whole file
    }
    let (a, b) = spec.split_once('-')?;
    let r = match (a.trim(), b.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            if n == 0 {
                return Some(Err(()));
            }
            Ok((size.saturating_sub(n), size))
        }
        (start, "") => {
            let s: u64 = start.parse().ok()?;
            if s >= size {
                Err(())
            } else {
                Ok((s, size))
            }
        }
        (start, end) => {
            let s: u64 = start.parse().ok()?;
            let e: u64 = end.parse().ok()?;
            if s > e || s >= size {
                Err(())
            } else {
                Ok((s, (e + 1).min(size)))
            }
        }
    };
    Some(r)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ranges() {
        assert_eq!(super::parse_range("bytes=0-9", 100), Some(Ok((0, 10))));
        assert_eq!(super::parse_range("bytes=90-", 100), Some(Ok((90, 100))));
        assert_eq!(super::parse_range("bytes=-5", 100), Some(Ok((95, 100))));
        assert_eq!(super::parse_range("bytes=100-", 100), Some(Err(())));
        assert_eq!(super::parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(super::parse_range("items=1-2", 100), None);
    }
}
