//! `summary.json`: what a finished run measured. Its schema is versioned; `report`
//! reads it (see `docs/run-records.md`).
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// Current schema version of [`Summary`].
pub const SUMMARY_SCHEMA: u32 = 1;

/// Test-set result of a model. Accuracies in percent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    pub top1: f64,
    pub top5: f64,
    pub loss: f64,
    pub images: usize,
}

/// The record of one finished training run (one seed of one spec).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub schema_version: u32,
    pub spec_name: String,
    /// Hash of the resolved spec's identity fields and the seed (the run directory name).
    pub run_key: String,
    pub seed: u64,
    pub method: String,
    pub model: models::ModelConfig,
    pub params: u64,
    pub macs: u64,
    pub input_hw: [i64; 2],
    pub dataset_source: String,
    pub train_images: usize,
    pub val_images: usize,
    pub epochs: usize,
    /// Learning-rate schedule label, e.g. `cosine-50ep`.
    pub schedule: String,
    pub test: TestResult,
    pub final_val_top1: Option<f64>,
    pub mean_epoch_seconds: f64,
    pub mean_images_per_second: f64,
    pub total_train_seconds: f64,
    pub device: String,
    pub threads: i32,
    /// Present for pruning runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pruning: Option<PruningRecord>,
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
    /// `c2s2`, `l1_norm`, `random` or `scratch`.
    pub method: String,
    /// The method's options as used (defaults filled in).
    pub options: serde_json::Value,
    /// The starting model: widths, counts, test result (absent for scratch).
    pub start_model: models::ModelConfig,
    pub start_params: u64,
    pub start_macs: u64,
    pub start_test: Option<TestResult>,
    /// Test result right after selection / channel removal, before the final fine-tune.
    pub after_selection_test: Option<TestResult>,
    pub layers: Vec<LayerWidth>,
    pub selection_seconds: f64,
    pub finetune_seconds: f64,
    /// Method-specific log (for C2S2: lambda, attempts and validation accuracies per layer).
    pub report: serde_json::Value,
}

impl Summary {
    /// Reads a summary, refusing other schema versions with a message naming the file.
    pub fn read(path: &Path) -> Result<Summary> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let v: serde_json::Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        match v.get("schema_version").and_then(|s| s.as_u64()) {
            Some(n) if n == SUMMARY_SCHEMA as u64 => {}
            Some(n) => bail!(
                "{}: schema_version {n} is not supported (this build reads {SUMMARY_SCHEMA})",
                path.display()
            ),
            None => bail!("{}: missing field `schema_version`", path.display()),
        }
        serde_json::from_value(v).with_context(|| {
            format!(
                "{}: does not match summary schema {SUMMARY_SCHEMA}",
                path.display()
            )
        })
    }

    /// Writes the summary atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self)?;
        crate::run::write_atomic(path, &json)
    }
}
