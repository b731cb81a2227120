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
use clap::{Parser, Subcommand};
use experiments::spec::{resolve_spec_path, Spec};
use experiments::{run, table};

/// The smoke spec run when no spec is given.
const SMOKE_SPEC: &str = include_str!("../../../experiments/smoke.yaml");

#[derive(Parser)]
#[command(
    name = "experiments",
    version,
    about = "C2S2 channel-pruning experiments from YAML specs",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Spec to run: a path, or a name under experiments/ (default: the embedded smoke spec).
    spec: Option<String>,
    /// Stop every seed after this many epochs; running the spec again resumes it.
    #[arg(long)]
    stop_after_epochs: Option<usize>,
    /// Root folder of run directories, overriding the spec's `output` (e.g. a folder
    /// outside the checkout for runs that span sessions).
    #[arg(long)]
    output: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Check a spec (syntax, fields, ranges) without running it.
    Validate { spec: String },
    /// Print parameters and MACs of every architecture at its usual input size.
    Models,
    /// Rebuild a saved model (`model.json` + `model.safetensors`) and evaluate it on a
    /// data set's test split.
    Eval {
        /// Folder with model.json and model.safetensors (e.g. a run directory).
        model_dir: PathBuf,
        /// Data-set root (CIFAR-10: binary release or image folders).
        #[arg(long, default_value = "data/cifar10")]
        dataset: PathBuf,
        /// Evaluate on the test split of this spec's data set instead (any data set:
        /// e.g. `resnet18_imagenet_sample` for torchvision's ResNet-18 weights).
        #[arg(long, conflicts_with = "dataset")]
        spec: Option<String>,
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
    /// Copy a finished run's records (summary, metrics, resolved spec, widths, weights)
    /// into a results folder, e.g. results/resnet20_cifar10/pretrained.
    Publish {
        run_dir: PathBuf,
        dest: PathBuf,
        /// Store the weights in half precision (halves the size of large models).
        #[arg(long)]
        half: bool,
    },
    /// What one channel of each prunable layer of a saved model costs (MACs,
    /// parameters, or latency timed here layer by layer) and its share c_l, the weight
    /// the cost-aware mechanism gives that layer's lambda.
    ChannelCosts {
        /// A model folder (model.json) or a model.json file.
        model: PathBuf,
        /// macs, params or latency.
        #[arg(long, default_value = "macs")]
        metric: String,
        /// Also the stage-coupled residual groups (ResNets).
        #[arg(long)]
        groups: bool,
        /// Latency only: images per timed pass.
        #[arg(long, default_value_t = 128)]
        batch: i64,
        /// Latency only: timed passes per layer shape (the median is kept; shapes alternate).
        #[arg(long, default_value_t = 15)]
        repeats: usize,
        /// Latency only: cpu, cuda or auto.
        #[arg(long, default_value = "cpu")]
        device: String,
        /// Latency only: nchw or channels-last.
        #[arg(long, default_value = "channels-last")]
        layout: String,
    },
    /// Forward latency of saved models (e.g. an unpruned and pruned run directories):
    /// warm-up, repeats, median and inter-quartile range at each batch size.
    BenchLatency {
        /// Model folders (model.json + model.safetensors).
        #[arg(required = true)]
        model_dirs: Vec<PathBuf>,
        #[arg(long, value_delimiter = ',', default_value = "1,128")]
        batches: Vec<i64>,
        #[arg(long, default_value_t = 30)]
        repeats: usize,
        #[arg(long, default_value_t = 5)]
        warmup: usize,
        /// cpu, cuda or auto.
        #[arg(long, default_value = "cpu")]
        device: String,
        /// Memory layouts to measure: nchw, channels-last, or both (tables then take
        /// each model's faster layout).
        #[arg(long, default_value = "both")]
        layout: String,
        /// Also write the rows to this CSV file.
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Micro-benchmarks (one JSON line each); scripts/bench_*.sh drive them.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Regenerate every results table (CSV + Markdown) and plot (PNG + SVG) from the run
    /// records under results/ and the published numbers in paper/published.csv.
    Report {
        /// Folder with one sub-folder per setting (vgg_cifar10, resnet20_cifar10, ...).
        #[arg(long, default_value = "results")]
        results: PathBuf,
        /// Published reference numbers.
        #[arg(long, default_value = "paper/published.csv")]
        published: PathBuf,
        /// Only this setting (default: all).
        #[arg(long)]
        setting: Option<String>,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// One SGD training step on random data.
    TrainStep {
        /// resnet20, vgg16 (CIFAR inputs, 32 x 32) or resnet18 (224 x 224).
        #[arg(long, default_value = "resnet20")]
        model: String,
        #[arg(long, default_value_t = 128)]
        batch: i64,
        #[arg(long, default_value_t = 20)]
        iters: usize,
        #[arg(long, default_value_t = 5)]
        warmup: usize,
        /// Keep NCHW instead of channels-last.
        #[arg(long)]
        nchw: bool,
        /// bfloat16 autocast forward.
        #[arg(long)]
        bf16: bool,
        /// cpu, cuda or auto.
        #[arg(long, default_value = "cpu")]
        device: String,
    },
    /// C2S2 phase-1 selection step vs training step, masked vs plain forward.
    SelectionStep {
        #[arg(long, default_value = "resnet20")]
        model: String,
        #[arg(long, default_value_t = 128)]
        batch: i64,
        #[arg(long, default_value_t = 20)]
        iters: usize,
        #[arg(long, default_value_t = 5)]
        warmup: usize,
        /// Index of the gated prunable layer (0 = the first, the worst case).
        #[arg(long, default_value_t = 0)]
        layer: usize,
    },
    /// CIFAR-10 cache load time and augmented-batch throughput.
    Data {
        #[arg(long, default_value = "data/cifar10")]
        root: PathBuf,
        #[arg(long, default_value_t = 128)]
        batch: usize,
    },
    /// ImageNet input pipeline: decode + training / evaluation transforms, images/s.
    ImagenetData {
        /// A folder of class folders, e.g. an ImageNet val/ or train/.
        #[arg(long)]
        root: PathBuf,
        #[arg(long, default_value_t = 64)]
        batch: usize,
    },
}

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
        Some(Command::Validate { spec }) => {
            let path = resolve_spec_path(&spec)?;
            let s = Spec::load(&path)?;
            println!(
                "{}: ok ({} seed(s), run directories under {})",
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
            let metric = match metric.as_str() {
                "macs" => pruner::CostMetric::Macs,
                "params" => pruner::CostMetric::Params,
                "latency" => pruner::CostMetric::Latency,
                other => anyhow::bail!("--metric {other}: expected macs, params or latency"),
            };
            let channels_last = match layout.as_str() {
                "nchw" => false,
                "channels-last" => true,
                other => anyhow::bail!("--layout {other}: expected nchw or channels-last"),
            };
            anyhow::ensure!(batch >= 1, "--batch must be at least 1");
            anyhow::ensure!(repeats >= 1, "--repeats must be at least 1");
            let device = parse_device(&device)?;
            let mut meter = pruner::CostMeter::new(metric, || {
                pruner::LatencyTable::new(
                    pruner::LatencyConfig {
                        batch: Some(batch),
                        repeats,
                        ..Default::default()
                    },
                    batch,
                    device,
                    channels_last,
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
            let device = parse_device(&device)?;
            anyhow::ensure!(repeats >= 1, "--repeats must be at least 1");
            let layouts: &[bool] = match layout.as_str() {
                "nchw" => &[false],
                "channels-last" => &[true],
                "both" => &[false, true],
                other => anyhow::bail!("--layout {other}: expected nchw, channels-last or both"),
            };
            let rows = experiments::latency::measure(
                &model_dirs,
                &batches,
                repeats,
                warmup,
                device,
                layouts,
            )?;
            println!("| model | batch | layout | median ms | IQR ms | MACs | threads | other work's CPU share |\n|---|---|---|---|---|---|---|---|");
            for r in &rows {
                println!(
                    "| {} | {} | {} | {:.2} | {:.2}-{:.2} | {} | {} | {} |",
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
                    experiments::inspect::group(r.macs),
                    r.threads,
                    r.others_load_pct
                        .map_or("not measured".into(), |p| format!("{p:.0}%"))
                );
            }
            if let Some(p) = csv {
                experiments::latency::write_csv(&p, &rows)?;
            }
            Ok(())
        }
        Some(Command::Bench(b)) => {
            let v = match b {
                BenchCommand::TrainStep {
                    model,
                    batch,
                    iters,
                    warmup,
                    nchw,
                    bf16,
                    device,
                } => experiments::bench::train_step(
                    &model,
                    batch,
                    iters,
                    warmup,
                    !nchw,
                    bf16,
                    parse_device(&device)?,
                )?,
                BenchCommand::SelectionStep {
                    model,
                    batch,
                    iters,
                    warmup,
                    layer,
                } => experiments::bench::selection_step(&model, batch, iters, warmup, layer)?,
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
    let json = std::fs::read(run_dir.join("model.json"))?;
    let cfg: models::ModelConfig = serde_json::from_slice(&json)?;
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

/// A `--device` argument: `cpu`, `cuda` (the first GPU) or `auto`.
fn parse_device(arg: &str) -> Result<tch::Device> {
    Ok(match arg {
        "cpu" => tch::Device::Cpu,
        "cuda" => {
            anyhow::ensure!(
                tch::Cuda::is_available(),
                "--device cuda: libtorch sees no CUDA device"
            );
            tch::Device::Cuda(0)
        }
        "auto" => tch::Device::cuda_if_available(),
        other => anyhow::bail!("--device {other}: expected cpu, cuda or auto"),
    })
}
