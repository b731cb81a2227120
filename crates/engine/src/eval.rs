use datasets::BatchSource;
use models::Network;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::{to_channels_last, EngineError};

/// Evaluation of a classifier on a labelled set. Accuracies in percent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EvalResult {
    pub loss: f64,
    pub top1: f64,
    pub top5: f64,
    pub images: usize,
}

/// Number of correct top-1 predictions of `logits` `[B, K]` for `labels` `[B]`, as a
/// 0-dim int64 tensor on their device (no synchronisation).
pub(crate) fn correct_top1(logits: &Tensor, labels: &Tensor) -> Tensor {
    logits.argmax(-1, false).eq_tensor(labels).sum(Kind::Int64)
}

/// Correct top-1 and top-5 predictions of `logits` `[B, K]` for `labels` `[B]`.
pub(crate) fn correct_topk(logits: &Tensor, labels: &Tensor) -> (i64, i64) {
    let top1 = correct_top1(logits, labels).int64_value(&[]);
    let k = logits.size()[1].min(5);
    let (_, idx) = logits.topk(k, -1, true, true);
    let top5 = idx
        .eq_tensor(&labels.unsqueeze(1))
        .any_dim(1, false)
        .sum(Kind::Int64)
        .int64_value(&[]);
    (top1, top5)
}

/// Evaluates `net` in eval mode (BN running statistics), without gradients, on the
/// evaluation batches of `source`. Fails only when the data cannot be read.
pub fn evaluate(
    net: &dyn Network,
    source: &dyn BatchSource,
    batch_size: usize,
    device: Device,
    channels_last: bool,
) -> Result<EvalResult, EngineError> {
    let (mut loss, mut c1, mut c5, mut n) = (0.0, 0, 0, 0usize);
    tch::no_grad(|| -> Result<(), EngineError> {
        for b in source.eval_batches(batch_size) {
            let b = b?;
            let (images, labels) = (b.images.to_device(device), b.labels.to_device(device));
            let x = if channels_last {
                to_channels_last(&images)
            } else {
                images
            };
            let logits = net.forward_t(&x, false);
            let bs = labels.size()[0] as usize;
            loss += logits.cross_entropy_for_logits(&labels).double_value(&[]) * bs as f64;
            let (a, b5) = correct_topk(&logits, &labels);
            c1 += a;
            c5 += b5;
            n += bs;
        }
        Ok(())
    })?;
    let n_f = n.max(1) as f64;
    Ok(EvalResult {
        loss: loss / n_f,
        top1: 100.0 * c1 as f64 / n_f,
        top5: 100.0 * c5 as f64 / n_f,
        images: n,
    })
}
