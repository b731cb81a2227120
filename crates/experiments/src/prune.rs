//! A pruning run: load the pre-trained model, prune it with the spec's method, fine-tune
//! the smaller network, and record everything in `summary.json`.
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use engine::{evaluate, fit, save_weights, TrainData};
use models::ModelConfig;
use pruner::c2s2::run_c2s2;
use pruner::{
    bn_scale_names, l1_norm_masks, random_masks, remove_channels, slimming_masks, PruneContext,
    PrunedModel,
};
use tch::nn::VarStore;
use tch::{Device, Kind};

use crate::atomic::write_atomic;
use crate::data::{resolve_root, DataSplits};
use crate::model_dir::{load_model_dir, read_model_config};
use crate::resolve::{model_config, train_config};
use crate::spec::{ModelSpec, PruneMethod, Spec};
use crate::summary::{test_result, FinishedRun, LayerWidth, PruningRecord, Summary};

/// The target widths of `l1_norm`, `random` and `scratch`.
fn target_config(spec: &Spec) -> Result<ModelConfig> {
    let p = spec.prune.as_ref().expect("a prune spec");
    if let Some(w) = &p.widths {
        let s = Spec {
            model: ModelSpec {
                widths: Some(w.clone()),
                ..spec.model.clone()
            },
            ..spec.clone()
        };
        return Ok(model_config(&s)?);
    }
    let f = p
        .widths_from
        .as_ref()
        .expect("validated: widths or widths_from");
    read_model_config(&resolve_root(f)).context("prune.widths_from")
}

