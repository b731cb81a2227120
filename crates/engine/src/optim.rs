use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::flat::FlatBuffers;

/// Hyper-parameters of SGD with momentum (PyTorch's formulation: the momentum buffer
/// accumulates `grad + weight_decay * param`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgdConfig {
    pub lr: f64,
    pub momentum: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        Self {
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 5e-4,
            nesterov: true,
        }
    }
}

/// SGD over a fixed list of named parameters. Its momentum buffers are plain tensors, so
/// they go into checkpoints (tch's built-in optimizer keeps them out of reach).
///
/// At the first step, when every parameter has a gradient and all share one kind and
/// device, parameters, gradients and momentum buffers move into one flat buffer each
/// (see `flat.rs`) and each update is a few kernels over those; otherwise, or once
/// something re-points a parameter's storage, it updates tensor by tensor. Both paths do
/// the same arithmetic element by element. Setting the environment variable
/// `ENGINE_SGD_PER_TENSOR` (any value) turns the flat buffers off for a whole process: a
/// diagnostic switch for a device where they misbehave.
pub struct Sgd {
    pub config: SgdConfig,
    params: Vec<(String, Tensor)>,
    momentum: Vec<Option<Tensor>>,
    flat: Option<FlatBuffers>,
    /// Whether to gather into flat buffers at the next step.
    try_flat: bool,
}

impl Sgd {
    /// `params`: the trainable variables, with their names (sorted by the caller for a
    /// stable checkpoint layout).
    pub fn new(params: Vec<(String, Tensor)>, config: SgdConfig) -> Self {
        let n = params.len();
        Self {
            config,
            params,
            momentum: (0..n).map(|_| None).collect(),
            flat: None,
            try_flat: std::env::var_os("ENGINE_SGD_PER_TENSOR").is_none(),
        }
    }

    /// Never gathers into flat buffers: one update per tensor (for comparisons).
    pub fn per_tensor(mut self) -> Self {
        self.try_flat = false;
        self
    }

    /// Whether updates currently run over flat buffers.
    pub fn is_flat(&self) -> bool {
        self.flat.is_some()
    }

    fn tensors(&self) -> Vec<Tensor> {
        self.params.iter().map(|(_, p)| p.shallow_clone()).collect()
    }

    /// The flat buffers, if they still alias every parameter and gradient; else drops
    /// them (for good: per-tensor updates from then on).
    fn intact_flat(&mut self) -> Option<&FlatBuffers> {
        let ok = self
            .flat
            .as_ref()
            .is_some_and(|f| f.intact(&self.tensors()));
        if !ok && self.flat.take().is_some() {
            tracing::warn!("SGD: a parameter's storage was replaced; updating tensor by tensor");
        }
        self.flat.as_ref()
    }

    /// SGD over every trainable variable of `vs` (those that require gradients), sorted by
    /// name so checkpoints list momentum buffers in a stable order.
    pub fn for_trainable(vs: &tch::nn::VarStore, config: SgdConfig) -> Self {
        let mut params: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        params.sort_by(|a, b| a.0.cmp(&b.0));
        Self::new(params, config)
    }

    pub fn zero_grad(&mut self) {
        if let Some(f) = self.intact_flat() {
            let mut g = f.grads.shallow_clone();
            let _ = g.zero_();
            return;
        }
        for (_, p) in &mut self.params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
    }

    /// One update with learning rate `lr`. In place, with PyTorch's order of operations:
    /// `g += wd * p; b = m * b + g; g += m * b (Nesterov) or g = b; p -= lr * g`. The
    /// scaled adds are `addcmul_` with 0-dim scalar tensors (tch exposes no `alpha`), so no
    /// temporary the size of a parameter is allocated; the gradient buffer is overwritten
    /// (it is zeroed before the next backward anyway).
    pub fn step(&mut self, lr: f64) {
        if self.try_flat && self.flat.is_none() {
            self.try_flat = false;
            self.flat = FlatBuffers::gather(&self.tensors(), &self.momentum);
            if let Some(f) = &self.flat {
                for (i, (_, p)) in self.params.iter().enumerate() {
                    self.momentum[i] = Some(f.momentum_of(i, p));
                }
            }
        }
        let c = self.config;
        tch::no_grad(|| {
            // 0-dim tensors act as scalars in type promotion and on any device.
            let s = Scalars {
                wd: Tensor::from(c.weight_decay as f32),
                momentum: Tensor::from(c.momentum as f32),
                neg_lr: Tensor::from(-lr as f32),
            };
            if let Some(f) = self.intact_flat() {
                // The flat momentum buffer starts at zero: `m * 0 + g` is `g`, PyTorch's
                // first-step initialisation.
                let mut b = Some(f.momentum.shallow_clone());
                update(
                    &c,
                    &s,
                    &mut f.params.shallow_clone(),
                    f.grads.shallow_clone(),
                    &mut b,
                );
                return;
            }
            for ((_, p), buf) in self.params.iter_mut().zip(self.momentum.iter_mut()) {
                let g = p.grad();
                if g.defined() {
                    update(&c, &s, p, g, buf);
                }
            }
        });
    }

    /// Momentum buffers by parameter name (absent until the first step).
    pub fn momentum_buffers(&self) -> Vec<(String, Tensor)> {
        self.params
            .iter()
            .zip(&self.momentum)
            .filter_map(|((n, _), b)| b.as_ref().map(|b| (n.clone(), b.shallow_clone())))
            .collect()
    }

    /// Restores a momentum buffer; false if no parameter has that name or shape.
    pub fn set_momentum(&mut self, name: &str, value: &Tensor) -> bool {
        match self.params.iter().position(|(n, _)| n == name) {
            Some(i) if self.params[i].1.size() == value.size() => {
                if self.flat.is_some() {
                    if let Some(b) = &self.momentum[i] {
                        // A view into the flat buffer: overwrite it in place.
                        tch::no_grad(|| b.shallow_clone().copy_(value));
                        return true;
                    }
                }
                let b = self.params[i].1.zeros_like();
                tch::no_grad(|| {
                    let mut b2 = b.shallow_clone();
                    b2.copy_(value);
                });
                self.momentum[i] = Some(b);
                true
            }
            _ => false,
        }
    }
}

/// The 0-dim scalar tensors of one update.
struct Scalars {
    wd: Tensor,
    momentum: Tensor,
    neg_lr: Tensor,
}

/// One SGD update of `p` with gradient `g` (overwritten) and momentum buffer `buf`
/// (created from `g` at the first update).
fn update(c: &SgdConfig, s: &Scalars, p: &mut Tensor, mut g: Tensor, buf: &mut Option<Tensor>) {
    if c.weight_decay != 0.0 {
        let _ = g.addcmul_(p, &s.wd);
    }
    if c.momentum != 0.0 {
        match buf {
            Some(b) => {
                let _ = b.g_mul_scalar_(c.momentum).g_add_(&g);
            }
            None => *buf = Some(g.detach().copy()),
        }
        let b = buf.as_ref().expect("momentum buffer set above");
        if c.nesterov {
            let _ = g.addcmul_(b, &s.momentum);
        } else {
            g = b.shallow_clone();
        }
    }
    let _ = p.addcmul_(&g, &s.neg_lr);
}
