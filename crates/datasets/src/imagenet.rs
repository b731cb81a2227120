//! ImageNet (ILSVRC-2012) from its standard folders, decoded batch by batch (the full
//! set does not fit in memory decoded), with the standard transforms: random-resized
//! crop + horizontal flip for training, resize + centre crop for evaluation.

use std::path::Path;

use image::imageops::{self, FilterType};
use image::RgbImage;
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tch::Tensor;

use crate::batches::seeded_rng;
use crate::decode::decode_rgb;
use crate::image_folder::{class_folders, read_class_list};
use crate::source::{epoch_order, item_stream, lazy_batches, BatchSource, Batches};
use crate::{Batch, DatasetError, ImageFolder, Normalization};

/// How to obtain ImageNet, quoted in "not found" errors.
pub const IMAGENET_HINT: &str = "download ILSVRC-2012 from image-net.org and give the folder holding train/<wnid>/*.JPEG and val/<wnid>/*.JPEG (or a flat val/ with `dataset.val_labels`) as dataset.root; `scripts/prepare-data.sh imagenet-sample` unpacks the small real sample";

/// ImageNet training-set statistics (torchvision's).
pub const IMAGENET_NORMALIZATION: Normalization = Normalization {
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
};

/// The standard ImageNet transforms, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ImageNetTransform {
    /// Side of the square network input (224).
    pub crop: u32,
    /// Evaluation: the shorter side is resized to this before the centre crop (256).
    pub resize: u32,
    /// Training: range of the crop's area as a fraction of the image's (0.08 to 1).
    pub scale: (f64, f64),
    /// Training: range of the crop's aspect ratio, width / height (3/4 to 4/3).
    pub ratio: (f64, f64),
    /// Training: flip horizontally with probability 1/2.
    pub flip: bool,
}

impl Default for ImageNetTransform {
    fn default() -> Self {
        Self {
            crop: 224,
            resize: 256,
            scale: (0.08, 1.0),
            ratio: (3.0 / 4.0, 4.0 / 3.0),
            flip: true,
        }
    }
}

/// The splits found under an ImageNet root.
#[derive(Debug, Clone)]
pub struct ImageNet {
    pub train: ImageFolder,
    /// The official validation images: the test split of the experiments.
    pub val: ImageFolder,
}

impl ImageNet {
    /// Opens `root/train/<class>/*` and `root/val/<class>/*`, or a flat `root/val/*`
    /// labelled by `val_labels` (lines `<file> <class index or name>`). Label order:
    /// `class_list` (one class per line, e.g. ILSVRC's `synsets.txt`) when given, else
    /// the sorted folder names of `train/` (torchvision's order; give the list when only
    /// a subset of the 1,000 classes is present, so labels keep their ImageNet index).
    pub fn open(
        root: &Path,
        class_list: Option<&Path>,
        val_labels: Option<&Path>,
    ) -> Result<ImageNet, DatasetError> {
        let (train_dir, val_dir) = (root.join("train"), root.join("val"));
        for d in [&train_dir, &val_dir] {
            if !d.is_dir() {
                return Err(DatasetError::NotFound {
                    path: d.clone(),
                    hint: IMAGENET_HINT,
                });
            }
        }
        let classes = match class_list {
            Some(p) => read_class_list(p)?,
            None => class_folders(&train_dir)?,
        };
        let train = ImageFolder::scan(&train_dir, &classes)?;
        let val = match val_labels {
            Some(labels) => ImageFolder::scan_flat(&val_dir, labels, &classes)?,
            None => ImageFolder::scan(&val_dir, &classes)?,
        };
        Ok(ImageNet { train, val })
    }
}

/// Image files decoded batch by batch with the ImageNet transforms: a [`BatchSource`].
#[derive(Debug, Clone)]
pub struct FolderSource {
    pub folder: ImageFolder,
    pub transform: ImageNetTransform,
    /// Whether training batches are augmented (random-resized crop and flip); without,
    /// they take the evaluation transform.
    pub augment: bool,
    pub norm: Normalization,
}

/// torchvision's `RandomResizedCrop` region `(x, y, w, h)` of a `width x height` image.
fn random_resized_region(
    width: u32,
    height: u32,
    t: &ImageNetTransform,
    rng: &mut impl Rng,
) -> (u32, u32, u32, u32) {
    let (w, h) = (width as f64, height as f64);
    let area = w * h;
    let (lr0, lr1) = (t.ratio.0.ln(), t.ratio.1.ln());
    for _ in 0..10 {
        let target = area * rng.gen_range(t.scale.0..=t.scale.1);
        let aspect = rng.gen_range(lr0..=lr1).exp();
        // Python's round(), as torchvision: halves to even.
        let cw = (target * aspect).sqrt().round_ties_even();
        let ch = (target / aspect).sqrt().round_ties_even();
        if cw > 0.0 && ch > 0.0 && cw <= w && ch <= h {
            let (cw, ch) = (cw as u32, ch as u32);
            let x = rng.gen_range(0..=width - cw);
            let y = rng.gen_range(0..=height - ch);
            return (x, y, cw, ch);
        }
    }
    // Fallback: the largest centred crop whose aspect ratio lies in the range.
    let in_ratio = w / h;
    let (cw, ch) = if in_ratio < t.ratio.0 {
        (
            width,
            ((w / t.ratio.0).round_ties_even() as u32).clamp(1, height),
        )
    } else if in_ratio > t.ratio.1 {
        (
            ((h * t.ratio.1).round_ties_even() as u32).clamp(1, width),
            height,
        )
    } else {
        (width, height)
    };
    ((width - cw) / 2, (height - ch) / 2, cw, ch)
}

