//! A study expanded into its runs: one [`RunNode`] per entry point and seed, each
//! knowing which runs (or model folders) it takes from. Runs take from each other
//! through the published records (`<results>/<setting>/<folder>[/seed<s>]`), so a run's
//! spec, and with it its run key, is the one a hand-written spec naming those folders
//! would have.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_norway::Value;

use super::spec::{fill_refs, EntryKind, EntryRef, Refs, Study};
use crate::spec::{PruneMethod, Spec};
use crate::summary::Summary;

/// What a run takes from: another run of the study, or a model folder given by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Node(usize),
    ModelDir(PathBuf),
}

/// One run of a study: one seed of one entry point.
#[derive(Debug, Clone, PartialEq)]
pub struct RunNode {
    /// `<folder>/seed<s>`: how `plan`, `run-one` and the logs name it.
    pub id: String,
    pub entry: String,
    /// Folder under `<results>/<setting>/` (the entry's name, `_<variant>` added).
    pub folder: String,
    pub variant: Option<String>,
    pub seed: u64,
    /// The first seed of its point: published at the folder's root, the others in
    /// `seed<s>/` below it.
    pub at_root: bool,
    pub method: Option<PruneMethod>,
    /// The merged spec without the fields the sources fill in.
    value: Value,
    refs: Refs,
    pub from: Option<Source>,
    pub widths_from: Option<Source>,
    pub macs_from: Option<Source>,
}

impl RunNode {
    /// The runs this one waits for.
    pub fn deps(&self) -> Vec<usize> {
        let mut d: Vec<usize> = [&self.from, &self.widths_from, &self.macs_from]
            .into_iter()
            .filter_map(|s| match s {
                Some(Source::Node(i)) => Some(*i),
                _ => None,
            })
            .collect();
        d.sort_unstable();
        d.dedup();
        d
    }

    /// The method as tables name it (`unpruned` for plain training).
    pub fn method_name(&self) -> &'static str {
        match self.method {
            None => "unpruned",
            Some(PruneMethod::C2s2) => "c2s2",
            Some(PruneMethod::L1Norm) => "l1_norm",
            Some(PruneMethod::Slimming) => "slimming",
            Some(PruneMethod::Random) => "random",
            Some(PruneMethod::Scratch) => "scratch",
            Some(PruneMethod::UniformL1Norm) => "uniform_l1_norm",
        }
    }
}

/// A study's runs in dependency order (a run comes after those it takes from).
#[derive(Debug, Clone)]
pub struct RunGraph {
    pub study: Study,
    pub nodes: Vec<RunNode>,
}

impl RunGraph {
    /// Expands `study` into its runs.
    pub fn new(study: Study) -> RunGraph {
        let mut nodes: Vec<RunNode> = Vec::new();
        for entry in &study.entries {
            let EntryKind::Runs { refs, points } = &entry.kind else {
                continue;
            };
            for point in points {
                let folder = entry.folder(point);
                for (k, &seed) in point.seeds.iter().enumerate() {
                    let source = |r: &Option<EntryRef>| {
                        r.as_ref()
                            .map(|r| resolve(&study, &nodes, r, point.variant.as_deref(), seed))
                    };
                    let node = RunNode {
                        id: format!("{folder}/seed{seed}"),
                        entry: entry.name.clone(),
                        folder: folder.clone(),
                        variant: point.variant.clone(),
                        seed,
                        at_root: k == 0,
                        method: point.method,
                        value: point.value.clone(),
                        refs: refs.clone(),
                        from: source(&refs.from),
                        widths_from: source(&refs.widths_from),
                        macs_from: source(&refs.macs_from),
                    };
                    nodes.push(node);
                }
            }
        }
        RunGraph { study, nodes }
    }

