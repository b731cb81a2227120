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

/// Share of `cfg`'s MACs (at its default input size) that `pruned` removes, in percent.
fn macs_removed_pct(cfg: &ModelConfig, pruned: &ModelConfig) -> f64 {
    let base = cfg.cost(cfg.default_input_hw()).macs();
    let macs = pruned.cost(pruned.default_input_hw()).macs();
    100.0 * (1.0 - macs as f64 / base.max(1) as f64)
}

/// Uniform widths (the "uniform L1-norm" baseline's): every prunable layer keeps the
/// same share `r` of its channels, `round(r * channels)` but at least `min_channels`,
/// with `r` the largest share that still removes at least `macs_pruned_pct` percent of
/// `cfg`'s MACs. Returns the widths and `r`. Set beside a per-layer method at the same
/// MACs, it shows what that method's choice of widths is worth.
pub fn uniform_widths(
    cfg: &ModelConfig,
    macs_pruned_pct: f64,
    min_channels: usize,
) -> Result<(ModelConfig, f64), PruneError> {
    let layers = cfg.prunable_layers();
    let at = |r: f64| -> Result<ModelConfig, PruneError> {
        let mut out = cfg.clone();
        for l in &layers {
            let k = ((r * l.channels as f64).round() as i64)
                .max(min_channels as i64)
                .min(l.channels);
            out = out.with_width(&l.name, k)?;
        }
        Ok(out)
    };
    let most = macs_removed_pct(cfg, &at(0.0)?);
    if most < macs_pruned_pct {
        return Err(PruneError::Budget(format!(
            "uniform widths remove at most {most:.2}% of MACs (every layer at {min_channels} channel(s)); {macs_pruned_pct}% asked"
        )));
    }
    // MACs removed never rise with r: bisect for the largest r that reaches the target.
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if macs_removed_pct(cfg, &at(mid)?) >= macs_pruned_pct {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok((at(lo)?, lo))
}
