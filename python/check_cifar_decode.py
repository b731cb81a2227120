"""Does this project decode the CIFAR-10 JPEGs the way an independent decoder does?

Reads the project's decoded image cache (`data/cifar10/.cache/cifar10-{train,test}.bin`,
written by the first run that reads data/cifar10) and decodes the same files with
Pillow: same file order (class folders in the official label order, files sorted by
name), same labels, and pixel differences within JPEG decoders' rounding (a few levels
of 255 from their IDCT and chroma upsampling). Needs Pillow in the virtualenv
(`.venv/bin/pip install pillow`).

    .venv/bin/python python/check_cifar_decode.py [--root data/cifar10] [--per-split 500]

Prints a Markdown summary; exits 1 when the order, a label or a pixel is off by more
than the tolerance.
"""
import argparse
import glob
import os
import random
import struct
import sys

CLASSES = "airplane automobile bird cat deer dog frog horse ship truck".split()


def read_cache(path):
    with open(path, "rb") as f:
        data = f.read()
    # Layout of crates/datasets/src/cache.rs: magic, 32-byte source key, 4 x u64.
    if data[:8] != b"C2S2IMG2":
        sys.exit(f"{path}: not an image cache file of the current layout")
    c, h, w, n = struct.unpack("<4Q", data[40:72])
    if (c, h, w) != (3, 32, 32):
        sys.exit(f"{path}: images of {c}x{h}x{w}, expected 3x32x32")
    return n, data[72 : 72 + n], memoryview(data)[72 + n :]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="data/cifar10")
    ap.add_argument("--per-split", type=int, default=0, help="images compared per split (0: all)")
    ap.add_argument("--tolerance", type=int, default=0, help="largest pixel difference allowed")
    a = ap.parse_args()
    try:
        from PIL import Image
    except ImportError:
        sys.exit("Pillow is missing: .venv/bin/pip install pillow")
    ok = True
    print(f"| split | images in cache | compared | labels equal | mean abs. difference | largest | pixels off by > 3 |")
    print("|---|---|---|---|---|---|---|")
    for split in ("train", "test"):
        cache = os.path.join(a.root, ".cache", f"cifar10-{split}.bin")
        n, labels, pixels = read_cache(cache)
        files = [
            (f, label)
            for label, name in enumerate(CLASSES)
            for f in sorted(glob.glob(os.path.join(a.root, split, name, "*")))
        ]
        if len(files) != n:
            print(f"{split}: {len(files)} files but {n} cached images")
            ok = False
            continue
        rng = random.Random(0)
        picked = range(n) if a.per_split <= 0 else rng.sample(range(n), min(a.per_split, n))
        same_label, total, largest, over3, count = 0, 0, 0, 0, 0
        for i in picked:
            path, label = files[i]
            same_label += labels[i] == label
            rgb = Image.open(path).convert("RGB").tobytes()  # HWC
            chw = pixels[i * 3072 : (i + 1) * 3072]
            count += 3072
            hwc = bytes(chw[c * 1024 + p] for p in range(1024) for c in range(3))
            if hwc == rgb:
                continue
            count -= 3072
            for y in range(32):
                for x in range(32):
                    for ch in range(3):
                        d = abs(rgb[(y * 32 + x) * 3 + ch] - chw[ch * 1024 + y * 32 + x])
                        total += d
                        largest = max(largest, d)
                        over3 += d > 3
                        count += 1
        ok &= same_label == len(picked) and largest <= a.tolerance
        print(
            f"| {split} | {n} | {len(picked)} | {same_label} | {total / count:.3f} | {largest} "
            f"| {over3} of {count} |"
        )
    import PIL

    from PIL import features

    print(f"\nPillow {PIL.__version__} (libjpeg-turbo {features.version_feature('libjpeg_turbo')}); tolerance {a.tolerance} levels: {'pass' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
