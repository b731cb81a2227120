//! Training-loop behaviour on a tiny network and synthetic data: resume after an
//! interruption ends with bit-identical weights, checkpoints refuse other widths, SGD
//! follows PyTorch's update rule.
use std::path::Path;

use datasets::{Augment, AugmentedSet, ImageSet, CIFAR10_NORMALIZATION};
use engine::*;
use models::{ModelConfig, Network, ResNetCifarConfig, Shortcut};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

// Every test holds `engine::seed_exclusive` for its whole body: libtorch has one random
// generator per process, and the tests of this file run on parallel threads.

fn tiny_cfg(width: i64) -> ModelConfig {
    ModelConfig::ResnetCifar(ResNetCifarConfig {
        stages: vec![4, 6, 8],
        pad_maps: vec![],
        blocks_per_stage: 1,
        inner: vec![width, width, width],
        shortcut: Shortcut::A,
        num_classes: 10,
    })
}

fn synthetic(n: usize, seed: u64) -> ImageSet {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let pixels = (0..n * 3072)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 56) as u8
        })
        .collect();
    ImageSet {
        channels: 3,
        height: 32,
        width: 32,
        pixels,
        labels: (0..n).map(|i| (i % 10) as u8).collect(),
    }
}

fn config(epochs: usize, stop: Option<usize>) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 16,
        sgd: SgdConfig {
            lr: 0.05,
            momentum: 0.9,
            weight_decay: 5e-4,
            nesterov: true,
        },
        schedule: LrSchedule {
            base_lr: 0.05,
            epochs,
            warmup_epochs: 0.5,
            kind: ScheduleKind::Cosine { min_lr: 0.0 },
        },
        seed: 11,
        eval_batch_size: 32,
        channels_last: false,
        device: Device::Cpu,
        precision: Precision::Fp32,
        label: "test".into(),
        stop_after_epochs: stop,
        gradient_hook: None,
    }
}

fn build(init_seed: i64) -> (VarStore, Box<dyn Network>) {
    tch::manual_seed(init_seed);
    let vs = VarStore::new(Device::Cpu);
    let net = tiny_cfg(4).build(&vs.root()).unwrap();
    (vs, net)
}

fn run(
    dir: &Path,
    epochs: usize,
    stop: Option<usize>,
    init_seed: i64,
    train: &ImageSet,
    val: &ImageSet,
) -> (VarStore, TrainOutcome) {
    try_run(dir, epochs, stop, init_seed, train, val).unwrap()
}

fn try_run(
    dir: &Path,
    epochs: usize,
    stop: Option<usize>,
    init_seed: i64,
    train: &ImageSet,
    val: &ImageSet,
) -> Result<(VarStore, TrainOutcome), EngineError> {
    let (vs, net) = build(init_seed);
    let train = AugmentedSet::new(
        train.clone(),
        Some(Augment::default()),
        CIFAR10_NORMALIZATION,
    );
    let val = AugmentedSet::new(val.clone(), None, CIFAR10_NORMALIZATION);
    let out = fit(
        net.as_ref(),
        &vs,
        &config(epochs, stop),
        TrainData {
            train: &train,
            val: Some(&val),
        },
        dir,
    )?;
    Ok((vs, out))
}

/// The names of the files in `dir`, sorted.
fn file_names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn interrupted_and_resumed_run_ends_with_the_same_weights() {
    let _rng = engine::seed_exclusive(0);
    tch::set_num_threads(1);
    let (train, val) = (synthetic(64, 1), synthetic(32, 2));
    let straight = tempfile::tempdir().unwrap();
    let (vs_a, out_a) = run(straight.path(), 3, None, 5, &train, &val);
    assert!(out_a.finished && out_a.history.len() == 3);

    // Killed after each epoch; every restart builds the model from a different random
    // init, so only the checkpoint can make the runs agree.
    let resumed = tempfile::tempdir().unwrap();
    let (_, o1) = run(resumed.path(), 3, Some(1), 5, &train, &val);
    assert!(!o1.finished);
    let (_, o2) = run(resumed.path(), 3, Some(1), 99, &train, &val);
    assert_eq!(o2.resumed_from, 1);
    let (vs_b, out_b) = run(resumed.path(), 3, None, 123, &train, &val);
    assert!(out_b.finished && out_b.resumed_from == 2);

    let (a, b) = (vs_a.variables(), vs_b.variables());
    for (name, ta) in &a {
        assert!(ta.equal(&b[name]), "{name} differs after resume");
    }
    assert_eq!(
        out_a
            .history
            .iter()
            .map(|m| m.train_loss)
            .collect::<Vec<_>>(),
        out_b
            .history
            .iter()
            .map(|m| m.train_loss)
            .collect::<Vec<_>>()
    );
    let csv = std::fs::read_to_string(resumed.path().join("metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "header + 3 epochs:\n{csv}");
}

#[test]
fn a_save_interrupted_before_its_commit_resumes_from_the_previous_checkpoint() {
    let _rng = engine::seed_exclusive(0);
    tch::set_num_threads(1);
    let (train, val) = (synthetic(64, 1), synthetic(32, 2));
    let straight = tempfile::tempdir().unwrap();
    let (vs_a, _) = run(straight.path(), 3, None, 5, &train, &val);

    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), 3, Some(1), 5, &train, &val);
    // Epoch 2's weights reach the disk, its state never does: as a kill between the
    // two would leave them.
    engine::snapshot::inject_fault(Some((engine::snapshot::FaultPoint::BeforeCommit, 1)));
    let e = try_run(dir.path(), 3, None, 7, &train, &val)
        .map(|_| ())
        .unwrap_err();
    engine::snapshot::inject_fault(None);
    assert!(matches!(e, EngineError::InjectedFault), "{e}");
    let files = file_names(&dir.path().join("checkpoint"));
    assert!(
        files.iter().any(|f| f == "checkpoint.2.safetensors"),
        "the uncommitted weights are on disk: {files:?}"
    );

    let (vs_b, out) = run(dir.path(), 3, None, 123, &train, &val);
    assert_eq!(out.resumed_from, 1, "resumed from the committed epoch");
    assert_eq!(out.history.len(), 3);
    for (name, ta) in &vs_a.variables() {
        assert!(ta.equal(&vs_b.variables()[name]), "{name} differs");
    }
    assert_eq!(
        file_names(&dir.path().join("checkpoint")),
        ["checkpoint.3.safetensors", "state.json"],
        "superseded files removed"
    );
}

