//! Studies end to end on a tiny ResNet and the committed CIFAR-10 subset: the graph a
//! study expands into, the local executor with two workers, publishing and the table,
//! a worker killed with SIGKILL, a run being computed as `plan` shows it, two processes
//! wanting one run, a failing run.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use experiments::study::{RunGraph, Source, Study};

mod common;
use common::{repo, text};

const MODEL: &str = "model:\n  arch: resnet20_cifar\n  widths: { stages: [8, 8, 8], inner: [8, 8, 8, 8, 8, 8, 8, 8, 8] }\n";

/// A study of a tiny ResNet: shared parts, then `entries` (YAML, indented by 2).
fn study_text(root: &Path, train_limit: usize, entries: &str) -> String {
    format!(
        "name: tiny\nstudy:\n  setting: resnet20_cifar10\n  results: {results}\n{MODEL}dataset:\n  name: cifar10\n  root: {data}\n  validation_split: 100\n  train_limit: {train_limit}\ntrain:\n  epochs: 1\n  batch_size: 32\n  optimizer: {{ lr: 0.05, weight_decay: 5.0e-4, nesterov: true }}\n  lr_schedule: {{ kind: cosine }}\ndevice: cpu\nthreads: 1\nseeds: [0]\noutput: {runs}\nentries:\n{entries}",
        results = root.join("results").display(),
        data = repo().join("fixtures/cifar10-smoke").display(),
        runs = root.join("runs").display(),
    )
}

const C2S2: &str = "c2s2: { lambda: 20.0, tolerance: 100.0, selection: { iterations: 10, lr: 0.1 }, recovery: { iterations: 5 } }";

/// Pre-training, C2S2, L1-norm at C2S2's widths (two seeds), Network Slimming at its
/// MACs: three waves.
fn table_entries() -> String {
    format!(
        "  pretrained:\n    train: {{ epochs: 2 }}\n  c2s2:\n    prune: {{ method: c2s2, from: pretrained, {C2S2} }}\n  l1_norm:\n    seeds: [0, 1]\n    prune: {{ method: l1_norm, from: pretrained, widths_from: c2s2 }}\n  slimming:\n    prune: {{ method: slimming, from: pretrained, macs_from: c2s2, slimming: {{ sparsity_epochs: 1 }} }}\n"
    )
}

