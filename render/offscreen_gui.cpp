#include "render/offscreen_gui.h"

#include <QGuiApplication>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace distillery::render {

OffscreenGui::OffscreenGui() {
  if (QCoreApplication::instance()) return;
  if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
  app_ = std::make_unique<QGuiApplication>(argc_, argv_);
}

OffscreenGui::~OffscreenGui() = default;

void requireGuiApplication(const char* what) {
  if (qobject_cast<QGuiApplication*>(QCoreApplication::instance())) return;
  throw std::runtime_error(std::string(what) +
                           " needs a QGuiApplication for fonts; create one first (render::OffscreenGui does)");
}

} // namespace distillery::render
