//! JPEG pixels equal Pillow's (torchvision's loader) on every image of the committed
//! CIFAR-10 subset: the expected difference is 0.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn jpegs(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            jpegs(&p, out);
        } else if p.extension().is_some_and(|e| e == "jpg") {
            out.push(p);
        }
    }
}

#[test]
fn jpeg_pixels_equal_pillows_decode() {
    let mut files = Vec::new();
    jpegs(&repo().join("fixtures/cifar10-smoke"), &mut files);
    files.sort();
    assert!(files.len() >= 2000, "{} fixture JPEGs", files.len());
    let mut child = Command::new(repo().join(".venv/bin/python"))
        .arg(repo().join("python/pillow_decode.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the .venv python of scripts/bootstrap-libtorch.sh (with Pillow)");
    let list: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(list.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "pillow_decode.py failed");
    let mut at = 0;
    let (mut differing, mut largest) = (0usize, 0u8);
    for f in &files {
        let b = &out.stdout;
        let w = u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        let h = u32::from_le_bytes(b[at + 4..at + 8].try_into().unwrap());
        let n = (w * h * 3) as usize;
        let pillow = &b[at + 8..at + 8 + n];
        at += 8 + n;
        let ours = datasets::decode_rgb(f).unwrap();
        assert_eq!(ours.dimensions(), (w, h), "{}", f.display());
        for (a, p) in ours.as_raw().iter().zip(pillow) {
            if a != p {
                differing += 1;
                largest = largest.max(a.abs_diff(*p));
            }
        }
    }
    assert_eq!(at, out.stdout.len());
    assert_eq!(
        (differing, largest),
        (0, 0),
        "pixel values differing from Pillow's (count, largest difference) over {} images",
        files.len()
    );
}
