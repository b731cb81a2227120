//! The results/bench pages written from benchmark records: each names the machine it
//! was measured on, sets this project beside its reference (PyTorch, or the plain
//! model) and keeps the goal next to the measured ratio.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use engine::stats::median;

use super::{DataRates, SelectionStepTimes, TrainStepTime};

/// The machine a page was measured on: the CPU's model name (`lscpu`'s) and its cores.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
}

impl Machine {
    /// This machine (model name from /proc/cpuinfo, `?` where it has none).
    pub fn this() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "?".into());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Machine { cpu, cores }
    }
}

/// `results/bench/c2s2_steps.md`: C2S2's selection step and masked forward against a
/// training step and the plain forward, one row per model.
pub fn c2s2_steps(machine: &Machine, rows: &[SelectionStepTimes], iters: &str) -> String {
    let mut md = format!(
        "# C2S2 step costs (CPU: {}, {} cores, batch 128, channels-last, median of {iters} steps)\n\n",
        machine.cpu, machine.cores
    );
    md.push_str("| model | gated layer | training step (ms) | selection step (ms) | selection / training (goal < 1) | plain forward (ms) | masked forward (ms) | masked / plain (goal <= 1.10) |\n|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {:.1} | {:.1} | {:.2} | {:.1} | {:.1} | {:.3} |",
            r.model,
            r.gated_layer,
            r.train_step_ms,
            r.selection_step_ms,
            r.selection_over_train,
            r.plain_forward_ms,
            r.masked_forward_ms,
            r.masked_over_plain
        );
    }
    md
}

/// `1234567.8` as `1,234,568`.
fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `results/bench/data.md`: what the CIFAR-10 pipeline produces against what a
/// ResNet-20 training step consumes, measured in one run.
pub fn data_pipeline(machine: &Machine, d: &DataRates, step: &TrainStepTime) -> String {
    let ratio = d.augmented_images_per_s / step.images_per_s;
    format!(
        "# CIFAR-10 data pipeline (CPU: {}, {} cores)\n\n\
         | measure | value | goal |\n|---|---|---|\n\
         | load {} training images from the decoded cache | {:.2} s | <= 2 s |\n\
         | augmented batches (pad 4 + crop + flip + normalize), batch {} | {} img/s | |\n\
         | ResNet-20 training step consumes (batch {}, channels-last) | {} img/s | |\n\
         | production / consumption | {}x | >= 10x |\n",
        machine.cpu,
        machine.cores,
        thousands(d.train_images as f64),
        d.load_seconds,
        d.batch,
        thousands(d.augmented_images_per_s),
        step.batch,
        thousands(step.images_per_s),
        thousands(ratio),
    )
}

fn layout_name(r: &TrainStepTime) -> String {
    let mut s = if r.channels_last {
        "channels-last"
    } else {
        "NCHW"
    }
    .to_string();
    if r.precision == "bf16" {
        s.push_str(" bf16 autocast");
    }
    s
}

/// Reads JSON lines of [`TrainStepTime`] (this project's and PyTorch's, in any order),
/// naming the file and line of one that does not parse.
pub fn read_train_steps(path: &Path) -> Result<Vec<TrainStepTime>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| {
                format!("{} line {}: not a train-step record", path.display(), i + 1)
            })
        })
        .collect()
}

/// `results/bench/<name>.csv` and `.md`: per model and layout, the median over rounds
/// of this project's and PyTorch eager's step times. Errors when a model and layout
/// lacks one of the two.
pub fn train_step(machine: &Machine, rows: &[TrainStepTime]) -> Result<(String, String)> {
    let torch = rows
        .iter()
        .find_map(|r| r.torch.clone())
        .unwrap_or_else(|| "?".into());
    let mut groups: BTreeMap<(String, String), BTreeMap<&str, Vec<&TrainStepTime>>> =
        BTreeMap::new();
    for r in rows {
        groups
            .entry((r.model.clone(), layout_name(r)))
            .or_default()
            .entry(r.implementation.as_str())
            .or_default()
            .push(r);
    }
    let mut csv = String::from("model,layout,impl,threads,rounds,step_ms_median,images_per_s\n");
    let mut md = format!(
        "# Training step, batch 128 (CPU: {}, {} cores, torch {torch})\n\n\
         Median step time (forward + backward + SGD update) over the rounds; each round is the median of 30 (ResNet-20) or 8 (VGG-16) steps after 5 warm-up steps. Same machine, same run, alternating.\n\n\
         | model | layout | this project (ms) | PyTorch eager (ms) | project / PyTorch | project img/s |\n|---|---|---|---|---|---|\n",
        machine.cpu, machine.cores
    );
    for ((model, layout), by_impl) in &groups {
        let mut ms = BTreeMap::new();
        for implementation in ["rust-tch", "pytorch-eager"] {
            let sel = by_impl.get(implementation).with_context(|| {
                format!("{model} {layout}: no {implementation} record to compare with")
            })?;
            let m = median(&sel.iter().map(|r| r.step_ms).collect::<Vec<_>>());
            let batch = sel[0].batch as f64;
            let _ = writeln!(
                csv,
                "{model},{layout},{implementation},{},{},{m:.2},{:.1}",
                sel[0].threads,
                sel.len(),
                batch * 1e3 / m
            );
            ms.insert(implementation, (m, batch));
        }
        let (ours, batch) = ms["rust-tch"];
        let (theirs, _) = ms["pytorch-eager"];
        let _ = writeln!(
            md,
            "| {model} | {layout} | {ours:.1} | {theirs:.1} | {:.3} | {:.0} |",
            ours / theirs,
            batch * 1e3 / ours
        );
    }
    Ok((csv, md))
}

