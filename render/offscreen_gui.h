#pragma once
// QPainter needs a QGuiApplication (fonts, image formats). Command-line tools
// create one with this, on the offscreen platform unless QT_QPA_PLATFORM says
// otherwise, so exports work without a display, and with a private
// XDG_RUNTIME_DIR when none is set, so they print no warning about it.
#include <memory>

class QGuiApplication;

namespace distillery::render {

class OffscreenGui {
public:
  OffscreenGui(); // does nothing when a QGuiApplication exists already
  ~OffscreenGui();
  OffscreenGui(const OffscreenGui&) = delete;
  OffscreenGui& operator=(const OffscreenGui&) = delete;

private:
  int argc_ = 1;
  char name_[16] = "distillery";
  char* argv_[2] = {name_, nullptr};
  std::unique_ptr<QGuiApplication> app_;
};

// Throws std::runtime_error when no QGuiApplication exists.
void requireGuiApplication(const char* what);

} // namespace distillery::render
