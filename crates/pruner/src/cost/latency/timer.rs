//! Timing layer shapes on a device: random weights on random inputs, every shape of one
//! costing in turn, pass by pass, and again while the machine is too busy for it.
use std::time::{Duration, Instant};

use engine::{stats, LoadWindow};
use models::LayerShape;
use tch::{Device, Kind, Tensor};

use crate::PruneError;

/// One layer's forward pass on prepared inputs.
type Pass = Box<dyn Fn() -> Result<Tensor, tch::TchError>>;

/// Bytes of prepared inputs, weights and outputs timed in one interleaved chunk: the
/// shapes of one costing fit (ResNet-20 at batch 128 needs a few hundred MiB), and an
/// ImageNet network's are split rather than exhausting memory.
const CHUNK_BYTES: i64 = 2 << 30;

/// A layer shape that takes time to run: the [`LayerShape`]s other than `Fixed` (layers
/// pruning never reshapes cost nothing and are never timed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum TimedShape {
    Conv {
        cin: i64,
        cout: i64,
        k: i64,
        out_hw: (i64, i64),
        bn: bool,
    },
    Linear {
        cin: i64,
        cout: i64,
        bn: bool,
    },
}

impl TimedShape {
    /// The shape to time for `shape`; `None` for a fixed layer.
    pub(super) fn of(shape: &LayerShape) -> Option<Self> {
        match *shape {
            LayerShape::Conv {
                cin,
                cout,
                k,
                out_hw,
                bn,
            } => Some(Self::Conv {
                cin,
                cout,
                k,
                out_hw,
                bn,
            }),
            LayerShape::Linear { cin, cout, bn } => Some(Self::Linear { cin, cout, bn }),
            LayerShape::Fixed => None,
        }
    }
}

/// Times single layers with random weights on random inputs.
pub(super) struct LayerTimer {
    pub(super) batch: i64,
    pub(super) repeats: usize,
    pub(super) warmup: usize,
    pub(super) max_spread: f64,
    pub(super) max_others_load: f64,
    pub(super) busy_retries: usize,
    pub(super) busy_wait: Duration,
    pub(super) device: Device,
    pub(super) channels_last: bool,
}

impl LayerTimer {
    /// The median pass of each shape (ms), shapes interleaved within chunks of at most
    /// [`CHUNK_BYTES`] (in order, so the shapes of one layer's costing, listed next to
    /// each other, land in one chunk).
    pub(super) fn time_interleaved(&self, shapes: &[TimedShape]) -> Result<Vec<f64>, PruneError> {
        let mut out = Vec::with_capacity(shapes.len());
        let mut start = 0;
        while start < shapes.len() {
            let mut end = start + 1;
            let mut bytes = self.bytes(&shapes[start]);
            while end < shapes.len() && bytes + self.bytes(&shapes[end]) <= CHUNK_BYTES {
                bytes += self.bytes(&shapes[end]);
                end += 1;
            }
            let passes = shapes[start..end]
                .iter()
                .map(|s| self.prepare(s))
                .collect::<Result<Vec<_>, _>>()?;
            out.extend(self.quiet_median_ms(&passes)?);
            start = end;
        }
        Ok(out)
    }

    /// Memory one prepared shape holds while timed.
    fn bytes(&self, shape: &TimedShape) -> i64 {
        4 * match *shape {
            TimedShape::Conv {
                cin,
                cout,
                k,
                out_hw: (h, w),
                ..
            } => self.batch * (cin + cout) * h * w + cout * cin * k * k,
            TimedShape::Linear { cin, cout, .. } => self.batch * (cin + cout) + cout * cin,
        }
    }

    fn prepare(&self, shape: &TimedShape) -> Result<Pass, PruneError> {
        match *shape {
            TimedShape::Conv {
                cin,
                cout,
                k,
                out_hw,
                bn,
            } => self.prepare_conv(cin, cout, k, out_hw, bn),
            TimedShape::Linear { cin, cout, bn } => self.prepare_linear(cin, cout, bn),
        }
    }

