//! The thesis's settings: which tables exist, which metric each reports, and which
//! measured runs each is expected to hold (a missing one becomes a note, never a number).

/// The accuracy a setting's tables and plots lead with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Classification top-1 accuracy (%).
    Top1,
    /// Segmentation mean intersection-over-union (%).
    MeanIou,
}

impl Metric {
    /// Axis label, with unit.
    pub fn axis_label(self) -> &'static str {
        match self {
            Metric::Top1 => "top-1 accuracy (%)",
            Metric::MeanIou => "mean IoU (%)",
        }
    }
}

/// A measured run a setting's table should have, and the study that produces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedRun {
    /// `unpruned`, `c2s2`, `l1_norm`, `slimming`, `random` or `scratch`.
    pub method: &'static str,
    /// Folder under `results/<setting>/` that `experiments publish` should fill.
    pub entry: &'static str,
    /// The study under `experiments/` with this entry.
    pub study: &'static str,
    /// Why the run is not there, when that is known and running the spec is not the
    /// answer (it cannot run here, or it was ruled out); the table's note says this
    /// instead of how to run it.
    pub not_run_because: Option<&'static str>,
}

/// One results table of the thesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// Folder under `results/`, and the `setting` column of `paper/published.csv`.
    pub name: &'static str,
    pub title: &'static str,
    pub metric: Metric,
    /// For the ablation table: the setting whose unpruned and C2S2 rows it compares to.
    pub base: Option<&'static str>,
    pub expected: &'static [ExpectedRun],
}

const fn run(method: &'static str, entry: &'static str, study: &'static str) -> ExpectedRun {
    ExpectedRun {
        method,
        entry,
        study,
        not_run_because: None,
    }
}

impl ExpectedRun {
    /// The same run, with the reason it is missing.
    const fn because(self, reason: &'static str) -> Self {
        ExpectedRun {
            not_run_because: Some(reason),
            ..self
        }
    }
}

/// Why the ResNet-18 / ImageNet rows are not measured (the specs exist and run where the
/// data is).
const IMAGENET_MISSING: &str = "neither the ILSVRC-2012 training set nor torchvision's pre-trained ResNet-18 weights were available to this project (its loader and trainer ran on a real 10-class sample: results/pipeline_checks); with them, run the study `resnet18_imagenet` (it publishes its entries here)";

/// Why the FCN-32s / VOC 2011 rows are not measured.
const VOC_MISSING: &str = "neither PASCAL VOC 2011 nor an ImageNet-trained VGG-16 backbone were available to this project (its loader and mean IU ran on a real 9-image sample: results/pipeline_checks); with them, run the study `fcn_voc2011` (it publishes its entries here)";

/// Every table `report` writes, in the order the README shows them.
pub const SETTINGS: &[Setting] = &[
    Setting {
        name: "vgg_cifar10",
        title: "VGG-16 on CIFAR-10",
        metric: Metric::Top1,
        base: None,
        expected: &[
            run("unpruned", "pretrained", "vgg_cifar10_cpu"),
            run("c2s2", "c2s2", "vgg_cifar10_cpu"),
            run("l1_norm", "l1_norm", "vgg_cifar10_cpu"),
            run("slimming", "slimming", "vgg_cifar10_cpu"),
        ],
    },
    Setting {
        name: "resnet20_cifar10",
        title: "ResNet-20 on CIFAR-10",
        metric: Metric::Top1,
        base: None,
        expected: &[
            run("unpruned", "pretrained", "resnet20_cifar10_cpu"),
            run("c2s2", "c2s2", "resnet20_cifar10_cpu"),
            run("l1_norm", "l1_norm", "resnet20_cifar10_cpu"),
            run("slimming", "slimming", "resnet20_cifar10_cpu"),
            run("slimming", "slimming_matched", "resnet20_cifar10_cpu"),
            run("random", "random", "resnet20_cifar10_cpu"),
            run("scratch", "scratch", "resnet20_cifar10_cpu"),
            run("uniform_l1_norm", "uniform_l1_norm", "resnet20_cifar10_cpu"),
        ],
    },
    Setting {
        name: "resnet18_imagenet",
        title: "ResNet-18 on ImageNet",
        metric: Metric::Top1,
        base: None,
        expected: &[
            run("unpruned", "pretrained", "resnet18_imagenet").because(IMAGENET_MISSING),
            run("c2s2", "c2s2", "resnet18_imagenet").because(IMAGENET_MISSING),
        ],
    },
    Setting {
        name: "fcn_voc2011",
        title: "FCN-32s on PASCAL VOC 2011",
        metric: Metric::MeanIou,
        base: None,
        expected: &[
            run("unpruned", "pretrained", "fcn_voc2011").because(VOC_MISSING),
            run("c2s2", "c2s2", "fcn_voc2011").because(VOC_MISSING),
        ],
    },
    Setting {
        name: "ablations",
        title: "C2S2 ablations on ResNet-20 / CIFAR-10 (thesis section 4.2)",
        metric: Metric::Top1,
        base: Some("resnet20_cifar10"),
        expected: &[
            run("c2s2", "no_cost_aware", "ablations_cpu"),
            run("c2s2", "all_at_once", "ablations_cpu"),
            run("c2s2", "params_cost", "ablations_cpu"),
            run("c2s2", "l1_polar", "ablations_cpu"),
            run(
                "c2s2",
                "before_relu",
                "resnet20_cifar10_ablation_before_relu_cpu",
            )
            .because(
                "with the gates projected to [0, 1], relu(w x) = w relu(x), so the pruning layer before the ReLU computes the same function as the default placement after it; the run's first four attempts reproduced the default run's kept counts and validation accuracies exactly, and it was stopped (see the spec's header)",
            ),
            run("c2s2", "ste", "ablations_cpu"),
            run("c2s2", "latency_cost", "ablations_cpu"),
        ],
    },
];

/// The setting called `name`.
pub fn setting(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.name == name)
}

/// How tables name a method.
pub fn method_label(method: &str) -> String {
    match method {
        "unpruned" => "unpruned".into(),
        "c2s2" => "C2S2".into(),
        "l1_norm" => "L1-norm".into(),
        "slimming" => "Network Slimming".into(),
        "random" => "random".into(),
        "scratch" => "scratch".into(),
        "uniform_l1_norm" => "uniform L1-norm".into(),
        other => other.into(),
    }
}
