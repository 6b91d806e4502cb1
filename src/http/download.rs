//! `GET /files/{key}/{name}`: recorded files as a media host serves them — `Range` (one range, a suffix,
//! or several as `multipart/byteranges`), `If-Range`, `If-None-Match` (304) and `HEAD` — the bytes made as
//! they are sent, never held whole.

use crate::files::{Content, StoredFile, CHUNK};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;

/// Most ranges one request may ask for; a request asking for more is answered with the whole file.
const MAX_RANGES: usize = 100;

/// `GET /files/{key}/{name}`: the bytes of a recorded file.
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
    let etag = f.etag();
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if header("if-none-match").is_some_and(|v| etag_listed(v, &etag)) {
        let mut resp = HttpResponse::NotModified();
        resp.insert_header(("etag", etag)).insert_header(("accept-ranges", "bytes"));
        return resp.finish();
    }
    // `If-Range`: the ranges only if the client's copy is this one (a strong match); else the whole file.
    let range_applies = header("if-range").is_none_or(|v| strong_match(v, &etag));
    let ranges = header("range").filter(|_| range_applies).and_then(|r| parse_ranges(r, f.size));
    let mut resp = HttpResponse::Ok();
    resp.insert_header(("accept-ranges", "bytes")).insert_header(("etag", etag));
    if let Some(md5) = &f.md5 {
        resp.insert_header(("x-recmock-md5", md5.clone()));
    }
    let pieces = match ranges {
        None => {
            resp.content_type(f.content_type());
            vec![Piece::Bytes(0, f.size)]
        }
        Some(Err(())) => {
            return HttpResponse::RangeNotSatisfiable()
                .insert_header(("content-range", format!("bytes */{}", f.size)))
                .insert_header(("accept-ranges", "bytes"))
                .finish()
        }
        Some(Ok(list)) => {
            resp.status(StatusCode::PARTIAL_CONTENT);
            match list.as_slice() {
                [(start, end)] => {
                    resp.content_type(f.content_type()).insert_header((
                        "content-range",
                        format!("bytes {start}-{}/{}", end.saturating_sub(1), f.size),
                    ));
                    vec![Piece::Bytes(*start, *end)]
                }
                _ => {
                    let boundary = format!("recmock-{}-{:016x}", f.key, f.seed);
                    resp.content_type(format!("multipart/byteranges; boundary={boundary}"));
                    multipart(&f, &list, &boundary)
                }
            }
        }
    };
    let len = pieces.iter().map(Piece::len).fold(0u64, u64::saturating_add);
    if req.method() == actix_web::http::Method::HEAD {
        return resp.body(Announced(len));
    }
    let body = Body { file: f, content: None, pieces, at: 0, pos: None };
    resp.no_chunking(len).streaming(futures_util::stream::iter(body))
}

/// The body of an answer to `HEAD`: its length, and no bytes made (actix-web polls a `GET`'s body to the end
/// for a `HEAD` too, dropping what it produces: a 2 GB file would be made for nothing).
struct Announced(u64);

impl actix_web::body::MessageBody for Announced {
    type Error = std::convert::Infallible;

    fn size(&self) -> actix_web::body::BodySize {
        actix_web::body::BodySize::Sized(self.0)
    }

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Bytes, Self::Error>>> {
        std::task::Poll::Ready(None)
    }
}

/// The parts of a `multipart/byteranges` body: each range's head, its bytes, and the closing line.
fn multipart(f: &StoredFile, ranges: &[(u64, u64)], boundary: &str) -> Vec<Piece> {
    let mut out = Vec::with_capacity(ranges.len() * 2 + 1);
    for (i, (start, end)) in ranges.iter().enumerate() {
        let head = format!(
            "{}--{boundary}\r\nContent-Type: {}\r\nContent-Range: bytes {start}-{}/{}\r\n\r\n",
            if i == 0 { "" } else { "\r\n" },
            f.content_type(),
            end.saturating_sub(1),
            f.size
        );
        out.push(Piece::Head(Bytes::from(head)));
        out.push(Piece::Bytes(*start, *end));
    }
    out.push(Piece::Head(Bytes::from(format!("\r\n--{boundary}--\r\n"))));
    out
}

/// A part of an answer's body.
enum Piece {
    /// literal bytes (a multipart head)
    Head(Bytes),
    /// the file's bytes `start..end`
    Bytes(u64, u64),
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::Head(b) => b.len() as u64,
            Piece::Bytes(s, e) => e.saturating_sub(*s),
        }
    }
}

