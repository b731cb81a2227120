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

/// One axis of one named tensor that is indexed by a layer's output channels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelAxis {
    /// Variable name, e.g. `features.3.weight`.
    pub tensor: String,
    /// The axis: 0 for a producer's output rows, 1 for a consumer's input columns.
    pub dim: i64,
}

impl ChannelAxis {
    pub(crate) fn new(tensor: String, dim: i64) -> Self {
        Self { tensor, dim }
    }
}

/// A conv layer whose output channels the pruner may remove, and every tensor slice that
/// goes with a channel: the conv's filters (and bias), its BN's affine parameters and
/// running statistics (the producers, axis 0) and the matching input slices of every
/// layer that consumes the feature map (axis 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrunableLayer {
    /// PyTorch name of the conv (e.g. `features.3`, `layer2.1.conv1`, `fc6`).
    pub name: String,
    /// Its current number of output channels.
    pub channels: i64,
    pub producers: Vec<ChannelAxis>,
    pub consumers: Vec<ChannelAxis>,
}

impl PrunableLayer {
    /// The scale (gamma) of the BN that follows the conv, if any: Network Slimming's
    /// channel importance.
    pub fn bn_scale(&self) -> Option<&str> {
        let own = format!("{}.weight", self.name);
        self.producers
            .iter()
            .map(|a| a.tensor.as_str())
            .find(|t| *t != own && t.ends_with(".weight"))
    }

    /// A conv (optionally with bias) followed by a BN named `bn` (if any).
    pub(crate) fn conv(
        name: String,
        channels: i64,
        bias: bool,
        bn: Option<String>,
        consumers: Vec<String>,
    ) -> Self {
        let mut producers = vec![ChannelAxis::new(format!("{name}.weight"), 0)];
        if bias {
            producers.push(ChannelAxis::new(format!("{name}.bias"), 0));
        }
        if let Some(bn) = bn {
            for t in ["weight", "bias", "running_mean", "running_var"] {
                producers.push(ChannelAxis::new(format!("{bn}.{t}"), 0));
            }
        }
        let consumers = consumers
            .into_iter()
            .map(|c| ChannelAxis::new(format!("{c}.weight"), 1))
            .collect();
        Self {
            name,
            channels,
            producers,
            consumers,
        }
    }
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

    /// The stage-coupled channel groups of residual networks (`layer1`, `layer2`, ...:
    /// the channels joined by residual adds), empty for plain networks. Pruned only on
    /// request; by default residual networks prune their blocks' inner channels.
    pub fn stage_groups(&self) -> Vec<PrunableLayer> {
        match self {
            Self::ResnetCifar(c) => c.stage_groups(),
            Self::Resnet18(c) => c.stage_groups(),
            Self::Vgg16Cifar(_) | Self::Fcn32s(_) => Vec::new(),
        }
    }

    /// The same architecture keeping only channels `kept` (ascending indices) of prunable
    /// layer or stage group `name`: new widths, and for option-A shortcuts the remapped
    /// zero-padding.
    pub fn keep_channels(&self, name: &str, kept: &[i64]) -> Result<ModelConfig, ModelError> {
        let unknown = || ModelError::Invalid {
            field: name.to_string(),
            message: format!(
                "{} has no prunable layer or group of that name",
                self.arch_name()
            ),
        };
        let out = match self {
            Self::ResnetCifar(c) => {
                Self::ResnetCifar(c.keep_channels(name, kept).ok_or_else(unknown)?)
            }
            Self::Resnet18(c) => Self::Resnet18(c.keep_channels(name, kept).ok_or_else(unknown)?),
            _ => return self.with_width(name, kept.len() as i64),
        };
        out.validate()?;
        Ok(out)
    }

    /// The same architecture with layer `name` (a prunable layer) at `width` channels.
    pub fn with_width(&self, name: &str, width: i64) -> Result<ModelConfig, ModelError> {
        let pos = self
            .prunable_layers()
            .iter()
            .position(|l| l.name == name)
            .ok_or_else(|| ModelError::Invalid {
                field: name.to_string(),
                message: format!("{} has no prunable layer of that name", self.arch_name()),
            })?;
        let mut out = self.clone();
        match &mut out {
            Self::Vgg16Cifar(c) => c.convs[pos] = width,
            Self::ResnetCifar(c) => c.inner[pos] = width,
            Self::Resnet18(c) => c.inner[pos] = width,
            Self::Fcn32s(c) => match pos {
                13 => c.fc6 = width,
                14 => c.fc7 = width,
                _ => c.convs[pos] = width,
            },
        }
        out.validate()?;
        Ok(out)
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
