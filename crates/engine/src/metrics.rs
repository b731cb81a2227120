use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::checkpoint::write_atomic;
use crate::EngineError;

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

/// The per-epoch metrics CSV of a run (`metrics.csv`).
pub struct MetricsLog;

impl MetricsLog {
    /// Column names, in order.
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

    /// Rewrites the whole CSV from `rows` atomically, so it always matches the checkpoint.
    pub fn write(path: &Path, rows: &[EpochMetrics]) -> Result<(), EngineError> {
        let werr = |e: csv::Error| EngineError::Write {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(Self::COLUMNS).map_err(werr)?;
        let opt = |v: Option<f64>, prec: usize| v.map_or(String::new(), |v| format!("{v:.prec$}"));
        for r in rows {
            w.write_record([
                r.epoch.to_string(),
                format!("{:.6}", r.lr),
                format!("{:.5}", r.train_loss),
                format!("{:.3}", r.train_top1),
                opt(r.val_loss, 5),
                opt(r.val_top1, 3),
                format!("{:.2}", r.train_seconds),
                format!("{:.1}", r.images_per_second),
            ])
            .map_err(werr)?;
        }
        let bytes = w.into_inner().map_err(|e| EngineError::Write {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        write_atomic(path, &bytes)
    }
}
