//! The local executor: a study's ready runs in dependency order, in N worker processes
//! of this same binary (`experiments run-one <study> <run>`), each logging to its own
//! file. On a CPU the cores are split among the workers; with several GPUs each worker
//! gets its own (`CUDA_VISIBLE_DEVICES`), on one GPU the workers share it.
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::graph::RunGraph;
use super::plan::uses_cuda;
use super::publish::publish_run;
use super::state::{states, RunState};

/// Options of [`run_local`].
#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// Worker processes.
    pub jobs: usize,
    /// Passed to every worker: stop each run after this many epochs.
    pub stop_after_epochs: Option<usize>,
    /// Passed to every worker: the run-directory root, overriding the study's.
    pub output: Option<PathBuf>,
    /// Seconds between progress lines.
    pub progress_every: Duration,
}

/// How the workers divide the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerLayout {
    /// libtorch threads per worker.
    pub threads: usize,
    /// CUDA devices to hand out one per worker (empty: none, or one shared by all).
    pub gpus: Vec<usize>,
}

/// Cores split evenly among `jobs` workers; GPUs one per worker when there are several.
pub fn layout(jobs: usize, cores: usize, cuda_devices: usize) -> WorkerLayout {
    WorkerLayout {
        threads: (cores / jobs.max(1)).max(1),
        gpus: if cuda_devices > 1 {
            (0..cuda_devices).collect()
        } else {
            Vec::new()
        },
    }
}

struct Worker {
    slot: usize,
    node: usize,
    child: Child,
    log: PathBuf,
    started: Instant,
}

/// Where run `id`'s worker logs: `<output>/<study>/logs/<folder>-seed<s>.log`.
pub fn log_path(graph: &RunGraph, output: &Path, node: usize) -> PathBuf {
    let n = &graph.nodes[node];
    output
        .join(&graph.study.name)
        .join("logs")
        .join(format!("{}-seed{}.log", n.folder, n.seed))
}

/// Publishes every run that finished in its run directory but is not published yet
/// (a worker killed between the two, or runs computed by hand).
pub fn publish_finished(graph: &RunGraph) -> Result<usize> {
    let mut published = 0;
    loop {
        let st = states(graph, &[]);
        let finished: Vec<(usize, PathBuf)> = st
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                RunState::Finished { dir } => Some((i, dir.clone())),
                _ => None,
            })
            .collect();
        if finished.is_empty() {
            return Ok(published);
        }
        for (i, dir) in finished {
            let dest = graph.published_dir(i);
            publish_run(&dir, &dest, graph.study.section.half_weights)
                .with_context(|| format!("publishing {}", graph.nodes[i].id))?;
            tracing::info!("published {} -> {}", graph.nodes[i].id, dest.display());
            published += 1;
        }
    }
}

/// The last line of a log file.
fn last_line(path: &Path) -> String {
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map_or(0, |m| m.len());
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(2048)));
    let mut buf = String::new();
    let _ = f.read_to_string(&mut buf);
    buf.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .chars()
        .take(120)
        .collect()
}

/// What one executor call did.
#[derive(Debug, Clone, Default)]
pub struct LocalOutcome {
    pub ran: Vec<String>,
    pub failed: Vec<(String, PathBuf)>,
    /// Runs left unpublished (stopped early, waiting on a failed run, blocked).
    pub left: Vec<(String, String)>,
}