#[test]
fn a_damaged_checkpoint_names_its_file_and_the_remedy() {
    let _rng = engine::seed_exclusive(0);
    tch::set_num_threads(1);
    let (train, val) = (synthetic(32, 1), synthetic(16, 2));
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), 3, Some(1), 5, &train, &val);
    let ckpt = dir.path().join("checkpoint");
    let weights = ckpt.join("checkpoint.1.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let e = try_run(dir.path(), 3, None, 5, &train, &val)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("checkpoint.1.safetensors") && e.contains("rm -r") && e.contains("bytes"),
        "{e}"
    );
    // A checkpoint of the earlier layout (weights, then state.json without a manifest).
    std::fs::remove_dir_all(&ckpt).unwrap();
    std::fs::create_dir_all(&ckpt).unwrap();
    std::fs::write(
        ckpt.join("state.json"),
        r#"{"version":1,"epochs_done":1,"history":[]}"#,
    )
    .unwrap();
    let e = try_run(dir.path(), 3, None, 5, &train, &val)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(e.contains("earlier version") && e.contains("rm -r"), "{e}");
}

#[test]
fn checkpoint_of_other_widths_is_refused_by_name() {
    let _rng = engine::seed_exclusive(0);
    let dir = tempfile::tempdir().unwrap();
    let (vs, _net) = build(0);
    let path = dir.path().join("w.safetensors");
    save_weights(&vs, &path, Kind::Float).unwrap();
    let other = VarStore::new(Device::Cpu);
    let _n = tiny_cfg(3).build(&other.root()).unwrap();
    let e = load_weights(&other, &path).unwrap_err().to_string();
    assert!(
        e.contains("w.safetensors")
            && e.contains("does not fit")
            && e.contains("has shape")
            && e.contains("the model expects"),
        "{e}"
    );
    // The same widths load, also from a half-precision file.
    let same = VarStore::new(Device::Cpu);
    let _m = tiny_cfg(4).build(&same.root()).unwrap();
    load_weights(&same, &path).unwrap();
    save_weights(&vs, &path, Kind::Half).unwrap();
    load_weights(&same, &path).unwrap();
    let w = same.variables()["fc.weight"].shallow_clone();
    assert!(w.allclose(&vs.variables()["fc.weight"], 1e-3, 1e-3, false));
    assert!(load_weights(&same, &dir.path().join("missing.safetensors")).is_err());
}

#[test]
fn sgd_matches_pytorch_update_rule() {
    let _rng = engine::seed_exclusive(0);
    let p = Tensor::from_slice(&[1.0f32, -2.0]).set_requires_grad(true);
    let cfg = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        weight_decay: 0.01,
        nesterov: true,
    };
    let mut sgd = Sgd::new(vec![("p".into(), p.shallow_clone())], cfg);
    let mut expected = [1.0f64, -2.0];
    let mut buf = [0.0f64; 2];
    for step in 0..3 {
        sgd.zero_grad();
        (&p * &p).sum(Kind::Float).backward(); // grad = 2p
        sgd.step(0.1);
        for i in 0..2 {
            let d = 2.0 * expected[i] + 0.01 * expected[i];
            buf[i] = if step == 0 { d } else { 0.9 * buf[i] + d };
            expected[i] -= 0.1 * (d + 0.9 * buf[i]);
        }
    }
    for (i, e) in expected.iter().enumerate() {
        assert!((p.double_value(&[i as i64]) - e).abs() < 1e-5);
    }
}

#[test]
fn evaluation_counts_top1_and_top5() {
    let _rng = engine::seed_exclusive(0);
    let set = AugmentedSet::new(synthetic(20, 3), None, CIFAR10_NORMALIZATION);
    let (_vs, net) = build(1);
    let r = evaluate(net.as_ref(), &set, 7, Device::Cpu, false).unwrap();
    assert_eq!(r.images, 20);
    assert!(r.top5 >= r.top1 && (0.0..=100.0).contains(&r.top5));
}

