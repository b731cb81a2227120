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

/// Masks that remove the `fraction` of all prunable channels with the smallest |gamma|
/// (one global threshold), keeping at least `min_channels` per layer.
pub fn slimming_masks(
    cfg: &ModelConfig,
    vs: &VarStore,
    fraction: f64,
    min_channels: usize,
) -> Result<MaskSet, PruneError> {
    let vars = vs.variables();
    let names = bn_scale_names(cfg)?;
    let mut per_layer = Vec::new();
    let mut all = Vec::new();
    for (l, bn) in cfg.prunable_layers().iter().zip(&names) {
        let g = vars
            .get(bn)
            .ok_or_else(|| PruneError::UnknownLayer(bn.clone()))?;
        let v: Vec<f32> = Vec::<f32>::try_from(g.detach().abs().to_device(tch::Device::Cpu))?;
        all.extend_from_slice(&v);
        per_layer.push((l.name.clone(), v));
    }
    all.sort_by(|a, b| a.total_cmp(b));
    let k = ((fraction * all.len() as f64).floor() as usize).min(all.len().saturating_sub(1));
    let threshold = if k == 0 {
        f32::NEG_INFINITY
    } else {
        all[k - 1]
    };
    Ok(per_layer
        .into_iter()
        .map(|(n, v)| (n, mask_from_scores(&v, threshold, min_channels, 1)))
        .collect())
}
