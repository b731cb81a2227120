//! `experiments bench-latency`: forward latency of saved models (unpruned and pruned),
//! measured the same way for each: warm-up, then repeated timed forward passes in eval
//! mode without autograd; median and inter-quartile range, at batch 1 and 128.
use std::path::PathBuf;
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
