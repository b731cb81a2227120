//! A pruning run: load the pre-trained model, prune it with the spec's method (one
//! [`selection::ChannelSelection`] per method), fine-tune the smaller network, and
//! record everything in `summary.json`.
pub mod selection;
pub mod sparsity_phase;

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use engine::{fit, save_weights, TrainData};
use tch::{Device, Kind};

use crate::atomic::write_atomic;
use crate::data::DataSplits;
use crate::resolve::{model_config, train_config};
use crate::spec::{Pruning, Spec};
use crate::summary::{FinishedRun, LayerWidth, PruningRecord, Summary};
use selection::{selection, Selected, SelectionRun};

/// Runs one seed of a pruning spec; `None` when stopped early (it resumes).
pub fn prune_one(
    spec: &Spec,
    seed: u64,
    device: Device,
    data: &DataSplits,
    dir: &Path,
    stop_after_epochs: Option<usize>,
) -> Result<Option<Summary>> {
    let pruning: Pruning = spec
        .pruning()
        .map_err(|(field, message)| anyhow::anyhow!("field `{field}`: {message}"))?
        .context("prune_one needs a spec with a prune section")?;
    let start_cfg = model_config(spec)?;
    let hw = start_cfg.default_input_hw();
    let mut tc = train_config(spec, seed, device);
    tc.stop_after_epochs = stop_after_epochs;
    let run = SelectionRun {
        spec,
        seed,
        device,
        data,
        dir,
        finetune: &tc,
        start_cfg: &start_cfg,
    };
    tch::manual_seed(seed as i64);
    let t_sel = Instant::now();
    let Some(Selected {
        start_test,
        pruned,
        report,
        options,
        recorded_seconds,
    }) = selection(&pruning).select(&run)?
    else {
        return Ok(None);
    };
    let selection_seconds = recorded_seconds.unwrap_or_else(|| t_sel.elapsed().as_secs_f64());
    let after_selection = match pruning {
        Pruning::Scratch { .. } => None,
        _ => Some(run.test(&pruned)?),
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
    let final_test = run.test(&pruned)?;
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
    let method = serde_json::to_value(pruning.method())?
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
