use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use tch::{Device, Tensor};

use crate::augment::{render, Draw};
use crate::{Augment, ImageSet, Normalization};

/// A random generator for `(seed, stream)`: every epoch and every purpose draws from its
/// own stream, so a run resumed at an epoch boundary sees exactly the same batches.
pub(crate) fn seeded_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// One mini-batch: `images` `[B, C, H, W]` float32 normalized, `labels` `[B]` int64.
#[derive(Debug)]
pub struct Batch {
    pub images: Tensor,
    pub labels: Tensor,
}

/// Iterates over an [`ImageSet`] in mini-batches, shuffled and augmented by a seeded
/// generator per epoch (same `seed` and `epoch` give the same batches).
pub struct BatchIter<'a> {
    set: &'a ImageSet,
    order: Vec<usize>,
    draws: Vec<Draw>,
    pos: usize,
    batch_size: usize,
    pad: usize,
    norm: Normalization,
    device: Device,
}

impl<'a> BatchIter<'a> {
    /// Training batches: shuffled, augmented when `augment` is given, the last partial
    /// batch dropped (so BN never sees a batch of one).
    pub fn train(
        set: &'a ImageSet,
        batch_size: usize,
        augment: Option<Augment>,
        norm: Normalization,
        seed: u64,
        epoch: u64,
    ) -> Self {
        let mut rng = seeded_rng(seed, 1 + epoch);
        let mut order: Vec<usize> = (0..set.len()).collect();
        rand::seq::SliceRandom::shuffle(order.as_mut_slice(), &mut rng);
        let keep = set.len() / batch_size.max(1) * batch_size.max(1);
        order.truncate(keep);
        let draws = order
            .iter()
            .map(|_| match augment {
                None => Draw {
                    dy: 0,
                    dx: 0,
                    flip: false,
                },
                Some(a) => Draw {
                    dy: rng.gen_range(0..=2 * a.pad),
                    dx: rng.gen_range(0..=2 * a.pad),
                    flip: a.flip && rng.gen_bool(0.5),
                },
            })
            .collect();
        let pad = augment.map_or(0, |a| a.pad);
        Self {
            set,
            order,
            draws,
            pos: 0,
            batch_size,
            pad,
            norm,
            device: Device::Cpu,
        }
    }

    /// Evaluation batches: in order, not augmented, the last partial batch kept.
    pub fn eval(set: &'a ImageSet, batch_size: usize, norm: Normalization) -> Self {
        let order: Vec<usize> = (0..set.len()).collect();
        let draws = vec![Draw::default(); order.len()];
        Self {
            set,
            order,
            draws,
            pos: 0,
            batch_size,
            pad: 0,
            norm,
            device: Device::Cpu,
        }
    }

    /// Puts the batches on `device`.
    pub fn to_device(mut self, device: Device) -> Self {
        self.device = device;
        self
    }

    /// Number of batches this iterator yields in all.
    pub fn num_batches(&self) -> usize {
        self.order.len().div_ceil(self.batch_size.max(1))
    }
}

impl Iterator for BatchIter<'_> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        if self.pos >= self.order.len() {
            return None;
        }
        let end = (self.pos + self.batch_size).min(self.order.len());
        let idx = &self.order[self.pos..end];
        let draws = &self.draws[self.pos..end];
        self.pos = end;
        let (c, h, w) = (self.set.channels, self.set.height, self.set.width);
        let mut buf = vec![0f32; idx.len() * c * h * w];
        let (set, pad, norm) = (self.set, self.pad, &self.norm);
        buf.par_chunks_mut(c * h * w)
            .zip(idx.par_iter().zip(draws.par_iter()))
            .for_each(|(out, (&i, &d))| render(set.image(i), (c, h, w), pad, d, norm, out));
        let labels: Vec<i64> = idx.iter().map(|&i| set.labels[i] as i64).collect();
        let images =
            Tensor::from_slice(&buf).view([idx.len() as i64, c as i64, h as i64, w as i64]);
        Some(Batch {
            images: images.to_device(self.device),
            labels: Tensor::from_slice(&labels).to_device(self.device),
        })
    }
}
