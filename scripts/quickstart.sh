#!/usr/bin/env bash
# Runs the main job on its embedded default: the smoke spec (ResNet-20, 3 epochs on the
# 2,500-image CIFAR-10 subset in fixtures/), then prints its results table.
# Installs libtorch first when it is missing. Extra arguments go to the binary, e.g.
#   scripts/quickstart.sh experiments/resnet20_cifar10_cpu.yaml
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap-libtorch.sh
exec cargo run --release -p experiments -- "$@"
