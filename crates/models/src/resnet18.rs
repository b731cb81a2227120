use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::Tensor;

use crate::basic_block::{BasicBlock, BlockWidths, ProjectionKind};
use crate::blocks::{batch_norm, conv, linear, sub_path};
use crate::cost::{out_size, CostBuilder};
use crate::error::{check_len, check_positive};
use crate::residual_groups::{group_index, inner_layers, stage_groups, BlockSpec};
use crate::{ChannelGates, ModelCost, ModelError, Network, PrunableLayer};

const BLOCKS_PER_STAGE: usize = 2;

/// Widths of ResNet-18 in torchvision's layout: 7x7/2 stem, 3x3/2 max-pool, four stages of
/// two basic blocks (stride 1, 2, 2, 2) with 1x1 conv + BN `downsample` projections,
/// global average pooling and `fc`. Input `[N, 3, H, W]` (224x224 for ImageNet), output
/// logits `[N, num_classes]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResNet18Config {
    /// Width of each stage's residual stream; the stem outputs `stages[0]` channels.
    pub stages: Vec<i64>,
    /// Inner width (conv1's output) of the eight blocks.
    pub inner: Vec<i64>,
    pub num_classes: i64,
}

impl Default for ResNet18Config {
    fn default() -> Self {
        let stages = vec![64, 128, 256, 512];
        let inner = stages.iter().flat_map(|&w| [w, w]).collect();
        Self {
            stages,
            inner,
            num_classes: 1000,
        }
    }
}

impl ResNet18Config {
    pub fn validate(&self) -> Result<(), ModelError> {
        check_len("stages", &self.stages, 4)?;
        check_positive("stages", &self.stages)?;
        check_len("inner", &self.inner, 4 * BLOCKS_PER_STAGE)?;
        check_positive("inner", &self.inner)?;
        check_positive("num_classes", &[self.num_classes])
    }

    fn blocks(&self) -> Vec<BlockSpec> {
        let mut out = Vec::new();
        let mut cin = self.stages[0];
        for s in 0..4 {
            for b in 0..BLOCKS_PER_STAGE {
                let stride = if s > 0 && b == 0 { 2 } else { 1 };
                out.push((format!("layer{}.{b}", s + 1), s, cin, stride));
                cin = self.stages[s];
            }
        }
        out
    }

    pub(crate) fn build(&self, p: &nn::Path) -> ResNet18 {
        let blocks = self
            .blocks()
            .into_iter()
            .enumerate()
            .map(|(i, (name, s, cin, stride))| {
                let w = BlockWidths {
                    cin,
                    mid: self.inner[i],
                    cout: self.stages[s],
                    stride,
                };
                BasicBlock::new(
                    &sub_path(p, &name),
                    &name,
                    w,
                    ProjectionKind::Conv("downsample"),
                )
            })
            .collect();
        ResNet18 {
            stem: conv(p / "conv1", 3, self.stages[0], 7, 2, 3),
            stem_bn: batch_norm(p / "bn1", self.stages[0], true),
            blocks,
            fc: linear(p / "fc", self.stages[3], self.num_classes),
            gates: ChannelGates::default(),
        }
    }

    pub(crate) fn cost(&self, (h, w): (i64, i64)) -> ModelCost {
        let mut b = CostBuilder::default();
        let (h, w) = (out_size(h, 7, 2, 3, false), out_size(w, 7, 2, 3, false));
        b.conv_bn("conv1", 3, self.stages[0], 7, (h, w));
        let (mut h, mut w) = (out_size(h, 3, 2, 1, false), out_size(w, 3, 2, 1, false));
        for (i, (name, s, cin, stride)) in self.blocks().into_iter().enumerate() {
            h = out_size(h, 3, stride, 1, false);
            w = out_size(w, 3, stride, 1, false);
            let cout = self.stages[s];
            b.basic_block(&name, cin, self.inner[i], cout, (h, w));
            if stride != 1 || cin != cout {
                b.conv_bn(&format!("{name}.downsample.0"), cin, cout, 1, (h, w));
            }
        }
        b.linear("fc", self.stages[3], self.num_classes, false);
        b.finish()
    }

    /// The stage-coupled groups (`layer1` .. `layer4`).
    pub(crate) fn stage_groups(&self) -> Vec<PrunableLayer> {
        stage_groups(&self.blocks(), &self.stages, Some("downsample"))
    }

    /// Keeps channels `kept` of prunable layer or group `name`.
    pub(crate) fn keep_channels(&self, name: &str, kept: &[i64]) -> Option<Self> {
        let mut out = self.clone();
        if let Some(i) = self.prunable_layers().iter().position(|l| l.name == name) {
            out.inner[i] = kept.len() as i64;
        } else {
            out.stages[group_index(name, 4)?] = kept.len() as i64;
        }
        Some(out)
    }

    pub(crate) fn prunable_layers(&self) -> Vec<PrunableLayer> {
        inner_layers(&self.blocks(), &self.inner)
    }
}

/// ResNet-18 (see [`ResNet18Config`]).
#[derive(Debug)]
pub struct ResNet18 {
    stem: nn::Conv2D,
    stem_bn: nn::BatchNorm,
    blocks: Vec<BasicBlock>,
    fc: nn::Linear,
    gates: ChannelGates,
}

impl ModuleT for ResNet18 {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let x = xs
            .apply(&self.stem)
            .apply_t(&self.stem_bn, train)
            .relu()
            .max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
        let mut x = self.gates.apply("layer1", x);
        for b in &self.blocks {
            x = b.forward(&x, train, &self.gates);
        }
        x.adaptive_avg_pool2d([1, 1]).flatten(1, -1).apply(&self.fc)
    }
}

impl Network for ResNet18 {
    fn gates(&self) -> &ChannelGates {
        &self.gates
    }
}
