use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::{Kind, Tensor};

use crate::blocks::conv_bias;
use crate::cost::{out_size, ConvShape, CostBuilder};
use crate::error::{check_len, check_positive};
use crate::vgg::{feature_indices, VGG16_CONVS, VGG16_POOL_AFTER, VGG16_WIDTHS};
use crate::{ChannelGates, ModelCost, ModelError, Network, PrunableLayer};

/// Padding of the first conv, so that outputs cover any input size (Long et al. 2015).
const INPUT_PAD: i64 = 100;
/// Offset of the crop that aligns the 32x upsampled score map with the input.
const CROP_OFFSET: i64 = 19;
const UPSCORE_KERNEL: i64 = 64;
const UPSCORE_STRIDE: i64 = 32;

/// Widths of FCN-32s (Long et al., CVPR 2015): the VGG-16 convs (with bias, no BN;
/// torchvision `features` names, ceil-mode pools, 100-pixel padding on the first conv),
/// `fc6` (7x7 conv) and `fc7` (1x1 conv) with ReLU and dropout, the `score_fr` 1x1 conv
/// and a fixed bilinear 32x `upscore`, cropped to the input. Input `[N, 3, H, W]`, output
/// per-pixel logits `[N, num_classes, H, W]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fcn32sConfig {
    /// Output channels of the 13 backbone convs.
    pub convs: Vec<i64>,
    pub fc6: i64,
    pub fc7: i64,
    pub num_classes: i64,
}

impl Default for Fcn32sConfig {
    fn default() -> Self {
        Self {
            convs: VGG16_WIDTHS.to_vec(),
            fc6: 4096,
            fc7: 4096,
            num_classes: 21,
        }
    }
}

impl Fcn32sConfig {
    pub fn validate(&self) -> Result<(), ModelError> {
        check_len("convs", &self.convs, VGG16_CONVS)?;
        check_positive("convs", &self.convs)?;
        check_positive("fc6", &[self.fc6])?;
        check_positive("fc7", &[self.fc7])?;
        check_positive("num_classes", &[self.num_classes])
    }

    pub(crate) fn build(&self, p: &nn::Path) -> Fcn32s {
        let idx = feature_indices(false);
        let f = p / "features";
        let mut cin = 3;
        let mut convs = Vec::new();
        for (i, &cout) in self.convs.iter().enumerate() {
            let pad = if i == 0 { INPUT_PAD } else { 1 };
            convs.push((
                format!("features.{}", idx[i]),
                conv_bias(&f / idx[i], cin, cout, 3, pad),
            ));
            cin = cout;
        }
        let nc = self.num_classes;
        // The upsampling is a fixed bilinear interpolation in FCN-32s: not trainable.
        let upscore = (p / "upscore").add(
            "weight",
            bilinear_kernel(nc, UPSCORE_KERNEL).to_device(p.device()),
            false,
        );
        Fcn32s {
            convs,
            fc6: conv_bias(p / "fc6", cin, self.fc6, 7, 0),
            fc7: conv_bias(p / "fc7", self.fc6, self.fc7, 1, 0),
            score_fr: conv_bias(p / "score_fr", self.fc7, nc, 1, 0),
            upscore,
            gates: ChannelGates::default(),
        }
    }

    pub(crate) fn cost(&self, (h0, w0): (i64, i64)) -> ModelCost {
        let idx = feature_indices(false);
        let mut b = CostBuilder::default();
        let (mut h, mut w, mut cin) = (h0 + 2 * INPUT_PAD - 2, w0 + 2 * INPUT_PAD - 2, 3);
        for (i, &cout) in self.convs.iter().enumerate() {
            b.conv(
                &format!("features.{}", idx[i]),
                ConvShape {
                    cin,
                    cout,
                    k: 3,
                    out_hw: (h, w),
                    bias: true,
                    bn: false,
                },
            );
            cin = cout;
            if VGG16_POOL_AFTER.contains(&i) {
                h = out_size(h, 2, 2, 0, true);
                w = out_size(w, 2, 2, 0, true);
            }
        }
        let (h, w) = (h - 6, w - 6);
        b.conv(
            "fc6",
            ConvShape {
                cin,
                cout: self.fc6,
                k: 7,
                out_hw: (h, w),
                bias: true,
                bn: false,
            },
        );
        b.conv(
            "fc7",
            ConvShape {
                cin: self.fc6,
                cout: self.fc7,
                k: 1,
                out_hw: (h, w),
                bias: true,
                bn: false,
            },
        );
        let nc = self.num_classes;
        b.conv(
            "score_fr",
            ConvShape {
                cin: self.fc7,
                cout: nc,
                k: 1,
                out_hw: (h, w),
                bias: true,
                bn: false,
            },
        );
        // Transposed conv: every input pixel scatters a k x k x nc x nc kernel.
        let k = UPSCORE_KERNEL;
        b.layers.push(crate::LayerCost {
            name: "upscore".into(),
            params: 0,
            macs: (h * w * k * k * nc * nc) as u64,
            shape: crate::LayerShape::Fixed,
        });
        b.finish()
    }

