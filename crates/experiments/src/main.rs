//! `experiments`: run a YAML experiment spec and get its results table.
//!
//! ```text
//! experiments                      # the embedded smoke spec (small CIFAR-10 subset)
//! experiments vgg_cifar10.yaml     # a spec, by path or by name under experiments/
//! experiments validate <spec>      # check a spec without running it
//! experiments models               # params and MACs of every architecture
//! experiments report               # every table and plot from results/ and paper/
//! ```
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use experiments::spec::{resolve_spec_path, Spec};
use experiments::{run, table};

mod cli;
use cli::{BenchCommand, Cli, Command};

/// The smoke spec run when no spec is given.
const SMOKE_SPEC: &str = include_str!("../../../experiments/smoke.yaml");

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    // Before any tensor exists: large freed activations stay in the process.
    let tuned = engine::keep_freed_memory();
    tracing::debug!("glibc malloc thresholds set: {tuned}");
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}`: the error and each cause, `: `-joined; library errors expose their
            // cause as `source()` rather than repeating it in their own message.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Some(Command::Validate { spec, no_files }) => {
            let path = resolve_spec_path(&spec)?;
            let s = Spec::load(&path)?;
            let data = if no_files {
                "files not checked".to_string()
            } else {
                let c = experiments::preflight::check(&s, &path)?;
                format!("{} training images, {} classes", c.train, c.classes)
            };
            println!(
                "{}: ok ({} seed(s), {data}, run directories under {})",
                path.display(),
                s.seeds.len(),
                s.output.join(&s.name).display()
            );
            Ok(())
        }
        Some(Command::Models) => {
            experiments::inspect::print_models();
            Ok(())
        }
        Some(Command::Eval {
            model_dir,
            dataset,
            spec,
            batch,
        }) => {
            let spec = match spec {
                Some(arg) => Some(Spec::load(&resolve_spec_path(&arg)?)?),
                None => None,
            };
            experiments::inspect::eval_model(&model_dir, &dataset, spec.as_ref(), batch)
        }
        Some(Command::ChannelCosts {
            model,
            metric,
            groups,
            batch,
            repeats,
            device,
            layout,
        }) => {
            let cfg = experiments::inspect::read_model_config(&model)?;
            anyhow::ensure!(batch >= 1, "--batch must be at least 1");
            anyhow::ensure!(repeats >= 1, "--repeats must be at least 1");
            let device = device.device()?;
            let mut meter = pruner::CostMeter::new(metric.into(), || {
                pruner::LatencyTable::new(
                    pruner::LatencyConfig {
                        batch: Some(batch),
                        repeats,
                        ..Default::default()
                    },
                    batch,
                    device,
                    layout.channels_last(),
                )
            });
            experiments::inspect::print_channel_costs(&cfg, &mut meter, groups)
        }
        Some(Command::Publish {
            run_dir,
            dest,
            half,
        }) => publish(&run_dir, &dest, half),
        Some(Command::Report {
            results,
            published,
            setting,
        }) => report(results, published, setting.as_deref()),
        Some(Command::BenchLatency {
            model_dirs,
            batches,
            repeats,
            warmup,
            device,
            layout,
            csv,
        }) => {
            anyhow::ensure!(repeats >= 1, "--repeats must be at least 1");
            let rows = experiments::latency::measure(
                &model_dirs,
                &batches,
                repeats,
                warmup,
                device.device()?,
                layout.channels_last(),
            )?;
            print!("{}", experiments::latency::markdown(&rows));
            if let Some(p) = csv {
                experiments::latency::write_csv(&p, &rows)?;
            }
            Ok(())
        }
        Some(Command::Bench(b)) => {
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
        None => {
            let (spec, file) = match &cli.spec {
                Some(arg) => {
                    let path = resolve_spec_path(arg)?;
                    (Spec::load(&path)?, path)
                }
                None => {
                    let file = PathBuf::from("<embedded>/experiments/smoke.yaml");
                    (Spec::parse(SMOKE_SPEC, &file)?, file)
                }
            };
            let spec = match &cli.output {
                Some(o) => Spec {
                    output: o.clone(),
                    ..spec
                },
                None => spec,
            };
            run_spec(&spec, &file, &cli)
        }
    }
}

fn run_spec(spec: &Spec, file: &Path, cli: &Cli) -> Result<()> {
    tracing::info!("running {} ({})", spec.name, file.display());
    // Nothing is written before the spec's files are known to fit.
    experiments::preflight::check(spec, file)?;
    let opts = run::RunOptions {
        stop_after_epochs: cli.stop_after_epochs,
    };
    let summaries =
        run::execute(spec, &opts).with_context(|| format!("running spec {}", file.display()))?;
    if summaries.is_empty() {
        return Ok(());
    }
    let md = table::markdown(&summaries);
    let out = spec.output.join(&spec.name).join("results.md");
    run::write_atomic(&out, md.as_bytes())?;
    println!("{md}\n(written to {})", out.display());
    Ok(())
}

fn report(results: PathBuf, published: PathBuf, only: Option<&str>) -> Result<()> {
    let paths = analysis::ReportPaths { results, published };
    let reports = match only {
        Some(name) => {
            let s = analysis::setting::setting(name).with_context(|| {
                let names: Vec<&str> = analysis::setting::SETTINGS.iter().map(|s| s.name).collect();
                format!("--setting {name}: unknown (one of {})", names.join(", "))
            })?;
            vec![analysis::report_setting(&paths, s)?]
        }
        None => analysis::report_all(&paths)?,
    };
    for r in &reports {
        println!(
            "{}: {} measured + {} published rows, {} files, {} notes",
            r.setting,
            r.measured_rows,
            r.published_rows,
            r.files.len(),
            r.notes.len()
        );
    }
    Ok(())
}

fn publish(run_dir: &Path, dest: &Path, half: bool) -> Result<()> {
    let summary = run_dir.join("summary.json");
    experiments::summary::Summary::read(&summary)
        .with_context(|| format!("{} is not a finished run", run_dir.display()))?;
    std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
    for f in [
        "summary.json",
        "metrics.csv",
        "spec.resolved.yaml",
        "model.json",
    ] {
        let src = run_dir.join(f);
        if src.is_file() {
            let bytes =
                std::fs::read(&src).with_context(|| format!("reading {}", src.display()))?;
            run::write_atomic(&dest.join(f), &bytes)?;
        }
    }
    let cfg = experiments::inspect::read_model_config(run_dir)?;
    let model = experiments::prune::load_model_dir(run_dir, &cfg, tch::Device::Cpu)?;
    let kind = if half {
        tch::Kind::Half
    } else {
        tch::Kind::Float
    };
    engine::save_weights(&model.vs, &dest.join("model.safetensors"), kind)?;
    println!("published {} -> {}", run_dir.display(), dest.display());
    Ok(())
}
