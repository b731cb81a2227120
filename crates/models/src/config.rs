use serde::{Deserialize, Serialize};
use tch::nn;

use crate::{
    ChannelGates, Fcn32sConfig, ModelCost, ModelError, ResNet18Config, ResNetCifarConfig,
    VggCifarConfig,
};

/// A network the engine can train: a `ModuleT` whose prunable feature maps go through
/// [`ChannelGates`].
pub trait Network: nn::ModuleT {
    /// The gates on this network's prunable feature maps.
    fn gates(&self) -> &ChannelGates;
}

/// A conv layer whose output channels the pruner may remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrunableLayer {
    /// PyTorch name of the conv (e.g. `features.3`, `layer2.1.conv1`, `fc6`).
    pub name: String,
    /// Its current number of output channels.
    pub channels: i64,
}

/// The architecture and its per-layer widths: everything needed to rebuild a network,
/// pruned or not. Serialized beside a model's weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "arch", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelConfig {
    /// VGG-16 with BN for 32x32 inputs.
    Vgg16Cifar(VggCifarConfig),
    /// ResNet-20/32/56 for 32x32 inputs (He et al. 2016, section 4.2).
    ResnetCifar(ResNetCifarConfig),
    /// ResNet-18, torchvision layout.
    Resnet18(ResNet18Config),
    /// FCN-32s on a VGG-16 backbone.
    Fcn32s(Fcn32sConfig),
}

impl ModelConfig {
    /// Short architecture name, as used in specs (`vgg16_cifar`, ...).
    pub fn arch_name(&self) -> &'static str {
        match self {
            Self::Vgg16Cifar(_) => "vgg16_cifar",
            Self::ResnetCifar(_) => "resnet_cifar",
            Self::Resnet18(_) => "resnet18",
            Self::Fcn32s(_) => "fcn32s",
        }
    }

    /// Checks that the widths describe a valid network.
    pub fn validate(&self) -> Result<(), ModelError> {
        match self {
            Self::Vgg16Cifar(c) => c.validate(),
            Self::ResnetCifar(c) => c.validate(),
            Self::Resnet18(c) => c.validate(),
            Self::Fcn32s(c) => c.validate(),
        }
    }

    /// Creates the network's variables under `p`. The configuration must be valid.
    pub fn build(&self, p: &nn::Path) -> Result<Box<dyn Network>, ModelError> {
        self.validate()?;
        Ok(match self {
            Self::Vgg16Cifar(c) => Box::new(c.build(p)),
            Self::ResnetCifar(c) => Box::new(c.build(p)),
            Self::Resnet18(c) => Box::new(c.build(p)),
            Self::Fcn32s(c) => Box::new(c.build(p)),
        })
    }

    /// Exact parameters and MACs for one input of `input_hw` pixels.
    pub fn cost(&self, input_hw: (i64, i64)) -> ModelCost {
        match self {
            Self::Vgg16Cifar(c) => c.cost(input_hw),
            Self::ResnetCifar(c) => c.cost(input_hw),
            Self::Resnet18(c) => c.cost(input_hw),
            Self::Fcn32s(c) => c.cost(input_hw),
        }
    }

    /// The layers whose output channels may be pruned, in network order.
    pub fn prunable_layers(&self) -> Vec<PrunableLayer> {
        match self {
            Self::Vgg16Cifar(c) => c.prunable_layers(),
            Self::ResnetCifar(c) => c.prunable_layers(),
            Self::Resnet18(c) => c.prunable_layers(),
            Self::Fcn32s(c) => c.prunable_layers(),
        }
    }

    /// The input size the architecture is usually measured at.
    pub fn default_input_hw(&self) -> (i64, i64) {
        match self {
            Self::Vgg16Cifar(_) | Self::ResnetCifar(_) => (32, 32),
            Self::Resnet18(_) => (224, 224),
            Self::Fcn32s(_) => (500, 500),
        }
    }
}
