//! Batched datagram IO for the UDP loop: `recvmmsg` takes every query already queued on the
//! socket in one system call (blocking for the first only), and `sendmmsg` sends all their
//! answers in one. This is what lets Knot answer a burst of queries with two system calls
//! instead of two per query. Wrapped by `nix` (safe API) since this workspace forbids
//! `unsafe`.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
use std::os::fd::AsRawFd;

use nix::errno::Errno;
use nix::sys::socket::{
    ControlMessage, MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, sendmmsg,
};

/// Datagrams taken per system call.
pub(crate) const BATCH: usize = 32;

pub(crate) struct Batch {
    bufs: Vec<Vec<u8>>,
    recv_headers: MultiHeaders<SockaddrStorage>,
    send_headers: MultiHeaders<SockaddrStorage>,
    /// (length, source) of each datagram of the last `recv`, in `bufs` order.
    received: Vec<(usize, Option<SocketAddr>)>,
}

fn to_socket_addr(storage: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = storage.as_sockaddr_in() {
        return Some(SocketAddr::V4(SocketAddrV4::new(v4.ip(), v4.port())));
    }
    storage.as_sockaddr_in6().map(|v6| {
        SocketAddr::V6(SocketAddrV6::new(
            v6.ip(),
            v6.port(),
            v6.flowinfo(),
            v6.scope_id(),
        ))
    })
}

impl Batch {
    pub(crate) fn new(max_datagram: usize) -> Batch {
        Batch {
            bufs: (0..BATCH).map(|_| vec![0u8; max_datagram]).collect(),
            recv_headers: MultiHeaders::preallocate(BATCH, None),
            send_headers: MultiHeaders::preallocate(BATCH, None),
            received: Vec::with_capacity(BATCH),
        }
    }

    /// Waits for at least one datagram (up to the socket's read timeout) and takes every
    /// one already queued, up to `BATCH`. Returns how many.
    pub(crate) fn recv(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        self.received.clear();
        let mut iovs: Vec<[IoSliceMut<'_>; 1]> = self
            .bufs
            .iter_mut()
            .map(|b| [IoSliceMut::new(b.as_mut_slice())])
            .collect();
        let results = recvmmsg(
            socket.as_raw_fd(),
            &mut self.recv_headers,
            iovs.iter_mut(),
            MsgFlags::MSG_WAITFORONE,
            None,
        )
        .map_err(io::Error::from)?;
        for msg in results {
            let src = msg.address.as_ref().and_then(to_socket_addr);
            self.received.push((msg.bytes, src));
        }
        Ok(self.received.len())
    }

    /// The `i`th datagram of the last `recv` and its source.
    pub(crate) fn datagram(&self, i: usize) -> (&[u8], Option<SocketAddr>) {
        let (len, src) = self.received[i];
        (&self.bufs[i][..len.min(self.bufs[i].len())], src)
    }

    /// Sends each `(bytes, destination)` (empty answers skipped), batched; whatever one
    /// call does not take is sent with the next.
    pub(crate) fn send(&mut self, socket: &UdpSocket, answers: &[(&[u8], SocketAddr)]) {
        let mut rest: Vec<&(&[u8], SocketAddr)> =
            answers.iter().filter(|(b, _)| !b.is_empty()).collect();
        while !rest.is_empty() {
            let chunk = &rest[..rest.len().min(BATCH)];
            let slices: Vec<[IoSlice<'_>; 1]> =
                chunk.iter().map(|(b, _)| [IoSlice::new(b)]).collect();
            let addrs: Vec<Option<SockaddrStorage>> = chunk
                .iter()
                .map(|(_, a)| Some(SockaddrStorage::from(*a)))
                .collect();
            let sent = sendmmsg(
                socket.as_raw_fd(),
                &mut self.send_headers,
                &slices,
                &addrs,
                [] as [ControlMessage<'_>; 0],
                MsgFlags::empty(),
            );
            match sent {
                Ok(results) => {
                    let n = results.count().max(1);
                    rest.drain(..n.min(rest.len()));
                }
                Err(Errno::EINTR) => {}
                Err(error) => {
                    // Like a failed `send_to`: the first answer is lost, the others still go.
                    tracing::debug!(%error, dst = %rest[0].1, "failed to send DNS response");
                    rest.remove(0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_and_receives_a_burst() {
        let server = UdpSocket::bind("127.0.0.1:0").expect("bind");
        server
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .expect("timeout");
        let client = UdpSocket::bind("127.0.0.1:0").expect("bind");
        client
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .expect("timeout");
        let to = server.local_addr().expect("addr");
        for i in 0..5u8 {
            client.send_to(&[i; 3], to).expect("send");
        }
        let mut batch = Batch::new(512);
        let mut got = Vec::new();
        while got.len() < 5 {
            let n = batch.recv(&server).expect("recv");
            for i in 0..n {
                let (bytes, src) = batch.datagram(i);
                assert_eq!(src, Some(client.local_addr().expect("addr")));
                got.push(bytes.to_vec());
            }
        }
        assert_eq!(got, (0..5u8).map(|i| vec![i; 3]).collect::<Vec<_>>());
        let dst = client.local_addr().expect("addr");
        let answers: Vec<(&[u8], SocketAddr)> = got.iter().map(|b| (b.as_slice(), dst)).collect();
        batch.send(&server, &answers);
        let mut buf = [0u8; 16];
        for i in 0..5u8 {
            let n = client.recv(&mut buf).expect("answer");
            assert_eq!(&buf[..n], &[i; 3]);
        }
    }
}
