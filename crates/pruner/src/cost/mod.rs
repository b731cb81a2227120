//! The cost model of the cost-aware mechanism: what removing one channel of each layer
//! saves, and each layer's cost share c_l = cost_l / mean over prunable layers.
mod latency;

use std::collections::BTreeMap;

use models::ModelConfig;
use serde::{Deserialize, Serialize};

pub use latency::{LatencyConfig, LatencyTable};

use crate::PruneError;

/// What a channel costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CostMetric {
    /// Multiply-accumulates per image (conv + linear).
    #[default]
    Macs,
    /// Trainable parameters.
    Params,
    /// Forward time measured on the run's device, from a per-layer latency table.
    Latency,
}

/// Measures a network's cost in one metric: counted exactly (MACs, parameters) or
/// estimated from timed layers (latency).
pub enum CostMeter {
    Macs,
    Params,
    Latency(LatencyTable),
}

impl CostMeter {
    /// A counting meter for MACs and parameters; for latency, an empty table that times
    /// layers as they are first needed (see [`LatencyTable::new`]).
    pub fn new(metric: CostMetric, table: impl FnOnce() -> LatencyTable) -> Self {
        match metric {
            CostMetric::Macs => Self::Macs,
            CostMetric::Params => Self::Params,
            CostMetric::Latency => Self::Latency(table()),
        }
    }

    pub fn metric(&self) -> CostMetric {
        match self {
            Self::Macs => CostMetric::Macs,
            Self::Params => CostMetric::Params,
            Self::Latency(_) => CostMetric::Latency,
        }
    }

    /// The whole network's cost at input size `hw`: MACs per image, parameters, or the
    /// sum of its layers' measured times (ms per batch).
    pub fn total(&mut self, cfg: &ModelConfig, hw: (i64, i64)) -> Result<f64, PruneError> {
        let cost = cfg.cost(hw);
        Ok(match self {
            Self::Macs => cost.macs() as f64,
            Self::Params => cost.params() as f64,
            Self::Latency(table) => {
                let mut ms = 0.0;
                for l in &cost.layers {
                    ms += table.time(&l.shape)?;
                }
                ms
            }
        })
    }

    /// Measures, together, what `total` will need for `cfgs` at input size `hw`: for
    /// latency, times the layer shapes the table lacks in one interleaved run, so the
    /// networks compared are timed under the same load; nothing for the counted metrics.
    pub fn prepare(&mut self, cfgs: &[ModelConfig], hw: (i64, i64)) -> Result<(), PruneError> {
        if let Self::Latency(table) = self {
            let shapes: Vec<models::LayerShape> = cfgs
                .iter()
                .flat_map(|c| c.cost(hw).layers.into_iter().map(|l| l.shape))
                .collect();
            table.time_all(&shapes)?;
        }
        Ok(())
    }

    /// Channels to remove when costing one channel of a `channels`-wide layer: one for
    /// the exact counts; half the layer for timings, whose difference must stand well
    /// above the timer's noise (the cost is then the average over those channels).
    fn step(&self, channels: i64) -> i64 {
        match self {
            Self::Macs | Self::Params => 1,
            Self::Latency(_) => (channels / 2).max(1),
        }
    }
}

/// Per-channel costs of a network's prunable layers.
#[derive(Debug, Clone, PartialEq)]
pub struct CostModel {
    pub metric: CostMetric,
    /// Layer name -> what one of its channels costs (its filter, BN and the matching
    /// input slice of every consumer), in MACs per image, parameters, or milliseconds
    /// per timed batch.
    pub channel_cost: BTreeMap<String, f64>,
}

impl CostModel {
    /// Measures each channel's cost as the difference of the network's cost with fewer
    /// channels in that layer, at input size `hw` (exact for the counted metrics).
    pub fn new(
        cfg: &ModelConfig,
        hw: (i64, i64),
        meter: &mut CostMeter,
    ) -> Result<Self, PruneError> {
        Self::with_groups(cfg, hw, meter, false)
    }

