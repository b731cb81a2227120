//! Every kind of bad spec is refused with the file, the field path (or line and column)
//! and a reason.
use std::path::Path;

use experiments::spec::{Spec, SpecError};

const GOOD: &str = "\
name: t
model:
  arch: resnet20_cifar
dataset:
  name: cifar10
  root: data/x
  validation_split: 100
train:
  epochs: 10
  optimizer:
    lr: 0.1
  lr_schedule:
    kind: multi_step
    milestones: [3, 6, 8]
";

fn parse(text: &str) -> Result<Spec, SpecError> {
    Spec::parse(text, Path::new("specs/bad.yaml"))
}

/// (what is wrong, replacement of one line of GOOD or appended text, expected field
/// path or location in the message, expected words).
const CASES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "ImageNet class list on CIFAR-10",
        "  validation_split: 100\n",
        "  validation_split: 100\n  class_list: synsets.txt\n",
        "dataset.class_list",
        "imagenet only",
    ),
    (
        "ImageNet validation labels on CIFAR-10",
        "  validation_split: 100\n",
        "  validation_split: 100\n  val_labels: val.txt\n",
        "dataset.val_labels",
        "imagenet only",
    ),
    (
        "unknown top-level key",
        "",
        "colour: red\n",
        "colour",
        "unknown field",
    ),
    (
        "unknown nested key",
        "    lr: 0.1\n",
        "    lr: 0.1\n    lrr: 0.2\n",
        "train.optimizer",
        "unknown field `lrr`",
    ),
    (
        "wrong type",
        "  epochs: 10\n",
        "  epochs: ten\n",
        "train.epochs",
        "invalid type",
    ),
    (
        "milestone past the end",
        "[3, 6, 8]",
        "[3, 6, 12]",
        "train.lr_schedule.milestones[2]",
        "between 1 and epochs",
    ),
    (
        "milestones not increasing",
        "[3, 6, 8]",
        "[3, 2, 8]",
        "train.lr_schedule.milestones[1]",
        "increase",
    ),
    (
        "negative learning rate",
        "    lr: 0.1\n",
        "    lr: -0.1\n",
        "train.optimizer.lr",
        "positive",
    ),
    (
        "momentum out of range",
        "    lr: 0.1\n",
        "    lr: 0.1\n    momentum: 1.5\n",
        "train.optimizer.momentum",
        "[0, 1)",
    ),
    (
        "YAML syntax error",
        "[3, 6, 8]",
        "[3, 6, 8",
        "bad.yaml:",
        "syntax error",
    ),
    (
        "missing section",
        "  optimizer:\n    lr: 0.1\n",
        "",
        "train",
        "missing field `optimizer`",
    ),
    (
        "unknown architecture",
        "arch: resnet20_cifar",
        "arch: vgg19",
        "model.arch",
        "unknown variant `vgg19`",
    ),
    (
        "shortcut on VGG",
        "  arch: resnet20_cifar\n",
        "  arch: vgg16_cifar\n  shortcut: B\n",
        "model.shortcut",
        "only CIFAR ResNets",
    ),
    (
        "widths of wrong length",
        "  arch: resnet20_cifar\n",
        "  arch: resnet20_cifar\n  widths: { inner: [16, 16] }\n",
        "model.widths.inner",
        "expected 9 entries",
    ),
    (
        "zero width",
        "  arch: resnet20_cifar\n",
        "  arch: resnet20_cifar\n  widths: { inner: [16, 16, 16, 0, 32, 32, 64, 64, 64] }\n",
        "model.widths.inner[3]",
        "at least 1",
    ),
    (
        "widths the architecture lacks",
        "  arch: resnet20_cifar\n",
        "  arch: resnet20_cifar\n  widths: { convs: [1] }\n",
        "model.widths.convs",
        "has no `convs`",
    ),
    ("no seeds", "", "seeds: []\n", "seeds", "at least one seed"),
    ("duplicate seed", "", "seeds: [1, 1]\n", "seeds[1]", "twice"),
    ("zero threads", "", "threads: 0\n", "threads", "at least 1"),
    (
        "batch of one",
        "  epochs: 10\n",
        "  epochs: 10\n  batch_size: 1\n",
        "train.batch_size",
        "at least 2",
    ),
    (
        "model on the wrong data set",
        "  arch: resnet20_cifar\n",
        "  arch: resnet18\n",
        "dataset.name",
        "Imagenet",
    ),
    (
        "unimplemented precision",
        "  epochs: 10\n",
        "  epochs: 10\n  precision: fp16\n",
        "train.precision",
        "loss scaling",
    ),
    (
        "warm-up longer than training",
        "    kind: multi_step\n",
        "    kind: multi_step\n    warmup_epochs: 10\n",
        "train.lr_schedule.warmup_epochs",
        "[0, epochs)",
    ),
    (
        "bad run name",
        "name: t\n",
        "name: my run\n",
        "name",
        "letters, digits",
    ),
    (
        "unknown device",
        "",
        "device: gpu\n",
        "device",
        "unknown variant `gpu`",
    ),
    (
        "validation split eats the training set",
        "validation_split: 100",
        "validation_split: 50000",
        "dataset.validation_split",
        "no CIFAR-10 training images",
    ),
    (
        "C2S2 lambda refinement without bound",
        "",
        "prune:\n  method: c2s2\n  from: results/x\n  c2s2: { refine_steps: 11 }\n",
        "prune.c2s2.refine_steps",
        "at most 10",
    ),
    (
        "latency timing options without the latency cost",
        "",
        "prune:\n  method: c2s2\n  from: results/x\n  c2s2: { latency: { repeats: 5 } }\n",
        "prune.c2s2.latency",
        "cost_metric: latency",
    ),
    (
        "latency cost timed zero times",
        "",
        "prune:\n  method: c2s2\n  from: results/x\n  c2s2: { cost_metric: latency, latency: { repeats: 0 } }\n",
        "prune.c2s2.latency.repeats",
        "at least 1",
    ),
    (
        "latency noise limit that refuses every table",
        "",
        "prune:\n  method: c2s2\n  from: results/x\n  c2s2: { cost_metric: latency, latency: { max_spread: 0 } }\n",
        "prune.c2s2.latency.max_spread",
        "must be positive",
    ),
    (
        "slimming sized by a channel fraction and a MACs budget at once",
        "",
        "prune:\n  method: slimming\n  from: results/x\n  slimming: { fraction: 0.4, macs_pruned_pct: 30 }\n",
        "prune.slimming.macs_pruned_pct",
        "not both",
    ),
    (
        "slimming MACs budget that is not a percentage",
        "",
        "prune:\n  method: slimming\n  from: results/x\n  slimming: { macs_pruned_pct: 0.3e3 }\n",
        "prune.slimming.macs_pruned_pct",
        "in (0, 100)",
    ),
    (
        "negative weight decay",
        "    lr: 0.1\n",
        "    lr: 0.1\n    weight_decay: -1\n",
        "train.optimizer.weight_decay",
        ">= 0",
    ),
];

