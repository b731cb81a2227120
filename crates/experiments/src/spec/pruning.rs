//! The prune section checked into one variant per method, each holding exactly what
//! that method needs (its start model, its checked options, its target widths), so a
//! run matches on the method once and never re-checks the section.
use std::path::PathBuf;

use pruner::c2s2::C2s2Params;

use super::network::model_config;
use super::{Arch, ModelSpec, PruneMethod, PruneSpec, SlimmingSpec, Spec, UniformSpec, WidthsSpec};

/// Where the target widths of `l1_norm`, `random` and `scratch` come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Given in the spec (`prune.widths`).
    Widths(WidthsSpec),
    /// Another model's `model.json` (`prune.widths_from`), e.g. what C2S2 found.
    From(PathBuf),
}

/// A checked prune section ([`PruneSpec::check`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Pruning {
    /// C2S2 from the model folder `from`.
    C2s2 { from: PathBuf, params: C2s2Params },
    /// The smallest-L1 filters of `from` removed down to `target`.
    L1Norm { from: PathBuf, target: Target },
    /// Random channels of `from` kept at `target`.
    Random { from: PathBuf, target: Target },
    /// Network Slimming: sparsity training of `from`, then one global threshold.
    Slimming {
        from: PathBuf,
        options: SlimmingSpec,
    },
    /// `target` trained from random initialisation.
    Scratch { target: Target },
    /// The smallest-L1 filters of `from` removed at one keep ratio in every layer,
    /// sized to `budget`.
    UniformL1Norm { from: PathBuf, budget: UniformSpec },
}

impl Pruning {
    /// The method, as the spec names it.
    pub fn method(&self) -> PruneMethod {
        match self {
            Pruning::C2s2 { .. } => PruneMethod::C2s2,
            Pruning::L1Norm { .. } => PruneMethod::L1Norm,
            Pruning::Random { .. } => PruneMethod::Random,
            Pruning::Slimming { .. } => PruneMethod::Slimming,
            Pruning::Scratch { .. } => PruneMethod::Scratch,
            Pruning::UniformL1Norm { .. } => PruneMethod::UniformL1Norm,
        }
    }
}

type Fail = (String, String);

fn fail<T>(field: &str, message: impl Into<String>) -> Result<T, Fail> {
    Err((field.to_string(), message.into()))
}

impl PruneSpec {
    /// Checks the section against the rest of `s` and returns it as one variant per
    /// method; errors are `(field path, message)`.
    pub fn check(&self, s: &Spec) -> Result<Pruning, Fail> {
        if s.model.init_from.is_some() {
            return fail(
                "model.init_from",
                "applies to plain training; a pruning spec starts from prune.from",
            );
        }
        let method = self.method;
        let from = match (&self.from, method) {
            (Some(f), _) => f.clone(),
            (None, PruneMethod::Scratch) => PathBuf::new(),
            (None, _) => return fail("prune.from", "names the pre-trained model folder (model.safetensors + model.json); required by every method but scratch"),
        };
        if method != PruneMethod::C2s2 && self.c2s2.is_some() {
            return fail("prune.c2s2", "options of c2s2 given for another method");
        }
        if method != PruneMethod::Slimming && self.slimming.is_some() {
            return fail(
                "prune.slimming",
                "options of slimming given for another method",
            );
        }
        if method != PruneMethod::UniformL1Norm && self.uniform.is_some() {
            return fail(
                "prune.uniform",
                "the budget of uniform_l1_norm given for another method",
            );
        }
        let target = self.target(s)?;
        // `target` is `Some` exactly for the methods pruned to given widths.
        let widths = || {
            target.clone().ok_or_else(|| {
                (
                    "prune.widths".to_string(),
                    format!("{method:?} needs target widths"),
                )
            })
        };
        Ok(match method {
            PruneMethod::C2s2 => Pruning::C2s2 {
                from,
                params: self
                    .c2s2
                    .clone()
                    .unwrap_or_default()
                    .check()
                    .map_err(|e| (format!("prune.c2s2.{}", e.field), e.message))?,
            },
            PruneMethod::Slimming => Pruning::Slimming {
                from,
                options: self.slimming_options(s)?,
            },
            PruneMethod::L1Norm => Pruning::L1Norm {
                from,
                target: widths()?,
            },
            PruneMethod::Random => Pruning::Random {
                from,
                target: widths()?,
            },
            PruneMethod::Scratch => Pruning::Scratch { target: widths()? },
            PruneMethod::UniformL1Norm => Pruning::UniformL1Norm {
                from,
                budget: self.uniform_budget()?,
            },
        })
    }

