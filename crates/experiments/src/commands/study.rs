//! `plan`, `run-one` and `submit`: a study's graph, one of its runs, its Slurm jobs.

use anyhow::Result;
use experiments::spec::resolve_spec_path;
use experiments::study;

use crate::cli::{PlanArgs, RunOneArgs, SubmitArgs};

pub fn plan(args: PlanArgs) -> Result<()> {
    let PlanArgs { study, output } = args;
    let graph = study::load_graph(&resolve_spec_path(&study)?, output.as_deref())?;
    print!(
        "{}",
        study::plan::render(&graph, &study::states(&graph, &[]))
    );
    Ok(())
}

pub fn run_one(args: RunOneArgs) -> Result<()> {
    let RunOneArgs {
        study,
        run,
        threads,
        output,
        stop_after_epochs,
    } = args;
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

pub fn submit(args: SubmitArgs) -> Result<()> {
    let SubmitArgs {
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
    } = args;
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

pub fn print_submission(graph: &study::RunGraph, sub: &study::slurm::Submission) {
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
