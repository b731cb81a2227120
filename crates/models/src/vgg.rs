use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::Tensor;

use crate::blocks::{batch_norm, conv, linear};
use crate::cost::CostBuilder;
use crate::error::{check_len, check_positive};
use crate::{ChannelGates, ModelCost, ModelError, Network, PrunableLayer};

/// Number of conv layers of VGG-16.
pub const VGG16_CONVS: usize = 13;
/// Conv indices (0-based) followed by a 2x2 max-pool.
pub(crate) const VGG16_POOL_AFTER: [usize; 5] = [1, 3, 6, 9, 12];
/// The unpruned VGG-16 conv widths.
pub(crate) const VGG16_WIDTHS: [i64; VGG16_CONVS] = [
    64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512,
];

/// Index of each conv in torchvision's `features` Sequential; with BN every conv takes
/// three slots (conv, BN, ReLU) and every max-pool one.
pub(crate) fn feature_indices(with_bn: bool) -> [usize; VGG16_CONVS] {
    let per_conv = if with_bn { 3 } else { 2 };
    let mut out = [0; VGG16_CONVS];
    let mut idx = 0;
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = idx;
        idx += per_conv;
        if VGG16_POOL_AFTER.contains(&i) {
            idx += 1;
        }
    }
    out
}

/// Widths of VGG-16 with BN for CIFAR: 13 conv 3x3 (no bias) + BN + ReLU with five
/// max-pools, then `Linear(convs[12], hidden)`, BN1d, ReLU, `Linear(hidden, num_classes)`.
/// Input `[N, 3, 32, 32]`, output logits `[N, num_classes]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VggCifarConfig {
    /// Output channels of the 13 convs, in network order.
    pub convs: Vec<i64>,
    /// Width of the hidden classifier layer.
    pub hidden: i64,
    pub num_classes: i64,
}

impl Default for VggCifarConfig {
    fn default() -> Self {
        Self {
            convs: VGG16_WIDTHS.to_vec(),
            hidden: 512,
            num_classes: 10,
        }
    }
}

impl VggCifarConfig {
    pub fn validate(&self) -> Result<(), ModelError> {
        check_len("convs", &self.convs, VGG16_CONVS)?;
        check_positive("convs", &self.convs)?;
        check_positive("hidden", &[self.hidden])?;
        check_positive("num_classes", &[self.num_classes])
    }

    pub(crate) fn build(&self, p: &nn::Path) -> Vgg16Cifar {
        let idx = feature_indices(true);
        let f = p / "features";
        let mut cin = 3;
        let mut layers = Vec::new();
        for (i, &cout) in self.convs.iter().enumerate() {
            let c = conv(&f / idx[i], cin, cout, 3, 1, 1);
            let bn = batch_norm(&f / (idx[i] + 1), cout, true);
            layers.push((format!("features.{}", idx[i]), c, bn));
            cin = cout;
        }
        let cl = p / "classifier";
        Vgg16Cifar {
            layers,
            fc1: linear(&cl / 0, cin, self.hidden),
            bn1: batch_norm(&cl / 1, self.hidden, false),
            fc2: linear(&cl / 3, self.hidden, self.num_classes),
            gates: ChannelGates::default(),
        }
    }

    pub(crate) fn cost(&self, (h, w): (i64, i64)) -> ModelCost {
        let idx = feature_indices(true);
        let mut b = CostBuilder::default();
        let (mut h, mut w, mut cin) = (h, w, 3);
        for (i, &cout) in self.convs.iter().enumerate() {
            b.conv_bn(&format!("features.{}", idx[i]), cin, cout, 3, (h, w));
            cin = cout;
            if VGG16_POOL_AFTER.contains(&i) {
                h /= 2;
                w /= 2;
            }
        }
        // The classifier flattens a 1x1 map at 32x32 input; larger inputs would be
        // flattened too, multiplying the first linear layer's fan-in.
        b.linear("classifier.0", cin * h * w, self.hidden, true);
        b.linear("classifier.3", self.hidden, self.num_classes, false);
        b.finish()
    }

    pub(crate) fn prunable_layers(&self) -> Vec<PrunableLayer> {
        let idx = feature_indices(true);
        // At 32x32 input the last feature map is 1x1, so `classifier.0` has one input
        // column per channel of the last conv.
        (0..VGG16_CONVS)
            .map(|i| {
                let consumer = if i + 1 < VGG16_CONVS {
                    format!("features.{}", idx[i + 1])
                } else {
                    "classifier.0".to_string()
                };
                PrunableLayer::conv(
                    format!("features.{}", idx[i]),
                    self.convs[i],
                    false,
                    Some(format!("features.{}", idx[i] + 1)),
                    vec![consumer],
                )
            })
            .collect()
    }
}

/// VGG-16 with BN for CIFAR (see [`VggCifarConfig`]).
#[derive(Debug)]
pub struct Vgg16Cifar {
    layers: Vec<(String, nn::Conv2D, nn::BatchNorm)>,
    fc1: nn::Linear,
    bn1: nn::BatchNorm,
    fc2: nn::Linear,
    gates: ChannelGates,
}

impl ModuleT for Vgg16Cifar {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut x = xs.shallow_clone();
        for (i, (name, c, bn)) in self.layers.iter().enumerate() {
            x = self.gates.bn_relu(name, bn, &x.apply(c), train);
            if VGG16_POOL_AFTER.contains(&i) {
                x = x.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
            }
        }
        x.flatten(1, -1)
            .apply(&self.fc1)
            .apply_t(&self.bn1, train)
            .relu()
            .apply(&self.fc2)
    }
}

impl Network for Vgg16Cifar {
    fn gates(&self) -> &ChannelGates {
        &self.gates
    }
}