/// Runs every runnable run of `graph` once, `opts.jobs` at a time, then returns what
/// happened. A failed run does not stop the runs that do not take from it.
pub fn run_local(graph: &RunGraph, opts: &LocalOptions) -> Result<LocalOutcome> {
    let jobs = opts.jobs.max(1);
    let exe = std::env::current_exe().context("finding this program's path for its workers")?;
    let output = opts.output.clone().unwrap_or(graph.study.output.clone());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cuda = if uses_cuda(graph) {
        usize::try_from(tch::Cuda::device_count()).unwrap_or(0)
    } else {
        0
    };
    let lay = layout(jobs, cores, cuda);
    tracing::info!(
        "study {}: {jobs} worker(s), {} thread(s) each{}",
        graph.study.name,
        lay.threads,
        if lay.gpus.is_empty() {
            String::new()
        } else {
            format!(", one of {} GPUs each", lay.gpus.len())
        }
    );
    publish_finished(graph)?;
    let mut outcome = LocalOutcome::default();
    let mut failed: Vec<(usize, PathBuf)> = Vec::new();
    let mut attempted: Vec<usize> = Vec::new();
    let mut workers: Vec<Worker> = Vec::new();
    let mut last_progress = Instant::now();
    loop {
        let st = states(graph, &failed);
        let mut free: Vec<usize> = (0..jobs)
            .filter(|s| !workers.iter().any(|w| w.slot == *s))
            .collect();
        for (i, s) in st.iter().enumerate() {
            if free.is_empty() {
                break;
            }
            if !s.is_runnable() || attempted.contains(&i) {
                continue;
            }
            let slot = free.remove(0);
            let w = spawn(graph, &exe, &output, i, slot, &lay, opts)?;
            println!(
                "[worker {}] {} ({}) started, log {}",
                slot + 1,
                graph.nodes[i].id,
                s,
                w.log.display()
            );
            attempted.push(i);
            workers.push(w);
        }
        if workers.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        let mut k = 0;
        while k < workers.len() {
            match workers[k].child.try_wait() {
                Ok(Some(status)) => {
                    let w = workers.remove(k);
                    let id = graph.nodes[w.node].id.clone();
                    let secs = w.started.elapsed().as_secs_f64();
                    if status.success() {
                        println!(
                            "[worker {}] {id} finished in {}",
                            w.slot + 1,
                            super::plan::duration(secs)
                        );
                        outcome.ran.push(id);
                    } else {
                        println!(
                            "[worker {}] {id} FAILED ({status}) after {}; log {}: {}",
                            w.slot + 1,
                            super::plan::duration(secs),
                            w.log.display(),
                            last_line(&w.log)
                        );
                        outcome.failed.push((id, w.log.clone()));
                        failed.push((w.node, w.log));
                    }
                    let st = states(graph, &failed);
                    let done = st.iter().filter(|s| s.is_published()).count();
                    println!(
                        "study {}: {done} of {} runs done, {} running, {} failed",
                        graph.study.name,
                        st.len(),
                        workers.len(),
                        failed.len()
                    );
                }
                Ok(None) => k += 1,
                Err(e) => return Err(e).context("waiting for a worker"),
            }
        }
        if last_progress.elapsed() >= opts.progress_every {
            last_progress = Instant::now();
            for w in &workers {
                println!(
                    "[worker {}] {} ({}): {}",
                    w.slot + 1,
                    graph.nodes[w.node].id,
                    super::plan::duration(w.started.elapsed().as_secs_f64()),
                    last_line(&w.log)
                );
            }
        }
    }
    let st = states(graph, &failed);
    for (n, s) in graph.nodes.iter().zip(&st) {
        if !s.is_published() && !matches!(s, RunState::Failed { .. }) {
            outcome.left.push((n.id.clone(), s.to_string()));
        }
    }
    Ok(outcome)
}

fn spawn(
    graph: &RunGraph,
    exe: &Path,
    output: &Path,
    node: usize,
    slot: usize,
    lay: &WorkerLayout,
    opts: &LocalOptions,
) -> Result<Worker> {
    let log = log_path(graph, output, node);
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .with_context(|| format!("opening {}", log.display()))?;
    let mut cmd = Command::new(exe);
    cmd.arg("run-one")
        .arg(&graph.study.file)
        .arg(&graph.nodes[node].id)
        .arg("--threads")
        .arg(lay.threads.to_string());
    if let Some(o) = &opts.output {
        cmd.arg("--output").arg(o);
    }
    if let Some(n) = opts.stop_after_epochs {
        cmd.arg("--stop-after-epochs").arg(n.to_string());
    }
    if !lay.gpus.is_empty() {
        cmd.env(
            "CUDA_VISIBLE_DEVICES",
            lay.gpus[slot % lay.gpus.len()].to_string(),
        );
    }
    let err = file.try_clone().context("duplicating the log handle")?;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(err))
        .spawn()
        .with_context(|| format!("starting worker {}", exe.display()))?;
    Ok(Worker {
        slot,
        node,
        child,
        log,
        started: Instant::now(),
    })
}
