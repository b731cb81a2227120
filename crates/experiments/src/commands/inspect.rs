//! `models`, `eval` and `channel-costs`: looking at models rather than training them.

use anyhow::Result;
use experiments::spec::{resolve_spec_path, Spec};
use experiments::study;

use crate::cli::{ChannelCostsArgs, EvalArgs};

pub fn models() -> Result<()> {
    experiments::inspect::print_models();
    Ok(())
}

pub fn eval(args: EvalArgs) -> Result<()> {
    let EvalArgs {
        model_dir,
        dataset,
        spec,
        batch,
    } = args;
    let spec = match spec {
        Some(arg) => {
            let path = resolve_spec_path(&arg)?;
            if study::file_is_study(&path) {
                // A study's runs share their data set: its first run's.
                let graph = study::load_graph(&path, None)?;
                anyhow::ensure!(!graph.nodes.is_empty(), "{}: no runs", path.display());
                Some(graph.spec_sketch(0)?)
            } else {
                Some(Spec::load(&path)?)
            }
        }
        None => None,
    };
    experiments::inspect::eval_model(&model_dir, &dataset, spec.as_ref(), batch)
}

pub fn channel_costs(args: ChannelCostsArgs) -> Result<()> {
    let ChannelCostsArgs {
        model,
        metric,
        groups,
        batch,
        repeats,
        device,
        layout,
    } = args;
    let cfg = experiments::model_dir::read_model_config(&model)?;
    anyhow::ensure!(batch >= 1, "--batch must be at least 1");
    anyhow::ensure!(repeats >= 1, "--repeats must be at least 1");
    let device = device.device()?;
    let mut meter = pruner::CostMeter::new(metric.into(), || {
        pruner::LatencyTable::new(
            pruner::LatencyConfig {
                batch: Some(batch),
                repeats,
                ..Default::default()
            },
            batch,
            device,
            layout.channels_last(),
        )
    });
    experiments::inspect::print_channel_costs(&cfg, &mut meter, groups)
}
