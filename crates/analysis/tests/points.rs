//! Operating points: variants of an entry share its label, baselines are matched to the
//! C2S2 point whose widths or MACs share they took, matched rows sit together, paired
//! differences get their interval, and the curves are drawn.
use std::path::Path;

use analysis::record::LayerWidth;
use analysis::setting::setting;
use analysis::{report_setting, ReportPaths};

mod common;
use common::{report_paths, summary, write_run};

fn with_widths(mut s: analysis::record::Summary, kept: [i64; 2]) -> analysis::record::Summary {
    if let Some(p) = s.pruning.as_mut() {
        p.layers = vec![
            LayerWidth {
                layer: "layer1.0.conv1".into(),
                channels: 16,
                kept: kept[0],
            },
            LayerWidth {
                layer: "layer2.0.conv1".into(),
                channels: 32,
                kept: kept[1],
            },
        ];
    }
    s
}

fn curve_set(root: &Path) -> ReportPaths {
    let set = root.join("results/resnet20_cifar10");
    write_run(
        &set.join("pretrained"),
        &summary("unpruned", 0, 90.0, 1000, 10_000),
    );
    // The table's point (40% of MACs) and a variant at 60%, three seeds.
    write_run(
        &set.join("c2s2"),
        &with_widths(summary("c2s2", 0, 89.0, 800, 6_000), [8, 30]),
    );
    for (seed, top1) in [(0, 88.0), (1, 88.4), (2, 88.2)] {
        let dir = if seed == 0 {
            set.join("c2s2-tol4")
        } else {
            set.join(format!("c2s2-tol4/seed{seed}"))
        };
        write_run(
            &dir,
            &with_widths(summary("c2s2", seed, top1, 600, 4_000), [4, 20]),
        );
    }
    // L1-norm at both points; at tol4 one point of top-1 below C2S2, seed by seed.
    write_run(
        &set.join("l1_norm"),
        &with_widths(summary("l1_norm", 0, 88.5, 800, 6_000), [8, 30]),
    );
    for (seed, top1) in [(0, 87.0), (1, 87.5), (2, 87.1)] {
        let dir = if seed == 0 {
            set.join("l1_norm-tol4")
        } else {
            set.join(format!("l1_norm-tol4/seed{seed}"))
        };
        write_run(
            &dir,
            &with_widths(summary("l1_norm", seed, top1, 600, 4_000), [4, 20]),
        );
    }
    // Uniform L1-norm sized to the tol4 point's MACs (60.00% removed).
    let mut uniform = with_widths(summary("uniform_l1_norm", 0, 87.9, 600, 4_000), [6, 18]);
    if let Some(p) = uniform.pruning.as_mut() {
        p.options = serde_json::json!({"macs_pruned_pct": 60.0, "min_channels": 1});
    }
    write_run(&set.join("uniform_l1_norm-tol4"), &uniform);
    report_paths(
        root,
        "resnet20_cifar10,unpruned (X et al.),92.00,,,,,,,\"X et al. 2018\",yes\n\
         resnet20_cifar10,Method Y,91.00,,,,,,50.0,\"X et al. 2018\",yes\n",
    )
}

#[test]
fn variants_share_a_label_and_baselines_sit_with_their_point() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = curve_set(tmp.path());
    let rep = report_setting(&paths, setting("resnet20_cifar10").unwrap()).unwrap();
    let csv = std::fs::read_to_string(paths.results.join("resnet20_cifar10/table.csv")).unwrap();
    let rows: Vec<(String, String)> = csv
        .lines()
        .skip(1)
        .filter(|l| l.contains(",measured,"))
        .map(|l| {
            let mut c = l.split(',');
            (c.next().unwrap().into(), c.next().unwrap().into())
        })
        .collect();
    let want = [
        ("unpruned", ""),
        ("C2S2", "c2s2"),
        ("L1-norm", "c2s2"),
        ("C2S2", "c2s2-tol4"),
        ("L1-norm", "c2s2-tol4"),
        ("uniform L1-norm", "c2s2-tol4"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(rows, want, "{csv}");
    // Paired over seeds 0-2: differences -1.0, -0.9, -1.1: mean -1.0, sd 0.1, t(2) 4.303.
    let l1 = rep
        .notes
        .iter()
        .find(|n| n.starts_with("L1-norm minus C2S2 at point c2s2-tol4"))
        .unwrap_or_else(|| panic!("{:?}", rep.notes));
    assert!(
        l1.contains("-1.00 points")
            && l1.contains("[-1.25, -0.75]")
            && l1.contains("C2S2 is better"),
        "{l1}"
    );
    assert!(
        rep.notes.iter().any(|n| n.starts_with(
            "uniform L1-norm minus C2S2 at point c2s2-tol4: -0.10 points of top-1 on seed 0 alone"
        )),
        "{:?}",
        rep.notes
    );
    let plots = paths.results.join("resnet20_cifar10/plots");
    for stem in ["accuracy_vs_macs", "accuracy_vs_params"] {
        for ext in ["png", "svg"] {
            let f = plots.join(format!("{stem}.{ext}"));
            assert!(
                f.metadata().map(|m| m.len() > 1000).unwrap_or(false),
                "{f:?}"
            );
        }
    }
    // The legend names each method once and the published point as published.
    let svg = std::fs::read_to_string(plots.join("accuracy_vs_macs.svg")).unwrap();
    assert_eq!(
        svg.matches("\nC2S2\n").count(),
        1,
        "one legend entry per line"
    );
    assert!(svg.contains("Method Y (published)"));
}
