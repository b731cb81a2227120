//! ImageNet folders on generated JPEG/PNG fixtures: class order, flat validation
//! labels, the standard transforms, seeded batches, and errors that name the file.
use std::path::Path;

use datasets::{
    BatchSource, DatasetError, FolderSource, ImageFolder, ImageNet, ImageNetTransform,
    IMAGENET_NORMALIZATION,
};
use image::{GrayImage, Luma, Rgb, RgbImage};
use tch::Tensor;

const CLASSES: [&str; 4] = ["n01440764", "n01443537", "n01484850", "n01491361"];

/// An image whose left half is `a` and right half `b`.
fn halves(w: u32, h: u32, a: [u8; 3], b: [u8; 3]) -> RgbImage {
    RgbImage::from_fn(w, h, |x, _| if x < w / 2 { Rgb(a) } else { Rgb(b) })
}

/// `root/{train,val}/<wnid>/` for classes 1 and 3 of the list (a subset, as in the
/// small real sample), with varied sizes, a grayscale JPEG and a PNG named .JPEG.
fn fixture(root: &Path) {
    for (split, n) in [("train", 5), ("val", 2)] {
        for (k, wnid) in [(1usize, CLASSES[1]), (3, CLASSES[3])] {
            let dir = root.join(split).join(wnid);
            std::fs::create_dir_all(&dir).unwrap();
            for i in 0..n {
                let (w, h) = (40 + 13 * i as u32, 30 + 7 * k as u32);
                let c = (40 * k + 20 * i) as u8;
                let p = dir.join(format!("{wnid}_{i}.JPEG"));
                match i {
                    0 => GrayImage::from_pixel(w, h, Luma([c]))
                        .save_with_format(&p, image::ImageFormat::Jpeg)
                        .unwrap(),
                    1 => halves(w, h, [c, 0, 0], [0, 0, c])
                        .save_with_format(&p, image::ImageFormat::Png)
                        .unwrap(),
                    _ => halves(w, h, [c, 200, 0], [0, 200, c])
                        .save_with_format(&p, image::ImageFormat::Jpeg)
                        .unwrap(),
                }
            }
        }
    }
    let list: String = CLASSES
        .iter()
        .map(|c| format!("{c} some words\n"))
        .collect();
    std::fs::write(root.join("synsets.txt"), list).unwrap();
}

fn small(folder: ImageFolder, augment: bool) -> FolderSource {
    FolderSource {
        folder,
        transform: ImageNetTransform {
            crop: 16,
            resize: 20,
            ..Default::default()
        },
        augment,
        norm: IMAGENET_NORMALIZATION,
    }
}

fn equal(a: &Tensor, b: &Tensor) -> bool {
    a.size() == b.size() && a.equal(b)
}

#[test]
fn class_list_keeps_imagenet_label_indices_for_a_subset() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let list = dir.path().join("synsets.txt");
    let inet = ImageNet::open(dir.path(), Some(&list), None).unwrap();
    assert_eq!(inet.train.len(), 10);
    assert_eq!(inet.val.len(), 4);
    assert_eq!(inet.train.classes.len(), 4);
    let labels: Vec<u32> = inet.train.items.iter().map(|(_, l)| *l).collect();
    assert_eq!(labels, [1, 1, 1, 1, 1, 3, 3, 3, 3, 3]);
    // Without the list, the sorted folder names are the classes.
    let sorted = ImageNet::open(dir.path(), None, None).unwrap();
    assert_eq!(sorted.train.classes, [CLASSES[1], CLASSES[3]]);
    assert_eq!(sorted.val.items[3].1, 1);
}

#[test]
fn batches_have_the_network_input_shape_and_are_seeded() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let inet = ImageNet::open(dir.path(), Some(&dir.path().join("synsets.txt")), None).unwrap();
    let src = small(inet.train, true);
    let epoch0: Vec<_> = src.train_batches(4, 7, 0).map(|b| b.unwrap()).collect();
    assert_eq!(
        epoch0.len(),
        2,
        "10 images in batches of 4, last partial dropped"
    );
    assert_eq!(epoch0[0].images.size(), [4, 3, 16, 16]);
    let again: Vec<_> = src.train_batches(4, 7, 0).map(|b| b.unwrap()).collect();
    let other: Vec<_> = src.train_batches(4, 7, 1).map(|b| b.unwrap()).collect();
    assert!(epoch0
        .iter()
        .zip(&again)
        .all(|(a, b)| equal(&a.images, &b.images)));
    assert!(!epoch0
        .iter()
        .zip(&other)
        .all(|(a, b)| equal(&a.images, &b.images)));
    let eval = src.eval_batches(3);
    assert_eq!(eval.num_batches(), 4);
    let sizes: Vec<i64> = eval.map(|b| b.unwrap().labels.size()[0]).collect();
    assert_eq!(sizes, [3, 3, 3, 1]);
}

