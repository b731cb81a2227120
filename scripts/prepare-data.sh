#!/usr/bin/env bash
# Prepares a data set under data/ (git-ignored).
#   scripts/prepare-data.sh cifar10
#   scripts/prepare-data.sh imagenet-sample
# CIFAR-10: unpacks a local archive when one is given (CIFAR10_ARCHIVE=path, either the
# official cifar-10-binary.tar.gz or the JPEG folder archive) or found at
# ../shared/data/cifar10-jpeg.tar.gz; otherwise downloads the official binary release
# and checks its MD5. ImageNet sample: the small real ILSVRC-2012 sample (Imagenette
# classes at 224 px + original-size validation images + label files) from
# IMAGENET_SAMPLE_ARCHIVE=path or ../shared/data/imagenet-sample.tar.gz, for pipeline
# checks (the full ImageNet must be downloaded by hand from image-net.org). Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/data"
what="${1:-cifar10}"

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
  dest="$DATA/imagenet-sample"
  if [ -d "$dest/imagenette2-224/train" ]; then
    echo "prepare-data: ImageNet sample already at $dest"; exit 0
  fi
  archive="${IMAGENET_SAMPLE_ARCHIVE:-$ROOT/../shared/data/imagenet-sample.tar.gz}"
  [ -f "$archive" ] || { echo "prepare-data: no ImageNet sample archive at $archive (give IMAGENET_SAMPLE_ARCHIVE=...)" >&2; exit 1; }
  mkdir -p "$DATA"
  echo "prepare-data: unpacking $archive into $DATA"
  tar -xzf "$archive" -C "$DATA"
  [ -d "$dest/imagenette2-224/train" ] || { echo "prepare-data: $archive did not hold imagenet-sample/imagenette2-224/train" >&2; exit 1; }
  echo "prepare-data: ImageNet sample ready at $dest"
  ;;
*)
  echo "prepare-data: unknown data set '$what' (known: cifar10, imagenet-sample; the full ImageNet and VOC must be downloaded by hand, see README)" >&2
  exit 2
  ;;
esac