#[test]
fn bf16_autocast_runs_convolutions_in_bfloat16_and_ends_with_its_region() {
    let _rng = engine::seed_exclusive(0);
    let x = Tensor::randn([2, 3, 8, 8], (Kind::Float, Device::Cpu));
    let w = Tensor::randn([4, 3, 3, 3], (Kind::Float, Device::Cpu));
    let conv = |x: &Tensor| x.conv2d(&w, None::<Tensor>, [1, 1], [1, 1], [1, 1], 1);
    {
        let _amp = Autocast::new(Precision::Bf16, Device::Cpu);
        assert!(Autocast::is_enabled(Device::Cpu));
        let y = conv(&x);
        assert_eq!(y.kind(), Kind::BFloat16);
    }
    assert!(!Autocast::is_enabled(Device::Cpu));
    assert_eq!(conv(&x).kind(), Kind::Float);
    let _fp32 = Autocast::new(Precision::Fp32, Device::Cpu);
    assert!(!Autocast::is_enabled(Device::Cpu));
}

/// Tensors by name.
type Named = Vec<(String, Tensor)>;

/// Three SGD steps on a tiny channels-last ResNet; returns the final weights and
/// momentum buffers by name, and whether the updates ran over flat buffers.
/// Starts from `init`'s weights; inputs are a fixed function, not the global RNG, which
/// tests running in parallel share.
fn three_steps(init: &VarStore, flat: bool, nesterov: bool) -> (Named, Named, bool) {
    let (mut vs, net) = build(2);
    vs.copy(init).unwrap();
    vars_to_channels_last(&vs);
    let cfg = SgdConfig {
        lr: 0.05,
        momentum: 0.9,
        weight_decay: 5e-4,
        nesterov,
    };
    let mut sgd = Sgd::for_trainable(&vs, cfg);
    if !flat {
        sgd = sgd.per_tensor();
    }
    let x = (Tensor::arange(6 * 3 * 32 * 32, (Kind::Float, Device::Cpu)) * 0.37)
        .sin()
        .view([6, 3, 32, 32]);
    let x = to_channels_last(&x);
    let y = Tensor::from_slice(&[0i64, 1, 2, 3, 4, 5]);
    for _ in 0..3 {
        sgd.zero_grad();
        net.forward_t(&x, true)
            .cross_entropy_for_logits(&y)
            .backward();
        sgd.step(0.05);
    }
    let mut weights: Named = vs.variables().into_iter().collect();
    weights.sort_by(|a, b| a.0.cmp(&b.0));
    (weights, sgd.momentum_buffers(), sgd.is_flat())
}

#[test]
fn flat_and_per_tensor_sgd_updates_agree() {
    let _rng = engine::seed_exclusive(0);
    let (init, _) = build(2);
    for nesterov in [true, false] {
        let (w_flat, m_flat, was_flat) = three_steps(&init, true, nesterov);
        let (w_each, m_each, was_each) = three_steps(&init, false, nesterov);
        assert!(was_flat && !was_each);
        assert_eq!(w_flat.len(), w_each.len());
        assert_eq!(m_flat.len(), m_each.len());
        for ((n, a), (_, b)) in w_flat.iter().zip(&w_each).chain(m_flat.iter().zip(&m_each)) {
            let diff = (a - b).abs().max().double_value(&[]);
            assert!(diff < 1e-6, "{n}: flat and per-tensor differ by {diff}");
            assert_eq!(a.stride(), b.stride(), "{n}: layout changed");
        }
    }
}

#[test]
fn sgd_leaves_flat_buffers_when_a_parameter_is_re_pointed() {
    let _rng = engine::seed_exclusive(0);
    let p = Tensor::from_slice(&[1.0f32, -2.0]).set_requires_grad(true);
    let q = Tensor::from_slice(&[0.5f32]).set_requires_grad(true);
    let cfg = SgdConfig {
        lr: 0.1,
        momentum: 0.0,
        weight_decay: 0.0,
        nesterov: false,
    };
    let mut sgd = Sgd::new(
        vec![
            ("p".into(), p.shallow_clone()),
            ("q".into(), q.shallow_clone()),
        ],
        cfg,
    );
    let loss = |p: &Tensor, q: &Tensor| (p.sum(Kind::Float) + q.sum(Kind::Float)).backward();
    sgd.zero_grad();
    loss(&p, &q);
    sgd.step(0.1);
    assert!(sgd.is_flat());
    assert!((p.double_value(&[0]) - 0.9).abs() < 1e-6);
    // Replace q's storage behind the optimizer's back: it must notice and still update q.
    tch::no_grad(|| q.shallow_clone().set_data(&Tensor::from_slice(&[10.0f32])));
    sgd.zero_grad();
    loss(&p, &q);
    sgd.step(0.1);
    assert!(!sgd.is_flat());
    assert!((q.double_value(&[0]) - 9.9).abs() < 1e-6);
    assert!((p.double_value(&[0]) - 0.8).abs() < 1e-6);
}
