//! The command line: the spec to run, its options, and the subcommands (clap derive).
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "experiments",
    version,
    about = "C2S2 channel-pruning experiments from YAML specs",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Spec or study to run: a path, or a name under experiments/ (default: the embedded
    /// smoke spec).
    pub spec: Option<String>,
    /// Stop every seed after this many epochs; running the spec again resumes it.
    #[arg(long)]
    pub stop_after_epochs: Option<usize>,
    /// Root folder of run directories, overriding the spec's `output` (e.g. a folder
    /// outside the checkout for runs that outlive the checkout).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Studies: worker processes running ready runs side by side (CPU: the cores are
    /// split among them; several GPUs: one each; one GPU: shared).
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check a spec or study without running it: syntax, fields and ranges, then the files it
    /// names (data set and its counts, model folders, output folder).
    Validate(ValidateArgs),
    /// Print a study's runs, the state of each (done, resumable, ready, waiting on
    /// which run), the time each should take from earlier run records, and the total.
    /// Starts nothing.
    Plan(PlanArgs),
    /// Compute one run of a study by its id (`<entry>/seed<s>` as `plan` lists it) and
    /// publish it: what each worker (local or a Slurm array task) runs.
    RunOne(RunOneArgs),
    /// Submit a study's remaining runs to Slurm: one job array per wave of the graph,
    /// each wave after the previous one (`afterok`), then a job writing the table. The
    /// flags override the study's `slurm:` section. A shared file system is assumed;
    /// submitting again skips finished runs and resumes cut-off ones.
    Submit(SubmitArgs),
    /// Print parameters and MACs of every architecture at its usual input size.
    Models,
    /// Rebuild a saved model (`model.json` + `model.safetensors`) and evaluate it on a
    /// data set's test split.
    Eval(EvalArgs),
    /// Copy a finished run's records (summary, metrics, resolved spec, widths, weights)
    /// into a results folder, e.g. results/resnet20_cifar10/pretrained.
    Publish(PublishArgs),
    /// What one channel of each prunable layer of a saved model costs (MACs,
    /// parameters, or latency timed here layer by layer) and its share c_l, the weight
    /// the cost-aware mechanism gives that layer's lambda.
    ChannelCosts(ChannelCostsArgs),
    /// Copy the resumable state of a spec's unfinished runs (`<output>/<name>/seed*`)
    /// into results/in_progress/<name>/ with a README saying how to resume, so it can be
    /// committed and resumed elsewhere.
    Snapshot(SnapshotArgs),
    /// Forward latency of saved models (e.g. an unpruned and pruned run directories):
    /// warm-up, repeats, median and inter-quartile range at each batch size.
    BenchLatency(BenchLatencyArgs),
    /// Micro-benchmarks (one JSON line each); scripts/bench_*.sh drive them.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Regenerate every results table (CSV + Markdown) and plot (PNG + SVG) from the run
    /// records under results/ and the published numbers in paper/published.csv.
    Report(ReportArgs),
}

/// Arguments of `snapshot`.
#[derive(Args)]
pub struct SnapshotArgs {
    /// The spec's `name` (a study run's, as its run directory `<output>/<name>/` shows).
    pub name: String,
    /// Root of the run directories.
    #[arg(long, default_value = "runs")]
    pub output: PathBuf,
    #[arg(long, default_value = "results/in_progress")]
    pub dest: PathBuf,
    /// A paragraph for the README (e.g. what slowed the run down).
    #[arg(long)]
    pub note: Option<String>,
}

/// Arguments of `validate`.
#[derive(Args)]
pub struct ValidateArgs {
    pub spec: String,
    /// Check the spec text only, not the files it names (e.g. before the data set
    /// is on this machine).
    #[arg(long)]
    pub no_files: bool,
}

/// Arguments of `plan`.
#[derive(Args)]
pub struct PlanArgs {
    pub study: String,
    /// Root folder of run directories, overriding the study's `output`.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// Arguments of `run-one`.
#[derive(Args)]
pub struct RunOneArgs {
    pub study: String,
    pub run: String,
    /// libtorch threads for this run (overrides the spec's `threads`).
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(long)]
    pub output: Option<PathBuf>,
    #[arg(long)]
    pub stop_after_epochs: Option<usize>,
}

