//! C2S2: cost-aware channel sparse selection for progressive network pruning.
//!
//! For each group of layers (one layer when progressive, all layers otherwise):
//! phase 1 trains pruning-layer kernels with a cost-weighted sparsity penalty; the
//! accuracy guard checks the binary-masked network on the validation split and halves
//! lambda until it passes (optionally refining between the last two, `search`); the masked channels are removed physically; phase 2 trains
//! the smaller network to recover. State is saved after every group, so a killed run
//! resumes at the next group.

mod config;
mod progressive;
mod search;
mod select;

pub use config::{
    C2s2Config, C2s2OptionError, C2s2Params, GuardReference, LayerOrder, RecoveryConfig,
    SelectionConfig, SparsityCriterion,
};
pub use progressive::{run_c2s2, Attempt, C2s2Report, LayerRecord};
