//! Measured latency as a channel's cost: a lookup table of each layer shape's forward
//! time, timed in isolation on the run's device (the latency tables of NetAdapt, Yang et
//! al. 2018). A network's latency estimate is the sum over its layers, so layers that a
//! width change leaves alone cancel exactly when two widths are compared.
mod timer;

use std::collections::HashMap;

use models::LayerShape;
use serde::{Deserialize, Serialize};
use tch::Device;

use crate::PruneError;
use timer::{LayerTimer, TimedShape};

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
        let mut missing: Vec<(LayerShape, TimedShape)> = Vec::new();
        for s in shapes {
            if let Some(timed) = TimedShape::of(s) {
                if !self.ms.contains_key(s) && !missing.iter().any(|(m, _)| m == s) {
                    missing.push((*s, timed));
                }
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let times = match &mut self.timer {
            Timer::Device(t) => {
                let timed: Vec<TimedShape> = missing.iter().map(|(_, t)| *t).collect();
                t.time_interleaved(&timed)?
            }
            Timer::Model(f) => missing
                .iter()
                .map(|(s, _)| f(s))
                .collect::<Result<_, _>>()?,
        };
        for ((shape, _), t) in missing.into_iter().zip(times) {
            tracing::debug!("latency table: {shape:?} {t:.3} ms");
            self.ms.insert(shape, t);
        }
        Ok(())
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
