//! Channel pruning: channel masks, physical channel removal (a smaller network of the
//! same architecture with the kept slices copied), and — built on them — C2S2 and the
//! baseline pruners.

mod baselines;
pub mod c2s2;
mod context;
mod cost;
mod error;
mod mask;
mod pruning_layer;
mod slimming;
mod surgery;

pub use baselines::{l1_norm_masks, random_masks, uniform_widths};
pub use context::PruneContext;
pub use cost::{CostMeter, CostMetric, CostModel, LatencyConfig, LatencyTable};
pub use error::PruneError;
pub use mask::{ChannelMask, MaskSet};
pub use pruning_layer::{mask_from_scores, GateFormat, PruningLayer};
pub use slimming::{bn_scale_names, slimming_masks, SlimmingBudget, SlimmingSparsity};
pub use surgery::{apply_masks_as_gates, full_masks, remove_channels, PrunedModel};
