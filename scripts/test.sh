#!/usr/bin/env bash
# Sets Distillery up (scripts/setup.sh), then runs every test suite through
# ctest under Qt's offscreen platform. Extra arguments go to ctest
# (e.g. -R tst_config). Exits with ctest's status.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

bash "${root}/scripts/setup.sh"

echo "==> test: ctest in ${root}/build" >&2
export QT_QPA_PLATFORM=offscreen
exec ctest --test-dir "${root}/build" --output-on-failure --no-tests=error "$@"
