#!/usr/bin/env bash
# Times the unpruned VGG-16 and every pruned VGG-16 under results/vgg_cifar10/ in ONE
# bench-latency run (so their speed-ups share a machine state) and writes
# results/vgg_cifar10/latency.csv. The VGG-16 weights are not committed (see
# results/vgg_cifar10/pretrained/README.md): only folders whose model.safetensors is
# present are timed, and the unpruned model must be one of them. Pause other work
# first: the CSV records the share of the CPUs others took (others_load_pct).
#   REPEATS=50 scripts/bench_latency_vgg.sh [extra bench-latency args, e.g. --batches 1,64]
# (threads: libtorch's default, all cores; OMP_NUM_THREADS=N sets another count)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="${BIN:-target/release/experiments}"
[ -x "$bin" ] || cargo build --release -p experiments
[ -f results/vgg_cifar10/pretrained/model.safetensors ] || {
  echo "bench_latency_vgg: results/vgg_cifar10/pretrained/model.safetensors is missing;" \
    "re-create it as its README says" >&2
  exit 1
}
models=()
for d in results/vgg_cifar10/*/; do
  d="${d%/}"
  [ -f "$d/model.json" ] && [ -f "$d/model.safetensors" ] && models+=("$d")
done
out=results/vgg_cifar10/latency.csv
tmp="$(mktemp results/vgg_cifar10/.latency.XXXXXX)"
trap 'rm -f "$tmp"' EXIT
"$bin" bench-latency "${models[@]}" --repeats "${REPEATS:-50}" --csv "$tmp" "$@"
mv "$tmp" "$out"
trap - EXIT
echo "bench_latency_vgg: ${#models[@]} models -> $out"
