use std::path::Path;
use std::time::Instant;

use datasets::BatchSource;
use models::Network;
use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use crate::memory_format::vars_to_channels_last;
use crate::{
    evaluate, progress, to_channels_last, Checkpoint, EngineError, EpochMetrics, LrSchedule,
    MetricsLog, Sgd, SgdConfig,
};

/// Batches rendered ahead of the one being trained on.
const PREFETCH_BATCHES: usize = 2;
/// Training steps between two reads of the running loss (divergence check, progress).
const SYNC_EVERY: usize = 50;

/// Everything that defines a training run besides the model and the data.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub sgd: SgdConfig,
    pub schedule: LrSchedule,
    /// Seed of shuffling and augmentation.
    pub seed: u64,
    pub eval_batch_size: usize,
    pub channels_last: bool,
    pub device: Device,
    /// Arithmetic precision of the training forward pass (autocast).
    pub precision: crate::Precision,
    /// Prefix of the progress bar and log lines.
    pub label: String,
    /// Stop (as if killed) after this many epochs in this call; the run resumes later.
    pub stop_after_epochs: Option<usize>,
    /// Method logic called after each backward pass, before the optimizer step (e.g.
    /// Network Slimming's sparsity subgradient on BN scales, in the pruner crate).
    pub gradient_hook: Option<std::sync::Arc<dyn GradientHook>>,
}

/// Changes gradients between the backward pass and the optimizer step: how a pruning
/// method adds its own term to training without the loop knowing the method.
pub trait GradientHook: std::fmt::Debug + Send + Sync {
    /// The variables (by name) whose gradients it changes, resolved once per epoch.
    fn tensors(&self) -> Vec<String>;
    /// Changes the gradients of `vars` (in the order of [`GradientHook::tensors`]; called
    /// under `no_grad`, after `backward`, before `step`).
    fn after_backward(&self, vars: &[Tensor]);
}

/// The images a run trains on, and the held-out validation images it reports (each
/// split carries its own augmentation and normalization).
pub struct TrainData<'a> {
    pub train: &'a dyn BatchSource,
    pub val: Option<&'a dyn BatchSource>,
}

/// The result of [`fit`].
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// Metrics of every epoch, including those done before a resume.
    pub history: Vec<EpochMetrics>,
    /// Epochs already done when this call started (0 for a fresh run).
    pub resumed_from: usize,
    /// Whether all `epochs` are done.
    pub finished: bool,
}

#[derive(Serialize, Deserialize)]
struct TrainState {
    version: u32,
    epochs_done: usize,
    history: Vec<EpochMetrics>,
}

/// Trains `net` (whose variables live in `vs`) with SGD, checkpointing into `run_dir`
/// after every epoch and resuming from the checkpoint found there. Per-epoch metrics go
/// to `run_dir/metrics.csv`. With the same seed on CPU, a resumed run ends with the same
/// weights as an uninterrupted one.
pub fn fit(
    net: &dyn Network,
    vs: &VarStore,
    cfg: &TrainConfig,
    data: TrainData,
    run_dir: &Path,
) -> Result<TrainOutcome, EngineError> {
    if cfg.channels_last {
        vars_to_channels_last(vs);
    }
    let mut sgd = Sgd::for_trainable(vs, cfg.sgd);
    let ckpt = Checkpoint::new(run_dir.join("checkpoint"));
    let mut state = match ckpt.load::<TrainState>(vs, &mut sgd)? {
        Some(s) => s,
        None => TrainState {
            version: 1,
            epochs_done: 0,
            history: Vec::new(),
        },
    };
    let resumed_from = state.epochs_done;
    if resumed_from > 0 {
        tracing::info!("{}: resuming after epoch {resumed_from}", cfg.label);
    }
    let mut done_now = 0;
    while state.epochs_done < cfg.epochs {
        if cfg.stop_after_epochs.is_some_and(|s| done_now >= s) {
            break;
        }
        let epoch = state.epochs_done;
        let hooked: Vec<Tensor> = match &cfg.gradient_hook {
            Some(h) => {
                let vars = vs.variables();
                h.tensors()
                    .iter()
                    .filter_map(|n| vars.get(n).map(|t| t.shallow_clone()))
                    .collect()
            }
            None => Vec::new(),
        };
        let m = train_epoch(net, &mut sgd, cfg, data.train, epoch, &hooked)?;
        let val = match data.val {
            Some(v) => Some(evaluate(
                net,
                v,
                cfg.eval_batch_size,
                cfg.device,
                cfg.channels_last,
            )?),
            None => None,
        };
        let metrics = EpochMetrics {
            val_loss: val.map(|v| v.loss),
            val_top1: val.map(|v| v.top1),
            ..m
        };
        tracing::info!(
            "{} epoch {}/{}: loss {:.4} train {:.2}% val {} ({:.0} img/s)",
            cfg.label,
            epoch + 1,
            cfg.epochs,
            metrics.train_loss,
            metrics.train_top1,
            metrics.val_top1.map_or("-".into(), |v| format!("{v:.2}%")),
            metrics.images_per_second
        );
        state.history.push(metrics);
        state.epochs_done += 1;
        ckpt.save(vs, &sgd, &state)?;
        MetricsLog::write(&run_dir.join("metrics.csv"), &state.history)?;
        done_now += 1;
    }
    Ok(TrainOutcome {
        finished: state.epochs_done >= cfg.epochs,
        history: state.history,
        resumed_from,
    })
}

