//! Pruning specs end to end on a tiny ResNet trained on the committed CIFAR-10 subset:
//! every method produces a smaller network whose summary records what happened.
use std::path::{Path, PathBuf};

mod common;
use common::{experiments, repo, text};

const MODEL: &str = "model:\n  arch: resnet20_cifar\n  widths: { stages: [8, 8, 8], inner: [8, 8, 8, 8, 8, 8, 8, 8, 8] }\n";

fn spec(out: &Path, name: &str, epochs: usize, prune: &str) -> String {
    format!(
        "name: {name}\n{MODEL}dataset:\n  name: cifar10\n  root: {}\n  validation_split: 100\n  train_limit: 256\ntrain:\n  epochs: {epochs}\n  batch_size: 32\n  optimizer: {{ lr: 0.05, weight_decay: 5.0e-4, nesterov: true }}\n  lr_schedule: {{ kind: cosine }}\ndevice: cpu\nthreads: 1\nseeds: [0]\noutput: {}\n{prune}",
        repo().join("fixtures/cifar10-smoke").display(),
        out.display()
    )
}

fn run(dir: &Path, name: &str, text_spec: String) -> serde_json::Value {
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text_spec).unwrap();
    let o = experiments(&[path.to_str().unwrap()]);
    assert!(o.status.success(), "{name}: {}", text(&o));
    let run_dir = std::fs::read_dir(dir.join(name))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    serde_json::from_slice(&std::fs::read(run_dir.join("summary.json")).unwrap()).unwrap()
}

fn run_dir(dir: &Path, name: &str) -> PathBuf {
    std::fs::read_dir(dir.join(name))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap()
}

