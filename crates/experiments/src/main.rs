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
use experiments::{run, study, table};

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
            if study::file_is_study(&path) {
                return validate_study(&path, no_files);
            }
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
        Some(Command::Plan { study, output }) => {
            let graph = study::load_graph(&resolve_spec_path(&study)?, output.as_deref())?;
            print!(
                "{}",
                study::plan::render(&graph, &study::states(&graph, &[]))
            );
            Ok(())
        }
        Some(Command::RunOne {
            study,
            run,
            threads,
            output,
            stop_after_epochs,
        }) => {
            let graph = study::load_graph(&resolve_spec_path(&study)?, output.as_deref())?;
            study::run_one(
                &graph,
                &run,
                &study::RunOneOptions {
                    threads,
                    stop_after_epochs,
                },
            )
        }
        Some(Command::Submit {
            study,
            partition,
            gres,
            time,
            cpus,
            mem,
            account,
            sbatch_args,
            output,
            dry_run,
        }) => {
            let graph = study::load_graph(&resolve_spec_path(&study)?, output.as_deref())?;
            let base = graph.study.section.slurm.clone();
            let slurm = study::spec::SlurmSection {
                partition: partition.or(base.partition),
                gres: gres.or(base.gres),
                time: time.or(base.time),
                cpus: cpus.or(base.cpus),
                mem: mem.or(base.mem),
                account: account.or(base.account),
                extra: if sbatch_args.is_empty() {
                    base.extra
                } else {
                    sbatch_args
                },
            };
            let sub = study::slurm::submit(
                &graph,
                &study::slurm::SubmitOptions {
                    slurm,
                    output,
                    dry_run,
                },
            )?;
            print_submission(&graph, &sub);
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
                Some(arg) => {
                    let path = resolve_spec_path(&arg)?;
                    if study::file_is_study(&path) {
                        // A study's runs share their data set: its first run's.
                        let graph = study::load_graph(&path, None)?;
                        anyhow::ensure!(!graph.nodes.is_empty(), "{}: no runs", path.display());
                        Some(graph.spec_sketch(0)?)
                    } else {
                        Some(Spec::load(&path)?)
                    }
                }
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
            let cfg = experiments::model_dir::read_model_config(&model)?;
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
            setting,
            results,
            batches,
            repeats,
            warmup,
            device,
            layout,
            csv,
        }) => {
            anyhow::ensure!(repeats >= 1, "--repeats must be at least 1");
            let device = device.device()?;
            let rows = if setting.is_empty() {
                experiments::latency::measure(
                    &model_dirs,
                    &batches,
                    repeats,
                    warmup,
                    device,
                    layout.channels_last(),
                )?
            } else {
                let settings = setting
                    .iter()
                    .map(|n| {
                        analysis::setting::setting(n).with_context(|| {
                            format!("--setting {n}: unknown (one of {})", setting_names())
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                experiments::latency::measure_settings(
                    &results,
                    &settings,
                    &model_dirs,
                    &batches,
                    repeats,
                    warmup,
                    device,
                    layout.channels_last(),
                )?
            };
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
                    if study::file_is_study(&path) {
                        return run_study(&path, &cli);
                    }
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
    experiments::atomic::write_atomic(&out, md.as_bytes())?;
    println!("{md}\n(written to {})", out.display());
    Ok(())
}

/// Checks a study: its text, then (unless `no_files`) the files of every run that can
/// start, and that no run is blocked (a missing model folder or start file).
fn validate_study(path: &Path, no_files: bool) -> Result<()> {
    let graph = study::load_graph(path, None)?;
    let mut checked = 0;
    if !no_files {
        let mut problems = Vec::new();
        for (i, s) in study::states(&graph, &[]).iter().enumerate() {
            let id = &graph.nodes[i].id;
            match s {
                study::RunState::Blocked { reason } => problems.push(format!("{id}: {reason}")),
                s if s.is_runnable() => {
                    match experiments::preflight::check(&graph.spec(i)?, path) {
                        Ok(_) => checked += 1,
                        Err(e) => problems.push(format!("{id}: {e}")),
                    }
                }
                _ => {}
            }
        }
        anyhow::ensure!(
            problems.is_empty(),
            "{}: {} run(s) cannot start:\n  {}",
            path.display(),
            problems.len(),
            problems.join("\n  ")
        );
    }
    println!(
        "{}: ok (study of {} entries, {} runs; {})",
        path.display(),
        graph.study.entries.len(),
        graph.nodes.len(),
        if no_files {
            "files not checked".to_string()
        } else {
            format!("files of the {checked} runs that can start now checked")
        }
    );
    Ok(())
}

fn print_submission(graph: &study::RunGraph, sub: &study::slurm::Submission) {
    let id = |j: &study::slurm::SubmittedJob| j.job_id.clone().unwrap_or("(dry run)".into());
    for (k, w) in sub.waves.iter().enumerate() {
        println!(
            "wave {}: job {} ({} array tasks: {}) {}",
            k + 1,
            id(w),
            w.runs.len(),
            w.runs.join(", "),
            w.script.display()
        );
    }
    if let Some(r) = &sub.report {
        println!("table: job {} {}", id(r), r.script.display());
    }
    for (run, why) in &sub.skipped {
        println!("  not submitted: {run}: {why}");
    }
    if sub.waves.is_empty() {
        println!(
            "{}: every run is done; the job above only writes the table",
            graph.study.name
        );
    }
}

/// Runs a study with the local executor, then writes its table and plots.
fn run_study(path: &Path, cli: &Cli) -> Result<()> {
    let graph = study::load_graph(path, cli.output.as_deref())?;
    anyhow::ensure!(cli.jobs >= 1, "--jobs must be at least 1");
    let outcome = study::local::run_local(
        &graph,
        &study::local::LocalOptions {
            jobs: cli.jobs,
            stop_after_epochs: cli.stop_after_epochs,
            output: cli.output.clone(),
            progress_every: std::time::Duration::from_secs(60),
        },
    )?;
    let rep = study::report(&graph)?;
    println!(
        "{}: {} runs computed now, {} measured + {} published rows in {}",
        graph.study.name,
        outcome.ran.len(),
        rep.measured_rows,
        rep.published_rows,
        study::table_path(&graph).display()
    );
    for (id, why) in &outcome.left {
        println!("  not done: {id}: {why}");
    }
    if !outcome.failed.is_empty() {
        let list: Vec<String> = outcome
            .failed
            .iter()
            .map(|(id, log)| format!("{id} (log {})", log.display()))
            .collect();
        anyhow::bail!("{} run(s) failed: {}", list.len(), list.join(", "));
    }
    Ok(())
}

/// The settings `report` knows, comma-separated.
fn setting_names() -> String {
    let names: Vec<&str> = analysis::setting::SETTINGS.iter().map(|s| s.name).collect();
    names.join(", ")
}

fn report(results: PathBuf, published: PathBuf, only: Option<&str>) -> Result<()> {
    let paths = analysis::ReportPaths { results, published };
    let reports = match only {
        Some(name) => {
            let s = analysis::setting::setting(name).with_context(|| {
                format!("--setting {name}: unknown (one of {})", setting_names())
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
    study::publish::publish_run(run_dir, dest, half)?;
    println!("published {} -> {}", run_dir.display(), dest.display());
    Ok(())
}