fn write_study(root: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(root).unwrap();
    let p = root.join("study.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

fn experiments(args: &[&str], log: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_experiments"))
        .args(args)
        .current_dir(repo())
        .env("RUST_LOG", log)
        .output()
        .unwrap()
}

fn plan(study: &Path) -> String {
    let o = experiments(&["plan", study.to_str().unwrap()], "warn");
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The state of `run` in a plan: its line after the method and estimate columns.
fn state_of<'a>(plan: &'a str, run: &str) -> &'a str {
    let line = plan
        .lines()
        .find(|l| l.split_whitespace().next() == Some(run))
        .unwrap_or_else(|| panic!("no {run} in\n{plan}"));
    [
        "done",
        "resumable",
        "running now",
        "ready",
        "waiting",
        "blocked",
        "finished",
    ]
    .into_iter()
    .find(|s| line.contains(&format!("  {s}")))
    .unwrap_or(line)
}

#[test]
fn a_study_expands_into_runs_that_follow_variants_and_seeds() {
    let root = tempfile::tempdir().unwrap();
    let entries = format!(
        "  pretrained:\n    train: {{ epochs: 2 }}\n  c2s2:\n    seeds: [0, 1]\n    prune: {{ method: c2s2, from: pretrained, {C2S2} }}\n    variants:\n      light: {{ prune: {{ c2s2: {{ lambda: 5.0 }} }} }}\n      heavy: {{ seeds: [0], prune: {{ c2s2: {{ lambda: 40.0 }} }} }}\n  random:\n    seeds: [0, 1]\n    prune: {{ method: random, from: pretrained, widths_from: c2s2 }}\n  l1_norm:\n    prune: {{ method: l1_norm, from: pretrained, widths_from: c2s2 }}\n"
    );
    let file = write_study(root.path(), &study_text(root.path(), 256, &entries));
    let g = RunGraph::new(Study::load(&file).unwrap());
    let ids: Vec<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "pretrained/seed0",
            "c2s2-light/seed0",
            "c2s2-light/seed1",
            "c2s2-heavy/seed0",
            "random-light/seed0",
            "random-light/seed1",
            "random-heavy/seed0",
            "random-heavy/seed1",
            // No seeds of its own: each point's seeds, as the source's point runs them.
            "l1_norm-light/seed0",
            "l1_norm-light/seed1",
            "l1_norm-heavy/seed0",
        ]
    );
    let idx = |id: &str| g.find(id).unwrap();
    // Same variant, same seed where the source runs it, else the source's first seed.
    let src = |id: &str| g.nodes[idx(id)].widths_from.clone();
    assert_eq!(
        src("random-light/seed1"),
        Some(Source::Node(idx("c2s2-light/seed1")))
    );
    assert_eq!(
        src("random-heavy/seed1"),
        Some(Source::Node(idx("c2s2-heavy/seed0")))
    );
    // Further seeds publish below the point's folder; the variant's options apply.
    let setting = root.path().join("results/resnet20_cifar10");
    assert_eq!(
        g.published_dir(idx("c2s2-light/seed1")),
        setting.join("c2s2-light/seed1")
    );
    let spec = g.spec(idx("c2s2-heavy/seed0")).unwrap();
    let p = spec.prune.unwrap();
    assert_eq!(p.from.unwrap(), setting.join("pretrained"));
    assert_eq!(p.c2s2.unwrap().lambda, 40.0);
    let spec = g.spec(idx("random-heavy/seed1")).unwrap();
    assert_eq!(
        spec.prune.unwrap().widths_from.unwrap(),
        setting.join("c2s2-heavy/model.json")
    );
    assert_eq!(spec.name, "tiny_random-heavy");
    assert_eq!(spec.seeds, [1]);
    // Waves: pre-training, then C2S2, then the baselines.
    let all: Vec<usize> = (0..g.nodes.len()).collect();
    assert_eq!(g.waves(&all).len(), 3);
}

#[test]
fn a_study_runs_with_two_workers_publishes_and_writes_its_table() {
    let root = tempfile::tempdir().unwrap();
    let file = write_study(root.path(), &study_text(root.path(), 256, &table_entries()));
    let before = plan(&file);
    assert_eq!(state_of(&before, "pretrained/seed0"), "ready", "{before}");
    assert_eq!(state_of(&before, "c2s2/seed0"), "waiting", "{before}");
    assert!(before.contains("5 runs: 0 done, 5 to run"), "{before}");

    let started = Instant::now();
    let o = experiments(&[file.to_str().unwrap(), "--jobs", "2"], "warn");
    assert!(o.status.success(), "{}", text(&o));
    println!(
        "tiny study, 5 runs, --jobs 2: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let out = text(&o);
    assert!(out.contains("[worker 2]"), "two workers ran: {out}");

    let setting = root.path().join("results/resnet20_cifar10");
    for d in ["pretrained", "c2s2", "l1_norm", "l1_norm/seed1", "slimming"] {
        for f in [
            "summary.json",
            "model.safetensors",
            "model.json",
            "spec.resolved.yaml",
        ] {
            assert!(setting.join(d).join(f).is_file(), "{d}/{f} not published");
        }
    }
    // Network Slimming was sized to the MACs C2S2 removed.
    let read = |d: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(setting.join(d).join("summary.json")).unwrap())
            .unwrap()
    };
    let c2s2 = read("c2s2");
    let removed = 100.0
        * (1.0 - c2s2["macs"].as_f64().unwrap() / c2s2["pruning"]["start_macs"].as_f64().unwrap());
    let asked = read("slimming")["pruning"]["options"]["macs_pruned_pct"]
        .as_f64()
        .unwrap();
    assert!((asked - removed).abs() < 0.01, "{asked} vs {removed}");
    assert_eq!(
        read("l1_norm")["model"],
        c2s2["model"],
        "L1-norm at C2S2's widths"
    );

    let table = std::fs::read_to_string(setting.join("table.md")).unwrap();
    for row in [
        "| unpruned |  | measured",
        "| C2S2 | c2s2 | measured",
        "| L1-norm | c2s2 | measured",
        // Sized to C2S2's MACs: matched to its point by the share removed.
        "| Network Slimming | c2s2 | measured",
    ] {
        assert!(table.contains(row), "no `{row}` in\n{table}");
    }
    let after = plan(&file);
    assert!(after.contains("5 runs: 5 done, 0 to run"), "{after}");
    // Again: nothing is recomputed, the table is rewritten the same.
    let o = experiments(&[file.to_str().unwrap(), "--jobs", "2"], "warn");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("0 runs computed now"), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(setting.join("table.md")).unwrap(),
        table
    );
}

