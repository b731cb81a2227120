//! A physically pruned model saved by this project loads in PyTorch (strict
//! `load_state_dict`, same names, the widths from model.json) and computes the same
//! logits. Uses the PyTorch of the libtorch bootstrap (.venv).
use std::path::Path;
use std::process::Command;

use engine::save_weights;
use models::*;
use pruner::*;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

fn python() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python")
}

fn roundtrip(cfg: ModelConfig, keep_every: usize) {
    tch::manual_seed(3);
    let vs = VarStore::new(Device::Cpu);
    let _net = cfg.build(&vs.root()).unwrap();
    // Non-trivial BN statistics.
    tch::no_grad(|| {
        for (n, mut v) in vs.variables() {
            if n.ends_with("running_var") {
                v.copy_(&(Tensor::rand_like(&v) + 0.5));
            } else if n.ends_with("running_mean") {
                v.copy_(&(Tensor::randn_like(&v) * 0.1));
            }
        }
    });
    let masks: MaskSet = cfg
        .prunable_layers()
        .into_iter()
        .map(|l| {
            let idx: Vec<usize> = (0..l.channels as usize)
                .filter(|i| i % keep_every == 0)
                .collect();
            (l.name, ChannelMask::from_indices(l.channels as usize, &idx))
        })
        .collect();
    let pruned = remove_channels(&cfg, &vs, &masks).unwrap();
    let dir = tempfile::tempdir().unwrap();
    save_weights(
        &pruned.vs,
        &dir.path().join("model.safetensors"),
        Kind::Float,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("model.json"),
        serde_json::to_vec(&pruned.config).unwrap(),
    )
    .unwrap();
    // CIFAR models at their 32 x 32; ResNet-18 at 96 x 96 (any size works; smaller
    // than 224 keeps the test fast).
    let side = if matches!(cfg, ModelConfig::Resnet18(_)) {
        96
    } else {
        32
    };
    let x = Tensor::randn([3, 3, side, side], (Kind::Float, Device::Cpu));
    let y = tch::no_grad(|| pruned.net.forward_t(&x, false));
    Tensor::write_safetensors(&[("x", &x)], dir.path().join("x.safetensors")).unwrap();
    Tensor::write_safetensors(&[("y", &y)], dir.path().join("y.safetensors")).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python/pytorch_interop.py");
    let o = Command::new(python())
        .arg(script)
        .arg(dir.path())
        .arg(dir.path().join("x.safetensors"))
        .arg(dir.path().join("y.safetensors"))
        .output()
        .expect("the .venv python of scripts/bootstrap-libtorch.sh");
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.status.success(),
        "PyTorch disagrees or failed to load: {out}"
    );
    assert!(out.contains("max_abs_diff"), "{out}");
}

#[test]
fn pruned_resnet20_loads_in_pytorch() {
    roundtrip(
        ModelConfig::ResnetCifar(ResNetCifarConfig::resnet(20, Shortcut::A)),
        3,
    );
    roundtrip(
        ModelConfig::ResnetCifar(ResNetCifarConfig::resnet(20, Shortcut::B)),
        2,
    );
}

#[test]
fn pruned_vgg16_loads_in_pytorch() {
    let cfg = VggCifarConfig {
        convs: vec![16, 16, 24, 24, 32, 32, 32, 40, 40, 40, 48, 48, 48],
        hidden: 32,
        num_classes: 10,
    };
    roundtrip(ModelConfig::Vgg16Cifar(cfg), 2);
}

#[test]
fn pruned_resnet18_loads_in_pytorch_with_torchvision_names() {
    roundtrip(ModelConfig::Resnet18(ResNet18Config::default()), 3);
}
