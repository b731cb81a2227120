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
      $PY scripts/bench_train_step.py --model "$m" --iters "$iters" $layout 2>/dev/null >> "$raw"
    done
  done
done
$PY - "$raw" "$out" "$name" <<'PYEOF'
import json, platform, statistics, subprocess, sys, os
raw, out, name = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [json.loads(l) for l in open(raw) if l.strip()]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
torch_v = next((r["torch"] for r in rows if "torch" in r), "?")
keys = sorted({(r["model"], r["channels_last"], r.get("precision", "fp32")) for r in rows})
lines = ["model,layout,impl,threads,rounds,step_ms_median,images_per_s"]
md = [f"# Training step, batch 128 (CPU: {cpu}, {os.cpu_count()} cores, torch {torch_v})", "",
      "Median step time (forward + backward + SGD update) over the rounds; each round is the median of 30 (ResNet-20) or 8 (VGG-16) steps after 5 warm-up steps. Same machine, same run, alternating.", "",
      "| model | layout | this project (ms) | PyTorch eager (ms) | project / PyTorch | project img/s |", "|---|---|---|---|---|---|"]
for model, cl, prec in keys:
    layout = ("channels-last" if cl else "NCHW") + (" bf16 autocast" if prec == "bf16" else "")
    res = {}
    for impl in ["rust-tch", "pytorch-eager"]:
        sel = [r for r in rows if r["model"] == model and r["channels_last"] == cl and r.get("precision", "fp32") == prec and r["impl"] == impl]
        ms = statistics.median(r["step_ms"] for r in sel)
        res[impl] = ms
        lines.append(f"{model},{layout},{impl},{sel[0]['threads']},{len(sel)},{ms:.2f},{128e3/ms:.1f}")
    md.append(f"| {model} | {layout} | {res['rust-tch']:.1f} | {res['pytorch-eager']:.1f} | {res['rust-tch']/res['pytorch-eager']:.3f} | {128e3/res['rust-tch']:.0f} |")
open(os.path.join(out, name + ".csv"), "w").write("\n".join(lines) + "\n")
open(os.path.join(out, name + ".md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
PYEOF
rm -f "$raw"
