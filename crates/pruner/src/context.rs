use datasets::{Augment, ImageSet, Normalization};
use tch::Device;

/// The data and settings every pruner works with.
pub struct PruneContext<'a> {
    /// Training images (selection, recovery, fine-tuning).
    pub train: &'a ImageSet,
    /// Held-out validation images carved from the training set: the only images that
    /// steer pruning decisions (never the test set).
    pub val: &'a ImageSet,
    pub batch_size: usize,
    pub eval_batch_size: usize,
    pub augment: Option<Augment>,
    pub norm: Normalization,
    pub device: Device,
    pub channels_last: bool,
    pub seed: u64,
}

impl PruneContext<'_> {
    /// Validation top-1 (percent) of `net` in eval mode.
    pub fn val_top1(&self, net: &dyn models::Network) -> f64 {
        engine::evaluate(
            net,
            self.val,
            self.eval_batch_size,
            self.norm,
            self.device,
            self.channels_last,
        )
        .top1
    }
}
