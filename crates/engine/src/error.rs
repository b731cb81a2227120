use std::path::PathBuf;
use thiserror::Error;

/// Errors of training, evaluation and checkpoint handling.
#[derive(Debug, Error)]
pub enum EngineError {
    #[error("checkpoint {path} does not fit the model: {reason}")]
    CheckpointMismatch { path: PathBuf, reason: String },
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("torch error")]
    Torch(#[from] tch::TchError),
    #[error(transparent)]
    Data(#[from] datasets::DatasetError),
    /// A snapshot (checkpoint or C2S2 state) whose files do not match its manifest.
    #[error(
        "{path}: {reason}; the saved state in {dir} cannot be resumed, remove it to \
         restart that part of the run (rm -r {dir})"
    )]
    DamagedSnapshot {
        path: PathBuf,
        reason: String,
        dir: PathBuf,
    },
    /// A test hook interrupted a save (see `snapshot::inject_fault`).
    #[error("save interrupted by an injected fault")]
    InjectedFault,
    #[error("training diverged at epoch {epoch}: loss is {loss}")]
    Diverged { epoch: usize, loss: f64 },
}
