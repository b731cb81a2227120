//! The decoded-image cache: one file per split, written atomically, so that later runs
//! skip JPEG/PNG decoding. Layout (little endian): magic `C2S2IMG1`, then u64 fields
//! `source_files, source_bytes, channels, height, width, count`, then `count` label bytes,
//! then the CHW pixels.
use std::fs;
use std::io::Write;
use std::path::Path;

use crate::{DatasetError, ImageSet};

const MAGIC: &[u8; 8] = b"C2S2IMG1";
const HEADER: usize = 8 + 6 * 8;

/// What the cache was built from: a cheap fingerprint of the source folder, so a changed
/// folder invalidates the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SourceFingerprint {
    pub files: u64,
    pub bytes: u64,
}

/// Reads a cache file. `Ok(None)` when it is absent or was built from other sources;
/// an error when it exists but is damaged.
pub(crate) fn read(
    path: &Path,
    expect: SourceFingerprint,
) -> Result<Option<ImageSet>, DatasetError> {
    let data = match fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(DatasetError::io(path)(e)),
    };
    let corrupt = |reason: &str| DatasetError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("{reason} (delete it to rebuild the cache)"),
    };
    if data.len() < HEADER || &data[..8] != MAGIC {
        return Err(corrupt("not an image cache file"));
    }
    let field =
        |i: usize| u64::from_le_bytes(data[8 + 8 * i..16 + 8 * i].try_into().expect("8 bytes"));
    let found = SourceFingerprint {
        files: field(0),
        bytes: field(1),
    };
    if found != expect {
        return Ok(None);
    }
    let (c, h, w, n) = (
        field(2) as usize,
        field(3) as usize,
        field(4) as usize,
        field(5) as usize,
    );
    let expected_len = HEADER + n + n * c * h * w;
    if data.len() != expected_len {
        return Err(corrupt(&format!(
            "{} bytes, expected {expected_len}",
            data.len()
        )));
    }
    let labels = data[HEADER..HEADER + n].to_vec();
    let pixels = data[HEADER + n..].to_vec();
    Ok(Some(ImageSet {
        channels: c,
        height: h,
        width: w,
        pixels,
        labels,
    }))
}

/// Writes a cache file atomically (temporary file, then rename).
pub(crate) fn write(
    path: &Path,
    set: &ImageSet,
    source: SourceFingerprint,
) -> Result<(), DatasetError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(DatasetError::io(dir))?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp).map_err(DatasetError::io(&tmp))?;
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    for v in [
        source.files,
        source.bytes,
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
