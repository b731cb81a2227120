//! The key correctness test of the surgery, for every architecture: with random masks,
//! the masked network and the physically pruned network give the same outputs; the
//! pruned model's counters equal the counts computed from the masks; a pruned model
//! saved and loaded again gives the same outputs.
use engine::{load_weights, save_weights};
use models::*;
use pruner::*;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

/// A tiny deterministic generator, so every test sees the same "random" masks.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn random_masks(cfg: &ModelConfig, seed: u64, groups: bool) -> MaskSet {
    let mut rng = Lcg(seed);
    let mut layers = cfg.prunable_layers();
    if groups {
        layers.extend(cfg.stage_groups());
    }
    layers
        .into_iter()
        .map(|l| {
            let n = l.channels as usize;
            let mut keep: Vec<bool> = (0..n).map(|_| !rng.next().is_multiple_of(3)).collect();
            let first = (rng.next() % n as u64) as usize;
            keep[first] = true; // never empty
            (l.name, ChannelMask::new(keep))
        })
        .collect()
}

/// Random BN statistics and affine parameters, so removed channels would matter if the
/// surgery sliced the wrong rows.
fn randomize(vs: &VarStore) {
    tch::no_grad(|| {
        for (name, mut v) in vs.variables() {
            if name.ends_with("running_var") {
                v.copy_(&(Tensor::rand_like(&v) + 0.5));
            } else if name.ends_with("running_mean") || name.ends_with(".bias") {
                v.copy_(&(Tensor::randn_like(&v) * 0.1));
            } else if name.ends_with(".weight") && v.dim() == 1 {
                v.copy_(&(Tensor::rand_like(&v) + 0.5));
            }
        }
    });
}

/// Expected trainable parameters after pruning, computed from the masks alone: every
/// sliced axis of every trainable tensor shrinks by kept / total.
fn params_from_masks(cfg: &ModelConfig, vs: &VarStore, masks: &MaskSet) -> u64 {
    let mut layers = cfg.prunable_layers();
    layers.extend(cfg.stage_groups());
    let mut total = 0u64;
    for (name, t) in vs.variables() {
        if !t.requires_grad() {
            continue;
        }
        let mut shape = t.size();
        for l in &layers {
            let Some(m) = masks.get(&l.name) else {
                continue;
            };
            for a in l.producers.iter().chain(&l.consumers) {
                if a.tensor == name {
                    shape[a.dim as usize] = m.kept() as i64;
                }
            }
        }
        total += shape.iter().product::<i64>() as u64;
    }
    total
}

fn check(cfg: ModelConfig, input: [i64; 4], seed: u64) {
    check_with(cfg, input, seed, false);
}

fn check_with(cfg: ModelConfig, input: [i64; 4], seed: u64, groups: bool) {
    tch::manual_seed(seed as i64);
    let vs = VarStore::new(Device::Cpu);
    let net = cfg.build(&vs.root()).unwrap();
    randomize(&vs);
    let masks = random_masks(&cfg, seed, groups);
    let x = Tensor::randn(input, (Kind::Float, Device::Cpu));

    apply_masks_as_gates(net.as_ref(), &masks, Device::Cpu);
    let masked = tch::no_grad(|| net.forward_t(&x, false));
    let pruned = remove_channels(&cfg, &vs, &masks).unwrap();
    let out = tch::no_grad(|| pruned.net.forward_t(&x, false));
    let diff = (&masked - &out).abs().max().double_value(&[]);
    assert!(
        diff < 1e-4,
        "{}: masked vs pruned differ by {diff}",
        cfg.arch_name()
    );

    // Widths and counters.
    for l in pruned
        .config
        .prunable_layers()
        .into_iter()
        .chain(if groups {
            pruned.config.stage_groups()
        } else {
            vec![]
        })
    {
        assert_eq!(l.channels as usize, masks[&l.name].kept(), "{}", l.name);
    }
    let hw = (input[2], input[3]);
    let expected = params_from_masks(&cfg, &vs, &masks);
    assert_eq!(pruned.config.cost(hw).params(), expected);
    assert_eq!(trainable_params(&pruned.vs), expected);
    assert!(pruned.config.cost(hw).macs() < cfg.cost(hw).macs());

    // Save, rebuild from the width configuration, load: same outputs.
    let dir = tempfile::tempdir().unwrap();
    let wpath = dir.path().join("model.safetensors");
    save_weights(&pruned.vs, &wpath, Kind::Float).unwrap();
    let json = serde_json::to_string(&pruned.config).unwrap();
    let cfg2: ModelConfig = serde_json::from_str(&json).unwrap();
    let vs2 = VarStore::new(Device::Cpu);
    let net2 = cfg2.build(&vs2.root()).unwrap();
    load_weights(&vs2, &wpath).unwrap();
    let out2 = tch::no_grad(|| net2.forward_t(&x, false));
    assert!(
        out2.equal(&out),
        "{}: reloaded pruned model differs",
        cfg.arch_name()
    );
    // The unpruned model's weights do not fit the pruned widths.
    let full = dir.path().join("full.safetensors");
    save_weights(&vs, &full, Kind::Float).unwrap();
    assert!(load_weights(&vs2, &full).is_err());
}

