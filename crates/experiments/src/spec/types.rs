//! The spec's schema. Every field is documented in `experiments/README.md`.
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One experiment: a model, a data set, a training schedule, and where to run it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Short name; the run directories live under `<output>/<name>/`.
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub model: ModelSpec,
    pub dataset: DatasetSpec,
    /// For plain training: the schedule. With `prune`: the final fine-tune (or, for
    /// `scratch`, the training from random initialisation).
    pub train: TrainSpec,
    /// Prune a pre-trained model instead of training one (the method and its options).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune: Option<PruneSpec>,
    #[serde(default)]
    pub device: DeviceSpec,
    /// CPU threads for libtorch; `null` uses every core.
    #[serde(default)]
    pub threads: Option<usize>,
    /// The run is repeated once per seed.
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Root folder of run directories.
    #[serde(default = "default_output")]
    pub output: PathBuf,
}

fn default_seeds() -> Vec<u64> {
    vec![0]
}
fn default_output() -> PathBuf {
    PathBuf::from("runs")
}

/// Architecture names accepted in `model.arch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    Vgg16Cifar,
    Resnet20Cifar,
    Resnet32Cifar,
    Resnet56Cifar,
    Resnet18,
    Fcn32s,
}

impl Arch {
    /// The data set this project trains the architecture on.
    pub fn dataset(self) -> DatasetName {
        match self {
            Arch::Vgg16Cifar | Arch::Resnet20Cifar | Arch::Resnet32Cifar | Arch::Resnet56Cifar => {
                DatasetName::Cifar10
            }
            Arch::Resnet18 => DatasetName::Imagenet,
            Arch::Fcn32s => DatasetName::Voc2011,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub arch: Arch,
    /// CIFAR ResNets only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shortcut: Option<models::Shortcut>,
    /// Per-layer widths that replace the architecture's defaults (a pruned network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widths: Option<WidthsSpec>,
    /// Defaults to the data set's class count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_classes: Option<i64>,
    /// Plain training only: initialise every variable this safetensors file (or a
    /// folder's `model.safetensors`) holds under the same name and shape, e.g. an
    /// ImageNet VGG-16 backbone for FCN-32s; the others keep their random init.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_from: Option<PathBuf>,
}

/// Width overrides; which keys apply depends on the architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct WidthsSpec {
    /// VGG-16 / FCN backbone: the 13 conv widths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub convs: Option<Vec<i64>>,
    /// ResNets: the residual-stream width of each stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stages: Option<Vec<i64>>,
    /// ResNets: the inner width of every block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inner: Option<Vec<i64>>,
    /// VGG-16 CIFAR: the hidden classifier width.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fc6: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fc7: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetName {
    Cifar10,
    Imagenet,
    Voc2011,
}

impl DatasetName {
    /// The data set's class count (ImageNet: the full 1,000).
    pub fn num_classes(self) -> i64 {
        match self {
            DatasetName::Cifar10 => 10,
            DatasetName::Imagenet => 1000,
            DatasetName::Voc2011 => 21,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSpec {
    pub name: DatasetName,
    /// Folder of the data set (relative paths are taken from the working directory).
    pub root: PathBuf,
    /// Where decoded images are cached; default `<root>/.cache`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_dir: Option<PathBuf>,
    /// Images carved from the training set, class-balanced, for validation (decisions
    /// such as the cost-aware guard use it; the test set never steers anything).
    #[serde(default)]
    pub validation_split: usize,
    /// Use only the first N training images (after the validation split); for smoke runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_limit: Option<usize>,
    /// Standard augmentation of the data set: CIFAR pad 4 + random crop + horizontal
    /// flip; ImageNet random-resized crop + horizontal flip.
    #[serde(default = "yes")]
    pub augment: bool,
    /// ImageNet: file naming the classes in label order, one per line (e.g. ILSVRC's
    /// `synsets.txt`); default: the sorted folder names of `train/`. Give it when only
    /// some classes are present, so labels keep their ImageNet index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_list: Option<PathBuf>,
    /// ImageNet: labels of a flat `val/` folder (the raw ILSVRC-2012 validation tar),
    /// lines `<file> <class index or name>`; default: `val/<class>/` folders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_labels: Option<PathBuf>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSpec {
    pub epochs: usize,
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    #[serde(default = "default_eval_batch")]
    pub eval_batch_size: usize,
    pub optimizer: OptimizerSpec,
    pub lr_schedule: LrScheduleSpec,
    /// `bf16`: the forward pass under libtorch's autocast (float32 master weights).
    #[serde(default, deserialize_with = "precision")]
    pub precision: engine::Precision,
    /// NHWC memory layout for convolutions (faster with oneDNN on CPU).
    #[serde(default = "yes")]
    pub channels_last: bool,
}

fn default_batch() -> usize {
    128
}
fn default_eval_batch() -> usize {
    500
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerSpec {
    pub lr: f64,
    #[serde(default = "default_momentum")]
    pub momentum: f64,
    #[serde(default)]
    pub weight_decay: f64,
    #[serde(default)]
    pub nesterov: bool,
}

fn default_momentum() -> f64 {
    0.9
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleName {
    Constant,
    MultiStep,
    Cosine,
}

/// The spec's learning-rate section, flat (`kind` beside every kind's options) rather
/// than `engine::ScheduleKind` (tagged, each kind with only its own fields): run keys
/// hash this form, so every committed run keeps its key; `resolve::train_config` turns
/// it into the engine's schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LrScheduleSpec {
    pub kind: ScheduleName,
    /// multi_step: epochs at which the rate is multiplied by `gamma`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub milestones: Vec<usize>,
    #[serde(default = "default_gamma")]
    pub gamma: f64,
    /// cosine: the final rate.
    #[serde(default)]
    pub min_lr: f64,
    /// Linear warm-up from ~0 to the base rate over this many epochs.
    #[serde(default)]
    pub warmup_epochs: f64,
}

fn default_gamma() -> f64 {
    0.1
}

/// Reads `train.precision` as the engine's own [`engine::Precision`], with a reason for
/// the one value it refuses: `fp16` needs loss scaling, which is not implemented.
fn precision<'de, D: serde::Deserializer<'de>>(d: D) -> Result<engine::Precision, D::Error> {
    let name = String::deserialize(d)?;
    match name.as_str() {
        "fp16" => Err(serde::de::Error::custom(
            "fp16 needs loss scaling, which is not implemented; use bf16 (autocast) or fp32",
        )),
        _ => engine::Precision::deserialize(serde::de::value::StrDeserializer::<D::Error>::new(
            &name,
        )),
    }
}

/// Where to compute. Not a mirror: `auto` is the spec's own choice, resolved on the machine
/// that runs it (`resolve::pick_device`) into a `tch::Device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DeviceSpec {
    /// CUDA when available, else CPU.
    #[default]
    Auto,
    Cpu,
    Cuda,
}

/// The pruning methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PruneMethod {
    /// C2S2 (this thesis).
    C2s2,
    /// L1-norm filter pruning (Li et al. 2017): the smallest-L1 filters, one shot.
    L1Norm,
    /// Network Slimming (Liu et al. 2017): sparsity training on BN scales, one global
    /// threshold.
    Slimming,
    /// Random channels at given widths (control).
    Random,
    /// The given widths trained from random initialisation (control).
    Scratch,
    /// L1-norm filters with one keep ratio in every prunable layer, sized to a MACs
    /// budget (`prune.uniform`): what per-layer widths are worth at the same cost.
    UniformL1Norm,
}

/// The `prune` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PruneSpec {
    pub method: PruneMethod,
    /// Folder of the pre-trained model (`model.safetensors` + `model.json`), e.g. a
    /// finished run directory or results/<setting>/pretrained. Not used by `scratch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<PathBuf>,
    /// C2S2 options (defaults: ../shared/reference/c2s2.md section 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c2s2: Option<pruner::c2s2::C2s2Config>,
    /// Network Slimming options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slimming: Option<SlimmingSpec>,
    /// uniform_l1_norm's budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uniform: Option<UniformSpec>,
    /// Target widths for `l1_norm`, `random` and `scratch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widths: Option<WidthsSpec>,
    /// Or: take the target widths from this `model.json` (e.g. what C2S2 found).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widths_from: Option<PathBuf>,
}

/// The budget of `uniform_l1_norm`: one keep ratio for every prunable layer, the largest
/// that removes at least `macs_pruned_pct` percent of the start model's MACs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UniformSpec {
    /// Percentage of MACs to remove, in (0, 100) (a study's `macs_from` fills it in).
    pub macs_pruned_pct: f64,
    /// Channels every layer keeps at least.
    #[serde(default = "d_min_channels")]
    pub min_channels: usize,
}

/// Network Slimming's options (Liu et al. 2017).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlimmingSpec {
    /// s of the L1 subgradient s * sign(gamma) on BN scales.
    #[serde(default = "d_s")]
    pub sparsity: f64,
    /// Epochs of sparsity training from the pre-trained model (with `train`'s optimizer
    /// and schedule kind) before the channels are cut.
    #[serde(default = "d_sparsity_epochs")]
    pub sparsity_epochs: usize,
    /// Fraction of all prunable channels removed by the global threshold
    /// ([`SLIMMING_FRACTION`] when neither this nor `macs_pruned_pct` is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction: Option<f64>,
    /// Instead of `fraction`: the threshold removes the fewest channels that take at
    /// least this percentage of the model's MACs (a comparison at a matched budget).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub macs_pruned_pct: Option<f64>,
    #[serde(default = "d_min_channels")]
    pub min_channels: usize,
}

/// Network Slimming's channel fraction when a spec sizes the threshold by neither
/// `fraction` nor `macs_pruned_pct` (the paper's CIFAR setting).
pub const SLIMMING_FRACTION: f64 = 0.7;

impl SlimmingSpec {
    /// What the global threshold is sized by.
    pub fn budget(&self) -> pruner::SlimmingBudget {
        match (self.macs_pruned_pct, self.fraction) {
            (Some(pct), _) => pruner::SlimmingBudget::MacsPrunedPct(pct),
            (None, f) => pruner::SlimmingBudget::ChannelFraction(f.unwrap_or(SLIMMING_FRACTION)),
        }
    }
}

fn d_s() -> f64 {
    1e-4
}
fn d_sparsity_epochs() -> usize {
    10
}
fn d_min_channels() -> usize {
    1
}

impl Default for SlimmingSpec {
    fn default() -> Self {
        Self {
            sparsity: d_s(),
            sparsity_epochs: d_sparsity_epochs(),
            fraction: None,
            macs_pruned_pct: None,
            min_channels: d_min_channels(),
        }
    }
}
