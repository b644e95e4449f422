//! The snapshot blob, as written to disk and as shipped between servers:
//! `magic(8) | meta_len u32 LE | meta JSON | state bytes | crc32 u32 LE` (CRC over all
//! preceding bytes). Versioned by the magic's last byte.

use crate::types::SnapshotMeta;
use std::path::Path;

const MAGIC: &[u8; 8] = b"PCSNAP\x00\x01";

#[derive(Debug, thiserror::Error)]
pub enum SnapshotFileError {
    #[error("snapshot is not a proconsul snapshot (bad magic or version)")]
    Magic,
    #[error("snapshot is truncated")]
    Truncated,
    #[error("snapshot checksum mismatch")]
    Checksum,
    #[error("snapshot metadata: {0}")]
    Meta(serde_json::Error),
    #[error("snapshot file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

pub fn encode(meta: &SnapshotMeta, state: &[u8]) -> Vec<u8> {
    let meta_json = serde_json::to_vec(meta).unwrap_or_default();
    let mut out = Vec::with_capacity(16 + meta_json.len() + state.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(meta_json.len() as u32).to_le_bytes());
    out.extend_from_slice(&meta_json);
    out.extend_from_slice(state);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Splits a blob into its metadata and state bytes, verifying magic and checksum.
pub fn decode(blob: &[u8]) -> Result<(SnapshotMeta, &[u8]), SnapshotFileError> {
    if blob.len() < MAGIC.len() + 8 {
        return Err(SnapshotFileError::Truncated);
    }
    if &blob[..MAGIC.len()] != MAGIC {
        return Err(SnapshotFileError::Magic);
    }
    let (body, crc_bytes) = blob.split_at(blob.len() - 4);
    let crc = u32::from_le_bytes([crc_bytes[0], crc_bytes[1], crc_bytes[2], crc_bytes[3]]);
    if crc32fast::hash(body) != crc {
        return Err(SnapshotFileError::Checksum);
    }
    let len_at = MAGIC.len();
    let meta_len = u32::from_le_bytes([
        body[len_at],
        body[len_at + 1],
        body[len_at + 2],
        body[len_at + 3],
    ]) as usize;
    let meta_start = len_at + 4;
    let state_start = meta_start
        .checked_add(meta_len)
        .filter(|end| *end <= body.len())
        .ok_or(SnapshotFileError::Truncated)?;
    let meta =
        serde_json::from_slice(&body[meta_start..state_start]).map_err(SnapshotFileError::Meta)?;
    Ok((meta, &body[state_start..]))
}

pub fn read(path: &Path) -> Result<Option<Vec<u8>>, SnapshotFileError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SnapshotFileError::Io {
            path: path.display().to_string(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let meta = SnapshotMeta::default();
        let blob = encode(&meta, b"state");
        let (back, state) = decode(&blob).expect("decodes");
        assert_eq!(back, meta);
        assert_eq!(state, b"state");
        let mut flipped = blob.clone();
        flipped[12] ^= 1;
        assert!(matches!(decode(&flipped), Err(SnapshotFileError::Checksum)));
        assert!(matches!(
            decode(&blob[..blob.len() - 1]),
            Err(SnapshotFileError::Checksum)
        ));
        assert!(matches!(
            decode(b"short"),
            Err(SnapshotFileError::Truncated)
        ));
    }
}
