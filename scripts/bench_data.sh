#!/usr/bin/env bash
# Measures the CIFAR-10 data pipeline against what training consumes: cache load time of
# the 50,000 training images and augmented-batch throughput, beside the ResNet-20
# training-step throughput, on the same machine in one run. Writes results/bench/data.md.
# Needs data/cifar10 (scripts/prepare-data.sh cifar10). Run on an idle machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap-libtorch.sh
cargo build --release -p experiments
BIN=target/release/experiments
mkdir -p results/bench
data="$($BIN bench data --root data/cifar10)"
step="$($BIN bench train-step --model resnet20 --iters 20)"
.venv/bin/python - "$data" "$step" <<'PYEOF'
import json, os, sys
d, s = json.loads(sys.argv[1]), json.loads(sys.argv[2])
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
ratio = d["augmented_images_per_s"] / s["images_per_s"]
md = f"""# CIFAR-10 data pipeline (CPU: {cpu}, {os.cpu_count()} cores)

| measure | value | goal |
|---|---|---|
| load {d['train_images']:,} training images from the decoded cache | {d['load_seconds']:.2f} s | <= 2 s |
| augmented batches (pad 4 + crop + flip + normalize), batch {d['batch']} | {d['augmented_images_per_s']:,.0f} img/s | |
| ResNet-20 training step consumes (batch 128, channels-last) | {s['images_per_s']:,.0f} img/s | |
| production / consumption | {ratio:,.0f}x | >= 10x |
"""
open("results/bench/data.md", "w").write(md)
print(md)
PYEOF
