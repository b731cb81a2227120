#!/usr/bin/env bash
# One lease of a CUDA machine, in a fixed time budget: the paper-schedule trainings the
# 2-core CPU cannot do, then VGG-16 pruning from the VGG-16 just trained (C2S2 and the
# baselines), then CUDA latency of the committed models; finished runs are published and
# packed into $OUT. What does not finish before
# the budget is stopped (its metrics and log still come back).
#
#   BUDGET_S=500 BIN=target/release/experiments OUT=/tmp/gpu_out scripts/gpu_lease.sh
#
# Needs: the release binary (built against libtorch 2.11), a python3 whose torch 2.11
# has CUDA (its lib folder goes on LD_LIBRARY_PATH), and the CIFAR-10 archive
# (CIFAR10_ARCHIVE, see scripts/prepare-data.sh).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="${BIN:-target/release/experiments}"
BUDGET_S="${BUDGET_S:-500}"
OUT="${OUT:-runs/gpu_out}"
t0=$(date +%s)
left() { echo $((BUDGET_S - ($(date +%s) - t0))); }
log() { echo "[gpu_lease +$(($(date +%s) - t0))s] $*"; }
mkdir -p "$OUT" runs/logs runs/staging

# shellcheck source=scripts/gpu_common.sh
. scripts/gpu_common.sh
gpu_env

pack() {
  log "packing"
  gpu_pack
}

log "preparing data"
scripts/prepare-data.sh cifar10 || { pack; exit 1; }

# Smoke: the first two epochs of each paper schedule (the first also builds the data
# cache). The second epoch's speed decides whether the full schedules fit the budget:
# the first runs at a third of the steady rate (CUDA start-up, cuDNN autotuning), which
# made the lease of 2026-11-28 shrink its runs far more than needed.
for spec in resnet20_cifar10 vgg_cifar10; do
  log "first epochs of $spec"
  if ! timeout 200 "$BIN" "$spec" --stop-after-epochs 2 >"runs/logs/${spec}_first.log" 2>&1; then
    log "first epochs of $spec failed"; tail -20 "runs/logs/${spec}_first.log"; pack; exit 1
  fi
  grep "epoch [12]/" "runs/logs/${spec}_first.log"
done
# Seconds per epoch while the runs share the GPU: 45,000 images at the second epoch's
# rate, times a contention factor of 1.1, plus evaluation and checkpoint allowances,
# rounded up (2026-11-28, H200: ResNet-20 3.4 s per epoch while sharing the GPU with
# VGG-16, VGG-16 2.7 s alone).
per_epoch() {
  local ips
  ips=$(grep -o '([0-9]* img/s)' "$1" | tail -1 | tr -dc '0-9')
  awk -v ips="${ips:-1}" -v extra="$2" 'BEGIN { printf "%d", 45000 * 1.1 / ips + extra + 0.999 }'
}
e_r=$(per_epoch runs/logs/resnet20_cifar10_first.log 0.3)
e_v=$(per_epoch runs/logs/vgg_cifar10_first.log 0.6)
reserve=110 # seconds kept for latency, the step benchmark and packing
# Seconds kept after the VGG-16 training for pruning it (C2S2, L1-norm pruned-A, Network
# Slimming with their short fine-tunes, in parallel); 0 skips that phase.
VGG_PRUNE_S="${VGG_PRUNE_S:-180}"
# VGG-16 trains until the pruning phase; ResNet-20 keeps training through it (the VGG-16
# pruning runs do not fill the GPU).
t_train=$(($(left) - reserve - VGG_PRUNE_S))
t_resnet=$(($(left) - reserve))
log "trainings, stopped after ${t_train}s (VGG-16) / ${t_resnet}s (ResNet-20); estimated s/epoch: resnet20 $e_r, vgg16 $e_v"
sized_spec() { # base spec, new name, epochs -> path of a cosine spec with that many epochs
  mkdir -p runs/specs
  sed -e "s/^name: .*/name: $2/" -e "s/^  epochs: .*/  epochs: $3/" \
    -e "s/^description: .*/description: $2, sized to a GPU lease ($3 epochs cosine)/" \
    "experiments/$1.yaml" >"runs/specs/$2.yaml"
  echo "runs/specs/$2.yaml"
}
r_specs=()
if [ $((180 * e_r)) -le "$t_resnet" ]; then
  r_specs=(resnet20_cifar10 resnet20_cifar10_cosine)