/// Runs one seed of a pruning spec; `None` when stopped early (it resumes).
pub fn prune_one(
    spec: &Spec,
    seed: u64,
    device: Device,
    data: &DataSplits,
    dir: &Path,
    stop_after_epochs: Option<usize>,
) -> Result<Option<Summary>> {
    let p = spec.prune.as_ref().expect("a prune spec");
    let start_cfg = model_config(spec)?;
    let hw = start_cfg.default_input_hw();
    let mut tc = train_config(spec, seed, device);
    tc.stop_after_epochs = stop_after_epochs;
    let eval = |m: &PrunedModel| -> Result<_> {
        Ok(test_result(evaluate(
            m.net.as_ref(),
            data.test.as_ref(),
            tc.eval_batch_size,
            device,
            tc.channels_last,
        )?))
    };
    tch::manual_seed(seed as i64);
    let t_sel = Instant::now();
    // Selection that checkpoints its progress (C2S2's groups, slimming's sparsity
    // epochs) records its own time, so a resumed run reports all of it, not only the
    // part since the resume.
    let mut recorded_selection_seconds: Option<f64> = None;
    let (start_test, pruned, report, options) = match p.method {
        PruneMethod::Scratch => {
            let target = target_config(spec)?;
            let vs = VarStore::new(device);
            let net = target.build(&vs.root())?;
            (
                None,
                PrunedModel {
                    config: target.clone(),
                    vs,
                    net,
                },
                serde_json::Value::Null,
                serde_json::to_value(&target)?,
            )
        }
        method => {
            let from = resolve_root(p.from.as_ref().expect("validated"));
            let start = load_model_dir(&from, &start_cfg, device).context("prune.from")?;
            let start_test = eval(&start)?;
            let (pruned, report, options) = match method {
                PruneMethod::C2s2 => {
                    let val = data
                        .val()
                        .context("C2S2's accuracy guard needs dataset.validation_split > 0")?;
                    let cfg = p.c2s2.clone().unwrap_or_default();
                    let ctx = PruneContext {
                        train: data.train.as_ref(),
                        val,
                        batch_size: spec.train.batch_size,
                        eval_batch_size: tc.eval_batch_size,
                        device,
                        channels_last: tc.channels_last,
                        seed,
                    };
                    let (m, r) = run_c2s2(start, &cfg, &ctx, &dir.join("c2s2"))?;
                    recorded_selection_seconds = Some(
                        r.groups
                            .iter()
                            .map(|g| g.selection_seconds + g.recovery_seconds)
                            .sum(),
                    );
                    (m, serde_json::to_value(&r)?, serde_json::to_value(&cfg)?)
                }
                PruneMethod::Slimming => {
                    let sl = p.slimming.clone().unwrap_or_default();
                    let mut sc = train_config(spec, seed, device);
                    sc.epochs = sl.sparsity_epochs;
                    sc.schedule.epochs = sl.sparsity_epochs;
                    sc.schedule.warmup_epochs = sc
                        .schedule
                        .warmup_epochs
                        .min(sl.sparsity_epochs as f64 / 2.0);
                    if let engine::ScheduleKind::MultiStep { milestones, .. } =
                        &mut sc.schedule.kind
                    {
                        milestones.retain(|&m| m < sl.sparsity_epochs);
                    }
                    sc.label = format!("{} sparsity", sc.label);
                    sc.stop_after_epochs = stop_after_epochs;
                    sc.gradient_hook = Some(std::sync::Arc::new(pruner::SlimmingSparsity {
                        tensors: bn_scale_names(&start.config)?,
                        strength: sl.sparsity,
                    }));
                    let out = fit(
                        start.net.as_ref(),
                        &start.vs,
                        &sc,
                        TrainData {
                            train: data.train.as_ref(),
                            val: data.val(),
                        },
                        &dir.join("sparsity"),
                    )?;
                    if !out.finished {
                        return Ok(None);
                    }
                    recorded_selection_seconds =
                        Some(out.history.iter().map(|m| m.train_seconds).sum());
                    let masks =
                        slimming_masks(&start.config, &start.vs, sl.budget(), sl.min_channels)
                            .context("prune.slimming: sizing the global threshold")?;
                    let m = remove_channels(&start.config, &start.vs, &masks)?;
                    (
                        m,
                        serde_json::json!({ "sparsity_history": out.history }),
                        serde_json::to_value(&sl)?,
                    )
                }
                PruneMethod::L1Norm | PruneMethod::Random => {
                    let target = target_config(spec)?;
                    let masks = if method == PruneMethod::L1Norm {
                        l1_norm_masks(&start.config, &start.vs, &target)?
                    } else {
                        random_masks(&start.config, &target, seed)?
                    };
                    let m = remove_channels(&start.config, &start.vs, &masks)?;
                    (m, serde_json::Value::Null, serde_json::to_value(&target)?)
                }
                PruneMethod::Scratch => unreachable!(),
            };
            (Some(start_test), pruned, report, options)
        }
    };
    let selection_seconds =
        recorded_selection_seconds.unwrap_or_else(|| t_sel.elapsed().as_secs_f64());
    let after_selection = if p.method == PruneMethod::Scratch {
        None
    } else {
        Some(eval(&pruned)?)
    };
    let before = start_cfg.cost(hw);
    let after = pruned.config.cost(hw);
    // What the selection chose, before the fine-tune's hours start.
    let kept: Vec<i64> = pruned
        .config
        .prunable_layers()
        .iter()
        .map(|l| l.channels)
        .collect();
    tracing::info!(
        "{} seed {seed}: kept {kept:?} channels of the prunable layers; {:.2}% of MACs and {:.2}% of parameters removed; {}",
        spec.name,
        analysis::record::pct_removed(before.macs(), after.macs()),
        analysis::record::pct_removed(before.params(), after.params()),
        after_selection
            .as_ref()
            .map_or("trained from random weights".into(), |e| match e.miou {
                Some(m) => format!("test mean IU {m:.2}% before fine-tuning"),
                None => format!("test top-1 {:.2}% before fine-tuning", e.top1),
            }),
    );

    let outcome = fit(
        pruned.net.as_ref(),
        &pruned.vs,
        &tc,
        TrainData {
            train: data.train.as_ref(),
            val: data.val(),
        },
        &dir.join("finetune"),
    )
    .with_context(|| format!("fine-tuning in {}", dir.display()))?;
    if !outcome.finished {
        tracing::info!(
            "{}: fine-tune stopped after {} epochs; run again to resume",
            spec.name,
            outcome.history.len()
        );
        return Ok(None);
    }
    // Training time of every fine-tune epoch, resumed ones included (as for plain runs).
    let finetune_seconds = outcome.history.iter().map(|m| m.train_seconds).sum();
    let final_test = eval(&pruned)?;
    save_weights(&pruned.vs, &dir.join("model.safetensors"), Kind::Float)?;
    write_atomic(
        &dir.join("model.json"),
        &serde_json::to_vec_pretty(&pruned.config)?,
    )?;
    // The fine-tune's metrics stand for the run's curve.
    if let Ok(csv) = std::fs::read(dir.join("finetune/metrics.csv")) {
        write_atomic(&dir.join("metrics.csv"), &csv)?;
    }
    let widths = |before: Vec<models::PrunableLayer>, after: Vec<models::PrunableLayer>| {
        before
            .into_iter()
            .zip(after)
            .map(|(a, b)| LayerWidth {
                layer: a.name,
                channels: a.channels,
                kept: b.channels,
            })
            .collect::<Vec<_>>()
    };
    let mut layers = widths(start_cfg.prunable_layers(), pruned.config.prunable_layers());
    // ResNets' stage-coupled residual groups, when a method pruned them.
    let groups = widths(start_cfg.stage_groups(), pruned.config.stage_groups());
    if groups.iter().any(|g| g.kept != g.channels) {
        layers.extend(groups);
    }
    let method = serde_json::to_value(p.method)?
        .as_str()
        .unwrap_or("?")
        .to_string();
    let summary = FinishedRun {
        spec,
        seed,
        model: &pruned.config,
        data,
        history: &outcome.history,
        test: final_test.clone(),
        device,
    }
    .summary(
        &method,
        Some(PruningRecord {
            method: method.clone(),
            options,
            start_model: serde_json::to_value(&start_cfg)?,
            start_params: before.params(),
            start_macs: before.macs(),
            start_test,
            after_selection_test: after_selection,
            layers,
            selection_seconds,
            finetune_seconds,
            report,
        }),
    )?;
    summary.write(&dir.join("summary.json"))?;
    tracing::info!(
        "{}: {:.1}% of MACs removed, test top-1 {:.2}%",
        spec.name,
        100.0 * (1.0 - after.macs() as f64 / before.macs() as f64),
        final_test.top1
    );
    Ok(Some(summary))
}
