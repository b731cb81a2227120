//! Micro-benchmarks behind `experiments bench ...`: one SGD training step of a model,
//! and the data pipeline (cache load, augmented batch production). Each measurement is
//! a typed record printed as one JSON line (so scripts can set it beside PyTorch's,
//! whose twin prints the same keys); [`pages`] turns records into results/bench pages.
pub mod pages;

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use datasets::{Augment, BatchIter, BatchSource, Cifar10, CIFAR10_NORMALIZATION};
use engine::stats::median;
use engine::{to_channels_last, Sgd, SgdConfig};
use models::ModelConfig;
use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

/// The model a benchmark times: `resnet20`, `vgg16` or `resnet18` at their default
/// widths, or a model folder (or its `model.json`), e.g. a pruned model.
pub fn bench_model(name: &str) -> Result<ModelConfig> {
    let path = Path::new(name);
    if path.exists() {
        return crate::model_dir::read_model_config(path);
    }
    use crate::spec::Arch;
    use models::Shortcut;
    // Short names, or any `model.arch` of a spec, at the default widths.
    let arch = match name {
        "resnet20" => Arch::Resnet20Cifar,
        "vgg16" => Arch::Vgg16Cifar,
        other => serde_json::from_value(serde_json::Value::String(other.into())).map_err(|_| {
            anyhow::anyhow!(
                "unknown bench model `{other}`: resnet20, vgg16, an architecture of `model.arch` or a model folder"
            )
        })?,
    };
    Ok(crate::resolve::default_config(
        arch,
        Shortcut::A,
        arch.dataset().num_classes(),
    ))
}

/// One training step's median time (`bench train-step`; PyTorch's twin,
/// python/bench_train_step.py, prints the same keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainStepTime {
    /// `rust-tch` (this project) or `pytorch-eager`.
    #[serde(rename = "impl")]
    pub implementation: String,
    pub model: String,
    pub batch: i64,
    pub channels_last: bool,
    /// `fp32` or `bf16` (autocast).
    #[serde(default = "fp32")]
    pub precision: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    pub threads: usize,
    /// Median step (forward + backward + SGD update), milliseconds.
    pub step_ms: f64,
    pub images_per_s: f64,
    /// PyTorch's version (its twin only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub torch: Option<String>,
}

fn fp32() -> String {
    "fp32".into()
}

/// The CIFAR-10 pipeline's rates (`bench data`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataRates {
    pub train_images: usize,
    /// Loading the training set from the decoded cache, seconds.
    pub load_seconds: f64,
    /// Augmented training batches produced, images per second.
    pub augmented_images_per_s: f64,
    pub batch: usize,
    pub rayon_threads: usize,
}

/// The ImageNet pipeline's rates (`bench imagenet-data`), images per second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageNetRates {
    pub images: usize,
    pub classes: usize,
    pub train_images_per_s: f64,
    pub eval_images_per_s: f64,
    pub batch: usize,
    pub rayon_threads: usize,
}

/// C2S2's step costs against plain training (`bench selection-step`), milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectionStepTimes {
    pub model: String,
    pub batch: i64,
    pub threads: usize,
    /// The prunable layer whose gate trains.
    pub gated_layer: String,
    pub train_step_ms: f64,
    pub selection_step_ms: f64,
    pub selection_over_train: f64,
    pub plain_forward_ms: f64,
    pub masked_forward_ms: f64,
    pub masked_over_plain: f64,
}

/// A step benchmark's workload: which model (see [`bench_model`]), its batch, and how
/// many steps are timed after how many untimed warm-up ones.
#[derive(Clone, Debug)]
pub struct StepBench {
    pub model: String,
    /// Images per step.
    pub batch: i64,
    /// Timed steps.
    pub iters: usize,
    /// Untimed steps first (allocator, kernel selection).
    pub warmup: usize,
}

impl StepBench {
    /// Runs `f` `warmup + iters` times; the median of the timed runs, in milliseconds.
    pub fn median_ms(&self, f: &mut dyn FnMut()) -> f64 {
        let mut times = Vec::with_capacity(self.iters);
        for i in 0..self.warmup + self.iters {
            let t = Instant::now();
            f();
            if i >= self.warmup {
                times.push(t.elapsed().as_secs_f64());
            }
        }
        median(&times) * 1e3
    }
}

