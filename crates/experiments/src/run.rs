//! Executes a spec: one training run per seed, each in a run directory keyed by a hash
//! of the resolved spec, resumed when unfinished and reported without recomputing when
//! finished.
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use engine::{
    evaluate, fit, save_weights, LrSchedule, ScheduleKind, SgdConfig, TrainConfig, TrainData,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tch::nn::VarStore;
use tch::{Device, Kind};

use crate::spec::{DeviceSpec, ScheduleName, Spec};
use crate::summary::{test_result, FinishedRun, Summary};
use crate::{data, model_config};

/// Writes `bytes` to `path` atomically (temporary file in the same folder, then rename).
/// The temporary name carries the process id and a counter, so processes publishing the
/// same record at once never write one temporary file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}-{n}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

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
fn init_weights_path(from: &Path) -> PathBuf {
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
            .map(|f| crate::inspect::model_json_path(&crate::data::resolve_root(f))),
        class_list: spec
            .dataset
            .class_list
            .as_ref()
            .map(|f| crate::data::resolve_root(f)),
        init_weights: spec.model.init_from.as_ref().map(|f| init_weights_path(f)),
    }
}

/// A run's identity without the digests of the files it names: what two specs must
/// agree on to be the same run when those files are not at hand (a published record
/// whose start weights are not committed).
pub fn identity_without_files(spec: &Spec, seed: u64) -> serde_json::Value {
    let id = RunIdentity {
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
    };
    serde_json::to_value(&id).expect("spec serializes")
}

