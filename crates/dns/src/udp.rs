//! The UDP fast path: a thread of its own reads each datagram (blocking) into a reused
//! buffer, answers it in place (no task, no channel, no hand-off to another thread) and
//! encodes the response into a reused buffer. Only questions for the recursors, which wait
//! on the network, become tasks on the tokio runtime, bounded by `MAX_FORWARDS`. Parsing and
//! the response rules are hickory's and `Core`'s, the same as on TCP.

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hickory_proto::op::{Header, MessageType, Metadata, ResponseCode};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
use hickory_server::net::xfer::Protocol;
use hickory_server::server::Request;
use hickory_server::zone_handler::Queries;
use tokio::runtime::Handle;
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinSet;

use crate::answer::Answer;
use crate::error::DnsError;
use crate::mmsg::{self, Batch};
use crate::server::{Core, Reply, encode};

/// Largest datagram read, as hickory-server's UDP stream (longer ones are cut and then
/// fail to parse: FORMERR).
const MAX_DATAGRAM: usize = 4096;
/// Forwarded questions in flight; beyond this, new ones are dropped (clients retry).
const MAX_FORWARDS: usize = 1024;
/// Initial capacity of response buffers.
const RESPONSE_CAPACITY: usize = 512;
/// Threads reading the UDP socket.
const UDP_THREADS: usize = 2;
/// How often the blocked receive wakes up to look at the stop flag (bounds shutdown).
pub(crate) const STOP_POLL: Duration = Duration::from_millis(100);

/// What to do with one datagram.
pub(crate) enum Datagram {
    /// The response is in the output buffer.
    Reply,
    /// Not a query we answer (too short for a header, or a response): no reply.
    Drop,
    /// For the recursors.
    Forward(Box<Request>),
}

/// The running UDP loop.
pub(crate) struct UdpLoop {
    stop: Arc<AtomicBool>,
    /// Completes when the thread is gone (and with it the socket): `Some` if it failed.
    pub(crate) done: oneshot::Receiver<Option<DnsError>>,
}

