//! The `experiments` binary end to end: spec lookup, validation exit codes, a run killed
//! with SIGKILL and resumed to the same weights, and finished runs reported without
//! recomputing.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{experiments, repo, text};

/// A tiny ResNet on 256 images of the committed CIFAR-10 subset: a few seconds.
fn tiny_spec(out: &Path, name: &str) -> String {
    format!(
        "name: {name}
model:
  arch: resnet20_cifar
  widths: {{ stages: [4, 8, 8], inner: [4, 4, 4, 4, 4, 4, 4, 4, 4] }}
dataset:
  name: cifar10
  root: {}
  validation_split: 100
  train_limit: 256
train:
  epochs: 4
  batch_size: 32
  optimizer: {{ lr: 0.05, weight_decay: 5.0e-4, nesterov: true }}
  lr_schedule: {{ kind: cosine }}
device: cpu
threads: 1
seeds: [3]
output: {}
",
        repo().join("fixtures/cifar10-smoke").display(),
        out.display()
    )
}

#[test]
fn validate_finds_bare_names_and_rejects_bad_specs() {
    for arg in ["smoke.yaml", "smoke", "experiments/smoke.yaml"] {
        let o = experiments(&["validate", arg]);
        assert!(o.status.success(), "{arg}: {}", text(&o));
    }
    // Without its data set on this machine, a thesis spec passes the text checks only.
    for arg in ["vgg_cifar10", "experiments/resnet20_cifar10.yaml"] {
        let o = experiments(&["validate", "--no-files", arg]);
        assert!(o.status.success(), "{arg}: {}", text(&o));
    }
    let o = experiments(&["validate", "no_such_spec"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("no_such_spec"), "{}", text(&o));

    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(
        &bad,
        tiny_spec(tmp.path(), "bad").replace("epochs: 4", "epochs: -4"),
    )
    .unwrap();
    let o = experiments(&["validate", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.contains("bad.yaml") && t.contains("train.epochs"), "{t}");
}

#[test]
fn models_prints_reference_counts() {
    let o = experiments(&["models"]);
    let t = text(&o);
    assert!(o.status.success());
    for n in [
        "14,987,722",
        "313,463,808",
        "269,722",
        "40,551,040",
        "272,474",
        "11,689,512",
        "1,814,073,344",
    ] {
        assert!(t.contains(n), "missing {n} in\n{t}");
    }
}

fn run_dir(out: &Path, name: &str) -> PathBuf {
    let d = out.join(name);
    std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap()
}

#[test]
fn killed_run_resumes_to_the_same_weights_and_finished_runs_are_reused() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("tiny.yaml");
    std::fs::write(&spec, tiny_spec(tmp.path(), "tiny")).unwrap();
    let spec_s = spec.to_str().unwrap();

    // Uninterrupted reference run.
    let o = experiments(&[spec_s]);
    assert!(o.status.success(), "{}", text(&o));
    let reference = std::fs::read(run_dir(tmp.path(), "tiny").join("model.safetensors")).unwrap();
    std::fs::remove_dir_all(tmp.path().join("tiny")).unwrap();

    // The same run, killed with SIGKILL once its first checkpoint exists.
    let mut child = Command::new(env!("CARGO_BIN_EXE_experiments"))
        .arg(spec_s)
        .current_dir(repo())
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let start = Instant::now();
    let state = loop {
        if let Ok(e) = std::fs::read_dir(tmp.path().join("tiny")) {
            if let Some(d) = e
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .find(|p| p.join("checkpoint/state.json").exists())
            {
                break d.join("checkpoint/state.json");
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no checkpoint appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let done: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    let epochs_done = done["state"]["epochs_done"].as_u64().unwrap();
    let dir = run_dir(tmp.path(), "tiny");
    assert!(!dir.join("summary.json").exists() || epochs_done == 4);

    let o = experiments(&[spec_s]);
    assert!(o.status.success(), "{}", text(&o));
    let resumed = std::fs::read(dir.join("model.safetensors")).unwrap();
    assert!(
        resumed == reference,
        "resumed run (killed after {epochs_done} epochs) differs from the uninterrupted one"
    );

    // Finished: a second call reports without recomputing (summary untouched).
    let before = std::fs::metadata(dir.join("summary.json"))
        .unwrap()
        .modified()
        .unwrap();
    let o = experiments(&[spec_s]);
    assert!(o.status.success());
    assert!(text(&o).contains("| tiny | unpruned | 3 |"), "{}", text(&o));
    assert_eq!(
        std::fs::metadata(dir.join("summary.json"))
            .unwrap()
            .modified()
            .unwrap(),
        before
    );
    for f in [
        "spec.resolved.yaml",
        "metrics.csv",
        "model.json",
        "checkpoint/state.json",
        "checkpoint/checkpoint.4.safetensors",
    ] {
        assert!(dir.join(f).is_file(), "missing {f}");
    }

    // The records are what `report` reads: the engine's metrics.csv parses with the
    // analysis crate's schema, and publish + report turn the run into a table row.
    let summary = analysis::record::Summary::read(&dir.join("summary.json")).unwrap();
    let metrics = analysis::record::read_metrics(&dir.join("metrics.csv")).unwrap();
    assert_eq!(metrics.len(), summary.epochs);
    assert!(metrics.iter().all(|m| m.val_top1.is_some()));
    // The machine and the day the run finished, beside its timings.
    let host = summary.host.as_ref().expect("the record names its machine");
    assert!(!host.cpu_model.is_empty() && host.cpus >= 1, "{host:?}");
    assert!(host.finished_utc.starts_with("20") && host.finished_utc.ends_with('Z'));
    let results = tmp.path().join("results");
    let entry = results.join("resnet20_cifar10/pretrained");
    let o = experiments(&["publish", dir.to_str().unwrap(), entry.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let published = repo().join("paper/published.csv");
    let o = experiments(&[
        "report",
        "--results",
        results.to_str().unwrap(),
        "--published",
        published.to_str().unwrap(),
        "--setting",
        "resnet20_cifar10",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let table = std::fs::read_to_string(results.join("resnet20_cifar10/table.csv")).unwrap();
    let row = format!(
        "unpruned,,measured,cpu-{},1,{:.2},",
        summary.schedule, summary.test.top1
    );
    assert!(table.lines().nth(1).unwrap().starts_with(&row), "{table}");
    assert!(results
        .join("resnet20_cifar10/plots/curves_pretrained.png")
        .is_file());
    let o = experiments(&["report", "--setting", "mnist"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("--setting mnist: unknown"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_missing_data_set_fails_cleanly_and_names_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("nodata.yaml");
    let text_spec =
        tiny_spec(tmp.path(), "nodata").replace("fixtures/cifar10-smoke", "fixtures/not-there");
    std::fs::write(&spec, text_spec).unwrap();
    let o = experiments(&[spec.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(
        t.contains("not-there") && t.contains("dataset.root") && t.contains("prepare-data.sh"),
        "{t}"
    );
    // Refused before anything was written.
    assert!(!tmp.path().join("nodata").exists());
}

#[test]
fn init_weights_of_another_shape_fail_cleanly_and_name_the_tensor() {
    let tmp = tempfile::tempdir().unwrap();
    let weights = tmp.path().join("backbone.safetensors");
    let t = tch::Tensor::zeros([3, 3, 3, 3], (tch::Kind::Float, tch::Device::Cpu));
    tch::Tensor::write_safetensors(&[("conv1.weight", t)], &weights).unwrap();
    let yaml = tiny_spec(tmp.path(), "badinit").replace(
        "  arch: resnet20_cifar\n",
        &format!(
            "  arch: resnet20_cifar\n  init_from: {}\n",
            weights.display()
        ),
    );
    let spec = tmp.path().join("badinit.yaml");
    std::fs::write(&spec, yaml).unwrap();
    let o = experiments(&[spec.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("model.init_from") && t.contains("`conv1.weight` has shape [3, 3, 3, 3]"),
        "{t}"
    );
}

#[test]
fn a_missing_file_is_named_once_with_its_cause_once() {
    let tmp = tempfile::tempdir().unwrap();
    let published = tmp.path().join("published.csv");
    let o = experiments(&[
        "report",
        "--results",
        tmp.path().to_str().unwrap(),
        "--published",
        published.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.contains("published.csv"), "{t}");
    // The I/O cause is printed by the library error and exposed as its source; the CLI
    // must not print it twice.
    assert_eq!(t.matches("No such file or directory").count(), 1, "{t}");
}

#[test]
fn channel_costs_prints_each_layers_share_and_rejects_unknown_metrics() {
    let model = repo().join("results/resnet20_cifar10/pretrained");
    let o = experiments(&["channel-costs", model.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = text(&o);
    // Stage 1: 2 x 16 x 9 x 32 x 32 MACs per channel, 16/9 of the mean over nine layers.
    assert!(
        t.contains("| layer1.0.conv1 | 16 | 294912.000000 | 1.778 |"),
        "{t}"
    );
    assert_eq!(t.matches("conv1 |").count(), 9, "{t}");
    let o = experiments(&[
        "channel-costs",
        model.to_str().unwrap(),
        "--metric",
        "flops",
    ]);
    // A usage error (clap's exit code 2) naming the option, the value and the choices.
    assert_eq!(o.status.code(), Some(2));
    let t = text(&o);
    assert!(
        t.contains("'flops'") && t.contains("--metric") && t.contains("latency"),
        "{t}"
    );
}

#[test]
fn bench_train_step_times_a_pruned_model_folder() {
    let model = repo().join("results/resnet20_cifar10/c2s2");
    let o = experiments(&[
        "bench",
        "train-step",
        "--model",
        model.to_str().unwrap(),
        "--batch",
        "4",
        "--iters",
        "2",
        "--warmup",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let line = String::from_utf8_lossy(&o.stdout);
    let v: serde_json::Value = serde_json::from_str(line.trim()).expect("one JSON line");
    assert!(v["step_ms"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["model"].as_str().unwrap().ends_with("c2s2"), "{v}");
    // Neither a known name nor an existing folder.
    let o = experiments(&["bench", "train-step", "--model", "resnet21"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("a model folder"), "{}", text(&o));
}

#[test]
fn bench_latency_times_the_models_of_settings_and_writes_each_latency_csv() {
    let tmp = tempfile::tempdir().unwrap();
    // A copy of the published ResNet-20 and ablation records: their latency files are
    // rewritten, the committed ones stay as they are.
    for s in ["resnet20_cifar10", "ablations"] {
        let dst = tmp.path().join(s);
        std::fs::create_dir_all(&dst).unwrap();
        for e in std::fs::read_dir(repo().join("results").join(s))
            .unwrap()
            .flatten()
        {
            let d = e.path();
            if d.join("model.safetensors").is_file() {
                let to = dst.join(e.file_name());
                std::fs::create_dir_all(&to).unwrap();
                for f in ["model.json", "model.safetensors"] {
                    std::fs::copy(d.join(f), to.join(f)).unwrap();
                }
            }
        }
    }
    let o = experiments(&[
        "bench-latency",
        "--setting",
        "resnet20_cifar10",
        "--setting",
        "ablations",
        "--results",
        tmp.path().to_str().unwrap(),
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--batches",
        "1",
        "--layout",
        "channels-last",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let rows = |s: &str| -> Vec<String> {
        std::fs::read_to_string(tmp.path().join(s).join("latency.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect()
    };
    let abl = rows("ablations");
    let base = tmp.path().join("resnet20_cifar10");
    // The ablations are compared with the base setting's unpruned and C2S2 models.
    assert!(
        abl.contains(&base.join("pretrained").display().to_string()),
        "{abl:?}"
    );
    assert!(
        abl.contains(&base.join("c2s2").display().to_string()),
        "{abl:?}"
    );
    assert!(
        !abl.contains(&base.join("random").display().to_string()),
        "{abl:?}"
    );
    let own = rows("resnet20_cifar10");
    assert!(
        own.len() >= 9
            && own
                .iter()
                .all(|d| d.starts_with(&base.display().to_string())),
        "{own:?}"
    );
}

#[test]
fn every_committed_spec_and_study_parses() {
    let mut n = 0;
    for e in std::fs::read_dir(repo().join("experiments"))
        .unwrap()
        .flatten()
    {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "yaml") {
            let o = experiments(&["validate", "--no-files", p.to_str().unwrap()]);
            assert!(o.status.success(), "{}: {}", p.display(), text(&o));
            n += 1;
        }
    }
    assert!(n >= 10, "only {n} specs found");
}