fn train_epoch(
    net: &dyn Network,
    sgd: &mut Sgd,
    cfg: &TrainConfig,
    set: &dyn BatchSource,
    epoch: usize,
    hooked: &[Tensor],
) -> Result<EpochMetrics, EngineError> {
    let batches = set.train_batches(cfg.batch_size, cfg.seed, epoch as u64);
    let n_batches = batches.num_batches().max(1);
    let pb = progress::bar(
        n_batches as u64,
        format!("{} epoch {}/{}", cfg.label, epoch + 1, cfg.epochs),
    );
    let start = Instant::now();
    // Loss and correct predictions accumulate on the device and are read back only every
    // `SYNC_EVERY` steps: a read is a device synchronisation, and one per step leaves a
    // GPU idle while the host prepares the next step.
    let float_opts = (Kind::Double, cfg.device);
    let loss_acc = Tensor::zeros([], float_opts);
    let correct_acc = Tensor::zeros([], (Kind::Int64, cfg.device));
    // Labels counted: images, or labelled pixels for segmentation.
    let count_acc = Tensor::zeros([], (Kind::Int64, cfg.device));
    let mut seen = 0usize;
    let mut lr = cfg.schedule.lr_at(epoch as f64);
    let check = |loss_acc: &Tensor| -> Result<f64, EngineError> {
        let l = loss_acc.double_value(&[]);
        if l.is_finite() {
            Ok(l)
        } else {
            Err(EngineError::Diverged {
                epoch: epoch + 1,
                loss: l,
            })
        }
    };
    // A producer thread renders the next batches (host work) while this thread drives
    // the model; the order and content of batches do not depend on the overlap.
    std::thread::scope(|scope| -> Result<(), EngineError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(PREFETCH_BATCHES);
        scope.spawn(move || {
            for b in batches {
                if tx.send(b).is_err() {
                    break;
                }
            }
        });
        for (i, b) in rx.into_iter().enumerate() {
            let b = b?;
            lr = cfg
                .schedule
                .lr_at(epoch as f64 + i as f64 / n_batches as f64);
            let images = b.images.to_device(cfg.device);
            let labels = b.labels.to_device(cfg.device);
            let x = if cfg.channels_last {
                to_channels_last(&images)
            } else {
                images
            };
            let logits = {
                let _amp = crate::Autocast::new(cfg.precision, cfg.device);
                net.forward_t(&x, true)
            };
            // The loss in float32 whatever the forward precision.
            let logits = logits.to_kind(Kind::Float);
            let loss = crate::task::loss(&logits, &labels);
            sgd.zero_grad();
            loss.backward();
            if let Some(h) = &cfg.gradient_hook {
                tch::no_grad(|| h.after_backward(hooked));
            }
            sgd.step(lr);
            let bs = labels.size()[0] as usize;
            tch::no_grad(|| {
                let mut la = loss_acc.shallow_clone();
                let _ = la.g_add_(&(loss.detach().to_kind(Kind::Double) * bs as f64));
                let (correct, count) = crate::task::correct_of(&logits.detach(), &labels);
                let mut ca = correct_acc.shallow_clone();
                let _ = ca.g_add_(&correct);
                let mut na = count_acc.shallow_clone();
                let _ = na.g_add_(&count);
            });
            seen += bs;
            pb.inc(1);
            if (i + 1) % SYNC_EVERY == 0 {
                let l = check(&loss_acc)?;
                let ips = seen as f64 / start.elapsed().as_secs_f64().max(1e-9);
                pb.set_message(format!(
                    "loss {:.3} acc {:.1}% {ips:.0} img/s",
                    l / seen as f64,
                    100.0 * correct_acc.int64_value(&[]) as f64
                        / count_acc.int64_value(&[]).max(1) as f64
                ));
            }
        }
        Ok(())
    })?;
    let loss_sum = check(&loss_acc)?;
    let correct = correct_acc.int64_value(&[]);
    let counted = count_acc.int64_value(&[]).max(1);
    pb.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    let n = seen.max(1) as f64;
    Ok(EpochMetrics {
        epoch: epoch + 1,
        lr,
        train_loss: loss_sum / n,
        train_top1: 100.0 * correct as f64 / counted as f64,
        val_loss: None,
        val_top1: None,
        train_seconds: secs,
        images_per_second: seen as f64 / secs.max(1e-9),
    })
}