/// An answer's body, made chunk by chunk as the connection takes it; the file's bytes are laid out when the
/// first chunk of them is asked for.
struct Body {
    file: StoredFile,
    content: Option<Content>,
    pieces: Vec<Piece>,
    /// the piece being sent
    at: usize,
    /// the position within a `Bytes` piece
    pos: Option<u64>,
}

impl Iterator for Body {
    type Item = Result<Bytes, std::io::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let piece = self.pieces.get(self.at)?;
            match piece {
                Piece::Head(b) => {
                    self.at += 1;
                    return Some(Ok(b.clone()));
                }
                Piece::Bytes(start, end) => {
                    let pos = self.pos.unwrap_or(*start);
                    if pos >= *end {
                        self.at += 1;
                        self.pos = None;
                        continue;
                    }
                    let content = self.content.get_or_insert_with(|| self.file.content());
                    let n = usize::try_from(end - pos).unwrap_or(CHUNK).min(CHUNK);
                    let mut buf = vec![0u8; n];
                    let got = content.read_at(pos, &mut buf);
                    if got == 0 {
                        // Shorter than announced (cannot happen: sizes are checked when a file is made).
                        return Some(Err(std::io::Error::other("the file ended before its size")));
                    }
                    buf.truncate(got);
                    self.pos = Some(pos.saturating_add(got as u64));
                    return Some(Ok(Bytes::from(buf)));
                }
            }
        }
    }
}

/// Whether `If-None-Match` (`*`, or a list of entity tags, weakly compared) names `etag`.
fn etag_listed(header: &str, etag: &str) -> bool {
    header.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

/// Whether `If-Range` is `etag` itself (a strong tag; a date never matches: no `Last-Modified` is sent).
fn strong_match(header: &str, etag: &str) -> bool {
    header.trim() == etag
}

/// A `Range` header against a file of `size` bytes: `None` when it is not a byte range set recmock
/// honours (another unit, bad syntax, more than [`MAX_RANGES`] ranges: the whole file is answered);
/// `Err` when no range is satisfiable (416); else the satisfiable ranges as `(start, end_exclusive)`, in
/// the order asked.
fn parse_ranges(header: &str, size: u64) -> Option<Result<Vec<(u64, u64)>, ()>> {
    let spec = header.trim().strip_prefix("bytes=")?;
    let specs: Vec<&str> = spec.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if specs.is_empty() || specs.len() > MAX_RANGES {
        return None;
    }
    let mut out = Vec::with_capacity(specs.len());
    for one in specs {
        let (a, b) = one.split_once('-')?;
        let (a, b) = (a.trim(), b.trim());
        let number = |s: &str| s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse::<u64>().ok()).flatten();
        match (a, b) {
            ("", suffix) => {
                let n = number(suffix)?;
                if n > 0 && size > 0 {
                    out.push((size.saturating_sub(n), size));
                }
            }
            (start, "") => {
                let s = number(start)?;
                if s < size {
                    out.push((s, size));
                }
            }
            (start, end) => {
                let (s, e) = (number(start)?, number(end)?);
                if s > e {
                    return None; // invalid syntax: the whole header is ignored
                }
                if s < size {
                    out.push((s, e.saturating_add(1).min(size)));
                }
            }
        }
    }
    Some(if out.is_empty() { Err(()) } else { Ok(out) })
}

#[cfg(test)]
mod tests {
    use super::parse_ranges;

    #[test]
    fn ranges() {
        assert_eq!(parse_ranges("bytes=0-9", 100), Some(Ok(vec![(0, 10)])));
        assert_eq!(parse_ranges("bytes=90-", 100), Some(Ok(vec![(90, 100)])));
        assert_eq!(parse_ranges("bytes=-5", 100), Some(Ok(vec![(95, 100)])));
        assert_eq!(parse_ranges("bytes=-500", 100), Some(Ok(vec![(0, 100)])));
        assert_eq!(parse_ranges("bytes=100-", 100), Some(Err(())));
        assert_eq!(parse_ranges("bytes=-0", 100), Some(Err(())));
        assert_eq!(parse_ranges("bytes=0-1, 5-6", 100), Some(Ok(vec![(0, 2), (5, 7)])));
        assert_eq!(parse_ranges("bytes=0-1,200-300", 100), Some(Ok(vec![(0, 2)])));
        assert_eq!(parse_ranges("bytes=5-1", 100), None);
        assert_eq!(parse_ranges("bytes=a-b", 100), None);
        assert_eq!(parse_ranges("bytes=+1-2", 100), None);
        assert_eq!(parse_ranges("items=1-2", 100), None);
        let many = format!("bytes={}", vec!["0-0"; 101].join(","));
        assert_eq!(parse_ranges(&many, 100), None);
    }
}
