//! Commands that look at models rather than train them: the reference counts of every
//! architecture (`models`), the test accuracy of a saved model (`eval`) and what a
//! channel of each of its layers costs (`channel-costs`).
use std::path::Path;

use anyhow::{Context, Result};
use models::ModelConfig;

use crate::spec::Spec;

/// Rebuilds the model in `dir` (`model.json` + `model.safetensors`) and prints its test
/// accuracy (top-1 / top-5, or mean IU for segmentation), parameters and MACs: on the
/// test split of `spec`'s data set when given, else on CIFAR-10 at `dataset`.
pub fn eval_model(dir: &Path, dataset: &Path, spec: Option<&Spec>, batch: usize) -> Result<()> {
    let cfg = crate::model_dir::read_model_config(dir)?;
    let device = crate::resolve::pick_device(crate::spec::DeviceSpec::Auto)?;
    let model = crate::model_dir::load_model_dir(dir, &cfg, device)?;
    let test: Box<dyn datasets::BatchSource> = match spec {
        Some(s) => crate::data::load(s)?.test,
        None => {
            let root = crate::data::resolve_root(dataset);
            let data = datasets::Cifar10::load(&root, None)
                .with_context(|| format!("loading --dataset {}", root.display()))?;
            Box::new(datasets::AugmentedSet::new(
                data.test,
                None,
                datasets::CIFAR10_NORMALIZATION,
            ))
        }
    };
    let r = engine::evaluate(model.net.as_ref(), test.as_ref(), batch, device, true)?;
    let cost = cfg.cost(cfg.default_input_hw());
    let accuracy = match r.segmentation {
        Some(m) => format!(
            "mean IU {:.2}%, pixel accuracy {:.2}%, mean class accuracy {:.2}%",
            m.mean_iou, m.pixel_acc, m.mean_acc
        ),
        None => format!("top-1 {:.2}%, top-5 {:.2}%", r.top1, r.top5),
    };
    println!(
        "{}: {} test images, {accuracy}, params {}, MACs {}",
        dir.display(),
        r.images,
        group(cost.params()),
        group(cost.macs())
    );
    Ok(())
}

/// Prints what one channel of each prunable layer (and stage group, with `groups`)
/// costs in `meter`'s metric, and its share c_l of the mean, as the cost-aware
/// mechanism weighs lambda.
pub fn print_channel_costs(
    cfg: &ModelConfig,
    meter: &mut pruner::CostMeter,
    groups: bool,
) -> Result<()> {
    let hw = cfg.default_input_hw();
    let m = pruner::CostModel::with_groups(cfg, hw, meter, groups)?;
    let shares = m.shares();
    let unit = match m.metric {
        pruner::CostMetric::Macs => "MACs per image",
        pruner::CostMetric::Params => "parameters",
        pruner::CostMetric::Latency => "ms per batch",
    };
    let mut layers = cfg.prunable_layers();
    if groups {
        layers.extend(cfg.stage_groups());
    }
    println!("| layer | channels | cost of one channel ({unit}) | share c_l |\n|---|---|---|---|");
    for l in layers {
        println!(
            "| {} | {} | {:.6} | {:.3} |",
            l.name, l.channels, m.channel_cost[&l.name], shares[&l.name]
        );
    }
    Ok(())
}

/// Prints every architecture's parameters and MACs at its usual input size.
pub fn print_models() {
    use crate::spec::{Arch, DatasetName};
    use models::Shortcut;
    let default = |arch, shortcut, data: DatasetName| {
        crate::resolve::default_config(arch, shortcut, data.num_classes())
    };
    let list = [
        (
            "vgg16_cifar",
            default(Arch::Vgg16Cifar, Shortcut::A, DatasetName::Cifar10),
        ),
        (
            "resnet20_cifar (option A)",
            default(Arch::Resnet20Cifar, Shortcut::A, DatasetName::Cifar10),
        ),
        (
            "resnet20_cifar (option B)",
            default(Arch::Resnet20Cifar, Shortcut::B, DatasetName::Cifar10),
        ),
        (
            "resnet18",
            default(Arch::Resnet18, Shortcut::A, DatasetName::Imagenet),
        ),
        (
            "fcn32s",
            default(Arch::Fcn32s, Shortcut::A, DatasetName::Voc2011),
        ),
    ];
    for (name, cfg) in list {
        let hw = cfg.default_input_hw();
        let c = cfg.cost(hw);
        println!(
            "{name:<26} input 3x{}x{}  params {:>12}  MACs {:>15}",
            hw.0,
            hw.1,
            group(c.params()),
            group(c.macs())
        );
    }
}

/// Thousands separators: 14987722 -> "14,987,722".
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
