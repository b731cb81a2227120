//! `experiments bench-latency`: forward latency of saved models (unpruned and pruned),
//! measured the same way for each: warm-up, then repeated timed forward passes in eval
//! mode without autograd; median and inter-quartile range, at batch 1 and 128.
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use engine::stats::{quantile, sorted};
use tch::{Device, Kind, Tensor};

pub use analysis::latency::{write_latency_csv as write_csv, Latency};

use crate::inspect::group;
use crate::model_dir::load_model_dir;
use crate::model_dir::read_model_config;

/// Measures every model folder at every batch size in every memory layout
/// (`channels_last` values); models and layouts are interleaved repeat by repeat, so a
/// change of machine load hits all of them alike.
pub fn measure(
    dirs: &[PathBuf],
    batches: &[i64],
    repeats: usize,
    warmup: usize,
    device: Device,
    layouts: &[bool],
) -> Result<Vec<Latency>> {
    let mut models = Vec::new();
    for d in dirs {
        let cfg = read_model_config(d)?;
        for &channels_last in layouts {
            let m = load_model_dir(d, &cfg, device)?;
            if channels_last {
                engine::vars_to_channels_last(&m.vs);
            }
            models.push((d.clone(), cfg.clone(), m, channels_last));
        }
    }
    let mut out = Vec::new();
    for &batch in batches {
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); models.len()];
        let inputs: Vec<Tensor> = models
            .iter()
            .map(|(_, cfg, _, channels_last)| {
                let (h, w) = cfg.default_input_hw();
                let x = Tensor::randn([batch, 3, h, w], (Kind::Float, device));
                if *channels_last {
                    engine::to_channels_last(&x)
                } else {
                    x
                }
            })
            .collect();
        let load = engine::LoadWindow::start();
        tch::no_grad(|| {
            for r in 0..warmup + repeats {
                for (i, (_, _, m, _)) in models.iter().enumerate() {
                    let t = Instant::now();
                    let y = m.net.forward_t(&inputs[i], false);
                    if device != Device::Cpu {
                        tch::Cuda::synchronize(0);
                    }
                    let _ = y.size();
                    if r >= warmup {
                        times[i].push(t.elapsed().as_secs_f64() * 1e3);
                    }
                }
            }
        });
        let others_load_pct = load.others_share().map(|s| 100.0 * s);
        for ((d, cfg, _, channels_last), t) in models.iter().zip(times) {
            let t = sorted(&t);
            let cost = cfg.cost(cfg.default_input_hw());
            out.push(Latency {
                model_dir: d.display().to_string(),
                arch: cfg.arch_name().to_string(),
                params: cost.params(),
                macs: cost.macs(),
                batch,
                device: format!("{device:?}"),
                threads: tch::get_num_threads(),
                channels_last: *channels_last,
                repeats,
                median_ms: quantile(&t, 0.5),
                p25_ms: quantile(&t, 0.25),
                p75_ms: quantile(&t, 0.75),
                others_load_pct,
            });
        }
    }
    Ok(out)
}

/// The rows as a Markdown table, one line per model, batch size and layout.
pub fn markdown(rows: &[Latency]) -> String {
    let mut out = String::from(
        "| model | batch | layout | median ms | IQR ms | MACs | threads | other work's CPU share |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        out += &format!(
            "| {} | {} | {} | {:.2} | {:.2}-{:.2} | {} | {} | {} |\n",
            r.model_dir,
            r.batch,
            if r.channels_last {
                "channels-last"
            } else {
                "NCHW"
            },
            r.median_ms,
            r.p25_ms,
            r.p75_ms,
            group(r.macs),
            r.threads,
            r.others_load_pct
                .map_or("not measured".into(), |p| format!("{p:.0}%"))
        );
    }
    out
}

/// The published models a setting's latency columns compare: every entry folder of
/// `<results>/<setting>/` with weights, and for a setting compared with a base (the
/// ablations), the base's unpruned and default C2S2 models.
pub fn setting_models(results: &Path, setting: &analysis::setting::Setting) -> Vec<PathBuf> {
    let with_weights =
        |d: &Path| d.join("model.json").is_file() && d.join("model.safetensors").is_file();
    let mut out: Vec<PathBuf> = std::fs::read_dir(results.join(setting.name))
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    out.retain(|d| d.is_dir() && with_weights(d));
    if let Some(base) = setting.base {
        for e in ["pretrained", "c2s2"] {
            let d = results.join(base).join(e);
            if with_weights(&d) {
                out.push(d);
            }
        }
    }
    out.sort();
    out
}

/// Times the models of every setting in `settings` in one run (so all their speed-ups
/// share a machine state) and writes each setting's `latency.csv` with the rows of its
/// models. Returns all rows.
#[allow(clippy::too_many_arguments)]
pub fn measure_settings(
    results: &Path,
    settings: &[&analysis::setting::Setting],
    extra: &[PathBuf],
    batches: &[i64],
    repeats: usize,
    warmup: usize,
    device: Device,
    layouts: &[bool],
) -> Result<Vec<Latency>> {
    let per: Vec<Vec<PathBuf>> = settings
        .iter()
        .map(|s| setting_models(results, s))
        .collect();
    let mut all: Vec<PathBuf> = extra.to_vec();
    for d in per.iter().flatten() {
        if !all.contains(d) {
            all.push(d.clone());
        }
    }
    anyhow::ensure!(
        !all.is_empty(),
        "no model folders with weights under {} for {}",
        results.display(),
        settings
            .iter()
            .map(|s| s.name)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let rows = measure(&all, batches, repeats, warmup, device, layouts)?;
    for (s, dirs) in settings.iter().zip(&per) {
        let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        let own: Vec<Latency> = rows
            .iter()
            .filter(|r| names.contains(&r.model_dir))
            .cloned()
            .collect();
        let path = results.join(s.name).join("latency.csv");
        write_csv(&path, &own)?;
        tracing::info!("{} models -> {}", dirs.len(), path.display());
    }
    Ok(rows)
}
