//! The decoded-image cache: one file per split, written atomically, so that later runs
//! skip JPEG/PNG decoding. Layout (little endian): magic `C2S2IMG2`, the 32-byte key of
//! the sources it was decoded from ([`SourceKey`]), then u64 fields `channels, height,
//! width, count`, then `count` label bytes, then the CHW pixels.
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::{DatasetError, ImageSet};

const MAGIC: &[u8; 8] = b"C2S2IMG2";
const KEY: usize = 32;
const HEADER: usize = 8 + KEY + 4 * 8;

/// What decides a cache's content: SHA-256 over the decoder's name and, for every
/// source file in order, its path relative to the split folder, its label and the
/// SHA-256 of its bytes. Any renamed, relabelled, edited, added or removed file, or
/// another decoder, gives another key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SourceKey(pub [u8; KEY]);

impl SourceKey {
    /// The key of `files` (path, label) under `dir`, read in parallel.
    pub(crate) fn of(dir: &Path, files: &[(PathBuf, u8)]) -> Result<SourceKey, DatasetError> {
        let digests: Vec<[u8; 32]> = files
            .par_iter()
            .map(|(p, _)| {
                let bytes = fs::read(p).map_err(DatasetError::io(p))?;
                Ok(Sha256::digest(&bytes).into())
            })
            .collect::<Result<_, DatasetError>>()?;
        let mut h = Sha256::new();
        h.update(crate::decode::DECODER_ID.as_bytes());
        for ((p, label), d) in files.iter().zip(&digests) {
            let rel = p.strip_prefix(dir).unwrap_or(p);
            let rel = rel.to_string_lossy();
            h.update((rel.len() as u64).to_le_bytes());
            h.update(rel.as_bytes());
            h.update([*label]);
            h.update(d);
        }
        Ok(SourceKey(h.finalize().into()))
    }
}

/// Why a cache file was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Miss {
    Absent,
    /// Built from other files, labels or by another decoder (or an older layout).
    Stale,
}

/// Reads a cache file. `Ok(None)` when it is absent or was built from other sources;
/// an error when it exists but is damaged.
pub(crate) fn read(path: &Path, expect: SourceKey) -> Result<Result<ImageSet, Miss>, DatasetError> {
    let data = match fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Err(Miss::Absent)),
        Err(e) => return Err(DatasetError::io(path)(e)),
    };
    let corrupt = |reason: &str| DatasetError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("{reason} (delete it to rebuild the cache)"),
    };
    // The earlier layout (magic `C2S2IMG1`, keyed by file count and bytes) is stale.
    if data.starts_with(b"C2S2IMG1") {
        return Ok(Err(Miss::Stale));
    }
    if data.len() < HEADER || &data[..8] != MAGIC {
        return Err(corrupt("not an image cache file"));
    }
    if data[8..8 + KEY] != expect.0 {
        return Ok(Err(Miss::Stale));
    }
    let field = |i: usize| {
        let at = 8 + KEY + 8 * i;
        let mut b = [0u8; 8];
        b.copy_from_slice(&data[at..at + 8]);
        u64::from_le_bytes(b) as usize
    };
    let (c, h, w, n) = (field(0), field(1), field(2), field(3));
    let expected_len = n
        .checked_mul(c * h * w + 1)
        .and_then(|v| v.checked_add(HEADER));
    if expected_len != Some(data.len()) {
        let expected_len = expected_len.map_or("an impossible size".into(), |v| v.to_string());
        return Err(corrupt(&format!(
            "{} bytes, expected {expected_len}",
            data.len()
        )));
    }
    let labels = data[HEADER..HEADER + n].to_vec();
    let pixels = data[HEADER + n..].to_vec();
    Ok(Ok(ImageSet {
        channels: c,
        height: h,
        width: w,
        pixels,
        labels,
    }))
}

/// Writes a cache file atomically (temporary file, then rename).
pub(crate) fn write(path: &Path, set: &ImageSet, source: SourceKey) -> Result<(), DatasetError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(DatasetError::io(dir))?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp).map_err(DatasetError::io(&tmp))?;
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&source.0);
    for v in [
        set.channels as u64,
        set.height as u64,
        set.width as u64,
        set.len() as u64,
    ] {
        header.extend_from_slice(&v.to_le_bytes());
    }
    f.write_all(&header)
        .and_then(|_| f.write_all(&set.labels))
        .and_then(|_| f.write_all(&set.pixels))
        .and_then(|_| f.sync_all())
        .map_err(DatasetError::io(&tmp))?;
    fs::rename(&tmp, path).map_err(DatasetError::io(path))
}
