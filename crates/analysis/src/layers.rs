//! Per-layer widths of the pruned models (the thesis's appendices A-C):
//! `method,layer,channels,kept,kept_pct`, in network order within each method.
use polars::prelude::*;

use crate::collect::Entry;

/// One prunable layer of one pruned model.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerRow {
    pub method: String,
    pub layer: String,
    pub channels: i64,
    pub kept: i64,
}

/// Rows for every pruned entry (seeds kept apart: their widths may differ).
pub fn layer_rows(entries: &[Entry]) -> Vec<LayerRow> {
    let mut rows = Vec::new();
    for e in entries {
        for r in &e.runs {
            let Some(p) = &r.summary.pruning else {
                continue;
            };
            let method = if e.runs.len() > 1 {
                format!("{} seed {}", e.label, r.summary.seed)
            } else {
                e.label.clone()
            };
            rows.extend(p.layers.iter().map(|l| LayerRow {
                method: method.clone(),
                layer: l.layer.clone(),
                channels: l.channels,
                kept: l.kept,
            }));
        }
    }
    rows
}

/// The rows as a frame (order kept: entries sorted by folder, layers in network order).
pub fn to_frame(rows: &[LayerRow]) -> PolarsResult<DataFrame> {
    df!(
        "method" => rows.iter().map(|r| r.method.clone()).collect::<Vec<_>>(),
        "layer" => rows.iter().map(|r| r.layer.clone()).collect::<Vec<_>>(),
        "channels" => rows.iter().map(|r| r.channels).collect::<Vec<_>>(),
        "kept" => rows.iter().map(|r| r.kept).collect::<Vec<_>>(),
        "kept_pct" => rows
            .iter()
            .map(|r| 100.0 * r.kept as f64 / r.channels.max(1) as f64)
            .collect::<Vec<_>>(),
    )
}
