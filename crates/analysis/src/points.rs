//! Operating points: which C2S2 entry of a setting each baseline entry is matched to,
//! read from the records themselves (the same kept widths as one of that entry's runs,
//! or a MACs budget equal to what one of them removed), and the paired differences of
//! each baseline to its C2S2 point over the seeds both ran.
use crate::collect::Entry;
use crate::record::Summary;

/// MACs removed by a pruning run, in percent of its start model's, at the hundredths a
/// matched budget is written with (`macs_from` fills in this value).
fn macs_removed_hundredths(s: &Summary) -> Option<f64> {
    let p = s.pruning.as_ref()?;
    (p.start_macs > 0)
        .then(|| (100.0 * (1.0 - s.macs as f64 / p.start_macs as f64) * 100.0).round() / 100.0)
}

fn kept(s: &Summary) -> Option<Vec<i64>> {
    let p = s.pruning.as_ref()?;
    (!p.layers.is_empty()).then(|| p.layers.iter().map(|l| l.kept).collect())
}

/// The MACs budget a run was sized to (`macs_pruned_pct` of Network Slimming's or
/// uniform L1-norm's options), if any.
fn macs_budget(s: &Summary) -> Option<f64> {
    s.pruning.as_ref()?.options.get("macs_pruned_pct")?.as_f64()
}

/// For every entry, the index of the C2S2 entry it belongs to: a C2S2 entry belongs to
/// itself; a baseline to the C2S2 entry one of whose runs has the same kept widths as
/// its first run, or removed the MACs share its first run was sized to. `None`: the
/// unpruned model, and baselines sized by their own budget.
pub fn operating_points(entries: &[Entry]) -> Vec<Option<usize>> {
    let c2s2: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].method() == "c2s2")
        .collect();
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            if e.method() == "c2s2" {
                return Some(i);
            }
            if e.is_unpruned() {
                return None;
            }
            let first = &e.runs[0].summary;
            if let Some(budget) = macs_budget(first) {
                return c2s2.iter().copied().find(|&j| {
                    entries[j].runs.iter().any(|r| {
                        macs_removed_hundredths(&r.summary)
                            .is_some_and(|m| (m - budget).abs() < 0.005)
                    })
                });
            }
            let widths = kept(first)?;
            c2s2.iter().copied().find(|&j| {
                entries[j]
                    .runs
                    .iter()
                    .any(|r| kept(&r.summary).as_ref() == Some(&widths))
            })
        })
        .collect()
}

/// Two-sided 95% quantiles of Student's t for 1..=30 degrees of freedom.
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// t quantile for a 95% interval with `df` degrees of freedom (the normal's beyond 30).
fn t_975(df: usize) -> f64 {
    T_975.get(df.wrapping_sub(1)).copied().unwrap_or(1.960)
}

/// A baseline's top-1 minus C2S2's at its operating point, over the seeds both ran.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedDifference {
    /// The baseline's and the C2S2 point's table labels and folders.
    pub baseline: String,
    pub c2s2: String,
    pub point: String,
    /// The seeds both ran.
    pub seeds: Vec<u64>,
    /// Mean of the differences, points of top-1 (positive: the baseline is better).
    pub mean: f64,
    /// Half-width of the 95% t interval (`None` with a single pair).
    pub half_width: Option<f64>,
}

impl PairedDifference {
    /// The note line under a table.
    pub fn sentence(&self) -> String {
        let seeds: Vec<String> = self.seeds.iter().map(u64::to_string).collect();
        match self.half_width {
            Some(h) => format!(
                "{} minus {} at point {}: {:+.2} points of top-1, 95% interval [{:+.2}, {:+.2}] over {} paired seeds ({}){}.",
                self.baseline,
                self.c2s2,
                self.point,
                self.mean,
                self.mean - h,
                self.mean + h,
                self.seeds.len(),
                seeds.join(", "),
                if self.mean - h > 0.0 {
                    ": the baseline is better"
                } else if self.mean + h < 0.0 {
                    ": C2S2 is better"
                } else {
                    ": no difference resolved"
                }
            ),
            None => format!(
                "{} minus {} at point {}: {:+.2} points of top-1 on seed {} alone (one pair: no interval).",
                self.baseline, self.c2s2, self.point, self.mean, seeds.join(", ")
            ),
        }
    }
}

fn top1_by_seed(e: &Entry) -> Vec<(u64, f64)> {
    e.runs
        .iter()
        .filter(|r| !r.summary.test.is_segmentation())
        .map(|r| (r.summary.seed, r.summary.test.top1))
        .collect()
}

/// The paired difference of every matched baseline entry to its C2S2 entry.
pub fn paired_differences(entries: &[Entry], points: &[Option<usize>]) -> Vec<PairedDifference> {
    let mut out = Vec::new();
    for (e, p) in entries.iter().zip(points) {
        let Some(j) = *p else { continue };
        let c = &entries[j];
        if std::ptr::eq(e, c) {
            continue;
        }
        let theirs = top1_by_seed(c);
        let pairs: Vec<(u64, f64)> = top1_by_seed(e)
            .into_iter()
            .filter_map(|(s, b)| {
                let (_, t) = theirs.iter().find(|(ts, _)| *ts == s)?;
                Some((s, b - t))
            })
            .collect();
        if pairs.is_empty() {
            continue;
        }
        let n = pairs.len() as f64;
        let mean = pairs.iter().map(|p| p.1).sum::<f64>() / n;
        let half_width = (pairs.len() > 1).then(|| {
            let var = pairs.iter().map(|p| (p.1 - mean).powi(2)).sum::<f64>() / (n - 1.0);
            t_975(pairs.len() - 1) * (var / n).sqrt()
        });
        out.push(PairedDifference {
            baseline: e.label.clone(),
            c2s2: c.label.clone(),
            point: c.name.clone(),
            seeds: pairs.iter().map(|p| p.0).collect(),
            mean,
            half_width,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_fall_towards_the_normal() {
        assert_eq!(t_975(1), 12.706);
        assert_eq!(t_975(2), 4.303);
        assert_eq!(t_975(30), 2.042);
        assert_eq!(t_975(200), 1.960);
    }

    #[test]
    fn sentences_say_which_side_the_interval_lies_on() {
        let d = |mean, half_width| PairedDifference {
            baseline: "L1-norm".into(),
            c2s2: "C2S2".into(),
            point: "c2s2-tol4".into(),
            seeds: vec![0, 1, 2],
            mean,
            half_width,
        };
        assert!(d(-1.0, Some(0.5)).sentence().contains("C2S2 is better"));
        assert!(d(1.0, Some(0.5))
            .sentence()
            .contains("the baseline is better"));
        let s = d(-0.2, Some(0.5)).sentence();
        assert!(
            s.contains("[-0.70, +0.30]") && s.contains("no difference resolved"),
            "{s}"
        );
        assert!(d(0.3, None).sentence().contains("no interval"));
    }
}
