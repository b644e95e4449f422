//! The error type shared by every part of the log.

use std::path::PathBuf;

/// Everything that can go wrong while opening, writing or recovering the log.
///
/// Once an I/O error happens while appending or syncing, the log is poisoned: every later call
/// returns [`WalError::Poisoned`]. We cannot know what reached the disk after a failed write or
/// fsync (the kernel may have dropped dirty pages), so the only safe recovery is a restart, which
/// re-reads and verifies the files.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("corrupt WAL segment {segment} at offset {offset}: {reason}")]
    Corrupt {
        segment: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("non-contiguous index: expected {expected}, got {got}")]
    NonContiguous { expected: u64, got: u64 },
    #[error("record of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: u64, max: u64 },
    #[error("invalid WAL options: {0}")]
    InvalidOptions(String),
    #[error("WAL is unusable after an earlier failure: {0}")]
    Poisoned(String),
    #[error("WAL is closed")]
    Closed,
}

impl WalError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        WalError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupt(
        segment: impl Into<PathBuf>,
        offset: u64,
        reason: impl Into<String>,
    ) -> Self {
        WalError::Corrupt {
            segment: segment.into(),
            offset,
            reason: reason.into(),
        }
    }
}