#[test]
fn every_method_prunes_the_pretrained_model() {
    let tmp = tempfile::tempdir().unwrap();
    let base = run(tmp.path(), "base", spec(tmp.path(), "base", 2, ""));
    let from = run_dir(tmp.path(), "base");
    let start_macs = base["macs"].as_u64().unwrap();

    let c2s2 = format!(
        "prune:\n  method: c2s2\n  from: {}\n  c2s2:\n    lambda: 20.0\n    tolerance: 100.0\n    selection: {{ iterations: 10, lr: 0.1 }}\n    recovery: {{ iterations: 5 }}\n",
        from.display()
    );
    let s = run(tmp.path(), "c2s2", spec(tmp.path(), "c2s2", 1, &c2s2));
    let p = &s["pruning"];
    assert_eq!(s["method"], "c2s2");
    assert!(s["macs"].as_u64().unwrap() < start_macs, "{s}");
    assert_eq!(p["layers"].as_array().unwrap().len(), 9);
    assert_eq!(p["report"]["groups"].as_array().unwrap().len(), 9);
    assert!(p["start_test"]["top1"].is_number() && p["after_selection_test"]["top1"].is_number());
    assert_eq!(p["options"]["tau"], 0.5);
    // Times come from what the run checkpoints, so a resumed run reports all of them.
    let group_seconds: f64 = p["report"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["selection_seconds"].as_f64().unwrap() + g["recovery_seconds"].as_f64().unwrap())
        .sum();
    let selection = p["selection_seconds"].as_f64().unwrap();
    assert!(
        (selection - group_seconds).abs() < 1e-9,
        "{selection} vs {group_seconds}"
    );
    assert_eq!(
        p["finetune_seconds"].as_f64().unwrap(),
        s["total_train_seconds"].as_f64().unwrap(),
        "{s}"
    );

    // With the residual groups pruned too, their widths follow the nine inner layers.
    let groups = c2s2.replace(
        "    tolerance: 100.0\n",
        "    tolerance: 100.0\n    residual_groups: true\n",
    );
    let s = run(tmp.path(), "groups", spec(tmp.path(), "groups", 1, &groups));
    let layers = s["pruning"]["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 12, "{s}");
    assert_eq!(layers[9]["layer"], "layer1");
    assert!(
        layers[9..]
            .iter()
            .any(|l| l["kept"].as_i64() < l["channels"].as_i64()),
        "{s}"
    );

    let widths = "  widths: { inner: [4, 4, 4, 4, 4, 4, 4, 4, 4] }\n";
    for method in ["l1_norm", "random"] {
        let pr = format!(
            "prune:\n  method: {method}\n  from: {}\n{widths}",
            from.display()
        );
        let s = run(tmp.path(), method, spec(tmp.path(), method, 1, &pr));
        assert!(
            s["pruning"]["layers"]
                .as_array()
                .unwrap()
                .iter()
                .all(|l| l["kept"] == 4),
            "{method}: {s}"
        );
    }
    let pr = format!("prune:\n  method: slimming\n  from: {}\n  slimming: {{ sparsity: 1.0e-3, sparsity_epochs: 1, fraction: 0.5 }}\n", from.display());
    let s = run(tmp.path(), "slimming", spec(tmp.path(), "slimming", 1, &pr));
    let kept: i64 = s["pruning"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kept"].as_i64().unwrap())
        .sum();
    assert_eq!(
        kept, 36,
        "half of 72 channels go by the global threshold: {s}"
    );
    assert!(
        s["pruning"]["report"]["sparsity_phase_from"].is_null(),
        "{s}"
    );

    // Another budget in the same spec folder copies the finished sparsity phase instead
    // of training it again, and ends exactly where computing the phase itself ends.
    let quarter = pr.replace("fraction: 0.5", "fraction: 0.25");
    let first = run_dir(tmp.path(), "slimming");
    let path = tmp.path().join("slimming_quarter.yaml");
    std::fs::write(&path, spec(tmp.path(), "slimming", 1, &quarter)).unwrap();
    let o = experiments(&[path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let shared_dir = std::fs::read_dir(tmp.path().join("slimming"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir() && *p != first)
        .unwrap();
    let shared: serde_json::Value =
        serde_json::from_slice(&std::fs::read(shared_dir.join("summary.json")).unwrap()).unwrap();
    let fresh = run(
        tmp.path(),
        "slimming_fresh",
        spec(tmp.path(), "slimming_fresh", 1, &quarter),
    );
    assert_eq!(
        shared["pruning"]["report"]["sparsity_phase_from"],
        first.file_name().unwrap().to_str().unwrap(),
        "{shared}"
    );
    assert!(fresh["pruning"]["report"]["sparsity_phase_from"].is_null());
    let losses = |s: &serde_json::Value| -> Vec<(serde_json::Value, serde_json::Value)> {
        s["pruning"]["report"]["sparsity_history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["train_loss"].clone(), m["val_top1"].clone()))
            .collect()
    };
    assert_eq!(losses(&shared), losses(&fresh));
    assert_eq!(shared["pruning"]["layers"], fresh["pruning"]["layers"]);
    assert_eq!(shared["test"], fresh["test"], "copied phase, same result");

    // Uniform L1-norm: one keep ratio in all nine inner layers, sized so that at least
    // 40% of the MACs go.
    let pr = format!(
        "prune:\n  method: uniform_l1_norm\n  from: {}\n  uniform: {{ macs_pruned_pct: 40.0 }}\n",
        from.display()
    );
    let s = run(tmp.path(), "uniform", spec(tmp.path(), "uniform", 1, &pr));
    assert_eq!(s["method"], "uniform_l1_norm");
    let p = &s["pruning"];
    let removed = 100.0 * (1.0 - s["macs"].as_f64().unwrap() / p["start_macs"].as_f64().unwrap());
    assert!((40.0..50.0).contains(&removed), "{removed}% removed: {s}");
    let r = p["report"]["keep_ratio"].as_f64().unwrap();
    for l in p["layers"].as_array().unwrap() {
        let (c, k) = (l["channels"].as_f64().unwrap(), l["kept"].as_f64().unwrap());
        assert_eq!(k, (r * c).round().max(1.0), "{l} at keep ratio {r}");
    }

    // bench-latency times the unpruned and the pruned folder side by side and records
    // how busy the machine was meanwhile.
    let csv = tmp.path().join("latency.csv");
    let o = experiments(&[
        "bench-latency",
        from.to_str().unwrap(),
        run_dir(tmp.path(), "c2s2").to_str().unwrap(),
        "--batches",
        "2",
        "--repeats",
        "3",
        "--warmup",
        "1",
        "--layout",
        "nchw",
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let rows = analysis::latency::read_latency_csv(&csv).unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows[1].macs < rows[0].macs);
    for r in &rows {
        assert!(r.median_ms > 0.0 && r.p25_ms <= r.median_ms && r.median_ms <= r.p75_ms);
        if cfg!(target_os = "linux") {
            let pct = r.others_load_pct.expect("load measured on Linux");
            assert!((0.0..=100.0).contains(&pct), "{pct}");
        }
    }

    // Scratch takes the widths C2S2 found.
    let pr = format!(
        "prune:\n  method: scratch\n  widths_from: {}\n",
        run_dir(tmp.path(), "c2s2").display()
    );
    let s = run(tmp.path(), "scratch", spec(tmp.path(), "scratch", 1, &pr));
    assert_eq!(
        s["model"],
        serde_json::from_slice::<serde_json::Value>(
            &std::fs::read(run_dir(tmp.path(), "c2s2").join("model.json")).unwrap()
        )
        .unwrap()
    );
    assert!(s["pruning"]["start_test"].is_null());

    // New target widths in the widths_from file make a new run, never a stale reuse.
    let widths = tmp.path().join("widths.json");
    let c2s2_widths =
        std::fs::read_to_string(run_dir(tmp.path(), "c2s2").join("model.json")).unwrap();
    std::fs::write(&widths, &c2s2_widths).unwrap();
    let pr = format!(
        "prune:\n  method: scratch\n  widths_from: {}\n",
        widths.display()
    );
    let path = tmp.path().join("scratch2.yaml");
    std::fs::write(&path, spec(tmp.path(), "scratch2", 1, &pr)).unwrap();
    let o = experiments(&[path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let mut cfg: serde_json::Value = serde_json::from_str(&c2s2_widths).unwrap();
    cfg["inner"][0] = 2.into();
    std::fs::write(&widths, cfg.to_string()).unwrap();
    let o = experiments(&[path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let runs = std::fs::read_dir(tmp.path().join("scratch2"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert_eq!(runs, 2, "changed widths_from reused the old run");
}

#[test]
fn a_model_folder_that_does_not_fit_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    run(tmp.path(), "base", spec(tmp.path(), "base", 1, ""));
    let from = run_dir(tmp.path(), "base");
    // The folder's widths disagree with the spec's model: model.json says 6 channels.
    let bad = tmp.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::copy(
        from.join("model.safetensors"),
        bad.join("model.safetensors"),
    )
    .unwrap();
    let json = std::fs::read_to_string(from.join("model.json")).unwrap();
    let spec_text = spec(tmp.path(), "p", 1, &format!("prune:\n  method: l1_norm\n  from: {}\n  widths: {{ inner: [4, 4, 4, 4, 4, 4, 4, 4, 4] }}\n", bad.display()));
    std::fs::write(bad.join("model.json"), json.replace("8,", "6,")).unwrap();
    let path = tmp.path().join("p.yaml");
    std::fs::write(&path, &spec_text).unwrap();
    let o = experiments(&[path.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(text(&o).contains("bad/model.json"), "{}", text(&o));

    // A record without its weights (large models are committed only once final): the
    // error names the missing file and the spec that produces it.
    let bare = tmp.path().join("bare");
    std::fs::create_dir_all(&bare).unwrap();
    for f in ["model.json", "summary.json"] {
        std::fs::copy(from.join(f), bare.join(f)).unwrap();
    }
    let spec_text = spec(tmp.path(), "p", 1, &format!("prune:\n  method: l1_norm\n  from: {}\n  widths: {{ inner: [4, 4, 4, 4, 4, 4, 4, 4, 4] }}\n", bare.display()));
    std::fs::write(&path, &spec_text).unwrap();
    let o = experiments(&[path.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("bare/model.safetensors is missing") && text(&o).contains("(`base`)"),
        "{}",
        text(&o)
    );

    // Bad prune options are spec errors with the field path.
    let bad_tau = spec(
        tmp.path(),
        "q",
        1,
        &format!(
            "prune:\n  method: c2s2\n  from: {}\n  c2s2: {{ tau: 1.5 }}\n",
            from.display()
        ),
    );
    std::fs::write(&path, bad_tau).unwrap();
    let o = experiments(&["validate", path.to_str().unwrap()]);
    assert!(
        !o.status.success() && text(&o).contains("prune.c2s2.tau"),
        "{}",
        text(&o)
    );
    let neg_tol = spec(
        tmp.path(),
        "q",
        1,
        &format!(
            "prune:\n  method: c2s2\n  from: {}\n  c2s2: {{ tolerance: -1 }}\n",
            from.display()
        ),
    );
    std::fs::write(&path, neg_tol).unwrap();
    let o = experiments(&["validate", path.to_str().unwrap()]);
    assert!(
        !o.status.success() && text(&o).contains("prune.c2s2.tolerance"),
        "{}",
        text(&o)
    );
    let unknown_layer = spec(
        tmp.path(),
        "q",
        1,
        &format!(
            "prune:\n  method: c2s2\n  from: {}\n  c2s2: {{ layers: [layer7.0.conv1] }}\n",
            from.display()
        ),
    );
    std::fs::write(&path, unknown_layer).unwrap();
    let o = experiments(&[path.to_str().unwrap()]);
    assert!(
        !o.status.success() && text(&o).contains("layer7.0.conv1"),
        "{}",
        text(&o)
    );
    let grow = spec(tmp.path(), "q", 1, &format!("prune:\n  method: l1_norm\n  from: {}\n  widths: {{ inner: [9, 4, 4, 4, 4, 4, 4, 4, 4] }}\n", from.display()));
    std::fs::write(&path, grow).unwrap();
    let o = experiments(&["validate", path.to_str().unwrap()]);
    assert!(
        !o.status.success() && text(&o).contains("prune.widths"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_c2s2_run_killed_before_a_group_commits_resumes_to_the_same_weights() {
    let tmp = tempfile::tempdir().unwrap();
    run(tmp.path(), "base", spec(tmp.path(), "base", 1, ""));
    let from = run_dir(tmp.path(), "base");
    let c2s2 = format!(
        "prune:\n  method: c2s2\n  from: {}\n  c2s2:\n    lambda: 20.0\n    tolerance: 100.0\n    selection: {{ iterations: 10, lr: 0.1 }}\n    recovery: {{ iterations: 5 }}\n",
        from.display()
    );
    let straight = tmp.path().join("straight");
    std::fs::create_dir_all(&straight).unwrap();
    run(&straight, "c2s2", spec(&straight, "c2s2", 1, &c2s2));
    let reference = std::fs::read(run_dir(&straight, "c2s2").join("model.safetensors")).unwrap();

    // Aborted at its third save (the third group's state), after the group's weights
    // reached the disk and before its manifest did: as a kill between the two would.
    let killed = tmp.path().join("killed");
    let path = tmp.path().join("killed.yaml");
    std::fs::write(&path, spec(&killed, "c2s2", 1, &c2s2)).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_experiments"))
        .arg(&path)
        .current_dir(repo())
        .env("RUST_LOG", "warn")
        .env("ENGINE_FAULT", "before-commit:3")
        .output()
        .unwrap();
    assert!(
        !o.status.success(),
        "the fault did not stop the run: {}",
        text(&o)
    );
    let state = run_dir(&killed, "c2s2").join("c2s2");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.join("state.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["state"]["report"]["groups"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(
        state.join("model.3.safetensors").is_file(),
        "uncommitted weights on disk"
    );

    let o = experiments(&[path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let resumed = std::fs::read(run_dir(&killed, "c2s2").join("model.safetensors")).unwrap();
    assert!(
        resumed == reference,
        "the resumed C2S2 run differs from the uninterrupted one"
    );
}
