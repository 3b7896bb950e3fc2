#!/usr/bin/env bash
# Sets Distillery up (scripts/setup.sh), then runs every test suite through
# ctest under Qt's offscreen platform, then checks the Debian package of the
# build (scripts/package.sh --no-build --check), then the parser fuzzers (fuzz/, built
# with Clang) for DISTILLERY_FUZZ_SECONDS each (default 20). Extra arguments go
# to the first ctest (e.g. -R tst_config). Exits non-zero if anything failed.
#
#   scripts/test.sh              suites + fuzzers
#   scripts/test.sh --sanitize   the core suites built with ASan + UBSan
#                                (CMakePresets.json "asan", in build-asan/;
#                                a second, slower build: about 25 min on 2 cores)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export QT_QPA_PLATFORM=offscreen

if [[ "${1:-}" == "--sanitize" ]]; then
  shift
  bash "${root}/scripts/setup.sh" --deps-only
  echo "==> sanitize: configure and build ${root}/build-asan" >&2
  cd "${root}"
  cmake --preset asan
  cmake --build --preset asan --parallel "${DISTILLERY_JOBS:-$(nproc)}"
  echo "==> sanitize: ctest (ASan + UBSan)" >&2
  exec ctest --preset asan --no-tests=error "$@"
fi

bash "${root}/scripts/setup.sh"

status=0
echo "==> test: ctest in ${root}/build" >&2
ctest --test-dir "${root}/build" --output-on-failure --no-tests=error "$@" || status=$?

# The Debian package of this build, unpacked (not installed) and checked.
echo "==> package: the .deb of ${root}/build, checked (scripts/package.sh --no-build --check)" >&2
bash "${root}/scripts/package.sh" --no-build --check --out "${root}/build/package-check" || status=1

fuzz_build="${root}/build-fuzz"
echo "==> fuzz: build the libFuzzer targets in ${fuzz_build} (clang)" >&2
if CC=clang CXX=clang++ cmake -S "${root}/fuzz" -B "${fuzz_build}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
     -DFUZZ_SECONDS="${DISTILLERY_FUZZ_SECONDS:-20}" >/dev/null \
   && cmake --build "${fuzz_build}" --parallel "${DISTILLERY_JOBS:-$(nproc)}"; then
  echo "==> fuzz: each target for ${DISTILLERY_FUZZ_SECONDS:-20} s" >&2
  ctest --test-dir "${fuzz_build}" --output-on-failure --no-tests=error -j "$(nproc)" || status=1
  # Executions per target, from libFuzzer's final stats.
  grep -h "stat::number_of_executed_units" "${fuzz_build}"/Testing/Temporary/LastTest.log 2>/dev/null || true
else
  echo "fuzz: the fuzz targets did not build" >&2
  status=1
fi
exit "${status}"
