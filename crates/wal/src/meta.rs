//! The purge floor: the lowest index that may still be live.
//!
//! `purge_to` cannot always delete the segment that holds the purged records (it may also hold
//! live ones), so the floor is persisted separately; recovery ignores records below it instead
//! of resurrecting them. The file is tiny and replaced atomically.
//!
//! Layout (28 bytes, little-endian): magic "PCWALFLR" | version u32 | reserved u32 |
//! floor u64 | crc u32 (CRC-32/ISO-HDLC over the previous 24 bytes).

use std::path::Path;

use crate::atomic_file::write_atomic;
use crate::error::WalError;
use crate::segment::FORMAT_VERSION;

pub(crate) const FLOOR_FILE: &str = "purged-floor";
const MAGIC: &[u8; 8] = b"PCWALFLR";
const LEN: usize = 28;

pub(crate) fn write_floor(dir: &Path, floor: u64) -> Result<(), WalError> {
    let mut b = [0u8; LEN];
    b[0..8].copy_from_slice(MAGIC);
    b[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    b[16..24].copy_from_slice(&floor.to_le_bytes());
    let crc = crc32fast::hash(&b[0..24]);
    b[24..28].copy_from_slice(&crc.to_le_bytes());
    write_atomic(&dir.join(FLOOR_FILE), &b)
}

/// Reads the floor; 0 when the log was never purged.
pub(crate) fn read_floor(dir: &Path) -> Result<u64, WalError> {
    let path = dir.join(FLOOR_FILE);
    let b = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(WalError::io(&path, e)),
    };
    // Written atomically, so any damage here is real corruption, never a torn write.
    let bad = |reason: &str| WalError::corrupt(&path, 0, reason);
    if b.len() != LEN || &b[0..8] != MAGIC {
        return Err(bad("bad floor file length or magic"));
    }
    if crc32fast::hash(&b[0..24]).to_le_bytes() != b[24..28] {
        return Err(bad("floor file checksum mismatch"));
    }
    if b[8..12] != FORMAT_VERSION.to_le_bytes() {
        return Err(bad("unsupported floor file version"));
    }
    let mut f = [0u8; 8];
    f.copy_from_slice(&b[16..24]);
    Ok(u64::from_le_bytes(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_missing_and_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_floor(dir.path()).unwrap(), 0);
        write_floor(dir.path(), 77).unwrap();
        assert_eq!(read_floor(dir.path()).unwrap(), 77);
        let p = dir.path().join(FLOOR_FILE);
        let mut b = std::fs::read(&p).unwrap();
        b[17] ^= 1;
        std::fs::write(&p, b).unwrap();
        assert!(matches!(
            read_floor(dir.path()),
            Err(WalError::Corrupt { .. })
        ));
    }
}