#[test]
fn vgg16_cifar_surgery() {
    let cfg = VggCifarConfig {
        convs: vec![8, 8, 12, 12, 16, 16, 16, 20, 20, 20, 24, 24, 24],
        hidden: 16,
        num_classes: 10,
    };
    check(ModelConfig::Vgg16Cifar(cfg), [4, 3, 32, 32], 1);
}

#[test]
fn resnet20_surgery() {
    check(
        ModelConfig::ResnetCifar(ResNetCifarConfig::resnet(20, Shortcut::A)),
        [4, 3, 32, 32],
        2,
    );
    check(
        ModelConfig::ResnetCifar(ResNetCifarConfig::resnet(20, Shortcut::B)),
        [4, 3, 32, 32],
        3,
    );
}

#[test]
fn stage_coupled_groups_surgery() {
    // Residual streams pruned together with the inner channels, option A (remapped
    // zero-padding) and B (projections), and ResNet-18.
    check_with(
        ModelConfig::ResnetCifar(ResNetCifarConfig::resnet(20, Shortcut::A)),
        [4, 3, 32, 32],
        6,
        true,
    );
    check_with(
        ModelConfig::ResnetCifar(ResNetCifarConfig::resnet(20, Shortcut::B)),
        [4, 3, 32, 32],
        7,
        true,
    );
    let cfg = ResNet18Config {
        stages: vec![8, 12, 16, 20],
        inner: vec![8, 8, 12, 12, 16, 16, 20, 20],
        num_classes: 7,
    };
    check_with(ModelConfig::Resnet18(cfg), [2, 3, 64, 64], 8, true);
}

#[test]
fn option_a_groups_prune_twice() {
    // Pruning the stages of an already stage-pruned option-A network composes the maps.
    let cfg = ModelConfig::ResnetCifar(ResNetCifarConfig::resnet(20, Shortcut::A));
    tch::manual_seed(9);
    let vs = VarStore::new(Device::Cpu);
    let net = cfg.build(&vs.root()).unwrap();
    randomize(&vs);
    let m1 = random_masks(&cfg, 10, true);
    let p1 = remove_channels(&cfg, &vs, &m1).unwrap();
    let m2 = random_masks(&p1.config, 11, true);
    let p2 = remove_channels(&p1.config, &p1.vs, &m2).unwrap();
    let x = Tensor::randn([2, 3, 32, 32], (Kind::Float, Device::Cpu));
    apply_masks_as_gates(net.as_ref(), &m1, Device::Cpu);
    apply_masks_as_gates(p1.net.as_ref(), &m2, Device::Cpu);
    let a = tch::no_grad(|| p1.net.forward_t(&x, false));
    let b = tch::no_grad(|| p2.net.forward_t(&x, false));
    assert!((a - b).abs().max().double_value(&[]) < 1e-4);
}

#[test]
fn resnet18_surgery() {
    let cfg = ResNet18Config {
        stages: vec![8, 12, 16, 20],
        inner: vec![8, 8, 12, 12, 16, 16, 20, 20],
        num_classes: 7,
    };
    check(ModelConfig::Resnet18(cfg), [2, 3, 64, 64], 4);
}

#[test]
fn fcn32s_surgery() {
    let cfg = Fcn32sConfig {
        convs: vec![6, 6, 8, 8, 10, 10, 10, 12, 12, 12, 12, 12, 12],
        fc6: 16,
        fc7: 16,
        num_classes: 21,
    };
    check(ModelConfig::Fcn32s(cfg), [1, 3, 40, 36], 5);
}

#[test]
fn bad_masks_are_refused() {
    let cfg = ModelConfig::ResnetCifar(ResNetCifarConfig::default());
    let vs = VarStore::new(Device::Cpu);
    let _n = cfg.build(&vs.root()).unwrap();
    let mut m = MaskSet::new();
    m.insert("layer9.0.conv1".into(), ChannelMask::all(16));
    assert!(matches!(
        remove_channels(&cfg, &vs, &m),
        Err(PruneError::UnknownLayer(_))
    ));
    let mut m = MaskSet::new();
    m.insert("layer1.0.conv1".into(), ChannelMask::all(15));
    assert!(matches!(
        remove_channels(&cfg, &vs, &m),
        Err(PruneError::MaskLength { .. })
    ));
    let mut m = MaskSet::new();
    m.insert("layer1.0.conv1".into(), ChannelMask::new(vec![false; 16]));
    assert!(matches!(
        remove_channels(&cfg, &vs, &m),
        Err(PruneError::EmptyMask { .. })
    ));
}