impl UdpLoop {
    /// Starts the loop on `UDP_THREADS` threads reading the same socket (while one is in
    /// `sendto`, another receives); forwards run on `runtime`. The socket must be blocking
    /// with a read timeout (`STOP_POLL`).
    pub(crate) fn start(
        socket: UdpSocket,
        core: Arc<Core>,
        runtime: Handle,
    ) -> Result<Self, DnsError> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, done) = oneshot::channel();
        let socket = Arc::new(socket);
        let spawn_err =
            |e: io::Error| DnsError::Server(format!("starting the DNS UDP thread: {e}"));
        let mut threads = Vec::new();
        for i in 0..UDP_THREADS {
            let (socket, core, flag, runtime) =
                (socket.clone(), core.clone(), stop.clone(), runtime.clone());
            let thread = std::thread::Builder::new()
                .name(format!("dns-udp-{i}"))
                .spawn(move || serve(&socket, &core, &flag, &runtime));
            match thread {
                Ok(handle) => threads.push(handle),
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    return Err(spawn_err(e));
                }
            }
        }
        drop(socket);
        // One failing reader stops the others; `done` reports once all are gone (and with
        // them the socket).
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("dns-udp-join".into())
            .spawn(move || {
                let mut failure = None;
                for thread in threads {
                    let failed = thread.join().unwrap_or_else(|_| {
                        Some(DnsError::Server("a DNS UDP thread panicked".into()))
                    });
                    if failed.is_some() {
                        flag.store(true, Ordering::Relaxed);
                        failure = failure.or(failed);
                    }
                }
                let _ = tx.send(failure);
            })
            .map_err(spawn_err)?;
        Ok(Self { stop, done })
    }

    /// Asks the thread to stop; it does within `STOP_POLL` (await `done`).
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Dropping the loop (e.g. `run` cancelled) stops the thread too, closing the socket.
impl Drop for UdpLoop {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Serves the socket until `stop` is set (`None`) or it fails for good (`Some`): each
/// batch of queued datagrams is taken in one call, answered in place, and the answers sent
/// in one call.
fn serve(
    socket: &Arc<UdpSocket>,
    core: &Arc<Core>,
    stop: &AtomicBool,
    runtime: &Handle,
) -> Option<DnsError> {
    let mut batch = Batch::new(MAX_DATAGRAM);
    let mut outs: Vec<Vec<u8>> = (0..mmsg::BATCH)
        .map(|_| Vec::with_capacity(RESPONSE_CAPACITY))
        .collect();
    let permits = Arc::new(Semaphore::new(MAX_FORWARDS));
    let mut forwards = JoinSet::new();
    while !stop.load(Ordering::Relaxed) {
        let count = match batch.recv(socket) {
            Ok(count) => count,
            Err(error) if timed_out(&error) => continue,
            Err(error) if unrecoverable(&error) => {
                return Some(DnsError::Server(format!("DNS UDP socket failed: {error}")));
            }
            Err(error) => {
                tracing::debug!(%error, "error receiving on the DNS UDP socket");
                continue;
            }
        };
        let mut replies = Vec::with_capacity(count);
        for (i, out) in outs.iter_mut().enumerate().take(count) {
            let (bytes, src) = batch.datagram(i);
            let Some(src) = src.filter(|s| respondable(*s)) else {
                tracing::debug!("DNS query from an address that cannot be answered");
                out.clear();
                continue;
            };
            // A bug answering one query must not take the listener down with it.
            let handled = catch_unwind(AssertUnwindSafe(|| {
                handle_message(core, bytes, src, Protocol::Udp, out)
            }));
            match handled {
                Ok(Datagram::Reply) => replies.push((i, src)),
                Ok(Datagram::Drop) => {}
                Ok(Datagram::Forward(request)) => {
                    forward(&permits, &mut forwards, core, socket, request, src, runtime)
                }
                Err(_) => tracing::error!(%src, "answering a DNS query panicked"),
            }
        }
        let answers: Vec<(&[u8], SocketAddr)> = replies
            .iter()
            .map(|(i, src)| (outs[*i].as_slice(), *src))
            .collect();
        batch.send(socket, &answers);
        while forwards.try_join_next().is_some() {}
    }
    None
}

/// Hands a question for the recursors to a (bounded) task that answers it when they do.
fn forward(
    permits: &Arc<Semaphore>,
    forwards: &mut JoinSet<()>,
    core: &Arc<Core>,
    socket: &Arc<UdpSocket>,
    request: Box<Request>,
    src: SocketAddr,
    runtime: &Handle,
) {
    let Ok(permit) = permits.clone().try_acquire_owned() else {
        tracing::debug!(%src, "too many forwarded DNS queries in flight: dropped");
        return;
    };
    let (core, socket) = (core.clone(), socket.clone());
    forwards.spawn_on(
        async move {
            let reply = core.forward_reply(&request).await;
            let mut out = Vec::with_capacity(RESPONSE_CAPACITY);
            encode(reply.response(&request.queries), Protocol::Udp, &mut out);
            // A UDP send does not wait for the peer; it only blocks while the socket's
            // send buffer is full.
            send(&socket, &out, src);
            drop(permit);
        },
        runtime,
    );
}

/// Parses one message (a UDP datagram or a TCP frame) and, when it can be answered
/// locally, encodes the response into
/// `out`. A message too short for a header or marked as a response is dropped (no
/// reflection); one whose body does not parse gets FORMERR, as from hickory-server.
pub(crate) fn handle_message(
    core: &Core,
    bytes: &[u8],
    src: SocketAddr,
    protocol: Protocol,
    out: &mut Vec<u8>,
) -> Datagram {
    out.clear();
    let Ok(header) = Header::read(&mut BinDecoder::new(bytes)) else {
        return Datagram::Drop;
    };
    if header.metadata.message_type == MessageType::Response {
        return Datagram::Drop;
    }
    let request = match Request::from_bytes(bytes.to_vec(), src, protocol) {
        Ok(request) => request,
        Err(error) => {
            tracing::debug!(%src, %error, "malformed DNS query: FORMERR");
            form_error(&header, protocol, out);
            return Datagram::Reply;
        }
    };
    match core.local_reply(&request) {
        Some(reply) => {
            encode(reply.response(&request.queries), protocol, out);
            Datagram::Reply
        }
        None => Datagram::Forward(Box::new(request)),
    }
}

/// hickory-server's answer to a query it cannot parse: the header echoed, no question.
fn form_error(header: &Header, protocol: Protocol, out: &mut Vec<u8>) {
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
    encode(reply.response(&queries), protocol, out);
}

fn send(socket: &UdpSocket, bytes: &[u8], dst: SocketAddr) {
    if bytes.is_empty() {
        return;
    }
    if let Err(error) = socket.send_to(bytes, dst) {
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

fn timed_out(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

fn unrecoverable(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::NotConnected | io::ErrorKind::ConnectionAborted
    )
}
