//! `experiments snapshot`: the resumable state of unfinished runs copied out with a
//! README, finished runs left out, an older snapshot replaced only by a complete one.
use std::fs;

mod common;
use common::{experiments, text};

#[test]
fn snapshot_copies_unfinished_runs_and_says_how_to_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, dest) = (tmp.path().join("runs"), tmp.path().join("in_progress"));
    let spec = out.join("tiny");
    // An unfinished pruning run: C2S2 with two finished groups, a fine-tune checkpoint.
    let open = spec.join("seed0-aaaa");
    fs::create_dir_all(open.join("c2s2")).unwrap();
    fs::create_dir_all(open.join("finetune/checkpoint")).unwrap();
    fs::write(open.join("spec.resolved.yaml"), "name: tiny\n").unwrap();
    // (checkpoint manifests as engine::SnapshotDir writes them: the state under `state`)
    fs::write(
        open.join("c2s2/state.json"),
        r#"{"format": "c2s2-snapshot/1", "generation": 2, "files": {},
            "state": {"version": 1, "report": {"groups": [{}, {}]}}}"#,
    )
    .unwrap();
    fs::write(
        open.join("finetune/checkpoint/state.json"),
        r#"{"format": "c2s2-snapshot/1", "generation": 3, "files": {},
            "state": {"version": 1, "epochs_done": 3, "history": []}}"#,
    )
    .unwrap();
    fs::write(open.join("lock"), "").unwrap();
    // A finished Network Slimming sparsity phase: the fine-tune's start, needed to resume.
    fs::create_dir_all(open.join("sparsity/checkpoint")).unwrap();
    fs::write(open.join("sparsity/phase.json"), r#"{"key": "k"}"#).unwrap();
    fs::write(
        open.join("sparsity/checkpoint/state.json"),
        r#"{"format": "c2s2-snapshot/1", "generation": 5, "files": {},
            "state": {"version": 1, "epochs_done": 5, "history": []}}"#,
    )
    .unwrap();
    // A finished run: published, not resumed.
    let done = spec.join("seed1-bbbb");
    fs::create_dir_all(&done).unwrap();
    fs::write(done.join("spec.resolved.yaml"), "name: tiny\n").unwrap();
    fs::write(done.join("summary.json"), "{}").unwrap();

    let args = |d: &std::path::Path| {
        vec![
            "snapshot".to_string(),
            "tiny".into(),
            "--output".into(),
            out.display().to_string(),
            "--dest".into(),
            d.display().to_string(),
            "--note".into(),
            "Paused once.".into(),
        ]
    };
    let a = args(&dest);
    let o = experiments(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", text(&o));
    let snap = dest.join("tiny");
    assert!(snap.join("seed0-aaaa/c2s2/state.json").exists());
    assert!(snap
        .join("seed0-aaaa/finetune/checkpoint/state.json")
        .exists());
    assert!(snap.join("seed0-aaaa/spec.resolved.yaml").exists());
    assert!(snap.join("seed0-aaaa/sparsity/phase.json").exists());
    assert!(
        !snap.join("seed0-aaaa/lock").exists(),
        "the lock is not state"
    );
    assert!(
        !snap.join("seed1-bbbb").exists(),
        "finished runs are left out"
    );
    let readme = fs::read_to_string(snap.join("README.md")).unwrap();
    assert!(
        readme.contains("training checkpoint after 3 epochs;")
            && readme.contains("Network Slimming sparsity phase after 5 epochs;")
            && readme.contains("C2S2 selection state with 2 finished group(s);")
            && readme.contains("Paused once.")
            && readme.contains(&format!("cp -r {}/seed0-aaaa", snap.display())),
        "{readme}"
    );
    // Nothing unfinished: an error, and the earlier snapshot stays.
    fs::write(open.join("summary.json"), "{}").unwrap();
    let o = experiments(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!o.status.success());
    assert!(text(&o).contains("nothing unfinished"), "{}", text(&o));
    assert!(snap.join("seed0-aaaa/c2s2/state.json").exists());
    // No run directory at all: an error naming the folder.
    let a = vec!["snapshot", "nope", "--output", out.to_str().unwrap()];
    let o = experiments(&a);
    assert!(!o.status.success());
    assert!(text(&o).contains("nope"), "{}", text(&o));
}
