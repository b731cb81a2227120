//! CNN architectures of the C2S2 experiments, each built from an explicit per-layer
//! width configuration so that a pruned network is the same architecture with other
//! widths.
//!
//! Every model follows the `Config` -> `build()` split: a serializable [`ModelConfig`]
//! describes the widths, and [`ModelConfig::build`] creates the module's variables under a
//! [`tch::nn::Path`] with PyTorch-compatible parameter names (torchvision's for ResNet-18
//! and the VGG features), so weights move between the two as safetensors files.
//!
//! Exact counters ([`ModelConfig::cost`]) give trainable parameters and the multiply-
//! accumulates of conv and linear layers for a given input size — the "FLOPs" convention
//! of the pruning papers.

mod basic_block;
mod blocks;
mod config;
mod cost;
mod error;
mod fcn;
mod gates;
mod residual_groups;
mod resnet18;
mod resnet_cifar;
mod vgg;

pub use config::{ChannelAxis, ModelConfig, Network, PrunableLayer};
pub use cost::{trainable_params, LayerCost, LayerShape, ModelCost};
pub use error::ModelError;
pub use fcn::Fcn32sConfig;
pub use gates::{ChannelGates, GatePlacement};
pub use resnet18::ResNet18Config;
pub use resnet_cifar::{ResNetCifarConfig, Shortcut};
pub use vgg::VggCifarConfig;
