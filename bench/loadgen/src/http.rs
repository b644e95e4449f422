//! A minimal HTTP/1.1 keep-alive client over one TCP connection: write a pre-built request,
//! read one response (Content-Length or chunked body). No pipelining, no allocation per
//! request beyond the connection's growing read buffer.

use std::io::{Error, ErrorKind};
use std::net::SocketAddr;
use std::ops::Range;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The parts of a response the benchmarks look at.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// `X-Consul-Index`, when present.
    pub index: Option<u64>,
    body: Range<usize>,
}

/// One keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Bytes at the front of `buf` that belong to the last response (dropped on next read).
    consumed: usize,
}

fn bad(msg: &str) -> Error {
    Error::new(ErrorKind::InvalidData, msg.to_string())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(8192),
            consumed: 0,
        })
    }

    /// Sends one request and reads its response.
    pub async fn roundtrip(&mut self, request: &[u8]) -> std::io::Result<Response> {
        self.send(request).await?;
        self.read_response().await
    }

    /// Writes a request without waiting for the answer.
    pub async fn send(&mut self, request: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(request).await
    }

    /// The body of the response most recently returned by `read_response`.
    pub fn body(&self, response: &Response) -> &[u8] {
        self.buf.get(response.body.clone()).unwrap_or_default()
    }

    /// Reads more bytes into the buffer; EOF is an error (the server closed mid-response).
    async fn fill(&mut self) -> std::io::Result<()> {
        self.buf.reserve(4096);
        let n = self.stream.read_buf(&mut self.buf).await?;
        if n == 0 {
            return Err(Error::new(ErrorKind::UnexpectedEof, "connection closed"));
        }
        Ok(())
    }

    /// Waits until `buf` holds at least `len` bytes.
    async fn fill_to(&mut self, len: usize) -> std::io::Result<()> {
        while self.buf.len() < len {
            self.fill().await?;
        }
        Ok(())
    }

    /// Reads one full response.
    pub async fn read_response(&mut self) -> std::io::Result<Response> {
        self.buf.drain(..self.consumed);
        self.consumed = 0;
        let head_end = loop {
            if let Some(pos) = find(&self.buf, b"\r\n\r\n") {
                break pos + 4;
            }
            self.fill().await?;
        };
        let head = parse_head(&self.buf[..head_end])?;
        let (body, end) = match head.length {
            BodyLength::Fixed(n) => {
                self.fill_to(head_end + n).await?;
                (head_end..head_end + n, head_end + n)
            }
            BodyLength::Chunked => self.read_chunked(head_end).await?,
        };
        self.consumed = end;
        Ok(Response {
            status: head.status,
            index: head.index,
            body,
        })
    }

    /// Reads the head of a streamed (chunked) response, e.g. etcd's `/v3/watch`; the body is
    /// then read piece by piece with `next_chunk`. Returns the status.
    pub async fn open_stream(&mut self) -> std::io::Result<u16> {
        self.buf.drain(..self.consumed);
        self.consumed = 0;
        let head_end = loop {
            if let Some(pos) = find(&self.buf, b"\r\n\r\n") {
                break pos + 4;
            }
            self.fill().await?;
        };
        let head = parse_head(&self.buf[..head_end])?;
        if !matches!(head.length, BodyLength::Chunked) {
            return Err(bad("streamed response is not chunked"));
        }
        self.consumed = head_end;
        Ok(head.status)
    }

    /// Appends the next chunk of a streamed response to `out`; false at the last chunk.
    pub async fn next_chunk(&mut self, out: &mut Vec<u8>) -> std::io::Result<bool> {
        self.buf.drain(..self.consumed);
        self.consumed = 0;
        let line_end = loop {
            if let Some(p) = find(&self.buf, b"\r\n") {
                break p;
            }
            self.fill().await?;
        };
        let size_text =
            std::str::from_utf8(&self.buf[..line_end]).map_err(|_| bad("chunk size not text"))?;
        let size_hex = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| bad("chunk size not hex"))?;
        let data = line_end + 2;
        self.fill_to(data + size + 2).await?;
        out.extend_from_slice(&self.buf[data..data + size]);
        self.consumed = data + size + 2;
        Ok(size > 0)
    }

    /// Reads a chunked body in place, compacting the chunks so the body is contiguous.
    async fn read_chunked(&mut self, start: usize) -> std::io::Result<(Range<usize>, usize)> {
        let mut write = start; // where the decoded body ends so far
        let mut read = start; // where the next chunk-size line starts
        loop {
            let line_end = loop {
                if let Some(p) = find(&self.buf[read..], b"\r\n") {
                    break read + p;
                }
                self.fill().await?;
            };
            let size_text = std::str::from_utf8(&self.buf[read..line_end])
                .map_err(|_| bad("chunk size not text"))?;
            let size_hex = size_text.split(';').next().unwrap_or("").trim();
            let size =
                usize::from_str_radix(size_hex, 16).map_err(|_| bad("chunk size not hex"))?;
            let data = line_end + 2;
            self.fill_to(data + size + 2).await?;
            if size == 0 {
                // No trailers are expected: the terminating CRLF follows at once.
                return Ok((start..write, data + 2));
            }
            self.buf.copy_within(data..data + size, write);
            write += size;
            read = data + size + 2;
        }
    }
}

enum BodyLength {
    Fixed(usize),
    Chunked,
}

struct Head {
    status: u16,
    index: Option<u64>,
    length: BodyLength,
}

fn parse_head(head: &[u8]) -> std::io::Result<Head> {
    let text = std::str::from_utf8(head).map_err(|_| bad("response head not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let mut index = None;
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(BodyLength::Fixed(
                value.parse().map_err(|_| bad("bad content-length"))?,
            ));
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            && value.to_ascii_lowercase().contains("chunked")
        {
            length = Some(BodyLength::Chunked);
        } else if name.eq_ignore_ascii_case("x-consul-index") {
            index = value.parse().ok();
        }
    }
    // 1xx, 204 and 304 have no body; anything else without a length is not supported.
    let length = match length {
        Some(l) => l,
        None if status < 200 || status == 204 || status == 304 => BodyLength::Fixed(0),
        None => return Err(bad("response without length")),
    };
    Ok(Head {
        status,
        index,
        length,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_head() {
        let h = parse_head(b"HTTP/1.1 200 OK\r\nX-Consul-Index: 42\r\nContent-Length: 3\r\n\r\n")
            .expect("head");
        assert_eq!(h.status, 200);
        assert_eq!(h.index, Some(42));
        assert!(matches!(h.length, BodyLength::Fixed(3)));
        let h = parse_head(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n").expect("head");
        assert!(matches!(h.length, BodyLength::Chunked));
    }
}
