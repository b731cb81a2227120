use thiserror::Error;

/// Errors of pruning: masks or widths that do not fit the model.
#[derive(Debug, Error)]
pub enum PruneError {
    #[error("the model has no prunable layer `{0}`")]
    UnknownLayer(String),
    #[error("mask for `{layer}` has {found} entries, the layer has {expected} channels")]
    MaskLength {
        layer: String,
        expected: i64,
        found: usize,
    },
    #[error("mask for `{layer}` keeps no channel (at least one must stay)")]
    EmptyMask { layer: String },
    #[error("pruning budget: {0}")]
    Budget(String),
    #[error("widths")]
    Model(#[from] models::ModelError),
    #[error("tensor `{tensor}`: {reason}")]
    Surgery { tensor: String, reason: String },
    /// C2S2's saved per-group state does not fit the run that resumes it.
    #[error("C2S2 state {path}: {reason}; remove {dir} to restart the selection (rm -r {dir})")]
    State {
        path: std::path::PathBuf,
        reason: String,
        dir: std::path::PathBuf,
    },
    #[error(transparent)]
    Engine(#[from] engine::EngineError),
    #[error("torch error")]
    Torch(#[from] tch::TchError),
    #[error("latency table: the machine stayed busy through {attempts} timings (last: passes varied by {spread:.2}, other work took {:.0}% of the CPUs); run when nothing else runs on it, or raise `latency.max_spread`, `latency.max_others_load` or `latency.busy_retries`", 100.0 * others)]
    BusyMachine {
        spread: f64,
        others: f64,
        attempts: usize,
    },
}
