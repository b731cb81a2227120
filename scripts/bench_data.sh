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
$BIN bench data-pipeline --root data/cifar10 --output results/bench/data.md
