//! Loads the data set a spec names.
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use datasets::{Cifar10, Cifar10Source, ImageSet};

use crate::spec::{DatasetName, Spec};

/// Seed of the validation split: fixed, so every seed and every method of a setting
/// holds out the same images.
pub const SPLIT_SEED: u64 = 0x0C25_2018;

/// Train / validation / test images of a classification data set.
pub struct ClassificationData {
    pub train: ImageSet,
    pub val: Option<ImageSet>,
    pub test: ImageSet,
    /// Where the images came from, stated in summaries (e.g. the JPEG caveat).
    pub source: String,
}

/// A relative data-set root is taken from the working directory, falling back to the
/// repository the binary was built from (so the embedded smoke spec runs from anywhere).
pub fn resolve_root(root: &Path) -> PathBuf {
    if root.is_absolute() || root.exists() {
        return root.to_path_buf();
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let alt = repo.join(root);
    if alt.exists() {
        alt
    } else {
        root.to_path_buf()
    }
}

/// Loads the spec's data set and carves the validation split.
pub fn load(spec: &Spec) -> Result<ClassificationData> {
    let d = &spec.dataset;
    let root = resolve_root(&d.root);
    match d.name {
        DatasetName::Cifar10 => {}
        DatasetName::Imagenet | DatasetName::Voc2011 => {
            let (what, hint) = if d.name == DatasetName::Imagenet {
                ("ImageNet (ILSVRC-2012)", "download ILSVRC-2012 from image-net.org and give its folder with train/<wnid>/ and val/<wnid>/ as dataset.root")
            } else {
                ("PASCAL VOC 2011", "download VOCtrainval_25-May-2011.tar and SBD, and give the VOCdevkit folder as dataset.root")
            };
            if !root.exists() {
                bail!("data set not found at {}: {hint}", root.display());
            }
            bail!("{what} found at {}, but its loader is not implemented yet (only the model and its counters are); see README 'Status'", root.display());
        }
    }
    let cache = d.cache_dir.as_deref().map(resolve_root);
    let c = Cifar10::load(&root, cache.as_deref())
        .with_context(|| format!("loading dataset.root = {}", root.display()))?;
    let source = match c.source {
        Cifar10Source::Binary => "CIFAR-10 official binary release".to_string(),
        Cifar10Source::ImageFolder => format!("CIFAR-10 image folder {} (if JPEG: the q75 re-encoding, accuracies may sit slightly below the binary release)", root.display()),
    };
    let (mut train, val) = if d.validation_split > 0 {
        let (t, v) = c.train.split_validation(d.validation_split, SPLIT_SEED)?;
        (t, Some(v))
    } else {
        (c.train, None)
    };
    if let Some(limit) = d.train_limit {
        if limit < train.len() {
            let idx: Vec<usize> = (0..limit).collect();
            train = train.subset(&idx);
        }
    }
    Ok(ClassificationData {
        train,
        val,
        test: c.test,
        source,
    })
}
