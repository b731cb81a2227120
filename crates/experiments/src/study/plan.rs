//! `experiments plan`: a study's runs, their states, and how long the remaining ones
//! should take on the chosen device, from the rates earlier run records of the same
//! model measured. Reads files only; starts nothing.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::graph::RunGraph;
use super::state::RunState;
use crate::run_progress::RunProgress;
use crate::spec::{DeviceSpec, Spec};
use crate::summary::Summary;

/// A recorded run whose rates an estimate can use.
#[derive(Debug, Clone)]
pub struct RateRecord {
    pub path: PathBuf,
    pub summary: Summary,
}

/// Every published record under `results` (`<setting>/<entry>/` and its `seed*/`).
pub fn rate_records(results: &Path) -> Vec<RateRecord> {
    let mut out = Vec::new();
    let dirs = |p: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(p)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    for setting in dirs(results) {
        for entry in dirs(&setting) {
            let mut candidates = vec![entry.clone()];
            candidates.extend(dirs(&entry));
            for d in candidates {
                let f = d.join("summary.json");
                if let Ok(summary) = Summary::read(&f) {
                    out.push(RateRecord { path: d, summary });
                }
            }
        }
    }
    out
}

/// The device class a spec computes on here: `"Cpu"` or `"Cuda"` (the prefix of the
/// recorded `device` field).
pub fn device_class(spec: &Spec) -> &'static str {
    match spec.device {
        DeviceSpec::Cpu => "Cpu",
        DeviceSpec::Cuda => "Cuda",
        DeviceSpec::Auto if tch::Cuda::is_available() => "Cuda",
        DeviceSpec::Auto => "Cpu",
    }
}

/// True when some run of `graph` computes on CUDA here.
pub fn uses_cuda(graph: &RunGraph) -> bool {
    (0..graph.nodes.len()).any(|i| {
        graph
            .spec_sketch(i)
            .is_ok_and(|s| device_class(&s) == "Cuda")
    })
}

/// The architecture of a model configuration as recorded (`arch` and depth).
fn arch_of(model: &serde_json::Value) -> (String, Option<u64>) {
    (
        model["arch"].as_str().unwrap_or("").to_string(),
        model["blocks_per_stage"].as_u64(),
    )
}

/// An estimate of a run's time, with the record it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub seconds: f64,
    pub from: PathBuf,
}

/// How long `spec` (a run of `method`) should take on `device`: the recorded selection
/// time of the same method (if any) plus the recorded seconds per epoch times the run's
/// epochs; records of the same architecture and device class only. Methods without a
/// selection phase (uniform L1-norm's is a bisection over widths: none to speak of)
/// may use any record of the architecture (an upper bound for a pruned
/// model). Records of the study's setting are preferred; epoch times are scaled to the
/// run's training images. A Network Slimming run whose sparsity phase is already there
/// (see [`crate::prune::sparsity_phase`]) counts its fine-tune only. A started run
/// (`progress`) counts what is left: the epochs after its checkpoint (its selection is
/// over once training started), or the sparsity epochs left; C2S2's finished groups do
/// not shorten the estimate (how many groups a selection takes is not known before).
/// `None`: no such record, or the data set is not here to count.
pub fn estimate(
    spec: &Spec,
    method: &str,
    setting: &str,
    images: usize,
    records: &[RateRecord],
    progress: Option<&RunProgress>,
) -> Option<Estimate> {
    let left = Left::of(spec, progress);
    // Records of the same table first (the same model, data and machine class), then
    // any.
    let in_setting: Vec<RateRecord> = records
        .iter()
        .filter(|r| r.path.components().any(|c| c.as_os_str() == setting))
        .cloned()
        .collect();
    estimate_from(spec, method, images as f64, &in_setting, left)
        .or_else(|| estimate_from(spec, method, images as f64, records, left))
}

/// The share of a run's selection phase and the epochs still to compute.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Left {
    /// 1: all of the selection; 0: none.
    selection: f64,
    epochs: f64,
}

impl Left {
    fn of(spec: &Spec, progress: Option<&RunProgress>) -> Self {
        let epochs = spec.train.epochs as f64;
        let p = progress.cloned().unwrap_or_default();
        if let Some(done) = p.epochs_done {
            return Self {
                selection: 0.0,
                epochs: (epochs - done as f64).max(0.0),
            };
        }
        if sparsity_phase_done(spec) {
            return Self {
                selection: 0.0,
                epochs,
            };
        }
        let selection = match (
            spec.prune.as_ref().and_then(|p| p.slimming.as_ref()),
            p.sparsity_epochs,
        ) {
            (Some(sl), Some(done)) if sl.sparsity_epochs > 0 => {
                (1.0 - done as f64 / sl.sparsity_epochs as f64).max(0.0)
            }
            _ => 1.0,
        };
        Self { selection, epochs }
    }
}

