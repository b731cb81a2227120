"""Decodes image files with Pillow as torchvision's ImageFolder loader does
(`Image.open(path).convert("RGB")`) and writes, for each path read from stdin (one per
line), its width and height (two little-endian u32) and its RGB bytes (row-major, HWC)
to stdout. The reference of crates/datasets/tests/decode.rs."""
import struct
import sys

from PIL import Image

out = sys.stdout.buffer
for line in sys.stdin:
    path = line.rstrip("\n")
    if not path:
        continue
    img = Image.open(path).convert("RGB")
    out.write(struct.pack("<II", *img.size))
    out.write(img.tobytes())
out.flush()
