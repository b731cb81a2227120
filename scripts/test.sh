#!/usr/bin/env bash
# Runs the whole test suite (installs libtorch first when it is missing), then the
# formatting and lint checks, and a wording check.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/check_wording.sh
scripts/bootstrap-libtorch.sh
cargo test --release --workspace
cargo fmt --all -- --check
cargo clippy --release --workspace --all-targets -- -D warnings
