//! Encoding and decoding of one log record.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! +---------+---------+-----------+-----------------+
//! | len u32 | crc u32 | index u64 | payload (len B) |
//! +---------+---------+-----------+-----------------+
//! ```
//!
//! `crc` is CRC-32/ISO-HDLC (the zlib/IEEE polynomial, as computed by `crc32fast`) over
//! `len || index || payload`. Covering the length means a flipped length bit is caught by the
//! checksum instead of silently shifting every following record. There is no padding: records
//! follow each other directly.

/// Bytes before the payload.
pub(crate) const RECORD_HEADER_LEN: usize = 16;

/// Default and hard upper bound for one payload. The hard bound keeps the length field (u32)
/// meaningful and stops a corrupt length from making recovery allocate gigabytes.
pub const DEFAULT_MAX_RECORD_BYTES: u64 = 64 * 1024 * 1024;

/// Appends the encoded record to `out`. The caller has already checked the payload size.
pub(crate) fn encode(index: u64, payload: &[u8], out: &mut Vec<u8>) {
    // The caller bounds payloads by `max_record_bytes` (≤ u32::MAX), so this cannot truncate.
    let len = payload.len() as u32;
    let crc = checksum(len, index, payload);
    out.reserve(RECORD_HEADER_LEN + payload.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&index.to_le_bytes());
    out.extend_from_slice(payload);
}

/// Size on disk of a record with this payload.
pub(crate) fn encoded_len(payload_len: usize) -> u64 {
    (RECORD_HEADER_LEN + payload_len) as u64
}

fn checksum(len: u32, index: u64, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&len.to_le_bytes());
    h.update(&index.to_le_bytes());
    h.update(payload);
    h.finalize()
}

/// Outcome of decoding the bytes at one offset.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded<'a> {
    /// A complete record whose checksum matches; `size` is its length on disk.
    Record {
        index: u64,
        payload: &'a [u8],
        size: usize,
    },
    /// Nothing left to read.
    End,
    /// The bytes do not form a valid record (partial write, bad checksum, zero fill, ...).
    Invalid(&'static str),
}

/// The index field of a record header at the start of `buf`, without any validation. Lets
/// recovery reject implausible positions before paying for a checksum.
pub(crate) fn peek_index(buf: &[u8]) -> Option<u64> {
    let mut b = [0u8; 8];
    b.copy_from_slice(buf.get(8..16)?);
    Some(u64::from_le_bytes(b))
}

/// Decodes the record at the start of `buf`. Never allocates, and never trusts the length field
/// beyond `max_payload`.
pub(crate) fn decode(buf: &[u8], max_payload: u64) -> Decoded<'_> {
    if buf.is_empty() {
        return Decoded::End;
    }
    let Some(header) = buf.get(..RECORD_HEADER_LEN) else {
        return Decoded::Invalid("partial record header");
    };
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let mut index_bytes = [0u8; 8];
    index_bytes.copy_from_slice(&header[8..16]);
    let index = u64::from_le_bytes(index_bytes);
    if header.iter().all(|b| *b == 0) {
        // Filesystems may expose zeroed blocks after a crash (size updated, data not written).
        return Decoded::Invalid("zero-filled record header");
    }
    if u64::from(len) > max_payload {
        return Decoded::Invalid("record length exceeds the maximum record size");
    }
    let end = RECORD_HEADER_LEN + len as usize;
    let Some(payload) = buf.get(RECORD_HEADER_LEN..end) else {
        return Decoded::Invalid("partial record payload");
    };
    if checksum(len, index, payload) != crc {
        return Decoded::Invalid("record checksum mismatch");
    }
    Decoded::Record {
        index,
        payload,
        size: end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(index: u64, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        encode(index, payload, &mut v);
        v
    }

    #[test]
    fn roundtrip() {
        for payload in [&b""[..], b"x", &[7u8; 1000]] {
            let buf = enc(42, payload);
            assert_eq!(buf.len() as u64, encoded_len(payload.len()));
            assert_eq!(
                decode(&buf, DEFAULT_MAX_RECORD_BYTES),
                Decoded::Record {
                    index: 42,
                    payload,
                    size: buf.len()
                }
            );
        }
    }

    #[test]
    fn every_prefix_is_invalid_and_empty_is_end() {
        let buf = enc(9, b"hello world");
        assert_eq!(decode(&[], DEFAULT_MAX_RECORD_BYTES), Decoded::End);
        for cut in 1..buf.len() {
            assert!(matches!(
                decode(&buf[..cut], DEFAULT_MAX_RECORD_BYTES),
                Decoded::Invalid(_)
            ));
        }
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        let buf = enc(123_456, b"some payload bytes");
        for byte in 0..buf.len() {
            for bit in 0..8 {
                let mut b = buf.clone();
                b[byte] ^= 1 << bit;
                match decode(&b, DEFAULT_MAX_RECORD_BYTES) {
                    Decoded::Record { index, payload, .. } => {
                        panic!("flip {byte}:{bit} accepted as {index} {payload:?}")
                    }
                    Decoded::End => panic!("unexpected end"),
                    Decoded::Invalid(_) => {}
                }
            }
        }
    }

    #[test]
    fn zero_fill_and_oversized_length_are_invalid() {
        assert_eq!(
            decode(&[0u8; 64], DEFAULT_MAX_RECORD_BYTES),
            Decoded::Invalid("zero-filled record header")
        );
        let mut buf = enc(1, b"abc");
        buf[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            decode(&buf, 1024),
            Decoded::Invalid("record length exceeds the maximum record size")
        );
    }
}
