use serde::{Deserialize, Serialize};
use tch::Tensor;

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
pub struct Sgd {
    pub config: SgdConfig,
    params: Vec<(String, Tensor)>,
    momentum: Vec<Option<Tensor>>,
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
        }
    }

    pub fn zero_grad(&mut self) {
        for (_, p) in &mut self.params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
    }

    /// One update with learning rate `lr`.
    pub fn step(&mut self, lr: f64) {
        let c = self.config;
        tch::no_grad(|| {
            for ((_, p), buf) in self.params.iter_mut().zip(self.momentum.iter_mut()) {
                let g = p.grad();
                if !g.defined() {
                    continue;
                }
                let mut d = if c.weight_decay != 0.0 {
                    &g + &*p * c.weight_decay
                } else {
                    g
                };
                if c.momentum != 0.0 {
                    let b = match buf {
                        Some(b) => {
                            let _ = b.g_mul_scalar_(c.momentum).g_add_(&d);
                            b
                        }
                        None => buf.insert(d.detach().copy()),
                    };
                    d = if c.nesterov {
                        d + &*b * c.momentum
                    } else {
                        b.shallow_clone()
                    };
                }
                let _ = p.g_add_(&(d * -lr));
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
