#!/usr/bin/env bash
# Installs Distillery's dependencies from Debian 12 packages and builds it
# (Release, Ninja) into build/.
#
#   scripts/setup.sh               install what is missing, then configure and build
#   scripts/setup.sh --deps-only   only install what is missing
#   scripts/setup.sh --build-only  only configure and build
#   scripts/setup.sh --app-only    only what the app needs: its packages, and the
#                                  distillery and distillery-cli targets (scripts/run.sh)
#
# apt-get runs only when a package is missing, so a second run needs no network.
# Runs as root, or through sudo when that exists. DISTILLERY_JOBS overrides the
# number of parallel build jobs (default: nproc). The build goes through ccache
# when it is installed.
#
# Sourcing this file only defines the functions (distillery_install_deps,
# distillery_build, distillery_setup); executing it runs them.
# distillery_install_deps [--app-only]; distillery_build [TARGET...] (default: all).

DISTILLERY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DISTILLERY_BUILD_DIR="${DISTILLERY_ROOT}/build"

# Debian 12 (bookworm) names. Qt 6.4's Charts and Svg headers are in
# qt6-charts-dev and qt6-svg-dev; libqt6charts6-dev and libqt6svg6-dev are
# older names that bookworm no longer offers.
# What building and running the app needs (scripts/run.sh installs only these).
DISTILLERY_APP_PACKAGES=(
  # toolchain; ccache makes rebuilds (and builds in a second checkout) fast
  build-essential cmake ninja-build pkg-config git ccache
  # LibTorch 1.13.1 (CPU); OpenBLAS replaces the slow reference BLAS (~16x on matmul)
  libtorch-dev libopenblas0-pthread
  # Qt 6.4: Widgets, Charts, Svg. Qt6Charts' CMake config needs the OpenGL module.
  qt6-base-dev qt6-base-dev-tools qt6-charts-dev qt6-svg-dev libqt6opengl6-dev libgl-dev
  # store, config, CLI, IDX files
  libsqlite3-dev nlohmann-json3-dev libcli11-dev zlib1g-dev
  # the teacher server (distillery-cli serve): HTTP through cpp-httplib
  libcpp-httplib-dev
  # data-parallel runs (core/distributed/): the headers of Gloo, the collectives behind c10d's ProcessGroupGloo
  libgloo-dev
  # image-folder datasets: PNG and JPEG decoding
  libpng-dev libjpeg62-turbo-dev
  # the default run's data: /usr/share/datasets/fashion-mnist
  dataset-fashion-mnist
  # the default language-model corpus: ~2.5 MB of English text in /usr/share/games/fortunes
  fortunes
  # exports: the charts' font (DejaVu Sans, also offscreen)
  fonts-dejavu-core
)
# What the tests, the fuzzers and the Debian package need on top.
DISTILLERY_DEV_PACKAGES=(
  # interop tests against PyTorch; image decoding checked against PIL (tests/image_reference.py)
  python3-torch python3-numpy python3-pil python3-scipy
  # parser fuzzing (fuzz/): Clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  # GUI smoke tests under a virtual display
  xvfb xauth
  # pdftotext for the export tests
  poppler-utils
  # tst_slurm (issue 19): a one-node Slurm cluster of the test's own, on its own
  # munge key and ports (the packages' system services are not used)
  slurmctld slurmd slurm-client munge
  # the Debian package (scripts/package.sh, packaging/): dpkg-shlibdeps computes
  # its Depends (CPack runs `file` to find the binaries), help2man writes
  # distillery-cli's man page; the checks: lintian, desktop-file-validate, appstreamcli
  dpkg-dev file help2man lintian desktop-file-utils appstream
)
DISTILLERY_PACKAGES=("${DISTILLERY_APP_PACKAGES[@]}" "${DISTILLERY_DEV_PACKAGES[@]}")

