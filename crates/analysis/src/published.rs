//! Published reference numbers (`paper/published.csv`), each with its citation.
use std::path::Path;

use serde::Deserialize;

use crate::error::Result;

/// One published result. Accuracies in percent; counts as printed in the paper.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PublishedRow {
    pub setting: String,
    pub method: String,
    pub top1: Option<f64>,
    pub top5: Option<f64>,
    pub miou: Option<f64>,
    /// Segmentation: pixel accuracy (%).
    #[serde(default)]
    pub pixel_acc: Option<f64>,
    pub params: Option<u64>,
    pub params_pruned_pct: Option<f64>,
    pub macs: Option<u64>,
    pub macs_pruned_pct: Option<f64>,
    pub citation: String,
    /// `yes` when checked against the paper's table, `recalled` otherwise.
    pub verified: String,
}

impl PublishedRow {
    /// Rows naming an unpruned model are the reference of their citation's deltas.
    pub fn is_unpruned(&self) -> bool {
        self.method.starts_with("unpruned")
    }
}

/// Reads `published.csv`.
pub fn read_published(path: &Path) -> Result<Vec<PublishedRow>> {
    crate::error::read_csv(path)
}
