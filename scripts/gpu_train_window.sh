#!/usr/bin/env bash
# Trains several specs side by side on one CUDA GPU inside a fixed window, protecting the
# first one: the others (small, resumable ResNet-20 runs) are stopped when the first one's
# projected end would pass the window, and at the window's end. Finished runs are
# published, unfinished small ones are packed with their checkpoints so they resume on
# another machine (`results/in_progress/`, see scripts/snapshot-run.sh).
#
#   WINDOW_S=540 BIN=target/release/experiments OUT=/tmp/out \
#     scripts/gpu_train_window.sh vgg_cifar10 resnet20_cifar10_cosine resnet20_cifar10_scratch_cpu
#
# The first spec must finish inside the window: its checkpoint (VGG-16: ~120 MB) is too
# big to carry back, so it comes back published in half precision or not at all.
# Needs: the release binary, a python3 whose torch 2.11 has CUDA (its lib folder goes on
# LD_LIBRARY_PATH), the CIFAR-10 archive (CIFAR10_ARCHIVE, see scripts/prepare-data.sh).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="${BIN:-target/release/experiments}"
WINDOW_S="${WINDOW_S:-540}"
RESERVE_S="${RESERVE_S:-30}" # kept at the end for publishing and packing
OUT="${OUT:-runs/gpu_out}"
t0=$(date +%s)
now() { echo $(($(date +%s) - t0)); }
log() { echo "[gpu_window +$(now)s] $*"; }
mkdir -p "$OUT" runs/logs runs/staging
[ "$#" -ge 1 ] || { echo "usage: $0 FIRST_SPEC [OTHER_SPEC...]" >&2; exit 2; }
first="$1"; shift

# shellcheck source=scripts/gpu_common.sh
. scripts/gpu_common.sh
gpu_env

log "preparing data"
scripts/prepare-data.sh cifar10 >runs/logs/prepare-data.log 2>&1 || { cat runs/logs/prepare-data.log; exit 1; }

# One epoch of a small spec first, in a scratch output folder: it builds the data cache
# and checks that training works on this device. If it fails, everything runs with the
# optimizer's per-tensor updates (ENGINE_SGD_PER_TENSOR) after a second check.
if [ -n "${SMOKE_SPEC:-}" ]; then
  for attempt in flat per_tensor; do
    [ "$attempt" = per_tensor ] && export ENGINE_SGD_PER_TENSOR=1
    log "smoke: one epoch of $SMOKE_SPEC ($attempt SGD)"
    if timeout 90 "$BIN" "$SMOKE_SPEC" --stop-after-epochs 1 --output /tmp/gpu_smoke \
      >"runs/logs/smoke_$attempt.log" 2>&1; then
      grep -E "epoch 1/" "runs/logs/smoke_$attempt.log" | tail -n 1
      break
    fi
    log "smoke failed ($attempt SGD):"; grep -m3 -E "rror" "runs/logs/smoke_$attempt.log" | cut -c1-300
    [ "$attempt" = per_tensor ] && { log "giving up"; tar czf "$OUT/runs_small.tgz" runs/logs; exit 1; }
  done
fi

epochs_of() { # spec name -> its train.epochs
  grep -m1 '^  epochs:' "experiments/$1.yaml" | tr -dc '0-9'
}
done_of() { # spec name -> epochs in its metrics CSV (the first run directory)
  local f
  f=$(ls runs/"$1"/seed0-*/metrics.csv runs/"$1"/seed0-*/finetune/metrics.csv 2>/dev/null | head -1)
  if [ -n "$f" ]; then echo $(($(wc -l <"$f") - 1)); else echo 0; fi
}

start() { # spec name -> background run, its pid in $pid (a child of this shell, for wait)
  timeout "$((WINDOW_S - RESERVE_S - $(now)))" "$BIN" "$1" >"runs/logs/$1.log" 2>&1 &
  pid=$!
}
log "starting $first ($(epochs_of "$first") epochs)"
start "$first"; p_first=$pid
# The first run decodes the data cache; the others start once it is written.
for _ in $(seq 60); do [ -f data/cifar10/.cache/cifar10-test.bin ] && break; sleep 1; done
p_others=()
for s in "$@"; do
  log "starting $s ($(done_of "$s") of $(epochs_of "$s") epochs done)"
  start "$s"; p_others+=("$pid")
done

# Watch the first run; stop the others (last named first) when its projected end passes
# the window at two checks in a row. The rate is that of the last RATE_S seconds, from
# the third epoch on: cuDNN autotuning and start-up make the first epochs several times
# slower (the lease of 2026-11-29 stopped both ResNet-20 runs within a minute on a rate
# measured over the first epochs, then trained VGG-16 alone, done 3 minutes early).
total=$(epochs_of "$first")
RATE_S="${RATE_S:-30}"
samples=() # "seconds epochs" observations of the first run
over=0
while kill -0 "$p_first" 2>/dev/null; do
  sleep 5
  n=$(done_of "$first"); t=$(now)
  [ "$n" -ge 2 ] || continue
  samples+=("$t $n")
  # The oldest observation inside the rate window.
  ref=""
  for o in "${samples[@]}"; do
    [ "${o%% *}" -ge $((t - RATE_S)) ] && { ref="$o"; break; }
  done
  t_ref=${ref%% *}; n_ref=${ref##* }
  [ "$n" -ge $((n_ref + 3)) ] && [ "$t" -ge $((t_ref + RATE_S / 2)) ] || continue
  per=$(awk -v a="$t" -v b="$t_ref" -v n="$((n - n_ref))" 'BEGIN { printf "%.2f", (a - b) / n }')
  end=$(awk -v t="$t" -v p="$per" -v left="$((total - n))" 'BEGIN { printf "%d", t + p * left }')
  if [ $((n % 10)) -eq 0 ]; then log "$first: $n/$total epochs, ${per} s/epoch, projected end +${end}s"; fi
  if [ "$end" -gt $((WINDOW_S - RESERVE_S - 5)) ]; then over=$((over + 1)); else over=0; fi
  if [ "$over" -ge 2 ] && [ "${#p_others[@]}" -gt 0 ]; then
    last=$((${#p_others[@]} - 1))
    log "projected end +${end}s passes the window: stopping ${p_others[$last]} (${*: -1})"
    kill "${p_others[$last]}" 2>/dev/null
    unset "p_others[$last]"
    set -- "${@:1:$(($# - 1))}"
    samples=(); over=0
  fi
done
wait "$p_first"; rc_first=$?
log "$first ended (exit $rc_first)"
wait "${p_others[@]}" 2>/dev/null
log "all runs ended"
for f in runs/logs/*.log; do echo "== $f"; grep -E "epoch [0-9]+/|top-1|rror" "$f" | tail -n 2; done

log "packing"
gpu_pack
log "done"
