//! PASCAL VOC semantic segmentation (the `VOCdevkit/VOC20xx` layout): JPEG images and
//! palette-PNG class masks (classes 0-20, 255 = void border, ignored), read batch by
//! batch.

use std::fs;
use std::path::{Path, PathBuf};

use rand::Rng;
use rayon::prelude::*;
use tch::Tensor;

use crate::batches::seeded_rng;
use crate::decode::decode_rgb;
use crate::source::{epoch_order, item_stream, lazy_batches, BatchSource, Batches};
use crate::{Batch, DatasetError, Normalization};

/// How to obtain PASCAL VOC, quoted in "not found" errors.
pub const VOC_HINT: &str = "download VOCtrainval_25-May-2011.tar (PASCAL VOC 2011) and give its VOCdevkit folder (or VOCdevkit/VOC2011) as dataset.root; `scripts/prepare-data.sh voc-sample` unpacks the small real VOC 2012 sample";

/// The 21 classes of PASCAL VOC segmentation (0 = background).
pub const VOC_CLASSES: usize = 21;

/// Mask value of unlabelled pixels (object borders), left out of loss and metrics.
pub const VOC_IGNORE: u8 = 255;

/// Image / mask pairs of one segmentation split.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentationSet {
    /// `(image, mask)` in the order of the split's list file.
    pub items: Vec<(PathBuf, PathBuf)>,
}

impl SegmentationSet {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// A new set of the items at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> SegmentationSet {
        SegmentationSet {
            items: indices.iter().map(|&i| self.items[i].clone()).collect(),
        }
    }

    /// Splits off `n_val` items for validation by a seeded shuffle.
    pub fn split_validation(
        &self,
        n_val: usize,
        seed: u64,
    ) -> Result<(SegmentationSet, SegmentationSet), DatasetError> {
        let labels = vec![0u8; self.len()];
        let (train, val) = crate::split::balanced_split(&labels, n_val, seed)?;
        Ok((self.subset(&train), self.subset(&val)))
    }
}

/// A VOC year folder: `JPEGImages/`, `SegmentationClass/`, `ImageSets/Segmentation/`.
#[derive(Debug, Clone)]
pub struct Voc {
    /// The year folder found (e.g. `.../VOCdevkit/VOC2011`).
    pub dir: PathBuf,
}

impl Voc {
    /// Finds the year folder: `root` itself, or `root/VOC2011`, else `root/VOC2012`.
    pub fn open(root: &Path) -> Result<Voc, DatasetError> {
        let has_lists = |d: &Path| d.join("ImageSets/Segmentation").is_dir();
        let dir = [
            root.to_path_buf(),
            root.join("VOC2011"),
            root.join("VOC2012"),
        ]
        .into_iter()
        .find(|d| has_lists(d))
        .ok_or_else(|| DatasetError::NotFound {
            path: root.join("ImageSets/Segmentation"),
            hint: VOC_HINT,
        })?;
        Ok(Voc { dir })
    }

    /// The pairs listed in `ImageSets/Segmentation/<split>.txt` (e.g. `train`, `val`).
    /// A listed image or mask that is missing is an error naming it.
    pub fn split(&self, split: &str) -> Result<SegmentationSet, DatasetError> {
        let list = self
            .dir
            .join("ImageSets/Segmentation")
            .join(format!("{split}.txt"));
        let text = fs::read_to_string(&list).map_err(DatasetError::io(&list))?;
        let mut items = Vec::new();
        for id in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let img = self.dir.join("JPEGImages").join(format!("{id}.jpg"));
            let mask = self.dir.join("SegmentationClass").join(format!("{id}.png"));
            for p in [&img, &mask] {
                if !p.is_file() {
                    return Err(DatasetError::Corrupt {
                        path: list.clone(),
                        reason: format!("lists {id}, but {} is missing", p.display()),
                    });
                }
            }
            items.push((img, mask));
        }
        if items.is_empty() {
            return Err(DatasetError::Corrupt {
                path: list,
                reason: "lists no image".into(),
            });
        }
        Ok(SegmentationSet { items })
    }
}

/// Reads a class mask: the palette indices of an 8-bit palette PNG (VOC's format), or
/// the values of an 8-bit grayscale PNG. Returns `(width, height, row-major labels)`.
pub fn decode_mask(path: &Path) -> Result<(u32, u32, Vec<u8>), DatasetError> {
    let err = |reason: String| DatasetError::Decode {
        path: path.to_path_buf(),
        reason,
    };
    let file = fs::File::open(path).map_err(DatasetError::io(path))?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().map_err(|e| err(e.to_string()))?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| err("image too large".into()))?;
    let mut buf = vec![0u8; size];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| err(e.to_string()))?;
    let ok_kind = matches!(
        info.color_type,
        png::ColorType::Indexed | png::ColorType::Grayscale
    );
    if !ok_kind || info.bit_depth != png::BitDepth::Eight {
        return Err(err(format!(
            "expected an 8-bit palette or grayscale PNG of class indices, found {:?} {:?}",
            info.color_type, info.bit_depth
        )));
    }
    let (w, h) = (info.width as usize, info.height as usize);
    let mut labels = Vec::with_capacity(w * h);
    for row in buf.chunks(info.line_size).take(h) {
        labels.extend_from_slice(&row[..w]);
    }
    Ok((info.width, info.height, labels))
}

