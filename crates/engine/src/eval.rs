use datasets::BatchSource;
use models::Network;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::{to_channels_last, EngineError};

/// Evaluation on a labelled set. Accuracies in percent. For segmentation, `top1` and
/// `top5` both hold the pixel accuracy and `segmentation` the full metrics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EvalResult {
    pub loss: f64,
    pub top1: f64,
    pub top5: f64,
    pub images: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segmentation: Option<crate::SegmentationMetrics>,
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
    let mut confusion: Option<Tensor> = None;
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
            loss += crate::task::loss(&logits, &labels).double_value(&[]) * bs as f64;
            n += bs;
            if labels.dim() == 3 {
                let c = crate::task::confusion(&logits, &labels, logits.size()[1]);
                confusion = Some(match confusion.take() {
                    Some(acc) => acc + c,
                    None => c,
                });
            } else {
                let (a, b5) = correct_topk(&logits, &labels);
                c1 += a;
                c5 += b5;
            }
        }
        Ok(())
    })?;
    let n_f = n.max(1) as f64;
    if let Some(c) = confusion {
        let k = c.size()[0] as usize;
        let counts = Vec::<i64>::try_from(c.view([-1]).to_device(Device::Cpu))?;
        let m = crate::SegmentationMetrics::from_confusion(&counts, k);
        return Ok(EvalResult {
            loss: loss / n_f,
            top1: m.pixel_acc,
            top5: m.pixel_acc,
            images: n,
            segmentation: Some(m),
        });
    }
    Ok(EvalResult {
        loss: loss / n_f,
        top1: 100.0 * c1 as f64 / n_f,
        top5: 100.0 * c5 as f64 / n_f,
        images: n,
        segmentation: None,
    })
}
