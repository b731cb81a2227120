//! The Slurm executor: `experiments submit` writes one sbatch script per wave of a
//! study's remaining runs, each a job array whose task `i` runs the wave's `i`-th run
//! (`experiments run-one <study> <run>`), chains the waves with
//! `--dependency=afterok:<previous wave>`, adds a last job that writes the table, and
//! submits them. The tasks write the same run directories and published records as the
//! local executor, so a shared file system between this machine and the compute nodes
//! is assumed (the scripts `cd` to this working directory). Submitting again skips
//! what finished and resumes what was cut off.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use super::graph::RunGraph;
use super::local::publish_finished;
use super::spec::SlurmSection;
use super::state::{states, RunState};
use crate::atomic::write_atomic;

/// Options of [`submit`]: the study's `slurm:` section with the command line's flags
/// laid over it.
#[derive(Debug, Clone, Default)]
pub struct SubmitOptions {
    pub slurm: SlurmSection,
    /// The run-directory root, overriding the study's (passed to every task).
    pub output: Option<PathBuf>,
    /// Write the scripts and print the `sbatch` commands, submit nothing.
    pub dry_run: bool,
}

/// One submitted (or, dry, written) job.
#[derive(Debug, Clone)]
pub struct SubmittedJob {
    pub script: PathBuf,
    /// Slurm's job id (`None` on a dry run).
    pub job_id: Option<String>,
    /// The runs of the wave, in array-task order (empty for the report job).
    pub runs: Vec<String>,
}

/// What [`submit`] did.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    pub waves: Vec<SubmittedJob>,
    pub report: Option<SubmittedJob>,
    /// Runs left out: blocked, or taking from a blocked run.
    pub skipped: Vec<(String, String)>,
}

/// A path as the compute nodes must see it: absolute.
fn absolute(p: &Path) -> Result<PathBuf> {
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    Ok(std::env::current_dir()
        .context("reading the working directory")?
        .join(p))
}

/// Single-quoted for bash.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn quoted_path(p: &Path) -> String {
    quoted(&p.to_string_lossy())
}

/// The `#SBATCH` lines of the options.
fn sbatch_lines(s: &SlurmSection) -> String {
    let mut out = String::new();
    let mut line = |flag: &str, v: &str| {
        let _ = writeln!(out, "#SBATCH --{flag}={v}");
    };
    if let Some(v) = &s.partition {
        line("partition", v);
    }
    if let Some(v) = &s.gres {
        line("gres", v);
    }
    if let Some(v) = &s.time {
        line("time", v);
    }
    if let Some(v) = s.cpus {
        line("cpus-per-task", &v.to_string());
    }
    if let Some(v) = &s.mem {
        line("mem", v);
    }
    if let Some(v) = &s.account {
        line("account", v);
    }
    for e in &s.extra {
        let _ = writeln!(out, "#SBATCH {e}");
    }
    out
}

/// The script of one wave: a job array over `runs`.
pub fn wave_script(
    graph: &RunGraph,
    wave: usize,
    runs: &[String],
    exe: &Path,
    workdir: &Path,
    logs: &Path,
    opts: &SubmitOptions,
) -> Result<String> {
    let study = absolute(&graph.study.file)?;
    let mut s = String::from("#!/bin/bash\n");
    let _ = writeln!(s, "#SBATCH --job-name={}-w{wave}", graph.study.name);
    let _ = writeln!(s, "#SBATCH --array=0-{}", runs.len().saturating_sub(1));
    let _ = writeln!(s, "#SBATCH --chdir={}", workdir.display());
    let _ = writeln!(s, "#SBATCH --output={}/%x-%A_%a.log", logs.display());
    s.push_str(&sbatch_lines(&opts.slurm));
    let _ = writeln!(
        s,
        "# Wave {wave} of study {} ({}): one array task per run; every run it takes from\n\
         # is published by an earlier wave. Written by `experiments submit`.",
        graph.study.name,
        study.display()
    );
    s.push_str("set -euo pipefail\nruns=(");
    for r in runs {
        let _ = write!(s, " {}", quoted(r));
    }
    s.push_str(" )\n");
    let _ = write!(
        s,
        "exec {} run-one {} \"${{runs[$SLURM_ARRAY_TASK_ID]}}\"",
        quoted_path(exe),
        quoted_path(&study)
    );
    if let Some(o) = &opts.output {
        let _ = write!(s, " --output {}", quoted_path(&absolute(o)?));
    }
    if opts.slurm.cpus.is_some() {
        s.push_str(" --threads \"$SLURM_CPUS_PER_TASK\"");
    }
    s.push('\n');
    Ok(s)
}

