//! Executes a spec: one training run per seed, each in a run directory keyed by a hash
//! of the resolved spec, resumed when unfinished and reported without recomputing when
//! finished.
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use engine::{evaluate, fit, save_weights, TrainData};
use tch::nn::VarStore;
use tch::{Device, Kind};

use crate::atomic::write_atomic;
use crate::data;
use crate::resolve::{device, model_config, train_config};
use crate::run_key::{init_weights_path, run_dir};
use crate::spec::Spec;
use crate::summary::{test_result, FinishedRun, Summary};

/// Options of [`execute`] that do not change what is computed.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Stop each seed after this many epochs (it resumes on the next call).
    pub stop_after_epochs: Option<usize>,
}

/// Runs every seed of `spec` (resuming or reusing finished runs) and returns the
/// summaries of the finished ones.
pub fn execute(spec: &Spec, opts: &RunOptions) -> Result<Vec<Summary>> {
    let device = device(spec)?;
    if let Some(n) = spec.threads {
        // Bounded by validation (spec::MAX_THREADS).
        tch::set_num_threads(i32::try_from(n).unwrap_or(i32::MAX));
    }
    let mut summaries = Vec::new();
    let mut data_cache = None;
    for &seed in &spec.seeds {
        let dir = run_dir(spec, seed);
        let summary_path = dir.join("summary.json");
        if summary_path.is_file() {
            let s = Summary::read(&summary_path)?;
            tracing::info!(
                "{}: finished earlier, reporting {} without recomputing",
                spec.name,
                summary_path.display()
            );
            summaries.push(s);
            continue;
        }
        // The data set loads (and every image decodes) before the run directory exists.
        let data = match &data_cache {
            Some(d) => d,
            None => data_cache.insert(data::load(spec)?),
        };
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating run directory {}", dir.display()))?;
        // One writer per run directory; a process that waited may find it finished.
        let _lock = crate::lock::RunLock::acquire(&dir)?;
        if summary_path.is_file() {
            tracing::info!(
                "{}: finished by another process meanwhile, reporting {}",
                spec.name,
                summary_path.display()
            );
            summaries.push(Summary::read(&summary_path)?);
            continue;
        }
        let resolved = serde_norway::to_string(spec)?;
        write_atomic(&dir.join("spec.resolved.yaml"), resolved.as_bytes())?;
        let result = match spec.prune {
            Some(_) => {
                crate::prune::prune_one(spec, seed, device, data, &dir, opts.stop_after_epochs)?
            }
            None => train_one(spec, seed, device, data, &dir, opts)?,
        };
        if let Some(s) = result {
            summaries.push(s);
        }
    }
    Ok(summaries)
}

fn train_one(
    spec: &Spec,
    seed: u64,
    device: Device,
    data: &data::DataSplits,
    dir: &Path,
    opts: &RunOptions,
) -> Result<Option<Summary>> {
    let cfg = model_config(spec)?;
    tch::manual_seed(seed as i64);
    let vs = VarStore::new(device);
    let net = cfg.build(&vs.root())?;
    if let Some(from) = &spec.model.init_from {
        let path = init_weights_path(from);
        let r = engine::load_matching(&vs, &path).with_context(|| {
            format!(
                "model.init_from = {} (any safetensors file with this project's parameter \
                     names; for FCN-32s, python/vgg16_to_fcn32s.py converts torchvision's \
                     ImageNet VGG-16)",
                from.display()
            )
        })?;
        tracing::info!(
            "{}: {} variables initialised from {}, {} keep their initialisation{}; {} tensors of the file unused",
            spec.name,
            r.loaded.len(),
            path.display(),
            r.kept_init.len(),
            if r.kept_init.is_empty() { String::new() } else { format!(" ({})", r.kept_init.join(", ")) },
            r.ignored.len()
        );
    }
    let mut tc = train_config(spec, seed, device);
    tc.stop_after_epochs = opts.stop_after_epochs;
    let started = Instant::now();
    let outcome = fit(
        net.as_ref(),
        &vs,
        &tc,
        TrainData {
            train: data.train.as_ref(),
            val: data.val(),
        },
        dir,
    )
    .with_context(|| format!("training in {}", dir.display()))?;
    if !outcome.finished {
        tracing::info!(
            "{}: stopped after {} epochs; run again to resume",
            spec.name,
            outcome.history.len()
        );
        return Ok(None);
    }
    let test = evaluate(
        net.as_ref(),
        data.test.as_ref(),
        tc.eval_batch_size,
        device,
        tc.channels_last,
    )?;
    save_weights(&vs, &dir.join("model.safetensors"), Kind::Float)?;
    write_atomic(&dir.join("model.json"), &serde_json::to_vec_pretty(&cfg)?)?;
    let summary = FinishedRun {
        spec,
        seed,
        model: &cfg,
        data,
        history: &outcome.history,
        test: test_result(test),
        device,
    }
    .summary("unpruned", None)?;
    summary.write(&dir.join("summary.json"))?;
    tracing::info!(
        "{}: test top-1 {:.2}% ({} s in this call)",
        spec.name,
        test.top1,
        started.elapsed().as_secs()
    );
    Ok(Some(summary))
}
