//! JSON bodies for the errors hyper answers before the router sees a request.
//!
//! hyper parses each request head itself and, when it cannot (a request line longer than its
//! fixed 64 KiB URI limit, headers over its buffer, a malformed head, another HTTP version),
//! writes a bodiless `414`, `431`, `400` or `505` and closes the connection: no middleware runs
//! and no setting gives the response a body. [`EarlyErrors`] wraps the connection's socket and
//! replaces exactly that response — a head with one of those statuses and `content-length: 0`,
//! written on its own — with the same status and a JSON error body, as every other error has.
//! The router's own errors always carry a body, so they are never touched.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The error body for a bodiless head hyper wrote, or `None` if `head` is not one.
pub fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let rest = text.strip_prefix("HTTP/1.1 ")?;
    let status: u16 = rest.get(..3)?.parse().ok()?;
    // A head alone, with no body following in the same write.
    if !text.ends_with("\r\n\r\n") || text.matches("\r\n\r\n").count() != 1 {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    if !lower.contains("\r\ncontent-length: 0\r\n") {
        return None;
    }
    let (code, message) = match status {
        414 => (
            "uri_too_long",
            "the request's address (path and query string) is too long",
        ),
        431 => (
            "headers_too_large",
            "the request's header fields are too large",
        ),
        400 => ("bad_request", "the request is not well-formed HTTP/1.1"),
        505 => (
            "http_version_not_supported",
            "only HTTP/1.1 and HTTP/1.0 are served",
        ),
        _ => return None,
    };
    let reason = rest.get(3..)?.split("\r\n").next()?.trim();
    let body = serde_json::json!({"error": code, "message": message, "details": {}}).to_string();
    Some(
        format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// A replacement being written in place of hyper's head.
struct Replacing {
    bytes: Vec<u8>,
    written: usize,
    /// The length of hyper's head, reported as written once the replacement is out.
    claimed: usize,
}

/// A connection whose bodiless early error responses get a JSON body.
pub struct EarlyErrors<S> {
    inner: S,
    replacing: Option<Replacing>,
}

impl<S> EarlyErrors<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        EarlyErrors {
            inner,
            replacing: None,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for EarlyErrors<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for EarlyErrors<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.replacing.is_none() {
            match replacement(buf) {
                Some(bytes) => {
                    this.replacing = Some(Replacing {
                        bytes,
                        written: 0,
                        claimed: buf.len(),
                    })
                }
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        let Some(r) = this.replacing.as_mut() else {
            return Poll::Ready(Ok(0));
        };
        while r.written < r.bytes.len() {
            let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &r.bytes[r.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            r.written += n;
        }
        let claimed = r.claimed;
        this.replacing = None;
        Poll::Ready(Ok(claimed))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut filled = bufs.iter().filter(|b| !b.is_empty());
        let only = match (filled.next(), filled.next()) {
            (Some(first), None) => Some(first),
            _ => None,
        };
        if self.replacing.is_some() || only.is_some_and(|b| replacement(b).is_some()) {
            if let Some(only) = only {
                return self.poll_write(cx, only);
            }
        }
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bodiless_early_error_head_is_replaced() {
        let hyper = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Thu, 03 Dec 2026 15:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(replacement(hyper).unwrap()).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"], "uri_too_long");
        // The router's own answers, with a body, and other statuses pass untouched.
        assert!(replacement(b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 10\r\n\r\n").is_none());
        assert!(replacement(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(replacement(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}").is_none());
    }
}
