#!/usr/bin/env bash
# GUI event-loop latency while two runs train and their charts update live.
# Target: p99 under 16 ms. Run by hand, not in CI:  bench/gui_latency.sh [TRAIN_LIMIT] [EPOCHS]
# Uses the display in $DISPLAY if there is one (e.g. Xvfb :99), else Qt's offscreen platform.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD:-${root}/build}"
cmake -S "${root}" -B "${build}" -DDISTILLERY_BUILD_BENCH=ON >/dev/null
cmake --build "${build}" -j2 --target gui_latency >/dev/null
[ -n "${DISPLAY:-}" ] || export QT_QPA_PLATFORM=offscreen
"${build}/bench/gui_latency" --train-limit "${1:-20000}" --epochs "${2:-2}"
