//! The accuracy-cost curves of a setting, from its table rows: accuracy change against
//! the unpruned model (y) versus MACs removed, parameters removed, or measured speed-up
//! (x); a line per method through its operating points, error bars over seeds, the
//! published points (their own deltas) beside them.
use std::collections::BTreeMap;

use crate::plots::{CurvePoint, PublishedPoint, Series, Tradeoff};
use crate::setting::{Metric, Setting};
use crate::table::TableRow;

/// The cost axis of a curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostAxis {
    MacsRemoved,
    ParamsRemoved,
    /// Measured latency speed-up over the unpruned model (no published points).
    Speedup,
}

impl CostAxis {
    /// The plot's file stem under `plots/`.
    pub fn stem(self) -> &'static str {
        match self {
            CostAxis::MacsRemoved => "accuracy_vs_macs",
            CostAxis::ParamsRemoved => "accuracy_vs_params",
            CostAxis::Speedup => "accuracy_vs_speedup",
        }
    }

    fn label(self) -> &'static str {
        match self {
            CostAxis::MacsRemoved => "MACs removed (%)",
            CostAxis::ParamsRemoved => "parameters removed (%)",
            CostAxis::Speedup => "measured speed-up over the unpruned model (x)",
        }
    }

    fn x(self, r: &TableRow) -> Option<f64> {
        match self {
            CostAxis::MacsRemoved => r.macs_pruned_pct,
            CostAxis::ParamsRemoved => r.params_pruned_pct,
            CostAxis::Speedup => r.speedup,
        }
    }
}

fn metric(s: &Setting, r: &TableRow) -> Option<f64> {
    match s.metric {
        Metric::Top1 => r.top1,
        Metric::MeanIou => r.miou,
    }
}

/// The curve of `rows` on `axis`; `None` when no pruned measured row has both values.
pub fn tradeoff(s: &Setting, rows: &[TableRow], axis: CostAxis) -> Option<Tradeoff> {
    let measured = |r: &&TableRow| r.source == "measured";
    let base = rows
        .iter()
        .filter(measured)
        .find(|r| r.unpruned)
        .and_then(|r| metric(s, r))?;
    let mut by_label: BTreeMap<&str, Vec<CurvePoint>> = BTreeMap::new();
    for r in rows.iter().filter(measured).filter(|r| !r.unpruned) {
        let (Some(x), Some(m)) = (axis.x(r), metric(s, r)) else {
            continue;
        };
        let y_sd = match s.metric {
            Metric::Top1 => r.top1_std,
            Metric::MeanIou => None,
        };
        by_label.entry(&r.method).or_default().push(CurvePoint {
            x,
            y: m - base,
            y_sd,
        });
    }
    if by_label.is_empty() {
        return None;
    }
    let published = match axis {
        CostAxis::Speedup => Vec::new(),
        _ => rows
            .iter()
            .filter(|r| r.source == "published" && !r.unpruned)
            .filter_map(|r| {
                Some(PublishedPoint {
                    label: r.method.clone(),
                    x: axis.x(r)?,
                    y: r.top1_delta?,
                })
            })
            .collect(),
    };
    let what = match s.metric {
        Metric::Top1 => "top-1",
        Metric::MeanIou => "mean IU",
    };
    Some(Tradeoff {
        title: format!("{}: {what} change vs {}", s.title, axis.label()),
        x_label: axis.label().into(),
        y_label: format!("{what} change against the unpruned model (points)"),
        series: by_label
            .into_iter()
            .map(|(label, points)| Series {
                label: label.to_string(),
                points,
            })
            .collect(),
        published,
        x_origin: if axis == CostAxis::Speedup { 1.0 } else { 0.0 },
    })
}
