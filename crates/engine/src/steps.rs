use datasets::BatchStream;
use models::Network;
use tch::nn::VarStore;

use crate::{to_channels_last, EngineError, Sgd, SgdConfig};

/// Loss and accuracy over a run of training iterations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    pub iterations: usize,
    pub mean_loss: f64,
    /// Percent.
    pub train_top1: f64,
    pub seconds: f64,
}

/// Trains every trainable variable of `vs` for `iterations` SGD steps at constant `lr`
/// on batches from `stream` (BN in training mode). A fresh optimizer: no momentum is
/// carried in or out. Used for short recovery phases counted in iterations.
pub fn train_iterations(
    net: &dyn Network,
    vs: &VarStore,
    sgd: SgdConfig,
    stream: &mut BatchStream,
    iterations: usize,
    channels_last: bool,
) -> Result<StepStats, EngineError> {
    let mut opt = Sgd::for_trainable(vs, sgd);
    let start = std::time::Instant::now();
    let (mut loss_sum, mut correct, mut counted, mut seen) = (0.0, 0i64, 0i64, 0i64);
    for _ in 0..iterations {
        let b = stream.next_batch()?;
        let x = if channels_last {
            to_channels_last(&b.images)
        } else {
            b.images
        };
        let logits = net.forward_t(&x, true);
        let loss = crate::task::loss(&logits, &b.labels);
        opt.zero_grad();
        loss.backward();
        opt.step(sgd.lr);
        let n = b.labels.size()[0];
        loss_sum += loss.double_value(&[]) * n as f64;
        let (c, k) = tch::no_grad(|| crate::task::correct_of(&logits, &b.labels));
        correct += c.int64_value(&[]);
        counted += k.int64_value(&[]);
        seen += n;
    }
    let seen_f = seen.max(1) as f64;
    Ok(StepStats {
        iterations,
        mean_loss: loss_sum / seen_f,
        train_top1: 100.0 * correct as f64 / counted.max(1) as f64,
        seconds: start.elapsed().as_secs_f64(),
    })
}
