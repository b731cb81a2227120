//! Model folders: `model.json` (the width configuration) beside `model.safetensors`, as
//! run directories and published records hold them.
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use engine::load_weights;
use models::ModelConfig;
use pruner::PrunedModel;
use tch::nn::VarStore;
use tch::Device;

/// The width configuration file a model argument names: `model.json` inside a model
/// folder, else the path itself.
pub fn model_json_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("model.json")
    } else {
        path.to_path_buf()
    }
}

/// Reads a width configuration: `path` is a model folder or its `model.json`.
pub fn read_model_config(path: &Path) -> Result<ModelConfig> {
    let json = model_json_path(path);
    let bytes = std::fs::read(&json).with_context(|| format!("reading {}", json.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a model width configuration", json.display()))
}

/// Loads a model folder (`model.json` + `model.safetensors`), checking that its widths
/// are the ones the spec's `model` section describes.
pub fn load_model_dir(dir: &Path, expected: &ModelConfig, device: Device) -> Result<PrunedModel> {
    let json = dir.join("model.json");
    let cfg = read_model_config(dir)?;
    cfg.validate()
        .with_context(|| format!("{}: invalid widths", json.display()))?;
    if &cfg != expected {
        bail!(
            "{} describes another network than the spec's `model` section ({} vs {})",
            json.display(),
            cfg.arch_name(),
            expected.arch_name()
        );
    }
    let weights = dir.join("model.safetensors");
    if !weights.is_file() {
        // A results folder can hold a run's record without its weights (large models are
        // not committed): say which run produces them.
        let spec = analysis::record::Summary::read(&dir.join("summary.json"))
            .map(|s| s.spec_name)
            .unwrap_or_else(|_| "<the spec that trained it>".into());
        bail!(
            "{} is missing: this folder holds the record of a run (`{spec}`) but not its \
             weights; run the study (or spec) that publishes it here again",
            weights.display()
        );
    }
    let vs = VarStore::new(device);
    let net = cfg.build(&vs.root())?;
    load_weights(&vs, &weights)
        .with_context(|| format!("loading the model in {}", dir.display()))?;
    Ok(PrunedModel {
        config: cfg,
        vs,
        net,
    })
}