    fn uniform_budget(&self) -> Result<UniformSpec, Fail> {
        let Some(u) = self.uniform.clone() else {
            return fail(
                "prune.uniform",
                "uniform_l1_norm needs its budget: prune.uniform.macs_pruned_pct (in a study: prune.macs_from)",
            );
        };
        if !(u.macs_pruned_pct > 0.0 && u.macs_pruned_pct < 100.0) {
            return fail(
                "prune.uniform.macs_pruned_pct",
                format!(
                    "must be a percentage in (0, 100), found {}",
                    u.macs_pruned_pct
                ),
            );
        }
        if u.min_channels == 0 {
            return fail("prune.uniform.min_channels", "must be at least 1");
        }
        Ok(u)
    }

    fn slimming_options(&self, s: &Spec) -> Result<SlimmingSpec, Fail> {
        if s.model.arch == Arch::Fcn32s {
            return fail(
                "prune.method",
                "Network Slimming ranks channels by BN scales, and fcn32s has no batch norm",
            );
        }
        let sl = self.slimming.clone().unwrap_or_default();
        if !(sl.sparsity.is_finite() && sl.sparsity >= 0.0) {
            return fail(
                "prune.slimming.sparsity",
                format!("must be >= 0, found {}", sl.sparsity),
            );
        }
        match (sl.fraction, sl.macs_pruned_pct) {
            (Some(_), Some(_)) => {
                return fail(
                    "prune.slimming.macs_pruned_pct",
                    "give either fraction (of channels) or macs_pruned_pct, not both",
                )
            }
            (Some(f), None) if !(f > 0.0 && f < 1.0) => {
                return fail(
                    "prune.slimming.fraction",
                    format!("must be in (0, 1), found {f}"),
                )
            }
            (None, Some(p)) if !(p > 0.0 && p < 100.0) => {
                return fail(
                    "prune.slimming.macs_pruned_pct",
                    format!("must be a percentage in (0, 100), found {p}"),
                )
            }
            _ => {}
        }
        if sl.min_channels == 0 {
            return fail("prune.slimming.min_channels", "must be at least 1");
        }
        Ok(sl)
    }

    /// The target widths of the methods pruned to given widths (`None` for the others,
    /// which must not give any).
    fn target(&self, s: &Spec) -> Result<Option<Target>, Fail> {
        let needs_widths = matches!(
            self.method,
            PruneMethod::L1Norm | PruneMethod::Random | PruneMethod::Scratch
        );
        let target = match (needs_widths, &self.widths, &self.widths_from) {
            (true, None, None) => {
                return fail(
                    "prune.widths",
                    format!(
                        "{:?} needs target widths (prune.widths or prune.widths_from)",
                        self.method
                    ),
                )
            }
            (true, Some(_), Some(_)) => {
                return fail(
                    "prune.widths_from",
                    "give prune.widths or prune.widths_from, not both",
                )
            }
            (false, Some(_), _) => {
                return fail(
                    "prune.widths",
                    format!("{:?} chooses the widths itself", self.method),
                )
            }
            (false, _, Some(_)) => {
                return fail(
                    "prune.widths_from",
                    format!("{:?} chooses the widths itself", self.method),
                )
            }
            (false, None, None) => return Ok(None),
            (true, Some(w), None) => Target::Widths(w.clone()),
            (true, None, Some(f)) => Target::From(f.clone()),
        };
        if let Target::Widths(w) = &target {
            let with_target = Spec {
                model: ModelSpec {
                    widths: Some(w.clone()),
                    ..s.model.clone()
                },
                ..s.clone()
            };
            let t = model_config(&with_target)
                .map_err(|e| ("prune.widths".to_string(), e.to_string()))?;
            let start = model_config(s).map_err(|e| ("model.widths".to_string(), e.to_string()))?;
            for (tl, ol) in t.prunable_layers().iter().zip(start.prunable_layers()) {
                if self.method != PruneMethod::Scratch && tl.channels > ol.channels {
                    return fail(
                        "prune.widths",
                        format!(
                            "layer {} would grow from {} to {} channels",
                            tl.name, ol.channels, tl.channels
                        ),
                    );
                }
            }
            if t.cost((32, 32)).params() == 0 {
                return fail("prune.widths", "describes an empty network");
            }
        }
        Ok(Some(target))
    }
}

impl Spec {
    /// The checked prune section (`None` for plain training). A loaded spec passed
    /// these checks, so an error here means the spec was built by hand.
    pub fn pruning(&self) -> Result<Option<Pruning>, Fail> {
        self.prune.as_ref().map(|p| p.check(self)).transpose()
    }
}
