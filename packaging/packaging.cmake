# Install rules and the Debian package (CPack DEB), included from the top-level
# CMakeLists.txt. scripts/package.sh builds the package into dist/;
# packaging/check_deb.sh checks it (scripts/test.sh runs both on build/).
include(GNUInstallDirs)

# `install` and CPack's preinstall step do not build `all` (17 test suites):
# scripts/package.sh builds the targets they install.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(DISTILLERY_WEB_URL "https://distillery.invalid" CACHE STRING
    "Where the project's pages are published (AppStream homepage; screenshots under docs/screenshots/)")
# Placeholders (.invalid) until the project has a public home and a contact address.
set(DISTILLERY_MAINTAINER "Distillery Dev <dev@distillery.invalid>" CACHE STRING
    "The package's Maintainer and the changelog's author")
set(distillery_docdir "${CMAKE_INSTALL_DATADIR}/doc/distillery")
set(distillery_packaging_out "${PROJECT_BINARY_DIR}/packaging")

# ---- desktop integration: menu entry, icon, AppStream metadata -------------
install(FILES "${PROJECT_SOURCE_DIR}/packaging/distillery.desktop" DESTINATION "${CMAKE_INSTALL_DATADIR}/applications")
install(FILES "${PROJECT_SOURCE_DIR}/resources/distillery.svg"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps")
configure_file("${PROJECT_SOURCE_DIR}/packaging/distillery.metainfo.xml.in"
               "${distillery_packaging_out}/local.distillery.Distillery.metainfo.xml" @ONLY)
install(FILES "${distillery_packaging_out}/local.distillery.Distillery.metainfo.xml"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/metainfo")

# ---- shell: bash completion, man pages ------------------------------------
install(FILES "${PROJECT_SOURCE_DIR}/packaging/distillery-cli.bash"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/bash-completion/completions" RENAME distillery-cli)

# Debian wants man pages and changelogs compressed with gzip -9n (no timestamp).
function(distillery_gzip_file input output)
  add_custom_command(OUTPUT "${output}" DEPENDS "${input}"
    COMMAND gzip -9nc "${input}" > "${output}" VERBATIM)
endfunction()

distillery_gzip_file("${PROJECT_SOURCE_DIR}/packaging/distillery.1" "${distillery_packaging_out}/distillery.1.gz")
set(distillery_packaging_files "${distillery_packaging_out}/distillery.1.gz")
install(FILES "${distillery_packaging_out}/distillery.1.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")

# distillery-cli's man page comes from its own --help (help2man), so it lists
# exactly the commands this build has. Not in sanitizer builds (the tool would
# run instrumented) nor without help2man (scripts/setup.sh installs it).
find_program(DISTILLERY_HELP2MAN help2man)
if(DISTILLERY_HELP2MAN AND NOT CMAKE_CXX_FLAGS MATCHES "sanitize")
  # HOME=~ so the default store path in --help reads ~/.local/share/..., not the builder's home.
  add_custom_command(OUTPUT "${distillery_packaging_out}/distillery-cli.1"
    COMMAND "${CMAKE_COMMAND}" -E env --unset=XDG_DATA_HOME --unset=DISTILLERY_DB "HOME=~"
            "${DISTILLERY_HELP2MAN}" --no-info --no-discard-stderr --section=1
            "--version-string=${PROJECT_VERSION}" "--include=${PROJECT_SOURCE_DIR}/packaging/distillery-cli.h2m"
            "--output=${distillery_packaging_out}/distillery-cli.1" "$<TARGET_FILE:distillery-cli>"
    DEPENDS distillery-cli "${PROJECT_SOURCE_DIR}/packaging/distillery-cli.h2m" VERBATIM)
  distillery_gzip_file("${distillery_packaging_out}/distillery-cli.1" "${distillery_packaging_out}/distillery-cli.1.gz")
  list(APPEND distillery_packaging_files "${distillery_packaging_out}/distillery-cli.1.gz")
  install(FILES "${distillery_packaging_out}/distillery-cli.1.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
else()
  message(STATUS "help2man not found (or a sanitizer build): no distillery-cli man page")
endif()

# ---- documentation: README and docs/ (Help ▸ Documentation finds them), Debian's copyright and changelog
install(FILES "${PROJECT_SOURCE_DIR}/README.md" "${PROJECT_SOURCE_DIR}/packaging/copyright" DESTINATION "${distillery_docdir}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/docs" DESTINATION "${distillery_docdir}" FILES_MATCHING PATTERN "*.md")
# A native package (version without a Debian revision): changelog.gz, not changelog.Debian.gz.
configure_file("${PROJECT_SOURCE_DIR}/packaging/changelog.in" "${distillery_packaging_out}/changelog" @ONLY)
distillery_gzip_file("${distillery_packaging_out}/changelog" "${distillery_packaging_out}/changelog.gz")
list(APPEND distillery_packaging_files "${distillery_packaging_out}/changelog.gz")
install(FILES "${distillery_packaging_out}/changelog.gz" DESTINATION "${distillery_docdir}")

# Built with `all` (scripts/setup.sh), not with the app targets alone (scripts/run.sh).
add_custom_target(distillery_packaging_files ALL DEPENDS ${distillery_packaging_files})

# ---- the Debian package --------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME distillery)
set(CPACK_PACKAGE_VENDOR "the Distillery developers")
set(CPACK_PACKAGE_CONTACT "${DISTILLERY_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "workbench for knowledge-distillation experiments")
set(CPACK_PACKAGE_DESCRIPTION "Distillery trains a small student network to imitate a larger teacher and
shows the run live: loss, teacher-student agreement and cost (samples, FLOPs,
teacher queries). Every run, with its config, metrics, logs and trained model,
is kept in one SQLite file, so runs can be compared and exported later as
charts, tables and reports.

The package holds the desktop app (distillery) and a command-line tool
(distillery-cli) that runs the same engine from scripts. Both use LibTorch
on the CPU, or on a CUDA device when the LibTorch build has one.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # distillery_<version>_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# The libraries the binaries link, from dpkg-shlibdeps (dpkg-dev), plus what
# they load at run time without linking it: OpenBLAS, which LibTorch's
# matrix products are 16x slower without.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libopenblas0-pthread")
# The data of the embedded default runs (run --default, run --default-lm).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "dataset-fashion-mnist, fortunes")
include(CPack)
