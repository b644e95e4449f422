//! gRPC checks: the unary call `grpc.health.v1.Health/Check` over HTTP/2, written by hand
//! on `h2` (no tonic/protoc build). Passing only when the reply is `SERVING`.
//! Texts follow Consul and grpc-go: `gRPC check <target>: success`,
//! `gRPC <target> serving status: NOT_SERVING`,
//! `rpc error: code = NotFound desc = unknown service`.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http::{Request, Response};

use crate::CheckResult;
use crate::conn::{TlsDial, dial};
use crate::error::CheckError;

const PATH: &str = "/grpc.health.v1.Health/Check";
/// A health reply is a few bytes; anything far larger is not a health server.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct GrpcProbe {
    target: String,
    addr: String,
    service: String,
    tls: Option<TlsDial>,
}

/// Why a call failed, as a grpc-go status.
struct RpcError {
    code: u32,
    message: String,
}

impl RpcError {
    fn new(code: u32, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
        }
    }
    fn text(&self) -> String {
        format!(
            "rpc error: code = {} desc = {}",
            code_name(self.code),
            self.message
        )
    }
}

impl GrpcProbe {
    /// `target` is `host:port` or `host:port/service` (Consul splits at the first `/`).
    pub fn new(
        target: &str,
        use_tls: bool,
        skip_verify: bool,
        server_name: Option<&str>,
    ) -> Result<Self, CheckError> {
        let (addr, service) = match target.split_once('/') {
            Some((a, s)) => (a, s),
            None => (target, ""),
        };
        let tls = if use_tls {
            Some(TlsDial::new(addr, skip_verify, server_name)?)
        } else {
            None
        };
        Ok(GrpcProbe {
            target: target.to_string(),
            addr: addr.to_string(),
            service: service.to_string(),
            tls,
        })
    }

    pub async fn probe(&self, timeout: Duration) -> CheckResult {
        let call = tokio::time::timeout(timeout, self.call(timeout)).await;
        match call {
            Ok(Ok(1)) => CheckResult::passing(format!("gRPC check {}: success", self.target)),
            Ok(Ok(status)) => CheckResult::critical(format!(
                "gRPC {} serving status: {}",
                self.target,
                serving_status_name(status)
            )),
            Ok(Err(e)) => CheckResult::critical(e.text()),
            Err(_) => CheckResult::critical(RpcError::new(4, "context deadline exceeded").text()),
        }
    }

    /// Performs the call; returns the `ServingStatus` number.
    async fn call(&self, timeout: Duration) -> Result<u64, RpcError> {
        let io = dial(&self.addr, self.tls.as_ref()).await.map_err(|e| {
            RpcError::new(
                14,
                format!("connection error: desc = \"transport: Error while dialing: {e}\""),
            )
        })?;
        let unavailable = |e: h2::Error| RpcError::new(14, format!("connection error: {e}"));
        let (send, conn) = h2::client::handshake(io).await.map_err(unavailable)?;
        // The connection task ends when `send` and the response are dropped.
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut send = send.ready().await.map_err(unavailable)?;
        let (response, mut body) = send
            .send_request(self.request(timeout)?, false)
            .map_err(unavailable)?;
        body.send_data(encode_request(&self.service), true)
            .map_err(unavailable)?;
        let response = response.await.map_err(unavailable)?;
        read_response(response).await
    }

    fn request(&self, timeout: Duration) -> Result<Request<()>, RpcError> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        Request::builder()
            .method("POST")
            .uri(format!("{scheme}://{}{PATH}", self.addr))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .header("grpc-timeout", format!("{}m", timeout.as_millis().max(1)))
            .header("user-agent", "proconsul-grpc-health-check")
            .body(())
            .map_err(|e| RpcError::new(13, e.to_string()))
    }
}

async fn read_response(response: Response<h2::RecvStream>) -> Result<u64, RpcError> {
    let (parts, mut body) = response.into_parts();
    if parts.status != http::StatusCode::OK {
        return Err(RpcError::new(
            http_status_code(parts.status.as_u16()),
            format!(
                "unexpected HTTP status code received from server: {}",
                parts.status.as_u16()
            ),
        ));
    }
    // Trailers-only responses carry grpc-status in the headers.
    check_grpc_status(&parts.headers)?;
    let mut data = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|e| RpcError::new(14, e.to_string()))?;
        let _ = body.flow_control().release_capacity(chunk.len());
        if data.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(RpcError::new(8, "response too large"));
        }
        data.extend_from_slice(&chunk);
    }
    let trailers = body
        .trailers()
        .await
        .map_err(|e| RpcError::new(14, e.to_string()))?;
    match trailers {
        Some(t) => check_grpc_status(&t)?,
        None if parts.headers.contains_key("grpc-status") => {}
        None => {
            return Err(RpcError::new(
                13,
                "server closed the stream without sending trailers",
            ));
        }
    }
    decode_response(&data)
}

fn check_grpc_status(h: &http::HeaderMap) -> Result<(), RpcError> {
    let Some(v) = h.get("grpc-status") else {
        return Ok(());
    };
    let code: u32 = v
        .to_str()
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| RpcError::new(13, "malformed grpc-status"))?;
    if code == 0 {
        return Ok(());
    }
    let message = h
        .get("grpc-message")
        .map(|m| percent_decode(m.as_bytes()))
        .unwrap_or_default();
    Err(RpcError::new(code, message))
}

