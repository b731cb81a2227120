//! Everything about a spec that can be checked without training, against the files it
//! names: the data set is there and leaves images to train on in batches of the spec's
//! size, the model folders it starts from load and fit, the output folder can be made.
//! `validate` runs these checks, and a run runs them before it writes anything.
use std::path::{Path, PathBuf};

use datasets::{ImageNet, Voc, CIFAR10_CLASSES};

use crate::data::resolve_root;
use crate::spec::{DatasetName, Spec, SpecError};

/// Image counts of a data set, found without decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataCounts {
    /// Training images before the validation split.
    pub train: usize,
    pub classes: usize,
}

type Fail = (String, String);

fn fail<T>(field: &str, message: impl Into<String>) -> Result<T, Fail> {
    Err((field.to_string(), message.into()))
}

/// Checks `spec` (read from `file`, which errors name) against the file system.
pub fn check(spec: &Spec, file: &Path) -> Result<DataCounts, SpecError> {
    checks(spec).map_err(|(field, message)| SpecError::Invalid {
        file: file.to_path_buf(),
        field,
        message,
    })
}

fn checks(spec: &Spec) -> Result<DataCounts, Fail> {
    let counts = data_counts(spec)?;
    let d = &spec.dataset;
    if d.validation_split >= counts.train {
        return fail(
            "dataset.validation_split",
            format!(
                "{} validation images leave nothing to train on ({} training images in {})",
                d.validation_split,
                counts.train,
                resolve_root(&d.root).display()
            ),
        );
    }
    let train = (counts.train - d.validation_split).min(d.train_limit.unwrap_or(usize::MAX));
    if spec.train.batch_size > train {
        return fail(
            "train.batch_size",
            format!(
                "{} is more than the {train} training images, so an epoch would have no step \
                 (batches are whole; the last partial one is dropped)",
                spec.train.batch_size
            ),
        );
    }
    if let Some(n) = spec.model.num_classes {
        if (n as usize) < counts.classes {
            return fail(
                "model.num_classes",
                format!(
                    "{n} is fewer than the data set's {} classes",
                    counts.classes
                ),
            );
        }
    }
    model_folders(spec)?;
    output(spec)?;
    Ok(counts)
}

fn existing_dir(field: &str, p: &Path) -> Result<PathBuf, Fail> {
    let r = resolve_root(p);
    if !r.exists() {
        return fail(field, format!("{} does not exist", r.display()));
    }
    if !r.is_dir() {
        return fail(field, format!("{} is not a folder", r.display()));
    }
    Ok(r)
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |e| {
        e.filter_map(|e| e.ok())
            .filter(|e| datasets::is_image_file(&e.path()))
            .count()
    })
}

/// The training images a run of `spec` trains on (after the validation split and
/// `train_limit`), counted without decoding; `None` when the data set is not here.
pub fn training_images(spec: &Spec) -> Option<usize> {
    let c = data_counts(spec).ok()?;
    let n = c.train.checked_sub(spec.dataset.validation_split)?;
    Some(n.min(spec.dataset.train_limit.unwrap_or(usize::MAX)))
}

fn data_counts(spec: &Spec) -> Result<DataCounts, Fail> {
    let d = &spec.dataset;
    let root = existing_dir("dataset.root", &d.root).map_err(|(f, m)| {
        let set = match d.name {
            DatasetName::Cifar10 => "cifar10",
            DatasetName::Imagenet => "imagenet-sample",
            DatasetName::Voc2011 => "voc-sample",
        };
        (
            f,
            format!("{m} (scripts/prepare-data.sh {set} prepares it; see its header)"),
        )
    })?;
    let field = "dataset.root";
    match d.name {
        DatasetName::Cifar10 => {
            let bin = [root.join("cifar-10-batches-bin"), root.clone()]
                .into_iter()
                .find(|b| b.join("data_batch_1.bin").is_file());
            let train = match bin {
                Some(b) => (1..=5)
                    .map(|i| {
                        std::fs::metadata(b.join(format!("data_batch_{i}.bin")))
                            .map_or(0, |m| m.len() as usize / 3073)
                    })
                    .sum(),
                None => {
                    if !root.join("train").is_dir() || !root.join("test").is_dir() {
                        return fail(
                            field,
                            format!(
                                "{} holds neither the CIFAR-10 binary release nor train/ and \
                                 test/ image folders",
                                root.display()
                            ),
                        );
                    }
                    CIFAR10_CLASSES
                        .iter()
                        .map(|c| count_files(&root.join("train").join(c)))
                        .sum()
                }
            };
            Ok(DataCounts {
                train,
                classes: CIFAR10_CLASSES.len(),
            })
        }
        DatasetName::Imagenet => {
            let class_list = d.class_list.as_deref().map(resolve_root);
            let labels = d.val_labels.as_deref().map(resolve_root);
            let inet = ImageNet::open(&root, class_list.as_deref(), labels.as_deref())
                .map_err(|e| (field.to_string(), error_chain(&e)))?;
            Ok(DataCounts {
                train: inet.train.len(),
                classes: inet.train.classes.len(),
            })
        }
        DatasetName::Voc2011 => {
            let voc = Voc::open(&root).map_err(|e| (field.to_string(), error_chain(&e)))?;
            let train = voc
                .split("train")
                .map_err(|e| (field.to_string(), error_chain(&e)))?;
            Ok(DataCounts {
                train: train.len(),
                classes: datasets::VOC_CLASSES,
            })
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(&format!(": {c}"));
        cause = c.source();
    }
    s
}

/// `prune.from` loads into the spec's model; `prune.widths_from` and `model.init_from`
/// are readable.
fn model_folders(spec: &Spec) -> Result<(), Fail> {
    let Some(p) = &spec.prune else {
        if let Some(f) = &spec.model.init_from {
            let r = resolve_root(f);
            let w = if r.is_dir() {
                r.join("model.safetensors")
            } else {
                r
            };
            if !w.is_file() {
                return fail("model.init_from", format!("{} does not exist", w.display()));
            }
        }
        return Ok(());
    };
    if let Some(from) = &p.from {
        let dir = existing_dir("prune.from", from)?;
        let cfg = crate::model_config(spec).map_err(|e| ("model".to_string(), e.to_string()))?;
        crate::model_dir::load_model_dir(&dir, &cfg, tch::Device::Cpu)
            .map_err(|e| ("prune.from".to_string(), format!("{e:#}")))?;
    }
    if let Some(w) = &p.widths_from {
        crate::model_dir::read_model_config(&resolve_root(w))
            .map_err(|e| ("prune.widths_from".to_string(), format!("{e:#}")))?;
    }
    Ok(())
}

/// The run folder `<output>/<name>` can be created: every part of it that exists is a
/// folder.
fn output(spec: &Spec) -> Result<(), Fail> {
    let target = spec.output.join(&spec.name);
    let mut p = Some(target.as_path());
    while let Some(dir) = p {
        if dir.as_os_str().is_empty() {
            break;
        }
        if dir.exists() {
            if !dir.is_dir() {
                return fail(
                    "output",
                    format!(
                        "{} cannot be created: {} is a file, not a folder",
                        target.display(),
                        dir.display()
                    ),
                );
            }
            break;
        }
        p = dir.parent();
    }
    Ok(())
}
