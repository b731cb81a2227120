//! A spec resolved into the library crates' own configurations: the network
//! (`models::ModelConfig`), the training (`engine::TrainConfig`) and the device.
use anyhow::Result;
use engine::{LrSchedule, ScheduleKind, SgdConfig, TrainConfig};
use models::{
    Fcn32sConfig, ModelConfig, ModelError, ResNet18Config, ResNetCifarConfig, Shortcut,
    VggCifarConfig,
};
use tch::Device;

use crate::spec::{Arch, DeviceSpec, ScheduleName, ShortcutSpec, Spec};

/// An architecture at its default widths (the paper's), for `num_classes` classes.
pub fn default_config(arch: Arch, shortcut: ShortcutSpec, num_classes: i64) -> ModelConfig {
    let shortcut = match shortcut {
        ShortcutSpec::A => Shortcut::A,
        ShortcutSpec::B => Shortcut::B,
    };
    match arch {
        Arch::Vgg16Cifar => ModelConfig::Vgg16Cifar(VggCifarConfig {
            num_classes,
            ..VggCifarConfig::default()
        }),
        Arch::Resnet20Cifar | Arch::Resnet32Cifar | Arch::Resnet56Cifar => {
            let depth = match arch {
                Arch::Resnet20Cifar => 20,
                Arch::Resnet32Cifar => 32,
                _ => 56,
            };
            ModelConfig::ResnetCifar(ResNetCifarConfig {
                num_classes,
                ..ResNetCifarConfig::resnet(depth, shortcut)
            })
        }
        Arch::Resnet18 => ModelConfig::Resnet18(ResNet18Config {
            num_classes,
            ..ResNet18Config::default()
        }),
        Arch::Fcn32s => ModelConfig::Fcn32s(Fcn32sConfig {
            num_classes,
            ..Fcn32sConfig::default()
        }),
    }
}

/// The network a spec describes: the architecture's default widths with the spec's
/// overrides applied, checked.
pub fn model_config(s: &Spec) -> Result<ModelConfig, ModelError> {
    let m = &s.model;
    let w = m.widths.clone().unwrap_or_default();
    let nc = m
        .num_classes
        .unwrap_or_else(|| s.dataset.name.num_classes());
    let mut cfg = default_config(m.arch, m.shortcut.unwrap_or_default(), nc);
    match &mut cfg {
        ModelConfig::Vgg16Cifar(c) => {
            c.convs = w.convs.unwrap_or(std::mem::take(&mut c.convs));
            c.hidden = w.hidden.unwrap_or(c.hidden);
        }
        ModelConfig::ResnetCifar(c) => {
            c.stages = w.stages.unwrap_or(std::mem::take(&mut c.stages));
            c.inner = w.inner.unwrap_or(std::mem::take(&mut c.inner));
        }
        ModelConfig::Resnet18(c) => {
            c.stages = w.stages.unwrap_or(std::mem::take(&mut c.stages));
            c.inner = w.inner.unwrap_or(std::mem::take(&mut c.inner));
        }
        ModelConfig::Fcn32s(c) => {
            c.convs = w.convs.unwrap_or(std::mem::take(&mut c.convs));
            c.fc6 = w.fc6.unwrap_or(c.fc6);
            c.fc7 = w.fc7.unwrap_or(c.fc7);
        }
    }
    cfg.validate()?;
    Ok(cfg)
}

/// The device `want` names here: CUDA device 0, the CPU, or (`auto`) CUDA when
/// libtorch sees a device, else the CPU. On CUDA, cuDNN's autotuner is switched on: the
/// input sizes of a run are fixed, so the fastest convolution algorithm is found once.
pub fn pick_device(want: DeviceSpec) -> Result<Device> {
    let device = match want {
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

/// The device a spec asks for (see [`pick_device`]).
pub fn device(spec: &Spec) -> Result<Device> {
    pick_device(spec.device)
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

pub fn train_config(spec: &Spec, seed: u64, device: Device) -> TrainConfig {
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
        gradient_hook: None,
    }
}
