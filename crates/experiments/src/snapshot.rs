//! Snapshots of unfinished runs: the resumable state of `<output>/<spec name>/seed*/`
//! (training checkpoint, C2S2's finished groups, Network Slimming's sparsity phase, the
//! fine-tune's checkpoint) copied into
//! `results/in_progress/<spec name>/` with a README saying how to resume, so the state
//! can be committed and resumed on another machine. `report` does not read it.
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context, Result};

use crate::run_progress::RunProgress;

/// The parts of a run directory that resuming needs (besides `spec.resolved.yaml`).
/// `sparsity` is Network Slimming's sparsity phase: without it a run resumed in its
/// fine-tune would train the phase again before it could cut the same channels.
const RESUMABLE_PARTS: [&str; 5] = ["checkpoint", "c2s2", "sparsity", "finetune", "metrics.csv"];

/// Copies tried before giving up on a run that keeps committing new state.
const ATTEMPTS: usize = 5;

/// What a snapshot holds for one run directory.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotRun {
    /// The run directory's name (`seed0-<key>`).
    pub dir_name: String,
    /// What its checkpoints committed.
    pub progress: RunProgress,
}

/// Every file below `dir` with its size and modification time: equal before and after a
/// copy means the run committed nothing meanwhile.
fn fingerprint(dir: &Path) -> Result<Vec<(PathBuf, u64, SystemTime)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let e = e?;
            let meta = e.metadata()?;
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                out.push((e.path(), meta.len(), meta.modified()?));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Copies file or folder `from` to `to`, recursively.
pub(crate) fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
        for e in std::fs::read_dir(from)? {
            let e = e?;
            copy_tree(&e.path(), &to.join(e.file_name()))?;
        }
    } else {
        std::fs::copy(from, to)
            .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}

/// Copies the resumable parts of `run` into `to`, again until nothing in `run` changed
/// during a copy (a live run may commit an epoch or a group meanwhile).
fn copy_stable(run: &Path, to: &Path) -> Result<()> {
    for attempt in 1..=ATTEMPTS {
        let before = fingerprint(run)?;
        if to.exists() {
            std::fs::remove_dir_all(to)?;
        }
        std::fs::create_dir_all(to)?;
        copy_tree(
            &run.join("spec.resolved.yaml"),
            &to.join("spec.resolved.yaml"),
        )?;
        for part in RESUMABLE_PARTS {
            let p = run.join(part);
            if p.exists() {
                copy_tree(&p, &to.join(part))?;
            }
        }
        if fingerprint(run)? == before {
            return Ok(());
        }
        if attempt < ATTEMPTS {
            std::thread::sleep(Duration::from_secs(2));
        }
    }
    bail!(
        "{} kept changing during {ATTEMPTS} copies; try again",
        run.display()
    )
}

/// Snapshots every unfinished run of spec `name` under `output` into `<dest>/<name>/`
/// (replacing an older snapshot only once the new one is complete). Finished runs
/// (with `summary.json`) are left out: they are published, not resumed.
pub fn snapshot(
    output: &Path,
    name: &str,
    dest: &Path,
    note: Option<&str>,
) -> Result<Vec<SnapshotRun>> {
    let spec_dir = output.join(name);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&spec_dir)
        .with_context(|| format!("no run directory under {}", spec_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("seed"))
        })
        .collect();
    dirs.sort();
    std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .tempdir_in(dest)
        .with_context(|| format!("creating a temporary folder in {}", dest.display()))?;
    let mut runs = Vec::new();
    for d in &dirs {
        let dir_name = d
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if d.join("summary.json").exists() || !d.join("spec.resolved.yaml").exists() {
            continue;
        }
        let to = tmp.path().join(&dir_name);
        copy_stable(d, &to)?;
        runs.push(SnapshotRun {
            dir_name,
            progress: RunProgress::read(&to),
        });
    }
    if runs.is_empty() {
        bail!("nothing unfinished under {}", spec_dir.display());
    }
    let target = dest.join(name);
    let readme = readme(output, name, &target, &runs, note);
    crate::atomic::write_atomic(&tmp.path().join("README.md"), readme.as_bytes())?;
    let staged = tmp.keep();
    if target.exists() {
        std::fs::remove_dir_all(&target)
            .with_context(|| format!("replacing {}", target.display()))?;
    }
    std::fs::rename(&staged, &target)
        .with_context(|| format!("moving {} to {}", staged.display(), target.display()))?;
    Ok(runs)
}

fn readme(
    output: &Path,
    name: &str,
    target: &Path,
    runs: &[SnapshotRun],
    note: Option<&str>,
) -> String {
    let (out, dest) = (output.display(), target.display());
    let mut md = format!(
        "# Unfinished: `{name}` (not a result)\n\n\
         Snapshot of `{out}/{name}/` taken {} by `experiments snapshot {name}`.\n\
         `report` does not read this folder. To resume, from the repository root:\n\n```sh\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    for r in runs {
        md.push_str(&format!(
            "mkdir -p {out}/{name} && cp -r {dest}/{} {out}/{name}/\n",
            r.dir_name
        ));
    }
    md.push_str("```\n\nthen run the spec or the study that holds it again; it resumes from this state.\n\nState per run directory:\n");
    for r in runs {
        let mut line = format!("- `{}`:", r.dir_name);
        let p = &r.progress;
        if let Some(e) = p.sparsity_epochs {
            line.push_str(&format!(
                " Network Slimming sparsity phase after {e} epochs;"
            ));
        }
        if let Some(e) = p.epochs_done {
            line.push_str(&format!(" training checkpoint after {e} epochs;"));
        }
        if let Some(g) = p.c2s2_groups {
            line.push_str(&format!(
                " C2S2 selection state with {g} finished group(s);"
            ));
        }
        md.push_str(&line);
        md.push('\n');
    }
    if let Some(n) = note {
        md.push_str(&format!("\n{n}\n"));
    }
    md
}
