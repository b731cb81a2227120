//! Channel choices of the baseline pruners at given target widths.
use models::ModelConfig;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use tch::nn::VarStore;
use tch::Kind;

use crate::{ChannelMask, MaskSet, PruneError};

/// Target width of every prunable layer of `target`, checked against `cfg`.
fn targets(
    cfg: &ModelConfig,
    target: &ModelConfig,
) -> Result<Vec<(String, usize, usize)>, PruneError> {
    let from = cfg.prunable_layers();
    let to = target.prunable_layers();
    if from.len() != to.len() || cfg.arch_name() != target.arch_name() {
        return Err(PruneError::UnknownLayer(format!(
            "target widths are for another architecture ({})",
            target.arch_name()
        )));
    }
    let mut out = Vec::new();
    for (f, t) in from.iter().zip(&to) {
        if t.channels > f.channels || t.channels < 1 {
            return Err(PruneError::MaskLength {
                layer: f.name.clone(),
                expected: f.channels,
                found: t.channels as usize,
            });
        }
        out.push((f.name.clone(), f.channels as usize, t.channels as usize));
    }
    Ok(out)
}

/// L1-norm filter pruning (Li et al. 2017): in each layer keep the `target` filters of
/// largest L1 norm (sum of absolute weights of the output filter).
pub fn l1_norm_masks(
    cfg: &ModelConfig,
    vs: &VarStore,
    target: &ModelConfig,
) -> Result<MaskSet, PruneError> {
    let vars = vs.variables();
    let mut masks = MaskSet::new();
    for (name, c, k) in targets(cfg, target)? {
        let w = vars
            .get(&format!("{name}.weight"))
            .ok_or_else(|| PruneError::UnknownLayer(name.clone()))?;
        let norms: Vec<f32> = Vec::<f32>::try_from(
            w.detach()
                .abs()
                .flatten(1, -1)
                .sum_dim_intlist(1, false, Kind::Float)
                .to_device(tch::Device::Cpu),
        )
        .map_err(PruneError::Torch)?;
        let mut order: Vec<usize> = (0..c).collect();
        order.sort_by(|&a, &b| norms[b].total_cmp(&norms[a]).then(a.cmp(&b)));
        masks.insert(name, ChannelMask::from_indices(c, &order[..k]));
    }
    Ok(masks)
}

/// Random channels at the target widths, seeded.
pub fn random_masks(
    cfg: &ModelConfig,
    target: &ModelConfig,
    seed: u64,
) -> Result<MaskSet, PruneError> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut masks = MaskSet::new();
    for (name, c, k) in targets(cfg, target)? {
        let mut idx: Vec<usize> = (0..c).collect();
        idx.shuffle(&mut rng);
        masks.insert(name, ChannelMask::from_indices(c, &idx[..k]));
    }
    Ok(masks)
}
