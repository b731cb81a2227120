use serde::{Deserialize, Serialize};

/// Parameters and multiply-accumulates of one conv or linear layer (BN counted with the
/// conv it follows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerCost {
    /// PyTorch-style name of the layer (e.g. `features.0`, `layer1.0.conv1`).
    pub name: String,
    /// Trainable parameters: weight, bias and the following BN's gamma and beta.
    pub params: u64,
    /// Multiply-accumulates for one input image.
    pub macs: u64,
    /// The layer's tensor geometry, for measuring its latency in isolation.
    pub shape: LayerShape,
}

/// The geometry of one layer, enough to time it on its own (a latency lookup table):
/// a layer with the same shape runs in the same time wherever it sits in a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerShape {
    /// A `k` x `k` convolution from `cin` to `cout` channels producing an `out_hw` map,
    /// followed by BN when `bn`.
    Conv {
        cin: i64,
        cout: i64,
        k: i64,
        out_hw: (i64, i64),
        bn: bool,
    },
    /// A fully connected layer from `cin` to `cout` features, followed by BN1d when `bn`.
    Linear { cin: i64, cout: i64, bn: bool },
    /// A layer that pruning never reshapes (e.g. FCN's fixed upsampling); not timed.
    Fixed,
}

/// Per-layer and total cost of a network for one input size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelCost {
    pub layers: Vec<LayerCost>,
}

impl ModelCost {
    /// Trainable parameters of the whole network.
    pub fn params(&self) -> u64 {
        self.layers.iter().map(|l| l.params).sum()
    }

    /// Conv + linear multiply-accumulates for one image.
    pub fn macs(&self) -> u64 {
        self.layers.iter().map(|l| l.macs).sum()
    }
}

/// Accumulates layer costs while an architecture walks its feature maps.
#[derive(Default)]
pub(crate) struct CostBuilder {
    pub layers: Vec<LayerCost>,
}

pub(crate) struct ConvShape {
    pub cin: i64,
    pub cout: i64,
    pub k: i64,
    pub out_hw: (i64, i64),
    pub bias: bool,
    pub bn: bool,
}

impl CostBuilder {
    pub fn conv(&mut self, name: &str, s: ConvShape) {
        let w = (s.cin * s.cout * s.k * s.k) as u64;
        let extra =
            if s.bias { s.cout as u64 } else { 0 } + if s.bn { 2 * s.cout as u64 } else { 0 };
        self.layers.push(LayerCost {
            name: name.to_string(),
            params: w + extra,
            macs: w * (s.out_hw.0 * s.out_hw.1) as u64,
            shape: LayerShape::Conv {
                cin: s.cin,
                cout: s.cout,
                k: s.k,
                out_hw: s.out_hw,
                bn: s.bn,
            },
        });
    }

    /// A bias-free `k` x `k` convolution followed by batch norm (ResNets, VGG).
    pub fn conv_bn(&mut self, name: &str, cin: i64, cout: i64, k: i64, out_hw: (i64, i64)) {
        self.conv(
            name,
            ConvShape {
                cin,
                cout,
                k,
                out_hw,
                bias: false,
                bn: true,
            },
        );
    }

    /// A basic residual block's two 3x3 conv + BN layers (`{name}.conv1`: `cin` -> `mid`,
    /// `{name}.conv2`: `mid` -> `cout`), both at the block's output size; the shortcut
    /// is the caller's.
    pub fn basic_block(&mut self, name: &str, cin: i64, mid: i64, cout: i64, out_hw: (i64, i64)) {
        self.conv_bn(&format!("{name}.conv1"), cin, mid, 3, out_hw);
        self.conv_bn(&format!("{name}.conv2"), mid, cout, 3, out_hw);
    }

    pub fn linear(&mut self, name: &str, cin: i64, cout: i64, bn: bool) {
        let w = (cin * cout) as u64;
        self.layers.push(LayerCost {
            name: name.to_string(),
            params: w + cout as u64 + if bn { 2 * cout as u64 } else { 0 },
            macs: w,
            shape: LayerShape::Linear { cin, cout, bn },
        });
    }

    pub fn finish(self) -> ModelCost {
        ModelCost {
            layers: self.layers,
        }
    }
}

/// Counts the trainable parameters held in a variable store (the cross-check of the
/// analytic counter).
pub fn trainable_params(vs: &tch::nn::VarStore) -> u64 {
    vs.trainable_variables()
        .iter()
        .map(|t| t.numel() as u64)
        .sum()
}

/// Output size of a conv / pool along one axis.
pub(crate) fn out_size(input: i64, k: i64, stride: i64, pad: i64, ceil: bool) -> i64 {
    let span = input + 2 * pad - k;
    if ceil {
        (span + stride - 1) / stride + 1
    } else {
        span / stride + 1
    }
}
