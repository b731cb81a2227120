//! The C2S2 options. Every [design] choice of the method (see
//! ../shared/reference/c2s2.md section 3) is a named field with the default given there,
//! so each ablation of the thesis's section 4.2 is a spec.
use models::GatePlacement;
use serde::{Deserialize, Serialize};

use crate::{CostMetric, GateFormat, LatencyConfig};

/// The sparsity criterion R(w) of phase 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SparsityCriterion {
    /// R(w) = ||w||_1 / C: pushes many entries to zero.
    #[default]
    L1,
    /// R(w) = ||w||_1 / C + polar_weight * mean(w (1 - w)): also pushes entries to 0 or 1.
    L1Polar,
}

/// The order in which layers are pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LayerOrder {
    #[default]
    Network,
    Reverse,
    /// Highest per-channel cost first.
    MostCostlyFirst,
}

/// What the accuracy guard compares the masked network with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GuardReference {
    /// The network as it is before this layer is pruned.
    #[default]
    Current,
    /// The unpruned starting network (a global accuracy budget).
    Original,
}

/// Phase 1 (selection): only the pruning layers' kernels train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectionConfig {
    #[serde(default = "d_sel_iters")]
    pub iterations: usize,
    /// Adam step size of the kernels w.
    #[serde(default = "d_sel_lr")]
    pub lr: f64,
    /// Also train the network weights during selection (BN in training mode) instead of
    /// freezing them (frozen: BN in eval mode, no weight gradients computed).
    #[serde(default)]
    pub train_network: bool,
}

fn d_sel_iters() -> usize {
    150
}
fn d_sel_lr() -> f64 {
    0.02
}

impl Default for SelectionConfig {
    fn default() -> Self {
        Self {
            iterations: d_sel_iters(),
            lr: d_sel_lr(),
            train_network: false,
        }
    }
}

/// Phase 2 (recovery): the network trains with the layer's channels removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryConfig {
    #[serde(default = "d_rec_iters")]
    pub iterations: usize,
    #[serde(default = "d_rec_lr")]
    pub lr: f64,
    #[serde(default = "d_momentum")]
    pub momentum: f64,
    #[serde(default = "d_wd")]
    pub weight_decay: f64,
}

fn d_rec_iters() -> usize {
    150
}
fn d_rec_lr() -> f64 {
    0.01
}
fn d_momentum() -> f64 {
    0.9
}
fn d_wd() -> f64 {
    5e-4
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        Self {
            iterations: d_rec_iters(),
            lr: d_rec_lr(),
            momentum: d_momentum(),
            weight_decay: d_wd(),
        }
    }
}

/// All options of C2S2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct C2s2Config {
    /// Base sparsity weight lambda; layer l uses lambda * c_l (cost-aware) or lambda.
    #[serde(default = "d_lambda")]
    pub lambda: f64,
    /// Binarization threshold tau in (0, 1).
    #[serde(default = "d_tau")]
    pub tau: f64,
    /// Kernel format in phase 1: real (default) or straight-through estimator.
    #[serde(default)]
    pub format: GateFormat,
    #[serde(default)]
    pub placement: GatePlacement,
    #[serde(default)]
    pub criterion: SparsityCriterion,
    /// Weight of the w(1 - w) term of `l1_polar`.
    #[serde(default = "d_polar")]
    pub polar_weight: f64,
    #[serde(default)]
    pub order: LayerOrder,
    #[serde(default)]
    pub cost_metric: CostMetric,
    /// How layers are timed when `cost_metric` is `latency` (left out otherwise, and out
    /// of the serialized config when not given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyConfig>,
    /// Scale lambda per layer by its channel cost share (off: the same lambda everywhere).
    #[serde(default = "d_true")]
    pub cost_aware: bool,
    /// Prune layer by layer (off: all layers in one selection step).
    #[serde(default = "d_true")]
    pub progressive: bool,
    /// Largest validation top-1 drop (points) the guard accepts.
    #[serde(default = "d_tol")]
    pub tolerance: f64,
    /// Times lambda is halved and selection repeated when the guard fails.
    #[serde(default = "d_retries")]
    pub max_retries: usize,
    /// After the guard accepts a lambda that follows a rejection, bisect (geometric mean)
    /// between the two this many more times, keeping the accepted selection that leaves
    /// the least cost. 0 (the default) keeps plain halving. Left out of the serialized
    /// config at 0, so run keys of specs without it do not change.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub refine_steps: usize,
    #[serde(default)]
    pub guard_reference: GuardReference,
    /// Fewest channels a layer keeps.
    #[serde(default = "d_min")]
    pub min_channels: usize,
    /// Fewest channels as a fraction of the layer's width.
    #[serde(default)]
    pub min_fraction: f64,
    /// Round kept channels up to a multiple of this (8 often runs faster).
    #[serde(default = "d_round")]
    pub round_to: usize,
    /// Also prune the stage-coupled residual groups of ResNets (`layer1`, `layer2`, ...:
    /// the channels joined by residual adds), after the blocks' inner channels.
    #[serde(default)]
    pub residual_groups: bool,
    /// Only these prunable layers (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<String>>,
    #[serde(default)]
    pub selection: SelectionConfig,
    #[serde(default)]
    pub recovery: RecoveryConfig,
}

