#!/usr/bin/env bash
# Checks a Distillery .deb without installing it: unpacked into a temporary
# root, its programs must run from there and link only system libraries (no
# RPATH, nothing from a build tree); its menu entry, AppStream metadata, man
# pages and bash completion must be valid and complete; lintian must find no
# error. Run by scripts/package.sh --check (and so by scripts/test.sh).
#
#   packaging/check_deb.sh DEB
set -euo pipefail

deb="${1:?usage: packaging/check_deb.sh DEB}"
deb="$(cd "$(dirname "${deb}")" && pwd)/$(basename "${deb}")"
source_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT
root="${tmp}/root"
failures=0
fail() { printf 'check_deb: FAIL: %s\n' "$*" >&2; failures=$((failures + 1)); }
ok() { printf 'check_deb: ok: %s\n' "$*" >&2; }
# A section starts with `section`, and ends with `passed WHAT` (said only when nothing in it failed).
section() { before=${failures}; }
passed() { ((failures > before)) || ok "$*"; }

dpkg-deb -x "${deb}" "${root}"
cli="${root}/usr/bin/distillery-cli"
gui="${root}/usr/bin/distillery"

# ---- the files a desktop install needs ---------------------------------
section
for f in usr/bin/distillery usr/bin/distillery-cli \
         usr/share/applications/distillery.desktop \
         usr/share/icons/hicolor/scalable/apps/distillery.svg \
         usr/share/metainfo/local.distillery.Distillery.metainfo.xml \
         usr/share/man/man1/distillery.1.gz usr/share/man/man1/distillery-cli.1.gz \
         usr/share/bash-completion/completions/distillery-cli \
         usr/share/doc/distillery/copyright usr/share/doc/distillery/changelog.gz \
         usr/share/doc/distillery/README.md; do
  [[ -f "${root}/${f}" ]] || fail "${f} is not in the package"
done
grep -qx 'Icon=distillery' "${root}/usr/share/applications/distillery.desktop" \
  || fail "the menu entry does not use the package's icon (Icon=distillery)"
passed "files"

