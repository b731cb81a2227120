//! The small results table printed (and written) after a run.
use std::fmt::Write;

use analysis::record::pct_removed;

use crate::summary::{Summary, TestResult};

/// The two accuracies a row shows: top-1 and top-5, or for segmentation mean IU and
/// pixel accuracy.
fn headline(t: &TestResult) -> (f64, f64) {
    match (t.miou, t.pixel_acc) {
        (Some(m), Some(p)) => (m, p),
        _ => (t.top1, t.top5),
    }
}

/// A Markdown table with one row per seed and a mean row when there are several.
pub fn markdown(summaries: &[Summary]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "| spec | method | seed | schedule | start top-1 % | after selection % | test top-1 % (seg.: mean IU) | top-5 % (seg.: pixel acc.) | params | params pruned % | MACs | MACs pruned % | s/epoch |");
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in summaries {
        let p = r.pruning.as_ref();
        let opt = |v: Option<f64>| v.map_or("".to_string(), |v| format!("{v:.2}"));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {} | {} | {} | {} | {:.1} |",
            r.spec_name,
            r.method,
            r.seed,
            r.schedule,
            opt(p.and_then(|p| p.start_test.as_ref()).map(|t| headline(t).0)),
            opt(p
                .and_then(|p| p.after_selection_test.as_ref())
                .map(|t| headline(t).0)),
            headline(&r.test).0,
            headline(&r.test).1,
            r.params,
            opt(p.map(|p| pct_removed(p.start_params, r.params))),
            r.macs,
            opt(p.map(|p| pct_removed(p.start_macs, r.macs))),
            r.mean_epoch_seconds,
        );
    }
    if summaries.len() > 1 {
        let n = summaries.len() as f64;
        let mean = summaries.iter().map(|r| headline(&r.test).0).sum::<f64>() / n;
        let sd = (summaries
            .iter()
            .map(|r| (headline(&r.test).0 - mean).powi(2))
            .sum::<f64>()
            / (n - 1.0))
            .sqrt();
        let _ = writeln!(
            s,
            "| mean ± sd | | {} seeds | | | | {mean:.2} ± {sd:.2} | | | | | | |",
            summaries.len()
        );
    }
    s
}
