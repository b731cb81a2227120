//! CIFAR-10 loading in both on-disk forms, the cache, the validation split and batching,
//! on small synthetic fixtures written by the tests themselves.
use std::fs;
use std::path::Path;

use datasets::*;

/// A deterministic pixel value for image `i`, channel `c`, position `p`.
fn px(i: usize, c: usize, p: usize) -> u8 {
    ((i * 31 + c * 67 + p * 7) % 251) as u8
}

fn write_binary(dir: &Path, per_file: usize) {
    let bin = dir.join("cifar-10-batches-bin");
    fs::create_dir_all(&bin).unwrap();
    let names: Vec<String> = (1..=5)
        .map(|i| format!("data_batch_{i}.bin"))
        .chain(["test_batch.bin".to_string()])
        .collect();
    for (f, name) in names.iter().enumerate() {
        let mut bytes = Vec::new();
        for j in 0..per_file {
            let i = f * per_file + j;
            bytes.push((i % 10) as u8);
            for c in 0..3 {
                for p in 0..1024 {
                    bytes.push(px(i, c, p));
                }
            }
        }
        fs::write(bin.join(name), bytes).unwrap();
    }
}

#[test]
fn reads_the_binary_release() {
    let tmp = tempfile::tempdir().unwrap();
    write_binary(tmp.path(), 20);
    let c = Cifar10::load(tmp.path(), None).unwrap();
    assert_eq!(c.source, Cifar10Source::Binary);
    assert_eq!((c.train.len(), c.test.len()), (100, 20));
    // Image 37 sits in data_batch_2 at record 17; planes are R, G, B.
    let img = c.train.image(37);
    assert_eq!(c.train.labels[37], 7);
    assert_eq!(
        (img[0], img[1024 + 5], img[2048 + 1023]),
        (px(37, 0, 0), px(37, 1, 5), px(37, 2, 1023))
    );
}

#[test]
fn truncated_binary_file_is_reported_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    write_binary(tmp.path(), 3);
    let f = tmp.path().join("cifar-10-batches-bin/data_batch_3.bin");
    let bytes = fs::read(&f).unwrap();
    fs::write(&f, &bytes[..bytes.len() - 10]).unwrap();
    let e = Cifar10::load(tmp.path(), None).unwrap_err().to_string();
    assert!(
        e.contains("data_batch_3.bin") && e.contains("records"),
        "{e}"
    );
}

#[test]
fn missing_data_set_says_how_to_get_it() {
    let tmp = tempfile::tempdir().unwrap();
    let e = Cifar10::load(&tmp.path().join("nowhere"), None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("data set not found at")
            && e.contains("nowhere")
            && e.contains("prepare-data.sh"),
        "{e}"
    );
}

fn write_folder(dir: &Path, per_class: usize) {
    for split in ["train", "test"] {
        for (label, class) in CIFAR10_CLASSES.iter().enumerate() {
            let d = dir.join(split).join(class);
            fs::create_dir_all(&d).unwrap();
            for j in 0..per_class {
                let img = image::RgbImage::from_fn(32, 32, |x, y| {
                    let p = (y * 32 + x) as usize;
                    image::Rgb([
                        px(label * 100 + j, 0, p),
                        px(label * 100 + j, 1, p),
                        px(label * 100 + j, 2, p),
                    ])
                });
                img.save(d.join(format!("{j:04}.png"))).unwrap();
            }
        }
    }
}

#[test]
fn image_folder_is_decoded_exactly_and_cached() {
    let tmp = tempfile::tempdir().unwrap();
    write_folder(tmp.path(), 3);
    let c = Cifar10::load(tmp.path(), None).unwrap();
    assert_eq!(c.source, Cifar10Source::ImageFolder);
    assert_eq!((c.train.len(), c.test.len()), (30, 30));
    // Sorted by class then name: image 4 is class 1 ("automobile"), file 0001.png.
    assert_eq!(c.train.labels[4], 1);
    let img = c.train.image(4);
    assert_eq!(
        (img[0], img[1024 + 33], img[2048 + 1023]),
        (px(101, 0, 0), px(101, 1, 33), px(101, 2, 1023))
    );
    let cache = tmp.path().join(".cache/cifar10-train.bin");
    assert!(cache.is_file());
    // The second load comes from the cache and is identical.
    let again = Cifar10::load(tmp.path(), None).unwrap();
    assert_eq!(again.train, c.train);
    // A damaged cache is an error naming it, not silently wrong data.
    let bytes = fs::read(&cache).unwrap();
    fs::write(&cache, &bytes[..bytes.len() - 1]).unwrap();
    let e = Cifar10::load(tmp.path(), None).unwrap_err().to_string();
    assert!(e.contains("cifar10-train.bin"), "{e}");
}

