//! Exclusive use of the data dir. Two agents writing one Raft log would interleave appends and
//! purges and destroy it, so the second one must refuse to start. The lock is an advisory
//! `flock` on a file inside the dir; the kernel drops it when the process dies (SIGKILL
//! included), so a crash never leaves a stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

const LOCK_FILE: &str = "proconsul.lock";

/// Holds the lock until dropped (at process exit).
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("data_dir {dir} is in use by another process (lock file {lock})")]
    InUse { dir: String, lock: String },
    #[error("data_dir {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Creates `dir` if needed and takes its lock without waiting.
pub fn lock(dir: &Path) -> Result<DataDirLock, DataDirError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| DataDirError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(DataDirLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(DataDirError::InUse {
            dir: dir.display().to_string(),
            lock: path.display().to_string(),
        }),
        Err(TryLockError::Error(source)) => Err(DataDirError::Io {
            path: path.display().to_string(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_until_the_first_is_dropped() {
        let dir = std::env::temp_dir().join(format!("proconsul-lock-{}", uuid::Uuid::new_v4()));
        let first = lock(&dir).expect("first lock");
        let second = lock(&dir).expect_err("second lock must fail");
        assert!(
            second.to_string().contains("is in use by another process"),
            "{second}"
        );
        drop(first);
        lock(&dir).expect("lock again after release");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