/// The SGD both step benchmarks update with (the CIFAR recipe's momentum and decay).
fn bench_sgd(vs: &VarStore) -> Sgd {
    Sgd::for_trainable(
        vs,
        SgdConfig {
            lr: 0.01,
            momentum: 0.9,
            weight_decay: 5e-4,
            nesterov: true,
        },
    )
}

/// Times `iters` training steps (forward, backward, SGD update) on random data after
/// `warmup` untimed ones; reports the median step time and images per second.
pub fn train_step(
    step: &StepBench,
    channels_last: bool,
    bf16: bool,
    device: Device,
) -> Result<TrainStepTime> {
    let StepBench { model, batch, .. } = step;
    let batch = *batch;
    let cfg = bench_model(model)?;
    tch::manual_seed(0);
    if device.is_cuda() {
        tch::Cuda::cudnn_set_benchmark(true);
    }
    let vs = VarStore::new(device);
    let net = cfg.build(&vs.root())?;
    if channels_last {
        engine::vars_to_channels_last(&vs);
    }
    let mut sgd = bench_sgd(&vs);
    let (h, w) = cfg.default_input_hw();
    let mut x = Tensor::randn([batch, 3, h, w], (Kind::Float, device));
    if channels_last {
        x = to_channels_last(&x);
    }
    let classes = match &cfg {
        ModelConfig::Resnet18(c) => c.num_classes,
        ModelConfig::Vgg16Cifar(c) => c.num_classes,
        ModelConfig::ResnetCifar(c) => c.num_classes,
        ModelConfig::Fcn32s(_) => {
            anyhow::bail!("bench train-step times classifiers; FCN-32s is not one")
        }
    };
    let y = Tensor::randint(classes, [batch], (Kind::Int64, device));
    let precision = if bf16 {
        engine::Precision::Bf16
    } else {
        engine::Precision::Fp32
    };
    let step_ms = step.median_ms(&mut || {
        let logits = {
            let _amp = engine::Autocast::new(precision, device);
            net.forward_t(&x, true)
        };
        let loss = logits.to_kind(Kind::Float).cross_entropy_for_logits(&y);
        sgd.zero_grad();
        loss.backward();
        sgd.step(0.01);
        // Waits for the device, so the time is the step's and not its launch's.
        let _ = loss.double_value(&[]);
    });
    Ok(TrainStepTime {
        implementation: "rust-tch".into(),
        model: model.clone(),
        batch,
        channels_last,
        precision: if bf16 { "bf16" } else { "fp32" }.into(),
        device: Some(format!("{device:?}")),
        threads: tch::get_num_threads() as usize,
        step_ms,
        images_per_s: batch as f64 / (step_ms / 1e3),
        torch: None,
    })
}

/// Times loading CIFAR-10 (from the decoded cache when the data set is an image folder)
/// and producing augmented training batches of `batch` images.
pub fn data(root: &Path, batch: usize) -> Result<DataRates> {
    // First load builds the cache if needed; the timed load reads it.
    Cifar10::load(root, None).with_context(|| format!("loading {}", root.display()))?;
    let t = Instant::now();
    let c = Cifar10::load(root, None)?;
    let load_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut n = 0;
    for b in BatchIter::train(
        &c.train,
        batch,
        Some(Augment::default()),
        CIFAR10_NORMALIZATION,
        0,
        0,
    ) {
        n += b.labels.size()[0] as usize;
    }
    let aug_s = t.elapsed().as_secs_f64();
    Ok(DataRates {
        train_images: c.train.len(),
        load_seconds: load_s,
        augmented_images_per_s: n as f64 / aug_s,
        batch,
        rayon_threads: rayon::current_num_threads(),
    })
}

