use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::cache::{self, Miss, SourceKey};
use crate::error::CIFAR10_HINT;
use crate::{DatasetError, ImageSet};

/// Class names in label order (the official order, which is also alphabetical).
pub const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];
const SIDE: usize = 32;
const RECORD: usize = 1 + 3 * SIDE * SIDE;

/// CIFAR-10 (Krizhevsky 2009): 32x32 RGB images of 10 classes.
#[derive(Debug, Clone)]
pub struct Cifar10 {
    pub train: ImageSet,
    pub test: ImageSet,
    /// Which on-disk form it was read from.
    pub source: Cifar10Source,
}

/// The two on-disk forms of CIFAR-10.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cifar10Source {
    /// The official binary release (`cifar-10-batches-bin/`).
    Binary,
    /// `train/<class>/*` and `test/<class>/*` image files (e.g. the JPEG re-encoding).
    ImageFolder,
}

impl Cifar10 {
    /// Loads CIFAR-10 from `root`, which holds either `cifar-10-batches-bin/` (or its
    /// files directly) or `train/<class>/*` + `test/<class>/*` images. Decoded image
    /// folders are cached under `cache_dir` (default `<root>/.cache`).
    pub fn load(root: &Path, cache_dir: Option<&Path>) -> Result<Self, DatasetError> {
        let bin = [root.join("cifar-10-batches-bin"), root.to_path_buf()]
            .into_iter()
            .find(|d| d.join("data_batch_1.bin").is_file());
        if let Some(dir) = bin {
            let train_files: Vec<PathBuf> = (1..=5)
                .map(|i| dir.join(format!("data_batch_{i}.bin")))
                .collect();
            return Ok(Self {
                train: read_binary(&train_files)?,
                test: read_binary(&[dir.join("test_batch.bin")])?,
                source: Cifar10Source::Binary,
            });
        }
        if root.join("train").is_dir() && root.join("test").is_dir() {
            let cache_dir = cache_dir.map_or_else(|| root.join(".cache"), Path::to_path_buf);
            return Ok(Self {
                train: load_folder_cached(
                    &root.join("train"),
                    &cache_dir.join("cifar10-train.bin"),
                )?,
                test: load_folder_cached(&root.join("test"), &cache_dir.join("cifar10-test.bin"))?,
                source: Cifar10Source::ImageFolder,
            });
        }
        Err(DatasetError::NotFound {
            path: root.to_path_buf(),
            hint: CIFAR10_HINT,
        })
    }
}

/// Reads records of the binary release: 1 label byte + 3,072 bytes of R, G, B planes.
fn read_binary(files: &[PathBuf]) -> Result<ImageSet, DatasetError> {
    let mut set = ImageSet {
        channels: 3,
        height: SIDE,
        width: SIDE,
        pixels: Vec::new(),
        labels: Vec::new(),
    };
    for f in files {
        let data = fs::read(f).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => DatasetError::NotFound {
                path: f.clone(),
                hint: CIFAR10_HINT,
            },
            _ => DatasetError::io(f)(e),
        })?;
        if data.is_empty() || data.len() % RECORD != 0 {
            return Err(DatasetError::Corrupt {
                path: f.clone(),
                reason: format!(
                    "{} bytes is not a whole number of {RECORD}-byte records",
                    data.len()
                ),
            });
        }
        for rec in data.chunks_exact(RECORD) {
            if rec[0] as usize >= CIFAR10_CLASSES.len() {
                return Err(DatasetError::Corrupt {
                    path: f.clone(),
                    reason: format!("label {} out of range", rec[0]),
                });
            }
            set.labels.push(rec[0]);
            set.pixels.extend_from_slice(&rec[1..]);
        }
    }
    Ok(set)
}

/// Image files of one split, sorted by class then name, with their labels.
fn list_folder(dir: &Path) -> Result<Vec<(PathBuf, u8)>, DatasetError> {
    let mut out = Vec::new();
    for (label, class) in CIFAR10_CLASSES.iter().enumerate() {
        let cdir = dir.join(class);
        let entries = fs::read_dir(&cdir).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => DatasetError::NotFound {
                path: cdir.clone(),
                hint: CIFAR10_HINT,
            },
            _ => DatasetError::io(&cdir)(e),
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| crate::is_image_file(p))
            .collect();
        files.sort();
        out.extend(files.into_iter().map(|p| (p, label as u8)));
    }
    if out.is_empty() {
        return Err(DatasetError::NotFound {
            path: dir.to_path_buf(),
            hint: CIFAR10_HINT,
        });
    }
    Ok(out)
}

fn load_folder_cached(dir: &Path, cache_file: &Path) -> Result<ImageSet, DatasetError> {
    let files = list_folder(dir)?;
    let t = std::time::Instant::now();
    let key = SourceKey::of(dir, &files)?;
    tracing::debug!(
        "cache key of {} files of {} in {:.2} s",
        files.len(),
        dir.display(),
        t.elapsed().as_secs_f64()
    );
    let miss = match cache::read(cache_file, key)? {
        Ok(set) => return Ok(set),
        Err(m) => m,
    };
    tracing::info!(
        "decoding {} images of {} into {} ({})",
        files.len(),
        dir.display(),
        cache_file.display(),
        match miss {
            Miss::Absent => "no cache yet",
            Miss::Stale => "the cache was built from other files, labels or by another decoder",
        }
    );
    let set = decode_folder(&files)?;
    // A read-only data folder only costs the cache, not the run.
    if let Err(e) = cache::write(cache_file, &set, key) {
        let cause = std::error::Error::source(&e).map_or(String::new(), |s| format!(": {s}"));
        tracing::warn!("could not write image cache: {e}{cause}");
    }
    Ok(set)
}

/// Decodes every image in parallel into CHW bytes.
fn decode_folder(files: &[(PathBuf, u8)]) -> Result<ImageSet, DatasetError> {
    let decoded: Result<Vec<Vec<u8>>, DatasetError> = files
        .par_iter()
        .map(|(p, _)| {
            let rgb = crate::decode::decode_rgb(p)?;
            if rgb.width() as usize != SIDE || rgb.height() as usize != SIDE {
                return Err(DatasetError::Decode {
                    path: p.clone(),
                    reason: format!(
                        "expected {SIDE}x{SIDE}, found {}x{}",
                        rgb.width(),
                        rgb.height()
                    ),
                });
            }
            let hwc = rgb.into_raw();
            let mut chw = vec![0u8; hwc.len()];
            for (i, px) in hwc.chunks_exact(3).enumerate() {
                for c in 0..3 {
                    chw[c * SIDE * SIDE + i] = px[c];
                }
            }
            Ok(chw)
        })
        .collect();
    let decoded = decoded?;
    Ok(ImageSet {
        channels: 3,
        height: SIDE,
        width: SIDE,
        pixels: decoded.concat(),
        labels: files.iter().map(|(_, l)| *l).collect(),
    })
}