/// Hash of a run's identity: 12 hex digits of SHA-256 over its canonical JSON.
pub fn run_key(spec: &Spec, seed: u64) -> String {
    let inputs = hashed_inputs(spec);
    // Unreadable start weights or widths leave their field out; an unreadable class
    // list or init file hashes as "". Both as first recorded: published keys stay valid.
    let id = RunIdentity {
        model: &spec.model,
        dataset_name: spec.dataset.name,
        validation_split: spec.dataset.validation_split,
        train_limit: spec.dataset.train_limit,
        augment: spec.dataset.augment,
        train: &spec.train,
        seed,
        prune: spec.prune.as_ref(),
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

/// The device a spec asks for. On CUDA, cuDNN's autotuner is switched on: the input
/// sizes of a run are fixed, so the fastest convolution algorithm is found once.
pub fn device(spec: &Spec) -> Result<Device> {
    let device = match spec.device {
        DeviceSpec::Auto => Device::cuda_if_available(),
        DeviceSpec::Cpu => Device::Cpu,
        DeviceSpec::Cuda => {
            anyhow::ensure!(
                tch::Cuda::is_available(),
                "device: cuda was asked for, but libtorch sees no CUDA device"
            );
            Device::Cuda(0)
        }
    };
    if device.is_cuda() {
        tch::Cuda::cudnn_set_benchmark(true);
    }
    Ok(device)
}

/// Label of the training budget, e.g. `cosine-50ep`.
pub fn schedule_label(spec: &Spec) -> String {
    let kind = match spec.train.lr_schedule.kind {
        ScheduleName::Constant => "constant",
        ScheduleName::MultiStep => "multistep",
        ScheduleName::Cosine => "cosine",
    };
    format!("{kind}-{}ep", spec.train.epochs)
}

pub(crate) fn train_config(spec: &Spec, seed: u64, device: Device) -> TrainConfig {
    let t = &spec.train;
    let l = &t.lr_schedule;
    let kind = match l.kind {
        ScheduleName::Constant => ScheduleKind::Constant,
        ScheduleName::MultiStep => ScheduleKind::MultiStep {
            milestones: l.milestones.clone(),
            gamma: l.gamma,
        },
        ScheduleName::Cosine => ScheduleKind::Cosine { min_lr: l.min_lr },
    };
    TrainConfig {
        epochs: t.epochs,
        batch_size: t.batch_size,
        sgd: SgdConfig {
            lr: t.optimizer.lr,
            momentum: t.optimizer.momentum,
            weight_decay: t.optimizer.weight_decay,
            nesterov: t.optimizer.nesterov,
        },
        schedule: LrSchedule {
            base_lr: t.optimizer.lr,
            epochs: t.epochs,
            warmup_epochs: l.warmup_epochs,
            kind,
        },
        seed,
        eval_batch_size: t.eval_batch_size,
        channels_last: t.channels_last,
        device,
        precision: match t.precision {
            crate::spec::Precision::Fp32 => engine::Precision::Fp32,
            // fp16 is refused by validation (it needs loss scaling).
            crate::spec::Precision::Bf16 | crate::spec::Precision::Fp16 => engine::Precision::Bf16,
        },
        label: format!("{} seed {seed}", spec.name),
        stop_after_epochs: None,
        l1_subgradient: None,
    }
}

/// Options of [`execute`] that do not change what is computed.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Stop each seed after this many epochs (it resumes on the next call).
    pub stop_after_epochs: Option<usize>,
}

/// Runs every seed of `spec` (resuming or reusing finished runs) and returns the
/// summaries of the finished ones.
pub fn execute(spec: &Spec, opts: &RunOptions) -> Result<Vec<Summary>> {
    let device = device(spec)?;
    if let Some(n) = spec.threads {
        // Bounded by validation (spec::MAX_THREADS).
        tch::set_num_threads(i32::try_from(n).unwrap_or(i32::MAX));
    }
    let mut summaries = Vec::new();
    let mut data_cache = None;
    for &seed in &spec.seeds {
        let dir = run_dir(spec, seed);
        let summary_path = dir.join("summary.json");
        if summary_path.is_file() {
            let s = Summary::read(&summary_path)?;
            tracing::info!(
                "{}: finished earlier, reporting {} without recomputing",
                spec.name,
                summary_path.display()
            );
            summaries.push(s);
            continue;
        }
        // The data set loads (and every image decodes) before the run directory exists.
        let data = match &data_cache {
            Some(d) => d,
            None => data_cache.insert(data::load(spec)?),
        };
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating run directory {}", dir.display()))?;
        // One writer per run directory; a process that waited may find it finished.
        let _lock = crate::lock::RunLock::acquire(&dir)?;
        if summary_path.is_file() {
            tracing::info!(
                "{}: finished by another process meanwhile, reporting {}",
                spec.name,
                summary_path.display()
            );
            summaries.push(Summary::read(&summary_path)?);
            continue;
        }
        let resolved = serde_norway::to_string(spec)?;
        write_atomic(&dir.join("spec.resolved.yaml"), resolved.as_bytes())?;
        let result = match spec.prune {
            Some(_) => crate::prune::prune_one(spec, seed, device, data, &dir, opts)?,
            None => train_one(spec, seed, device, data, &dir, opts)?,
        };
        if let Some(s) = result {
            summaries.push(s);
        }
    }
    Ok(summaries)
}

fn train_one(
    spec: &Spec,
    seed: u64,
    device: Device,
    data: &data::DataSplits,
    dir: &Path,
    opts: &RunOptions,
) -> Result<Option<Summary>> {
    let cfg = model_config(spec)?;
    tch::manual_seed(seed as i64);
    let vs = VarStore::new(device);
    let net = cfg.build(&vs.root())?;
    if let Some(from) = &spec.model.init_from {
        let path = init_weights_path(from);
        let r = engine::load_matching(&vs, &path).with_context(|| {
            format!(
                "model.init_from = {} (any safetensors file with this project's parameter \
                     names; for FCN-32s, scripts/vgg16_to_fcn32s.py converts torchvision's \
                     ImageNet VGG-16)",
                from.display()
            )
        })?;
        tracing::info!(
            "{}: {} variables initialised from {}, {} keep their initialisation{}; {} tensors of the file unused",
            spec.name,
            r.loaded.len(),
            path.display(),
            r.kept_init.len(),
            if r.kept_init.is_empty() { String::new() } else { format!(" ({})", r.kept_init.join(", ")) },
            r.ignored.len()
        );
    }
    let mut tc = train_config(spec, seed, device);
    tc.stop_after_epochs = opts.stop_after_epochs;
    let started = Instant::now();
    let outcome = fit(
        net.as_ref(),
        &vs,
        &tc,
        TrainData {
            train: data.train.as_ref(),
            val: data.val(),
        },
        dir,
    )
    .with_context(|| format!("training in {}", dir.display()))?;
    if !outcome.finished {
        tracing::info!(
            "{}: stopped after {} epochs; run again to resume",
            spec.name,
            outcome.history.len()
        );
        return Ok(None);
    }
    let test = evaluate(
        net.as_ref(),
        data.test.as_ref(),
        tc.eval_batch_size,
        device,
        tc.channels_last,
    )?;
    save_weights(&vs, &dir.join("model.safetensors"), Kind::Float)?;
    write_atomic(&dir.join("model.json"), &serde_json::to_vec_pretty(&cfg)?)?;
    let summary = FinishedRun {
        spec,
        seed,
        model: &cfg,
        data,
        history: &outcome.history,
        test: test_result(test),
        device,
    }
    .summary("unpruned", None)?;
    summary.write(&dir.join("summary.json"))?;
    tracing::info!(
        "{}: test top-1 {:.2}% ({} s in this call)",
        spec.name,
        test.top1,
        started.elapsed().as_secs()
    );
    Ok(Some(summary))
}
