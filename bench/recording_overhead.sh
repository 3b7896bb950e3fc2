#!/usr/bin/env bash
# What recording (points to the store, and to observers) costs a run: the
# bench KD config with "record_points" on and off, alternately A B A B, with a
# warm teacher-output cache so the student's loop is all that is timed.
# Target: the median recorded run is under 3% slower than the median unrecorded one.
# Run by hand, not in CI:  bench/recording_overhead.sh [PAIRS] [EPOCHS] [LOG_EVERY]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pairs="${1:-3}"
epochs="${2:-2}"
log_every="${3:-20}"
cli="${DISTILLERY_CLI:-${root}/build/app/distillery-cli}"
data="${DATA:-/usr/share/datasets/fashion-mnist}"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
[ -x "${cli}" ] || { echo "missing ${cli}: build first (scripts/setup.sh)" >&2; exit 1; }

config() { # $1: record_points true|false
  cat <<JSON
{ "name": "bench-recording-$1", "task": "distill",
  "data": {"dataset": "fashion-mnist", "path": "${data}"},
  "teacher": {"zoo": "cnn", "channels": [32, 64], "fc": 256, "train": {"epochs": 1}},
  "student": {"zoo": "mlp", "hidden": [128]},
  "method": {"name": "kd", "temperature": 4.0, "alpha": 0.9},
  "batch_size": 128, "epochs": ${epochs}, "seed": 0, "device": "cpu",
  "log_every": ${log_every}, "evals_per_epoch": 4, "record_points": $1,
  "teacher_cache": {"dir": "${work}/cache"} }
JSON
}
config true > "${work}/on.json"
config false > "${work}/off.json"
"${cli}" run "${work}/on.json" --db "${work}/warmup.sqlite" >/dev/null 2>&1 # fills the cache

on=(); off=()
for ((i = 1; i <= pairs; i++)); do
  on+=("$("${cli}" run "${work}/on.json" --db "${work}/on-${i}.sqlite" 2>/dev/null | sed -n 's/^wall_s=//p')")
  points="$(/usr/bin/python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from metric_points').fetchone()[0])" "${work}/on-${i}.sqlite")"
  echo "A${i} recording on:  wall_s=${on[-1]} points=${points}" >&2
  off+=("$("${cli}" run "${work}/off.json" --db "${work}/off-${i}.sqlite" 2>/dev/null | sed -n 's/^wall_s=//p')")
  echo "B${i} recording off: wall_s=${off[-1]}" >&2
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mon="$(median "${on[@]}")"; moff="$(median "${off[@]}")"
echo "recording_on_median_s=${mon}"
echo "recording_off_median_s=${moff}"
awk -v a="${mon}" -v b="${moff}" 'BEGIN {printf "recording_overhead_percent=%.2f (target < 3)\n", 100 * (a / b - 1)}'
