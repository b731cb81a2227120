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
    #[error("training diverged at epoch {epoch}: loss is {loss}")]
    Diverged { epoch: usize, loss: f64 },
}