/// True when `spec` is Network Slimming and its spec folder holds a finished sparsity
/// phase of the same key: the run copies it and trains only its fine-tune.
fn sparsity_phase_done(spec: &Spec) -> bool {
    let Ok(Some(crate::spec::Pruning::Slimming { options, .. })) = spec.pruning() else {
        return false;
    };
    spec.seeds.iter().all(|&seed| {
        let key = crate::prune::sparsity_phase::phase_key(spec, seed, &options);
        // A name no run directory has: every directory of the seed is a sibling.
        let probe = spec.output.join(&spec.name).join(format!("seed{seed}-"));
        crate::prune::sparsity_phase::find_finished(&probe, seed, &key).is_some()
    })
}

fn estimate_from(
    spec: &Spec,
    method: &str,
    images: f64,
    records: &[RateRecord],
    left: Left,
) -> Option<Estimate> {
    // An epoch's time follows the images it trains on and the size of the model (the
    // unpruned one a pruning run starts from, on both sides).
    let cfg = crate::model_config(spec).ok()?;
    let macs = cfg.cost(cfg.default_input_hw()).macs() as f64;
    let epoch = |r: &RateRecord| {
        let recorded = r
            .summary
            .pruning
            .as_ref()
            .map_or(r.summary.macs, |p| p.start_macs)
            .max(1) as f64;
        r.summary.mean_epoch_seconds * images / (r.summary.train_images.max(1) as f64) * macs
            / recorded
    };
    let cfg = crate::model_config(spec).ok()?;
    let arch = arch_of(&serde_json::to_value(&cfg).ok()?);
    let device = device_class(spec);
    let same = |r: &&RateRecord| {
        let model = r
            .summary
            .pruning
            .as_ref()
            .map_or(&r.summary.model, |p| &p.start_model);
        arch_of(model) == arch
            && (arch_of(&r.summary.model) == arch)
            && r.summary.device.starts_with(device)
            && r.summary.epochs > 0
    };
    let epochs = left.epochs;
    // The median over every record of the same method (times vary with the load of
    // the machine they ran on).
    let mut own: Vec<Estimate> = records
        .iter()
        .filter(same)
        .filter(|r| r.summary.method == method)
        .map(|r| {
            // Selection scales with C2S2's iterations and Network Slimming's sparsity
            // epochs (part of its selection time).
            let selection = r.summary.pruning.as_ref().map_or(0.0, |p| {
                left.selection * p.selection_seconds * selection_scale(spec, &p.options)
            });
            Estimate {
                seconds: selection + epoch(r) * epochs,
                from: r.path.clone(),
            }
        })
        .collect();
    if !own.is_empty() {
        own.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
        return Some(own.swap_remove(own.len() / 2));
    }
    if matches!(
        method,
        "unpruned" | "l1_norm" | "random" | "scratch" | "uniform_l1_norm"
    ) {
        // The largest model of the architecture: its epochs take longest.
        let r = records.iter().filter(same).max_by_key(|r| r.summary.macs)?;
        return Some(Estimate {
            seconds: epoch(r) * epochs,
            from: r.path.clone(),
        });
    }
    None
}

/// How much longer `spec`'s selection phase is than a recorded one with `options`:
/// the ratio of C2S2's selection + recovery iterations, or of Network Slimming's
/// sparsity epochs (1 when neither applies or the record lacks the option).
fn selection_scale(spec: &Spec, options: &serde_json::Value) -> f64 {
    let Some(p) = &spec.prune else {
        return 1.0;
    };
    let ratio = |own: f64, recorded: Option<f64>| match recorded {
        Some(r) if r > 0.0 => own / r,
        _ => 1.0,
    };
    if let Some(c) = &p.c2s2 {
        let own = (c.selection.iterations + c.recovery.iterations) as f64;
        let rec = options["selection"]["iterations"]
            .as_f64()
            .zip(options["recovery"]["iterations"].as_f64())
            .map(|(a, b)| a + b);
        return ratio(own, rec);
    }
    if let Some(sl) = &p.slimming {
        return ratio(
            sl.sparsity_epochs as f64,
            options["sparsity_epochs"].as_f64(),
        );
    }
    1.0
}

/// `1 h 05 min`, `12 min`, `40 s`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{} min", (s + 30) / 60)
    } else {
        format!("{s} s")
    }
}

