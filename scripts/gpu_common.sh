# Shared by the GPU lease scripts (sourced, not run): the device's libtorch on the library
# path, a record of the machine, and packing the runs into $OUT. Needs BIN and OUT set.

# Puts the CUDA libtorch of the machine's python3 (or TORCH_LIB) on LD_LIBRARY_PATH and
# writes $OUT/machine.txt.
gpu_env() {
  if [ -z "${TORCH_LIB:-}" ]; then
    TORCH_LIB="$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
  fi
  export LD_LIBRARY_PATH="$TORCH_LIB:${LD_LIBRARY_PATH:-}"
  {
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
    python3 -c 'import torch; print("python torch", torch.__version__)'
    echo "cpu cores: $(nproc)"
    ldd "$BIN" | grep -E 'torch_cuda|not found'
  } >"$OUT/machine.txt" 2>&1
}

# Publishes every finished run into runs/staging (VGG-16 in half precision) and packs:
# every ResNet run directory whole (checkpoints included, ~2 MB each) so unfinished ones
# resume elsewhere, of VGG runs only metrics and the resolved spec, and the staging tree
# in 15 MB parts (the device returns files of at most 16 MiB).
gpu_pack() {
  mkdir -p runs/staging
  for d in runs/*/seed0-*; do
    [ -f "$d/summary.json" ] || continue
    name=$(basename "$(dirname "$d")")
    case "$name" in
    vgg*) "$BIN" publish --half "$d" "runs/staging/$name" ;;
    *) "$BIN" publish "$d" "runs/staging/$name" ;;
    esac
  done
  tar czf "$OUT/runs_small.tgz" runs/logs $(ls -d runs/*/seed*/ 2>/dev/null | grep -v vgg) \
    $(ls runs/vgg*/seed*/metrics.csv runs/vgg*/seed*/spec.resolved.yaml 2>/dev/null)
  tar cf - runs/staging | split -b 15m - "$OUT/staging.tar.part-"
  ls -la "$OUT"
}
