//! Request bodies, bounded before they are read.

use crate::error::HttpError;
use axum::body::{Body, HttpBody};
use axum::http::{HeaderMap, header};
use std::pin::Pin;
use std::time::Duration;

/// How much of an oversized body is read and thrown away before the 413 is sent. A client
/// still sending when the server closes gets a reset (`EPIPE`/`ECONNRESET`) instead of the
/// answer; reading the rest first lets it see Consul's text. Bounded in bytes and time so a
/// huge or slow body cannot hold the connection.
const DRAIN_MAX: usize = 16 * 1024 * 1024;
const DRAIN_TIME_MAX: Duration = Duration::from_secs(5);

/// Reads a body of at most `max` bytes. A declared `Content-Length` over the limit is refused
/// without buffering; a chunked body is refused once it passes the limit. `what` names the
/// config key in Consul's 413 text.
pub async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    max: usize,
    what: &str,
) -> Result<Vec<u8>, HttpError> {
    let too_large = |len: usize| {
        HttpError::TooLarge(format!(
            "Request body({len} bytes) too large, max size: {max} bytes. See https://developer.hashicorp.com/docs/agent/config/config-files#{what}."
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut body = body;
    if let Some(len) = declared
        && len > max
    {
        drain(&mut body).await;
        return Err(too_large(len));
    }
    let mut out = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let Ok(frame) = frame else {
            return Err(HttpError::BadRequest("Failed to read request body".into()));
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        out.extend_from_slice(&data);
        if out.len() > max {
            // A chunked body has no declared length; report what had arrived.
            let seen = out.len();
            drain(&mut body).await;
            return Err(too_large(seen));
        }
    }
    Ok(out)
}

/// Reads and discards the rest of `body`, up to `DRAIN_MAX` bytes and `DRAIN_TIME_MAX`.
async fn drain(body: &mut Body) {
    let discard = async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) =
            std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await
        {
            seen += frame.data_ref().map_or(0, |d| d.len());
            if seen > DRAIN_MAX {
                return;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME_MAX, discard).await;
}

/// Reads a bounded JSON body and decodes it with [`decode_json`].
pub async fn read_json<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    max: usize,
    what: &str,
) -> Result<T, HttpError> {
    let bytes = read_limited(headers, body, max, what).await?;
    decode_json(&bytes)
}

/// Decodes a JSON body case-insensitively; an empty body or a bare `null` decodes as `{}`
/// (Go's decoder leaves the defaults in place for both).
pub fn decode_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, HttpError> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) || bytes.trim_ascii() == b"null" {
        b"{}".as_slice()
    } else {
        bytes
    };
    proconsul_types::decode::from_slice(bytes)
        .map_err(|e| HttpError::BadRequest(format!("Request decode failed: {e}")))
}

/// Decodes a percent-encoded URL path segment (the part after a route prefix).
pub fn percent_decode(text: &str) -> Result<String, HttpError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(byte) = hex {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| HttpError::BadRequest("Invalid URL path: not valid UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(percent_decode("a%2Fb%20c").ok().as_deref(), Some("a/b c"));
        assert_eq!(percent_decode("%E2%9C%93").ok().as_deref(), Some("✓"));
        assert_eq!(percent_decode("bad%zz%").ok().as_deref(), Some("bad%zz%"));
        assert_eq!(percent_decode("%4").ok().as_deref(), Some("%4"));
        assert!(percent_decode("%FF").is_err());
    }
}
