//! What a batch's labels ask of a model: one class per image (`labels` `[B]`,
//! classification) or one class per pixel (`labels` `[B, H, W]`, semantic segmentation,
//! with [`IGNORE_LABEL`] pixels left out). Loss and accuracy follow from the labels'
//! shape, so one training loop serves both.
use tch::{Kind, Reduction, Tensor};

/// Label of pixels that count in neither loss nor metrics (PASCAL VOC's void border).
pub const IGNORE_LABEL: i64 = 255;

fn is_segmentation(labels: &Tensor) -> bool {
    labels.dim() == 3
}

/// Mean cross-entropy of `logits` (`[B, K]` or `[B, K, H, W]`) against `labels`.
pub fn loss(logits: &Tensor, labels: &Tensor) -> Tensor {
    if is_segmentation(labels) {
        logits.cross_entropy_loss::<Tensor>(labels, None, Reduction::Mean, IGNORE_LABEL, 0.0)
    } else {
        logits.cross_entropy_for_logits(labels)
    }
}

/// Correct top-1 predictions and the number of labels they are out of (images, or
/// labelled pixels), as 0-dim int64 tensors on the labels' device (no synchronisation).
pub(crate) fn correct_of(logits: &Tensor, labels: &Tensor) -> (Tensor, Tensor) {
    let pred = logits.argmax(1, false);
    if is_segmentation(labels) {
        let valid = labels.ne(IGNORE_LABEL);
        let correct = pred.eq_tensor(labels).logical_and(&valid).sum(Kind::Int64);
        (correct, valid.sum(Kind::Int64))
    } else {
        let n = Tensor::from(labels.size()[0]).to_device(labels.device());
        (pred.eq_tensor(labels).sum(Kind::Int64), n)
    }
}

/// Confusion counts `[K, K]` (row: true class, column: predicted) of the labelled
/// pixels of a segmentation batch with `K` classes.
pub(crate) fn confusion(logits: &Tensor, labels: &Tensor, k: i64) -> Tensor {
    let pred = logits.argmax(1, false);
    let valid = labels.ne(IGNORE_LABEL).logical_and(&labels.lt(k));
    let idx = labels.masked_select(&valid) * k + pred.masked_select(&valid);
    idx.bincount::<Tensor>(None, k * k).view([k, k])
}

/// The segmentation metrics of Long et al. (2015), in percent, from confusion counts.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SegmentationMetrics {
    /// Correct labelled pixels / labelled pixels.
    pub pixel_acc: f64,
    /// Per-class pixel accuracy, averaged over the classes present.
    pub mean_acc: f64,
    /// Intersection over union per class, averaged over the classes present in the
    /// labels or the predictions.
    pub mean_iou: f64,
}

impl SegmentationMetrics {
    /// From a `[K, K]` confusion matrix given row-major (true class x predicted).
    pub fn from_confusion(counts: &[i64], k: usize) -> Self {
        let at = |t: usize, p: usize| counts[t * k + p] as f64;
        let total: f64 = counts.iter().map(|&c| c as f64).sum();
        let diag: f64 = (0..k).map(|i| at(i, i)).sum();
        let (mut acc, mut n_acc, mut iou, mut n_iou) = (0.0, 0, 0.0, 0);
        for c in 0..k {
            let row: f64 = (0..k).map(|p| at(c, p)).sum();
            let col: f64 = (0..k).map(|t| at(t, c)).sum();
            if row > 0.0 {
                acc += at(c, c) / row;
                n_acc += 1;
            }
            let union = row + col - at(c, c);
            if union > 0.0 {
                iou += at(c, c) / union;
                n_iou += 1;
            }
        }
        let pct = |x: f64, n: usize| if n == 0 { 0.0 } else { 100.0 * x / n as f64 };
        Self {
            pixel_acc: if total > 0.0 {
                100.0 * diag / total
            } else {
                0.0
            },
            mean_acc: pct(acc, n_acc),
            mean_iou: pct(iou, n_iou),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_from_a_known_confusion_matrix() {
        // Class 0: 3 right, 1 taken for class 1; class 1: 2 right; class 2 absent.
        let m = SegmentationMetrics::from_confusion(&[3, 1, 0, 0, 2, 0, 0, 0, 0], 3);
        assert!((m.pixel_acc - 500.0 / 6.0).abs() < 1e-9);
        assert!((m.mean_acc - 100.0 * (0.75 + 1.0) / 2.0).abs() < 1e-9);
        // IoU 0: 3 / (4 + 3 - 3) = 0.75; IoU 1: 2 / (2 + 3 - 2) = 2/3.
        assert!((m.mean_iou - 100.0 * (0.75 + 2.0 / 3.0) / 2.0).abs() < 1e-9);
    }

    #[test]
    fn ignored_pixels_count_nowhere() {
        let logits =
            Tensor::from_slice(&[1.0f32, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0]).view([1, 2, 2, 2]);
        // Predictions per pixel: argmax over the 2 classes -> [[0, 1], [1, 0]].
        let labels = Tensor::from_slice(&[0i64, 255, 0, 255]).view([1, 2, 2]);
        let (c, n) = correct_of(&logits, &labels);
        assert_eq!((c.int64_value(&[]), n.int64_value(&[])), (1, 2));
        let conf = Vec::<i64>::try_from(confusion(&logits, &labels, 2).view([-1])).unwrap();
        assert_eq!(conf, [1, 1, 0, 0]);
        let l = loss(&logits, &labels).double_value(&[]);
        let expect = ((1.0 + (-1f64).exp()).ln() + (1.0 + 1f64.exp()).ln()) / 2.0;
        assert!((l - expect).abs() < 1e-6, "{l} vs {expect}");
    }
}