# ---- linking: system libraries only, no RPATH ----------------------------
section
build_dirs=("${source_root}")
for exe in "${cli}" "${gui}"; do
  name="$(basename "${exe}")"
  if readelf -d "${exe}" | grep -Eq 'RPATH|RUNPATH'; then
    fail "${name} has an RPATH/RUNPATH: $(readelf -d "${exe}" | grep -E 'RPATH|RUNPATH')"
  fi
  libs="$(ldd "${exe}")"
  if grep -q 'not found' <<<"${libs}"; then fail "${name}: libraries not found: $(grep 'not found' <<<"${libs}")"; fi
  # Every resolved library lies in the system's library folders, none in the sources or a build tree.
  while read -r path; do
    case "${path}" in
      /lib/* | /lib64/* | /usr/lib/* | /usr/lib64/*) ;;
      *) fail "${name} links ${path}, outside the system library folders" ;;
    esac
    for dir in "${build_dirs[@]}" "${tmp}"; do
      [[ "${path}" == "${dir}"/* ]] && fail "${name} links ${path}, from ${dir}"
    done
  done < <(awk '/=> \// {print $3} /^\s*\/[^ ]+ \(/ {print $1}' <<<"${libs}")
done
passed "linking ($(ldd "${cli}" | wc -l) libraries for distillery-cli, all system ones)"

# ---- the programs run from the unpacked root -------------------------------
# No display: --version must not need one. The work folder is elsewhere, so
# nothing is found relative to the current directory either.
cd "${tmp}"
section
for exe in "${cli}" "${gui}"; do
  name="$(basename "${exe}")"
  if out="$(env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM "${exe}" --version 2>&1)"; then
    for component in Distillery LibTorch Qt SQLite; do
      grep -Eq "^${component} [0-9]+\.[0-9]+" <<<"${out}" || fail "${name} --version names no ${component} version: ${out}"
    done
  else
    fail "${name} --version failed: ${out}"
  fi
done
passed "--version: $(tr '\n' ' ' <<<"${out}")"

data=/usr/share/datasets/fashion-mnist
if [[ -f "${data}/train-images-idx3-ubyte.gz" ]]; then
  cat >"${tmp}/tiny.json" <<JSON
{ "name": "package-check", "task": "distill",
  "data": {"dataset": "fashion-mnist", "path": "${data}", "train_limit": 1000, "val_size": 200},
  "teacher": {"zoo": "mlp", "hidden": [64], "train": {"epochs": 1}},
  "student": {"zoo": "mlp", "hidden": [16]},
  "method": {"name": "kd", "temperature": 4.0, "alpha": 0.9},
  "optim": {"name": "adam", "lr": 0.003},
  "batch_size": 100, "epochs": 2, "seed": 0, "device": "cpu" }
JSON
  section
  if out="$(OMP_NUM_THREADS=2 "${cli}" run "${tmp}/tiny.json" --db "${tmp}/store.sqlite" 2>"${tmp}/run.err")"; then
    grep -qx 'status=success' <<<"${out}" || fail "the tiny run did not succeed: ${out}"
    acc="$(sed -n 's/^test_accuracy=//p' <<<"${out}")"
    # 10 classes: even 20 steps of an MLP are well above chance (0.1).
    awk -v a="${acc:-0}" 'BEGIN { exit !(a > 0.3) }' || fail "the tiny run's test accuracy is ${acc:-missing}"
    runs="$("${cli}" runs --db "${tmp}/store.sqlite")"
    grep -q 'package-check' <<<"${runs}" || fail "runs does not list the tiny run"
    passed "tiny run from the unpacked package: test_accuracy=${acc}"
  else
    fail "the tiny run failed: $(tail -5 "${tmp}/run.err")"
  fi
else
  fail "${data} is missing (package dataset-fashion-mnist): no tiny run"
fi

# ---- menu entry, AppStream metadata, man pages -----------------------------
section
desktop-file-validate "${root}/usr/share/applications/distillery.desktop" || fail "desktop-file-validate"
appstreamcli validate --no-net "${root}/usr/share/metainfo/local.distillery.Distillery.metainfo.xml" >"${tmp}/as.log" 2>&1 \
  || fail "appstreamcli validate: $(cat "${tmp}/as.log")"
for page in distillery distillery-cli; do
  warnings="$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "${root}/usr/share/man/man1/${page}.1.gz" 2>&1 >/dev/null)"
  [[ -z "${warnings}" ]] || fail "man page ${page}.1: ${warnings}"
done
page="$(zcat "${root}/usr/share/man/man1/distillery-cli.1.gz")"
grep -qF 'model\-card' <<<"${page}" || fail "distillery-cli.1 does not list the commands (help2man output?)"
if grep -qF "${HOME}" <<<"${page}" && [[ "${HOME}" != / ]]; then fail "distillery-cli.1 names the builder's home ${HOME}"; fi
passed "desktop entry, AppStream metadata, man pages"

# ---- bash completion: every command and option that --help lists -----------
# shellcheck source=distillery-cli.bash
source "${root}/usr/share/bash-completion/completions/distillery-cli"
complete_words() { # completions for the words given, the last being completed
  COMP_WORDS=(distillery-cli "$@"); COMP_CWORD=$#; COMPREPLY=()
  _distillery_cli
  printf '%s\n' "${COMPREPLY[@]}"
}
section
commands="$("${cli}" --help | awk '/^Subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1}')"
[[ -n "${commands}" ]] || fail "no commands in distillery-cli --help"
offered="$(complete_words "")"
for command in ${commands}; do
  grep -qx -- "${command}" <<<"${offered}" || fail "bash completion lacks the command ${command}"
  offered_options="$(complete_words "${command}" "--")"
  for option in $("${cli}" "${command}" --help | grep -E '^ +-' | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
    grep -qx -- "${option}" <<<"${offered_options}" || fail "bash completion lacks ${command} ${option}"
  done
done
passed "bash completion: $(wc -w <<<"${commands}") commands and their options"

# ---- lintian: no errors ------------------------------------------------------
section
if command -v lintian >/dev/null 2>&1; then
  lintian --fail-on error "${deb}" >"${tmp}/lintian.log" 2>&1 \
    || fail "lintian found errors: $(cat "${tmp}/lintian.log")"
  # The warnings kept are listed, with their reasons, in packaging/README.md.
  cat "${tmp}/lintian.log" >&2
  passed "lintian: no errors"
else
  fail "lintian is not installed (scripts/setup.sh --deps-only)"
fi

if ((failures)); then
  echo "check_deb: ${failures} check(s) failed for ${deb}" >&2
  exit 1
fi
echo "check_deb: ${deb} passed" >&2
