#!/usr/bin/env bash
# Prepares a data set under data/ (git-ignored).
#   scripts/prepare-data.sh cifar10
#   scripts/prepare-data.sh imagenet-sample
#   scripts/prepare-data.sh voc-sample
# CIFAR-10: unpacks a local archive when one is given (CIFAR10_ARCHIVE=path, either the
# official cifar-10-binary.tar.gz or the JPEG folder archive) or found at
# ../shared/data/cifar10-jpeg.tar.gz; otherwise downloads the official binary release
# and checks its MD5. ImageNet sample: the small real ILSVRC-2012 sample (Imagenette
# classes at 224 px + original-size validation images + label files) from
# IMAGENET_SAMPLE_ARCHIVE=path or ../shared/data/imagenet-sample.tar.gz, for pipeline
# checks (the full ImageNet must be downloaded by hand from image-net.org). VOC sample:
# 9 real PASCAL VOC 2012 image/mask pairs in the VOCdevkit layout (+ 2,913 masks
# without images) from VOC_SAMPLE_ARCHIVE=path or ../shared/data/voc-seg-sample.tar.gz.
# Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/data"
what="${1:-cifar10}"

# unpack_sample NAME ARCHIVE DEFAULT_ARCHIVE_NAME CHECK_DIR: unpacks a sample archive
# (ARCHIVE, else ../shared/data/DEFAULT_ARCHIVE_NAME) into data/ unless CHECK_DIR exists.
unpack_sample() {
  local name="$1" archive="${2:-$ROOT/../shared/data/$3}" check="$4"
  if [ -d "$check" ]; then echo "prepare-data: $name already in $DATA"; exit 0; fi
  [ -f "$archive" ] || { echo "prepare-data: no $name archive at $archive (give it as the archive variable, see the header of this script)" >&2; exit 1; }
  mkdir -p "$DATA"
  echo "prepare-data: unpacking $archive into $DATA"
  tar -xzf "$archive" -C "$DATA"
  [ -d "$check" ] || { echo "prepare-data: $archive did not hold $check" >&2; exit 1; }
  echo "prepare-data: $name ready in $DATA"
}

case "$what" in
cifar10)
  dest="$DATA/cifar10"
  if [ -f "$dest/cifar-10-batches-bin/data_batch_1.bin" ] || [ -d "$dest/train/airplane" ]; then
    echo "prepare-data: CIFAR-10 already at $dest"; exit 0
  fi
  mkdir -p "$dest"
  archive="${CIFAR10_ARCHIVE:-}"
  if [ -z "$archive" ] && [ -f "$ROOT/../shared/data/cifar10-jpeg.tar.gz" ]; then
    archive="$ROOT/../shared/data/cifar10-jpeg.tar.gz"
  fi
  if [ -n "$archive" ]; then
    [ -f "$archive" ] || { echo "prepare-data: CIFAR10_ARCHIVE=$archive does not exist" >&2; exit 1; }
    echo "prepare-data: unpacking $archive into $dest"
    tar -xzf "$archive" -C "$dest"
  else
    url="https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    tmp="$dest/cifar-10-binary.tar.gz.part"
    echo "prepare-data: downloading $url"
    curl -fL --retry 3 -o "$tmp" "$url" || { echo "prepare-data: download failed; give a local archive as CIFAR10_ARCHIVE=..." >&2; exit 1; }
    sum="$(md5sum "$tmp" | cut -d' ' -f1)"
    if [ "$sum" != "c32a1d4ab5d03f1284b67883e8d87530" ]; then
      echo "prepare-data: MD5 of the download is $sum, expected c32a1d4ab5d03f1284b67883e8d87530" >&2; exit 1
    fi
    tar -xzf "$tmp" -C "$dest" && rm -f "$tmp"
  fi
  echo "prepare-data: CIFAR-10 ready at $dest"
  ;;
imagenet-sample)
  unpack_sample "ImageNet sample" "${IMAGENET_SAMPLE_ARCHIVE:-}" imagenet-sample.tar.gz \
    "$DATA/imagenet-sample/imagenette2-224/train"
  ;;
voc-sample)
  unpack_sample "VOC sample" "${VOC_SAMPLE_ARCHIVE:-}" voc-seg-sample.tar.gz \
    "$DATA/voc-seg-sample/VOCdevkit/VOC2012/ImageSets/Segmentation"
  ;;
*)
  echo "prepare-data: unknown data set '$what' (known: cifar10, imagenet-sample, voc-sample; the full ImageNet and VOC must be downloaded by hand, see README)" >&2
  exit 2
  ;;
esac
