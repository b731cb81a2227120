//! Phase 1 of C2S2: train only the pruning layers' kernels w with
//! cross-entropy + sum_l lambda_l R(w_l), then binarize.
use datasets::BatchStream;
use models::{GatePlacement, Network};
use tch::nn::VarStore;
use tch::{Kind, Tensor};

use super::config::{C2s2Config, SparsityCriterion};
use crate::{GateFormat, PruneError, PruningLayer};

/// Adam state of one kernel.
struct Adam {
    m: Tensor,
    v: Tensor,
    t: i32,
}

impl Adam {
    fn new(w: &Tensor) -> Self {
        Self {
            m: w.zeros_like(),
            v: w.zeros_like(),
            t: 0,
        }
    }

    fn step(&mut self, w: &mut Tensor, lr: f64) {
        let g = w.grad();
        if !g.defined() {
            return;
        }
        let (b1, b2, eps) = (0.9, 0.999, 1e-8);
        self.t += 1;
        tch::no_grad(|| {
            self.m = &self.m * b1 + &g * (1.0 - b1);
            self.v = &self.v * b2 + &g * &g * (1.0 - b2);
            let mh = &self.m / (1.0 - b1.powi(self.t));
            let vh = &self.v / (1.0 - b2.powi(self.t));
            let _ = w.g_sub_(&(mh / (vh.sqrt() + eps) * lr));
        });
    }
}

/// R(w) of the configured criterion (w >= 0 after projection).
fn sparsity(w: &Tensor, cfg: &C2s2Config) -> Tensor {
    let l1 = w.abs().mean(Kind::Float);
    match cfg.criterion {
        SparsityCriterion::L1 => l1,
        SparsityCriterion::L1Polar => {
            let polar: Tensor = w * (w.neg() + 1.0);
            l1 + polar.mean(Kind::Float) * cfg.polar_weight
        }
    }
}

/// Sets every layer's gate in `format` at `placement`.
pub(crate) fn install(
    net: &dyn Network,
    layers: &[PruningLayer],
    format: GateFormat,
    placement: GatePlacement,
) {
    for l in layers {
        net.gates().set_placed(&l.name, l.gate(format), placement);
    }
}

/// Runs phase 1 on `layers` (kernels start at 1) with per-layer weights `lambdas`.
/// Returns the mean loss of the last 20 iterations.
pub(crate) fn select(
    net: &dyn Network,
    vs: &VarStore,
    layers: &mut [PruningLayer],
    lambdas: &[f64],
    cfg: &C2s2Config,
    stream: &mut BatchStream,
    channels_last: bool,
) -> Result<f64, PruneError> {
    let sel = &cfg.selection;
    // Frozen network: no weight gradients are computed, BN uses its running statistics.
    let trainable: Vec<Tensor> = vs.trainable_variables();
    let mut weight_opt = None;
    if sel.train_network {
        let r = &cfg.recovery;
        weight_opt = Some(engine::Sgd::for_trainable(
            vs,
            engine::SgdConfig {
                lr: r.lr,
                momentum: r.momentum,
                weight_decay: r.weight_decay,
                nesterov: true,
            },
        ));
    } else {
        for t in &trainable {
            let _ = t.set_requires_grad(false);
        }
    }
    let mut adams: Vec<Adam> = layers.iter().map(|l| Adam::new(&l.w)).collect();
    let mut recent = Vec::new();
    for _ in 0..sel.iterations {
        let b = stream.next_batch().map_err(engine::EngineError::from)?;
        let x = if channels_last {
            engine::to_channels_last(&b.images)
        } else {
            b.images
        };
        install(net, layers, cfg.format, cfg.placement);
        let logits = net.forward_t(&x, sel.train_network);
        let mut loss = engine::loss(&logits, &b.labels);
        for (l, &lam) in layers.iter().zip(lambdas) {
            loss += sparsity(&l.w, cfg) * lam;
        }
        for l in layers.iter_mut() {
            let mut g = l.w.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
        if let Some(opt) = weight_opt.as_mut() {
            opt.zero_grad();
        }
        loss.backward();
        for (l, a) in layers.iter_mut().zip(adams.iter_mut()) {
            a.step(&mut l.w, sel.lr);
            l.project();
        }
        if let Some(opt) = weight_opt.as_mut() {
            opt.step(cfg.recovery.lr);
        }
        recent.push(loss.double_value(&[]));
        if recent.len() > 20 {
            recent.remove(0);
        }
    }
    if !sel.train_network {
        for t in &trainable {
            let _ = t.set_requires_grad(true);
        }
    }
    net.gates().clear();
    Ok(recent.iter().sum::<f64>() / recent.len().max(1) as f64)
}
