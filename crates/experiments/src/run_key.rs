//! Run keys: a run directory is named by a hash of what the run computes (the spec's
//! identity fields, the seed, and the content of the files it starts from), so a
//! finished run is found again and a changed input gives a new run.
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::spec::Spec;

/// The fields that define what a run computes (not where or how fast).
#[derive(Serialize)]
struct RunIdentity<'a> {
    model: &'a crate::spec::ModelSpec,
    dataset_name: crate::spec::DatasetName,
    validation_split: usize,
    train_limit: Option<usize>,
    augment: bool,
    train: &'a crate::spec::TrainSpec,
    seed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    prune: Option<&'a crate::spec::PruneSpec>,
    /// SHA-256 of the starting weights, so a new pre-trained model gives a new run.
    #[serde(skip_serializing_if = "Option::is_none")]
    start_weights: Option<String>,
    /// SHA-256 of the `widths_from` file, so new target widths (a new C2S2 result the
    /// baselines copy) give a new run.
    #[serde(skip_serializing_if = "Option::is_none")]
    target_widths: Option<String>,
    /// SHA-256 of an ImageNet class list (it fixes the labels).
    #[serde(skip_serializing_if = "Option::is_none")]
    class_list: Option<String>,
    /// SHA-256 of `model.init_from`'s weights.
    #[serde(skip_serializing_if = "Option::is_none")]
    init_weights: Option<String>,
}

/// First 8 bytes of the SHA-256 of a file, as hex; `None` when it cannot be read (the
/// run itself then reports the missing file).
fn file_digest(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    Some(
        Sha256::digest(&bytes)
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

/// The safetensors file `model.init_from` names (a file, or a folder's
/// `model.safetensors`).
pub(crate) fn init_weights_path(from: &Path) -> PathBuf {
    let p = crate::data::resolve_root(from);
    if p.is_dir() {
        p.join("model.safetensors")
    } else {
        p
    }
}

/// The files a run key hashes besides the spec itself, each resolved to the path read.
/// A run computes from these, so a changed file gives a new run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HashedInputs {
    /// `prune.from`'s `model.safetensors`: the weights pruning starts from.
    pub start_weights: Option<PathBuf>,
    /// `prune.widths_from`'s `model.json`: the widths a baseline copies.
    pub target_widths: Option<PathBuf>,
    /// `dataset.class_list`: the ImageNet class list (it fixes the labels).
    pub class_list: Option<PathBuf>,
    /// `model.init_from`'s safetensors file.
    pub init_weights: Option<PathBuf>,
}

impl HashedInputs {
    /// Every named file, in a fixed order.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        [
            &self.start_weights,
            &self.target_widths,
            &self.class_list,
            &self.init_weights,
        ]
        .into_iter()
        .flatten()
        .map(PathBuf::as_path)
    }
}

/// The files `spec`'s run key hashes (see [`run_key`]).
pub fn hashed_inputs(spec: &Spec) -> HashedInputs {
    let prune = spec.prune.as_ref();
    HashedInputs {
        start_weights: prune
            .and_then(|p| p.from.as_ref())
            .map(|f| crate::data::resolve_root(f).join("model.safetensors")),
        target_widths: prune
            .and_then(|p| p.widths_from.as_ref())
            .map(|f| crate::model_dir::model_json_path(&crate::data::resolve_root(f))),
        class_list: spec
            .dataset
            .class_list
            .as_ref()
            .map(|f| crate::data::resolve_root(f)),
        init_weights: spec.model.init_from.as_ref().map(|f| init_weights_path(f)),
    }
}

impl<'a> RunIdentity<'a> {
    /// The spec's identity fields and the seed, without file digests.
    fn of(spec: &'a Spec, seed: u64) -> Self {
        RunIdentity {
            model: &spec.model,
            dataset_name: spec.dataset.name,
            validation_split: spec.dataset.validation_split,
            train_limit: spec.dataset.train_limit,
            augment: spec.dataset.augment,
            train: &spec.train,
            seed,
            prune: spec.prune.as_ref(),
            start_weights: None,
            target_widths: None,
            class_list: None,
            init_weights: None,
        }
    }
}

/// A run's identity without the digests of the files it names: what two specs must
/// agree on to be the same run when those files are not at hand (a published record
/// whose start weights are not committed).
pub fn identity_without_files(spec: &Spec, seed: u64) -> serde_json::Value {
    serde_json::to_value(RunIdentity::of(spec, seed)).expect("spec serializes")
}

/// Hash of a run's identity: 12 hex digits of SHA-256 over its canonical JSON.
pub fn run_key(spec: &Spec, seed: u64) -> String {
    let inputs = hashed_inputs(spec);
    // Unreadable start weights or widths leave their field out; an unreadable class
    // list or init file hashes as "". Both as first recorded: published keys stay valid.
    let id = RunIdentity {
        start_weights: inputs.start_weights.as_deref().and_then(file_digest),
        target_widths: inputs.target_widths.as_deref().and_then(file_digest),
        class_list: inputs
            .class_list
            .as_deref()
            .map(|f| file_digest(f).unwrap_or_default()),
        init_weights: inputs
            .init_weights
            .as_deref()
            .map(|f| file_digest(f).unwrap_or_default()),
        ..RunIdentity::of(spec, seed)
    };
    let json = serde_json::to_vec(&id).expect("spec serializes");
    let digest = Sha256::digest(&json);
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// The run directory of `seed`.
pub fn run_dir(spec: &Spec, seed: u64) -> PathBuf {
    spec.output
        .join(&spec.name)
        .join(format!("seed{seed}-{}", run_key(spec, seed)))
}