/// The plan as text: one line per run, then the totals.
pub fn render(graph: &RunGraph, states: &[RunState]) -> String {
    let study = &graph.study;
    // The study's own records and those of the project's results/ folder.
    let mut records = rate_records(&study.section.results);
    if study.section.results != Path::new("results") {
        records.extend(rate_records(Path::new("results")));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "study {} ({}): setting {}, publishing into {}/",
        study.name,
        study.file.display(),
        study.section.setting,
        study.setting_dir().display()
    );
    let width = graph
        .nodes
        .iter()
        .map(|n| n.id.len())
        .max()
        .unwrap_or(3)
        .max(3);
    let mwidth = graph
        .nodes
        .iter()
        .map(|n| n.method_name().len())
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(
        out,
        "{:width$}  {:mwidth$}  {:10}  state",
        "run", "method", "estimate"
    );
    let mut counts = std::collections::HashMap::new();
    let mut total = 0.0;
    let mut unknown = 0;
    let mut todo = 0;
    let mut done = 0;
    for (i, (n, s)) in graph.nodes.iter().zip(states).enumerate() {
        let est = if s.is_published() {
            done += 1;
            "-".to_string()
        } else {
            todo += 1;
            let e = graph.spec_sketch(i).ok().and_then(|spec| {
                // Counting a data set lists its folders: once per data set.
                let key = (
                    spec.dataset.root.clone(),
                    spec.dataset.validation_split,
                    spec.dataset.train_limit,
                );
                let images = *counts
                    .entry(key)
                    .or_insert_with(|| crate::preflight::training_images(&spec));
                estimate(
                    &spec,
                    n.method_name(),
                    &study.section.setting,
                    images?,
                    &records,
                    s.progress(),
                )
            });
            match e {
                Some(e) => {
                    total += e.seconds;
                    duration(e.seconds)
                }
                None => {
                    unknown += 1;
                    "unknown".to_string()
                }
            }
        };
        let _ = writeln!(
            out,
            "{:width$}  {:mwidth$}  {:10}  {s}",
            n.id,
            n.method_name(),
            est
        );
    }
    let device = graph.spec(0).ok().map_or("cpu", |s| {
        if device_class(&s) == "Cuda" {
            "cuda"
        } else {
            "cpu"
        }
    });
    let _ = write!(
        out,
        "{} runs: {done} done, {todo} to run",
        graph.nodes.len()
    );
    if todo > 0 && unknown == todo {
        let _ = write!(
            out,
            "; their time is unknown (no record of the same method and model on {device}, or the data set is not here)"
        );
    } else if todo > 0 {
        let _ = write!(
            out,
            "; about {} on {device} one after another (recorded rates of the same model, scaled by epochs and iterations){}",
            duration(total),
            if unknown > 0 {
                format!(", plus {unknown} of unknown length (no record of the same method and model on {device}, or the data set is not here)")
            } else {
                String::new()
            }
        );
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Network Slimming spec (15 fine-tune epochs, 10 sparsity epochs) writing under
    /// `output`.
    fn slimming(output: &Path) -> Spec {
        let text = format!(
            "name: s\noutput: {}\nmodel: {{ arch: resnet20_cifar }}\n\
             dataset: {{ name: cifar10, root: d }}\n\
             train: {{ epochs: 15, optimizer: {{ lr: 0.1 }}, lr_schedule: {{ kind: cosine }} }}\n\
             prune:\n  method: slimming\n  from: nowhere\n  \
             slimming: {{ sparsity: 1.0e-4, sparsity_epochs: 10, fraction: 0.5 }}\n",
            output.display()
        );
        Spec::parse(&text, Path::new("s.yaml")).unwrap()
    }

    #[test]
    fn a_started_run_counts_what_is_left() {
        let tmp = tempfile::tempdir().unwrap();
        let spec = slimming(tmp.path());
        let left = |p: RunProgress| Left::of(&spec, Some(&p));
        let full = Left {
            selection: 1.0,
            epochs: 15.0,
        };
        assert_eq!(Left::of(&spec, None), full);
        assert_eq!(left(RunProgress::default()), full);
        let sparsity = RunProgress {
            sparsity_epochs: Some(4),
            ..RunProgress::default()
        };
        assert_eq!(
            left(sparsity.clone()),
            Left {
                selection: 0.6,
                epochs: 15.0
            }
        );
        // Fine-tuning started: the selection is over.
        let finetune = RunProgress {
            epochs_done: Some(5),
            ..sparsity
        };
        assert_eq!(
            left(finetune),
            Left {
                selection: 0.0,
                epochs: 10.0
            }
        );
        let past_the_end = RunProgress {
            epochs_done: Some(20),
            ..RunProgress::default()
        };
        assert_eq!(left(past_the_end).epochs, 0.0);
    }
}