/// Arguments of `submit`.
#[derive(Args)]
pub struct SubmitArgs {
    pub study: String,
    #[arg(long)]
    pub partition: Option<String>,
    /// Generic resources per array task, e.g. `gpu:1`.
    #[arg(long)]
    pub gres: Option<String>,
    /// Time limit per array task, e.g. `04:00:00`.
    #[arg(long)]
    pub time: Option<String>,
    /// CPUs per array task (also the run's libtorch threads).
    #[arg(long)]
    pub cpus: Option<u32>,
    /// Memory per array task, e.g. `16G`.
    #[arg(long)]
    pub mem: Option<String>,
    #[arg(long)]
    pub account: Option<String>,
    /// A further sbatch option, e.g. `--sbatch-arg=--qos=long` (repeatable).
    #[arg(long = "sbatch-arg")]
    pub sbatch_args: Vec<String>,
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Write the scripts and print what would be submitted; submit nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Arguments of `eval`.
#[derive(Args)]
pub struct EvalArgs {
    /// Folder with model.json and model.safetensors (e.g. a run directory).
    pub model_dir: PathBuf,
    /// Data-set root (CIFAR-10: binary release or image folders).
    #[arg(long, default_value = "data/cifar10")]
    pub dataset: PathBuf,
    /// Evaluate on the test split of this spec's data set instead (any data set:
    /// e.g. `resnet18_imagenet_sample` for torchvision's ResNet-18 weights).
    #[arg(long, conflicts_with = "dataset")]
    pub spec: Option<String>,
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
}

/// Arguments of `publish`.
#[derive(Args)]
pub struct PublishArgs {
    pub run_dir: PathBuf,
    pub dest: PathBuf,
    /// Store the weights in half precision (halves the size of large models).
    #[arg(long)]
    pub half: bool,
}

/// Arguments of `channel-costs`.
#[derive(Args)]
pub struct ChannelCostsArgs {
    /// A model folder (model.json) or a model.json file.
    pub model: PathBuf,
    /// What a channel costs.
    #[arg(long, value_enum, default_value_t = MetricArg::Macs)]
    pub metric: MetricArg,
    /// Also the stage-coupled residual groups (ResNets).
    #[arg(long)]
    pub groups: bool,
    /// Latency only: images per timed pass.
    #[arg(long, default_value_t = 128)]
    pub batch: i64,
    /// Latency only: timed passes per layer shape (the median is kept; shapes alternate).
    #[arg(long, default_value_t = 15)]
    pub repeats: usize,
    /// Latency only: the device timed.
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
    /// Latency only: the memory layout timed.
    #[arg(long, value_enum, default_value_t = LayoutArg::ChannelsLast)]
    pub layout: LayoutArg,
}

/// Arguments of `bench-latency`.
#[derive(Args)]
pub struct BenchLatencyArgs {
    /// Model folders (model.json + model.safetensors).
    #[arg(required_unless_present = "setting")]
    pub model_dirs: Vec<PathBuf>,
    /// Time every published model of this setting (repeatable; with a base setting,
    /// e.g. `ablations`, also the base's unpruned and C2S2 models) in one run, and
    /// write `<results>/<setting>/latency.csv`, which the tables read.
    #[arg(long)]
    pub setting: Vec<String>,
    /// Root of the published records, for `--setting`.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    #[arg(long, value_delimiter = ',', default_value = "1,128")]
    pub batches: Vec<i64>,
    #[arg(long, default_value_t = 30)]
    pub repeats: usize,
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
    /// Memory layouts to measure (with both, tables take each model's faster one).
    #[arg(long, value_enum, default_value_t = LayoutsArg::Both)]
    pub layout: LayoutsArg,
    /// Also write the rows to this CSV file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

/// Arguments of `report`.
#[derive(Args)]
pub struct ReportArgs {
    /// Folder with one sub-folder per setting (vgg_cifar10, resnet20_cifar10, ...).
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Published reference numbers.
    #[arg(long, default_value = "paper/published.csv")]
    pub published: PathBuf,
    /// Only this setting (default: all).
    #[arg(long)]
    pub setting: Option<String>,
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// One SGD training step on random data.
    TrainStep {
        #[command(flatten)]
        step: StepArgs,
        /// Keep NCHW instead of channels-last.
        #[arg(long)]
        nchw: bool,
        /// bfloat16 autocast forward.
        #[arg(long)]
        bf16: bool,
        #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
        device: DeviceArg,
    },
    /// C2S2 phase-1 selection step vs training step, masked vs plain forward.
    SelectionStep {
        #[command(flatten)]
        step: StepArgs,
        /// Index of the gated prunable layer (0 = the first, the worst case).
        #[arg(long, default_value_t = 0)]
        layer: usize,
    },
    /// CIFAR-10 cache load time and augmented-batch throughput.
    Data {
        #[arg(long, default_value = "data/cifar10")]
        root: PathBuf,
        #[arg(long, default_value_t = 128)]
        batch: usize,
    },
    /// Writes results/bench/c2s2_steps.md: `selection-step` of ResNet-20 (30 steps) and
    /// VGG-16 (8 steps) on this machine.
    C2s2Steps {
        #[arg(long, default_value = "results/bench/c2s2_steps.md")]
        output: PathBuf,
    },
    /// Writes results/bench/data.md: `data` beside a ResNet-20 `train-step`, one run.
    DataPipeline {
        #[arg(long, default_value = "data/cifar10")]
        root: PathBuf,
        #[arg(long, default_value = "results/bench/data.md")]
        output: PathBuf,
    },
    /// Writes `<dir>/<name>.csv` and `.md` from `train-step` records of this project
    /// and PyTorch's twin (JSON lines, as scripts/bench_train_step.sh collects them).
    TrainStepPage {
        raw: PathBuf,
        #[arg(long, default_value = "results/bench")]
        dir: PathBuf,
        #[arg(long, default_value = "train_step")]
        name: String,
    },
    /// Writes the allocator page from scripts/bench_allocator.sh's raw lines.
    AllocatorPage {
        raw: PathBuf,
        #[arg(long)]
        output: PathBuf,
        /// Rounds the raw lines hold (the page says it).
        #[arg(long)]
        rounds: usize,
    },
    /// ImageNet input pipeline: decode + training / evaluation transforms, images/s.
    ImagenetData {
        /// A folder of class folders, e.g. an ImageNet val/ or train/.
        #[arg(long)]
        root: PathBuf,
        #[arg(long, default_value_t = 64)]
        batch: usize,
    },
}

/// The workload of the step benchmarks (`bench train-step`, `bench selection-step`).
#[derive(Args)]
pub struct StepArgs {
    /// resnet20, vgg16 (CIFAR inputs, 32 x 32), resnet18 (224 x 224), or a model
    /// folder (model.json), e.g. a pruned model.
    #[arg(long, default_value = "resnet20")]
    pub model: String,
    /// Images per step.
    #[arg(long, default_value_t = 128)]
    pub batch: i64,
    /// Timed steps.
    #[arg(long, default_value_t = 20)]
    pub iters: usize,
    /// Untimed steps first.
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,
}

impl StepArgs {
    pub fn bench(self) -> experiments::bench::StepBench {
        experiments::bench::StepBench {
            model: self.model,
            batch: self.batch,
            iters: self.iters,
            warmup: self.warmup,
        }
    }
}

/// `--device`: where tensors live.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DeviceArg {
    Cpu,
    /// The first CUDA GPU (an error where libtorch sees none).
    Cuda,
    /// CUDA where available, else the CPU.
    Auto,
}

impl DeviceArg {
    /// The device, chosen as a spec's `device` field is.
    pub fn device(self) -> Result<tch::Device> {
        experiments::resolve::pick_device(match self {
            Self::Cpu => experiments::spec::DeviceSpec::Cpu,
            Self::Cuda => experiments::spec::DeviceSpec::Cuda,
            Self::Auto => experiments::spec::DeviceSpec::Auto,
        })
    }
}

/// `--metric` of `channel-costs`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MetricArg {
    Macs,
    Params,
    /// Timed here, layer shape by layer shape.
    Latency,
}

impl From<MetricArg> for pruner::CostMetric {
    fn from(m: MetricArg) -> Self {
        match m {
            MetricArg::Macs => Self::Macs,
            MetricArg::Params => Self::Params,
            MetricArg::Latency => Self::Latency,
        }
    }
}

/// One memory layout.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LayoutArg {
    Nchw,
    ChannelsLast,
}

impl LayoutArg {
    pub fn channels_last(self) -> bool {
        matches!(self, Self::ChannelsLast)
    }
}

/// The memory layouts `bench-latency` measures.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LayoutsArg {
    Nchw,
    ChannelsLast,
    Both,
}

impl LayoutsArg {
    /// `channels_last` values to measure.
    pub fn channels_last(self) -> &'static [bool] {
        match self {
            Self::Nchw => &[false],
            Self::ChannelsLast => &[true],
            Self::Both => &[false, true],
        }
    }
}
