//! The pruning layer: a per-channel 1x1 depth-wise kernel w in [0, 1] in dual format,
//! real-valued (y = w * x) and binary (y = 1[w > tau] * x, the channel mask).
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::ChannelMask;

/// Which form of the kernel the forward pass uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GateFormat {
    /// y = w * x: differentiable, used in phase 1.
    #[default]
    Real,
    /// y = 1[w > tau] * x: the channel mask.
    Binary,
    /// Straight-through estimator: binary forward, the real kernel's gradient.
    Ste,
}

/// One pruning layer on the output of a prunable conv.
#[derive(Debug)]
pub struct PruningLayer {
    /// The prunable layer it gates.
    pub name: String,
    /// The real-valued kernel `[C]`, initialised to 1 (the network is unchanged).
    pub w: Tensor,
    /// Binarization threshold, in (0, 1).
    pub tau: f64,
}

impl PruningLayer {
    pub fn new(name: &str, channels: i64, tau: f64, device: Device) -> Self {
        let w = Tensor::ones([channels], (Kind::Float, device)).set_requires_grad(true);
        Self {
            name: name.to_string(),
            w,
            tau,
        }
    }

    /// The gate vector the network multiplies its feature map by.
    pub fn gate(&self, format: GateFormat) -> Tensor {
        match format {
            GateFormat::Real => self.w.shallow_clone(),
            GateFormat::Binary => self.w.detach().gt(self.tau).to_kind(Kind::Float),
            GateFormat::Ste => {
                let hard = self.w.detach().gt(self.tau).to_kind(Kind::Float);
                &self.w + (hard - self.w.detach())
            }
        }
    }

    /// Keeps w in [0, 1] (projection after each step).
    pub fn project(&mut self) {
        tch::no_grad(|| {
            let _ = self.w.clamp_(0.0, 1.0);
        });
    }

    /// The binary mask `1[w > tau]`, then widened to at least `min_keep` channels and to
    /// a multiple of `round_to` (both by adding the largest dropped entries of w).
    pub fn mask(&self, min_keep: usize, round_to: usize) -> ChannelMask {
        let w: Vec<f32> =
            Vec::<f32>::try_from(self.w.detach().to_device(Device::Cpu)).unwrap_or_default();
        mask_from_scores(&w, self.tau as f32, min_keep, round_to)
    }
}

/// `1[score > tau]`, widened to at least `min_keep` and a multiple of `round_to` kept
/// entries (never more than all) by adding the highest-scoring dropped entries.
pub fn mask_from_scores(scores: &[f32], tau: f32, min_keep: usize, round_to: usize) -> ChannelMask {
    let n = scores.len();
    let mut keep: Vec<bool> = scores.iter().map(|&s| s > tau).collect();
    let mut target = keep.iter().filter(|&&k| k).count().max(min_keep.max(1));
    if round_to > 1 {
        target = target.div_ceil(round_to) * round_to;
    }
    let target = target.min(n);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let mut kept = keep.iter().filter(|&&k| k).count();
    for i in order {
        if kept >= target {
            break;
        }
        if !keep[i] {
            keep[i] = true;
            kept += 1;
        }
    }
    ChannelMask::new(keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_threshold_minimum_and_rounding() {
        let s = [0.9, 0.1, 0.6, 0.2, 0.05, 0.7];
        assert_eq!(
            mask_from_scores(&s, 0.5, 1, 1).keep(),
            &[true, false, true, false, false, true]
        );
        // At least 4: adds the best dropped entry (0.2 at index 3).
        assert_eq!(
            mask_from_scores(&s, 0.5, 4, 1).kept_indices(),
            vec![0, 2, 3, 5]
        );
        // Multiple of 4 from 3 kept -> 4.
        assert_eq!(mask_from_scores(&s, 0.5, 1, 4).kept(), 4);
        // Never empty, never more than all.
        assert_eq!(mask_from_scores(&[0.0, 0.0], 0.5, 1, 8).kept(), 2);
        assert_eq!(
            mask_from_scores(&[0.0, 0.3], 0.5, 0, 1).kept_indices(),
            vec![1]
        );
    }

    #[test]
    fn gate_formats() {
        let mut l = PruningLayer::new("x", 3, 0.5, Device::Cpu);
        tch::no_grad(|| {
            l.w.copy_(&Tensor::from_slice(&[0.2f32, 0.7, 1.4]));
        });
        l.project();
        assert_eq!(
            Vec::<f32>::try_from(l.gate(GateFormat::Real).detach()).unwrap(),
            vec![0.2, 0.7, 1.0]
        );
        assert_eq!(
            Vec::<f32>::try_from(l.gate(GateFormat::Binary)).unwrap(),
            vec![0.0, 1.0, 1.0]
        );
        let ste = l.gate(GateFormat::Ste);
        assert_eq!(
            Vec::<f32>::try_from(ste.detach()).unwrap(),
            vec![0.0, 1.0, 1.0]
        );
        ste.sum(Kind::Float).backward();
        assert_eq!(
            Vec::<f32>::try_from(l.w.grad()).unwrap(),
            vec![1.0, 1.0, 1.0]
        );
    }
}
