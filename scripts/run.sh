#!/usr/bin/env bash
# Sets Distillery up (scripts/setup.sh --app-only: the app's packages and the
# two programs, not the test suites), then starts the GUI.
#
#   scripts/run.sh [ARGS...]             the GUI, build/app/distillery ARGS...
#   scripts/run.sh --headless [--db PATH] the embedded default distillation in the CLI
#
# With no display ($DISPLAY and $WAYLAND_DISPLAY both unset) it runs headless.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

headless=0
db=()
args=()
while (($#)); do
  case "$1" in
    --headless) headless=1 ;;
    --db)
      (($# >= 2)) || { echo "run: error: --db needs a path" >&2; exit 2; }
      db=(--db "$2"); args+=("$1" "$2"); shift ;;
    --db=*) db=(--db "${1#--db=}"); args+=("$1") ;;
    *) args+=("$1") ;;
  esac
  shift
done
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
  headless=1
fi

bash "${root}/scripts/setup.sh" --app-only

if ((headless)); then
  cli="${root}/build/app/distillery-cli"
  [[ -x "${cli}" ]] || { echo "run: error: ${cli} was not built" >&2; exit 1; }
  if ((${#args[@]} > ${#db[@]})); then
    echo "==> headless: ignoring arguments other than --db" >&2
  fi
  echo "==> headless: running the embedded default distillation (progress on stderr)" >&2
  status=0
  "${cli}" run --default "${db[@]}" || status=$?
  if ((status == 0)); then
    echo "==> done; list runs with: ${cli} runs" >&2
  else
    echo "run: error: distillery-cli exited with status ${status}" >&2
  fi
  exit "${status}"
fi

gui="${root}/build/app/distillery"
[[ -x "${gui}" ]] || { echo "run: error: ${gui} was not built" >&2; exit 1; }
echo "==> starting ${gui}" >&2
exec "${gui}" "${args[@]}"
