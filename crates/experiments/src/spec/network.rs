//! The network a spec describes, as the `models` crate's own configuration.
use models::{
    Fcn32sConfig, ModelConfig, ModelError, ResNet18Config, ResNetCifarConfig, Shortcut,
    VggCifarConfig,
};

use super::{Arch, Spec};

/// An architecture at its default widths (the paper's), for `num_classes` classes.
pub fn default_config(arch: Arch, shortcut: Shortcut, num_classes: i64) -> ModelConfig {
    match arch {
        Arch::Vgg16Cifar => ModelConfig::Vgg16Cifar(VggCifarConfig {
            num_classes,
            ..VggCifarConfig::default()
        }),
        Arch::Resnet20Cifar | Arch::Resnet32Cifar | Arch::Resnet56Cifar => {
            let depth = match arch {
                Arch::Resnet20Cifar => 20,
                Arch::Resnet32Cifar => 32,
                _ => 56,
            };
            ModelConfig::ResnetCifar(ResNetCifarConfig {
                num_classes,
                ..ResNetCifarConfig::resnet(depth, shortcut)
            })
        }
        Arch::Resnet18 => ModelConfig::Resnet18(ResNet18Config {
            num_classes,
            ..ResNet18Config::default()
        }),
        Arch::Fcn32s => ModelConfig::Fcn32s(Fcn32sConfig {
            num_classes,
            ..Fcn32sConfig::default()
        }),
    }
}

/// The network a spec describes: the architecture's default widths with the spec's
/// overrides applied, checked.
pub fn model_config(s: &Spec) -> Result<ModelConfig, ModelError> {
    let m = &s.model;
    let w = m.widths.clone().unwrap_or_default();
    let nc = m
        .num_classes
        .unwrap_or_else(|| s.dataset.name.num_classes());
    let mut cfg = default_config(m.arch, m.shortcut.unwrap_or_default(), nc);
    match &mut cfg {
        ModelConfig::Vgg16Cifar(c) => {
            c.convs = w.convs.unwrap_or(std::mem::take(&mut c.convs));
            c.hidden = w.hidden.unwrap_or(c.hidden);
        }
        ModelConfig::ResnetCifar(c) => {
            c.stages = w.stages.unwrap_or(std::mem::take(&mut c.stages));
            c.inner = w.inner.unwrap_or(std::mem::take(&mut c.inner));
        }
        ModelConfig::Resnet18(c) => {
            c.stages = w.stages.unwrap_or(std::mem::take(&mut c.stages));
            c.inner = w.inner.unwrap_or(std::mem::take(&mut c.inner));
        }
        ModelConfig::Fcn32s(c) => {
            c.convs = w.convs.unwrap_or(std::mem::take(&mut c.convs));
            c.fc6 = w.fc6.unwrap_or(c.fc6);
            c.fc7 = w.fc7.unwrap_or(c.fc7);
        }
    }
    cfg.validate()?;
    Ok(cfg)
}
