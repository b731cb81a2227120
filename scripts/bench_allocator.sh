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
      GLIBC_TUNABLES="$TUNABLES" $PY scripts/bench_train_step.py --forward --iters 10 2>/dev/null
    else
      EXPERIMENTS_MALLOC=system "$BIN" bench-latency "${MODELS[@]}" --batches 128 --repeats 10 --layout channels-last 2>/dev/null
      $PY scripts/bench_train_step.py --forward --iters 10 2>/dev/null
    fi | sed "s/^/$mode /" >> "$raw"
  done
done
$PY - "$raw" "results/bench/$name.md" "$rounds" <<'PYEOF'
import json, os, statistics, sys
raw, out, rounds = sys.argv[1], sys.argv[2], sys.argv[3]
ms = {}
for line in open(raw):
    mode, rest = line.split(" ", 1)
    if rest.startswith("{"):
        ms.setdefault((mode, "PyTorch eager, unpruned"), []).append(json.loads(rest)["forward_ms"])
    elif "| 128 |" in rest:
        cells = [c.strip() for c in rest.split("|")]
        ms.setdefault((mode, "this project, " + os.path.basename(cells[1])), []).append(float(cells[4]))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
md = [f"# Forward latency and glibc malloc (batch 128, channels-last, 2 threads; CPU: {cpu}, {os.cpu_count()} cores)", "",
      f"Median over {rounds} alternating rounds of each round's median of 10 passes (scripts/bench_allocator.sh).",
      "`tuned`: mmap threshold 32 MiB and trim threshold 1 GiB (what `experiments` sets at start; PyTorch through",
      "GLIBC_TUNABLES); `glibc-default`: `EXPERIMENTS_MALLOC=system`, plain PyTorch.", "",
      "| model | glibc-default ms | tuned ms | tuned speed-up |", "|---|---|---|---|"]
for what in sorted({k[1] for k in ms}):
    d = statistics.median(ms[("glibc-default", what)]); t = statistics.median(ms[("tuned", what)])
    md.append(f"| {what} | {d:.1f} | {t:.1f} | {d / t:.2f}x |")
for mode in ("glibc-default", "tuned"):
    u = statistics.median(ms[(mode, "this project, pretrained")]); c = statistics.median(ms[(mode, "this project, c2s2")])
    md.append(f"\nC2S2 speed-up over the unpruned model, {mode}: {u / c:.2f}x")
open(out, "w").write("\n".join(md) + "\n")
print("\n".join(md))
PYEOF
