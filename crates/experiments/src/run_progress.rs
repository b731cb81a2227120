//! How far an unfinished run directory got, read from the checkpoints it committed:
//! the one reading that `plan`'s state column and estimates and `snapshot`'s README
//! share. Reads manifests only (`engine::SnapshotDir::committed_state`); resuming
//! checks the files themselves.
use std::fmt;
use std::path::Path;

/// The committed progress of one run directory (`<output>/<spec name>/seed<k>-<key>/`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunProgress {
    /// Epochs in the training checkpoint that resumes: `finetune/checkpoint/` for a
    /// pruning run, `checkpoint/` for a training run.
    pub epochs_done: Option<u64>,
    /// C2S2 groups whose selection finished (`c2s2/`).
    pub c2s2_groups: Option<usize>,
    /// Network Slimming's sparsity epochs (`sparsity/checkpoint/`).
    pub sparsity_epochs: Option<u64>,
}

impl RunProgress {
    /// The progress committed under run directory `dir`; all `None` when nothing was.
    pub fn read(dir: &Path) -> Self {
        let state = |f: &str| -> Option<serde_json::Value> {
            engine::SnapshotDir::new(dir.join(f)).committed_state()
        };
        let epochs = |f: &str| state(f)?.get("epochs_done")?.as_u64();
        Self {
            epochs_done: epochs("finetune/checkpoint").or_else(|| epochs("checkpoint")),
            c2s2_groups: state("c2s2")
                .and_then(|v| Some(v.get("report")?.get("groups")?.as_array()?.len())),
            sparsity_epochs: epochs("sparsity/checkpoint"),
        }
    }

    /// True when the run committed nothing yet.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// `sparsity phase after 5 epochs, after epoch 16`; `nothing committed yet`.
impl fmt::Display for RunProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(e) = self.sparsity_epochs {
            parts.push(format!("sparsity phase after {e} epochs"));
        }
        if let Some(g) = self.c2s2_groups {
            parts.push(format!("C2S2 selection with {g} finished group(s)"));
        }
        if let Some(e) = self.epochs_done {
            parts.push(format!("after epoch {e}"));
        }
        if parts.is_empty() {
            return f.write_str("(started, nothing committed yet)");
        }
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(dir: &Path, state: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let manifest = format!(r#"{{"format": "x", "files": {{}}, "state": {state}}}"#);
        std::fs::write(dir.join("state.json"), manifest).unwrap();
    }

    #[test]
    fn reads_each_phase_and_prefers_the_fine_tune() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path();
        assert!(RunProgress::read(run).is_empty());
        commit(&run.join("checkpoint"), r#"{"epochs_done": 40}"#);
        assert_eq!(RunProgress::read(run).epochs_done, Some(40));
        commit(&run.join("finetune/checkpoint"), r#"{"epochs_done": 7}"#);
        commit(&run.join("sparsity/checkpoint"), r#"{"epochs_done": 5}"#);
        commit(&run.join("c2s2"), r#"{"report": {"groups": [1, 2]}}"#);
        let p = RunProgress::read(run);
        assert_eq!(
            p,
            RunProgress {
                epochs_done: Some(7),
                c2s2_groups: Some(2),
                sparsity_epochs: Some(5),
            }
        );
        assert_eq!(
            p.to_string(),
            "sparsity phase after 5 epochs, C2S2 selection with 2 finished group(s), after epoch 7"
        );
    }
}
