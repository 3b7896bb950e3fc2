#!/usr/bin/env bash
# Issue 20's GPU benchmark: Distillery against the eager PyTorch peers on one GPU.
# Run on the GPU machine through the device recipe (../shared/gpu/README.md), which
# builds distillery-cli against the machine's CUDA LibTorch and sets DISTILLERY_CLI:
#   bash ../shared/gpu/prepare.sh                                  # on the CPU machine, once
#   LOG_DIR=$OUT bash .device/on-device.sh bench/gpu.sh            # on the GPU machine
# Meant to fit one device call of at most 8 minutes (about 90 s of it the build).
# Prints, per case, both sides' throughput (samples/s), their ratio
# (Distillery / peer: the issue asks >= 4 at batch 128, >= 2 at batch 1024,
# >= 3 for teacher training), and Distillery's TFLOP/s against the ceilings
# (~67 fp32 and ~790 bf16 dense TFLOP/s on an H200; CEIL_FP32/CEIL_BF16 override).
#   cases: resnet56 teacher training; resnet56 -> resnet20 KD at batch 128 (fp32)
#   and 1024 (fp32, bf16); cnn -> mlp KD (kd_vs_pytorch's config) at batch 128.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cli="${DISTILLERY_CLI:-${root}/build/app/distillery-cli}"
peers="${PEERS:-${root}/.device/peers}"
data="${DATA:-/usr/share/datasets/fashion-mnist}"
limit="${LIMIT:-60000}"
device="${DEVICE:-cuda}" # DEVICE=cpu LIMIT=512 checks the script itself on a CPU machine
ceil_fp32="${CEIL_FP32:-67}"
ceil_bf16="${CEIL_BF16:-790}"
case_s="${CASE_S:-120}" # no case may take longer than this
python="${PYTHON:-python3}" # the one whose torch has CUDA
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
db="${work}/gpu.sqlite"

[ -x "${cli}" ] || { echo "missing ${cli}: run through .device/on-device.sh" >&2; exit 1; }
[ -f "${peers}/pytorch_kd_resnet.py" ] || { echo "missing the peers in ${peers} (prepare.sh copies them)" >&2; exit 1; }

echo "== device"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not found"
"${python}" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"