    /// A stride-1 "same" convolution on an `out_hw` map: the layer's exact MACs and
    /// output size (a strided layer reads a larger input, which this leaves out).
    fn prepare_conv(
        &self,
        cin: i64,
        cout: i64,
        k: i64,
        (h, w): (i64, i64),
        bn: bool,
    ) -> Result<Pass, PruneError> {
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
        Ok(Box::new(move || {
            let y = x.f_conv2d(&weight, None::<Tensor>, [1, 1], [k / 2, k / 2], [1, 1], 1)?;
            match &norm {
                Some(n) => n.forward(&y),
                None => Ok(y),
            }
        }))
    }

    fn prepare_linear(&self, cin: i64, cout: i64, bn: bool) -> Result<Pass, PruneError> {
        let opts = (Kind::Float, self.device);
        let x = Tensor::f_randn([self.batch, cin], opts)?;
        let weight = Tensor::f_randn([cout, cin], opts)?;
        let bias = Tensor::f_zeros([cout], opts)?;
        let norm = bn.then(|| BatchNorm::new(cout, opts)).transpose()?;
        Ok(Box::new(move || {
            let y = x.f_linear(&weight, Some(&bias))?;
            match &norm {
                Some(n) => n.forward(&y),
                None => Ok(y),
            }
        }))
    }

    /// [`Self::median_ms`], timed again while the machine is too busy for it.
    fn quiet_median_ms(&self, passes: &[Pass]) -> Result<Vec<f64>, PruneError> {
        let mut attempt = 0;
        loop {
            let window = LoadWindow::start();
            let (ms, spread) = self.median_ms(passes)?;
            let others = window.others_share();
            tracing::debug!(
                "latency table: {} shapes timed, spread {spread:.3}, others' CPU share {others:?}",
                passes.len()
            );
            if spread <= self.max_spread && others.is_none_or(|o| o <= self.max_others_load) {
                return Ok(ms);
            }
            let others = others.unwrap_or(0.0);
            if attempt >= self.busy_retries {
                return Err(PruneError::BusyMachine {
                    spread,
                    others,
                    attempts: attempt + 1,
                });
            }
            attempt += 1;
            tracing::warn!(
                "latency table: passes varied by {spread:.2} (at most {:.2} accepted) and other work took {:.0}% of the CPUs (at most {:.0}%): the machine looks busy; timing again in {} s ({attempt} of {})",
                self.max_spread,
                100.0 * others,
                100.0 * self.max_others_load,
                self.busy_wait.as_secs(),
                self.busy_retries
            );
            std::thread::sleep(self.busy_wait);
        }
    }

    /// The median of `repeats` timed passes of each, after `warmup` untimed rounds, and
    /// the table's spread (the median over shapes of inter-quartile range / median).
    fn median_ms(&self, passes: &[Pass]) -> Result<(Vec<f64>, f64), PruneError> {
        let _no_grad = tch::no_grad_guard();
        let sync = || {
            if let Device::Cuda(i) = self.device {
                tch::Cuda::synchronize(i as i64);
            }
        };
        for _ in 0..self.warmup {
            for pass in passes {
                drop(pass()?);
            }
        }
        sync();
        // Every shape once per round, so a busy spell on the machine lands on all of
        // them alike; the median over rounds then ignores spells shorter than half the
        // run and scales all shapes alike under a steady load, which keeps the ratios
        // the cost shares are made of. (The minimum, right on an idle machine, picks a
        // rare lucky pass under load, and not for every shape.)
        let mut times = vec![Vec::with_capacity(self.repeats); passes.len()];
        for _ in 0..self.repeats {
            for (pass, t) in passes.iter().zip(&mut times) {
                let t0 = Instant::now();
                let y = pass()?;
                sync();
                t.push(t0.elapsed().as_secs_f64() * 1e3);
                drop(y);
            }
        }
        let spreads: Vec<f64> = times.iter().map(|t| stats::relative_iqr(t)).collect();
        Ok((
            times.iter().map(|t| stats::median(t)).collect(),
            stats::median(&spreads),
        ))
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
