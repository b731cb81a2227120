//! An FCN-32s spec on a PASCAL VOC layout end to end (tiny widths, generated images and
//! palette masks): it trains with batch 1 on whole images and records mean IU and pixel
//! accuracy, which the report puts in the table's `miou` and `pixel_acc` columns.
use std::path::Path;

use image::{Rgb, RgbImage};

mod common;
use common::{experiments, text};

/// `root/VOC2011`: 4 training and 2 validation pairs; the left part of each image is
/// red (class 15), the rest green (background).
fn fixture(root: &Path) {
    let dir = root.join("VOC2011");
    for sub in ["JPEGImages", "SegmentationClass", "ImageSets/Segmentation"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let ids: Vec<String> = (0..6).map(|i| format!("2011_00000{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let (w, h) = (40 + 4 * i as u32, 32);
        let split = 10 + 3 * i as u32;
        RgbImage::from_fn(w, h, |x, _| {
            if x < split {
                Rgb([230, 20, 20])
            } else {
                Rgb([20, 200, 20])
            }
        })
        .save_with_format(
            dir.join(format!("JPEGImages/{id}.jpg")),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
        let labels: Vec<u8> = (0..h)
            .flat_map(|_| (0..w).map(move |x| if x < split { 15 } else { 0 }))
            .collect();
        let file = std::fs::File::create(dir.join(format!("SegmentationClass/{id}.png"))).unwrap();
        let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_palette(vec![0u8; 256 * 3]);
        enc.write_header()
            .unwrap()
            .write_image_data(&labels)
            .unwrap();
    }
    let list = |r: std::ops::Range<usize>| ids[r].join("\n");
    std::fs::write(dir.join("ImageSets/Segmentation/train.txt"), list(0..4)).unwrap();
    std::fs::write(dir.join("ImageSets/Segmentation/val.txt"), list(4..6)).unwrap();
}

#[test]
fn fcn32s_trains_and_reports_mean_iu_on_voc_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("VOCdevkit");
    fixture(&data);
    let spec = format!(
        "name: tiny_fcn_voc
model:
  arch: fcn32s
  widths: {{ convs: [4, 4, 4, 4, 8, 8, 8, 8, 8, 8, 8, 8, 8], fc6: 8, fc7: 8 }}
dataset:
  name: voc2011
  root: {}
  augment: false
train:
  epochs: 2
  batch_size: 1
  eval_batch_size: 1
  optimizer: {{ lr: 1.0e-3, momentum: 0.9, weight_decay: 5.0e-4 }}
  lr_schedule: {{ kind: constant }}
device: cpu
threads: 1
output: {}
",
        data.display(),
        tmp.path().join("runs").display()
    );
    let path = tmp.path().join("spec.yaml");
    std::fs::write(&path, spec).unwrap();
    let o = experiments(&[path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let run = std::fs::read_dir(tmp.path().join("runs/tiny_fcn_voc"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .expect("a run directory");
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    let test = &s["test"];
    assert_eq!(test["images"], 2, "{s}");
    let (miou, acc) = (
        test["miou"].as_f64().unwrap(),
        test["pixel_acc"].as_f64().unwrap(),
    );
    assert!(
        (0.0..=100.0).contains(&miou) && (0.0..=100.0).contains(&acc),
        "{s}"
    );
    assert_eq!(
        test["top1"].as_f64(),
        Some(acc),
        "top1 holds the pixel accuracy"
    );
    assert_eq!(s["train_images"], 4, "{s}");
    assert!(
        s["dataset_source"].as_str().unwrap().contains("VOC2011"),
        "{s}"
    );
}
