//! The per-epoch rows of a run's `metrics.csv`, shared by the crate that writes them
//! (`engine`, with libtorch) and the one that reads them (`analysis`, without): one
//! definition, so the writer and the reader cannot drift apart. The rest of the
//! run-record schema (`summary.json`) lives in `analysis::record`.
use serde::{Deserialize, Serialize};

/// What one training epoch measured. Accuracies in percent, times in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Learning rate at the end of the epoch.
    pub lr: f64,
    pub train_loss: f64,
    pub train_top1: f64,
    pub val_loss: Option<f64>,
    pub val_top1: Option<f64>,
    /// Wall time of the training part of the epoch.
    pub train_seconds: f64,
    /// Training throughput.
    pub images_per_second: f64,
}

impl EpochMetrics {
    /// The CSV columns, in order (the field names).
    pub const COLUMNS: [&'static str; 8] = [
        "epoch",
        "lr",
        "train_loss",
        "train_top1",
        "val_loss",
        "val_top1",
        "train_seconds",
        "images_per_second",
    ];
}
