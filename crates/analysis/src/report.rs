//! `report`: every table and plot of every setting, regenerated from the run records
//! under `results/` and the published numbers under `paper/`.
use std::path::{Path, PathBuf};

use crate::collect::{collect_entries, Entry};
use crate::error::{write_atomic, AnalysisError, Result};
use crate::latency::{read_latency_csv, Latency};
use crate::layers::{layer_rows, to_frame as layers_frame};
use crate::markdown::to_markdown;
use crate::plots::{render, ChannelsPerLayer, LabelledPoint, Scatter, TrainingCurves};
use crate::published::{read_published, PublishedRow};
use crate::setting::{Setting, SETTINGS};
use crate::table::{
    measured_rows, published_rows, to_frame, write_csv, TableRow, TABLE_LATENCY_BATCH,
};
use crate::tradeoffs::{tradeoff, CostAxis};

/// Where `report` reads and writes.
#[derive(Debug, Clone)]
pub struct ReportPaths {
    /// `results/`: one folder per setting with the published run records.
    pub results: PathBuf,
    /// `paper/published.csv`.
    pub published: PathBuf,
}

/// What one setting's report wrote.
#[derive(Debug, Clone, Default)]
pub struct SettingReport {
    pub setting: String,
    pub measured_rows: usize,
    pub published_rows: usize,
    pub files: Vec<PathBuf>,
    pub notes: Vec<String>,
}

/// The entries of a setting, plus (for the ablation table) the unpruned and C2S2 rows
/// of its base setting.
fn setting_entries(paths: &ReportPaths, s: &Setting) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    if let Some(base) = s.base {
        for mut e in collect_entries(&paths.results.join(base))? {
            if e.name == "pretrained" || e.name == "c2s2" {
                if e.name == "c2s2" {
                    e.label = "C2S2 (default options)".into();
                }
                entries.push(e);
            }
        }
    }
    entries.extend(collect_entries(&paths.results.join(s.name))?);
    Ok(entries)
}

fn minutes(seconds: f64) -> String {
    format!("{:.0} min", seconds / 60.0)
}

/// Wall time over an entry's seeds: `31 min` for one seed or equal times, `31-48 min`
/// for the range of several.
fn minutes_over(seconds: impl Iterator<Item = f64>) -> String {
    let (lo, hi) = seconds.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
        (lo.min(s), hi.max(s))
    });
    let (lo_min, hi_min) = ((lo / 60.0).round(), (hi / 60.0).round());
    if lo_min == hi_min {
        minutes(lo)
    } else {
        format!("{lo_min:.0}-{hi_min:.0} min")
    }
}

/// The machine and date of each seed that recorded them (records from 2026-12-07 on),
/// with the vector extensions it recorded, e.g. `Ran on: seed 0 Intel(R) Xeon(R)
/// Processor (2 CPUs; avx2 avx512f avx512_bf16), 2026-12-07.`; `None` when no seed did.
fn hosts_sentence(e: &Entry) -> Option<String> {
    let parts: Vec<String> = e
        .runs
        .iter()
        .filter_map(|r| {
            let h = r.summary.host.as_ref()?;
            let day = h.finished_utc.get(..10).unwrap_or(&h.finished_utc);
            let simd = if h.cpu_simd.is_empty() {
                String::new()
            } else {
                format!("; {}", h.cpu_simd.join(" "))
            };
            Some(format!(
                "seed {} {} ({} CPUs{simd}), {day}",
                r.summary.seed, h.cpu_model, h.cpus
            ))
        })
        .collect();
    (!parts.is_empty()).then(|| format!("Ran on: {}.", parts.join("; ")))
}

