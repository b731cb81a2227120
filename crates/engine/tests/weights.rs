//! Initialising a model from another model's weights by name (`load_matching`): shared
//! tensors are copied, the rest keep their init, a same-named tensor of another shape is
//! refused with its name.
use engine::{load_matching, save_weights};
use models::{ModelConfig, ResNetCifarConfig, Shortcut};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

fn tiny(inner: i64, classes: i64) -> (VarStore, ModelConfig) {
    let cfg = ModelConfig::ResnetCifar(ResNetCifarConfig {
        stages: vec![4, 6, 8],
        pad_maps: vec![],
        blocks_per_stage: 1,
        inner: vec![inner; 3],
        shortcut: Shortcut::A,
        num_classes: classes,
    });
    let vs = VarStore::new(Device::Cpu);
    cfg.build(&vs.root()).unwrap();
    (vs, cfg)
}

fn same(a: &VarStore, b: &VarStore, name: &str) -> bool {
    a.variables()[name].equal(&b.variables()[name])
}

#[test]
fn shared_tensors_are_copied_and_the_rest_keep_their_init() {
    let dir = tempfile::tempdir().unwrap();
    tch::manual_seed(1);
    let (src, _) = tiny(4, 10);
    // The source minus its classifier, plus a tensor the target does not have.
    let mut named: Vec<(String, Tensor)> = src
        .variables()
        .into_iter()
        .filter(|(n, _)| !n.starts_with("fc."))
        .collect();
    named.push((
        "classifier.0.weight".into(),
        Tensor::ones([3, 3], (Kind::Float, Device::Cpu)),
    ));
    let path = dir.path().join("backbone.safetensors");
    Tensor::write_safetensors(&named, &path).unwrap();

    tch::manual_seed(2);
    let (dst, _) = tiny(4, 5);
    let fc_before = dst.variables()["fc.weight"].copy();
    let r = load_matching(&dst, &path).unwrap();
    assert_eq!(r.ignored, ["classifier.0.weight"]);
    assert_eq!(r.kept_init, ["fc.bias", "fc.weight"]);
    assert_eq!(r.loaded.len(), named.len() - 1);
    assert!(same(&src, &dst, "conv1.weight") && same(&src, &dst, "layer3.0.bn2.running_var"));
    assert!(
        dst.variables()["fc.weight"].equal(&fc_before),
        "fc keeps its init"
    );
}

#[test]
fn a_same_named_tensor_of_another_shape_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (src, _) = tiny(4, 10);
    let path = dir.path().join("model.safetensors");
    save_weights(&src, &path, Kind::Float).unwrap();
    let (dst, _) = tiny(6, 10);
    let err = load_matching(&dst, &path).unwrap_err().to_string();
    assert!(
        err.contains("`layer1.0.bn1.bias` has shape [4], the model expects [6]")
            && err.contains("model.safetensors"),
        "{err}"
    );

    let other = dir.path().join("unrelated.safetensors");
    let t = Tensor::zeros([2], (Kind::Float, Device::Cpu));
    Tensor::write_safetensors(&[("x", t)], &other).unwrap();
    let err = load_matching(&dst, &other).unwrap_err().to_string();
    assert!(
        err.contains("no tensor has the name of a model variable"),
        "{err}"
    );
}
