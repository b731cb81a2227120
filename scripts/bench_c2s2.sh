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
$BIN bench c2s2-steps --output results/bench/c2s2_steps.md
