//! Measured latency as a channel's cost: a lookup table of each layer shape's forward
//! time, timed in isolation on the run's device (the latency tables of NetAdapt, Yang et
//! al. 2018). A network's latency estimate is the sum over its layers, so layers that a
//! width change leaves alone cancel exactly when two widths are compared.
use std::collections::HashMap;
use std::time::Instant;

use models::LayerShape;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use super::busy::LoadWindow;
use crate::PruneError;

/// How the latency table times a layer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyConfig {
    /// Images per timed forward pass (default: the run's training batch size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<i64>,
    /// Timed passes per layer shape; each shape's median over them is kept (passes of all shapes timed together alternate).
    #[serde(default = "d_repeats")]
    pub repeats: usize,
    /// Untimed passes before them (allocator, kernel selection).
    #[serde(default = "d_warmup")]
    pub warmup: usize,
    /// Largest accepted timing noise: the median over shapes of each shape's
    /// inter-quartile range over its median. Timed on a busy machine, tables come out
    /// wrong (a narrower layer timed slower), and their passes vary far more (measured
    /// on 2 vCPUs: 0.06-0.12 idle, 0.6-1.3 with other work running); a noisier table is
    /// timed again after `busy_wait_s`.
    #[serde(default = "d_max_spread")]
    pub max_spread: f64,
    /// Largest accepted share of all CPUs' time that went to other work (other
    /// processes, the kernel, hypervisor steal) while the table was timed, in [0, 1]
    /// (Linux; not checked elsewhere). A noisier or busier timing is done again after
    /// `busy_wait_s`.
    #[serde(default = "d_max_others_load")]
    pub max_others_load: f64,
    /// Times a too-noisy table is timed again before the run stops with an error.
    #[serde(default = "d_busy_retries")]
    pub busy_retries: usize,
    /// Seconds to wait before timing a too-noisy table again.
    #[serde(default = "d_busy_wait_s")]
    pub busy_wait_s: u64,
}

fn d_max_spread() -> f64 {
    0.25
}

fn d_max_others_load() -> f64 {
    0.1
}

fn d_busy_retries() -> usize {
    20
}

fn d_busy_wait_s() -> u64 {
    30
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
            max_spread: d_max_spread(),
            max_others_load: d_max_others_load(),
            busy_retries: d_busy_retries(),
            busy_wait_s: d_busy_wait_s(),
        }
    }
}

/// A latency model given as a function: ms per pass of one layer shape.
type LatencyModel = Box<dyn FnMut(&LayerShape) -> Result<f64, PruneError>>;

/// Where a table's times come from.
enum Timer {
    /// Timed on a device.
    Device(LayerTimer),
    /// Given as a function: ms per pass of one layer shape.
    Model(LatencyModel),
}

/// Forward times of layer shapes, each measured once and then looked up.
pub struct LatencyTable {
    timer: Timer,
    ms: HashMap<LayerShape, f64>,
}

impl LatencyTable {
    /// An empty table timing `batch` images per pass on `device` (the median of
    /// `cfg.repeats` passes), convolutions in channels-last layout when `channels_last`
    /// (the layout the run trains in).
    pub fn new(cfg: LatencyConfig, batch: i64, device: Device, channels_last: bool) -> Self {
        Self {
            timer: Timer::Device(LayerTimer {
                batch: cfg.batch.unwrap_or(batch).max(1),
                repeats: cfg.repeats.max(1),
                warmup: cfg.warmup,
                max_spread: cfg.max_spread,
                max_others_load: cfg.max_others_load,
                busy_retries: cfg.busy_retries,
                busy_wait: std::time::Duration::from_secs(cfg.busy_wait_s),
                device,
                channels_last,
            }),
            ms: HashMap::new(),
        }
    }