/// `results/bench/<name>.md` of scripts/bench_allocator.sh: forward latency with glibc
/// malloc's defaults and with the thresholds the binary sets, from `raw`'s lines
/// `<mode> <bench-latency table row at batch 128>` and `<mode> <PyTorch JSON>`.
pub fn allocator(machine: &Machine, raw: &str, rounds: usize) -> Result<String> {
    let mut ms: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    for (i, line) in raw.lines().enumerate() {
        let Some((mode, rest)) = line.split_once(' ') else {
            continue;
        };
        let bad = || format!("line {}: {line}", i + 1);
        if rest.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(rest).with_context(bad)?;
            let f = v["forward_ms"].as_f64().with_context(bad)?;
            ms.entry((mode.into(), "PyTorch eager, unpruned".into()))
                .or_default()
                .push(f);
        } else if rest.contains("| 128 |") {
            let cells: Vec<&str> = rest.split('|').map(str::trim).collect();
            let model = cells.get(1).with_context(bad)?;
            let name = Path::new(model)
                .file_name()
                .map_or(model.to_string(), |n| n.to_string_lossy().into_owned());
            let f: f64 = cells.get(4).with_context(bad)?.parse().with_context(bad)?;
            ms.entry((mode.into(), format!("this project, {name}")))
                .or_default()
                .push(f);
        }
    }
    let med = |mode: &str, what: &str| -> Result<f64> {
        let v = ms
            .get(&(mode.to_string(), what.to_string()))
            .with_context(|| format!("no `{mode}` measurement of {what}"))?;
        Ok(median(v))
    };
    let mut md = format!(
        "# Forward latency and glibc malloc (batch 128, channels-last, 2 threads; CPU: {}, {} cores)\n\n\
         Median over {rounds} alternating rounds of each round's median of 10 passes (scripts/bench_allocator.sh).\n\
         `tuned`: mmap threshold 32 MiB and trim threshold 1 GiB (what `experiments` sets at start; PyTorch through\n\
         GLIBC_TUNABLES); `glibc-default`: `EXPERIMENTS_MALLOC=system`, plain PyTorch.\n\n\
         | model | glibc-default ms | tuned ms | tuned speed-up |\n|---|---|---|---|\n",
        machine.cpu, machine.cores
    );
    let whats: std::collections::BTreeSet<&String> = ms.keys().map(|(_, w)| w).collect();
    for what in whats {
        let (d, t) = (med("glibc-default", what)?, med("tuned", what)?);
        let _ = writeln!(md, "| {what} | {d:.1} | {t:.1} | {:.2}x |", d / t);
    }
    for mode in ["glibc-default", "tuned"] {
        let u = med(mode, "this project, pretrained")?;
        let c = med(mode, "this project, c2s2")?;
        let _ = write!(
            md,
            "\nC2S2 speed-up over the unpruned model, {mode}: {:.2}x\n",
            u / c
        );
    }
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(implementation: &str, layout_cl: bool, ms: f64) -> TrainStepTime {
        TrainStepTime {
            implementation: implementation.into(),
            model: "resnet20".into(),
            batch: 128,
            channels_last: layout_cl,
            precision: "fp32".into(),
            device: None,
            threads: 2,
            step_ms: ms,
            images_per_s: 128e3 / ms,
            torch: (implementation == "pytorch-eager").then(|| "2.11.0".into()),
        }
    }

    #[test]
    fn train_step_page_takes_medians_per_layout_and_needs_both_sides() {
        let m = Machine {
            cpu: "Test CPU".into(),
            cores: 2,
        };
        let rows = vec![
            step("rust-tch", true, 100.0),
            step("rust-tch", true, 300.0),
            step("rust-tch", true, 120.0),
            step("pytorch-eager", true, 80.0),
        ];
        let (csv, md) = train_step(&m, &rows).unwrap();
        assert!(md.contains("torch 2.11.0"), "{md}");
        assert!(
            md.contains("| resnet20 | channels-last | 120.0 | 80.0 | 1.500 | 1067 |"),
            "{md}"
        );
        assert!(
            csv.contains("resnet20,channels-last,rust-tch,2,3,120.00,1066.7"),
            "{csv}"
        );
        let only_ours = vec![step("rust-tch", false, 100.0)];
        let err = train_step(&m, &only_ours).unwrap_err().to_string();
        assert!(
            err.contains("NCHW") && err.contains("pytorch-eager"),
            "{err}"
        );
    }

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(thousands(228144.4), "228,144");
        assert_eq!(thousands(417.0), "417");
        assert_eq!(thousands(50000.0), "50,000");
    }
}