/// Processes whose command line holds `needle`.
fn pids_with(needle: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(needle) {
            out.push(pid);
        }
    }
    out
}

/// The most epochs a checkpoint of the runs under `<output>/<spec name>/` holds.
fn epochs_done(spec_dir: &Path) -> u64 {
    let Ok(runs) = std::fs::read_dir(spec_dir) else {
        return 0;
    };
    runs.flatten()
        .filter_map(|r| std::fs::read(r.path().join("checkpoint/state.json")).ok())
        .filter_map(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .filter_map(|v| v["state"]["epochs_done"].as_u64())
        .max()
        .unwrap_or(0)
}

#[test]
fn a_worker_killed_mid_run_resumes_to_the_weights_of_an_uninterrupted_run() {
    // Two independent trainings, so two workers run side by side.
    let entries = "  pretrained:\n    train: { epochs: 6 }\n  other:\n    seeds: [3]\n    train: { epochs: 2 }\n";
    let reference = tempfile::tempdir().unwrap();
    let file = write_study(
        reference.path(),
        &study_text(reference.path(), 1500, entries),
    );
    let o = experiments(&[file.to_str().unwrap(), "--jobs", "2"], "warn");
    assert!(o.status.success(), "{}", text(&o));
    let weights = |root: &Path| {
        std::fs::read(root.join("results/resnet20_cifar10/pretrained/model.safetensors")).unwrap()
    };
    let want = weights(reference.path());

    let killed = tempfile::tempdir().unwrap();
    let file = write_study(killed.path(), &study_text(killed.path(), 1500, entries));
    let parent = Command::new(env!("CARGO_BIN_EXE_experiments"))
        .args([file.to_str().unwrap(), "--jobs", "2"])
        .current_dir(repo())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Kill pretrained's worker once it has checkpointed an epoch, before it finishes.
    let runs = killed.path().join("runs");
    let deadline = Instant::now() + Duration::from_secs(300);
    let needle = format!("run-one {} pretrained/seed0", file.display());
    loop {
        assert!(Instant::now() < deadline, "the worker never checkpointed");
        if epochs_done(&runs.join("tiny_pretrained")) >= 1 {
            let pids = pids_with(&needle);
            assert_eq!(pids.len(), 1, "one worker for pretrained: {pids:?}");
            let st = Command::new("kill")
                .args(["-9", &pids[0].to_string()])
                .status()
                .unwrap();
            assert!(st.success());
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = parent.wait_with_output().unwrap();
    let out = text(&o);
    assert!(
        !o.status.success(),
        "the study ended well with a killed worker: {out}"
    );
    assert!(out.contains("pretrained/seed0"), "{out}");
    assert!(out.contains("1 run(s) failed"), "{out}");
    // The independent run finished regardless.
    let p = plan(&file);
    assert_eq!(state_of(&p, "other/seed3"), "done", "{p}");
    assert_eq!(state_of(&p, "pretrained/seed0"), "resumable", "{p}");

    let o = experiments(&[file.to_str().unwrap(), "--jobs", "2"], "warn");
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        weights(killed.path()) == want,
        "the resumed run differs from the uninterrupted one"
    );
}

#[test]
fn plan_names_a_run_another_process_is_computing_as_running() {
    let root = tempfile::tempdir().unwrap();
    let entries = "  pretrained:\n    train: { epochs: 2 }\n";
    let file = write_study(root.path(), &study_text(root.path(), 256, entries));
    let g = RunGraph::new(Study::load(&file).unwrap());
    let dir = experiments::run_key::run_dir(&g.spec(0).unwrap(), 0);
    std::fs::create_dir_all(&dir).unwrap();
    // This test process holds the run's lock, as a worker computing it would.
    let lock = experiments::lock::RunLock::acquire(&dir).unwrap();
    let p = plan(&file);
    assert_eq!(state_of(&p, "pretrained/seed0"), "running now", "{p}");
    assert!(p.contains(&format!("(pid {}", std::process::id())), "{p}");
    drop(lock);
    let p = plan(&file);
    assert_eq!(state_of(&p, "pretrained/seed0"), "resumable", "{p}");
}

#[test]
fn two_processes_wanting_one_run_never_write_it_at_once() {
    let root = tempfile::tempdir().unwrap();
    let entries = "  pretrained:\n    train: { epochs: 3 }\n";
    let file = write_study(root.path(), &study_text(root.path(), 1000, entries));
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_experiments"))
            .args(["run-one", file.to_str().unwrap(), "pretrained/seed0"])
            .current_dir(repo())
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let a = spawn();
    let b = spawn();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", text(&a));
    assert!(b.status.success(), "{}", text(&b));
    let both = format!("{}\n{}", text(&a), text(&b));
    // One computed it; the other waited for the lock and reused the result (or, had it
    // come later still, found it finished).
    let waited = both.contains("being computed by another process");
    let reused =
        both.contains("finished by another process meanwhile") || both.contains("finished earlier");
    assert!(waited && reused, "{both}");
    let trained = both.matches("test top-1").count();
    assert_eq!(trained, 1, "trained once: {both}");
}

#[test]
fn a_failing_run_does_not_stop_the_others_and_is_named() {
    let root = tempfile::tempdir().unwrap();
    // `broken` starts from a model folder without weights.
    let empty = root.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("model.json"), "{}").unwrap();
    std::fs::write(empty.join("model.safetensors"), "not weights").unwrap();
    let entries = format!(
        "  pretrained:\n    train: {{ epochs: 1 }}\n  given:\n    model_dir: {}\n  broken:\n    prune: {{ method: l1_norm, from: given, widths: {{ inner: [4, 4, 4, 4, 4, 4, 4, 4, 4] }} }}\n  l1_norm:\n    prune: {{ method: l1_norm, from: pretrained, widths: {{ inner: [4, 4, 4, 4, 4, 4, 4, 4, 4] }} }}\n",
        empty.display()
    );
    let file = write_study(root.path(), &study_text(root.path(), 256, &entries));
    let o = experiments(&[file.to_str().unwrap(), "--jobs", "2"], "warn");
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(out.contains("1 run(s) failed: broken/seed0 (log "), "{out}");
    let p = plan(&file);
    assert_eq!(state_of(&p, "l1_norm/seed0"), "done", "{p}");
    assert_eq!(state_of(&p, "pretrained/seed0"), "done", "{p}");
    let log = root.path().join("runs/tiny/logs/broken-seed0.log");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("prune.from"), "the log names the cause: {log}");
}

