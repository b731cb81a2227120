//! PASCAL VOC segmentation on generated fixtures: palette masks decode to class
//! indices, image and mask flip together, batches pad with the ignore label, and bad
//! files are named.
use std::path::{Path, PathBuf};

use datasets::{
    decode_mask, BatchSource, SegmentationSource, Voc, IMAGENET_NORMALIZATION, VOC_IGNORE,
};
use image::{Rgb, RgbImage};

/// Writes an 8-bit palette PNG of class indices.
fn write_mask(path: &Path, w: u32, h: u32, labels: &[u8]) {
    let file = std::fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Indexed);
    enc.set_depth(png::BitDepth::Eight);
    let mut palette = vec![0u8; 256 * 3];
    palette[3..6].copy_from_slice(&[128, 0, 0]);
    palette[6..9].copy_from_slice(&[0, 128, 0]);
    palette[255 * 3..].copy_from_slice(&[224, 224, 192]);
    enc.set_palette(palette);
    enc.write_header()
        .unwrap()
        .write_image_data(labels)
        .unwrap();
}

/// Image `id`: left half red with label 1, right half blue with label 2, a one-pixel
/// void column between them.
fn pair(dir: &Path, id: &str, w: u32, h: u32) {
    let img = RgbImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            Rgb([250, 0, 0])
        } else {
            Rgb([0, 0, 250])
        }
    });
    img.save_with_format(
        dir.join(format!("JPEGImages/{id}.jpg")),
        image::ImageFormat::Jpeg,
    )
    .unwrap();
    let labels: Vec<u8> = (0..h)
        .flat_map(|_| {
            (0..w).map(move |x| {
                if x == w / 2 {
                    VOC_IGNORE
                } else if x < w / 2 {
                    1
                } else {
                    2
                }
            })
        })
        .collect();
    write_mask(
        &dir.join(format!("SegmentationClass/{id}.png")),
        w,
        h,
        &labels,
    );
}

