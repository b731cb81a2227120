use datasets::BatchSource;
use tch::Device;

/// The data and settings every pruner works with.
pub struct PruneContext<'a> {
    /// Training images (selection, recovery, fine-tuning), with their augmentation.
    pub train: &'a dyn BatchSource,
    /// Held-out validation images carved from the training set: the only images that
    /// steer pruning decisions (never the test set).
    pub val: &'a dyn BatchSource,
    pub batch_size: usize,
    pub eval_batch_size: usize,
    pub device: Device,
    pub channels_last: bool,
    pub seed: u64,
}

impl PruneContext<'_> {
    /// Validation accuracy (percent) of `net` in eval mode, the guard's measure: top-1,
    /// or mean IU for segmentation (the metric FCN results are judged by).
    pub fn val_top1(&self, net: &dyn models::Network) -> Result<f64, engine::EngineError> {
        let r = engine::evaluate(
            net,
            self.val,
            self.eval_batch_size,
            self.device,
            self.channels_last,
        )?;
        Ok(r.segmentation.map_or(r.top1, |m| m.mean_iou))
    }
}
