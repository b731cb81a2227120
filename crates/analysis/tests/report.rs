//! `report` on a small synthetic run set: exact columns, seed statistics, deltas,
//! notes for missing runs, byte-identical reruns, every plot kind rendered, and old or
//! broken run records refused with the file and the field named.
use std::path::Path;

use analysis::latency::{read_latency_csv, write_latency_csv, Latency};
use analysis::record::SUMMARY_SCHEMA;
use analysis::setting::setting;
use analysis::{report_setting, AnalysisError, ReportPaths};

mod common;
use common::{report_paths, summary, write_run};

/// results/resnet20_cifar10 with an unpruned run, C2S2 with two seeds and a latency file.
fn run_set(root: &Path) -> ReportPaths {
    let set = root.join("results/resnet20_cifar10");
    write_run(
        &set.join("pretrained"),
        &summary("unpruned", 0, 90.0, 1000, 10_000),
    );
    write_run(
        &set.join("c2s2/seed0"),
        &summary("c2s2", 0, 89.0, 800, 6_000),
    );
    // Seed 1's selection took longer (15 min against 10).
    let mut seed1 = summary("c2s2", 1, 89.5, 800, 6_000);
    if let Some(p) = seed1.pruning.as_mut() {
        p.selection_seconds = 900.0;
    }
    write_run(&set.join("c2s2/seed1"), &seed1);
    let lat = |dir: &str, macs: u64, ms: f64| Latency {
        model_dir: dir.into(),
        arch: "resnet_cifar".into(),
        params: 1,
        macs,
        batch: 128,
        device: "Cpu".into(),
        threads: 2,
        channels_last: true,
        repeats: 30,
        median_ms: ms,
        p25_ms: ms - 1.0,
        p75_ms: ms + 1.0,
        others_load_pct: Some(3.0),
    };
    write_latency_csv(
        &set.join("latency.csv"),
        &[
            lat("results/resnet20_cifar10/pretrained", 10_000, 100.0),
            lat("results/resnet20_cifar10/c2s2", 6_000, 80.0),
            // A slower layout of the same model: the table takes the faster one.
            lat("results/resnet20_cifar10/c2s2", 6_000, 95.0),
        ],
    )
    .unwrap();
    report_paths(
        root,
        "resnet20_cifar10,unpruned (X et al.),92.00,,,,,,,\"X et al. 2018\",yes\n\
         resnet20_cifar10,Method Y,91.00,,,,,,40.0,\"X et al. 2018\",recalled\n\
         vgg_cifar10,other,93.00,,,,,,,\"Z 2017\",yes\n",
    )
}

#[test]
fn table_has_the_exact_columns_seed_statistics_and_deltas() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = run_set(tmp.path());
    let rep = report_setting(&paths, setting("resnet20_cifar10").unwrap()).unwrap();
    assert_eq!((rep.measured_rows, rep.published_rows), (2, 2));
    let csv = std::fs::read_to_string(paths.results.join("resnet20_cifar10/table.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "method,point,source,schedule,seeds,top1,top1_std,top1_delta,top5,miou,pixel_acc,params,params_pruned_pct,macs,macs_pruned_pct,latency_ms,speedup,citation"
    );
    // Measured rows first (unpruned leading), then published.
    assert_eq!(
        lines[1],
        "unpruned,,measured,cpu-cosine-3ep,1,90.00,,,99.00,,,1000,,10000,,100.00,1.00,"
    );
    // Two seeds: mean 89.25, sample sd 0.35, delta -0.75, 40% of MACs, speed-up 1.25.
    assert_eq!(
        lines[2],
        "C2S2,c2s2,measured,cpu-ft-cosine-3ep,2,89.25,0.35,-0.75,99.00,,,800,20.00,6000,40.00,80.00,1.25,"
    );
    assert!(lines[3].starts_with("unpruned (X et al.),,published,paper,,92.00,,,"));
    assert!(lines[4].starts_with("Method Y,,published,paper,,91.00,,-1.00,"));
    assert!(lines[4].contains("recalled"));
    assert_eq!(lines.len(), 5);
}