    /// Like [`CostModel::new`], also costing the stage-coupled residual groups when
    /// `groups` is set (one channel of a group spans every tensor of its stream).
    pub fn with_groups(
        cfg: &ModelConfig,
        hw: (i64, i64),
        meter: &mut CostMeter,
        groups: bool,
    ) -> Result<Self, PruneError> {
        let mut layers = cfg.prunable_layers();
        if groups {
            layers.extend(cfg.stage_groups());
        }
        // Each layer is costed against a copy with `step` channels fewer, or, when it is
        // too narrow for that, more.
        let mut variants = Vec::with_capacity(layers.len());
        for l in layers {
            let step = meter.step(l.channels);
            let kept: Vec<i64> = (0..l.channels - step).collect();
            let variant = match cfg.keep_channels(&l.name, &kept) {
                Ok(smaller) if l.channels > step => Some((smaller, 1.0)),
                _ => cfg
                    .with_width(&l.name, l.channels + step)
                    .ok()
                    .map(|b| (b, -1.0)),
            };
            variants.push((l.name, step, variant));
        }
        let mut compared = vec![cfg.clone()];
        compared.extend(
            variants
                .iter()
                .filter_map(|(_, _, v)| v.as_ref().map(|v| v.0.clone())),
        );
        meter.prepare(&compared, hw)?;
        let base = meter.total(cfg, hw)?;
        let mut channel_cost = BTreeMap::new();
        for (name, step, variant) in variants {
            let saved = match variant {
                Some((other, sign)) => sign * (base - meter.total(&other, hw)?),
                None => 0.0,
            };
            // Timings can come out a hair negative for a layer that costs next to
            // nothing; a channel never saves less than nothing.
            channel_cost.insert(name, (saved / step as f64).max(0.0));
        }
        Ok(Self {
            metric: meter.metric(),
            channel_cost,
        })
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
        let m = CostModel::new(&cfg, (32, 32), &mut CostMeter::Macs).unwrap();
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
        let p = CostModel::new(&cfg, (32, 32), &mut CostMeter::Params).unwrap();
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
        let p = CostModel::new(&cfg, (32, 32), &mut CostMeter::Params).unwrap();
        // features.40: 512x3x3 filter + BN (2) + one column of classifier.0 (512).
        assert_eq!(p.channel_cost["features.40"], (512 * 9 + 2 + 512) as f64);
    }

    #[test]
    fn latency_costs_difference_the_table_over_half_a_layer() {
        // A latency model proportional to MACs: the timed cost must then come out as
        // the exact MACs cost, scaled, since both are linear in a layer's width.
        let per_mac = 1e-6;
        let table = LatencyTable::from_fn(move |s| {
            Ok(match *s {
                models::LayerShape::Conv {
                    cin,
                    cout,
                    k,
                    out_hw: (h, w),
                    ..
                } => (cin * cout * k * k * h * w) as f64 * per_mac,
                models::LayerShape::Linear { cin, cout, .. } => (cin * cout) as f64 * per_mac,
                models::LayerShape::Fixed => 0.0,
            })
        });
        let cfg = ModelConfig::ResnetCifar(ResNetCifarConfig::default());
        let mut meter = CostMeter::new(CostMetric::Latency, || table);
        let t = CostModel::with_groups(&cfg, (32, 32), &mut meter, true).unwrap();
        assert_eq!(t.metric, CostMetric::Latency);
        let m = CostModel::with_groups(&cfg, (32, 32), &mut CostMeter::Macs, true).unwrap();
        assert_eq!(t.channel_cost.len(), 12, "nine inner layers, three groups");
        for (name, macs) in &m.channel_cost {
            let ms = t.channel_cost[name];
            assert!((ms - macs * per_mac).abs() < 1e-9, "{name}: {ms} vs {macs}");
        }
        // Half a layer at a time for timings, one channel for counts.
        assert_eq!(meter.step(16), 8);
        assert_eq!(meter.step(1), 1);
        assert_eq!(CostMeter::Macs.step(16), 1);
        let CostMeter::Latency(table) = &meter else {
            panic!("a latency meter")
        };
        // Each distinct shape of the networks compared was computed once.
        assert!(table.len() > 10, "{} shapes", table.len());
    }

    #[test]
    fn negative_timed_savings_count_as_free() {
        // A latency model in which a narrower layer runs slower (as oneDNN can for
        // odd channel counts): the channel saves nothing, not less than nothing.
        let table = LatencyTable::from_fn(|s| {
            Ok(match *s {
                models::LayerShape::Conv { cout: 8, .. } => 5.0,
                _ => 1.0,
            })
        });
        let cfg = ModelConfig::ResnetCifar(ResNetCifarConfig::default());
        let mut meter = CostMeter::new(CostMetric::Latency, || table);
        let t = CostModel::new(&cfg, (32, 32), &mut meter).unwrap();
        assert_eq!(t.channel_cost["layer1.0.conv1"], 0.0);
        assert!(t.shares().values().all(|c| c.is_finite()));
    }
}
