//! Entry layouts `report` reads: one run at the entry's root, seeds in `seed*/`
//! subfolders, or both; seeds that clash are refused with the file named.
use std::path::Path;

use analysis::collect::collect_entries;
use analysis::AnalysisError;

mod common;
use common::{summary, write_run};

fn temp_setting(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("collect_{tag}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("results/resnet20_cifar10")
}

fn seeds_of(set: &Path, entry: &str) -> Vec<u64> {
    let entries = collect_entries(set).unwrap();
    let e = entries.iter().find(|e| e.name == entry).unwrap();
    e.runs.iter().map(|r| r.summary.seed).collect()
}

#[test]
fn root_run_and_seed_folders_are_one_entry() {
    let set = temp_setting("mixed");
    // Seed 0 at the root (other specs name its model.json), seeds 1 and 2 beside it.
    write_run(&set.join("c2s2"), &summary("c2s2", 0, 87.0, 800, 6_000));
    write_run(
        &set.join("c2s2/seed2"),
        &summary("c2s2", 2, 86.0, 800, 6_000),
    );
    write_run(
        &set.join("c2s2/seed1"),
        &summary("c2s2", 1, 86.5, 800, 6_000),
    );
    // A folder that is not a seed folder is not read as a seed.
    write_run(
        &set.join("c2s2/plots"),
        &summary("c2s2", 9, 10.0, 800, 6_000),
    );
    write_run(
        &set.join("l1_norm/seed0"),
        &summary("l1_norm", 0, 86.0, 800, 6_000),
    );
    assert_eq!(seeds_of(&set, "c2s2"), vec![0, 1, 2]);
    assert_eq!(seeds_of(&set, "l1_norm"), vec![0]);
    let entries = collect_entries(&set).unwrap();
    let c2s2 = entries.iter().find(|e| e.name == "c2s2").unwrap();
    assert_eq!(c2s2.runs[0].dir, set.join("c2s2"));
    assert_eq!(c2s2.runs[2].dir, set.join("c2s2/seed2"));
}

#[test]
fn a_seed_recorded_twice_is_refused() {
    let set = temp_setting("twice");
    write_run(&set.join("c2s2"), &summary("c2s2", 0, 87.0, 800, 6_000));
    write_run(
        &set.join("c2s2/seed0"),
        &summary("c2s2", 0, 86.0, 800, 6_000),
    );
    let err = collect_entries(&set).unwrap_err();
    let AnalysisError::Schema { path, message } = &err else {
        panic!("expected a schema error, got {err}");
    };
    assert_eq!(path, &set.join("c2s2/seed0/summary.json"));
    assert!(message.contains("seed 0 is also recorded"), "{message}");
}

#[test]
fn seeds_of_another_spec_are_refused() {
    let set = temp_setting("spec");
    write_run(&set.join("c2s2"), &summary("c2s2", 0, 87.0, 800, 6_000));
    let mut other = summary("c2s2", 1, 86.0, 800, 6_000);
    other.spec_name = "resnet20_cifar10_c2s2_round8_cpu".into();
    write_run(&set.join("c2s2/seed1"), &other);
    let err = collect_entries(&set).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("c2s2/seed1/summary.json"), "{text}");
    assert!(text.contains("resnet20_cifar10_c2s2_round8_cpu"), "{text}");
}
