//! Each pruning method's channel selection, behind one interface ([`ChannelSelection`],
//! the role Torch-Pruning's `Importance` plays there): from the spec's start model to
//! a smaller network, and what to record about how.
use std::path::Path;

use anyhow::{Context, Result};
use engine::{evaluate, fit, TrainConfig, TrainData};
use models::ModelConfig;
use pruner::c2s2::{run_c2s2, C2s2Params};
use pruner::{
    bn_scale_names, l1_norm_masks, random_masks, remove_channels, slimming_masks, uniform_widths,
    PruneContext, PrunedModel,
};
use tch::nn::VarStore;
use tch::Device;

use super::sparsity_phase;
use crate::data::{resolve_root, DataSplits};
use crate::model_dir::{load_model_dir, read_model_config};
use crate::resolve::{model_config, train_config};
use crate::spec::{ModelSpec, Pruning, SlimmingSpec, Spec, Target, UniformSpec};
use crate::summary::{test_result, TestResult};

/// What every method's selection works with.
pub struct SelectionRun<'a> {
    pub spec: &'a Spec,
    pub seed: u64,
    pub device: Device,
    pub data: &'a DataSplits,
    /// The run directory (methods that checkpoint keep their state below it).
    pub dir: &'a Path,
    /// The fine-tune's configuration (its evaluation settings serve the selection too).
    pub finetune: &'a TrainConfig,
    /// The network the spec's `model` section describes: what pruning starts from.
    pub start_cfg: &'a ModelConfig,
}

impl SelectionRun<'_> {
    /// Test accuracy of `m`, as the run records it.
    pub fn test(&self, m: &PrunedModel) -> Result<TestResult> {
        Ok(test_result(evaluate(
            m.net.as_ref(),
            self.data.test.as_ref(),
            self.finetune.eval_batch_size,
            self.device,
            self.finetune.channels_last,
        )?))
    }

    /// The pre-trained model in `from` and its test accuracy.
    fn start(&self, from: &Path) -> Result<(PrunedModel, TestResult)> {
        let start = load_model_dir(&resolve_root(from), self.start_cfg, self.device)
            .context("prune.from")?;
        let test = self.test(&start)?;
        Ok((start, test))
    }

    /// The widths a `target` names.
    fn target_config(&self, target: &Target) -> Result<ModelConfig> {
        match target {
            Target::Widths(w) => {
                let s = Spec {
                    model: ModelSpec {
                        widths: Some(w.clone()),
                        ..self.spec.model.clone()
                    },
                    ..self.spec.clone()
                };
                Ok(model_config(&s)?)
            }
            Target::From(f) => read_model_config(&resolve_root(f)).context("prune.widths_from"),
        }
    }
}

/// What a selection produced.
pub struct Selected {
    /// The start model's test result (`None` for scratch, which has none).
    pub start_test: Option<TestResult>,
    pub pruned: PrunedModel,
    /// Method-specific log (C2S2: its groups and attempts).
    pub report: serde_json::Value,
    /// The method's options as used.
    pub options: serde_json::Value,
    /// Seconds the selection took, where the method records them itself because it
    /// checkpoints (a resumed run then reports all of it, not only the part since).
    pub recorded_seconds: Option<f64>,
}

/// One method's channel selection.
pub trait ChannelSelection {
    /// Selects (and removes) channels; `None` when stopped early (it resumes).
    fn select(&self, run: &SelectionRun) -> Result<Option<Selected>>;
}

/// The selection of a checked prune section.
pub fn selection(p: &Pruning) -> Box<dyn ChannelSelection + '_> {
    match p {
        Pruning::C2s2 { from, params } => Box::new(C2s2 { from, params }),
        Pruning::Slimming { from, options } => Box::new(Slimming { from, options }),
        Pruning::L1Norm { from, target } => Box::new(ToWidths {
            from,
            target,
            random: false,
        }),
        Pruning::Random { from, target } => Box::new(ToWidths {
            from,
            target,
            random: true,
        }),
        Pruning::Scratch { target } => Box::new(Scratch { target }),
        Pruning::UniformL1Norm { from, budget } => Box::new(UniformL1 { from, budget }),
    }
}

/// C2S2: progressive cost-aware selection with its accuracy guard.
struct C2s2<'a> {
    from: &'a Path,
    params: &'a C2s2Params,
}

impl ChannelSelection for C2s2<'_> {
    fn select(&self, run: &SelectionRun) -> Result<Option<Selected>> {
        let (start, start_test) = run.start(self.from)?;
        let val = run
            .data
            .val()
            .context("C2S2's accuracy guard needs dataset.validation_split > 0")?;
        let ctx = PruneContext {
            train: run.data.train.as_ref(),
            val,
            batch_size: run.spec.train.batch_size,
            eval_batch_size: run.finetune.eval_batch_size,
            device: run.device,
            channels_last: run.finetune.channels_last,
            seed: run.seed,
        };
        let (pruned, report) = run_c2s2(start, self.params, &ctx, &run.dir.join("c2s2"))?;
        Ok(Some(Selected {
            start_test: Some(start_test),
            pruned,
            recorded_seconds: Some(
                report
                    .groups
                    .iter()
                    .map(|g| g.selection_seconds + g.recovery_seconds)
                    .sum(),
            ),
            report: serde_json::to_value(&report)?,
            options: serde_json::to_value::<&pruner::c2s2::C2s2Config>(self.params)?,
        }))
    }
}