else
  n=$((t_resnet / e_r)); [ "$n" -gt 182 ] && n=182
  r_specs=("$(sized_spec resnet20_cifar10_cosine "resnet20_cifar10_cosine${n}" "$n")")
fi
if [ $((158 * e_v)) -le "$t_train" ]; then
  v_spec=vgg_cifar10
else
  n=$((t_train / e_v)); [ "$n" -gt 160 ] && n=160
  v_spec="$(sized_spec vgg_cifar10_cpu "vgg_cifar10_cosine${n}" "$n")"
fi
log "running ${r_specs[*]} $v_spec"
p_r=()
for spec in "${r_specs[@]}"; do
  timeout "$t_resnet" "$BIN" "$spec" >"runs/logs/$(basename "$spec" .yaml).log" 2>&1 &
  p_r+=($!)
done
timeout "$t_train" "$BIN" "$v_spec" >"runs/logs/$(basename "$v_spec" .yaml).log" 2>&1 &
p_v=$!
wait $p_v
log "VGG-16 training ended"
# The VGG-16 pruning specs start from results/vgg_cifar10/pretrained: the model just
# trained goes there (half precision, as it is committed), whatever its accuracy, so the
# pruned rows compare against the model they were cut from.
v_run=$(ls -d runs/"$(basename "$v_spec" .yaml)"/seed0-* 2>/dev/null | head -1)
if [ "$VGG_PRUNE_S" -gt 0 ] && [ -n "$v_run" ] && [ -f "$v_run/summary.json" ]; then
  "$BIN" publish --half "$v_run" results/vgg_cifar10/pretrained
  t=$(($(left) - reserve))
  log "VGG-16 pruning, stopped after ${t}s"
  p_p=()
  for s in vgg_cifar10_c2s2_cpu vgg_cifar10_l1_pruned_a_cpu vgg_cifar10_slimming_cpu; do
    timeout "$t" "$BIN" "$s" >"runs/logs/$s.log" 2>&1 &
    p_p+=($!)
  done
  wait "${p_p[@]}"
  log "VGG-16 pruning ended"
  tar czf "$OUT/vgg_pretrained.tgz" results/vgg_cifar10/pretrained
else
  log "no finished VGG-16 run, so no VGG-16 pruning"
fi
wait "${p_r[@]}"
log "trainings ended"
for f in runs/logs/*.log; do echo "== $f"; grep -E "epoch [0-9]+/|top-1|error|Error" "$f" | tail -2; done

log "CUDA latency"
timeout 60 "$BIN" bench-latency results/resnet20_cifar10/{pretrained,c2s2,c2s2_v1,random,l1_norm} \
  --device cuda --csv "$OUT/latency_cuda_resnet20.csv" >runs/logs/latency.log 2>&1
tail -12 runs/logs/latency.log
v_done=$(for d in runs/vgg_cifar10_*_cpu/seed0-*; do [ -f "$d/summary.json" ] && echo "$d"; done)
if [ -n "$v_done" ] && [ -f results/vgg_cifar10/pretrained/model.safetensors ]; then
  timeout 60 "$BIN" bench-latency results/vgg_cifar10/pretrained $v_done \
    --device cuda --csv "$OUT/latency_cuda_vgg16.csv" >runs/logs/latency_vgg.log 2>&1
  tail -8 runs/logs/latency_vgg.log
fi

log "training step, this project vs PyTorch eager, on CUDA"
for m in resnet20 vgg16; do
  for flag in "" "--bf16"; do
    [ "$(left)" -gt 25 ] || break
    timeout 40 "$BIN" bench train-step --device cuda --model "$m" --iters 50 --warmup 10 $flag >>"$OUT/train_step_cuda.jsonl"
    timeout 40 python3 scripts/bench_train_step.py --device cuda --model "$m" --iters 50 --warmup 10 $flag >>"$OUT/train_step_cuda.jsonl"
  done
done
cat "$OUT/train_step_cuda.jsonl"
pack
log "done"
