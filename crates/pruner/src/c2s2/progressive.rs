use std::path::Path;
use std::time::Instant;

use datasets::BatchStream;
use serde::{Deserialize, Serialize};
use tch::Kind;

use super::config::{C2s2Config, C2s2Params, GuardReference, LayerOrder};
use super::search::{better, LambdaSearch};
use super::select::{install, select};
use crate::{
    remove_channels, CostMeter, CostModel, GateFormat, LatencyTable, MaskSet, PruneContext,
    PruneError, PrunedModel, PruningLayer,
};

/// One try of phase 1 for a group, with the guard's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// lambda_l of each layer of the group, in group order.
    pub lambdas: Vec<f64>,
    /// Channels the binary mask keeps, per layer.
    pub kept: Vec<usize>,
    /// Validation top-1 of the binary-masked network (percent).
    pub val_top1: f64,
    pub accepted: bool,
}

/// What happened to one layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerRecord {
    pub layer: String,
    /// Channels before and after.
    pub channels: usize,
    pub kept: usize,
    /// c_l, the layer's cost share when its group was pruned.
    pub cost_share: f64,
}

/// One pruning step (a group of layers pruned together).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRecord {
    pub layers: Vec<LayerRecord>,
    /// Validation top-1 the guard compared with.
    pub reference_val_top1: f64,
    pub attempts: Vec<Attempt>,
    /// Validation top-1 after recovery.
    pub recovered_val_top1: f64,
    pub selection_seconds: f64,
    pub recovery_seconds: f64,
}

/// The record of a C2S2 run, group by group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct C2s2Report {
    pub original_val_top1: f64,
    pub groups: Vec<GroupRecord>,
}

#[derive(Serialize, Deserialize)]
struct State {
    version: u32,
    model: models::ModelConfig,
    report: C2s2Report,
}

/// The prunable layers (and, on request, stage-coupled groups) of a network.
fn plan_layers(cfg: &models::ModelConfig, c: &C2s2Config) -> Vec<models::PrunableLayer> {
    let mut v = cfg.prunable_layers();
    if c.residual_groups {
        v.extend(cfg.stage_groups());
    }
    v
}

/// The layer groups in pruning order.
fn groups(
    model: &PrunedModel,
    cfg: &C2s2Config,
    meter: &mut CostMeter,
) -> Result<Vec<Vec<String>>, PruneError> {
    let all: Vec<String> = plan_layers(&model.config, cfg)
        .into_iter()
        .map(|l| l.name)
        .collect();
    let mut names = match &cfg.layers {
        None => all,
        Some(sel) => {
            for n in sel {
                if !all.contains(n) {
                    return Err(PruneError::UnknownLayer(n.clone()));
                }
            }
            all.into_iter().filter(|n| sel.contains(n)).collect()
        }
    };
    match cfg.order {
        LayerOrder::Network => {}
        LayerOrder::Reverse => names.reverse(),
        LayerOrder::MostCostlyFirst => {
            let hw = model.config.default_input_hw();
            let costs =
                CostModel::with_groups(&model.config, hw, meter, cfg.residual_groups)?.channel_cost;
            names.sort_by(|a, b| costs[b].total_cmp(&costs[a]));
        }
    }
    Ok(if cfg.progressive {
        names.into_iter().map(|n| vec![n]).collect()
    } else {
        vec![names]
    })
}

/// Logical name of the weights file in the state snapshot.
const WEIGHTS: &str = "model";

/// Commits the model pruned so far and the report as one snapshot in `dir`.
fn save_state(dir: &Path, model: &PrunedModel, report: &C2s2Report) -> Result<(), PruneError> {
    let state = State {
        version: 1,
        model: model.config.clone(),
        report: report.clone(),
    };
    let write = |p: &Path| engine::save_weights(&model.vs, p, Kind::Float);
    engine::SnapshotDir::new(dir).save(&state, &[(WEIGHTS, "safetensors", &write)])?;
    Ok(())
}

