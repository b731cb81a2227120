//! Measured latency as a channel's cost: a lookup table of each layer shape's forward
//! time, timed in isolation on the run's device (the latency tables of NetAdapt, Yang et
//! al. 2018). A network's latency estimate is the sum over its layers, so layers that a
//! width change leaves alone cancel exactly when two widths are compared.
use std::collections::HashMap;
use std::time::Instant;

use models::LayerShape;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::PruneError;

/// How the latency table times a layer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyConfig {
    /// Images per timed forward pass (default: the run's training batch size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<i64>,
    /// Timed passes per layer shape; the fastest is kept.
    #[serde(default = "d_repeats")]
    pub repeats: usize,
    /// Untimed passes before them (allocator, kernel selection).
    #[serde(default = "d_warmup")]
    pub warmup: usize,
}

fn d_repeats() -> usize {
    15
}

fn d_warmup() -> usize {
    3
}

impl Default for LatencyConfig {
    fn default() -> Self {
        Self {
            batch: None,
            repeats: d_repeats(),
            warmup: d_warmup(),
        }
    }
}

/// Where a table's times come from: milliseconds per pass of one layer shape.
type ShapeTimer = Box<dyn FnMut(&LayerShape) -> Result<f64, PruneError>>;

/// Forward times of layer shapes, each measured once and then looked up.
pub struct LatencyTable {
    timer: ShapeTimer,
    ms: HashMap<LayerShape, f64>,
}

impl LatencyTable {
    /// An empty table timing `batch` images per pass on `device` (the fastest of
    /// `cfg.repeats` passes), convolutions in channels-last layout when `channels_last`
    /// (the layout the run trains in).
    pub fn new(cfg: LatencyConfig, batch: i64, device: Device, channels_last: bool) -> Self {
        let timer = LayerTimer {
            batch: cfg.batch.unwrap_or(batch).max(1),
            repeats: cfg.repeats.max(1),
            warmup: cfg.warmup,
            device,
            channels_last,
        };
        Self::from_fn(move |shape| timer.time(shape))
    }

    /// A table whose times come from `time` (ms per pass) instead of the device: a
    /// latency model of another machine, or a known function in tests.
    pub fn from_fn(time: impl FnMut(&LayerShape) -> Result<f64, PruneError> + 'static) -> Self {
        Self {
            timer: Box::new(time),
            ms: HashMap::new(),
        }
    }

    /// Shapes timed so far.
    pub fn len(&self) -> usize {
        self.ms.len()
    }

    /// Whether nothing has been timed yet.
    pub fn is_empty(&self) -> bool {
        self.ms.is_empty()
    }

    /// Forward time of one layer of this shape (with its BN), in milliseconds per pass;
    /// 0 for layers pruning never reshapes.
    pub fn time(&mut self, shape: &LayerShape) -> Result<f64, PruneError> {
        if *shape == LayerShape::Fixed {
            return Ok(0.0);
        }
        if let Some(&t) = self.ms.get(shape) {
            return Ok(t);
        }
        let t = (self.timer)(shape)?;
        tracing::debug!("latency table: {shape:?} {t:.3} ms");
        self.ms.insert(*shape, t);
        Ok(t)
    }
}

/// Times single layers with random weights on random inputs.
struct LayerTimer {
    batch: i64,
    repeats: usize,
    warmup: usize,
    device: Device,
    channels_last: bool,
}

impl LayerTimer {
    fn time(&self, shape: &LayerShape) -> Result<f64, PruneError> {
        match *shape {
            LayerShape::Fixed => Ok(0.0),
            LayerShape::Conv {
                cin,
                cout,
                k,
                out_hw,
                bn,
            } => self.time_conv(cin, cout, k, out_hw, bn),
            LayerShape::Linear { cin, cout, bn } => self.time_linear(cin, cout, bn),
        }
    }

    /// A stride-1 "same" convolution on an `out_hw` map: the layer's exact MACs and
    /// output size (a strided layer reads a larger input, which this leaves out).
    fn time_conv(
        &self,
        cin: i64,
        cout: i64,
        k: i64,
        (h, w): (i64, i64),
        bn: bool,
    ) -> Result<f64, PruneError> {
        let opts = (Kind::Float, self.device);
        let layout = |t: Tensor| {
            if self.channels_last {
                engine::to_channels_last(&t)
            } else {
                t
            }
        };
        let x = layout(Tensor::f_randn([self.batch, cin, h, w], opts)?);
        let weight = layout(Tensor::f_randn([cout, cin, k, k], opts)?);
        let norm = bn.then(|| BatchNorm::new(cout, opts)).transpose()?;
        self.fastest_ms(|| {
            let y = x.f_conv2d(&weight, None::<Tensor>, [1, 1], [k / 2, k / 2], [1, 1], 1)?;
            match &norm {
                Some(n) => n.forward(&y),
                None => Ok(y),
            }
        })
    }