    /// The run called `id` (`<folder>/seed<s>`).
    pub fn find(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// Where run `i` is published: `<results>/<setting>/<folder>`, or its `seed<s>/`
    /// subfolder for a point's further seeds.
    pub fn published_dir(&self, i: usize) -> PathBuf {
        let n = &self.nodes[i];
        let dir = self.study.setting_dir().join(&n.folder);
        if n.at_root {
            dir
        } else {
            dir.join(format!("seed{}", n.seed))
        }
    }

    /// The model folder a source names.
    pub fn source_dir(&self, s: &Source) -> PathBuf {
        match s {
            Source::Node(j) => self.published_dir(*j),
            Source::ModelDir(d) => d.clone(),
        }
    }

    /// Run `i`'s single-run spec, with the paths of what it takes from filled in (and,
    /// for `macs_from`, the share of MACs its source removed, read from the source's
    /// published record, which must exist).
    pub fn spec(&self, i: usize) -> Result<Spec> {
        self.spec_inner(i, false)
    }

    /// Run `i`'s spec for estimates and listings: as [`RunGraph::spec`], but a
    /// `macs_from` source that has not run yet gives a placeholder share of 50%.
    pub fn spec_sketch(&self, i: usize) -> Result<Spec> {
        self.spec_inner(i, true)
    }

    fn spec_inner(&self, i: usize, sketch: bool) -> Result<Spec> {
        let n = &self.nodes[i];
        let from = n.from.as_ref().map(|s| self.source_dir(s));
        let widths = n
            .widths_from
            .as_ref()
            .map(|s| self.source_dir(s).join("model.json"));
        let pct = match &n.macs_from {
            Some(s) => match macs_removed_pct(&self.source_dir(s)) {
                Ok(p) => Some(p),
                Err(_) if sketch => Some(50.0),
                Err(e) => return Err(e),
            },
            None => None,
        };
        let mut value = fill_refs(
            n.value.clone(),
            &n.refs,
            from.as_deref().unwrap_or(Path::new("")),
            widths.as_deref().unwrap_or(Path::new("")),
            pct,
        );
        if let Value::Mapping(m) = &mut value {
            m.insert("seeds".into(), Value::Sequence(vec![n.seed.into()]));
        }
        Spec::from_value(value, &self.study.file)
            .map_err(|e| e.map_field(|f| format!("entries.{} (run {}): {f}", n.entry, n.id)))
            .map_err(anyhow::Error::from)
    }

    /// The runs grouped into waves: a run's wave is one more than the latest wave of
    /// the runs it takes from, so each wave needs only the ones before it.
    pub fn waves(&self, pending: &[usize]) -> Vec<Vec<usize>> {
        let mut depth = vec![0usize; self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            depth[i] = n
                .deps()
                .iter()
                .filter(|d| pending.contains(d))
                .map(|&d| depth[d] + 1)
                .max()
                .unwrap_or(0);
        }
        let mut waves: Vec<Vec<usize>> = Vec::new();
        for &i in pending {
            let d = depth[i];
            if waves.len() <= d {
                waves.resize(d + 1, Vec::new());
            }
            waves[d].push(i);
        }
        waves.retain(|w| !w.is_empty());
        waves
    }
}

/// The node (or model folder) `r` names for a run of variant `variant` and `seed`.
fn resolve(
    study: &Study,
    nodes: &[RunNode],
    r: &EntryRef,
    variant: Option<&str>,
    seed: u64,
) -> Source {
    let target = study
        .entry(&r.entry)
        .expect("checked: references name entries");
    let EntryKind::Runs { points, .. } = &target.kind else {
        let EntryKind::ModelDir(d) = &target.kind else {
            unreachable!()
        };
        return Source::ModelDir(d.clone());
    };
    // A varied source is followed variant by variant; a single point serves all.
    let point = points
        .iter()
        .find(|p| p.variant.as_deref() == variant)
        .unwrap_or(&points[0]);
    let s = r.seed.unwrap_or(if point.seeds.contains(&seed) {
        seed
    } else {
        point.seeds[0]
    });
    let folder = target.folder(point);
    let j = nodes
        .iter()
        .position(|n| n.folder == folder && n.seed == s)
        .expect("checked: entries come after their sources, pinned seeds exist");
    Source::Node(j)
}

/// The percentage of its start model's MACs a published pruning run removed, rounded to
/// hundredths (the precision a hand-written `macs_pruned_pct` takes).
pub fn macs_removed_pct(dir: &Path) -> Result<f64> {
    let file = dir.join("summary.json");
    let s = Summary::read(&file).with_context(|| format!("prune.macs_from: {}", file.display()))?;
    let p = s.pruning.as_ref().with_context(|| {
        format!(
            "prune.macs_from: {} is not a pruning run (it has no pruning record)",
            file.display()
        )
    })?;
    anyhow::ensure!(
        p.start_macs > 0,
        "prune.macs_from: {} records 0 start MACs",
        file.display()
    );
    let pct = 100.0 * (1.0 - s.macs as f64 / p.start_macs as f64);
    Ok((pct * 100.0).round() / 100.0)
}