    /// A table whose times come from `time` (ms per pass) instead of the device: a
    /// latency model of another machine, or a known function in tests.
    pub fn from_fn(time: impl FnMut(&LayerShape) -> Result<f64, PruneError> + 'static) -> Self {
        Self {
            timer: Timer::Model(Box::new(time)),
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
        self.time_all(std::slice::from_ref(shape))?;
        Ok(self.ms[shape])
    }

    /// Times every shape of `shapes` the table lacks, together: on a device, one pass
    /// of each in turn, round after round, so that shapes whose times are later
    /// subtracted from each other were measured under the same load. (Timed one after
    /// another, a busy spell on the machine can land on one shape of a pair only and
    /// make the narrower layer look slower.)
    pub fn time_all(&mut self, shapes: &[LayerShape]) -> Result<(), PruneError> {
        let mut missing: Vec<LayerShape> = Vec::new();
        for s in shapes {
            if *s != LayerShape::Fixed && !self.ms.contains_key(s) && !missing.contains(s) {
                missing.push(*s);
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let times = match &mut self.timer {
            Timer::Device(t) => t.time_interleaved(&missing)?,
            Timer::Model(f) => missing.iter().map(f).collect::<Result<_, _>>()?,
        };
        for (shape, t) in missing.into_iter().zip(times) {
            tracing::debug!("latency table: {shape:?} {t:.3} ms");
            self.ms.insert(shape, t);
        }
        Ok(())
    }
}

/// One layer's forward pass on prepared inputs.
type Pass = Box<dyn Fn() -> Result<Tensor, tch::TchError>>;

/// Bytes of prepared inputs, weights and outputs timed in one interleaved chunk: the
/// shapes of one costing fit (ResNet-20 at batch 128 needs a few hundred MiB), and an
/// ImageNet network's are split rather than exhausting memory.
const CHUNK_BYTES: i64 = 2 << 30;

/// Times single layers with random weights on random inputs.
struct LayerTimer {
    batch: i64,
    repeats: usize,
    warmup: usize,
    max_spread: f64,
    max_others_load: f64,
    busy_retries: usize,
    busy_wait: std::time::Duration,
    device: Device,
    channels_last: bool,
}

impl LayerTimer {
    /// The median pass of each shape (ms), shapes interleaved within chunks of at most
    /// [`CHUNK_BYTES`] (in order, so the shapes of one layer's costing, listed next to
    /// each other, land in one chunk).
    fn time_interleaved(&self, shapes: &[LayerShape]) -> Result<Vec<f64>, PruneError> {
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
    fn bytes(&self, shape: &LayerShape) -> i64 {
        4 * match *shape {
            LayerShape::Fixed => 0,
            LayerShape::Conv {
                cin,
                cout,
                k,
                out_hw: (h, w),
                ..
            } => self.batch * (cin + cout) * h * w + cout * cin * k * k,
            LayerShape::Linear { cin, cout, .. } => self.batch * (cin + cout) + cout * cin,
        }
    }

    fn prepare(&self, shape: &LayerShape) -> Result<Pass, PruneError> {
        match *shape {
            // Never asked for (fixed layers are not timed); an empty pass costs nothing.
            LayerShape::Fixed => Ok(Box::new(|| {
                Tensor::f_zeros([0], (Kind::Float, Device::Cpu))
            })),
            LayerShape::Conv {
                cin,
                cout,
                k,
                out_hw,
                bn,
            } => self.prepare_conv(cin, cout, k, out_hw, bn),
            LayerShape::Linear { cin, cout, bn } => self.prepare_linear(cin, cout, bn),
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
        let spread = median(times.iter().map(|t| relative_iqr(t)).collect());
        Ok((times.into_iter().map(median).collect(), spread))
    }
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => v[n / 2],
        _ => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

/// Inter-quartile range over the median: how much passes of one shape vary.
fn relative_iqr(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    let mid = median(v.clone());
    if mid > 0.0 {
        (q(0.75) - q(0.25)) / mid
    } else {
        0.0
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
        // Any noise accepted: a test machine may be busy.
        let cfg = LatencyConfig {
            batch: Some(8),
            repeats: 3,
            warmup: 1,
            max_spread: f64::INFINITY,
            max_others_load: 1.0,
            ..LatencyConfig::default()
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
        // Timed together: only the missing shapes, each once, duplicates and fixed
        // layers skipped.
        t.time_all(&[
            conv(4, 8),
            conv(8, 8),
            conv(8, 8),
            LayerShape::Fixed,
            conv(16, 8),
        ])
        .unwrap();
        assert_eq!(t.len(), 5);
        assert_eq!(t.time(&conv(4, 8)).unwrap(), small);
    }

    #[test]
    fn a_busy_machine_is_refused_after_its_retries() {
        // No noise is small enough: the table is timed 1 + 2 times, then refused.
        let cfg = LatencyConfig {
            batch: Some(4),
            repeats: 4,
            warmup: 0,
            max_spread: -1.0,
            max_others_load: 1.0,
            busy_retries: 2,
            busy_wait_s: 0,
        };
        let mut t = LatencyTable::new(cfg, 128, Device::Cpu, false);
        match t.time(&conv(4, 8)) {
            Err(PruneError::BusyMachine { attempts, .. }) => assert_eq!(attempts, 3),
            other => panic!("expected a busy-machine error, got {other:?}"),
        }
        assert!(t.is_empty(), "nothing kept from a refused timing");
    }

    #[test]
    fn spread_is_the_interquartile_range_over_the_median() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(relative_iqr(&[1.0, 1.0, 1.0, 1.0, 1.0]), 0.0);
        // Quartiles 2 and 4 of 1..=5 around the median 3.
        assert!((relative_iqr(&[5.0, 1.0, 3.0, 2.0, 4.0]) - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn a_model_table_is_asked_once_per_missing_shape() {
        let asked = std::rc::Rc::new(std::cell::Cell::new(0));
        let counter = asked.clone();
        let mut t = LatencyTable::from_fn(move |_| {
            counter.set(counter.get() + 1);
            Ok(1.0)
        });
        t.time_all(&[conv(4, 8), conv(4, 8), conv(8, 8)]).unwrap();
        t.time_all(&[conv(8, 8), conv(16, 8)]).unwrap();
        assert_eq!(asked.get(), 3);
        assert_eq!(t.len(), 3);
    }
}
