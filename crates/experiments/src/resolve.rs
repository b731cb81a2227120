//! A spec resolved into the library crates' own configurations: the network
//! (`models::ModelConfig`), the training (`engine::TrainConfig`) and the device.
use anyhow::Result;
use engine::{LrSchedule, ScheduleKind, SgdConfig, TrainConfig};
use tch::Device;

pub use crate::spec::network::{default_config, model_config};
use crate::spec::{DeviceSpec, ScheduleName, Spec};

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
        precision: t.precision,
        label: format!("{} seed {seed}", spec.name),
        stop_after_epochs: None,
        gradient_hook: None,
    }
}