#[test]
fn missing_runs_and_speedup_shortfalls_are_notes_not_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = run_set(tmp.path());
    let rep = report_setting(&paths, setting("resnet20_cifar10").unwrap()).unwrap();
    let md = std::fs::read_to_string(paths.results.join("resnet20_cifar10/table.md")).unwrap();
    for method in ["L1-norm", "Network Slimming", "random", "scratch"] {
        assert!(
            md.contains(&format!("No measured run of {method}")),
            "{method} not noted"
        );
    }
    assert!(md.contains("JPEG"));
    // Several seeds: their times as a range, not the first seed's.
    assert!(
        md.contains("seed(s) 0, 1, selection 10-15 min + fine-tune 20 min per seed"),
        "{md}"
    );
    // The background load the latency run saw is stated with it.
    assert!(
        rep.notes
            .iter()
            .any(|n| n.contains("Other work took at most 3% of the CPUs")),
        "{:?}",
        rep.notes
    );
    // 1.67x fewer MACs, goal 1.33x, measured 1.25x.
    assert!(
        rep.notes.iter().any(|n| n.contains("below 0.8x")),
        "{:?}",
        rep.notes
    );
    // A setting with no runs at all still gets its table, with notes only.
    let vgg = report_setting(&paths, setting("vgg_cifar10").unwrap()).unwrap();
    assert_eq!(vgg.measured_rows, 0);
    let layers = std::fs::read_to_string(paths.results.join("vgg_cifar10/layers.md")).unwrap();
    assert!(layers.contains("No pruned model"));
    // A run ruled out says why instead of how to run it.
    let abl = report_setting(&paths, setting("ablations").unwrap()).unwrap();
    let before_relu = abl
        .notes
        .iter()
        .find(|n| n.contains("(before_relu)"))
        .expect("before_relu noted");
    assert!(before_relu.contains("not run, because"), "{before_relu}");
    assert!(!before_relu.contains("cargo run"), "{before_relu}");
    let ste = abl.notes.iter().find(|n| n.contains("(ste)")).unwrap();
    assert!(ste.contains("cargo run"), "{ste}");
}

#[test]
fn a_run_published_after_the_latency_run_is_named_as_not_timed() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = run_set(tmp.path());
    let rep = report_setting(&paths, setting("resnet20_cifar10").unwrap()).unwrap();
    assert!(
        !rep.notes.iter().any(|n| n.starts_with("Not timed")),
        "every model was timed: {:?}",
        rep.notes
    );
    // L1-norm at C2S2's widths arrives after latency.csv was written.
    write_run(
        &paths.results.join("resnet20_cifar10/l1_norm"),
        &summary("l1_norm", 0, 88.5, 800, 6_000),
    );
    let rep = report_setting(&paths, setting("resnet20_cifar10").unwrap()).unwrap();
    let note = rep
        .notes
        .iter()
        .find(|n| n.starts_with("Not timed"))
        .expect("the untimed row is named");
    assert!(note.contains("L1-norm"), "{note}");
    assert!(!note.contains("C2S2"), "{note}");
    assert!(
        note.contains("bench-latency --setting resnet20_cifar10"),
        "{note}"
    );
}

#[test]
fn an_entrys_note_file_is_appended_to_its_line_under_the_table() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = run_set(tmp.path());
    std::fs::write(
        paths.results.join("resnet20_cifar10/c2s2/note.txt"),
        "Epochs 1-24 ran on the CPU,\nthe rest on a GPU.\n",
    )
    .unwrap();
    let rep = report_setting(&paths, setting("resnet20_cifar10").unwrap()).unwrap();
    let line = rep.notes.iter().find(|n| n.starts_with("C2S2:")).unwrap();
    assert!(
        line.ends_with("resnet20_cifar10/c2s2). Epochs 1-24 ran on the CPU, the rest on a GPU."),
        "{line}"
    );
    let unpruned = rep
        .notes
        .iter()
        .find(|n| n.starts_with("unpruned:"))
        .unwrap();
    assert!(
        unpruned.ends_with("resnet20_cifar10/pretrained)."),
        "{unpruned}"
    );
}

#[test]
fn the_machine_a_seed_recorded_is_named_on_its_line_and_old_records_name_none() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = run_set(tmp.path());
    let seed1 = paths
        .results
        .join("resnet20_cifar10/c2s2/seed1/summary.json");
    let mut s = analysis::record::Summary::read(&seed1).unwrap();
    s.host = Some(analysis::record::Host {
        cpu_model: "Intel(R) Xeon(R) Processor".into(),
        cpu_simd: vec!["avx2".into(), "avx512f".into(), "avx512_bf16".into()],
        cpus: 2,
        finished_utc: "2026-12-07T05:10:00Z".into(),
    });
    s.write(&seed1).unwrap();
    let rep = report_setting(&paths, setting("resnet20_cifar10").unwrap()).unwrap();
    let line = rep.notes.iter().find(|n| n.starts_with("C2S2:")).unwrap();
    assert!(
        line.ends_with(
            "resnet20_cifar10/c2s2). Ran on: seed 1 Intel(R) Xeon(R) Processor (2 CPUs; avx2 avx512f avx512_bf16), 2026-12-07."
        ),
        "{line}"
    );
    let unpruned = rep
        .notes
        .iter()
        .find(|n| n.starts_with("unpruned:"))
        .unwrap();
    assert!(!unpruned.contains("Ran on"), "{unpruned}");
}