/// Resize of the shorter side to `t.resize` (aspect kept), then the centred
/// `t.crop x t.crop` square.
fn eval_transform(img: &RgbImage, t: &ImageNetTransform) -> RgbImage {
    let (w, h) = img.dimensions();
    let (ow, oh) = if w <= h {
        (
            t.resize,
            ((t.resize as u64 * h as u64) / w.max(1) as u64) as u32,
        )
    } else {
        (
            ((t.resize as u64 * w as u64) / h.max(1) as u64) as u32,
            t.resize,
        )
    };
    let resized = imageops::resize(img, ow.max(t.crop), oh.max(t.crop), FilterType::Triangle);
    let (rw, rh) = resized.dimensions();
    let x = centre_offset(rw, t.crop);
    let y = centre_offset(rh, t.crop);
    imageops::crop_imm(&resized, x, y, t.crop, t.crop).to_image()
}

/// torchvision's `CenterCrop` offset, `int(round((size - crop) / 2.0))`: Python rounds
/// halves to even, so a 341-pixel side cropped to 224 starts at 58, not 59.
fn centre_offset(size: u32, crop: u32) -> u32 {
    (size.saturating_sub(crop) as f64 / 2.0).round_ties_even() as u32
}

/// Writes `img` (`s x s` RGB) normalized into `out` as CHW floats, mirrored if `flip`.
fn write_chw(img: &RgbImage, flip: bool, norm: &Normalization, out: &mut [f32]) {
    let (w, h) = img.dimensions();
    let (w, h) = (w as usize, h as usize);
    let raw = img.as_raw();
    for c in 0..3 {
        let (m, s) = (norm.mean[c], norm.std[c]);
        let scale = 1.0 / (255.0 * s);
        let plane = &mut out[c * h * w..(c + 1) * h * w];
        for y in 0..h {
            for x in 0..w {
                let sx = if flip { w - 1 - x } else { x };
                plane[y * w + x] = raw[(y * w + sx) * 3 + c] as f32 * scale - m / s;
            }
        }
    }
}

impl FolderSource {
    /// One transformed image as CHW floats.
    fn render(
        &self,
        path: &Path,
        train_draw: Option<(u64, u64)>,
    ) -> Result<Vec<f32>, DatasetError> {
        let t = &self.transform;
        let img = decode_rgb(path)?;
        let s = t.crop as usize;
        let mut out = vec![0f32; 3 * s * s];
        match train_draw {
            Some((seed, stream)) => {
                let mut rng = seeded_rng(seed, stream);
                let (w, h) = img.dimensions();
                let (x, y, cw, ch) = random_resized_region(w, h, t, &mut rng);
                let region = imageops::crop_imm(&img, x, y, cw, ch).to_image();
                let crop = imageops::resize(&region, t.crop, t.crop, FilterType::Triangle);
                let flip = t.flip && rng.gen_bool(0.5);
                write_chw(&crop, flip, &self.norm, &mut out);
            }
            None => write_chw(&eval_transform(&img, t), false, &self.norm, &mut out),
        }
        Ok(out)
    }

    /// The batches of the items at `order`; `draws` gives `(seed, epoch)` of the
    /// random draws when augmenting.
    fn batches(
        &self,
        order: Vec<usize>,
        batch_size: usize,
        draws: Option<(u64, u64)>,
    ) -> Batches<'_> {
        let bs = batch_size.max(1);
        let s = self.transform.crop as i64;
        lazy_batches(order, bs, move |b, idx| {
            let images: Vec<Vec<f32>> = idx
                .par_iter()
                .enumerate()
                .map(|(k, &i)| {
                    let draw = draws.map(|(seed, epoch)| (seed, item_stream(epoch, b, bs, k)));
                    self.render(&self.folder.items[i].0, draw)
                })
                .collect::<Result<_, _>>()?;
            let labels: Vec<i64> = idx.iter().map(|&i| self.folder.items[i].1 as i64).collect();
            Ok(Batch {
                images: Tensor::from_slice(&images.concat()).view([idx.len() as i64, 3, s, s]),
                labels: Tensor::from_slice(&labels),
            })
        })
    }
}

impl BatchSource for FolderSource {
    fn len(&self) -> usize {
        self.folder.len()
    }

    fn train_batches(&self, batch_size: usize, seed: u64, epoch: u64) -> Batches<'_> {
        let order = epoch_order(self.folder.len(), batch_size, seed, epoch);
        self.batches(order, batch_size, self.augment.then_some((seed, epoch)))
    }

    fn eval_batches(&self, batch_size: usize) -> Batches<'_> {
        self.batches((0..self.folder.len()).collect(), batch_size, None)
    }
}

#[cfg(test)]
mod tests {
    use super::centre_offset;

    #[test]
    fn centre_crop_offsets_round_halves_to_even_as_torchvision() {
        // 500x375 and 375x500 images resized to a 256 short side have a 341 long side.
        assert_eq!(centre_offset(341, 224), 58);
        assert_eq!(centre_offset(343, 224), 60);
        assert_eq!(centre_offset(256, 224), 16);
        assert_eq!(centre_offset(225, 224), 0);
        assert_eq!(centre_offset(224, 224), 0);
    }
}
