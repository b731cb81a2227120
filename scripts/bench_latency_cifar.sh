#!/usr/bin/env bash
# Times every published ResNet-20 model (results/resnet20_cifar10/* and results/ablations/*)
# in ONE bench-latency run, so all speed-ups in the tables share a machine state, and
# writes results/resnet20_cifar10/latency.csv (its own models) and
# results/ablations/latency.csv (the ablations plus the unpruned and default C2S2 models
# they are compared with). Pause other work first: the CSV records the share of
# the CPUs it took (others_load_pct) and the tables print its maximum.
#   REPEATS=150 scripts/bench_latency_cifar.sh [extra bench-latency args, e.g. --batches 1,64]
# (threads: libtorch's default, all cores; OMP_NUM_THREADS=N sets another count)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="${BIN:-target/release/experiments}"
[ -x "$bin" ] || cargo build --release -p experiments
models=()
for d in results/resnet20_cifar10/*/ results/ablations/*/; do
  d="${d%/}"
  [ -f "$d/model.json" ] && [ -f "$d/model.safetensors" ] && models+=("$d")
done
[ ${#models[@]} -gt 0 ] || { echo "bench_latency_cifar: no model folders found" >&2; exit 1; }
all="$(mktemp results/ablations/.latency.XXXXXX)"
trap 'rm -f "$all" "$all.r20" "$all.abl"' EXIT
"$bin" bench-latency "${models[@]}" --repeats "${REPEATS:-50}" --csv "$all" "$@"
# Same header, only the rows of models under results/resnet20_cifar10/.
awk -F, 'NR == 1 || $1 ~ /^results\/resnet20_cifar10\//' "$all" > "$all.r20"
awk -F, 'NR == 1 || $1 ~ /^results\/(ablations\/|resnet20_cifar10\/(pretrained|c2s2)$)/' "$all" > "$all.abl"
mv "$all.r20" results/resnet20_cifar10/latency.csv
mv "$all.abl" results/ablations/latency.csv
rm -f "$all"
trap - EXIT
echo "bench_latency_cifar: ${#models[@]} models -> results/resnet20_cifar10/latency.csv, results/ablations/latency.csv"
