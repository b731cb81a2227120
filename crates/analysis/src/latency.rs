//! Latency records: what `experiments bench-latency` writes (one CSV row per model and
//! batch size), and how a table reads them.
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, Result};

/// Forward latency of one saved model at one batch size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// The model folder measured (as given on the command line).
    pub model_dir: String,
    pub arch: String,
    pub params: u64,
    pub macs: u64,
    pub batch: i64,
    /// `Cpu` or `Cuda(0)`.
    pub device: String,
    pub threads: i32,
    pub channels_last: bool,
    pub repeats: usize,
    /// Milliseconds per forward pass of the whole batch: median and quartiles.
    pub median_ms: f64,
    pub p25_ms: f64,
    pub p75_ms: f64,
    /// Share of all CPUs' time that other work (other processes, the kernel, hypervisor
    /// steal) took while this batch size was measured, in percent; empty where it could
    /// not be read (not Linux) and in files written before it was recorded.
    #[serde(default)]
    pub others_load_pct: Option<f64>,
}

/// Writes latency rows as CSV (atomically).
pub fn write_latency_csv(path: &Path, rows: &[Latency]) -> Result<()> {
    let csv_err = |source| AnalysisError::Csv {
        path: path.into(),
        source,
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| AnalysisError::io(path, e.into_error()))?;
    crate::error::write_atomic(path, &bytes)
}

/// Reads a latency CSV.
pub fn read_latency_csv(path: &Path) -> Result<Vec<Latency>> {
    crate::error::read_csv(path)
}

/// The measurement of the entry folder `entry_dir` (`.../<setting>/<entry>`) at `batch`:
/// a row whose `model_dir` contains `<setting>/<entry>` (as typed: relative or absolute,
/// the entry itself or one of its seed folders). Of several such rows (memory layouts),
/// the fastest wins: each model is reported in the layout that suits it.
pub fn find<'a>(rows: &'a [Latency], entry_dir: &Path, batch: i64) -> Option<&'a Latency> {
    let tail: Vec<_> = entry_dir.components().rev().take(2).collect();
    if tail.len() < 2 {
        return None;
    }
    let (entry, setting) = (tail[0], tail[1]);
    rows.iter()
        .filter(|r| {
            r.batch == batch
                && Path::new(&r.model_dir)
                    .components()
                    .collect::<Vec<_>>()
                    .windows(2)
                    .any(|w| w[0] == setting && w[1] == entry)
        })
        .min_by(|a, b| a.median_ms.total_cmp(&b.median_ms))
}