/// `root/VOC2011` with 3 training and 2 validation pairs of different sizes.
fn fixture(root: &Path) -> PathBuf {
    let dir = root.join("VOC2011");
    for sub in ["JPEGImages", "SegmentationClass", "ImageSets/Segmentation"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let ids = [
        "2011_000001",
        "2011_000002",
        "2011_000003",
        "2011_000004",
        "2011_000005",
    ];
    for (i, id) in ids.iter().enumerate() {
        pair(&dir, id, 20 + 4 * i as u32, 16 + 2 * i as u32);
    }
    std::fs::write(
        dir.join("ImageSets/Segmentation/train.txt"),
        ids[..3].join("\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("ImageSets/Segmentation/val.txt"),
        ids[3..].join("\n") + "\n",
    )
    .unwrap();
    dir
}

fn source(root: &Path, split: &str, flip: bool) -> SegmentationSource {
    SegmentationSource {
        set: Voc::open(root).unwrap().split(split).unwrap(),
        flip,
        norm: IMAGENET_NORMALIZATION,
    }
}

#[test]
fn palette_masks_decode_to_class_indices() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture(tmp.path());
    let (w, h, labels) = decode_mask(&dir.join("SegmentationClass/2011_000001.png")).unwrap();
    assert_eq!((w, h), (20, 16));
    assert_eq!(&labels[..12], &[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 255, 2]);
    assert_eq!(
        Voc::open(tmp.path()).unwrap().dir,
        dir,
        "VOCdevkit root finds VOC2011"
    );
}

#[test]
fn batches_pad_to_the_largest_image_with_the_ignore_label() {
    let tmp = tempfile::tempdir().unwrap();
    fixture(tmp.path());
    let src = source(tmp.path(), "val", false);
    let b = src.eval_batches(2).next().unwrap().unwrap();
    // 32 x 22 and 36 x 24: padded to 36 x 24.
    assert_eq!(b.images.size(), [2, 3, 24, 36]);
    assert_eq!(b.labels.size(), [2, 24, 36]);
    assert_eq!(b.labels.int64_value(&[0, 0, 0]), 1);
    assert_eq!(b.labels.int64_value(&[0, 0, 35]), 255, "padding column");
    assert_eq!(b.labels.int64_value(&[0, 23, 0]), 255, "padding row");
    assert_eq!(b.labels.int64_value(&[1, 23, 35]), 2);
    assert_eq!(
        b.images.double_value(&[0, 0, 23, 0]),
        0.0,
        "padded pixels are 0"
    );
}

#[test]
fn training_flip_moves_image_and_mask_together() {
    let tmp = tempfile::tempdir().unwrap();
    fixture(tmp.path());
    let src = source(tmp.path(), "train", true);
    let mut flipped = 0;
    for epoch in 0..6 {
        for b in src.train_batches(1, 5, epoch) {
            let b = b.unwrap();
            let red_left = b.images.double_value(&[0, 0, 0, 0]) > 0.0;
            let label_left = b.labels.int64_value(&[0, 0, 0]);
            assert_eq!(label_left, if red_left { 1 } else { 2 });
            flipped += (!red_left) as usize;
        }
    }
    assert!(
        flipped > 0 && flipped < 18,
        "some images flipped, not all ({flipped})"
    );
    let a: Vec<_> = src
        .train_batches(1, 5, 2)
        .map(|b| b.unwrap().images)
        .collect();
    let again: Vec<_> = src
        .train_batches(1, 5, 2)
        .map(|b| b.unwrap().images)
        .collect();
    assert!(a.iter().zip(&again).all(|(x, y)| x.equal(y)), "seeded");
}

#[test]
fn bad_files_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let err = Voc::open(tmp.path()).unwrap_err().to_string();
    assert!(
        err.contains("ImageSets/Segmentation") && err.contains("VOC"),
        "{err}"
    );
    let dir = fixture(tmp.path());
    // A listed mask that is missing.
    std::fs::remove_file(dir.join("SegmentationClass/2011_000005.png")).unwrap();
    let err = Voc::open(tmp.path())
        .unwrap()
        .split("val")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("val.txt") && err.contains("2011_000005.png"),
        "{err}"
    );
    // A mask of another size than its image.
    write_mask(
        &dir.join("SegmentationClass/2011_000005.png"),
        5,
        5,
        &[0; 25],
    );
    let src = source(tmp.path(), "val", false);
    let err = src
        .eval_batches(1)
        .find_map(|b| b.err())
        .unwrap()
        .to_string();
    assert!(
        err.contains("2011_000005.png") && err.contains("5x5"),
        "{err}"
    );
    // An RGB PNG is not a class mask.
    RgbImage::new(36, 24)
        .save_with_format(
            dir.join("SegmentationClass/2011_000005.png"),
            image::ImageFormat::Png,
        )
        .unwrap();
    let err = decode_mask(&dir.join("SegmentationClass/2011_000005.png"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("2011_000005.png") && err.contains("palette"),
        "{err}"
    );
}

/// Decodes every mask of a real VOC `SegmentationClass` folder given as `VOC_MASKS`
/// (e.g. the 2,913 train+val masks of the shared sample): indices 0-20 or 255 only.
/// `VOC_MASKS=data/voc-seg-sample/masks_only_trainval/SegmentationClass cargo test
/// --release -p datasets --test voc -- --ignored`
#[test]
#[ignore = "needs a real VOC mask folder in VOC_MASKS"]
fn every_real_mask_decodes_to_voc_classes() {
    let dir = PathBuf::from(std::env::var("VOC_MASKS").expect("VOC_MASKS"));
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let (w, h, labels) = decode_mask(&p).unwrap();
        assert_eq!(labels.len(), (w * h) as usize);
        assert!(
            labels.iter().all(|&l| l <= 20 || l == VOC_IGNORE),
            "{}",
            p.display()
        );
        n += 1;
    }
    assert!(n > 0);
    println!("{n} masks decoded");
}
