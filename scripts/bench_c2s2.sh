#!/usr/bin/env bash
# C2S2's costs beside the unpruned model's, same machine, same run: the phase-1
# selection step (network frozen, gate on the first prunable layer: the worst case, as
# the backward pass runs through almost the whole network) against a normal training
# step, and the forward pass with every prunable layer masked against the plain one.
# Writes results/bench/c2s2_steps.md. Run on an idle machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap-libtorch.sh
cargo build --release -p experiments
BIN=target/release/experiments
mkdir -p results/bench
r="$($BIN bench selection-step --model resnet20 --iters 30)"
v="$($BIN bench selection-step --model vgg16 --iters 8)"
.venv/bin/python - "$r" "$v" <<'PYEOF'
import json, os, sys
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
rows = [json.loads(a) for a in sys.argv[1:]]
md = [f"# C2S2 step costs (CPU: {cpu}, {os.cpu_count()} cores, batch 128, channels-last, median of 30 / 8 steps)", "",
      "| model | gated layer | training step (ms) | selection step (ms) | selection / training (goal < 1) | plain forward (ms) | masked forward (ms) | masked / plain (goal <= 1.10) |",
      "|---|---|---|---|---|---|---|---|"]
for r in rows:
    md.append(f"| {r['model']} | {r['gated_layer']} | {r['train_step_ms']:.1f} | {r['selection_step_ms']:.1f} | {r['selection_over_train']:.2f} | {r['plain_forward_ms']:.1f} | {r['masked_forward_ms']:.1f} | {r['masked_over_plain']:.3f} |")
open("results/bench/c2s2_steps.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
PYEOF