/// The gRPC message frame for `HealthCheckRequest { service = 1 }`.
pub fn encode_request(service: &str) -> Bytes {
    let mut msg = BytesMut::new();
    if !service.is_empty() {
        msg.put_u8(0x0a); // field 1, wire type 2 (length-delimited)
        put_varint(&mut msg, service.len() as u64);
        msg.put_slice(service.as_bytes());
    }
    let mut frame = BytesMut::with_capacity(5 + msg.len());
    frame.put_u8(0); // not compressed
    frame.put_u32(msg.len() as u32);
    frame.put_slice(&msg);
    frame.freeze()
}

/// Parses one gRPC frame holding `HealthCheckResponse { status = 1 }`; unknown fields
/// are skipped as protobuf requires. A missing status is 0 (`UNKNOWN`).
fn decode_response(data: &[u8]) -> Result<u64, RpcError> {
    let bad = |m: &str| {
        RpcError::new(
            13,
            format!("grpc: failed to unmarshal the received message: {m}"),
        )
    };
    if data.len() < 5 {
        return Err(bad("short frame"));
    }
    if data[0] != 0 {
        return Err(RpcError::new(13, "compressed responses are not supported"));
    }
    let len = u32::from_be_bytes([data[1], data[2], data[3], data[4]]) as usize;
    let mut msg = data.get(5..5 + len).ok_or_else(|| bad("truncated frame"))?;
    let mut status = 0;
    while !msg.is_empty() {
        let key = take_varint(&mut msg).ok_or_else(|| bad("bad tag"))?;
        let (field, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                let v = take_varint(&mut msg).ok_or_else(|| bad("bad varint"))?;
                if field == 1 {
                    status = v;
                }
            }
            1 => msg = msg.get(8..).ok_or_else(|| bad("bad fixed64"))?,
            2 => {
                let n = take_varint(&mut msg).ok_or_else(|| bad("bad length"))? as usize;
                msg = msg.get(n..).ok_or_else(|| bad("bad length"))?;
            }
            5 => msg = msg.get(4..).ok_or_else(|| bad("bad fixed32"))?,
            _ => return Err(bad("bad wire type")),
        }
    }
    Ok(status)
}

fn put_varint(b: &mut BytesMut, mut v: u64) {
    while v >= 0x80 {
        b.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    b.put_u8(v as u8);
}

fn take_varint(b: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for i in 0..10 {
        let (&byte, rest) = b.split_first()?;
        *b = rest;
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Some(v);
        }
    }
    None
}

/// `grpc.health.v1.HealthCheckResponse.ServingStatus` names.
pub fn serving_status_name(s: u64) -> String {
    match s {
        0 => "UNKNOWN".to_string(),
        1 => "SERVING".to_string(),
        2 => "NOT_SERVING".to_string(),
        3 => "SERVICE_UNKNOWN".to_string(),
        n => n.to_string(),
    }
}

/// grpc-go's `codes.Code` names.
fn code_name(code: u32) -> String {
    const NAMES: [&str; 17] = [
        "OK",
        "Canceled",
        "Unknown",
        "InvalidArgument",
        "DeadlineExceeded",
        "NotFound",
        "AlreadyExists",
        "PermissionDenied",
        "ResourceExhausted",
        "FailedPrecondition",
        "Aborted",
        "OutOfRange",
        "Unimplemented",
        "Internal",
        "Unavailable",
        "DataLoss",
        "Unauthenticated",
    ];
    NAMES
        .get(code as usize)
        .map(|s| s.to_string())
        .unwrap_or_else(|| format!("Code({code})"))
}

/// gRPC's HTTP-status-to-code mapping for non-200 replies.
fn http_status_code(status: u16) -> u32 {
    match status {
        400 => 13,
        401 => 16,
        403 => 7,
        404 => 12,
        429 | 502..=504 => 14,
        _ => 2,
    }
}

fn percent_decode(b: &[u8]) -> String {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_encoding() {
        assert_eq!(&encode_request("")[..], &[0, 0, 0, 0, 0]);
        assert_eq!(
            &encode_request("ab")[..],
            &[0, 0, 0, 0, 4, 0x0a, 2, b'a', b'b']
        );
    }

    #[test]
    fn response_decoding_skips_unknown_fields() {
        assert_eq!(decode_response(&[0, 0, 0, 0, 2, 0x08, 1]).ok(), Some(1));
        assert_eq!(decode_response(&[0, 0, 0, 0, 0]).ok(), Some(0));
        // field 2 (length-delimited "x") before the status
        let f = [0, 0, 0, 0, 5, 0x12, 1, b'x', 0x08, 2];
        assert_eq!(decode_response(&f).ok(), Some(2));
        assert!(decode_response(&[0, 0, 0, 0, 9, 0x08]).is_err());
        assert!(decode_response(&[0, 0, 0, 0, 1, 0x08]).is_err());
    }

    #[test]
    fn names_and_decoding() {
        assert_eq!(serving_status_name(2), "NOT_SERVING");
        assert_eq!(code_name(5), "NotFound");
        assert_eq!(code_name(99), "Code(99)");
        assert_eq!(percent_decode(b"unknown%20service"), "unknown service");
        assert_eq!(percent_decode(b"100%"), "100%");
    }
}