field() { sed -n "s/^$1=//p" <<<"$2" | head -n 1; }
peer_field() { grep -o "$1=[0-9.]*" <<<"$2" | head -n 1 | cut -d= -f2; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
tflops() { awk -v f="$1" -v s="$2" -v c="$3" 'BEGIN { if (s > 0) printf "%.2f TFLOP/s (%.1f%% of %s)", f / s / 1e12, 100 * f / s / 1e12 / c, c; else print "n/a" }'; }

# A run config; $1 name, $2 task, $3 teacher JSON or "", $4 student/model JSON, $5 batch, $6 epochs, $7 precision.
config() {
  local teacher=""
  [ -n "$3" ] && teacher="\"teacher\": $3, \"method\": {\"name\": \"kd\", \"temperature\": 4.0, \"alpha\": 0.9},"
  local model_key=student cache=""
  [ "$2" = train ] && model_key=model
  [ "$2" = distill ] && cache=", \"teacher_cache\": {\"enabled\": true, \"dir\": \"${work}/cache-$1\"}"
  cat <<JSON
{ "name": "$1", "task": "$2",
  "data": {"dataset": "fashion-mnist", "path": "${data}", "train_limit": ${limit}, "val_size": 0},
  ${teacher}
  "${model_key}": $4,
  "optim": {"name": "adam", "lr": 0.001},
  "batch_size": $5, "epochs": $6, "seed": 0, "device": "${device}", "precision": "$7",
  "evals_per_epoch": 1, "select_best": false${cache} }
JSON
}

run_ours() { # $1 name, rest: config(); prints the CLI's key=value lines
  config "$@" >"${work}/$1.json"
  timeout "${case_s}" "${cli}" run "${work}/$1.json" --db "${db}" 2>"${work}/$1.err" || { tail -n 5 "${work}/$1.err" >&2; }
}

report() { # $1 label, $2 our samples/s, $3 peer samples/s, $4 our FLOPs, $5 our seconds, $6 ceiling
  printf '%-44s distillery %8s/s  peer %8s/s  ratio %5s  %s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")" "$(tflops "$4" "$5" "$6")"
}

echo "== resnet56 teacher training, batch 128, fp32, 1 epoch"
peer="$(timeout "${case_s}" "${python}" "${peers}/pytorch_kd_resnet.py" --device "${device}" --bs 128 --teacher-epochs 1 --epochs 1 --limit "${limit}" --data "${data}")"
echo "peer: ${peer}"
ours="$(run_ours teacher56 train "" '{"zoo": "resnet56"}' 128 1 fp32)"
teacher_id="$(field run_id "${ours}")"
peer_tt="$(peer_field teacher_train_s "${peer}")"
report "resnet56 training (b128 fp32)" "$(field samples_per_s "${ours}")" \
  "$(awk -v n="${limit}" -v s="${peer_tt}" 'BEGIN { if (s > 0) printf "%.0f", n / s }')" \
  "$(field train_flops "${ours}")" "$(field wall_s "${ours}")" "${ceil_fp32}"
peer128="$(peer_field distill_samples_per_s "${peer}")"

for spec in "128 fp32" "1024 fp32" "1024 bf16"; do
  set -- ${spec}
  echo "== resnet56 -> resnet20 KD, batch $1, $2, 1 epoch (teacher cache cold: its fill counts)"
  if [ "$1" = 128 ] && [ "$2" = fp32 ]; then
    peer_rate="${peer128}"
  else
    # the peer's teacher stays untrained here: only its distillation throughput is compared
    peer="$(timeout "${case_s}" "${python}" "${peers}/pytorch_kd_resnet.py" --device "${device}" --bs "$1" --precision "$2" --teacher-epochs 0 --epochs 1 --limit "${limit}" --data "${data}")"
    echo "peer: ${peer}"
    peer_rate="$(peer_field distill_samples_per_s "${peer}")"
  fi
  ours="$(run_ours "kd-$1-$2" distill "{\"run\": ${teacher_id:-0}}" '{"zoo": "resnet20"}' "$1" 1 "$2")"
  secs="$(awk -v w="$(field wall_s "${ours}")" -v f="$(field teacher_cache_s "${ours}")" 'BEGIN { print w + f }')"
  ceil="${ceil_fp32}"; [ "$2" = bf16 ] && ceil="${ceil_bf16}"
  report "resnet56->resnet20 KD (b$1 $2)" "$(awk -v n="${limit}" -v s="${secs}" 'BEGIN { if (s > 0) printf "%.0f", n / s }')" \
    "${peer_rate}" "$(field train_flops "${ours}")" "${secs}" "${ceil}"
  [ "$1" = 128 ] && echo "  student test accuracy: distillery $(field test_accuracy "${ours}"), peer $(peer_field student_acc "${peer}")"
done

echo "== cnn -> mlp KD (bench/kd_vs_pytorch.sh's config), batch 128, fp32, 3 epochs"
peer="$(timeout "${case_s}" "${python}" "${peers}/pytorch_kd.py" --device "${device}" --epochs 3 --limit "${limit}" --data "${data}")"
echo "peer: ${peer}"
ours="$(run_ours kd-mlp distill '{"zoo": "cnn", "channels": [32, 64], "fc": 256, "train": {"epochs": 1}}' \
  '{"zoo": "mlp", "hidden": [128]}' 128 3 fp32)"
secs="$(awk -v w="$(field wall_s "${ours}")" -v f="$(field teacher_cache_s "${ours}")" 'BEGIN { print w + f }')"
report "cnn->mlp KD (b128 fp32, 3 epochs)" "$(awk -v n="${limit}" -v s="${secs}" 'BEGIN { if (s > 0) printf "%.0f", 3 * n / s }')" \
  "$(peer_field distill_samples_per_s "${peer}")" "$(field train_flops "${ours}")" "${secs}" "${ceil_fp32}"
echo "  distill_s: distillery ${secs} (this CPU: see docs/results/gpu.md), peer $(peer_field distill_s "${peer}")"