/// The committed state in `dir`, or `None` when no group has been pruned yet.
fn load_state(
    dir: &Path,
    device: tch::Device,
) -> Result<Option<(PrunedModel, C2s2Report)>, PruneError> {
    let Some(loaded) = engine::SnapshotDir::new(dir).load::<State>()? else {
        return Ok(None);
    };
    let state = loaded.state;
    let damaged = |path: &Path, reason: String| PruneError::State {
        path: path.to_path_buf(),
        reason,
        dir: dir.to_path_buf(),
    };
    let weights = loaded.files.get(WEIGHTS).ok_or_else(|| {
        damaged(
            &dir.join("state.json"),
            format!("names no `{WEIGHTS}` file"),
        )
    })?;
    let vs = tch::nn::VarStore::new(device);
    let net = state.model.build(&vs.root())?;
    engine::load_weights(&vs, weights).map_err(|e| damaged(weights, e.to_string()))?;
    Ok(Some((
        PrunedModel {
            config: state.model,
            vs,
            net,
        },
        state.report,
    )))
}

/// Runs C2S2 on `model`, keeping its state in `state_dir` (resumed when present).
/// Returns the pruned, recovered model (not yet fine-tuned) and the report.
pub fn run_c2s2(
    model: PrunedModel,
    cfg: &C2s2Params,
    ctx: &PruneContext,
    state_dir: &Path,
) -> Result<(PrunedModel, C2s2Report), PruneError> {
    let mut meter = CostMeter::new(cfg.cost_metric, || {
        LatencyTable::new(
            cfg.latency.unwrap_or_default(),
            ctx.batch_size as i64,
            ctx.device,
            ctx.channels_last,
        )
    });
    let plan = groups(&model, cfg, &mut meter)?;
    let (mut model, mut report) = match load_state(state_dir, ctx.device)? {
        Some(s) => {
            tracing::info!(
                "c2s2: resuming after {} of {} groups",
                s.1.groups.len(),
                plan.len()
            );
            s
        }
        None => {
            let original = ctx.val_top1(model.net.as_ref())?;
            (
                model,
                C2s2Report {
                    original_val_top1: original,
                    groups: Vec::new(),
                },
            )
        }
    };
    if ctx.channels_last {
        engine::vars_to_channels_last(&model.vs);
    }
    for (gi, group) in plan.iter().enumerate().skip(report.groups.len()) {
        let reference = match cfg.guard_reference {
            GuardReference::Current => ctx.val_top1(model.net.as_ref())?,
            GuardReference::Original => report.original_val_top1,
        };
        let hw = model.config.default_input_hw();
        let shares =
            CostModel::with_groups(&model.config, hw, &mut meter, cfg.residual_groups)?.shares();
        if let CostMeter::Latency(table) = &meter {
            tracing::info!(
                "c2s2: latency table holds {} timed layer shapes",
                table.len()
            );
        }
        // Every layer's share, so a cost model gone wrong (e.g. a latency table timed
        // on a loaded machine) shows at the start of the group, not in the widths.
        tracing::info!(
            "c2s2: cost shares ({:?}): {}",
            cfg.cost_metric,
            shares
                .iter()
                .map(|(n, c)| format!("{n} {c:.2}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let current = plan_layers(&model.config, cfg);
        let widths: Vec<usize> = group
            .iter()
            .map(|n| {
                current
                    .iter()
                    .find(|l| &l.name == n)
                    .map_or(0, |l| l.channels as usize)
            })
            .collect();
        let base: Vec<f64> = group
            .iter()
            .map(|n| cfg.lambda * if cfg.cost_aware { shares[n] } else { 1.0 })
            .collect();
        let mut stream = BatchStream::new(ctx.train, ctx.batch_size, ctx.seed, 1000 + gi as u64)
            .to_device(ctx.device);
        let t_sel = Instant::now();
        let mut attempts = Vec::new();
        // The accepted selection leaving least cost so far: (cost, val top-1, masks).
        let mut best: Option<(f64, f64, MaskSet)> = None;
        let mut search = LambdaSearch::new(cfg.max_retries, cfg.refine_steps);
        loop {
            let lambdas: Vec<f64> = base.iter().map(|l| l * search.scale()).collect();
            let mut layers: Vec<PruningLayer> = group
                .iter()
                .zip(&widths)
                .map(|(n, &c)| PruningLayer::new(n, c as i64, cfg.tau, ctx.device))
                .collect();
            select(
                model.net.as_ref(),
                &model.vs,
                &mut layers,
                &lambdas,
                cfg,
                &mut stream,
                ctx.channels_last,
            )?;
            let masks: MaskSet = layers
                .iter()
                .zip(&widths)
                .map(|(l, &c)| {
                    let min_keep = cfg
                        .min_channels
                        .max((cfg.min_fraction * c as f64).ceil() as usize);
                    (l.name.clone(), l.mask(min_keep, cfg.round_to))
                })
                .collect();
            // Guard: the binary-masked network on the validation split.
            install(
                model.net.as_ref(),
                &layers,
                GateFormat::Binary,
                cfg.placement,
            );
            for (n, m) in &masks {
                model
                    .net
                    .gates()
                    .set_placed(n, m.to_tensor(ctx.device), cfg.placement);
            }
            let val = ctx.val_top1(model.net.as_ref())?;
            model.net.gates().clear();
            let ok = reference - val <= cfg.tolerance;
            attempts.push(Attempt {
                lambdas: lambdas.clone(),
                kept: group.iter().map(|n| masks[n].kept()).collect(),
                val_top1: val,
                accepted: ok,
            });
            tracing::info!(
                "c2s2 {}: lambda {:.4} keeps {:?} of {:?}, val {:.2}% (reference {:.2}%) {}",
                group.join(","),
                lambdas[0],
                attempts.last().map(|a| a.kept.clone()).unwrap_or_default(),
                widths,
                val,
                reference,
                if ok { "accepted" } else { "rejected" }
            );
            // Cost the selection leaves: kept channels weighted by their cost shares.
            let cost: f64 = group
                .iter()
                .map(|n| masks[n].kept() as f64 * shares[n])
                .sum();
            if ok && better(cost, val, best.as_ref().map(|b| (b.0, b.1))) {
                best = Some((cost, val, masks));
            }
            if !search.advance(ok) {
                break;
            }
        }
        let selection_seconds = t_sel.elapsed().as_secs_f64();
        let masks = best.map(|b| b.2).unwrap_or_default();
        let removed_any = masks.values().any(|m| m.kept() < m.len());
        let t_rec = Instant::now();
        if removed_any {
            model = remove_channels(&model.config, &model.vs, &masks)?;
            if ctx.channels_last {
                engine::vars_to_channels_last(&model.vs);
            }
            let r = &cfg.recovery;
            let sgd = engine::SgdConfig {
                lr: r.lr,
                momentum: r.momentum,
                weight_decay: r.weight_decay,
                nesterov: true,
            };
            engine::train_iterations(
                model.net.as_ref(),
                &model.vs,
                sgd,
                &mut stream,
                r.iterations,
                ctx.channels_last,
            )?;
        }
        let recovery_seconds = t_rec.elapsed().as_secs_f64();
        let recovered = ctx.val_top1(model.net.as_ref())?;
        let layers = group
            .iter()
            .zip(&widths)
            .map(|(n, &c)| LayerRecord {
                layer: n.clone(),
                channels: c,
                kept: masks.get(n).map_or(c, |m| m.kept()),
                cost_share: shares[n],
            })
            .collect();
        report.groups.push(GroupRecord {
            layers,
            reference_val_top1: reference,
            attempts,
            recovered_val_top1: recovered,
            selection_seconds,
            recovery_seconds,
        });
        tracing::info!(
            "c2s2 {}: val {:.2}% after recovery",
            group.join(","),
            recovered
        );
        save_state(state_dir, &model, &report)?;
    }
    Ok((model, report))
}
