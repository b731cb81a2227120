#!/usr/bin/env bash
# Forward latency (batch 128, channels-last, 2 threads) with glibc malloc's defaults
# and with the thresholds the binary sets at start (engine::keep_freed_memory), for
# this project (unpruned and C2S2 ResNet-20, `bench-latency`) and PyTorch eager
# (unpruned, GLIBC_TUNABLES with the same thresholds), alternating rounds on the same
# machine. Writes results/bench/<name>.md. Run it on an otherwise idle machine.
#   scripts/bench_allocator.sh [rounds] [name]      (name defaults to allocator)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap-libtorch.sh
cargo build --release -p experiments
rounds="${1:-6}"
name="${2:-allocator}"
BIN=target/release/experiments
PY=.venv/bin/python
MODELS=(results/resnet20_cifar10/pretrained results/resnet20_cifar10/c2s2)
TUNABLES="glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824"
raw="$(mktemp)"
for r in $(seq "$rounds"); do
  for mode in tuned glibc-default; do
    if [ "$mode" = tuned ]; then
      env -u EXPERIMENTS_MALLOC "$BIN" bench-latency "${MODELS[@]}" --batches 128 --repeats 10 --layout channels-last 2>/dev/null
      GLIBC_TUNABLES="$TUNABLES" $PY python/bench_train_step.py --forward --iters 10 2>/dev/null
    else
      EXPERIMENTS_MALLOC=system "$BIN" bench-latency "${MODELS[@]}" --batches 128 --repeats 10 --layout channels-last 2>/dev/null
      $PY python/bench_train_step.py --forward --iters 10 2>/dev/null
    fi | sed "s/^/$mode /" >> "$raw"
  done
done
$BIN bench allocator-page "$raw" --output "results/bench/$name.md" --rounds "$rounds"
rm -f "$raw"