fn notes_for(
    s: &Setting,
    entries: &[Entry],
    rows: &[TableRow],
    latency_file: &Path,
    latencies: &[Latency],
    published: &[PublishedRow],
) -> Vec<String> {
    let mut notes = Vec::new();
    // The unpruned model's line first, then the others in folder order.
    let ordered = entries
        .iter()
        .filter(|e| e.is_unpruned())
        .chain(entries.iter().filter(|e| !e.is_unpruned()));
    for e in ordered {
        let r = &e.runs[0].summary;
        let seeds: Vec<String> = e.runs.iter().map(|r| r.summary.seed.to_string()).collect();
        let prunings = || e.runs.iter().filter_map(|r| r.summary.pruning.as_ref());
        let time = match &r.pruning {
            Some(p) if p.method != "scratch" => format!(
                "selection {} + fine-tune {}",
                minutes_over(prunings().map(|p| p.selection_seconds)),
                minutes_over(prunings().map(|p| p.finetune_seconds))
            ),
            _ => format!(
                "{} epochs in {}",
                r.epochs,
                minutes_over(e.runs.iter().map(|r| r.summary.total_train_seconds))
            ),
        };
        let mut line = format!(
            "{}: spec `{}`, seed(s) {}, {time} per seed on {} with {} threads ({}).",
            e.label,
            r.spec_name,
            seeds.join(", "),
            r.device.to_lowercase(),
            r.threads,
            e.dir.display()
        );
        if let Some(hosts) = hosts_sentence(e) {
            line.push(' ');
            line.push_str(&hosts);
        }
        if let Some(note) = &e.note {
            line.push(' ');
            line.push_str(note);
        }
        notes.push(line);
    }
    let points = crate::points::operating_points(entries);
    if points.iter().flatten().next().is_some() {
        notes.push("point: the C2S2 entry (its folder) a row belongs to: a C2S2 row's own; a baseline's when it has the widths of one of that entry's runs (L1-norm, random, scratch) or was sized to the MACs share one of them removed (Network Slimming, uniform L1-norm). Rows are grouped by point, fewest MACs removed first.".into());
    }
    for d in crate::points::paired_differences(entries, &points) {
        notes.push(d.sentence());
    }
    for x in s.expected {
        let present = entries
            .iter()
            .any(|e| e.name == x.entry && e.method() == x.method);
        if present {
            continue;
        }
        let label = crate::setting::method_label(x.method);
        notes.push(match x.not_run_because {
            Some(reason) => format!(
                "No measured run of {label} ({}), so no row: not run, because {reason}.",
                x.entry
            ),
            None => format!(
                "No measured run of {label} ({}) yet, so no row: run the study `cargo run --release -p experiments -- {}` (it publishes the entry into results/{}/{}).",
                x.entry, x.study, s.name, x.entry
            ),
        });
    }
    if entries
        .iter()
        .any(|e| e.runs.iter().any(|r| r.summary.on_image_folder()))
    {
        notes.push("Measured accuracies are on the JPEG (quality 75) re-encoding of CIFAR-10 from ../shared/data, not the official binary release; they can sit somewhat below numbers measured on the original pixels.".into());
    }
    if rows
        .iter()
        .any(|r| r.source == "measured" && r.seeds == Some(1))
    {
        notes.push("top1_std is empty for rows measured with a single seed.".into());
    }
    if latencies.is_empty() && !entries.is_empty() {
        notes.push(format!(
            "latency_ms and speedup are empty: no {} yet (written by `experiments bench-latency <model dirs> --csv {}`).",
            latency_file.display(),
            latency_file.display()
        ));
    } else if let Some(l) = latencies.first() {
        let load = latencies
            .iter()
            .filter(|l| l.batch == TABLE_LATENCY_BATCH)
            .map(|l| l.others_load_pct)
            .try_fold(0.0f64, |m, p| p.map(|p| m.max(p)))
            .map(|max| format!(" Other work took at most {max:.0}% of the CPUs while it ran."))
            .unwrap_or_default();
        notes.push(format!(
            "latency_ms: median forward time of a batch of {TABLE_LATENCY_BATCH} on {} with {} threads, {} repeats after warm-up, in each model's faster memory layout of those measured (NCHW / channels-last); speedup = unpruned latency / latency, same measurement run.{load}",
            l.device.to_lowercase(),
            l.threads,
            l.repeats
        ));
        // A run published after the latency run has no cell; say so rather than leave
        // the reader to guess whether it was slow, broken or never timed.
        let untimed: Vec<String> = rows
            .iter()
            .filter(|r| r.source == "measured" && r.latency_ms.is_none())
            .map(|r| match &r.point {
                Some(p) => format!("{} ({p})", r.method),
                None => r.method.clone(),
            })
            .collect();
        if !untimed.is_empty() {
            notes.push(format!(
                "Not timed: {} (published after the latency run, or its weights are not here); `experiments bench-latency --setting {}` times every model of the setting in one run and rewrites {}.",
                untimed.join(", "),
                s.name,
                latency_file.display()
            ));
        }
    }
    let unpruned_macs = rows
        .iter()
        .find(|r| r.source == "measured" && r.unpruned)
        .and_then(|r| r.macs);
    for r in rows
        .iter()
        .filter(|r| r.source == "measured" && !r.unpruned)
    {
        if let (Some(speedup), Some(base), Some(macs)) = (r.speedup, unpruned_macs, r.macs) {
            let ratio = base as f64 / macs.max(1) as f64;
            if speedup < 0.8 * ratio {
                notes.push(format!(
                    "{}: measured speed-up {speedup:.2}x at batch {TABLE_LATENCY_BATCH} is below 0.8x of its MACs reduction ({ratio:.2}x fewer MACs, goal {:.2}x).",
                    r.method,
                    0.8 * ratio
                ));
            }
        }
    }
    if published
        .iter()
        .any(|p| p.setting == s.name && p.verified != "yes")
    {
        notes.push("Published rows marked `recalled` in their citation were not checked against the paper (paper/README.md).".into());
    }
    notes
}

