#!/usr/bin/env bash
# Requests served per second by `distillery-cli serve` (issue 17): a small MLP
# run (trained here on 2,000 Fashion-MNIST images) behind the server on
# 127.0.0.1, hit by curl with C connections at once (--parallel, keep-alive)
# for R requests of B uint8 images each, for each B given. Every request is
# logged (WAL, one transaction each), so the figure includes the log.
# Run by hand, not in CI:  bench/serve_throughput.sh [REQUESTS] [CONCURRENCY] [BATCHES...]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requests="${1:-2000}"
concurrency="${2:-8}"
shift $(( $# > 2 ? 2 : $# ))
batches=("${@:-1 32}")
read -r -a batches <<<"${batches[*]}"
cli="${DISTILLERY_CLI:-${root}/build/app/distillery-cli}"
data="${DATA:-/usr/share/datasets/fashion-mnist}"
work="$(mktemp -d)"
server=""
cleanup() { [ -n "${server}" ] && kill "${server}" 2>/dev/null; wait 2>/dev/null; rm -rf "${work}"; }
trap cleanup EXIT
[ -x "${cli}" ] || { echo "missing ${cli}: build first (scripts/setup.sh)" >&2; exit 1; }

cat >"${work}/run.json" <<JSON
{ "name": "bench-serve", "task": "train",
  "data": {"dataset": "fashion-mnist", "path": "${data}", "train_limit": 2000, "val_size": 200},
  "model": {"zoo": "mlp", "hidden": [128]}, "batch_size": 64, "epochs": 1, "seed": 0, "device": "cpu" }
JSON
"${cli}" run "${work}/run.json" --db "${work}/runs.sqlite" >/dev/null 2>&1
cat >"${work}/serve.json" <<JSON
{ "keys": [{"name": "bench", "key": "bench-secret-key", "budget": 1000000000, "rate_per_s": 1e6, "burst": 1e6}],
  "max_batch": 256, "threads": ${concurrency}, "output": {"mode": "probs"} }
JSON
"${cli}" serve 1 --config "${work}/serve.json" --db "${work}/runs.sqlite" --port 0 >"${work}/out" 2>"${work}/err" &
server=$!
for _ in $(seq 100); do grep -q '^port=' "${work}/out" 2>/dev/null && break; sleep 0.1; done
port="$(sed -n 's/^port=//p' "${work}/out")"
[ -n "${port}" ] || { cat "${work}/err" >&2; exit 1; }
url="http://127.0.0.1:${port}/v1/classify"

echo "distillery-cli serve: mlp[128] on 1x28x28, ${requests} requests, ${concurrency} connections, $(nproc) cores"
for b in "${batches[@]}"; do
  python3 - "$b" "${data}/t10k-images-idx3-ubyte.gz" >"${work}/body.json" <<'PY'
import base64, gzip, json, sys
b = int(sys.argv[1])
with gzip.open(sys.argv[2], "rb") as f:
    pixels = f.read()[16:16 + 784 * b]
print(json.dumps({"dtype": "uint8", "shape": [b, 1, 28, 28], "data": base64.b64encode(pixels).decode()}))
PY
  # One url/output pair per request: curl's -o applies to a single URL.
  for _ in $(seq "${requests}"); do printf 'url = "%s"\noutput = "/dev/null"\n' "${url}"; done >"${work}/urls"
  start=$(date +%s.%N)
  codes="$(curl -s --parallel --parallel-immediate --parallel-max "${concurrency}" -w '%{http_code}\n' \
           -H 'Authorization: Bearer bench-secret-key' -H 'Content-Type: application/json' \
           --data-binary @"${work}/body.json" -K "${work}/urls" 2>"${work}/curl.err")"
  end=$(date +%s.%N)
  ok=$(grep -c '^200$' <<<"${codes}" || true)
  sort <<<"${codes}" | uniq -c | sed "s/^/    status /" >&2
  python3 -c "import sys; s = float(sys.argv[2]) - float(sys.argv[1]); n = int(sys.argv[3]); b = int(sys.argv[4])
print(f'batch {b:4d}: {n} ok of {sys.argv[5]} in {s:.2f} s = {n / s:8.0f} requests/s, {n * b / s:9.0f} images/s')" \
    "${start}" "${end}" "${ok}" "${b}" "${requests}"
done
