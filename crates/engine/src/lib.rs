//! Training and evaluation of the C2S2 experiments: SGD with momentum, learning-rate
//! schedules, train / eval loops with top-1 and top-5 accuracy (classification) or pixel
//! accuracy and mean IU (segmentation), resumable checkpoints
//! (safetensors, written atomically), per-epoch metrics and a progress bar.

mod allocator;
mod autocast;
mod checkpoint;
mod error;
mod eval;
mod flat;
mod load;
mod memory_format;
mod metrics;
mod optim;
mod progress;
mod schedule;
mod seeding;
pub mod snapshot;
pub mod stats;
mod steps;
mod task;
mod train;

pub use allocator::{allocator_left_alone, keep_freed_memory};
pub use autocast::{Autocast, Precision};
pub use checkpoint::{load_matching, load_weights, save_weights, Checkpoint, PartialLoad};
pub use error::EngineError;
pub use eval::{evaluate, EvalResult};
pub use load::LoadWindow;
pub use memory_format::{to_channels_last, vars_to_channels_last};
pub use metrics::{EpochMetrics, MetricsLog};
pub use optim::{Sgd, SgdConfig};
pub use schedule::{LrSchedule, ScheduleKind};
pub use seeding::seed_exclusive;
pub use snapshot::SnapshotDir;
pub use steps::{train_iterations, StepStats};
pub use task::{loss, SegmentationMetrics, IGNORE_LABEL};
pub use train::{fit, GradientHook, TrainConfig, TrainData, TrainOutcome};
