//! Building blocks shared by the architectures: conv and BN with PyTorch's names and
//! torchvision's initialisation.
use tch::nn::{self, Init};
use tch::{Kind, Tensor};

/// 2-D convolution without bias, He-normal initialised on fan-out (torchvision's choice
/// for ResNet and VGG).
pub(crate) fn conv(p: nn::Path, cin: i64, cout: i64, k: i64, stride: i64, pad: i64) -> nn::Conv2D {
    let fan_out = (cout * k * k) as f64;
    let cfg = nn::ConvConfig {
        stride,
        padding: pad,
        bias: false,
        ws_init: Init::Randn {
            mean: 0.0,
            stdev: (2.0 / fan_out).sqrt(),
        },
        ..Default::default()
    };
    nn::conv2d(p, cin, cout, k, cfg)
}

/// 2-D convolution with bias (FCN's VGG backbone has no BN).
pub(crate) fn conv_bias(p: nn::Path, cin: i64, cout: i64, k: i64, pad: i64) -> nn::Conv2D {
    let fan_out = (cout * k * k) as f64;
    let cfg = nn::ConvConfig {
        padding: pad,
        ws_init: Init::Randn {
            mean: 0.0,
            stdev: (2.0 / fan_out).sqrt(),
        },
        bs_init: Init::Const(0.0),
        ..Default::default()
    };
    nn::conv2d(p, cin, cout, k, cfg)
}

/// BN hyper-parameters (PyTorch's defaults), shared with the gate folding of
/// [`crate::ChannelGates::bn_relu`], which needs them since tch keeps a BN's config private.
pub(crate) const BN_EPS: f64 = 1e-5;
pub(crate) const BN_MOMENTUM: f64 = 0.1;

/// Batch norm (1-d or 2-d) with gamma = 1, beta = 0 and PyTorch's `num_batches_tracked`
/// buffer, so a state dict round-trips with `strict=True`.
pub(crate) fn batch_norm(p: nn::Path, c: i64, two_d: bool) -> nn::BatchNorm {
    let cfg = nn::BatchNormConfig {
        ws_init: Init::Const(1.0),
        bs_init: Init::Const(0.0),
        eps: BN_EPS,
        momentum: BN_MOMENTUM,
        ..Default::default()
    };
    let bn = if two_d {
        nn::batch_norm2d(&p, c, cfg)
    } else {
        nn::batch_norm1d(&p, c, cfg)
    };
    let _ = p.add(
        "num_batches_tracked",
        Tensor::zeros([], (Kind::Int64, p.device())),
        false,
    );
    bn
}

/// Linear layer with PyTorch's default initialisation.
pub(crate) fn linear(p: nn::Path, cin: i64, cout: i64) -> nn::Linear {
    nn::linear(p, cin, cout, Default::default())
}

/// The sub-path of `p` for a dotted PyTorch name such as `layer1.0`.
pub(crate) fn sub_path<'a>(p: &nn::Path<'a>, dotted: &str) -> nn::Path<'a> {
    dotted.split('.').fold(p.clone(), |q, part| q.sub(part))
}