/// Times the ImageNet input pipeline on the images of `root/<class>/*` (decode, then the
/// training transform: random-resized crop + flip; and the evaluation transform: resize
/// 256 + centre crop 224), in batches of `batch`, on rayon's threads.
pub fn imagenet_data(root: &Path, batch: usize) -> Result<ImageNetRates> {
    let classes = datasets::class_folders(root)?;
    let folder = datasets::ImageFolder::scan(root, &classes)
        .with_context(|| format!("scanning {}", root.display()))?;
    let mut src = datasets::FolderSource {
        folder,
        transform: datasets::ImageNetTransform::default(),
        augment: true,
        norm: datasets::IMAGENET_NORMALIZATION,
    };
    let mut rate = |train: bool| -> Result<f64> {
        src.augment = train;
        let t = Instant::now();
        let mut n = 0;
        let batches = if train {
            src.train_batches(batch, 0, 0)
        } else {
            src.eval_batches(batch)
        };
        for b in batches {
            n += b?.labels.size()[0] as usize;
        }
        Ok(n as f64 / t.elapsed().as_secs_f64())
    };
    let train = rate(true)?;
    let eval = rate(false)?;
    Ok(ImageNetRates {
        images: src.folder.len(),
        classes: classes.len(),
        train_images_per_s: train,
        eval_images_per_s: eval,
        batch,
        rayon_threads: rayon::current_num_threads(),
    })
}

/// C2S2's costs against plain training, on random data: a phase-1 selection step (only a
/// pruning layer's kernel trains; network frozen, no weight gradients) gated at the
/// `layer`-th prunable layer, a normal training step, and the forward pass with every
/// prunable layer gated (binary masks) against the plain forward.
pub fn selection_step(step: &StepBench, layer: usize) -> Result<SelectionStepTimes> {
    let StepBench { model, batch, .. } = step;
    let batch = *batch;
    let cfg = bench_model(model)?;
    tch::manual_seed(0);
    let vs = VarStore::new(Device::Cpu);
    let net = cfg.build(&vs.root())?;
    engine::vars_to_channels_last(&vs);
    let x = to_channels_last(&Tensor::randn(
        [batch, 3, 32, 32],
        (Kind::Float, Device::Cpu),
    ));
    let y = Tensor::randint(10, [batch], (Kind::Int64, Device::Cpu));
    let layers = cfg.prunable_layers();
    let target = layers
        .get(layer)
        .with_context(|| format!("{model} has {} prunable layers", layers.len()))?;
    let time = |f: &mut dyn FnMut()| step.median_ms(f);
    // Normal training step.
    let mut sgd = bench_sgd(&vs);
    let train_ms = time(&mut || {
        let loss = net.forward_t(&x, true).cross_entropy_for_logits(&y);
        sgd.zero_grad();
        loss.backward();
        sgd.step(0.01);
    });
    // Selection step: frozen weights, one real-valued gate.
    for t in vs.trainable_variables() {
        let _ = t.set_requires_grad(false);
    }
    let mut w = Tensor::ones([target.channels], (Kind::Float, Device::Cpu)).set_requires_grad(true);
    let select_ms = time(&mut || {
        net.gates().set(&target.name, w.shallow_clone());
        let loss =
            net.forward_t(&x, false).cross_entropy_for_logits(&y) + w.mean(Kind::Float) * 0.5;
        let mut g = w.grad();
        if g.defined() {
            let _ = g.zero_();
        }
        loss.backward();
        tch::no_grad(|| {
            let _ = w.g_sub_(&(w.grad() * 0.01)).clamp_(0.0, 1.0);
        });
    });
    net.gates().clear();
    // Forward only, eval mode: plain vs every prunable layer gated by a binary mask.
    let plain_ms = time(&mut || {
        tch::no_grad(|| {
            let _ = net.forward_t(&x, false);
        })
    });
    for l in &layers {
        let m: Vec<f32> = (0..l.channels)
            .map(|i| if i % 2 == 0 { 1.0 } else { 0.0 })
            .collect();
        net.gates().set(&l.name, Tensor::from_slice(&m));
    }
    let masked_ms = time(&mut || {
        tch::no_grad(|| {
            let _ = net.forward_t(&x, false);
        })
    });
    Ok(SelectionStepTimes {
        model: model.clone(),
        batch,
        threads: tch::get_num_threads() as usize,
        gated_layer: target.name.clone(),
        train_step_ms: train_ms,
        selection_step_ms: select_ms,
        selection_over_train: select_ms / train_ms,
        plain_forward_ms: plain_ms,
        masked_forward_ms: masked_ms,
        masked_over_plain: masked_ms / plain_ms,
    })
}
