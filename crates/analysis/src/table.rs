//! The results table of a setting: one row per method, measured and published, in the
//! columns the thesis's tables use. Seeds are aggregated with polars (mean, sample
//! standard deviation); rows are sorted so the same records give the same bytes.
use std::path::Path;

use polars::prelude::*;

use crate::collect::Entry;
use crate::error::{AnalysisError, Result};
use crate::latency::{self, Latency};
use crate::published::PublishedRow;
use crate::record::pct_removed;

/// The columns of `table.csv`, in order.
pub const TABLE_COLUMNS: [&str; 18] = [
    "method",
    "point",
    "source",
    "schedule",
    "seeds",
    "top1",
    "top1_std",
    "top1_delta",
    "top5",
    "miou",
    "pixel_acc",
    "params",
    "params_pruned_pct",
    "macs",
    "macs_pruned_pct",
    "latency_ms",
    "speedup",
    "citation",
];

/// Batch size whose latency the table reports.
pub const TABLE_LATENCY_BATCH: i64 = 128;

/// One row of a results table; `None` where a value does not apply or was not measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableRow {
    pub method: String,
    /// The operating point: the folder of the C2S2 entry the row is matched to (by
    /// widths or MACs budget; [`crate::points`]), its own for a C2S2 row.
    pub point: Option<String>,
    /// Used for sorting only: MACs removed (%) at the row's point.
    pub point_macs_pct: Option<f64>,
    /// `measured` or `published`.
    pub source: String,
    pub schedule: Option<String>,
    pub seeds: Option<u32>,
    /// Accuracies in percent.
    pub top1: Option<f64>,
    pub top1_std: Option<f64>,
    pub top1_delta: Option<f64>,
    pub top5: Option<f64>,
    pub miou: Option<f64>,
    pub pixel_acc: Option<f64>,
    pub params: Option<u64>,
    pub params_pruned_pct: Option<f64>,
    pub macs: Option<u64>,
    pub macs_pruned_pct: Option<f64>,
    /// Median forward latency (ms) at [`TABLE_LATENCY_BATCH`].
    pub latency_ms: Option<f64>,
    /// Unpruned latency / this latency, from the same measurement run.
    pub speedup: Option<f64>,
    pub citation: Option<String>,
    /// Used for sorting only: unpruned rows lead their source.
    pub unpruned: bool,
}

fn table_err(table: &str) -> impl Fn(PolarsError) -> AnalysisError + '_ {
    move |source| AnalysisError::Table {
        table: table.into(),
        source,
    }
}

/// Mean and sample standard deviation of the seeds of every entry, computed with polars
/// over a long frame (one row per seed): counts are averaged too, since seeds of C2S2 may
/// keep different widths. Returns one frame per entry, in entry order.
fn aggregate_seeds(entries: &[Entry]) -> PolarsResult<Vec<SeedStats>> {
    let mut entry = Vec::new();
    let (mut top1, mut top5) = (Vec::new(), Vec::new());
    let (mut miou, mut pixel_acc) = (Vec::new(), Vec::new());
    let (mut params, mut macs) = (Vec::new(), Vec::new());
    let (mut params_pct, mut macs_pct) = (Vec::new(), Vec::new());
    for (i, e) in entries.iter().enumerate() {
        for r in &e.runs {
            let s = &r.summary;
            entry.push(i as u32);
            // Segmentation: pixel accuracy and mean IU instead of top-1 / top-5.
            let seg = s.test.is_segmentation();
            top1.push((!seg).then_some(s.test.top1));
            top5.push((!seg).then_some(s.test.top5));
            miou.push(s.test.miou);
            pixel_acc.push(s.test.pixel_acc);
            params.push(s.params as f64);
            macs.push(s.macs as f64);
            params_pct.push(s.params_pruned_pct());
            macs_pct.push(s.macs_pruned_pct());
        }
    }
    let long = df!(
        "entry" => entry,
        "top1" => top1,
        "top5" => top5,
        "miou" => miou,
        "pixel_acc" => pixel_acc,
        "params" => params,
        "macs" => macs,
        "params_pruned_pct" => params_pct,
        "macs_pruned_pct" => macs_pct,
    )?;
    let mut out = Vec::new();
    for part in long.partition_by_stable(["entry"], true)? {
        let f = |name: &str| -> PolarsResult<Float64Chunked> {
            Ok(part.column(name)?.as_materialized_series().f64()?.clone())
        };
        out.push(SeedStats {
            seeds: part.height() as u32,
            top1: f("top1")?.mean(),
            top1_std: f("top1")?.std(1),
            top5: f("top5")?.mean(),
            miou: f("miou")?.mean(),
            pixel_acc: f("pixel_acc")?.mean(),
            params: f("params")?.mean(),
            macs: f("macs")?.mean(),
            params_pruned_pct: f("params_pruned_pct")?.mean(),
            macs_pruned_pct: f("macs_pruned_pct")?.mean(),
        });
    }
    Ok(out)
}

