//! The cost model of the cost-aware mechanism: what removing one channel of each layer
//! saves, and each layer's cost share c_l = cost_l / mean over prunable layers.
use std::collections::BTreeMap;

use models::ModelConfig;
use serde::{Deserialize, Serialize};

/// What a channel costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CostMetric {
    /// Multiply-accumulates per image (conv + linear).
    #[default]
    Macs,
    /// Trainable parameters.
    Params,
}

/// Per-channel costs of a network's prunable layers.
#[derive(Debug, Clone, PartialEq)]
pub struct CostModel {
    pub metric: CostMetric,
    /// Layer name -> what one of its channels costs (its filter, BN and the matching
    /// input slice of every consumer), in MACs per image or parameters.
    pub channel_cost: BTreeMap<String, f64>,
}

impl CostModel {
    /// Measures each channel's cost exactly, as the difference of the network's counts
    /// with one channel fewer in that layer, at input size `hw`.
    pub fn new(cfg: &ModelConfig, hw: (i64, i64), metric: CostMetric) -> Self {
        Self::with_groups(cfg, hw, metric, false)
    }

    /// Like [`CostModel::new`], also costing the stage-coupled residual groups when
    /// `groups` is set (one channel of a group spans every tensor of its stream).
    pub fn with_groups(
        cfg: &ModelConfig,
        hw: (i64, i64),
        metric: CostMetric,
        groups: bool,
    ) -> Self {
        let total = |c: &ModelConfig| {
            let cost = c.cost(hw);
            match metric {
                CostMetric::Macs => cost.macs() as f64,
                CostMetric::Params => cost.params() as f64,
            }
        };
        let base = total(cfg);
        let mut channel_cost = BTreeMap::new();
        let mut layers = cfg.prunable_layers();
        if groups {
            layers.extend(cfg.stage_groups());
        }
        for l in layers {
            let first: Vec<i64> = (0..l.channels - 1).collect();
            let saved = match cfg.keep_channels(&l.name, &first) {
                Ok(smaller) if l.channels > 1 => base - total(&smaller),
                // A one-channel layer cannot lose a channel; its cost still counts.
                _ => match cfg.with_width(&l.name, l.channels + 1) {
                    Ok(bigger) => total(&bigger) - base,
                    Err(_) => 0.0,
                },
            };
            channel_cost.insert(l.name, saved);
        }
        Self {
            metric,
            channel_cost,
        }
    }

    /// c_l = cost of one channel of l / mean over layers (1.0 everywhere when all
    /// layers cost the same).
    pub fn shares(&self) -> BTreeMap<String, f64> {
        let n = self.channel_cost.len().max(1) as f64;
        let mean = self.channel_cost.values().sum::<f64>() / n;
        self.channel_cost
            .iter()
            .map(|(k, v)| (k.clone(), if mean > 0.0 { v / mean } else { 1.0 }))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::{ResNetCifarConfig, VggCifarConfig};

    #[test]
    fn resnet20_channel_costs() {
        let cfg = ModelConfig::ResnetCifar(ResNetCifarConfig::default());
        let m = CostModel::new(&cfg, (32, 32), CostMetric::Macs);
        // layer1.0.conv1: one filter 16x3x3 and one input slice of conv2 (16x3x3), on 32x32.
        assert_eq!(
            m.channel_cost["layer1.0.conv1"],
            (2 * 16 * 9 * 32 * 32) as f64
        );
        // Stage 3 channels: 64x3x3 on 8x8 each way.
        assert_eq!(
            m.channel_cost["layer3.2.conv1"],
            (2 * 64 * 9 * 8 * 8) as f64
        );
        let p = CostModel::new(&cfg, (32, 32), CostMetric::Params);
        // Filter + BN gamma/beta + conv2 input slice.
        assert_eq!(
            p.channel_cost["layer1.0.conv1"],
            (16 * 9 + 2 + 16 * 9) as f64
        );
        let s = m.shares();
        let mean: f64 = s.values().sum::<f64>() / s.len() as f64;
        assert!((mean - 1.0).abs() < 1e-12);
    }

    #[test]
    fn vgg_last_layer_includes_classifier_input() {
        let cfg = ModelConfig::Vgg16Cifar(VggCifarConfig::default());
        let p = CostModel::new(&cfg, (32, 32), CostMetric::Params);
        // features.40: 512x3x3 filter + BN (2) + one column of classifier.0 (512).
        assert_eq!(p.channel_cost["features.40"], (512 * 9 + 2 + 512) as f64);
    }
}
