//! TCP: our own accept loop and one task per connection, answering its queries in order
//! through the same `Core` and message handling as the UDP loop. Two things hickory-server's
//! TCP path did not do: `TCP_NODELAY` (with Nagle on, answers to pipelined queries wait for
//! the client's ACKs) and coalescing — answers are buffered while more queries are already
//! waiting in the read buffer, and written together when the client pauses.

use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use hickory_server::net::xfer::Protocol;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::server::{Core, encode};
use crate::udp::{Datagram, handle_message};

/// Idle connections are closed after this long (bounds per-connection resources).
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; more are closed at accept.
const MAX_CONNECTIONS: usize = 1024;

/// Accepts and serves connections until the listener fails; dropping the future closes
/// every connection.
pub(crate) async fn serve(listener: TcpListener, core: Arc<Core>) -> std::io::Error {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut connections = JoinSet::new();
    loop {
        let (stream, src) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) if transient(&error) => {
                tracing::debug!(%error, "DNS TCP accept failed");
                continue;
            }
            Err(error) => return error,
        };
        while connections.try_join_next().is_some() {}
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::debug!(%src, "too many DNS TCP connections: closed");
            continue;
        };
        let core = core.clone();
        connections.spawn(async move {
            connection(stream, src, &core).await;
            drop(permit);
        });
    }
}

/// Errors of one connection attempt (the peer gave up, descriptors ran out for a moment).
fn transient(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock | TimedOut
    ) || error.raw_os_error() == Some(24) // EMFILE
}

async fn connection(stream: TcpStream, src: SocketAddr, core: &Core) {
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut writer = BufWriter::new(write);
    let mut message = Vec::new();
    let mut out = Vec::new();
    loop {
        let Ok(Ok(len)) = tokio::time::timeout(IDLE_TIMEOUT, reader.read_u16()).await else {
            return;
        };
        message.resize(usize::from(len), 0);
        let read = tokio::time::timeout(IDLE_TIMEOUT, reader.read_exact(&mut message)).await;
        if !matches!(read, Ok(Ok(_))) {
            return;
        }
        let handled = catch_unwind(AssertUnwindSafe(|| {
            handle_message(core, &message, src, Protocol::Tcp, &mut out)
        }));
        match handled {
            Ok(Datagram::Reply) => {}
            Ok(Datagram::Drop) => continue,
            Ok(Datagram::Forward(request)) => {
                let reply = core.forward_reply(&request).await;
                encode(reply.response(&request.queries), Protocol::Tcp, &mut out);
            }
            Err(_) => {
                tracing::error!(%src, "answering a DNS query panicked");
                return;
            }
        }
        if out.is_empty() || !write_frame(&mut writer, &out).await {
            return;
        }
        // More queries already here: answer them first, then write everything at once.
        if reader.buffer().is_empty() {
            let flushed = tokio::time::timeout(IDLE_TIMEOUT, writer.flush()).await;
            if !matches!(flushed, Ok(Ok(()))) {
                return;
            }
        }
    }
}

/// Appends one length-prefixed message to the connection's write buffer.
async fn write_frame<W: AsyncWriteExt + Unpin>(writer: &mut W, bytes: &[u8]) -> bool {
    let Ok(len) = u16::try_from(bytes.len()) else {
        return false;
    };
    let write = async {
        writer.write_u16(len).await?;
        writer.write_all(bytes).await
    };
    matches!(tokio::time::timeout(IDLE_TIMEOUT, write).await, Ok(Ok(())))
}
