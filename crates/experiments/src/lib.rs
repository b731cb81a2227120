//! The `experiments` binary's library: spec parsing, data and model set-up, training
//! runs with run directories keyed by the resolved spec, and their summaries.

pub mod bench;
pub mod data;
pub mod inspect;
pub mod latency;
pub mod lock;
pub mod preflight;
pub mod prune;
pub mod run;
pub mod spec;
pub mod study;
pub mod summary;
pub mod table;

use models::{
    Fcn32sConfig, ModelConfig, ModelError, ResNet18Config, ResNetCifarConfig, Shortcut,
    VggCifarConfig,
};
use spec::{Arch, DatasetName, ShortcutSpec, Spec};

/// Class count of a data set.
pub fn num_classes(d: DatasetName) -> i64 {
    match d {
        DatasetName::Cifar10 => 10,
        DatasetName::Imagenet => 1000,
        DatasetName::Voc2011 => 21,
    }
}

/// The network a spec describes: the architecture's default widths with the spec's
/// overrides applied, checked.
pub fn model_config(s: &Spec) -> Result<ModelConfig, ModelError> {
    let m = &s.model;
    let w = m.widths.clone().unwrap_or_default();
    let nc = m.num_classes.unwrap_or_else(|| num_classes(s.dataset.name));
    let cfg = match m.arch {
        Arch::Vgg16Cifar => {
            let d = VggCifarConfig::default();
            ModelConfig::Vgg16Cifar(VggCifarConfig {
                convs: w.convs.unwrap_or(d.convs),
                hidden: w.hidden.unwrap_or(d.hidden),
                num_classes: nc,
            })
        }
        Arch::Resnet20Cifar | Arch::Resnet32Cifar | Arch::Resnet56Cifar => {
            let depth = match m.arch {
                Arch::Resnet20Cifar => 20,
                Arch::Resnet32Cifar => 32,
                _ => 56,
            };
            let sc = match m.shortcut.unwrap_or_default() {
                ShortcutSpec::A => Shortcut::A,
                ShortcutSpec::B => Shortcut::B,
            };
            let d = ResNetCifarConfig::resnet(depth, sc);
            ModelConfig::ResnetCifar(ResNetCifarConfig {
                stages: w.stages.unwrap_or(d.stages),
                inner: w.inner.unwrap_or(d.inner),
                num_classes: nc,
                ..d
            })
        }
        Arch::Resnet18 => {
            let d = ResNet18Config::default();
            ModelConfig::Resnet18(ResNet18Config {
                stages: w.stages.unwrap_or(d.stages),
                inner: w.inner.unwrap_or(d.inner),
                num_classes: nc,
            })
        }
        Arch::Fcn32s => {
            let d = Fcn32sConfig::default();
            ModelConfig::Fcn32s(Fcn32sConfig {
                convs: w.convs.unwrap_or(d.convs),
                fc6: w.fc6.unwrap_or(d.fc6),
                fc7: w.fc7.unwrap_or(d.fc7),
                num_classes: nc,
            })
        }
    };
    cfg.validate()?;
    Ok(cfg)
}
