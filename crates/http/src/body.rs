//! Request bodies, bounded before they are read.

use crate::error::HttpError;
use axum::body::Body;
use axum::http::{HeaderMap, header};

/// Reads a body of at most `max` bytes. A declared `Content-Length` over the limit is refused
/// before reading; a chunked body is cut off at the limit. `what` names the config key in
/// Consul's 413 text.
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
    if let Some(len) = declared
        && len > max
    {
        return Err(too_large(len));
    }
    match axum::body::to_bytes(body, max).await {
        Ok(bytes) => Ok(bytes.to_vec()),
        Err(_) => Err(too_large(max.saturating_add(1))),
    }
}

/// Decodes a JSON body case-insensitively; an empty body decodes as `{}`.
pub fn decode_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, HttpError> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
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
