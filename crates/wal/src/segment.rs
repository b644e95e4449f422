//! One segment file: naming, the versioned header, and the per-file operations the writer needs.
//!
//! Header layout (40 bytes, little-endian):
//!
//! ```text
//! magic "PCWALSEG" (8) | version u32 | reserved u32 (0) | seq u64 | first_index u64 |
//! crc u32 (CRC-32/ISO-HDLC over the previous 32 bytes) | reserved u32 (0)
//! ```
//!
//! Records follow the header back to back; the first record's index is `first_index` and each
//! next record's index is one more. Files are named `<seq as 20 digits>.seg`; `seq` only grows,
//! so a file name is never reused and stale bytes of a deleted segment can never be mistaken for
//! a live one.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::WalError;

pub(crate) const SEGMENT_MAGIC: &[u8; 8] = b"PCWALSEG";
/// Bump when the segment or record layout changes; older binaries then refuse to start.
pub(crate) const FORMAT_VERSION: u32 = 1;
pub(crate) const SEGMENT_HEADER_LEN: usize = 40;
const SEGMENT_SUFFIX: &str = ".seg";

pub(crate) fn segment_file_name(seq: u64) -> String {
    format!("{seq:020}{SEGMENT_SUFFIX}")
}

/// Parses a segment file name back into its sequence number; `None` for unrelated files.
pub(crate) fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SEGMENT_SUFFIX)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

pub(crate) fn encode_header(seq: u64, first_index: u64) -> [u8; SEGMENT_HEADER_LEN] {
    let mut h = [0u8; SEGMENT_HEADER_LEN];
    h[0..8].copy_from_slice(SEGMENT_MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h[16..24].copy_from_slice(&seq.to_le_bytes());
    h[24..32].copy_from_slice(&first_index.to_le_bytes());
    let crc = crc32fast::hash(&h[0..32]);
    h[32..36].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Decoded header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentHeader {
    pub seq: u64,
    pub first_index: u64,
}

pub(crate) fn decode_header(buf: &[u8]) -> Result<SegmentHeader, String> {
    let h = buf
        .get(..SEGMENT_HEADER_LEN)
        .ok_or_else(|| format!("file shorter than the {SEGMENT_HEADER_LEN}-byte header"))?;
    let u32_at = |o: usize| u32::from_le_bytes([h[o], h[o + 1], h[o + 2], h[o + 3]]);
    let u64_at = |o: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&h[o..o + 8]);
        u64::from_le_bytes(b)
    };
    if &h[0..8] != SEGMENT_MAGIC {
        return Err("bad segment magic".into());
    }
    if crc32fast::hash(&h[0..32]) != u32_at(32) {
        return Err("segment header checksum mismatch".into());
    }
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        return Err(format!(
            "unsupported segment format version {version} (this build reads {FORMAT_VERSION})"
        ));
    }
    Ok(SegmentHeader {
        seq: u64_at(16),
        first_index: u64_at(24),
    })
}

/// In-memory view of one segment, owned by the writer thread.
#[derive(Debug)]
pub(crate) struct Segment {
    pub path: PathBuf,
    pub first_index: u64,
    /// `offsets[i]` is the byte offset of record `first_index + i`. Kept so truncation can cut
    /// a file without re-reading it; 8 bytes per record is small next to the records themselves.
    pub offsets: Vec<u64>,
    /// Bytes of the file that hold the header and valid records.
    pub size: u64,
    /// Open (append mode) only for the tail segment.
    pub file: Option<File>,
}

impl Segment {
    /// Creates a new, empty segment file. The caller must fsync the file and the directory
    /// before relying on it; the writer does that with the first sync after creation.
    pub fn create(dir: &Path, seq: u64, first_index: u64) -> Result<Segment, WalError> {
        let path = dir.join(segment_file_name(seq));
        let mut file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| WalError::io(&path, e))?;
        file.write_all(&encode_header(seq, first_index))
            .map_err(|e| WalError::io(&path, e))?;
        Ok(Segment {
            path,
            first_index,
            offsets: Vec::new(),
            size: SEGMENT_HEADER_LEN as u64,
            file: Some(file),
        })
    }

    /// Opens an existing (recovered) segment for appending at its end.
    pub fn open_for_append(&mut self) -> Result<(), WalError> {
        if self.file.is_none() {
            let file = OpenOptions::new()
                .append(true)
                .open(&self.path)
                .map_err(|e| WalError::io(&self.path, e))?;
            self.file = Some(file);
        }
        Ok(())
    }

    pub fn len(&self) -> u64 {
        self.offsets.len() as u64
    }

    /// Index the next appended record must have.
    pub fn next_index(&self) -> u64 {
        self.first_index + self.len()
    }

    /// Cuts the file so only the first `keep` records remain, and makes the cut durable.
    pub fn truncate_records(&mut self, keep: usize) -> Result<(), WalError> {
        let Some(&cut) = self.offsets.get(keep) else {
            return Ok(());
        };
        let file = OpenOptions::new()
            .write(true)
            .open(&self.path)
            .map_err(|e| WalError::io(&self.path, e))?;
        file.set_len(cut).map_err(|e| WalError::io(&self.path, e))?;
        // fdatasync covers the size change, so the cut survives a power loss.
        file.sync_data().map_err(|e| WalError::io(&self.path, e))?;
        self.offsets.truncate(keep);
        self.size = cut;
        Ok(())
    }

    /// Writes already-encoded records (whose sizes are `sizes`) at the end of the tail file.
    pub fn write_encoded(&mut self, buf: &[u8], sizes: &[u64]) -> Result<(), WalError> {
        let file = self.file.as_mut().ok_or_else(|| {
            WalError::io(
                &self.path,
                std::io::Error::other("segment is not open for append"),
            )
        })?;
        file.write_all(buf)
            .map_err(|e| WalError::io(&self.path, e))?;
        for size in sizes {
            self.offsets.push(self.size);
            self.size += size;
        }
        Ok(())
    }

    pub fn sync(&self) -> Result<(), WalError> {
        match &self.file {
            Some(f) => f.sync_data().map_err(|e| WalError::io(&self.path, e)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_roundtrip_and_rejects_damage() {
        let h = encode_header(7, 1234);
        assert_eq!(
            decode_header(&h),
            Ok(SegmentHeader {
                seq: 7,
                first_index: 1234
            })
        );
        for i in 0..36 {
            let mut d = h;
            d[i] ^= 0x10;
            assert!(decode_header(&d).is_err(), "byte {i}");
        }
        assert!(decode_header(&h[..39]).is_err());
    }

    #[test]
    fn file_names() {
        assert_eq!(segment_file_name(3), "00000000000000000003.seg");
        assert_eq!(parse_segment_file_name("00000000000000000003.seg"), Some(3));
        assert_eq!(parse_segment_file_name("3.seg"), None);
        assert_eq!(
            parse_segment_file_name("00000000000000000003.seg.tmp"),
            None
        );
    }
}
