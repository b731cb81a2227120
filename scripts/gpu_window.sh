#!/usr/bin/env bash
# Runs studies on a CUDA machine inside a time window and packs what they produced into
# $OUT, so the records come back to the machine the binary was built on.
#
#   BIN=target/release/experiments OUT=/tmp/out WINDOW_S=540 JOBS=6 \
#     scripts/gpu_window.sh resnet20_cifar10 vgg_cifar10
#
# Every study runs with JOBS workers side by side on the GPU (the CIFAR models are
# launch-bound: several small runs fill it better than one); a study cut off by the
# window resumes where it stopped when run again, here or on any other machine, from the
# packed run directories. TORCH_LIB: the folder of a CUDA libtorch (default: the one of
# python3's torch), put on LD_LIBRARY_PATH for a binary built elsewhere.
set -euo pipefail
: "${BIN:?path of the experiments binary}" "${OUT:?folder to pack the results into}"
WINDOW_S=${WINDOW_S:-540}
JOBS=${JOBS:-4}
[ $# -ge 1 ] || { echo "usage: $0 <study>..." >&2; exit 2; }
if [ -z "${TORCH_LIB:-}" ]; then
  TORCH_LIB="$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
fi
export LD_LIBRARY_PATH="$TORCH_LIB:${LD_LIBRARY_PATH:-}"
mkdir -p "$OUT"
{
  date -u +%FT%TZ
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
  python3 -c 'import torch; print("python torch", torch.__version__)' || true
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
  ldd "$BIN" | grep -E 'torch_cuda|not found' || true
} >"$OUT/machine.txt" 2>&1
end=$(( $(date +%s) + WINDOW_S ))
for study in "$@"; do
  left=$(( end - $(date +%s) ))
  [ "$left" -gt 30 ] || break
  name=$(basename "$study" .yaml)
  echo "== $study: $left s left, $JOBS workers"
  "$BIN" plan "$study" >"$OUT/plan_before_$name.txt" || true
  # The study and its workers in a process group of their own, stopped together when
  # the window closes (SIGTERM, then SIGKILL): each run's last finished epoch is on disk.
  set -m
  "$BIN" "$study" --jobs "$JOBS" >"$OUT/$name.log" 2>&1 &
  pid=$!
  set +m
  ( sleep "$left"; kill -TERM -- "-$pid" 2>/dev/null; sleep 20; kill -KILL -- "-$pid" 2>/dev/null ) &
  watchdog=$!
  wait "$pid" || true
  kill "$watchdog" 2>/dev/null || true
  "$BIN" plan "$study" >"$OUT/plan_after_$name.txt" || true
done
# The published records and every run directory (checkpoints included) in 15 MB parts:
# the device returns files of at most 16 MiB.
tar cf - results runs 2>/dev/null | split -b 15m - "$OUT/results_and_runs.tar.part-"
ls -la "$OUT"