/// Seed statistics of one entry.
struct SeedStats {
    seeds: u32,
    top1: Option<f64>,
    top1_std: Option<f64>,
    top5: Option<f64>,
    miou: Option<f64>,
    pixel_acc: Option<f64>,
    params: Option<f64>,
    macs: Option<f64>,
    params_pruned_pct: Option<f64>,
    macs_pruned_pct: Option<f64>,
}

/// What the schedule column says: device and budget, e.g. `cpu-cosine-60ep`, and
/// `cpu-ft-cosine-15ep` for the fine-tune of a pruning method.
fn schedule_label(e: &Entry) -> String {
    let s = &e.runs[0].summary;
    let device = s.device.to_lowercase();
    let device = device.split('(').next().unwrap_or("?");
    match s.pruning.as_ref().map(|p| p.method.as_str()) {
        Some("scratch") | None => format!("{device}-{}", s.schedule),
        Some(_) => format!("{device}-ft-{}", s.schedule),
    }
}

/// The measured rows: one per entry, seeds aggregated; latency from `latencies`.
pub fn measured_rows(entries: &[Entry], latencies: &[Latency]) -> Result<Vec<TableRow>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let stats = aggregate_seeds(entries).map_err(table_err("measured runs"))?;
    let points = crate::points::operating_points(entries);
    let lat = |e: &Entry| latency::find(latencies, &e.dir, TABLE_LATENCY_BATCH);
    let unpruned_latency = entries.iter().find(|e| e.is_unpruned()).and_then(lat);
    let mut rows = Vec::new();
    let point_pct: Vec<Option<f64>> = stats.iter().map(|st| st.macs_pruned_pct).collect();
    for ((e, st), point) in entries.iter().zip(stats).zip(&points) {
        let own_latency = lat(e);
        let speedup = match (unpruned_latency, own_latency) {
            (Some(u), Some(o)) if o.median_ms > 0.0 => Some(u.median_ms / o.median_ms),
            _ => None,
        };
        rows.push(TableRow {
            method: e.label.clone(),
            point: point.map(|j| entries[j].name.clone()),
            point_macs_pct: point.and_then(|j| point_pct[j]),
            source: "measured".into(),
            schedule: Some(schedule_label(e)),
            seeds: Some(st.seeds),
            top1: st.top1,
            top1_std: if st.seeds > 1 { st.top1_std } else { None },
            top1_delta: None,
            top5: st.top5,
            miou: st.miou,
            pixel_acc: st.pixel_acc,
            params: st.params.map(|v| v.round() as u64),
            params_pruned_pct: st.params_pruned_pct,
            macs: st.macs.map(|v| v.round() as u64),
            macs_pruned_pct: st.macs_pruned_pct,
            latency_ms: own_latency.map(|l| l.median_ms),
            speedup,
            citation: None,
            unpruned: e.is_unpruned(),
        });
    }
    // Deltas against the unpruned model measured here.
    if let Some(base) = rows.iter().find(|r| r.unpruned).and_then(|r| r.top1) {
        for r in rows.iter_mut().filter(|r| !r.unpruned) {
            r.top1_delta = r.top1.map(|t| t - base);
        }
    }
    Ok(rows)
}

