//! `bench-latency` and `bench`: measurements, not results.

use std::path::Path;

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

fn print_json(v: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string(v)?);
    Ok(())
}

/// Writes a page and prints it.
fn write_page(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    experiments::atomic::write_atomic(path, text.as_bytes())?;
    print!("{text}");
    eprintln!("wrote {}", path.display());
    Ok(())
}

pub fn bench(b: BenchCommand) -> Result<()> {
    use experiments::bench::{self as eb, pages, StepBench};
    let step = |model: &str, iters: usize| StepBench {
        model: model.into(),
        batch: 128,
        iters,
        warmup: 5,
    };
    match b {
        BenchCommand::TrainStep {
            step,
            nchw,
            bf16,
            device,
        } => print_json(&eb::train_step(
            &step.bench(),
            !nchw,
            bf16,
            device.device()?,
        )?),
        BenchCommand::SelectionStep { step, layer } => {
            print_json(&eb::selection_step(&step.bench(), layer)?)
        }
        BenchCommand::Data { root, batch } => print_json(&eb::data(&root, batch)?),
        BenchCommand::ImagenetData { root, batch } => print_json(&eb::imagenet_data(&root, batch)?),
        BenchCommand::C2s2Steps { output } => {
            let rows = [
                eb::selection_step(&step("resnet20", 30), 0)?,
                eb::selection_step(&step("vgg16", 8), 0)?,
            ];
            write_page(
                &output,
                &pages::c2s2_steps(&pages::Machine::this(), &rows, "30 / 8"),
            )
        }
        BenchCommand::DataPipeline { root, output } => {
            let d = eb::data(&root, 128)?;
            let s = eb::train_step(&step("resnet20", 20), true, false, tch::Device::Cpu)?;
            write_page(
                &output,
                &pages::data_pipeline(&pages::Machine::this(), &d, &s),
            )
        }
        BenchCommand::TrainStepPage { raw, dir, name } => {
            let rows = pages::read_train_steps(&raw)?;
            let (csv, md) = pages::train_step(&pages::Machine::this(), &rows)
                .with_context(|| format!("records in {}", raw.display()))?;
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            experiments::atomic::write_atomic(&dir.join(format!("{name}.csv")), csv.as_bytes())?;
            write_page(&dir.join(format!("{name}.md")), &md)
        }
        BenchCommand::AllocatorPage {
            raw,
            output,
            rounds,
        } => {
            let text = std::fs::read_to_string(&raw)
                .with_context(|| format!("reading {}", raw.display()))?;
            let md = pages::allocator(&pages::Machine::this(), &text, rounds)
                .with_context(|| format!("raw lines of {}", raw.display()))?;
            write_page(&output, &md)
        }
    }
}
