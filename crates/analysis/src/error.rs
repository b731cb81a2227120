//! The analysis crate's error: every variant names the file it is about.
use std::path::PathBuf;

/// What can go wrong reading run records or writing tables and plots.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("{path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not valid JSON")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: not valid CSV")]
    Csv { path: PathBuf, source: csv::Error },
    /// A record that parses but does not fit the schema (version, missing field).
    #[error("{path}: {message}")]
    Schema { path: PathBuf, message: String },
    #[error("building table {table}")]
    Table {
        table: String,
        source: polars::error::PolarsError,
    },
    #[error("{path}: drawing failed: {message}")]
    Plot { path: PathBuf, message: String },
}

impl AnalysisError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result with [`AnalysisError`].
pub type Result<T, E = AnalysisError> = std::result::Result<T, E>;

/// Writes `bytes` to `path` atomically: a temporary file beside it, then a rename, so a
/// reader never sees half a file and a failed write leaves the old one intact.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| AnalysisError::io(dir, e))?;
    // A uniquely named temporary file: processes writing the same file at once never
    // share one.
    let mut tmp = tempfile::Builder::new()
        .prefix(".write-")
        .suffix(".tmp")
        // The mode a plain write would give (tempfile's own is 0600).
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .tempfile_in(dir)
        .map_err(|e| AnalysisError::io(dir, e))?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(|e| AnalysisError::io(tmp.path(), e))?;
    tmp.persist(path)
        .map_err(|e| AnalysisError::io(path, e.error))?;
    Ok(())
}

/// Reads every row of a CSV file with a header into `T`.
pub fn read_csv<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Result<Vec<T>> {
    let csv_err = |source| AnalysisError::Csv {
        path: path.into(),
        source,
    };
    let mut r = csv::Reader::from_path(path).map_err(csv_err)?;
    r.deserialize().collect::<Result<_, _>>().map_err(csv_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn an_io_error_names_the_file_and_exposes_its_cause_once() {
        let e = read_csv::<(String,)>(std::path::Path::new("/nonexistent/published.csv"))
            .expect_err("the file does not exist");
        let cause = e.source().expect("the I/O error is the source").to_string();
        let text = e.to_string();
        assert!(text.contains("published.csv"), "{text}");
        // The cause is reported by whoever walks the chain, not repeated in the message.
        assert!(!text.contains(&cause), "{text} repeats {cause}");
    }
}