/// The plan of `study` says every record published under `setting` is done (its run
/// key re-derived from the spec), and nothing else is in a state a clone cannot start
/// from: the runs not published yet are ready, waiting on one, or resumable. Returns
/// how many runs are done.
fn assert_published_runs_are_found(study: &str, setting: &str) -> usize {
    let p = plan(&repo().join(format!("experiments/{study}.yaml")));
    let mut done = 0;
    for line in p.lines().skip(2).filter(|l| l.contains("/seed")) {
        let run = line.split_whitespace().next().unwrap();
        let (folder, seed) = run.split_once("/seed").unwrap();
        let dir = repo().join("results").join(setting).join(folder);
        let root_seed = std::fs::read_to_string(dir.join("summary.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["seed"].as_u64());
        let published = root_seed.map(|s| s.to_string()) == Some(seed.to_string())
            || dir.join(format!("seed{seed}/summary.json")).exists();
        let state = state_of(&p, run);
        if published {
            assert_eq!(state, "done", "{study}: {run} is committed:\n{p}");
            done += 1;
        } else {
            // (resumable or running now: started in this checkout's runs/, as a clone
            // never is)
            assert!(
                ["ready", "waiting", "resumable", "running now"].contains(&state),
                "{study}: {run} is {state}:\n{p}"
            );
        }
    }
    done
}

#[test]
fn the_cpu_budget_studies_find_every_committed_record() {
    for (study, setting) in [
        ("resnet20_cifar10_cpu", "resnet20_cifar10"),
        ("vgg_cifar10_cpu", "vgg_cifar10"),
        ("ablations_cpu", "ablations"),
    ] {
        let done = assert_published_runs_are_found(study, setting);
        assert!(done > 0, "{study}: nothing published?");
    }
    // The curve is run point by point: whatever part of it is published must be found.
    assert_published_runs_are_found("resnet20_cifar10_curve_cpu", "resnet20_cifar10");
    // These two tables hold every run their studies list.
    for (study, runs) in [("vgg_cifar10_cpu", 4), ("ablations_cpu", 6)] {
        let o = experiments(&["plan", study], "warn");
        let out = text(&o);
        assert!(
            out.contains(&format!("{runs} runs: {runs} done, 0 to run")),
            "{study} would recompute committed runs:\n{out}"
        );
    }
}

/// Every file of `dir` (recursively), with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn running_a_cpu_budget_study_rewrites_its_committed_table_byte_for_byte() {
    // Not the ResNet-20 study: it lists a baseline not run yet, which running it trains.
    for (study, setting) in [
        ("vgg_cifar10_cpu", "vgg_cifar10"),
        ("ablations_cpu", "ablations"),
    ] {
        let dir = repo().join("results").join(setting);
        let before = snapshot(&dir);
        let o = experiments(&[study], "warn");
        let after = snapshot(&dir);
        let changed: Vec<String> = before
            .iter()
            .zip(&after)
            .filter(|(a, b)| a != b)
            .map(|(a, _)| a.0.display().to_string())
            .collect();
        if before != after {
            // Put the committed files back before failing.
            for (p, bytes) in &before {
                std::fs::write(p, bytes).unwrap();
            }
        }
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("0 runs computed now"), "{}", text(&o));
        assert_eq!(
            before.len(),
            after.len(),
            "{study} added or removed files in {}",
            dir.display()
        );
        assert!(changed.is_empty(), "{study} changed {changed:?}");
    }
}

#[test]
fn the_study_example_of_the_spec_reference_parses() {
    let doc = std::fs::read_to_string(repo().join("experiments/README.md")).unwrap();
    let after = doc.split("## Studies").nth(1).unwrap();
    let yaml = after
        .split("```yaml\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let study =
        Study::parse(yaml, Path::new("experiments/README.md")).unwrap_or_else(|e| panic!("{e}"));
    let g = RunGraph::new(study);
    let ids: Vec<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
    assert!(
        ids.contains(&"l1_norm-loose/seed2") && ids.contains(&"slimming-tight/seed0"),
        "{ids:?}"
    );
}
