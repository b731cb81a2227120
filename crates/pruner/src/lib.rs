//! Channel pruning: channel masks, physical channel removal (a smaller network of the
//! same architecture with the kept slices copied), and — built on them — C2S2 and the
//! baseline pruners.

mod error;
mod mask;
mod surgery;

pub use error::PruneError;
pub use mask::{ChannelMask, MaskSet};
pub use surgery::{apply_masks_as_gates, full_masks, remove_channels, PrunedModel};
