//! The small results table printed (and written) after a run.
use std::fmt::Write;

use crate::summary::Summary;

/// A Markdown table with one row per seed and a mean row when there are several.
pub fn markdown(summaries: &[Summary]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| spec | seed | schedule | test top-1 % | top-5 % | params | MACs | s/epoch | img/s |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    for r in summaries {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.2} | {:.2} | {} | {} | {:.1} | {:.0} |",
            r.spec_name,
            r.seed,
            r.schedule,
            r.test.top1,
            r.test.top5,
            r.params,
            r.macs,
            r.mean_epoch_seconds,
            r.mean_images_per_second
        );
    }
    if summaries.len() > 1 {
        let n = summaries.len() as f64;
        let mean = summaries.iter().map(|r| r.test.top1).sum::<f64>() / n;
        let sd = (summaries
            .iter()
            .map(|r| (r.test.top1 - mean).powi(2))
            .sum::<f64>()
            / (n - 1.0))
            .sqrt();
        let _ = writeln!(
            s,
            "| mean ± sd | {} seeds | | {mean:.2} ± {sd:.2} | | | | | |",
            summaries.len()
        );
    }
    s
}
