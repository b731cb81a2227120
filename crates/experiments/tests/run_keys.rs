//! Run keys are stable: every published run (results/<setting>/<entry>/ with its
//! spec.resolved.yaml and summary.json) still hashes to the key it was recorded under.
//! A new spec option must keep its default out of the key (`skip_serializing_if`), or
//! rerunning an old spec would silently start over in a new run directory. Runs whose
//! named files are missing here (e.g. a data set's class list) are skipped.
use std::path::Path;

use experiments::data::resolve_root;
use experiments::inspect::model_json_path;
use experiments::run::run_key;
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
            let dir = entry.unwrap().path();
            let (spec_file, summary_file) =
                (dir.join("spec.resolved.yaml"), dir.join("summary.json"));
            if !(spec_file.is_file() && summary_file.is_file()) {
                continue;
            }
            let summary: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&summary_file).unwrap()).unwrap();
            let (Some(key), Some(seed)) = (summary["run_key"].as_str(), summary["seed"].as_u64())
            else {
                continue;
            };
            let text = std::fs::read_to_string(&spec_file).unwrap();
            let spec = Spec::parse(&text, Path::new(&spec_file)).unwrap();
            // The key hashes the files a spec names (start weights, class list, ...); a
            // run whose files are not here (a data set not prepared, VGG-16 weights that
            // are not committed) cannot be checked. A model folder counts only with the
            // file the key hashes in it.
            let prune = spec.prune.as_ref();
            let hashed = [
                spec.dataset.class_list.as_ref().map(|f| resolve_root(f)),
                spec.model.init_from.as_ref().map(|f| {
                    let p = resolve_root(f);
                    if p.is_dir() {
                        p.join("model.safetensors")
                    } else {
                        p
                    }
                }),
                prune
                    .and_then(|p| p.from.as_ref())
                    .map(|f| resolve_root(f).join("model.safetensors")),
                prune
                    .and_then(|p| p.widths_from.as_ref())
                    .map(|f| model_json_path(&resolve_root(f))),
            ];
            if hashed.iter().flatten().any(|f| !f.exists()) {
                continue;
            }
            let now = run_key(&spec, seed);
            if now != key {
                changed.push(format!("{}: recorded {key}, now {now}", dir.display()));
            }
            checked.push(dir);
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
