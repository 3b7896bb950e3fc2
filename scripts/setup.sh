#!/usr/bin/env bash
# Installs Distillery's dependencies from Debian 12 packages and builds it
# (Release, Ninja) into build/.
#
#   scripts/setup.sh               install what is missing, then configure and build
#   scripts/setup.sh --deps-only   only install what is missing
#   scripts/setup.sh --build-only  only configure and build
#
# apt-get runs only when a package is missing, so a second run needs no network.
# Runs as root, or through sudo when that exists. DISTILLERY_JOBS overrides the
# number of parallel build jobs (default: nproc).
#
# Sourcing this file only defines the functions (distillery_install_deps,
# distillery_build, distillery_setup); executing it runs them.

DISTILLERY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DISTILLERY_BUILD_DIR="${DISTILLERY_ROOT}/build"

# Debian 12 (bookworm) names. Qt 6.4's Charts and Svg headers are in
# qt6-charts-dev and qt6-svg-dev; libqt6charts6-dev and libqt6svg6-dev are
# older names that bookworm no longer offers.
DISTILLERY_PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  # LibTorch 1.13.1 (CPU); OpenBLAS replaces the slow reference BLAS (~16x on matmul)
  libtorch-dev libopenblas0-pthread
  # Qt 6.4: Widgets, Charts, Svg. Qt6Charts' CMake config needs the OpenGL module.
  qt6-base-dev qt6-base-dev-tools qt6-charts-dev qt6-svg-dev libqt6opengl6-dev libgl-dev
  # store, config, CLI, IDX files
  libsqlite3-dev nlohmann-json3-dev libcli11-dev zlib1g-dev
  # image-folder datasets: PNG and JPEG decoding
  libpng-dev libjpeg62-turbo-dev
  # the default run's data: /usr/share/datasets/fashion-mnist
  dataset-fashion-mnist
  # the default language-model corpus: ~2.5 MB of English text in /usr/share/games/fortunes
  fortunes
  # interop tests against PyTorch; image decoding checked against PIL (tests/image_reference.py)
  python3-torch python3-numpy python3-pil
  # parser fuzzing (fuzz/): Clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  # GUI smoke tests under a virtual display
  xvfb xauth
  # exports: the charts' font (DejaVu Sans, also offscreen), pdftotext for the export tests
  fonts-dejavu-core poppler-utils
)

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

  local missing=() pkg
  for pkg in "${DISTILLERY_PACKAGES[@]}"; do
    distillery_pkg_installed "${pkg}" || missing+=("${pkg}")
  done
  if ((${#missing[@]} == 0)); then
    distillery_log "dependencies: all ${#DISTILLERY_PACKAGES[@]} packages installed"
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
  distillery_log "configure: ${DISTILLERY_BUILD_DIR} (Release, Ninja)"
  cmake -S "${DISTILLERY_ROOT}" -B "${DISTILLERY_BUILD_DIR}" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    || distillery_die "cmake configure failed (see above)"
  distillery_log "build: ${jobs} job(s)"
  cmake --build "${DISTILLERY_BUILD_DIR}" --parallel "${jobs}" \
    || distillery_die "build failed (see above)"
  distillery_log "build: done"
}

distillery_setup() {
  local deps=1 build=1
  case "${1:-}" in
    "") ;;
    --deps-only) build=0 ;;
    --build-only) deps=0 ;;
    -h | --help) sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; return 0 ;;
    *) distillery_die "unknown option: $1 (try --help)" ;;
  esac
  ((deps)) && distillery_install_deps
  ((build)) && distillery_build
  return 0
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  distillery_setup "$@"
fi
