//! The residual basic block shared by the CIFAR ResNets and ResNet-18.
use tch::nn;
use tch::Tensor;

use crate::blocks::{batch_norm, conv};
use crate::ChannelGates;

/// Channel counts and stride of one basic block.
pub(crate) struct BlockWidths {
    pub cin: i64,
    /// conv1's output width (the block's inner, prunable width).
    pub mid: i64,
    pub cout: i64,
    pub stride: i64,
}

/// How the block matches shapes when stride or width changes.
pub(crate) enum ProjectionKind {
    /// Option A: strided identity with zero-padded channels; with a map, input channel
    /// j goes to output channel `map[j]` (or is dropped when -1), the rest are zero.
    ZeroPad(Option<Vec<i64>>),
    /// Option B: 1x1 conv + BN under the given name (`shortcut` for CIFAR ResNets,
    /// `downsample` in torchvision).
    Conv(&'static str),
}

#[derive(Debug)]
enum BlockShortcut {
    Identity,
    /// Subsample by `stride`, then zero-pad from `cin` to `cout` channels, split as
    /// evenly as possible before and after (the original pads cout/4 on each side).
    Pad {
        stride: i64,
        cin: i64,
        cout: i64,
    },
    /// Option A after stage-coupled pruning: input channels `sources` are copied to
    /// output channels `targets`, the rest are zero.
    PadMapped {
        stride: i64,
        cout: i64,
        sources: Tensor,
        targets: Tensor,
    },
    Proj(Box<(nn::Conv2D, nn::BatchNorm)>),
}

/// conv3x3 -> BN -> ReLU -> gate -> conv3x3 -> BN, plus shortcut, then ReLU.
#[derive(Debug)]
pub(crate) struct BasicBlock {
    gate_name: String,
    /// The stage-coupled group of the block's output stream (`layer1`, ...).
    stream_gate: String,
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    conv2: nn::Conv2D,
    bn2: nn::BatchNorm,
    shortcut: BlockShortcut,
}

impl BasicBlock {
    pub fn new(q: &nn::Path, name: &str, w: BlockWidths, kind: ProjectionKind) -> Self {
        let stream_gate = name.split('.').next().unwrap_or(name).to_string();
        let needs_proj = w.stride != 1 || w.cin != w.cout;
        let shortcut = match (needs_proj, kind) {
            (false, _) => BlockShortcut::Identity,
            (true, ProjectionKind::ZeroPad(None)) => BlockShortcut::Pad {
                stride: w.stride,
                cin: w.cin,
                cout: w.cout,
            },
            (true, ProjectionKind::ZeroPad(Some(map))) => {
                let (src, dst): (Vec<i64>, Vec<i64>) = map
                    .iter()
                    .enumerate()
                    .filter(|(_, &t)| t >= 0)
                    .map(|(j, &t)| (j as i64, t))
                    .unzip();
                let dev = q.device();
                BlockShortcut::PadMapped {
                    stride: w.stride,
                    cout: w.cout,
                    sources: Tensor::from_slice(&src).to_device(dev),
                    targets: Tensor::from_slice(&dst).to_device(dev),
                }
            }
            (true, ProjectionKind::Conv(proj_name)) => {
                let sc = q / proj_name;
                BlockShortcut::Proj(Box::new((
                    conv(&sc / 0, w.cin, w.cout, 1, w.stride, 0),
                    batch_norm(&sc / 1, w.cout, true),
                )))
            }
        };
        Self {
            gate_name: format!("{name}.conv1"),
            stream_gate,
            conv1: conv(q / "conv1", w.cin, w.mid, 3, w.stride, 1),
            bn1: batch_norm(q / "bn1", w.mid, true),
            conv2: conv(q / "conv2", w.mid, w.cout, 3, 1, 1),
            bn2: batch_norm(q / "bn2", w.cout, true),
            shortcut,
        }
    }

    pub fn forward(&self, xs: &Tensor, train: bool, gates: &ChannelGates) -> Tensor {
        let y = gates.bn_relu(&self.gate_name, &self.bn1, &xs.apply(&self.conv1), train);
        let y = y.apply(&self.conv2).apply_t(&self.bn2, train);
        let sc = match &self.shortcut {
            BlockShortcut::Identity => xs.shallow_clone(),
            BlockShortcut::Pad { stride, cin, cout } => {
                let sub = xs.slice(2, 0, None, *stride).slice(3, 0, None, *stride);
                let lo = (cout - cin) / 2;
                sub.constant_pad_nd([0, 0, 0, 0, lo, cout - cin - lo])
            }
            BlockShortcut::PadMapped {
                stride,
                cout,
                sources,
                targets,
            } => {
                let sub = xs.slice(2, 0, None, *stride).slice(3, 0, None, *stride);
                let mut size = sub.size();
                size[1] = *cout;
                let zeros = Tensor::zeros(size.as_slice(), (sub.kind(), sub.device()));
                zeros.index_copy(1, targets, &sub.index_select(1, sources))
            }
            BlockShortcut::Proj(p) => xs.apply(&p.0).apply_t(&p.1, train),
        };
        gates.apply(&self.stream_gate, (y + sc).relu())
    }
}
