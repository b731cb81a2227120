//! Channel choices of the baselines: L1 norm keeps the largest filters, Network Slimming
//! applies one global threshold on |gamma| (sized by a channel fraction or a MACs
//! budget), random is seeded.
use models::{ModelConfig, ResNetCifarConfig, Shortcut};
use pruner::*;
use tch::nn::VarStore;
use tch::{Device, Tensor};

fn tiny() -> (ModelConfig, VarStore) {
    let cfg = ModelConfig::ResnetCifar(ResNetCifarConfig {
        stages: vec![4, 4, 4],
        pad_maps: vec![],
        blocks_per_stage: 1,
        inner: vec![4, 4, 4],
        shortcut: Shortcut::A,
        num_classes: 10,
    });
    let vs = VarStore::new(Device::Cpu);
    let _n = cfg.build(&vs.root()).unwrap();
    (cfg, vs)
}

fn set(vs: &VarStore, name: &str, t: Tensor) {
    tch::no_grad(|| vs.variables()[name].shallow_clone().copy_(&t));
}

#[test]
fn l1_norm_keeps_the_largest_filters() {
    let (cfg, vs) = tiny();
    let scale = Tensor::from_slice(&[0.1f32, 3.0, 0.2, 2.0]).view([4, 1, 1, 1]);
    set(
        &vs,
        "layer1.0.conv1.weight",
        Tensor::ones([4, 4, 3, 3], (tch::Kind::Float, Device::Cpu)) * scale,
    );
    let target = cfg.with_width("layer1.0.conv1", 2).unwrap();
    let masks = l1_norm_masks(&cfg, &vs, &target).unwrap();
    assert_eq!(masks["layer1.0.conv1"].kept_indices(), vec![1, 3]);
    assert_eq!(masks["layer2.0.conv1"].kept(), 4);
}

/// BN scales of the three prunable layers; by |gamma|: two of layer1 lowest, then
/// three of layer2, then layer3's.
fn set_bn_scales(vs: &VarStore) {
    let scales: [(&str, [f32; 4]); 3] = [
        ("layer1.0.bn1.weight", [0.9, 0.01, 0.8, 0.02]),
        ("layer2.0.bn1.weight", [0.03, 0.04, 0.05, 0.7]),
        ("layer3.0.bn1.weight", [-0.6, 0.5, 0.06, 0.4]),
    ];
    for (name, g) in scales {
        set(vs, name, Tensor::from_slice(&g));
    }
}

#[test]
fn slimming_uses_one_global_threshold() {
    let (cfg, vs) = tiny();
    set_bn_scales(&vs);
    // Half of 12 channels: the six smallest |gamma| go, across layers.
    let masks = slimming_masks(&cfg, &vs, SlimmingBudget::ChannelFraction(0.5), 1).unwrap();
    assert_eq!(masks["layer1.0.conv1"].kept_indices(), vec![0, 2]);
    assert_eq!(masks["layer2.0.conv1"].kept_indices(), vec![3]);
    assert_eq!(masks["layer3.0.conv1"].kept_indices(), vec![0, 1, 3]);
    assert_eq!(bn_scale_names(&cfg).unwrap()[1], "layer2.0.bn1.weight");
}

#[test]
fn slimming_at_a_macs_budget_removes_the_fewest_channels_that_reach_it() {
    let (cfg, vs) = tiny();
    // Smallest |gamma| first: two of layer1 (32 x 32 maps, 73,728 MACs per inner
    // channel), three of layer2 (18,432), then layer3's (4,608).
    set_bn_scales(&vs);
    let removed_pct = |masks: &MaskSet| {
        let mut c = cfg.clone();
        for (n, m) in masks {
            c = c.with_width(n, m.kept() as i64).unwrap();
        }
        let (before, after) = (cfg.cost((32, 32)).macs(), c.cost((32, 32)).macs());
        100.0 * (1.0 - after as f64 / before as f64)
    };
    // The two layer1 channels remove 29.6% of the MACs; 30% needs one more.
    let masks = slimming_masks(&cfg, &vs, SlimmingBudget::MacsPrunedPct(30.0), 1).unwrap();
    assert_eq!(masks["layer1.0.conv1"].kept_indices(), vec![0, 2]);
    assert_eq!(masks["layer2.0.conv1"].kept_indices(), vec![1, 2, 3]);
    assert_eq!(masks["layer3.0.conv1"].kept(), 4);
    assert!(removed_pct(&masks) >= 30.0, "{}", removed_pct(&masks));
    let fewer = slimming_masks(&cfg, &vs, SlimmingBudget::ChannelFraction(2.0 / 12.0), 1).unwrap();
    assert!(removed_pct(&fewer) < 30.0, "{}", removed_pct(&fewer));
    // More than the model can give at one channel per layer is refused.
    let err = slimming_masks(&cfg, &vs, SlimmingBudget::MacsPrunedPct(99.0), 1).unwrap_err();
    assert!(err.to_string().contains("99% asked for"), "{err}");
}

#[test]
fn random_masks_are_seeded() {
    let (cfg, _vs) = tiny();
    let target = cfg.with_width("layer3.0.conv1", 2).unwrap();
    let a = random_masks(&cfg, &target, 5).unwrap();
    assert_eq!(a, random_masks(&cfg, &target, 5).unwrap());
    assert_eq!(a["layer3.0.conv1"].kept(), 2);
    let differs = (6..30).any(|s| random_masks(&cfg, &target, s).unwrap() != a);
    assert!(differs);
}

#[test]
fn uniform_widths_keep_one_share_everywhere_and_reach_the_macs_budget() {
    let (cfg, _) = tiny();
    let widths =
        |c: &ModelConfig| -> Vec<i64> { c.prunable_layers().iter().map(|l| l.channels).collect() };
    let removed = |c: &ModelConfig| {
        let (before, after) = (cfg.cost((32, 32)).macs(), c.cost((32, 32)).macs());
        100.0 * (1.0 - after as f64 / before as f64)
    };
    // Three inner layers of 4: keeping 3 of 4 everywhere removes less than 20%, 2 of 4
    // more; the largest share that reaches 20% is the one keeping 2.
    let (c, r) = uniform_widths(&cfg, 20.0, 1).unwrap();
    assert_eq!(widths(&c), [2, 2, 2], "r = {r}");
    assert!(removed(&c) >= 20.0);
    let three = cfg
        .with_width("layer1.0.conv1", 3)
        .and_then(|c| c.with_width("layer2.0.conv1", 3))
        .and_then(|c| c.with_width("layer3.0.conv1", 3))
        .unwrap();
    assert!(removed(&three) < 20.0, "{}", removed(&three));
    // A budget the model cannot give at one channel per layer is refused.
    let err = uniform_widths(&cfg, 99.0, 1).unwrap_err().to_string();
    assert!(err.contains("99% asked"), "{err}");
}
