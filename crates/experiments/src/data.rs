//! Loads the data set a spec names, as batch sources for training and evaluation.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use datasets::{
    Augment, AugmentedSet, BatchSource, Cifar10, Cifar10Source, DatasetError, FolderSource,
    ImageFolder, ImageNet, ImageNetTransform, ImageSet, SegmentationSet, SegmentationSource, Voc,
    CIFAR10_NORMALIZATION, IMAGENET_NORMALIZATION,
};

use crate::spec::{DatasetName, Spec};

/// Seed of the validation split: fixed, so every seed and every method of a setting
/// holds out the same images.
pub const SPLIT_SEED: u64 = 0x0C25_2018;

/// Train / validation / test splits of a data set (classification or segmentation).
/// The validation split (carved from the training set) and the test split are never
/// augmented.
pub struct DataSplits {
    pub train: Box<dyn BatchSource>,
    pub val: Option<Box<dyn BatchSource>>,
    pub test: Box<dyn BatchSource>,
    /// Where the images came from, stated in summaries (e.g. the JPEG caveat).
    pub source: String,
}

impl DataSplits {
    /// The validation split, if any, as the engine takes it.
    pub fn val(&self) -> Option<&dyn BatchSource> {
        self.val.as_deref()
    }
}

/// A training split that validation images and `train_limit` can be cut from.
trait TrainSplit: Sized {
    fn len(&self) -> usize;
    fn split_validation(&self, n_val: usize, seed: u64) -> Result<(Self, Self), DatasetError>;
}

macro_rules! train_split {
    ($($t:ty),*) => {$(
        impl TrainSplit for $t {
            fn len(&self) -> usize {
                <$t>::len(self)
            }
            fn split_validation(&self, n: usize, seed: u64) -> Result<(Self, Self), DatasetError> {
                <$t>::split_validation(self, n, seed)
            }
        }
    )*};
}
train_split!(ImageSet, ImageFolder, SegmentationSet);

/// Seed of the `train_limit` subset: fixed, like the validation split's.
pub const LIMIT_SEED: u64 = 0x0C25_2019;

/// Carves the spec's validation split (class-balanced, fixed seed) off `train`, then
/// keeps `train_limit` of the training items, class-balanced by a seeded draw (the first
/// N in class order would hold one or two classes). Returns `(train, validation)`.
fn carve<T: TrainSplit>(train: T, spec: &Spec) -> Result<(T, Option<T>)> {
    let d = &spec.dataset;
    let (mut train, val) = if d.validation_split > 0 {
        let (t, v) = train
            .split_validation(d.validation_split, SPLIT_SEED)
            .context("dataset.validation_split")?;
        (t, Some(v))
    } else {
        (train, None)
    };
    if let Some(limit) = d.train_limit {
        if limit < train.len() {
            let (_, kept) = train
                .split_validation(limit, LIMIT_SEED)
                .context("dataset.train_limit")?;
            train = kept;
        }
    }
    Ok((train, val))
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
pub fn load(spec: &Spec) -> Result<DataSplits> {
    let root = resolve_root(&spec.dataset.root);
    match spec.dataset.name {
        DatasetName::Cifar10 => load_cifar10(spec, &root),
        DatasetName::Imagenet => load_imagenet(spec, &root),
        DatasetName::Voc2011 => load_voc(spec, &root),
    }
}

/// PASCAL VOC segmentation: `train.txt` trains (the validation split is carved from
/// it), `val.txt` is the test split, as in Long et al.'s VOC 2011 val results.
fn load_voc(spec: &Spec, root: &Path) -> Result<DataSplits> {
    let d = &spec.dataset;
    let voc =
        Voc::open(root).with_context(|| format!("loading dataset.root = {}", root.display()))?;
    let test = voc.split("val")?;
    let (train, val) = carve(voc.split("train")?, spec)?;
    let source = format!(
        "PASCAL VOC segmentation {} (train.txt for training, val.txt as the test split)",
        voc.dir.display()
    );
    let split = |set, flip| -> Box<dyn BatchSource> {
        Box::new(SegmentationSource {
            set,
            flip,
            norm: IMAGENET_NORMALIZATION,
        })
    };
    Ok(DataSplits {
        train: split(train, d.augment),
        val: val.map(|v| split(v, false)),
        test: split(test, false),
        source,
    })
}

fn load_cifar10(spec: &Spec, root: &Path) -> Result<DataSplits> {
    let d = &spec.dataset;
    let cache = d.cache_dir.as_deref().map(resolve_root);
    let c = Cifar10::load(root, cache.as_deref())
        .with_context(|| format!("loading dataset.root = {}", root.display()))?;
    let source = match c.source {
        Cifar10Source::Binary => "CIFAR-10 official binary release".to_string(),
        Cifar10Source::ImageFolder => format!("CIFAR-10 image folder {} (if JPEG: the q75 re-encoding, accuracies may sit slightly below the binary release)", root.display()),
    };
    let (train, val) = carve(c.train, spec)?;
    let augment = d.augment.then(Augment::default);
    let plain = |set| -> Box<dyn BatchSource> {
        Box::new(AugmentedSet::new(set, None, CIFAR10_NORMALIZATION))
    };
    Ok(DataSplits {
        train: Box::new(AugmentedSet::new(train, augment, CIFAR10_NORMALIZATION)),
        val: val.map(plain),
        test: plain(c.test),
        source,
    })
}

fn load_imagenet(spec: &Spec, root: &Path) -> Result<DataSplits> {
    let d = &spec.dataset;
    let class_list = d.class_list.as_deref().map(resolve_root);
    let val_labels = d.val_labels.as_deref().map(resolve_root);
    let inet = ImageNet::open(root, class_list.as_deref(), val_labels.as_deref())
        .with_context(|| format!("loading dataset.root = {}", root.display()))?;
    let (train, val) = carve(inet.train, spec)?;
    let source = format!(
        "ImageNet folders {} ({} classes in the label order, {} train + {} validation files found)",
        root.display(),
        inet.val.classes.len(),
        train.len() + val.as_ref().map_or(0, |v| v.len()),
        inet.val.len()
    );
    let split = |folder, augment| -> Box<dyn BatchSource> {
        Box::new(FolderSource {
            folder,
            transform: ImageNetTransform::default(),
            augment,
            norm: IMAGENET_NORMALIZATION,
        })
    };
    Ok(DataSplits {
        train: split(train, d.augment),
        val: val.map(|v| split(v, false)),
        test: split(inet.val, false),
        source,
    })
}