fn latency_plot(s: &Setting, entries: &[Entry], latencies: &[Latency]) -> Option<Scatter> {
    // One point per entry, in its faster layout (the one the table reports).
    let points: Vec<LabelledPoint> = entries
        .iter()
        .filter_map(|e| {
            let l = crate::latency::find(latencies, &e.dir, TABLE_LATENCY_BATCH)?;
            Some(LabelledPoint {
                label: e.label.clone(),
                x: l.macs as f64 / 1e6,
                y: l.median_ms,
                measured: true,
            })
        })
        .collect();
    (!points.is_empty()).then(|| Scatter {
        title: format!(
            "{}: forward latency vs MACs (batch {TABLE_LATENCY_BATCH})",
            s.title
        ),
        x_label: "MACs per image (millions)".into(),
        y_label: format!("median latency per batch of {TABLE_LATENCY_BATCH} (ms)"),
        points,
    })
}

/// Writes the table, the per-layer table and the plots of one setting.
pub fn report_setting(paths: &ReportPaths, s: &Setting) -> Result<SettingReport> {
    let out = paths.results.join(s.name);
    let entries = setting_entries(paths, s)?;
    let latency_file = out.join("latency.csv");
    let latencies = if latency_file.exists() {
        read_latency_csv(&latency_file)?
    } else {
        Vec::new()
    };
    let published = read_published(&paths.published)?;
    let measured = measured_rows(&entries, &latencies)?;
    let pubs = published_rows(&published, s.name);
    let mut rows = measured.clone();
    rows.extend(pubs.iter().cloned());
    let notes = notes_for(s, &entries, &rows, &latency_file, &latencies, &published);
    let mut rep = SettingReport {
        setting: s.name.into(),
        measured_rows: measured.len(),
        published_rows: pubs.len(),
        notes: notes.clone(),
        ..Default::default()
    };
    let table_err = |source| AnalysisError::Table {
        table: s.name.into(),
        source,
    };

    let frame = to_frame(&rows, s.name)?;
    let csv = out.join("table.csv");
    write_csv(&frame, &csv)?;
    let md = to_markdown(s.title, &frame, &notes).map_err(table_err)?;
    let md_path = out.join("table.md");
    write_atomic(&md_path, md.as_bytes())?;
    rep.files.extend([csv, md_path]);

    let layers = layer_rows(&entries);
    let lframe = layers_frame(&layers).map_err(table_err)?;
    let lcsv = out.join("layers.csv");
    write_csv(&lframe, &lcsv)?;
    let lnotes = if layers.is_empty() {
        vec!["No pruned model of this setting has a run record yet.".to_string()]
    } else {
        vec!["channels: the layer's output channels in the unpruned model; kept: after pruning; kept_pct = 100 * kept / channels.".to_string()]
    };
    let lmd = to_markdown(
        &format!("{}: channels kept per layer", s.title),
        &lframe,
        &lnotes,
    )
    .map_err(table_err)?;
    let lmd_path = out.join("layers.md");
    write_atomic(&lmd_path, lmd.as_bytes())?;
    rep.files.extend([lcsv, lmd_path]);

    let plots = out.join("plots");
    for axis in [
        CostAxis::MacsRemoved,
        CostAxis::ParamsRemoved,
        CostAxis::Speedup,
    ] {
        if let Some(fig) = tradeoff(s, &rows, axis) {
            rep.files.extend(render(&fig, &plots.join(axis.stem()))?);
        }
    }
    if let Some(fig) = latency_plot(s, &entries, &latencies) {
        rep.files
            .extend(render(&fig, &plots.join("latency_vs_macs"))?);
    }
    // Per-run plots only for this setting's own entries (the ablation table's base rows
    // have theirs in the base setting).
    for e in entries.iter().filter(|e| e.dir.starts_with(&out)) {
        for r in &e.runs {
            let (suffix, label) = if e.runs.len() > 1 {
                let seed = r.summary.seed;
                (
                    format!("{}_seed{seed}", e.name),
                    format!("{} seed {seed}", e.label),
                )
            } else {
                (e.name.clone(), e.label.clone())
            };
            if let Some(p) = &r.summary.pruning {
                let fig = ChannelsPerLayer {
                    title: format!("{}: {label} channels per layer", s.title),
                    layers: p
                        .layers
                        .iter()
                        .map(|l| (l.layer.clone(), l.channels, l.kept))
                        .collect(),
                };
                rep.files
                    .extend(render(&fig, &plots.join(format!("channels_{suffix}")))?);
            }
            if !r.metrics.is_empty() {
                let what = if r.summary.pruning.is_some() {
                    "fine-tuning"
                } else {
                    "training"
                };
                let fig = TrainingCurves {
                    title: format!("{}: {label} {what} curves", s.title),
                    epochs: r.metrics.clone(),
                };
                rep.files
                    .extend(render(&fig, &plots.join(format!("curves_{suffix}")))?);
            }
        }
    }
    Ok(rep)
}

/// Reports every setting in [`SETTINGS`].
pub fn report_all(paths: &ReportPaths) -> Result<Vec<SettingReport>> {
    SETTINGS.iter().map(|s| report_setting(paths, s)).collect()
}
