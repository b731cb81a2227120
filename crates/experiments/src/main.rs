//! `experiments`: run a YAML experiment spec and get its results table.
//!
//! ```text
//! experiments                      # the embedded smoke spec (small CIFAR-10 subset)
//! experiments vgg_cifar10.yaml     # a spec or study, by path or by name under experiments/
//! experiments <study> --jobs 4     # a study's runs in 4 worker processes, then its table
//! experiments plan <study>         # a study's runs, their states and times; starts nothing
//! experiments submit <study>       # a study as Slurm job arrays, one per wave
//! experiments validate <spec>      # check a spec or study without running it
//! experiments models               # params and MACs of every architecture
//! experiments report               # every table and plot from results/ and paper/
//! ```
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

mod cli;
mod commands;
use cli::{Cli, Command};

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
        Some(Command::Validate(a)) => commands::validate::validate(a),
        Some(Command::Plan(a)) => commands::study::plan(a),
        Some(Command::RunOne(a)) => commands::study::run_one(a),
        Some(Command::Submit(a)) => commands::study::submit(a),
        Some(Command::Models) => commands::inspect::models(),
        Some(Command::Eval(a)) => commands::inspect::eval(a),
        Some(Command::ChannelCosts(a)) => commands::inspect::channel_costs(a),
        Some(Command::Publish(a)) => commands::records::publish_cmd(a),
        Some(Command::Report(a)) => commands::records::report_cmd(a),
        Some(Command::Snapshot(a)) => commands::records::snapshot_cmd(a),
        Some(Command::BenchLatency(a)) => commands::bench::bench_latency(a),
        Some(Command::Bench(b)) => commands::bench::bench(b),
        None => commands::run::run(&cli),
    }
}
