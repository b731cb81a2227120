use std::path::PathBuf;
use thiserror::Error;

/// How to obtain CIFAR-10, quoted in "not found" errors.
pub const CIFAR10_HINT: &str = "run `scripts/prepare-data.sh cifar10` (downloads the official binary release, or unpacks a local archive given as CIFAR10_ARCHIVE=...), or point `dataset.root` at a folder holding `cifar-10-batches-bin/` or `train/<class>/*.jpg` + `test/<class>/*.jpg`";

/// Errors of data-set loading; every variant names the file or folder concerned.
#[derive(Debug, Error)]
pub enum DatasetError {
    #[error("data set not found at {path}: {hint}")]
    NotFound { path: PathBuf, hint: &'static str },
    #[error("corrupt data set file {path}: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("cannot decode image {path}: {reason}")]
    Decode { path: PathBuf, reason: String },
    #[error("I/O error on {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid data set request: {0}")]
    Invalid(String),
}

impl DatasetError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> DatasetError {
        let path = path.into();
        move |source| DatasetError::Io { path, source }
    }
}