distillery_log() { printf '==> %s\n' "$*" >&2; }
distillery_die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# True when dpkg knows the package as installed (also when it is on hold).
distillery_pkg_installed() {
  local status
  status="$(dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null)" || return 1
  [[ "${status}" == *" ok installed"* ]]
}

distillery_install_deps() {
  if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    distillery_die "dpkg/apt-get not found: this script needs Debian 12 (bookworm)"
  fi

  if [[ -r /etc/os-release ]]; then
    local id version
    id="$(. /etc/os-release && echo "${ID:-}")"
    version="$(. /etc/os-release && echo "${VERSION_ID:-}")"
    if [[ "${id}" != debian || "${version}" != 12 ]]; then
      distillery_log "warning: made for Debian 12, this is ${id:-unknown} ${version:-?}; package names may differ"
    fi
  fi

  local wanted=("${DISTILLERY_PACKAGES[@]}")
  [[ "${1:-}" == --app-only ]] && wanted=("${DISTILLERY_APP_PACKAGES[@]}")
  local missing=() pkg
  for pkg in "${wanted[@]}"; do
    distillery_pkg_installed "${pkg}" || missing+=("${pkg}")
  done
  if ((${#missing[@]} == 0)); then
    distillery_log "dependencies: all ${#wanted[@]} packages installed"
    return 0
  fi

  local as_root=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 \
      || distillery_die "not root and sudo not found; as root, run: apt-get install ${missing[*]}"
    as_root=(sudo)
  fi

  distillery_log "dependencies: installing ${#missing[@]} package(s): ${missing[*]}"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update \
    || distillery_die "apt-get update failed (network or apt sources?)"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}" \
    || distillery_die "apt-get install failed for: ${missing[*]}"

  for pkg in "${missing[@]}"; do
    distillery_pkg_installed "${pkg}" || distillery_die "package ${pkg} is still not installed"
  done
  distillery_log "dependencies: done"
}

distillery_build() {
  local tool
  for tool in cmake ninja c++; do
    command -v "${tool}" >/dev/null 2>&1 \
      || distillery_die "${tool} not found; run scripts/setup.sh --deps-only first"
  done

  local cache="${DISTILLERY_BUILD_DIR}/CMakeCache.txt"
  if [[ -f "${cache}" ]] && ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "${cache}"; then
    distillery_die "${DISTILLERY_BUILD_DIR} was configured with another generator; remove it and rerun"
  fi

  local jobs="${DISTILLERY_JOBS:-$(nproc)}"
  # Set either way, so a cache configured with ccache still builds once it is gone.
  local launcher=""
  command -v ccache >/dev/null 2>&1 && launcher=ccache
  distillery_log "configure: ${DISTILLERY_BUILD_DIR} (Release, Ninja${launcher:+, ccache})"
  cmake -S "${DISTILLERY_ROOT}" -B "${DISTILLERY_BUILD_DIR}" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_CXX_COMPILER_LAUNCHER=${launcher}" \
    || distillery_die "cmake configure failed (see above)"
  local targets=()
  (($#)) && targets=(--target "$@")
  distillery_log "build: ${*:-all targets}, ${jobs} job(s)"
  cmake --build "${DISTILLERY_BUILD_DIR}" --parallel "${jobs}" "${targets[@]}" \
    || distillery_die "build failed (see above)"
  distillery_log "build: done"
}

distillery_setup() {
  local deps=1 build=1 app_only=()
  case "${1:-}" in
    "") ;;
    --deps-only) build=0 ;;
    --build-only) deps=0 ;;
    --app-only) app_only=(--app-only) ;;
    -h | --help) sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; return 0 ;;
    *) distillery_die "unknown option: $1 (try --help)" ;;
  esac
  ((deps)) && distillery_install_deps "${app_only[@]}"
  if ((build)); then
    if ((${#app_only[@]})); then
      distillery_build distillery distillery-cli
    else
      distillery_build
    fi
  fi
  return 0
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  distillery_setup "$@"
fi
