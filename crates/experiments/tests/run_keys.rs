//! Run keys are stable: every published run (results/<setting>/<entry>/ and its `seed*/`
//! folders, with spec.resolved.yaml and summary.json) still hashes to the key it was
//! recorded under.
//! A new spec option must keep its default out of the key (`skip_serializing_if`), or
//! rerunning an old spec would silently start over in a new run directory. Runs whose
//! named files are missing here (e.g. a data set's class list) are skipped.
use std::path::Path;

use experiments::run_key::{hashed_inputs, run_key};
use experiments::spec::Spec;

mod common;
use common::repo;

#[test]
fn published_runs_keep_their_run_keys() {
    let mut checked = Vec::new();
    let mut changed = Vec::new();
    for setting in std::fs::read_dir(repo().join("results")).unwrap() {
        let setting = setting.unwrap().path();
        let Ok(entries) = std::fs::read_dir(&setting) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap().path();
            // The entry's root run and the further seeds in its `seed*/` folders.
            let mut dirs = vec![entry.clone()];
            if let Ok(subs) = std::fs::read_dir(&entry) {
                dirs.extend(
                    subs.map(|s| s.unwrap().path())
                        .filter(|s| s.file_name().unwrap().to_string_lossy().starts_with("seed")),
                );
            }
            for dir in dirs {
                let (spec_file, summary_file) =
                    (dir.join("spec.resolved.yaml"), dir.join("summary.json"));
                if !(spec_file.is_file() && summary_file.is_file()) {
                    continue;
                }
                let summary: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&summary_file).unwrap()).unwrap();
                let (Some(key), Some(seed)) =
                    (summary["run_key"].as_str(), summary["seed"].as_u64())
                else {
                    continue;
                };
                let text = std::fs::read_to_string(&spec_file).unwrap();
                let spec = Spec::parse(&text, Path::new(&spec_file)).unwrap();
                // The key hashes the files a spec names (start weights, class list, ...); a
                // run whose files are not here (a data set not prepared, VGG-16 weights that
                // are not committed) cannot be checked.
                if hashed_inputs(&spec).paths().any(|f| !f.exists()) {
                    continue;
                }
                let now = run_key(&spec, seed);
                if now != key {
                    changed.push(format!("{}: recorded {key}, now {now}", dir.display()));
                }
                checked.push(dir);
            }
        }
    }
    assert!(
        checked.len() >= 5,
        "expected the published ResNet-20 runs, found {checked:?}"
    );
    assert!(
        changed.is_empty(),
        "run keys changed:\n{}",
        changed.join("\n")
    );
}

/// The key follows the content of the files `hashed_inputs` names: new start weights
/// (a retrained model) give a new run directory, the same bytes the same one.
#[test]
fn run_key_follows_the_start_weights() {
    let dir = std::env::temp_dir().join(format!("run_keys_{}", std::process::id()));
    let from = dir.join("pretrained");
    std::fs::create_dir_all(&from).unwrap();
    let weights = from.join("model.safetensors");
    let text =
        std::fs::read_to_string(repo().join("results/resnet20_cifar10/l1_norm/spec.resolved.yaml"))
            .unwrap()
            .replace(
                "from: results/resnet20_cifar10/pretrained",
                &format!("from: {}", from.display()),
            );
    let spec = Spec::parse(&text, Path::new("test.yaml")).unwrap();
    let named: Vec<_> = hashed_inputs(&spec)
        .paths()
        .map(Path::to_path_buf)
        .collect();
    assert!(named.contains(&weights), "{named:?}");

    std::fs::write(&weights, b"first weights").unwrap();
    let first = run_key(&spec, 0);
    assert_eq!(first, run_key(&spec, 0));
    std::fs::write(&weights, b"other weights").unwrap();
    let other = run_key(&spec, 0);
    assert_ne!(first, other);
    assert_ne!(other, run_key(&spec, 1), "the seed is part of the key");
    std::fs::remove_dir_all(&dir).unwrap();
}
