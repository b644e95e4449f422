//! Opening an existing log: list segments, verify every record, cut a torn tail.
//!
//! Policy, chosen so that a crash never makes us invent or silently drop acknowledged data:
//! - Damage at the end of the LAST segment is what a crash mid-write looks like (partial record,
//!   bad checksum, zero fill, a header that never made it to disk). It is cut off, the cut is
//!   made durable, and it is reported in [`Recovery`].
//! - Damage followed by a valid record, damage in an earlier segment, or a gap between indexes is
//!   not explained by a crash; it means lost acknowledged data or a bug, so opening fails and an
//!   operator has to look.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use crate::atomic_file::{TMP_SUFFIX, sync_dir};
use crate::error::WalError;
use crate::meta::{FLOOR_FILE, read_floor};
use crate::record::{Decoded, RECORD_HEADER_LEN, decode, peek_index};
use crate::segment::{SEGMENT_HEADER_LEN, Segment, decode_header, parse_segment_file_name};

/// What [`crate::Wal::open`] found on disk.
#[derive(Debug, Default)]
pub struct Recovery {
    /// Live records, `first_index..=last_index`, in order.
    pub records: Vec<(u64, Vec<u8>)>,
    /// Records below this index were purged (0 if never purged).
    pub floor: u64,
    /// The torn tail that was cut off the last segment, if any.
    pub cut: Option<TailCut>,
    /// Segment files deleted while opening: fully purged ones whose deletion a crash interrupted,
    /// and a last segment whose header never reached the disk.
    pub removed_segments: Vec<PathBuf>,
}

/// A torn tail removed from the last segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailCut {
    pub segment: PathBuf,
    /// The file now ends here.
    pub offset: u64,
    /// How many bytes were removed.
    pub bytes: u64,
    pub reason: String,
}

/// Result of recovery used to build the writer.
pub(crate) struct Recovered {
    pub segments: Vec<Segment>,
    pub next_seq: u64,
    pub recovery: Recovery,
}

pub(crate) fn recover(dir: &Path, max_record: u64) -> Result<Recovered, WalError> {
    std::fs::create_dir_all(dir).map_err(|e| WalError::io(dir, e))?;
    let (paths, next_seq) = list_segments(dir)?;
    let floor = read_floor(dir)?;
    let mut recovery = Recovery {
        floor,
        ..Recovery::default()
    };
    let mut segments: Vec<Segment> = Vec::new();
    let count = paths.len();
    for (i, (seq, path)) in paths.into_iter().enumerate() {
        let is_last = i + 1 == count;
        match scan_segment(&path, seq, is_last, max_record, floor, &mut recovery)? {
            Some(seg) => segments.push(seg),
            None => recovery.removed_segments.push(path),
        }
    }
    let dead = segments
        .iter()
        .take_while(|s| s.next_index() <= floor)
        .count();
    for seg in segments.drain(..dead) {
        // Purge wrote the floor, then crashed before deleting these; finish its job.
        std::fs::remove_file(&seg.path).map_err(|e| WalError::io(&seg.path, e))?;
        recovery.removed_segments.push(seg.path);
    }
    check_contiguous(&segments)?;
    if !recovery.removed_segments.is_empty() {
        sync_dir(dir)?;
    }
    if let Some(tail) = segments.last_mut() {
        tail.open_for_append()?;
    }
    Ok(Recovered {
        segments,
        next_seq,
        recovery,
    })
}

/// Segment files sorted by sequence number, and the next unused sequence number.
fn list_segments(dir: &Path) -> Result<(Vec<(u64, PathBuf)>, u64), WalError> {
    let mut found = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| WalError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| WalError::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name == format!("{FLOOR_FILE}{TMP_SUFFIX}") {
            // An interrupted floor update; the old floor file is still intact.
            let p = entry.path();
            std::fs::remove_file(&p).map_err(|e| WalError::io(&p, e))?;
        } else if let Some(seq) = parse_segment_file_name(name) {
            found.push((seq, entry.path()));
        }
    }
    found.sort();
    let next_seq = found.last().map_or(1, |(s, _)| s + 1);
    Ok((found, next_seq))
}