/// A segmentation split as a [`BatchSource`]: `images` `[B, 3, H, W]` and `labels`
/// `[B, H, W]` int64 (255 = ignore). Images keep their size; a batch of several is
/// padded at the bottom and right to its largest image (image value 0 after
/// normalization, label 255), so batch 1 (FCN's recipe) trains on whole images.
#[derive(Debug, Clone)]
pub struct SegmentationSource {
    pub set: SegmentationSet,
    /// Training batches flip horizontally with probability 1/2.
    pub flip: bool,
    pub norm: Normalization,
}

struct Sample {
    w: usize,
    h: usize,
    /// CHW normalized floats.
    image: Vec<f32>,
    labels: Vec<u8>,
}

impl SegmentationSource {
    fn load(&self, i: usize, flip: bool) -> Result<Sample, DatasetError> {
        let (img_path, mask_path) = &self.set.items[i];
        let img = decode_rgb(img_path)?;
        let (mw, mh, mut labels) = decode_mask(mask_path)?;
        if img.dimensions() != (mw, mh) {
            return Err(DatasetError::Corrupt {
                path: mask_path.clone(),
                reason: format!(
                    "mask is {mw}x{mh}, image {} is {}x{}",
                    img_path.display(),
                    img.width(),
                    img.height()
                ),
            });
        }
        let (w, h) = (mw as usize, mh as usize);
        let raw = img.as_raw();
        let mut image = vec![0f32; 3 * w * h];
        for c in 0..3 {
            let (m, s) = (self.norm.mean[c], self.norm.std[c]);
            for y in 0..h {
                for x in 0..w {
                    let sx = if flip { w - 1 - x } else { x };
                    image[c * w * h + y * w + x] =
                        (raw[(y * w + sx) * 3 + c] as f32 / 255.0 - m) / s;
                }
            }
        }
        if flip {
            labels.chunks_mut(w).for_each(|row| row.reverse());
        }
        Ok(Sample {
            w,
            h,
            image,
            labels,
        })
    }

    /// The batches of the items at `order`; `flips` gives `(seed, epoch)` of the
    /// random flips when augmenting.
    fn batches(
        &self,
        order: Vec<usize>,
        batch_size: usize,
        flips: Option<(u64, u64)>,
    ) -> Batches<'_> {
        let bs = batch_size.max(1);
        lazy_batches(order, bs, move |b, idx| {
            let samples: Vec<Sample> = idx
                .par_iter()
                .enumerate()
                .map(|(k, &i)| {
                    let flip = flips.is_some_and(|(seed, epoch)| {
                        seeded_rng(seed, item_stream(epoch, b, bs, k)).gen_bool(0.5)
                    });
                    self.load(i, flip)
                })
                .collect::<Result<_, _>>()?;
            Ok(pad_and_stack(&samples))
        })
    }
}

/// Stacks samples into one batch, padded to the largest height and width.
fn pad_and_stack(samples: &[Sample]) -> Batch {
    let h = samples.iter().map(|s| s.h).max().unwrap_or(0);
    let w = samples.iter().map(|s| s.w).max().unwrap_or(0);
    let mut images = vec![0f32; samples.len() * 3 * h * w];
    let mut labels = vec![VOC_IGNORE as i64; samples.len() * h * w];
    for (n, s) in samples.iter().enumerate() {
        for y in 0..s.h {
            for c in 0..3 {
                let dst = ((n * 3 + c) * h + y) * w;
                let src = (c * s.h + y) * s.w;
                images[dst..dst + s.w].copy_from_slice(&s.image[src..src + s.w]);
            }
            let dst = (n * h + y) * w;
            for (d, &l) in labels[dst..dst + s.w]
                .iter_mut()
                .zip(&s.labels[y * s.w..(y + 1) * s.w])
            {
                *d = l as i64;
            }
        }
    }
    let (b, h, w) = (samples.len() as i64, h as i64, w as i64);
    Batch {
        images: Tensor::from_slice(&images).view([b, 3, h, w]),
        labels: Tensor::from_slice(&labels).view([b, h, w]),
    }
}

impl BatchSource for SegmentationSource {
    fn len(&self) -> usize {
        self.set.len()
    }

    fn train_batches(&self, batch_size: usize, seed: u64, epoch: u64) -> Batches<'_> {
        let order = epoch_order(self.set.len(), batch_size, seed, epoch);
        self.batches(order, batch_size, self.flip.then_some((seed, epoch)))
    }

    fn eval_batches(&self, batch_size: usize) -> Batches<'_> {
        self.batches((0..self.set.len()).collect(), batch_size, None)
    }
}
