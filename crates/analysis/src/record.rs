//! Run records: the files a finished run leaves in its directory, as `report` reads them.
//! The schema is versioned (`docs/run-records.md`); a record of another version, or one
//! with a field missing, is refused with a message naming the file and the field.
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{write_atomic, AnalysisError, Result};

/// Current schema version of [`Summary`].
pub const SUMMARY_SCHEMA: u32 = 1;

/// Test-set result of a model. Accuracies in percent. Segmentation models record
/// `miou` and `pixel_acc` (and the pixel accuracy in `top1` and `top5` too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    pub top1: f64,
    pub top5: f64,
    pub loss: f64,
    pub images: usize,
    /// Mean intersection over union (segmentation only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub miou: Option<f64>,
    /// Pixel accuracy (segmentation only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pixel_acc: Option<f64>,
}

impl TestResult {
    /// Whether this is a segmentation result.
    pub fn is_segmentation(&self) -> bool {
        self.miou.is_some()
    }
}

/// The record of one finished run (one seed of one spec): `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub schema_version: u32,
    pub spec_name: String,
    /// Hash of the resolved spec's identity fields and the seed (the run directory name).
    pub run_key: String,
    pub seed: u64,
    /// `unpruned` for plain training, else the pruning method.
    pub method: String,
    /// Width configuration of the final model (`{"arch": ..., widths}`); opaque here so
    /// that this crate needs no libtorch — `models::ModelConfig` reads it.
    pub model: serde_json::Value,
    /// Trainable parameters of the final model.
    pub params: u64,
    /// Multiply-accumulates of conv + linear layers at `input_hw`.
    pub macs: u64,
    pub input_hw: [i64; 2],
    pub dataset_source: String,
    pub train_images: usize,
    pub val_images: usize,
    pub epochs: usize,
    /// Learning-rate schedule label, e.g. `cosine-60ep`.
    pub schedule: String,
    pub test: TestResult,
    pub final_val_top1: Option<f64>,
    pub mean_epoch_seconds: f64,
    pub mean_images_per_second: f64,
    pub total_train_seconds: f64,
    pub device: String,
    pub threads: i32,
    /// The machine the run finished on and when; absent in records written before
    /// 2026-12-07 (their machine is named in `docs/machines.md` where it is known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<Host>,
    /// Present for pruning runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pruning: Option<PruningRecord>,
}

/// Where and when a run finished: what a timing in the record needs beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// The CPU's model name as `/proc/cpuinfo` (and `lscpu`) gives it; `unknown` where
    /// the system does not say.
    pub cpu_model: String,
    /// The vector extensions libtorch's CPU kernels choose between that the CPU has
    /// (of `avx2`, `avx512f`, `avx512_vnni`, `avx512_bf16`, `avx512_fp16`, `amx_tile`):
    /// machines with one model name differ here, and so do their timings.
    #[serde(default)]
    pub cpu_simd: Vec<String>,
    /// Logical CPUs available to the process.
    pub cpus: usize,
    /// UTC time the record was written, RFC 3339 (`2026-12-07T04:10:00Z`).
    pub finished_utc: String,
}

/// Channels of one prunable layer before and after pruning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerWidth {
    pub layer: String,
    pub channels: i64,
    pub kept: i64,
}

/// What a pruning run did, beyond the final model's numbers in [`Summary`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PruningRecord {
    /// `c2s2`, `l1_norm`, `slimming`, `random` or `scratch`.
    pub method: String,
    /// The method's options as used (defaults filled in).
    pub options: serde_json::Value,
    /// The starting model's width configuration, counts and test result (no test
    /// result for scratch).
    pub start_model: serde_json::Value,
    pub start_params: u64,
    pub start_macs: u64,
    pub start_test: Option<TestResult>,
    /// Test result right after selection / channel removal, before the final fine-tune.
    pub after_selection_test: Option<TestResult>,
    pub layers: Vec<LayerWidth>,
    /// Seconds spent selecting channels (C2S2's phases 1 and 2, sparsity training, ...).
    pub selection_seconds: f64,
    /// Seconds of the final fine-tune (or of the whole training for scratch).
    pub finetune_seconds: f64,
    /// Method-specific log (for C2S2: lambda, attempts and validation accuracies per layer).
    pub report: serde_json::Value,
}

impl Summary {
    /// Reads `summary.json`, refusing other schema versions and records with missing or
    /// mistyped fields, naming the file (and the field).
    pub fn read(path: &Path) -> Result<Summary> {
        let bytes = std::fs::read(path).map_err(|e| AnalysisError::io(path, e))?;
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|source| AnalysisError::Json {
                path: path.into(),
                source,
            })?;
        let schema = |message: String| AnalysisError::Schema {
            path: path.into(),
            message,
        };
        match v.get("schema_version").and_then(|s| s.as_u64()) {
            Some(n) if n == u64::from(SUMMARY_SCHEMA) => {}
            Some(n) => {
                return Err(schema(format!(
                    "schema_version {n} is not supported (this build reads {SUMMARY_SCHEMA})"
                )))
            }
            None => return Err(schema("missing field `schema_version`".into())),
        }
        serde_json::from_value(v).map_err(|e| {
            schema(format!(
                "does not match run-record schema {SUMMARY_SCHEMA}: {e}"
            ))
        })
    }

    /// Writes the summary atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(|source| AnalysisError::Json {
            path: path.into(),
            source,
        })?;
        write_atomic(path, &json)
    }

    /// Percent of the starting model's MACs removed (pruning runs only).
    pub fn macs_pruned_pct(&self) -> Option<f64> {
        self.pruning
            .as_ref()
            .map(|p| pct_removed(p.start_macs, self.macs))
    }

    /// Percent of the starting model's parameters removed (pruning runs only).
    pub fn params_pruned_pct(&self) -> Option<f64> {
        self.pruning
            .as_ref()
            .map(|p| pct_removed(p.start_params, self.params))
    }

    /// Whether the accuracies were measured on an image-folder copy of the data set (for
    /// CIFAR-10 here, the JPEG q75 re-encoding), which tables must say.
    pub fn on_image_folder(&self) -> bool {
        self.dataset_source.contains("image folder")
    }
}

/// `100 * (1 - after / before)`.
pub fn pct_removed(before: u64, after: u64) -> f64 {
    100.0 * (1.0 - after as f64 / before.max(1) as f64)
}

/// One row of a run's `metrics.csv` (one finished epoch), as the trainer writes it.
pub use records::EpochMetrics;

/// Reads a `metrics.csv`.
pub fn read_metrics(path: &Path) -> Result<Vec<EpochMetrics>> {
    crate::error::read_csv(path)
}