fn d_lambda() -> f64 {
    1.0
}
fn d_tau() -> f64 {
    0.5
}
fn d_polar() -> f64 {
    1.0
}
fn d_true() -> bool {
    true
}
fn d_tol() -> f64 {
    1.0
}
fn d_retries() -> usize {
    4
}
fn is_zero(v: &usize) -> bool {
    *v == 0
}
fn d_min() -> usize {
    1
}
fn d_round() -> usize {
    1
}

impl Default for C2s2Config {
    fn default() -> Self {
        serde_json::from_str("{}").expect("every field has a default")
    }
}

/// C2S2's options after their range checks ([`C2s2Config::check`]): the only form
/// [`crate::c2s2::run_c2s2`] accepts. Reads as the config it wraps.
#[derive(Debug, Clone, PartialEq)]
pub struct C2s2Params(C2s2Config);

impl std::ops::Deref for C2s2Params {
    type Target = C2s2Config;
    fn deref(&self) -> &C2s2Config {
        &self.0
    }
}

/// A C2S2 option out of range: the field (relative to the C2S2 section, e.g.
/// `selection.iterations`) and what it must be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct C2s2OptionError {
    pub field: String,
    pub message: String,
}

impl C2s2Config {
    /// The checked options, or the first option out of range.
    pub fn check(self) -> Result<C2s2Params, C2s2OptionError> {
        match self.validate() {
            Ok(()) => Ok(C2s2Params(self)),
            Err((field, message)) => Err(C2s2OptionError { field, message }),
        }
    }

    /// Range checks; errors are `(field, message)` with fields relative to this section.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let fail = |f: &str, m: String| Err((f.to_string(), m));
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return fail("lambda", format!("must be >= 0, found {}", self.lambda));
        }
        if !(self.tau > 0.0 && self.tau < 1.0) {
            return fail("tau", format!("must be in (0, 1), found {}", self.tau));
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return fail(
                "tolerance",
                format!("must be >= 0 (points of top-1), found {}", self.tolerance),
            );
        }
        if self.min_channels == 0 {
            return fail(
                "min_channels",
                "must be at least 1 (a layer never loses every channel)".into(),
            );
        }
        if !(0.0..1.0).contains(&self.min_fraction) {
            return fail(
                "min_fraction",
                format!("must be in [0, 1), found {}", self.min_fraction),
            );
        }
        if self.refine_steps > 10 {
            return fail(
                "refine_steps",
                format!(
                    "must be at most 10 (each step is one more selection), found {}",
                    self.refine_steps
                ),
            );
        }
        if let Some(l) = &self.latency {
            if self.cost_metric != CostMetric::Latency {
                return fail(
                    "latency",
                    "is only read with `cost_metric: latency`; remove it or set that".into(),
                );
            }
            if l.repeats == 0 {
                return fail("latency.repeats", "must be at least 1".into());
            }
            if !(0.0..=1.0).contains(&l.max_others_load) {
                return fail(
                    "latency.max_others_load",
                    format!(
                        "must be a share in [0, 1] (1 accepts any load), found {}",
                        l.max_others_load
                    ),
                );
            }
            if l.max_spread.is_nan() || l.max_spread <= 0.0 {
                return fail(
                    "latency.max_spread",
                    format!(
                        "must be positive (.inf accepts any noise), found {}",
                        l.max_spread
                    ),
                );
            }
            if l.batch.is_some_and(|b| b < 1) {
                return fail(
                    "latency.batch",
                    format!("must be at least 1, found {}", l.batch.unwrap_or(0)),
                );
            }
        }
        if self.round_to == 0 {
            return fail("round_to", "must be at least 1".into());
        }
        if !(self.polar_weight.is_finite() && self.polar_weight >= 0.0) {
            return fail(
                "polar_weight",
                format!("must be >= 0, found {}", self.polar_weight),
            );
        }
        if self.selection.iterations == 0 {
            return fail("selection.iterations", "must be at least 1".into());
        }
        if !(self.selection.lr.is_finite() && self.selection.lr > 0.0) {
            return fail(
                "selection.lr",
                format!("must be > 0, found {}", self.selection.lr),
            );
        }
        if !(self.recovery.lr.is_finite() && self.recovery.lr > 0.0) {
            return fail(
                "recovery.lr",
                format!("must be > 0, found {}", self.recovery.lr),
            );
        }
        if !(0.0..1.0).contains(&self.recovery.momentum) {
            return fail(
                "recovery.momentum",
                format!("must be in [0, 1), found {}", self.recovery.momentum),
            );
        }
        if !(self.recovery.weight_decay.is_finite()
            && self.recovery.weight_decay.is_sign_positive())
        {
            return fail(
                "recovery.weight_decay",
                format!("must be >= 0, found {}", self.recovery.weight_decay),
            );
        }
        Ok(())
    }
}
