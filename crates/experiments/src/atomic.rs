//! Writes that matter: to a uniquely named temporary file in the same folder, then
//! renamed into place, so a reader sees the old file or the new one, never a part, and
//! processes publishing the same record at once never share a temporary file. The one
//! implementation is `analysis::write_atomic` (on `tempfile`); this names it for the
//! binary's modules.
use std::path::Path;

use anyhow::Result;

/// Writes `bytes` to `path` atomically (creating its folder).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(analysis::write_atomic(path, bytes)?)
}
