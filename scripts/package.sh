#!/usr/bin/env bash
# Builds the Debian package: dist/distillery_<version>_amd64.deb (CPack, from
# packaging/packaging.cmake), with both programs, the menu entry, icon, AppStream
# metadata, man pages and bash completion.
#
#   scripts/package.sh             install what is missing, build Release into
#                                  build/ (scripts/setup.sh), then package
#   scripts/package.sh --no-build  package build/ as it is (cpack --config
#                                  build/CPackConfig.cmake); build/ must be built
#   scripts/package.sh --check     then check the package (packaging/check_deb.sh):
#                                  unpacked, its programs run; lintian; menu entry
#   scripts/package.sh --out DIR   write the package into DIR instead of dist/
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build=1 check=0 out="${root}/dist"
while (($#)); do
  case "$1" in
    --no-build) build=0 ;;
    --check) check=1 ;;
    --out)
      (($# >= 2)) || { echo "package: error: --out needs a folder" >&2; exit 2; }
      out="$2"; shift ;;
    -h | --help) sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "package: error: unknown option: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=setup.sh
source "${root}/scripts/setup.sh"
if ((build)); then
  distillery_install_deps
  # The programs and the packaging files (man pages, changelog); not the tests.
  distillery_build distillery distillery-cli distillery_packaging_files
fi
config="${DISTILLERY_BUILD_DIR}/CPackConfig.cmake"
[[ -f "${config}" ]] || distillery_die "${config} not found: build first (scripts/setup.sh)"
for tool in dpkg-shlibdeps file; do
  command -v "${tool}" >/dev/null 2>&1 || distillery_die "${tool} not found; run scripts/setup.sh --deps-only"
done

mkdir -p "${out}"
distillery_log "package: cpack (DEB) into ${out}"
# -B: CPack's staging folder (_CPack_Packages/) and the .deb both go there.
cpack --config "${config}" -B "${out}" >"${out}/cpack.log" 2>&1 \
  || { cat "${out}/cpack.log" >&2; distillery_die "cpack failed (log above, also in ${out}/cpack.log)"; }
version="$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "${config}")"
deb="${out}/distillery_${version}_$(dpkg --print-architecture).deb"
[[ -f "${deb}" ]] || distillery_die "cpack did not write ${deb} (see ${out}/cpack.log)"
distillery_log "package: ${deb} ($(du -h "${deb}" | cut -f1))"
dpkg-deb -f "${deb}" Depends Recommends >&2

if ((check)); then
  bash "${root}/packaging/check_deb.sh" "${deb}"
fi
