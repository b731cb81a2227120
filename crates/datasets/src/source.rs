//! What the training and evaluation loops consume: one split of a data set that yields
//! mini-batches, whatever holds the images (decoded in memory like CIFAR-10, or files
//! decoded batch by batch like ImageNet).

use crate::batches::BatchIter;
use crate::{Augment, Batch, DatasetError, ImageSet, Normalization};

/// One mini-batch, or the error that kept it from being made (e.g. a corrupt file).
pub type BatchResult = Result<Batch, DatasetError>;

/// The mini-batches of one pass over a split, with their number known up front (for
/// progress bars and the fractional epochs of learning-rate schedules).
pub struct Batches<'a> {
    iter: Box<dyn Iterator<Item = BatchResult> + Send + 'a>,
    num_batches: usize,
}

impl<'a> Batches<'a> {
    pub fn new(iter: impl Iterator<Item = BatchResult> + Send + 'a, num_batches: usize) -> Self {
        Self {
            iter: Box::new(iter),
            num_batches,
        }
    }

    /// Number of batches this pass yields in all.
    pub fn num_batches(&self) -> usize {
        self.num_batches
    }
}

impl Iterator for Batches<'_> {
    type Item = BatchResult;

    fn next(&mut self) -> Option<BatchResult> {
        self.iter.next()
    }
}

/// A split of a labelled image data set, with the augmentation and normalization that
/// belong to it. Batches hold `images` `[B, 3, H, W]` float32 and `labels` `[B]` int64
/// on the CPU.
pub trait BatchSource: Sync {
    /// Number of images.
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Training batches of `epoch`: shuffled and augmented by generators seeded from
    /// `(seed, epoch)` (the same pair always gives the same batches), the last partial
    /// batch dropped so batch norm never sees a batch of one.
    fn train_batches(&self, batch_size: usize, seed: u64, epoch: u64) -> Batches<'_>;

    /// Evaluation batches: every image once, in order, with the evaluation transform,
    /// the last partial batch kept.
    fn eval_batches(&self, batch_size: usize) -> Batches<'_>;
}

/// An in-memory [`ImageSet`] with its training augmentation (none: plain images) and
/// normalization: the CIFAR-10 splits.
pub struct AugmentedSet {
    pub set: ImageSet,
    pub augment: Option<Augment>,
    pub norm: Normalization,
}

impl AugmentedSet {
    pub fn new(set: ImageSet, augment: Option<Augment>, norm: Normalization) -> Self {
        Self { set, augment, norm }
    }
}

impl BatchSource for AugmentedSet {
    fn len(&self) -> usize {
        self.set.len()
    }

    fn train_batches(&self, batch_size: usize, seed: u64, epoch: u64) -> Batches<'_> {
        let it = BatchIter::train(&self.set, batch_size, self.augment, self.norm, seed, epoch);
        let n = it.num_batches();
        Batches::new(it.map(Ok), n)
    }

    fn eval_batches(&self, batch_size: usize) -> Batches<'_> {
        let it = BatchIter::eval(&self.set, batch_size, self.norm);
        let n = it.num_batches();
        Batches::new(it.map(Ok), n)
    }
}

/// An endless stream of training batches: epoch after epoch of
/// [`BatchSource::train_batches`], for loops counted in iterations rather than epochs.
/// `stream` separates streams of the same seed (e.g. one per pruned layer), so each is
/// reproducible on its own.
pub struct BatchStream<'a> {
    source: &'a dyn BatchSource,
    batch_size: usize,
    seed: u64,
    stream: u64,
    epoch: u64,
    current: Batches<'a>,
    device: tch::Device,
}

impl<'a> BatchStream<'a> {
    pub fn new(source: &'a dyn BatchSource, batch_size: usize, seed: u64, stream: u64) -> Self {
        let s = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Self {
            source,
            batch_size,
            seed: s,
            stream,
            epoch: 0,
            current: source.train_batches(batch_size, s, 0),
            device: tch::Device::Cpu,
        }
    }

    /// Puts the batches on `device`.
    pub fn to_device(mut self, device: tch::Device) -> Self {
        self.device = device;
        self
    }

    /// Which stream this is.
    pub fn stream(&self) -> u64 {
        self.stream
    }

    /// The next batch. Never runs out; fails when the split holds less than one batch
    /// or an image cannot be read.
    pub fn next_batch(&mut self) -> BatchResult {
        loop {
            if let Some(b) = self.current.next() {
                let b = b?;
                return Ok(Batch {
                    images: b.images.to_device(self.device),
                    labels: b.labels.to_device(self.device),
                });
            }
            self.epoch += 1;
            self.current = self
                .source
                .train_batches(self.batch_size, self.seed, self.epoch);
            if self.current.num_batches() == 0 {
                return Err(DatasetError::Invalid(format!(
                    "training split of {} images is smaller than one batch of {}",
                    self.source.len(),
                    self.batch_size
                )));
            }
        }
    }
}

/// The training order of one epoch: a shuffle of `0..len` seeded by `(seed, epoch)`
/// (the stream [`crate::BatchIter::train`] uses), cut to whole batches.
pub(crate) fn epoch_order(len: usize, batch_size: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut rng = crate::batches::seeded_rng(seed, 1 + epoch);
    let mut order: Vec<usize> = (0..len).collect();
    rand::seq::SliceRandom::shuffle(order.as_mut_slice(), &mut rng);
    let bs = batch_size.max(1);
    order.truncate(len / bs * bs);
    order
}

/// Batches of the items at `order`, `batch_size` at a time, each made on demand by
/// `make(batch_index, items)`; the pass ends after the first error.
pub(crate) fn lazy_batches<'a>(
    order: Vec<usize>,
    batch_size: usize,
    mut make: impl FnMut(usize, &[usize]) -> BatchResult + Send + 'a,
) -> Batches<'a> {
    let bs = batch_size.max(1);
    let n = order.len().div_ceil(bs);
    let mut failed = false;
    let it = (0..n).map_while(move |b| {
        if failed {
            return None;
        }
        let r = make(b, &order[b * bs..((b + 1) * bs).min(order.len())]);
        failed = r.is_err();
        Some(r)
    });
    Batches::new(it, n)
}

/// The generator stream of item `k` of batch `b` in `epoch`, for per-image random
/// draws that do not depend on which thread renders the image.
pub(crate) fn item_stream(epoch: u64, b: usize, batch_size: usize, k: usize) -> u64 {
    ((epoch + 1) << 32) | (b * batch_size + k) as u64
}
