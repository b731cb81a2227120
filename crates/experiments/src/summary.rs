//! `summary.json`: the run-record schema lives in the `analysis` crate (so `report`
//! reads it without libtorch; see `docs/run-records.md`); this module fills it in from
//! a finished run.
use anyhow::Result;
use models::ModelConfig;
use tch::Device;

pub use analysis::record::{LayerWidth, PruningRecord, Summary, TestResult, SUMMARY_SCHEMA};

use crate::data::DataSplits;
use crate::host::this_host;
use crate::resolve::schedule_label;
use crate::run_key::run_key;
use crate::spec::Spec;

/// A test-set evaluation as recorded.
pub fn test_result(r: engine::EvalResult) -> TestResult {
    TestResult {
        top1: r.top1,
        top5: r.top5,
        loss: r.loss,
        images: r.images,
        miou: r.segmentation.map(|m| m.mean_iou),
        pixel_acc: r.segmentation.map(|m| m.pixel_acc),
    }
}

/// What every finished run (training or pruning) records.
pub struct FinishedRun<'a> {
    pub spec: &'a Spec,
    pub seed: u64,
    /// The final model's widths.
    pub model: &'a ModelConfig,
    pub data: &'a DataSplits,
    /// Per-epoch metrics of the (final) training.
    pub history: &'a [engine::EpochMetrics],
    pub test: TestResult,
    pub device: Device,
}

impl FinishedRun<'_> {
    /// The record, with `method` (`unpruned` for plain training) and the pruning part.
    pub fn summary(self, method: &str, pruning: Option<PruningRecord>) -> Result<Summary> {
        let hw = self.model.default_input_hw();
        let cost = self.model.cost(hw);
        let h = self.history;
        let n = h.len().max(1) as f64;
        Ok(Summary {
            schema_version: SUMMARY_SCHEMA,
            spec_name: self.spec.name.clone(),
            run_key: run_key(self.spec, self.seed),
            seed: self.seed,
            method: method.into(),
            model: serde_json::to_value(self.model)?,
            params: cost.params(),
            macs: cost.macs(),
            input_hw: [hw.0, hw.1],
            dataset_source: self.data.source.clone(),
            train_images: self.data.train.len(),
            val_images: self.data.val().map_or(0, |v| v.len()),
            epochs: h.len(),
            schedule: schedule_label(self.spec),
            test: self.test,
            final_val_top1: h.last().and_then(|m| m.val_top1),
            mean_epoch_seconds: h.iter().map(|m| m.train_seconds).sum::<f64>() / n,
            mean_images_per_second: h.iter().map(|m| m.images_per_second).sum::<f64>() / n,
            total_train_seconds: h.iter().map(|m| m.train_seconds).sum(),
            device: format!("{:?}", self.device),
            threads: tch::get_num_threads(),
            host: Some(this_host()),
            pruning,
        })
    }
}