#[test]
fn reports_are_byte_identical_and_render_every_plot_kind() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = run_set(tmp.path());
    let s = setting("resnet20_cifar10").unwrap();
    let first = report_setting(&paths, s).unwrap();
    let bytes: Vec<Vec<u8>> = first
        .files
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect();
    let second = report_setting(&paths, s).unwrap();
    assert_eq!(first.files, second.files);
    for (f, b) in second.files.iter().zip(&bytes) {
        assert_eq!(&std::fs::read(f).unwrap(), b, "{} changed", f.display());
    }
    let plots = paths.results.join("resnet20_cifar10/plots");
    for stem in [
        "accuracy_vs_macs",
        "latency_vs_macs",
        "channels_c2s2_seed0",
        "curves_pretrained",
        "curves_c2s2_seed1",
    ] {
        let png = std::fs::read(plots.join(format!("{stem}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{stem}.png");
        assert!(png.len() > 5_000, "{stem}.png is nearly empty");
        let svg = std::fs::read_to_string(plots.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.contains("<svg") && svg.contains("<text"), "{stem}.svg");
    }
    // Each seed's plots say which seed they show.
    let svg = std::fs::read_to_string(plots.join("curves_c2s2_seed1.svg")).unwrap();
    assert!(
        svg.contains("C2S2 seed 1 fine-tuning curves"),
        "seed missing from the title"
    );
    let layers =
        std::fs::read_to_string(paths.results.join("resnet20_cifar10/layers.csv")).unwrap();
    assert!(layers.starts_with("method,layer,channels,kept,kept_pct\n"));
    assert!(layers.contains("C2S2 seed 1,layer1.0.conv1,16,8,50.00\n"));
}

#[test]
fn old_or_broken_run_records_are_refused_naming_file_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = run_set(tmp.path());
    let file = paths
        .results
        .join("resnet20_cifar10/pretrained/summary.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    v["schema_version"] = 0.into();
    std::fs::write(&file, v.to_string()).unwrap();
    let err = report_setting(&paths, setting("resnet20_cifar10").unwrap()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, AnalysisError::Schema { .. }));
    assert!(msg.contains("pretrained/summary.json") && msg.contains("schema_version 0"));

    v["schema_version"] = SUMMARY_SCHEMA.into();
    v.as_object_mut().unwrap().remove("macs");
    std::fs::write(&file, v.to_string()).unwrap();
    let msg = report_setting(&paths, setting("resnet20_cifar10").unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("summary.json") && msg.contains("missing field `macs`"),
        "{msg}"
    );
}

#[test]
fn segmentation_runs_fill_mean_iu_and_pixel_accuracy_not_top1() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = run_set(tmp.path());
    let mut s = summary("unpruned", 0, 91.5, 134_000_000, 181_000_000_000);
    s.model = serde_json::json!({"arch": "fcn32s"});
    s.test.miou = Some(62.25);
    s.test.pixel_acc = Some(91.5);
    s.test.top5 = 91.5;
    write_run(&paths.results.join("fcn_voc2011/pretrained"), &s);
    let rep = report_setting(&paths, setting("fcn_voc2011").unwrap()).unwrap();
    assert_eq!(rep.measured_rows, 1);
    let csv = std::fs::read_to_string(paths.results.join("fcn_voc2011/table.csv")).unwrap();
    let row = csv.lines().nth(1).unwrap();
    assert_eq!(
        row,
        "unpruned,,measured,cpu-cosine-3ep,1,,,,,62.25,91.50,134000000,,181000000000,,,,"
    );
}

#[test]
fn latency_files_without_the_load_column_still_load() {
    // Written before `others_load_pct` was recorded (before 2026-11-29).
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("latency.csv");
    std::fs::write(
        &path,
        "model_dir,arch,params,macs,batch,device,threads,channels_last,repeats,median_ms,p25_ms,p75_ms\n\
         results/x/pretrained,resnet_cifar,269722,40551040,128,Cpu,2,true,50,137.0,133.0,141.0\n",
    )
    .unwrap();
    let rows = read_latency_csv(&path).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].median_ms, 137.0);
    assert_eq!(rows[0].others_load_pct, None);
    // And a row with it round-trips.
    let mut with = rows[0].clone();
    with.others_load_pct = Some(1.5);
    write_latency_csv(&path, &[with]).unwrap();
    assert_eq!(
        read_latency_csv(&path).unwrap()[0].others_load_pct,
        Some(1.5)
    );
}
