use datasets::{BatchIter, ImageSet, Normalization};
use models::Network;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::to_channels_last;

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

/// Evaluates `net` in eval mode (BN running statistics), without gradients.
pub fn evaluate(
    net: &dyn Network,
    set: &ImageSet,
    batch_size: usize,
    norm: Normalization,
    device: Device,
    channels_last: bool,
) -> EvalResult {
    let (mut loss, mut c1, mut c5, mut n) = (0.0, 0, 0, 0usize);
    tch::no_grad(|| {
        for b in BatchIter::eval(set, batch_size, norm).to_device(device) {
            let x = if channels_last {
                to_channels_last(&b.images)
            } else {
                b.images
            };
            let logits = net.forward_t(&x, false);
            let bs = b.labels.size()[0] as usize;
            loss += logits.cross_entropy_for_logits(&b.labels).double_value(&[]) * bs as f64;
            let (a, b5) = correct_topk(&logits, &b.labels);
            c1 += a;
            c5 += b5;
            n += bs;
        }
    });
    let n_f = n.max(1) as f64;
    EvalResult {
        loss: loss / n_f,
        top1: 100.0 * c1 as f64 / n_f,
        top5: 100.0 * c5 as f64 / n_f,
        images: n,
    }
}