/// Network Slimming: sparsity training on the BN scales, then one global threshold.
struct Slimming<'a> {
    from: &'a Path,
    options: &'a SlimmingSpec,
}

impl ChannelSelection for Slimming<'_> {
    fn select(&self, run: &SelectionRun) -> Result<Option<Selected>> {
        let (start, start_test) = run.start(self.from)?;
        let sl = self.options;
        let mut sc = train_config(run.spec, run.seed, run.device);
        sc.epochs = sl.sparsity_epochs;
        sc.schedule.epochs = sl.sparsity_epochs;
        sc.schedule.warmup_epochs = sc
            .schedule
            .warmup_epochs
            .min(sl.sparsity_epochs as f64 / 2.0);
        if let engine::ScheduleKind::MultiStep { milestones, .. } = &mut sc.schedule.kind {
            milestones.retain(|&m| m < sl.sparsity_epochs);
        }
        sc.label = format!("{} sparsity", sc.label);
        sc.stop_after_epochs = run.finetune.stop_after_epochs;
        sc.gradient_hook = Some(std::sync::Arc::new(pruner::SlimmingSparsity {
            tensors: bn_scale_names(&start.config)?,
            strength: sl.sparsity,
        }));
        // The same phase finished by another point of the curve: copy it, train nothing.
        let key = sparsity_phase::phase_key(run.spec, run.seed, sl);
        let shared_from = match sparsity_phase::find_finished(run.dir, run.seed, &key) {
            Some(from) if sparsity_phase::adopt(&from, run.dir)? => {
                tracing::info!(
                    "{}: sparsity phase copied from {} (same start, data, training and seed)",
                    sc.label,
                    from.display()
                );
                from.file_name().map(|n| n.to_string_lossy().into_owned())
            }
            _ => None,
        };
        let out = fit(
            start.net.as_ref(),
            &start.vs,
            &sc,
            TrainData {
                train: run.data.train.as_ref(),
                val: run.data.val(),
            },
            &run.dir.join(sparsity_phase::PHASE_DIR),
        )?;
        if !out.finished {
            return Ok(None);
        }
        sparsity_phase::mark_finished(run.dir, &key)?;
        let masks = slimming_masks(&start.config, &start.vs, sl.budget(), sl.min_channels)
            .context("prune.slimming: sizing the global threshold")?;
        let pruned = remove_channels(&start.config, &start.vs, &masks)?;
        Ok(Some(Selected {
            start_test: Some(start_test),
            pruned,
            // The phase's own training time, also when copied: what the method costs.
            recorded_seconds: Some(out.history.iter().map(|m| m.train_seconds).sum()),
            report: serde_json::json!({
                "sparsity_history": out.history,
                "sparsity_phase_from": shared_from,
            }),
            options: serde_json::to_value(sl)?,
        }))
    }
}

/// L1-norm filters, or random channels, removed down to given widths, in one shot.
struct ToWidths<'a> {
    from: &'a Path,
    target: &'a Target,
    random: bool,
}

impl ChannelSelection for ToWidths<'_> {
    fn select(&self, run: &SelectionRun) -> Result<Option<Selected>> {
        let (start, start_test) = run.start(self.from)?;
        let target = run.target_config(self.target)?;
        let masks = if self.random {
            random_masks(&start.config, &target, run.seed)?
        } else {
            l1_norm_masks(&start.config, &start.vs, &target)?
        };
        let pruned = remove_channels(&start.config, &start.vs, &masks)?;
        Ok(Some(Selected {
            start_test: Some(start_test),
            pruned,
            recorded_seconds: None,
            report: serde_json::Value::Null,
            options: serde_json::to_value(&target)?,
        }))
    }
}

/// L1-norm filters at one keep ratio in every prunable layer, sized to a MACs budget.
struct UniformL1<'a> {
    from: &'a Path,
    budget: &'a UniformSpec,
}

impl ChannelSelection for UniformL1<'_> {
    fn select(&self, run: &SelectionRun) -> Result<Option<Selected>> {
        let (start, start_test) = run.start(self.from)?;
        let (target, keep) = uniform_widths(
            &start.config,
            self.budget.macs_pruned_pct,
            self.budget.min_channels,
        )
        .context("prune.uniform: sizing the keep ratio")?;
        let masks = l1_norm_masks(&start.config, &start.vs, &target)?;
        let pruned = remove_channels(&start.config, &start.vs, &masks)?;
        Ok(Some(Selected {
            start_test: Some(start_test),
            pruned,
            recorded_seconds: None,
            report: serde_json::json!({ "keep_ratio": keep }),
            options: serde_json::to_value(self.budget)?,
        }))
    }
}

/// The target widths from random initialisation (no start model).
struct Scratch<'a> {
    target: &'a Target,
}

impl ChannelSelection for Scratch<'_> {
    fn select(&self, run: &SelectionRun) -> Result<Option<Selected>> {
        let target = run.target_config(self.target)?;
        let vs = VarStore::new(run.device);
        let net = target.build(&vs.root())?;
        Ok(Some(Selected {
            start_test: None,
            options: serde_json::to_value(&target)?,
            pruned: PrunedModel {
                config: target,
                vs,
                net,
            },
            report: serde_json::Value::Null,
            recorded_seconds: None,
        }))
    }
}