/// The script of the last job: the study's table and plots.
fn report_script(graph: &RunGraph, exe: &Path, workdir: &Path, logs: &Path) -> Result<String> {
    let sec = &graph.study.section;
    let mut s = String::from("#!/bin/bash\n");
    let _ = writeln!(s, "#SBATCH --job-name={}-report", graph.study.name);
    let _ = writeln!(s, "#SBATCH --chdir={}", workdir.display());
    let _ = writeln!(s, "#SBATCH --output={}/%x-%j.log", logs.display());
    let _ = writeln!(
        s,
        "# The table and plots of study {}, after its last wave.\nset -euo pipefail",
        graph.study.name
    );
    let _ = writeln!(
        s,
        "exec {} report --results {} --published {} --setting {}",
        quoted_path(exe),
        quoted_path(&absolute(&sec.results)?),
        quoted_path(&absolute(&sec.published)?),
        quoted(&sec.setting)
    );
    Ok(s)
}

/// `sbatch --parsable [--dependency=afterok:<after>] <script>` and the job id it prints.
fn sbatch(script: &Path, after: Option<&str>) -> Result<String> {
    let mut cmd = Command::new("sbatch");
    cmd.arg("--parsable");
    if let Some(a) = after {
        cmd.arg(format!("--dependency=afterok:{a}"));
    }
    let out = cmd
        .arg(script)
        .output()
        .context("running sbatch (is Slurm installed and SLURM_CONF set?)")?;
    anyhow::ensure!(
        out.status.success(),
        "sbatch {} failed ({}): {}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    // `--parsable` prints `<id>` or `<id>;<cluster>`.
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text
        .trim()
        .split(';')
        .next()
        .filter(|s| !s.is_empty())
        .with_context(|| format!("sbatch printed no job id for {}", script.display()))?;
    Ok(id.to_string())
}

/// Writes and submits the study's remaining runs as job arrays, one per wave.
pub fn submit(graph: &RunGraph, opts: &SubmitOptions) -> Result<Submission> {
    publish_finished(graph)?;
    let st = states(graph, &[]);
    let mut sub = Submission::default();
    let mut pending = Vec::new();
    for (i, s) in st.iter().enumerate() {
        match s {
            s if s.is_published() => {}
            RunState::Blocked { reason } => sub
                .skipped
                .push((graph.nodes[i].id.clone(), reason.clone())),
            _ => pending.push(i),
        }
    }
    let exe = std::env::current_exe().context("finding this program's path for the jobs")?;
    let workdir = absolute(Path::new("."))?;
    let workdir = workdir.canonicalize().unwrap_or(workdir);
    let output = opts.output.clone().unwrap_or(graph.study.output.clone());
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let dir = absolute(
        &output
            .join(&graph.study.name)
            .join("slurm")
            .join(stamp.to_string()),
    )?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut after: Option<String> = None;
    for (k, wave) in graph.waves(&pending).iter().enumerate() {
        let runs: Vec<String> = wave.iter().map(|&i| graph.nodes[i].id.clone()).collect();
        let text = wave_script(graph, k + 1, &runs, &exe, &workdir, &dir, opts)?;
        let script = dir.join(format!("wave{}.sbatch", k + 1));
        write_atomic(&script, text.as_bytes())?;
        let job_id = if opts.dry_run {
            None
        } else {
            Some(sbatch(&script, after.as_deref())?)
        };
        after = job_id.clone();
        sub.waves.push(SubmittedJob {
            script,
            job_id,
            runs,
        });
    }
    let text = report_script(graph, &exe, &workdir, &dir)?;
    let script = dir.join("report.sbatch");
    write_atomic(&script, text.as_bytes())?;
    let job_id = if opts.dry_run {
        None
    } else {
        Some(sbatch(&script, after.as_deref())?)
    };
    sub.report = Some(SubmittedJob {
        script,
        job_id,
        runs: Vec::new(),
    });
    Ok(sub)
}
