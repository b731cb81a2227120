//! Network Slimming's sparsity phase, shared between the runs that compute the same one.
//!
//! The phase (sparsity training of the start model's BN scales) does not depend on the
//! budget the global threshold is sized to afterwards, so the points of a curve (one
//! spec, one seed, a different `macs_pruned_pct` each) would compute it again and again,
//! to the same bits. A finished phase is marked with a key of what it computed; a later
//! run of the same spec folder copies a sibling's finished phase of that key into its own run
//! directory and resumes from it (a finished checkpoint: nothing left to train), so each
//! run directory stays complete on its own and the copy gives the same result as
//! computing the phase (the data order is seeded per epoch, not by what ran before).
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::spec::{SlimmingSpec, Spec};

/// The phase's folder inside a run directory.
pub const PHASE_DIR: &str = "sparsity";
/// Written into [`PHASE_DIR`] once the phase finished: what it computed.
const MARK_FILE: &str = "phase.json";

/// The mark of a finished sparsity phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseMark {
    /// [`phase_key`] of the spec and seed that computed it.
    pub key: String,
}

/// Key of the sparsity phase that seed `seed` of `spec`, a Network Slimming run with
/// `options`, computes: its run key with the threshold's budget (`fraction`,
/// `macs_pruned_pct`, `min_channels`) left out, so it still covers the start weights,
/// the data, the training options, the sparsity strength and epochs, and the seed.
pub fn phase_key(spec: &Spec, seed: u64, options: &SlimmingSpec) -> String {
    let mut s = spec.clone();
    if let Some(p) = s.prune.as_mut() {
        p.slimming = Some(SlimmingSpec {
            fraction: None,
            macs_pruned_pct: None,
            min_channels: 0,
            ..options.clone()
        });
    }
    format!("sparsity-{}", crate::run_key::run_key(&s, seed))
}

/// Marks the finished phase in `run_dir` as computing `key` (atomically).
pub fn mark_finished(run_dir: &Path, key: &str) -> Result<()> {
    let mark = PhaseMark {
        key: key.to_string(),
    };
    crate::atomic::write_atomic(
        &run_dir.join(PHASE_DIR).join(MARK_FILE),
        &serde_json::to_vec_pretty(&mark)?,
    )
}

