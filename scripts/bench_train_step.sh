#!/usr/bin/env bash
# Times one training step (batch 128) of ResNet-20 and VGG-16 in this project and in
# PyTorch eager, alternating in one run on the same machine, and records the medians
# under results/bench/<name>.{csv,md}. Run it on an otherwise idle machine.
#   scripts/bench_train_step.sh [rounds] [name]      (name defaults to train_step)
# LAYOUTS="fp32" skips the bf16 autocast rows (slow where the CPU emulates bf16).
# MODELS="resnet20 results/resnet20_cifar10/c2s2" times other models (default: resnet20
# vgg16); a model folder of a ResNet-20 (e.g. a pruned one) is mirrored in PyTorch.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap-libtorch.sh
cargo build --release -p experiments
rounds="${1:-2}"
name="${2:-train_step}"
case "${LAYOUTS:-all}" in
  all) layouts=("" "--nchw" "--bf16") ;;
  fp32) layouts=("" "--nchw") ;;
  *) echo "LAYOUTS must be all or fp32" >&2; exit 2 ;;
esac
BIN=target/release/experiments
PY=.venv/bin/python
out=results/bench
mkdir -p "$out"
raw="$(mktemp)"
for r in $(seq "$rounds"); do
  for m in ${MODELS:-resnet20 vgg16}; do
    iters=30; [ "$m" = vgg16 ] && iters=8
    for layout in "${layouts[@]}"; do
      $BIN bench train-step --model "$m" --iters "$iters" $layout >> "$raw"
      $PY python/bench_train_step.py --model "$m" --iters "$iters" $layout 2>/dev/null >> "$raw"
    done
  done
done
$BIN bench train-step-page "$raw" --dir "$out" --name "$name"
rm -f "$raw"
