#include "render/offscreen_gui.h"

#include <QGuiApplication>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace distillery::render {

namespace {

// Without XDG_RUNTIME_DIR (a cron job, a container, ssh without a session) Qt
// warns on stderr at every export that it defaults to /tmp/runtime-USER. A
// private directory of our own, as Qt wants it (ours, mode 0700), keeps
// stderr for what matters; when it cannot be made, Qt's default and its warning stay.
void ensureRuntimeDir() {
  const char* set = std::getenv("XDG_RUNTIME_DIR");
  if (set && *set) return;
  std::error_code ec;
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path(ec) / ("distillery-runtime-" + std::to_string(::getuid()));
  if (ec) return;
  ::mkdir(dir.c_str(), 0700); // fails harmlessly when it exists; checked below
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::getuid() || (st.st_mode & 0777) != 0700)
    return;
  setenv("XDG_RUNTIME_DIR", dir.c_str(), 1);
}

} // namespace

OffscreenGui::OffscreenGui() {
  if (QCoreApplication::instance()) return;
  if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
  ensureRuntimeDir();
  app_ = std::make_unique<QGuiApplication>(argc_, argv_);
}

OffscreenGui::~OffscreenGui() = default;

void requireGuiApplication(const char* what) {
  if (qobject_cast<QGuiApplication*>(QCoreApplication::instance())) return;
  throw std::runtime_error(std::string(what) +
                           " needs a QGuiApplication for fonts; create one first (render::OffscreenGui does)");
}

} // namespace distillery::render
