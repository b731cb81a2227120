//! Studies: one YAML file per thesis table, expanded into a graph of runs that execute
//! locally ([`local`]) or as Slurm job arrays ([`slurm`]), publish into
//! `<results>/<setting>/` and end in that setting's table and plots.
//!
//! ```text
//! spec (YAML) --Study::load--> Study --RunGraph::new--> RunGraph --states--> plan
//!                                                            |--> run_local / submit
//!                                                            `--> run_one (a worker)
//! ```
pub mod graph;
pub mod local;
pub mod plan;
pub mod publish;
pub mod slurm;
pub mod spec;
pub mod state;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use graph::{RunGraph, RunNode, Source};
pub use spec::{file_is_study, Study};
pub use state::{states, RunState};

use crate::run::{execute, RunOptions};
use crate::run_key::run_dir;

impl Study {
    /// Replaces the root of run directories (the `--output` flag).
    pub fn set_output(&mut self, output: &Path) {
        self.output = output.to_path_buf();
        for e in &mut self.entries {
            if let spec::EntryKind::Runs { points, .. } = &mut e.kind {
                for p in points {
                    if let serde_norway::Value::Mapping(m) = &mut p.value {
                        m.insert(
                            "output".into(),
                            output.to_string_lossy().into_owned().into(),
                        );
                    }
                }
            }
        }
    }
}

/// Loads the study at `file` as a graph, with `output` replacing its run-directory root.
pub fn load_graph(file: &Path, output: Option<&Path>) -> Result<RunGraph> {
    let mut study = Study::load(file)?;
    if let Some(o) = output {
        study.set_output(o);
    }
    Ok(RunGraph::new(study))
}

/// Options of [`run_one`].
#[derive(Debug, Clone, Default)]
pub struct RunOneOptions {
    /// libtorch threads (overrides the spec's `threads`).
    pub threads: Option<usize>,
    pub stop_after_epochs: Option<usize>,
}

/// Computes run `id` of the study (resuming it, or reusing it when finished) and
/// publishes it. Every run it takes from must be published.
pub fn run_one(graph: &RunGraph, id: &str, opts: &RunOneOptions) -> Result<()> {
    let i = graph.find(id).with_context(|| {
        let ids: Vec<&str> = graph.nodes.iter().map(|n| n.id.as_str()).collect();
        format!(
            "{}: no run `{id}` (runs: {})",
            graph.study.file.display(),
            ids.join(", ")
        )
    })?;
    let st = states(graph, &[]);
    match &st[i] {
        s if s.is_published() => {
            println!("{id}: {s}; nothing to do");
            return Ok(());
        }
        s @ (RunState::Waiting { .. } | RunState::Blocked { .. }) => {
            anyhow::bail!("{id} cannot start: {s}")
        }
        _ => {}
    }
    let mut spec = graph.spec(i)?;
    if let Some(t) = opts.threads {
        spec.threads = Some(t);
    }
    crate::preflight::check(&spec, &graph.study.file)?;
    let seed = graph.nodes[i].seed;
    let summaries = execute(
        &spec,
        &RunOptions {
            stop_after_epochs: opts.stop_after_epochs,
        },
    )
    .with_context(|| format!("run {id} of {}", graph.study.file.display()))?;
    if summaries.is_empty() {
        println!("{id}: stopped early; running the study again resumes it");
        return Ok(());
    }
    let dest = graph.published_dir(i);
    publish::publish_run(
        &run_dir(&spec, seed),
        &dest,
        graph.study.section.half_weights,
    )?;
    println!("{id}: published into {}", dest.display());
    Ok(())
}

/// Writes the study's table and plots (`report` for its setting).
pub fn report(graph: &RunGraph) -> Result<analysis::SettingReport> {
    let s = &graph.study.section;
    let setting = analysis::setting::setting(&s.setting).context("checked at load")?;
    let paths = analysis::ReportPaths {
        results: s.results.clone(),
        published: s.published.clone(),
    };
    Ok(analysis::report_setting(&paths, setting)?)
}

/// The study's table, where `report` writes it.
pub fn table_path(graph: &RunGraph) -> PathBuf {
    graph.study.setting_dir().join("table.md")
}
