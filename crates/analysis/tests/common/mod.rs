//! Synthetic run records shared by the analysis tests.
#![allow(dead_code)]
use std::path::Path;

use analysis::record::{LayerWidth, PruningRecord, Summary, TestResult, SUMMARY_SCHEMA};

/// A finished run of `method` (`unpruned`, `c2s2`, ...) with spec `spec_<method>`.
pub fn summary(method: &str, seed: u64, top1: f64, params: u64, macs: u64) -> Summary {
    let pruning = (method != "unpruned").then(|| PruningRecord {
        method: method.into(),
        options: serde_json::json!({"lambda": 1.0}),
        start_model: serde_json::json!({"arch": "resnet_cifar"}),
        start_params: 1000,
        start_macs: 10_000,
        start_test: Some(TestResult {
            top1: 90.0,
            top5: 99.0,
            loss: 0.3,
            images: 100,
            miou: None,
            pixel_acc: None,
        }),
        after_selection_test: None,
        layers: vec![
            LayerWidth {
                layer: "layer1.0.conv1".into(),
                channels: 16,
                kept: 8,
            },
            LayerWidth {
                layer: "layer2.0.conv1".into(),
                channels: 32,
                kept: 30,
            },
        ],
        selection_seconds: 600.0,
        finetune_seconds: 1200.0,
        report: serde_json::Value::Null,
    });
    Summary {
        schema_version: SUMMARY_SCHEMA,
        spec_name: format!("spec_{method}"),
        run_key: format!("key{seed}"),
        seed,
        method: method.into(),
        model: serde_json::json!({"arch": "resnet_cifar"}),
        params,
        macs,
        input_hw: [32, 32],
        dataset_source: "CIFAR-10 image folder data/cifar10".into(),
        train_images: 45_000,
        val_images: 5_000,
        epochs: 3,
        schedule: "cosine-3ep".into(),
        test: TestResult {
            top1,
            top5: 99.0,
            loss: 0.4,
            images: 10_000,
            miou: None,
            pixel_acc: None,
        },
        final_val_top1: Some(top1),
        mean_epoch_seconds: 10.0,
        mean_images_per_second: 100.0,
        total_train_seconds: 30.0,
        device: "Cpu".into(),
        threads: 2,
        host: None,
        pruning,
    }
}

/// Writes `summary.json` and a three-epoch `metrics.csv` into `dir`.
pub fn write_run(dir: &Path, s: &Summary) {
    std::fs::create_dir_all(dir).unwrap();
    s.write(&dir.join("summary.json")).unwrap();
    std::fs::write(
        dir.join("metrics.csv"),
        "epoch,lr,train_loss,train_top1,val_loss,val_top1,train_seconds,images_per_second\n\
         1,0.1,1.5,40.0,1.2,55.0,10.0,100.0\n\
         2,0.05,1.0,60.0,0.9,68.0,10.0,100.0\n\
         3,0.0,0.7,75.0,,,10.0,100.0\n",
    )
    .unwrap();
}

/// Writes `<root>/paper/published.csv` with the header and `rows` (CSV lines) and
/// returns the paths `report` reads.
pub fn report_paths(root: &Path, rows: &str) -> analysis::ReportPaths {
    let paper = root.join("paper/published.csv");
    std::fs::create_dir_all(paper.parent().unwrap()).unwrap();
    std::fs::write(
        &paper,
        format!("setting,method,top1,top5,miou,params,params_pruned_pct,macs,macs_pruned_pct,citation,verified\n{rows}"),
    )
    .unwrap();
    analysis::ReportPaths {
        results: root.join("results"),
        published: paper,
    }
}