    fn time_linear(&self, cin: i64, cout: i64, bn: bool) -> Result<f64, PruneError> {
        let opts = (Kind::Float, self.device);
        let x = Tensor::f_randn([self.batch, cin], opts)?;
        let weight = Tensor::f_randn([cout, cin], opts)?;
        let bias = Tensor::f_zeros([cout], opts)?;
        let norm = bn.then(|| BatchNorm::new(cout, opts)).transpose()?;
        self.fastest_ms(|| {
            let y = x.f_linear(&weight, Some(&bias))?;
            match &norm {
                Some(n) => n.forward(&y),
                None => Ok(y),
            }
        })
    }

    fn fastest_ms(
        &self,
        mut pass: impl FnMut() -> Result<Tensor, tch::TchError>,
    ) -> Result<f64, PruneError> {
        let _no_grad = tch::no_grad_guard();
        let sync = || {
            if let Device::Cuda(i) = self.device {
                tch::Cuda::synchronize(i as i64);
            }
        };
        for _ in 0..self.warmup {
            drop(pass()?);
        }
        sync();
        let mut times = Vec::with_capacity(self.repeats);
        for _ in 0..self.repeats {
            let t0 = Instant::now();
            let y = pass()?;
            sync();
            times.push(t0.elapsed().as_secs_f64() * 1e3);
            drop(y);
        }
        // The minimum, not the median: interference from other work on the machine only
        // ever adds time, and two shapes timed minutes apart must compare fairly.
        Ok(times.into_iter().fold(f64::INFINITY, f64::min))
    }
}

/// Inference-mode batch normalization with fixed statistics.
struct BatchNorm {
    gamma: Tensor,
    beta: Tensor,
    mean: Tensor,
    var: Tensor,
}

impl BatchNorm {
    fn new(c: i64, opts: (Kind, Device)) -> Result<Self, tch::TchError> {
        Ok(Self {
            gamma: Tensor::f_ones([c], opts)?,
            beta: Tensor::f_zeros([c], opts)?,
            mean: Tensor::f_zeros([c], opts)?,
            var: Tensor::f_ones([c], opts)?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, tch::TchError> {
        x.f_batch_norm(
            Some(&self.gamma),
            Some(&self.beta),
            Some(&self.mean),
            Some(&self.var),
            false,
            0.1,
            1e-5,
            false,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(c: i64, hw: i64) -> LayerShape {
        LayerShape::Conv {
            cin: c,
            cout: c,
            k: 3,
            out_hw: (hw, hw),
            bn: true,
        }
    }

    // Only what timing cannot make flaky: which shapes get timed, and that a shape is
    // looked up after its first timing. How time scales with work is a measurement
    // (`experiments channel-costs --metric latency`); the cost arithmetic on top of the
    // table is tested with exact, MACs-proportional tables in `cost::tests`.
    #[test]
    fn shapes_are_timed_once_then_looked_up() {
        let cfg = LatencyConfig {
            batch: Some(8),
            repeats: 3,
            warmup: 1,
        };
        let mut t = LatencyTable::new(cfg, 128, Device::Cpu, true);
        let small = t.time(&conv(4, 8)).unwrap();
        let big = t.time(&conv(64, 32)).unwrap();
        assert!(small > 0.0 && big > 0.0, "{small} ms, {big} ms");
        assert_eq!(t.len(), 2);
        // Looked up, not re-timed: the same value comes back and nothing is added.
        assert_eq!(t.time(&conv(4, 8)).unwrap(), small);
        assert_eq!(t.time(&conv(64, 32)).unwrap(), big);
        assert_eq!(t.len(), 2);
        // Layers that cannot shrink cost nothing and are not timed.
        assert_eq!(t.time(&LayerShape::Fixed).unwrap(), 0.0);
        assert_eq!(t.len(), 2);
        let fc = LayerShape::Linear {
            cin: 64,
            cout: 10,
            bn: false,
        };
        assert!(t.time(&fc).unwrap() > 0.0);
        assert_eq!(t.len(), 3);
    }
}