/// The published rows of a setting; deltas against the unpruned row of the same citation.
pub fn published_rows(published: &[PublishedRow], setting: &str) -> Vec<TableRow> {
    let rows: Vec<&PublishedRow> = published.iter().filter(|p| p.setting == setting).collect();
    rows.iter()
        .map(|p| {
            let base = rows
                .iter()
                .find(|b| b.is_unpruned() && b.citation == p.citation)
                .and_then(|b| b.top1);
            let params_pct = p.params_pruned_pct.or_else(|| {
                let b = rows
                    .iter()
                    .find(|b| b.is_unpruned() && b.citation == p.citation)?;
                Some(pct_removed(b.params?, p.params?))
            });
            TableRow {
                method: p.method.clone(),
                source: "published".into(),
                schedule: Some("paper".into()),
                top1: p.top1,
                top1_delta: match (p.is_unpruned(), p.top1, base) {
                    (false, Some(t), Some(b)) => Some(t - b),
                    _ => None,
                },
                top5: p.top5,
                miou: p.miou,
                pixel_acc: p.pixel_acc,
                params: p.params,
                params_pruned_pct: if p.is_unpruned() { None } else { params_pct },
                macs: p.macs,
                macs_pruned_pct: p.macs_pruned_pct,
                citation: Some(if p.verified == "yes" {
                    p.citation.clone()
                } else {
                    format!(
                        "{} [{}, not checked against the paper]",
                        p.citation, p.verified
                    )
                }),
                unpruned: p.is_unpruned(),
                ..TableRow::default()
            }
        })
        .collect()
}

/// The table as a polars frame in [`TABLE_COLUMNS`] order, sorted: measured before
/// published, unpruned first within each, then by operating point (fewest MACs removed
/// first; C2S2's row leading the baselines matched to it), then by method name.
pub fn to_frame(rows: &[TableRow], table: &str) -> Result<DataFrame> {
    let s = |f: fn(&TableRow) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let fl = |f: fn(&TableRow) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
    let u = |f: fn(&TableRow) -> Option<u64>| rows.iter().map(f).collect::<Vec<_>>();
    let df = df!(
        "method" => s(|r| Some(r.method.clone())),
        "point" => s(|r| r.point.clone()),
        "source" => s(|r| Some(r.source.clone())),
        "schedule" => s(|r| r.schedule.clone()),
        "seeds" => rows.iter().map(|r| r.seeds).collect::<Vec<_>>(),
        "top1" => fl(|r| r.top1),
        "top1_std" => fl(|r| r.top1_std),
        "top1_delta" => fl(|r| r.top1_delta),
        "top5" => fl(|r| r.top5),
        "miou" => fl(|r| r.miou),
        "pixel_acc" => fl(|r| r.pixel_acc),
        "params" => u(|r| r.params),
        "params_pruned_pct" => fl(|r| r.params_pruned_pct),
        "macs" => u(|r| r.macs),
        "macs_pruned_pct" => fl(|r| r.macs_pruned_pct),
        "latency_ms" => fl(|r| r.latency_ms),
        "speedup" => fl(|r| r.speedup),
        "citation" => s(|r| r.citation.clone()),
        "_published" => rows.iter().map(|r| r.source != "measured").collect::<Vec<_>>(),
        "_pruned" => rows.iter().map(|r| !r.unpruned).collect::<Vec<_>>(),
        // Rows without a point after those with one.
        "_point_pct" => rows.iter().map(|r| r.point_macs_pct.unwrap_or(f64::MAX)).collect::<Vec<_>>(),
        "_point" => s(|r| Some(r.point.clone().unwrap_or_default())),
        "_not_c2s2" => rows.iter().map(|r| !r.method.starts_with("C2S2")).collect::<Vec<_>>(),
    )
    .map_err(table_err(table))?;
    let keys = [
        "_published",
        "_pruned",
        "_point_pct",
        "_point",
        "_not_c2s2",
        "method",
    ];
    df.sort(
        keys,
        SortMultipleOptions::default().with_maintain_order(true),
    )
    .map(|d| d.drop_many(keys[..5].iter().copied()))
    .map_err(table_err(table))
}

/// Writes `frame` as CSV with the same cell formats as the Markdown table (floats with 2
/// decimals, empty cells for missing values), atomically.
pub fn write_csv(frame: &DataFrame, path: &Path) -> Result<()> {
    let csv_err = |source| AnalysisError::Csv {
        path: path.into(),
        source,
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(frame.get_column_names().iter().map(|n| n.as_str()))
        .map_err(csv_err)?;
    for i in 0..frame.height() {
        let row = crate::markdown::row_cells(frame, i, false)
            .map_err(table_err(&path.display().to_string()))?;
        w.write_record(&row).map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| AnalysisError::io(path, e.into_error()))?;
    crate::error::write_atomic(path, &bytes)
}