/// Reads and verifies one segment. Returns `None` if it was a torn, header-less last segment
/// (now deleted). Live records (index >= floor) are moved into `recovery.records`.
fn scan_segment(
    path: &Path,
    seq: u64,
    is_last: bool,
    max_record: u64,
    floor: u64,
    recovery: &mut Recovery,
) -> Result<Option<Segment>, WalError> {
    let buf = std::fs::read(path).map_err(|e| WalError::io(path, e))?;
    let header = match decode_header(&buf) {
        Ok(h) => h,
        Err(_) if is_last && torn_header(&buf) => {
            // Crash right after creating the segment: nothing in it was ever acknowledged.
            std::fs::remove_file(path).map_err(|e| WalError::io(path, e))?;
            return Ok(None);
        }
        Err(reason) => return Err(WalError::corrupt(path, 0, reason)),
    };
    if header.seq != seq {
        return Err(WalError::corrupt(
            path,
            0,
            "header sequence does not match file name",
        ));
    }
    let mut seg = Segment {
        path: path.to_path_buf(),
        first_index: header.first_index,
        offsets: Vec::new(),
        size: SEGMENT_HEADER_LEN as u64,
        file: None,
    };
    let mut offset = SEGMENT_HEADER_LEN;
    loop {
        let expected = seg.next_index();
        match decode(&buf[offset..], max_record) {
            Decoded::End => break,
            Decoded::Record {
                index,
                payload,
                size,
            } => {
                if index != expected {
                    let reason = format!("record index {index}, expected {expected}");
                    return Err(WalError::corrupt(path, offset as u64, reason));
                }
                if index >= floor {
                    recovery.records.push((index, payload.to_vec()));
                }
                seg.offsets.push(offset as u64);
                offset += size;
                seg.size = offset as u64;
            }
            Decoded::Invalid(reason) => {
                check_torn_tail(&buf, offset, expected, is_last, max_record, path, reason)?;
                recovery.cut = Some(cut_tail(path, offset as u64, buf.len() as u64, reason)?);
                break;
            }
        }
    }
    if is_last && seg.offsets.is_empty() {
        // A segment with only a header holds nothing that was acknowledged; dropping it keeps
        // the invariant that every segment has a record (see `segments.rs`).
        std::fs::remove_file(path).map_err(|e| WalError::io(path, e))?;
        return Ok(None);
    }
    Ok(Some(seg))
}

/// A header that is short or all zeros is a creation interrupted by a crash.
fn torn_header(buf: &[u8]) -> bool {
    buf.len() < SEGMENT_HEADER_LEN || buf.iter().all(|b| *b == 0)
}

/// Decides whether invalid bytes at `offset` are a torn tail (Ok) or real corruption (Err).
fn check_torn_tail(
    buf: &[u8],
    offset: usize,
    expected: u64,
    is_last: bool,
    max_record: u64,
    path: &Path,
    reason: &str,
) -> Result<(), WalError> {
    if !is_last {
        let reason = format!("{reason} in a sealed segment");
        return Err(WalError::corrupt(path, offset as u64, reason));
    }
    if let Some((at, index)) = find_valid_record_after(buf, offset, expected, max_record) {
        let reason = format!("{reason}, but a valid record (index {index}) follows at {at}");
        return Err(WalError::corrupt(path, offset as u64, reason));
    }
    Ok(())
}

/// Looks for any plausible, checksum-valid record after a damaged one. A crash only ever
/// damages the end of what was being written, so a valid record after damage means the
/// damage is not a torn write. Only indexes the writer could have produced at that position
/// are considered, which keeps random garbage from matching by chance.
fn find_valid_record_after(
    buf: &[u8],
    offset: usize,
    expected: u64,
    max_record: u64,
) -> Option<(usize, u64)> {
    let max_plausible = expected + (buf.len() / RECORD_HEADER_LEN) as u64;
    let plausible = expected..=max_plausible;
    for at in offset + 1..buf.len() {
        // Index check first: without it, garbage with plausible lengths would cost a checksum
        // over the rest of the file at every offset (quadratic).
        if !peek_index(&buf[at..]).is_some_and(|i| plausible.contains(&i)) {
            continue;
        }
        if let Decoded::Record { index, .. } = decode(&buf[at..], max_record) {
            return Some((at, index));
        }
    }
    None
}

fn cut_tail(path: &Path, offset: u64, len: u64, reason: &str) -> Result<TailCut, WalError> {
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| WalError::io(path, e))?;
    file.set_len(offset).map_err(|e| WalError::io(path, e))?;
    file.sync_data().map_err(|e| WalError::io(path, e))?;
    tracing::warn!(segment = %path.display(), offset, bytes = len - offset, reason, "cut torn WAL tail");
    Ok(TailCut {
        segment: path.to_path_buf(),
        offset,
        bytes: len - offset,
        reason: reason.to_string(),
    })
}

fn check_contiguous(segments: &[Segment]) -> Result<(), WalError> {
    for pair in segments.windows(2) {
        let (prev, next) = (&pair[0], &pair[1]);
        if next.first_index != prev.next_index() {
            let reason = format!(
                "segment starts at index {}, but the previous one ends before {}",
                next.first_index,
                prev.next_index()
            );
            return Err(WalError::corrupt(&next.path, 0, reason));
        }
    }
    Ok(())
}