#[test]
fn eval_transform_resizes_the_shorter_side_then_crops_the_centre() {
    let dir = tempfile::tempdir().unwrap();
    let cls = dir.path().join("val/a");
    std::fs::create_dir_all(&cls).unwrap();
    // 80 x 40, left half red, right half blue: resize to 40 x 20, centre crop 16 x 16
    // spans x = 12..28 of the resized image, so columns 0..8 are red, 8..16 blue.
    halves(80, 40, [255, 0, 0], [0, 0, 255])
        .save_with_format(cls.join("x.png"), image::ImageFormat::Png)
        .unwrap();
    let folder = ImageFolder::scan(&dir.path().join("val"), &["a".to_string()]).unwrap();
    let b = small(folder, false)
        .eval_batches(1)
        .next()
        .unwrap()
        .unwrap();
    let red = |x: i64| {
        let v = b.images.double_value(&[0, 0, 8, x]) as f32;
        v * IMAGENET_NORMALIZATION.std[0] + IMAGENET_NORMALIZATION.mean[0]
    };
    assert!(red(0) > 0.95 && red(6) > 0.95, "left of the crop is red");
    assert!(red(9) < 0.05 && red(15) < 0.05, "right of the crop is blue");
}

#[test]
fn full_area_training_crop_of_a_square_image_equals_its_resize() {
    let dir = tempfile::tempdir().unwrap();
    let cls = dir.path().join("train/a");
    std::fs::create_dir_all(&cls).unwrap();
    for i in 0..2 {
        halves(48, 48, [200, 10 * i, 0], [0, 90, 200])
            .save_with_format(cls.join(format!("{i}.png")), image::ImageFormat::Png)
            .unwrap();
    }
    let folder = ImageFolder::scan(&dir.path().join("train"), &["a".to_string()]).unwrap();
    let t = ImageNetTransform {
        crop: 16,
        resize: 16,
        scale: (1.0, 1.0),
        ratio: (1.0, 1.0),
        flip: false,
    };
    let aug = FolderSource {
        folder,
        transform: t,
        augment: true,
        norm: IMAGENET_NORMALIZATION,
    };
    let plain = FolderSource {
        augment: false,
        ..aug.clone()
    };
    let a = aug.train_batches(2, 3, 0).next().unwrap().unwrap();
    let p = plain.train_batches(2, 3, 0).next().unwrap().unwrap();
    assert!(equal(&a.labels, &p.labels));
    assert!(
        (a.images - p.images).abs().max().double_value(&[]) < 1e-5,
        "the whole image, resized, either way"
    );
}

#[test]
fn flat_validation_folder_takes_labels_by_index_or_name() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let flat = dir.path().join("flat");
    std::fs::create_dir_all(&flat).unwrap();
    for name in [
        "ILSVRC2012_val_00000001.JPEG",
        "ILSVRC2012_val_00000002.JPEG",
    ] {
        halves(20, 20, [1, 2, 3], [4, 5, 6])
            .save_with_format(flat.join(name), image::ImageFormat::Jpeg)
            .unwrap();
    }
    let labels = dir.path().join("val.txt");
    std::fs::write(
        &labels,
        "# file label\nILSVRC2012_val_00000001.JPEG 2\nILSVRC2012_val_00000002.JPEG n01491361\n",
    )
    .unwrap();
    let classes: Vec<String> = CLASSES.iter().map(|c| c.to_string()).collect();
    let f = ImageFolder::scan_flat(&flat, &labels, &classes).unwrap();
    let got: Vec<u32> = f.items.iter().map(|(_, l)| *l).collect();
    assert_eq!(got, [2, 3]);

    std::fs::write(&labels, "ILSVRC2012_val_00000001.JPEG 2\n").unwrap();
    let err = ImageFolder::scan_flat(&flat, &labels, &classes)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("val.txt") && err.contains("no label for"),
        "{err}"
    );
    std::fs::write(&labels, "ILSVRC2012_val_00000001.JPEG 1000\n").unwrap();
    let err = ImageFolder::scan_flat(&flat, &labels, &classes)
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 1") && err.contains("1000"), "{err}");
}

#[test]
fn bad_data_is_refused_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    match ImageNet::open(dir.path(), None, None) {
        Err(DatasetError::NotFound { path, .. }) => assert!(path.ends_with("train")),
        other => panic!("expected NotFound, got {other:?}"),
    }
    fixture(dir.path());
    // A class folder missing from the class list.
    std::fs::write(dir.path().join("short.txt"), format!("{}\n", CLASSES[1])).unwrap();
    let err = ImageNet::open(dir.path(), Some(&dir.path().join("short.txt")), None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(CLASSES[3]) && err.contains("not in the class list"),
        "{err}"
    );
    // A corrupt image: the batch that holds it fails, naming the file.
    let bad = dir
        .path()
        .join("val")
        .join(CLASSES[1])
        .join("zz_corrupt.JPEG");
    std::fs::write(&bad, b"\xff\xd8\xff\xe0 not really a jpeg").unwrap();
    let inet = ImageNet::open(dir.path(), Some(&dir.path().join("synsets.txt")), None).unwrap();
    let src = small(inet.val, false);
    let results: Vec<_> = src.eval_batches(2).collect();
    let err = results
        .iter()
        .find_map(|r| r.as_ref().err())
        .expect("an error");
    assert!(err.to_string().contains("zz_corrupt.JPEG"), "{err}");
    assert!(
        results.last().unwrap().is_err(),
        "batches stop at the error"
    );
}

#[test]
fn validation_split_is_class_balanced_and_seeded() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let inet = ImageNet::open(dir.path(), None, None).unwrap();
    let (train, val) = inet.train.split_validation(4, 1).unwrap();
    assert_eq!((train.len(), val.len()), (6, 4));
    let per_class = |f: &ImageFolder, c| f.items.iter().filter(|(_, l)| *l == c).count();
    assert_eq!((per_class(&val, 0), per_class(&val, 1)), (2, 2));
    let (_, again) = inet.train.split_validation(4, 1).unwrap();
    assert_eq!(val, again);
}