#[test]
fn the_good_spec_parses() {
    let s = parse(GOOD).unwrap();
    assert_eq!(s.seeds, vec![0]);
    assert_eq!(s.train.batch_size, 128);
}

#[test]
fn bad_specs_are_refused_with_file_and_field() {
    assert!(CASES.len() >= 15);
    for (what, from, to, field, words) in CASES {
        let text = if from.is_empty() {
            format!("{GOOD}{to}")
        } else {
            GOOD.replacen(from, to, 1)
        };
        assert_ne!(text, GOOD, "case `{what}` did not change the spec");
        let err = match parse(&text) {
            Ok(_) => panic!("case `{what}` was accepted:\n{text}"),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains("specs/bad.yaml"),
            "case `{what}`: no file in `{err}`"
        );
        assert!(
            err.contains(field),
            "case `{what}`: no `{field}` in `{err}`"
        );
        assert!(
            err.contains(words),
            "case `{what}`: no `{words}` in `{err}`"
        );
    }
}

#[test]
fn syntax_errors_carry_line_and_column() {
    let text = GOOD.replacen("[3, 6, 8]", "[3, 6, 8", 1);
    match parse(&text) {
        Err(SpecError::Syntax { line, column, .. }) => {
            assert!(line >= 14 && column > 0, "line {line} column {column}")
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn every_committed_spec_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "yaml") {
            Spec::load(&p).unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
    }
    assert!(
        n >= 5,
        "expected the thesis specs under experiments/, found {n}"
    );
}

#[test]
fn init_from_is_refused_in_a_pruning_spec() {
    let text = GOOD.replace(
        "  arch: resnet20_cifar\n",
        "  arch: resnet20_cifar\n  init_from: backbone.safetensors\n",
    ) + "prune:\n  method: random\n  from: results/x\n";
    let err = parse(&text).unwrap_err().to_string();
    assert!(
        err.contains("bad.yaml") && err.contains("model.init_from") && err.contains("prune.from"),
        "{err}"
    );
}
