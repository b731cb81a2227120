#!/usr/bin/env bash
# Copies the resumable state of an unfinished run into results/in_progress/<spec>/ so it
# can be committed and resumed on another machine (or after runs/ was wiped).
#   scripts/snapshot-run.sh <spec name> [output dir, default runs]
# Training runs: checkpoint/ (weights, SGD momentum, epoch state) + metrics.csv.
# Pruning runs: c2s2/ (C2S2: state.json of the finished groups + the network after the
# last one) and finetune/ (the pruned model's training checkpoint and metrics).
# NOTE="..." adds a paragraph to the README (e.g. a pause that inflates a recorded time).
# Resume: copy the folder back to <output>/<spec>/<seed dir>/ and run the spec again
# (the README written next to the state says the exact commands).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
spec="${1:?usage: scripts/snapshot-run.sh <spec name> [output dir]}"
out="${2:-runs}"
dest="results/in_progress/$spec"
shopt -s nullglob
# Names, sizes and modification times of every file of a run directory: equal before
# and after a copy means no checkpoint or C2S2 group was committed meanwhile.
fingerprint() {
  find "$1" -type f -printf '%p %s %T@\n' | sort | cksum
}
dirs=("$out/$spec"/seed*)
[ ${#dirs[@]} -gt 0 ] || { echo "snapshot-run: no run directory under $out/$spec" >&2; exit 1; }

mkdir -p results/in_progress
tmp="$(mktemp -d "results/in_progress/.${spec}.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
readme="$tmp/README.md"
{
  echo "# Unfinished: \`$spec\` (not a result)"
  echo
  echo "Snapshot of \`$out/$spec/\` taken $(date -u '+%Y-%m-%d %H:%M UTC') by \`scripts/snapshot-run.sh\`."
  echo "\`report\` does not read this folder. To resume, from the repository root:"
  echo
  echo '```sh'
} > "$readme"
for d in "${dirs[@]}"; do
  seed="$(basename "$d")"
  [ -f "$d/summary.json" ] && { echo "snapshot-run: $d is finished (summary.json); publish it instead" >&2; continue; }
  mkdir -p "$tmp/$seed"
  cp "$d/spec.resolved.yaml" "$tmp/$seed/"
  # A live run may commit a new epoch or group while we copy: copy until nothing in the
  # run directory changed during the copy.
  for attempt in 1 2 3 4 5; do
    before="$(fingerprint "$d")"
    rm -rf "${tmp:?}/$seed"/{checkpoint,c2s2,finetune,metrics.csv}
    for part in checkpoint c2s2 finetune metrics.csv; do
      if [ -e "$d/$part" ]; then cp -r "$d/$part" "$tmp/$seed/"; fi
    done
    after="$(fingerprint "$d")"
    [ "$before" = "$after" ] && break
    [ "$attempt" = 5 ] && { echo "snapshot-run: $d keeps changing; try again" >&2; exit 1; }
    sleep 2
  done
  echo "mkdir -p $out/$spec && cp -r $dest/$seed $out/$spec/" >> "$readme"
done
copied=("$tmp"/seed*)
[ ${#copied[@]} -gt 0 ] || { echo "snapshot-run: nothing unfinished under $out/$spec" >&2; exit 1; }
{
  echo "cargo run --release -p experiments -- $spec"
  echo '```'
  echo
  echo "State per seed directory:"
  for s in "$tmp"/seed*; do
    seed="$(basename "$s")"
    line="- \`$seed\`:"
    for c in "$s/checkpoint/state.json" "$s/finetune/checkpoint/state.json"; do
      if [ -f "$c" ]; then
        epochs="$(grep -o '"epochs_done": *[0-9]*' "$c" | grep -o '[0-9]*$' || true)"
        line="$line training checkpoint after ${epochs:-?} epochs;"
      fi
    done
    if [ -f "$s/c2s2/state.json" ]; then
      groups="$(grep -c '"reference_val_top1"' "$s/c2s2/state.json" || true)"
      line="$line C2S2 selection state with $groups finished group(s);"
    fi
    echo "$line"
  done
  if [ -n "${NOTE:-}" ]; then echo; echo "$NOTE"; fi
} >> "$readme"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "snapshot-run: $dest"
cat "$dest/README.md"
