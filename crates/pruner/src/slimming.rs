//! Network Slimming (Liu et al., ICCV 2017): after sparsity training with an L1 penalty
//! on BN scales, prune the channels whose |gamma| falls under one global threshold.
use models::ModelConfig;
use tch::nn::VarStore;

use crate::{mask_from_scores, MaskSet, PruneError};

/// Names of the BN scales of `cfg`'s prunable layers (the tensors sparsity training
/// penalises). Errors for layers without BN (FCN's backbone).
pub fn bn_scale_names(cfg: &ModelConfig) -> Result<Vec<String>, PruneError> {
    cfg.prunable_layers()
        .iter()
        .map(|l| {
            l.bn_scale().map(str::to_string).ok_or_else(|| {
                PruneError::UnknownLayer(format!(
                    "{} has no batch norm; Network Slimming needs BN scales",
                    l.name
                ))
            })
        })
        .collect()
}

/// How many channels Network Slimming's global threshold removes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SlimmingBudget {
    /// This fraction of all prunable channels, in (0, 1) (the paper's setting).
    ChannelFraction(f64),
    /// The fewest channels whose removal takes at least this percentage of the model's
    /// MACs, in (0, 100): the same threshold rule at a budget matched to another
    /// method's, e.g. C2S2's.
    MacsPrunedPct(f64),
}

/// Masks from one global threshold on |gamma| over all prunable layers, sized by
/// `budget`, keeping at least `min_channels` per layer.
pub fn slimming_masks(
    cfg: &ModelConfig,
    vs: &VarStore,
    budget: SlimmingBudget,
    min_channels: usize,
) -> Result<MaskSet, PruneError> {
    let scales = BnScales::read(cfg, vs)?;
    match budget {
        SlimmingBudget::ChannelFraction(fraction) => {
            let n = scales.sorted.len();
            let k = ((fraction * n as f64).floor() as usize).min(n.saturating_sub(1));
            Ok(scales.masks(k, min_channels))
        }
        SlimmingBudget::MacsPrunedPct(target) => {
            let base = cfg.cost(cfg.default_input_hw()).macs();
            let pct = |k: usize| -> Result<f64, PruneError> {
                let masks = scales.masks(k, min_channels);
                let mut pruned = cfg.clone();
                for (name, m) in &masks {
                    pruned = pruned.with_width(name, m.kept() as i64)?;
                }
                let macs = pruned.cost(pruned.default_input_hw()).macs();
                Ok(100.0 * (1.0 - macs as f64 / base.max(1) as f64))
            };
            // MACs removed never fall as the threshold rises, so the smallest k that
            // reaches the target is found by bisection.
            let most = scales.sorted.len().saturating_sub(1);
            let reachable = pct(most)?;
            if reachable < target {
                return Err(PruneError::Budget(format!(
                    "removing all but {min_channels} channel(s) per prunable layer removes \
                     {reachable:.2}% of the MACs, less than the {target}% asked for"
                )));
            }
            let (mut lo, mut hi) = (0, most);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if pct(mid)? >= target {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            Ok(scales.masks(lo, min_channels))
        }
    }
}

/// The |gamma| of every prunable layer, and all of them sorted.
struct BnScales {
    per_layer: Vec<(String, Vec<f32>)>,
    sorted: Vec<f32>,
}

impl BnScales {
    fn read(cfg: &ModelConfig, vs: &VarStore) -> Result<Self, PruneError> {
        let vars = vs.variables();
        let names = bn_scale_names(cfg)?;
        let mut per_layer = Vec::new();
        let mut sorted = Vec::new();
        for (l, bn) in cfg.prunable_layers().iter().zip(&names) {
            let g = vars
                .get(bn)
                .ok_or_else(|| PruneError::UnknownLayer(bn.clone()))?;
            let v: Vec<f32> = Vec::<f32>::try_from(g.detach().abs().to_device(tch::Device::Cpu))?;
            sorted.extend_from_slice(&v);
            per_layer.push((l.name.clone(), v));
        }
        sorted.sort_by(|a, b| a.total_cmp(b));
        Ok(Self { per_layer, sorted })
    }

    /// Masks that drop the `k` smallest |gamma| overall (ties at the threshold go
    /// together), widened to `min_channels` per layer.
    fn masks(&self, k: usize, min_channels: usize) -> MaskSet {
        let threshold = if k == 0 {
            f32::NEG_INFINITY
        } else {
            self.sorted[k - 1]
        };
        self.per_layer
            .iter()
            .map(|(n, v)| (n.clone(), mask_from_scores(v, threshold, min_channels, 1)))
            .collect()
    }
}

/// Network Slimming's sparsity training (Liu et al. 2017): the subgradient
/// `strength * sign(gamma)` of an L1 penalty on the BN scales, added to their gradients
/// after each backward pass.
#[derive(Debug, Clone, PartialEq)]
pub struct SlimmingSparsity {
    /// The BN scale variables ([`bn_scale_names`]).
    pub tensors: Vec<String>,
    /// s of the paper.
    pub strength: f64,
}

impl engine::GradientHook for SlimmingSparsity {
    fn tensors(&self) -> Vec<String> {
        self.tensors.clone()
    }

    fn after_backward(&self, vars: &[tch::Tensor]) {
        for t in vars {
            let mut g = t.grad();
            if g.defined() {
                let _ = g.g_add_(&(t.sign() * self.strength));
            }
        }
    }
}
