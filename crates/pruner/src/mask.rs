use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// Which output channels of one layer are kept: the binary form of a pruning layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelMask {
    keep: Vec<bool>,
}

/// Masks by prunable-layer name.
pub type MaskSet = BTreeMap<String, ChannelMask>;

impl ChannelMask {
    pub fn new(keep: Vec<bool>) -> Self {
        Self { keep }
    }

    /// Keeps every one of `n` channels.
    pub fn all(n: usize) -> Self {
        Self {
            keep: vec![true; n],
        }
    }

    /// Keeps the channels at `indices` of `n`.
    pub fn from_indices(n: usize, indices: &[usize]) -> Self {
        let mut keep = vec![false; n];
        indices
            .iter()
            .filter(|&&i| i < n)
            .for_each(|&i| keep[i] = true);
        Self { keep }
    }

    /// Total channels.
    pub fn len(&self) -> usize {
        self.keep.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keep.is_empty()
    }

    /// Kept channels.
    pub fn kept(&self) -> usize {
        self.keep.iter().filter(|&&k| k).count()
    }

    pub fn keep(&self) -> &[bool] {
        &self.keep
    }

    /// Indices of the kept channels, ascending.
    pub fn kept_indices(&self) -> Vec<i64> {
        self.keep
            .iter()
            .enumerate()
            .filter(|(_, &k)| k)
            .map(|(i, _)| i as i64)
            .collect()
    }

    /// The mask as a float `[C]` tensor of 0 and 1 (a binary gate).
    pub fn to_tensor(&self, device: Device) -> Tensor {
        let v: Vec<f32> = self
            .keep
            .iter()
            .map(|&k| if k { 1.0 } else { 0.0 })
            .collect();
        Tensor::from_slice(&v)
            .to_kind(Kind::Float)
            .to_device(device)
    }
}
