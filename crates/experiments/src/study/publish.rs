//! Publishing a finished run: its records and weights copied from the run directory into
//! a results folder, where tables and other runs read them.
use std::path::Path;

use anyhow::{Context, Result};

use crate::atomic::write_atomic;

/// The records a published run keeps (its weights are written separately).
pub const RECORDS: [&str; 4] = [
    "summary.json",
    "metrics.csv",
    "spec.resolved.yaml",
    "model.json",
];

/// Copies the finished run in `run_dir` into `dest` (created if missing): its records,
/// and its weights as `model.safetensors` (`half`: in half precision). Each file is
/// written atomically; the summary goes last, so a record whose summary is there is
/// whole.
pub fn publish_run(run_dir: &Path, dest: &Path, half: bool) -> Result<()> {
    let summary = run_dir.join("summary.json");
    crate::summary::Summary::read(&summary)
        .with_context(|| format!("{} is not a finished run", run_dir.display()))?;
    std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
    let cfg = crate::model_dir::read_model_config(run_dir)?;
    let model = crate::model_dir::load_model_dir(run_dir, &cfg, tch::Device::Cpu)?;
    let kind = if half {
        tch::Kind::Half
    } else {
        tch::Kind::Float
    };
    engine::save_weights(&model.vs, &dest.join("model.safetensors"), kind)?;
    for f in RECORDS.iter().rev() {
        let src = run_dir.join(f);
        if src.is_file() {
            let bytes =
                std::fs::read(&src).with_context(|| format!("reading {}", src.display()))?;
            write_atomic(&dest.join(f), &bytes)?;
        }
    }
    Ok(())
}
