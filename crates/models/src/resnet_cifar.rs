use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::Tensor;

use crate::basic_block::{BasicBlock, BlockWidths, ProjectionKind};
use crate::blocks::{batch_norm, conv, linear, sub_path};
use crate::cost::{ConvShape, CostBuilder};
use crate::error::{check_len, check_positive};
use crate::{ChannelGates, ModelCost, ModelError, Network, PrunableLayer};

/// How a CIFAR ResNet block matches shapes when stride or width changes (He et al. 2016).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Shortcut {
    /// Identity on strided input with zero-padded extra channels (no parameters).
    #[default]
    A,
    /// 1x1 conv + BN projection.
    B,
}

/// Widths of a CIFAR ResNet (ResNet-20 by default): a 3x3 stem, three stages of
/// `blocks_per_stage` basic blocks (stride 1, 2, 2), global average pooling and `fc`.
/// Input `[N, 3, 32, 32]`, output logits `[N, num_classes]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResNetCifarConfig {
    /// Width of each stage's residual stream; the stem outputs `stages[0]` channels.
    pub stages: Vec<i64>,
    pub blocks_per_stage: usize,
    /// Inner width (conv1's output) of every block, stage by stage.
    pub inner: Vec<i64>,
    pub shortcut: Shortcut,
    pub num_classes: i64,
}

impl Default for ResNetCifarConfig {
    fn default() -> Self {
        Self::resnet(20, Shortcut::A)
    }
}

impl ResNetCifarConfig {
    /// The unpruned ResNet of `depth` = 6n + 2 layers (20, 32, 44, 56, 110).
    pub fn resnet(depth: usize, shortcut: Shortcut) -> Self {
        let n = (depth.saturating_sub(2)) / 6;
        let stages = vec![16, 32, 64];
        let inner = stages
            .iter()
            .flat_map(|&w| std::iter::repeat_n(w, n))
            .collect();
        Self {
            stages,
            blocks_per_stage: n,
            inner,
            shortcut,
            num_classes: 10,
        }
    }

    pub fn validate(&self) -> Result<(), ModelError> {
        check_len("stages", &self.stages, 3)?;
        check_positive("stages", &self.stages)?;
        if self.blocks_per_stage == 0 {
            return Err(ModelError::NonPositive {
                field: "blocks_per_stage".into(),
                value: 0,
            });
        }
        check_len("inner", &self.inner, 3 * self.blocks_per_stage)?;
        check_positive("inner", &self.inner)?;
        check_positive("num_classes", &[self.num_classes])?;
        if self.shortcut == Shortcut::A {
            for s in 1..3 {
                if self.stages[s] < self.stages[s - 1] {
                    return Err(ModelError::Invalid {
                        field: format!("stages[{s}]"),
                        message: "option A shortcuts zero-pad channels, so a stage may not be narrower than the one before".into(),
                    });
                }
            }
        }
        Ok(())
    }

    /// (name prefix, stage index, input width, stride) of every block.
    fn blocks(&self) -> Vec<(String, usize, i64, i64)> {
        let mut out = Vec::new();
        let mut cin = self.stages[0];
        for s in 0..3 {
            for b in 0..self.blocks_per_stage {
                let stride = if s > 0 && b == 0 { 2 } else { 1 };
                out.push((format!("layer{}.{b}", s + 1), s, cin, stride));
                cin = self.stages[s];
            }
        }
        out
    }

    pub(crate) fn build(&self, p: &nn::Path) -> ResNetCifar {
        let stem = conv(p / "conv1", 3, self.stages[0], 3, 1, 1);
        let stem_bn = batch_norm(p / "bn1", self.stages[0], true);
        let blocks = self
            .blocks()
            .into_iter()
            .enumerate()
            .map(|(i, (name, s, cin, stride))| {
                let q = sub_path(p, &name);
                let (mid, cout) = (self.inner[i], self.stages[s]);
                let kind = match self.shortcut {
                    Shortcut::A => ProjectionKind::ZeroPad,
                    Shortcut::B => ProjectionKind::Conv("shortcut"),
                };
                BasicBlock::new(
                    &q,
                    &name,
                    BlockWidths {
                        cin,
                        mid,
                        cout,
                        stride,
                    },
                    kind,
                )
            })
            .collect();
        ResNetCifar {
            stem,
            stem_bn,
            blocks,
            fc: linear(p / "fc", self.stages[2], self.num_classes),
            gates: ChannelGates::default(),
        }
    }

    pub(crate) fn cost(&self, (h, w): (i64, i64)) -> ModelCost {
        let mut b = CostBuilder::default();
        let s0 = self.stages[0];
        b.conv(
            "conv1",
            ConvShape {
                cin: 3,
                cout: s0,
                k: 3,
                out_hw: (h, w),
                bias: false,
                bn: true,
            },
        );
        let (mut h, mut w) = (h, w);
        for (i, (name, s, cin, stride)) in self.blocks().into_iter().enumerate() {
            h = (h - 1) / stride + 1;
            w = (w - 1) / stride + 1;
            let (mid, cout) = (self.inner[i], self.stages[s]);
            b.conv(
                &format!("{name}.conv1"),
                ConvShape {
                    cin,
                    cout: mid,
                    k: 3,
                    out_hw: (h, w),
                    bias: false,
                    bn: true,
                },
            );
            b.conv(
                &format!("{name}.conv2"),
                ConvShape {
                    cin: mid,
                    cout,
                    k: 3,
                    out_hw: (h, w),
                    bias: false,
                    bn: true,
                },
            );
            if self.shortcut == Shortcut::B && (stride != 1 || cin != cout) {
                b.conv(
                    &format!("{name}.shortcut.0"),
                    ConvShape {
                        cin,
                        cout,
                        k: 1,
                        out_hw: (h, w),
                        bias: false,
                        bn: true,
                    },
                );
            }
        }
        b.linear("fc", self.stages[2], self.num_classes, false);
        b.finish()
    }

    /// By default only the inner channels of each block (conv1's output, consumed only by
    /// conv2) are prunable.
    pub(crate) fn prunable_layers(&self) -> Vec<PrunableLayer> {
        self.blocks()
            .iter()
            .enumerate()
            .map(|(i, (name, ..))| {
                PrunableLayer::conv(
                    format!("{name}.conv1"),
                    self.inner[i],
                    false,
                    Some(format!("{name}.bn1")),
                    vec![format!("{name}.conv2")],
                )
            })
            .collect()
    }
}

/// A CIFAR ResNet (see [`ResNetCifarConfig`]).
#[derive(Debug)]
pub struct ResNetCifar {
    stem: nn::Conv2D,
    stem_bn: nn::BatchNorm,
    blocks: Vec<BasicBlock>,
    fc: nn::Linear,
    gates: ChannelGates,
}

impl ModuleT for ResNetCifar {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut x = xs.apply(&self.stem).apply_t(&self.stem_bn, train).relu();
        for b in &self.blocks {
            x = b.forward(&x, train, &self.gates);
        }
        x.adaptive_avg_pool2d([1, 1]).flatten(1, -1).apply(&self.fc)
    }
}

impl Network for ResNetCifar {
    fn gates(&self) -> &ChannelGates {
        &self.gates
    }
}
