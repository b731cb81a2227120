use std::path::Path;

use crate::checkpoint::write_atomic;
use crate::EngineError;

pub use records::EpochMetrics;

/// The per-epoch metrics CSV of a run (`metrics.csv`).
pub struct MetricsLog;

impl MetricsLog {
    /// Column names, in order.
    pub const COLUMNS: [&'static str; 8] = EpochMetrics::COLUMNS;

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