fn mark_of(run_dir: &Path) -> Option<PhaseMark> {
    let bytes = std::fs::read(run_dir.join(PHASE_DIR).join(MARK_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// What the finished phase in run directory `dir` (seed `seed`) computed: its mark; for
/// a run directory from before marks were written, the key its `spec.resolved.yaml`
/// gives, provided that spec still reproduces the directory's run key (so the start
/// weights it names are unchanged) and the phase's checkpoint holds every sparsity epoch.
fn finished_key(dir: &Path, seed: u64) -> Option<String> {
    if let Some(m) = mark_of(dir) {
        return Some(m.key);
    }
    let spec = Spec::load(&dir.join("spec.resolved.yaml")).ok()?;
    let name = dir.file_name()?.to_string_lossy().into_owned();
    if name != format!("seed{seed}-{}", crate::run_key::run_key(&spec, seed)) {
        return None;
    }
    let options = spec.prune.as_ref()?.slimming.clone()?;
    let epochs = crate::run_progress::RunProgress::read(dir).sparsity_epochs?;
    (epochs >= options.sparsity_epochs as u64).then(|| phase_key(&spec, seed, &options))
}

/// A sibling of `run_dir` (a run directory of the same spec folder, the same seed
/// prefix) holding a finished phase that computed `key`; the first in name order.
pub fn find_finished(run_dir: &Path, seed: u64, key: &str) -> Option<PathBuf> {
    let parent = run_dir.parent()?;
    let prefix = format!("seed{seed}-");
    let mut siblings: Vec<PathBuf> = std::fs::read_dir(parent)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p != run_dir
                && p.is_dir()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        })
        .collect();
    siblings.sort();
    siblings
        .into_iter()
        .find(|p| finished_key(p, seed).is_some_and(|k| k == key))
}

/// Copies `from`'s finished phase into `run_dir` (staged beside it, then renamed, so an
/// interrupted copy leaves no half phase behind). Does nothing when `run_dir` already
/// has a phase of its own (started or finished): that one resumes.
pub fn adopt(from: &Path, run_dir: &Path) -> Result<bool> {
    let dest = run_dir.join(PHASE_DIR);
    if dest.exists() {
        return Ok(false);
    }
    let staged = tempfile::Builder::new()
        .prefix(".sparsity.")
        .tempdir_in(run_dir)
        .with_context(|| format!("creating a temporary folder in {}", run_dir.display()))?;
    crate::snapshot::copy_tree(&from.join(PHASE_DIR), staged.path())?;
    let staged = staged.keep();
    std::fs::rename(&staged, &dest).with_context(|| {
        format!(
            "moving the copied sparsity phase {} to {}",
            staged.display(),
            dest.display()
        )
    })?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Network Slimming spec with `slimming` as its options.
    fn spec_text(slimming: &str) -> String {
        format!(
            "name: s\nmodel: {{ arch: resnet20_cifar }}\ndataset: {{ name: cifar10, root: d }}\n\
             train: {{ epochs: 15, optimizer: {{ lr: 0.1 }}, lr_schedule: {{ kind: cosine }} }}\n\
             prune:\n  method: slimming\n  from: nowhere\n  slimming: {slimming}\n"
        )
    }

    fn key(slimming: &str, seed: u64) -> String {
        let spec = Spec::parse(&spec_text(slimming), Path::new("s.yaml")).unwrap();
        let sl = spec.prune.as_ref().unwrap().slimming.clone().unwrap();
        phase_key(&spec, seed, &sl)
    }

    #[test]
    fn the_key_ignores_the_budget_only() {
        let base = key(
            "{ sparsity: 1.0e-4, sparsity_epochs: 5, macs_pruned_pct: 40.0 }",
            0,
        );
        for same in [
            "{ sparsity: 1.0e-4, sparsity_epochs: 5, macs_pruned_pct: 60.0 }",
            "{ sparsity: 1.0e-4, sparsity_epochs: 5, fraction: 0.5, min_channels: 2 }",
        ] {
            assert_eq!(key(same, 0), base, "{same}");
        }
        for other in [
            "{ sparsity: 1.0e-3, sparsity_epochs: 5, macs_pruned_pct: 40.0 }",
            "{ sparsity: 1.0e-4, sparsity_epochs: 6, macs_pruned_pct: 40.0 }",
        ] {
            assert_ne!(key(other, 0), base, "{other}");
        }
        assert_ne!(
            key(
                "{ sparsity: 1.0e-4, sparsity_epochs: 5, macs_pruned_pct: 40.0 }",
                1
            ),
            base
        );
    }

    #[test]
    fn an_unmarked_finished_phase_counts_when_its_spec_reproduces_its_run_key() {
        let tmp = tempfile::tempdir().unwrap();
        let text = |pct: f64| {
            spec_text(&format!(
                "{{ sparsity: 1.0e-4, sparsity_epochs: 5, macs_pruned_pct: {pct} }}"
            ))
        };
        let old_spec = Spec::parse(&text(40.0), Path::new("s.yaml")).unwrap();
        let old = tmp
            .path()
            .join(format!("seed0-{}", crate::run_key::run_key(&old_spec, 0)));
        std::fs::create_dir_all(old.join("sparsity/checkpoint")).unwrap();
        std::fs::write(old.join("spec.resolved.yaml"), text(40.0)).unwrap();
        let state = |epochs: u64| format!(r#"{{"state": {{"epochs_done": {epochs}}}}}"#);
        std::fs::write(old.join("sparsity/checkpoint/state.json"), state(5)).unwrap();

        let new_spec = Spec::parse(&text(60.0), Path::new("s.yaml")).unwrap();
        let sl = new_spec.prune.as_ref().unwrap().slimming.clone().unwrap();
        let key = phase_key(&new_spec, 0, &sl);
        let me = tmp.path().join("seed0-new");
        std::fs::create_dir_all(&me).unwrap();
        assert_eq!(find_finished(&me, 0, &key), Some(old.clone()));
        // An unfinished phase does not count.
        std::fs::write(old.join("sparsity/checkpoint/state.json"), state(4)).unwrap();
        assert_eq!(find_finished(&me, 0, &key), None);
        // Nor does one whose spec no longer gives the directory's key (changed inputs).
        std::fs::write(old.join("sparsity/checkpoint/state.json"), state(5)).unwrap();
        let moved = tmp.path().join("seed0-000000000000");
        std::fs::rename(&old, &moved).unwrap();
        assert_eq!(find_finished(&me, 0, &key), None);
    }

    #[test]
    fn a_marked_sibling_is_found_and_copied_once() {
        let tmp = tempfile::tempdir().unwrap();
        let spec_dir = tmp.path();
        let (a, b, c, other_seed) = (
            spec_dir.join("seed0-aaa"),
            spec_dir.join("seed0-bbb"),
            spec_dir.join("seed0-ccc"),
            spec_dir.join("seed1-ddd"),
        );
        for d in [&a, &b, &c, &other_seed] {
            std::fs::create_dir_all(d.join(PHASE_DIR)).unwrap();
        }
        // a: unfinished (no mark); b: finished, another key; c: finished, our key.
        std::fs::write(a.join(PHASE_DIR).join("metrics.csv"), "a").unwrap();
        mark_finished(&b, "k-other").unwrap();
        mark_finished(&c, "k").unwrap();
        std::fs::write(c.join(PHASE_DIR).join("metrics.csv"), "c").unwrap();
        mark_finished(&other_seed, "k").unwrap();

        let me = spec_dir.join("seed0-new");
        std::fs::create_dir_all(&me).unwrap();
        assert_eq!(find_finished(&me, 0, "k"), Some(c.clone()));
        assert_eq!(find_finished(&me, 0, "k-missing"), None);
        assert_eq!(find_finished(&me, 2, "k"), None, "seed prefix");
        assert_eq!(find_finished(&c, 0, "k"), None, "never itself");

        assert!(adopt(&c, &me).unwrap());
        assert_eq!(
            std::fs::read_to_string(me.join(PHASE_DIR).join("metrics.csv")).unwrap(),
            "c"
        );
        assert_eq!(mark_of(&me).unwrap().key, "k");
        // A phase already there is never replaced.
        assert!(!adopt(&b, &me).unwrap());
        assert_eq!(mark_of(&me).unwrap().key, "k");
        // No staging folder is left behind.
        let left: Vec<_> = std::fs::read_dir(&me).unwrap().collect();
        assert_eq!(left.len(), 1);
    }
}