#[test]
fn a_cache_built_before_two_classes_were_swapped_is_not_reused() {
    let tmp = tempfile::tempdir().unwrap();
    write_folder(tmp.path(), 3);
    let before = Cifar10::load(tmp.path(), None).unwrap();
    // Swapping two class folders keeps the file count and every size: only the labels
    // of the files change.
    let test = tmp.path().join("test");
    fs::rename(test.join("cat"), test.join("swap")).unwrap();
    fs::rename(test.join("dog"), test.join("cat")).unwrap();
    fs::rename(test.join("swap"), test.join("dog")).unwrap();
    let after = Cifar10::load(tmp.path(), None).unwrap();
    assert_ne!(after.test, before.test);
    // The first cat image (index 3 * 3) now holds what was the first dog image.
    assert_eq!(after.test.labels[9], 3);
    assert_eq!(after.test.image(9), before.test.image(15));
    // And it equals a decode without any cache.
    fs::remove_dir_all(tmp.path().join(".cache")).unwrap();
    let fresh = Cifar10::load(tmp.path(), None).unwrap();
    assert_eq!(after.test, fresh.test);
    // An edited file of the same size is noticed too.
    let f = tmp.path().join("train/bird/0001.png");
    let other = fs::read(tmp.path().join("train/bird/0002.png")).unwrap();
    fs::write(&f, &other).unwrap();
    let edited = Cifar10::load(tmp.path(), None).unwrap();
    assert_eq!(edited.train.image(7), edited.train.image(8));
}

#[test]
fn undecodable_image_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    write_folder(tmp.path(), 1);
    let bad = tmp.path().join("train/cat/0000.png");
    fs::write(&bad, b"not a png").unwrap();
    let e = Cifar10::load(tmp.path(), None).unwrap_err().to_string();
    assert!(e.contains("cat/0000.png"), "{e}");
}

fn synthetic_set(n: usize) -> ImageSet {
    ImageSet {
        channels: 3,
        height: 32,
        width: 32,
        pixels: (0..n * 3072).map(|i| (i % 256) as u8).collect(),
        labels: (0..n).map(|i| (i % 10) as u8).collect(),
    }
}

#[test]
fn validation_split_is_balanced_disjoint_and_seeded() {
    let set = synthetic_set(500);
    let (train, val) = set.split_validation(100, 7).unwrap();
    assert_eq!((train.len(), val.len()), (400, 100));
    for class in 0..10u8 {
        assert_eq!(val.labels.iter().filter(|&&l| l == class).count(), 10);
    }
    let (train2, val2) = set.split_validation(100, 7).unwrap();
    assert_eq!((train2, val2.clone()), (train, val.clone()));
    let (_, val3) = set.split_validation(100, 8).unwrap();
    assert_ne!(val3, val);
    assert!(set.split_validation(500, 0).is_err());
}

#[test]
fn batches_are_seeded_and_shaped() {
    let set = synthetic_set(70);
    let aug = Some(Augment::default());
    let a: Vec<Batch> = BatchIter::train(&set, 32, aug, CIFAR10_NORMALIZATION, 3, 5).collect();
    let b: Vec<Batch> = BatchIter::train(&set, 32, aug, CIFAR10_NORMALIZATION, 3, 5).collect();
    let c: Vec<Batch> = BatchIter::train(&set, 32, aug, CIFAR10_NORMALIZATION, 3, 6).collect();
    assert_eq!(a.len(), 2, "the partial last batch is dropped in training");
    assert_eq!(a[0].images.size(), [32, 3, 32, 32]);
    assert!(a[0].images.equal(&b[0].images) && a[1].labels.equal(&b[1].labels));
    assert!(!a[0].images.equal(&c[0].images));
    let e: Vec<Batch> = BatchIter::eval(&set, 32, CIFAR10_NORMALIZATION).collect();
    assert_eq!(e.len(), 3);
    assert_eq!(e[2].labels.size(), [6]);
}

#[test]
fn eval_batches_are_normalized_pixels() {
    let set = synthetic_set(1);
    let b = BatchIter::eval(&set, 1, CIFAR10_NORMALIZATION)
        .next()
        .unwrap();
    let n = CIFAR10_NORMALIZATION;
    // Pixel (c=1, y=2, x=3) of image 0.
    let raw = set.image(0)[1024 + 2 * 32 + 3] as f64;
    let want = (raw / 255.0 - n.mean[1] as f64) / n.std[1] as f64;
    let got = b.images.double_value(&[0, 1, 2, 3]);
    assert!((got - want).abs() < 1e-5, "{got} vs {want}");
}

#[test]
fn augmentation_crops_within_a_zero_border_and_flips() {
    // One image with a single bright pixel; its augmented copies must contain it at
    // most once, shifted by at most `pad`, or mirrored.
    let mut set = synthetic_set(1);
    set.pixels.iter_mut().for_each(|p| *p = 0);
    set.pixels[10 * 32 + 12] = 255; // channel 0, y=10, x=12
    let n = CIFAR10_NORMALIZATION;
    let bright = (1.0 - n.mean[0] as f64) / n.std[0] as f64;
    let mut positions = std::collections::HashSet::new();
    for epoch in 0..40 {
        let mut set2 = set.clone();
        set2.labels = vec![0, 0];
        set2.pixels = [set.pixels.clone(), set.pixels.clone()].concat();
        let b = BatchIter::train(&set2, 2, Some(Augment::default()), n, 1, epoch)
            .next()
            .unwrap();
        let plane = b.images.get(0).get(0);
        let hits = plane.ge(bright - 1e-4).nonzero();
        assert_eq!(hits.size()[0], 1);
        let (y, x) = (hits.int64_value(&[0, 0]), hits.int64_value(&[0, 1]));
        assert!((6..=14).contains(&y));
        assert!((8..=16).contains(&x) || (15..=23).contains(&x), "x = {x}");
        positions.insert((y, x));
    }
    assert!(
        positions.len() > 5,
        "augmentation should vary: {positions:?}"
    );
}
