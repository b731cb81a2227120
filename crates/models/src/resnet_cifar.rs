use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::Tensor;

use crate::basic_block::{BasicBlock, BlockWidths, ProjectionKind};
use crate::blocks::{batch_norm, conv, linear, sub_path};
use crate::cost::CostBuilder;
use crate::error::{check_len, check_positive};
use crate::residual_groups::{group_index, inner_layers, stage_groups, BlockSpec};
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
    /// Option A after stage-coupled pruning: for each stage transition (1->2, 2->3),
    /// the output channel each input channel is padded into (-1: dropped). Empty: the
    /// original symmetric zero-padding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pad_maps: Vec<Vec<i64>>,
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
            pad_maps: Vec::new(),
        }
    }

    /// The channel map of option-A transition `t` (stage t -> t + 1).
    fn pad_map(&self, t: usize) -> Vec<i64> {
        match self.pad_maps.get(t) {
            Some(m) => m.clone(),
            None => {
                let lo = (self.stages[t + 1] - self.stages[t]) / 2;
                (0..self.stages[t]).map(|j| j + lo).collect()
            }
        }
    }

    /// The stage-coupled groups (`layer1` .. `layer3`).
    pub(crate) fn stage_groups(&self) -> Vec<PrunableLayer> {
        let proj = match self.shortcut {
            Shortcut::A => None,
            Shortcut::B => Some("shortcut"),
        };
        stage_groups(&self.blocks(), &self.stages, proj)
    }

    /// Keeps channels `kept` (ascending) of prunable layer or group `name`.
    pub(crate) fn keep_channels(&self, name: &str, kept: &[i64]) -> Option<Self> {
        let mut out = self.clone();
        if let Some(i) = self.prunable_layers().iter().position(|l| l.name == name) {
            out.inner[i] = kept.len() as i64;
            return Some(out);
        }
        let t = group_index(name, 3)?;
        if self.shortcut == Shortcut::A {
            let mut maps: Vec<Vec<i64>> = (0..2).map(|k| self.pad_map(k)).collect();
            if t < 2 {
                maps[t] = kept.iter().map(|&j| maps[t][j as usize]).collect();
            }
            if t > 0 {
                maps[t - 1] = maps[t - 1]
                    .iter()
                    .map(|&o| {
                        if o < 0 {
                            -1
                        } else {
                            kept.iter().position(|&k| k == o).map_or(-1, |p| p as i64)
                        }
                    })
                    .collect();
            }
            out.pad_maps = maps;
        }
        out.stages[t] = kept.len() as i64;
        Some(out)
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
        if !self.pad_maps.is_empty() {
            check_len("pad_maps", &self.pad_maps, 2)?;
            for t in 0..2 {
                check_len(
                    &format!("pad_maps[{t}]"),
                    &self.pad_maps[t],
                    self.stages[t] as usize,
                )?;
                let mut seen = std::collections::HashSet::new();
                for &o in &self.pad_maps[t] {
                    if o >= self.stages[t + 1] || o < -1 || (o >= 0 && !seen.insert(o)) {
                        return Err(ModelError::Invalid {
                            field: format!("pad_maps[{t}]"),
                            message: format!(
                                "entry {o} is not a distinct channel of stage {} (width {})",
                                t + 2,
                                self.stages[t + 1]
                            ),
                        });
                    }
                }
            }
        } else if self.shortcut == Shortcut::A {
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
    fn blocks(&self) -> Vec<BlockSpec> {
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
                let map =
                    (s > 0 && !self.pad_maps.is_empty()).then(|| self.pad_maps[s - 1].clone());
                let kind = match self.shortcut {
                    Shortcut::A => ProjectionKind::ZeroPad(map),
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
        b.conv_bn("conv1", 3, self.stages[0], 3, (h, w));
        let (mut h, mut w) = (h, w);
        for (i, (name, s, cin, stride)) in self.blocks().into_iter().enumerate() {
            h = (h - 1) / stride + 1;
            w = (w - 1) / stride + 1;
            let cout = self.stages[s];
            b.basic_block(&name, cin, self.inner[i], cout, (h, w));
            if self.shortcut == Shortcut::B && (stride != 1 || cin != cout) {
                b.conv_bn(&format!("{name}.shortcut.0"), cin, cout, 1, (h, w));
            }
        }
        b.linear("fc", self.stages[2], self.num_classes, false);
        b.finish()
    }

    /// By default only the inner channels of each block (conv1's output, consumed only by
    /// conv2) are prunable.
    pub(crate) fn prunable_layers(&self) -> Vec<PrunableLayer> {
        inner_layers(&self.blocks(), &self.inner)
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
        let x = xs.apply(&self.stem).apply_t(&self.stem_bn, train).relu();
        let mut x = self.gates.apply("layer1", x);
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
