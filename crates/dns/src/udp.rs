//! The UDP fast path: one loop reads each datagram into a reused buffer, answers it in
//! place (no task, no channel) and encodes the response into a reused buffer. Only
//! questions for the recursors, which wait on the network, become tasks of their own,
//! bounded by `MAX_FORWARDS`. Parsing and the response rules are hickory's and `Core`'s,
//! the same as on TCP.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use hickory_proto::op::{Header, MessageType, Metadata, ResponseCode};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
use hickory_server::net::xfer::Protocol;
use hickory_server::server::Request;
use hickory_server::zone_handler::Queries;
use tokio::net::UdpSocket;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::answer::Answer;
use crate::error::DnsError;
use crate::server::{Core, Reply, encode};

/// Largest datagram read, as hickory-server's UDP stream (longer ones are cut and then
/// fail to parse: FORMERR).
const MAX_DATAGRAM: usize = 4096;
/// Forwarded questions in flight; beyond this, new ones are dropped (clients retry).
const MAX_FORWARDS: usize = 1024;
/// Initial capacity of response buffers.
const RESPONSE_CAPACITY: usize = 512;

/// What to do with one datagram.
pub(crate) enum Datagram {
    /// The response is in the output buffer.
    Reply,
    /// Not a query we answer (too short for a header, or a response): no reply.
    Drop,
    /// For the recursors.
    Forward(Box<Request>),
}

/// Serves the socket until it fails for good; only returns then.
pub(crate) async fn serve(socket: Arc<UdpSocket>, core: Arc<Core>) -> DnsError {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut out = Vec::with_capacity(RESPONSE_CAPACITY);
    let permits = Arc::new(Semaphore::new(MAX_FORWARDS));
    let mut forwards = JoinSet::new();
    loop {
        let (len, src) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(error) if unrecoverable(&error) => {
                return DnsError::Server(format!("DNS UDP socket failed: {error}"));
            }
            Err(error) => {
                tracing::debug!(%error, "error receiving on the DNS UDP socket");
                continue;
            }
        };
        if !respondable(src) {
            tracing::debug!(%src, "DNS query from an address that cannot be answered");
            continue;
        }
        match handle_datagram(&core, &buf[..len], src, &mut out) {
            Datagram::Reply => send(&socket, &out, src).await,
            Datagram::Drop => {}
            Datagram::Forward(request) => {
                let Ok(permit) = permits.clone().try_acquire_owned() else {
                    tracing::debug!(%src, "too many forwarded DNS queries in flight: dropped");
                    continue;
                };
                let (core, socket) = (core.clone(), socket.clone());
                forwards.spawn(async move {
                    let reply = core.forward_reply(&request).await;
                    let mut out = Vec::with_capacity(RESPONSE_CAPACITY);
                    encode(reply.response(&request.queries), Protocol::Udp, &mut out);
                    send(&socket, &out, src).await;
                    drop(permit);
                });
            }
        }
        while forwards.try_join_next().is_some() {}
    }
}

/// Parses one datagram and, when it can be answered locally, encodes the response into
/// `out`. A message too short for a header or marked as a response is dropped (no
/// reflection); one whose body does not parse gets FORMERR, as from hickory-server.
pub(crate) fn handle_datagram(
    core: &Core,
    bytes: &[u8],
    src: SocketAddr,
    out: &mut Vec<u8>,
) -> Datagram {
    let Ok(header) = Header::read(&mut BinDecoder::new(bytes)) else {
        return Datagram::Drop;
    };
    if header.metadata.message_type == MessageType::Response {
        return Datagram::Drop;
    }
    let request = match Request::from_bytes(bytes.to_vec(), src, Protocol::Udp) {
        Ok(request) => request,
        Err(error) => {
            tracing::debug!(%src, %error, "malformed DNS query: FORMERR");
            form_error(&header, out);
            return Datagram::Reply;
        }
    };
    match core.local_reply(&request) {
        Some(reply) => {
            encode(reply.response(&request.queries), Protocol::Udp, out);
            Datagram::Reply
        }
        None => Datagram::Forward(Box::new(request)),
    }
}

/// hickory-server's answer to a query it cannot parse: the header echoed, no question.
fn form_error(header: &Header, out: &mut Vec<u8>) {
    let mut metadata = Metadata::response_from_request(&header.metadata);
    metadata.response_code = ResponseCode::FormErr;
    let reply = Reply {
        metadata,
        edns: None,
        answer: Answer::with(ResponseCode::FormErr),
    };
    // Zero questions from an empty slice: cannot fail.
    let Ok(queries) = Queries::read(&mut BinDecoder::new(&[]), 0) else {
        out.clear();
        return;
    };
    encode(reply.response(&queries), Protocol::Udp, out);
}

async fn send(socket: &UdpSocket, bytes: &[u8], dst: SocketAddr) {
    if bytes.is_empty() {
        return;
    }
    if let Err(error) = socket.send_to(bytes, dst).await {
        tracing::debug!(%dst, %error, "failed to send DNS response");
    }
}

/// Port 0, unspecified and broadcast sources cannot be answered (hickory-server's rule).
fn respondable(src: SocketAddr) -> bool {
    if src.port() == 0 {
        return false;
    }
    match src.ip() {
        IpAddr::V4(v4) => !v4.is_unspecified() && !v4.is_broadcast(),
        IpAddr::V6(v6) => !v6.is_unspecified(),
    }
}

fn unrecoverable(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::NotConnected | io::ErrorKind::ConnectionAborted
    )
}
