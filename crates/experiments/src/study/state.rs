//! Where each run of a study stands, read from the file system alone: its published
//! record, its run directory, and those of the runs it takes from.
use std::fmt;
use std::path::{Path, PathBuf};

use super::graph::{RunGraph, Source};
use crate::lock::RunLock;
use crate::run_key::{hashed_inputs, identity_without_files, run_dir, run_key};
use crate::run_progress::RunProgress;
use crate::spec::Spec;

/// The state of one run.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// Its record is published under the run key its spec hashes to.
    Published,
    /// Its record is published for the same spec, but the files its key hashes are not
    /// here (e.g. start weights that are not committed), so the key was not re-checked.
    PublishedUnchecked { missing: PathBuf },
    /// Finished in its run directory, not yet published.
    Finished { dir: PathBuf },
    /// Started: its run directory holds a checkpoint.
    Resumable { dir: PathBuf, progress: RunProgress },
    /// Being computed now by the process that holds its run lock (`pid <n> <host>`); a
    /// worker given it waits for that process and then reuses its result.
    Running {
        progress: RunProgress,
        holder: String,
    },
    /// Everything it takes from is published; it can start.
    Ready,
    /// Waits for these runs (ids) to be published.
    Waiting { on: Vec<String> },
    /// Cannot run as things stand.
    Blocked { reason: String },
    /// Its worker failed (in this invocation of the executor).
    Failed { log: PathBuf },
}

impl RunState {
    /// Published: runs taking from it can start, and nothing is left to do.
    pub fn is_published(&self) -> bool {
        matches!(
            self,
            RunState::Published | RunState::PublishedUnchecked { .. }
        )
    }

    /// A worker can take it now.
    pub fn is_runnable(&self) -> bool {
        matches!(
            self,
            RunState::Ready | RunState::Resumable { .. } | RunState::Running { .. }
        )
    }

    /// What a started run committed so far (resumable or running now).
    pub fn progress(&self) -> Option<&RunProgress> {
        match self {
            RunState::Resumable { progress, .. } | RunState::Running { progress, .. } => {
                Some(progress)
            }
            _ => None,
        }
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunState::Published => write!(f, "done"),
            RunState::PublishedUnchecked { missing } => write!(
                f,
                "done (recorded; {} is not here, so its run key was not re-checked)",
                missing.display()
            ),
            RunState::Finished { dir } => write!(f, "finished in {}, to publish", dir.display()),
            RunState::Resumable { progress, .. } => write!(f, "resumable {progress}"),
            RunState::Running { progress, holder } => {
                write!(f, "running now ({holder}), {progress}")
            }
            RunState::Ready => write!(f, "ready"),
            RunState::Waiting { on } => write!(f, "waiting on {}", on.join(", ")),
            RunState::Blocked { reason } => write!(f, "blocked: {reason}"),
            RunState::Failed { log } => write!(f, "failed (log: {})", log.display()),
        }
    }
}

/// The state of every run, in graph order. `failed` marks runs whose worker failed.
pub fn states(graph: &RunGraph, failed: &[(usize, PathBuf)]) -> Vec<RunState> {
    let mut out: Vec<RunState> = Vec::with_capacity(graph.nodes.len());
    for i in 0..graph.nodes.len() {
        let s = match failed.iter().find(|(f, _)| *f == i) {
            Some((_, log)) => RunState::Failed { log: log.clone() },
            None => state_of(graph, i, &out),
        };
        out.push(s);
    }
    out
}

fn state_of(graph: &RunGraph, i: usize, before: &[RunState]) -> RunState {
    let n = &graph.nodes[i];
    let mut waiting = Vec::new();
    for s in [&n.from, &n.widths_from, &n.macs_from]
        .into_iter()
        .flatten()
    {
        match s {
            Source::Node(j) => match &before[*j] {
                st if st.is_published() => {}
                RunState::Blocked { .. } | RunState::Failed { .. } => {
                    return RunState::Blocked {
                        reason: format!("{} cannot finish ({})", graph.nodes[*j].id, before[*j]),
                    }
                }
                _ => waiting.push(graph.nodes[*j].id.clone()),
            },
            Source::ModelDir(d) => {
                for f in ["model.json", "model.safetensors"] {
                    if !d.join(f).is_file() {
                        return RunState::Blocked {
                            reason: format!("model folder {} has no {f}", d.display()),
                        };
                    }
                }
            }
        }
    }
    if !waiting.is_empty() {
        waiting.dedup();
        return RunState::Waiting { on: waiting };
    }
    let spec = match graph.spec(i) {
        Ok(s) => s,
        Err(e) => {
            return RunState::Blocked {
                reason: format!("{e:#}"),
            }
        }
    };
    own_state(graph, i, &spec)
}

/// The published record at `dir`, if it records `spec` for `seed`: `Some(true)` when the
/// run key agrees, `Some(false)` when only the identity without file digests can be
/// compared (`key: None`) and agrees.
fn published_match(dir: &Path, spec: &Spec, seed: u64, key: Option<&str>) -> Option<bool> {
    let summary = crate::summary::Summary::read(&dir.join("summary.json")).ok()?;
    if summary.seed != seed {
        return None;
    }
    match key {
        Some(k) => (summary.run_key == k).then_some(true),
        None => {
            let text = std::fs::read_to_string(dir.join("spec.resolved.yaml")).ok()?;
            let recorded = Spec::parse(&text, &dir.join("spec.resolved.yaml")).ok()?;
            (identity_without_files(&recorded, seed) == identity_without_files(spec, seed))
                .then_some(false)
        }
    }
}

fn own_state(graph: &RunGraph, i: usize, spec: &Spec) -> RunState {
    let n = &graph.nodes[i];
    let published = graph.published_dir(i);
    let missing = hashed_inputs(spec)
        .paths()
        .find(|p| !p.exists())
        .map(Path::to_path_buf);
    if let Some(missing) = missing {
        return match published_match(&published, spec, n.seed, None) {
            Some(_) => RunState::PublishedUnchecked { missing },
            None => RunState::Blocked {
                reason: format!("{} is missing", missing.display()),
            },
        };
    }
    let key = run_key(spec, n.seed);
    if published_match(&published, spec, n.seed, Some(&key)).is_some() {
        return RunState::Published;
    }
    let dir = run_dir(spec, n.seed);
    if dir.join("summary.json").is_file() {
        return RunState::Finished { dir };
    }
    if dir.is_dir() {
        let progress = RunProgress::read(&dir);
        return match RunLock::holder(&dir) {
            Some(holder) => RunState::Running { progress, holder },
            None => RunState::Resumable { dir, progress },
        };
    }
    RunState::Ready
}
