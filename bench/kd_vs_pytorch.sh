#!/usr/bin/env bash
# Distillery vs the plain-PyTorch reference (../shared/peers/pytorch_kd.py) on
# the same KD config: cnn [32,64] fc 256 teacher trained 1 epoch, mlp [128]
# student, KD T=4 alpha=0.9, batch 128, 3 distillation epochs, full
# Fashion-MNIST, CPU. Runs A B A B ... and prints the median distillation-phase
# wall time of each, their ratio, and both students' test accuracy.
# Run by hand, not in CI:  bench/kd_vs_pytorch.sh [PAIRS] [EPOCHS] [CACHE]
# CACHE is the teacher-output cache: cold (default: an empty cache each run,
# so the run pays one teacher pass), warm (filled by an untimed run first, as
# for the 2nd..Nth student of a sweep) or off (the teacher runs every batch).
# The distillation phase of Distillery counts the cache fill and the student's
# epochs; the teacher's own training is outside it on both sides.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pairs="${1:-3}"
epochs="${2:-3}"
cache="${3:-cold}"
case "${cache}" in cold|warm|off) ;; *) echo "CACHE must be cold, warm or off, not ${cache}" >&2; exit 2;; esac
cli="${DISTILLERY_CLI:-${root}/build/app/distillery-cli}"
peer="${PEER:-${root}/../shared/peers/pytorch_kd.py}"
data="${DATA:-/usr/share/datasets/fashion-mnist}"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

[ -x "${cli}" ] || { echo "missing ${cli}: build first (scripts/setup.sh)" >&2; exit 1; }
[ -f "${peer}" ] || { echo "missing peer script ${peer}" >&2; exit 1; }

# The peer trains on all 60,000 training images and validates nothing, so the
# Distillery side holds out no validation split and keeps the last weights.
cat > "${work}/kd.json" <<JSON
{ "name": "bench-kd", "task": "distill",
  "data": {"dataset": "fashion-mnist", "path": "${data}", "train_limit": 60000, "val_size": 0},
  "teacher": {"zoo": "cnn", "channels": [32, 64], "fc": 256, "train": {"epochs": 1}},
  "student": {"zoo": "mlp", "hidden": [128]},
  "method": {"name": "kd", "temperature": 4.0, "alpha": 0.9},
  "optim": {"name": "adam", "lr": 0.001},
  "batch_size": 128, "epochs": ${epochs}, "seed": 0, "device": "cpu",
  "evals_per_epoch": 1, "select_best": false,
  "teacher_cache": {"enabled": $([ "${cache}" = off ] && echo false || echo true), "dir": "${work}/cache"} }
JSON

if [ "${cache}" = warm ]; then # fill the cache once, untimed
  "${cli}" run "${work}/kd.json" --db "${work}/warmup.sqlite" >/dev/null 2>&1
fi

ours_t=(); ours_acc=(); peer_t=(); peer_acc=()
for ((i = 1; i <= pairs; i++)); do
  [ "${cache}" = cold ] && rm -rf "${work}/cache"
  out="$("${cli}" run "${work}/kd.json" --db "${work}/bench-${i}.sqlite" 2>/dev/null)"
  ours_out="${out}"
  fill="$(sed -n 's/^teacher_cache_s=//p' <<<"${out}")"
  ours_t+=("$(awk -v w="$(sed -n 's/^wall_s=//p' <<<"${out}")" -v f="${fill:-0}" 'BEGIN {print w + f}')")
  ours_acc+=("$(sed -n 's/^test_accuracy=//p' <<<"${out}")")
  echo "A${i} distillery: distill_s=${ours_t[-1]} (cache ${cache}: $(sed -n 's/^teacher_cache=//p' <<<"${out}"), fill ${fill:-0} s) student_acc=${ours_acc[-1]}" >&2
  out="$(/usr/bin/python3 "${peer}" --epochs "${epochs}" --data "${data}")"
  peer_t+=("$(grep -o 'distill_s=[0-9.]*' <<<"${out}" | cut -d= -f2)")
  peer_acc+=("$(grep -o 'student_acc=[0-9.]*' <<<"${out}" | cut -d= -f2)")
  echo "B${i} pytorch:    distill_s=${peer_t[-1]} student_acc=${peer_acc[-1]}" >&2
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mo="$(median "${ours_t[@]}")"; mp="$(median "${peer_t[@]}")"
ao="$(median "${ours_acc[@]}")"; ap="$(median "${peer_acc[@]}")"
echo "teacher_cache=${cache}"
echo "distillery_median_distill_s=${mo}"
echo "pytorch_median_distill_s=${mp}"
awk -v o="${mo}" -v p="${mp}" 'BEGIN {printf "speedup_ratio=%.2f (pytorch time / distillery time)\n", p / o}'
echo "distillery_student_acc_median=${ao}"
echo "pytorch_student_acc_median=${ap}"
awk -v o="${ao}" -v p="${ap}" 'BEGIN {printf "accuracy_gap_points=%.2f\n", 100 * (o - p)}'

# How close the teacher pass is to the machine's limit: the cold cache fill's
# teacher throughput, against a single-thread and an all-threads 512x512 fp32 matmul.
if [ "${cache}" = cold ] && [ -n "${fill:-}" ]; then
  flops="$(sed -n 's/^teacher_flops_per_sample=//p' <<<"${ours_out}")"
  awk -v f="${flops}" -v s="${fill}" 'BEGIN {printf "teacher_forward_gflops=%.1f (60000 samples x %.3g FLOP in %.2f s)\n", 60000 * f / s / 1e9, f, s}'
  /usr/bin/python3 - <<'PY'
import time, torch
def rate(threads):
    torch.set_num_threads(threads)
    a, b = torch.randn(512, 512), torch.randn(512, 512)
    for _ in range(3): a @ b
    n, t0 = 50, time.perf_counter()
    for _ in range(n): a @ b
    return n * 2 * 512**3 / (time.perf_counter() - t0) / 1e9
print(f"matmul_512_gflops_1thread={rate(1):.1f}")
import os
print(f"matmul_512_gflops_{os.cpu_count()}threads={rate(os.cpu_count()):.1f}")
PY
fi
