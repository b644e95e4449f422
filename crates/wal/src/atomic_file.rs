//! Small files replaced atomically (Raft vote, committed index, snapshot metadata, the WAL's own
//! purge floor).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::WalError;

/// Suffix of the temporary file; recovery of the WAL directory deletes leftovers.
pub(crate) const TMP_SUFFIX: &str = ".tmp";

/// Replaces `path` with `bytes` so that after a crash the file holds either the old or the new
/// contents, never a mix: write a temporary sibling, fsync it, rename it over `path`, fsync the
/// directory (the rename is only durable once the directory entry is).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WalError> {
    let tmp = tmp_path(path);
    let result = write_and_rename(path, &tmp, bytes);
    if result.is_err() {
        // Best effort: a leftover temp file is harmless, but do not litter on the error path.
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn write_and_rename(path: &Path, tmp: &Path, bytes: &[u8]) -> Result<(), WalError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)
        .map_err(|e| WalError::io(tmp, e))?;
    f.write_all(bytes).map_err(|e| WalError::io(tmp, e))?;
    f.sync_all().map_err(|e| WalError::io(tmp, e))?;
    drop(f);
    std::fs::rename(tmp, path).map_err(|e| WalError::io(path, e))?;
    sync_dir(parent_dir(path))
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(TMP_SUFFIX);
    path.with_file_name(name)
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Fsyncs a directory so that creations, renames and deletions inside it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), WalError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| WalError::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_contents_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("vote");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("vote")]);
    }

    #[test]
    fn missing_directory_is_an_io_error_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nope").join("vote");
        match write_atomic(&p, b"x") {
            Err(WalError::Io { path, .. }) => assert!(path.ends_with("vote.tmp")),
            other => panic!("unexpected {other:?}"),
        }
    }
}