    pub(crate) fn prunable_layers(&self) -> Vec<PrunableLayer> {
        let idx = feature_indices(false);
        let mut out: Vec<PrunableLayer> = (0..VGG16_CONVS)
            .map(|i| {
                let consumer = if i + 1 < VGG16_CONVS {
                    format!("features.{}", idx[i + 1])
                } else {
                    "fc6".to_string()
                };
                PrunableLayer::conv(
                    format!("features.{}", idx[i]),
                    self.convs[i],
                    true,
                    None,
                    vec![consumer],
                )
            })
            .collect();
        out.push(PrunableLayer::conv(
            "fc6".into(),
            self.fc6,
            true,
            None,
            vec!["fc7".into()],
        ));
        // The score layer is never pruned: its channels are the classes.
        out.push(PrunableLayer::conv(
            "fc7".into(),
            self.fc7,
            true,
            None,
            vec!["score_fr".into()],
        ));
        out
    }
}

/// Bilinear upsampling kernel `[c, c, k, k]` that maps each class channel to itself.
fn bilinear_kernel(c: i64, k: i64) -> Tensor {
    let factor = (k + 1) / 2;
    let center = if k % 2 == 1 {
        factor as f64 - 1.0
    } else {
        factor as f64 - 0.5
    };
    let og = Tensor::arange(k, (Kind::Float, tch::Device::Cpu));
    let filt1d: Tensor = (og - center).abs().g_div_scalar(factor as f64).neg() + 1.0;
    let filt = filt1d.unsqueeze(1) * filt1d.unsqueeze(0);
    let eye = Tensor::eye(c, (Kind::Float, tch::Device::Cpu));
    eye.view([c, c, 1, 1]) * filt.view([1, 1, k, k])
}

/// FCN-32s (see [`Fcn32sConfig`]).
#[derive(Debug)]
pub struct Fcn32s {
    convs: Vec<(String, nn::Conv2D)>,
    fc6: nn::Conv2D,
    fc7: nn::Conv2D,
    score_fr: nn::Conv2D,
    upscore: Tensor,
    gates: ChannelGates,
}

impl ModuleT for Fcn32s {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let (h, w) = (xs.size()[2], xs.size()[3]);
        let mut x = xs.shallow_clone();
        for (i, (name, c)) in self.convs.iter().enumerate() {
            x = self.gates.activate(name, x.apply(c));
            if VGG16_POOL_AFTER.contains(&i) {
                x = x.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], true);
            }
        }
        let x = self
            .gates
            .activate("fc6", x.apply(&self.fc6))
            .dropout(0.5, train);
        let x = self
            .gates
            .activate("fc7", x.apply(&self.fc7))
            .dropout(0.5, train);
        let score = x.apply(&self.score_fr);
        let up = score.conv_transpose2d(
            &self.upscore,
            None::<Tensor>,
            [UPSCORE_STRIDE, UPSCORE_STRIDE],
            [0, 0],
            [0, 0],
            1,
            [1, 1],
        );
        up.slice(2, CROP_OFFSET, CROP_OFFSET + h, 1)
            .slice(3, CROP_OFFSET, CROP_OFFSET + w, 1)
    }
}

impl Network for Fcn32s {
    fn gates(&self) -> &ChannelGates {
        &self.gates
    }
}
