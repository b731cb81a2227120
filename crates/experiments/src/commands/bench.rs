//! `bench-latency` and `bench`: measurements, not results.

use anyhow::{Context, Result};

use crate::cli::{BenchCommand, BenchLatencyArgs};

pub fn bench_latency(args: BenchLatencyArgs) -> Result<()> {
    let BenchLatencyArgs {
        model_dirs,
        setting,
        results,
        batches,
        repeats,
        warmup,
        device,
        layout,
        csv,
    } = args;
    anyhow::ensure!(repeats >= 1, "--repeats must be at least 1");
    let device = device.device()?;
    let settings = setting
        .iter()
        .map(|n| {
            analysis::setting::setting(n).with_context(|| {
                format!(
                    "--setting {n}: unknown (one of {})",
                    super::records::setting_names()
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // Without --setting: just the folders named, no latency.csv written.
    let rows = experiments::latency::measure_settings(
        &results,
        &settings,
        &model_dirs,
        &batches,
        repeats,
        warmup,
        device,
        layout.channels_last(),
    )?;
    print!("{}", experiments::latency::markdown(&rows));
    if let Some(p) = csv {
        experiments::latency::write_csv(&p, &rows)?;
    }
    Ok(())
}

pub fn bench(b: BenchCommand) -> Result<()> {
    let v = match b {
        BenchCommand::TrainStep {
            step,
            nchw,
            bf16,
            device,
        } => experiments::bench::train_step(&step.bench(), !nchw, bf16, device.device()?)?,
        BenchCommand::SelectionStep { step, layer } => {
            experiments::bench::selection_step(&step.bench(), layer)?
        }
        BenchCommand::Data { root, batch } => experiments::bench::data(&root, batch)?,
        BenchCommand::ImagenetData { root, batch } => {
            experiments::bench::imagenet_data(&root, batch)?
        }
    };
    println!("{v}");
    Ok(())
}
