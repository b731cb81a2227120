//! The default command: run a single-run spec (every seed) or a study (local workers),
//! then write its table.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use experiments::spec::{resolve_spec_path, Spec};
use experiments::study;

use crate::cli::Cli;

/// The smoke spec run when no spec is given.
const SMOKE_SPEC: &str = include_str!("../../../../experiments/smoke.yaml");

/// Runs the spec or study the command line names (default: the embedded smoke spec).
pub fn run(cli: &Cli) -> Result<()> {
    let (spec, file) = match &cli.spec {
        Some(arg) => {
            let path = resolve_spec_path(arg)?;
            if study::file_is_study(&path) {
                return run_study(&path, cli);
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
    run_spec(&spec, &file, cli)
}

pub fn run_spec(spec: &Spec, file: &Path, cli: &Cli) -> Result<()> {
    tracing::info!("running {} ({})", spec.name, file.display());
    // Nothing is written before the spec's files are known to fit.
    experiments::preflight::check(spec, file)?;
    let opts = experiments::run::RunOptions {
        stop_after_epochs: cli.stop_after_epochs,
    };
    let summaries = experiments::run::execute(spec, &opts)
        .with_context(|| format!("running spec {}", file.display()))?;
    if summaries.is_empty() {
        return Ok(());
    }
    let md = experiments::table::markdown(&summaries);
    let out = spec.output.join(&spec.name).join("results.md");
    experiments::atomic::write_atomic(&out, md.as_bytes())?;
    println!("{md}\n(written to {})", out.display());
    Ok(())
}

pub fn run_study(path: &Path, cli: &Cli) -> Result<()> {
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
